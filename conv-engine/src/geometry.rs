//! The shape of a convolution layer: sizes, stride, dilation, padding and channels.
//!
//! [`GeometrySpec`] is what a user asks for; [`GeometrySpec::resolve`] validates it and computes
//! the output size and the padding actually used (TensorFlow's rule for `same`), giving a
//! [`Geometry`]. Everything here is `const fn` and allocation-free, so the macro, the run-time
//! formulation, the compile-time proof and the CLI share one definition.

use core::fmt;

/// How the input is padded before the kernel slides over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// No padding: only windows that lie inside the input (TensorFlow's `VALID`).
    Valid,
    /// TensorFlow's `SAME`: `OH = ceil(H / SH)`; an odd total puts the extra row at the bottom
    /// and the extra column at the right.
    Same,
    /// Explicit zero rows and columns: `top, bottom, left, right`.
    Explicit {
        /// Zero rows above the input.
        top: usize,
        /// Zero rows below the input.
        bottom: usize,
        /// Zero columns left of the input.
        left: usize,
        /// Zero columns right of the input.
        right: usize,
    },
}

/// A requested layer shape, before validation. Sizes are `[rows, columns]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GeometrySpec {
    /// Input size `[H, W]`.
    pub input: [usize; 2],
    /// Kernel size `[KH, KW]`.
    pub kernel: [usize; 2],
    /// Stride `[SH, SW]`.
    pub stride: [usize; 2],
    /// Dilation `[DH, DW]`.
    pub dilation: [usize; 2],
    /// Padding rule.
    pub padding: Padding,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
}

impl GeometrySpec {
    /// The textbook layer: stride 1, no dilation, `VALID`, one channel in and out.
    pub const fn new(input: [usize; 2], kernel: [usize; 2]) -> Self {
        Self {
            input,
            kernel,
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Valid,
            in_channels: 1,
            out_channels: 1,
        }
    }

    /// Validates the request and computes output size and padding.
    pub const fn resolve(self) -> Result<Geometry, GeometryError> {
        let checks: [(usize, Field); 10] = [
            (self.input[0], Field::InputRows),
            (self.input[1], Field::InputCols),
            (self.kernel[0], Field::KernelRows),
            (self.kernel[1], Field::KernelCols),
            (self.stride[0], Field::StrideRows),
            (self.stride[1], Field::StrideCols),
            (self.dilation[0], Field::DilationRows),
            (self.dilation[1], Field::DilationCols),
            (self.in_channels, Field::InChannels),
            (self.out_channels, Field::OutChannels),
        ];
        let mut i = 0;
        while i < checks.len() {
            if checks[i].0 == 0 {
                return Err(GeometryError::Zero(checks[i].1));
            }
            i += 1;
        }
        let rows = match resolve_axis(self, 0) {
            Ok(r) => r,
            Err(e) => return Err(e),
        };
        let cols = match resolve_axis(self, 1) {
            Ok(c) => c,
            Err(e) => return Err(e),
        };
        let geometry = Geometry {
            spec: self,
            pads: [rows.0, rows.1, cols.0, cols.1],
            output: [rows.2, cols.2],
        };
        // Every length and the multiply-add count must fit in usize, so the getters below
        // cannot overflow.
        let ([h, w], [kh, kw], [oh, ow]) = (self.input, self.kernel, geometry.output);
        let (ci, co) = (self.in_channels, self.out_channels);
        if product(&[ci, h, w]).is_none()
            || product(&[co, ci, kh, kw]).is_none()
            || product(&[co, oh, ow, ci, kh, kw]).is_none()
        {
            return Err(GeometryError::TooLarge);
        }
        Ok(geometry)
    }
}

/// The product of `factors`, or `None` when it overflows.
const fn product(factors: &[usize]) -> Option<usize> {
    let mut acc: usize = 1;
    let mut i = 0;
    while i < factors.len() {
        acc = match acc.checked_mul(factors[i]) {
            Some(v) => v,
            None => return None,
        };
        i += 1;
    }
    Some(acc)
}

