//! Every form's IR proven against the derivation, and planted faults rejected: for each form,
//! each statement dropped, each term of each sum dropped, and each index of each element the
//! code reads or writes shifted by one (or its stride increased) makes the symbolic proof fail
//! (faults that cannot change any sum are not planted: [`equivalent`]).

use super::shape::Shapes;
use super::{layer_rows, rows, rows_loop, unroll, window};
use crate::derive::Derivation;
use crate::ir::exec::check;
use crate::ir::{Array, Expr, Place, Program, Stmt, Term};
use crate::plan::{Dx, When};
use crate::{ChannelLayout, GeometrySpec, Padding, Scalar, Spec, Unroll};

fn spec(input: [usize; 2], ci: usize, co: usize, padding: Padding, stride: [usize; 2]) -> Spec {
    spec_with(input, [ci, co], padding, stride, [1, 1])
}

/// A layer with a 3x2 kernel (dilated by `dilation`).
fn spec_with(
    input: [usize; 2],
    [ci, co]: [usize; 2],
    padding: Padding,
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Spec {
    let geometry = GeometrySpec {
        padding,
        stride,
        dilation,
        in_channels: ci,
        out_channels: co,
        ..GeometrySpec::new(input, [3, 2])
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
        unroll: Unroll::Auto,
    }
}

/// A plain unpadded layer, a padded strided channel layer, one padded on one side only, and
/// two with enough output channels for the forms vectorised over them (the second with rows
/// long enough for the companion's `dL/dk` to be).
fn specs() -> [Spec; 5] {
    [
        spec([5, 4], 1, 1, Padding::Valid, [1, 1]),
        spec([5, 6], 2, 3, Padding::Same, [2, 1]),
        spec([4, 5], 1, 2, ONE_SIDED, [1, 2]),
        spec([3, 4], 1, 8, Padding::Valid, [1, 1]),
        spec([3, 9], 1, 8, Padding::Valid, [1, 1]),
    ]
}

const ONE_SIDED: Padding = Padding::Explicit {
    top: 1,
    bottom: 0,
    left: 0,
    right: 2,
};

/// Layers whose `rows` plan writes `backward` at the layer level: over rows, a plain layer
/// dilated across and a padded channel layer strided both ways and dilated down, with an odd
/// number of output channels (a pair, then one alone); over output channels, a padded, strided
/// and dilated one.
fn layer_specs() -> [Spec; 3] {
    [
        spec_with([4, 11], [1, 1], Padding::Valid, [1, 1], [1, 2]),
        spec_with([6, 17], [2, 3], Padding::Same, [2, 2], [2, 1]),
        spec_with([5, 6], [2, 8], ONE_SIDED, [2, 1], [1, 2]),
    ]
}

/// The layer-level `backward` the `rows` plan gives `spec`, if any.
fn layer_level(spec: &Spec) -> Option<Dx> {
    let rows = Spec {
        unroll: Unroll::Rows,
        ..*spec
    };
    let dx = crate::plan::plan(&rows).portable.dx;
    matches!(dx, Dx::LayerRows | Dx::LayerOverChannels).then_some(dx)
}

/// Every program with the spec whose derivation it sums: those of [`programs`] for [`specs`],
/// the layer-level `backward` for [`layer_specs`] (the other forms' faults on those larger
/// layers would take most of the test's time and add little).
fn cases() -> Vec<(&'static str, Spec, Program)> {
    let mut out: Vec<_> = specs().iter().flat_map(programs).collect();
    // `forward` fused, as the wide tiers run it.
    let fused: Vec<_> = out
        .iter()
        .filter(|(what, ..)| what.ends_with(" forward"))
        .map(|(_, spec, program)| {
            let mut fused = program.clone();
            crate::ir::fuse_sums(&mut fused.body);
            ("forward, fused", *spec, fused)
        })
        .collect();
    out.extend(fused);
    for spec in layer_specs() {
        let Some(dx) = layer_level(&spec) else {
            continue;
        };
        let form = match dx {
            Dx::LayerOverChannels => "layer-level backward over output channels",
            _ => "layer-level backward over rows",
        };
        let program = layer_rows::backward(&spec, &Shapes::new(&spec), dx);
        // Fused, as the wide tiers run it.
        let mut fused = program.clone();
        crate::ir::fuse(&mut fused.body);
        out.push((form, spec, program));
        out.push(("layer-level backward, fused", spec, fused));
    }
    // The parameter gradients alone (a network's first layer): every program that can be cut.
    let cut: Vec<_> = out
        .iter()
        .filter_map(|(_, spec, program)| {
            let program = crate::ir::prune::parameters(program)?;
            Some(("backward cut to dL/dk and dL/db", *spec, program))
        })
        .collect();
    out.extend(cut);
    out
}

/// Every program of the forms written without the companion, for `spec`, and the one-row
/// companion's, each with the spec whose derivation it sums.
fn programs(spec: &Spec) -> Vec<(&'static str, Spec, Program)> {
    let (d, shapes) = (Derivation::new(&spec.geometry), Shapes::new(spec));
    let row = rows::row_spec(spec);
    let row_shapes = Shapes::new(&row);
    let companion = vec![
        ("one-row forward", row, rows::forward(&row, &row_shapes)),
        ("one-row backward", row, rows::backward(&row, &row_shapes)),
        ("loop over rows (forward)", *spec, rows_loop::forward(spec)),
        (
            "loop over rows (backward)",
            *spec,
            rows_loop::backward(spec, rows_loop::dk_layout(spec)),
        ),
    ];
    // The layers with many output channels are here for the companion's forms over them.
    if spec.geometry.out_channels() >= crate::plan::LANES {
        return companion;
    }
    let mut out = vec![
        ("unrolled forward", *spec, unroll::forward(&d, &shapes)),
        ("window forward", *spec, window::forward(spec, &shapes)),
        ("window backward", *spec, window::backward(spec, &shapes)),
    ];
    for fused in [When::TargetHas, When::Always] {
        let [dx, dk, db] = unroll::backward_parts(&d, &shapes, fused);
        out.extend([
            ("unrolled dL/dx", *spec, dx),
            ("unrolled dL/dk", *spec, dk),
            ("unrolled dL/db", *spec, db),
        ]);
    }
    out.extend(companion);
    out
}

/// Executes `program` against `spec`'s derivation, its companion calls by the one-row layer's.
fn prove(spec: &Spec, program: &Program) -> Result<usize, crate::ir::exec::Fault> {
    let row = Derivation::new(&rows::row_spec(spec).geometry);
    check(program, &Derivation::new(&spec.geometry), Some(&row)).map(|c| c.terms)
}

#[test]
fn the_one_row_forward_takes_each_form() {
    let over = |s: &Spec| crate::plan::rows_forward_over_channels(&rows::row_spec(s));
    assert!(!over(&specs()[1]));
    assert!(over(&specs()[3]));
    let dk_over = |s: &Spec| crate::plan::companion_dk_over_channels(&rows::row_spec(s));
    assert!(!dk_over(&specs()[1]));
    assert!(dk_over(&specs()[4]));
}

#[test]
fn every_form_proves_against_the_derivation() {
    for (form, of, program) in cases() {
        let terms = prove(&of, &program).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert!(terms > 0, "{form} compared no terms");
    }
    for spec in specs() {
        let d = Derivation::new(&spec.geometry);
        let forward = prove(&spec, &window::forward(&spec, &Shapes::new(&spec)));
        let expected = d.forward().terms() + spec.geometry.output_len();
        assert_eq!(forward, Ok(expected));
    }
    for spec in layer_specs() {
        let d = Derivation::new(&spec.geometry);
        let dx = layer_level(&spec).expect("a layer-level plan");
        let backward = layer_rows::backward(&spec, &Shapes::new(&spec), dx);
        let expected = d.dx().terms() + d.dk().terms() + d.db().terms();
        assert_eq!(prove(&spec, &backward), Ok(expected));
    }
    // Cut to dL/dk and dL/db: those terms exactly, and no local of dL/dx left.
    for spec in layer_specs() {
        let d = Derivation::new(&spec.geometry);
        let dx = layer_level(&spec).expect("a layer-level plan");
        let backward = layer_rows::backward(&spec, &Shapes::new(&spec), dx);
        let mut fused = backward.clone();
        crate::ir::fuse(&mut fused.body);
        assert_ne!(fused.body, backward.body, "nothing fused");
        assert_eq!(
            prove(&spec, &fused),
            Ok(d.dx().terms() + d.dk().terms() + d.db().terms())
        );
        let cut = crate::ir::prune::parameters(&backward).expect("a layer-level form is cut");
        assert_eq!(prove(&spec, &cut), Ok(d.dk().terms() + d.db().terms()));
        assert!(cut.locals.len() < backward.locals.len());
        assert!(cut.locals.iter().all(|l| !l.name.starts_with("dx")));
    }
    let plain = specs().map(|s| layer_level(&s));
    assert_eq!(plain[..3], [None; 3], "{plain:?}");
    assert_eq!(
        layer_specs().map(|s| layer_level(&s)),
        [
            Some(Dx::LayerRows),
            Some(Dx::LayerRows),
            Some(Dx::LayerOverChannels)
        ]
    );
}

/// The statements of `body`, depth first, each with a path to reach it.
fn paths(body: &[Stmt], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    for (n, s) in body.iter().enumerate() {
        prefix.push(n);
        out.push(prefix.clone());
        if let Some(body) = inner(s) {
            paths(body, prefix, out);
        }
        prefix.pop();
    }
}

/// The variables of the loops of `body` that run once.
fn single_valued(body: &[Stmt], out: &mut Vec<crate::ir::Var>) {
    for s in body {
        if let Stmt::Loop {
            var, extent, step, ..
        } = s
        {
            if extent <= step {
                out.push(*var);
            }
        }
        if let Some(body) = inner(s) {
            single_valued(body, out);
        }
    }
}

/// The body of a loop, a block or a solved binding.
fn inner(s: &Stmt) -> Option<&Vec<Stmt>> {
    match s {
        Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => Some(body),
        _ => None,
    }
}

fn inner_mut(s: &mut Stmt) -> Option<&mut Vec<Stmt>> {
    match s {
        Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => Some(body),
        _ => None,
    }
}

/// The statement list holding the statement at `path`, and its position there.
fn holder<'a>(body: &'a mut Vec<Stmt>, path: &[usize]) -> (&'a mut Vec<Stmt>, usize) {
    match path {
        [n] => (body, *n),
        [n, rest @ ..] => match inner_mut(&mut body[*n]) {
            Some(body) => holder(body, rest),
            None => unreachable!("paths only descend into bodies"),
        },
        [] => unreachable!("paths are never empty"),
    }
}

