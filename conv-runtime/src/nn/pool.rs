//! Max and average pooling over channel-first arrays `x: [[[S; W]; H]; C]` into
//! `y: [[[S; OW]; OH]; C]`, each channel on its own, without padding.
//!
//! The kernel `[kh, kw]` and stride `[sh, sw]` are arguments; the sizes are the arrays'. The
//! output must be `OH = ⌊(H - kh)/sh⌋ + 1`, `OW = ⌊(W - kw)/sw⌋ + 1` (PyTorch's and
//! TensorFlow's `valid` size): windows that would run past the input's edge are dropped. Any
//! other sizes, a zero kernel or stride, or a kernel larger than the input are a
//! [`PoolError`], never a panic, and nothing is written.
//!
//! ```
//! use conv_runtime::nn::pool;
//!
//! let x = [[[1.0f32, 3.0, 2.0, 0.0], [3.0, 2.0, 5.0, 1.0]]];
//! let mut y = [[[0.0f32; 2]; 1]; 1];
//! let mut at = [[[0u32; 2]; 1]; 1];
//! pool::max_forward(&x, [2, 2], [2, 2], &mut y, &mut at).unwrap();
//! assert_eq!(y, [[[3.0, 5.0]]]);
//! assert_eq!(at, [[[1, 6]]]); // the first 3 in row-major order; 5 at row 1, column 2
//!
//! let mut dx = [[[9.0f32; 4]; 2]; 1];
//! pool::max_backward(&[[[10.0, 20.0]]], &at, &mut dx).unwrap();
//! assert_eq!(dx, [[[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]]]);
//! ```

use super::math::Real;
use core::fmt;

