use conv_runtime::network;

#[network(input = 1x8x8)]
pub struct Net {
    c1: conv!(kernel = 3x3, out_channels = 4),
    a1: relu,
}

fn main() {}
