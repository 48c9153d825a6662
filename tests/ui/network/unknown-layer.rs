use conv_runtime::network;

#[network(input = 1x8x8)]
pub struct Net {
    flat: flatten,
    d1: dens!(10),
}

fn main() {}
