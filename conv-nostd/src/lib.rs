//! Generated layers in a `#![no_std]` crate, against `conv-runtime` without default features
//! (no `std`, no allocator). `cargo build -p conv-nostd` (a CI step) resolves the features of
//! this package alone, so it proves the core builds and the emitted code needs nothing more.
#![no_std]
#![warn(missing_docs)]

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
