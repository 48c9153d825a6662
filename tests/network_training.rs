//! Training through `#[network]`: gradients against central finite differences on random
//! networks and inputs, batch gradients identical for any number of threads, and the typed
//! errors of bad samples and bad weight files.

use conv_runtime::network;
use conv_runtime::network::batch::{BatchError, Trainer};
use conv_runtime::network::weights::{self, WeightsError};
use conv_runtime::network::{Network, SampleError};
use conv_runtime::rng::SplitMix64;
use conv_runtime::Tensor;

mod networks;

networks::small!(Small, f64);
networks::lenet5!(LeNet, f32);

/// Overlapping max-pool windows, sigmoid and leaky ReLU, two dense layers.
#[network(input = 1x9x9, scalar = f64)]
struct Overlap {
    c1: conv!(kernel = 3x3, out_channels = 3, padding = same),
    a1: sigmoid,
    p1: maxpool!(3x3, stride = 2),
    c2: conv!(kernel = 2x2, out_channels = 2, dilation = 2),
    a2: leaky_relu!(0.1),
    flat: flatten,
    d1: dense!(6),
    a3: tanh,
    d2: dense!(4),
}

/// Max-pool windows taller than their row stride (`3x2`, stride 2: rows overlap, columns do
/// not), then `2x2` windows over an odd height (the last row in no window).
#[network(input = 2x11x8, scalar = f64)]
struct Strips {
    p1: maxpool!(3x2, stride = 2),
    c1: conv!(kernel = 1x1, out_channels = 2),
    a1: tanh,
    p2: maxpool!(2x2),
    flat: flatten,
    d1: dense!(3),
}

/// Activations first, back to back and last: inference applies each one after the first layer
/// in place on the value before it, training writes each into the workspace.
#[network(input = 1x5x5, scalar = f64)]
struct Edges {
    a0: tanh,
    c1: conv!(kernel = 2x2, out_channels = 2),
    a1: sigmoid,
    a2: leaky_relu!(0.1),
    flat: flatten,
    d1: dense!(4),
    a3: tanh,
    a4: leaky_relu!(0.2),
}

#[network(input = 1x6x6)]
struct Tiny {
    c1: conv!(kernel = 3x3, out_channels = 2),
    a1: relu,
    flat: flatten,
    d1: dense!(3),
}

fn random_input<N: Network>(rng: &mut SplitMix64) -> N::Input {
    let mut x = N::Input::zeroed();
    for v in x.flat_mut() {
        *v = conv_runtime::Scalar::from_f64(rng.unit());
    }
    x
}

/// `logsumexp(z) - z[label]`, written out here (not the crate's loss).
fn loss_of<N: Network<Scalar = f64>>(net: &N, x: &N::Input, label: usize) -> f64 {
    let z = net.forward(x);
    let z = z.flat();
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - z[label]
}

/// Every parameter tensor's gradient (a sample of its elements) and the input's, against
/// central differences with step 1e-6; tolerance 1e-6 + 1e-5 * |gradient|.
fn finite_differences<N: Network<Scalar = f64>>(seed: u64) {
    let mut rng = SplitMix64::new(seed);
    let net = N::init(seed);
    let x = random_input::<N>(&mut rng);
    let label = rng.below(N::CLASSES as u64) as usize;
    let mut ws = N::workspace();
    let mut grads = N::zeroed();
    net.loss_and_gradients(&x, label, &mut ws, &mut grads)
        .expect("a valid sample");
    let h = 1e-6;
    let close = |what: String, got: f64, numeric: f64| {
        assert!(
            (got - numeric).abs() <= 1e-6 + 1e-5 * got.abs(),
            "{what}: backward {got}, finite difference {numeric}"
        );
    };
    let mut analytic = Vec::new();
    grads.for_each_parameter(&mut |g| analytic.push(g.to_vec()));
    let mut checked_nonzero = 0;
    for (t, g) in analytic.iter().enumerate() {
        for _ in 0..6 {
            let i = rng.below(g.len() as u64) as usize;
            let shifted = |delta: f64| {
                let mut p = net.clone();
                let mut k = 0;
                p.for_each_parameter_mut(&mut |values| {
                    if k == t {
                        values[i] += delta;
                    }
                    k += 1;
                });
                loss_of(&p, &x, label)
            };
            let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
            close(format!("seed {seed} tensor {t} element {i}"), g[i], numeric);
            checked_nonzero += usize::from(g[i] != 0.0);
        }
    }
    let dinput = N::dinput(&ws).flat().to_vec();
    for _ in 0..8 {
        let i = rng.below(dinput.len() as u64) as usize;
        let shifted = |delta: f64| {
            let mut y = x;
            y.flat_mut()[i] += delta;
            loss_of(&net, &y, label)
        };
        let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
        close(format!("seed {seed} dL/dinput {i}"), dinput[i], numeric);
    }
    assert!(
        checked_nonzero > 0,
        "seed {seed}: every sampled gradient was zero"
    );
}

