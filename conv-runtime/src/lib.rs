//! Convolution layers whose gradients are derived and proven at compile time, and whose generated
//! code is checked there, with a variant for each CPU tier.
//!
//! ```
//! use conv_runtime::conv2d;
//!
//! /// The textbook layer: 5x5 input, 3x3 kernel, 3x3 output.
//! #[conv2d(input = 5x5, kernel = 3x3)]
//! pub struct Textbook;
//!
//! let x = [[1.0f32; 5]; 5];
//! let k = [[0.5f32; 3]; 3];
//! let u: [[f32; 3]; 3] = Textbook::forward(&x, &k, &1.0);
//! assert_eq!(u, [[5.5; 3]; 3]);
//!
//! let delta = [[1.0f32; 3]; 3];
//! let g = Textbook::backward(&x, &k, &delta);
//! assert_eq!(g.db, 9.0);            // dL/db = Σ delta
//! assert_eq!(g.dk, [[9.0; 3]; 3]);  // dL/dk[a][b] = Σ delta[i][j] * x[i+a][j+b]
//! assert_eq!(g.dx[0][0], 0.5);      // dL/dx[0][0] = delta[0][0] * k[0][0]
//! assert_eq!(g.dx[2][2], 4.5);      // nine windows read x[2][2]
//! ```
//!
//! # The attribute
//!
//! `#[conv2d(key = value, ...)]` on a unit struct (`pub struct Name;`, any visibility and
//! attributes, no generics):
//!
//! | key | values | default |
//! |---|---|---|
//! | `input` | `HxW` (`28x28`) or `(H, W)` | required |
//! | `kernel` | `KHxKW` or `(KH, KW)` | required |
//! | `stride` | `S` or `(SH, SW)` | `1` |
//! | `dilation` | `D` or `(DH, DW)` | `1` |
//! | `padding` | `valid`, `same` (TensorFlow's rule), or `(top, bottom, left, right)` | `valid` |
//! | `in_channels`, `out_channels` | positive integers; either one switches to channel-first arrays | `1` |
//! | `scalar` | `f32` or `f64` | `f32` |
//! | `unroll` | `full` (one expression per output element), `window` (loops over output positions, the kernel window written out), `rows` (a loop over output rows around a one-row layer whose kernel window is written out as row updates), or `auto` (per function and CPU tier, the form that suits the layer: small layers unrolled, larger ones rows, windows on AVX2/AVX-512 where they are faster; the rules are in `conv_engine::plan`, and each generated function's docs name the form of every tier) | `auto` |
//!
//! The layer is the cross-correlation of TensorFlow's `conv2d`:
//! `u[o][i][j] = b[o] + Σ_{c,a,b} x[c][i*SH + a*DH - top][j*SW + b*DW - left] * k[o][c][a][b]`,
//! with reads of the padding being zeros.
//!
//! # What the struct gets
//!
//! - `Name::forward(x: &[[T; W]; H], k: &[[T; KW]; KH], b: &T) -> [[T; OW]; OH]` and
//!   `Name::backward(x, k, delta: &[[T; OW]; OH]) -> Gradients<[[T; W]; H], [[T; KW]; KH], T>`,
//!   which run the variant for the CPU they run on ([`cpu::tier`]: AVX2 or AVX-512 code
//!   without `RUSTFLAGS`), and `Name::forward_const` and `Name::backward_const`, the portable
//!   variants as `const fn`. With channels: `x: &[[[T; W]; H]; C_in]`, `k: &[[[[T; KW]; KH]; C_in]; C_out]`,
//!   `b: &[T; C_out]`, `u: [[[T; OW]; OH]; C_out]`.
//! - `Name::GEOMETRY` and an implementation of [`Conv2d`], including
//!   [`Conv2d::derivation`] (tables and equations as Markdown, LaTeX or text).
//! - Rustdoc on the struct showing the derivation.
//! - A proof and a check. During expansion the engine derives the gradients by the chain rule
//!   and proves them equal, term by term, to the padded/rotated formulation; a mismatch is a
//!   compile error. Then a `const` item checks the emitted `const fn`s at compile time on
//!   integer inputs (two input sets for layers of at most `MAX_WINDOW_MACS / 2` multiply-adds,
//!   else one), comparing them exactly with [`mod@reference`] (see [`proof`]); a wrong term
//!   fails the build unless it matches the right one on every input set.
//!
//! Bad attributes are spanned compile errors (the struct is still emitted). `unroll = full`
//! beyond [`MAX_UNROLLED_TERMS`] products, window layers beyond [`MAX_WINDOW_MACS`]
//! multiply-adds, rows layers whose one output row needs more than [`MAX_WINDOW_MACS`]
//! (the compile-time proof's budget), and any layer beyond [`MAX_DERIVED_MACS`] multiply-adds
//! (the symbolic derivation's) are rejected with the count.
//!
//! # What this crate holds
//!
//! - [`conv2d`], the attribute (re-exported from `conv-derive`), and the [`Conv2d`] trait every
//!   generated layer implements, with [`Gradients`], [`Scalar`] and [`Tensor`].
//! - [`mod@reference`]: the layer's generic formulation at run-time sizes, written once as
//!   `const fn` for `f32` and `f64`: the definition for `u`, the classic padded / rotated
//!   formulation for `dL/dx`, `dL/dk`, `dL/db`. Wrong slice lengths are a [`ShapeError`], never
//!   a panic.
//! - [`proof`]: the `const` check the macro emits for every layer, which evaluates the generated
//!   `const fn forward` and `backward` on integer inputs and compares them exactly with
//!   [`mod@reference`] (a check at compile time, not a proof; see there).
//! - [`checks`] (feature `std`): the same comparison at run time for any [`Conv2d`], plus a
//!   tolerance check on random floats and central finite differences.
//! - [`train`]: a trainable [`train::Layer`] around any generated layer (SGD, accumulated
//!   gradients, batches, deterministic initialisation) and [`train::Stack`], which only
//!   compiles when one layer's output is the next one's input.
//! - [`derivation`] (feature `derivation`): the symbolic derivation behind
//!   [`Conv2d::derivation`] and its renderers.
//! - [`mul_add`]: `a * b + c`, fused where the target has FMA (and `std` is on), as the `backward`
//!   of `unroll = full` layers sums `dL/dx` and `dL/dk`.
//! - [`rng`]: the small deterministic generator (splitmix64, usable in `const fn`) behind the
//!   proof's test values, the checks' inputs and [`train::Layer::init`].
//!
//! Layouts are flat and row-major: `x` `[C_in][H][W]`, `k` `[C_out][C_in][KH][KW]`, `b`
//! `[C_out]`, `u` and `delta = dL/du` `[C_out][OH][OW]`.
//!
//! # Features
//!
//! - `std` (default): `std::error::Error` impls, the `Vec`-returning helpers and [`checks`].
//!   Without it the crate is `no_std` and allocation-free.
//! - `derivation` (default, implies `std`): [`Conv2d::derivation`] and the [`derivation`] module.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]
// The crate docs link to `checks` and `derivation`, which some feature sets leave out.
#![cfg_attr(not(feature = "derivation"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "std")]
pub mod checks;
pub mod cpu;
mod error;
mod layer;
pub mod mul_add;
pub mod proof;
pub mod reference;
pub mod rng;
mod scalar;
pub mod train;

