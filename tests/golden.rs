//! Generated layers against TensorFlow/JAX golden data (`tests/golden/`, see its README for
//! provenance): every integer case, exact equality of `u`, `dL/dx`, `dL/dk`, `dL/db` in f32 and
//! f64 and with `unroll = window`, `unroll = rows` and (within the full-unroll limit)
//! `unroll = full` (batches: one call per sample, `dL/dk` and `dL/db` summed over samples), and
//! the float32 cases within the data's stated tolerance. Also the data itself: no case whose
//! operands or results are all zero, and `golden/cases.rs` generated from the current files.

use conv_runtime::{conv2d, Conv2d, Scalar, Tensor};
use serde_json::Value;

/// All numbers of a nested JSON array, row-major.
fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().expect("a finite number")],
        other => panic!("unexpected JSON value {other}"),
    }
}

/// A tensor of `L`'s scalar filled from `values`.
fn tensor<S: Scalar, T: Tensor<S>>(values: &[f64]) -> T {
    let mut t = T::zeroed();
    assert_eq!(
        t.flat().len(),
        values.len(),
        "golden shape differs from the layer's"
    );
    for (d, &s) in t.flat_mut().iter_mut().zip(values) {
        *d = S::from_f64(s);
    }
    t
}

fn to_f64<S: Scalar>(values: &[S]) -> Vec<f64> {
    values.iter().map(|v| v.to_f64()).collect()
}

/// Runs `L` on every sample of a golden case and compares with `matches(got, expected, what)`.
fn run<L: Conv2d>(case: &Value, matches: impl Fn(&[f64], &[f64], &str)) {
    let n = case["n"].as_u64().expect("n") as usize;
    let (x, delta, u, dx) = (
        flat(&case["x"]),
        flat(&case["delta"]),
        flat(&case["u"]),
        flat(&case["dx"]),
    );
    let k: L::Kernel = tensor(&flat(&case["k"]));
    let b: L::Bias = tensor(&flat(&case["b"]));
    let (xs, us) = (x.len() / n, u.len() / n);
    let mut dk = vec![0.0; k.flat().len()];
    let mut db = vec![0.0; b.flat().len()];
    for s in 0..n {
        let xn: L::Input = tensor(&x[s * xs..(s + 1) * xs]);
        let dn: L::Output = tensor(&delta[s * us..(s + 1) * us]);
        matches(
            &to_f64(L::forward(&xn, &k, &b).flat()),
            &u[s * us..(s + 1) * us],
            "u",
        );
        let g = L::backward(&xn, &k, &dn);
        matches(&to_f64(g.dx.flat()), &dx[s * xs..(s + 1) * xs], "dx");
        for (acc, v) in dk
            .iter_mut()
            .zip(g.dk.flat())
            .chain(db.iter_mut().zip(g.db.flat()))
        {
            *acc += v.to_f64();
        }
    }
    matches(&dk, &flat(&case["dk"]), "dk");
    matches(&db, &flat(&case["db"]), "db");
}

fn exact(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got, want, "{what}");
}

fn check_integer<L: Conv2d>(json: &str) {
    let case: Value = serde_json::from_str(json).expect("golden JSON");
    let g = L::GEOMETRY;
    assert_eq!(
        g.pads().to_vec(),
        flat(&case["pads_used"])
            .iter()
            .map(|&p| p as usize)
            .collect::<Vec<_>>(),
        "padding used"
    );
    run::<L>(&case, exact);
}

macro_rules! golden {
    ($($test:ident: $file:literal => [$($attr:tt)*];)*) => {$(
        #[test]
        fn $test() {
            #[conv2d($($attr)*)]
            struct Layer;
            // Expanded in `golden/cases.rs`, so the path is relative to `tests/golden/`.
            check_integer::<Layer>(include_str!(concat!("integer/", $file, ".json")));
        }
    )*};
}

include!("golden/cases.rs");

