//! The Rust peer: candle-core's CPU `conv2d` and its backward on the configurations of
//! `benches/layers.rs` (A-E: batch N, C_in, H, W, C_out, KH, KW; stride 1, VALID, f32,
//! single-threaded), so that its figures sit beside the generated layers' in the same groups
//! (`<target>/<config>/<op>`, benchmark id `candle`).
//!
//! Built only with the `candle` feature (`cargo bench --bench candle --features candle`); the
//! default build, the tests and CI never compile candle.
//!
//! What is timed, per call over the whole batch (for D one call with a batch of 64, as candle
//! would be used; the generated layers are called once per image):
//! - `forward`: `u = x.conv2d(k) + b` (NCHW input, OIHW kernel, bias broadcast over N, H, W).
//! - `backward`: given `x`, `k` and the upstream error `delta = dL/du`, the three gradients by
//!   the very ops that candle's autograd (`backprop.rs`, `Op::Conv2D` and `Op::Broadcast`)
//!   runs for this graph, called directly and without a forward: `dx` by
//!   `delta.conv_transpose2d(k)`, `dk` by `x^T.conv2d(delta^T)` (batch and channel axes
//!   swapped) made contiguous in `k`'s layout, `db` by summing `delta` over N, H and W. The
//!   autograd path itself (`Var`s, `loss = (u * delta).sum_all()`, `loss.backward()`) also
//!   runs a forward, the elementwise loss and the gradient accumulation; set
//!   `CANDLE_BENCH_BACKWARD=autograd` to time that instead (then `backward` and
//!   `forward+backward` both time one autograd step, forward included).
//! - `forward+backward`: the two above in turn.
//!
//! Single-threaded: candle reads its thread counts from the environment when its pools are
//! first used, `RAYON_NUM_THREADS` for gemm's parallelism (`Parallelism::None` at 1) and for
//! rayon's global pool (the `into_par_iter` loops of the convolutions), `CANDLE_NUM_THREADS`
//! (falling back to `RAYON_NUM_THREADS`) for its barrier pool (elementwise ops). `setup`, the
//! first thing `main` runs (from `criterion_main!`), sets both to 1 before any candle call,
//! builds rayon's global pool with one thread, and checks
//! `candle_core::utils::get_num_threads() == 1`. The timed loop runs inside
//! `Device::Cpu.with_context` (candle's own rayon pool, one thread here, as candle advises for
//! CPU work): the convolutions' parallel loops then run inline on that thread instead of being
//! handed, one per tile, to the worker of another pool while the caller waits (which cost up
//! to 2.7x on C and 1.7x on E).
//!
//! At start-up (not timed) candle's `u`, `dx`, `dk` and `db`, by the direct ops and by
//! autograd, are checked against `conv_runtime::reference` on every image of every
//! configuration, within 1e-4 of the largest magnitude of the expected tensor.

use candle_core::{Device, Tensor, Var};
use conv_runtime::{reference, Geometry, GeometrySpec};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

/// `default` or `native`, from how this file was compiled (as in `benches/layers.rs`).
const TARGET: &str = if cfg!(target_feature = "avx2") {
    "native"
} else {
    "default"
};

/// Relative tolerance of the start-up check.
const TOLERANCE: f32 = 1e-4;

/// One configuration: batch N, C_in, H, W, C_out, KH, KW.
#[derive(Clone, Copy)]
struct Config {
    name: &'static str,
    batch: usize,
    ci: usize,
    h: usize,
    w: usize,
    co: usize,
    kh: usize,
    kw: usize,
}

const fn config(name: &'static str, batch: usize, [ci, h, w, co, kh, kw]: [usize; 6]) -> Config {
    Config {
        name,
        batch,
        ci,
        h,
        w,
        co,
        kh,
        kw,
    }
}

const CONFIGS: [Config; 5] = [
    config("A", 1, [1, 5, 5, 1, 3, 3]),
    config("B", 1, [1, 8, 8, 8, 3, 3]),
    config("C", 1, [1, 28, 28, 6, 5, 5]),
    config("D", 64, [1, 28, 28, 6, 5, 5]),
    config("E", 1, [16, 32, 32, 16, 3, 3]),
];

impl Config {
    fn geometry(&self) -> Geometry {
        let spec = GeometrySpec {
            in_channels: self.ci,
            out_channels: self.co,
            ..GeometrySpec::new([self.h, self.w], [self.kh, self.kw])
        };
        match spec.resolve() {
            Ok(g) => g,
            Err(e) => panic!("configuration {}: {e:?}", self.name),
        }
    }

