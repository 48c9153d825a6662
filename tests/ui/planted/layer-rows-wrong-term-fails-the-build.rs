//! A wrong term planted in the layer-level `forward` over rows, which only the AVX2 and AVX-512
//! variants run (the portable `forward` loops over the one-row companion), fails the build:
//! every variant is checked at compile time.
use conv_runtime::conv2d;

#[conv2d(input = 16x16, kernel = 3x3, out_channels = 2, padding = same, unroll = rows, __fault = "layer-rows")]
pub struct Rows;

fn main() {}
