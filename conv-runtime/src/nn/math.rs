//! The elementary functions the layers of a network need (`exp`, `ln`, `tanh`, `sigmoid`),
//! written here without `std` or `libm`, behind the sealed trait [`Real`].
//!
//! The crate always uses these implementations, with or without its `std` feature, so a
//! network computes the same bits in every build. `f64` is computed directly; `f32` is computed
//! in `f64` and rounded once.
//!
//! - `exp`: Cody–Waite range reduction `x = k·ln2 + r`, `|r| ≤ ln2/2`, with `ln2` split into a
//!   high part whose products with `k` are exact and a low part; then the Remez rational form of
//!   fdlibm's `e_exp.c` for `exp(r)` and a scaling by `2^k` that rounds once, also into the
//!   subnormal range. Above `ln(f64::MAX)` the result is `+inf`; below the point where the
//!   result rounds to zero it is `0`.
//! - `ln`: `x = 2^k·(1 + f)` with `1 + f` in `[√2/2, √2)`, `s = f/(2 + f)` and the minimax
//!   polynomial of fdlibm's `e_log.c` in `s²`; `k·ln2` is added in the same two parts.
//!   `ln(±0) = -inf`, `ln(x < 0) = NaN`, `ln(+inf) = +inf`.
//! - `tanh`: for `|x| < 1`, Lambert's continued fraction `x / (1 + x²/(3 + x²/(5 + …)))` cut at
//!   a fixed depth and evaluated as `x - x·q/(1 + q)` (no cancellation, so `tanh(1e-8)` is
//!   `1e-8` to the last bit); for
//!   `1 ≤ |x| < 22`, `1 - 2/(exp(2|x|) + 1)` with the sign restored; beyond, `±1`.
//! - `sigmoid`: `1/(1 + exp(-x))` for `x ≥ 0` and `e/(1 + e)` with `e = exp(x)` for `x < 0`,
//!   so neither branch overflows and large negative inputs keep their relative accuracy.
//!
//! NaN in gives NaN out for all four. Method syntax on a concrete `f32`/`f64`
//! (`2.0f64.exp()`) picks the inherent method of `std` instead; call `Real::exp(x)` there.

