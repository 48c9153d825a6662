//! Mini-batch gradients on several threads, bit-identical for any number of threads.
//!
//! A batch is cut into chunks of [`CHUNK`] samples, whatever the thread count. Each chunk's
//! gradient is summed sample by sample, in order, into a buffer of its own; the chunk sums are
//! then added in a binary tree fixed by the chunk count. Threads only decide which thread sums
//! which chunk or adds which pair, so the result does not depend on them.

use super::{Network, SampleError};
use crate::Scalar;
use core::fmt;

/// Samples per chunk: the unit of work of one thread.
pub const CHUNK: usize = 4;

/// Why a batch was not used: a sample's error (no parameter changed), or slices of different
/// lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// Sample `index` of the batch cannot be trained on.
    Sample {
        /// Its position in the batch.
        index: usize,
        /// Why.
        error: SampleError,
    },
    /// `inputs` and `labels` differ in length.
    Lengths {
        /// Inputs given.
        inputs: usize,
        /// Labels given.
        labels: usize,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Sample { index, error } => {
                write!(f, "sample {index} of the batch: {error}")
            }
            BatchError::Lengths { inputs, labels } => {
                write!(f, "{inputs} inputs but {labels} labels")
            }
        }
    }
}

impl std::error::Error for BatchError {}

struct Chunk<N: Network> {
    grads: Box<N>,
    ws: Box<N::Workspace>,
    loss: f64,
    error: Option<BatchError>,
}

/// Buffers for batch training with `threads` threads (the gradient buffers of the chunks and a
/// workspace each, allocated once), and the threads themselves: a pool of its own, started once
/// and kept, so that a batch does not pay for starting threads.
pub struct Trainer<N: Network> {
    threads: usize,
    /// `None` for one thread: the caller's thread does the work.
    pool: Option<rayon::ThreadPool>,
    chunks: Vec<Chunk<N>>,
}

/// Where [`tree`] splits `count` chunks (more than one): the first chunk of its right half.
fn root_half(count: usize) -> usize {
    count.next_power_of_two() / 2
}

/// Sums the chunks `chunks` (the first of them chunk `first`) into `chunks[0]`: each chunk's
/// samples by `work`, then the chunk sums in a fixed binary tree, split at the largest power of
/// two below the count (for 4 chunks: 1 into 0 and 3 into 2, then 2 into 0). The tree depends
/// only on the chunk count; `parallel` runs the two halves with [`rayon::join`], which changes
/// which thread sums what, never the order of any addition. At the `root`, the gradients of the
/// two halves are left apart (only the losses are added): [`update`] adds them, on every thread.
fn tree<N, W>(chunks: &mut [Chunk<N>], first: usize, work: &W, parallel: bool, root: bool)
where
    N: Network + Send,
    N::Workspace: Send,
    W: Fn((usize, &mut Chunk<N>)) + Sync,
{
    if let [chunk] = chunks {
        work((first, chunk));
        return;
    }
    let mid = root_half(chunks.len());
    let (left, right) = chunks.split_at_mut(mid);
    if parallel {
        rayon::join(
            || tree(&mut *left, first, work, true, false),
            || tree(&mut *right, first + mid, work, true, false),
        );
    } else {
        tree(left, first, work, false, false);
        tree(right, first + mid, work, false, false);
    }
    let (total, chunk) = (&mut left[0], &right[0]);
    if !root {
        total.grads.add(&chunk.grads);
    }
    total.loss += chunk.loss;
}

