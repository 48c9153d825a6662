//! `#[network]` against PyTorch float64 (`tests/golden/network`, see its README): logits,
//! loss, `dL/dinput` and every parameter gradient of LeNet-5 and of a small network with tanh,
//! average pooling, explicit padding and a strided convolution, in f32 and f64; and `init`
//! against PyTorch's default ranges.

use conv_runtime::network::Network;
use conv_runtime::Tensor;
use flate2::read::GzDecoder;
use serde_json::Value;
use std::io::Read;

mod networks;

networks::lenet5!(LeNet5, f32);
networks::lenet5!(LeNet5F64, f64);
networks::small!(Small, f32);
networks::small!(SmallF64, f64);

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/golden/network/{name}.json.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut text = String::new();
    GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every number of a nested JSON array, row-major.
fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        Value::Number(n) => out.push(n.as_f64().expect("a finite number")),
        other => panic!("expected numbers, found {other}"),
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    flatten(v, &mut out);
    out
}

/// The per-layer `[weight, bias]` lists of a `params` or `grads` field, in order.
fn tensors(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("a list of layers")
        .iter()
        .flat_map(|layer| {
            layer
                .as_array()
                .expect("a layer's tensors")
                .iter()
                .map(numbers)
        })
        .collect()
}

fn close(what: &str, got: &[f64], want: &[f64], abs: f64, rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= abs + rel * w.abs(),
            "{what}[{i}]: got {g}, PyTorch {w} (tolerance {abs} + {rel} * |expected|)"
        );
    }
}

/// Runs `check_on` on a thread with room for LeNet-5's f64 arrays in a debug build.
fn check<N: Network>(name: &str, abs: f64, rel: f64) {
    let name = name.to_string();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || check_on::<N>(&name, abs, rel))
        .expect("a thread")
        .join()
        .expect("the check passed");
}

fn check_on<N: Network>(name: &str, abs: f64, rel: f64) {
    use conv_runtime::Scalar;
    let golden = load(name);
    let mut net = N::zeroed();
    let params = tensors(&golden["params"]);
    let mut next = params.iter();
    net.for_each_parameter_mut(&mut |p| {
        let values = next.next().expect("as many golden tensors as parameters");
        assert_eq!(p.len(), values.len(), "{name}: parameter tensor length");
        for (p, v) in p.iter_mut().zip(values) {
            *p = N::Scalar::from_f64(*v);
        }
    });
    assert!(
        next.next().is_none(),
        "{name}: more golden tensors than parameters"
    );

    let input = numbers(&golden["input"]);
    let mut x = N::Input::zeroed();
    assert_eq!(x.flat().len(), input.len());
    for (d, v) in x.flat_mut().iter_mut().zip(&input) {
        *d = N::Scalar::from_f64(*v);
    }
    let label = golden["label"].as_u64().expect("a label") as usize;

    let logits: Vec<f64> = net.forward(&x).flat().iter().map(|v| v.to_f64()).collect();
    close(
        &format!("{name} logits"),
        &logits,
        &numbers(&golden["logits"]),
        abs,
        rel,
    );

    let mut ws = N::workspace();
    let mut grads = N::zeroed();
    let loss = net
        .loss_and_gradients(&x, label, &mut ws, &mut grads)
        .expect("a valid sample")
        .to_f64();
    let want = golden["loss"].as_f64().expect("a loss");
    close(&format!("{name} loss"), &[loss], &[want], abs, rel);

    let want = tensors(&golden["grads"]);
    let mut k = 0;
    grads.for_each_parameter(&mut |g| {
        let got: Vec<f64> = g.iter().map(|v| v.to_f64()).collect();
        close(
            &format!("{name} gradient tensor {k}"),
            &got,
            &want[k],
            abs,
            rel,
        );
        k += 1;
    });
    assert_eq!(k, want.len());
    let dinput: Vec<f64> = N::dinput(&ws).flat().iter().map(|v| v.to_f64()).collect();
    close(
        &format!("{name} dL/dinput"),
        &dinput,
        &numbers(&golden["dinput"]),
        abs,
        rel,
    );
}

