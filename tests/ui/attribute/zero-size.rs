use conv_runtime::conv2d;

#[conv2d(input = (0, 5), kernel = 3x3)]
pub struct Textbook;

fn main() {}
