//! The reference formulation: every TensorFlow/JAX golden case of the workspace, its backward
//! against finite differences of its forward over many geometries (stride, padding and dilation
//! together, which no golden case combines), and its errors.
#![cfg(feature = "std")]

use conv_runtime::{reference, Geometry, GeometrySpec, Operand, Padding, Scalar, ShapeError};
use serde_json::Value;
use std::path::Path;

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().expect("number")],
        other => panic!("unexpected JSON value {other}"),
    }
}

fn pair(v: &Value) -> [usize; 2] {
    let f = flat(v);
    [f[0] as usize, f[1] as usize]
}

fn geometry(c: &Value) -> Geometry {
    let n = |key: &str| c[key].as_u64().expect(key) as usize;
    let padding = match &c["padding"] {
        Value::String(s) if s == "VALID" => Padding::Valid,
        Value::String(s) if s == "SAME" => Padding::Same,
        v => {
            let p = flat(v);
            Padding::Explicit {
                top: p[0] as usize,
                bottom: p[1] as usize,
                left: p[2] as usize,
                right: p[3] as usize,
            }
        }
    };
    GeometrySpec {
        input: [n("h"), n("w")],
        kernel: [n("kh"), n("kw")],
        stride: pair(&c["stride"]),
        dilation: pair(&c["dilation"]),
        padding,
        in_channels: n("c_in"),
        out_channels: n("c_out"),
    }
    .resolve()
    .expect("golden geometry resolves")
}

/// One JSON case (any batch size: `dk` and `db` are summed over the batch).
fn run_case<S: Scalar>(c: &Value) {
    let g = geometry(c);
    let name = c["name"].as_str().unwrap();
    let size = |key: &str| c[key].as_u64().unwrap() as usize;
    assert_eq!(g.output(), [size("oh"), size("ow")], "{name}");
    let pads = g.pads().map(|p| p as f64);
    assert_eq!(pads.to_vec(), flat(&c["pads_used"]), "{name}: pads");
    let cast = |v: &[f64]| v.iter().map(|&e| S::from_f64(e)).collect::<Vec<S>>();
    let back = |v: &[S]| v.iter().map(|e| e.to_f64()).collect::<Vec<f64>>();
    let (x, delta, u, dx) = (
        flat(&c["x"]),
        flat(&c["delta"]),
        flat(&c["u"]),
        flat(&c["dx"]),
    );
    let (k, b) = (cast(&flat(&c["k"])), cast(&flat(&c["b"])));
    let (xs, us) = (g.input_len(), g.output_len());
    let (mut dk, mut db) = (vec![0.0; g.kernel_len()], vec![0.0; g.bias_len()]);
    for s in 0..size("n") {
        let xn = cast(&x[s * xs..(s + 1) * xs]);
        let dn = cast(&delta[s * us..(s + 1) * us]);
        let got = reference::forward_vec(&g, &xn, &k, &b).unwrap();
        assert_eq!(back(&got), &u[s * us..(s + 1) * us], "{name}: u[{s}]");
        let grads = reference::backward_vec(&g, &xn, &k, &dn).unwrap();
        assert_eq!(
            back(&grads.dx),
            &dx[s * xs..(s + 1) * xs],
            "{name}: dx[{s}]"
        );
        let sums = dk.iter_mut().zip(back(&grads.dk));
        for (acc, v) in sums.chain(db.iter_mut().zip(back(&grads.db))) {
            *acc += v;
        }
    }
    assert_eq!(dk, flat(&c["dk"]), "{name}: dk");
    assert_eq!(db, flat(&c["db"]), "{name}: db");
}

/// Every case of the golden data (`tests/golden/integer` of this package, copies of the
/// workspace's; see `tests/golden/README.md` for provenance), batches included.
#[test]
fn every_golden_case_of_the_workspace_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/integer");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).expect("golden directory") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let case: Value = serde_json::from_str(&text).unwrap();
        run_case::<f32>(&case);
        run_case::<f64>(&case);
        cases += 1;
    }
    assert_eq!(cases, 67);
}

/// Nonzero integers in `[-4, 4]`.
fn values(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = conv_runtime::rng::SplitMix64::new(seed);
    (0..n).map(|_| rng.nonzero(4) as f64).collect()
}

/// The padded/rotated backward equals central differences of the direct forward, exactly: the
/// loss `Σ u * delta` is linear in each input, values are integers and `h = 0.5`, so every
/// number involved is exact in `f64`.
fn backward_matches_finite_differences(g: &Geometry, seed: u64) {
    let x = values(seed, g.input_len());
    let k = values(seed + 1, g.kernel_len());
    let b = values(seed + 2, g.bias_len());
    let delta = values(seed + 3, g.output_len());
    let loss = |x: &[f64], k: &[f64], b: &[f64]| -> f64 {
        let u = reference::forward_vec(g, x, k, b).unwrap();
        u.iter().zip(&delta).map(|(u, d)| u * d).sum()
    };
    let central = |v: &[f64], i: usize, at: &dyn Fn(&[f64]) -> f64| {
        let (mut plus, mut minus) = (v.to_vec(), v.to_vec());
        plus[i] += 0.5;
        minus[i] -= 0.5;
        at(&plus) - at(&minus)
    };
    let grads = reference::backward_vec(g, &x, &k, &delta).unwrap();
    for i in 0..x.len() {
        let fd = central(&x, i, &|x| loss(x, &k, &b));
        assert_eq!(grads.dx[i], fd, "dL/dx[{i}] of {g:?}");
    }
    for i in 0..k.len() {
        let fd = central(&k, i, &|k| loss(&x, k, &b));
        assert_eq!(grads.dk[i], fd, "dL/dk[{i}] of {g:?}");
    }
    for i in 0..b.len() {
        let fd = central(&b, i, &|b| loss(&x, &k, b));
        assert_eq!(grads.db[i], fd, "dL/db[{i}] of {g:?}");
    }
}

