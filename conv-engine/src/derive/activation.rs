//! Elementwise activations: ReLU, leaky ReLU, tanh and the logistic sigmoid.
//!
//! `u = f(x)` element by element, so the Jacobian `du/dx` is diagonal: `du[i]/dx[j] = 0` for
//! `i != j` and `du[i]/dx[i] = f'(x[i])`. Each derivative is written as a function of the
//! stored output `u = f(x)`, so the backward pass needs only what the forward kept:
//!
//! | activation | `f(x)` | `f'` from `u` |
//! |---|---|---|
//! | ReLU | `max(0, x)` | `[u > 0]` (so `f'(0) = 0`, as PyTorch) |
//! | leaky ReLU | `x` for `x > 0`, else `alpha*x` | `[u > 0] + alpha*[u <= 0]` |
//! | tanh | `tanh(x)` | `1 - u²` |
//! | sigmoid | `1 / (1 + exp(-x))` | `u*(1 - u)` |
//!
//! Chain rule with `delta = dL/du`: `dL/dx = delta ⊙ f'(x)`, one product per element.

use super::error::{check_len, LayerError};

/// The slope of the leaky ReLU for negative inputs: finite and at least 0, so that the sign of
/// the output is the sign of the input and `f'` can be read from the output.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Slope(f64);

impl Slope {
    /// Validates `alpha`.
    pub fn new(alpha: f64) -> Result<Self, LayerError> {
        if alpha.is_finite() && alpha >= 0.0 {
            Ok(Self(alpha))
        } else {
            Err(LayerError::Slope { alpha })
        }
    }
    /// The slope.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// An elementwise activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `x` for `x > 0`, else `alpha*x`.
    LeakyRelu(Slope),
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
}

impl Activation {
    /// Every activation's name, as [`Activation::name`] writes it.
    pub const NAMES: [&'static str; 4] = ["relu", "leaky_relu", "tanh", "sigmoid"];

    /// `relu`, `leaky_relu`, `tanh` or `sigmoid`.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// `f(x)`.
    pub fn apply(&self, x: f64) -> f64 {
        match *self {
            Activation::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu(alpha) => {
                if x > 0.0 {
                    x
                } else {
                    alpha.get() * x
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    /// `f'(x)` from the stored output `u = f(x)`.
    pub fn derivative(&self, u: f64) -> f64 {
        match *self {
            Activation::Relu => f64::from(u8::from(u > 0.0)),
            Activation::LeakyRelu(alpha) => {
                if u > 0.0 {
                    1.0
                } else {
                    alpha.get()
                }
            }
            Activation::Tanh => 1.0 - u * u,
            Activation::Sigmoid => u * (1.0 - u),
        }
    }

    /// The forward pass on concrete values.
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|&x| self.apply(x)).collect()
    }

    /// `dL/dx = delta ⊙ f'(x)`, from the stored output `u` and `delta = dL/du`.
    pub fn backward(&self, u: &[f64], delta: &[f64]) -> Result<Vec<f64>, LayerError> {
        check_len("delta", delta, u.len())?;
        Ok(u.iter()
            .zip(delta)
            .map(|(&u, &d)| d * self.derivative(u))
            .collect())
    }
}
