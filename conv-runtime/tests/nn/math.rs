//! `Real`'s functions against `std`'s, in ulps. `std` is an oracle here, not a target: its
//! functions round to within about one ulp, so a bound of 2 ulps against it leaves the
//! implementation within about 3 of the exact value. The sampled inputs come from splitmix64
//! with fixed seeds, plus edge cases chosen by hand.

use conv_runtime::nn::math::Real;
use conv_runtime::rng::SplitMix64;
use proptest::prelude::*;

/// The distance in units in the last place, over the ordered bit patterns (`+0` and `-0` are
/// one apart; two NaNs are equal, a NaN and a number are `u64::MAX` apart).
pub fn ulps(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let key = |x: f64| {
        let i = x.to_bits() as i64;
        i128::from(if i < 0 { i64::MIN - i } else { i })
    };
    u64::try_from((key(a) - key(b)).unsigned_abs()).unwrap_or(u64::MAX)
}

fn ulps32(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let key = |x: f32| {
        let i = x.to_bits() as i32;
        i64::from(if i < 0 { i32::MIN - i } else { i })
    };
    (key(a) - key(b)).unsigned_abs()
}

/// The largest ulp distance between `ours` and `theirs` over `n` inputs uniform in `[lo, hi]`,
/// with the input where it occurs.
fn worst(
    seed: u64,
    n: usize,
    [lo, hi]: [f64; 2],
    ours: fn(f64) -> f64,
    theirs: fn(f64) -> f64,
) -> (u64, f64) {
    let mut rng = SplitMix64::new(seed);
    let mut worst = (0, 0.0);
    for _ in 0..n {
        let x = lo + (hi - lo) * rng.unit();
        let d = ulps(ours(x), theirs(x));
        if d > worst.0 {
            worst = (d, x);
        }
    }
    worst
}

/// Every positive finite `f64` with probability by exponent (uniform bit patterns).
fn worst_bits(seed: u64, n: usize, ours: fn(f64) -> f64, theirs: fn(f64) -> f64) -> (u64, f64) {
    let mut rng = SplitMix64::new(seed);
    let mut worst = (0, 0.0);
    for _ in 0..n {
        let x = f64::from_bits(rng.next_u64() % f64::INFINITY.to_bits());
        let d = ulps(ours(x), theirs(x));
        if d > worst.0 {
            worst = (d, x);
        }
    }
    worst
}

#[test]
fn exp_within_2_ulps_of_std() {
    let ours = <f64 as Real>::exp;
    // The whole range where the result is finite and non-zero, then near zero, where the
    // reduction does nothing, then the subnormal results.
    for (seed, range) in [
        (1, [-745.1, 709.78]),
        (2, [-1.0, 1.0]),
        (3, [-1e-6, 1e-6]),
        (4, [-745.13, -708.0]),
        (5, [700.0, 709.782]),
    ] {
        let (d, x) = worst(seed, 200_000, range, ours, f64::exp);
        assert!(d <= 2, "exp({x:e}) is {d} ulps from std's");
    }
}

#[test]
fn exp_special_values() {
    let exp = <f64 as Real>::exp;
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(exp(-0.0), 1.0);
    assert_eq!(exp(709.79), f64::INFINITY);
    assert_eq!(exp(1e300), f64::INFINITY);
    assert_eq!(exp(f64::INFINITY), f64::INFINITY);
    assert_eq!(exp(-746.0), 0.0);
    assert_eq!(exp(f64::NEG_INFINITY), 0.0);
    assert!(exp(f64::NAN).is_nan());
    // The largest finite result and the smallest subnormal one.
    assert_eq!(exp(709.782712893384), 709.782712893384f64.exp());
    assert_eq!(exp(-745.0), 5e-324);
    // fdlibm's rational form, like Java's `StrictMath.exp`, gives e one ulp high.
    assert!(ulps(exp(1.0), std::f64::consts::E) <= 1);
}

#[test]
fn ln_within_2_ulps_of_std() {
    let ours = <f64 as Real>::ln;
    let (d, x) = worst_bits(6, 400_000, ours, f64::ln);
    assert!(d <= 2, "ln({x:e}) is {d} ulps from std's");
    for (seed, range) in [
        (7, [0.5, 2.0]),
        (8, [1.0 - 1e-6, 1.0 + 1e-6]),
        (9, [1.0, 1e6]),
    ] {
        let (d, x) = worst(seed, 200_000, range, ours, f64::ln);
        assert!(d <= 2, "ln({x:e}) is {d} ulps from std's");
    }
}

#[test]
fn ln_special_values() {
    let ln = <f64 as Real>::ln;
    assert_eq!(ln(1.0), 0.0);
    assert_eq!(ln(0.0), f64::NEG_INFINITY);
    assert_eq!(ln(-0.0), f64::NEG_INFINITY);
    assert!(ln(-1.0).is_nan());
    assert!(ln(f64::NEG_INFINITY).is_nan());
    assert!(ln(f64::NAN).is_nan());
    assert_eq!(ln(f64::INFINITY), f64::INFINITY);
    assert_eq!(ulps(ln(5e-324), (5e-324f64).ln()), 0);
    assert_eq!(ulps(ln(f64::MAX), f64::MAX.ln()), 0);
    assert_eq!(ulps(ln(2.0), std::f64::consts::LN_2), 0);
}

