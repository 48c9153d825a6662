//! A wrong term planted in the `rows` companion of a layer checked whole fails the build.
use conv_runtime::conv2d;

#[conv2d(input = 10x9, kernel = 3x3, in_channels = 2, out_channels = 3, padding = same, unroll = rows, __fault = "rows")]
pub struct Rows;

fn main() {}
