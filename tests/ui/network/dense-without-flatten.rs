use conv_runtime::network;

#[network(input = 1x8x8)]
pub struct Net {
    c1: conv!(kernel = 3x3, out_channels = 4),
    d1: dense!(10),
}

fn main() {}
