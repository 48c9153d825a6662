//! The generic formulation of the layer at run-time sizes: the oracle every generated layer is
//! checked against, at compile time ([`crate::proof`]) and at run time ([`crate::checks`]).
//!
//! Flat row-major layouts: `x[c][p][q]` (`[C_in][H][W]`), `k[o][c][a][b]`
//! (`[C_out][C_in][KH][KW]`), `b[o]` (`[C_out]`), `u[o][i][j]` and `delta[o][i][j]`
//! (`[C_out][OH][OW]`). Stride `S`, dilation `D`, padding `top, bottom, left, right`;
//! `EK = (K - 1) * D + 1` is the extent of the dilated kernel along an axis.
//!
//! # Forward: the definition
//!
//! ```text
//! u[o][i][j] = b[o] + Σ_{c,a,b} x[c][i*SH + a*DH - top][j*SW + b*DW - left] * k[o][c][a][b]
//! ```
//!
//! A read that falls in the padding is a zero (see [`Geometry::tap`]).
//!
//! # Backward: the classic padded / rotated formulation
//!
//! Written independently of the chain rule that `#[conv2d]` expands symbolically, so the two can
//! check each other:
//!
//! - `dL/dx = crop( pad(dilate_S(delta), EK - 1) ⋆ rot180(dilate_D(k)) )`, summed over `o`:
//!   insert `S - 1` zeros between the entries of `delta`, pad it with `EK - 1` zeros on each
//!   side, correlate (`⋆`, no flip) with the kernel dilated by `D` and rotated by 180 degrees.
//!   The result is the gradient with respect to the *padded* input (rows the windows never
//!   reach are zeros); dropping the `top` rows and `left` columns of forward padding, and
//!   keeping `H x W`, gives `dL/dx`:
//!
//!   ```text
//!   dx[c][p][q] = Σ_o Σ_{r < EKH} Σ_{t < EKW} P[o][p + top + r][q + left + t] * R[o][c][r][t]
//!     P = pad(dilate_S(delta), EK - 1)      R = rot180(dilate_D(k))
//!   ```
//!
//!   One axis, `OH = 2`, stride 2, a 2-tap kernel with dilation 2 (`EK = 3`), `top = 0`:
//!
//!   ```text
//!   delta                        d0     d1
//!   dilate_S(delta)              d0  0  d1           S - 1 = 1 zero between entries
//!   P = pad(.., EK - 1)    0  0  d0  0  d1  0  0     EK - 1 = 2 zeros on each side
//!   R = rot180(dilate_D(k))      k1  0  k0           D - 1 = 1 zero between taps, reversed
//!   correlate              g[y] = Σ_r P[y + r] * R[r]   (y = 0..4, the padded input)
//!                          g = [d0*k0, 0, d0*k1 + d1*k0, 0, d1*k1]
//!   crop                   dx[p] = g[p + top]        (rows no window reaches: 0)
//!   forward, to compare    u0 = x0*k0 + x2*k1, u1 = x2*k0 + x4*k1: dL/dx2 = d0*k1 + d1*k0
//!   ```
//!
//! - `dL/dk = pad(x) ⋆ dilate_S(delta)`, reading the padded input with taps `D` apart:
//!   `dk[o][c][a][b] = Σ_{i,j} xpad[c][i*SH + a*DH][j*SW + b*DW] * delta[o][i][j]`.
//! - `dL/db[o] = Σ_{i,j} delta[o][i][j]`.
//!
//! The padded, dilated and rotated arrays are never built. Padding, dilation and rotation act
//! on rows and columns independently, so each *virtual* array is described one axis at a time by
//! a small `const fn` that maps a position to the row (or column) of the source array found
//! there, or to `None` where the virtual array holds a zero: `padded_dilated_delta` for `P`,
//! `rotated_dilated_kernel` for `R`, `padded_input` for `xpad`. `P[o][y][z]` is
//! `delta[o][i][j]` when row `y` maps to `i` and column `z` to `j`, else 0. Those maps define the
//! virtual arrays (the tests check them against the pictures above); the loops visit only
//! their nonzero entries, with index ranges computed once per row (`Axis::window`,
//! `Axis::reach`) and the nonzero rows of `R` enumerated directly, because constant evaluation
//! pays for every step and every call (see [`crate::proof`]).
//!
//! # One source for compile time and run time
//!
//! The algorithm is written once, in a macro, as `const fn`s for [`mod@f32`] and
//! [`mod@f64`]: the compile-time proof and the run-time API run the same code. Every
//! slice length is checked against the geometry first ([`ShapeError`], never a panic), after
//! which every index is in bounds by construction. [`forward`] and [`backward`] dispatch on the
//! element type; with `std`, [`forward_vec`] and [`backward_vec`] allocate the results.

