//! Numerics of generated layers, for several specs (channels, stride, dilation, padding;
//! `unroll = full`, `window` and `rows`), each generated with `scalar = f32` and `scalar = f64`:
//!
//! - on nonzero integers in `[-R, R]` (`R =` [`proof::value_range`], every partial sum an
//!   integer below `2^24`) the `f32` and `f64` layers give the same numbers, equal to the naive
//!   loops of `conv-runtime/tests/support/naive.rs`;
//! - NaN, `+inf` and `-inf` in any one element of `x`, `k`, `b` or `delta`, and random mixes of
//!   them with zeros (`inf * 0`, `inf - inf`), give the same results as
//!   [`conv_runtime::reference`] and the naive loops, element by element: NaN at the same
//!   positions, the same infinities, the same finite values. Which of NaN, `+inf`, `-inf` or
//!   finite a sum gives does not depend on the order of its terms, so the generated code's
//!   summation order does not matter here.
//!
//! Known divergence: `unroll = window` and `rows` read a zero-padded copy of `x`, so a tap that
//! reads the padding is a product `0 * k` (and `delta * 0` in `dL/dk`), which is NaN for an
//! infinite or NaN `k` (or `delta`) where the reference, the full unroll and the naive loops
//! leave the tap out and stay finite. Window and rows layers with padding are therefore compared with
//! `naive::{forward, backward}_zero_padded` ([`PaddingReads::Multiplied`]); when these
//! strategies leave padding reads out, those specs switch to [`PaddingReads::Skipped`] (the test
//! fails until they do).

#[path = "../conv-runtime/tests/support/naive.rs"]
mod naive;

use conv_runtime::rng::SplitMix64;
use conv_runtime::{conv2d, proof, reference, Conv2d, Geometry, Scalar, Tensor};

const NAMES: [&str; 4] = ["u", "dL/dx", "dL/dk", "dL/db"];

/// The operands `x`, `k`, `b`, `delta` as flat `f64`s; results `u`, `dL/dx`, `dL/dk`, `dL/db`.
type Flat = [Vec<f64>; 4];

fn tensor<S: Scalar, T: Tensor<S>>(values: &[f64]) -> T {
    let mut t = T::zeroed();
    assert_eq!(t.flat().len(), values.len(), "operand length");
    for (d, &v) in t.flat_mut().iter_mut().zip(values) {
        *d = S::from_f64(v);
    }
    t
}

fn wide<S: Scalar>(v: &[S]) -> Vec<f64> {
    v.iter().map(|e| e.to_f64()).collect()
}

/// The generated `forward` and `backward` of `L`.
fn layer<L: Conv2d>(ops: &Flat) -> Flat {
    let x: L::Input = tensor(&ops[0]);
    let k: L::Kernel = tensor(&ops[1]);
    let b: L::Bias = tensor(&ops[2]);
    let d: L::Output = tensor(&ops[3]);
    let u = L::forward(&x, &k, &b);
    let g = L::backward(&x, &k, &d);
    [
        wide(u.flat()),
        wide(g.dx.flat()),
        wide(g.dk.flat()),
        wide(g.db.flat()),
    ]
}

fn cast<S: Scalar>(v: &[f64]) -> Vec<S> {
    v.iter().map(|&e| S::from_f64(e)).collect()
}

/// [`reference`] in `S`.
fn by_reference<S: Scalar>(g: &Geometry, ops: &Flat) -> Flat {
    let [x, k, b, d] = ops.each_ref().map(|v| cast::<S>(v));
    let u = reference::forward_vec(g, &x, &k, &b).unwrap();
    let gr = reference::backward_vec(g, &x, &k, &d).unwrap();
    [wide(&u), wide(&gr.dx), wide(&gr.dk), wide(&gr.db)]
}

/// The naive loops in `S`.
fn by_naive<S: Scalar>(g: &Geometry, ops: &Flat) -> Flat {
    let [x, k, b, d] = ops.each_ref().map(|v| cast::<S>(v));
    let u = naive::forward(g, &x, &k, &b);
    let (dx, dk, db) = naive::backward(g, &x, &k, &d);
    [wide(&u), wide(&dx), wide(&dk), wide(&db)]
}

