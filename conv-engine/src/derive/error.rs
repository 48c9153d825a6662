//! The typed error of the non-convolution layer kinds ([`pool`](super::pool),
//! [`activation`](super::activation), [`flatten`](super::flatten), [`loss`](super::loss)): a
//! shape that cannot be built, or concrete values that do not fit it.

use std::fmt;

/// Why a layer of another kind than the convolution cannot be built or evaluated. Each message
/// says what was found and what is expected.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerError {
    /// A size, stride or class count is zero (`what` names it: `input channels`, `stride rows`).
    Zero {
        /// The size that is zero.
        what: &'static str,
    },
    /// The pooling window does not fit the input.
    KernelTooLarge {
        /// The kernel `[KH, KW]`.
        kernel: [usize; 2],
        /// The input's rows and columns `[H, W]`.
        input: [usize; 2],
    },
    /// A size overflows `usize`.
    TooLarge,
    /// The leaky ReLU's slope is negative or not finite: the derivative is read from the
    /// stored output, whose sign must be the input's.
    Slope {
        /// The slope given.
        alpha: f64,
    },
    /// The label of the loss is not one of the classes.
    Label {
        /// The label given (0-based).
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A slice given to an evaluation has the wrong length.
    Length {
        /// Which slice (`x`, `delta`, `z`).
        what: &'static str,
        /// Its expected length.
        expected: usize,
        /// Its length.
        found: usize,
    },
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerError::Zero { what } => write!(f, "{what} must be at least 1, found 0"),
            LayerError::KernelTooLarge { kernel, input } => write!(
                f,
                "kernel {}x{} is larger than input {}x{} (pooling has no padding)",
                kernel[0], kernel[1], input[0], input[1]
            ),
            LayerError::TooLarge => write!(f, "a size overflows usize"),
            LayerError::Slope { alpha } => write!(
                f,
                "the leaky ReLU slope must be finite and at least 0, found {alpha}"
            ),
            LayerError::Label { label, classes } => write!(
                f,
                "label {label} is not a class: expected 0 to {} ({classes} classes, 0-based)",
                classes.saturating_sub(1)
            ),
            LayerError::Length {
                what,
                expected,
                found,
            } => write!(f, "`{what}` holds {found} elements, expected {expected}"),
        }
    }
}

impl std::error::Error for LayerError {}

/// `Ok` when `values` holds `expected` elements.
pub(crate) fn check_len(
    what: &'static str,
    values: &[f64],
    expected: usize,
) -> Result<(), LayerError> {
    if values.len() == expected {
        Ok(())
    } else {
        Err(LayerError::Length {
            what,
            expected,
            found: values.len(),
        })
    }
}

/// The product of `sizes`, each checked nonzero (named by `names`) and the product checked
/// against overflow.
pub(crate) fn volume(sizes: &[usize], names: &[&'static str]) -> Result<usize, LayerError> {
    for (&size, &what) in sizes.iter().zip(names) {
        if size == 0 {
            return Err(LayerError::Zero { what });
        }
    }
    sizes
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .ok_or(LayerError::TooLarge)
}