impl<N> Trainer<N>
where
    N: Network + Send + Sync,
    N::Scalar: Send + Sync,
    N::Input: Sync,
    N::Workspace: Send,
{
    /// A trainer that uses up to `threads` threads (at least one). Where the system cannot
    /// start them, it uses the caller's thread alone ([`Trainer::threads`] then says 1); the
    /// results are the same.
    pub fn new(threads: usize) -> Self {
        let pool = (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("conv-trainer-{i}"))
                    .build()
                    .ok()
            })
            .flatten();
        Self {
            threads: if pool.is_some() { threads } else { 1 },
            pool,
            chunks: Vec::new(),
        }
    }

    /// The threads it uses.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The mean loss and mean gradient of `net` over the batch; the gradient is valid until the
    /// next call.
    ///
    /// # Errors
    ///
    /// [`BatchError::Lengths`] when the slices differ, or the first failing sample's error.
    pub fn gradients(
        &mut self,
        net: &N,
        inputs: &[&N::Input],
        labels: &[usize],
    ) -> Result<(f64, &N), BatchError> {
        let loss = self.sum(net, inputs, labels)?;
        let (grads, other) = halves(&mut self.chunks, inputs.len());
        update(self.pool.as_ref(), grads, other, mean(inputs.len()), None);
        Ok((loss, &*self.chunks[0].grads))
    }

    /// One step of SGD on the batch's mean gradient; returns the batch's mean loss.
    ///
    /// # Errors
    ///
    /// As [`Trainer::gradients`]; the parameters are then unchanged.
    pub fn step(
        &mut self,
        net: &mut N,
        inputs: &[&N::Input],
        labels: &[usize],
        learning_rate: N::Scalar,
    ) -> Result<f64, BatchError> {
        let loss = self.sum(net, inputs, labels)?;
        let (grads, other) = halves(&mut self.chunks, inputs.len());
        let scale = mean(inputs.len());
        update(
            self.pool.as_ref(),
            grads,
            other,
            scale,
            Some((net, learning_rate)),
        );
        Ok(loss)
    }

    /// The batch's gradient summed into chunk 0 and chunk [`root_half`] (see [`tree`]); returns
    /// the mean loss.
    fn sum(&mut self, net: &N, inputs: &[&N::Input], labels: &[usize]) -> Result<f64, BatchError> {
        if inputs.len() != labels.len() {
            return Err(BatchError::Lengths {
                inputs: inputs.len(),
                labels: labels.len(),
            });
        }
        let n = inputs.len();
        let count = n.div_ceil(CHUNK).max(1);
        while self.chunks.len() < count {
            self.chunks.push(Chunk {
                grads: Box::new(N::zeroed()),
                ws: Box::new(N::workspace()),
                loss: 0.0,
                error: None,
            });
        }
        let chunks = &mut self.chunks[..count];
        let work = |(c, chunk): (usize, &mut Chunk<N>)| {
            chunk.grads.clear();
            chunk.loss = 0.0;
            chunk.error = None;
            let start = c * CHUNK;
            let end = (start + CHUNK).min(n);
            for i in start..end {
                match net.loss_and_parameter_gradients(
                    inputs[i],
                    labels[i],
                    &mut chunk.ws,
                    &mut chunk.grads,
                ) {
                    Ok(loss) => chunk.loss += loss.to_f64(),
                    Err(error) => {
                        chunk.error = Some(BatchError::Sample { index: i, error });
                        return;
                    }
                }
            }
        };
        match self.pool.as_ref().filter(|_| count > 1) {
            // One call into the pool per batch: the chunks and their sums in one tree.
            Some(pool) => pool.install(|| tree(chunks, 0, &work, true, true)),
            None => tree(chunks, 0, &work, false, true),
        }
        if let Some(e) = chunks.iter().find_map(|c| c.error) {
            return Err(e);
        }
        Ok(chunks[0].loss / n.max(1) as f64)
    }
}

/// `1 / n`, the factor of a mean over `n` samples (1 for an empty batch).
fn mean<S: Scalar>(n: usize) -> S {
    S::from_f64(1.0 / n.max(1) as f64)
}

/// After [`Trainer::sum`] of `n` samples: chunk 0's gradient, and the sum of the other half
/// of the tree that is still to be added into it.
fn halves<N: Network>(chunks: &mut [Chunk<N>], n: usize) -> (&mut N, Option<&N>) {
    let count = n.div_ceil(CHUNK).max(1);
    if count == 1 {
        return (&mut *chunks[0].grads, None);
    }
    let (left, right) = chunks.split_at_mut(root_half(count));
    (&mut *left[0].grads, Some(&*right[0].grads))
}

/// One block of [`update`]'s work: gradients, what is added to them, parameters.
type Block<'a, S> = (&'a mut [S], Option<&'a [S]>, Option<&'a mut [S]>);

/// Elements per block of [`update`]'s work.
const BLOCK: usize = 8192;

/// `grads += other`, `grads *= scale` and, with `net`, `parameter -= learning_rate * gradient`:
/// element by element the operations of [`Network::add`], [`Network::scale`] and
/// [`Network::sgd_step`], in blocks of [`BLOCK`] elements that the pool's threads share.
fn update<N: Network>(
    pool: Option<&rayon::ThreadPool>,
    grads: &mut N,
    other: Option<&N>,
    scale: N::Scalar,
    net: Option<(&mut N, N::Scalar)>,
) where
    N::Scalar: Send + Sync,
{
    let mut gs: Vec<&mut [N::Scalar]> = Vec::new();
    grads.for_each_parameter_mut(&mut |g| gs.push(g));
    let mut ps: Vec<&mut [N::Scalar]> = Vec::new();
    let learning_rate = net.map(|(net, learning_rate)| {
        net.for_each_parameter_mut(&mut |p| ps.push(p));
        learning_rate
    });
    let mut os: Vec<&[N::Scalar]> = Vec::new();
    if let Some(other) = other {
        other.for_each_parameter(&mut |o| os.push(o));
    }
    let (mut os, mut ps) = (os.into_iter(), ps.into_iter());
    let mut blocks: Vec<Block<N::Scalar>> = Vec::new();
    for g in gs {
        let mut o = os.next().map(|o| o.chunks(BLOCK));
        let mut p = ps.next().map(|p| p.chunks_mut(BLOCK));
        for g in g.chunks_mut(BLOCK) {
            let o = o.as_mut().and_then(Iterator::next);
            let p = p.as_mut().and_then(Iterator::next);
            blocks.push((g, o, p));
        }
    }
    let work = |(g, o, p): Block<N::Scalar>| {
        if let Some(o) = o {
            super::__private::add_assign(g, o);
        }
        super::__private::scale(g, scale);
        if let (Some(p), Some(learning_rate)) = (p, learning_rate) {
            super::__private::sgd(p, g, learning_rate);
        }
    };
    match pool {
        Some(pool) if blocks.len() > 1 => {
            use rayon::prelude::*;
            pool.install(|| blocks.into_par_iter().for_each(work));
        }
        _ => blocks.into_iter().for_each(work),
    }
}
