use conv_runtime::conv2d;

// `window` proves the whole layer at compile time.
#[conv2d(input = 64x64, kernel = 9x9, unroll = window)]
pub struct Textbook;

fn main() {}
