//! A wrong term planted in the fused unrolled `backward` that only the AVX2 and AVX-512
//! variants run (the portable `backward_const` is unfused on this target) fails the build:
//! every variant is checked at compile time.
use conv_runtime::conv2d;

#[conv2d(input = 8x8, kernel = 3x3, out_channels = 8, unroll = full, __fault = "fused-backward")]
pub struct Digits;

fn main() {}
