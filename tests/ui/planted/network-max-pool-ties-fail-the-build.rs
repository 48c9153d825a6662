//! A max pool whose ties go to the last maximum (planted in its flat form, 2x2 windows of
//! stride 2) fails the build: the compile-time check's windows hold ties.
use conv_runtime::network;

#[network(input = 2x6x6, __fault = "max-pool")]
pub struct Net {
    p1: maxpool!(2x2),
    flat: flatten,
    d1: dense!(3),
}

fn main() {}
