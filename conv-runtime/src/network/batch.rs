//! Mini-batch gradients on several threads, bit-identical for any number of threads.
//!
//! A batch is cut into chunks of [`CHUNK`] samples, whatever the thread count. Each chunk's
//! gradient is summed sample by sample, in order, into a buffer of its own; the chunk sums are
//! then added in chunk order. Threads only decide which thread sums which chunk, so the result
//! does not depend on them.

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
/// workspace each, allocated once).
pub struct Trainer<N: Network> {
    threads: usize,
    chunks: Vec<Chunk<N>>,
}

impl<N> Trainer<N>
where
    N: Network + Send + Sync,
    N::Input: Sync,
    N::Workspace: Send,
{
    /// A trainer that uses up to `threads` threads (at least one).
    pub fn new(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
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
                match net.loss_and_gradients(inputs[i], labels[i], &mut chunk.ws, &mut chunk.grads)
                {
                    Ok(loss) => chunk.loss += loss.to_f64(),
                    Err(error) => {
                        chunk.error = Some(BatchError::Sample { index: i, error });
                        return;
                    }
                }
            }
        };
        let threads = self.threads.min(count);
        if threads <= 1 {
            chunks.iter_mut().enumerate().for_each(work);
        } else {
            // Thread t sums chunks t, t + threads, ...; which thread sums a chunk does not
            // change the chunk's sum.
            let mut lanes: Vec<Vec<(usize, &mut Chunk<N>)>> =
                (0..threads).map(|_| Vec::new()).collect();
            for (c, chunk) in chunks.iter_mut().enumerate() {
                lanes[c % threads].push((c, chunk));
            }
            std::thread::scope(|s| {
                let mut lanes = lanes.into_iter();
                let mine = lanes.next();
                for lane in lanes {
                    s.spawn(move || lane.into_iter().for_each(work));
                }
                if let Some(lane) = mine {
                    lane.into_iter().for_each(work);
                }
            });
        }
        if let Some(e) = chunks.iter().find_map(|c| c.error) {
            return Err(e);
        }
        let (first, rest) = chunks.split_at_mut(1);
        let total = &mut first[0];
        for chunk in rest.iter() {
            total.grads.add(&chunk.grads);
            total.loss += chunk.loss;
        }
        let scale = 1.0 / n.max(1) as f64;
        total.grads.scale(N::Scalar::from_f64(scale));
        Ok((total.loss * scale, &*total.grads))
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
        let (loss, grads) = self.gradients(net, inputs, labels)?;
        net.sgd_step(grads, learning_rate);
        Ok(loss)
    }
}