    fn out(&self) -> (usize, usize) {
        (self.h - self.kh + 1, self.w - self.kw + 1)
    }
}

/// The values of `fill` in `benches/layers.rs`: in [-1, 1), not integers.
fn fill(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|n| (((n + seed) * 7919) % 17) as f32 / 8.0 - 1.0 + 1.0 / 64.0)
        .collect()
}

/// The inputs of `benches/layers.rs` (image `n` filled with seed `n`, its error with
/// `n + 1000`, the kernel with 7, the bias with 11), as candle tensors.
struct Inputs {
    x: Tensor,
    k: Tensor,
    b: Tensor,
    delta: Tensor,
}

impl Inputs {
    fn new(c: &Config) -> candle_core::Result<Self> {
        let (oh, ow) = c.out();
        let (x_len, u_len) = (c.ci * c.h * c.w, c.co * oh * ow);
        let x: Vec<f32> = (0..c.batch).flat_map(|n| fill(x_len, n)).collect();
        let delta: Vec<f32> = (0..c.batch).flat_map(|n| fill(u_len, n + 1000)).collect();
        let cpu = &Device::Cpu;
        Ok(Self {
            x: Tensor::from_vec(x, (c.batch, c.ci, c.h, c.w), cpu)?,
            k: Tensor::from_vec(
                fill(c.co * c.ci * c.kh * c.kw, 7),
                (c.co, c.ci, c.kh, c.kw),
                cpu,
            )?,
            b: Tensor::from_vec(fill(c.co, 11), (c.co, 1, 1), cpu)?,
            delta: Tensor::from_vec(delta, (c.batch, c.co, oh, ow), cpu)?,
        })
    }
}

/// `u = x ⋆ k + b` (padding 0, stride 1, dilation 1, one group).
fn forward(x: &Tensor, k: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    x.conv2d(k, 0, 1, 1, 1)?.broadcast_add(b)
}

/// `(dx, dk, db)`, shaped as `x`, `k` and `[C_out]`.
type Grads = (Tensor, Tensor, Tensor);

/// The gradients by the ops candle's autograd runs for `conv2d` and the bias broadcast.
fn backward(x: &Tensor, k: &Tensor, delta: &Tensor) -> candle_core::Result<Grads> {
    let dx = delta.conv_transpose2d(k, 0, 0, 1, 1)?;
    let dk = x
        .transpose(0, 1)?
        .conv2d(&delta.transpose(0, 1)?, 0, 1, 1, 1)?
        .transpose(0, 1)?
        .contiguous()?;
    let db = delta.sum((0, 2, 3))?;
    Ok((dx, dk, db))
}

/// `u` and the gradients by candle's autograd: `loss = Σ u ⊙ delta`, so `dL/du = delta`.
fn autograd(
    x: &Tensor,
    k: &Tensor,
    b: &Tensor,
    delta: &Tensor,
) -> candle_core::Result<(Tensor, Grads)> {
    let (xv, kv, bv) = (
        Var::from_tensor(x)?,
        Var::from_tensor(k)?,
        Var::from_tensor(b)?,
    );
    let u = forward(&xv, &kv, &bv)?;
    let grads = u.mul(delta)?.sum_all()?.backward()?;
    let grad = |v: &Var| {
        grads
            .get(v)
            .cloned()
            .ok_or_else(|| candle_core::Error::Msg("autograd gave no gradient".into()))
    };
    Ok((u, (grad(&xv)?, grad(&kv)?, grad(&bv)?.flatten_all()?)))
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all()
        .and_then(|t| t.to_vec1())
        .expect("a candle tensor reads back")
}

/// Panics unless `got` matches `want` within `TOLERANCE` of `want`'s largest magnitude;
/// returns the largest difference relative to that magnitude.
fn assert_close(what: &str, got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: candle gives {} values, the reference {}",
        got.len(),
        want.len()
    );
    let scale = want.iter().fold(1e-30_f32, |m, v| m.max(v.abs()));
    let mut worst = 0.0_f32;
    for (n, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= TOLERANCE * scale,
            "{what}: candle and conv_runtime::reference differ at element {n}: {g} vs {w} \
             (tolerance {TOLERANCE} x {scale})"
        );
        worst = worst.max((g - w).abs() / scale);
    }
    worst
}

