//! The plan: which code form each generated function takes on each target tier, and what the
//! compile-time checks cover, chosen once per layer from its [`Spec`]. Every later stage reads
//! its choices from here; the thresholds live in one tuning table (the private `tuning`
//! module), so retuning never changes the API.
//!
//! Rules (`unroll = auto`):
//!
//! - `forward`: fully unrolled up to a number of products, else `rows`. On tiers with 256-bit
//!   vectors or wider (AVX2, AVX-512), an unpadded layer is written as a window instead when
//!   it would be unrolled and has many output channels (one vector per tap across the channels
//!   of a position), or when it would be `rows`, has few output channels, rows shorter than
//!   `LANES` columns and the whole layer is small enough to be checked at compile time by
//!   evaluation (with longer rows, `forward` runs over the layer's rows, below).
//! - `backward`: fully unrolled up to a smaller number of products, else `rows`. A `rows`
//!   layer small enough to be checked whole writes `backward` at the layer level (over all its
//!   rows, or over its positions with the output channels innermost); so does a channel-first
//!   layer of any size with many output channels whose `dL/dx` partial sums (one per padded
//!   input element and output channel) stay within a fixed number of floats, over its
//!   output channels. Other layers loop over a one-row companion layer. A layer whose
//!   `backward` runs over all its rows writes `forward` at the layer level too on the AVX2 and
//!   AVX-512 tiers: per output row, the sums of two output channels at a time in rows a
//!   multiple of a vector wide (the output row rounded up), updated by every tap.
//! - Within `rows`, layers with many output channels vectorise across them: `forward` when its
//!   rows are short enough to write out, `dL/dk` when its rows are long enough to fill the
//!   partial sums. The forward row over output channels keeps its accumulators in blocks of
//!   output columns sized to the tier's vector registers: larger on AVX-512 (32 registers)
//!   than on the other tiers, where that changes the blocks.
//! - The unrolled `backward` fuses its multiply-adds on tiers with FMA, and keeps `dL/dx` and
//!   `dL/dk` in functions of their own on AVX-512. The layer-level `backward` fuses its
//!   multiply-adds on the AVX2 and AVX-512 tiers. `forward` fuses on those tiers in every
//!   form, and is a product and a sum on the portable tier.
//! - Layers with very few multiply-adds have no per-tier variants: every tier runs the
//!   portable code, which inlines into its caller.
//!
//! `unroll = full | window | rows` pins the family on every tier; the choices within `rows`
//! still follow the rules above. Every form sums the derivation's products; forms that share a
//! summation order and fusion give the same bits (every form of `forward` on one tier).

mod forms;
mod tuning;

#[cfg(test)]
mod tests;

pub use crate::tier::Tier;
use crate::{ChannelLayout, Spec, Strategy, Unroll, MAX_WINDOW_MACS};
pub use forms::{Blocks, Dk, Dx, Forward, LaneSums, Vectors, When};

/// The layer-level forms' rows of sums span the output row rounded up to a multiple of this
/// many columns: one AVX-512 vector of `f32` (`emit::layer_rows`).
pub(crate) const ROW_LANES: usize = 16;

#[cfg(feature = "codegen")]
pub(crate) use tuning::UNROLLED_DX_ROW;
pub(crate) use tuning::{LANES, WRITTEN_OUT_ROW};

