//! Lane sums the generated code calls on the AVX-512 tier, where LLVM writes its own poorly.
//!
//! A layer that keeps its `dL/dx` partial sums with sixteen output channels per vector
//! (`Dx::LayerOverChannels` in the engine's plan) adds each column's sixteen lanes pairwise
//! at the end of every padded row. Written one column at a time, each of those sums is a few
//! shuffles and additions on one vector; [`pairwise_rows_avx512`] adds sixteen columns' lanes
//! at once, each shuffle serving every column, with the same additions of the same operands in
//! the same order, so the bits are those of the portable [`pairwise`]. The engine proves the
//! generated program, whose statement is "each column's lanes added pairwise", by symbolic
//! execution; this module's tests check that the two functions agree bit for bit.
//!
//! The same function adds the AVX-512 dense `forward`'s sixteen partial sums of each output.
//! [`leading_rows_avx512`] adds the lane sums of a network's first convolution's `dL/dk` alone
//! where its rows are 17 to 32 columns (`leading` sums: the lanes past sixteen added into the
//! first ones, then sixteen lanes pairwise), every tap of a pass at once, from the pass's
//! accumulators themselves.

/// The sixteen lanes of `s` added pairwise: lanes `i` and `i + 8` for `i < 8`, then `i` and
/// `i + 4` of those, then `i` and `i + 2`, then the last two (the generated code's `sum`).
#[inline]
pub const fn pairwise(s: &[f32; 16]) -> f32 {
    let mut s = *s;
    let mut width = 16;
    while width > 1 {
        width /= 2;
        let mut i = 0;
        while i < width {
            s[i] += s[i + width];
            i += 1;
        }
    }
    s[0]
}

/// `out[r] = pairwise(&rows[r])` for every row, sixteen rows at a time: the rows' halves added
/// into vectors of two rows each, those into vectors of four rows' quarters, then eight rows'
/// pairs, then sixteen sums, which one permutation puts in row order. Each addition is one of
/// [`pairwise`]'s, the lower lanes first.
///
/// # Safety
///
/// The CPU must have AVX-512F (the generated code calls it only from its AVX-512 tier).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
pub unsafe fn pairwise_rows_avx512<const R: usize>(rows: &[[f32; 16]; R], out: &mut [f32; R]) {
    use core::arch::x86_64::{_mm512_loadu_ps, _mm512_setzero_ps};
    let mut first = 0;
    while first < R {
        let count = (R - first).min(16);
        let block = core::array::from_fn(|r| match r < count {
            // SAFETY: `rows[first + r]` is 16 floats.
            true => unsafe { _mm512_loadu_ps(rows[first + r].as_ptr()) },
            false => _mm512_setzero_ps(),
        });
        // SAFETY: the CPU has AVX-512F (this function's contract).
        unsafe { pairwise_block(&block, &mut out[first..first + count]) };
        first += 16;
    }
}

/// `out[r] = leading(rows[r], n[r])` for every row: the lanes `16..n[r]` of the row added into
/// its lanes `0..n[r] - 16` (one masked vector addition, each lane's sum the `leading` sum's
/// first step), then the sixteen lanes of every row pairwise, sixteen rows at a time, as
/// [`pairwise_rows_avx512`] adds them. Each `n[r]` is between 17 and 32: `leading`'s sums of
/// rows of 17 to 32 lanes (the generated code's `leading`, whose first step adds the lanes past
/// the largest power of two not above `n`). Rows the code sums this way are the accumulators
/// of a pass, still in registers when the function is inlined into its caller's AVX-512 body.
///
/// # Safety
///
/// The CPU must have AVX-512F (the generated code calls it only from its AVX-512 tier).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
pub unsafe fn leading_rows_avx512<const R: usize>(
    rows: [&[f32; 32]; R],
    n: [usize; R],
    out: &mut [f32; R],
) {
    use core::arch::x86_64::{_mm512_loadu_ps, _mm512_mask_add_ps, _mm512_setzero_ps};
    debug_assert!(n.iter().all(|n| (17..=32).contains(n)));
    let mut first = 0;
    while first < R {
        let count = (R - first).min(16);
        let block = core::array::from_fn(|r| {
            if r >= count {
                return _mm512_setzero_ps();
            }
            let row = rows[first + r];
            // SAFETY: `row` is 32 floats, two vectors.
            let (low, high) = unsafe {
                (
                    _mm512_loadu_ps(row.as_ptr()),
                    _mm512_loadu_ps(row.as_ptr().add(16)),
                )
            };
            let past = n[first + r].clamp(16, 32) - 16;
            _mm512_mask_add_ps(low, ((1u32 << past) - 1) as u16, low, high)
        });
        // SAFETY: the CPU has AVX-512F (this function's contract).
        unsafe { pairwise_block(&block, &mut out[first..first + count]) };
        first += 16;
    }
}