#[test]
fn gradients_match_finite_differences_on_random_networks() {
    for seed in 1..=8 {
        finite_differences::<Small>(seed);
        finite_differences::<Overlap>(seed);
        finite_differences::<Strips>(seed);
        finite_differences::<Edges>(seed);
    }
}

/// `forward` (inference's chain of steps) gives the loss that `loss_and_gradients` (training's
/// forward, through the workspace) gives, on networks with activations at either end.
#[test]
fn inference_and_training_forward_agree() {
    fn agree<N: Network<Scalar = f64>>(seed: u64) {
        let mut rng = SplitMix64::new(seed);
        let net = N::init(seed);
        let x = random_input::<N>(&mut rng);
        let label = rng.below(N::CLASSES as u64) as usize;
        let (mut ws, mut grads) = (N::workspace(), N::zeroed());
        let trained = net
            .loss_and_gradients(&x, label, &mut ws, &mut grads)
            .expect("a valid sample");
        let inferred = loss_of(&net, &x, label);
        assert!(
            (trained - inferred).abs() <= 1e-12 * (1.0 + trained.abs()),
            "seed {seed}: {trained} against {inferred}"
        );
    }
    for seed in 1..=8 {
        agree::<Edges>(seed);
        agree::<Overlap>(seed);
    }
}

fn parameters<N: Network>(net: &N) -> Vec<N::Scalar> {
    let mut out = Vec::new();
    net.for_each_parameter(&mut |p| out.extend_from_slice(p));
    out
}

/// `n` random inputs, then `n` random labels, from `seed`.
fn random_samples<N: Network>(seed: u64, n: usize) -> (Vec<N::Input>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let inputs = (0..n).map(|_| random_input::<N>(&mut rng)).collect();
    let labels = (0..n)
        .map(|_| rng.below(N::CLASSES as u64) as usize)
        .collect();
    (inputs, labels)
}

/// The parameters' bit patterns (`-0.0` is not `0.0` here).
fn bits(net: &Small) -> Vec<u64> {
    parameters(net).iter().map(|v| v.to_bits()).collect()
}

#[test]
fn batch_gradients_are_identical_for_any_number_of_threads() {
    let (inputs, labels) = random_samples::<Small>(5, 23);
    let refs: Vec<&_> = inputs.iter().collect();
    let net = Small::init(3);
    let mut results = Vec::new();
    for threads in [1, 2, 3, 8] {
        let mut trainer = Trainer::<Small>::new(threads);
        let (loss, grads) = trainer.gradients(&net, &refs, &labels).expect("valid");
        let (loss, grads) = (loss.to_bits(), parameters(grads));
        let mut stepped = net.clone();
        trainer
            .step(&mut stepped, &refs, &labels, 0.1)
            .expect("valid");
        results.push((loss, grads, parameters(&stepped)));
    }
    for r in &results[1..] {
        assert!(r.0 == results[0].0 && r.1 == results[0].1 && r.2 == results[0].2);
    }
    // The mean gradient is the mean of the per-sample gradients (up to rounding).
    let mut sum = Small::zeroed();
    let mut ws = Small::workspace();
    for (x, y) in inputs.iter().zip(&labels) {
        net.loss_and_gradients(x, *y, &mut ws, &mut sum)
            .expect("valid");
    }
    for (a, b) in parameters(&sum).iter().zip(&results[0].1) {
        assert!((a / 23.0 - b).abs() <= 1e-12 + 1e-12 * b.abs());
    }
}

