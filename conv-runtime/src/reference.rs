//! The generic formulation of the layer at run-time sizes: the oracle every generated layer is
//! proven against, at compile time ([`crate::proof`]) and at run time ([`crate::checks`]).
//!
//! Flat row-major layouts: `x[c][p][q]`, `k[o][c][a][b]`, `b[o]`, `u[o][i][j]` and
//! `delta[o][i][j]`. With `EK = (K-1)*D + 1` the dilated kernel's extent:
//!
//! - **forward**, the definition:
//!   `u[o][i][j] = b[o] + Σ_{c,a,b} x[c][i*SH + a*DH - top][j*SW + b*DW - left] * k[o][c][a][b]`,
//!   reads outside `x` being zeros;
//! - **`dL/dx`**, the classic padded/rotated form, independent of the chain-rule derivation:
//!   `dL/dx = crop( pad(dilate_S(delta), EK-1) ⋆ rot180(dilate_D(k)) )`
//!
//!   ```text
//!   delta (2x2, stride 2)   dilate_S          pad EK-1 = 2        ⋆ rot180(k)   crop `top`,`left`
//!   d00 d01               d00  0  d01       0 0  0  0  0  0 0
//!   d10 d11                0   0   0        0 0  0  0  0  0 0
//!                         d10  0  d11  ->   0 0 d00 0 d01 0 0   ->  (padded x sized) -> x sized
//!                                           ...
//!   ```
//!
//!   summed over output channels; the result covers the padded input and is cropped to `x`;
//! - **`dL/dk`** `= pad(x) ⋆ dilate_S(delta)` with taps `D` apart:
//!   `dk[o][c][a][b] = Σ_{i,j} xpad[c][a*DH + i*SH][b*DW + j*SW] * delta[o][i][j]`;
//! - **`dL/db[o]`** `= Σ_{i,j} delta[o][i][j]`.
//!
//! The algorithm is written once (a macro) for [`f32`](self::f32) and [`f64`](self::f64) as
//! `const fn`s, so the compile-time proof and the run-time API run the same code. Index
//! arithmetic is written inline: constant evaluation pays for every function call.

#[cfg(feature = "std")]
use crate::Gradients;
use crate::{Geometry, Scalar, ShapeError};

