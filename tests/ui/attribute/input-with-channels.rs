use conv_runtime::conv2d;

// Channels are a key of their own; a third number on `input` says how to write them.
#[conv2d(input = 5x5x3, kernel = 3x3)]
pub struct Rgb;

fn main() {}
