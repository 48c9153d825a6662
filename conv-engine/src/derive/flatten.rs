//! Flatten: a channel-first `C x H x W` input read as one vector of `C*H*W` elements,
//! channel-major as PyTorch's `flatten` (`x[c][i][j]` goes to position `c*H*W + i*W + j`).
//!
//! A reshape: `u[n] = x[c][i][j]` for that `n`, so the Jacobian `du/dx` is the identity
//! permutation (`du[n]/dx[c][i][j] = 1` exactly when `n = c*H*W + i*W + j`), and the chain rule
//! reshapes the gradient back: `dL/dx[c][i][j] = delta[c*H*W + i*W + j]`. No arithmetic: both
//! passes copy.

use super::error::{check_len, volume, LayerError};
use super::Pixel;

/// A validated flatten of a `C x H x W` input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flatten {
    input: [usize; 3],
    len: usize,
}

impl Flatten {
    /// Validates the input size: every dimension at least 1, the product within `usize`.
    pub fn new(input: [usize; 3]) -> Result<Self, LayerError> {
        let len = volume(&input, &["input channels", "input rows", "input columns"])?;
        Ok(Self { input, len })
    }
    /// `[C, H, W]`.
    pub fn input(&self) -> [usize; 3] {
        self.input
    }
    /// `C*H*W`, the length of the output (and of the input).
    pub fn len(&self) -> usize {
        self.len
    }
    /// Always `false`: every size is at least 1.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// The output position of input element `x`: `c*H*W + i*W + j`.
    pub fn index(&self, x: Pixel) -> usize {
        let [_, h, w] = self.input;
        (x.c * h + x.row) * w + x.col
    }
    /// The input element at output position `n`.
    pub fn pixel(&self, n: usize) -> Pixel {
        let [_, h, w] = self.input;
        Pixel {
            c: n / (h * w),
            row: n / w % h,
            col: n % w,
        }
    }
    /// The forward pass: a copy in channel-major order.
    pub fn forward(&self, x: &[f64]) -> Result<Vec<f64>, LayerError> {
        check_len("x", x, self.len)?;
        Ok(x.to_vec())
    }
    /// The backward pass: `delta` reshaped back to `C x H x W` (flat, the same order).
    pub fn backward(&self, delta: &[f64]) -> Result<Vec<f64>, LayerError> {
        check_len("delta", delta, self.len)?;
        Ok(delta.to_vec())
    }
}