macro_rules! formulation {
    ($t:ident) => {
        /// The formulation in this element type (`const fn`).
        pub mod $t {
            use crate::error::{check_lengths, Operand};
            use crate::{Geometry, ShapeError};
            type T = core::primitive::$t;

            /// `u = x ⋆ k + b` into `u`; see the [module docs](super).
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
                let ([sh, sw], [dh, dw], pads) = (g.stride(), g.dilation(), g.pads());
                let (top, left, ci) = (pads[0], pads[2], g.in_channels());
                let mut n = 0;
                while n < u.len() {
                    let (o, i, j) = (n / (oh * ow), n / ow % oh, n % ow);
                    let mut s = b[o];
                    let mut c = 0;
                    while c < ci {
                        let mut a = 0;
                        while a < kh {
                            let r = i * sh + a * dh;
                            if r >= top && r - top < h {
                                let mut bb = 0;
                                while bb < kw {
                                    let col = j * sw + bb * dw;
                                    if col >= left && col - left < w {
                                        let xv = x[(c * h + r - top) * w + col - left];
                                        s += xv * k[((o * ci + c) * kh + a) * kw + bb];
                                    }
                                    bb += 1;
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

            /// `dL/dx`, `dL/dk`, `dL/db` into `dx`, `dk`, `db` by the padded/rotated
            /// formulation; see the [module docs](super).
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
                Ok(())
            }

            /// `dx = crop(pad(dilate_S(delta)) ⋆ rot180(dilate_D(k)))`.
            const fn input_gradient(g: &Geometry, k: &[T], delta: &[T], dx: &mut [T]) {
                let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
                let ([sh, sw], [dh, dw], pads) = (g.stride(), g.dilation(), g.pads());
                let (ci, co) = (g.in_channels(), g.out_channels());
                let (eh, ew) = ((kh - 1) * dh + 1, (kw - 1) * dw + 1);
                let mut n = 0;
                while n < dx.len() {
                    let (c, p, q) = (n / (h * w), n / w % h, n % w);
                    // Uncropped position in the padded input.
                    let (pr, pc) = (p + pads[0], q + pads[2]);
                    let mut s = 0.0;
                    let mut o = 0;
                    while o < co {
                        let mut r = 0;
                        while r < eh {
                            // Row of the padded, stride-dilated delta, and of the rotated kernel.
                            let y = pr + r;
                            let rot = eh - 1 - r;
                            if y + 1 >= eh
                                && (y + 1 - eh) % sh == 0
                                && (y + 1 - eh) / sh < oh
                                && rot % dh == 0
                            {
                                let (i, a) = ((y + 1 - eh) / sh, rot / dh);
                                let mut t = 0;
                                while t < ew {
                                    let z = pc + t;
                                    let rot = ew - 1 - t;
                                    if z + 1 >= ew
                                        && (z + 1 - ew) % sw == 0
                                        && (z + 1 - ew) / sw < ow
                                        && rot % dw == 0
                                    {
                                        let (j, bb) = ((z + 1 - ew) / sw, rot / dw);
                                        s += delta[(o * oh + i) * ow + j]
                                            * k[((o * ci + c) * kh + a) * kw + bb];
                                    }
                                    t += 1;
                                }
                            }
                            r += 1;
                        }
                        o += 1;
                    }
                    dx[n] = s;
                    n += 1;
                }
            }

            /// `dk = pad(x) ⋆ dilate_S(delta)`, taps `D` apart.
            const fn kernel_gradient(g: &Geometry, x: &[T], delta: &[T], dk: &mut [T]) {
                let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
                let ([sh, sw], [dh, dw], pads) = (g.stride(), g.dilation(), g.pads());
                let (top, left, ci) = (pads[0], pads[2], g.in_channels());
                let mut n = 0;
                while n < dk.len() {
                    let (plane, a, bb) = (n / (kh * kw), n / kw % kh, n % kw);
                    let (o, c) = (plane / ci, plane % ci);
                    let mut s = 0.0;
                    let mut i = 0;
                    while i < oh {
                        let r = a * dh + i * sh;
                        if r >= top && r - top < h {
                            let mut j = 0;
                            while j < ow {
                                let col = bb * dw + j * sw;
                                if col >= left && col - left < w {
                                    s += x[(c * h + r - top) * w + col - left]
                                        * delta[(o * oh + i) * ow + j];
                                }
                                j += 1;
                            }
                        }
                        i += 1;
                    }
                    dk[n] = s;
                    n += 1;
                }
            }
        }
    };
}

formulation!(f32);
formulation!(f64);

/// [`f32::forward_into`](self::f32::forward_into) for either element type: `u = x ⋆ k + b`.
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

/// [`f32::backward_into`](self::f32::backward_into) for either element type: `dL/dx`, `dL/dk`,
/// `dL/db` from `delta = dL/du` by the padded/rotated formulation.
///
/// # Errors
/// A [`ShapeError`] when a slice's length differs from what `g` needs.
#[allow(clippy::too_many_arguments)]
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

/// [`forward`] into a new `Vec`.
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
    let mut u = vec![S::ZERO; g.output_len()];
    forward(g, x, k, b, &mut u)?;
    Ok(u)
}

/// [`backward`] into new `Vec`s.
///
/// # Errors
/// A [`ShapeError`] when a slice's length differs from what `g` needs.
#[cfg(feature = "std")]
pub fn backward_vec<S: Scalar>(
    g: &Geometry,
    x: &[S],
    k: &[S],
    delta: &[S],
) -> Result<Gradients<Vec<S>, Vec<S>, Vec<S>>, ShapeError> {
    let mut out = Gradients {
        dx: vec![S::ZERO; g.input_len()],
        dk: vec![S::ZERO; g.kernel_len()],
        db: vec![S::ZERO; g.bias_len()],
    };
    backward(g, x, k, delta, &mut out.dx, &mut out.dk, &mut out.db)?;
    Ok(out)
}
