//! Pooling against hand-written windows, a hand-written tie, finite differences of its own
//! forward pass, and a direct loop for the chain rule.

use conv_engine::derive::pool::{Pool, PoolKind, PoolWeight};
use conv_engine::derive::{LayerError, Pixel};
use proptest::prelude::*;

fn pool(kind: PoolKind, input: [usize; 3], kernel: [usize; 2], stride: [usize; 2]) -> Pool {
    Pool::new(kind, input, kernel, stride).expect("a valid pool")
}

fn windows(p: &Pool) -> Vec<Vec<usize>> {
    (0..p.output_len()).map(|u| p.window(u).collect()).collect()
}

#[test]
fn output_sizes_follow_floor_of_h_minus_k_over_s_plus_one() {
    for (input, kernel, stride, out) in [
        ([1, 4, 4], [2, 2], [2, 2], [1, 2, 2]),
        ([1, 5, 5], [2, 2], [2, 2], [1, 2, 2]),
        ([1, 5, 5], [3, 3], [1, 1], [1, 3, 3]),
        ([3, 7, 6], [3, 2], [2, 3], [3, 3, 2]),
        ([2, 6, 6], [3, 3], [2, 2], [2, 2, 2]),
        ([1, 2, 9], [2, 2], [1, 4], [1, 1, 2]),
        ([1, 3, 3], [3, 3], [5, 5], [1, 1, 1]),
    ] {
        assert_eq!(pool(PoolKind::Max, input, kernel, stride).output(), out);
    }
}

#[test]
fn non_overlapping_windows_written_out() {
    // 1x4x4, 2x2, stride 2; flat x = 4*row + col.
    let p = pool(PoolKind::Average, [1, 4, 4], [2, 2], [2, 2]);
    assert_eq!(
        windows(&p),
        [
            vec![0, 1, 4, 5],
            vec![2, 3, 6, 7],
            vec![8, 9, 12, 13],
            vec![10, 11, 14, 15]
        ]
    );
    for x in 0..16 {
        let (row, col) = (x / 4, x % 4);
        let want = vec![(row / 2) * 2 + col / 2];
        assert_eq!(p.readers(x).collect::<Vec<_>>(), want, "x {x}");
    }
}

