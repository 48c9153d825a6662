//! Mini-batch gradients on several threads, bit-identical for any number of threads.
//!
//! A batch is cut into chunks of [`CHUNK`] samples, whatever the thread count. Each chunk's
//! gradient is summed sample by sample, in order, into a buffer of its own; the chunk sums are
//! then added in a binary tree fixed by the chunk count. Threads only decide which thread sums
//! which chunk or adds which pair, so the result does not depend on them. The dense layers'
//! weight gradients take the same sums in the same order, formed at the update from each
//! sample's record of the layer's input and `delta` (the private `deferred` module), so the
//! largest gradients of a network like LeNet-5 are never written per sample.
//!
//! A batch is one call into the trainer's thread pool (the sums, the tree and the update), and
//! the buffers are left zero by the passes that read them last (each pair's addition clears the
//! chunk it adds, the update clears what it used), so no pass over the buffers only clears them.

use super::{Network, SampleError};
use sums::{add_and_clear, is_deferred, tensors_mut, update};

mod awake;
mod deferred;
mod sums;
use crate::{Scalar, Tensor};
use core::fmt;

/// Samples per chunk: the unit of work of one thread.
pub use super::CHUNK;

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
    /// Whether `grads` may hold anything but zeros (the chunk is then cleared before use).
    dirty: bool,
    /// A workspace per sample ([`CHUNK`]).
    wss: Vec<N::Workspace>,
    /// Each sample's record of the dense layers' inputs and `delta`s ([`CHUNK`]).
    records: Vec<N::Record>,
    loss: f64,
    error: Option<BatchError>,
}

/// Buffers for batch training with `threads` threads (the gradient buffers of the chunks, a
/// workspace each and the records of their samples, allocated once), and the threads
/// themselves: a pool of its own, started once and kept, so that a batch does not pay for
/// starting threads.
///
/// Unlike the network's own training (`train_step`, or `loss_and_gradients` and `sgd_step`,
/// whose bytes the network's [`Memory`](crate::network::Memory) gives), a trainer lives on
/// the heap: for each chunk of [`CHUNK`] samples of the largest batch it has trained on, a
/// gradient buffer (`size_of::<N>()`) and, per sample of the chunk, a workspace
/// (`size_of::<N::Workspace>()`) and a record (`size_of::<N::Record>()`), allocated at the
/// first batch that needs them and kept; each batch adds only short lists (of the batch's
/// records and of the parameter tensors, freed at its end).
///
/// Every batch ends with the threads exchanging gradients and updated parameters (each
/// thread updates part of them, and every thread reads all of them in the next batch), so the
/// gain from more threads depends on how fast the cores pass cache lines to each other, not
/// only on how many there are. On a virtual machine, the host may run two virtual CPUs close
/// together at one time and far apart at another, and the gain changes with it (`BENCHMARKS.md`,
/// "Two threads on this machine"; the example `two_threads` of `conv-examples/lenet` measures
/// it beside the cores' round trip). A larger batch exchanges as much per batch for more work.
///
/// ```
/// use conv_runtime::network;
/// use conv_runtime::network::batch::{BatchError, Trainer};
///
/// #[network(input = 1x6x6)]
/// struct Tiny {
///     c1: conv!(kernel = 3x3, out_channels = 2),
///     a1: relu,
///     flat: flatten,
///     d1: dense!(3),
/// }
///
/// let images = [[[[0.25f32; 6]; 6]; 1], [[[0.75; 6]; 6]; 1]];
/// let labels = [0, 2];
/// let mut net = Tiny::init(7);
/// let mut trainer = Trainer::<Tiny>::new(2);
/// // An epoch's steps, started on the trainer's threads (`run`); the same bits with one thread.
/// let losses = trainer.run(|trainer| {
///     let batch = [&images[0], &images[1]];
///     (0..20)
///         .map(|_| trainer.step(&mut net, &batch, &labels, 0.1))
///         .collect::<Result<Vec<f64>, BatchError>>()
/// })?;
/// assert!(losses[19] < losses[0]);
/// # Ok::<(), BatchError>(())
/// ```
pub struct Trainer<N: Network> {
    threads: usize,
    /// `None` for one thread: the caller's thread does the work.
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
    chunks: Vec<Chunk<N>>,
}

/// Where [`tree`] splits `count` chunks (more than one): the first chunk of its right half.
fn root_half(count: usize) -> usize {
    count.next_power_of_two() / 2
}

