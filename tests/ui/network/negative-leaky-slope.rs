use conv_runtime::network;

#[network(input = 1x8x8)]
pub struct Net {
    flat: flatten,
    d1: dense!(10),
    a1: leaky_relu!(-0.1),
    d2: dense!(3),
}

fn main() {}