/// The code of one tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TierPlan {
    /// `forward`.
    pub forward: Forward,
    /// `backward`'s `dL/dx`.
    pub dx: Dx,
    /// `backward`'s `dL/dk` and `dL/db`.
    pub dk: Dk,
    /// Whether `backward` fuses each term after the first into the running sum
    /// (`conv_runtime::mul_add`; only with `std`, as `core` has no fused multiply-add): the
    /// unrolled form, and the layer-level forms on the AVX2 and AVX-512 tiers.
    pub fused: When,
    /// Whether `forward` fuses each product into its running sum, after the bias (every form
    /// on the AVX2 and AVX-512 tiers: one fused multiply-add per product instead of a product
    /// and a sum).
    pub forward_fused: When,
    /// The accumulator blocks of [`Forward::RowsOverChannels`] (output columns) and of
    /// [`Forward::LayerRows`] (output channels per row): [`Blocks::Wide`] on AVX-512 where they
    /// differ from the narrow ones, else [`Blocks::Narrow`].
    pub forward_blocks: Blocks,
    /// The `dL/dk` lane sums per pass of [`Dx::LayerRows`]: [`Blocks::Wide`] on AVX-512 where
    /// the layer has more kernel columns than a narrow pass keeps, else [`Blocks::Narrow`].
    pub backward_blocks: Blocks,
    /// How [`Dx::LayerOverChannels`] adds its lane sums ([`LaneSums::EachColumn`] in every
    /// other form).
    pub lane_sums: LaneSums,
    /// How the body of `dL/dk` and `dL/db` alone (a network's first convolution, which needs
    /// no `dL/dx`) of [`Dx::LayerRows`] adds each tap's lane sums ([`LaneSums::EachColumn`] in
    /// every other form). The compile-time check never evaluates that body (its program is
    /// proven by symbolic execution), so it may call `conv_runtime::lanes`, which is not
    /// `const`.
    pub parameter_lane_sums: LaneSums,
    /// How `forward` and `backward` write their loops over whole vectors:
    /// [`Vectors::Avx512`] on the AVX-512 tier, else [`Vectors::Scalar`]. Intrinsics are not
    /// `const`: where the compile-time check evaluates the layer whole, it evaluates the same
    /// programs lowered as scalar code (twins of the tier's bodies), and the companion's
    /// `forward` that the tier calls has a twin with intrinsics beside the one it evaluates.
    pub vectors: Vectors,
    /// How the body of `dL/dk` and `dL/db` alone writes them: [`Vectors::Avx512`] on the
    /// AVX-512 tier (the compile-time check never evaluates that body), else
    /// [`Vectors::Scalar`].
    pub parameter_vectors: Vectors,
    /// Whether the unrolled `backward` keeps `dL/dx` and `dL/dk` in functions of their own
    /// (`#[inline(never)]`), so that each is vectorised on its own.
    pub split: When,
}

/// What the compile-time evaluation of the emitted `const fn`s covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConstCheck {
    /// The whole layer's `forward` and `backward`, of every variant.
    Whole,
    /// Only the one-row companion (the layer is too large to evaluate whole). The loops around
    /// it are proven by symbolic execution of their IR instead ([`crate::ir`]).
    OneRow,
}

/// The plan of one layer: its code on every tier and what is checked at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Plan {
    /// The code on [`Tier::Portable`]: the `const fn`s.
    pub portable: TierPlan,
    /// The code on [`Tier::Avx2`].
    pub avx2: TierPlan,
    /// The code on [`Tier::Avx512`].
    pub avx512: TierPlan,
    /// Whether the layer has a variant per tier (else every tier runs the portable code:
    /// the layer is too small for a call into wider vectors to pay).
    pub dispatch: bool,
    /// Whether some tier uses the one-row companion layer.
    pub companion: bool,
    /// What the compile-time evaluation covers.
    pub check: ConstCheck,
}

impl Plan {
    /// The code of `tier`.
    pub const fn tier(&self, tier: Tier) -> &TierPlan {
        match tier {
            Tier::Portable => &self.portable,
            Tier::Avx2 => &self.avx2,
            Tier::Avx512 => &self.avx512,
        }
    }

    /// The plans of every tier, from the most portable.
    pub fn tiers(&self) -> [(Tier, &TierPlan); 3] {
        Tier::ALL.map(|t| (t, self.tier(t)))
    }
}

/// The plan of a validated spec.
pub fn plan(spec: &Spec) -> Plan {
    plan_with(spec, None)
}

