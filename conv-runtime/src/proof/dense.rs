//! The compile-time check of a dense layer (`#[network]`'s `dense!`): its results compared
//! exactly with the matrix form (`u = b + W x`, `dL/dx = Wᵀ δ`, `dL/dw = δ xᵀ`, `dL/db = δ`),
//! and, for `backward_into`, what it added into the caller's buffers.

use super::Part;

/// The panic message of `assert_dense` for a mismatch.
const fn dense_message(part: Part) -> &'static str {
    macro_rules! failed {
        ($what:literal) => {
            concat!("dense proof failed: ", $what)
        };
    }
    match part {
        Part::U => failed!("the generated `forward` differs from the matrix form b + W x (u)"),
        Part::Dx => failed!("the generated `backward` differs from the matrix form Wᵀ δ (dL/dx)"),
        Part::Dk => failed!("the generated `backward` differs from the matrix form δ xᵀ (dL/dw)"),
        Part::Db => failed!("the generated `backward` differs from the matrix form δ (dL/db)"),
        Part::Shape(_) => failed!("an operand does not have the length the layer needs (shape)"),
    }
}

/// The panic message of `assert_dense_added` for a mismatch.
const fn dense_added_message(part: Part) -> &'static str {
    macro_rules! failed {
        ($what:literal) => {
            concat!("dense proof failed: ", $what)
        };
    }
    match part {
        Part::Dx => {
            failed!("the generated `backward_into` differs from the matrix form Wᵀ δ (dL/dx)")
        }
        Part::Dk => failed!(
            "what the generated `backward_into` added differs from the matrix form δ xᵀ (dL/dw)"
        ),
        Part::Db => {
            failed!(
                "what the generated `backward_into` added differs from the matrix form δ (dL/db)"
            )
        }
        _ => dense_message(part),
    }
}

