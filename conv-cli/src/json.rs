//! The derivation as JSON data (schema `conv-derivation/1`, documented in the crate docs).
//!
//! Indices are 0-based, like the Rust arrays the macro emits (the Markdown, LaTeX and text
//! renderers write 1-based subscripts, as in the textbook).

use conv_engine::derive::{Derivation, Pixel, Product, Sums, Tap};
use conv_engine::{ChannelLayout, Padding, Spec};
use serde::Serialize;

/// The schema identifier written in every document.
pub const SCHEMA: &str = "conv-derivation/1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    attribute: &'a str,
    indexing: &'static str,
    full: bool,
    geometry: Geometry,
    forward: Section<ForwardSum>,
    dx: Section<DxSum>,
    dk: Section<DkSum>,
    db: Section<DbSum>,
}

#[derive(Serialize)]
struct Geometry {
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    padding: &'static str,
    pads: Pads,
    in_channels: usize,
    out_channels: usize,
    output: [usize; 2],
    scalar: &'static str,
    layout: &'static str,
}

#[derive(Serialize)]
struct Pads {
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
}

/// One of `forward`, `dx`, `dk`, `db`: counts, and the sums when the document is full.
#[derive(Serialize)]
struct Section<T> {
    /// Number of sums (elements of the result).
    count: usize,
    /// Number of products over all sums.
    terms: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    sums: Option<Vec<T>>,
}

#[derive(Serialize)]
struct Bias {
    o: usize,
}

#[derive(Serialize)]
struct ForwardSum {
    u: Pixel3,
    bias: Bias,
    products: Vec<XK>,
}
#[derive(Serialize)]
struct XK {
    x: Pixel3,
    k: Tap4,
}

#[derive(Serialize)]
struct DxSum {
    x: Pixel3,
    products: Vec<DeltaK>,
}
#[derive(Serialize)]
struct DeltaK {
    delta: Pixel3,
    k: Tap4,
}

#[derive(Serialize)]
struct DkSum {
    k: Tap4,
    products: Vec<DeltaX>,
}
#[derive(Serialize)]
struct DeltaX {
    delta: Pixel3,
    x: Pixel3,
}

#[derive(Serialize)]
struct DbSum {
    b: Bias,
    products: Vec<Delta>,
}
#[derive(Serialize)]
struct Delta {
    delta: Pixel3,
}

/// An element of `x`, `u` or `delta`.
#[derive(Serialize)]
struct Pixel3 {
    c: usize,
    row: usize,
    col: usize,
}
impl From<Pixel> for Pixel3 {
    fn from(p: Pixel) -> Self {
        Self {
            c: p.c,
            row: p.row,
            col: p.col,
        }
    }
}

/// An element of `k`.
#[derive(Serialize)]
struct Tap4 {
    o: usize,
    c: usize,
    row: usize,
    col: usize,
}
impl From<Tap> for Tap4 {
    fn from(t: Tap) -> Self {
        Self {
            o: t.o,
            c: t.c,
            row: t.row,
            col: t.col,
        }
    }
}

/// The JSON document for `d` (pretty-printed, with a final newline). `full`: whether to list
/// every sum (else counts only).
pub fn render(spec: &Spec, attribute: &str, d: &Derivation, full: bool) -> String {
    let g = d.geometry();
    let [top, bottom, left, right] = g.pads();
    let doc = Document {
        schema: SCHEMA,
        attribute,
        indexing: "0-based",
        full,
        geometry: Geometry {
            input: g.input(),
            kernel: g.kernel(),
            stride: g.stride(),
            dilation: g.dilation(),
            padding: match g.spec().padding {
                Padding::Valid => "valid",
                Padding::Same => "same",
                Padding::Explicit { .. } => "explicit",
            },
            pads: Pads {
                top,
                bottom,
                left,
                right,
            },
            in_channels: g.in_channels(),
            out_channels: g.out_channels(),
            output: g.output(),
            scalar: spec.scalar.name(),
            layout: match spec.layout {
                ChannelLayout::Plain => "plain",
                ChannelLayout::ChannelFirst => "channel_first",
            },
        },
        forward: section(d.forward(), full, |i, ps| ForwardSum {
            u: d.u_at(i).into(),
            bias: Bias { o: d.u_at(i).c },
            products: map(ps, |&Product(x, k)| XK {
                x: d.x_at(x as usize).into(),
                k: d.k_at(k as usize).into(),
            }),
        }),
        dx: section(d.dx(), full, |i, ps| DxSum {
            x: d.x_at(i).into(),
            products: map(ps, |&Product(u, k)| DeltaK {
                delta: d.u_at(u as usize).into(),
                k: d.k_at(k as usize).into(),
            }),
        }),
        dk: section(d.dk(), full, |i, ps| DkSum {
            k: d.k_at(i).into(),
            products: map(ps, |&Product(u, x)| DeltaX {
                delta: d.u_at(u as usize).into(),
                x: d.x_at(x as usize).into(),
            }),
        }),
        db: section(d.db(), full, |o, ps| DbSum {
            b: Bias { o },
            products: map(ps, |&Product(u, _)| Delta {
                delta: d.u_at(u as usize).into(),
            }),
        }),
    };
    // Serializing plain structs of numbers and strings cannot fail; an error would be a bug
    // here, and is reported as a JSON string rather than a panic.
    match serde_json::to_value(&doc) {
        Ok(value) => {
            let mut text = String::new();
            write_value(&mut text, &value, 0);
            text.push('\n');
            text
        }
        Err(e) => format!(
            "{{\"error\": {}}}\n",
            serde_json::Value::from(e.to_string())
        ),
    }
}

