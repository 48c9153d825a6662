//! Activations, flatten and the softmax cross-entropy against finite differences, hand-computed
//! values and the PyTorch conventions they document.

use conv_engine::derive::activation::{Activation, Slope};
use conv_engine::derive::flatten::Flatten;
use conv_engine::derive::loss::SoftmaxCrossEntropy;
use conv_engine::derive::{LayerError, Pixel};

fn activations() -> [Activation; 5] {
    [
        Activation::Relu,
        Activation::LeakyRelu(Slope::new(0.01).unwrap()),
        Activation::LeakyRelu(Slope::new(0.0).unwrap()),
        Activation::Tanh,
        Activation::Sigmoid,
    ]
}

#[test]
fn derivative_from_the_output_matches_finite_differences() {
    let h = 1e-6;
    for f in activations() {
        // Away from 0, where ReLU's kink lies.
        for x in [-3.0, -1.2, -0.3, 0.2, 0.9, 2.5] {
            let numeric = (f.apply(x + h) - f.apply(x - h)) / (2.0 * h);
            let symbolic = f.derivative(f.apply(x));
            // Tolerance 1e-8: central differences of smooth functions with h = 1e-6.
            assert!((numeric - symbolic).abs() < 1e-8, "{} at {x}", f.name());
        }
    }
}

#[test]
fn relu_derivative_at_zero_is_zero_as_pytorch() {
    assert_eq!(
        Activation::Relu.derivative(Activation::Relu.apply(0.0)),
        0.0
    );
    let leaky = Activation::LeakyRelu(Slope::new(0.25).unwrap());
    assert_eq!(leaky.derivative(leaky.apply(0.0)), 0.25);
    assert_eq!(leaky.apply(-2.0), -0.5);
}

#[test]
fn backward_is_delta_times_the_derivative() {
    let f = Activation::Relu;
    let u = f.forward(&[-2.0, 0.0, 3.0, 5.0]);
    assert_eq!(u, [0.0, 0.0, 3.0, 5.0]);
    assert_eq!(
        f.backward(&u, &[7.0, 7.0, 7.0, -2.0]).unwrap(),
        [0.0, 0.0, 7.0, -2.0]
    );
    assert_eq!(
        f.backward(&u, &[1.0]).unwrap_err(),
        LayerError::Length {
            what: "delta",
            expected: 4,
            found: 1
        }
    );
    // tanh: 1 - u², sigmoid: u (1 - u), exactly as written.
    assert_eq!(Activation::Tanh.backward(&[0.5], &[2.0]).unwrap(), [1.5]);
    assert_eq!(
        Activation::Sigmoid.backward(&[0.25], &[4.0]).unwrap(),
        [0.75]
    );
}

#[test]
fn slopes_are_validated_and_names_listed() {
    assert!(Slope::new(-0.1).is_err());
    assert!(Slope::new(f64::NAN).is_err());
    assert_eq!(
        Slope::new(-1.0).unwrap_err().to_string(),
        "the leaky ReLU slope must be finite and at least 0, found -1"
    );
    let names: Vec<&str> = activations()[..2]
        .iter()
        .chain(&activations()[3..])
        .map(Activation::name)
        .collect();
    assert_eq!(names, Activation::NAMES);
}

#[test]
fn flatten_is_channel_major_as_pytorch() {
    let f = Flatten::new([2, 3, 4]).unwrap();
    assert_eq!(f.len(), 24);
    let mut n = 0;
    for c in 0..2 {
        for row in 0..3 {
            for col in 0..4 {
                let p = Pixel { c, row, col };
                assert_eq!(f.index(p), n);
                assert_eq!(f.pixel(n), p);
                n += 1;
            }
        }
    }
    let x: Vec<f64> = (0..24).map(f64::from).collect();
    assert_eq!(f.forward(&x).unwrap(), x);
    assert_eq!(f.backward(&x).unwrap(), x);
    assert!(f.forward(&x[1..]).is_err());
    assert_eq!(
        Flatten::new([1, 0, 3]).unwrap_err().to_string(),
        "input rows must be at least 1, found 0"
    );
}

#[test]
fn loss_by_hand() {
    // z = (0, 0), y = 0: p = (1/2, 1/2), L = ln 2, dL/dz = (-1/2, 1/2).
    let loss = SoftmaxCrossEntropy::new(2).unwrap();
    let e = loss.evaluate(&[0.0, 0.0], 0).unwrap();
    assert_eq!(e.softmax, [0.5, 0.5]);
    assert_eq!(e.loss, std::f64::consts::LN_2);
    assert_eq!(e.dz, [-0.5, 0.5]);
    // Large logits stay finite (the shift by max z): z = (1000, 1000 + ln 3), y = 1.
    let e = loss.evaluate(&[1000.0, 1000.0 + 3f64.ln()], 1).unwrap();
    assert!((e.softmax[1] - 0.75).abs() < 1e-12);
    assert!((e.loss - (4.0f64 / 3.0).ln()).abs() < 1e-12);
}

#[test]
fn loss_gradient_matches_finite_differences_and_sums_to_zero() {
    let loss = SoftmaxCrossEntropy::new(4).unwrap();
    let z = [0.3, -1.7, 2.2, 0.9];
    for y in 0..4 {
        let e = loss.evaluate(&z, y).unwrap();
        // Tolerance 1e-12 for a sum of four values of magnitude below 1.
        assert!(e.dz.iter().sum::<f64>().abs() < 1e-12);
        let h = 1e-6;
        for i in 0..4 {
            let (mut plus, mut minus) = (z, z);
            plus[i] += h;
            minus[i] -= h;
            let numeric = (loss.evaluate(&plus, y).unwrap().loss
                - loss.evaluate(&minus, y).unwrap().loss)
                / (2.0 * h);
            // Tolerance 1e-8: central differences of a smooth function with h = 1e-6.
            assert!((numeric - e.dz[i]).abs() < 1e-8, "y {y}, z {i}");
        }
    }
}

#[test]
fn loss_errors() {
    assert_eq!(
        SoftmaxCrossEntropy::new(0).unwrap_err(),
        LayerError::Zero { what: "classes" }
    );
    let loss = SoftmaxCrossEntropy::new(3).unwrap();
    assert_eq!(
        loss.evaluate(&[0.0; 3], 3).unwrap_err().to_string(),
        "label 3 is not a class: expected 0 to 2 (3 classes, 0-based)"
    );
    assert!(loss.evaluate(&[0.0; 2], 0).is_err());
}
