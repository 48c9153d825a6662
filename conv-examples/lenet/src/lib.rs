//! LeNet-5 as `#[network]` writes it, and the MNIST digits it is trained on
//! (`data/`, 8,004 training and 1,996 held-out images; see `data/README.md`).
//!
//! The architecture is the one of the PyTorch golden data (`tests/golden/network`): two
//! convolutions with ReLU and 2x2 max pooling, then three dense layers.

pub mod mnist;

use conv_runtime::network;

#[network(input = 1x28x28)]
/// LeNet-5 on 28x28 digits, in `f32`.
pub struct LeNet5 {
    /// 5x5 convolution, 1 -> 6 channels, padded to keep 28x28.
    pub c1: conv!(kernel = 5x5, out_channels = 6, padding = same),
    a1: relu,
    p1: maxpool!(2x2),
    /// 5x5 convolution, 6 -> 16 channels, 14x14 -> 10x10.
    pub c2: conv!(kernel = 5x5, out_channels = 16),
    a2: relu,
    p2: maxpool!(2x2),
    flat: flatten,
    /// 400 -> 120.
    pub f1: dense!(120),
    a3: relu,
    /// 120 -> 84.
    pub f2: dense!(84),
    a4: relu,
    /// 84 -> 10 logits.
    pub f3: dense!(10),
}
