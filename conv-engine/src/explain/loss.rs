//! Renderers of a [`SoftmaxCrossEntropy`]: the definition and its stable computation, the
//! textbook derivation of `∂L/∂z = softmax(z) - onehot(y)` step by step, the softmax Jacobian
//! (a table for small class counts) and one chain-rule equation per class, in the
//! convolution's styles. Indices are 1-based.
//!
//! ```
//! use conv_engine::derive::loss::SoftmaxCrossEntropy;
//! use conv_engine::explain;
//! let md = explain::loss::markdown(&SoftmaxCrossEntropy::new(3).unwrap());
//! assert!(md.contains("- ∂L/∂z<sub>2</sub> = p<sub>2</sub> - [y = 2]"));
//! ```

use super::document::{equations, SUMMARY_EQUATIONS};
use super::style::{Latex, Markdown, Style, Sym, Text};
use super::svg::matrix::{self, Entry, Matrix, Side, BLUE, ORANGE};
use super::{Detail, Format, AUTO_FULL_CELLS};
use crate::derive::loss::SoftmaxCrossEntropy;

/// Whether `detail` writes the softmax Jacobian table and every equation ([`Detail::Auto`]: up
/// to [`AUTO_FULL_CELLS`] cells).
pub fn is_full(l: &SoftmaxCrossEntropy, detail: Detail) -> bool {
    match detail {
        Detail::Full => true,
        Detail::Summary => false,
        Detail::Auto => l.classes().saturating_mul(l.classes()) <= AUTO_FULL_CELLS,
    }
}

/// Renders `l` in `format`.
pub fn render(l: &SoftmaxCrossEntropy, format: Format, detail: Detail) -> String {
    let full = is_full(l, detail);
    match format {
        Format::Markdown => Writer {
            l,
            s: &Markdown,
            full,
        }
        .write(),
        Format::Latex => Writer { l, s: &Latex, full }.write(),
        Format::Text => Writer { l, s: &Text, full }.write(),
    }
}

/// [`render`] as Markdown ([`Detail::Auto`]).
pub fn markdown(l: &SoftmaxCrossEntropy) -> String {
    render(l, Format::Markdown, Detail::Auto)
}

/// [`render`] as LaTeX ([`Detail::Auto`]), pure ASCII, `amsmath`.
pub fn latex(l: &SoftmaxCrossEntropy) -> String {
    render(l, Format::Latex, Detail::Auto)
}

/// [`render`] as plain text ([`Detail::Auto`]).
pub fn text(l: &SoftmaxCrossEntropy) -> String {
    render(l, Format::Text, Detail::Auto)
}

/// An SVG picture of the softmax's Jacobian `∂p/∂z` (rows `z`, columns `p`):
/// `p_i·(1 - p_i)` on the diagonal, `-p_i·p_j` off it, every entry structurally nonzero (with
/// one class, `p₁ = 1` and no entry).
pub fn svg(l: &SoftmaxCrossEntropy) -> String {
    let n = l.classes();
    // With one class p₁ = 1 whatever z, and ∂p/∂z = 0: no entry.
    let entries = (0..n)
        .flat_map(|j| (0..n).map(move |i| (j, i)))
        .filter(|_| n > 1)
        .map(|(j, i)| {
            let (value, fill) = match i == j {
                true => (format!("p{}·(1 - p{})", i + 1, i + 1), BLUE),
                false => (format!("-p{}·p{}", i + 1, j + 1), ORANGE),
            };
            Entry {
                row: j,
                col: i,
                value,
                fill,
            }
        })
        .collect();
    matrix::render(&Matrix {
        layer: format!("softmax cross-entropy, {n} classes"),
        rows: Side::vector("z", n),
        cols: Side::vector("p", n),
        entries,
        cell: "∂p/∂z: p_i·(1 - p_i) on the diagonal (blue), -p_i·p_j off it (orange)".to_string(),
        note: "With ∂L/∂p_i = -[i = y]/p_i, the chain rule gives ∂L/∂z_j = Σ_i ∂L/∂p_i·∂p_i/∂z_j \
               = p_j - [j = y]."
            .to_string(),
    })
}

struct Writer<'a, S: Style> {
    l: &'a SoftmaxCrossEntropy,
    s: &'a S,
    full: bool,
}

