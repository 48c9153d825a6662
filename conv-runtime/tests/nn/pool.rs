//! Pooling against a naive formulation written here (windows enumerated from flat indices, the
//! maximum found with `f64::max` and then its first position), central finite differences, and
//! small cases worked out by hand: the tie rule, NaN, overlapping windows.

use conv_runtime::nn::pool::{self, PoolError};
use proptest::prelude::*;

const C: usize = 2;
const H: usize = 6;
const W: usize = 7;
type Input = [[[f64; W]; H]; C];

/// The flat plane positions of window `(oy, ox)`, row-major.
fn window(k: [usize; 2], s: [usize; 2], oy: usize, ox: usize) -> Vec<usize> {
    let mut at = Vec::new();
    for i in 0..k[0] {
        for j in 0..k[1] {
            at.push((oy * s[0] + i) * W + ox * s[1] + j);
        }
    }
    at
}

fn plane(x: &Input, c: usize) -> Vec<f64> {
    x[c].iter().flatten().copied().collect()
}

/// Max pooling, naive: for each window, the maximum by `f64::max`, then the first position
/// holding it; and the pooling's sizes by the formula.
fn check_max<const OH: usize, const OW: usize>(
    x: &Input,
    k: [usize; 2],
    s: [usize; 2],
) -> Result<(), TestCaseError> {
    prop_assert_eq!([OH, OW], [(H - k[0]) / s[0] + 1, (W - k[1]) / s[1] + 1]);
    let mut y = [[[0.0; OW]; OH]; C];
    let mut at = [[[0u32; OW]; OH]; C];
    pool::max_forward(x, k, s, &mut y, &mut at).unwrap();
    for c in 0..C {
        let p = plane(x, c);
        for oy in 0..OH {
            for ox in 0..OW {
                let win = window(k, s, oy, ox);
                let m = win.iter().map(|&i| p[i]).fold(f64::NEG_INFINITY, f64::max);
                let first = *win.iter().find(|&&i| p[i] == m).unwrap();
                prop_assert_eq!(y[c][oy][ox], m);
                prop_assert_eq!(at[c][oy][ox] as usize, first);
            }
        }
    }
    Ok(())
}

/// `L = Σ w·y`; the gradient from `backward` (with `delta = w`) against
/// `(L(x + h·e_i) - L(x - h·e_i)) / 2h` for every input element. Pooling is piecewise linear,
/// so with `h` below half the gap between distinct inputs the difference is exact up to the
/// rounding of the sums; tolerance 1e-9.
fn check_gradients<const OH: usize, const OW: usize>(
    x: &Input,
    weights: &Input,
    k: [usize; 2],
    s: [usize; 2],
) -> Result<(), TestCaseError> {
    // The weights' top-left `OH x OW` corner.
    let w: [[[f64; OW]; OH]; C] = core::array::from_fn(|c| {
        core::array::from_fn(|i| core::array::from_fn(|j| weights[c][i][j]))
    });
    let w = &w;
    let loss = |x: &Input, max: bool| {
        let mut y = [[[0.0; OW]; OH]; C];
        if max {
            pool::max_forward(x, k, s, &mut y, &mut [[[0; OW]; OH]; C]).unwrap();
        } else {
            pool::avg_forward(x, k, s, &mut y).unwrap();
        }
        y.iter()
            .flatten()
            .flatten()
            .zip(w.iter().flatten().flatten())
            .map(|(y, w)| y * w)
            .sum::<f64>()
    };
    let mut at = [[[0; OW]; OH]; C];
    pool::max_forward(x, k, s, &mut [[[0.0; OW]; OH]; C], &mut at).unwrap();
    let mut dmax = [[[f64::NAN; W]; H]; C];
    pool::max_backward(w, &at, &mut dmax).unwrap();
    let mut davg = [[[f64::NAN; W]; H]; C];
    pool::avg_backward(w, k, s, &mut davg).unwrap();
    let h = 0.25;
    for c in 0..C {
        for i in 0..H {
            for j in 0..W {
                for (max, g) in [(true, dmax[c][i][j]), (false, davg[c][i][j])] {
                    let (mut lo, mut hi) = (*x, *x);
                    lo[c][i][j] -= h;
                    hi[c][i][j] += h;
                    let fd = (loss(&hi, max) - loss(&lo, max)) / (2.0 * h);
                    prop_assert!(
                        (fd - g).abs() <= 1e-9,
                        "max {}, [{}][{}][{}]: {} vs {}",
                        max,
                        c,
                        i,
                        j,
                        g,
                        fd
                    );
                }
            }
        }
    }
    Ok(())
}

