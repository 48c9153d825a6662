//! What the code `#[network]` emits calls between its layers. Shapes are checked during
//! expansion, so these take them as given and never fail.

use super::SampleError;
use crate::rng::SplitMix64;
use crate::Scalar;

/// `Ok` when `label < classes` and every element of `x` is finite.
#[inline]
pub fn check_sample<S: Scalar>(x: &[S], label: usize, classes: usize) -> Result<(), SampleError> {
    if label >= classes {
        return Err(SampleError::Label { label, classes });
    }
    match x.iter().position(|v| !v.to_f64().is_finite()) {
        Some(position) => Err(SampleError::NotFinite { position }),
        None => Ok(()),
    }
}

/// `dst += src`, element by element.
#[inline]
pub fn add_assign<S: Scalar>(dst: &mut [S], src: &[S]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += *s;
    }
}

/// `p -= learning_rate * g`, element by element.
#[inline]
pub fn sgd<S: Scalar>(p: &mut [S], g: &[S], learning_rate: S) {
    for (p, g) in p.iter_mut().zip(g) {
        *p -= learning_rate * *g;
    }
}

/// `dst = src`, element by element (flatten and its gradient).
#[inline]
pub fn copy<S: Scalar>(src: &[S], dst: &mut [S]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Fills `dst` uniformly in `±1/sqrt(fan_in)` from stream `stream` of `seed`.
pub fn init_uniform<S: Scalar>(dst: &mut [S], fan_in: usize, seed: u64, stream: u64) {
    let bound = 1.0 / sqrt(fan_in as f64);
    let mut rng = SplitMix64::new(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    for v in dst {
        *v = S::from_f64(bound * (2.0 * rng.unit() - 1.0));
    }
}

/// Square root by Newton's method (no `std`): exact to the last bit or one below.
fn sqrt(v: f64) -> f64 {
    if v <= 0.0 {
        return 0.0;
    }
    let mut r = if v > 1.0 { v / 2.0 } else { 1.0 };
    for _ in 0..64 {
        let next = 0.5 * (r + v / r);
        if next == r {
            break;
        }
        r = next;
    }
    r
}

/// The position of the largest logit (the first on ties).
#[inline]
pub fn argmax<S: Scalar>(z: &[S]) -> usize {
    super::argmax(z)
}

/// `y = max(x, 0)`.
#[inline]
pub fn relu<S: Scalar>(x: &[S], y: &mut [S]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = if *x > S::ZERO { *x } else { S::ZERO };
    }
}

/// `d *= [y > 0]`.
#[inline]
pub fn relu_backward<S: Scalar>(y: &[S], d: &mut [S]) {
    for (d, y) in d.iter_mut().zip(y) {
        if y.partial_cmp(&S::ZERO) != Some(core::cmp::Ordering::Greater) {
            *d = S::ZERO;
        }
    }
}

/// `y = x` where `x > 0`, else `alpha * x`.
#[inline]
pub fn leaky_relu<S: Scalar>(alpha: S, x: &[S], y: &mut [S]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = if *x > S::ZERO { *x } else { alpha * *x };
    }
}

/// `d *= 1` where `y > 0`, else `alpha`.
#[inline]
pub fn leaky_relu_backward<S: Scalar>(alpha: S, y: &[S], d: &mut [S]) {
    for (d, y) in d.iter_mut().zip(y) {
        if y.partial_cmp(&S::ZERO) != Some(core::cmp::Ordering::Greater) {
            *d = alpha * *d;
        }
    }
}

/// `y = tanh(x)`.
#[inline]
pub fn tanh<S: Scalar>(x: &[S], y: &mut [S]) {
    for (y, x) in y.iter_mut().zip(x) {
        let e = exp(-2.0 * x.to_f64().abs());
        let t = (1.0 - e) / (1.0 + e);
        *y = S::from_f64(if x.to_f64() < 0.0 { -t } else { t });
    }
}

/// `d *= 1 - y²`.
#[inline]
pub fn tanh_backward<S: Scalar>(y: &[S], d: &mut [S]) {
    for (d, y) in d.iter_mut().zip(y) {
        *d = *d * (S::ONE - *y * *y);
    }
}

/// `y = 1 / (1 + exp(-x))`.
#[inline]
pub fn sigmoid<S: Scalar>(x: &[S], y: &mut [S]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = S::from_f64(1.0 / (1.0 + exp(-x.to_f64())));
    }
}

/// `d *= y (1 - y)`.
#[inline]
pub fn sigmoid_backward<S: Scalar>(y: &[S], d: &mut [S]) {
    for (d, y) in d.iter_mut().zip(y) {
        *d = *d * (*y * (S::ONE - *y));
    }
}

