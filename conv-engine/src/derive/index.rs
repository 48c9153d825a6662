//! Typed element indices and their row-major positions in the flat arrays.
//!
//! Flat layouts: `x[c][p][q]`, `k[o][c][a][b]`, `b[o]`, `u[o][i][j]` (and `delta` like `u`).

use crate::Geometry;

/// An element of `x` (`c`: input channel), or of `u`/`delta` (`c`: output channel), or of `dL/dx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pixel {
    /// Channel.
    pub c: usize,
    /// Row.
    pub row: usize,
    /// Column.
    pub col: usize,
}

/// An element of the kernel `k[o][c][a][b]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tap {
    /// Output channel.
    pub o: usize,
    /// Input channel.
    pub c: usize,
    /// Kernel row.
    pub row: usize,
    /// Kernel column.
    pub col: usize,
}

/// Conversions between typed indices and flat positions for one geometry.
pub(crate) trait Indexing {
    fn x_flat(&self, x: Pixel) -> usize;
    fn x_at(&self, flat: usize) -> Pixel;
    fn u_flat(&self, u: Pixel) -> usize;
    fn u_at(&self, flat: usize) -> Pixel;
    fn k_flat(&self, k: Tap) -> usize;
    fn k_at(&self, flat: usize) -> Tap;
}

impl Indexing for Geometry {
    fn x_flat(&self, x: Pixel) -> usize {
        let [h, w] = self.input();
        (x.c * h + x.row) * w + x.col
    }
    fn x_at(&self, flat: usize) -> Pixel {
        let [h, w] = self.input();
        Pixel {
            c: flat / (h * w),
            row: flat / w % h,
            col: flat % w,
        }
    }
    fn u_flat(&self, u: Pixel) -> usize {
        let [oh, ow] = self.output();
        (u.c * oh + u.row) * ow + u.col
    }
    fn u_at(&self, flat: usize) -> Pixel {
        let [oh, ow] = self.output();
        Pixel {
            c: flat / (oh * ow),
            row: flat / ow % oh,
            col: flat % ow,
        }
    }
    fn k_flat(&self, k: Tap) -> usize {
        let [kh, kw] = self.kernel();
        ((k.o * self.in_channels() + k.c) * kh + k.row) * kw + k.col
    }
    fn k_at(&self, flat: usize) -> Tap {
        let [kh, kw] = self.kernel();
        let plane = flat / (kh * kw);
        Tap {
            o: plane / self.in_channels(),
            c: plane % self.in_channels(),
            row: flat / kw % kh,
            col: flat % kw,
        }
    }
}
