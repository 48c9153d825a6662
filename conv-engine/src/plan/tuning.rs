//! The tuning table: every threshold the [plan](super) chooses forms by, each with the rule it
//! encodes and the `BENCHMARKS.md` section its evidence comes from. These are implementation
//! details (`pub(crate)`): retuning them changes which code form a layer gets, never its API or
//! its results beyond rounding (every form sums the same products).
//!
//! The limits users see (`MAX_UNROLLED_TERMS`, `MAX_DERIVED_MACS`, `MAX_WINDOW_MACS`) are not
//! here: they bound what a build may cost, and a layer beyond them is an error, not a choice.

/// Most products (`u`, `dL/dx` and `dL/dk` together) for which `auto` writes `forward` fully
/// unrolled: above it straight-line code costs more to compile than it saves at run time.
/// Evidence: `BENCHMARKS.md`, "B" (unrolled forward fastest) and the compile budgets (C as
/// `full` is the largest layer whose debug build stays within budget).
pub(crate) const AUTO_FULL_TERMS: usize = 50_000;

/// Most `dL/dx` plus `dL/dk` products for which `auto` writes `backward` fully unrolled: row
/// updates overtake straight-line sums early for the backward pass. Evidence: `BENCHMARKS.md`,
/// "A" (unrolled fastest) against "B" (`rows` fastest on both targets).
pub(crate) const AUTO_FULL_BACKWARD_TERMS: usize = 1_000;

/// Fewest output channels for which a small unpadded layer's `forward` is a window on tiers
/// with 256-bit vectors or wider: the statements of one position's output channels sit side
/// by side and pack into one vector per tap; with fewer, `rows` (or the unrolled form) keeps
/// the vectors along the row. Evidence: `BENCHMARKS.md`, "native / B" (window beside full) and
/// "native / C" (window beside rows), against the `default` sections, where 128-bit vectors
/// make the window slower.
pub(crate) const WINDOW_CHANNELS: usize = 8;

/// Independent partial sums per dot product, and the channel count from which loops over
/// channels are vectorised across channels: one 256-bit vector of `f32`. Fewer partial sums
/// leave a dependency chain; loops over fewer channels vectorise with gathers instead of along
/// the rows, so their counters stay opaque (`core::hint::black_box`). Evidence:
/// `BENCHMARKS.md`, "native / C" (six channels, rows form).
pub(crate) const LANES: usize = 8;

/// Longest output row whose updates are written out element by element (the accumulator row
/// then stays in registers and the SLP vectoriser packs it); longer rows loop. Evidence:
/// `BENCHMARKS.md`, "C" and "E" (rows of 28 and 30 columns, written out).
pub(crate) const WRITTEN_OUT_ROW: usize = 64;

/// Most accumulators (output channels times output columns) per block of the forward row
/// vectorised over output channels: they must fit the vector registers (6 AVX-512 or 12 AVX
/// registers of `f32`), beyond which they spill. Evidence: `BENCHMARKS.md`, "E".
pub(crate) const BLOCK_FLOATS: usize = 96;

/// [`BLOCK_FLOATS`] on the AVX-512 tier, whose 32 vector registers hold 12 blocks of 16 `f32`
/// (or 24 of 8 `f64`) besides the weights: more independent chains of fused multiply-adds
/// than six, whose latency bounded LeNet-5's second layer's `forward`. Evidence:
/// `BENCHMARKS.md`, LeNet-5, "What this round changed, step by step".
pub(crate) const WIDE_BLOCK_FLOATS: usize = 192;

/// Kernel columns whose `dL/dk` lane sums (two output channels, each a row of the output row
/// rounded up to 16 lanes) one pass of the layer-level `backward` over the rows keeps: on AVX2,
/// three (24 registers of sums for LeNet-5's first layer's rows of 32 lanes) beat two and four.
/// Evidence: `BENCHMARKS.md`, LeNet-5, "What this round changed, step by step".
pub(crate) const TAPS_PER_PASS: usize = 3;

/// [`TAPS_PER_PASS`] on the AVX-512 tier: five (20 of its 32 registers of sums), so that each
/// row of `delta` loaded feeds all five taps of a kernel row; beat three and four. Evidence: as
/// [`TAPS_PER_PASS`].
pub(crate) const WIDE_TAPS_PER_PASS: usize = 5;

/// Most `dL/dx` partial sums (padded input elements times output channels) for which a
/// layer with many output channels writes `backward` at the layer level over its output
/// channels whatever its size, instead of per output row through the companion. (The bound
/// dates from when the form kept all of one channel's sums on the stack; it now keeps one
/// padded row of them, and the bound has not been measured again.) Evidence: the round of
/// a6d1991 in `BENCHMARKS.md`'s history (`git log -S a6d1991 -- BENCHMARKS.md`: LeNet-5's
/// second layer, 18,816 sums).
pub(crate) const LAYER_DX_FLOATS: usize = 32_768;

/// Fewest multiply-adds for which a layer gets a variant per CPU tier: a call into a
/// `#[target_feature]` function cannot be inlined into a caller compiled without those
/// features, and below this the inlined portable code is faster than a call into wider
/// vectors. Evidence: `BENCHMARKS.md`, "default / A" (81 multiply-adds) against
/// "default / B" (2,592).
pub(crate) const DISPATCH_MACS: usize = 1_000;

/// Most partial sums of one padded row of `dL/dx` (padded columns times output channels) for
/// which the layer-level `backward` over output channels writes the row's updates out, one
/// copy per output column and kernel column, instead of looping over them: the row then stays
/// in vector registers (24 AVX-512 registers of 16 `f32`; a row of `f64` takes twice as many
/// and spills, not measured), where in a loop each update loaded and stored its element.
/// Evidence: `BENCHMARKS.md`, LeNet-5, "What this round changed, step by step" (97349bc: `F`
/// and `B` `backward`).
#[cfg(feature = "codegen")]
pub(crate) const UNROLLED_DX_ROW: usize = 384;
