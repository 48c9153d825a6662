//! What the code `#[network]` emits calls between its layers. Shapes are checked during
//! expansion, so these take them as given and never fail.

use super::SampleError;
use crate::nn::activation::{Activation, LeakyRelu, Relu, Sigmoid, Tanh};
use crate::nn::loss;
use crate::nn::math::Real;
use crate::rng::SplitMix64;
use crate::Scalar;

/// `Ok` when `label < classes` and every element of `x` is finite.
#[inline]
pub fn check_sample<S: Scalar>(x: &[S], label: usize, classes: usize) -> Result<(), SampleError> {
    if label >= classes {
        return Err(SampleError::Label { label, classes });
    }
    let finite = |v: &S| v.to_f64().is_finite();
    // Blocks checked without an early exit (so the check vectorises, in the widest tier's
    // vectors); the position is looked for only in a sample that has one.
    let all_finite = crate::cpu::widest(
        #[inline(always)]
        || {
            x.chunks(64)
                .all(|block| block.iter().fold(true, |ok, v| ok & finite(v)))
        },
    );
    if all_finite {
        return Ok(());
    }
    match x.iter().position(|v| !finite(v)) {
        Some(position) => Err(SampleError::NotFinite { position }),
        None => Ok(()),
    }
}

/// `f()`, compiled for the widest CPU tier the program may use (`cpu::tier()`): the network's
/// own code between its layers (activations, pooling, copies) then runs in the tier's vectors.
#[inline]
pub fn widest<R>(f: impl FnOnce() -> R) -> R {
    crate::cpu::widest(f)
}

/// Slices shorter than this are updated in the caller's code: a call into wider vectors
/// does not pay for them.
const WIDE: usize = 256;

/// `dst += src`, element by element (in the CPU tier's widest vectors for long slices).
#[inline]
pub fn add_assign<S: Scalar>(dst: &mut [S], src: &[S]) {
    #[inline(always)]
    fn run<S: Scalar>(dst: &mut [S], src: &[S]) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d += *s;
        }
    }
    match dst.len() < WIDE {
        true => run(dst, src),
        false => crate::cpu::widest(|| run(dst, src)),
    }
}

/// `p -= learning_rate * g`, element by element (in the CPU tier's widest vectors for long
/// slices).
#[inline]
pub fn sgd<S: Scalar>(p: &mut [S], g: &[S], learning_rate: S) {
    #[inline(always)]
    fn run<S: Scalar>(p: &mut [S], g: &[S], learning_rate: S) {
        for (p, g) in p.iter_mut().zip(g) {
            *p -= learning_rate * *g;
        }
    }
    match p.len() < WIDE {
        true => run(p, g, learning_rate),
        false => crate::cpu::widest(|| run(p, g, learning_rate)),
    }
}

/// `x *= factor`, element by element (in the CPU tier's widest vectors for long slices).
#[inline]
pub fn scale<S: Scalar>(x: &mut [S], factor: S) {
    #[inline(always)]
    fn run<S: Scalar>(x: &mut [S], factor: S) {
        x.iter_mut().for_each(|v| *v = *v * factor);
    }
    match x.len() < WIDE {
        true => run(x, factor),
        false => crate::cpu::widest(|| run(x, factor)),
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
    // 1/sqrt(fan_in), without `std`.
    let bound = Real::exp(-0.5 * Real::ln(fan_in as f64));
    let mut rng = SplitMix64::new(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    for v in dst {
        *v = S::from_f64(bound * (2.0 * rng.unit() - 1.0));
    }
}

/// The position of the largest logit (the first on ties).
#[inline]
pub fn argmax<S: Real>(z: &[S]) -> usize {
    loss::argmax(z).unwrap_or(0)
}

/// The generated code passes arrays whose sizes were checked during expansion, so the
/// building blocks' shape errors cannot occur; this drops the `Ok(())`.
#[inline]
fn checked<E>(result: Result<(), E>) {
    let _ = result;
}

macro_rules! activation {
    ($forward:ident, $into:ident, $backward:ident, $f:expr) => {
        /// The activation of every element of `x`, in place.
        #[inline]
        pub fn $forward<S: Real>(x: &mut [S]) {
            $f.forward_in_place(x);
        }

        /// `y[i]` = the activation of `x[i]` (a stored output written where it is kept).
        #[inline]
        pub fn $into<S: Real>(x: &[S], y: &mut [S]) {
            checked($f.forward(x, y));
        }

        /// `d` times the activation's derivative, from its output `y`.
        #[inline]
        pub fn $backward<S: Real>(y: &[S], d: &mut [S]) {
            checked($f.backward(y, d));
        }
    };
}

activation!(relu, relu_into, relu_backward, Relu);
activation!(tanh, tanh_into, tanh_backward, Tanh);
activation!(sigmoid, sigmoid_into, sigmoid_backward, Sigmoid);

/// Leaky ReLU of every element of `x`, in place.
#[inline]
pub fn leaky_relu<S: Real>(alpha: S, x: &mut [S]) {
    LeakyRelu { alpha }.forward_in_place(x);
}

/// `y[i]` = leaky ReLU of `x[i]`.
#[inline]
pub fn leaky_relu_into<S: Real>(alpha: S, x: &[S], y: &mut [S]) {
    checked(LeakyRelu { alpha }.forward(x, y));
}

/// `d` times leaky ReLU's derivative, from its output `y`.
#[inline]
pub fn leaky_relu_backward<S: Real>(alpha: S, y: &[S], d: &mut [S]) {
    checked(LeakyRelu { alpha }.backward(y, d));
}

/// The softmax cross-entropy of `z` against `label` (checked by [`check_sample`] before) and
/// its gradient `dz`.
#[inline]
pub fn softmax_cross_entropy<S: Real, const N: usize>(
    z: &[S; N],
    label: usize,
    dz: &mut [S; N],
) -> S {
    loss::softmax_cross_entropy(z, label, dz).unwrap_or(S::ZERO)
}
