//! The benchmark configurations of `BENCHMARKS.md` (batch N, C_in, H, W, C_out, KH, KW;
//! stride 1, VALID, f32, single-threaded):
//!
//! | name | config | why |
//! |---|---|---|
//! | A | 1,1,5,5,1,3,3 | the textbook layer |
//! | B | 1,1,8,8,8,3,3 | the digits example's layer |
//! | C | 1,1,28,28,6,5,5 | LeNet's first layer, one image |
//! | D | 64,1,28,28,6,5,5 | the same, a batch of 64 |
//! | E | 1,16,32,32,16,3,3 | a mid-network layer |
//! | F | 1,6,14,14,16,5,5 | LeNet's second layer, one image |
//!
//! For each: `forward`, `backward` and `forward+backward` (per call, over the whole batch), for
//! every strategy the macro accepts for the layer, `auto`, `conv_runtime::reference` (the generic
//! padded/rotated formulation at run-time sizes) and `naive` (const-generic nested loops written
//! the obvious way, in this file). All layers are declared channel-first (`in_channels` and
//! `out_channels` given), so every variant of a configuration shares its array types.
//!
//! Also `peak`: this core's f32 FMA throughput (independent vector FMAs with the widest
//! instruction set the CPU has, detected at run time), so that every figure can be read as a
//! fraction of peak.
//!
//! Groups are named `<target>/<config>/<op>` with `<target>` `default` or `native` (compiled
//! with AVX2 enabled, as `-C target-cpu=native` does on this machine). `scripts/bench.sh` runs
//! both and writes `BENCHMARKS.md`.

use conv_runtime::{conv2d, reference, Conv2d, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use std::hint::black_box;
use std::time::Duration;

/// `default` or `native`, from how this file was compiled.
const TARGET: &str = if cfg!(target_feature = "avx2") {
    "native"
} else {
    "default"
};

/// Values in [-1, 1) that are not integers (the compiler must not fold the arithmetic).
fn fill<T: Tensor<f32>>(seed: usize) -> T {
    let mut t = T::zeroed();
    for (n, v) in t.flat_mut().iter_mut().enumerate() {
        *v = (((n + seed) * 7919) % 17) as f32 / 8.0 - 1.0 + 1.0 / 64.0;
    }
    t
}

/// Inputs of one configuration: `batch` images and upstream errors, one kernel and bias.
struct Inputs<L: Conv2d<Scalar = f32>> {
    xs: Vec<L::Input>,
    deltas: Vec<L::Output>,
    k: L::Kernel,
    b: L::Bias,
}

impl<L: Conv2d<Scalar = f32>> Inputs<L> {
    fn new(batch: usize) -> Self {
        Self {
            xs: (0..batch).map(fill).collect(),
            deltas: (0..batch).map(|n| fill(n + 1000)).collect(),
            k: fill(7),
            b: fill(11),
        }
    }
}

type Grads<L> =
    conv_runtime::Gradients<<L as Conv2d>::Input, <L as Conv2d>::Kernel, <L as Conv2d>::Bias>;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// What one benchmark group measures.
#[derive(Clone, Copy)]
enum Op {
    Forward,
    Backward,
    Both,
}

impl Op {
    const ALL: [Op; 3] = [Op::Forward, Op::Backward, Op::Both];

    fn name(self) -> &'static str {
        match self {
            Op::Forward => "forward",
            Op::Backward => "backward",
            Op::Both => "forward+backward",
        }
    }
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> Group<'a> {
    let mut g = c.benchmark_group(format!("{TARGET}/{name}"));
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(2000))
        .sample_size(20);
    g
}

/// Benchmarks `op` of one variant over the batch.
fn variant<L: Conv2d<Scalar = f32>>(
    g: &mut Group<'_>,
    op: Op,
    name: &str,
    inputs: &Inputs<L>,
    forward: impl Fn(&L::Input, &L::Kernel, &L::Bias) -> L::Output,
    backward: impl Fn(&L::Input, &L::Kernel, &L::Output) -> Grads<L>,
) {
    let Inputs { xs, deltas, k, b } = inputs;
    g.bench_function(name, |bch| {
        bch.iter(|| {
            for (x, d) in xs.iter().zip(deltas) {
                if matches!(op, Op::Forward | Op::Both) {
                    black_box(forward(black_box(x), black_box(k), black_box(b)));
                }
                if matches!(op, Op::Backward | Op::Both) {
                    black_box(backward(black_box(x), black_box(k), black_box(d)));
                }
            }
        })
    });
}

