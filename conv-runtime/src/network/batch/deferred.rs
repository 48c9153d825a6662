//! The weight gradients of the dense layers, formed once for a batch ([`Network::DEFERRED`]):
//! each sample's `loss_and_recorded_gradients` writes the layer's input `x` and `delta` to its
//! record instead of adding `delta xᵀ` into its chunk's buffer, and the update forms each
//! weight's gradient from the records, in registers, with the operations the buffers would
//! have done, in the same order: per chunk `((0 + d₀x₀) + d₁x₁) + …` over its samples (each a
//! product then a sum, as every tier's `backward_into` adds), the chunk sums added in the
//! trainer's tree, then the mean and the step. So the result is the same bits, and the
//! gradient of a dense layer's weights is never written sample by sample, added chunk to
//! chunk, or moved between threads.
//!
//! [`Network::DEFERRED`]: crate::network::Network::DEFERRED

#[cfg(target_arch = "x86_64")]
mod avx512;
mod tree;

use super::CHUNK;
use crate::network::Deferred;
use crate::Scalar;
use tree::{finish, finish_block, tree};

/// Weights of a row formed at once in registers, per chunk (a pair of chunks' sums of a block
/// of [`ROWS`] rows is 32 vectors of 16 `f32` lanes; with 32 columns, LLVM wrote the block's
/// sums much slower: `BENCHMARKS.md`, LeNet-5).
const WIDTH: usize = 64;
/// Rows formed together: each sample's `x` is loaded once for all of them.
const ROWS: usize = 4;

/// The sums of a pair of chunks (or of the last chunk, when the count is odd) of a block of
/// [`ROWS`] rows and up to [`WIDTH`] columns, aligned to a cache line so that each vector the
/// tree stores and loads again stays within one line (unaligned, the update was slower:
/// `BENCHMARKS.md`, LeNet-5).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block<S>([[S; WIDTH]; ROWS]);

/// The batch's records, sample by sample in order, and its chunk count.
pub(super) struct Records<'a, S> {
    pub samples: Vec<&'a [S]>,
    pub chunks: usize,
}

/// Rows `first..` of `layer`'s weight gradient (`g`, whole rows of `layer.inputs`), each
/// weight's sum over the batch as the chunk buffers and the tree would add it; then, as
/// [`super::sums::update`] on the same element, `g = (left + right) * scale` or, with `step`,
/// `p -= rate * ((left + right) * scale)` (`left` alone when the batch is one chunk), where
/// `left` and `right` are the two halves of the tree's root. `f32` batches of up to four chunks
/// on the AVX-512 tier go through [`avx512::rows`], every other batch through [`general`]:
/// every weight gets the same operations in the same order on either path.
pub(super) fn rows<S: Scalar>(
    records: &Records<'_, S>,
    layer: &Deferred,
    first: usize,
    g: &mut [S],
    p: Option<&mut [S]>,
    scale: S,
    rate: Option<S>,
) {
    #[cfg(target_arch = "x86_64")]
    if (1..=4).contains(&records.chunks)
        && matches!(crate::cpu::tier(), crate::cpu::Tier::Avx512)
        && core::any::TypeId::of::<S>() == core::any::TypeId::of::<f32>()
    {
        // SAFETY: `S` is `f32` (the same `TypeId`), so each cast is to the type it has.
        let (samples, g, p) = unsafe {
            (
                &*(records.samples.as_slice() as *const [&[S]] as *const [&[f32]]),
                &mut *(g as *mut [S] as *mut [f32]),
                p.map(|p| &mut *(p as *mut [S] as *mut [f32])),
            )
        };
        let chunks = chunks(samples, records.chunks);
        let (scale, rate) = (scale.to_f64() as f32, rate.map(|r| r.to_f64() as f32));
        // SAFETY: the CPU has AVX-512F (its tier); one to four chunks of the trainer's records.
        unsafe { avx512::rows(&chunks, layer, first, g, p, scale, rate) };
        return;
    }
    general(records, layer, first, g, p, scale, rate);
}

