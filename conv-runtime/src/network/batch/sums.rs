//! The sums a batch ends with: a pair of chunk sums added (the tree's), and the update (the
//! last pair, the mean and the step of SGD), each leaving zero what it read last.

use super::super::Network;
use crate::Scalar;

/// Every parameter tensor of `net`, flat, in declaration order.
pub(super) fn tensors_mut<N: Network>(net: &mut N) -> Vec<&mut [N::Scalar]> {
    let mut out = Vec::new();
    net.for_each_parameter_mut(&mut |t| out.push(t));
    out
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

/// Elements per block of [`update`]'s work.
const BLOCK: usize = 8192;

/// `grads += other`, `grads *= scale` and, with `step`, `parameter -= learning_rate * gradient`:
/// element by element the operations of [`Network::add`], [`Network::scale`] and
/// [`Network::sgd_step`], in blocks of [`BLOCK`] elements that the pool's threads share when
/// `parallel` (the caller is on the pool). `other` is left zero, and `grads` too after a step.
pub(super) fn update<N: Network>(
    parallel: bool,
    grads: &mut N,
    other: Option<&mut N>,
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
    let mut blocks: Vec<Block<N::Scalar>> = Vec::new();
    for g in tensors_mut(grads) {
        let mut o = os.next().map(|o| o.chunks_mut(BLOCK));
        let mut p = ps.next().map(|p| p.chunks_mut(BLOCK));
        for g in g.chunks_mut(BLOCK) {
            let o = o.as_mut().and_then(Iterator::next);
            let p = p.as_mut().and_then(Iterator::next);
            blocks.push((g, o, p));
        }
    }
    let work = |block: Block<N::Scalar>| update_block(block, scale, learning_rate);
    match parallel && blocks.len() > 1 {
        true => {
            use rayon::prelude::*;
            blocks.into_par_iter().for_each(work);
        }
        false => blocks.into_iter().for_each(work),
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
