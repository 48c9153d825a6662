//! [`super::rows`] for `f32` batches of up to four chunks on the AVX-512 tier: each block of
//! weights goes from the samples' records to the step in registers. Each chunk's sums of two
//! rows and up to 64 columns stay in vectors over its samples, the tree's additions (at most
//! one below each half of the root for four chunks) and the update follow on the same vectors,
//! and only the parameters (or, without a step, the gradient) are stored: no block of sums
//! goes through memory, as it must in [`super::rows`]' general code, written for any chunk
//! count. The columns after the last whole vector go through masked loads and stores.
//!
//! Every weight gets the operations of [`super::rows`], in the same order: per chunk
//! `((0 + d₀x₀) + d₁x₁) + …` over its samples, a product then a sum, then the chunks' sums
//! added in the trainer's tree (for `c` chunks: `c₀`, `c₀ | c₁`, `c₀ + c₁ | c₂` or
//! `c₀ + c₁ | c₂ + c₃` as the root's two halves), then `(left + right) * scale` and, with a
//! step, `p - rate * that`. The module's tests compare the two bit for bit.

use crate::network::Deferred;
use core::arch::x86_64::{
    __m512, __mmask16, _mm512_add_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps,
    _mm512_maskz_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
    _mm512_sub_ps,
};

/// Lanes of a vector.
const LANES: usize = 16;
/// Vectors of columns per block.
const WIDE: usize = 4;
/// Bytes per cache line.
const LINE: usize = 64;

/// What every block of [`rows`] shares.
struct Job<'a> {
    chunks: &'a [&'a [&'a [f32]]],
    layer: &'a Deferred,
    first: usize,
    scale: __m512,
    rate: Option<__m512>,
}

/// [`super::rows`] for `f32`, for one to four chunks (`chunks`: each chunk's records).
///
/// # Safety
///
/// The CPU must have AVX-512F. `chunks` holds one to four chunks, and every record holds the
/// layer's input and `delta` from `layer.at` (as the trainer's records do).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn rows(
    chunks: &[&[&[f32]]],
    layer: &Deferred,
    first: usize,
    g: &mut [f32],
    mut p: Option<&mut [f32]>,
    scale: f32,
    rate: Option<f32>,
) {
    debug_assert!((1..=4).contains(&chunks.len()));
    let job = Job {
        chunks,
        layer,
        first,
        scale: _mm512_set1_ps(scale),
        rate: rate.map(|rate| _mm512_set1_ps(rate)),
    };
    let n = layer.inputs;
    let rows = g.len() / n.max(1);
    let mut r = 0;
    while r + 2 <= rows {
        if let Some(p) = p.as_deref() {
            // The next two rows' parameters, asked for with the intent to write them: the
            // other threads read them in the last batch, and without this the kernel made the
            // 2-thread epoch slower than the general code where the cores are far apart
            // (`BENCHMARKS.md`, LeNet-5, "After f7911ed").
            let ahead = &p[((r + 2) * n).min(p.len())..((r + 4) * n).min(p.len())];
            let start = ahead.as_ptr().cast::<u8>();
            for offset in (0..core::mem::size_of_val(ahead)).step_by(LINE) {
                // SAFETY: `start + offset` lies within `ahead`; a prefetch reads and writes
                // nothing and never faults; every CPU with AVX-512 has `PREFETCHW`.
                unsafe {
                    core::arch::asm!(
                        "prefetchw [{line}]",
                        line = in(reg) start.add(offset),
                        options(nostack, preserves_flags, readonly),
                    )
                };
            }
        }
        // SAFETY: AVX-512F (this function's contract); rows `r..r + 2` are within `g`.
        unsafe { job.columns::<2>(r, g, p.as_deref_mut()) };
        r += 2;
    }
    if r < rows {
        // SAFETY: as above, for row `r`.
        unsafe { job.columns::<1>(r, g, p) };
    }
}

