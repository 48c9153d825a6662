use conv_runtime::conv2d;

#[conv2d(input = 5x5, kernel = 3x3, unroll = windwo)]
pub struct Textbook;

fn main() {}
