#[network(input = 1x4x4)]
pub struct Broken {
    c1: conv!(kernel = 5x5, out_channels = 2),
    a1: rleu,
    flat: flatten,
    d1: dense!(3),
}
