use conv_runtime::conv2d;

#[conv2d(kernel = 3x3)]
pub struct Textbook;

fn main() {}