/// [`rows`] for any element type, chunk count and tier: [`ROWS`] rows at a time, in blocks
/// of [`WIDTH`] columns, then of 16 (each pair of chunks' sums of a block in registers, then
/// the tree and the update over the block); the columns after the last block of 16, and the
/// rows after the last group of [`ROWS`], row by row. Every weight gets the same operations in
/// the same order whichever path forms it.
fn general<S: Scalar>(
    records: &Records<'_, S>,
    layer: &Deferred,
    first: usize,
    g: &mut [S],
    p: Option<&mut [S]>,
    scale: S,
    rate: Option<S>,
) {
    #[inline(always)]
    fn run<S: Scalar>(
        records: &Records<'_, S>,
        layer: &Deferred,
        first: usize,
        g: &mut [S],
        mut p: Option<&mut [S]>,
        scale: S,
        rate: Option<S>,
    ) {
        let n = layer.inputs;
        let count = records.chunks;
        let chunks = chunks(&records.samples, count);
        let (pairs, root) = tree(count);
        // The tree's first additions are those of chunks 2m + 1 into 2m (the last chunk of an
        // odd count has no partner), and the rest is the same tree over the pairs' sums, split
        // at the largest power of two below their count, as the chunks' tree is (with two
        // chunks, the root's halves are that one pair, and `(c₀ + c₁) * scale` is the update's
        // `(left + right) * scale`).
        let (pair_pairs, pair_root) = tree(count.div_ceil(2));
        let tree = Tree {
            first,
            chunks: &chunks,
            pairs: &pairs,
            root,
            pair_pairs: &pair_pairs,
            pair_root,
            layer,
            scale,
            rate,
        };
        let mut blocks = vec![Block([[S::ZERO; WIDTH]; ROWS]); count.div_ceil(2)];
        // One row of sums per chunk, for the rows and columns outside the blocks.
        let mut sums = vec![S::ZERO; count * n];
        let rows = g.len() / n.max(1);
        let grouped = rows / ROWS * ROWS;
        for r in (0..grouped).step_by(ROWS) {
            let mut col = 0;
            while n - col >= WIDTH {
                tree.block::<WIDTH>(&mut blocks, r, col, g, p.as_deref_mut());
                col += WIDTH;
            }
            while n - col >= 16 {
                tree.block::<16>(&mut blocks, r, col, g, p.as_deref_mut());
                col += 16;
            }
            if col < n {
                for row in r..r + ROWS {
                    tree.row(&mut sums, row, col, g, p.as_deref_mut());
                }
            }
        }
        for row in grouped..rows {
            tree.row(&mut sums, row, 0, g, p.as_deref_mut());
        }
    }
    crate::cpu::widest(
        #[inline(always)]
        || run(records, layer, first, g, p, scale, rate),
    )
}

/// The records of each of `count` chunks: [`CHUNK`] samples each, the last one fewer.
fn chunks<'a, S>(samples: &'a [&'a [S]], count: usize) -> Vec<&'a [&'a [S]]> {
    (0..count)
        .map(|c| {
            let end = samples.len().min((c + 1) * CHUNK);
            &samples[(c * CHUNK).min(end)..end]
        })
        .collect()
}

/// What every block and row of [`rows`] shares: the first row of `g`, the chunks' records, the
/// tree's additions ([`tree::tree_pairs`]) and the chunk holding its root's right half (none
/// for one chunk), the same over the sums of pairs of chunks, the layer and the update's
/// factors.
struct Tree<'a, S> {
    first: usize,
    chunks: &'a [&'a [&'a [S]]],
    pairs: &'a [(usize, usize)],
    root: Option<usize>,
    pair_pairs: &'a [(usize, usize)],
    pair_root: Option<usize>,
    layer: &'a Deferred,
    scale: S,
    rate: Option<S>,
}

impl<S: Scalar> Tree<'_, S> {
    /// Rows `r..r + ROWS` of `g` and `p` (of the layer, `first + r..`), columns `col..col +
    /// W`: the sums of each pair of chunks in registers (each sample's `x` loaded once for the
    /// [`ROWS`] rows), the second added into the first there, into `blocks`; then the rest of
    /// the tree's additions and the update (each chunk's sums stored and added from memory
    /// was slower: `BENCHMARKS.md`, LeNet-5).
    #[inline(always)]
    fn block<const W: usize>(
        &self,
        blocks: &mut [Block<S>],
        r: usize,
        col: usize,
        g: &mut [S],
        mut p: Option<&mut [S]>,
    ) {
        let n = self.layer.inputs;
        let (d_at, x_at) = (self.layer.at + n + self.first + r, self.layer.at + col);
        for (block, pair) in blocks.iter_mut().zip(self.chunks.chunks(2)) {
            let mut acc = chunk_sums::<S, W>(pair[0], d_at, x_at);
            if let Some(second) = pair.get(1) {
                let more = chunk_sums::<S, W>(second, d_at, x_at);
                for k in 0..ROWS {
                    for l in 0..W {
                        acc[k][l] += more[k][l];
                    }
                }
            }
            for (sums, acc) in block.0.iter_mut().zip(&acc) {
                sums[..W].copy_from_slice(acc);
            }
        }
        for &(into, from) in self.pair_pairs {
            let (left, right) = blocks.split_at_mut(from);
            let (left, right) = (&mut left[into].0, &right[0].0);
            for k in 0..ROWS {
                for l in 0..W {
                    left[k][l] += right[k][l];
                }
            }
        }
        for k in 0..ROWS {
            let at = (r + k) * n + col;
            let left: &[S; W] = fixed(&blocks[0].0[k][..W]);
            let right = self
                .pair_root
                .map(|mid| fixed::<S, W>(&blocks[mid].0[k][..W]));
            let p = p
                .as_deref_mut()
                .map(|p| fixed_mut::<S, W>(&mut p[at..at + W]));
            finish_block(
                fixed_mut(&mut g[at..at + W]),
                left,
                right,
                p,
                self.scale,
                self.rate,
            );
        }
    }

    /// Row `r` of `g` and `p` from column `col` on: each chunk's sums of the row into `sums`
    /// (one row of `layer.inputs` per chunk, [`row_sum`]), then the tree's additions and the
    /// update.
    #[inline(always)]
    fn row(&self, sums: &mut [S], r: usize, col: usize, g: &mut [S], p: Option<&mut [S]>) {
        let n = self.layer.inputs;
        let len = n - col;
        let d_at = self.layer.at + n + self.first + r;
        for (sum, samples) in sums.chunks_exact_mut(n).zip(self.chunks) {
            row_sum(&mut sum[..len], samples, d_at, self.layer.at + col);
        }
        for &(into, from) in self.pairs {
            let (left, right) = sums.split_at_mut(from * n);
            for (l, r) in left[into * n..][..len].iter_mut().zip(&right[..len]) {
                *l += *r;
            }
        }
        let at = r * n + col;
        let p = p.map(|p| &mut p[at..at + len]);
        let right = self.root.map(|mid| &sums[mid * n..][..len]);
        finish(
            &mut g[at..at + len],
            &sums[..len],
            right,
            p,
            self.scale,
            self.rate,
        );
    }
}

