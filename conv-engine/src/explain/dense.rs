//! Renderers of a dense layer's derivation ([`Dense`]), the convolution's sibling: the forward
//! formula, the Jacobian tables `∂u/∂x`, `∂u/∂w` and `∂u/∂b` (written out for small layers, as
//! the rule and the tables' shapes for large ones), and the chain rule with its matrix form.
//! Indices are 1-based, as in the convolution's documents.
//!
//! ```
//! use conv_engine::{derive::dense::Dense, explain};
//! let md = explain::dense::markdown(&Dense::new(3, 2));
//! assert!(md.contains("| ∂x<sub>3</sub> | w<sub>1,3</sub> | w<sub>2,3</sub> |"));
//! assert!(md.contains("- ∂L/∂x<sub>1</sub> = δ<sub>1</sub>·w<sub>1,1</sub> + δ<sub>2</sub>·w<sub>2,1</sub>"));
//! ```

use super::style::{Latex, Markdown, Style, Sym, Text};
use super::svg::matrix::{self, Entry, Matrix, Side, BLUE};
use super::Format;
use crate::derive::dense::Dense;
use crate::derive::{Product, Sums};

/// Most weights (`inputs * outputs`) for which the documents write every table and equation;
/// larger layers get the rules, the tables' shapes and the first equations. `∂u/∂w` has
/// `inputs * outputs` rows of `outputs` cells, so beyond this the tables outgrow a page.
pub const FULL_WEIGHTS: usize = 64;

/// Equations shown per gradient for a large layer.
const SUMMARY_EQUATIONS: usize = 3;
/// Products shown per sum for a large layer.
const SUMMARY_TERMS: usize = 6;

/// Renders `d` in `format`.
pub fn render(d: &Dense, format: Format) -> String {
    match format {
        Format::Markdown => Document { d, s: &Markdown }.write(),
        // The transpose's superscript as LaTeX (pdflatex takes only ASCII).
        Format::Latex => Document { d, s: &Latex }.write().replace('ᵀ', "^{T}"),
        Format::Text => Document { d, s: &Text }.write(),
    }
}

/// [`render`] as Markdown (rustdoc, GitHub).
pub fn markdown(d: &Dense) -> String {
    render(d, Format::Markdown)
}

/// [`render`] as plain text.
pub fn text(d: &Dense) -> String {
    render(d, Format::Text)
}

/// [`render`] as LaTeX (amsmath), to include in a document.
pub fn latex(d: &Dense) -> String {
    render(d, Format::Latex)
}

/// An SVG picture of `d`'s Jacobian `∂u/∂x`: rows are the inputs, columns the outputs, every
/// entry a weight (row `i`, column `o`: `∂u_o/∂x_i = w_o,i`, so the matrix drawn is `wᵀ`);
/// beyond [`MAX_CELLS_AXIS`](super::MAX_CELLS_AXIS) rows or columns, grey blocks of runs of
/// inputs by runs of outputs.
pub fn svg(d: &Dense) -> String {
    let entries = (0..d.inputs())
        .flat_map(|i| (0..d.outputs()).map(move |o| (i, o)))
        .filter_map(|(i, o)| {
            d.du_dx(o, i).map(|w| Entry {
                row: i,
                col: o,
                value: format!("w{},{}", w.o + 1, w.i + 1),
                fill: BLUE,
            })
        })
        .collect();
    matrix::render(&Matrix {
        layer: format!("dense, {} inputs → {} outputs", d.inputs(), d.outputs()),
        rows: Side::vector("x", d.inputs()),
        cols: Side::vector("u", d.outputs()),
        entries,
        cell: "∂u_o/∂x_i = w_o,i (row i, column o)".to_string(),
        note: "So ∂L/∂x = wᵀδ; and ∂u_o/∂w_o,i = x_i, ∂u_o/∂b_o = 1, so ∂L/∂w = δxᵀ and \
               ∂L/∂b = δ."
            .to_string(),
    })
}

/// Whether the documents write every table and equation of `d` (at most [`FULL_WEIGHTS`]
/// weights).
pub fn is_full(d: &Dense) -> bool {
    d.inputs() * d.outputs() <= FULL_WEIGHTS
}

struct Document<'a, S: Style> {
    d: &'a Dense,
    s: &'a S,
}

