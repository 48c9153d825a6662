use conv_runtime::conv2d;

// 512 * 512 outputs * 64 * 64 channel pairs * 9 taps = 9,663,676,416 multiply-adds, beyond the
// symbolic derivation's limit: the error gives both numbers and points to the generic
// formulation.
#[conv2d(input = 512x512, kernel = 3x3, padding = same, in_channels = 64, out_channels = 64)]
pub struct Large;

fn main() {}
