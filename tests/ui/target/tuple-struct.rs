use conv_runtime::conv2d;

#[conv2d(input = 5x5, kernel = 3x3)]
pub struct Textbook(pub f32);

fn main() {}
