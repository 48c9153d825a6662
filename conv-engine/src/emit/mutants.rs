//! Every form's IR proven against the derivation, and planted faults rejected: for each form,
//! each statement dropped, each term of each sum dropped, and each index of each element the
//! code reads or writes shifted by one (or its stride increased) makes the symbolic proof fail
//! (faults that cannot change any sum are not planted: `faults::equivalent`).

mod faults;
mod tiers;

use super::shape::Shapes;
use super::{layer_rows, rows, rows_loop, unroll, window};
use crate::derive::Derivation;
use crate::ir::exec::check;
use crate::ir::Program;
use crate::plan::{Blocks, Dx, When};
use crate::{ChannelLayout, GeometrySpec, Padding, Scalar, Spec, Unroll};
pub(super) use faults::faults;

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
/// long enough for the companion's `dL/dk` to be, and for its `forward` to take fewer blocks
/// of columns on AVX-512).
fn specs() -> [Spec; 5] {
    [
        spec([5, 4], 1, 1, Padding::Valid, [1, 1]),
        spec([5, 6], 2, 3, Padding::Same, [2, 1]),
        spec([4, 5], 1, 2, ONE_SIDED, [1, 2]),
        spec([3, 4], 1, 8, Padding::Valid, [1, 1]),
        spec([3, 14], 1, 8, Padding::Valid, [1, 1]),
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
/// the layer-level `backward` (and `forward` over rows) for [`layer_specs`] (the other forms'
/// faults on those larger layers would take most of the test's time and add little).
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
        let program = layer_rows::backward(&spec, &Shapes::new(&spec), dx, Blocks::Narrow);
        // Fused, as the wide tiers run it.
        let mut fused = program.clone();
        crate::ir::fuse(&mut fused.body);
        out.push((form, spec, program));
        out.push(("layer-level backward, fused", spec, fused));
        if dx == Dx::LayerRows && spec.geometry.kernel()[1] > Blocks::Narrow.taps_per_pass() {
            // Fused with the AVX-512 tier's passes of `dL/dk` (more taps each).
            let mut wide = layer_rows::backward(&spec, &Shapes::new(&spec), dx, Blocks::Wide);
            crate::ir::fuse(&mut wide.body);
            out.push(("layer-level backward, fused, wide", spec, wide));
        }
        if dx == Dx::LayerRows {
            // The layer-level forward beside it, fused as the wide tiers run it (with the
            // AVX-512 tier's groups of output channels where they differ).
            let program = layer_rows::forward(&spec, &Shapes::new(&spec), Blocks::Narrow);
            let mut fused = program.clone();
            crate::ir::fuse_sums(&mut fused.body);
            out.push(("layer-level forward over rows", spec, program));
            out.push(("layer-level forward, fused", spec, fused));
            let lanes = spec.geometry.output()[1].next_multiple_of(layer_rows::ROW_VECTOR);
            let co = spec.geometry.out_channels();
            if Blocks::Wide.channels_per_row(lanes, co)
                != Blocks::Narrow.channels_per_row(lanes, co)
            {
                let mut wide = layer_rows::forward(&spec, &Shapes::new(&spec), Blocks::Wide);
                crate::ir::fuse_sums(&mut wide.body);
                out.push(("layer-level forward, fused, wide", spec, wide));
            }
        }
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
    let narrow = rows::forward(&row, &row_shapes, Blocks::Narrow);
    let wide = rows::forward(&row, &row_shapes, Blocks::Wide);
    let mut companion = vec![
        ("one-row forward", row, narrow.clone()),
        ("one-row backward", row, rows::backward(&row, &row_shapes)),
        ("loop over rows (forward)", *spec, rows_loop::forward(spec)),
        (
            "loop over rows (backward)",
            *spec,
            rows_loop::backward(spec, rows_loop::dk_layout(spec)),
        ),
    ];
    if wide != narrow {
        companion.push(("one-row wide forward", row, wide));
    }
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
    // The AVX-512 tier's blocks of columns differ on the last spec, the same on the other.
    let wide = |s: &Spec| {
        programs(s)
            .iter()
            .any(|(what, ..)| *what == "one-row wide forward")
    };
    assert!(!wide(&specs()[3]));
    assert!(wide(&specs()[4]));
    // LeNet-5's second layer (10 output columns, 16 channels): one block on AVX-512, two else.
    let geometry = GeometrySpec {
        in_channels: 6,
        out_channels: 16,
        ..GeometrySpec::new([14, 14], [5, 5])
    };
    let lenet = Spec {
        geometry: geometry.resolve().expect("a valid geometry"),
        unroll: Unroll::Rows,
        ..specs()[4]
    };
    let p = crate::plan::plan(&lenet);
    assert_eq!(p.avx512.forward_blocks, Blocks::Wide);
    assert_eq!(p.avx2.forward_blocks, Blocks::Narrow);
    assert_eq!(Blocks::Wide.columns(10, 16), [(0, 10)]);
    assert_eq!(Blocks::Narrow.columns(10, 16), [(0, 5), (5, 5)]);
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
        let backward = layer_rows::backward(&spec, &Shapes::new(&spec), dx, Blocks::Narrow);
        let expected = d.dx().terms() + d.dk().terms() + d.db().terms();
        assert_eq!(prove(&spec, &backward), Ok(expected));
        if dx == Dx::LayerRows {
            for blocks in [Blocks::Narrow, Blocks::Wide] {
                let forward = layer_rows::forward(&spec, &Shapes::new(&spec), blocks);
                let expected = d.forward().terms() + spec.geometry.output_len();
                assert_eq!(prove(&spec, &forward), Ok(expected));
            }
        }
    }
    // Cut to dL/dk and dL/db: those terms exactly, and no local of dL/dx left.
    for spec in layer_specs() {
        let d = Derivation::new(&spec.geometry);
        let dx = layer_level(&spec).expect("a layer-level plan");
        let backward = layer_rows::backward(&spec, &Shapes::new(&spec), dx, Blocks::Narrow);
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

/// The layer-level `backward` over rows keeps lane sums past the output row (rows rounded up
/// to `ROW_VECTOR` columns) and adds only the output row's: one column fewer misses terms, one more
/// than the row holds cannot run.
#[test]
fn only_the_output_rows_lane_sums_are_added() {
    use crate::ir::{Expr, Stmt, Term};
    fn counts(body: &mut [Stmt], change: &impl Fn(&mut usize)) -> usize {
        let mut n = 0;
        crate::ir::for_each_expr_mut(body, &mut |e: &mut Expr| {
            for t in &mut e.terms {
                if let Term::Leading(_, count) = t {
                    change(count);
                    n += 1;
                }
            }
        });
        n
    }
    let spec = &layer_specs()[1];
    let dx = layer_level(spec).expect("a layer-level plan");
    let backward = layer_rows::backward(spec, &Shapes::new(spec), dx, Blocks::Narrow);
    let [_, ow] = spec.geometry.output();
    let mut row = backward.clone();
    assert!(counts(&mut row.body, &|n| assert_eq!(*n, ow)) > 0);
    assert!(prove(spec, &row).is_ok());
    let mut fewer = backward.clone();
    counts(&mut fewer.body, &|n| *n -= 1);
    assert!(matches!(
        prove(spec, &fewer),
        Err(crate::ir::exec::Fault::Mismatch { .. })
    ));
    let mut past = backward;
    counts(&mut past.body, &|n| {
        *n = ow.next_multiple_of(layer_rows::ROW_VECTOR) + 1
    });
    assert!(matches!(
        prove(spec, &past),
        Err(crate::ir::exec::Fault::Malformed(_))
    ));
}
