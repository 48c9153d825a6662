use conv_runtime::conv2d;

#[conv2d(input = 7x6, kernel = 3x2, in_channels = 3, out_channels = 4, stride = 2, padding = same)]
pub struct Block;

fn main() {
    let u: [[[f32; 3]; 4]; 4] = Block::forward(&[[[1.0; 6]; 7]; 3], &[[[[1.0; 2]; 3]; 3]; 4], &[0.0; 4]);
    // The centre windows read 3 channels x 3 x 2 ones.
    assert_eq!(u[0][1][1], 18.0);
}
