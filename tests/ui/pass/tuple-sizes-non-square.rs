use conv_runtime::conv2d;

#[conv2d(input = (7, 6), kernel = (3, 2),)]
pub(crate) struct Layer;

fn main() {
    let u: [[f32; 5]; 5] = Layer::forward(&[[0.0; 6]; 7], &[[0.0; 2]; 3], &1.0);
    assert_eq!(u, [[1.0; 5]; 5]);
}