#[test]
fn tanh_within_2_ulps_of_std() {
    let ours = <f64 as Real>::tanh;
    for (seed, range) in [
        (10, [-1.0, 1.0]),
        (11, [-1e-6, 1e-6]),
        (12, [-25.0, 25.0]),
        (13, [0.9, 1.1]),
        (14, [-1.1, -0.9]),
    ] {
        let (d, x) = worst(seed, 200_000, range, ours, f64::tanh);
        assert!(d <= 2, "tanh({x:e}) is {d} ulps from std's");
    }
}

#[test]
fn tanh_special_values() {
    let tanh = <f64 as Real>::tanh;
    assert_eq!(tanh(1e-8), 1e-8f64.tanh());
    assert_eq!(tanh(-1e-300), -1e-300);
    assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
    assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(tanh(30.0), 1.0);
    assert_eq!(tanh(-1e300), -1.0);
    assert_eq!(tanh(f64::INFINITY), 1.0);
    assert_eq!(tanh(f64::NEG_INFINITY), -1.0);
    assert!(tanh(f64::NAN).is_nan());
}

/// `1 / (1 + e^-x)` by `std`, written for each sign so that it neither overflows nor cancels.
fn std_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

#[test]
fn sigmoid_within_2_ulps_of_std() {
    let ours = <f64 as Real>::sigmoid;
    for (seed, range) in [
        (15, [-40.0, 40.0]),
        (16, [-745.0, -700.0]),
        (17, [-1e-6, 1e-6]),
    ] {
        let (d, x) = worst(seed, 200_000, range, ours, std_sigmoid);
        assert!(d <= 2, "sigmoid({x:e}) is {d} ulps from std's");
    }
}

#[test]
fn sigmoid_special_values() {
    let sigmoid = <f64 as Real>::sigmoid;
    assert_eq!(sigmoid(0.0), 0.5);
    assert_eq!(sigmoid(800.0), 1.0);
    assert_eq!(sigmoid(f64::INFINITY), 1.0);
    // Large negative inputs: no overflow, no NaN, the value e^x itself.
    assert_eq!(sigmoid(-800.0), 0.0);
    assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
    assert!(ulps(sigmoid(-700.0), (-700.0f64).exp()) <= 2);
    assert!(sigmoid(f64::NAN).is_nan());
}

/// `f32` is the `f64` function rounded once: within 1 ulp of `std`'s `f64` function rounded
/// to `f32` (a sharper oracle than `std`'s `f32` functions, some of which are 2 ulps off).
#[test]
fn f32_within_1_ulp_of_std() {
    type F = (fn(f32) -> f32, fn(f64) -> f64, [f32; 2]);
    let cases: [(&str, F); 4] = [
        ("exp", (<f32 as Real>::exp, f64::exp, [-103.0, 88.7])),
        ("ln", (<f32 as Real>::ln, f64::ln, [1e-30, 1e30])),
        ("tanh", (<f32 as Real>::tanh, f64::tanh, [-10.0, 10.0])),
        (
            "sigmoid",
            (<f32 as Real>::sigmoid, std_sigmoid, [-100.0, 100.0]),
        ),
    ];
    let mut rng = SplitMix64::new(18);
    for (name, (ours, theirs, [lo, hi])) in cases {
        for _ in 0..100_000 {
            let x = lo + (hi - lo) * rng.unit() as f32;
            let d = ulps32(ours(x), theirs(f64::from(x)) as f32);
            assert!(d <= 1, "{name}({x:e}) is {d} ulps from std's");
        }
    }
    assert_eq!(<f32 as Real>::exp(89.0), f32::INFINITY);
    assert_eq!(<f32 as Real>::exp(-104.0), 0.0);
    assert_eq!(<f32 as Real>::ln(0.0), f32::NEG_INFINITY);
    assert!(<f32 as Real>::ln(-1.0).is_nan());
    assert_eq!(<f32 as Real>::tanh(1e-8), 1e-8);
    assert_eq!(<f32 as Real>::sigmoid(-200.0), 0.0);
}

proptest! {
    #[test]
    fn exp_of_any_f64(x in any::<f64>()) {
        prop_assert!(ulps(<f64 as Real>::exp(x), x.exp()) <= 2, "exp({:e})", x);
    }

    #[test]
    fn ln_of_any_f64(x in any::<f64>()) {
        prop_assert!(ulps(<f64 as Real>::ln(x), x.ln()) <= 2, "ln({:e})", x);
    }

    #[test]
    fn tanh_of_any_f64(x in any::<f64>()) {
        prop_assert!(ulps(<f64 as Real>::tanh(x), x.tanh()) <= 2, "tanh({:e})", x);
    }

    /// `ln` inverts `exp` to within a few ulps where the result is normal.
    #[test]
    fn ln_of_exp(x in -700.0f64..700.0) {
        let back = <f64 as Real>::ln(<f64 as Real>::exp(x));
        prop_assert!((back - x).abs() <= 4.0 * f64::EPSILON * x.abs().max(1.0));
    }
}
