//! Activations: `forward` against formulas written with `std`, and `backward` (the derivative
//! through the stored output) against central finite differences of `forward`.
//!
//! Finite differences in `f64` with step `h = 1e-6`: the truncation error is about
//! `h²·|f'''|/6 ≤ 1e-12` and the rounding error about `ε/h ≈ 2e-10`, so `|fd - f'| ≤ 1e-8`
//! (scaled by `max(1, |delta|)`) holds with room. ReLU and leaky ReLU are sampled away from
//! their kink (`|x| ≥ 1e-3`), where the difference quotient straddles it.

use conv_runtime::nn::activation::{Activation, LeakyRelu, Relu, Sigmoid, Tanh};
use conv_runtime::{Operand, ShapeError};
use proptest::prelude::*;

const H: f64 = 1e-6;
const TOL: f64 = 1e-8;

/// `backward` on `delta` against `delta[i] · (f(x+h) - f(x-h)) / 2h`, element by element.
fn check_fd(act: &impl Activation<f64>, x: &[f64], delta: &[f64]) -> Result<(), TestCaseError> {
    let mut y = vec![0.0; x.len()];
    act.forward(x, &mut y).unwrap();
    let mut g = delta.to_vec();
    act.backward(&y, &mut g).unwrap();
    for ((&x, &d), &g) in x.iter().zip(delta).zip(&g) {
        let (mut lo, mut hi) = ([0.0], [0.0]);
        act.forward(&[x - H], &mut lo).unwrap();
        act.forward(&[x + H], &mut hi).unwrap();
        let fd = d * (hi[0] - lo[0]) / (2.0 * H);
        prop_assert!(
            (fd - g).abs() <= TOL * d.abs().max(1.0),
            "x = {x}, delta = {d}: backward {g}, finite difference {fd}"
        );
    }
    Ok(())
}

fn away_from_zero() -> impl Strategy<Value = f64> {
    prop_oneof![-5.0..-1e-3, 1e-3..5.0f64]
}

proptest! {
    #[test]
    fn relu_backward_is_the_finite_difference(
        x in prop::collection::vec(away_from_zero(), 1..20),
        delta in prop::collection::vec(-10.0..10.0f64, 20),
    ) {
        check_fd(&Relu, &x, &delta[..x.len()])?;
    }

    #[test]
    fn leaky_relu_backward_is_the_finite_difference(
        alpha in 0.0..1.0f64,
        x in prop::collection::vec(away_from_zero(), 1..20),
        delta in prop::collection::vec(-10.0..10.0f64, 20),
    ) {
        check_fd(&LeakyRelu { alpha }, &x, &delta[..x.len()])?;
    }

    #[test]
    fn tanh_backward_is_the_finite_difference(
        x in prop::collection::vec(-6.0..6.0f64, 1..20),
        delta in prop::collection::vec(-10.0..10.0f64, 20),
    ) {
        check_fd(&Tanh, &x, &delta[..x.len()])?;
    }

    #[test]
    fn sigmoid_backward_is_the_finite_difference(
        x in prop::collection::vec(-12.0..12.0f64, 1..20),
        delta in prop::collection::vec(-10.0..10.0f64, 20),
    ) {
        check_fd(&Sigmoid, &x, &delta[..x.len()])?;
    }

    /// `forward` against `std`: exact for the piecewise-linear ones, a few ulps for the others.
    #[test]
    fn forward_matches_std(x in -30.0..30.0f64, alpha in 0.0..1.0f64) {
        let one = |act: &dyn Activation<f64>| {
            let mut y = [0.0];
            act.forward(&[x], &mut y).unwrap();
            y[0]
        };
        prop_assert_eq!(one(&Relu), x.max(0.0));
        prop_assert_eq!(one(&LeakyRelu { alpha }), if x > 0.0 { x } else { alpha * x });
        prop_assert!((one(&Tanh) - x.tanh()).abs() <= 4.0 * f64::EPSILON * x.tanh().abs());
        let s = 1.0 / (1.0 + (-x).exp());
        prop_assert!((one(&Sigmoid) - s).abs() <= 4.0 * f64::EPSILON * s);
    }
}

/// At the kink the derivatives are PyTorch's: `relu'(0) = 0`, `leaky_relu'(0) = alpha`.
#[test]
fn kinks_follow_pytorch() {
    let x = [0.0f32, -0.0, -2.0, 3.0];
    let mut y = [9.0f32; 4];
    Relu.forward(&x, &mut y).unwrap();
    assert_eq!(y, [0.0, 0.0, 0.0, 3.0]);
    let mut delta = [1.0, f32::INFINITY, 1.0, 1.0];
    Relu.backward(&y, &mut delta).unwrap();
    assert_eq!(delta, [0.0, 0.0, 0.0, 1.0]);

    let leaky = LeakyRelu { alpha: 0.25f32 };
    leaky.forward(&x, &mut y).unwrap();
    assert_eq!(y, [0.0, 0.0, -0.5, 3.0]);
    let mut delta = [4.0f32; 4];
    leaky.backward(&y, &mut delta).unwrap();
    assert_eq!(delta, [1.0, 1.0, 1.0, 4.0]);
}

/// Values worked out by hand: `tanh(0) = 0` with slope 1, `sigmoid(0) = 1/2` with slope 1/4.
#[test]
fn smooth_ones_at_zero() {
    let mut y = [1.0f64];
    Tanh.forward(&[0.0], &mut y).unwrap();
    assert_eq!(y, [0.0]);
    let mut d = [3.0];
    Tanh.backward(&y, &mut d).unwrap();
    assert_eq!(d, [3.0]);
    Sigmoid.forward(&[0.0], &mut y).unwrap();
    assert_eq!(y, [0.5]);
    Sigmoid.backward(&y, &mut d).unwrap();
    assert_eq!(d, [0.75]);
    // Saturation: no NaN in either direction.
    Sigmoid.forward(&[-1000.0], &mut y).unwrap();
    assert_eq!(y, [0.0]);
    Tanh.forward(&[1000.0], &mut y).unwrap();
    assert_eq!(y, [1.0]);
}

#[test]
fn lengths_that_differ_are_errors() {
    let x = [1.0f32, 2.0, 3.0];
    let mut y = [7.0f32; 2];
    assert_eq!(
        Tanh.forward(&x, &mut y),
        Err(ShapeError::new(Operand::U, 3, 2))
    );
    assert_eq!(y, [7.0; 2], "nothing written");
    let mut delta = [5.0f32; 4];
    assert_eq!(
        Sigmoid.backward(&x, &mut delta),
        Err(ShapeError::new(Operand::Delta, 3, 4))
    );
    assert_eq!(delta, [5.0; 4], "nothing written");
    assert!(Relu.forward(&x, &mut []).is_err());
    assert!(LeakyRelu { alpha: 0.1 }.backward(&[], &mut delta).is_err());
}