macro_rules! dense {
    ($t:ident) => {
        #[doc = concat!("The dense checks in `", stringify!($t), "`; see the [module docs](super).")]
        pub mod $t {
            use super::{dense_added_message, dense_message};
            use crate::error::{check_lengths, Operand};
            use crate::proof::{Mismatch, Part};

            type T = core::primitive::$t;

            /// Compares a dense layer's results `u`, `dx`, `dw`, `db` on the inputs `x`, `w`,
            /// `b`, `delta` with the matrix form, exactly (`==`), element by element, in the
            /// order `u = b + W x`, `dL/dx = Wᵀ δ`, `dL/dw = δ xᵀ`, `dL/db = δ`. Slices are flat
            /// and row-major: `x [N]`, `w` and `dw [M][N]`, `b`, `u`, `delta` and `db [M]`
            /// (`N = x.len()`, `M = b.len()`). Each element is computed where it is compared,
            /// so the check needs no buffers.
            ///
            /// # Errors
            /// The first element that differs ([`Part::Dk`] stands for `dL/dw`), or
            /// [`Part::Shape`] when a length does not follow from `N` and `M`.
            #[allow(clippy::too_many_arguments)]
            pub const fn check_dense(
                x: &[T],
                w: &[T],
                b: &[T],
                u: &[T],
                delta: &[T],
                dx: &[T],
                dw: &[T],
                db: &[T],
            ) -> Result<(), Mismatch> {
                let (n, m) = (x.len(), b.len());
                if let Err(e) = check_lengths(&[
                    (Operand::K, w.len(), n * m),
                    (Operand::U, u.len(), m),
                    (Operand::Delta, delta.len(), m),
                    (Operand::Dx, dx.len(), n),
                    (Operand::Dk, dw.len(), n * m),
                    (Operand::Db, db.len(), m),
                ]) {
                    return Err(Mismatch {
                        part: Part::Shape(e),
                        index: 0,
                    });
                }
                // u[o] = b[o] + Σ_i w[o][i] * x[i]
                let mut o = 0;
                while o < m {
                    let mut s = b[o];
                    let mut i = 0;
                    while i < n {
                        s += w[o * n + i] * x[i];
                        i += 1;
                    }
                    if u[o] != s {
                        return Err(Mismatch::new(Part::U, o));
                    }
                    o += 1;
                }
                if let Err(e) = check_dx(x, w, delta, dx) {
                    return Err(e);
                }
                // dL/dw[o][i] = delta[o] * x[i], dL/db[o] = delta[o]
                let mut e = 0;
                while e < n * m {
                    if dw[e] != delta[e / n] * x[e % n] {
                        return Err(Mismatch::new(Part::Dk, e));
                    }
                    e += 1;
                }
                let mut o = 0;
                while o < m {
                    if db[o] != delta[o] {
                        return Err(Mismatch::new(Part::Db, o));
                    }
                    o += 1;
                }
                Ok(())
            }

            /// [`check_dense`], panicking on a mismatch (in a `const` item: a compile error)
            /// with a message naming the part, e.g. ``dense proof failed: the generated
            /// `backward` differs from the matrix form Wᵀ δ (dL/dx)``.
            #[allow(clippy::too_many_arguments)]
            pub const fn assert_dense(
                x: &[T],
                w: &[T],
                b: &[T],
                u: &[T],
                delta: &[T],
                dx: &[T],
                dw: &[T],
                db: &[T],
            ) {
                if let Err(m) = check_dense(x, w, b, u, delta, dx, dw, db) {
                    panic!("{}", dense_message(m.part));
                }
            }

            /// `dL/dx[i] = Σ_o w[o][i] * delta[o]` (lengths checked by the caller).
            const fn check_dx(x: &[T], w: &[T], delta: &[T], dx: &[T]) -> Result<(), Mismatch> {
                let (n, m) = (x.len(), delta.len());
                let mut i = 0;
                while i < n {
                    let mut s = 0.0;
                    let mut o = 0;
                    while o < m {
                        s += w[o * n + i] * delta[o];
                        o += 1;
                    }
                    if dx[i] != s {
                        return Err(Mismatch::new(Part::Dx, i));
                    }
                    i += 1;
                }
                Ok(())
            }

            /// The gradients of a dense `backward` that adds `dL/dw` and `dL/db` into buffers
            /// (`backward_into`) against the matrix form, exactly: `dx` against `Wᵀ δ`, and what
            /// was added, `dw - dw_before` and `db - db_before`, against `δ xᵀ` and `δ` (exact
            /// when the values are integers in [`value_range`](crate::proof::value_range)). Layouts as [`check_dense`]'s
            /// (`N = x.len()`, `M = delta.len()`); `u` is not part of it.
            ///
            /// # Errors
            /// The first element that differs, or [`Part::Shape`] when a length does not follow
            /// from `N` and `M`.
            #[allow(clippy::too_many_arguments)]
            pub const fn check_dense_added(
                x: &[T],
                w: &[T],
                delta: &[T],
                dx: &[T],
                dw_before: &[T],
                dw: &[T],
                db_before: &[T],
                db: &[T],
            ) -> Result<(), Mismatch> {
                let (n, m) = (x.len(), delta.len());
                if let Err(e) = check_lengths(&[
                    (Operand::K, w.len(), n * m),
                    (Operand::Dx, dx.len(), n),
                    (Operand::Dk, dw_before.len(), n * m),
                    (Operand::Dk, dw.len(), n * m),
                    (Operand::Db, db_before.len(), m),
                    (Operand::Db, db.len(), m),
                ]) {
                    return Err(Mismatch {
                        part: Part::Shape(e),
                        index: 0,
                    });
                }
                if let Err(e) = check_dx(x, w, delta, dx) {
                    return Err(e);
                }
                let mut e = 0;
                while e < n * m {
                    if dw[e] - dw_before[e] != delta[e / n] * x[e % n] {
                        return Err(Mismatch::new(Part::Dk, e));
                    }
                    e += 1;
                }
                let mut o = 0;
                while o < m {
                    if db[o] - db_before[o] != delta[o] {
                        return Err(Mismatch::new(Part::Db, o));
                    }
                    o += 1;
                }
                Ok(())
            }

            /// [`check_dense_added`], panicking on a mismatch (in a `const` item: a compile
            /// error) with a message naming the part.
            #[allow(clippy::too_many_arguments)]
            pub const fn assert_dense_added(
                x: &[T],
                w: &[T],
                delta: &[T],
                dx: &[T],
                dw_before: &[T],
                dw: &[T],
                db_before: &[T],
                db: &[T],
            ) {
                if let Err(m) = check_dense_added(x, w, delta, dx, dw_before, dw, db_before, db) {
                    panic!("{}", dense_added_message(m.part));
                }
            }
        }
    };
}

dense!(f32);
dense!(f64);