/// Checks candle's `u` and gradients (direct ops and autograd) against the reference, image by
/// image; returns the largest relative difference seen.
fn verify(c: &Config) -> candle_core::Result<f32> {
    let g = c.geometry();
    let Inputs { x, k, b, delta } = Inputs::new(c)?;
    let u = forward(&x, &k, &b)?;
    let (dx, dk, db) = backward(&x, &k, &delta)?;
    let (au, (adx, adk, adb)) = autograd(&x, &k, &b, &delta)?;
    let (kf, bf) = (flat(&k), flat(&b));
    // dk and db sum over the batch.
    let (mut want_dk, mut want_db) = (vec![0.0; g.kernel_len()], vec![0.0; g.bias_len()]);
    let mut worst = 0.0_f32;
    let mut check = |what: String, got: &Tensor, want: &[f32]| {
        worst = worst.max(assert_close(&what, &flat(got), want));
    };
    for n in 0..c.batch {
        let (xn, dn) = (flat(&x.get(n)?), flat(&delta.get(n)?));
        let want_u = reference::forward_vec(&g, &xn, &kf, &bf).expect("reference forward");
        let want = reference::backward_vec(&g, &xn, &kf, &dn).expect("reference backward");
        let at = |what: &str| format!("config {} image {n}: {what}", c.name);
        check(at("forward u"), &u.get(n)?, &want_u);
        check(at("autograd u"), &au.get(n)?, &want_u);
        check(at("dL/dx"), &dx.get(n)?, &want.dx);
        check(at("autograd dL/dx"), &adx.get(n)?, &want.dx);
        for (s, v) in want_dk.iter_mut().zip(&want.dk) {
            *s += v;
        }
        for (s, v) in want_db.iter_mut().zip(&want.db) {
            *s += v;
        }
    }
    let at = |what: &str| format!("config {}: {what}", c.name);
    check(at("dL/dk"), &dk, &want_dk);
    check(at("autograd dL/dk"), &adk, &want_dk);
    check(at("dL/db"), &db, &want_db);
    check(at("autograd dL/db"), &adb, &want_db);
    Ok(worst)
}

/// One thread for candle (see the module docs), then the start-up check. Runs first, from
/// `criterion_main!`, before anything has touched candle's lazily built pools.
fn setup() {
    // Edition 2021: `set_var` is safe; no other thread exists yet.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    candle_core::utils::init_global_threadpool();
    assert_eq!(
        candle_core::utils::get_num_threads(),
        1,
        "candle must run single-threaded"
    );
    let mut worst = 0.0_f32;
    for c in &CONFIGS {
        match verify(c) {
            Ok(w) => worst = worst.max(w),
            Err(e) => panic!("config {}: candle failed: {e}", c.name),
        }
    }
    eprintln!(
        "candle: u, dL/dx, dL/dk, dL/db (direct ops and autograd) match conv_runtime::reference \
         on A-E (largest difference {worst:.1e} of the largest magnitude, tolerance {TOLERANCE}); \
         backward timed by {}",
        if autograd_backward() {
            "autograd (forward included)"
        } else {
            "the direct ops"
        }
    );
}

fn autograd_backward() -> bool {
    std::env::var("CANDLE_BENCH_BACKWARD").is_ok_and(|v| v == "autograd")
}

fn run(c: &mut Criterion, config: &Config) {
    let inputs = Inputs::new(config).expect("candle builds the inputs");
    let Inputs { x, k, b, delta } = &inputs;
    let autograd_mode = autograd_backward();
    for op in ["forward", "backward", "forward+backward"] {
        let mut g = c.benchmark_group(format!("{TARGET}/{}/{op}", config.name));
        g.warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1200))
            .sample_size(20);
        g.bench_function("candle", |bch| {
            Device::Cpu.with_context(|| {
                bch.iter(|| {
                    let (x, k, b, d) = (black_box(x), black_box(k), black_box(b), black_box(delta));
                    match (op, autograd_mode) {
                        ("forward", _) => {
                            black_box(forward(x, k, b).expect("candle forward"));
                        }
                        (_, true) => {
                            black_box(autograd(x, k, b, d).expect("candle autograd"));
                        }
                        ("backward", false) => {
                            black_box(backward(x, k, d).expect("candle backward"));
                        }
                        _ => {
                            black_box(forward(x, k, b).expect("candle forward"));
                            black_box(backward(x, k, d).expect("candle backward"));
                        }
                    }
                })
            })
        });
        g.finish();
    }
}

fn a(crit: &mut Criterion) {
    run(crit, &CONFIGS[0]);
}

fn b(crit: &mut Criterion) {
    run(crit, &CONFIGS[1]);
}

fn c(crit: &mut Criterion) {
    run(crit, &CONFIGS[2]);
}

fn d(crit: &mut Criterion) {
    run(crit, &CONFIGS[3]);
}

fn e(crit: &mut Criterion) {
    run(crit, &CONFIGS[4]);
}

criterion_group!(benches, a, b, c, d, e);
criterion_main!(setup, benches);
