//! The sums a batch ends with: a pair of chunk sums added (the tree's), and the update (the
//! last pair, the mean and the step of SGD), each leaving zero what it read last.

use super::super::Network;
use super::deferred::{self, Records};
use crate::Scalar;

/// Every parameter tensor of `net`, flat, in declaration order.
pub(super) fn tensors_mut<N: Network>(net: &mut N) -> Vec<&mut [N::Scalar]> {
    let mut out = Vec::new();
    net.for_each_parameter_mut(&mut |t| out.push(t));
    out
}

/// Whether parameter tensor `t` is a dense layer's weight, whose gradient the update forms
/// from the records ([`deferred`]).
pub(super) fn is_deferred<N: Network>(t: usize) -> bool {
    N::DEFERRED.iter().any(|d| d.tensor == t)
}

/// `dst += src`, then `src = 0`: the elementwise sums of [`Network::add`], leaving `src` ready for
/// the next batch.
pub(super) fn add_and_clear<S: Scalar>(dst: &mut [S], src: &mut [S]) {
    #[inline(always)]
    fn run<S: Scalar>(dst: &mut [S], src: &mut [S]) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d += *s;
            *s = S::ZERO;
        }
    }
    crate::cpu::widest(|| run(dst, src))
}

/// One block of [`update`]'s work: gradients, what is added to them, parameters.
type Block<'a, S> = (&'a mut [S], Option<&'a mut [S]>, Option<&'a mut [S]>);

/// One piece of [`update`]'s work.
enum Work<'a, S> {
    /// Gradients summed in the chunks' buffers.
    Summed(Block<'a, S>),
    /// Rows `first..` of a dense layer's weights ([`deferred::rows`]): gradients, parameters.
    Deferred {
        layer: &'static super::super::Deferred,
        first: usize,
        g: &'a mut [S],
        p: Option<&'a mut [S]>,
    },
}

/// Elements per block of [`update`]'s work.
const BLOCK: usize = 8192;

/// `grads += other`, `grads *= scale` and, with `step`, `parameter -= learning_rate * gradient`:
/// element by element the operations of [`Network::add`], [`Network::scale`] and
/// [`Network::sgd_step`], in blocks of about [`BLOCK`] elements that the pool's threads share
/// when `parallel` (the caller is on the pool). The dense layers' weight gradients are formed
/// from `records` ([`deferred::rows`]) and go through the same operations. `other` is left zero,
/// and `grads` too after a step.
pub(super) fn update<N: Network>(
    parallel: bool,
    grads: &mut N,
    other: Option<&mut N>,
    records: &Records<'_, N::Scalar>,
    scale: N::Scalar,
    step: Option<(&mut N, N::Scalar)>,
) where
    N::Scalar: Send + Sync,
{
    let learning_rate = step.as_ref().map(|(_, learning_rate)| *learning_rate);
    let mut os = other.map(tensors_mut).unwrap_or_default().into_iter();
    let mut ps = step
        .map(|(net, _)| tensors_mut(net))
        .unwrap_or_default()
        .into_iter();
    let mut work: Vec<Work<N::Scalar>> = Vec::new();
    for (t, g) in tensors_mut(grads).into_iter().enumerate() {
        let mut o = os.next().map(|o| o.chunks_mut(BLOCK));
        let p = ps.next();
        if let Some(layer) = N::DEFERRED.iter().find(|d| d.tensor == t) {
            let rows = (BLOCK / layer.inputs.max(1)).max(1);
            let n = rows * layer.inputs;
            let mut p = p.map(|p| p.chunks_mut(n));
            for (k, g) in g.chunks_mut(n.max(1)).enumerate() {
                let p = p.as_mut().and_then(Iterator::next);
                work.push(Work::Deferred {
                    layer,
                    first: k * rows,
                    g,
                    p,
                });
            }
            continue;
        }
        let mut p = p.map(|p| p.chunks_mut(BLOCK));
        for g in g.chunks_mut(BLOCK) {
            let o = o.as_mut().and_then(Iterator::next);
            let p = p.as_mut().and_then(Iterator::next);
            work.push(Work::Summed((g, o, p)));
        }
    }
    let run = |work: Work<N::Scalar>| match work {
        Work::Summed(block) => update_block(block, scale, learning_rate),
        Work::Deferred { layer, first, g, p } => {
            deferred::rows(records, layer, first, g, p, scale, learning_rate)
        }
    };
    match parallel && work.len() > 1 {
        true => {
            use rayon::prelude::*;
            work.into_par_iter().for_each(run);
        }
        false => work.into_iter().for_each(run),
    }
}

/// [`update`] on one block, in one pass.
fn update_block<S: Scalar>((g, o, p): Block<S>, scale: S, learning_rate: Option<S>) {
    #[inline(always)]
    fn run<S: Scalar>((g, o, p): Block<S>, scale: S, learning_rate: Option<S>) {
        match (o, p.zip(learning_rate)) {
            (Some(o), Some((p, rate))) => {
                for ((g, o), p) in g.iter_mut().zip(o).zip(p) {
                    *p -= rate * ((*g + *o) * scale);
                    (*g, *o) = (S::ZERO, S::ZERO);
                }
            }
            (Some(o), None) => {
                for (g, o) in g.iter_mut().zip(o) {
                    *g = (*g + *o) * scale;
                    *o = S::ZERO;
                }
            }
            (None, Some((p, rate))) => {
                for (g, p) in g.iter_mut().zip(p) {
                    *p -= rate * (*g * scale);
                    *g = S::ZERO;
                }
            }
            (None, None) => g.iter_mut().for_each(|g| *g = *g * scale),
        }
    }
    crate::cpu::widest(|| run((g, o, p), scale, learning_rate))
}