/// `(before, after, output)` of one axis, or the reason it has no output.
const fn resolve_axis(
    spec: GeometrySpec,
    axis: usize,
) -> Result<(usize, usize, usize), GeometryError> {
    let n = spec.input[axis];
    let s = spec.stride[axis];
    // (K - 1) * D + 1, which can overflow for absurd requests.
    let effective = match (spec.kernel[axis] - 1).checked_mul(spec.dilation[axis]) {
        Some(v) if v < usize::MAX => v + 1,
        _ => return Err(GeometryError::TooLarge),
    };
    let (before, after) = match spec.padding {
        Padding::Valid => (0, 0),
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => {
            if axis == 0 {
                (top, bottom)
            } else {
                (left, right)
            }
        }
        Padding::Same => {
            let out = n.div_ceil(s);
            let needed = match (out - 1).checked_mul(s) {
                Some(v) => match v.checked_add(effective) {
                    Some(v) => v,
                    None => return Err(GeometryError::TooLarge),
                },
                None => return Err(GeometryError::TooLarge),
            };
            let total = needed.saturating_sub(n);
            (total / 2, total - total / 2)
        }
    };
    let padded = match n.checked_add(before) {
        Some(v) => match v.checked_add(after) {
            Some(v) => v,
            None => return Err(GeometryError::TooLarge),
        },
        None => return Err(GeometryError::TooLarge),
    };
    if effective > padded {
        return Err(GeometryError::KernelTooLarge { axis: axis as u8 });
    }
    Ok((before, after, (padded - effective) / s + 1))
}

/// A validated layer shape with its output size and the padding used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    spec: GeometrySpec,
    pads: [usize; 4],
    output: [usize; 2],
}

impl Geometry {
    /// The layer that computes one output row: the `(KH-1)*DH + 1` rows of the zero-padded
    /// input that output row `i` reads (from row `i*SH`), at the padded width, with the same
    /// kernel, stride, dilation and channels, no padding, and one output row of the same width.
    pub const fn row_window(&self) -> Geometry {
        let s = self.spec;
        let [_, width] = self.padded_input();
        Geometry {
            spec: GeometrySpec {
                input: [(s.kernel[0] - 1) * s.dilation[0] + 1, width],
                padding: Padding::Explicit {
                    top: 0,
                    bottom: 0,
                    left: 0,
                    right: 0,
                },
                ..s
            },
            pads: [0; 4],
            output: [1, self.output[1]],
        }
    }
    /// Padded input size `[H + top + bottom, W + left + right]`.
    pub const fn padded_input(&self) -> [usize; 2] {
        let ([h, w], [t, b, l, r]) = (self.spec.input, self.pads);
        [h + t + b, w + l + r]
    }
    /// The request this geometry was resolved from.
    pub const fn spec(&self) -> GeometrySpec {
        self.spec
    }
    /// Input size `[H, W]`.
    pub const fn input(&self) -> [usize; 2] {
        self.spec.input
    }
    /// Kernel size `[KH, KW]`.
    pub const fn kernel(&self) -> [usize; 2] {
        self.spec.kernel
    }
    /// Stride `[SH, SW]`.
    pub const fn stride(&self) -> [usize; 2] {
        self.spec.stride
    }
    /// Dilation `[DH, DW]`.
    pub const fn dilation(&self) -> [usize; 2] {
        self.spec.dilation
    }
    /// Padding used: `[top, bottom, left, right]`.
    pub const fn pads(&self) -> [usize; 4] {
        self.pads
    }
    /// Output size `[OH, OW]`.
    pub const fn output(&self) -> [usize; 2] {
        self.output
    }
    /// Input channels.
    pub const fn in_channels(&self) -> usize {
        self.spec.in_channels
    }
    /// Output channels.
    pub const fn out_channels(&self) -> usize {
        self.spec.out_channels
    }
    /// Elements of `x`: `C_in * H * W`.
    pub const fn input_len(&self) -> usize {
        self.spec.in_channels * self.spec.input[0] * self.spec.input[1]
    }
    /// Elements of `k`: `C_out * C_in * KH * KW`.
    pub const fn kernel_len(&self) -> usize {
        self.spec.out_channels * self.spec.in_channels * self.spec.kernel[0] * self.spec.kernel[1]
    }
    /// Elements of `b`: `C_out`.
    pub const fn bias_len(&self) -> usize {
        self.spec.out_channels
    }
    /// Elements of `u` (and `delta`): `C_out * OH * OW`.
    pub const fn output_len(&self) -> usize {
        self.spec.out_channels * self.output[0] * self.output[1]
    }
    /// Multiply-adds of one forward pass (padding zeros included): `C_out * OH * OW * C_in * KH * KW`.
    pub const fn macs(&self) -> usize {
        self.output_len() * self.spec.in_channels * self.spec.kernel[0] * self.spec.kernel[1]
    }
    /// Nonzero products of one forward pass: the [`Geometry::macs`] whose input element is not a
    /// padding zero. It is also the number of terms of `dL/dx` and of `dL/dk`.
    pub const fn nonzero_terms(&self) -> usize {
        // Rows and columns are independent, so the count factors into (row pairs) x (column pairs).
        self.in_range_pairs(0)
            * self.in_range_pairs(1)
            * self.spec.in_channels
            * self.spec.out_channels
    }