/// The float32 cases: `|got - expected| <= 1e-4 + 1e-4 * |expected|` (the data's own rule).
fn check_float32<L: Conv2d>(name: &str) {
    let all: Value =
        serde_json::from_str(include_str!("golden/float32/cases_float32.json")).expect("JSON");
    let case = all["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .expect("case");
    let (atol, rtol) = (
        case["tolerance"]["atol"].as_f64().unwrap(),
        case["tolerance"]["rtol"].as_f64().unwrap(),
    );
    run::<L>(case, |got, want, what| {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= atol + rtol * w.abs(),
                "{what}[{i}]: got {g}, expected {w}"
            );
        }
    });
}

#[test]
fn float32_textbook() {
    #[conv2d(input = 5x5, kernel = 3x3)]
    struct Layer;
    check_float32::<Layer>("f32_s1_valid_5x5_k3x3");
}

#[test]
fn float32_channels() {
    #[conv2d(input = 7x6, kernel = 3x2, in_channels = 3, out_channels = 4)]
    struct Layer;
    check_float32::<Layer>("f32_mc_n2_ci3_co4_7x6_k3x2");
}

#[test]
fn float32_same_strided() {
    #[conv2d(input = 8x7, kernel = 4x3, in_channels = 2, out_channels = 3, stride = 2, padding = same)]
    struct Layer;
    check_float32::<Layer>("f32_same_s2_mc_n2_ci2_co3_8x7_k4x3");
}

#[test]
fn float32_padded() {
    #[conv2d(input = 6x5, kernel = 3x3, in_channels = 2, out_channels = 2, stride = (2, 1), padding = (1, 2, 0, 3))]
    struct Layer;
    check_float32::<Layer>("f32_pad_1_2_0_3_s21_6x5_k3x3");
}

#[test]
fn float32_dilated_same() {
    #[conv2d(input = 9x8, kernel = 3x3, in_channels = 2, out_channels = 2, dilation = 2, padding = same)]
    struct Layer;
    check_float32::<Layer>("f32_dil2_same_mc_n1_ci2_co2_9x8_k3x3");
}

#[test]
fn float32_lenet_sized_two_to_three_channels() {
    // 259,200 products: `auto` picks the rows strategy.
    #[conv2d(input = 28x28, kernel = 5x5, in_channels = 2, out_channels = 3)]
    struct Layer;
    check_float32::<Layer>("f32_s1_valid_28x28_k5x5_ci2_co3");
}

/// The golden directory of this package.
fn golden_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every integer case, as (file stem, parsed JSON), sorted by file name.
fn integer_cases() -> Vec<(String, Value)> {
    let dir = golden_dir().join("integer");
    let mut cases: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let stem = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).expect("golden file");
            (stem, serde_json::from_str(&text).expect("golden JSON"))
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!cases.is_empty(), "no golden cases in {}", dir.display());
    cases
}

/// Every float32 case, parsed.
fn float32_cases() -> Vec<Value> {
    let all: Value =
        serde_json::from_str(include_str!("golden/float32/cases_float32.json")).expect("JSON");
    let cases = all["cases"].as_array().expect("cases").clone();
    assert!(!cases.is_empty(), "no float32 golden cases");
    cases
}

/// A golden case whose operand or result is all zero cannot tell a right layer from one that
/// returns zeros (a zero `delta` makes every gradient zero, a zero kernel makes `dL/dx` zero):
/// every integer and float32 case must have some nonzero `x`, `k`, `delta`, `u`, `dx` and `dk`.
#[test]
fn no_golden_operand_or_result_is_all_zero() {
    let mut cases: Vec<(String, Value)> = integer_cases()
        .into_iter()
        .map(|(stem, case)| (format!("integer/{stem}.json"), case))
        .collect();
    for case in float32_cases() {
        let name = case["name"].as_str().expect("name").to_owned();
        cases.push((format!("float32/cases_float32.json: {name}"), case));
    }
    let mut zero = Vec::new();
    for (name, case) in &cases {
        for field in ["x", "k", "delta", "u", "dx", "dk"] {
            let values = flat(&case[field]);
            assert!(!values.is_empty(), "{name}: no `{field}`");
            if values.iter().all(|&v| v == 0.0) {
                zero.push(format!("{name}: `{field}` is all zero"));
            }
        }
    }
    assert!(
        zero.is_empty(),
        "golden cases that a zero result would pass:\n{}",
        zero.join("\n")
    );
}

