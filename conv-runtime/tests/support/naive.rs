//! An oracle for the numerics tests, independent of the code under test: the layer by its
//! definition, one product at a time, with the gradients in the chain-rule (scatter) form. Every
//! index is computed here from the geometry's sizes, stride, dilation and padding (neither
//! `Geometry::tap` nor `conv_runtime::reference` is used).
//!
//! As in `conv_runtime::reference` and the generated code, a tap that reads the padding is not a
//! product with zero: it is left out. (So `inf` in a kernel tap that only meets padding does not
//! give `inf * 0 = NaN`.)
//!
//! Shared by `conv-runtime/tests/numerics.rs` and the workspace's `tests/numerics.rs`.
#![allow(dead_code)] // each test crate uses part of it

use conv_runtime::{Geometry, Scalar};

/// One product of the forward pass, as flat row-major indices: `u[u] += x[x] * k[k]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    /// Into `u` (and `delta`): `[o][i][j]`.
    pub u: usize,
    /// Into `x` (and `dL/dx`): `[c][p][q]`.
    pub x: usize,
    /// Into `k` (and `dL/dk`): `[o][c][a][b]`.
    pub k: usize,
    /// The output channel, the index into `b` (and `dL/db`).
    pub o: usize,
}

/// The input index along `axis` read by output index `i` at tap `a`, or `None` in the padding.
/// In `u128`, so that no geometry `resolve` accepts can overflow here.
fn read(g: &Geometry, axis: usize, i: usize, a: usize) -> Option<usize> {
    let at = i as u128 * g.stride()[axis] as u128 + a as u128 * g.dilation()[axis] as u128;
    let p = at.checked_sub(g.pads()[2 * axis] as u128)?;
    (p < g.input()[axis] as u128).then_some(p as usize)
}

/// Calls `f(u, k, o, x)` for every tap `(o, i, j, c, a, b)` in that order, with `x` the flat
/// index of the input element read, or `None` when the tap reads the padding.
fn taps(g: &Geometry, mut f: impl FnMut(usize, usize, usize, Option<usize>)) {
    let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
    let (ci, co) = (g.in_channels(), g.out_channels());
    for o in 0..co {
        for i in 0..oh {
            for j in 0..ow {
                for c in 0..ci {
                    for a in 0..kh {
                        for b in 0..kw {
                            let x = match (read(g, 0, i, a), read(g, 1, j, b)) {
                                (Some(p), Some(q)) => Some((c * h + p) * w + q),
                                _ => None,
                            };
                            let k = ((o * ci + c) * kh + a) * kw + b;
                            f((o * oh + i) * ow + j, k, o, x);
                        }
                    }
                }
            }
        }
    }
}

/// Every product whose input element is not padding, in the order `o, i, j, c, a, b`.
pub fn terms(g: &Geometry) -> Vec<Term> {
    let mut out = Vec::new();
    taps(g, |u, k, o, x| {
        if let Some(x) = x {
            out.push(Term { u, x, k, o });
        }
    });
    out
}

/// The taps that [`terms`] leaves out, those that read the padding, as `(u, k)` flat indices.
pub fn padding_reads(g: &Geometry) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    taps(g, |u, k, _, x| {
        if x.is_none() {
            out.push((u, k));
        }
    });
    out
}

/// `u[o][i][j] = b[o] + Σ x * k` over the products of `(o, i, j)`.
pub fn forward<S: Scalar>(g: &Geometry, x: &[S], k: &[S], b: &[S]) -> Vec<S> {
    let plane = g.output()[0] * g.output()[1];
    let mut u: Vec<S> = (0..g.output_len()).map(|n| b[n / plane]).collect();
    for t in terms(g) {
        u[t.u] += x[t.x] * k[t.k];
    }
    u
}

/// `(dL/dx, dL/dk, dL/db)` by the chain rule: every product `x * k` of `u[u]` sends
/// `delta[u] * k` to `dL/dx` and `delta[u] * x` to `dL/dk`; every `u[o][..]` sends `delta` to
/// `dL/db[o]`.
pub fn backward<S: Scalar>(
    g: &Geometry,
    x: &[S],
    k: &[S],
    delta: &[S],
) -> (Vec<S>, Vec<S>, Vec<S>) {
    let plane = g.output()[0] * g.output()[1];
    let mut dx = vec![S::ZERO; g.input_len()];
    let mut dk = vec![S::ZERO; g.kernel_len()];
    let mut db = vec![S::ZERO; g.bias_len()];
    for (n, &d) in delta.iter().enumerate() {
        db[n / plane] += d;
    }
    for t in terms(g) {
        dx[t.x] += delta[t.u] * k[t.k];
        dk[t.k] += delta[t.u] * x[t.x];
    }
    (dx, dk, db)
}

/// [`forward`] as a formulation that materialises the zero padding computes it: every tap that
/// reads the padding adds `0 * k` (NaN for an infinite or NaN `k`).
pub fn forward_zero_padded<S: Scalar>(g: &Geometry, x: &[S], k: &[S], b: &[S]) -> Vec<S> {
    let mut u = forward(g, x, k, b);
    for (n, kn) in padding_reads(g) {
        u[n] += S::ZERO * k[kn];
    }
    u
}

/// [`backward`] likewise: every tap that reads the padding adds `delta * 0` to `dL/dk`; the
/// gradient of the padding itself is dropped, so `dL/dx` and `dL/db` are unchanged.
pub fn backward_zero_padded<S: Scalar>(
    g: &Geometry,
    x: &[S],
    k: &[S],
    delta: &[S],
) -> (Vec<S>, Vec<S>, Vec<S>) {
    let (dx, mut dk, db) = backward(g, x, k, delta);
    for (n, kn) in padding_reads(g) {
        dk[kn] += delta[n] * S::ZERO;
    }
    (dx, dk, db)
}

/// Whether `got` and `want` are the same IEEE value: both NaN, or equal (`inf == inf`; the sign
/// of a zero is not compared).
pub fn same<S: Scalar>(got: S, want: S) -> bool {
    let (g, w) = (got.to_f64(), want.to_f64());
    (g.is_nan() && w.is_nan()) || g == w
}

/// `Err` naming the first element where `got` and `want` are not the [`same`].
pub fn compare<A: Scalar, B: Scalar>(what: &str, got: &[A], want: &[B]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} elements, expected {}",
            got.len(),
            want.len()
        ));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if !same(g.to_f64(), w.to_f64()) {
            return Err(format!("{what}[{i}]: got {g}, expected {w}"));
        }
    }
    Ok(())
}

/// `n` nonzero integers in `[-r, r]` from `seed` (splitmix64; exact in `f32` for `r <= 2^24`).
pub fn integers(seed: u64, n: usize, r: u64) -> Vec<f64> {
    let mut rng = conv_runtime::rng::SplitMix64::new(seed);
    (0..n).map(|_| rng.nonzero(r) as f64).collect()
}
