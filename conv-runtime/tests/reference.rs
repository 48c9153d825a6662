//! The reference formulation against every TensorFlow/JAX golden case (the workspace's
//! `tests/golden`, see its README for provenance), exactly, in f32 and f64; and its errors.

use conv_runtime::{reference, GeometrySpec, Operand, Padding, Scalar, ShapeError};
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

fn geometry(c: &Value) -> conv_runtime::Geometry {
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

fn run_case<S: Scalar>(c: &Value) {
    let g = geometry(c);
    let name = c["name"].as_str().unwrap();
    assert_eq!(
        g.output(),
        [
            c["oh"].as_u64().unwrap() as usize,
            c["ow"].as_u64().unwrap() as usize
        ],
        "{name}"
    );
    assert_eq!(
        g.pads().map(|p| p as f64).to_vec(),
        flat(&c["pads_used"]),
        "{name}: pads"
    );
    let cast = |v: &[f64]| v.iter().map(|&e| S::from_f64(e)).collect::<Vec<S>>();
    let back = |v: &[S]| v.iter().map(|e| e.to_f64()).collect::<Vec<f64>>();
    let n = c["n"].as_u64().unwrap() as usize;
    let (x, delta, u, dx) = (
        flat(&c["x"]),
        flat(&c["delta"]),
        flat(&c["u"]),
        flat(&c["dx"]),
    );
    let (k, b) = (cast(&flat(&c["k"])), cast(&flat(&c["b"])));
    let (xs, us) = (g.input_len(), g.output_len());
    let (mut dk, mut db) = (vec![0.0; g.kernel_len()], vec![0.0; g.bias_len()]);
    for s in 0..n {
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
        for (acc, v) in dk
            .iter_mut()
            .zip(back(&grads.dk))
            .chain(db.iter_mut().zip(back(&grads.db)))
        {
            *acc += v;
        }
    }
    assert_eq!(dk, flat(&c["dk"]), "{name}: dk");
    assert_eq!(db, flat(&c["db"]), "{name}: db");
}

#[test]
fn every_golden_case_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/integer");
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

#[test]
fn wrong_lengths_are_errors_not_panics() {
    let g = GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap();
    let (x, k, b, d) = (
        vec![0.0f32; 25],
        vec![0.0f32; 9],
        vec![0.0f32; 1],
        vec![0.0f32; 9],
    );
    let mut u = vec![0.0f32; 9];
    assert_eq!(
        reference::forward(&g, &x[..24], &k, &b, &mut u),
        Err(ShapeError {
            operand: Operand::X,
            expected: 25,
            found: 24
        })
    );
    assert_eq!(
        reference::forward(&g, &x, &k, &[], &mut u),
        Err(ShapeError {
            operand: Operand::B,
            expected: 1,
            found: 0
        })
    );
    assert_eq!(
        reference::forward(&g, &x, &k, &b, &mut [0.0; 10]),
        Err(ShapeError {
            operand: Operand::U,
            expected: 9,
            found: 10
        })
    );
    let (mut dx, mut dk, mut db) = (vec![0.0f32; 25], vec![0.0f32; 9], vec![0.0f32; 1]);
    assert_eq!(
        reference::backward(&g, &x, &k, &d[..8], &mut dx, &mut dk, &mut db),
        Err(ShapeError {
            operand: Operand::Delta,
            expected: 9,
            found: 8
        })
    );
    assert_eq!(
        reference::backward(&g, &x, &k, &d, &mut dx, &mut dk[..3], &mut db),
        Err(ShapeError {
            operand: Operand::Dk,
            expected: 9,
            found: 3
        })
    );
    let e = reference::backward_vec(&g, &x, &k[..1], &d).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`k` has 1 elements, but the layer's geometry needs 9"
    );
}
