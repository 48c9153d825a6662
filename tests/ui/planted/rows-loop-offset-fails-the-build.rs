//! A wrong offset planted in the loop over rows around the companion (every window copied from
//! the first output row's input rows) fails the build at expansion: the symbolic execution of
//! the loop IR disagrees with the derivation.
use conv_runtime::conv2d;

#[conv2d(input = 14x14, kernel = 5x5, in_channels = 6, out_channels = 16, __fault = "rows-loop")]
pub struct LeNet2;

fn main() {}