impl<S: Style> Document<'_, S> {
    fn x(&self, i: usize) -> String {
        self.s.sym(Sym::X, &[i + 1])
    }
    fn u(&self, o: usize) -> String {
        self.s.sym(Sym::U, &[o + 1])
    }
    fn delta(&self, o: usize) -> String {
        self.s.sym(Sym::Delta, &[o + 1])
    }
    fn b(&self, o: usize) -> String {
        self.s.sym(Sym::B, &[o + 1])
    }
    fn w(&self, flat: usize) -> String {
        let w = self.d.w_at(flat);
        self.s.sym(Sym::W, &[w.o + 1, w.i + 1])
    }

    fn write(&self) -> String {
        let (n, m) = (self.d.inputs(), self.d.outputs());
        let full = is_full(self.d);
        let limit = if full { usize::MAX } else { SUMMARY_EQUATIONS };
        let mut out = self.s.heading("Derivation");
        out += &self.s.paragraph(&format!(
            "Dense layer, {n} inputs -> {m} outputs, weights w[out][in]: {} = {}. Each of u, \
             ∂L/∂x and ∂L/∂w is a sum of {} products in all ({} in total). Indices are 1-based.",
            self.s.math("u[o]"),
            self.s.math("b[o] + Σ_i w[o,i]·x[i]"),
            n * m,
            self.d.terms(),
        ));
        out += &self.s.heading("Forward");
        out += &self.equations(
            self.d.forward(),
            limit,
            |o| self.u(o),
            |o, p| {
                let terms = p
                    .iter()
                    .map(|&Product(x, w)| self.s.product(&self.x(x as usize), &self.w(w as usize)));
                self.sum(Some(self.b(o)), terms, p.len(), full)
            },
        );
        if full {
            out += &self.s.heading("Jacobian ∂u/∂x");
            out += &self.jacobian_x();
            out += &self.s.heading("Jacobian ∂u/∂w");
            out += &self.jacobian_w();
        } else {
            out += &self.s.heading("Jacobian");
        }
        out += &self.s.paragraph(&self.rules(full));
        out += &self.s.heading("Chain rule: ∂L/∂x");
        out += &self.equations(
            self.d.dx(),
            limit,
            |i| self.s.partial("L", &self.x(i)),
            |_, p| {
                let terms = p.iter().map(|&Product(d, w)| {
                    self.s.product(&self.delta(d as usize), &self.w(w as usize))
                });
                self.sum(None, terms, p.len(), full)
            },
        );
        out += &self.s.heading("∂L/∂w");
        out += &self.equations(
            self.d.dw(),
            limit,
            |w| self.s.partial("L", &self.w(w)),
            |_, p| {
                let terms = p.iter().map(|&Product(d, x)| {
                    self.s.product(&self.delta(d as usize), &self.x(x as usize))
                });
                self.sum(None, terms, p.len(), full)
            },
        );
        out += &self.s.heading("∂L/∂b");
        out += &self.equations(
            self.d.db(),
            limit,
            |o| self.s.partial("L", &self.b(o)),
            |_, p| {
                let terms = p.iter().map(|&Product(d, _)| self.delta(d as usize));
                self.sum(None, terms, p.len(), full)
            },
        );
        out += &self.s.heading("Matrix form");
        out += &self.s.paragraph(&format!(
            "{}, {}, {}: the chain rule above is the transpose of the Jacobian, read off the \
             forward sums; the proof compares it term by term with these products, built \
             directly.",
            self.s.math("∂L/∂x = Wᵀ·δ"),
            self.s.math("∂L/∂W = δ·xᵀ"),
            self.s.math("∂L/∂b = δ"),
        ));
        out
    }

    /// `start + t0 + t1 + ..` (the first [`SUMMARY_TERMS`] terms unless `full`).
    fn sum(
        &self,
        start: Option<String>,
        terms: impl Iterator<Item = String>,
        len: usize,
        full: bool,
    ) -> String {
        let shown = if full { len } else { len.min(SUMMARY_TERMS) };
        let mut all: Vec<String> = start.into_iter().chain(terms.take(shown)).collect();
        if shown < len {
            all.push(self.s.elided(len));
        }
        if all.is_empty() {
            "0".into()
        } else {
            all.join(" + ")
        }
    }

    /// One equation per element of `sums`; at most `limit` of them.
    fn equations(
        &self,
        sums: &Sums,
        limit: usize,
        lhs: impl Fn(usize) -> String,
        rhs: impl Fn(usize, &[Product]) -> String,
    ) -> String {
        let eqs: Vec<(String, String)> = sums
            .iter()
            .enumerate()
            .take(limit)
            .map(|(i, p)| (lhs(i), rhs(i, p)))
            .collect();
        let mut out = self.s.equations(&eqs);
        if sums.len() > limit {
            out += &self.s.paragraph(&format!(
                "… and {} more equations of the same form.",
                sums.len() - limit
            ));
        }
        out
    }

    /// `∂u/∂x`: one row per input, one column per output, `w[o][i]` everywhere.
    fn jacobian_x(&self) -> String {
        let cols: Vec<String> = (0..self.d.outputs())
            .map(|o| format!("∂{}", self.u(o)))
            .collect();
        let rows: Vec<(String, Vec<String>)> = (0..self.d.inputs())
            .map(|i| {
                let mut cells = vec!["0".to_string(); self.d.outputs()];
                for &Product(u, w) in self.d.dx().get(i) {
                    cells[u as usize] = self.w(w as usize);
                }
                (format!("∂{}", self.x(i)), cells)
            })
            .collect();
        self.s.table("", &cols, &rows)
    }

    /// `∂u/∂w`: one row per weight, `x[i]` in the column of its own output, 0 elsewhere.
    fn jacobian_w(&self) -> String {
        let m = self.d.outputs();
        let cols: Vec<String> = (0..m).map(|o| format!("∂{}", self.u(o))).collect();
        let rows: Vec<(String, Vec<String>)> = (0..self.d.dw().len())
            .map(|w| {
                let mut cells = vec!["0".to_string(); m];
                for &Product(u, x) in self.d.dw().get(w) {
                    cells[u as usize] = self.x(x as usize);
                }
                (format!("∂{}", self.w(w)), cells)
            })
            .collect();
        self.s.table("", &cols, &rows)
    }

    /// The Jacobian's rules, with the tables' shapes when they are not written out.
    fn rules(&self, full: bool) -> String {
        let (n, m) = (self.d.inputs(), self.d.outputs());
        let m_ = |f: &str| self.s.math(f);
        let rules = format!(
            "{} for every o and i (no structural zeros); {}, and 0 for another row of w; {}, \
             and 0 for another bias.",
            m_("∂u[o]/∂x[i] = w[o,i]"),
            m_("∂u[o]/∂w[o,i] = x[i]"),
            m_("∂u[o]/∂b[o] = 1"),
        );
        match full {
            true => rules,
            false => format!(
                "{rules} The tables: ∂u/∂x is {n} x {m} (inputs x outputs), all {} entries \
                 nonzero; ∂u/∂w is {} x {m}, block diagonal, {} nonzero entries; ∂u/∂b is the \
                 {m} x {m} identity. (Tables omitted at this size.)",
                n * m,
                n * m,
                n * m,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_to_two_in_full() {
        let md = markdown(&Dense::new(3, 2));
        assert!(md.contains(
            "- u<sub>2</sub> = b<sub>2</sub> + x<sub>1</sub>·w<sub>2,1</sub> + \
             x<sub>2</sub>·w<sub>2,2</sub> + x<sub>3</sub>·w<sub>2,3</sub>"
        ));
        assert!(md.contains("| ∂x<sub>1</sub> | w<sub>1,1</sub> | w<sub>2,1</sub> |"));
        assert!(md.contains("| ∂w<sub>2,3</sub> | 0 | x<sub>3</sub> |"));
        assert!(md.contains("- ∂L/∂w<sub>2,1</sub> = δ<sub>2</sub>·x<sub>1</sub>"));
        assert!(md.contains("- ∂L/∂b<sub>1</sub> = δ<sub>1</sub>"));
        let text = text(&Dense::new(3, 2));
        assert!(
            text.contains("dL/dx[2] = delta[1]*w[1,2] + delta[2]*w[2,2]"),
            "{text}"
        );
        let latex = latex(&Dense::new(3, 2));
        assert!(
            latex.contains("\\begin{array}") && latex.is_ascii(),
            "{latex}"
        );
    }

    #[test]
    fn large_layers_get_the_rules_and_shapes() {
        let md = markdown(&Dense::new(400, 120));
        assert!(!md.contains("| ∂x"), "no tables");
        assert!(md.contains("∂u/∂x is 400 x 120"));
        assert!(md.contains("∂u/∂w is 48000 x 120"));
        assert!(md.contains("… and 117 more equations of the same form."));
        assert!(md.contains("… (400 products)"));
        assert!(md.len() < 10_000, "{} bytes", md.len());
    }
}
