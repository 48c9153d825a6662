//! A wrong term planted in the `rows` companion of a layer too large to evaluate whole (LeNet-5's
//! second layer, 240,000 multiply-adds) fails the build: the companion is evaluated on its own.
use conv_runtime::conv2d;

#[conv2d(input = 14x14, kernel = 5x5, in_channels = 6, out_channels = 6, __fault = "rows")]
pub struct LeNet2;

fn main() {}
