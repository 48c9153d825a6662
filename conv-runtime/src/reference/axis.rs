//! One axis (rows or columns) of the [formulation](super): the windows of the padded input,
//! the outputs each tap reaches, and (in tests) the virtual padded, dilated and rotated arrays
//! of the module docs.

use crate::Geometry;

/// One axis (rows or columns) of a layer, with the numbers the virtual arrays need, read from
/// the [`Geometry`] once (constant evaluation pays for every call).
#[derive(Clone, Copy)]
pub(super) struct Axis {
    /// `H` (or `W`).
    pub(super) input: usize,
    /// `S`.
    pub(super) stride: usize,
    /// `D`.
    pub(super) dilation: usize,
    /// Padding before: `top` (or `left`).
    pub(super) before: usize,
    /// `OH` (or `OW`).
    pub(super) output: usize,
    /// `EK = (K - 1) * D + 1`, the extent of the dilated kernel.
    pub(super) extent: usize,
}

impl Axis {
    /// Taps `[lo, hi)` of output index `i` that read inside the input: the `a` with
    /// `0 <= i*S + a*D - before < input`. Loops use it once per row instead of asking
    /// [`Axis::padded_input`] per element (constant evaluation pays for every call).
    pub(super) const fn window(self, i: usize) -> (usize, usize) {
        range(
            i * self.stride,
            self.dilation,
            self.before,
            self.input,
            self.extent_taps(),
        )
    }

    /// Outputs `[lo, hi)` whose tap `a` reads inside the input: the `i` with
    /// `0 <= i*S + a*D - before < input`.
    pub(super) const fn reach(self, a: usize) -> (usize, usize) {
        range(
            a * self.dilation,
            self.stride,
            self.before,
            self.input,
            self.output,
        )
    }

    /// Number of kernel taps along this axis.
    const fn extent_taps(self) -> usize {
        (self.extent - 1) / self.dilation + 1
    }

    /// Axis 0 (rows) or 1 (columns) of `g`.
    pub(super) const fn of(g: &Geometry, axis: usize) -> Self {
        Axis {
            input: g.input()[axis],
            stride: g.stride()[axis],
            dilation: g.dilation()[axis],
            before: g.pads()[2 * axis],
            output: g.output()[axis],
            extent: (g.kernel()[axis] - 1) * g.dilation()[axis] + 1,
        }
    }

    #[cfg(test)]
    /// The index of `x` at position `y` of the virtual padded input, or `None` in the padding
    /// (`before` zeros first, then the input, then zeros).
    const fn padded_input(self, y: usize) -> Option<usize> {
        if y < self.before || y - self.before >= self.input {
            return None;
        }
        Some(y - self.before)
    }

    #[cfg(test)]
    /// The index of `delta` at position `y` of the virtual `pad(dilate_S(delta), EK - 1)`, or
    /// `None` where it holds a zero: one of the `EK - 1` zeros of padding on either side, or
    /// one of the `S - 1` zeros inserted between entries.
    const fn padded_dilated_delta(self, y: usize) -> Option<usize> {
        if y + 1 < self.extent {
            return None;
        }
        let dilated = y + 1 - self.extent;
        if !dilated.is_multiple_of(self.stride) || dilated / self.stride >= self.output {
            return None;
        }
        Some(dilated / self.stride)
    }

    #[cfg(test)]
    /// The kernel tap at position `r` of the virtual `rot180(dilate_D(k))`, or `None` where it
    /// holds one of the `D - 1` zeros inserted between taps.
    const fn rotated_dilated_kernel(self, r: usize) -> Option<usize> {
        if r >= self.extent || !(self.extent - 1 - r).is_multiple_of(self.dilation) {
            return None;
        }
        Some((self.extent - 1 - r) / self.dilation)
    }
}

/// `[lo, hi)` of the `t < count` with `0 <= base + t*step - before < input`.
const fn range(
    base: usize,
    step: usize,
    before: usize,
    input: usize,
    count: usize,
) -> (usize, usize) {
    // base + t*step >= before
    let lo = if base >= before {
        0
    } else {
        (before - base).div_ceil(step)
    };
    // base + t*step <= before + input - 1
    let hi = if base > before + input - 1 {
        0
    } else {
        (before + input - 1 - base) / step + 1
    };
    let hi = if hi < count { hi } else { count };
    if lo < hi {
        (lo, hi)
    } else {
        (0, 0)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::Axis;
    use crate::GeometrySpec;
    use std::vec::Vec;

    #[test]
    fn virtual_arrays_of_the_picture() {
        // Rows: H = 5, OH = 2, stride 2, a 2-tap kernel with dilation 2 (EK = 3), no padding.
        let mut spec = GeometrySpec::new([5, 1], [2, 1]);
        (spec.stride, spec.dilation) = ([2, 1], [2, 1]);
        let g = spec.resolve().unwrap();
        assert_eq!(g.output(), [2, 1]);
        let rows = Axis::of(&g, 0);
        let p: Vec<_> = (0..7).map(|y| rows.padded_dilated_delta(y)).collect();
        assert_eq!(p, [None, None, Some(0), None, Some(1), None, None]);
        let r: Vec<_> = (0..4).map(|r| rows.rotated_dilated_kernel(r)).collect();
        assert_eq!(r, [Some(1), None, Some(0), None]);
        let x: Vec<_> = (0..6).map(|y| rows.padded_input(y)).collect();
        assert_eq!(x, [Some(0), Some(1), Some(2), Some(3), Some(4), None]);
    }

    #[test]
    fn padding_shifts_the_padded_input() {
        let mut spec = GeometrySpec::new([2, 3], [2, 2]);
        spec.padding = crate::Padding::Explicit {
            top: 1,
            bottom: 0,
            left: 2,
            right: 1,
        };
        let g = spec.resolve().unwrap();
        let (rows, cols) = (Axis::of(&g, 0), Axis::of(&g, 1));
        let r: Vec<_> = (0..4).map(|y| rows.padded_input(y)).collect();
        assert_eq!(r, [None, Some(0), Some(1), None]);
        let c: Vec<_> = (0..7).map(|z| cols.padded_input(z)).collect();
        assert_eq!(c, [None, None, Some(0), Some(1), Some(2), None, None]);
    }
}
