use conv_runtime::network;

#[network(scalar = f64)]
pub struct Net {
    flat: flatten,
    d1: dense!(10),
}

fn main() {}
