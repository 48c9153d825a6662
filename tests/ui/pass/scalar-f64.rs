use conv_runtime::conv2d;

#[conv2d(input = 4x4, kernel = 2x2, scalar = f64)]
struct Layer;

fn main() {
    let u: [[f64; 3]; 3] = Layer::forward(&[[1.0; 4]; 4], &[[2.0; 2]; 2], &0.0);
    assert_eq!(u, [[8.0; 3]; 3]);
}
