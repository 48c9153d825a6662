//! The renderings of the non-convolution layer kinds: snapshots of small cases (insta; review
//! changes with `cargo insta review` or by reading the `.snap` diff), the pooling table cell by
//! cell against the window rule, LaTeX that pdflatex can read (ASCII, balanced braces), and the
//! SVG pictures' cells where the derivation puts them (and downscaled blocks that cover the
//! matrix).

use conv_engine::derive::activation::{Activation, Slope};
use conv_engine::derive::dense::Dense;
use conv_engine::derive::flatten::Flatten;
use conv_engine::derive::loss::SoftmaxCrossEntropy;
use conv_engine::derive::pool::{Pool, PoolKind};
use conv_engine::explain::{self, Detail, Format};

const FORMATS: [(Format, &str); 3] = [
    (Format::Markdown, "markdown"),
    (Format::Latex, "latex"),
    (Format::Text, "text"),
];

fn pool(kind: PoolKind) -> Pool {
    Pool::new(kind, [1, 4, 4], [2, 2], [2, 2]).unwrap()
}

fn leaky() -> Activation {
    Activation::LeakyRelu(Slope::new(0.01).unwrap())
}

#[test]
fn pool_snapshots() {
    for kind in [PoolKind::Max, PoolKind::Average] {
        for (format, name) in FORMATS {
            let doc = explain::pool::render(&pool(kind), format, Detail::Auto);
            insta::assert_snapshot!(format!("pool_{}_1x4x4_2x2_{name}", kind.name()), doc);
        }
    }
}

#[test]
fn activation_snapshots() {
    for a in [
        Activation::Relu,
        leaky(),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        insta::assert_snapshot!(
            format!("activation_{}_text", a.name()),
            explain::activation::text(&a)
        );
    }
    insta::assert_snapshot!(
        "activation_relu_markdown",
        explain::activation::markdown(&Activation::Relu)
    );
    insta::assert_snapshot!(
        "activation_leaky_relu_latex",
        explain::activation::latex(&leaky())
    );
}

#[test]
fn flatten_and_loss_snapshots() {
    let f = Flatten::new([2, 2, 2]).unwrap();
    let l = SoftmaxCrossEntropy::new(3).unwrap();
    for (format, name) in FORMATS {
        insta::assert_snapshot!(
            format!("flatten_2x2x2_{name}"),
            explain::flatten::render(&f, format, Detail::Auto)
        );
        insta::assert_snapshot!(
            format!("loss_3_{name}"),
            explain::loss::render(&l, format, Detail::Auto)
        );
    }
}

#[test]
fn pool_table_matches_the_window_rule_cell_by_cell() {
    // 1x4x5, kernel 3x3, stride (1, 2): outputs 2x2. Written from the rule: x[p][q] is in the
    // window of u[i][j] when i <= p < i + 3 and 2j <= q < 2j + 3 (0-based); labels 1-based.
    for kind in [PoolKind::Average, PoolKind::Max] {
        let p = Pool::new(kind, [1, 4, 5], [3, 3], [1, 2]).unwrap();
        let md = explain::pool::markdown(&p);
        let rows: Vec<Vec<String>> = md
            .lines()
            .filter(|l| l.starts_with("| ∂x<sub>"))
            .map(|l| {
                l.trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_string())
                    .collect()
            })
            .collect();
        assert_eq!(rows.len(), 20);
        for (r, (pr, q)) in (0..4).flat_map(|a| (0..5).map(move |b| (a, b))).enumerate() {
            let x = format!("x<sub>{},{}</sub>", pr + 1, q + 1);
            assert_eq!(rows[r][0], format!("∂{x}"));
            for (n, (i, j)) in (0..2).flat_map(|a| (0..2).map(move |b| (a, b))).enumerate() {
                let inside = i <= pr && pr < i + 3 && 2 * j <= q && q < 2 * j + 3;
                let want = match (inside, kind) {
                    (false, _) => "0".to_string(),
                    (true, PoolKind::Average) => "1/9".to_string(),
                    (true, PoolKind::Max) => {
                        format!("[{x} = max(W<sub>{},{}</sub>)]", i + 1, j + 1)
                    }
                };
                assert_eq!(rows[r][n + 1], want, "x[{pr}][{q}], u[{i}][{j}]");
            }
        }
    }
}

