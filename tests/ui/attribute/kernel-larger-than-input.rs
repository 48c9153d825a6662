use conv_runtime::conv2d;

#[conv2d(input = 5x5, kernel = 7x7)]
pub struct Textbook;

fn main() {}
