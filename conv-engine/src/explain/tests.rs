use super::*;
use crate::GeometrySpec;

fn textbook() -> Derivation {
    Derivation::new(&GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap())
}

#[test]
fn markdown_table_has_one_row_per_input_and_a_column_per_output() {
    let md = markdown(&textbook(), Detail::Auto);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ∂x<sub>")).collect();
    assert_eq!(rows.len(), 25);
    // Row x[2,2] (1-based): u[1,1] -> k[2,2], u[1,2] -> k[2,1], u[2,1] -> k[1,2], u[2,2] -> k[1,1].
    let cells: Vec<&str> = rows[6]
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect();
    assert_eq!(cells[0], "∂x<sub>2,2</sub>");
    assert_eq!(
        &cells[1..],
        [
            "k<sub>2,2</sub>",
            "k<sub>2,1</sub>",
            "0",
            "k<sub>1,2</sub>",
            "k<sub>1,1</sub>",
            "0",
            "0",
            "0",
            "0"
        ]
    );
}

#[test]
fn markdown_table_matches_the_formula_cell_by_cell() {
    // Written from u[i][j] = b + sum_{a,b} x[i+a][j+b] k[a][b]: du[i][j]/dx[p][q] = k[p-i][q-j]
    // when 0 <= p-i < 3 and 0 <= q-j < 3, else 0; rows x[p][q], columns u[i][j], 1-based labels.
    let md = markdown(&textbook(), Detail::Auto);
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
    let header: Vec<&str> = md
        .lines()
        .find(|l| l.contains("∂u<sub>1,1</sub>"))
        .expect("a header row")
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect();
    for (n, (i, j)) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).enumerate() {
        assert_eq!(header[n + 1], format!("∂u<sub>{},{}</sub>", i + 1, j + 1));
    }
    assert_eq!(rows.len(), 25);
    for (r, (p, q)) in (0..5).flat_map(|p| (0..5).map(move |q| (p, q))).enumerate() {
        assert_eq!(rows[r][0], format!("∂x<sub>{},{}</sub>", p + 1, q + 1));
        for (n, (i, j)) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).enumerate() {
            let want = if p >= i && p - i < 3 && q >= j && q - j < 3 {
                format!("k<sub>{},{}</sub>", p - i + 1, q - j + 1)
            } else {
                "0".to_string()
            };
            assert_eq!(rows[r][n + 1], want, "cell x[{p}][{q}], u[{i}][{j}]");
        }
    }
}

#[test]
fn latex_has_one_equation_per_element_and_balanced_braces() {
    let tex = latex(&textbook(), Detail::Auto);
    assert!(tex.contains("\\frac{\\partial L}{\\partial x_{1,1}} &= \\delta_{1,1} \\cdot k_{1,1}"));
    let dx_lines = tex
        .lines()
        .filter(|l| l.starts_with("\\frac{\\partial L}{\\partial x_"))
        .count();
    assert_eq!(dx_lines, 25);
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
}

#[test]
fn large_layers_are_summarised() {
    let d = Derivation::new(&GeometrySpec::new([28, 28], [5, 5]).resolve().unwrap());
    let text = text(&d, Detail::Auto);
    assert!(text.len() < 20_000, "{} bytes", text.len());
    assert!(text.contains("more equations of the same form"));
    assert!(text.contains("Tables omitted"));
}

/// Layers covering every part of the LaTeX output: full tables, summaries (elided sums), channels,
/// stride, dilation and each padding.
fn latex_layers() -> Vec<Derivation> {
    let specs = [
        GeometrySpec::new([5, 5], [3, 3]),
        GeometrySpec {
            stride: [2, 1],
            dilation: [1, 2],
            padding: crate::Padding::Same,
            in_channels: 2,
            out_channels: 3,
            ..GeometrySpec::new([6, 7], [2, 3])
        },
        GeometrySpec {
            padding: crate::Padding::Explicit {
                top: 1,
                bottom: 0,
                left: 2,
                right: 1,
            },
            ..GeometrySpec::new([28, 28], [5, 5])
        },
    ];
    specs
        .iter()
        .map(|s| Derivation::new(&s.resolve().unwrap()))
        .collect()
}

#[test]
fn latex_is_pure_ascii_with_symbols_as_commands() {
    for d in latex_layers() {
        for detail in [Detail::Full, Detail::Summary] {
            for tex in [latex(&d, detail), latex_document(&d, detail)] {
                let odd: Vec<char> = tex.chars().filter(|c| !c.is_ascii()).collect();
                assert!(odd.is_empty(), "{}: {odd:?}", attribute(&d));
                for command in [
                    "\\partial",
                    "\\delta",
                    "\\sum",
                    "\\star",
                    "\\operatorname{rot180}",
                ] {
                    assert!(tex.contains(command), "{}: no {command}", attribute(&d));
                }
                // `_` only in math (subscripts), never bare in running text.
                assert!(!tex.contains("in_channels"), "{}", attribute(&d));
            }
        }
    }
}

#[test]
fn the_latex_document_is_complete() {
    let d = textbook();
    let tex = d.to_latex_document();
    assert!(tex.starts_with("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"));
    assert!(tex.ends_with("\\end{document}\n"));
    assert!(tex.contains(&d.to_latex()));
    assert_eq!(
        tex.matches("\\begin{align*}").count(),
        tex.matches("\\end{align*}").count()
    );
}
