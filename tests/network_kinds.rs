//! The run-time pooling the generated networks call (`conv_runtime::nn::pool`) against the
//! engine's derivation of the same layer (`conv_engine::derive::pool`: window tables and the
//! argmax indicator), exactly, on integer inputs with many ties, for every shape below.

use conv_engine::derive::pool::{Pool, PoolKind};
use conv_runtime::nn::pool;
use conv_runtime::rng::SplitMix64;

/// Integers in [-2, 2]: windows often hold the same maximum twice.
fn integers(n: usize, rng: &mut SplitMix64) -> Vec<f64> {
    (0..n).map(|_| rng.below(5) as f64 - 2.0).collect()
}

macro_rules! case {
    ($c:literal, $h:literal, $w:literal, $kh:literal, $kw:literal, $sh:literal, $sw:literal) => {{
        const OH: usize = ($h - $kh) / $sh + 1;
        const OW: usize = ($w - $kw) / $sw + 1;
        let (kernel, stride) = ([$kh, $kw], [$sh, $sw]);
        let mut rng = SplitMix64::new(($c * 1000 + $h * 100 + $w * 10 + $kh) as u64);
        for _ in 0..20 {
            let xs = integers($c * $h * $w, &mut rng);
            let ds = integers($c * OH * OW, &mut rng);
            let mut x = [[[0.0f64; $w]; $h]; $c];
            x.as_flattened_mut().as_flattened_mut().copy_from_slice(&xs);
            let mut d = [[[0.0f64; OW]; OH]; $c];
            d.as_flattened_mut().as_flattened_mut().copy_from_slice(&ds);
            for kind in [PoolKind::Max, PoolKind::Average] {
                let p = Pool::new(kind, [$c, $h, $w], kernel, stride).expect("valid");
                let want = p.evaluate(&xs, &ds).expect("valid");
                let mut y = [[[0.0f64; OW]; OH]; $c];
                let mut dx = [[[0.0f64; $w]; $h]; $c];
                match kind {
                    PoolKind::Max => {
                        let mut at = [[[0u32; OW]; OH]; $c];
                        pool::max_forward(&x, kernel, stride, &mut y, &mut at).expect("fits");
                        pool::max_backward(&d, &at, &mut dx).expect("fits");
                        let plane = $h * $w;
                        let at: Vec<usize> = at
                            .as_flattened()
                            .as_flattened()
                            .iter()
                            .enumerate()
                            .map(|(u, a)| u / (OH * OW) * plane + *a as usize)
                            .collect();
                        assert_eq!(at, want.argmax, "argmax {kind:?} {kernel:?} {stride:?}");
                    }
                    PoolKind::Average => {
                        pool::avg_forward(&x, kernel, stride, &mut y).expect("fits");
                        pool::avg_backward(&d, kernel, stride, &mut dx).expect("fits");
                    }
                }
                assert_eq!(y.as_flattened().as_flattened(), &want.u[..], "u {kind:?}");
                assert_eq!(
                    dx.as_flattened().as_flattened(),
                    &want.dx[..],
                    "dx {kind:?}"
                );
            }
        }
    }};
}

#[test]
fn pooling_equals_its_derivation_exactly() {
    case!(1, 4, 4, 2, 2, 2, 2);
    case!(6, 28, 28, 2, 2, 2, 2);
    case!(16, 10, 10, 2, 2, 2, 2);
    case!(2, 5, 7, 2, 2, 2, 2); // a row and a column left out
    case!(3, 9, 9, 3, 3, 2, 2); // overlapping windows
    case!(2, 6, 5, 2, 3, 1, 1); // stride 1, rectangular
    case!(1, 8, 8, 4, 2, 4, 2);
    case!(2, 7, 6, 3, 1, 2, 3);
}

// Networks of one max pool after a 1x1 convolution that the test sets to the identity
// (`1 · x + 0`, which is `x` but for `-0.0`): the logits are the pool's outputs, and
// `dL/dinput` is each `dL/dlogit` at its window's maximum. Both pools take the generated flat
// forms (a column stride that divides the rows, windows no wider than it): an odd row left out;
// overlapping rows (3 rows, stride 2) and an odd last row.
#[conv_runtime::network(input = 1x5x8)]
struct TwoByTwo {
    c: conv!(kernel = 1x1, out_channels = 1),
    p: maxpool!(2x2),
    flat: flatten,
}

#[conv_runtime::network(input = 1x7x8)]
struct ThreeByTwo {
    c: conv!(kernel = 1x1, out_channels = 1),
    p: maxpool!(3x2, stride = 2),
    flat: flatten,
}

/// The generated max pools give the run-time scan's values (`conv_runtime::nn::pool`, whose
/// tests check its rules against a plain scan: ties to the first maximum, the last NaN of a
/// window wins) on inputs with NaN, `-∞` and ties, and an input of `-∞` only; and their
/// `backward` puts each gradient at the run-time scan's maximum, on finite inputs with ties (a
/// sample with NaN or infinity is refused before `backward`, so the positions the scan finds
/// among NaN and `-∞` are not observable here).
fn generated_pool_follows_the_scan<
    N,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
    const L: usize,
