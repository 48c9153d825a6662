// A stack whose first layer's output (3x3) is not the second layer's input (4x4) does not compile.
use conv_runtime::conv2d;
use conv_runtime::train::{Layer, Stack};

#[conv2d(input = 5x5, kernel = 3x3)]
struct First;

#[conv2d(input = 4x4, kernel = 2x2)]
struct Second;

fn main() {
    let _ = Stack::new(Layer::<First>::init(1), Layer::<Second>::init(2));
}