/// The plan with the spec's strategy replaced by `strategy` on every tier (`None`: the spec's
/// own `unroll`).
pub fn plan_with(spec: &Spec, strategy: Option<Strategy>) -> Plan {
    let unroll = match strategy {
        None => spec.unroll,
        Some(Strategy::Full) => Unroll::Full,
        Some(Strategy::Window) => Unroll::Window,
        Some(Strategy::Rows) => Unroll::Rows,
    };
    let spec = Spec { unroll, ..*spec };
    let dispatch = spec.geometry.macs() >= tuning::DISPATCH_MACS;
    let [portable, avx2, mut avx512] = match dispatch {
        true => Tier::ALL.map(|t| tier_plan(&spec, t)),
        false => [tier_plan(&spec, Tier::Portable); 3],
    };
    let companion = [portable, avx2, avx512].iter().any(|p| {
        matches!(p.forward, Forward::Rows | Forward::RowsOverChannels) || p.dx == Dx::RowsMatrix
    });
    let check = match companion && spec.geometry.macs() > MAX_WINDOW_MACS {
        true => ConstCheck::OneRow,
        false => ConstCheck::Whole,
    };
    // The compile-time check evaluates every variant's `backward` in `const`, and the AVX-512
    // lane sums are not `const`: only layers it does not evaluate whole take them.
    if check == ConstCheck::Whole {
        avx512.lane_sums = LaneSums::EachColumn;
    }
    Plan {
        portable,
        avx2,
        avx512,
        dispatch,
        companion,
        check,
    }
}

fn tier_plan(spec: &Spec, tier: Tier) -> TierPlan {
    let (dx, dk) = match backward_strategy(spec) {
        Strategy::Full => (Dx::Unrolled, Dk::Unrolled),
        Strategy::Window => (Dx::Window, Dk::Window),
        Strategy::Rows => rows_backward(spec),
    };
    let unrolled = dx == Dx::Unrolled;
    let layer_level = matches!(dx, Dx::LayerRows | Dx::LayerOverChannels);
    let (fused, split) = match (unrolled, layer_level, tier) {
        (true, _, Tier::Portable) => (When::TargetHas, When::TargetHas),
        (true, _, Tier::Avx2) => (When::Always, When::Never),
        (true, _, Tier::Avx512) => (When::Always, When::Always),
        (false, true, Tier::Avx2 | Tier::Avx512) => (When::Always, When::Never),
        (false, _, _) => (When::Never, When::Never),
    };
    let forward = match forward_strategy(spec, tier) {
        Strategy::Full => Forward::Unrolled,
        Strategy::Window => Forward::Window,
        Strategy::Rows if rows_forward_over_channels(spec) => Forward::RowsOverChannels,
        Strategy::Rows if dx == Dx::LayerRows && tier != Tier::Portable => Forward::LayerRows,
        Strategy::Rows => Forward::Rows,
    };
    let forward_fused = match tier {
        Tier::Avx2 | Tier::Avx512 => When::Always,
        Tier::Portable => When::Never,
    };
    let [_, ow] = spec.geometry.output();
    let co = spec.geometry.out_channels();
    let lanes = ow.next_multiple_of(ROW_LANES);
    let wide = tier == Tier::Avx512
        && match forward {
            Forward::RowsOverChannels => {
                Blocks::Wide.columns(ow, co) != Blocks::Narrow.columns(ow, co)
            }
            Forward::LayerRows => {
                Blocks::Wide.channels_per_row(lanes, co)
                    != Blocks::Narrow.channels_per_row(lanes, co)
            }
            _ => false,
        };
    let [_, kw] = spec.geometry.kernel();
    let wide_dk = tier == Tier::Avx512
        && dx == Dx::LayerRows
        && kw.min(Blocks::Wide.taps_per_pass()) != kw.min(Blocks::Narrow.taps_per_pass());
    TierPlan {
        forward,
        dx,
        dk,
        fused,
        forward_fused,
        forward_blocks: if wide { Blocks::Wide } else { Blocks::Narrow },
        backward_blocks: if wide_dk {
            Blocks::Wide
        } else {
            Blocks::Narrow
        },
        lane_sums: match tier == Tier::Avx512
            && dx == Dx::LayerOverChannels
            && co == 16
            && spec.scalar == crate::Scalar::F32
        {
            true => LaneSums::Avx512Rows,
            false => LaneSums::EachColumn,
        },
        parameter_lane_sums: match tier == Tier::Avx512
            && dx == Dx::LayerRows
            // Rows of lane sums two AVX-512 vectors wide, each tap's sum a `leading` one.
            && (ROW_LANES + 1..=2 * ROW_LANES).contains(&ow)
            && spec.scalar == crate::Scalar::F32
        {
            true => LaneSums::Avx512Rows,
            false => LaneSums::EachColumn,
        },
        vectors: avx512_vectors(tier),
        parameter_vectors: avx512_vectors(tier),
        split,
    }
}

