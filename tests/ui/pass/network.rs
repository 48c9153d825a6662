use conv_runtime::network;
use conv_runtime::network::Network;

/// A network with every layer kind.
#[network(input = 2x10x10)]
pub struct Every {
    c1: conv!(kernel = 3x3, out_channels = 3, padding = same),
    a1: leaky_relu!(0.05),
    p1: maxpool!(2x2),
    c2: conv!(kernel = 2x2, out_channels = 2),
    a2: sigmoid,
    p2: avgpool!(2x2, stride = 1),
    flat: flatten,
    d1: dense!(6),
    a3: tanh,
    d2: dense!(3),
}

fn main() {
    let mut net = Every::init(3);
    let mut ws = Every::workspace();
    let x = [[[0.25f32; 10]; 10]; 2];
    let first = net.train_step(&x, 1, 0.5, &mut ws).expect("valid");
    for _ in 0..20 {
        net.train_step(&x, 1, 0.5, &mut ws).expect("valid");
    }
    assert!(net.train_step(&x, 1, 0.5, &mut ws).expect("valid") < first);
    assert_eq!(net.predict(&x), 1);
    assert_eq!(<Every as Network>::MEMORY.parameter_bytes, Every::PARAMETER_BYTES);
}
