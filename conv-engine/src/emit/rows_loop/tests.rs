//! The rows loop proven against the derivation, and planted faults rejected.

use super::*;
use crate::derive::Derivation;
use crate::ir::exec::{check, Fault};
use crate::{GeometrySpec, Padding, Scalar, Unroll};

fn spec(input: [usize; 2], ci: usize, co: usize, padding: Padding, stride: usize) -> Spec {
    let geometry = GeometrySpec {
        padding,
        stride: [stride, 1],
        in_channels: ci,
        out_channels: co,
        ..GeometrySpec::new(input, [3, 3])
    }
    .resolve()
    .expect("a valid geometry");
    Spec {
        geometry,
        layout: match ci * co {
            1 => ChannelLayout::Plain,
            _ => ChannelLayout::ChannelFirst,
        },
        scalar: Scalar::F32,
        unroll: Unroll::Rows,
    }
}

/// A padded, strided channel layer; a plain one; one whose companion sums `dL/dk` with
/// output channels innermost.
fn specs() -> [Spec; 3] {
    [
        spec([7, 6], 2, 3, Padding::Same, 2),
        spec(
            [6, 5],
            1,
            1,
            Padding::Explicit {
                top: 1,
                bottom: 0,
                left: 2,
                right: 1,
            },
            1,
        ),
        spec([6, 12], 2, 8, Padding::Valid, 1),
    ]
}

fn prove(spec: &Spec, program: &Program) -> Result<usize, Fault> {
    let d = Derivation::new(&spec.geometry);
    let row = Derivation::new(&rows_spec(spec).geometry);
    check(program, &d, Some(&row)).map(|c| c.terms)
}

fn rows_spec(spec: &Spec) -> Spec {
    super::super::rows::row_spec(spec)
}

#[test]
fn the_loops_prove_against_the_derivation() {
    for spec in specs() {
        let d = Derivation::new(&spec.geometry);
        let forward = prove(&spec, &forward(&spec)).expect("forward");
        assert_eq!(forward, d.forward().terms() + spec.geometry.output_len());
        let backward = prove(&spec, &backward(&spec, dk_layout(&spec))).expect("backward");
        assert_eq!(backward, d.dx().terms() + d.dk().terms() + d.db().terms());
    }
    assert_eq!(dk_layout(&specs()[2]), KernelLayout::OutputChannelsInner);
}

/// Applies `f` to the `n`-th statement (depth first) it accepts; whether one was found.
fn mutate(body: &mut [Stmt], n: &mut usize, f: &impl Fn(&mut Stmt) -> bool) -> bool {
    for stmt in body {
        if let Stmt::Loop { body, .. } = stmt {
            if mutate(body, n, f) {
                return true;
            }
        } else if f(stmt) {
            if *n == 0 {
                return true;
            }
            *n -= 1;
        }
    }
    false
}

/// Every planted fault: each copy or accumulation with one index shifted by one, each
/// with its source's coefficient of `i` (the row's stride) changed, each dropped.
#[test]
fn every_planted_fault_fails_the_proof() {
    let shift = |s: &mut Stmt| match s {
        Stmt::Set { value, .. } | Stmt::Add { value, .. } => {
            match value.places_mut().next().and_then(|p| p.index.last_mut()) {
                Some(last) => {
                    last.constant += 1;
                    true
                }
                None => false,
            }
        }
        _ => false,
    };
    let restride = |s: &mut Stmt| match s {
        Stmt::Set { value, to } | Stmt::Add { value, to } => {
            let stride = value
                .places_mut()
                .flat_map(|p| p.index.iter_mut())
                .chain(to.index.iter_mut())
                .find_map(|i| i.terms.iter_mut().find(|(v, _)| *v == I));
            match stride {
                Some((_, c)) => {
                    *c += 1;
                    true
                }
                None => false,
            }
        }
        _ => false,
    };
    let drop = |s: &mut Stmt| match s {
        Stmt::Set { .. } | Stmt::Add { .. } => {
            *s = Stmt::Loop {
                var: Var("unused"),
                extent: 0,
                step: 1,
                opaque: false,
                body: vec![],
            };
            true
        }
        _ => false,
    };
    let mut planted = 0;
    for spec in specs() {
        for program in [forward(&spec), backward(&spec, dk_layout(&spec))] {
            for fault in [&shift as &dyn Fn(&mut Stmt) -> bool, &restride, &drop] {
                for n in 0.. {
                    let mut wrong = program.clone();
                    if !mutate(&mut wrong.body, &mut { n }, &fault) {
                        break;
                    }
                    planted += 1;
                    assert!(
                        prove(&spec, &wrong).is_err(),
                        "fault {n} in {:?} passed the proof",
                        program.returns
                    );
                }
            }
        }
    }
    assert!(planted > 40, "{planted} faults planted");
}