#[test]
fn large_pools_are_summarised_by_their_rule() {
    let p = Pool::new(PoolKind::Max, [8, 28, 28], [2, 2], [2, 2]).unwrap();
    let text = explain::pool::text(&p);
    assert!(text.len() < 10_000, "{} bytes", text.len());
    assert!(text.contains("Tables omitted"));
    assert!(text.contains("more equations of the same form"));
    let full = explain::pool::render(
        &Pool::new(PoolKind::Max, [1, 6, 6], [2, 2], [2, 2]).unwrap(),
        Format::Text,
        Detail::Summary,
    );
    assert!(!full.contains("∂u[1,1] "), "no table in a summary");
}

fn assert_latex_is_ascii_and_balanced(tex: &str) {
    let odd: Vec<char> = tex.chars().filter(|c| !c.is_ascii()).collect();
    assert!(odd.is_empty(), "{odd:?}");
    let mut depth = 0i32;
    for ch in tex.chars() {
        depth += match ch {
            '{' => 1,
            '}' => -1,
            _ => 0,
        };
        assert!(depth >= 0);
    }
    assert_eq!(depth, 0);
    assert_eq!(
        tex.matches("\\begin{align*}").count(),
        tex.matches("\\end{align*}").count()
    );
}

#[test]
fn every_latex_is_pure_ascii_with_balanced_braces() {
    for kind in [PoolKind::Max, PoolKind::Average] {
        for p in [
            pool(kind),
            Pool::new(kind, [3, 9, 9], [3, 3], [2, 2]).unwrap(),
        ] {
            for detail in [Detail::Full, Detail::Summary] {
                assert_latex_is_ascii_and_balanced(&explain::pool::render(
                    &p,
                    Format::Latex,
                    detail,
                ));
            }
        }
    }
    for a in [
        Activation::Relu,
        leaky(),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        assert_latex_is_ascii_and_balanced(&explain::activation::latex(&a));
    }
    for detail in [Detail::Full, Detail::Summary] {
        let f = Flatten::new([2, 3, 2]).unwrap();
        assert_latex_is_ascii_and_balanced(&explain::flatten::render(&f, Format::Latex, detail));
        let l = SoftmaxCrossEntropy::new(10).unwrap();
        assert_latex_is_ascii_and_balanced(&explain::loss::render(&l, Format::Latex, detail));
    }
}

#[test]
fn pool_svg_draws_one_cell_per_window_entry() {
    let svg = explain::pool::svg(&pool(PoolKind::Average));
    assert_eq!(svg.matches("class=\"cell\"").count(), 16);
    assert!(svg.contains("∂u1,1/∂x1,2 = 1/4"));
    let svg = explain::pool::svg(&Pool::new(PoolKind::Max, [1, 5, 5], [3, 3], [1, 1]).unwrap());
    assert_eq!(svg.matches("class=\"cell\"").count(), 81);
    // Large: blocks of one input row by one output row, no cells.
    let svg = explain::pool::svg(&Pool::new(PoolKind::Max, [4, 28, 28], [2, 2], [2, 2]).unwrap());
    assert_eq!(svg.matches("class=\"cell\"").count(), 0);
    // Each of the 4 x 14 output rows reads 2 input rows.
    assert_eq!(svg.matches("class=\"block\"").count(), 4 * 14 * 2);
}

