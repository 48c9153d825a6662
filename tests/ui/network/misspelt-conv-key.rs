use conv_runtime::network;

#[network(input = 1x8x8)]
pub struct Net {
    c1: conv!(kernal = 3x3, out_channels = 4),
    flat: flatten,
    d1: dense!(10),
}

fn main() {}