#[test]
fn backward_is_the_derivative_of_forward_with_stride_padding_and_dilation() {
    let paddings = [
        Padding::Valid,
        Padding::Same,
        Padding::Explicit {
            top: 1,
            bottom: 0,
            left: 2,
            right: 1,
        },
        Padding::Explicit {
            top: 0,
            bottom: 3,
            left: 1,
            right: 0,
        },
    ];
    let mut tested = 0;
    let mut seed = 0;
    for kernel in [[3, 2], [2, 3], [1, 1]] {
        for stride in [[1, 1], [2, 1], [2, 3]] {
            for dilation in [[1, 1], [2, 1], [1, 2], [2, 2]] {
                for padding in paddings {
                    for (in_channels, out_channels) in [(1, 1), (2, 3)] {
                        let spec = GeometrySpec {
                            input: [7, 6],
                            kernel,
                            stride,
                            dilation,
                            padding,
                            in_channels,
                            out_channels,
                        };
                        if let Ok(g) = spec.resolve() {
                            seed += 10;
                            backward_matches_finite_differences(&g, seed);
                            tested += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(tested, 3 * 3 * 4 * 4 * 2);
}

#[test]
fn wrong_lengths_are_errors_not_panics() {
    // 2 channels in, 3 out, 5x5, 3x3 kernel: x 50, k 54, b 3, u 27.
    let mut spec = GeometrySpec::new([5, 5], [3, 3]);
    (spec.in_channels, spec.out_channels) = (2, 3);
    let g = spec.resolve().unwrap();
    let err = |what, expected, found| Err(ShapeError::new(what, expected, found));
    let (x, k, b, d) = (
        vec![0.0f32; 50],
        vec![0.0f32; 54],
        vec![0.0f32; 3],
        vec![0.0f32; 27],
    );
    let (mut u, mut dx, mut dk, mut db) = (d.clone(), x.clone(), k.clone(), b.clone());

    let f = reference::forward::<f32>;
    assert_eq!(f(&g, &x[1..], &k, &b, &mut u), err(Operand::X, 50, 49));
    assert_eq!(f(&g, &x, &k[..9], &b, &mut u), err(Operand::K, 54, 9));
    assert_eq!(f(&g, &x, &k, &[], &mut u), err(Operand::B, 3, 0));
    assert_eq!(f(&g, &x, &k, &b, &mut [0.0; 28]), err(Operand::U, 27, 28));
    assert_eq!(f(&g, &x, &k, &b, &mut u), Ok(()));

    let bw = reference::backward::<f32>;
    let (xs, ks, ds) = (&x[..], &k[..], &d[..]);
    assert_eq!(
        bw(&g, &x[..5], ks, ds, &mut dx, &mut dk, &mut db),
        err(Operand::X, 50, 5)
    );
    assert_eq!(
        bw(&g, xs, &k[1..], ds, &mut dx, &mut dk, &mut db),
        err(Operand::K, 54, 53)
    );
    assert_eq!(
        bw(&g, xs, ks, &d[..26], &mut dx, &mut dk, &mut db),
        err(Operand::Delta, 27, 26)
    );
    assert_eq!(
        bw(&g, xs, ks, ds, &mut dx[..1], &mut dk, &mut db),
        err(Operand::Dx, 50, 1)
    );
    assert_eq!(
        bw(&g, xs, ks, ds, &mut dx, &mut dk[..3], &mut db),
        err(Operand::Dk, 54, 3)
    );
    assert_eq!(
        bw(&g, xs, ks, ds, &mut dx, &mut dk, &mut db[..2]),
        err(Operand::Db, 3, 2)
    );
    assert_eq!(bw(&g, xs, ks, ds, &mut dx, &mut dk, &mut db), Ok(()));

    // The first operand in argument order is reported; outputs are untouched on error.
    let mut u = vec![7.0f64; 27];
    let e = reference::f64::forward_into(&g, &[], &[], &[1.0; 3], &mut u).unwrap_err();
    assert_eq!(e, ShapeError::new(Operand::X, 50, 0));
    assert!(u.iter().all(|&v| v == 7.0));

    // The `Vec` helpers.
    let e = reference::backward_vec(&g, &x, &k[..1], &d).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`k` has 1 elements, but the layer's geometry needs 54"
    );
    let e = reference::forward_vec(&g, &x, &k, &b[..1]).unwrap_err();
    assert_eq!(e, ShapeError::new(Operand::B, 3, 1));
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert_eq!(
        boxed.to_string(),
        "`b` has 1 elements, but the layer's geometry needs 3"
    );
}