#[cfg(feature = "std")]
use crate::error::{check_lengths, Operand};
#[cfg(feature = "std")]
use crate::Gradients;
use crate::{Geometry, Scalar, ShapeError};

mod axis;
use axis::Axis;

macro_rules! formulation {
    ($t:ident) => {
        #[doc = concat!("The formulation in `", stringify!($t), "`; see the [module docs](super).")]
        pub mod $t {
            use super::Axis;
            use crate::error::{check_lengths, Operand};
            use crate::{Geometry, ShapeError};
            type T = core::primitive::$t;

            /// `u = x ⋆ k + b` into `u`, by the definition (reads of the padding are zeros).
            ///
            /// # Errors
            /// A [`ShapeError`] naming the first of `x`, `k`, `b`, `u` whose length differs from
            /// what `g` needs; `u` is then left untouched.
            pub const fn forward_into(
                g: &Geometry,
                x: &[T],
                k: &[T],
                b: &[T],
                u: &mut [T],
            ) -> Result<(), ShapeError> {
                if let Err(e) = check_lengths(&[
                    (Operand::X, x.len(), g.input_len()),
                    (Operand::K, k.len(), g.kernel_len()),
                    (Operand::B, b.len(), g.bias_len()),
                    (Operand::U, u.len(), g.output_len()),
                ]) {
                    return Err(e);
                }
                let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
                let (rows, cols, ci) = (Axis::of(g, 0), Axis::of(g, 1), g.in_channels());
                let mut n = 0;
                while n < u.len() {
                    let (o, i, j) = (n / (oh * ow), n / ow % oh, n % ow);
                    // Geometry::tap for whole rows and columns: only taps inside the input.
                    let ((a0, a1), (b0, b1)) = (rows.window(i), cols.window(j));
                    let dw = cols.dilation;
                    // An empty window (all padding) leaves the bias.
                    let q0 = (j * cols.stride + b0 * cols.dilation).saturating_sub(cols.before);
                    let mut s = b[o];
                    let mut c = 0;
                    while c < ci {
                        let mut a = a0;
                        while a < a1 {
                            let p = i * rows.stride + a * rows.dilation - rows.before;
                            let (x_row, k_row) =
                                ((c * h + p) * w + q0, ((o * ci + c) * kh + a) * kw);
                            let (mut bb, mut xi) = (b0, x_row);
                            while bb < b1 {
                                s += x[xi] * k[k_row + bb];
                                bb += 1;
                                // Past the last tap the address may not fit (a dilation near
                                // `usize::MAX` is a valid geometry). A branch, not a call to
                                // `wrapping_add`: constant evaluation counts calls.
                                if bb < b1 {
                                    xi += dw;
                                }
                            }
                            a += 1;
                        }
                        c += 1;
                    }
                    u[n] = s;
                    n += 1;
                }
                Ok(())
            }

            /// `dL/dx`, `dL/dk`, `dL/db` into `dx`, `dk`, `db` from `delta = dL/du`, by the
            /// padded / rotated formulation.
            ///
            /// # Errors
            /// A [`ShapeError`] naming the first of `x`, `k`, `delta`, `dx`, `dk`, `db` whose
            /// length differs from what `g` needs; the outputs are then left untouched.
            pub const fn backward_into(
                g: &Geometry,
                x: &[T],
                k: &[T],
                delta: &[T],
                dx: &mut [T],
                dk: &mut [T],
                db: &mut [T],
            ) -> Result<(), ShapeError> {
                if let Err(e) = check_lengths(&[
                    (Operand::X, x.len(), g.input_len()),
                    (Operand::K, k.len(), g.kernel_len()),
                    (Operand::Delta, delta.len(), g.output_len()),
                    (Operand::Dx, dx.len(), g.input_len()),
                    (Operand::Dk, dk.len(), g.kernel_len()),
                    (Operand::Db, db.len(), g.bias_len()),
                ]) {
                    return Err(e);
                }
                input_gradient(g, k, delta, dx);
                kernel_gradient(g, x, delta, dk);
                bias_gradient(g, delta, db);
                Ok(())
            }

            /// `dx[c] = crop(Σ_o P[o] ⋆ R[o][c])` with `P = pad(dilate_S(delta), EK - 1)` and
            /// `R = rot180(dilate_D(k))`: element `[c][p][q]` is the correlation at
            /// `(p + top, q + left)` of the padded-input-sized result,
            /// `Σ_o Σ_{r,t} P[o][p + top + r][q + left + t] * R[o][c][r][t]`.
            const fn input_gradient(g: &Geometry, k: &[T], delta: &[T], dx: &mut [T]) {
                let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
                let (rows, cols) = (Axis::of(g, 0), Axis::of(g, 1));
                let (ci, co) = (g.in_channels(), g.out_channels());
                let mut n = 0;
                while n < dx.len() {
                    let (c, p, q) = (n / (h * w), n / w % h, n % w);
                    // Crop: x[p][q] is position (p + top, q + left) of the padded input.
                    let (y, z) = (p + rows.before, q + cols.before);
                    let (sw, dw) = (cols.stride, cols.dilation);
                    let mut s = 0.0;
                    let mut o = 0;
                    while o < co {
                        // Row r of R = rot180(dilate_D(k)) is zero unless r = EK-1 - a*D, where it
                        // holds kernel row a; it meets row y + r of P = pad(dilate_S(delta), EK-1),
                        // which holds delta row (y + r - (EK-1)) / S = (y - a*D) / S when that is a
                        // multiple of S inside delta, and is zero otherwise. Columns likewise.
                        let mut a = 0;
                        while a < kh && a * rows.dilation <= y {
                            let dy = y - a * rows.dilation;
                            if dy % rows.stride == 0 && dy / rows.stride < oh {
                                let i = dy / rows.stride;
                                let (d_row, k_row) =
                                    ((o * oh + i) * ow, ((o * ci + c) * kh + a) * kw);
                                let (mut bb, mut dz) = (0, z);
                                loop {
                                    if dz % sw == 0 && dz / sw < ow {
                                        // P[o][y + r][z + t] * R[o][c][r][t]
                                        s += delta[d_row + dz / sw] * k[k_row + bb];
                                    }
                                    bb += 1;
                                    if bb == kw || dz < dw {
                                        break;
                                    }
                                    dz -= dw;
                                }
                            }
                            a += 1;
                        }
                        o += 1;
                    }
                    dx[n] = s;
                    n += 1;
                }
            }

            /// `dk[o][c] = xpad[c] ⋆ dilate_S(delta[o])` with taps `D` apart: the entries of the
            /// stride-dilated `delta` sit at `(i*SH, j*SW)` (the rest are zeros), so
            /// `dk[o][c][a][b] = Σ_{i,j} xpad[c][i*SH + a*DH][j*SW + b*DW] * delta[o][i][j]`.
            const fn kernel_gradient(g: &Geometry, x: &[T], delta: &[T], dk: &mut [T]) {
                let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
                let (rows, cols, ci) = (Axis::of(g, 0), Axis::of(g, 1), g.in_channels());
                let mut n = 0;
                while n < dk.len() {
                    let (plane, a, bb) = (n / (kh * kw), n / kw % kh, n % kw);
                    let (o, c) = (plane / ci, plane % ci);
                    let (a_offset, b_offset) = (a * rows.dilation, bb * cols.dilation);
                    let sw = cols.stride;
                    // Rows i*SH + a*DH and columns j*SW + b*DW of xpad that are not padding.
                    let ((i0, i1), (j0, j1)) = (rows.reach(a), cols.reach(bb));
                    // An empty range (all padding) leaves 0.
                    let q0 = (j0 * cols.stride + b_offset).saturating_sub(cols.before);
                    let mut s = 0.0;
                    let mut i = i0;
                    while i < i1 {
                        let p = i * rows.stride + a_offset - rows.before;
                        if j0 == j1 {
                            break;
                        }
                        let (x_row, d_row) = ((c * h + p) * w + q0, (o * oh + i) * ow);
                        let (mut j, mut xi) = (j0, x_row);
                        while j < j1 {
                            s += x[xi] * delta[d_row + j];
                            j += 1;
                            // Past the last output the address may not fit (see `forward_into`).
                            if j < j1 {
                                xi += sw;
                            }
                        }
                        i += 1;
                    }
                    dk[n] = s;
                    n += 1;
                }
            }

            /// `db[o] = Σ_{i,j} delta[o][i][j]`.
            const fn bias_gradient(g: &Geometry, delta: &[T], db: &mut [T]) {
                let plane = g.output()[0] * g.output()[1];
                let mut o = 0;
                while o < db.len() {
                    let mut s = 0.0;
                    let mut n = o * plane;
                    while n < (o + 1) * plane {
                        s += delta[n];
                        n += 1;
                    }
                    db[o] = s;
                    o += 1;
                }
            }
        }
    };
}