/// One chunk's sums of a block of [`ROWS`] rows and `W` columns: `((0 + d₀x₀) + d₁x₁) + …`
/// over its samples (`d` at `d_at` of each record, `x` at `x_at`). Indexed by row, then column:
/// over rows first (iterators), LLVM vectorised across the rows with gathers and scatters.
#[inline(always)]
fn chunk_sums<S: Scalar, const W: usize>(
    samples: &[&[S]],
    d_at: usize,
    x_at: usize,
) -> [[S; W]; ROWS] {
    let mut acc = [[S::ZERO; W]; ROWS];
    for record in samples {
        let x: &[S; W] = fixed(&record[x_at..x_at + W]);
        let d: &[S; ROWS] = fixed(&record[d_at..d_at + ROWS]);
        for k in 0..ROWS {
            for l in 0..W {
                acc[k][l] += d[k] * x[l];
            }
        }
    }
    acc
}

/// `slice` as an array of its length `W`.
#[inline(always)]
fn fixed<S, const W: usize>(slice: &[S]) -> &[S; W] {
    match slice.try_into() {
        Ok(array) => array,
        Err(_) => unreachable!("a slice of W elements"),
    }
}

/// `slice` as a mutable array of its length `W`.
#[inline(always)]
fn fixed_mut<S, const W: usize>(slice: &mut [S]) -> &mut [S; W] {
    match slice.try_into() {
        Ok(array) => array,
        Err(_) => unreachable!("a slice of W elements"),
    }
}

/// `sum[i] = ((0 + d₀x₀[i]) + d₁x₁[i]) + …` over `samples` (`d` at `d_at` of each record, `x`
/// the `sum.len()` elements from `x_at`), in blocks of [`WIDTH`], then of 16, 8 and 4, that stay
/// in registers from the first sample to the last, then element by element, each element's sum
/// in a register over the samples (with the loop over elements inside the loop over samples,
/// each sum went through memory once per sample: `BENCHMARKS.md`, LeNet-5, whose last two
/// layers' rows end 8 and 4 columns past a multiple of 16).
#[inline(always)]
fn row_sum<S: Scalar>(sum: &mut [S], samples: &[&[S]], d_at: usize, x_at: usize) {
    let mut done = blocks::<S, WIDTH>(sum, samples, d_at, x_at);
    done += blocks::<S, 16>(&mut sum[done..], samples, d_at, x_at + done);
    done += blocks::<S, 8>(&mut sum[done..], samples, d_at, x_at + done);
    done += blocks::<S, 4>(&mut sum[done..], samples, d_at, x_at + done);
    for (i, s) in sum.iter_mut().enumerate().skip(done) {
        let mut acc = S::ZERO;
        for record in samples {
            acc += record[d_at] * record[x_at + i];
        }
        *s = acc;
    }
}

/// [`row_sum`] on the whole blocks of `W` elements at the start of `sum`; returns how many
/// elements it summed.
#[inline(always)]
fn blocks<S: Scalar, const W: usize>(
    sum: &mut [S],
    samples: &[&[S]],
    d_at: usize,
    x_at: usize,
) -> usize {
    let len = sum.len();
    let mut blocks = sum.chunks_exact_mut(W);
    for (b, block) in (&mut blocks).enumerate() {
        let at = x_at + b * W;
        let mut acc = [S::ZERO; W];
        for record in samples {
            let d = record[d_at];
            let x: &[S; W] = match record[at..at + W].try_into() {
                Ok(x) => x,
                Err(_) => unreachable!("a slice of W elements"),
            };
            for (s, x) in acc.iter_mut().zip(x) {
                *s += d * *x;
            }
        }
        block.copy_from_slice(&acc);
    }
    len - blocks.into_remainder().len()
}