/// The `<rect>`s of `class` in `svg`: `x`, `y`, `width`, `height`, `fill` and the tooltip
/// (unescaped).
fn rects(svg: &str, class: &str) -> Vec<([f64; 4], String, String)> {
    let attr = |rect: &str, name: &str| -> String {
        let start = rect
            .find(&format!(" {name}=\""))
            .map(|at| at + name.len() + 3);
        start
            .map(|at| rect[at..].split('"').next().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    svg.split(&format!("<rect class=\"{class}\""))
        .skip(1)
        .map(|rect| {
            let tip = rect
                .split("<title>")
                .nth(1)
                .and_then(|t| t.split("</title>").next())
                .unwrap_or_default();
            let number = |name| attr(rect, name).parse::<f64>().unwrap();
            let area = [number("x"), number("y"), number("width"), number("height")];
            let tip = tip
                .replace("&gt;", ">")
                .replace("&lt;", "<")
                .replace("&amp;", "&");
            (area, attr(rect, "fill"), tip)
        })
        .collect()
}

#[test]
fn dense_svg_draws_every_weight_at_its_input_and_output() {
    let cells = rects(&explain::dense::svg(&Dense::new(3, 2)), "cell");
    assert_eq!(cells.len(), 6);
    let [x0, y0, s, _] = cells[0].0;
    for ([x, y, ..], _, tip) in &cells {
        let (o, i) = (((x - x0) / s) as usize + 1, ((y - y0) / s) as usize + 1);
        assert_eq!(tip, &format!("∂u{o}/∂x{i} = w{o},{i}"));
    }
    // Large: blocks that cover the 400 x 120 matrix exactly once, no cells.
    let svg = explain::dense::svg(&Dense::new(400, 120));
    assert!(rects(&svg, "cell").is_empty());
    let blocks = rects(&svg, "block");
    let area: f64 = blocks.iter().map(|([_, _, w, h], ..)| w * h).sum();
    let s = 720.0 / 400.0;
    assert!((area - 400.0 * 120.0 * s * s).abs() < 1.0, "{area}");
    for ([x, y, w, h], ..) in &blocks {
        assert!(x + w <= 90.0 + 120.0 * s + 0.01 && y + h <= 140.0 + 400.0 * s + 0.01);
    }
}

#[test]
fn activation_svg_draws_the_diagonal_with_the_derivative_from_the_output() {
    let cells = rects(
        &explain::activation::svg(&Activation::Relu, [1, 4, 4]),
        "cell",
    );
    assert_eq!(cells.len(), 16);
    for ([x, y, ..], _, _) in &cells {
        assert_eq!(x - 90.0, y - 140.0);
    }
    assert_eq!(cells[6].2, "∂u2,3/∂x2,3 = [u2,3 > 0]");
    let cells = rects(
        &explain::activation::svg(&Activation::Tanh, [2, 3, 3]),
        "cell",
    );
    assert_eq!(cells.len(), 18);
    assert_eq!(cells[11].2, "∂u2,1,3/∂x2,1,3 = 1 - u2,1,3²");
}

#[test]
fn flatten_svg_places_each_element_channel_major() {
    let cells = rects(
        &explain::flatten::svg(&Flatten::new([2, 2, 3]).unwrap()),
        "cell",
    );
    assert_eq!(cells.len(), 12);
    let tips: Vec<&str> = cells.iter().map(|(_, _, tip)| tip.as_str()).collect();
    // x[channel 2][row 1][column 1] is the 7th element in channel-major order.
    assert!(tips.contains(&"∂u7/∂x2,1,1 = 1"), "{tips:?}");
    assert!(tips.contains(&"∂u6/∂x1,2,3 = 1"), "{tips:?}");
}

#[test]
fn loss_svg_draws_the_softmax_jacobian() {
    let cells = rects(
        &explain::loss::svg(&SoftmaxCrossEntropy::new(3).unwrap()),
        "cell",
    );
    assert_eq!(cells.len(), 9);
    let diagonal: Vec<&str> = cells
        .iter()
        .filter(|([x, y, ..], ..)| x - 90.0 == y - 140.0)
        .map(|(_, _, tip)| tip.as_str())
        .collect();
    assert_eq!(
        diagonal,
        [
            "∂p1/∂z1 = p1·(1 - p1)",
            "∂p2/∂z2 = p2·(1 - p2)",
            "∂p3/∂z3 = p3·(1 - p3)"
        ]
    );
    assert!(cells.iter().any(|(_, _, tip)| tip == "∂p1/∂z2 = -p1·p2"));
    let blue = cells
        .iter()
        .filter(|(_, fill, _)| fill == &cells[0].1)
        .count();
    assert_eq!(blue, 3);
}

#[test]
fn long_rows_downscale_into_runs_and_one_class_has_no_entry() {
    // A 1x300 input: its one row is cut into runs, so the diagonal stays a diagonal.
    let svg = explain::activation::svg(&Activation::Relu, [1, 1, 300]);
    let blocks = rects(&svg, "block");
    assert_eq!(blocks.len(), 60, "runs of 5 on the diagonal");
    assert!(blocks.iter().all(|([x, y, ..], ..)| x - 90.0 == y - 140.0));
    let caption: Vec<&str> = svg
        .split("<text class=\"caption\"")
        .skip(1)
        .filter_map(|t| t.split('>').nth(1)?.split("</text").next())
        .collect();
    let caption = caption.join(" ");
    assert!(
        caption.contains("each ∂u/∂x = f&apos;(x) = [u &gt; 0]"),
        "the entry in the caption: {caption}"
    );
    let svg = explain::loss::svg(&SoftmaxCrossEntropy::new(1).unwrap());
    assert!(rects(&svg, "cell").is_empty());
    assert!(svg.contains("0 structural nonzero entries"));
}