/// [`Vectors::Avx512`] on the AVX-512 tier.
fn avx512_vectors(tier: Tier) -> Vectors {
    match tier {
        Tier::Avx512 => Vectors::Avx512,
        _ => Vectors::Scalar,
    }
}

fn channels(spec: &Spec) -> bool {
    spec.layout == ChannelLayout::ChannelFirst
}

fn padded(spec: &Spec) -> bool {
    spec.geometry.pads() != [0, 0, 0, 0]
}

/// The family `forward` is written in on `tier`.
pub(crate) fn forward_strategy(spec: &Spec, tier: Tier) -> Strategy {
    let g = &spec.geometry;
    let asked = match spec.unroll {
        Unroll::Full => return Strategy::Full,
        Unroll::Window => return Strategy::Window,
        Unroll::Rows => return Strategy::Rows,
        Unroll::Auto if spec.unrolled_terms() <= tuning::AUTO_FULL_TERMS => Strategy::Full,
        Unroll::Auto => Strategy::Rows,
    };
    let many = g.out_channels() >= tuning::WINDOW_CHANNELS;
    match asked {
        _ if tier == Tier::Portable || padded(spec) => asked,
        Strategy::Full if many => Strategy::Window,
        Strategy::Rows if !many && g.macs() <= MAX_WINDOW_MACS && g.output()[1] < LANES => {
            Strategy::Window
        }
        _ => asked,
    }
}

/// The family `backward` is written in (the same on every tier).
pub(crate) fn backward_strategy(spec: &Spec) -> Strategy {
    match spec.unroll {
        Unroll::Auto if 2 * spec.geometry.nonzero_terms() <= tuning::AUTO_FULL_BACKWARD_TERMS => {
            Strategy::Full
        }
        Unroll::Auto => Strategy::Rows,
        _ => forward_strategy(spec, Tier::Portable),
    }
}

/// `dL/dx` and `dL/dk` of a `rows` layer: at the layer level when the whole layer is checked
/// by evaluation and its shape suits one of the layer-level forms, or when it has many output
/// channels and the per-channel partial sums of `dL/dx` fit [`tuning::LAYER_DX_FLOATS`]; else
/// through the companion.
fn rows_backward(spec: &Spec) -> (Dx, Dk) {
    let g = &spec.geometry;
    let ow = g.output()[1];
    let (short, many) = (ow < LANES, g.out_channels() >= LANES);
    match (g.macs() <= MAX_WINDOW_MACS, short, many) {
        (true, false, false) => (Dx::LayerRows, Dk::LayerRows),
        (true, true, true) if channels(spec) => (Dx::LayerOverChannels, Dk::LayerOverChannels),
        (_, _, true) if channels(spec) && layer_partial_sums(spec) <= tuning::LAYER_DX_FLOATS => {
            (Dx::LayerOverChannels, Dk::LayerOverChannels)
        }
        _ if companion_dk_over_channels(spec) => (Dx::RowsMatrix, Dk::RowsOverChannels),
        _ => (Dx::RowsMatrix, Dk::RowsDots),
    }
}

/// The partial sums the layer-level `backward` over output channels keeps for `dL/dx`: one
/// per padded input element and output channel.
fn layer_partial_sums(spec: &Spec) -> usize {
    let g = &spec.geometry;
    let [hp, wp] = g.padded_input();
    g.in_channels() * hp * wp * g.out_channels()
}

/// Whether the companion's `dL/dk` is vectorised over output channels (the same for a layer
/// and its one-row companion, which share the output row and the channels).
pub(crate) fn companion_dk_over_channels(spec: &Spec) -> bool {
    let g = &spec.geometry;
    channels(spec) && g.out_channels() >= LANES && g.output()[1] >= LANES
}

/// Whether the companion's `forward` row is vectorised over output channels (the same for a
/// layer and its one-row companion).
pub(crate) fn rows_forward_over_channels(spec: &Spec) -> bool {
    let g = &spec.geometry;
    channels(spec) && g.out_channels() >= LANES && g.output()[1] <= WRITTEN_OUT_ROW
}
