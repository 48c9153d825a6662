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
//! The same function adds the AVX-512 dense `forward`'s sixteen partial sums of each output,
//! and the lane sums of a network's first convolution's `dL/dk` and `dL/db` alone where its
//! rows are 17 to 32 columns (`leading` sums: the lanes past sixteen added into the first ones,
//! which the generated code writes, then sixteen lanes pairwise, which this function adds for
//! every tap of a pass at once).

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
    use core::arch::x86_64::{
        __m512, _mm512_add_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps, _mm512_permutexvar_ps,
        _mm512_set_epi32, _mm512_setzero_ps, _mm512_shuffle_f32x4, _mm512_shuffle_ps,
    };
    let mut first = 0;
    while first < R {
        let n = (R - first).min(16);
        let row = |r: usize| match r < n {
            // SAFETY: `rows[first + r]` is 16 floats.
            true => unsafe { _mm512_loadu_ps(rows[first + r].as_ptr()) },
            false => _mm512_setzero_ps(),
        };
        // [lanes 0..8 of row 2k, of row 2k + 1] + [lanes 8..16 of each]: the halves' sums.
        let halves: [__m512; 8] = core::array::from_fn(|k| {
            let (a, b) = (row(2 * k), row(2 * k + 1));
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
        let mask = (1u32 << n) as u16;
        let mask = if n == 16 {
            u16::MAX
        } else {
            mask.wrapping_sub(1)
        };
        // SAFETY: the mask covers `out[first..first + n]`.
        unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr().add(first), mask, sums) };
        first += 16;
    }
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
                let want = pairwise(row);
                assert!(
                    out[r].to_bits() == want.to_bits() || (out[r].is_nan() && want.is_nan()),
                    "row {r} of {R}: {} against {want}",
                    out[r]
                );
            }
        }
    }

    #[test]
    fn the_avx512_sums_are_the_pairwise_sums_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx512f") {
            // The generated code never calls it on such a CPU.
            eprintln!("SKIPPED: pairwise_rows_avx512 (this CPU lacks AVX-512F)");
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
