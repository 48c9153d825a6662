//! An average pool whose `backward` spreads each gradient undivided fails the build.
use conv_runtime::network;

#[network(input = 2x6x6, __fault = "average-pool")]
pub struct Net {
    p1: avgpool!(2x2),
    flat: flatten,
    d1: dense!(3),
}

fn main() {}