/// Pretty JSON with leaves kept on one line: an array or object whose members are all scalars
/// or such small objects (an index `{"c": 0, "row": 1, "col": 2}`, a product, `[5, 5]`) is
/// written inline when it fits in 100 characters; anything larger is spread over lines,
/// indented by two spaces.
fn write_value(out: &mut String, value: &serde_json::Value, indent: usize) {
    use serde_json::Value;
    if inline(value) {
        let line = spaced(value);
        if line.len() <= 100 {
            out.push_str(&line);
            return;
        }
    }
    let pad = "  ".repeat(indent + 1);
    let (open, close, items): (char, char, Vec<(Option<&String>, &Value)>) = match value {
        Value::Array(a) => ('[', ']', a.iter().map(|v| (None, v)).collect()),
        Value::Object(o) => ('{', '}', o.iter().map(|(k, v)| (Some(k), v)).collect()),
        scalar => {
            out.push_str(&scalar.to_string());
            return;
        }
    };
    out.push(open);
    for (i, (key, v)) in items.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&pad);
        if let Some(key) = key {
            out.push_str(&Value::from(key.as_str()).to_string());
            out.push_str(": ");
        }
        write_value(out, v, indent + 1);
    }
    out.push('\n');
    out.push_str(&"  ".repeat(indent));
    out.push(close);
}

/// Whether `value` is written on one line: a scalar, or a container of at most two levels
/// whose innermost members are scalars (an index, a product of two indices, a pair).
fn inline(value: &serde_json::Value) -> bool {
    fn depth(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    let small = match value {
        serde_json::Value::Array(a) => a.len() <= 4,
        _ => true,
    };
    depth(value) <= 2 && small
}

/// `value` on one line with a space after `:` and `,`.
fn spaced(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(spaced).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), spaced(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

fn section<T>(sums: &Sums, full: bool, f: impl Fn(usize, &[Product]) -> T) -> Section<T> {
    Section {
        count: sums.len(),
        terms: sums.terms(),
        sums: full.then(|| sums.iter().enumerate().map(|(i, ps)| f(i, ps)).collect()),
    }
}

fn map<T>(products: &[Product], f: impl Fn(&Product) -> T) -> Vec<T> {
    products.iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use conv_engine::GeometrySpec;

    #[test]
    fn textbook_document_has_every_product() {
        let g = GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap();
        let d = Derivation::new(&g);
        let text = render(&Spec::new(g), "input = 5x5, kernel = 3x3", &d, true);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["geometry"]["output"], serde_json::json!([3, 3]));
        let forward = v["forward"]["sums"].as_array().unwrap();
        assert_eq!(forward.len(), 9);
        assert!(forward
            .iter()
            .all(|s| s["products"].as_array().unwrap().len() == 9));
        // u[0][0] = x[0][0] * k[0][0] + ...: the first product, 0-based.
        assert_eq!(
            forward[0]["products"][0],
            serde_json::json!({"x": {"c": 0, "row": 0, "col": 0}, "k": {"o": 0, "c": 0, "row": 0, "col": 0}})
        );
        // dL/dx at the centre of the input collects all nine kernel weights.
        assert_eq!(v["dx"]["sums"][12]["products"].as_array().unwrap().len(), 9);
        assert_eq!(v["db"]["terms"], 9);
    }

    #[test]
    fn summary_has_counts_only() {
        let g = GeometrySpec::new([28, 28], [5, 5]).resolve().unwrap();
        let d = Derivation::new(&g);
        let text = render(&Spec::new(g), "", &d, false);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["forward"]["terms"], 24 * 24 * 25);
        assert!(v["forward"].get("sums").is_none());
    }
}
