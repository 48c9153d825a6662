//! The classic matrix form of the gradients, built symbolically and independently of the chain
//! rule:
//!
//! - `dL/dx = crop( pad(dilate_S(delta)) ⋆ rot180(dilate_D(k)) )`: insert `S-1` zeros between the
//!   entries of `delta`, pad it with `EK-1` zeros on each side (`EK = (K-1)*D + 1`, the dilated
//!   kernel's extent), correlate with the dilated kernel rotated 180 degrees (summing over output
//!   channels), and crop the result, which covers the padded input, to the input.
//! - `dL/dk = pad(x) ⋆ dilate_S(delta)`, taps taken `D` apart.
//! - `dL/db[o] = sum delta[o]`.
//!
//! Each grid cell holds a symbol (a flat element position) or a zero; a product is kept only when
//! both factors are symbols.

use super::super::derive::{Indexing, Pixel, Product, Tap};
use crate::Geometry;

/// `dilate_S(delta)` padded by `EK-1` per side, at `(row, col)` of output channel `o`.
pub(crate) fn padded_delta(g: &Geometry, o: usize, row: usize, col: usize) -> Option<u32> {
    let [sh, sw] = g.stride();
    let [oh, ow] = g.output();
    let [eh, ew] = extent(g);
    let (r, c) = (row.checked_sub(eh - 1)?, col.checked_sub(ew - 1)?);
    if r % sh != 0 || c % sw != 0 || r / sh >= oh || c / sw >= ow {
        return None;
    }
    Some(g.u_flat(Pixel {
        c: o,
        row: r / sh,
        col: c / sw,
    }) as u32)
}

/// `rot180(dilate_D(k))` at `(row, col)` for output channel `o`, input channel `c`.
pub(crate) fn rotated_kernel(
    g: &Geometry,
    o: usize,
    c: usize,
    row: usize,
    col: usize,
) -> Option<u32> {
    let [dh, dw] = g.dilation();
    let [eh, ew] = extent(g);
    let (r, s) = (eh - 1 - row, ew - 1 - col);
    if r % dh != 0 || s % dw != 0 {
        return None;
    }
    Some(g.k_flat(Tap {
        o,
        c,
        row: r / dh,
        col: s / dw,
    }) as u32)
}

/// The dilated kernel's extent `[(KH-1)*DH + 1, (KW-1)*DW + 1]`.
pub(crate) fn extent(g: &Geometry) -> [usize; 2] {
    let ([kh, kw], [dh, dw]) = (g.kernel(), g.dilation());
    [(kh - 1) * dh + 1, (kw - 1) * dw + 1]
}

/// `dL/dx`, one list of `(delta, k)` products per input element.
pub(super) fn dx(g: &Geometry) -> Vec<Vec<Product>> {
    let [top, _, left, _] = g.pads();
    let [eh, ew] = extent(g);
    let mut out = Vec::with_capacity(g.input_len());
    for x in 0..g.input_len() {
        let Pixel { c, row, col } = g.x_at(x);
        // Cropping: input (row, col) is padded-input cell (row + top, col + left).
        let (pr, pc) = (row + top, col + left);
        let mut list = Vec::new();
        for o in 0..g.out_channels() {
            for r in 0..eh {
                for s in 0..ew {
                    if let (Some(d), Some(k)) = (
                        padded_delta(g, o, pr + r, pc + s),
                        rotated_kernel(g, o, c, r, s),
                    ) {
                        list.push(Product(d, k));
                    }
                }
            }
        }
        out.push(list);
    }
    out
}

/// `dL/dk`, one list of `(delta, x)` products per kernel element.
pub(super) fn dk(g: &Geometry) -> Vec<Vec<Product>> {
    let ([sh, sw], [dh, dw]) = (g.stride(), g.dilation());
    let ([oh, ow], [h, w]) = (g.output(), g.input());
    let [top, _, left, _] = g.pads();
    let mut out = Vec::with_capacity(g.kernel_len());
    for k in 0..g.kernel_len() {
        let Tap {
            o,
            c,
            row: a,
            col: b,
        } = g.k_at(k);
        let mut list = Vec::new();
        // Walk the stride-dilated delta: nonzero only at multiples of the stride.
        for y in (0..(oh - 1) * sh + 1).step_by(sh) {
            for z in (0..(ow - 1) * sw + 1).step_by(sw) {
                let (pr, pc) = (a * dh + y, b * dw + z);
                let inside = pr >= top && pc >= left && pr - top < h && pc - left < w;
                if inside {
                    let d = g.u_flat(Pixel {
                        c: o,
                        row: y / sh,
                        col: z / sw,
                    }) as u32;
                    let x = g.x_flat(Pixel {
                        c,
                        row: pr - top,
                        col: pc - left,
                    }) as u32;
                    list.push(Product(d, x));
                }
            }
        }
        out.push(list);
    }
    out
}

/// `dL/db`, the `delta` elements of each output channel.
pub(super) fn db(g: &Geometry) -> Vec<Vec<Product>> {
    let plane = g.output()[0] * g.output()[1];
    (0..g.out_channels())
        .map(|o| {
            (o * plane..(o + 1) * plane)
                .map(|d| Product(d as u32, d as u32))
                .collect()
        })
        .collect()
}