/// Pooling sizes that do not fit together, or an argmax outside its plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PoolError {
    /// A kernel side is zero.
    ZeroKernel {
        /// The kernel `[kh, kw]`.
        kernel: [usize; 2],
    },
    /// A stride is zero.
    ZeroStride {
        /// The stride `[sh, sw]`.
        stride: [usize; 2],
    },
    /// The kernel does not fit in the input.
    KernelLarger {
        /// The kernel `[kh, kw]`.
        kernel: [usize; 2],
        /// The input `[H, W]`.
        input: [usize; 2],
    },
    /// The output arrays are not `⌊(H - kh)/sh⌋ + 1` by `⌊(W - kw)/sw⌋ + 1`.
    OutputSize {
        /// The size the input, kernel and stride give, `[OH, OW]`.
        expected: [usize; 2],
        /// The output arrays' size.
        found: [usize; 2],
    },
    /// An input plane has more elements than a `u32` argmax can address.
    PlaneTooLarge {
        /// `H · W` (saturated at `usize::MAX`).
        plane: usize,
    },
    /// An argmax given to [`max_backward`] is not a position in the `H · W` plane.
    Argmax {
        /// The index found.
        index: u32,
        /// `H · W`.
        plane: usize,
    },
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PoolError::ZeroKernel { kernel: [kh, kw] } => {
                write!(f, "pooling kernel {kh}x{kw} has a zero side")
            }
            PoolError::ZeroStride { stride: [sh, sw] } => {
                write!(f, "pooling stride ({sh}, {sw}) has a zero step")
            }
            PoolError::KernelLarger {
                kernel: [kh, kw],
                input: [h, w],
            } => write!(f, "pooling kernel {kh}x{kw} is larger than input {h}x{w}"),
            PoolError::OutputSize {
                expected: [eh, ew],
                found: [oh, ow],
            } => write!(
                f,
                "pooling output is {oh}x{ow}, but the input, kernel and stride give {eh}x{ew}"
            ),
            PoolError::PlaneTooLarge { plane } => write!(
                f,
                "input plane of {plane} elements is too large for a u32 argmax"
            ),
            PoolError::Argmax { index, plane } => write!(
                f,
                "argmax {index} is outside the input plane of {plane} elements"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PoolError {}

/// Checks the sizes: non-zero kernel and stride, kernel within the input, output of the
/// `valid` size, and (for the argmax) an input plane `u32` can index.
#[inline]
fn check(
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    output: [usize; 2],
) -> Result<(), PoolError> {
    let ([h, w], [kh, kw], [sh, sw]) = (input, kernel, stride);
    if kh == 0 || kw == 0 {
        return Err(PoolError::ZeroKernel { kernel });
    }
    if sh == 0 || sw == 0 {
        return Err(PoolError::ZeroStride { stride });
    }
    if kh > h || kw > w {
        return Err(PoolError::KernelLarger { kernel, input });
    }
    let expected = [(h - kh) / sh + 1, (w - kw) / sw + 1];
    if expected != output {
        return Err(PoolError::OutputSize {
            expected,
            found: output,
        });
    }
    let plane = h.saturating_mul(w);
    if u32::try_from(plane).is_err() {
        return Err(PoolError::PlaneTooLarge { plane });
    }
    Ok(())
}

/// Max pooling: `y[c][oy][ox]` is the largest `x[c][oy·sh + i][ox·sw + j]` over the
/// `kh × kw` window, and `argmax[c][oy][ox]` its position **within the channel's `H × W`
/// plane**, row-major: `row · W + column`.
///
/// The window is scanned row-major with PyTorch's rule: start from `-∞` at the window's first
/// element and take an element when `val > max || val.is_nan()`. So ties go to the first
/// maximum, a NaN always wins (the last NaN of the window, if there are several) and makes the
/// output NaN, and a window of `-∞` reports its first element.
///
/// # Errors
/// [`PoolError`] for sizes that do not fit (see the [module documentation](self)); nothing is
/// written.
// Always inlined: the generated networks pass literal sizes, and the window loops then
// unroll and lose their bounds checks.
#[inline(always)]
pub fn max_forward<
    S: Real,
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
    argmax: &mut [[[u32; OW]; OH]; C],
) -> Result<(), PoolError> {
    check([H, W], kernel, stride, [OH, OW])?;
    if kernel == [2, 2] && stride == [2, 2] {
        for ((x, y), argmax) in x.iter().zip(y.iter_mut()).zip(argmax.iter_mut()) {
            max_2x2(x, y, argmax);
        }
        return Ok(());
    }
    let ([kh, kw], [sh, sw]) = (kernel, stride);
    for ((x, y), argmax) in x.iter().zip(y.iter_mut()).zip(argmax.iter_mut()) {
        for (oy, (y, argmax)) in y.iter_mut().zip(argmax.iter_mut()).enumerate() {
            let top = oy * sh;
            for (ox, (y, argmax)) in y.iter_mut().zip(argmax.iter_mut()).enumerate() {
                let left = ox * sw;
                let mut best = S::NEG_INFINITY;
                let mut at = top * W + left;
                for (i, row) in x[top..top + kh].iter().enumerate() {
                    for (j, &v) in row[left..left + kw].iter().enumerate() {
                        if v > best || v.is_nan() {
                            best = v;
                            at = (top + i) * W + left + j;
                        }
                    }
                }
                *y = best;
                // `check` made sure every position of the plane fits in a u32.
                *argmax = at as u32;
            }
        }
    }
    Ok(())
}

/// [`max_forward`] of one channel with a 2x2 kernel and stride 2 (sizes checked by the
/// caller): each window's four elements compared row-major without branches, by the same rule
/// (`v > best || v.is_nan()`; starting from the first element is starting from `-∞` there).
#[inline(always)]
fn max_2x2<S: Real, const H: usize, const W: usize, const OH: usize, const OW: usize>(
    x: &[[S; W]; H],
    y: &mut [[S; OW]; OH],
    argmax: &mut [[u32; OW]; OH],
) {
    // `check` made sure `2·OH ≤ H`, `2·OW ≤ W` and that every position fits in a u32.
    // One pass per window element over the output row, each an elementwise select that
    // vectorises.
    let rows = x.as_chunks::<2>().0;
    for (oy, ((pair, y), argmax)) in rows.iter().zip(y.iter_mut()).zip(argmax).enumerate() {
        let row = (2 * oy * W) as u32;
        let [top, bottom] = pair;
        let (top, bottom) = (top.as_chunks::<2>().0, bottom.as_chunks::<2>().0);
        for ((y, at), (ox, &[a, _])) in y
            .iter_mut()
            .zip(argmax.iter_mut())
            .zip(top.iter().enumerate())
        {
            *y = a;
            *at = row + 2 * ox as u32;
        }
        for (offset, (plane, column)) in [
            (1, (top, 1)),
            (W as u32, (bottom, 0)),
            (W as u32 + 1, (bottom, 1)),
        ] {
            for ((y, at), (ox, pair)) in y
                .iter_mut()
                .zip(argmax.iter_mut())
                .zip(plane.iter().enumerate())
            {
                let v = pair[column];
                let take = (v > *y) | v.is_nan();
                *y = if take { v } else { *y };
                *at = if take {
                    row + 2 * ox as u32 + offset
                } else {
                    *at
                };
            }
        }
    }
}

