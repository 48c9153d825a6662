//! A wrong term planted in the window `forward` fails the build.
use conv_runtime::conv2d;

#[conv2d(input = 6x6, kernel = 3x3, out_channels = 2, padding = same, unroll = window, __fault = "window")]
pub struct Window;

fn main() {}
