use conv_runtime::{conv2d, Conv2d};

/// The textbook layer.
#[conv2d(input = 5x5, kernel = 3x3)]
pub struct Textbook;

const U: [[f32; 3]; 3] = Textbook::forward_const(&[[1.0; 5]; 5], &[[1.0; 3]; 3], &0.5);

fn main() {
    assert_eq!(U, [[9.5; 3]; 3]);
    let g = <Textbook as Conv2d>::backward(&[[1.0; 5]; 5], &[[1.0; 3]; 3], &[[1.0; 3]; 3]);
    assert_eq!(g.db, 9.0);
}
