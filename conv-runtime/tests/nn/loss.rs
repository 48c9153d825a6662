//! Softmax cross-entropy against central finite differences and a naive formulation with
//! `std`; softmax sums to one; large logits that the naive form overflows on.

use conv_runtime::nn::loss::{argmax, softmax, softmax_cross_entropy, LabelError};
use proptest::prelude::*;

/// `-ln(e^{z_label} / Σ e^{z_i})` with `std`, no shift: fine for the small logits it is used on.
fn naive_loss(z: &[f64], label: usize) -> f64 {
    let s: f64 = z.iter().map(|v| v.exp()).sum();
    -(z[label].exp() / s).ln()
}

proptest! {
    /// `dlogits` against `(L(z + h·e_i) - L(z - h·e_i)) / 2h` with `h = 1e-5` in `f64`:
    /// truncation about `h²·|L'''| ≤ 1e-10`, rounding about `ε·|L|/h ≤ 1e-10`; tolerance 1e-8.
    #[test]
    fn gradient_is_the_finite_difference(
        z in prop::array::uniform6(-8.0..8.0f64),
        label in 0..6usize,
    ) {
        let mut d = [0.0; 6];
        let loss = softmax_cross_entropy(&z, label, &mut d).unwrap();
        prop_assert!((loss - naive_loss(&z, label)).abs() <= 1e-12 * naive_loss(&z, label).max(1.0));
        let h = 1e-5;
        for i in 0..6 {
            let (mut lo, mut hi) = (z, z);
            lo[i] -= h;
            hi[i] += h;
            let fd = (naive_loss(&hi, label) - naive_loss(&lo, label)) / (2.0 * h);
            prop_assert!((fd - d[i]).abs() <= 1e-8, "i = {}: {} vs {}", i, d[i], fd);
        }
        // Softmax minus one-hot: the components sum to zero.
        prop_assert!(d.iter().sum::<f64>().abs() <= 1e-14);
    }

    #[test]
    fn softmax_sums_to_one(z in prop::array::uniform10(-50.0..50.0f64)) {
        let p = softmax(&z);
        prop_assert!((p.iter().sum::<f64>() - 1.0).abs() <= 1e-14);
        prop_assert!(p.iter().all(|&p| (0.0..=1.0).contains(&p)));
        // The largest logit has the largest probability.
        prop_assert_eq!(argmax(&p), argmax(&z));
    }

    #[test]
    fn softmax_sums_to_one_in_f32(z in prop::array::uniform10(-50.0..50.0f32)) {
        let p = softmax(&z);
        prop_assert!((p.iter().sum::<f32>() - 1.0).abs() <= 1e-5);
    }
}

/// Logits of ±1e4: the naive softmax overflows (`e^10000 = inf`, `inf/inf = NaN`); the shifted
/// one gives the exact answer, worked out by hand: `lse(z) = 1e4 + ln(1 + e^-1e4 + e^-2e4)`,
/// which rounds to `1e4`.
#[test]
fn large_logits_do_not_overflow() {
    let z = [1e4f64, 0.0, -1e4];
    let naive = z[0].exp() / z.iter().map(|v| v.exp()).sum::<f64>();
    assert!(naive.is_nan());

    assert_eq!(softmax(&z), [1.0, 0.0, 0.0]);
    let mut d = [0.0; 3];
    assert_eq!(softmax_cross_entropy(&z, 0, &mut d), Ok(0.0));
    assert_eq!(d, [0.0, 0.0, 0.0]);
    assert_eq!(softmax_cross_entropy(&z, 1, &mut d), Ok(1e4));
    assert_eq!(d, [1.0, -1.0, 0.0]);
    assert_eq!(softmax_cross_entropy(&z, 2, &mut d), Ok(2e4));

    let z = [1e4f32, 1e4, -1e4];
    let mut d = [0.0; 3];
    let loss = softmax_cross_entropy(&z, 0, &mut d).unwrap();
    assert_eq!(loss, std::f32::consts::LN_2);
    assert_eq!(d, [-0.5, 0.5, 0.0]);
}

/// Equal logits: every class has probability 1/N and the loss is ln N.
#[test]
fn uniform_logits() {
    let mut d = [0.0f64; 4];
    let loss = softmax_cross_entropy(&[3.0; 4], 2, &mut d).unwrap();
    assert!((loss - 4.0f64.ln()).abs() <= 2.0 * f64::EPSILON);
    assert_eq!(d, [0.25, 0.25, -0.75, 0.25]);
}

#[test]
fn label_out_of_range_is_an_error() {
    let mut d = [7.0f32; 3];
    assert_eq!(
        softmax_cross_entropy(&[1.0, 2.0, 3.0], 3, &mut d),
        Err(LabelError::new(3, 3))
    );
    assert_eq!(d, [7.0; 3], "nothing written");
    let e = softmax_cross_entropy::<f64, 0>(&[], 0, &mut []).unwrap_err();
    assert_eq!((e.label, e.classes), (0, 0));
    assert_eq!(
        e.to_string(),
        "label 0 is not a class: there are no classes"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(LabelError::new(12, 10));
    assert_eq!(
        boxed.to_string(),
        "label 12 is not a class: expected 0 to 9 (10 classes)"
    );
}

#[test]
fn argmax_takes_the_first_maximum() {
    assert_eq!(argmax(&[1.0f32, 3.0, 2.0, 3.0]), Some(1));
    assert_eq!(argmax(&[-1.0f64]), Some(0));
    assert_eq!(argmax::<f64>(&[]), None);
    assert_eq!(argmax(&[f64::NEG_INFINITY; 3]), Some(0));
    // NaN counts as the largest, as in PyTorch: the first NaN.
    assert_eq!(argmax(&[1.0, f64::NAN, 5.0, f64::NAN]), Some(1));
    assert_eq!(argmax(&[f32::NAN, 5.0]), Some(0));
}