impl Job<'_> {
    /// Rows `r..r + R`: blocks of [`WIDE`] vectors of columns, then single vectors, then one
    /// masked vector for the columns left.
    #[inline(always)]
    unsafe fn columns<const R: usize>(&self, r: usize, g: &mut [f32], mut p: Option<&mut [f32]>) {
        let n = self.layer.inputs;
        let mut col = 0;
        while n - col >= WIDE * LANES {
            // SAFETY: AVX-512F; columns `col..col + 64` of rows `r..r + R` are within the
            // layer.
            unsafe { self.block::<R, WIDE>(r, col, u16::MAX, g, p.as_deref_mut()) };
            col += WIDE * LANES;
        }
        while n - col >= LANES {
            // SAFETY: as above, for 16 columns.
            unsafe { self.block::<R, 1>(r, col, u16::MAX, g, p.as_deref_mut()) };
            col += LANES;
        }
        if col < n {
            let mask = (1u16 << (n - col)) - 1;
            // SAFETY: as above; the mask keeps the loads and stores to the `n - col` columns
            // left.
            unsafe { self.block::<R, 1>(r, col, mask, g, p) };
        }
    }

    /// Rows `r..r + R`, columns `col..` (`V` vectors, the lanes of `mask` in each): the
    /// chunks' sums, the tree and the update, in registers.
    #[inline(always)]
    unsafe fn block<const R: usize, const V: usize>(
        &self,
        r: usize,
        col: usize,
        mask: __mmask16,
        g: &mut [f32],
        mut p: Option<&mut [f32]>,
    ) {
        let n = self.layer.inputs;
        let (d_at, x_at) = (self.layer.at + n + self.first + r, self.layer.at + col);
        let width = V * LANES - (mask.count_zeros() as usize);
        let c = self.chunks;
        // SAFETY (each call): AVX-512F; every record holds the layer's input and `delta`.
        let (left, right) = unsafe {
            match c.len() {
                1 => (chunk_sums::<R, V>(c[0], d_at, x_at, width, mask), None),
                2 => (
                    chunk_sums::<R, V>(c[0], d_at, x_at, width, mask),
                    Some(chunk_sums::<R, V>(c[1], d_at, x_at, width, mask)),
                ),
                3 => (
                    pair_sums::<R, V>(c[0], c[1], d_at, x_at, width, mask),
                    Some(chunk_sums::<R, V>(c[2], d_at, x_at, width, mask)),
                ),
                _ => (
                    pair_sums::<R, V>(c[0], c[1], d_at, x_at, width, mask),
                    Some(pair_sums::<R, V>(c[2], c[3], d_at, x_at, width, mask)),
                ),
            }
        };
        for k in 0..R {
            let at = (r + k) * n + col;
            let g = &mut g[at..at + width];
            let mut p = p.as_deref_mut().map(|p| &mut p[at..at + width]);
            for v in 0..V {
                let sum = match &right {
                    Some(right) => _mm512_add_ps(left[k][v], right[k][v]),
                    None => left[k][v],
                };
                let mean = _mm512_mul_ps(sum, self.scale);
                match (p.as_deref_mut(), self.rate) {
                    (Some(p), Some(rate)) => {
                        let at = p.as_mut_ptr().wrapping_add(v * LANES);
                        // SAFETY: the lanes of `mask` in vector `v` lie within `p`'s slice.
                        let old = unsafe { load(at, mask) };
                        let new = _mm512_sub_ps(old, _mm512_mul_ps(rate, mean));
                        // SAFETY: as above.
                        unsafe { store(at, mask, new) };
                    }
                    _ => {
                        let at = g.as_mut_ptr().wrapping_add(v * LANES);
                        // SAFETY: lanes of `mask` in vector `v` lie within `g`'s slice.
                        unsafe { store(at, mask, mean) };
                    }
                }
            }
        }
    }
}

/// The lanes of `mask` at `at`, zero elsewhere (a plain load for a full mask).
#[inline(always)]
unsafe fn load(at: *const f32, mask: __mmask16) -> __m512 {
    // SAFETY: the caller's: the lanes of `mask` at `at` are readable.
    unsafe {
        match mask {
            u16::MAX => _mm512_loadu_ps(at),
            _ => _mm512_maskz_loadu_ps(mask, at),
        }
    }
}

/// `value`'s lanes of `mask` stored at `at` (a plain store for a full mask).
#[inline(always)]
unsafe fn store(at: *mut f32, mask: __mmask16, value: __m512) {
    // SAFETY: the caller's: the lanes of `mask` at `at` are writable.
    unsafe {
        match mask {
            u16::MAX => _mm512_storeu_ps(at, value),
            _ => _mm512_mask_storeu_ps(at, mask, value),
        }
    }
}

/// One chunk's sums of rows `d_at..d_at + R` of `delta` times columns `x_at..x_at + width` of
/// `x` (`V` vectors, the lanes of `mask` in each): `((0 + d₀x₀) + d₁x₁) + …` over its samples.
#[inline(always)]
unsafe fn chunk_sums<const R: usize, const V: usize>(
    samples: &[&[f32]],
    d_at: usize,
    x_at: usize,
    width: usize,
    mask: __mmask16,
) -> [[__m512; V]; R] {
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    for record in samples {
        let (x, d) = (&record[x_at..x_at + width], &record[d_at..d_at + R]);
        let mut xs = [_mm512_setzero_ps(); V];
        for (v, xs) in xs.iter_mut().enumerate() {
            // SAFETY: the lanes of `mask` in each vector lie within `x`.
            *xs = unsafe { load(x.as_ptr().wrapping_add(v * LANES), mask) };
        }
        for k in 0..R {
            let d = _mm512_set1_ps(d[k]);
            for v in 0..V {
                acc[k][v] = _mm512_add_ps(acc[k][v], _mm512_mul_ps(d, xs[v]));
            }
        }
    }
    acc
}