/// Sums the chunks `chunks` (the first of them chunk `first`) into `chunks[0]`: each chunk's
/// samples by `work`, then the chunk sums in a fixed binary tree, split at the largest power of
/// two below the count (for 4 chunks: 1 into 0 and 3 into 2, then 2 into 0); each addition
/// leaves the chunk it added zero. The tree depends only on the chunk count; `parallel` runs the
/// two halves with [`awake::join`] (as [`rayon::join`], waiting for the other half awake), which
/// changes which thread sums what, never the order of any addition. At the `root`, the
/// gradients of the two halves are left apart (only the losses are added): [`update`] adds
/// them, on every thread.
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
        awake::join(
            || tree(&mut *left, first, work, true, false),
            || tree(&mut *right, first + mid, work, true, false),
        );
    } else {
        tree(left, first, work, false, false);
        tree(right, first + mid, work, false, false);
    }
    let (total, chunk) = (&mut left[0], &mut right[0]);
    if !root {
        let sources = tensors_mut(&mut *chunk.grads);
        let pairs = tensors_mut(&mut *total.grads).into_iter().zip(sources);
        for (t, (g, o)) in pairs.enumerate() {
            if !is_deferred::<N>(t) {
                add_and_clear(g, o);
            }
        }
        chunk.dirty = false;
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
                    .map(std::sync::Arc::new)
            })
            .flatten();
        Self {
            threads: if pool.is_some() { threads } else { 1 },
            pool,
            chunks: Vec::new(),
        }
    }

    /// `f(self)`, run on one of the trainer's threads: the batches `f` trains on start there,
    /// without each handing its work over from the calling thread and waiting to be woken at
    /// its end. The results are the same bits as from the calling thread.
    pub fn run<R: Send>(&mut self, f: impl FnOnce(&mut Self) -> R + Send) -> R {
        match self.pool.clone() {
            Some(pool) => pool.install(|| f(self)),
            None => f(self),
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
        let loss = self.batch(Target::Gradients(net), inputs, labels)?;
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
        self.batch(Target::Step(net, learning_rate), inputs, labels)
    }

    /// The batch's gradient summed into chunk 0 and chunk [`root_half`] (see [`tree`]), then
    /// added, averaged and used by [`update`]: one call into the pool. Returns the mean loss.
    fn batch(
        &mut self,
        mut target: Target<'_, N>,
        inputs: &[&N::Input],
        labels: &[usize],
    ) -> Result<f64, BatchError> {
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
                dirty: false,
                // One at a time: an array of them would be built on the stack first.
                wss: (0..CHUNK).map(|_| N::workspace()).collect(),
                records: vec![N::Record::zeroed(); CHUNK],
                loss: 0.0,
                error: None,
            });
        }
        let chunks = &mut self.chunks[..count];
        let parallel = self.pool.is_some();
        let mut body = move || {
            let net: &N = match &target {
                Target::Gradients(net) => net,
                Target::Step(net, _) => net,
            };
            let work = |(c, chunk): (usize, &mut Chunk<N>)| {
                if chunk.dirty {
                    chunk.grads.clear();
                }
                chunk.dirty = true;
                chunk.loss = 0.0;
                chunk.error = None;
                let start = c * CHUNK;
                let end = (start + CHUNK).min(n);
                if let Some(next) = inputs.get(end) {
                    crate::cpu::prefetch(*next);
                }
                let whole = (
                    <&mut [N::Workspace; CHUNK]>::try_from(&mut chunk.wss[..]),
                    <&mut [N::Record; CHUNK]>::try_from(&mut chunk.records[..]),
                );
                if let (true, (Ok(wss), Ok(records))) = (end - start == CHUNK, whole) {
                    let xs = core::array::from_fn(|q| inputs[start + q]);
                    let ls = core::array::from_fn(|q| labels[start + q]);
                    match net.loss_and_recorded_gradients_chunk(
                        xs,
                        ls,
                        wss,
                        &mut chunk.grads,
                        records,
                    ) {
                        Ok(losses) => losses.iter().for_each(|l| chunk.loss += l.to_f64()),
                        Err((q, error)) => {
                            let index = start + q;
                            chunk.error = Some(BatchError::Sample { index, error });
                        }
                    }
                    return;
                }
                let ws = &mut chunk.wss[0];
                for (i, record) in (start..end).zip(chunk.records.iter_mut()) {
                    match net.loss_and_recorded_gradients(
                        inputs[i],
                        labels[i],
                        ws,
                        &mut chunk.grads,
                        record,
                    ) {
                        Ok(loss) => chunk.loss += loss.to_f64(),
                        Err(error) => {
                            chunk.error = Some(BatchError::Sample { index: i, error });
                            return;
                        }
                    }
                }
            };
            tree(chunks, 0, &work, parallel && count > 1, true);
            if let Some(e) = chunks.iter().find_map(|c| c.error) {
                return Err(e);
            }
            let loss = chunks[0].loss / n.max(1) as f64;
            let step = match &mut target {
                Target::Step(net, learning_rate) => Some((&mut **net, *learning_rate)),
                Target::Gradients(_) => None,
            };
            let stepped = step.is_some();
            let mid = if count > 1 { root_half(count) } else { 1 };
            let mut records = deferred::Records {
                samples: Vec::with_capacity(n),
                chunks: count,
            };
            let (mut first, mut other) = (None, None);
            for (c, chunk) in chunks.iter_mut().enumerate() {
                let used = n.saturating_sub(c * CHUNK).min(CHUNK);
                records
                    .samples
                    .extend(chunk.records[..used].iter().map(Tensor::flat));
                match c {
                    0 => first = Some(&mut *chunk.grads),
                    _ if c == mid => other = Some(&mut *chunk.grads),
                    _ => {}
                }
            }
            if let Some(first) = first {
                update(parallel, first, other, &records, mean(n), step);
            }
            if count > 1 {
                chunks[mid].dirty = false;
            }
            chunks[0].dirty = !stepped;
            Ok(loss)
        };
        match self.pool.as_ref() {
            Some(pool) if pool.current_thread_index().is_none() => pool.install(body),
            _ => body(),
        }
    }
}

/// What a batch is for: its mean gradient, or a step of SGD on the network.
enum Target<'a, N: Network> {
    Gradients(&'a N),
    Step(&'a mut N, N::Scalar),
}

/// `1 / n`, the factor of a mean over `n` samples (1 for an empty batch).
fn mean<S: Scalar>(n: usize) -> S {
    S::from_f64(1.0 / n.max(1) as f64)
}
