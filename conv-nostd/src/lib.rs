//! Generated layers and networks in a `#![no_std]` crate, against `conv-runtime` without
//! default features (no `std`, no allocator): [`train`] runs fused SGD steps of a
//! `#[network]` with everything on the stack. `cargo build -p conv-nostd` (a CI step) resolves the features of
//! this package alone, so it proves the core builds and the emitted code needs nothing more.
#![no_std]
#![warn(missing_docs)]

use conv_runtime::network::{Network, SampleError};
use conv_runtime::{conv2d, Conv2d, Gradients};

/// The textbook layer.
#[conv2d(input = 5x5, kernel = 3x3)]
pub struct Textbook;

/// A channel-first, strided, padded layer in the window strategy.
#[conv2d(input = 8x8, kernel = 3x3, in_channels = 2, out_channels = 3, stride = 2, padding = same, unroll = window)]
pub struct Block;

/// A padded layer in the rows strategy (a hidden one-row companion layer).
#[conv2d(input = 12x10, kernel = 3x3, in_channels = 2, out_channels = 2, padding = same, unroll = rows)]
pub struct Rows;

type TextbookGradients = Gradients<[[f32; 5]; 5], [[f32; 3]; 3], f32>;

/// One forward and backward pass of the textbook layer (through the `Conv2d` trait) and one
/// forward pass of the block.
pub fn step(
    x: &[[f32; 5]; 5],
    k: &[[f32; 3]; 3],
    delta: &[[f32; 3]; 3],
) -> ([[f32; 3]; 3], TextbookGradients, <Block as Conv2d>::Output) {
    let block = Block::forward(&[[[1.0; 8]; 8]; 2], &[[[[0.5; 3]; 3]; 2]; 3], &[0.0; 3]);
    (
        Textbook::forward(x, k, &0.0),
        <Textbook as Conv2d>::backward(x, k, delta),
        block,
    )
}

/// One backward pass of the rows layer.
pub fn rows_step(
    x: &<Rows as Conv2d>::Input,
    k: &<Rows as Conv2d>::Kernel,
    delta: &<Rows as Conv2d>::Output,
) -> <Rows as Conv2d>::Input {
    Rows::backward(x, k, delta).dx
}

/// A small network: convolution, ReLU, max pooling, dense.
#[conv_runtime::network(input = 1x8x8)]
pub struct Small {
    /// 3x3 convolution, 1 -> 4 channels, 8x8 -> 6x6.
    pub c1: conv!(kernel = 3x3, out_channels = 4),
    a1: relu,
    p1: maxpool!(2x2),
    flat: flatten,
    /// 36 -> 10.
    pub d1: dense!(10),
}

/// The other activations and average pooling: leaky ReLU, tanh, sigmoid.
#[conv_runtime::network(input = 1x8x8)]
pub struct Smooth {
    /// 3x3 convolution, 1 -> 2 channels, 8x8 -> 6x6.
    pub c1: conv!(kernel = 3x3, out_channels = 2),
    a1: leaky_relu!(0.01),
    p1: avgpool!(2x2),
    flat: flatten,
    /// 18 -> 8.
    pub d1: dense!(8),
    a2: tanh,
    /// 8 -> 6.
    pub d2: dense!(6),
    a3: sigmoid,
    /// 6 -> 4.
    pub d3: dense!(4),
}

/// One 8x8 grey image, as both networks take it.
pub type Image = [[[f32; 8]; 8]; 1];

/// Fixed training samples: a vertical bar (label 0) and a horizontal bar (label 1).
pub fn samples() -> [(Image, usize); 2] {
    let mut vertical = [[[0.0; 8]; 8]; 1];
    let mut horizontal = [[[0.0; 8]; 8]; 1];
    for i in 0..8 {
        vertical[0][i][3] = 1.0;
        vertical[0][i][4] = 0.5;
        horizontal[0][3][i] = 1.0;
        horizontal[0][4][i] = 0.5;
    }
    [(vertical, 0), (horizontal, 1)]
}

/// `N` fused SGD steps (`train_step`) of `Net::init(seed)` on the [`samples`] in turn: the
/// trained network and each step's loss (before its update). The network, its workspace and
/// the losses live on the stack; nothing is allocated.
///
/// # Errors
///
/// A sample the network refuses (none of [`samples`] is).
pub fn train<Net, const N: usize>(
    seed: u64,
    learning_rate: f32,
) -> Result<(Net, [f32; N]), SampleError>
where
    Net: Network<Scalar = f32, Input = Image>,
{
    let mut net = Net::init(seed);
    let mut ws = Net::workspace();
    let mut losses = [0.0; N];
    let samples = samples();
    for (step, loss) in losses.iter_mut().enumerate() {
        let (x, label) = &samples[step % samples.len()];
        *loss = net.train_step(x, *label, learning_rate, &mut ws)?;
    }
    Ok((net, losses))
}