/// The sums of a statement, and the element it writes or refers to (if any).
fn parts(s: &mut Stmt) -> (Vec<&mut Expr>, Option<&mut Place>) {
    match s {
        Stmt::Set { to, value } | Stmt::Add { to, value } => (vec![value], Some(to)),
        Stmt::Let { value, .. } | Stmt::Fill { value, .. } => (vec![value], None),
        Stmt::Literal { elements, .. } => (elements.iter_mut().collect(), None),
        Stmt::View { of, .. } => (Vec::new(), Some(of)),
        _ => (Vec::new(), None),
    }
}

/// Whether `s` is a fused accumulation, `to = mul_add(a, b, to)`: [`crate::ir::fuse`]'s form
/// of `to += a * b`, whose first term reads `to` where the unfused form reads it implicitly.
fn accumulation(s: &Stmt) -> bool {
    match s {
        Stmt::Set { to, value } => {
            matches!(value.chain, crate::ir::Chain::MulAdd(_))
                && matches!(value.terms.first(), Some(Term::Read(p)) if p == to)
        }
        _ => false,
    }
}

/// Every planted fault of `program`: each statement dropped (but `Stmt::Opaque`); each term
/// dropped; each index of each place shifted by one, and the coefficient of its first loop
/// variable (a stride) increased by one. In a fused accumulation (`to = mul_add(a, b, to)`)
/// the running sum's read moves with `to`, as in the unfused `to += a * b`, not alone.
pub(super) fn faults(program: &Program) -> Vec<Program> {
    let mut totalled = Vec::new();
    crate::ir::for_each_expr(&program.body, &mut |e| {
        for t in &e.terms {
            if let Term::Total(p) | Term::Pairwise(p) = t {
                totalled.push(p.array);
            }
        }
    });
    let mut at = Vec::new();
    paths(&program.body, &mut Vec::new(), &mut at);
    let mut single = Vec::new();
    single_valued(&program.body, &mut single);
    let mut out = Vec::new();
    for path in &at {
        let mut dropped = program.clone();
        let (body, n) = holder(&mut dropped.body, path);
        // Hiding a local from the optimiser changes no value: dropping it is no fault.
        if !matches!(body[n], Stmt::Opaque { .. }) {
            body.remove(n);
            out.push(dropped);
        }
        let mut probe = program.clone();
        let (body, n) = holder(&mut probe.body, path);
        let (sums, to) = parts(&mut body[n]);
        let shape: Vec<(usize, Vec<usize>)> = sums
            .iter()
            .map(|e| {
                let ranks = e.places().map(|p| p.index.len()).collect();
                (e.terms.len(), ranks)
            })
            .collect();
        let to_rank = to.map_or(0, |p| p.index.len());
        let fused = accumulation(&body[n]);
        for (s, (terms, ranks)) in shape.into_iter().enumerate() {
            for t in 0..terms {
                let mut wrong = program.clone();
                let (body, n) = holder(&mut wrong.body, path);
                parts(&mut body[n]).0[s].terms.remove(t);
                out.push(wrong);
            }
            for (p, rank) in ranks.into_iter().enumerate() {
                if fused && p == 0 {
                    continue;
                }
                for axis in 0..rank {
                    for restride in [false, true] {
                        let mut wrong = program.clone();
                        let (body, n) = holder(&mut wrong.body, path);
                        let mut sums = parts(&mut body[n]).0;
                        let Some(place) = sums[s].places_mut().nth(p) else {
                            continue;
                        };
                        let index = &mut place.index[axis];
                        match (restride, index.terms.first_mut()) {
                            (false, _) => index.constant += 1,
                            // A variable that takes only the value 0 has no stride to change.
                            (true, Some((v, _))) if single.contains(v) => continue,
                            (true, Some((_, coefficient))) => *coefficient += 1,
                            (true, None) => continue,
                        }
                        out.push(wrong);
                    }
                }
            }
        }
        // Which lane of a row of partial sums a term goes to changes no total, only the order
        // of the sum: moving it is no fault.
        let mut copy = program.clone();
        let (body, n) = holder(&mut copy.body, path);
        let lanes = parts(&mut body[n])
            .1
            .is_some_and(|to| totalled.contains(&to.array));
        let shifted: Vec<usize> = (0..to_rank)
            .filter(|&axis| !lanes && !equivalent(program, &body[n], axis))
            .collect();
        for axis in shifted {
            let mut wrong = program.clone();
            let (body, n) = holder(&mut wrong.body, path);
            let fused = accumulation(&body[n]);
            let (mut sums, to) = parts(&mut body[n]);
            if let Some(place) = to {
                place.index[axis].constant += 1;
            }
            let running = sums.first_mut().and_then(|e| e.terms.first_mut());
            if let (true, Some(Term::Read(sum))) = (fused, running) {
                sum.index[axis].constant += 1;
            }
            out.push(wrong);
        }
    }
    out
}