    /// Pairs (output index, kernel tap) along `axis` whose input index lies inside the input.
    const fn in_range_pairs(&self, axis: usize) -> usize {
        let mut count = 0;
        let mut i = 0;
        while i < self.output[axis] {
            let mut a = 0;
            while a < self.spec.kernel[axis] {
                if self.axis_index(axis, i, a).is_some() {
                    count += 1;
                }
                a += 1;
            }
            i += 1;
        }
        count
    }

    /// The input index along `axis` read by output index `i` at tap `a`, if not in the padding.
    pub const fn axis_index(&self, axis: usize, i: usize, a: usize) -> Option<usize> {
        let r = i * self.spec.stride[axis] + a * self.spec.dilation[axis];
        let before = self.pads[axis * 2];
        if r < before || r - before >= self.spec.input[axis] {
            return None;
        }
        Some(r - before)
    }

    /// The input row and column read by output `(i, j)` at kernel tap `(a, b)`, or `None` when it
    /// falls in the padding: `(i*SH + a*DH - top, j*SW + b*DW - left)`.
    pub const fn tap(&self, i: usize, j: usize, a: usize, b: usize) -> Option<(usize, usize)> {
        match (self.axis_index(0, i, a), self.axis_index(1, j, b)) {
            (Some(p), Some(q)) => Some((p, q)),
            _ => None,
        }
    }
}

/// Which number of a [`GeometrySpec`] a problem concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// `input` rows.
    InputRows,
    /// `input` columns.
    InputCols,
    /// `kernel` rows.
    KernelRows,
    /// `kernel` columns.
    KernelCols,
    /// `stride` rows.
    StrideRows,
    /// `stride` columns.
    StrideCols,
    /// `dilation` rows.
    DilationRows,
    /// `dilation` columns.
    DilationCols,
    /// `in_channels`.
    InChannels,
    /// `out_channels`.
    OutChannels,
}

impl Field {
    /// The attribute key and, for pairs, which half: `("input", Some("rows"))`.
    pub const fn describe(self) -> (&'static str, Option<&'static str>) {
        match self {
            Field::InputRows => ("input", Some("rows")),
            Field::InputCols => ("input", Some("columns")),
            Field::KernelRows => ("kernel", Some("rows")),
            Field::KernelCols => ("kernel", Some("columns")),
            Field::StrideRows => ("stride", Some("rows")),
            Field::StrideCols => ("stride", Some("columns")),
            Field::DilationRows => ("dilation", Some("rows")),
            Field::DilationCols => ("dilation", Some("columns")),
            Field::InChannels => ("in_channels", None),
            Field::OutChannels => ("out_channels", None),
        }
    }
}

