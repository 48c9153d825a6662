use conv_runtime::conv2d;

#[conv2d(inptu = 5x5, kernel = 3x3)]
pub struct Textbook;

fn main() {}