/// A trainer keeps its buffers between batches and leaves them zero as it goes; whatever it ran
/// before (batches of other sizes, `gradients`, a batch that failed halfway), and whether the
/// batch starts on the caller's thread or the trainer's, each batch must give the bits a new
/// trainer gives.
#[test]
fn a_reused_trainer_equals_a_new_one() {
    let (inputs, labels) = random_samples::<Small>(9, 23);
    let mut bad = inputs[6];
    bad.flat_mut()[3] = f64::NAN;
    for threads in [1, 2, 3] {
        let mut reused = Trainer::<Small>::new(threads);
        let mut net = Small::init(4);
        // Batches of 23, 7, 16 and 2 samples, a failed one (sample 6 of 16, in the second chunk)
        // after the first; each batch's mean gradient, then a step on it.
        for (b, range) in [0..23, 0..16, 3..10, 5..21, 9..11].into_iter().enumerate() {
            let mut refs: Vec<&_> = inputs[range.clone()].iter().collect();
            if b == 1 {
                refs[6] = &bad;
                let failed = reused.step(&mut net, &refs, &labels[range], 0.1);
                assert!(matches!(failed, Err(BatchError::Sample { index: 6, .. })));
                continue;
            }
            let labels = &labels[range];
            let mut fresh = Trainer::<Small>::new(threads);
            let expected = fresh.gradients(&net, &refs, labels).expect("valid");
            let (loss, grads) = reused.gradients(&net, &refs, labels).expect("valid");
            assert_eq!(loss.to_bits(), expected.0.to_bits());
            assert_eq!(bits(grads), bits(expected.1));
            assert_ne!(bits(grads), bits(&Small::zeroed()));
            let mut stepped = net.clone();
            let mut fresh = Trainer::<Small>::new(threads);
            fresh.step(&mut stepped, &refs, labels, 0.1).expect("valid");
            // Every other batch from the trainer's own threads (`run`): the same bits.
            match b % 2 {
                0 => reused.run(|t| t.step(&mut net, &refs, labels, 0.1)),
                _ => reused.step(&mut net, &refs, labels, 0.1),
            }
            .expect("valid");
            assert_eq!(bits(&net), bits(&stepped));
        }
    }
}

/// `Trainer::step` adds the tree's last pair, takes the mean and steps in blocks spread over the
/// threads; it must equal `gradients` then `sgd_step` bit for bit, here with tensors of many
/// blocks (LeNet-5's first dense weight has 48,000) and 5 chunks (the tree's uneven case).
#[test]
fn trainer_step_equals_its_gradients_then_sgd() {
    let (inputs, labels) = random_samples::<LeNet>(7, 19);
    let refs: Vec<&_> = inputs.iter().collect();
    let net = LeNet::init(11);
    let mut first = None;
    for threads in [1, 2, 3] {
        let mut trainer = Trainer::<LeNet>::new(threads);
        let mut stepped = Box::new(net.clone());
        let loss = trainer
            .step(&mut stepped, &refs, &labels, 0.05)
            .expect("valid");
        let mut expected = Box::new(net.clone());
        let (mean_loss, grads) = trainer.gradients(&net, &refs, &labels).expect("valid");
        assert!(
            grads != &LeNet::zeroed(),
            "a zero gradient would make the step trivial"
        );
        // The mean of the per-sample gradients, summed one by one (up to f32 rounding).
        let mut sum = Box::new(LeNet::zeroed());
        let mut ws = Box::new(LeNet::workspace());
        for (x, y) in inputs.iter().zip(&labels) {
            net.loss_and_gradients(x, *y, &mut ws, &mut sum)
                .expect("valid");
        }
        for (a, b) in parameters(&*sum).iter().zip(parameters(grads)) {
            assert!(
                (a / 19.0 - b).abs() <= 1e-6 + 1e-4 * b.abs(),
                "{a} / 19 against {b}"
            );
        }
        expected.sgd_step(grads, 0.05);
        assert_eq!(loss.to_bits(), mean_loss.to_bits());
        let after = parameters(&*stepped);
        assert!(after == parameters(&*expected), "{threads} threads");
        assert!(after != parameters(&net));
        match &first {
            None => first = Some(after),
            Some(first) => assert!(first == &after, "{threads} threads against 1"),
        }
    }
}

