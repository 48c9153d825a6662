//! Memory and cost of a network, known before any code runs: what the generated constants and
//! the rustdoc table report, and what the CLI prints.

use super::shapes::{Kind, Network};
use crate::derive::pool::PoolKind;
pub use crate::memory::Memory;

/// Which layer outputs the training workspace keeps: an activation's (its backward reads it),
/// and the input of every convolution and dense layer.
pub(crate) fn stored(network: &Network) -> Vec<bool> {
    let layers = &network.layers;
    (0..layers.len())
        .map(|i| {
            matches!(layers[i].kind, Kind::Activation(_))
                || layers
                    .get(i + 1)
                    .is_some_and(|next| matches!(next.kind, Kind::Conv(_) | Kind::Dense { .. }))
        })
        .collect()
}

impl Memory {
    /// The figures for `network`.
    pub fn of(network: &Network) -> Self {
        let scalar = match network.scalar {
            crate::Scalar::F32 => 4,
            crate::Scalar::F64 => 8,
        };
        let index = 4;
        let layers = &network.layers;
        let parameters: usize = layers
            .iter()
            .map(|l| {
                let (w, b) = l.parameter_counts();
                w + b
            })
            .sum();
        let indices = |l: &super::Layer| match l.kind {
            Kind::Pool(p) if p.kind() == PoolKind::Max => l.output.len() * index,
            _ => 0,
        };
        // An activation after the first layer works in place on its input's array.
        let inference_bytes = layers
            .iter()
            .enumerate()
            .map(|(i, l)| match (i, &l.kind) {
                (1.., Kind::Activation(_)) => l.output.len() * scalar,
                _ => (l.input.len() + l.output.len()) * scalar + indices(l),
            })
            .max()
            .unwrap_or(0);
        let stored = stored(network);
        let mut workspace: usize = network.input.len() * scalar;
        for (l, keep) in layers.iter().zip(&stored) {
            workspace += usize::from(*keep) * l.output.len() * scalar + indices(l);
        }
        // The struct is aligned to its scalar: indices of an odd count pad the end.
        let workspace_bytes = workspace.div_ceil(scalar) * scalar;
        // A dense layer adds its weight and bias gradients straight into the gradient buffer
        // (`backward_into`) or the parameters (`backward_sgd`); a convolution returns them.
        // An activation's backward works in place on the gradient.
        let backward_bytes = layers
            .iter()
            .map(|l| {
                let (w, b) = match l.kind {
                    Kind::Dense { .. } => (0, 0),
                    _ => l.parameter_counts(),
                };
                match l.kind {
                    Kind::Activation(_) => l.output.len() * scalar,
                    _ => (l.input.len() + l.output.len() + w + b) * scalar,
                }
            })
            .max()
            .unwrap_or(0);
        let parameter_bytes = parameters * scalar;
        let inference_macs: usize = layers.iter().map(super::Layer::macs).sum();
        // Training leaves out the first layer's `dL/dx` where it is a convolution cut to its
        // parameter gradients (`emit::has_parameter_gradients`).
        let first_dx = match layers.first().map(|l| (l, &l.kind)) {
            Some((l, super::Kind::Conv(spec))) if crate::emit::has_parameter_gradients(spec) => {
                l.macs()
            }
            _ => 0,
        };
        Self {
            parameter_bytes,
            inference_bytes,
            workspace_bytes,
            backward_bytes,
            batch_training_bytes: parameter_bytes + workspace_bytes + backward_bytes,
            fused_training_bytes: workspace_bytes + backward_bytes,
            inference_macs,
            training_macs: 3 * inference_macs - first_dx + parameters,
        }
    }
}
