use conv_runtime::conv2d;

#[conv2d(input = (5, 0), kernel = 3x3)]
pub struct Layer;

fn main() {}