/// Integer inputs in a small range, so windows often hold ties.
fn ties() -> impl Strategy<Value = Input> {
    prop::array::uniform2(prop::array::uniform6(prop::array::uniform7(-3i8..4)))
        .prop_map(|x| x.map(|p| p.map(|r| r.map(f64::from))))
}

/// Distinct inputs one apart (a shuffled range), so the maximum of every window is unique.
fn distinct() -> impl Strategy<Value = Input> {
    Just((0..C * H * W).map(|v| v as f64 - 40.0).collect::<Vec<_>>())
        .prop_shuffle()
        .prop_map(|v| {
            let mut x = [[[0.0; W]; H]; C];
            for (x, v) in x.iter_mut().flatten().flatten().zip(v) {
                *x = v;
            }
            x
        })
}

macro_rules! each_geometry {
    ($check:ident, $($arg:expr),*) => {{
        // Overlapping windows, gaps between windows, 1x1, the whole plane, mixed steps.
        $check::<3, 3>($($arg,)* [2, 2], [2, 2])?;
        $check::<4, 3>($($arg,)* [3, 2], [1, 2])?;
        $check::<2, 2>($($arg,)* [3, 3], [2, 3])?;
        $check::<6, 7>($($arg,)* [1, 1], [1, 1])?;
        $check::<1, 1>($($arg,)* [6, 7], [1, 1])?;
        $check::<2, 5>($($arg,)* [2, 3], [3, 1])?;
    }};
}

proptest! {
    #[test]
    fn max_forward_is_the_first_maximum(x in ties()) {
        each_geometry!(check_max, &x);
    }

    #[test]
    fn backward_is_the_finite_difference(
        x in distinct(),
        w in prop::array::uniform2(prop::array::uniform6(prop::array::uniform7(-2.0..2.0f64))),
    ) {
        each_geometry!(check_gradients, &x, &w);
    }
}

/// Ties go to the first maximum in row-major window order; a NaN always wins (the last one of
/// the window); a window of `-inf` reports its first element.
#[test]
fn tie_and_nan_rules() {
    let x = [[
        [1.0f32, 3.0, f32::NEG_INFINITY, f32::NEG_INFINITY],
        [3.0, 2.0, f32::NEG_INFINITY, f32::NEG_INFINITY],
    ]];
    let mut y = [[[0.0f32; 2]; 1]; 1];
    let mut at = [[[9u32; 2]; 1]; 1];
    pool::max_forward(&x, [2, 2], [2, 2], &mut y, &mut at).unwrap();
    assert_eq!(y, [[[3.0, f32::NEG_INFINITY]]]);
    assert_eq!(at, [[[1, 2]]]);

    let x = [[[1.0f64, f64::NAN], [5.0, f64::NAN]]];
    let mut y = [[[0.0f64; 1]; 1]; 1];
    let mut at = [[[9u32; 1]; 1]; 1];
    pool::max_forward(&x, [2, 2], [1, 1], &mut y, &mut at).unwrap();
    assert!(y[0][0][0].is_nan());
    assert_eq!(at, [[[3]]]);
}

