//! Numerics of the reference formulation:
//!
//! - NaN and infinities propagate as IEEE arithmetic says: a NaN or an infinity in one operand
//!   reaches exactly the results whose sums read it, `inf * 0` and `inf - inf` are NaN, and a
//!   read of the padding is not a product (an infinite kernel tap that only meets padding leaves
//!   the output finite). Expectations come from the naive loops of `support/naive.rs` and, for
//!   the small cases, from values worked out by hand.
//! - `f32` and `f64` agree exactly on integer-valued inputs over a grid of geometries, and both
//!   equal the naive loops.
//! - Central finite differences ([`check_finite_differences`]) on layers whose geometry is drawn
//!   at random (at compile time, from a seed) and whose `forward`/`backward` are the reference.
#![cfg(feature = "std")]

#[path = "support/naive.rs"]
mod naive;

use conv_runtime::checks::{check_finite_differences, check_tolerance, Part, Tolerance};
use conv_runtime::rng::SplitMix64;
use conv_runtime::{proof, reference, Conv2d, Geometry, GeometrySpec, Gradients, Padding, Scalar};
use naive::Term;

const fn explicit(top: usize, bottom: usize, left: usize, right: usize) -> Padding {
    Padding::Explicit {
        top,
        bottom,
        left,
        right,
    }
}

fn spec(
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
    channels: (usize, usize),
) -> Geometry {
    GeometrySpec {
        input,
        kernel,
        stride,
        dilation,
        padding,
        in_channels: channels.0,
        out_channels: channels.1,
    }
    .resolve()
    .expect("the test geometry resolves")
}

/// Geometries for the NaN/infinity sweeps: plain, strided with `same` padding and channels,
/// dilated with explicit padding, a stride that skips input rows, and a 1x1 kernel.
fn sweep_geometries() -> Vec<Geometry> {
    vec![
        spec([5, 5], [3, 3], [1, 1], [1, 1], Padding::Valid, (1, 1)),
        spec([6, 5], [3, 2], [2, 2], [1, 1], Padding::Same, (2, 3)),
        spec([6, 7], [2, 3], [1, 1], [2, 1], explicit(1, 0, 2, 1), (1, 2)),
        spec([7, 6], [2, 2], [3, 2], [1, 2], explicit(0, 2, 1, 0), (2, 1)),
        spec([4, 3], [1, 1], [2, 1], [1, 1], explicit(1, 1, 0, 2), (3, 2)),
    ]
}

/// The reference's results in `S`: `(u, dL/dx, dL/dk, dL/db)`.
type Results = [Vec<f64>; 4];

fn reference_results<S: Scalar>(g: &Geometry, ops: &[Vec<f64>; 4]) -> Results {
    let cast = |v: &[f64]| v.iter().map(|&e| S::from_f64(e)).collect::<Vec<S>>();
    let back = |v: &[S]| v.iter().map(|e| e.to_f64()).collect::<Vec<f64>>();
    let (x, k, b, d) = (cast(&ops[0]), cast(&ops[1]), cast(&ops[2]), cast(&ops[3]));
    let u = reference::forward_vec(g, &x, &k, &b).unwrap();
    let grads = reference::backward_vec(g, &x, &k, &d).unwrap();
    [back(&u), back(&grads.dx), back(&grads.dk), back(&grads.db)]
}

fn naive_results<S: Scalar>(g: &Geometry, ops: &[Vec<f64>; 4]) -> Results {
    let cast = |v: &[f64]| v.iter().map(|&e| S::from_f64(e)).collect::<Vec<S>>();
    let back = |v: &[S]| v.iter().map(|e| e.to_f64()).collect::<Vec<f64>>();
    let (x, k, b, d) = (cast(&ops[0]), cast(&ops[1]), cast(&ops[2]), cast(&ops[3]));
    let u = naive::forward(g, &x, &k, &b);
    let (dx, dk, db) = naive::backward(g, &x, &k, &d);
    [back(&u), back(&dx), back(&dk), back(&db)]
}

const NAMES: [&str; 4] = ["u", "dL/dx", "dL/dk", "dL/db"];

