use conv_runtime::network;

#[network(input = 3x8x8)]
pub struct Net {
    c1: conv!(kernel = 3x3, in_channels = 3, out_channels = 4),
    flat: flatten,
    d1: dense!(10),
}

fn main() {}