/// A generated layer through its `Conv2d` impl.
fn generated<L: Conv2d<Scalar = f32>>(g: &mut Group<'_>, op: Op, name: &str, inputs: &Inputs<L>) {
    variant::<L>(g, op, name, inputs, L::forward, L::backward);
}

/// `conv_runtime::reference` at the layer's geometry.
fn generic<L: Conv2d<Scalar = f32>>(g: &mut Group<'_>, op: Op, inputs: &Inputs<L>) {
    let geometry = L::GEOMETRY;
    variant::<L>(
        g,
        op,
        "reference",
        inputs,
        |x, k, b| {
            let mut u = L::Output::zeroed();
            let done = reference::forward(&geometry, x.flat(), k.flat(), b.flat(), u.flat_mut());
            assert!(done.is_ok());
            u
        },
        |x, k, d| {
            let mut out = Grads::<L> {
                dx: L::Input::zeroed(),
                dk: L::Kernel::zeroed(),
                db: L::Bias::zeroed(),
            };
            let done = reference::backward(
                &geometry,
                x.flat(),
                k.flat(),
                d.flat(),
                out.dx.flat_mut(),
                out.dk.flat_mut(),
                out.db.flat_mut(),
            );
            assert!(done.is_ok());
            out
        },
    );
}

/// Plain nested loops over const-generic sizes, written the obvious way (stride 1, VALID).
mod naive {
    pub type Grads<
        const CI: usize,
        const H: usize,
        const W: usize,
        const CO: usize,
        const KH: usize,
        const KW: usize,
    > = conv_runtime::Gradients<[[[f32; W]; H]; CI], [[[[f32; KW]; KH]; CI]; CO], [f32; CO]>;

    #[allow(clippy::needless_range_loop)]
    pub fn forward<
        const CI: usize,
        const H: usize,
        const W: usize,
        const CO: usize,
        const KH: usize,
        const KW: usize,
        const OH: usize,
        const OW: usize,
    >(
        x: &[[[f32; W]; H]; CI],
        k: &[[[[f32; KW]; KH]; CI]; CO],
        b: &[f32; CO],
    ) -> [[[f32; OW]; OH]; CO] {
        let mut u = [[[0.0; OW]; OH]; CO];
        for o in 0..CO {
            for i in 0..OH {
                for j in 0..OW {
                    let mut s = b[o];
                    for c in 0..CI {
                        for a in 0..KH {
                            for bb in 0..KW {
                                s += x[c][i + a][j + bb] * k[o][c][a][bb];
                            }
                        }
                    }
                    u[o][i][j] = s;
                }
            }
        }
        u
    }

    #[allow(clippy::needless_range_loop)]
    pub fn backward<
        const CI: usize,
        const H: usize,
        const W: usize,
        const CO: usize,
        const KH: usize,
        const KW: usize,
        const OH: usize,
        const OW: usize,
    >(
        x: &[[[f32; W]; H]; CI],
        k: &[[[[f32; KW]; KH]; CI]; CO],
        delta: &[[[f32; OW]; OH]; CO],
    ) -> Grads<CI, H, W, CO, KH, KW> {
        let mut g = Grads::<CI, H, W, CO, KH, KW> {
            dx: [[[0.0; W]; H]; CI],
            dk: [[[[0.0; KW]; KH]; CI]; CO],
            db: [0.0; CO],
        };
        for o in 0..CO {
            for i in 0..OH {
                for j in 0..OW {
                    let d = delta[o][i][j];
                    g.db[o] += d;
                    for c in 0..CI {
                        for a in 0..KH {
                            for bb in 0..KW {
                                g.dx[c][i + a][j + bb] += d * k[o][c][a][bb];
                                g.dk[o][c][a][bb] += d * x[c][i + a][j + bb];
                            }
                        }
                    }
                }
            }
        }
        g
    }
}

