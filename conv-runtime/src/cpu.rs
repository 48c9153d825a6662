//! The CPU tier the generated code runs on.
//!
//! Every `#[conv2d]` layer carries one variant of `forward` and `backward` per tier (see
//! [`Tier`]); `Name::forward` and `Name::backward` (and so [`Conv2d`](crate::Conv2d) and
//! [`train::Layer`](crate::train::Layer)) run the variant of [`tier()`]:
//!
//! - with the `std` feature, the best tier the CPU running the program has, detected on the
//!   first call and cached (later calls cost one relaxed atomic load and a branch);
//! - without `std`, the best tier the build's target features guarantee
//!   (`cfg(target_feature)`, for example with `-C target-cpu=native`), known at compile time.
//!
//! The portable variant is also what the layer's `const fn`s (`forward_const`,
//! `backward_const`) compute, compiled for the build's own target.

#[cfg(feature = "std")]
use core::sync::atomic::{AtomicU8, Ordering};

pub use conv_engine::Tier;

/// Whether the CPU running the program (with `std`), or every CPU the build targets
/// (without), can run `tier`'s code.
#[inline]
pub fn is_available(tier: Tier) -> bool {
    tier <= self::tier()
}

/// The tier the build's target features guarantee.
pub const fn compiled() -> Tier {
    if cfg!(all(
        target_arch = "x86_64",
        target_feature = "avx512f",
        target_feature = "avx512bw",
        target_feature = "avx512dq",
        target_feature = "avx512vl",
        target_feature = "avx2",
        target_feature = "fma"
    )) {
        Tier::Avx512
    } else if cfg!(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma"
    )) {
        Tier::Avx2
    } else {
        Tier::Portable
    }
}

/// The tier the generated code runs: the best the CPU has (with `std`, detected once), or
/// [`compiled()`] (without `std`).
#[inline]
pub fn tier() -> Tier {
    #[cfg(feature = "std")]
    {
        const UNKNOWN: u8 = u8::MAX;
        static TIER: AtomicU8 = AtomicU8::new(UNKNOWN);
        if let Tier::Avx512 = compiled() {
            return Tier::Avx512;
        }
        match TIER.load(Ordering::Relaxed) {
            UNKNOWN => {
                let detected = detect();
                let index = Tier::ALL.iter().position(|&t| t == detected);
                TIER.store(index.map_or(0, |i| i as u8), Ordering::Relaxed);
                detected
            }
            t => Tier::ALL[usize::from(t).min(Tier::ALL.len() - 1)],
        }
    }
    #[cfg(not(feature = "std"))]
    {
        compiled()
    }
}

/// The best tier of the CPU running the program.
#[cfg(feature = "std")]
#[cold]
fn detect() -> Tier {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::is_x86_feature_detected!("avx")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma");
        let avx512 = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512vl");
        match (avx2, avx512) {
            (true, true) => return Tier::Avx512,
            (true, false) => return Tier::Avx2,
            _ => {}
        }
    }
    compiled()
}

/// Runs `f` compiled for the widest tier [`tier()`] allows: element-wise loops over long
/// slices (the network's parameter updates), whose results do not depend on the tier (each
/// element gets the same operations, with no contraction into fused multiply-adds).
///
/// `f` is inlined into a function compiled with the tier's target features, so LLVM
/// vectorises it with the tier's vectors.
#[inline]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    match tier() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `tier()` is `Avx512` only when the CPU running the program (with `std`) or
        // every CPU the build targets (without) has these features.
        Tier::Avx512 => unsafe { avx512(f) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for `Avx2`.
        Tier::Avx2 => unsafe { avx2(f) },
        _ => f(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,avx2,fma")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Asks the CPU to bring `value` into its caches ahead of its use: a hint, with no effect on
/// any result (nothing where the architecture has no such hint here). The batch trainer asks
/// for the next sample's input while it computes the current one; a training set larger than
/// the caches, visited in shuffled order, otherwise made the first read of every sample wait
/// for memory (`BENCHMARKS.md`, LeNet-5, the step of ba8426f).
#[cfg(feature = "std")]
#[inline]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = (value as *const T).cast::<i8>();
        for offset in (0..core::mem::size_of::<T>()).step_by(LINE) {
            // SAFETY: `start + offset` lies within `value`; a prefetch never faults and
            // changes no memory.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