#[test]
fn overlapping_windows_written_out() {
    // 1x4x5, 3x3, stride (1, 2): outputs 2x2; flat x = 5*row + col.
    let p = pool(PoolKind::Max, [1, 4, 5], [3, 3], [1, 2]);
    assert_eq!(p.output(), [1, 2, 2]);
    assert_eq!(
        windows(&p),
        [
            vec![0, 1, 2, 5, 6, 7, 10, 11, 12],
            vec![2, 3, 4, 7, 8, 9, 12, 13, 14],
            vec![5, 6, 7, 10, 11, 12, 15, 16, 17],
            vec![7, 8, 9, 12, 13, 14, 17, 18, 19],
        ]
    );
    // x[2][2] (flat 12) is read by all four; x[0][0] by u[0][0] only; x[3][4] by u[1][1] only.
    assert_eq!(p.readers(12).collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(p.readers(0).collect::<Vec<_>>(), [0]);
    assert_eq!(p.readers(19).collect::<Vec<_>>(), [3]);
}

#[test]
fn a_stride_remainder_leaves_inputs_unread() {
    // 1x5x5, 2x2, stride 2: row 4 and column 4 are in no window, and get a zero gradient.
    let p = pool(PoolKind::Average, [1, 5, 5], [2, 2], [2, 2]);
    let x: Vec<f64> = (0..25).map(f64::from).collect();
    let dx = p.backward(&x, &[1.0; 4]).unwrap();
    for k in 0..5 {
        assert_eq!(p.readers(4 * 5 + k).count(), 0);
        assert_eq!(p.readers(k * 5 + 4).count(), 0);
        assert_eq!(dx[4 * 5 + k], 0.0);
        assert_eq!(dx[k * 5 + 4], 0.0);
    }
    assert_eq!(dx[0], 0.25);
}

#[test]
fn readers_invert_windows_for_many_shapes() {
    for input in [[1, 4, 4], [2, 5, 7], [3, 6, 3]] {
        for kernel in [[1, 1], [2, 2], [3, 2], [2, 3]] {
            for stride in [[1, 1], [2, 2], [1, 3], [3, 1], [4, 4]] {
                let p = pool(PoolKind::Max, input, kernel, stride);
                let mut pairs: Vec<(usize, usize)> = (0..p.output_len())
                    .flat_map(|u| p.window(u).map(move |x| (x, u)))
                    .collect();
                pairs.sort_unstable();
                let readers: Vec<(usize, usize)> = (0..p.input_len())
                    .flat_map(|x| p.readers(x).map(move |u| (x, u)))
                    .collect();
                assert_eq!(readers, pairs, "{input:?} {kernel:?} {stride:?}");
                let table: Vec<(Pixel, Pixel)> = p.jacobian().iter().map(|e| (e.x, e.u)).collect();
                let want: Vec<(Pixel, Pixel)> =
                    pairs.iter().map(|&(x, u)| (p.x_at(x), p.u_at(u))).collect();
                assert_eq!(table, want);
            }
        }
    }
}

#[test]
fn max_pool_ties_go_to_the_first_maximum() {
    // One 2x2 window [[1, 3], [3, 2]]: the maximum 3 is at (0, 1) and (1, 0); row-major, the
    // first is (0, 1), flat 1. All equal: the first element.
    let p = pool(PoolKind::Max, [1, 2, 2], [2, 2], [1, 1]);
    let e = p.evaluate(&[1.0, 3.0, 3.0, 2.0], &[5.0]).unwrap();
    assert_eq!(e.u, [3.0]);
    assert_eq!(e.argmax, [1]);
    assert_eq!(e.dx, [0.0, 5.0, 0.0, 0.0]);
    let e = p.evaluate(&[7.0; 4], &[2.0]).unwrap();
    assert_eq!(e.argmax, [0]);
    assert_eq!(e.dx, [2.0, 0.0, 0.0, 0.0]);
    // Overlapping windows sharing a maximum: both deltas land on it.
    let p = pool(PoolKind::Max, [1, 1, 3], [1, 2], [1, 1]);
    let e = p.evaluate(&[0.0, 9.0, 9.0], &[1.0, 10.0]).unwrap();
    assert_eq!(e.argmax, [1, 1]);
    assert_eq!(e.dx, [0.0, 11.0, 0.0]);
}

#[test]
fn a_nan_propagates_as_the_maximum() {
    let p = pool(PoolKind::Max, [1, 1, 3], [1, 3], [1, 1]);
    let e = p.evaluate(&[1.0, f64::NAN, 5.0], &[1.0]).unwrap();
    assert!(e.u[0].is_nan());
    assert_eq!(e.argmax, [1]);
    // Every NaN is taken by PyTorch's scan (larger than the best so far, or NaN): the last.
    let e = p.evaluate(&[f64::NAN, 9.0, f64::NAN], &[1.0]).unwrap();
    assert!(e.u[0].is_nan());
    assert_eq!(e.argmax, [2]);
    assert_eq!(e.dx[..2], [0.0, 0.0]);
}

#[test]
fn jacobian_weights() {
    let avg = pool(PoolKind::Average, [1, 4, 4], [2, 2], [2, 2]);
    assert_eq!(avg.du_dx(0, 5), Some(PoolWeight::Average { count: 4 }));
    assert_eq!(avg.du_dx(0, 2), None);
    let max = pool(PoolKind::Max, [1, 4, 4], [2, 2], [2, 2]);
    assert_eq!(max.du_dx(3, 15), Some(PoolWeight::Argmax));
    assert_eq!(max.jacobian().len(), 16);
}

/// `dL/dx` by a direct loop over outputs and window taps, written from the definition: each
/// output adds its delta (times 1/n, or at its first maximum) to the inputs it read.
fn direct_backward(p: &Pool, x: &[f64], delta: &[f64]) -> Vec<f64> {
    let [c, h, w] = p.input();
    let [_, oh, ow] = p.output();
    let [kh, kw] = p.kernel();
    let [sh, sw] = p.stride();
    let mut dx = vec![0.0; c * h * w];
    for ch in 0..c {
        for i in 0..oh {
            for j in 0..ow {
                let d = delta[(ch * oh + i) * ow + j];
                let at = |a: usize, b: usize| (ch * h + i * sh + a) * w + j * sw + b;
                let mut best = at(0, 0);
                for a in 0..kh {
                    for b in 0..kw {
                        if x[at(a, b)] > x[best] {
                            best = at(a, b);
                        }
                    }
                }
                for a in 0..kh {
                    for b in 0..kw {
                        let term = match p.kind() {
                            PoolKind::Average => d * (1.0 / (kh * kw) as f64),
                            PoolKind::Max if at(a, b) == best => d,
                            PoolKind::Max => continue,
                        };
                        dx[at(a, b)] += term;
                    }
                }
            }
        }
    }
    dx
}

#[test]
fn chain_rule_on_integers_equals_a_direct_loop() {
    for kind in [PoolKind::Max, PoolKind::Average] {
        for (input, kernel, stride) in [
            ([1, 4, 4], [2, 2], [2, 2]),
            ([2, 5, 6], [3, 2], [1, 2]),
            ([3, 7, 7], [3, 3], [2, 2]),
            ([1, 6, 5], [2, 4], [3, 1]),
        ] {
            let p = pool(kind, input, kernel, stride);
            // Integer values with repeats (ties), integer deltas.
            let x: Vec<f64> = (0..p.input_len())
                .map(|n| ((n * 7 + 3) % 11) as f64 - 5.0)
                .collect();
            let delta: Vec<f64> = (0..p.output_len())
                .map(|n| ((n * 5 + 1) % 9) as f64 - 4.0)
                .collect();
            let got = p.backward(&x, &delta).unwrap();
            assert_eq!(got, direct_backward(&p, &x, &delta), "{kind:?} {input:?}");
        }
    }
}

/// `L = Σ r[u] * u[u]`, so `dL/dx` is the backward pass with `delta = r`.
fn finite_difference_check(p: &Pool, x: &[f64], r: &[f64]) {
    let dx = p.backward(x, r).unwrap();
    let loss = |x: &[f64]| -> f64 {
        let u = p.forward(x).unwrap();
        u.iter().zip(r).map(|(u, r)| u * r).sum()
    };
    let h = 1e-6;
    for n in 0..x.len() {
        let (mut plus, mut minus) = (x.to_vec(), x.to_vec());
        plus[n] += h;
        minus[n] -= h;
        let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h);
        // Tolerance 1e-6: central differences of a piecewise linear function of values in
        // [-1, 1] (max pooling: the random values are distinct, far from a switch of argmax).
        assert!(
            (numeric - dx[n]).abs() < 1e-6,
            "x {n}: {numeric} vs {}",
            dx[n]
        );
    }
}