pub use conv_derive::conv2d;
pub use conv_engine::{Field, Geometry, GeometryError, GeometrySpec, Padding};
pub use error::{Operand, ShapeError};
pub use layer::Conv2d;
pub use scalar::{Scalar, Tensor};

#[cfg(feature = "derivation")]
pub use conv_engine::{MAX_DERIVED_MACS, MAX_UNROLLED_TERMS, MAX_WINDOW_MACS};

/// The symbolic derivation of a layer (see [`Conv2d::derivation`]): forward terms, Jacobian
/// tables and chain rule, and the renderers in [`explain`](self::derivation::explain).
#[cfg(feature = "derivation")]
pub mod derivation {
    pub use conv_engine::derive::{Derivation, JacobianEntry, Pixel, Product, Sums, Tap};
    pub use conv_engine::explain;
}

/// What `backward` returns: the gradients of the loss with respect to the input, the kernel and
/// the bias, in the layer's array types (`Gradients<Vec<S>, Vec<S>, Vec<S>>` from
/// [`reference::backward_vec`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Gradients<X, K, B> {
    /// `dL/dx`, shaped like `x`.
    pub dx: X,
    /// `dL/dk`, shaped like `k`.
    pub dk: K,
    /// `dL/db`, shaped like `b`.
    pub db: B,
}
