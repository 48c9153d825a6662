//! The validated layer specification that every later stage takes.

use crate::geometry::Geometry;

/// Largest number of terms (`u` plus `dL/dx` plus `dL/dk` products) a fully unrolled layer may
/// have. Beyond it rustc's time and memory grow past what a build should cost.
pub const MAX_UNROLLED_TERMS: usize = 100_000;

/// Largest number of products (`u`, `dL/dx` and `dL/dk` together) for which `unroll = auto`
/// emits `forward` fully unrolled; larger layers get [`Strategy::Rows`] (`backward` has its own
/// threshold, [`AUTO_FULL_BACKWARD_TERMS`]). A 28x28 input with a 5x5
/// kernel (43,200 products) is unrolled: its debug build takes about 2 s and 0.4 GB.
pub const AUTO_FULL_TERMS: usize = 50_000;

/// Most multiply-adds per forward pass (padding zeros included) of any layer. The macro
/// derives every product symbolically and proves the chain rule term by term during expansion
/// (about 45 bytes and 0.3 us per multiply-add in an unoptimised proc-macro build), so this
/// bounds expansion: a crate holding a layer at the limit (135x67 input, 3x3 kernel,
/// 16 -> 16 channels, 19.9 million multiply-adds) builds in about 11 s and 1 GB, of which
/// expansion is about 6 s and 0.85 GB.
pub const MAX_DERIVED_MACS: usize = 20_000_000;

/// Largest number of `dL/dx` plus `dL/dk` products for which `unroll = auto` emits `backward`
/// fully unrolled; larger layers get [`Strategy::Rows`]. Straight-line backward code loses to
/// row updates early: on this project's benchmark machine the textbook layer (162 products)
/// is fastest unrolled, while an 8x8 input with a 3x3 kernel and 8 output channels (5,184
/// products) runs 2.6 times faster as rows (see `BENCHMARKS.md`).
pub const AUTO_FULL_BACKWARD_TERMS: usize = 1_000;

/// Most multiply-adds per forward pass of a layer whose compile-time proof evaluates it whole
/// (every [`Strategy::Window`] layer, and the one-row layer of every [`Strategy::Rows`] layer):
/// the proof evaluates the layer and the reference formulation in rustc's constant evaluator,
/// which is slow (about 0.3 s for 43,000 multiply-adds) and stops long-running evaluations.
pub const MAX_WINDOW_MACS: usize = 150_000;

/// The `unroll` key: which [`Strategy`] to use (more may come, hence `#[non_exhaustive]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Unroll {
    /// [`Strategy::Full`], up to [`MAX_UNROLLED_TERMS`].
    Full,
    /// [`Strategy::Window`].
    Window,
    /// [`Strategy::Rows`].
    Rows,
    /// [`Strategy::Full`] up to [`AUTO_FULL_TERMS`], else [`Strategy::Rows`] (the default).
    #[default]
    Auto,
}

/// How the generated functions are written (more may come, hence `#[non_exhaustive]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// One expression per output element, only nonzero products, no loops.
    Full,
    /// Loops over output positions with the kernel window written out.
    ///
    /// Window and row code reads a zero-padded copy of `x`, so a tap on a padding zero is a
    /// product `0 * k` (and `delta * 0` in `dL/dk`): with an infinite or NaN weight or `delta`
    /// it gives NaN where [`Strategy::Full`] and the reference leave the tap out (as
    /// TensorFlow's padded convolution does). `dL/dx` holds only the chain rule's products in
    /// every strategy, and layers without padding propagate NaN and infinities exactly as the
    /// reference. On finite inputs every strategy agrees exactly (integers) or within rounding.
    Window,
    /// A loop over output rows; each output row is a one-row layer whose code updates whole
    /// rows (an output row plus a kernel weight times a contiguous input row) with the kernel
    /// taps written out, or, with 8 or more output channels, all output channels at once (an
    /// input element times the kernel's weights of every output channel). The compile-time
    /// proof evaluates the whole layer exactly when it has at most [`MAX_WINDOW_MACS`]
    /// multiply-adds, else the one-row layer (which holds all of the arithmetic).
    Rows,
}

/// Element type of the generated functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `f32` (the default).
    F32,
    /// `f64`.
    F64,
}

impl Scalar {
    /// The Rust type name: `"f32"` or `"f64"`.
    pub const fn name(self) -> &'static str {
        match self {
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
        }
    }
}

/// Array layout of the generated functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelLayout {
    /// No channel axis: `x: [[T; W]; H]`, `k: [[T; KW]; KH]`, `b: T`, `u: [[T; OW]; OH]`
    /// (neither `in_channels` nor `out_channels` given).
    Plain,
    /// Channel-first: `x: [[[T; W]; H]; C_in]`, `k: [[[[T; KW]; KH]; C_in]; C_out]`,
    /// `b: [T; C_out]`, `u: [[[T; OW]; OH]; C_out]`.
    ChannelFirst,
}

/// A validated `#[conv2d]` specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Spec {
    /// Sizes, stride, dilation, padding and channels.
    pub geometry: Geometry,
    /// Whether arrays carry channel axes.
    pub layout: ChannelLayout,
    /// Element type.
    pub scalar: Scalar,
    /// Code-generation strategy asked for.
    pub unroll: Unroll,
}

impl Spec {
    /// The textbook layout (`Plain`, `f32`, `unroll = auto`) for a geometry.
    pub const fn new(geometry: Geometry) -> Self {
        Self {
            geometry,
            layout: ChannelLayout::Plain,
            scalar: Scalar::F32,
            unroll: Unroll::Auto,
        }
    }

    /// Terms of the fully unrolled forward and backward: `3 * nonzero_terms`.
    pub const fn unrolled_terms(&self) -> usize {
        3 * self.geometry.nonzero_terms()
    }

    /// The strategy `forward` is emitted with: the one asked for, or for `auto`
    /// [`Strategy::Full`] up to [`AUTO_FULL_TERMS`] products and [`Strategy::Rows`] above.
    pub const fn strategy(&self) -> Strategy {
        match self.unroll {
            Unroll::Full => Strategy::Full,
            Unroll::Window => Strategy::Window,
            Unroll::Rows => Strategy::Rows,
            Unroll::Auto if self.unrolled_terms() <= AUTO_FULL_TERMS => Strategy::Full,
            Unroll::Auto => Strategy::Rows,
        }
    }

    /// The strategy `backward` is emitted with: the one asked for, or for `auto`
    /// [`Strategy::Full`] up to [`AUTO_FULL_BACKWARD_TERMS`] products and [`Strategy::Rows`]
    /// above.
    pub const fn backward_strategy(&self) -> Strategy {
        match self.unroll {
            Unroll::Auto if 2 * self.geometry.nonzero_terms() <= AUTO_FULL_BACKWARD_TERMS => {
                Strategy::Full
            }
            Unroll::Auto => Strategy::Rows,
            _ => self.strategy(),
        }
    }
}
