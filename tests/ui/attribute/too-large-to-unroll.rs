use conv_runtime::conv2d;

#[conv2d(input = 64x64, kernel = 9x9, unroll = full)]
pub struct Textbook;

fn main() {}
