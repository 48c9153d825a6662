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
/// products) runs 2.9 times faster as rows on the default target, and 1.2 times with
/// `-C target-cpu=native`, where the unrolled `backward` fuses its multiply-adds (see
/// `BENCHMARKS.md`).
pub const AUTO_FULL_BACKWARD_TERMS: usize = 1_000;

/// Fewest output channels for which `unroll = auto` emits a small layer's `forward` as
/// [`Strategy::Window`] instead of [`Strategy::Full`] on targets with AVX2, and one more than
/// the most for which it does so instead of [`Strategy::Rows`] (see [`Spec::strategy_on`]):
/// the window's statements for the output channels of one position sit
/// side by side, and LLVM packs them into one vector per kernel tap. Measured with
/// `-C target-cpu=native` (AVX-512) on this project's benchmark machine: an 8x8 input with a 3x3
/// kernel and 8 output channels 2.4 times faster than fully unrolled (140 vs 341 ns), 16 output
/// channels 2.1 times, 3 -> 12 channels on a 7x7 input 8 times; on the default x86-64 target
/// (SSE2) the 8-channel layer is 2.5 times slower as a window, so that target keeps
/// [`Strategy::Full`].
pub const AUTO_WINDOW_CHANNELS: usize = 8;

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
    /// [`Strategy::Full`] up to [`AUTO_FULL_TERMS`], else [`Strategy::Rows`] (the default);
    /// `backward` has its own threshold, and `forward` may depend on the target (see
    /// [`Spec::strategy_on`]).
    #[default]
    Auto,
}

/// How the generated functions are written (more may come, hence `#[non_exhaustive]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// One expression per output element, only nonzero products, no loops (`backward`'s
    /// `dL/dx` and `dL/dk` in functions of their own on AVX-512 targets, each of their terms
    /// after the first fused into the running sum where the target has FMA: see
    /// `conv_runtime::mul_add`).
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
    /// multiply-adds, else the one-row layer (which holds all of the arithmetic). Layers the
    /// proof evaluates whole write `backward` without the one-row layer when that is faster:
    /// with output rows of 8 or more columns and fewer than 8 output channels over the rows of
    /// the whole layer (`∂L/∂x` one input row at a time, `∂L/∂k` and `∂L/∂b` summed over all
    /// rows); with shorter rows and 8 or more output channels over every output position, all
    /// output channels at once.
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

    /// The strategy `forward` is emitted with on targets without AVX2 (the default x86-64
    /// target among them): the one asked for, or for `auto` [`Strategy::Full`] up to
    /// [`AUTO_FULL_TERMS`] products and [`Strategy::Rows`] above. See
    /// [`Self::strategy_on`] for targets with AVX2.
    pub const fn strategy(&self) -> Strategy {
        self.strategy_on(false)
    }

    /// The strategy `forward` is emitted with on a target with (`avx2`) or without AVX2
    /// (`cfg(target_feature = "avx2")` in the crate that uses the layer): as
    /// [`Self::strategy`], except that on targets with AVX2 `auto` picks [`Strategy::Window`]
    /// for unpadded layers it would write as
    ///
    /// - [`Strategy::Full`], with at least [`AUTO_WINDOW_CHANNELS`] output channels (see there);
    /// - [`Strategy::Rows`], with fewer than [`AUTO_WINDOW_CHANNELS`] output channels (the rows
    ///   are then not vectorised over output channels) and at most [`MAX_WINDOW_MACS`]
    ///   multiply-adds (the window's proof evaluates the whole layer). Measured with
    ///   `-C target-cpu=native` on this project's benchmark machine (benchmark runs, and a
    ///   scratch harness for the other layers): LeNet's first layer (28x28, 5x5, 1 -> 6) as a
    ///   window 5-24% faster for one image and 9-16% for a batch of 64 in four benchmark runs (an
    ///   earlier run had it 6% slower for one image); 16x16, 3x3, 3 -> 4: 1.9x faster; 20x20,
    ///   5x5, 2 -> 3: 1.4x; one measured layer is slower (32x32, 3x3, 2 -> 4: 1.2x). On the
    ///   default target the window is slower (LeNet 1.16x, 16x16 3 -> 4 3.5x), so that target
    ///   keeps the rows.
    ///
    /// All three write the same products in the same order (the bias, then `c, a, b`), so the
    /// results are the same bits on every target.
    pub const fn strategy_on(&self, avx2: bool) -> Strategy {
        let padded = {
            let [top, bottom, left, right] = self.geometry.pads();
            top + bottom + left + right > 0
        };
        let auto = matches!(self.unroll, Unroll::Auto);
        match self.asked_forward() {
            Strategy::Full
                if auto
                    && avx2
                    && !padded
                    && self.geometry.out_channels() >= AUTO_WINDOW_CHANNELS =>
            {
                Strategy::Window
            }
            Strategy::Rows
                if auto
                    && avx2
                    && !padded
                    && self.geometry.out_channels() < AUTO_WINDOW_CHANNELS
                    && self.geometry.macs() <= MAX_WINDOW_MACS =>
            {
                Strategy::Window
            }
            strategy => strategy,
        }
    }

    /// `forward`'s strategy before the target is considered.
    const fn asked_forward(&self) -> Strategy {
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