fn shapes() -> impl Strategy<Value = ([usize; 3], [usize; 2], [usize; 2])> {
    (
        1..=2usize,
        2..=7usize,
        2..=7usize,
        1..=3usize,
        1..=3usize,
        1..=3usize,
        1..=3usize,
    )
        .prop_filter_map("kernel fits", |(c, h, w, kh, kw, sh, sw)| {
            (kh <= h && kw <= w).then_some(([c, h, w], [kh, kw], [sh, sw]))
        })
}

proptest! {
    #[test]
    fn average_pool_gradient_matches_finite_differences(
        (input, kernel, stride) in shapes(),
        seed in proptest::collection::vec(-1.0f64..1.0, 98 * 2),
    ) {
        let p = pool(PoolKind::Average, input, kernel, stride);
        let x = &seed[..p.input_len()];
        let r = &seed[98..98 + p.output_len()];
        finite_difference_check(&p, x, r);
    }

    #[test]
    fn max_pool_gradient_matches_finite_differences(
        (input, kernel, stride) in shapes(),
        seed in proptest::collection::vec(-1.0f64..1.0, 98 * 2),
    ) {
        let p = pool(PoolKind::Max, input, kernel, stride);
        let x = &seed[..p.input_len()];
        // Skip draws where two values of a window are within 1e-3 (argmax could switch).
        let close = (0..p.output_len()).any(|u| {
            let w: Vec<f64> = p.window(u).map(|n| x[n]).collect();
            w.iter().enumerate().any(|(i, a)| w[i + 1..].iter().any(|b| (a - b).abs() < 1e-3))
        });
        prop_assume!(!close);
        finite_difference_check(&p, x, &seed[98..98 + p.output_len()]);
    }
}

#[test]
fn invalid_layers_are_typed_errors() {
    let e = Pool::new(PoolKind::Max, [1, 2, 5], [3, 3], [1, 1]).unwrap_err();
    assert_eq!(
        e,
        LayerError::KernelTooLarge {
            kernel: [3, 3],
            input: [2, 5]
        }
    );
    assert_eq!(
        e.to_string(),
        "kernel 3x3 is larger than input 2x5 (pooling has no padding)"
    );
    let e = Pool::new(PoolKind::Average, [0, 4, 4], [2, 2], [2, 2]).unwrap_err();
    assert_eq!(e.to_string(), "input channels must be at least 1, found 0");
    let e = Pool::new(PoolKind::Average, [1, 4, 4], [2, 2], [2, 0]).unwrap_err();
    assert_eq!(
        e,
        LayerError::Zero {
            what: "stride columns"
        }
    );
    let e = Pool::new(PoolKind::Max, [usize::MAX, 2, 2], [1, 1], [1, 1]).unwrap_err();
    assert_eq!(e, LayerError::TooLarge);
    let p = pool(PoolKind::Max, [1, 4, 4], [2, 2], [2, 2]);
    assert_eq!(
        p.forward(&[0.0; 3]).unwrap_err().to_string(),
        "`x` holds 3 elements, expected 16"
    );
    assert!(p.backward(&[0.0; 16], &[0.0; 5]).is_err());
}
