//! Runs the no_std crate's training (the test harness itself uses `std`; the crate does not):
//! the loss falls and stays finite, and the fused update equals a gradient buffer followed by
//! `sgd_step`, bit for bit.

use conv_nostd::{samples, train, Small, Smooth};
use conv_runtime::network::Network;

const STEPS: usize = 40;
const LEARNING_RATE: f32 = 0.1;

/// Every loss finite, and on each sample the loss falls at every visit (the two samples
/// alternate) and ends below three quarters of where it started.
fn assert_learns<Net>(name: &str)
where
    Net: Network<Scalar = f32, Input = conv_nostd::Image>,
{
    let (_, losses) = train::<Net, STEPS>(7, LEARNING_RATE).expect("the samples are valid");
    assert!(
        losses.iter().all(|l| l.is_finite() && *l >= 0.0),
        "{name}: {losses:?}"
    );
    for sample in 0..2 {
        let visits: Vec<f32> = losses.iter().skip(sample).step_by(2).copied().collect();
        assert!(
            visits.windows(2).all(|w| w[1] < w[0]),
            "{name}, sample {sample}: the loss rose ({visits:?})"
        );
        assert!(
            visits[visits.len() - 1] < 0.75 * visits[0],
            "{name}, sample {sample}: {visits:?}"
        );
    }
}

#[test]
fn small_learns_the_samples() {
    assert_learns::<Small>("Small");
}

#[test]
fn smooth_learns_the_samples() {
    assert_learns::<Smooth>("Smooth");
}

/// Each parameter's bits, in declaration order.
fn bits<Net: Network<Scalar = f32>>(net: &Net) -> Vec<u32> {
    let mut out = Vec::new();
    net.for_each_parameter(&mut |p| out.extend(p.iter().map(|v| v.to_bits())));
    out
}

/// `loss_and_gradients` into a zeroed buffer, then `sgd_step`, against `train_step`, over
/// several steps (so later steps start from trained parameters): the same loss and the same
/// parameters, bit for bit; `train_step` leaves `dL/dinput` as it was. Both paths compute the same gradient
/// with the same code; the buffer adds it to zero (exact) and `sgd_step` applies
/// `p -= lr * g` with the helper the fused update uses.
fn assert_fused_equals_buffered<Net>(name: &str)
where
    Net: Network<Scalar = f32, Input = conv_nostd::Image>,
    Net::Input: PartialEq + std::fmt::Debug,
{
    let mut fused = Net::init(3);
    let mut buffered = fused.clone();
    let (mut ws_fused, mut ws_buffered) = (Net::workspace(), Net::workspace());
    for (step, (x, label)) in samples().iter().cycle().take(10).enumerate() {
        let mut grads = Net::zeroed();
        let loss_b = buffered
            .loss_and_gradients(x, *label, &mut ws_buffered, &mut grads)
            .expect("valid sample");
        buffered.sgd_step(&grads, LEARNING_RATE);
        let loss_f = fused
            .train_step(x, *label, LEARNING_RATE, &mut ws_fused)
            .expect("valid sample");
        assert_eq!(
            loss_b.to_bits(),
            loss_f.to_bits(),
            "{name}, step {step}: loss"
        );
        assert_eq!(
            bits(&buffered),
            bits(&fused),
            "{name}, step {step}: parameters"
        );
        assert_eq!(
            Net::dinput(&ws_fused),
            Net::dinput(&Net::workspace()),
            "{name}, step {step}: train_step computes no dL/dinput"
        );
    }
    assert_ne!(bits(&fused), bits(&Net::init(3)), "{name}: nothing trained");
}

#[test]
fn small_fused_step_equals_gradients_then_sgd_step() {
    assert_fused_equals_buffered::<Small>("Small");
}

#[test]
fn smooth_fused_step_equals_gradients_then_sgd_step() {
    assert_fused_equals_buffered::<Smooth>("Smooth");
}

/// The inherent functions (what a `no_std` caller uses without the trait) and the trait agree.
#[test]
fn inherent_train_step_is_the_trait_one() {
    let (x, label) = samples()[0];
    let mut a = Small::init(5);
    let mut b = a.clone();
    let mut ws = Small::workspace();
    let la = a.train_step(&x, label, LEARNING_RATE, &mut ws).unwrap();
    let lb = Network::train_step(&mut b, &x, label, LEARNING_RATE, &mut ws).unwrap();
    assert_eq!(la.to_bits(), lb.to_bits());
    assert_eq!(a, b);
}

/// The workspace and the memory constants of the no_std networks are what `size_of` says.
#[test]
fn memory_constants_are_sizes() {
    use std::mem::size_of;
    assert_eq!(Small::PARAMETER_BYTES, size_of::<Small>());
    assert_eq!(
        Small::WORKSPACE_BYTES,
        size_of::<conv_nostd::SmallWorkspace>()
    );
    assert_eq!(Smooth::PARAMETER_BYTES, size_of::<Smooth>());
    assert_eq!(
        Smooth::WORKSPACE_BYTES,
        size_of::<conv_nostd::SmoothWorkspace>()
    );
}