/// Max pooling; `indices` gets each window's first maximum (flat in its channel).
#[inline]
pub fn max_pool<
    S: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &[[[S; W]; H]; C],
    kernel: [usize; 2],
    stride: [usize; 2],
    y: &mut [[[S; OW]; OH]; C],
    indices: &mut [[[u32; OW]; OH]; C],
) {
    for c in 0..C {
        for i in 0..OH {
            for j in 0..OW {
                let (p0, q0) = (i * stride[0], j * stride[1]);
                let mut best = (p0, q0);
                for a in 0..kernel[0] {
                    for b in 0..kernel[1] {
                        let (p, q) = (p0 + a, q0 + b);
                        let v = x[c][p][q];
                        if v > x[c][best.0][best.1] || v.to_f64().is_nan() {
                            best = (p, q);
                        }
                    }
                }
                y[c][i][j] = x[c][best.0][best.1];
                indices[c][i][j] = (best.0 * W + best.1) as u32;
            }
        }
    }
}

/// The gradient of max pooling: each `d` added at its window's maximum.
#[inline]
pub fn max_pool_backward<
    S: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    indices: &[[[u32; OW]; OH]; C],
    d: &[[[S; OW]; OH]; C],
    dx: &mut [[[S; W]; H]; C],
) {
    for c in 0..C {
        let plane = dx[c].as_flattened_mut();
        for (i, d) in indices[c].as_flattened().iter().zip(d[c].as_flattened()) {
            if let Some(v) = plane.get_mut(*i as usize) {
                *v += *d;
            }
        }
    }
}

/// Average pooling.
#[inline]
pub fn avg_pool<
    S: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &[[[S; W]; H]; C],
    kernel: [usize; 2],
    stride: [usize; 2],
    y: &mut [[[S; OW]; OH]; C],
) {
    let scale = S::from_f64(1.0 / (kernel[0] * kernel[1]) as f64);
    for c in 0..C {
        for i in 0..OH {
            for j in 0..OW {
                let mut s = S::ZERO;
                for a in 0..kernel[0] {
                    for b in 0..kernel[1] {
                        s += x[c][i * stride[0] + a][j * stride[1] + b];
                    }
                }
                y[c][i][j] = s * scale;
            }
        }
    }
}

/// The gradient of average pooling.
#[inline]
pub fn avg_pool_backward<
    S: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    kernel: [usize; 2],
    stride: [usize; 2],
    d: &[[[S; OW]; OH]; C],
    dx: &mut [[[S; W]; H]; C],
) {
    let scale = S::from_f64(1.0 / (kernel[0] * kernel[1]) as f64);
    for c in 0..C {
        for i in 0..OH {
            for j in 0..OW {
                let g = d[c][i][j] * scale;
                for a in 0..kernel[0] {
                    for b in 0..kernel[1] {
                        dx[c][i * stride[0] + a][j * stride[1] + b] += g;
                    }
                }
            }
        }
    }
}

/// The softmax cross-entropy of `z` against `label` (checked before), stable: `m = max z`,
/// `L = m + ln Σ exp(z - m) - z[label]`; `dz = softmax(z) - onehot(label)`.
#[inline]
pub fn softmax_cross_entropy<S: Scalar, const N: usize>(
    z: &[S; N],
    label: usize,
    dz: &mut [S; N],
) -> S {
    let m = z[super::argmax(z)].to_f64();
    let mut sum = 0.0;
    for (d, v) in dz.iter_mut().zip(z) {
        let e = exp(v.to_f64() - m);
        *d = S::from_f64(e);
        sum += e;
    }
    for d in dz.iter_mut() {
        *d = S::from_f64(d.to_f64() / sum);
    }
    if let Some(d) = dz.get_mut(label) {
        *d -= S::ONE;
    }
    let zl = z.get(label).map_or(0.0, |v| v.to_f64());
    S::from_f64(m + ln(sum) - zl)
}

fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    let k = (x * core::f64::consts::LOG2_E + if x < 0.0 { -0.5 } else { 0.5 }) as i64;
    let r = x - k as f64 * core::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..20 {
        term *= r / n as f64;
        sum += term;
    }
    let (mut s, mut k) = (sum, k);
    while k > 1000 {
        s *= f64::from_bits(((1023 + 1000) as u64) << 52);
        k -= 1000;
    }
    while k < -1000 {
        s *= f64::from_bits(((1023 - 1000) as u64) << 52);
        k += 1000;
    }
    s * f64::from_bits(((1023 + k) as u64) << 52)
}

fn ln(x: f64) -> f64 {
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    if m > core::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let (mut term, mut sum) = (z, 0.0);
    for k in 0..30 {
        sum += term / (2 * k + 1) as f64;
        term *= z2;
    }
    2.0 * sum + e as f64 * core::f64::consts::LN_2
}