/// The batch trainer's mean gradient and step, written out from the per-sample functions and
/// the element-wise operations of `Network`, in the order `network::batch` documents: chunks of
/// 4 samples, each summed into a zeroed buffer by `loss_and_parameter_gradients` (every tier's
/// proven `backward_into` for a dense layer), the chunk sums added in the binary tree split at
/// the largest power of two below the count, the mean, the step.
fn reference_batch<N: Network>(
    net: &N,
    inputs: &[&N::Input],
    labels: &[usize],
    rate: N::Scalar,
) -> (Box<N>, Box<N>) {
    fn tree<N: Network>(sums: &mut [Box<N>]) {
        if sums.len() < 2 {
            return;
        }
        let mid = sums.len().next_power_of_two() / 2;
        let (left, right) = sums.split_at_mut(mid);
        tree(left);
        tree(right);
        left[0].add(&right[0]);
    }
    let mut ws = Box::new(N::workspace());
    let mut sums: Vec<Box<N>> = Vec::new();
    for chunk in inputs.iter().zip(labels).collect::<Vec<_>>().chunks(4) {
        let mut sum = Box::new(N::zeroed());
        for (x, y) in chunk {
            net.loss_and_parameter_gradients(x, **y, &mut ws, &mut sum)
                .expect("valid");
        }
        sums.push(sum);
    }
    tree(&mut sums);
    let mut mean = sums.swap_remove(0);
    mean.scale(<N::Scalar as conv_runtime::Scalar>::from_f64(
        1.0 / inputs.len() as f64,
    ));
    let mut stepped = Box::new(net.clone());
    stepped.sgd_step(&mean, rate);
    (mean, stepped)
}

/// The trainer forms the dense layers' weight gradients at the update, from each sample's
/// record of the layer's input and `delta`; its gradients and steps must be the bits of
/// [`reference_batch`], for any thread count and for trees of 1 to 5 chunks.
fn trainer_equals_reference<N: Network + Send + Sync>(name: &str, seed: u64)
where
    N::Scalar: Send + Sync,
    N::Input: Sync,
    N::Workspace: Send,
{
    use conv_runtime::Scalar as _;
    // The first parameter whose bits differ.
    let first_difference = |a: &N, b: &N| {
        let (a, b) = (parameters(a), parameters(b));
        let same = |(x, y): (&N::Scalar, &N::Scalar)| x.to_f64().to_bits() == y.to_f64().to_bits();
        a.iter().zip(&b).position(|pair| !same(pair))
    };
    let (inputs, labels) = random_samples::<N>(seed, 19);
    let net = Box::new(N::init(seed));
    let rate = N::Scalar::from_f64(0.05);
    for n in [1, 3, 7, 11, 16, 19] {
        let refs: Vec<&_> = inputs[..n].iter().collect();
        let labels = &labels[..n];
        let (mean, stepped) = reference_batch(&*net, &refs, labels, rate);
        // Every dense layer's weight gradient is in the comparison, and not zero.
        let mut tensors = Vec::new();
        mean.for_each_parameter(&mut |t| tensors.push(t.to_vec()));
        assert!(!N::DEFERRED.is_empty(), "{name}: no dense layer");
        for d in N::DEFERRED {
            let t = &tensors[d.tensor];
            assert_eq!(t.len(), d.inputs * d.outputs, "{name}");
            assert!(t.iter().any(|v| v.to_f64() != 0.0), "{name}: zero dL/dw");
        }
        for threads in [1, 2, 3] {
            let mut trainer = Trainer::<N>::new(threads);
            let at = format!("{name}: {n} samples, {threads} threads");
            let (_, grads) = trainer.gradients(&net, &refs, labels).expect("valid");
            assert_eq!(first_difference(grads, &mean), None, "{at}: gradient");
            let mut net = net.clone();
            trainer.step(&mut net, &refs, labels, rate).expect("valid");
            assert_eq!(first_difference(&net, &stepped), None, "{at}: step");
        }
    }
}

