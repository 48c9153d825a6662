use conv_runtime::conv2d;

// `auto` would loop over output rows; `unroll = full` asks for 3 * 56 * 56 * 81 = 762,048
// written-out terms, beyond the limit: the error points at `full`, the cause.
#[conv2d(input = 64x64, kernel = 9x9, unroll = full)]
pub struct Unrolled;

fn main() {}
