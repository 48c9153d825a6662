//! The classes of CPU generated code has variants for (available without features, so that
//! `conv-runtime`'s `no_std` core can select among them).

/// A class of CPU the generated code has a variant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tier {
    /// Any target: the code `const fn`s run, compiled for the build's own target features.
    /// aarch64 takes this tier too (its vectors are 128 bits wide, like the x86-64 baseline's).
    Portable,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX-512 (F, BW, DQ, VL) besides AVX2 and FMA.
    Avx512,
}

impl Tier {
    /// Every tier, from the most portable.
    pub const ALL: [Tier; 3] = [Tier::Portable, Tier::Avx2, Tier::Avx512];

    /// The `#[target_feature(enable = ..)]` list of the tier (empty for [`Tier::Portable`]).
    pub const fn target_features(self) -> &'static str {
        match self {
            Tier::Portable => "",
            Tier::Avx2 => "avx,avx2,fma",
            Tier::Avx512 => "avx,avx2,fma,avx512f,avx512bw,avx512dq,avx512vl",
        }
    }

    /// The tier's features as `cfg(target_feature = ..)` names (empty for
    /// [`Tier::Portable`]).
    pub const fn cfg_features(self) -> &'static [&'static str] {
        match self {
            Tier::Portable => &[],
            Tier::Avx2 => &["avx", "avx2", "fma"],
            Tier::Avx512 => &[
                "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
            ],
        }
    }
}
