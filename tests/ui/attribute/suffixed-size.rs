use conv_runtime::conv2d;

#[conv2d(input = 5x5u8, kernel = 3x3)]
pub struct Textbook;

fn main() {}
