use conv_runtime::conv2d;

/// The textbook layer.
#[conv2d(input = 5x5, kernel = 3x3)]
pub struct Textbook;

#[conv2d(input = (7, 6), kernel = (3, 2))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct NonSquare;

#[conv2d(input = 28x28, kernel = 3x3, scalar = f64,)]
struct Wide;

#[conv2d(input = 9x9, kernel = 3x3, stride = (2, 1), dilation = 2, padding = (1, 0, 2, 1))]
struct Strided;

#[conv2d(input = 6x6, kernel = 3x3, in_channels = 2, out_channels = 3, padding = same)]
struct Channels;

fn main() {
    let _ = (Textbook, NonSquare, Wide, Strided, Channels);
}
