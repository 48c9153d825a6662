//! Property tests over random layer specs (sizes up to 9, every option): the chain-rule tables
//! equal the padded/rotated formulation term by term, their sizes follow the documented
//! formulas, and the `Jacobian` entries agree with the geometry's tap rule.

use conv_engine::derive::{Derivation, Pixel, Tap};
use conv_engine::prove::prove;
use conv_engine::{GeometrySpec, Padding};
use proptest::prelude::*;

fn specs() -> impl Strategy<Value = GeometrySpec> {
    let pair = |max: usize| (1..=max, 1..=max).prop_map(|(a, b)| [a, b]);
    let padding = prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        (0..3usize, 0..3usize, 0..3usize, 0..3usize).prop_map(|(top, bottom, left, right)| {
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            }
        }),
    ];
    (
        pair(9),
        pair(4),
        pair(3),
        pair(3),
        padding,
        1..=3usize,
        1..=3usize,
    )
        .prop_map(
            |(input, kernel, stride, dilation, padding, in_channels, out_channels)| GeometrySpec {
                input,
                kernel,
                stride,
                dilation,
                padding,
                in_channels,
                out_channels,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chain_rule_equals_the_padded_rotated_form(spec in specs()) {
        let Ok(g) = spec.resolve() else { return Ok(()) };
        let d = Derivation::new(&g);
        let proof = prove(&d).map_err(|e| TestCaseError::fail(format!("{spec:?}: {e}")))?;
        prop_assert_eq!(proof.products, 2 * g.nonzero_terms() + g.output_len());
        // Sizes: OH = (H + top + bottom - EK) / S + 1 per axis.
        let [t, b, l, r] = g.pads();
        for (axis, (before, after)) in [(0, (t, b)), (1, (l, r))] {
            let ek = (spec.kernel[axis] - 1) * spec.dilation[axis] + 1;
            let out = (spec.input[axis] + before + after - ek) / spec.stride[axis] + 1;
            prop_assert_eq!(g.output()[axis], out);
        }
        prop_assert_eq!(d.forward().len(), g.output_len());
        prop_assert_eq!(d.dx().len(), g.input_len());
        prop_assert_eq!(d.dk().len(), g.kernel_len());
        prop_assert_eq!(d.db().len(), g.out_channels());
    }

    #[test]
    fn jacobian_entries_follow_the_tap_rule(spec in specs()) {
        let Ok(g) = spec.resolve() else { return Ok(()) };
        let d = Derivation::new(&g);
        let mut count = 0;
        for e in d.jacobian_x() {
            let Tap { o, c, row: a, col: bb } = e.k;
            prop_assert_eq!(e.u.c, o);
            prop_assert_eq!(e.x.c, c);
            prop_assert_eq!(g.tap(e.u.row, e.u.col, a, bb), Some((e.x.row, e.x.col)));
            prop_assert_eq!(d.du_dk(e.u, e.k), Some(e.x));
            count += 1;
        }
        prop_assert_eq!(count, g.nonzero_terms());
        // A structural zero: an output of another channel.
        if g.out_channels() > 1 {
            let first = Pixel { c: 0, row: 0, col: 0 };
            let k = Tap { o: 1, c: 0, row: 0, col: 0 };
            prop_assert_eq!(d.du_dk(first, k), None);
        }
    }
}