#[test]
fn the_trainer_equals_the_per_sample_gradients_summed_in_its_order() {
    trainer_equals_reference::<LeNet>("LeNet", 21);
    trainer_equals_reference::<Overlap>("Overlap", 22);
    trainer_equals_reference::<Strips>("Strips", 24);
    trainer_equals_reference::<Tiny>("Tiny", 23);
}

/// `loss_and_parameter_gradients` gives the loss and parameter gradients of
/// `loss_and_gradients`, bit for bit, and leaves `dL/dinput` as the last `loss_and_gradients`
/// left it (LeNet-5's first convolution then runs its code cut to `dL/dk` and `dL/db`).
fn parameter_gradients_equal_full_ones<N: Network>(name: &str, seed: u64)
where
    N::Input: PartialEq + std::fmt::Debug,
{
    use conv_runtime::Scalar as _;
    let mut rng = SplitMix64::new(seed);
    // Boxed: LeNet-5's parameters and workspace would fill a test thread's stack.
    let net = Box::new(N::init(seed));
    let (first, second) = (random_input::<N>(&mut rng), random_input::<N>(&mut rng));
    let mut ws = Box::new(N::workspace());
    let mut grads = Box::new(N::zeroed());
    net.loss_and_gradients(&first, 1, &mut ws, &mut grads)
        .expect("valid");
    let dinput = Box::new(*N::dinput(&ws));
    let (mut full, mut cut) = (Box::new(N::zeroed()), Box::new(N::zeroed()));
    let a = net
        .loss_and_parameter_gradients(&second, 2, &mut ws, &mut cut)
        .expect("valid");
    assert_eq!(N::dinput(&ws), &*dinput, "{name}: dL/dinput changed");
    let b = net
        .loss_and_gradients(&second, 2, &mut ws, &mut full)
        .expect("valid");
    assert_ne!(N::dinput(&ws), &*dinput, "{name}: the samples are alike");
    assert_eq!(a.to_f64().to_bits(), b.to_f64().to_bits(), "{name}: loss");
    let bits = |n: &N| -> Vec<u64> { parameters(n).iter().map(|v| v.to_f64().to_bits()).collect() };
    assert_eq!(bits(&cut), bits(&full), "{name}: gradients");
    assert!(bits(&cut).iter().any(|&b| b != 0), "{name}: no gradient");
}

#[test]
fn parameter_gradients_are_the_full_ones_without_dinput() {
    parameter_gradients_equal_full_ones::<LeNet>("LeNet", 3);
    parameter_gradients_equal_full_ones::<Overlap>("Overlap", 4);
    parameter_gradients_equal_full_ones::<Tiny>("Tiny", 5);
}

/// `train_step` (the fused update: dense layers step their parameters while computing their
/// gradients) leaves the loss and the parameters `loss_and_gradients` then `sgd_step` give, bit
/// for bit, over three steps.
fn fused_step_equals_gradient_then_sgd_on<N: Network + Clone>(name: &str, seed: u64) {
    use conv_runtime::Scalar as _;
    let mut rng = SplitMix64::new(seed);
    // Boxed: LeNet-5's parameters and workspace would fill a test thread's stack.
    let mut fused = Box::new(N::init(seed));
    let mut batch = fused.clone();
    let before = parameters(&*fused);
    let mut ws = Box::new(N::workspace());
    for label in 0..3 {
        let x = random_input::<N>(&mut rng);
        let mut grads = Box::new(N::zeroed());
        let rate = N::Scalar::from_f64(0.05);
        let a = fused.train_step(&x, label, rate, &mut ws).expect("valid");
        let b = batch
            .loss_and_gradients(&x, label, &mut ws, &mut grads)
            .expect("valid");
        batch.sgd_step(&grads, rate);
        assert_eq!(a.to_f64().to_bits(), b.to_f64().to_bits(), "{name}: loss");
        let bits =
            |n: &N| -> Vec<u64> { parameters(n).iter().map(|v| v.to_f64().to_bits()).collect() };
        assert_eq!(bits(&fused), bits(&batch), "{name}: parameters");
    }
    assert_ne!(parameters(&*fused), before, "{name}: nothing moved");
}