>(
    kernel: [usize; 2],
    stride: [usize; 2],
) where
    N: conv_runtime::network::Network<Scalar = f32, Input = [[[f32; W]; H]; 1]>,
{
    use conv_runtime::Tensor;
    let values = [0.0f32, 1.0, -1.0, f32::NAN, f32::NEG_INFINITY, 1.0, 2.0];
    let mut net = N::init(1);
    let mut identity = [1.0f32, 0.0].into_iter();
    net.for_each_parameter_mut(&mut |t| t.fill(identity.next().expect("k and b")));
    let same = |a: &[f32], b: &[f32]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || x.is_nan() && y.is_nan())
    };
    let mut rng = SplitMix64::new(H as u64);
    for round in 0..100 {
        let finite = round % 2 == 1;
        let mut x = [[[0.0f32; W]; H]; 1];
        for v in x.as_flattened_mut().as_flattened_mut() {
            let pick = values[rng.below(values.len() as u64) as usize];
            *v = match (round, finite && !pick.is_finite()) {
                (0, _) => f32::NEG_INFINITY,
                (_, true) => 1.0,
                (_, false) => pick,
            };
        }
        let mut y = [[[0.0f32; OW]; OH]; 1];
        let mut at = [[[0u32; OW]; OH]; 1];
        pool::max_forward(&x, kernel, stride, &mut y, &mut at).expect("fits");
        let logits = net.forward(&x);
        let logits = logits.flat();
        assert!(
            same(logits, y.as_flattened().as_flattened()),
            "forward, round {round}"
        );
        if !finite {
            continue;
        }
        let label = rng.below(L as u64) as usize;
        let (mut ws, mut grads) = (N::workspace(), N::zeroed());
        net.loss_and_gradients(&x, label, &mut ws, &mut grads)
            .expect("a finite sample");
        let logits: [f32; L] = logits.try_into().expect("the pool's outputs");
        let mut dlogits = [0.0f32; L];
        conv_runtime::nn::loss::softmax_cross_entropy(&logits, label, &mut dlogits)
            .expect("a label below L");
        let mut d = [[[0.0f32; OW]; OH]; 1];
        d.as_flattened_mut()
            .as_flattened_mut()
            .copy_from_slice(&dlogits);
        let mut dx = [[[0.0f32; W]; H]; 1];
        pool::max_backward(&d, &at, &mut dx).expect("fits");
        let dinput = N::dinput(&ws).as_flattened().as_flattened();
        assert!(
            same(dinput, dx.as_flattened().as_flattened()),
            "backward, round {round}"
        );
    }
}

#[test]
fn generated_max_pools_follow_the_scan_with_nan_and_ties() {
    generated_pool_follows_the_scan::<TwoByTwo, 5, 8, 2, 4, 8>([2, 2], [2, 2]);
    generated_pool_follows_the_scan::<ThreeByTwo, 7, 8, 3, 4, 12>([3, 2], [2, 2]);
}

#[conv_runtime::network(input = 1x20x20)]
struct Dense400 {
    flat: flatten,
    d: dense!(120),
}

/// The first dense layer of LeNet-5's size (400 -> 120) on the tier this CPU runs: on AVX-512,
/// each output's sixteen partial sums (`s[l]` over inputs `i ≡ l mod 16`, each product fused
/// in input order) added pairwise and then to the bias, bit for bit, on random values; that tier
/// adds the lanes of sixteen outputs at once (`conv_runtime::lanes`). Other tiers keep other
/// partial sums: the portable and AVX2 orders are the engine's dense tests' business.
#[test]
fn the_avx512_dense_forward_adds_each_outputs_sixteen_partial_sums_pairwise() {
    use conv_runtime::cpu::Tier;
    use conv_runtime::network::Network;
    use conv_runtime::Tensor;
    if conv_runtime::cpu::tier() != Tier::Avx512 {
        eprintln!(
            "SKIPPED: the AVX-512 dense order (this CPU runs {:?})",
            conv_runtime::cpu::tier()
        );
        return;
    }
    let mut rng = SplitMix64::new(400);
    let mut random = || (rng.unit() * 2.0 - 1.0) as f32;
    let mut net = Dense400::init(3);
    net.for_each_parameter_mut(&mut |t| t.iter_mut().for_each(|v| *v = random()));
    let (w, b) = (net.d.weight, net.d.bias);
    for _ in 0..20 {
        let mut x = [[[0.0f32; 20]; 20]; 1];
        x.as_flattened_mut()
            .as_flattened_mut()
            .iter_mut()
            .for_each(|v| *v = random());
        let flat = x.as_flattened().as_flattened();
        let want: Vec<f32> = (0..120)
            .map(|o| {
                let mut s = [0.0f32; 16];
                for (i, v) in flat.iter().enumerate() {
                    s[i % 16] = v.mul_add(w[o][i], s[i % 16]);
                }
                // Lanes i and i + width, for width 8, 4, 2, 1.
                let mut width = 16;
                while width > 1 {
                    width /= 2;
                    for i in 0..width {
                        s[i] += s[i + width];
                    }
                }
                b[o] + s[0]
            })
            .collect();
        let got = net.forward(&x);
        let same = got
            .flat()
            .iter()
            .zip(&want)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{:?} against {want:?}", got.flat());
    }
}