/// `small_1`'s second ReLU gets only negative inputs, so every gradient before it is zero
/// there; each tensor must be nonzero in some case of its architecture, or a backward that
/// returned zeros would pass.
#[test]
fn every_golden_gradient_is_nonzero_in_some_case() {
    for arch in ["lenet5", "small"] {
        let cases: Vec<Value> = [1, 2]
            .iter()
            .map(|s| load(&format!("{arch}_{s}")))
            .collect();
        let tensors_of = |c: &Value| {
            let mut t = tensors(&c["grads"]);
            t.push(numbers(&c["dinput"]));
            t
        };
        let all: Vec<Vec<Vec<f64>>> = cases.iter().map(tensors_of).collect();
        for k in 0..all[0].len() {
            assert!(
                all.iter().any(|c| c[k].iter().any(|v| *v != 0.0)),
                "{arch}: gradient tensor {k} is zero in every golden case"
            );
        }
    }
}

const F32: (f64, f64) = (1e-4, 1e-3);
const F64: (f64, f64) = (1e-10, 1e-9);

#[test]
fn lenet5_f32_matches_pytorch() {
    for seed in [1, 2] {
        check::<LeNet5>(&format!("lenet5_{seed}"), F32.0, F32.1);
    }
}

#[test]
fn lenet5_f64_matches_pytorch() {
    for seed in [1, 2] {
        check::<LeNet5F64>(&format!("lenet5_{seed}"), F64.0, F64.1);
    }
}

#[test]
fn small_f32_matches_pytorch() {
    for seed in [1, 2] {
        check::<Small>(&format!("small_{seed}"), F32.0, F32.1);
    }
}

#[test]
fn small_f64_matches_pytorch() {
    for seed in [1, 2] {
        check::<SmallF64>(&format!("small_{seed}"), F64.0, F64.1);
    }
}

/// `init` draws every tensor uniformly from PyTorch's default range for `nn.Conv2d` and
/// `nn.Linear`, weights and biases alike: `±1/sqrt(fan_in)` (`kaiming_uniform_` with
/// `a = sqrt(5)`), where `fan_in` is the inputs of one output (in channels × kernel area for a
/// convolution); each tensor from a stream of its own, the same bits for the same seed.
#[test]
fn init_draws_each_tensor_from_pytorchs_default_range() {
    // LeNet-5 in declaration order: c1 (1x5x5), c2 (6x5x5), f1 (400), f2 (120), f3 (84).
    let fan_ins = [25, 25, 150, 150, 400, 400, 120, 120, 84, 84];
    let tensors = |seed| {
        let net = LeNet5F64::init(seed);
        let mut out: Vec<Vec<f64>> = Vec::new();
        net.for_each_parameter(&mut |t| out.push(t.to_vec()));
        out
    };
    let first = tensors(7);
    assert_eq!(first.len(), fan_ins.len());
    for (t, (values, fan_in)) in first.iter().zip(fan_ins).enumerate() {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(largest <= bound, "tensor {t}: {largest} > {bound}");
        // The draws fill the range: the largest of n uniform draws falls below (1 - 5/n) of
        // the bound with probability (1 - 5/n)^n < e^-5; a bias of 6 values still passes half.
        let n = values.len() as f64;
        let near = if n >= 25.0 { 1.0 - 5.0 / n } else { 0.5 };
        assert!(largest > near * bound, "tensor {t}: {largest} of {bound}");
        let negative = values.iter().filter(|v| **v < 0.0).count();
        assert!(
            negative > 0 && negative < values.len(),
            "tensor {t}: one sign"
        );
        if values.len() >= 1000 {
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            // A uniform draw's mean is within a few standard errors of 0.
            let error = bound / (3.0 * values.len() as f64).sqrt();
            assert!(mean.abs() < 5.0 * error, "tensor {t}: mean {mean}");
        }
    }
    assert_eq!(first, tensors(7), "the same seed, the same network");
    let other = tensors(8);
    assert!(
        first.iter().zip(&other).all(|(a, b)| a != b),
        "another seed"
    );
    // Not the weight's stream started again (both have the same bound).
    assert_ne!(first[1][..6], first[0][..6], "each tensor its own stream");
}
