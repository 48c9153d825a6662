//! The plan of representative layers on every tier: which branch each takes.

use super::*;
use crate::{GeometrySpec, Padding, Scalar};

/// A channel-first (`channels`) or plain layer, `auto` unless `unroll` says otherwise.
fn spec(
    input: usize,
    kernel: usize,
    ci: usize,
    co: usize,
    padding: Padding,
    unroll: Unroll,
) -> Spec {
    let geometry = GeometrySpec {
        padding,
        in_channels: ci,
        out_channels: co,
        ..GeometrySpec::new([input, input], [kernel, kernel])
    }
    .resolve()
    .expect("a valid geometry");
    let layout = match ci * co {
        1 => ChannelLayout::Plain,
        _ => ChannelLayout::ChannelFirst,
    };
    Spec {
        geometry,
        layout,
        scalar: Scalar::F32,
        unroll,
    }
}

/// `(forward, dx, dk)` on the portable, AVX2 and AVX-512 tiers.
type Row = [(Forward, Dx, Dk); 3];

fn forms(plan: &Plan) -> Row {
    plan.tiers().map(|(_, p)| (p.forward, p.dx, p.dk))
}

fn same(f: Forward, dx: Dx, dk: Dk) -> Row {
    [(f, dx, dk); 3]
}

#[test]
fn every_branch_on_every_tier() {
    use Padding::{Same, Valid};
    use Unroll::{Auto, Full, Rows, Window};
    let u = (Forward::Unrolled, Dx::Unrolled, Dk::Unrolled);
    let cases: Vec<(&str, Spec, Row, bool, ConstCheck)> = vec![
        // A, the textbook layer: everything unrolled.
        (
            "A",
            spec(5, 3, 1, 1, Valid, Auto),
            [u; 3],
            false,
            ConstCheck::Whole,
        ),
        // B, the digits layer: forward a window where vectors are wide and the output channels
        // many; backward over the positions with the output channels innermost (short rows).
        (
            "B",
            spec(8, 3, 1, 8, Valid, Auto),
            [
                (
                    Forward::Unrolled,
                    Dx::LayerOverChannels,
                    Dk::LayerOverChannels,
                ),
                (
                    Forward::Window,
                    Dx::LayerOverChannels,
                    Dk::LayerOverChannels,
                ),
                (
                    Forward::Window,
                    Dx::LayerOverChannels,
                    Dk::LayerOverChannels,
                ),
            ],
            false,
            ConstCheck::Whole,
        ),
        // C, LeNet-5's first layer: padded, so rows on every tier; backward over the rows of
        // the whole layer (long rows, few channels), and forward too on the vector tiers.
        (
            "C",
            spec(28, 5, 1, 6, Same, Auto),
            [
                (Forward::Rows, Dx::LayerRows, Dk::LayerRows),
                (Forward::LayerRows, Dx::LayerRows, Dk::LayerRows),
                (Forward::LayerRows, Dx::LayerRows, Dk::LayerRows),
            ],
            true,
            ConstCheck::Whole,
        ),
        // LeNet-5's second layer: too large to evaluate whole, so the companion's forward;
        // many output channels and 18,816 partial sums of dL/dx, so backward over them at the
        // layer level.
        (
            "LeNet-5 second layer",
            spec(14, 5, 6, 16, Valid, Auto),
            same(
                Forward::RowsOverChannels,
                Dx::LayerOverChannels,
                Dk::LayerOverChannels,
            ),
            true,
            ConstCheck::OneRow,
        ),
        // E: 16 -> 16 channels, 32x32: 262,144 partial sums of dL/dx, too many for the
        // layer-level backward, so the companion's forms.
        (
            "E",
            spec(32, 3, 16, 16, Valid, Auto),
            same(
                Forward::RowsOverChannels,
                Dx::RowsMatrix,
                Dk::RowsOverChannels,
            ),
            true,
            ConstCheck::OneRow,
        ),
        // Few channels, unpadded, small enough to evaluate whole, rows of at least `LANES`
        // columns: over the layer's rows on wide tiers, forward and backward.
        (
            "16x16 3 -> 4",
            spec(16, 3, 3, 4, Valid, Auto),
            [
                (Forward::Rows, Dx::LayerRows, Dk::LayerRows),
                (Forward::LayerRows, Dx::LayerRows, Dk::LayerRows),
                (Forward::LayerRows, Dx::LayerRows, Dk::LayerRows),
            ],
            true,
            ConstCheck::Whole,
        ),
        // Short rows and few channels: the companion's dot products even when small.
        (
            "textbook as rows",
            spec(5, 3, 1, 1, Valid, Rows),
            same(Forward::Rows, Dx::RowsMatrix, Dk::RowsDots),
            true,
            ConstCheck::Whole,
        ),
        // A pinned family holds on every tier.
        (
            "B as window",
            spec(8, 3, 1, 8, Valid, Window),
            same(Forward::Window, Dx::Window, Dk::Window),
            false,
            ConstCheck::Whole,
        ),
        (
            "B as full",
            spec(8, 3, 1, 8, Valid, Full),
            [u; 3],
            false,
            ConstCheck::Whole,
        ),
    ];
    for (what, spec, expected, companion, check) in cases {
        let plan = plan(&spec);
        assert_eq!(forms(&plan), expected, "{what}");
        assert_eq!(plan.companion, companion, "{what}: companion");
        assert_eq!(plan.check, check, "{what}: compile-time check");
    }
}