#[conv_runtime::network(input = 1x28x28)]
struct FirstLayer {
    c: conv!(kernel = 5x5, out_channels = 6, padding = same),
    flat: flatten,
}

/// `leading(&s, 28)` of the generated code: lanes `16..28` added into lanes `0..12`, then the
/// sixteen lanes pairwise.
fn leading28(s: &[f32; 32]) -> f32 {
    let mut s = *s;
    for i in 0..12 {
        s[i] += s[i + 16];
    }
    let mut width = 16;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            s[i] += s[i + width];
        }
    }
    s[0]
}

/// LeNet-5's first layer as a network's first layer, whose training computes `dL/dk` and
/// `dL/db` alone (no `dL/dx`), on the tier this CPU runs: each weight's gradient is its 32 lane
/// sums (lane `j` over the output rows `i` in order, each product `delta[o][i][j] ·
/// x_padded[i + a][j + b]` fused, lanes past the row's 28 columns zero) added as `leading`
/// adds them, and each bias's the same sums of `delta`, bit for bit on random values. On
/// AVX-512 the lanes of ten taps at a time are added by `conv_runtime::lanes`; the portable
/// tier does not fuse, and is not checked here.
#[test]
fn the_first_layers_parameter_gradients_add_each_taps_lanes_as_leading_does() {
    use conv_runtime::cpu::Tier;
    use conv_runtime::network::Network;
    use conv_runtime::Tensor;
    if conv_runtime::cpu::tier() == Tier::Portable {
        eprintln!("SKIPPED: the fused order of the first layer's parameter gradients (this CPU runs the portable tier)");
        return;
    }
    let mut rng = SplitMix64::new(28);
    let random = |rng: &mut SplitMix64| (rng.unit() * 2.0 - 1.0) as f32;
    let mut net = FirstLayer::init(5);
    net.for_each_parameter_mut(&mut |t| t.iter_mut().for_each(|v| *v = random(&mut rng)));
    let mut ws = FirstLayer::workspace();
    for _ in 0..5 {
        let mut x = [[[0.0f32; 28]; 28]; 1];
        x.as_flattened_mut()
            .as_flattened_mut()
            .iter_mut()
            .for_each(|v| *v = random(&mut rng));
        let label = rng.below(6 * 28 * 28) as usize;
        let logits = net.forward(&x);
        let mut d = [0.0f32; 6 * 28 * 28];
        conv_runtime::nn::loss::softmax_cross_entropy(
            logits.flat().try_into().unwrap(),
            label,
            &mut d,
        )
        .expect("a label in range");
        // The padded input (two columns and rows of zeros before, wide enough for 32 lanes
        // and the kernel) and `delta`'s rows zero past column 28.
        let mut xp = [[0.0f32; 36]; 32];
        for (p, row) in x[0].iter().enumerate() {
            xp[p + 2][2..30].copy_from_slice(row);
        }
        let mut dp = [[[0.0f32; 32]; 28]; 6];
        for (o, plane) in dp.iter_mut().enumerate() {
            for (i, row) in plane.iter_mut().enumerate() {
                row[..28].copy_from_slice(&d[(o * 28 + i) * 28..][..28]);
            }
        }
        let mut want_k = [[[[0.0f32; 5]; 5]; 1]; 6];
        let mut want_b = [0.0f32; 6];
        for o in 0..6 {
            for a in 0..5 {
                for b in 0..5 {
                    let mut s = [0.0f32; 32];
                    for i in 0..28 {
                        for j in 0..32 {
                            s[j] = dp[o][i][j].mul_add(xp[i + a][j + b], s[j]);
                        }
                    }
                    // The gradient buffer starts at zero.
                    want_k[o][0][a][b] = 0.0 + leading28(&s);
                }
            }
            let mut s = [0.0f32; 32];
            for row in &dp[o] {
                for (s, d) in s.iter_mut().zip(row) {
                    *s += d;
                }
            }
            want_b[o] = 0.0 + leading28(&s);
        }
        let mut grads = FirstLayer::zeroed();
        net.loss_and_parameter_gradients(&x, label, &mut ws, &mut grads)
            .expect("a valid sample");
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(grads.c.weight.flat()),
            bits(want_k.flat()),
            "dL/dk on {:?}",
            conv_runtime::cpu::tier()
        );
        assert_eq!(bits(&grads.c.bias), bits(&want_b), "dL/db");
    }
}