/// Nonzero integers in `[-r, r]` for every operand of `g`.
fn integers(g: &Geometry, seed: u64, r: u64) -> Flat {
    let lens = [g.input_len(), g.kernel_len(), g.bias_len(), g.output_len()];
    [0, 1, 2, 3].map(|i| naive::integers(seed * 4 + i as u64, lens[i], r))
}

/// `got` and `want` agree element by element (NaN matching NaN), or the test fails naming the
/// first difference.
fn agree(got: &Flat, want: &Flat, context: &dyn Fn() -> String) {
    for p in 0..4 {
        if let Err(e) = naive::compare::<f64, f64>(NAMES[p], &got[p], &want[p]) {
            panic!("{}: {e}", context());
        }
    }
}

/// The `f32` and `f64` layers of one spec give the same numbers on integers, equal to the naive
/// loops.
fn integers_agree<A: Conv2d<Scalar = f32>, B: Conv2d<Scalar = f64>>() {
    let g = A::GEOMETRY;
    assert_eq!(g, B::GEOMETRY);
    let r = proof::value_range(&g);
    for seed in 0..4 {
        let ops = integers(&g, seed, r);
        let (single, double) = (layer::<A>(&ops), layer::<B>(&ops));
        let want = by_naive::<f64>(&g, &ops);
        for p in 0..4 {
            assert_eq!(single[p], double[p], "{} of {g:?}, seed {seed}", NAMES[p]);
            assert_eq!(double[p], want[p], "{} of {g:?}, seed {seed}", NAMES[p]);
        }
    }
}

/// Counts of what a sweep did, so it can be checked not to be vacuous.
#[derive(Default)]
struct Seen {
    cases: usize,
    nan: usize,
    inf: usize,
    /// Cases where multiplying the padding gives other results than leaving it out.
    diverging: usize,
}

impl Seen {
    fn add(&mut self, results: &Flat) {
        self.cases += 1;
        let all = || results.iter().flatten();
        self.nan += all().filter(|v| v.is_nan()).count();
        self.inf += all().filter(|v| v.is_infinite()).count();
    }
}

/// What a generated layer does with a tap that reads the padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PaddingReads {
    /// Leaves it out, as [`reference`] does (`unroll = full`).
    Skipped,
    /// Multiplies the zero (`unroll = window` and `rows`, see the module docs).
    Multiplied,
}

/// The naive loops in `S` with padding reads multiplied as zeros.
fn by_naive_zero_padded<S: Scalar>(g: &Geometry, ops: &Flat) -> Flat {
    let [x, k, b, d] = ops.each_ref().map(|v| cast::<S>(v));
    let u = naive::forward_zero_padded(g, &x, &k, &b);
    let (dx, dk, db) = naive::backward_zero_padded(g, &x, &k, &d);
    [wide(&u), wide(&dx), wide(&dk), wide(&db)]
}

/// One run: `L` against the reference in `L::Scalar` and against the naive loops, or, for
/// [`PaddingReads::Multiplied`], against the zero-padded naive loops.
fn run<L: Conv2d>(ops: &Flat, reads: PaddingReads, seen: &mut Seen) {
    let g = L::GEOMETRY;
    let got = layer::<L>(ops);
    if reads == PaddingReads::Multiplied {
        let want = by_naive_zero_padded::<L::Scalar>(&g, ops);
        let reference = by_reference::<L::Scalar>(&g, ops);
        let differs =
            (0..4).any(|p| naive::compare::<f64, f64>("", &want[p], &reference[p]).is_err());
        seen.diverging += usize::from(differs);
        agree(&got, &want, &|| {
            format!("generated vs zero-padded naive, {g:?}, operands {ops:?}")
        });
    } else {
        agree(&got, &by_reference::<L::Scalar>(&g, ops), &|| {
            format!("generated vs reference, {g:?}, operands {ops:?}")
        });
        agree(&got, &by_naive::<L::Scalar>(&g, ops), &|| {
            format!("generated vs naive, {g:?}, operands {ops:?}")
        });
    }
    seen.add(&got);
}