#[test]
fn every_planted_fault_fails_the_proof() {
    let mut planted = 0;
    for (form, of, program) in cases() {
        for (n, wrong) in faults(&program).into_iter().enumerate() {
            planted += 1;
            assert!(
                prove(&of, &wrong).is_err(),
                "fault {n} of the {form} passed the proof ({:?})",
                of.geometry
            );
        }
    }
    assert!(planted > 25_000, "{planted} faults planted");
}

/// Whether shifting index `axis` of the element `s` writes cannot change any sum (such a
/// mutant is not planted). In the layer-level `backward` over rows, `r[b][j*SW + b*DW] =
/// s[b][j]` places kernel column `b`'s partial sums in zero row `b`, and the rows are then
/// added column by column (`dxp[c][p][q] = r[0][q] + r[1][q] + ..`): moved to row `b + 1`, the
/// sums land in the same column of another row and every `dxp` sum is unchanged wherever row
/// `b + 1`'s own columns (`j*SW + (b + 1)*DW`) miss them (output columns wider apart than the
/// dilation), so that mutant is equivalent.
fn equivalent(program: &Program, s: &Stmt, axis: usize) -> bool {
    let to = match s {
        Stmt::Set { to, .. } => to,
        _ => return false,
    };
    let spread = matches!(to.array, Array::Local(n) if program.locals[n].name == "r");
    spread && axis == 0
}
