use conv_runtime::conv2d;

#[conv2d(input = 5X5, kernel = 3x3)]
pub struct Textbook;

fn main() {}