/// The variants `tests/golden/cases.py` writes for every case, by name suffix: the key each
/// adds to the attribute (`None`: the default `f32`, `unroll = auto`), and whether the case
/// must be within the full-unroll limit to get it.
const VARIANTS: [(&str, Option<&str>, bool); 5] = [
    ("f32", None, false),
    ("f64", Some("scalar = f64"), false),
    ("window", Some("unroll = window"), false),
    ("rows", Some("unroll = rows"), false),
    ("full", Some("unroll = full"), true),
];

/// `golden/cases.rs` holds exactly the JSON files' cases, each with every variant that applies
/// (`full` for each case within `MAX_UNROLLED_TERMS` = 3 x nonzero products), so a `cases.rs`
/// that was not regenerated after the data changed fails here.
#[test]
fn cases_rs_holds_every_golden_case_and_variant() {
    // `    NAME: "FILE" => [ATTRS];` lines of the generated file.
    let mut listed = std::collections::BTreeMap::new();
    for line in include_str!("golden/cases.rs").lines() {
        let Some((name, rest)) = line.trim().split_once(": \"") else {
            continue;
        };
        let (file, attrs) = rest.split_once("\" => [").expect("`FILE\" => [ATTRS]`");
        let attrs = attrs.strip_suffix("];").expect("`];` at the end");
        let entry = (file.to_owned(), attrs.to_owned());
        assert!(
            listed.insert(name.to_owned(), entry).is_none(),
            "{name} listed twice"
        );
    }
    let mut expected = std::collections::BTreeMap::new();
    for (stem, case) in integer_cases() {
        assert_eq!(
            case["name"].as_str(),
            Some(stem.as_str()),
            "name of {stem}.json"
        );
        let g = geometry(&case);
        for (suffix, key, needs_limit) in VARIANTS {
            if needs_limit && 3 * g.nonzero_terms() > conv_runtime::MAX_UNROLLED_TERMS {
                continue;
            }
            expected.insert(format!("{stem}_{suffix}"), (stem.clone(), key));
        }
    }
    let missing: Vec<&String> = expected
        .keys()
        .filter(|n| !listed.contains_key(*n))
        .collect();
    let stale: Vec<&String> = listed
        .keys()
        .filter(|n| !expected.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "tests/golden/cases.rs is out of date (run `python3 tests/golden/cases.py`): \
         missing {missing:?}, without a JSON file {stale:?}"
    );
    for (name, (stem, key)) in &expected {
        let (file, attrs) = &listed[name];
        assert_eq!(file, stem, "{name}: JSON file");
        for (_, other, _) in VARIANTS {
            let Some(other) = other else { continue };
            assert_eq!(
                attrs.contains(other),
                *key == Some(other),
                "{name}: `{other}` in [{attrs}]"
            );
        }
    }
}

/// The layer geometry a golden case describes.
fn geometry(case: &Value) -> conv_runtime::Geometry {
    let n = |key: &str| case[key].as_u64().expect(key) as usize;
    let pair = |key: &str| {
        let v = flat(&case[key]);
        [v[0] as usize, v[1] as usize]
    };
    let padding = match &case["padding"] {
        Value::String(s) if s == "VALID" => conv_runtime::Padding::Valid,
        Value::String(s) if s == "SAME" => conv_runtime::Padding::Same,
        v => {
            let p = flat(v);
            conv_runtime::Padding::Explicit {
                top: p[0] as usize,
                bottom: p[1] as usize,
                left: p[2] as usize,
                right: p[3] as usize,
            }
        }
    };
    let g = conv_runtime::GeometrySpec {
        input: [n("h"), n("w")],
        kernel: [n("kh"), n("kw")],
        stride: pair("stride"),
        dilation: pair("dilation"),
        padding,
        in_channels: n("c_in"),
        out_channels: n("c_out"),
    }
    .resolve()
    .expect("golden geometry resolves");
    assert_eq!(
        g.pads().map(|p| p as f64).to_vec(),
        flat(&case["pads_used"]),
        "{}: padding used",
        case["name"]
    );
    g
}