/// NaN, `+inf` and `-inf` in each element of each operand in turn, then 200 random mixes of one
/// to four of NaN, `+inf`, `-inf` and `0`.
fn specials_like_the_reference<L: Conv2d>(reads: PaddingReads) {
    let g = L::GEOMETRY;
    let clean = integers(&g, 7, 4);
    let mut seen = Seen::default();
    for which in 0..4 {
        for at in 0..clean[which].len() {
            for special in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut ops = clean.clone();
                ops[which][at] = special;
                run::<L>(&ops, reads, &mut seen);
            }
        }
    }
    let positions = g.input_len() + g.kernel_len() + g.bias_len() + g.output_len();
    assert_eq!(seen.cases, 3 * positions);
    // A special in `b` or `delta` always has readers (`u` and `dL/db`); one in `x` or `k` may
    // have none (an input row that the stride skips).
    let always_read = g.bias_len() + g.output_len();
    assert!(seen.nan >= always_read && seen.inf >= 2 * always_read);

    let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0];
    let mut rng = SplitMix64::new(11);
    let mut mixed = Seen::default();
    for seed in 0..200 {
        let mut ops = integers(&g, 100 + seed, 4);
        for _ in 0..=rng.below(4) {
            let which = rng.below(4) as usize;
            let at = rng.below(ops[which].len() as u64) as usize;
            ops[which][at] = specials[rng.below(4) as usize];
        }
        run::<L>(&ops, reads, &mut mixed);
    }
    assert_eq!(mixed.cases, 200);
    assert!(mixed.nan > 0 && mixed.inf > 0);
    if reads == PaddingReads::Multiplied {
        // The zero-padded oracle is only needed because it differs (a `NaN` in a kernel tap
        // that reads the padding for some output).
        assert!(seen.diverging > 0, "{g:?} reads no padding: use `Skipped`");
    }
}

/// For each spec, a module with the layer in `f32` and `f64` and its three tests.
macro_rules! specs {
    ($($name:ident ($reads:ident): [$($attr:tt)*];)*) => {$(
        mod $name {
            use super::*;

            #[conv2d($($attr)*, scalar = f32)]
            struct Single;

            #[conv2d($($attr)*, scalar = f64)]
            struct Double;

            #[test]
            fn f32_and_f64_agree_exactly_on_integers() {
                integers_agree::<Single, Double>();
            }

            #[test]
            fn nan_and_infinities_f32() {
                specials_like_the_reference::<Single>(PaddingReads::$reads);
            }

            #[test]
            fn nan_and_infinities_f64() {
                specials_like_the_reference::<Double>(PaddingReads::$reads);
            }
        }
    )*};
}

specs! {
    textbook (Skipped): [input = 5x5, kernel = 3x3];
    strided_same_channels (Skipped): [
        input = 7x6, kernel = 3x2, stride = 2, padding = same, in_channels = 2, out_channels = 3
    ];
    dilated_padded (Skipped): [
        input = 6x7, kernel = 2x3, dilation = (2, 1), padding = (1, 0, 2, 1), out_channels = 2
    ];
    skipping_stride (Skipped): [
        input = 7x6, kernel = 2x2, stride = (3, 2), dilation = (1, 2), padding = (0, 2, 1, 0),
        in_channels = 2
    ];
    kernel_equals_input (Skipped): [
        input = 4x4, kernel = 4x4, in_channels = 3, out_channels = 2, unroll = full
    ];
    one_by_one_padded (Skipped): [
        input = 4x3, kernel = 1x1, stride = (2, 1), padding = (1, 1, 0, 2), in_channels = 3,
        out_channels = 2
    ];
    window_strided_same (Multiplied): [
        input = 6x5, kernel = 3x3, stride = (1, 2), padding = same, in_channels = 2,
        out_channels = 2, unroll = window
    ];
    window_dilated_padded (Multiplied): [
        input = 8x7, kernel = 3x2, stride = 3, dilation = 2, padding = (2, 1, 0, 3),
        unroll = window
    ];
    rows_strided_same (Multiplied): [
        input = 6x5, kernel = 3x3, stride = (1, 2), padding = same, in_channels = 2,
        out_channels = 2, unroll = rows
    ];
    rows_dilated_padded (Multiplied): [
        input = 8x7, kernel = 3x2, stride = 3, dilation = 2, padding = (2, 1, 0, 3),
        unroll = rows
    ];
    rows_many_output_channels (Multiplied): [
        input = 6x10, kernel = 3x3, padding = (1, 1, 1, 1), out_channels = 8, unroll = rows
    ];
    rows_strided_unpadded (Skipped): [
        input = 7x8, kernel = 3x3, stride = (2, 1), dilation = (1, 2), in_channels = 2,
        out_channels = 3, unroll = rows
    ];
    rows_layer_level_backward (Skipped): [
        input = 9x12, kernel = 3x4, dilation = (2, 1), in_channels = 2, out_channels = 3,
        unroll = rows
    ];
    rows_short_rows_many_channels (Skipped): [
        input = 6x8, kernel = 3x3, stride = (1, 2), in_channels = 2, out_channels = 8,
        unroll = rows
    ];
    rows_short_rows_many_channels_padded (Multiplied): [
        input = 5x6, kernel = 2x3, dilation = (2, 1), padding = (1, 0, 1, 2), out_channels = 10,
        unroll = rows
    ];
    rows_layer_level_backward_padded (Multiplied): [
        input = 7x20, kernel = 2x3, stride = (3, 2), dilation = (1, 2), padding = (1, 2, 0, 1),
        unroll = rows
    ];
}

