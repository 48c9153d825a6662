//! A derivation with one `dL/dx` product dropped fails the build at expansion: the chain
//! rule no longer equals the padded/rotated formulation term by term.
use conv_runtime::conv2d;

#[conv2d(input = 5x5, kernel = 3x3, __fault = "derivation")]
pub struct Textbook;

fn main() {}
