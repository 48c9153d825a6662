//! The rows loop proven against the derivation (`emit::mutants` plants faults in it).

use super::*;
use crate::derive::Derivation;
use crate::ir::exec::{check, Fault};
use crate::{ChannelLayout, GeometrySpec, Padding, Scalar, Unroll};

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