use crate::Scalar;
use core::ops::Div;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A [`Scalar`] with division and the elementary functions a network needs (sealed: `f32` and
/// `f64` only). See the [module documentation](self) for the algorithms and special values.
pub trait Real: Scalar + Div<Output = Self> + sealed::Sealed {
    /// `+∞`.
    const INFINITY: Self;
    /// `-∞`.
    const NEG_INFINITY: Self;
    /// `e^self`: `+inf` on overflow, `0` on underflow.
    fn exp(self) -> Self;
    /// The natural logarithm: `-inf` at `±0`, NaN below zero.
    fn ln(self) -> Self;
    /// The hyperbolic tangent, in `[-1, 1]`.
    fn tanh(self) -> Self;
    /// The logistic function `1 / (1 + e^-self)`, in `[0, 1]`.
    fn sigmoid(self) -> Self;
    /// Whether `self` is NaN.
    fn is_nan(self) -> bool;
    /// Converts (rounding to nearest where the value has more bits than the type).
    fn from_usize(n: usize) -> Self;
}

impl Real for f64 {
    const INFINITY: Self = f64::INFINITY;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
    #[inline]
    fn exp(self) -> Self {
        exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        ln(self)
    }
    #[inline]
    fn tanh(self) -> Self {
        tanh(self)
    }
    #[inline]
    fn sigmoid(self) -> Self {
        sigmoid(self)
    }
    #[inline]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    #[inline]
    fn from_usize(n: usize) -> Self {
        n as f64
    }
}

impl Real for f32 {
    const INFINITY: Self = f32::INFINITY;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
    #[inline]
    fn exp(self) -> Self {
        exp(self as f64) as f32
    }
    #[inline]
    fn ln(self) -> Self {
        ln(self as f64) as f32
    }
    #[inline]
    fn tanh(self) -> Self {
        tanh(self as f64) as f32
    }
    #[inline]
    fn sigmoid(self) -> Self {
        sigmoid(self as f64) as f32
    }
    #[inline]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline]
    fn from_usize(n: usize) -> Self {
        n as f32
    }
}

/// `ln 2` in two parts: `LN2_HI` has its 32 low bits zero, so `k · LN2_HI` is exact for every
/// `|k| < 2^20`; `LN2_HI + LN2_LO` is `ln 2` to about 2^-85.
const LN2_HI: f64 = 0.6931471803691238; // 0x3fe62e42_fee00000
const LN2_LO: f64 = 1.9082149292705877e-10; // 0x3dea39ef_35793c76
const INV_LN2: f64 = core::f64::consts::LOG2_E;
/// Above this `exp` overflows (`ln(f64::MAX)`).
const EXP_OVERFLOW: f64 = 709.782712893384; // 0x40862e42_fefa39ef
/// Below this `exp` rounds to zero (about `ln(2^-1075)`).
const EXP_UNDERFLOW: f64 = -745.1332191019411; // 0xc0874910_d52d3051

/// `exp` on `f64` (see the [module documentation](self)).
fn exp(x: f64) -> f64 {
    // fdlibm's coefficients of the rational form (bit patterns beside them).
    const P1: f64 = 0.16666666666666602; // 0x3fc55555_5555553e
    const P2: f64 = -0.0027777777777015593; // 0xbf66c16c_16bebd93
    const P3: f64 = 6.613756321437934e-5; // 0x3f11566a_af25de2c
    const P4: f64 = -1.6533902205465252e-6; // 0xbebbbd41_c5d26bf1
    const P5: f64 = 4.1381367970572385e-8; // 0x3e663769_72bea4d0
    if x.is_nan() {
        return x;
    }
    if x > EXP_OVERFLOW {
        return f64::INFINITY;
    }
    if x < EXP_UNDERFLOW {
        return 0.0;
    }
    // k = round(x / ln2), |k| ≤ 1075: exact products with LN2_HI.
    let k = (x * INV_LN2 + if x < 0.0 { -0.5 } else { 0.5 }) as i32;
    let kf = k as f64;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    if k == 0 {
        return 1.0 - ((r * c) / (c - 2.0) - r);
    }
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    scale(y, k)
}

/// `y · 2^k`, rounded once (also when the result is subnormal), for `y` near 1.
fn scale(mut y: f64, mut k: i32) -> f64 {
    let two_1023 = f64::from_bits(0x7fe0_0000_0000_0000);
    // 2^-1022 · 2^53: bring the value down in a step that stays normal, so only the last
    // multiplication rounds.
    let down = f64::from_bits(0x0010_0000_0000_0000) * f64::from_bits(0x4340_0000_0000_0000);
    if k > 1023 {
        y *= two_1023;
        k -= 1023;
    } else if k < -1022 {
        y *= down;
        k += 1022 - 53;
    }
    y * f64::from_bits(((0x3ff + k as i64) as u64) << 52)
}

/// `ln` on `f64` (see the [module documentation](self)).
fn ln(x: f64) -> f64 {
    // fdlibm's coefficients of the polynomial in `s²` (bit patterns beside them).
    const LG1: f64 = 0.6666666666666735; // 0x3fe55555_55555593
    const LG2: f64 = 0.3999999999940942; // 0x3fd99999_9997fa04
    const LG3: f64 = 0.2857142874366239; // 0x3fd24924_94229359
    const LG4: f64 = 0.22222198432149784; // 0x3fcc71c5_1d8e78af
    const LG5: f64 = 0.1818357216161805; // 0x3fc74664_96cb03de
    const LG6: f64 = 0.15313837699209373; // 0x3fc39a09_d078c69f
    const LG7: f64 = 0.14798198605116586; // 0x3fc2f112_df3e5244
    if x.is_nan() {
        return x;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return x;
    }
    let mut bits = x.to_bits();
    let mut k: i32 = 0;
    if bits < 0x0010_0000_0000_0000 {
        // Subnormal: scale into the normal range by 2^54.
        bits = (x * f64::from_bits(0x4350_0000_0000_0000)).to_bits();
        k -= 54;
    }
    // Reduce into [√2/2, √2): the high word of √2/2 is 0x3fe6a09e.
    let mut hx = (bits >> 32) as u32;
    hx = hx.wrapping_add(0x3ff0_0000 - 0x3fe6_a09e);
    k += (hx >> 20) as i32 - 0x3ff;
    hx = (hx & 0x000f_ffff) + 0x3fe6_a09e;
    let m = f64::from_bits((u64::from(hx) << 32) | (bits & 0xffff_ffff));
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = k as f64;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// `tanh` on `f64` (see the [module documentation](self)).
fn tanh(x: f64) -> f64 {
    let a = if x < 0.0 { -x } else { x };
    if x.is_nan() || x == 0.0 {
        // NaN stays NaN; ±0 keeps its sign.
        return x;
    }
    if a < 1.0 {
        // Lambert's continued fraction, evaluated from the bottom. At depth 2·13 + 1 the
        // truncation is far below f64's precision for |x| < 1.
        // The fraction is `x / (1 + q)`; written `x - x·q/(1 + q)`, the rounding of the
        // small correction term barely reaches the result.
        let x2 = x * x;
        let mut t = 27.0;
        let mut odd = 25.0;
        while odd > 1.0 {
            t = odd + x2 / t;
            odd -= 2.0;
        }
        let q = x2 / t;
        return x - x * q / (1.0 + q);
    }
    let t = if a >= 22.0 {
        1.0
    } else {
        1.0 - 2.0 / (exp(2.0 * a) + 1.0)
    };
    if x < 0.0 {
        -t
    } else {
        t
    }
}

/// `sigmoid` on `f64` (see the [module documentation](self)).
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + exp(-x))
    } else {
        // Also NaN: `exp` returns it and the quotient keeps it.
        let e = exp(x);
        e / (1.0 + e)
    }
}