/// Integer-valued operands `x, k, b, delta` for `g`.
fn operands(g: &Geometry, seed: u64) -> [Vec<f64>; 4] {
    let lens = [g.input_len(), g.kernel_len(), g.bias_len(), g.output_len()];
    let mut n = 0;
    lens.map(|len| {
        n += 1;
        naive::integers(seed * 4 + n, len, 4)
    })
}

/// Which elements of each result read operand `which` (0 `x`, 1 `k`, 2 `b`, 3 `delta`) at `at`,
/// worked out from the list of products: the results that become NaN when that element is NaN.
fn readers(g: &Geometry, terms: &[Term], which: usize, at: usize) -> [Vec<bool>; 4] {
    let mut r = [
        vec![false; g.output_len()],
        vec![false; g.input_len()],
        vec![false; g.kernel_len()],
        vec![false; g.bias_len()],
    ];
    let plane = g.output()[0] * g.output()[1];
    match which {
        // u = b + Σ x k: x and k reach u through a product; dL/dk = Σ delta x; dL/dx = Σ delta k.
        0 | 1 => {
            for t in terms.iter().filter(|t| [t.x, t.k][which] == at) {
                r[0][t.u] = true;
                if which == 0 {
                    r[2][t.k] = true;
                } else {
                    r[1][t.x] = true;
                }
            }
        }
        // b[o] is added to every u[o][..]; backward never reads it.
        2 => (0..g.output_len())
            .filter(|n| n / plane == at)
            .for_each(|n| r[0][n] = true),
        // delta[o][i][j] reaches dL/db[o] and every gradient entry of a product of u[o][i][j].
        _ => {
            r[3][at / plane] = true;
            for t in terms.iter().filter(|t| t.u == at) {
                r[1][t.x] = true;
                r[2][t.k] = true;
            }
        }
    }
    r
}

/// A NaN in any one element of `x`, `k`, `b` or `delta` makes exactly the results that read it
/// NaN; every other result is finite and equal to the naive loops' value.
fn nan_reaches_exactly_its_readers<S: Scalar>() {
    let (mut cases, mut expected_nans) = (0, 0);
    for (gi, g) in sweep_geometries().iter().enumerate() {
        let terms = naive::terms(g);
        let clean = operands(g, gi as u64);
        let clean_want = naive_results::<S>(g, &clean);
        for which in 0..4 {
            for at in 0..clean[which].len() {
                let mut ops = clean.clone();
                ops[which][at] = f64::NAN;
                let got = reference_results::<S>(g, &ops);
                let nan = readers(g, &terms, which, at);
                expected_nans += nan.iter().flatten().filter(|&&n| n).count();
                for r in 0..4 {
                    for (n, &v) in got[r].iter().enumerate() {
                        let ctx =
                            || format!("{g:?}: NaN in operand {which}[{at}]: {}[{n}]", NAMES[r]);
                        if nan[r][n] {
                            assert!(v.is_nan(), "{} is {v}, expected NaN", ctx());
                        } else {
                            assert_eq!(v, clean_want[r][n], "{}", ctx());
                        }
                    }
                }
                cases += 1;
            }
        }
    }
    // Σ over the sweep geometries of the lengths of x, k, b and delta.
    let positions: usize = sweep_geometries()
        .iter()
        .map(|g| g.input_len() + g.kernel_len() + g.bias_len() + g.output_len())
        .sum();
    assert_eq!(cases, positions);
    // Most elements are read several times: the sweep is not vacuous.
    assert!(
        expected_nans > 3 * cases,
        "{expected_nans} NaN results in {cases} cases"
    );
}

#[test]
fn nan_reaches_exactly_its_readers_f64() {
    nan_reaches_exactly_its_readers::<f64>();
}

#[test]
fn nan_reaches_exactly_its_readers_f32() {
    nan_reaches_exactly_its_readers::<f32>();
}

