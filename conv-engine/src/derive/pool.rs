//! Max and average pooling over a channel-first input `C x H x W`: the windows, the Jacobian
//! `du/dx`, and the chain rule.
//!
//! With kernel `[KH, KW]` and stride `[SH, SW]`, without padding (as PyTorch's `MaxPool2d` and
//! `AvgPool2d` with `padding = 0`, and TensorFlow's `padding = "VALID"`), the output is
//! `C x OH x OW` with `OH = floor((H - KH) / SH) + 1` and `OW = floor((W - KW) / SW) + 1`. The
//! window of `u[c][i][j]` is `x[c][i*SH + a][j*SW + b]` for `a < KH`, `b < KW`, in row-major
//! order (`a`, then `b`); rows and columns that no window reaches (when the stride leaves a
//! remainder) get a zero gradient.
//!
//! - Average: `u = (x_1 + ... + x_n) / n` with `n = KH*KW`, the window summed in row-major
//!   order; `du[c][i][j]/dx[c][p][q] = 1/n` on the window, 0 elsewhere.
//! - Max: `u` is the window's maximum; `du/dx = 1` at the *first* maximum of the window in
//!   row-major order (ties go to the first, as PyTorch), 0 elsewhere. A NaN counts as the
//!   maximum, so it propagates: PyTorch's scan takes each element that is larger than the
//!   best so far or NaN, so the last NaN of the window is the argmax.
//!
//! Chain rule with `delta = dL/du`: `dL/dx[c][p][q]` sums, over the outputs whose window holds
//! `(p, q)` (its *readers*, ascending), `delta * (1/n)` (average) or `delta` where `(p, q)` is
//! the window's argmax (max). Summation order, which [`Pool::backward`] follows: readers in
//! ascending flat output order, left to right from the first term; an input with no term is
//! `0.0`.
//!
//! Flat positions are row-major, channel first, as [`Pixel`] (`(c*H + p)*W + q`).

use super::error::{check_len, volume, LayerError};
use super::Pixel;

/// Which pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolKind {
    /// The window's maximum.
    Max,
    /// The window's mean.
    Average,
}

impl PoolKind {
    /// `max` or `average`.
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::Max => "max",
            PoolKind::Average => "average",
        }
    }
}

/// The value of a nonzero entry of `du/dx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolWeight {
    /// `1 / count`: average pooling, `count = KH*KW`.
    Average {
        /// The window's size.
        count: usize,
    },
    /// `[x = max window]`: 1 when the input is the window's first maximum, else 0.
    Argmax,
}

/// One structural entry of the Jacobian `du/dx` (a pair where the input is in the output's
/// window).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolEntry {
    /// The input element differentiated by.
    pub x: Pixel,
    /// The output element differentiated.
    pub u: Pixel,
    /// What the derivative equals.
    pub weight: PoolWeight,
}

/// A validated pooling layer. See the [module docs](self) for the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool {
    kind: PoolKind,
    input: [usize; 3],
    kernel: [usize; 2],
    stride: [usize; 2],
    output: [usize; 3],
}

/// The concrete values of a pooling layer's forward and backward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolEvaluation {
    /// The output `u`, flat.
    pub u: Vec<f64>,
    /// For each output, the flat input position of its window's first maximum (computed for
    /// both kinds; only max pooling's gradient reads it).
    pub argmax: Vec<usize>,
    /// `dL/dx`, flat.
    pub dx: Vec<f64>,
}

impl Pool {
    /// Validates the layer: every size, kernel and stride at least 1, the kernel no larger than
    /// the input, no size overflowing `usize`.
    ///
    /// ```
    /// use conv_engine::derive::pool::{Pool, PoolKind};
    /// let p = Pool::new(PoolKind::Max, [1, 5, 5], [2, 2], [2, 2]).unwrap();
    /// assert_eq!(p.output(), [1, 2, 2]); // floor((5 - 2) / 2) + 1
    /// assert!(Pool::new(PoolKind::Max, [1, 2, 2], [3, 3], [1, 1]).is_err());
    /// ```
    pub fn new(
        kind: PoolKind,
        input: [usize; 3],
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> Result<Self, LayerError> {
        let [c, h, w] = input;
        volume(&input, &["input channels", "input rows", "input columns"])?;
        volume(&kernel, &["kernel rows", "kernel columns"])?;
        volume(&stride, &["stride rows", "stride columns"])?;
        if kernel[0] > h || kernel[1] > w {
            return Err(LayerError::KernelTooLarge {
                kernel,
                input: [h, w],
            });
        }
        let output = [
            c,
            (h - kernel[0]) / stride[0] + 1,
            (w - kernel[1]) / stride[1] + 1,
        ];
        Ok(Self {
            kind,
            input,
            kernel,
            stride,
            output,
        })
    }

    /// Max or average.
    pub fn kind(&self) -> PoolKind {
        self.kind
    }
    /// `[C, H, W]`.
    pub fn input(&self) -> [usize; 3] {
        self.input
    }
    /// `[KH, KW]`.
    pub fn kernel(&self) -> [usize; 2] {
        self.kernel
    }
    /// `[SH, SW]`.
    pub fn stride(&self) -> [usize; 2] {
        self.stride
    }
    /// `[C, OH, OW]`.
    pub fn output(&self) -> [usize; 3] {
        self.output
    }
    /// `C*H*W`.
    pub fn input_len(&self) -> usize {
        self.input.iter().product()
    }
    /// `C*OH*OW`.
    pub fn output_len(&self) -> usize {
        self.output.iter().product()
    }
    /// `KH*KW`, the number of inputs each output reads.
    pub fn window_len(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }
    /// What every nonzero entry of `du/dx` equals.
    pub fn weight(&self) -> PoolWeight {
        match self.kind {
            PoolKind::Max => PoolWeight::Argmax,
            PoolKind::Average => PoolWeight::Average {
                count: self.window_len(),
            },
        }
    }

    /// The index of flat input position `flat`.
    pub fn x_at(&self, flat: usize) -> Pixel {
        unflat(self.input, flat)
    }
    /// The flat position of input element `x`.
    pub fn x_flat(&self, x: Pixel) -> usize {
        let [_, h, w] = self.input;
        (x.c * h + x.row) * w + x.col
    }
    /// The index of flat output position `flat`.
    pub fn u_at(&self, flat: usize) -> Pixel {
        unflat(self.output, flat)
    }
    /// The flat position of output element `u`.
    pub fn u_flat(&self, u: Pixel) -> usize {
        let [_, oh, ow] = self.output;
        (u.c * oh + u.row) * ow + u.col
    }

    /// The window of flat output `u`: the flat input positions it reads, in row-major order.
    pub fn window(&self, u: usize) -> impl Iterator<Item = usize> + '_ {
        let p = self.u_at(u);
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        (0..kh).flat_map(move |a| {
            (0..kw).map(move |b| {
                self.x_flat(Pixel {
                    c: p.c,
                    row: p.row * sh + a,
                    col: p.col * sw + b,
                })
            })
        })
    }