impl<S: Style> Writer<'_, S> {
    fn z(&self, i: &str) -> String {
        self.s.sym_at(Sym::Z, i)
    }
    fn p(&self, i: &str) -> String {
        self.s.sym_at(Sym::P, i)
    }
    /// `Σ_j exp(z_j - shift)`.
    fn sum_exp(&self, shift: &str) -> String {
        format!("{} exp({}{shift})", self.s.sub("Σ", "j"), self.z("j"))
    }

    fn write(&self) -> String {
        let (s, n) = (self.s, self.l.classes());
        let m = |f: &str| s.math(f);
        let (zi, zy, pi, py) = (self.z("i"), self.z("y"), self.p("i"), self.p("y"));
        let mut out = s.heading("Softmax cross-entropy");
        out += &s.paragraph(&format!(
            "N = {n} logits z and a label {}: p = softmax(z), and the loss is the negative log \
             of the label's probability. Indices are 1-based.",
            m(&format!("y ∈ 1..{n}"))
        ));
        out += &s.heading("Forward");
        out += &s.equations(&[
            (pi.clone(), format!("exp({zi}) / {}", self.sum_exp(""))),
            ("L".into(), format!("-ln({py}) = logsumexp(z) - {zy}")),
        ]);
        out += &s.paragraph(
            "Computed stably, shifted by the largest logit m: the factor exp(-m) cancels in the \
             quotient, and every exp is at most 1.",
        );
        out += &s.equations(&[
            (
                "m".into(),
                format!("max({}, …, {})", self.z("1"), self.z("N")),
            ),
            ("lse".into(), format!("m + ln({})", self.sum_exp(" - m"))),
            ("L".into(), format!("lse - {zy}")),
            (
                pi.clone(),
                format!("exp({zi} - m) / {}", self.sum_exp(" - m")),
            ),
        ]);
        out += &s.heading("Derivation of ∂L/∂z");
        out += &s.paragraph("Write the loss with the log of the quotient expanded, then differentiate term by term:");
        out += &s.equations(&[
            ("L".into(), format!("-{zy} + ln({})", self.sum_exp(""))),
            (
                format!("{} ln({})", s.partial("", &zi), self.sum_exp("")),
                format!("exp({zi}) / {} = {pi}", self.sum_exp("")),
            ),
            (s.partial(&format!("(-{zy})"), &zi), "-[i = y]".into()),
            (s.partial("L", &zi), format!("{pi} - [i = y]")),
        ]);
        out += &s.paragraph(&format!(
            "So {}; its entries sum to 0, since the p sum to 1.",
            m("∂L/∂z = softmax(z) - onehot(y)")
        ));
        out += &s.heading("Jacobian ∂p/∂z");
        out += &s.paragraph(&format!(
            "The same result through the softmax: {} and {}, so {}.",
            m(&format!(
                "{} = {pi}·([i = j] - {})",
                s.partial(&pi, &self.z("j")),
                self.p("j")
            )),
            m(&format!("{} = -1/{py}", s.partial("L", &py))),
            m(&format!(
                "{} = -(1/{py})·{py}·([y = j] - {}) = {} - [j = y]",
                s.partial("L", &self.z("j")),
                self.p("j"),
                self.p("j")
            )),
        ));
        if self.full {
            out += &self.softmax_table();
        }
        out += &s.heading("Chain rule: ∂L/∂z");
        let limit = if self.full {
            usize::MAX
        } else {
            SUMMARY_EQUATIONS
        };
        out += &equations(s, n, limit, |i| {
            let k = (i + 1).to_string();
            (
                s.partial("L", &self.z(&k)),
                format!("{} - [y = {k}]", self.p(&k)),
            )
        });
        out += &s.paragraph("∂L/∂z is the δ that the layer before the loss receives.");
        out
    }

    /// Rows `∂z_j`, columns `∂p_i`: `p_i·(1 - p_i)` on the diagonal, `-p_i·p_j` off it.
    fn softmax_table(&self) -> String {
        let (s, n) = (self.s, self.l.classes());
        let p = |i: usize| s.sym(Sym::P, &[i + 1]);
        let cols: Vec<String> = (0..n).map(|i| format!("∂{}", p(i))).collect();
        let rows: Vec<(String, Vec<String>)> = (0..n)
            .map(|j| {
                let cells = (0..n).map(|i| {
                    if i == j {
                        s.product(&p(i), &format!("(1 - {})", p(i)))
                    } else {
                        format!("-{}", s.product(&p(i), &p(j)))
                    }
                });
                (format!("∂{}", s.sym(Sym::Z, &[j + 1])), cells.collect())
            })
            .collect();
        s.table("", &cols, &rows)
    }
}