#[test]
fn the_unrolled_and_layer_level_backward_and_forward_fuse_on_their_tiers_and_only_the_unrolled_splits(
) {
    let digits = plan(&spec(8, 3, 1, 8, Padding::Valid, Unroll::Full));
    assert!(digits.dispatch);
    let fused_split = digits.tiers().map(|(_, p)| (p.fused, p.split));
    assert_eq!(
        fused_split,
        [
            (When::TargetHas, When::TargetHas),
            (When::Always, When::Never),
            (When::Always, When::Always),
        ]
    );
    // LeNet-5's first layer: backward at the layer level, fused on the wide tiers only.
    let lenet = plan(&spec(28, 5, 1, 6, Padding::Same, Unroll::Auto));
    assert_eq!(lenet.portable.dx, Dx::LayerRows);
    assert_eq!(
        lenet.tiers().map(|(_, p)| (p.fused, p.split)),
        [
            (When::Never, When::Never),
            (When::Always, When::Never),
            (When::Always, When::Never),
        ]
    );
    // The window and the companion's forms never fuse.
    let window = plan(&spec(28, 5, 1, 6, Padding::Same, Unroll::Window));
    let e = plan(&spec(32, 3, 16, 16, Padding::Valid, Unroll::Auto));
    for (tier, p) in window.tiers().into_iter().chain(e.tiers()) {
        assert_eq!((p.fused, p.split), (When::Never, When::Never), "{tier:?}");
    }
    // `forward` fuses on the wide tiers in every form, and never on the portable one nor in
    // layers without per-tier variants.
    for (what, plan) in [
        ("c1", &lenet),
        ("E", &e),
        ("window", &window),
        ("digits", &digits),
    ] {
        let fused = plan.tiers().map(|(_, p)| p.forward_fused);
        assert_eq!(fused, [When::Never, When::Always, When::Always], "{what}");
    }
    let textbook = plan(&spec(5, 3, 1, 1, Padding::Valid, Unroll::Auto));
    assert!(!textbook.dispatch);
    for (tier, p) in textbook.tiers() {
        assert_eq!(p.forward_fused, When::Never, "{tier:?}");
    }
}

#[test]
fn the_layer_level_dk_takes_wide_passes_on_avx512_only_where_they_differ() {
    // LeNet-5's first layer: five kernel columns, all in one pass on AVX-512, three then two
    // on the other tiers.
    let lenet = plan(&spec(28, 5, 1, 6, Padding::Same, Unroll::Auto));
    let blocks = lenet.tiers().map(|(_, p)| p.backward_blocks);
    assert_eq!(blocks, [Blocks::Narrow, Blocks::Narrow, Blocks::Wide]);
    assert_eq!(Blocks::Narrow.taps_per_pass(), 3);
    assert_eq!(Blocks::Wide.taps_per_pass(), 5);
    // Three kernel columns fit a narrow pass: the same code on every tier.
    let three = plan(&spec(28, 3, 1, 6, Padding::Same, Unroll::Rows));
    assert_eq!(three.portable.dx, Dx::LayerRows);
    assert!(three
        .tiers()
        .iter()
        .all(|(_, p)| p.backward_blocks == Blocks::Narrow));
    // Other forms of `backward` never take them.
    let e = plan(&spec(32, 3, 16, 16, Padding::Valid, Unroll::Auto));
    assert!(e
        .tiers()
        .iter()
        .all(|(_, p)| p.backward_blocks == Blocks::Narrow));
}

#[test]
fn layers_too_small_to_dispatch_run_the_portable_code_on_every_tier() {
    let textbook = plan(&spec(5, 3, 1, 1, Padding::Valid, Unroll::Auto));
    assert!(!textbook.dispatch);
    for (tier, p) in textbook.tiers() {
        assert_eq!(p, &textbook.portable, "{tier:?}");
    }
    let b = plan(&spec(8, 3, 1, 8, Padding::Valid, Unroll::Auto));
    assert!(b.dispatch && b.avx2 != b.portable);
}

#[test]
fn a_strategy_override_pins_every_tier() {
    let digits = spec(8, 3, 1, 8, Padding::Valid, Unroll::Auto);
    let window = plan_with(&digits, Some(Strategy::Window));
    assert_eq!(
        forms(&window),
        same(Forward::Window, Dx::Window, Dk::Window)
    );
    assert_eq!(
        window,
        plan(&Spec {
            unroll: Unroll::Window,
            ..digits
        })
    );
}
