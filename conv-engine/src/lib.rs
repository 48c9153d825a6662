//! The derivation engine behind `#[conv2d]`.
//!
//! A plain library (no `proc_macro` types) shared by the attribute macro, the CLI and the tests.
//! The pipeline, one module per stage, each handing a typed value to the next:
//!
//! ```text
//! attribute tokens -> spec     validated Spec (every problem a spanned error)   [feature codegen]
//!                  -> plan     the code form of every function on every tier     [feature derive]
//!                  -> derive   forward terms, Jacobian tables, chain rule        [feature derive]
//!                  -> prove    padded/rotated formulation, compared term by term [feature derive]
//!                  -> emit     forward/backward tokens, compile-time check, docs [feature codegen]
//!                  -> explain  Markdown, LaTeX and text renderers                [feature derive]
//! ```
//!
//! The dense (fully connected) layer is a sibling module at each stage: [`derive::dense`],
//! [`prove::dense`], [`emit::dense`] (its code, proven and lowered through the same [`ir`]) and
//! [`explain::dense`].
//!
//! [`geometry`] is always available and allocation-free (`no_std`).
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

pub mod geometry;
pub mod memory;
mod tier;

#[cfg(feature = "derive")]
pub mod derive;
#[cfg(feature = "derive")]
pub mod explain;
#[cfg(feature = "derive")]
pub mod ir;
#[cfg(feature = "derive")]
pub mod plan;
#[cfg(feature = "derive")]
pub mod prove;
#[cfg(feature = "derive")]
mod spec;

#[cfg(feature = "codegen")]
pub mod emit;
#[cfg(feature = "codegen")]
pub mod network;
#[cfg(feature = "codegen")]
pub mod parse;

pub use geometry::{Field, Geometry, GeometryError, GeometrySpec, Padding};
#[cfg(feature = "derive")]
pub use plan::{plan, Plan};
#[cfg(feature = "derive")]
pub use spec::{
    ChannelLayout, Scalar, Spec, Strategy, Unroll, MAX_DERIVED_MACS, MAX_UNROLLED_TERMS,
    MAX_WINDOW_MACS,
};
pub use tier::Tier;
