use conv_runtime::conv2d;

// 298 * 65 * 16 * 16 * 9 = 44,628,480 multiply-adds: more than the symbolic derivation's limit.
#[conv2d(input = 300x67, kernel = 3x3, in_channels = 16, out_channels = 16)]
pub struct Tall;

fn main() {}
