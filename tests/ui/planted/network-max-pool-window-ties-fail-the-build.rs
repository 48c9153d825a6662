//! A max pool whose ties go to the last maximum (planted in its window form, 3x3 windows of
//! stride 1) fails the build: the compile-time check's windows hold ties.
use conv_runtime::network;

#[network(input = 2x6x6, __fault = "max-pool")]
pub struct Net {
    p1: maxpool!(3x3, stride = 1),
    flat: flatten,
    d1: dense!(3),
}

fn main() {}
