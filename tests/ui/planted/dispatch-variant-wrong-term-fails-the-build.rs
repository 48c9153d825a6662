//! A wrong term planted in the window `forward` that only the AVX2 and AVX-512 variants run
//! (`auto` writes this layer's portable `forward` fully unrolled) fails the build: every
//! variant is checked at compile time.
use conv_runtime::conv2d;

#[conv2d(input = 8x8, kernel = 3x3, out_channels = 8, __fault = "window")]
pub struct Digits;

fn main() {}
