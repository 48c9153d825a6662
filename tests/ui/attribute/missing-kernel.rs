use conv_runtime::conv2d;

#[conv2d(input = 5x5)]
pub struct Textbook;

fn main() {}
