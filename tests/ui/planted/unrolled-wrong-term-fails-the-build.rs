//! A wrong term planted in the fully unrolled `forward` (through the hidden, test-only
//! `__fault` key) fails the build: the compile-time check evaluates it on integer inputs.
use conv_runtime::conv2d;

#[conv2d(input = 5x5, kernel = 3x3, unroll = full, __fault = "unrolled")]
pub struct Textbook;

fn main() {}
