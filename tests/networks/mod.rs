//! The networks of the PyTorch golden data (`tests/golden/network`), in f32 and f64, shared by
//! the network tests (a test that uses one of them leaves the other unused).
#![allow(unused_macros, unused_imports)]

/// LeNet-5 as the golden data's `lenet5` architecture.
macro_rules! lenet5 {
    ($name:ident, $scalar:ident) => {
        #[conv_runtime::network(input = 1x28x28, scalar = $scalar)]
        pub struct $name {
            c1: conv!(kernel = 5x5, out_channels = 6, padding = (2, 2, 2, 2)),
            a1: relu,
            p1: maxpool!(2x2),
            c2: conv!(kernel = 5x5, out_channels = 16),
            a2: relu,
            p2: maxpool!(2x2),
            flat: flatten,
            f1: dense!(120),
            a3: relu,
            f2: dense!(84),
            a4: relu,
            f3: dense!(10),
        }
    };
}

/// The golden data's `small` architecture: explicit padding, tanh, average pooling, a strided
/// convolution.
macro_rules! small {
    ($name:ident, $scalar:ident) => {
        #[conv_runtime::network(input = 2x12x10, scalar = $scalar)]
        pub struct $name {
            c1: conv!(kernel = 3x2, out_channels = 4, padding = (1, 1, 0, 1)),
            a1: tanh,
            p1: avgpool!(2x2),
            c2: conv!(kernel = 3x3, out_channels = 3, stride = 2),
            a2: relu,
            flat: flatten,
            d1: dense!(5),
        }
    };
}

pub(crate) use {lenet5, small};