/// Two chunks' sums ([`chunk_sums`]), the second added into the first: the tree's addition
/// below a half of the root.
#[inline(always)]
unsafe fn pair_sums<const R: usize, const V: usize>(
    first: &[&[f32]],
    second: &[&[f32]],
    d_at: usize,
    x_at: usize,
    width: usize,
    mask: __mmask16,
) -> [[__m512; V]; R] {
    // SAFETY: the caller's, for both chunks.
    let (mut a, b) = unsafe {
        (
            chunk_sums::<R, V>(first, d_at, x_at, width, mask),
            chunk_sums::<R, V>(second, d_at, x_at, width, mask),
        )
    };
    for k in 0..R {
        for v in 0..V {
            a[k][v] = _mm512_add_ps(a[k][v], b[k][v]);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::super::{chunks, general, Records, CHUNK};
    use crate::network::Deferred;
    use crate::rng::SplitMix64;

    /// A value in `[-1, 1)`, now and then zero or negative zero (the sums start from `+0`).
    fn value(rng: &mut SplitMix64) -> f32 {
        match rng.below(16) {
            0 => 0.0,
            1 => -0.0,
            _ => (rng.unit() * 2.0 - 1.0) as f32,
        }
    }

    /// The kernel's gradients and steps are the general code's bits, for layers of every
    /// width class (whole blocks of 64 columns, single vectors, masked tails), odd and even row
    /// counts, rows from an offset (`first`, as the update's blocks of rows have), batches of 1
    /// to 4 chunks (the last one short), with and without a step.
    #[test]
    fn the_kernel_forms_the_general_codes_bits() {
        if !std::is_x86_feature_detected!("avx512f") {
            eprintln!("SKIPPED: deferred::avx512 (this CPU lacks AVX-512F)");
            return;
        }
        let mut rng = SplitMix64::new(41);
        for inputs in [1, 7, 16, 17, 40, 64, 65, 84, 120, 150] {
            for (outputs, first) in [(1, 0), (3, 0), (6, 1), (9, 4)] {
                for samples in [1usize, 3, 4, 5, 8, 11, 16] {
                    // Records with something before the layer's input and after its `delta`.
                    let at = 3;
                    let len = at + inputs + outputs + 2;
                    let data: Vec<Vec<f32>> = (0..samples)
                        .map(|_| (0..len).map(|_| value(&mut rng)).collect())
                        .collect();
                    let records = Records {
                        samples: data.iter().map(Vec::as_slice).collect(),
                        chunks: samples.div_ceil(CHUNK),
                    };
                    let layer = Deferred {
                        tensor: 0,
                        inputs,
                        outputs,
                        at,
                    };
                    let rows = outputs - first;
                    let params: Vec<f32> = (0..rows * inputs).map(|_| value(&mut rng)).collect();
                    let (scale, rate) = (1.0 / samples as f32, 0.05);
                    for step in [false, true] {
                        let (mut g, mut p) = (vec![0.0f32; rows * inputs], params.clone());
                        let (mut kernel_g, mut kernel_p) = (g.clone(), p.clone());
                        let rate = step.then_some(rate);
                        let p_in = step.then_some(p.as_mut_slice());
                        general(&records, &layer, first, &mut g, p_in, scale, rate);
                        let views = chunks(&records.samples, records.chunks);
                        let kernel_p_in = step.then_some(kernel_p.as_mut_slice());
                        // SAFETY: the CPU has AVX-512F (checked above); 1 to 4 chunks of records
                        // holding the layer's input and `delta` from `at`.
                        unsafe {
                            super::rows(
                                &views,
                                &layer,
                                first,
                                &mut kernel_g,
                                kernel_p_in,
                                scale,
                                rate,
                            )
                        };
                        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        let at = format!("{inputs} inputs, rows {first}..{outputs}, {samples} samples, step {step}");
                        assert_eq!(bits(&kernel_g), bits(&g), "{at}: gradient");
                        assert_eq!(bits(&kernel_p), bits(&p), "{at}: parameters");
                        assert!(g.iter().chain(&p).any(|v| *v != 0.0), "{at}: all zero");
                    }
                }
            }
        }
    }
}
