use conv_runtime::conv2d;

#[conv2d(input = 5u8, kernel = 3x3)]
pub struct Textbook;

fn main() {}
