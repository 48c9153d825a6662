//! A product counted twice, planted in the portable `forward` of a network's dense layer
//! (after its symbolic proof), fails the build: the compile-time check evaluates that code.
use conv_runtime::network;

#[network(input = 1x4x4, __fault = "dense")]
pub struct Net {
    flat: flatten,
    d1: dense!(3),
}

fn main() {}
