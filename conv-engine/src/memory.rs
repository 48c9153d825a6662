//! What a whole network needs in memory and multiply-adds, known at compile time: the figures
//! `#[network]` computes for each network (`network::Memory::of`, feature `codegen`) and writes
//! into its constants and docs, and that `conv_runtime::network::Network::MEMORY` holds.
//! Allocation-free (`no_std`).

/// Bytes and multiply-adds of a network (the rules are on each field; `size_of` of the
/// generated types is checked against them in the tests). Layers' own temporaries (a
/// convolution's padded rows, say) come on top of the activation figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Memory {
    /// Weights and biases: the size of the parameter struct.
    pub parameter_bytes: usize,
    /// A forward pass for inference: the largest input plus output of any one layer (plus a
    /// max pool's window indices; an activation after the first layer works in place, so its
    /// output alone), besides the parameters.
    pub inference_bytes: usize,
    /// The training workspace: every value backward reads (the input of each convolution and
    /// dense layer, the output of each activation, the window index of each max-pool output)
    /// and `dL/dinput`.
    pub workspace_bytes: usize,
    /// The most that one layer's backward holds besides the workspace: the gradient it takes
    /// and the one it gives (one array for an activation, which works on it in place), and a
    /// convolution's weight and bias gradients (a dense layer adds its own straight into the
    /// gradient buffer, or into the parameters in `train_step`).
    pub backward_bytes: usize,
    /// Training with a gradient buffer (`loss_and_gradients`, then `sgd_step`): the buffer
    /// (`parameter_bytes`), the workspace and one layer's backward.
    pub batch_training_bytes: usize,
    /// Training with the update fused into backward (`train_step`): the workspace and one
    /// layer's backward; no gradient buffer.
    pub fused_training_bytes: usize,
    /// Multiply-adds of one inference (convolutions without the padding taps, dense layers).
    pub inference_macs: usize,
    /// Multiply-adds of one training step: forward, backward (`dL/dx` and `dL/dW` each as many
    /// as forward, except the first layer's `dL/dx`, which training leaves out when that layer
    /// is a convolution whose code is cut to its parameter gradients) and the update (one per
    /// parameter).
    pub training_macs: usize,
}
