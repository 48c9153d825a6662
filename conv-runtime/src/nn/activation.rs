//! Element-wise activations: `forward` writes `y = f(x)`; `backward` multiplies the upstream
//! gradient `delta = dL/dy` in place by `f'(x)`, written through the stored output `y` so the
//! input need not be kept.
//!
//! ```
//! use conv_runtime::nn::activation::{Activation, Relu, Sigmoid};
//!
//! let x = [-1.0f32, 0.0, 2.0];
//! let mut y = [0.0f32; 3];
//! Relu.forward(&x, &mut y).unwrap();
//! assert_eq!(y, [0.0, 0.0, 2.0]);
//! let mut delta = [5.0f32; 3];
//! Relu.backward(&y, &mut delta).unwrap();
//! assert_eq!(delta, [0.0, 0.0, 5.0]); // relu'(0) = 0, as in PyTorch
//!
//! Sigmoid.forward(&[0.0f64], &mut [0.0]).unwrap();
//! assert!(Relu.forward(&x, &mut [0.0f32; 2]).is_err()); // lengths differ: an error, no panic
//! ```

use super::math::Real;
use crate::{Operand, ShapeError};

/// An element-wise activation `y = f(x)` whose derivative is a function of `y`.
///
/// Implementors give [`apply`](Activation::apply) and
/// [`derivative`](Activation::derivative); the slice methods are provided.
pub trait Activation<S: Real> {
    /// `f(x)` for one element.
    fn apply(&self, x: S) -> S;

    /// `f'(x)` for one element, given its output `y = f(x)`.
    fn derivative(&self, y: S) -> S;

    /// `y[i] = f(x[i])`.
    ///
    /// # Errors
    /// [`ShapeError`] naming [`Operand::U`] (the output) when `y` and `x` differ in length;
    /// nothing is written.
    #[inline]
    fn forward(&self, x: &[S], y: &mut [S]) -> Result<(), ShapeError> {
        same_len(Operand::U, x.len(), y.len())?;
        for (y, &x) in y.iter_mut().zip(x) {
            *y = self.apply(x);
        }
        Ok(())
    }

    /// `delta[i] = delta[i] · f'(x[i])`, with `f'` computed from `y[i]` by
    /// [`derivative`](Activation::derivative).
    ///
    /// # Errors
    /// [`ShapeError`] naming [`Operand::Delta`] when `delta` and `y` differ in length;
    /// nothing is written.
    #[inline]
    fn backward(&self, y: &[S], delta: &mut [S]) -> Result<(), ShapeError> {
        same_len(Operand::Delta, y.len(), delta.len())?;
        for (d, &y) in delta.iter_mut().zip(y) {
            *d = self.scale(y, *d);
        }
        Ok(())
    }

    /// The activation applied to every element of `x` in place.
    #[inline]
    fn forward_in_place(&self, x: &mut [S]) {
        for v in x {
            *v = self.apply(*v);
        }
    }

    /// `delta · f'(x)` given `y = f(x)`; the default multiplies by
    /// [`derivative`](Activation::derivative). [`Relu`] and [`LeakyRelu`] select instead.
    #[inline]
    fn scale(&self, y: S, delta: S) -> S {
        delta * self.derivative(y)
    }
}

/// `relu(x) = max(x, 0)`, with NaN passed through (`x <= 0` is false for NaN).
///
/// Derivative from the output: `1` where `y > 0`, else `0` (so `relu'(0) = 0`, as in
/// PyTorch). `backward` selects rather than multiplies, as PyTorch's `threshold_backward`
/// does: where `y ≤ 0` the gradient becomes `0` even if `delta` is infinite or NaN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Relu;

impl<S: Real> Activation<S> for Relu {
    #[inline]
    fn apply(&self, x: S) -> S {
        if x <= S::ZERO {
            S::ZERO
        } else {
            x
        }
    }
    #[inline]
    fn derivative(&self, y: S) -> S {
        if y > S::ZERO {
            S::ONE
        } else {
            S::ZERO
        }
    }
    #[inline]
    fn scale(&self, y: S, delta: S) -> S {
        if y > S::ZERO {
            delta
        } else {
            S::ZERO
        }
    }
}

/// `leaky_relu(x) = x` where `x > 0`, else `alpha · x` (PyTorch's `negative_slope`).
///
/// Derivative from the output: `1` where `y > 0`, else `alpha`. This equals the derivative
/// through `x` only for `alpha ≥ 0` (then `y > 0` exactly when `x > 0`); with a negative
/// `alpha` the rule is wrong for `x < 0`, so do not use one. At `x = 0` the derivative is
/// `alpha`, as in PyTorch. `backward` selects between `delta` and `alpha · delta`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LeakyRelu<S> {
    /// The slope for `x ≤ 0`; must be `≥ 0` for `backward` to be correct.
    pub alpha: S,
}

impl<S: Real> Activation<S> for LeakyRelu<S> {
    #[inline]
    fn apply(&self, x: S) -> S {
        if x > S::ZERO {
            x
        } else {
            self.alpha * x
        }
    }
    #[inline]
    fn derivative(&self, y: S) -> S {
        if y > S::ZERO {
            S::ONE
        } else {
            self.alpha
        }
    }
    #[inline]
    fn scale(&self, y: S, delta: S) -> S {
        if y > S::ZERO {
            delta
        } else {
            self.alpha * delta
        }
    }
}

/// `tanh(x)` by [`Real::tanh`].
///
/// Derivative from the output: `1 - y²`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tanh;

impl<S: Real> Activation<S> for Tanh {
    #[inline]
    fn apply(&self, x: S) -> S {
        x.tanh()
    }
    #[inline]
    fn derivative(&self, y: S) -> S {
        S::ONE - y * y
    }
}

/// `sigmoid(x) = 1 / (1 + e^-x)` by [`Real::sigmoid`].
///
/// Derivative from the output: `y · (1 - y)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sigmoid;

impl<S: Real> Activation<S> for Sigmoid {
    #[inline]
    fn apply(&self, x: S) -> S {
        x.sigmoid()
    }
    #[inline]
    fn derivative(&self, y: S) -> S {
        y * (S::ONE - y)
    }
}

fn same_len(what: Operand, expected: usize, found: usize) -> Result<(), ShapeError> {
    if expected == found {
        Ok(())
    } else {
        Err(ShapeError::new(what, expected, found))
    }
}
