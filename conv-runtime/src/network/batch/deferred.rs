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

use super::{root_half, CHUNK};
use crate::network::Deferred;
use crate::Scalar;

/// Weights of a row formed at once in registers, per chunk.
const WIDTH: usize = 64;

/// The batch's records, sample by sample in order, and its chunk count.
pub(super) struct Records<'a, S> {
    pub samples: Vec<&'a [S]>,
    pub chunks: usize,
}

/// Rows `first..` of `layer`'s weight gradient (`g`, whole rows of `layer.inputs`), each
/// weight's sum over the batch as the chunk buffers and the tree would add it; then, as
/// [`super::sums::update`] on the same element, `g = (left + right) * scale` or, with `step`,
/// `p -= rate * ((left + right) * scale)` (`left` alone when the batch is one chunk), where
/// `left` and `right` are the two halves of the tree's root. Row by row: each chunk's sums of
/// the row (in blocks of [`WIDTH`], in registers), then the tree and the update over the row.
pub(super) fn rows<S: Scalar>(
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
        let chunks: Vec<&[&[S]]> = (0..count)
            .map(|c| {
                let end = records.samples.len().min((c + 1) * CHUNK);
                &records.samples[(c * CHUNK).min(end)..end]
            })
            .collect();
        // One row of sums per chunk; the tree's additions below the root.
        let mut sums = vec![S::ZERO; count * n];
        let mid = root_half(count.max(2));
        let mut pairs = Vec::new();
        tree_pairs(0, mid, &mut pairs);
        tree_pairs(mid, count.max(mid), &mut pairs);
        for (r, g) in g.chunks_exact_mut(n).enumerate() {
            let d_at = layer.at + n + first + r;
            for (sum, samples) in sums.chunks_exact_mut(n).zip(&chunks) {
                row_sum(sum, samples, d_at, layer.at);
            }
            let p = p.as_deref_mut().map(|p| &mut p[r * n..(r + 1) * n]);
            for &(into, from) in &pairs {
                let (left, right) = sums.split_at_mut(from * n);
                for (l, r) in left[into * n..][..n].iter_mut().zip(&right[..n]) {
                    *l += *r;
                }
            }
            match count {
                1 => finish(g, &sums, None, p, scale, rate),
                _ => {
                    let (left, right) = sums.split_at(mid * n);
                    finish(g, &left[..n], Some(&right[..n]), p, scale, rate);
                }
            }
        }
    }
    crate::cpu::widest(
        #[inline(always)]
        || run(records, layer, first, g, p, scale, rate),
    )
}

/// `sum[i] = ((0 + d₀x₀[i]) + d₁x₁[i]) + …` over `samples` (`d` at `d_at` of each record, `x`
/// the `sum.len()` elements from `x_at`), in blocks of [`WIDTH`], then of 16, that stay in
/// registers from the first sample to the last, then one by one.
#[inline(always)]
fn row_sum<S: Scalar>(sum: &mut [S], samples: &[&[S]], d_at: usize, x_at: usize) {
    let wide = blocks::<S, WIDTH>(sum, samples, d_at, x_at);
    let narrow = blocks::<S, 16>(&mut sum[wide..], samples, d_at, x_at + wide);
    let done = wide + narrow;
    let rest = &mut sum[done..];
    let (at, len) = (x_at + done, rest.len());
    rest.fill(S::ZERO);
    for record in samples {
        let d = record[d_at];
        for (s, x) in rest.iter_mut().zip(&record[at..at + len]) {
            *s += d * *x;
        }
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

/// The additions of the trainer's tree over chunks `lo..hi`, in an order that adds each total
/// after its own additions: `(into, from)`, chunk `from`'s total added into chunk `into`'s
/// (split at [`root_half`], the right half's total into the left's).
fn tree_pairs(lo: usize, hi: usize, out: &mut Vec<(usize, usize)>) {
    if hi - lo < 2 {
        return;
    }
    let mid = lo + root_half(hi - lo);
    tree_pairs(lo, mid, out);
    tree_pairs(mid, hi, out);
    out.push((lo, mid));
}

/// The update's operations on one element each ([`super::sums`]'s `update_block`): the root's
/// halves added, scaled, and stored as the gradient or stepped into the parameter.
#[inline(always)]
fn finish<S: Scalar>(
    g: &mut [S],
    left: &[S],
    right: Option<&[S]>,
    p: Option<&mut [S]>,
    scale: S,
    rate: Option<S>,
) {
    match (right, p.zip(rate)) {
        (Some(right), Some((p, rate))) => {
            for ((p, l), r) in p.iter_mut().zip(left).zip(right) {
                *p -= rate * ((*l + *r) * scale);
            }
        }
        (Some(right), None) => {
            for ((g, l), r) in g.iter_mut().zip(left).zip(right) {
                *g = (*l + *r) * scale;
            }
        }
        (None, Some((p, rate))) => {
            for (p, l) in p.iter_mut().zip(left) {
                *p -= rate * (*l * scale);
            }
        }
        (None, None) => {
            for (g, l) in g.iter_mut().zip(left) {
                *g = *l * scale;
            }
        }
    }
}