/// The sixteen lanes of each of the first `out.len()` (at most 16) vectors of `rows` added
/// pairwise, as [`pairwise_rows_avx512`] describes, and stored to `out`; the vectors past those
/// are zeros and their sums are not stored.
///
/// # Safety
///
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn pairwise_block(rows: &[core::arch::x86_64::__m512; 16], out: &mut [f32]) {
    use core::arch::x86_64::{
        __m512, _mm512_add_ps, _mm512_mask_storeu_ps, _mm512_permutexvar_ps, _mm512_set_epi32,
        _mm512_shuffle_f32x4, _mm512_shuffle_ps,
    };
    // [lanes 0..8 of row 2k, of row 2k + 1] + [lanes 8..16 of each]: the halves' sums.
    let halves: [__m512; 8] = core::array::from_fn(|k| {
        let (a, b) = (rows[2 * k], rows[2 * k + 1]);
        _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b),
            _mm512_shuffle_f32x4::<0b11_10_11_10>(a, b),
        )
    });
    // Quarters: four rows' lanes 0..4 + lanes 4..8 of the halves.
    let quarters: [__m512; 4] = core::array::from_fn(|k| {
        let (a, b) = (halves[2 * k], halves[2 * k + 1]);
        _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b10_00_10_00>(a, b),
            _mm512_shuffle_f32x4::<0b11_01_11_01>(a, b),
        )
    });
    // Pairs: in 128-bit block j, lanes 0..2 + 2..4 of rows 8k + j and 8k + 4 + j.
    let pairs: [__m512; 2] = core::array::from_fn(|k| {
        let (a, b) = (quarters[2 * k], quarters[2 * k + 1]);
        _mm512_add_ps(
            _mm512_shuffle_ps::<0b01_00_01_00>(a, b),
            _mm512_shuffle_ps::<0b11_10_11_10>(a, b),
        )
    });
    // Sums: block j holds rows j, 4 + j, 8 + j, 12 + j; lane 0 + lane 1 of each pair.
    let sums = _mm512_add_ps(
        _mm512_shuffle_ps::<0b10_00_10_00>(pairs[0], pairs[1]),
        _mm512_shuffle_ps::<0b11_01_11_01>(pairs[0], pairs[1]),
    );
    // Row r sits in lane 4 * (r % 4) + r / 4.
    let order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    let sums = _mm512_permutexvar_ps(order, sums);
    let count = out.len().min(16);
    let mask = match count {
        16 => u16::MAX,
        _ => ((1u32 << count) - 1) as u16,
    };
    // SAFETY: the mask covers `out[..count]`, within `out`.
    unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr(), mask, sums) };
}

#[cfg(all(test, target_arch = "x86_64", feature = "std"))]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Rows of random values with NaN, infinities, signed zeros and values that cancel.
    fn rows<const R: usize>(rng: &mut SplitMix64) -> [[f32; 16]; R] {
        let special = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-40,
        ];
        core::array::from_fn(|_| {
            core::array::from_fn(|_| match rng.next_u64() % 16 {
                0 => special[(rng.next_u64() % special.len() as u64) as usize],
                _ => ((rng.unit() - 0.5) * 1e3) as f32,
            })
        })
    }

    fn agrees<const R: usize>(rng: &mut SplitMix64) {
        for _ in 0..200 {
            let rows = rows::<R>(rng);
            let mut out = [7.0f32; R];
            // SAFETY: checked by the caller.
            unsafe { pairwise_rows_avx512(&rows, &mut out) };
            for (r, row) in rows.iter().enumerate() {
                same(out[r], pairwise(row), format_args!("row {r} of {R}"));
            }
        }
    }

    /// `got` is `want` bit for bit (any NaN for a NaN).
    fn same(got: f32, want: f32, what: core::fmt::Arguments<'_>) {
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{what}: {got} against {want}"
        );
    }

    /// Whether the CPU has AVX-512F, saying the test is skipped when not (the generated code
    /// never calls these functions on such a CPU).
    fn has_avx512f(function: &str) -> bool {
        let has = std::is_x86_feature_detected!("avx512f");
        if !has {
            eprintln!("SKIPPED: {function} (this CPU lacks AVX-512F)");
        }
        has
    }

    /// The generated code's `leading`: lanes `16..n` added into lanes `0..n - 16`, then
    /// [`pairwise`] (for `16 < n <= 32`, where the largest power of two not above `n` is 16).
    fn leading(row: &[f32; 32], n: usize) -> f32 {
        let mut s = [0.0f32; 16];
        s.copy_from_slice(&row[..16]);
        for i in 0..n - 16 {
            s[i] += row[i + 16];
        }
        pairwise(&s)
    }

    fn leading_agrees<const R: usize>(rng: &mut SplitMix64) {
        for _ in 0..200 {
            let data: [[f32; 32]; R] = core::array::from_fn(|_| {
                let halves = rows::<2>(rng);
                core::array::from_fn(|l| halves[l / 16][l % 16])
            });
            let n: [usize; R] = core::array::from_fn(|_| 17 + (rng.next_u64() % 16) as usize);
            let mut out = [7.0f32; R];
            // SAFETY: checked by the caller.
            unsafe { leading_rows_avx512(core::array::from_fn(|r| &data[r]), n, &mut out) };
            for (r, row) in data.iter().enumerate() {
                let want = leading(row, n[r]);
                same(out[r], want, format_args!("row {r} of {R}, n = {}", n[r]));
            }
        }
    }

    #[test]
    fn the_avx512_leading_sums_are_the_leading_sums_bit_for_bit() {
        if !has_avx512f("leading_rows_avx512") {
            return;
        }
        let mut rng = SplitMix64::new(0x1ead);
        leading_agrees::<1>(&mut rng);
        leading_agrees::<10>(&mut rng);
        leading_agrees::<16>(&mut rng);
        leading_agrees::<21>(&mut rng);
    }

    #[test]
    fn the_avx512_sums_are_the_pairwise_sums_bit_for_bit() {
        if !has_avx512f("pairwise_rows_avx512") {
            return;
        }
        let mut rng = SplitMix64::new(0x1a9e5);
        agrees::<1>(&mut rng);
        agrees::<5>(&mut rng);
        agrees::<14>(&mut rng);
        agrees::<16>(&mut rng);
        agrees::<17>(&mut rng);
        agrees::<40>(&mut rng);
    }
}
