//! Convolution layers derived, checked and emitted at compile time: `#[conv2d(...)]` on a unit
//! struct gives it `forward` and `backward` over fixed-size arrays (a variant for each CPU tier,
//! chosen at run time, and the portable `const fn`s `forward_const` and `backward_const`),
//! derived symbolically and compared term by term with the padded/rotated formulation during
//! expansion, then checked at compile time against [`mod@reference`].
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
//! assert_eq!(g.dx[2][2], 4.5);      // nine windows read x[2][2]
//! ```
//!
//! The attribute's full syntax, with every key's values and defaults:
//!
//! ```text
//! #[conv2d(input = HxW, kernel = KHxKW,
//!          stride = S | (SH, SW), dilation = D | (DH, DW),
//!          padding = valid | same | (top, bottom, left, right),
//!          in_channels = C_in, out_channels = C_out,
//!          scalar = f32 | f64, unroll = auto | full | window | rows)]
//! ```
//!
//! The attribute's page, [`conv2d`](macro@conv2d), explains each key, the code forms `unroll`
//! chooses among (and what `auto` picks), what the struct gets and the errors.
//!
//! # What this crate holds
//!
//! - [`conv2d`](macro@conv2d), the attribute (re-exported from `conv-derive`), and the
//!   [`Conv2d`] trait every generated layer implements, with [`Gradients`], [`Scalar`] and
//!   [`Tensor`].
//! - [`mod@reference`]: the layer's generic formulation at run-time sizes, written once as
//!   `const fn` for `f32` and `f64`: the definition for `u`, the classic padded / rotated
//!   formulation for `dL/dx`, `dL/dk`, `dL/db`. Wrong slice lengths are a [`ShapeError`], never
//!   a panic.
//! - `proof` (hidden, not API): what the `const` check the macro emits for every layer calls,
//!   which evaluates the generated `const fn`s on integer-valued inputs and compares them
//!   exactly with [`mod@reference`] (a check at compile time, not a proof).
//! - [`checks`] (feature `std`): the same comparison at run time for any [`Conv2d`], plus a
//!   tolerance check on random floats and central finite differences.
//! - [`train`]: a trainable [`train::Layer`] around any generated layer (SGD, accumulated
//!   gradients, batches, deterministic initialisation) and [`train::Stack`], which only
//!   compiles when one layer's output is the next one's input.
//! - [`derivation`] (feature `derivation`): the symbolic derivation behind
//!   [`Conv2d::derivation`] and its renderers.
//! - [`mul_add`]: `a * b + c`, fused where the target has FMA (and `std` is on), as the `backward`
//!   of `unroll = full` layers sums `dL/dx` and `dL/dk`.
//! - The limits the attribute enforces: [`MAX_DERIVED_MACS`] multiply-adds per forward pass for
//!   any layer, [`MAX_UNROLLED_TERMS`] products for `unroll = full`.
//! - [`network`](macro@network), the attribute for whole networks (convolutions, dense layers,
//!   pooling, activations, softmax cross-entropy), and [`mod@network`]: the [`network::Network`]
//!   trait every generated network implements, batch gradients on several threads and weight
//!   files (feature `std`).
//! - [`nn`]: the other layers of a network (activations, max and average pooling, softmax
//!   cross-entropy), their `no_std` elementary functions, and (feature `std`) an IDX reader.
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
#[doc(hidden)]
pub mod lanes;
mod layer;
pub mod mul_add;
pub mod network;
pub mod nn;
// Support for the compile-time check the macro emits: not API (hidden, like serde's
// `__private`), so it may change in any release.
#[doc(hidden)]
pub mod proof;
pub mod reference;
pub mod rng;
mod scalar;
pub mod train;

// The attribute's documentation lives here, where its examples can use this crate as users do
// (rustdoc shows it above conv-derive's own line, and runs its examples as this crate's tests).
#[doc = include_str!("conv2d.md")]
pub use conv_derive::conv2d;
#[doc = include_str!("network.md")]
pub use conv_derive::network;
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
