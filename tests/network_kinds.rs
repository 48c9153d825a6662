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
