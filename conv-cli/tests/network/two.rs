use conv_runtime::network;

/// Max pooling, odd sizes, in f64.
#[network(input = 1x7x7, scalar = f64)]
pub struct Odd {
    c1: conv!(kernel = 2x2, out_channels = 3),
    a1: tanh,
    p1: maxpool!(2x2),
    flat: flatten,
    d1: dense!(5),
}

mod inner {
    #[derive(Clone)]
    #[conv_runtime::network(input = 2x6x6)]
    pub struct Inner {
        c1: conv!(kernel = 3x3, out_channels = 2),
        a1: sigmoid,
        p1: avgpool!(2x2),
        flat: flatten,
        d1: dense!(3),
    }
}

/// Not a network.
pub struct Plain;
