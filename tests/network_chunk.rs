//! `Network::loss_and_recorded_gradients_chunk`, which `#[network]` writes with each dense
//! layer run for the chunk's samples at once (every row of its weights loaded once for them),
//! against the samples one by one through `loss_and_recorded_gradients`: the same losses,
//! gradients and records, bit for bit; and a bad sample anywhere in the chunk is its error and
//! changes nothing.

use conv_runtime::network;
use conv_runtime::network::{Network, SampleError, CHUNK};
use conv_runtime::rng::SplitMix64;
use conv_runtime::Tensor;

mod networks;

networks::small!(Small, f64);
networks::lenet5!(LeNet, f32);

/// Dense layers back to back (the first one's output kept for the second), one after a sigmoid.
#[network(input = 1x5x5, scalar = f64)]
struct Stacked {
    flat: flatten,
    d1: dense!(7),
    d2: dense!(4),
    a1: sigmoid,
    d3: dense!(3),
}

/// The bit patterns of `values` (`-0.0` is not `0.0` here).
fn bits<S: conv_runtime::Scalar>(values: &[S]) -> Vec<u64> {
    values.iter().map(|v| v.to_f64().to_bits()).collect()
}

fn parameter_bits<N: Network>(net: &N) -> Vec<u64> {
    let mut out = Vec::new();
    net.for_each_parameter(&mut |p| out.extend(bits(p)));
    out
}

/// `CHUNK` random inputs in `[-1, 1)` and labels, from `seed`.
fn samples<N: Network>(seed: u64) -> (Vec<N::Input>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let inputs = (0..CHUNK)
        .map(|_| {
            let mut x = N::Input::zeroed();
            for v in x.flat_mut() {
                *v = conv_runtime::Scalar::from_f64(2.0 * rng.unit() - 1.0);
            }
            x
        })
        .collect();
    let labels = (0..CHUNK)
        .map(|_| rng.below(N::CLASSES as u64) as usize)
        .collect();
    (inputs, labels)
}

fn chunk_equals_samples<N: Network>(name: &str, seed: u64) {
    let (inputs, labels) = samples::<N>(seed);
    let net = N::init(seed);
    let xs: [&N::Input; CHUNK] = core::array::from_fn(|q| &inputs[q]);
    let ls: [usize; CHUNK] = core::array::from_fn(|q| labels[q]);

    // One by one, into a buffer that already holds a gradient (as a chunk's buffer does).
    let start = {
        let mut g = Box::new(N::zeroed());
        let mut ws = Box::new(N::workspace());
        net.loss_and_gradients(xs[0], ls[0], &mut ws, &mut g)
            .expect("valid");
        g
    };
    let mut one_by_one = start.clone();
    let mut ws = Box::new(N::workspace());
    let mut records: Vec<N::Record> = vec![N::Record::zeroed(); CHUNK];
    let losses: Vec<N::Scalar> = (0..CHUNK)
        .map(|q| {
            net.loss_and_recorded_gradients(xs[q], ls[q], &mut ws, &mut one_by_one, &mut records[q])
                .expect("valid")
        })
        .collect();

    let mut chunked = start.clone();
    let mut wss: Box<[N::Workspace; CHUNK]> = Box::new(core::array::from_fn(|_| N::workspace()));
    let mut chunk_records: Box<[N::Record; CHUNK]> =
        Box::new(core::array::from_fn(|_| N::Record::zeroed()));
    let chunk_losses = net
        .loss_and_recorded_gradients_chunk(xs, ls, &mut wss, &mut chunked, &mut chunk_records)
        .expect("valid");

    assert_eq!(bits(&chunk_losses), bits(&losses), "{name}: losses");
    assert!(
        parameter_bits(&*one_by_one) != parameter_bits(&*start),
        "{name}: the samples added nothing"
    );
    assert!(
        parameter_bits(&*chunked) == parameter_bits(&*one_by_one),
        "{name}: gradients"
    );
    for q in 0..CHUNK {
        assert!(
            bits(chunk_records[q].flat()) == bits(records[q].flat()),
            "{name}: record of sample {q}"
        );
    }

    // A NaN in the third sample: its error, and nothing changed.
    let mut bad = inputs[2];
    bad.flat_mut()[1] = conv_runtime::Scalar::from_f64(f64::NAN);
    let xs = [xs[0], xs[1], &bad, xs[3]];
    let (grads_before, records_before) = (parameter_bits(&*chunked), chunk_records.clone());
    assert_eq!(
        net.loss_and_recorded_gradients_chunk(xs, ls, &mut wss, &mut chunked, &mut chunk_records),
        Err((2, SampleError::NotFinite { position: 1 })),
        "{name}"
    );
    // A label out of range in the last.
    let mut ls = ls;
    ls[3] = N::CLASSES;
    let xs: [&N::Input; CHUNK] = core::array::from_fn(|q| &inputs[q]);
    assert_eq!(
        net.loss_and_recorded_gradients_chunk(xs, ls, &mut wss, &mut chunked, &mut chunk_records),
        Err((
            3,
            SampleError::Label {
                label: N::CLASSES,
                classes: N::CLASSES
            }
        )),
        "{name}"
    );
    assert!(parameter_bits(&*chunked) == grads_before, "{name}");
    for q in 0..CHUNK {
        assert!(
            bits(chunk_records[q].flat()) == bits(records_before[q].flat()),
            "{name}: record of sample {q}"
        );
    }
}

#[test]
fn a_chunk_is_its_samples_one_by_one() {
    chunk_equals_samples::<LeNet>("LeNet", 31);
    chunk_equals_samples::<Small>("Small", 32);
    chunk_equals_samples::<Stacked>("Stacked", 33);
}
