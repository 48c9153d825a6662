//! Softmax cross-entropy over `N` logits `z` with label `y` (0-based here; the renderers write
//! 1-based indices).
//!
//! `p = softmax(z)`, `p[i] = exp(z[i]) / Σ_j exp(z[j])`, and `L = -ln p[y] = logsumexp(z) - z[y]`.
//! Computed stably: `m = max z`, `s = Σ_j exp(z[j] - m)` (ascending `j`), `lse = m + ln s`,
//! `L = lse - z[y]`, `p[i] = exp(z[i] - m) / s` (the shift by `m` cancels in the quotient and
//! keeps every `exp` at most 1).
//!
//! The gradient, step by step (the renderers write these steps out):
//!
//! 1. `L = -z[y] + ln Σ_j exp(z[j])`.
//! 2. `∂/∂z[i] ln Σ_j exp(z[j]) = exp(z[i]) / Σ_j exp(z[j]) = p[i]`.
//! 3. `∂(-z[y])/∂z[i] = -[i = y]`.
//! 4. So `dL/dz[i] = p[i] - [i = y]`: `dL/dz = softmax(z) - onehot(y)`, whose entries sum to 0.
//!
//! Equivalently through the softmax Jacobian `∂p[i]/∂z[j] = p[i]([i = j] - p[j])` and
//! `∂L/∂p[y] = -1/p[y]`: `dL/dz[j] = -(1/p[y]) p[y]([y = j] - p[j]) = p[j] - [j = y]`.

use super::error::{check_len, LayerError};

/// A validated softmax cross-entropy over `classes` logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SoftmaxCrossEntropy {
    classes: usize,
}

/// The concrete values of the loss and its gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct LossEvaluation {
    /// `max z`.
    pub max: f64,
    /// `logsumexp(z) = m + ln Σ exp(z - m)`.
    pub logsumexp: f64,
    /// `L = logsumexp(z) - z[y]`.
    pub loss: f64,
    /// `softmax(z)`.
    pub softmax: Vec<f64>,
    /// `dL/dz = softmax(z) - onehot(y)`.
    pub dz: Vec<f64>,
}

impl SoftmaxCrossEntropy {
    /// Validates the class count (at least 1).
    pub fn new(classes: usize) -> Result<Self, LayerError> {
        if classes == 0 {
            return Err(LayerError::Zero { what: "classes" });
        }
        Ok(Self { classes })
    }
    /// `N`.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The loss and its gradient for logits `z` and label `y` (0-based), computed stably.
    pub fn evaluate(&self, z: &[f64], y: usize) -> Result<LossEvaluation, LayerError> {
        check_len("z", z, self.classes)?;
        if y >= self.classes {
            return Err(LayerError::Label {
                label: y,
                classes: self.classes,
            });
        }
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let shifted: Vec<f64> = z.iter().map(|&z| (z - max).exp()).collect();
        let sum: f64 = shifted.iter().sum();
        let logsumexp = max + sum.ln();
        let softmax: Vec<f64> = shifted.iter().map(|e| e / sum).collect();
        let dz = softmax
            .iter()
            .enumerate()
            .map(|(i, &p)| if i == y { p - 1.0 } else { p })
            .collect();
        Ok(LossEvaluation {
            max,
            logsumexp,
            loss: logsumexp - z[y],
            softmax,
            dz,
        })
    }
}
