//! Softmax cross-entropy for classification, the softmax itself and the prediction
//! ([`argmax`]).
//!
//! ```
//! use conv_runtime::nn::loss::{argmax, softmax_cross_entropy};
//!
//! let logits = [1.0f64, 3.0, 2.0];
//! let mut dlogits = [0.0; 3];
//! let loss = softmax_cross_entropy(&logits, 1, &mut dlogits).unwrap();
//! assert!((loss - 0.40760596444438).abs() < 1e-12);
//! assert!(dlogits[1] < 0.0 && dlogits[0] > 0.0); // softmax - onehot
//! assert_eq!(argmax(&logits), Some(1));
//! assert!(softmax_cross_entropy(&logits, 3, &mut dlogits).is_err()); // 3 classes: 0, 1, 2
//! ```

use super::math::Real;
use core::fmt;

/// A label that is not one of the classes `0..classes`.
///
/// The struct is `#[non_exhaustive]` (fields may be added): its fields can be read, but code
/// outside this crate builds one with [`LabelError::new`] rather than a struct literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LabelError {
    /// The label given.
    pub label: usize,
    /// The number of classes (logits).
    pub classes: usize,
}

impl LabelError {
    /// The error for `label` among `classes` classes.
    ///
    /// ```
    /// use conv_runtime::nn::loss::LabelError;
    ///
    /// let e = LabelError::new(10, 10);
    /// assert_eq!(e.to_string(), "label 10 is not a class: expected 0 to 9 (10 classes)");
    /// ```
    pub const fn new(label: usize, classes: usize) -> Self {
        Self { label, classes }
    }
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.classes {
            0 => write!(
                f,
                "label {} is not a class: there are no classes",
                self.label
            ),
            n => write!(
                f,
                "label {} is not a class: expected 0 to {} ({n} classes)",
                self.label,
                n - 1
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LabelError {}

/// The largest logit (ignoring NaN; `-∞` for none), subtracted before `exp` so no term
/// overflows.
#[inline]
fn max<S: Real>(z: &[S]) -> S {
    let mut m = S::NEG_INFINITY;
    for &v in z {
        if v > m {
            m = v;
        }
    }
    m
}

/// The cross-entropy of `softmax(logits)` against the class `label`, and its gradient.
///
/// With `m = max(logits)`, `e_i = exp(z_i - m)` and `s = Σ e_i` (so no `exp` overflows, for
/// logits of any size): the loss is `ln s - (z_label - m)` (that is `lse(z) - z_label`), and
/// `dlogits[i] = e_i / s - [i = label]` (softmax minus one-hot). A NaN or infinite logit gives
/// a NaN loss.
///
/// # Errors
/// [`LabelError`] when `label ≥ N`; `dlogits` is not written.
#[inline]
pub fn softmax_cross_entropy<S: Real, const N: usize>(
    logits: &[S; N],
    label: usize,
    dlogits: &mut [S; N],
) -> Result<S, LabelError> {
    let Some(&z_label) = logits.get(label) else {
        return Err(LabelError::new(label, N));
    };
    let m = max(logits);
    let mut s = S::ZERO;
    for (e, &z) in dlogits.iter_mut().zip(logits) {
        *e = (z - m).exp();
        s += *e;
    }
    for e in dlogits.iter_mut() {
        *e = *e / s;
    }
    if let Some(d) = dlogits.get_mut(label) {
        *d -= S::ONE;
    }
    Ok(s.ln() - (z_label - m))
}

/// `softmax(logits)[i] = exp(z_i - m) / Σ_j exp(z_j - m)` with `m = max(logits)`, so large
/// logits do not overflow. The outputs are in `[0, 1]` and sum to 1 up to rounding.
#[inline]
pub fn softmax<S: Real, const N: usize>(logits: &[S; N]) -> [S; N] {
    let m = max(logits);
    let mut p = [S::ZERO; N];
    let mut s = S::ZERO;
    for (p, &z) in p.iter_mut().zip(logits) {
        *p = (z - m).exp();
        s += *p;
    }
    for p in p.iter_mut() {
        *p = *p / s;
    }
    p
}

/// The predicted class: the index of the first largest value, or of the first NaN if there is
/// one (NaN counts as the largest, as in PyTorch's `argmax`). `None` for an empty slice.
#[inline]
pub fn argmax<S: Real>(values: &[S]) -> Option<usize> {
    let (&first, rest) = values.split_first()?;
    let (mut best, mut at) = (first, 0);
    if best.is_nan() {
        return Some(0);
    }
    for (i, &v) in rest.iter().enumerate() {
        if v.is_nan() {
            return Some(i + 1);
        }
        if v > best {
            best = v;
            at = i + 1;
        }
    }
    Some(at)
}