/// Why a [`GeometrySpec`] does not describe a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GeometryError {
    /// A size, stride, dilation or channel count is zero.
    Zero(Field),
    /// The (dilated) kernel does not fit the (padded) input along `axis` (0 rows, 1 columns).
    KernelTooLarge {
        /// 0 for rows, 1 for columns.
        axis: u8,
    },
    /// A size overflows `usize`.
    TooLarge,
}

impl GeometryError {
    /// Stops constant evaluation with the error's message (for generated constants).
    pub const fn panic(self) -> ! {
        match self {
            GeometryError::Zero(_) => panic!("conv2d geometry: a size is zero"),
            GeometryError::KernelTooLarge { .. } => {
                panic!("conv2d geometry: the kernel is larger than the padded input")
            }
            GeometryError::TooLarge => panic!("conv2d geometry: a size overflows usize"),
        }
    }
}

impl fmt::Display for GeometryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeometryError::Zero(field) => match field.describe() {
                (key, Some(half)) => write!(f, "`{key}` {half} must be at least 1, found 0"),
                (key, None) => write!(f, "`{key}` must be at least 1, found 0"),
            },
            GeometryError::KernelTooLarge { axis } => {
                let what = if *axis == 0 { "rows" } else { "columns" };
                write!(
                    f,
                    "the kernel's {what} (dilated) are more than the input's {what} (padded)"
                )
            }
            GeometryError::TooLarge => write!(f, "a size overflows usize"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GeometryError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_is_three_by_three() {
        let g = GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap();
        assert_eq!(g.output(), [3, 3]);
        assert_eq!(g.pads(), [0, 0, 0, 0]);
    }

    #[test]
    fn same_puts_the_odd_row_at_the_bottom() {
        // H = 6, K = 2, S = 1: total = 1, top 0, bottom 1 (TensorFlow).
        let mut s = GeometrySpec::new([6, 5], [2, 4]);
        s.padding = Padding::Same;
        let g = s.resolve().unwrap();
        assert_eq!(g.output(), [6, 5]);
        assert_eq!(g.pads(), [0, 1, 1, 2]);
    }

    #[test]
    fn rejects_zero_and_oversized_kernels() {
        assert_eq!(
            GeometrySpec::new([0, 5], [3, 3]).resolve(),
            Err(GeometryError::Zero(Field::InputRows))
        );
        assert_eq!(
            GeometrySpec::new([5, 5], [3, 7]).resolve(),
            Err(GeometryError::KernelTooLarge { axis: 1 })
        );
    }

    #[test]
    fn absurd_sizes_are_errors_not_overflows() {
        let mut s = GeometrySpec::new([5, 5], [3, 3]);
        s.dilation = [usize::MAX, 1];
        assert_eq!(s.resolve(), Err(GeometryError::TooLarge));
        let mut s = GeometrySpec::new([usize::MAX, 2], [1, 1]);
        s.padding = Padding::Same;
        s.stride = [2, 1];
        assert_eq!(s.resolve(), Err(GeometryError::TooLarge));
        let mut s = GeometrySpec::new([1 << 40, 1 << 40], [1, 1]);
        s.in_channels = 1 << 20;
        assert_eq!(s.resolve(), Err(GeometryError::TooLarge));
    }

    #[test]
    fn tap_skips_padding() {
        let mut s = GeometrySpec::new([3, 3], [3, 3]);
        s.padding = Padding::Explicit {
            top: 1,
            bottom: 1,
            left: 1,
            right: 1,
        };
        let g = s.resolve().unwrap();
        assert_eq!(g.tap(0, 0, 0, 0), None);
        assert_eq!(g.tap(0, 0, 1, 1), Some((0, 0)));
    }
}