#[test]
fn fused_step_equals_gradient_then_sgd() {
    fused_step_equals_gradient_then_sgd_on::<Overlap>("Overlap", 9);
    fused_step_equals_gradient_then_sgd_on::<LeNet>("LeNet", 10);
    fused_step_equals_gradient_then_sgd_on::<Tiny>("Tiny", 11);
}

#[test]
fn bad_samples_are_typed_errors_and_change_nothing() {
    let mut net = Tiny::init(1);
    let before = net.clone();
    let mut ws = Tiny::workspace();
    let mut x = [[[0.5f32; 6]; 6]; 1];
    assert_eq!(
        net.train_step(&x, 3, 0.1, &mut ws),
        Err(SampleError::Label {
            label: 3,
            classes: 3
        })
    );
    x[0][2][1] = f32::NAN;
    assert_eq!(
        net.train_step(&x, 0, 0.1, &mut ws),
        Err(SampleError::NotFinite { position: 13 })
    );
    x[0][2][1] = f32::INFINITY;
    let mut grads = Tiny::zeroed();
    assert_eq!(
        net.loss_and_gradients(&x, 0, &mut ws, &mut grads),
        Err(SampleError::NotFinite { position: 13 })
    );
    assert_eq!(net, before);
    assert_eq!(grads, Tiny::zeroed());
    let good = [[[0.5f32; 6]; 6]; 1];
    let mut trainer = Trainer::<Tiny>::new(2);
    let inputs = [&good, &good, &x, &good, &good];
    assert_eq!(
        trainer.step(&mut net, &inputs, &[0, 1, 2, 0, 1], 0.1),
        Err(BatchError::Sample {
            index: 2,
            error: SampleError::NotFinite { position: 13 }
        })
    );
    assert_eq!(
        trainer.step(&mut net, &inputs, &[0, 1], 0.1),
        Err(BatchError::Lengths {
            inputs: 5,
            labels: 2
        })
    );
    assert_eq!(net, before);
    assert_eq!(
        SampleError::Label {
            label: 3,
            classes: 3
        }
        .to_string(),
        "label 3 is out of range for 3 classes (0 to 2)"
    );
}

#[test]
fn weight_files_round_trip_and_refuse_other_networks() {
    let net = Tiny::init(7);
    let bytes = weights::save(&net);
    assert_eq!(weights::load::<Tiny>(&bytes), Ok(net.clone()));
    match weights::load::<Small>(&bytes) {
        Err(WeightsError::Architecture { expected, found }) => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                (Small::ARCHITECTURE, Tiny::ARCHITECTURE)
            );
        }
        other => panic!("expected an architecture error, got {other:?}"),
    }
    assert_eq!(
        weights::load::<Tiny>(b"not a weight file"),
        Err(WeightsError::NotWeights)
    );
    let short = &bytes[..bytes.len() - 3];
    assert_eq!(
        weights::load::<Tiny>(short),
        Err(WeightsError::Truncated {
            needed: bytes.len(),
            found: bytes.len() - 3
        })
    );
    for cut in 0..40 {
        assert!(weights::load::<Tiny>(&bytes[..cut]).is_err());
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        weights::load::<Tiny>(&long),
        Err(WeightsError::Trailing { .. })
    ));
    let mut nan = bytes.clone();
    let last = nan.len() - 4;
    nan[last..].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(
        weights::load::<Tiny>(&nan),
        Err(WeightsError::NotFinite {
            position: net.parameter_count() - 1
        })
    );
}
