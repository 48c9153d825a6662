use conv_runtime::conv2d;
use conv_runtime::train::{Layer, Stack};

#[conv2d(input = 6x6, kernel = 3x3)]
struct First;

#[conv2d(input = 4x4, kernel = 2x2)]
struct Second;

fn main() {
    let mut stack = Stack::new(Layer::<First>::init(1), Layer::<Second>::init(2));
    let u: [[f32; 3]; 3] = stack.forward(&[[1.0; 6]; 6]);
    let dx: [[f32; 6]; 6] = stack.backward(&[[1.0; 6]; 6], &u);
    stack.sgd_step(0.1);
    assert!(dx.iter().flatten().all(|v| v.is_finite()));
}