formulation!(f32);
formulation!(f64);

/// `u = x ⋆ k + b` into `u` for either element type ([`f32::forward_into`]
/// or [`f64::forward_into`]).
///
/// # Errors
/// A [`ShapeError`] when a slice's length differs from what `g` needs.
pub fn forward<S: Scalar>(
    g: &Geometry,
    x: &[S],
    k: &[S],
    b: &[S],
    u: &mut [S],
) -> Result<(), ShapeError> {
    S::forward_into(g, x, k, b, u)
}

/// `dL/dx`, `dL/dk`, `dL/db` from `delta = dL/du` for either element type, by the padded /
/// rotated formulation ([`f32::backward_into`] or
/// [`f64::backward_into`]).
///
/// # Errors
/// A [`ShapeError`] when a slice's length differs from what `g` needs.
pub fn backward<S: Scalar>(
    g: &Geometry,
    x: &[S],
    k: &[S],
    delta: &[S],
    dx: &mut [S],
    dk: &mut [S],
    db: &mut [S],
) -> Result<(), ShapeError> {
    S::backward_into(g, x, k, delta, dx, dk, db)
}

/// [`forward`] into a new `Vec` of `g.output_len()` elements.
///
/// # Errors
/// A [`ShapeError`] when a slice's length differs from what `g` needs.
#[cfg(feature = "std")]
pub fn forward_vec<S: Scalar>(
    g: &Geometry,
    x: &[S],
    k: &[S],
    b: &[S],
) -> Result<Vec<S>, ShapeError> {
    // The operands first: a wrong length is an error, not an allocation of a geometry's size.
    check_lengths(&[
        (Operand::X, x.len(), g.input_len()),
        (Operand::K, k.len(), g.kernel_len()),
        (Operand::B, b.len(), g.bias_len()),
    ])?;
    let mut u = vec![S::ZERO; g.output_len()];
    forward(g, x, k, b, &mut u)?;
    Ok(u)
}

/// [`backward`] into new `Vec`s (flat, in the layouts of `x`, `k` and `b`).
///
/// # Errors
/// A [`ShapeError`] when a slice's length differs from what `g` needs.
#[cfg(feature = "std")]
#[allow(clippy::type_complexity)] // the three gradients, spelled out for the reader
pub fn backward_vec<S: Scalar>(
    g: &Geometry,
    x: &[S],
    k: &[S],
    delta: &[S],
) -> Result<Gradients<Vec<S>, Vec<S>, Vec<S>>, ShapeError> {
    // The operands first, as in `forward_vec`.
    check_lengths(&[
        (Operand::X, x.len(), g.input_len()),
        (Operand::K, k.len(), g.kernel_len()),
        (Operand::Delta, delta.len(), g.output_len()),
    ])?;
    let mut out = Gradients {
        dx: vec![S::ZERO; g.input_len()],
        dk: vec![S::ZERO; g.kernel_len()],
        db: vec![S::ZERO; g.bias_len()],
    };
    backward(g, x, k, delta, &mut out.dx, &mut out.dk, &mut out.db)?;
    Ok(out)
}
