//! The trainer's tree of chunk sums as [`super::rows`] follows it (its additions below the
//! root, the root's halves), and the update each weight ends with at the root.

use super::super::root_half;
use crate::Scalar;

/// The trainer's tree over `count` chunks: its additions below the root ([`tree_pairs`] of each
/// half), and the chunk holding the root's right half (none for one chunk).
pub(super) fn tree(count: usize) -> (Vec<(usize, usize)>, Option<usize>) {
    let mid = root_half(count.max(2));
    let mut pairs = Vec::new();
    tree_pairs(0, mid, &mut pairs);
    tree_pairs(mid, count.max(mid), &mut pairs);
    (pairs, (count > 1).then_some(mid))
}

/// The additions of the trainer's tree over chunks `lo..hi`, in an order that adds each total
/// after its own additions: `(into, from)`, chunk `from`'s total added into chunk `into`'s
/// (split at [`root_half`], the right half's total into the left's).
pub(super) fn tree_pairs(lo: usize, hi: usize, out: &mut Vec<(usize, usize)>) {
    if hi - lo < 2 {
        return;
    }
    let mid = lo + root_half(hi - lo);
    tree_pairs(lo, mid, out);
    tree_pairs(mid, hi, out);
    out.push((lo, mid));
}

/// The update's operations on one element each ([`super::super::sums`]'s `update_block`): the
/// root's halves added, scaled, and stored as the gradient or stepped into the parameter.
#[inline(always)]
pub(super) fn finish<S: Scalar>(
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

/// [`finish`] on a block of `W` elements, the parameters (or gradients) formed in registers
/// and stored whole (on slices, LLVM wrote the step element by element).
#[inline(always)]
pub(super) fn finish_block<S: Scalar, const W: usize>(
    g: &mut [S; W],
    left: &[S; W],
    right: Option<&[S; W]>,
    p: Option<&mut [S; W]>,
    scale: S,
    rate: Option<S>,
) {
    match (right, p.zip(rate)) {
        (Some(right), Some((p, rate))) => {
            let mut v = *p;
            for ((v, l), r) in v.iter_mut().zip(left).zip(right) {
                *v -= rate * ((*l + *r) * scale);
            }
            *p = v;
        }
        (Some(right), None) => {
            let mut v = [S::ZERO; W];
            for ((v, l), r) in v.iter_mut().zip(left).zip(right) {
                *v = (*l + *r) * scale;
            }
            *g = v;
        }
        (None, Some((p, rate))) => {
            let mut v = *p;
            for (v, l) in v.iter_mut().zip(left) {
                *v -= rate * (*l * scale);
            }
            *p = v;
        }
        (None, None) => {
            let mut v = [S::ZERO; W];
            for (v, l) in v.iter_mut().zip(left) {
                *v = *l * scale;
            }
            *g = v;
        }
    }
}
