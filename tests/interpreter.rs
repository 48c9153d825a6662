//! The derivation run as a program: an interpreter that evaluates the engine's term lists
//! (`u` as `(x, k)` products plus the bias, `dL/dx` as `(delta, k)`, `dL/dk` as `(delta, x)`,
//! `dL/db` as sums of `delta`) on integer inputs agrees exactly with the run-time formulation
//! `conv_runtime::reference`, over random specs (sizes up to 12, every option). The sizes of the
//! results follow the documented formulas, computed here from the spec alone.

use conv_engine::derive::{Derivation, Product, Sums};
use conv_runtime::rng::SplitMix64;
use conv_runtime::{reference, GeometrySpec, Padding};
use proptest::prelude::*;

fn specs() -> impl Strategy<Value = GeometrySpec> {
    let pair = |max: usize| (1..=max, 1..=max).prop_map(|(a, b)| [a, b]);
    let padding = prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        (0..4usize, 0..4usize, 0..4usize, 0..4usize).prop_map(|(top, bottom, left, right)| {
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            }
        }),
    ];
    (
        pair(12),
        pair(5),
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
        // Specs whose (dilated) kernel does not fit are rejected by `resolve`, not tested here.
        .prop_filter("the kernel fits the padded input", |s| s.resolve().is_ok())
}

/// Output size of one axis by the documented formulas (TensorFlow's for `same`).
fn output(s: &GeometrySpec, axis: usize) -> usize {
    let (n, k, st, d) = (
        s.input[axis],
        s.kernel[axis],
        s.stride[axis],
        s.dilation[axis],
    );
    let span = (k - 1) * d + 1;
    match s.padding {
        Padding::Valid => (n - span) / st + 1,
        Padding::Same => n.div_ceil(st),
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => {
            let pad = if axis == 0 {
                top + bottom
            } else {
                left + right
            };
            (n + pad - span) / st + 1
        }
    }
}

fn integers(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.nonzero(9) as f64).collect()
}

/// `sum over each element's products of lhs[p.0] * rhs[p.1]`.
fn run(sums: &Sums, lhs: &[f64], rhs: &[f64]) -> Vec<f64> {
    sums.iter()
        .map(|products| {
            products
                .iter()
                .map(|&Product(a, b)| lhs[a as usize] * rhs[b as usize])
                .sum()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn term_lists_evaluate_to_the_runtime_formulation(spec in specs(), seed in any::<u64>()) {
        let g = spec.resolve().expect("filtered");
        let d = Derivation::new(&g);
        let (oh, ow) = (output(&spec, 0), output(&spec, 1));
        let (ci, co) = (spec.in_channels, spec.out_channels);
        let [h, w] = spec.input;
        let [kh, kw] = spec.kernel;
        prop_assert_eq!(g.output(), [oh, ow]);
        prop_assert_eq!(d.forward().len(), co * oh * ow);
        prop_assert_eq!(d.dx().len(), ci * h * w);
        prop_assert_eq!(d.dk().len(), co * ci * kh * kw);
        prop_assert_eq!(d.db().len(), co);

        let mut rng = SplitMix64::new(seed);
        let x = integers(&mut rng, ci * h * w);
        let k = integers(&mut rng, co * ci * kh * kw);
        let b = integers(&mut rng, co);
        let delta = integers(&mut rng, co * oh * ow);

        let mut u = run(d.forward(), &x, &k);
        for (i, v) in u.iter_mut().enumerate() {
            *v += b[d.u_at(i).c];
        }
        let dx = run(d.dx(), &delta, &k);
        let dk = run(d.dk(), &delta, &x);
        let db: Vec<f64> = d
            .db()
            .iter()
            .map(|ps| ps.iter().map(|&Product(i, _)| delta[i as usize]).sum())
            .collect();

        let want_u = reference::forward_vec(&g, &x, &k, &b).expect("lengths");
        let want = reference::backward_vec(&g, &x, &k, &delta).expect("lengths");
        prop_assert_eq!(u, want_u);
        prop_assert_eq!(dx, want.dx);
        prop_assert_eq!(dk, want.dk);
        prop_assert_eq!(db, want.db);
    }
}