/// One configuration: its layers (one per strategy), and the benchmarks of every variant.
macro_rules! config {
    (
        $fn:ident, $label:literal, batch = $batch:literal,
        [$ci:literal, $h:literal, $w:literal, $co:literal, $kh:literal, $kw:literal],
        strategies = [$($strategy:ident),*]
    ) => {
        fn $fn(c: &mut Criterion) {
            #[conv2d(input = ($h, $w), kernel = ($kh, $kw), in_channels = $ci, out_channels = $co)]
            struct Auto;
            const OH: usize = $h - $kh + 1;
            const OW: usize = $w - $kw + 1;
            let inputs = Inputs::<Auto>::new($batch);
            let spec = conv_engine::Spec {
                layout: conv_engine::ChannelLayout::ChannelFirst,
                ..conv_engine::Spec::new(Auto::GEOMETRY)
            };
            let forward = spec.strategy_on(conv_runtime::cpu::tier());
            let auto = format!("auto ({forward:?}/{:?})", spec.backward_strategy()).to_lowercase();
            for op in Op::ALL {
                let mut g = group(c, &format!("{}/{}", $label, op.name()));
                $({
                    #[conv2d(input = ($h, $w), kernel = ($kh, $kw), in_channels = $ci, out_channels = $co, unroll = $strategy)]
                    struct Layer;
                    let inputs = Inputs::<Layer>::new($batch);
                    generated::<Layer>(&mut g, op, stringify!($strategy), &inputs);
                })*
                generated::<Auto>(&mut g, op, &auto, &inputs);
                generic::<Auto>(&mut g, op, &inputs);
                variant::<Auto>(
                    &mut g,
                    op,
                    "naive",
                    &inputs,
                    naive::forward::<$ci, $h, $w, $co, $kh, $kw, OH, OW>,
                    naive::backward::<$ci, $h, $w, $co, $kh, $kw, OH, OW>,
                );
                g.finish();
            }
        }
    };
}

config!(
    a,
    "A",
    batch = 1,
    [1, 5, 5, 1, 3, 3],
    strategies = [full, window, rows]
);
config!(
    b,
    "B",
    batch = 1,
    [1, 8, 8, 8, 3, 3],
    strategies = [full, window, rows]
);
config!(
    c,
    "C",
    batch = 1,
    [1, 28, 28, 6, 5, 5],
    strategies = [window, rows]
);
config!(
    d,
    "D",
    batch = 64,
    [1, 28, 28, 6, 5, 5],
    strategies = [window, rows]
);
config!(
    e,
    "E",
    batch = 1,
    [16, 32, 32, 16, 3, 3],
    strategies = [rows]
);
config!(
    f,
    "F",
    batch = 1,
    [6, 14, 14, 16, 5, 5],
    strategies = [rows]
);

/// This core's f32 FMA peak: `CHAINS` independent accumulators (enough to cover the FMA
/// latency on two pipes), `ROUNDS` rounds of one FMA each, with the widest vectors available.
fn peak(c: &mut Criterion) {
    const ROUNDS: usize = 4096;
    let mut g = group(c, "peak");
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // 16 lanes x 2 flops x CHAINS x ROUNDS per call.
            g.bench_function(
                format!("avx512 fma, {} flop", 16 * 2 * 12 * ROUNDS),
                |bch| bch.iter(|| unsafe { fma::avx512(black_box(1.000_001), ROUNDS) }),
            );
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            g.bench_function(format!("avx2 fma, {} flop", 8 * 2 * 12 * ROUNDS), |bch| {
                bch.iter(|| unsafe { fma::avx2(black_box(1.000_001), ROUNDS) })
            });
        }
    }
    g.finish();
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use std::arch::x86_64::*;

    /// 12 independent chains of `acc = acc * m + acc`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512(m: f32, rounds: usize) -> f32 {
        let m = _mm512_set1_ps(m);
        let mut acc = [_mm512_set1_ps(1.0); 12];
        for _ in 0..rounds {
            for a in &mut acc {
                *a = _mm512_fmadd_ps(*a, m, *a);
            }
        }
        let mut s = _mm512_setzero_ps();
        for a in acc {
            s = _mm512_add_ps(s, a);
        }
        _mm512_reduce_add_ps(s)
    }

    /// The same with 256-bit vectors.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2(m: f32, rounds: usize) -> f32 {
        let m = _mm256_set1_ps(m);
        let mut acc = [_mm256_set1_ps(1.0); 12];
        for _ in 0..rounds {
            for a in &mut acc {
                *a = _mm256_fmadd_ps(*a, m, *a);
            }
        }
        let mut s = _mm256_setzero_ps();
        for a in acc {
            s = _mm256_add_ps(s, a);
        }
        let mut lanes = [0.0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), s);
        lanes.iter().sum()
    }
}

criterion_group!(benches, peak, a, b, c, d, e, f);
criterion_main!(benches);
