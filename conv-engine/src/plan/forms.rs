//! The forms a tier's code takes: how `forward` and `backward` are written, how many
//! accumulators a block holds, how lane sums are added, and when a feature applies.

use super::tuning;

/// How many accumulators a block holds: of the forward row vectorised over output channels
/// (see [`Forward::RowsOverChannels`]), and of the `dL/dk` lane sums of [`Dx::LayerRows`]
/// (kernel columns per pass over the rows). The same sums in the same order either way, only
/// how many output columns or taps are computed at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blocks {
    /// Sized for 16 vector registers (AVX2, and the portable code).
    Narrow,
    /// Sized for 32 vector registers (AVX-512).
    Wide,
}

impl Blocks {
    /// `(first, count)` of the blocks of output columns of a row of `columns` outputs over
    /// `channels` output channels: as few as hold at most the tier's accumulators each, their
    /// lengths differing by at most one.
    pub fn columns(self, columns: usize, channels: usize) -> Vec<(usize, usize)> {
        let floats = match self {
            Blocks::Narrow => tuning::BLOCK_FLOATS,
            Blocks::Wide => tuning::WIDE_BLOCK_FLOATS,
        };
        let most = (floats / channels.max(1)).max(1);
        let count = columns.div_ceil(most);
        let mut first = 0;
        (0..count)
            .map(|i| {
                let len = columns / count + usize::from(i < columns % count);
                first += len;
                (first - len, len)
            })
            .collect()
    }

    /// Output channels whose rows of sums ([`Forward::LayerRows`], each `lanes` wide) one pass
    /// over an output row keeps: as many as hold at most the tier's accumulators (at least one,
    /// at most `channels`).
    pub fn channels_per_row(self, lanes: usize, channels: usize) -> usize {
        let floats = match self {
            Blocks::Narrow => tuning::BLOCK_FLOATS,
            Blocks::Wide => tuning::WIDE_BLOCK_FLOATS,
        };
        (floats / lanes.max(1)).clamp(1, channels.max(1))
    }

    /// Kernel columns whose `dL/dk` lane sums (two output channels each) one pass of
    /// [`Dx::LayerRows`] over the rows keeps.
    pub fn taps_per_pass(self) -> usize {
        match self {
            Blocks::Narrow => tuning::TAPS_PER_PASS,
            Blocks::Wide => tuning::WIDE_TAPS_PER_PASS,
        }
    }
}

/// How `forward` is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Forward {
    /// One expression per output element, only nonzero products.
    Unrolled,
    /// A loop over output positions, the kernel window written out.
    Window,
    /// A loop over output rows around the one-row companion, whose taps update whole rows.
    Rows,
    /// As [`Forward::Rows`], the companion's updates vectorised over output channels (the
    /// kernel transposed once per call).
    RowsOverChannels,
    /// At the layer level, beside [`Dx::LayerRows`] on the vector tiers: per output row, two
    /// output channels' rows of sums a multiple of a vector wide, updated by every tap.
    LayerRows,
}

/// How [`Dx::LayerOverChannels`] adds each padded column's partial sums (one per output
/// channel) at the end of a row, and how the bodies of `dL/dk` and `dL/db` alone of
/// [`Dx::LayerRows`] add each tap's lane sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaneSums {
    /// Column by column (tap by tap), pairwise (or in order): code LLVM vectorises on its own.
    EachColumn,
    /// Sixteen columns (taps) at a time with AVX-512 shuffles (`conv_runtime::lanes`), the
    /// same additions in the same order, in `f32` on the AVX-512 tier: the columns of layers
    /// with 16 output channels, and the taps' lane sums of rows of 17 to 32 columns.
    Avx512Rows,
}

/// How the code's loops over whole vectors (and runs of statements written out one per lane)
/// are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Vectors {
    /// As scalar code, which LLVM vectorises on its own (and which a `const fn` can run).
    #[default]
    Scalar,
    /// With AVX-512 intrinsics, one 512-bit vector per block of lanes: the same operations
    /// in the same order per lane, at the width LLVM's tuning for some AVX-512 CPUs would halve.
    /// Neither `const` nor portable.
    Avx512,
}

impl Vectors {
    /// The suffix of a hidden function's name written so: `"_avx512"` for [`Vectors::Avx512`].
    pub const fn suffix(self) -> &'static str {
        match self {
            Vectors::Avx512 => "_avx512",
            Vectors::Scalar => "",
        }
    }
}

/// How `backward` computes `dL/dx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dx {
    /// One expression per input element.
    Unrolled,
    /// Accumulated into a padded `dL/dx` per output position and tap, then cropped.
    Window,
    /// Per output row, the companion's matrix form (masked row updates), added into a padded
    /// `dL/dx`.
    RowsMatrix,
    /// One padded input row at a time over the whole layer (shifted partial sums, no masks).
    LayerRows,
    /// Per output position and tap, every output channel's partial sum at once.
    LayerOverChannels,
}

/// How `backward` computes `dL/dk` and `dL/db`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dk {
    /// One expression per kernel element.
    Unrolled,
    /// Accumulated per output position and tap.
    Window,
    /// Per output row, the companion's dot products in interleaved partial sums.
    RowsDots,
    /// Per output row, the companion's updates vectorised over output channels.
    RowsOverChannels,
    /// Lane sums over every row of the layer, two output channels per input-row load.
    LayerRows,
    /// Per output position and tap, every output channel at once.
    LayerOverChannels,
}

/// Whether something applies: never, where the build's target has the feature (decided by
/// `cfg(target_feature)` in the crate that uses the layer), or always.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum When {
    /// Never.
    Never,
    /// Where the build's target has the feature.
    TargetHas,
    /// Always.
    Always,
}