/// `+inf`, `-inf`, `NaN` and `0` at random positions of random operands (one to four at a
/// time, so that `inf * 0`, `inf - inf` and `NaN + inf` all occur): the reference equals the
/// naive loops element by element (NaN where they give NaN, the same infinity, the same finite
/// value). Which of NaN, `+inf`, `-inf` or finite a sum gives does not depend on the order of
/// its terms, and finite values are integers, so the comparison is exact.
fn specials_match_the_naive_loops<S: Scalar>() {
    let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0];
    let mut rng = SplitMix64::new(77);
    let (mut nan_results, mut inf_results, mut cases) = (0, 0, 0);
    for (gi, g) in sweep_geometries().iter().enumerate() {
        for seed in 0..60 {
            let mut ops = operands(g, 100 + gi as u64 * 100 + seed);
            for _ in 0..=rng.below(4) {
                let which = rng.below(4) as usize;
                let at = rng.below(ops[which].len() as u64) as usize;
                ops[which][at] = specials[rng.below(4) as usize];
            }
            let got = reference_results::<S>(g, &ops);
            let want = naive_results::<S>(g, &ops);
            for r in 0..4 {
                if let Err(e) = naive::compare::<f64, f64>(NAMES[r], &got[r], &want[r]) {
                    panic!("{g:?}, operands {ops:?}: {e}");
                }
                nan_results += got[r].iter().filter(|v| v.is_nan()).count();
                inf_results += got[r].iter().filter(|v| v.is_infinite()).count();
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 5 * 60);
    // The sweep really exercises both kinds of special result.
    assert!(
        nan_results > 100 && inf_results > 100,
        "{nan_results} {inf_results}"
    );
}

#[test]
fn specials_match_the_naive_loops_f64() {
    specials_match_the_naive_loops::<f64>();
}

#[test]
fn specials_match_the_naive_loops_f32() {
    specials_match_the_naive_loops::<f32>();
}

/// Asserts `got` equals `want` element by element, NaN matching NaN.
fn assert_ieee(what: &str, got: &[f64], want: &[f64]) {
    if let Err(e) = naive::compare::<f64, f64>(what, got, want) {
        panic!("{e} (got {got:?}, expected {want:?})");
    }
}

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

/// A 2x3 input with a 1x2 kernel, worked out by hand: `u[i][j] = 1 + x[i][j]*k0 + x[i][j+1]*k1`.
#[test]
fn infinity_times_zero_is_nan_by_hand() {
    let g = GeometrySpec::new([2, 3], [1, 2]).resolve().unwrap();
    let x = [1.0, INF, 2.0, 3.0, 4.0, 5.0];
    let k = [0.0, 1.0];
    // u00 = 1 + 1*0 + inf*1 = inf; u01 = 1 + inf*0 + 2*1 = NaN; u10 = 1 + 0 + 4 = 5; u11 = 6.
    let u = reference::forward_vec(&g, &x, &k, &[1.0]).unwrap();
    assert_ieee("u", &u, &[INF, NAN, 5.0, 6.0]);

    // dL/dk0 = Σ d[i][j] x[i][j], dL/dk1 = Σ d[i][j] x[i][j+1].
    let d = [1.0, -1.0, 0.0, 2.0];
    let gr = reference::backward_vec(&g, &x, &k, &d).unwrap();
    // dk0 = 1*1 + (-1)*inf + 0*3 + 2*4 = -inf; dk1 = 1*inf + (-1)*2 + 0*4 + 2*5 = inf.
    assert_ieee("dk", &gr.dk, &[-INF, INF]);
    // dx scatters d*k and never reads x: finite. dx01 = d00*k1 + d01*k0 = 1, dx12 = d11*k1 = 2.
    assert_ieee("dx", &gr.dx, &[0.0, 1.0, -1.0, 0.0, 0.0, 2.0]);
    assert_ieee("db", &gr.db, &[2.0]);

    // A zero delta on the window reading inf: 0 * inf = NaN in dk0 only.
    let d = [0.0, 1.0, 1.0, 1.0];
    let gr = reference::backward_vec(&g, &x, &k, &d).unwrap();
    // dk0 = 0*1 + 1*inf + 1*3 + 1*4 = inf; dk1 = 0*inf + 1*2 + 1*4 + 1*5 = NaN.
    assert_ieee("dk", &gr.dk, &[INF, NAN]);
}

/// `inf - inf` is NaN; infinities of one sign stay infinite; `NaN` wins over `inf`.
#[test]
fn opposite_infinities_cancel_to_nan_by_hand() {
    let g = GeometrySpec::new([1, 4], [1, 2]).resolve().unwrap();
    // u0 = x0 + x1, u1 = x1 + x2, u2 = x2 + x3 (k = [1, 1], b = 0).
    let u = reference::forward_vec(&g, &[INF, -INF, 3.0, INF], &[1.0, 1.0], &[0.0]).unwrap();
    assert_ieee("u", &u, &[NAN, -INF, INF]);
    let u = reference::forward_vec(&g, &[INF, NAN, 3.0, INF], &[1.0, 1.0], &[0.0]).unwrap();
    assert_ieee("u", &u, &[NAN, NAN, INF]);
    // dL/db = Σ delta: opposite infinities in delta give NaN, one sign gives that infinity.
    let gr = reference::backward_vec(&g, &[1.0; 4], &[1.0, 1.0], &[INF, 2.0, -INF]).unwrap();
    assert_ieee("db", &gr.db, &[NAN]);
    // dx = [d0, d0 + d1, d1 + d2, d2] = [inf, inf + 2, 2 - inf, -inf]; dk0 = Σ d_j x_j =
    // inf + 2 - inf = NaN, dk1 likewise.
    assert_ieee("dx", &gr.dx, &[INF, INF, -INF, -INF]);
    assert_ieee("dk", &gr.dk, &[NAN, NAN]);
    let gr = reference::backward_vec(&g, &[1.0; 4], &[1.0, 1.0], &[INF, 2.0, INF]).unwrap();
    assert_ieee("db", &gr.db, &[INF]);
}

/// A read of the padding is not a product with zero: with `same` padding, a kernel tap of `inf`
/// that falls in the padding for `u0` leaves `u0` finite, while `0 * inf` inside the input is
/// NaN. (A formulation that materialises the zero padding would give NaN for `u0` too; so does
/// `unroll = window`, see `tests/numerics.rs` of the workspace.)
#[test]
fn padding_is_not_multiplied_by_hand() {
    let mut s = GeometrySpec::new([1, 3], [1, 3]);
    s.padding = Padding::Same;
    let g = s.resolve().unwrap();
    assert_eq!((g.pads(), g.output()), ([0, 0, 1, 1], [1, 3]));
    // u0 = pad*inf + x0*1 + x1*1, u1 = x0*inf + x1 + x2, u2 = x1*inf + x2 + pad.
    let x = [0.0, 2.0, 3.0];
    let k = [INF, 1.0, 1.0];
    let u = reference::forward_vec(&g, &x, &k, &[0.0]).unwrap();
    assert_ieee("u", &u, &[2.0, NAN, INF]);
    // dL/dx: dx0 = d0*k1 + d1*k0, dx1 = d0*k2 + d1*k1 + d2*k0, dx2 = d1*k2 + d2*k1.
    let gr = reference::backward_vec(&g, &x, &k, &[1.0, 0.0, 1.0]).unwrap();
    assert_ieee("dx", &gr.dx, &[NAN, INF, 1.0]);
    // dk_b = Σ_j d_j x_{j+b-1}: dk0 = d1 x0 + d2 x1 = 2, dk1 = x0 + 0 + x2 = 3, dk2 = d0 x1 + d1 x2 = 2.
    assert_ieee("dk", &gr.dk, &[2.0, 3.0, 2.0]);
}

/// Finite values that overflow: one product past the largest finite value is `inf`, and a
/// largest-value product plus small integers stays the largest value (in either order).
#[test]
fn overflow_gives_infinity() {
    let g = GeometrySpec::new([1, 3], [1, 2]).resolve().unwrap();
    // u0 = x0*k0 + x1*k1, u1 = x1*k0 + x2*k1; k = [2, -1].
    let x32 = [f32::MAX, 1.0, f32::MAX];
    let u = reference::forward_vec(&g, &x32, &[2.0f32, -1.0], &[0.0]).unwrap();
    assert_eq!(u, [f32::INFINITY, -f32::MAX]);
    let x64 = [f64::MAX, 1.0, f64::MAX];
    let u = reference::forward_vec(&g, &x64, &[2.0, -1.0], &[0.0]).unwrap();
    assert_eq!(u, [f64::INFINITY, -f64::MAX]);
    // dk0 = d0 x0 + d1 x1, dk1 = d0 x1 + d1 x2 with d = [1, 1]: MAX + 1 = MAX.
    let gr = reference::backward_vec(&g, &x32, &[2.0, -1.0], &[1.0, 1.0]).unwrap();
    assert_eq!(gr.dk, [f32::MAX, f32::MAX]);
    // 1e38 * 10 is past the largest f32 (about 3.4e38).
    let u = reference::forward_vec(&g, &[1e38f32, 1.0, 1.0], &[10.0, 1.0], &[0.0]).unwrap();
    assert_eq!(u, [f32::INFINITY, 11.0]);
}

/// The grid for the f32/f64 comparison: every combination resolves.
fn grid() -> Vec<Geometry> {
    let paddings = [
        Padding::Valid,
        Padding::Same,
        explicit(1, 0, 2, 1),
        explicit(2, 2, 0, 3),
    ];
    let mut out = Vec::new();
    for (input, kernel) in [([7, 6], [3, 2]), ([5, 8], [2, 3]), ([4, 4], [1, 1])] {
        for stride in [[1, 1], [2, 1], [2, 3]] {
            for dilation in [[1, 1], [2, 2], [1, 2]] {
                for padding in paddings {
                    for channels in [(1, 1), (2, 3), (3, 1)] {
                        out.push(spec(input, kernel, stride, dilation, padding, channels));
                    }
                }
            }
        }
    }
    out
}

/// On nonzero integers in `[-R, R]` (`R =` [`proof::value_range`], which keeps every partial sum
/// an integer below `2^24`) the `f32` and `f64` reference give the same numbers, and both equal
/// the naive loops in `f64`.
#[test]
fn f32_and_f64_agree_exactly_on_integers() {
    let geometries = grid();
    assert_eq!(geometries.len(), 3 * 3 * 3 * 4 * 3);
    for (n, g) in geometries.iter().enumerate() {
        let r = proof::value_range(g);
        let lens = [g.input_len(), g.kernel_len(), g.bias_len(), g.output_len()];
        let ops = [0, 1, 2, 3].map(|i| naive::integers(n as u64 * 4 + i, lens[i as usize], r));
        let (single, double) = (
            reference_results::<f32>(g, &ops),
            reference_results::<f64>(g, &ops),
        );
        let want = naive_results::<f64>(g, &ops);
        for p in 0..4 {
            assert_eq!(single[p], double[p], "{} of {g:?}", NAMES[p]);
            assert_eq!(double[p], want[p], "{} of {g:?}", NAMES[p]);
            assert!(double[p]
                .iter()
                .all(|v| v.fract() == 0.0 && v.abs() <= 16_777_216.0));
        }
    }
}

/// A geometry drawn from `seed` (splitmix64, in `const fn`): input 1..=8 by 1..=8, kernel
/// 1..=4, stride and dilation 1..=3, padding `valid`, `same` or explicit 0..=2, 1..=3 channels
/// in and out; draws that do not resolve are redrawn.
const fn random_geometry(seed: u64) -> Geometry {
    const fn pick(rng: &mut SplitMix64, lo: u64, hi: u64) -> usize {
        (lo + rng.next_u64() % (hi - lo + 1)) as usize
    }
    let mut rng = SplitMix64::new(seed);
    loop {
        let padding = match pick(&mut rng, 0, 2) {
            0 => Padding::Valid,
            1 => Padding::Same,
            _ => explicit(
                pick(&mut rng, 0, 2),
                pick(&mut rng, 0, 2),
                pick(&mut rng, 0, 2),
                pick(&mut rng, 0, 2),
            ),
        };
        let spec = GeometrySpec {
            input: [pick(&mut rng, 1, 8), pick(&mut rng, 1, 8)],
            kernel: [pick(&mut rng, 1, 4), pick(&mut rng, 1, 4)],
            stride: [pick(&mut rng, 1, 3), pick(&mut rng, 1, 3)],
            dilation: [pick(&mut rng, 1, 3), pick(&mut rng, 1, 3)],
            padding,
            in_channels: pick(&mut rng, 1, 3),
            out_channels: pick(&mut rng, 1, 3),
        };
        if let Ok(g) = spec.resolve() {
            return g;
        }
    }
}

/// A [`Conv2d`] over flat arrays whose `forward` and `backward` are [`reference`], on the
/// geometry `random_geometry($seed)`; `$wrong` adds 1 to the last element of `dL/dk`.
macro_rules! reference_layer {
    ($name:ident, $t:ident, $seed:expr, $wrong:expr) => {
        mod $name {
            use super::*;
            pub const G: Geometry = random_geometry($seed);
            pub struct L;
            type X = [$t; G.input_len()];
            type K = [$t; G.kernel_len()];
            type B = [$t; G.bias_len()];
            type U = [$t; G.output_len()];
            impl Conv2d for L {
                type Scalar = $t;
                type Input = X;
                type Kernel = K;
                type Bias = B;
                type Output = U;
                const GEOMETRY: Geometry = G;
                fn forward(x: &X, k: &K, b: &B) -> U {
                    let mut u = [0.0; G.output_len()];
                    reference::forward(&G, x, k, b, &mut u).unwrap();
                    u
                }
                fn backward(x: &X, k: &K, delta: &U) -> Gradients<X, K, B> {
                    let mut g = Gradients {
                        dx: [0.0; G.input_len()],
                        dk: [0.0; G.kernel_len()],
                        db: [0.0; G.bias_len()],
                    };
                    reference::backward(&G, x, k, delta, &mut g.dx, &mut g.dk, &mut g.db).unwrap();
                    if $wrong {
                        g.dk[G.kernel_len() - 1] += 1.0;
                    }
                    g
                }
            }
        }
    };
}

reference_layer!(r1, f64, 1, false);
reference_layer!(r2, f64, 2, false);
reference_layer!(r3, f64, 3, false);
reference_layer!(r4, f64, 4, false);
reference_layer!(r5, f32, 5, false);
reference_layer!(r6, f32, 6, false);
reference_layer!(r7, f32, 7, false);
reference_layer!(r8, f32, 8, false);
reference_layer!(wrong, f32, 9, true);

const RANDOM: [Geometry; 8] = [r1::G, r2::G, r3::G, r4::G, r5::G, r6::G, r7::G, r8::G];

/// The drawn geometries exercise every option (so the finite differences below cover stride,
/// dilation, padding and channels).
#[test]
fn random_geometries_cover_every_option() {
    let has = |f: &dyn Fn(&Geometry) -> bool| RANDOM.iter().any(f);
    assert!(has(&|g| g.stride() != [1, 1]), "{RANDOM:?}");
    assert!(has(&|g| g.dilation() != [1, 1]), "{RANDOM:?}");
    assert!(has(&|g| g.pads() != [0; 4]), "{RANDOM:?}");
    assert!(has(&|g| g.spec().padding == Padding::Same), "{RANDOM:?}");
    assert!(
        has(&|g| g.in_channels() > 1 && g.out_channels() > 1),
        "{RANDOM:?}"
    );
    // Drawn again from the same seed: the same geometry.
    assert_eq!(random_geometry(1), r1::G);
    assert_ne!(r1::G, r2::G);
}

/// `dL/dx`, `dL/dk`, `dL/db` of the reference equal central differences of its forward, exactly
/// (see [`check_finite_differences`]), in `f64` and `f32`; and the `f32` reference is within the
/// default tolerance of the `f64` one on random floats.
#[test]
fn finite_differences_on_random_layers() {
    for seed in 0..3 {
        check_finite_differences::<r1::L>(seed).unwrap();
        check_finite_differences::<r2::L>(seed).unwrap();
        check_finite_differences::<r3::L>(seed).unwrap();
        check_finite_differences::<r4::L>(seed).unwrap();
        check_finite_differences::<r5::L>(seed).unwrap();
        check_finite_differences::<r6::L>(seed).unwrap();
        check_finite_differences::<r7::L>(seed).unwrap();
        check_finite_differences::<r8::L>(seed).unwrap();
        check_tolerance::<r5::L>(seed, Tolerance::default()).unwrap();
        check_tolerance::<r6::L>(seed, Tolerance::default()).unwrap();
        check_tolerance::<r7::L>(seed, Tolerance::default()).unwrap();
        check_tolerance::<r8::L>(seed, Tolerance::default()).unwrap();
    }
}

/// The same check finds one wrong element: `dL/dk` off by one at its last index.
#[test]
fn finite_differences_find_a_wrong_gradient_on_a_random_layer() {
    let e = check_finite_differences::<wrong::L>(0).unwrap_err();
    assert_eq!(
        (e.part, e.index),
        (Part::Dk, wrong::G.kernel_len() - 1),
        "{e}"
    );
    assert_eq!(e.got, e.expected + 1.0, "{e}");
}