/// `unroll = full` sums `dL/dx` and `dL/dk` with `conv_runtime::mul_add`: each term after the
/// first is fused into the running sum (one rounding) in `backward_const` where
/// [`mul_add::FUSED`], and in `backward` where that holds or the CPU's tier has FMA (AVX2 and
/// up; the `std` feature is on here), else a product and a sum (two). These operands tell the two apart: `dL/dk[0][0] = d0 * x0 + d1 * x1` and
/// `dL/dx[0][1] = d0 * k1 + d1 * k0` are `-(1 + 2e) + (1 + e)^2` with `e` the machine epsilon,
/// exactly `e^2`, which the rounded product `(1 + e)^2 -> 1 + 2e` loses.
mod fused {
    use conv_runtime::cpu::{self, Tier};
    use conv_runtime::{conv2d, mul_add};

    // Wide enough (1,640 multiply-adds) for per-CPU variants; every element beyond the first
    // few is zero, and fused zero products leave a sum exact.
    #[conv2d(input = 1x80, kernel = 1x40, unroll = full)]
    struct Single;

    #[conv2d(input = 1x80, kernel = 1x40, unroll = full, scalar = f64)]
    struct Double;

    macro_rules! check {
        ($layer:ident, $t:ident) => {{
            let e = $t::EPSILON;
            let (one_e, one_2e) = (1.0 + e, 1.0 + 2.0 * e);
            let (mut x, mut k, mut delta) = ([[0.0; 80]], [[0.0; 40]], [[0.0; 41]]);
            [x[0][0], x[0][1]] = [1.0, one_e];
            [k[0][0], k[0][1]] = [one_e, 1.0];
            [delta[0][0], delta[0][1]] = [-one_2e, one_e];
            let dispatched = mul_add::FUSED || cpu::tier() >= Tier::Avx2;
            for (g, fused) in [
                ($layer::backward_const(&x, &k, &delta), mul_add::FUSED),
                ($layer::backward(&x, &k, &delta), dispatched),
            ] {
                let want = if fused { e * e } else { 0.0 };
                assert_eq!(g.dk[0][0], want, "dL/dk[0][0], fused: {fused}");
                assert_eq!(g.dx[0][1], want, "dL/dx[0][1], fused: {fused}");
                // The single-term elements are plain products.
                assert_eq!(g.dx[0][0], -one_2e * one_e);
                assert_eq!(g.dx[0][2], one_e);
            }
        }};
    }

    #[test]
    fn full_backward_fuses_exactly_where_the_target_has_fma_f32() {
        check!(Single, f32);
    }

    #[test]
    fn full_backward_fuses_exactly_where_the_target_has_fma_f64() {
        check!(Double, f64);
    }
}