/// Overlapping windows that share their maximum add their deltas there.
#[test]
fn overlapping_windows_accumulate() {
    let x = [[[0.0f64, 1.0, 0.0], [1.0, 9.0, 1.0], [0.0, 1.0, 0.0]]];
    let mut y = [[[0.0; 2]; 2]; 1];
    let mut at = [[[0u32; 2]; 2]; 1];
    pool::max_forward(&x, [2, 2], [1, 1], &mut y, &mut at).unwrap();
    assert_eq!(y, [[[9.0; 2]; 2]]);
    assert_eq!(at, [[[4; 2]; 2]]);
    let mut dx = [[[f64::NAN; 3]; 3]; 1];
    pool::max_backward(&[[[1.0, 2.0], [3.0, 4.0]]], &at, &mut dx).unwrap();
    assert_eq!(dx, [[[0.0; 3], [0.0, 10.0, 0.0], [0.0; 3]]]);

    // Average: the centre is in all four windows, an edge in two, a corner in one.
    let mut y = [[[0.0; 2]; 2]; 1];
    pool::avg_forward(&x, [2, 2], [1, 1], &mut y).unwrap();
    assert_eq!(y, [[[2.75; 2]; 2]]);
    pool::avg_backward(&[[[4.0; 2]; 2]], [2, 2], [1, 1], &mut dx).unwrap();
    assert_eq!(dx, [[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]);
}

#[test]
fn sizes_that_do_not_fit_are_errors() {
    let x = [[[1.0f32; 5]; 4]; 1];
    let mut y = [[[7.0f32; 2]; 2]; 1];
    let mut at = [[[7u32; 2]; 2]; 1];
    let mut max = |k, s| pool::max_forward(&x, k, s, &mut y, &mut at);
    assert_eq!(
        max([0, 2], [2, 2]),
        Err(PoolError::ZeroKernel { kernel: [0, 2] })
    );
    assert_eq!(
        max([2, 2], [2, 0]),
        Err(PoolError::ZeroStride { stride: [2, 0] })
    );
    assert_eq!(
        max([5, 2], [1, 1]),
        Err(PoolError::KernelLarger {
            kernel: [5, 2],
            input: [4, 5]
        })
    );
    // 4x5 with 2x2 stride 1 gives 3x4, not 2x2.
    assert_eq!(
        max([2, 2], [1, 1]),
        Err(PoolError::OutputSize {
            expected: [3, 4],
            found: [2, 2]
        })
    );
    // 4x5 with 2x2 stride 2 gives 2x2 (the last column is dropped).
    assert_eq!(max([2, 2], [2, 2]), Ok(()));
    assert_eq!(
        pool::avg_forward(&x, [3, 3], [1, 1], &mut y)
            .unwrap_err()
            .to_string(),
        "pooling output is 2x2, but the input, kernel and stride give 2x3"
    );
    let mut dx = [[[7.0f32; 5]; 4]; 1];
    assert_eq!(
        pool::avg_backward(&y, [3, 1], [1, 1], &mut dx),
        Err(PoolError::OutputSize {
            expected: [2, 5],
            found: [2, 2]
        })
    );
    assert_eq!(dx, [[[7.0; 5]; 4]], "nothing written");
}

#[test]
fn argmax_outside_the_plane_is_an_error() {
    let delta = [[[1.0f64; 2]; 1]; 1];
    let mut dx = [[[7.0f64; 3]; 2]; 1];
    assert_eq!(
        pool::max_backward(&delta, &[[[5, 6]]], &mut dx),
        Err(PoolError::Argmax { index: 6, plane: 6 })
    );
    assert_eq!(dx, [[[7.0; 3]; 2]], "nothing written");
    let e: Box<dyn std::error::Error> = Box::new(PoolError::Argmax { index: 6, plane: 6 });
    assert_eq!(
        e.to_string(),
        "argmax 6 is outside the input plane of 6 elements"
    );
}

/// The 2x2, stride 2 windows (which have a code path of their own) follow the same rules as
/// a plain scan: ties to the first, the last NaN wins, `-∞` windows report their first element,
/// and the odd last row and column are dropped.
#[test]
fn two_by_two_windows_follow_the_rules() {
    let values = [0.0f32, 1.0, -1.0, f32::NAN, f32::NEG_INFINITY, 1.0];
    let mut x = [[[0.0f32; 7]; 5]; 2];
    for (n, v) in x
        .as_flattened_mut()
        .as_flattened_mut()
        .iter_mut()
        .enumerate()
    {
        *v = values[(n * 7 + n / 3) % values.len()];
    }
    let mut y = [[[0.0f32; 3]; 2]; 2];
    let mut at = [[[0u32; 3]; 2]; 2];
    pool::max_forward(&x, [2, 2], [2, 2], &mut y, &mut at).unwrap();
    for c in 0..2 {
        for oy in 0..2 {
            for ox in 0..3 {
                let (mut best, mut pos) = (f32::NEG_INFINITY, (2 * oy * 7 + 2 * ox) as u32);
                for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let v = x[c][2 * oy + i][2 * ox + j];
                    if v > best || v.is_nan() {
                        (best, pos) = (v, ((2 * oy + i) * 7 + 2 * ox + j) as u32);
                    }
                }
                assert_eq!(y[c][oy][ox].to_bits(), best.to_bits(), "{c} {oy} {ox}");
                assert_eq!(at[c][oy][ox], pos, "{c} {oy} {ox}");
            }
        }
    }
}
