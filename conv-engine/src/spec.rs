//! The validated layer specification that every later stage takes.

use crate::geometry::Geometry;

/// Largest number of terms (`u` plus `dL/dx` plus `dL/dk` products) a fully unrolled layer may
/// have: rustc's time and memory grow with the straight-line code, and beyond this a build
/// costs more than the compile budgets in `BENCHMARKS.md` allow.
pub const MAX_UNROLLED_TERMS: usize = 100_000;

/// Most multiply-adds per forward pass (padding zeros included) of any layer. The macro
/// derives every product symbolically and compares the chain rule with the padded/rotated
/// formulation term by term during expansion, so time and memory of expansion grow with this
/// count (see the compile budgets in `BENCHMARKS.md`). Larger layers are for
/// `conv_runtime::reference`, which takes sizes at run time.
pub const MAX_DERIVED_MACS: usize = 20_000_000;

/// Most multiply-adds per forward pass of a layer that is checked at compile time by
/// evaluating it whole in rustc's constant evaluator (every [`Strategy::Window`] layer, and
/// every [`Strategy::Rows`] layer up to this size; larger `rows` layers are evaluated one
/// output row at a time). The constant evaluator is slow and stops long-running evaluations.
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
    /// Per function and target tier, the family that suits the layer (the default; the rules
    /// are in [`plan`](mod@crate::plan)).
    #[default]
    Auto,
}

/// How the generated functions are written (more may come, hence `#[non_exhaustive]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// One expression per output element, only nonzero products, no loops (the `backward` of
    /// some tiers fuses its multiply-adds or splits `dL/dx` and `dL/dk` into functions of
    /// their own: see [`plan`](mod@crate::plan)).
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
    /// taps written out, or all output channels at once. Layers small enough to be evaluated
    /// whole at compile time ([`MAX_WINDOW_MACS`]) may write `backward` at the layer level
    /// instead; [`plan`](mod@crate::plan) says which form each layer gets.
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

    /// The family `forward` is written in by the portable `const fn` (see
    /// [`plan`](crate::plan::plan) for every tier).
    pub fn strategy(&self) -> Strategy {
        crate::plan::forward_strategy(self, crate::plan::Tier::Portable)
    }

    /// The family `forward` is written in on `tier` (see [`plan`](crate::plan::plan)).
    pub fn strategy_on(&self, tier: crate::plan::Tier) -> Strategy {
        crate::plan::forward_strategy(self, tier)
    }

    /// The family `backward` is written in, on every tier (see [`plan`](crate::plan::plan)).
    pub fn backward_strategy(&self) -> Strategy {
        crate::plan::backward_strategy(self)
    }
}