/// The gradient of [`max_forward`]: `dx` is zeroed, then each `delta[c][oy][ox]` is added to
/// `dx[c]` at the plane position `argmax[c][oy][ox]` (`row · W + column`). Where windows
/// overlap and share a maximum, the deltas accumulate there.
///
/// # Errors
/// [`PoolError::Argmax`] when an argmax is not below `H · W` and
/// [`PoolError::PlaneTooLarge`] when `H · W` exceeds what a `u32` addresses; every argmax is
/// checked before anything is written.
// Always inlined: the generated networks pass literal sizes, and the window loops then
// unroll and lose their bounds checks.
#[inline(always)]
pub fn max_backward<
    S: Real,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    delta: &[[[S; OW]; OH]; C],
    argmax: &[[[u32; OW]; OH]; C],
    dx: &mut [[[S; W]; H]; C],
) -> Result<(), PoolError> {
    let plane = H.saturating_mul(W);
    if u32::try_from(plane).is_err() {
        return Err(PoolError::PlaneTooLarge { plane });
    }
    if let Some(&index) = argmax
        .as_flattened()
        .as_flattened()
        .iter()
        .find(|&&i| i as usize >= plane)
    {
        return Err(PoolError::Argmax { index, plane });
    }
    for (dx, (delta, argmax)) in dx.iter_mut().zip(delta.iter().zip(argmax)) {
        let dx = dx.as_flattened_mut();
        dx.fill(S::ZERO);
        for (&d, &at) in delta.as_flattened().iter().zip(argmax.as_flattened()) {
            if let Some(slot) = dx.get_mut(at as usize) {
                *slot += d;
            }
        }
    }
    Ok(())
}

/// Average pooling: `y[c][oy][ox]` is the sum of the `kh × kw` window, added row-major, divided
/// by `kh · kw`.
///
/// # Errors
/// [`PoolError`] for sizes that do not fit (see the [module documentation](self)); nothing is
/// written.
// Always inlined: the generated networks pass literal sizes, and the window loops then
// unroll and lose their bounds checks.
#[inline(always)]
pub fn avg_forward<
    S: Real,
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
) -> Result<(), PoolError> {
    check([H, W], kernel, stride, [OH, OW])?;
    let ([kh, kw], [sh, sw]) = (kernel, stride);
    let n = S::from_usize(kh * kw);
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (oy, y) in y.iter_mut().enumerate() {
            let top = oy * sh;
            for (ox, y) in y.iter_mut().enumerate() {
                let left = ox * sw;
                let mut sum = S::ZERO;
                for row in &x[top..top + kh] {
                    for &v in &row[left..left + kw] {
                        sum += v;
                    }
                }
                *y = sum / n;
            }
        }
    }
    Ok(())
}

/// The gradient of [`avg_forward`]: `dx` is zeroed, then each `delta[c][oy][ox] / (kh · kw)`
/// is added to every element of its window (overlapping windows accumulate).
///
/// # Errors
/// [`PoolError`] for sizes that do not fit (see the [module documentation](self)); nothing is
/// written.
// Always inlined: the generated networks pass literal sizes, and the window loops then
// unroll and lose their bounds checks.
#[inline(always)]
pub fn avg_backward<
    S: Real,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    delta: &[[[S; OW]; OH]; C],
    kernel: [usize; 2],
    stride: [usize; 2],
    dx: &mut [[[S; W]; H]; C],
) -> Result<(), PoolError> {
    check([H, W], kernel, stride, [OH, OW])?;
    let ([kh, kw], [sh, sw]) = (kernel, stride);
    let n = S::from_usize(kh * kw);
    for (dx, delta) in dx.iter_mut().zip(delta) {
        dx.as_flattened_mut().fill(S::ZERO);
        for (oy, delta) in delta.iter().enumerate() {
            let top = oy * sh;
            for (ox, &d) in delta.iter().enumerate() {
                let left = ox * sw;
                let g = d / n;
                for row in &mut dx[top..top + kh] {
                    for v in &mut row[left..left + kw] {
                        *v += g;
                    }
                }
            }
        }
    }
    Ok(())
}