    /// The readers of flat input `x`: the flat outputs whose window holds it, ascending.
    pub fn readers(&self, x: usize) -> impl Iterator<Item = usize> + '_ {
        let p = self.x_at(x);
        let rows = covering(p.row, self.kernel[0], self.stride[0], self.output[1]);
        let cols = covering(p.col, self.kernel[1], self.stride[1], self.output[2]);
        rows.flat_map(move |i| {
            cols.clone().map(move |j| {
                self.u_flat(Pixel {
                    c: p.c,
                    row: i,
                    col: j,
                })
            })
        })
    }

    /// The structural entries of `du/dx` (input in the output's window), ordered by input then
    /// output: the rows of the textbook table, left to right.
    pub fn jacobian(&self) -> Vec<PoolEntry> {
        let weight = self.weight();
        (0..self.input_len())
            .flat_map(|x| {
                self.readers(x).map(move |u| PoolEntry {
                    x: self.x_at(x),
                    u: self.u_at(u),
                    weight,
                })
            })
            .collect()
    }

    /// `du[u]/dx[x]` (flat positions): the weight when `x` is in `u`'s window, `None` for a
    /// structural zero.
    pub fn du_dx(&self, u: usize, x: usize) -> Option<PoolWeight> {
        self.window(u).any(|w| w == x).then(|| self.weight())
    }

    /// The forward pass on concrete values: each window's maximum or mean.
    pub fn forward(&self, x: &[f64]) -> Result<Vec<f64>, LayerError> {
        check_len("x", x, self.input_len())?;
        Ok((0..self.output_len())
            .map(|u| match self.kind {
                PoolKind::Max => x[self.max_at(x, u)],
                PoolKind::Average => {
                    let sum = self.window(u).map(|p| x[p]).reduce(|a, b| a + b);
                    sum.unwrap_or(0.0) / self.window_len() as f64
                }
            })
            .collect())
    }

    /// For each output, the flat input position of its window's first maximum in row-major
    /// order (a NaN counts as the maximum: the window's last NaN, by PyTorch's scan).
    pub fn argmax(&self, x: &[f64]) -> Result<Vec<usize>, LayerError> {
        check_len("x", x, self.input_len())?;
        Ok((0..self.output_len()).map(|u| self.max_at(x, u)).collect())
    }

    /// PyTorch's scan of window `u` in row-major order: from its first element, each element
    /// larger than the best so far, or NaN, is taken.
    fn max_at(&self, x: &[f64], u: usize) -> usize {
        let mut window = self.window(u);
        let first = window.next().unwrap_or(0);
        window.fold(first, |best, p| {
            let (v, b) = (x[p], x[best]);
            if v > b || v.is_nan() {
                p
            } else {
                best
            }
        })
    }

    /// `dL/dx` from the input `x` (max pooling reads its argmax) and `delta = dL/du`, through
    /// the readers table in the documented summation order.
    pub fn backward(&self, x: &[f64], delta: &[f64]) -> Result<Vec<f64>, LayerError> {
        check_len("delta", delta, self.output_len())?;
        let argmax = self.argmax(x)?;
        let w = 1.0 / self.window_len() as f64;
        Ok((0..self.input_len())
            .map(|p| {
                let terms = self.readers(p).filter_map(|u| match self.kind {
                    PoolKind::Average => Some(delta[u] * w),
                    PoolKind::Max => (argmax[u] == p).then_some(delta[u]),
                });
                terms.reduce(|a, b| a + b).unwrap_or(0.0)
            })
            .collect())
    }

    /// Forward, argmax and backward together.
    pub fn evaluate(&self, x: &[f64], delta: &[f64]) -> Result<PoolEvaluation, LayerError> {
        Ok(PoolEvaluation {
            u: self.forward(x)?,
            argmax: self.argmax(x)?,
            dx: self.backward(x, delta)?,
        })
    }
}

/// The output indices `i < n` whose window `[i*s, i*s + k)` holds `p`, ascending.
fn covering(p: usize, k: usize, s: usize, n: usize) -> std::ops::Range<usize> {
    let first = (p + 1).saturating_sub(k).div_ceil(s);
    let last = (p / s + 1).min(n);
    first..last.max(first)
}

fn unflat([_, h, w]: [usize; 3], flat: usize) -> Pixel {
    Pixel {
        c: flat / (h * w),
        row: flat / w % h,
        col: flat % w,
    }
}
