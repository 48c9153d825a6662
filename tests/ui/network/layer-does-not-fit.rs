use conv_runtime::network;

#[network(input = 1x12x12)]
pub struct Net {
    c1: conv!(kernel = 5x5, out_channels = 4),
    p1: maxpool!(2x2),
    c2: conv!(kernel = 5x5, out_channels = 8),
    flat: flatten,
    d1: dense!(10),
}

fn main() {}
