//! Renderers of a [`Flatten`]: the channel-major reshape, its Jacobian (the identity
//! permutation; a table for small inputs) and the chain rule (the gradient reshaped back), in
//! the convolution's styles. Indices are 1-based.
//!
//! ```
//! use conv_engine::derive::flatten::Flatten;
//! use conv_engine::explain;
//! let md = explain::flatten::markdown(&Flatten::new([2, 2, 2]).unwrap());
//! assert!(md.contains("- u<sub>5</sub> = x<sub>2,1,1</sub>"));
//! ```

use super::document::{equations, SUMMARY_EQUATIONS};
use super::style::{Latex, Markdown, Style, Sym, Text};
use super::svg::matrix::{self, Entry, Matrix, Side, BLUE};
use super::{Detail, Format, AUTO_FULL_CELLS};
use crate::derive::flatten::Flatten;

/// Whether `detail` writes `f`'s table and every equation ([`Detail::Auto`]: up to
/// [`AUTO_FULL_CELLS`] Jacobian cells).
pub fn is_full(f: &Flatten, detail: Detail) -> bool {
    match detail {
        Detail::Full => true,
        Detail::Summary => false,
        Detail::Auto => f.len().saturating_mul(f.len()) <= AUTO_FULL_CELLS,
    }
}

/// Renders `f` in `format`.
pub fn render(f: &Flatten, format: Format, detail: Detail) -> String {
    let full = is_full(f, detail);
    match format {
        Format::Markdown => Writer {
            f,
            s: &Markdown,
            full,
        }
        .write(),
        Format::Latex => Writer { f, s: &Latex, full }.write(),
        Format::Text => Writer { f, s: &Text, full }.write(),
    }
}

/// [`render`] as Markdown ([`Detail::Auto`]).
pub fn markdown(f: &Flatten) -> String {
    render(f, Format::Markdown, Detail::Auto)
}

/// [`render`] as LaTeX ([`Detail::Auto`]), pure ASCII, `amsmath`.
pub fn latex(f: &Flatten) -> String {
    render(f, Format::Latex, Detail::Auto)
}

/// [`render`] as plain text ([`Detail::Auto`]).
pub fn text(f: &Flatten) -> String {
    render(f, Format::Text, Detail::Auto)
}

/// An SVG picture of `f`'s Jacobian `∂u/∂x`: rows are the input's elements (channel, row,
/// column), columns the flat output's; the identity permutation, one 1 per row and column.
pub fn svg(f: &Flatten) -> String {
    let [c, h, w] = f.input();
    // Output n is the input's element at `f.pixel(n)`, at row `flat(pixel)` of the matrix.
    let entries = (0..f.len())
        .map(|n| Entry {
            row: matrix::flat(f.input(), f.pixel(n)),
            col: n,
            value: "1".to_string(),
            fill: BLUE,
        })
        .collect();
    matrix::render(&Matrix {
        layer: format!("flatten, input {c}x{h}x{w} → {}", f.len()),
        rows: Side::image("x", [c, h, w]),
        cols: Side::vector("u", f.len()),
        entries,
        cell: "∂u/∂x = 1 where u is x's place in channel-major order".to_string(),
        note: "Every other entry is 0, so ∂L/∂x is δ reshaped back to the input's shape."
            .to_string(),
    })
}

struct Writer<'a, S: Style> {
    f: &'a Flatten,
    s: &'a S,
    full: bool,
}

impl<S: Style> Writer<'_, S> {
    fn x(&self, n: usize) -> String {
        let p = self.f.pixel(n);
        self.s.sym(Sym::X, &[p.c + 1, p.row + 1, p.col + 1])
    }
    fn u(&self, n: usize) -> String {
        self.s.sym(Sym::U, &[n + 1])
    }

    fn write(&self) -> String {
        let (s, n) = (self.s, self.f.len());
        let [c, h, w] = self.f.input();
        let limit = if self.full {
            usize::MAX
        } else {
            SUMMARY_EQUATIONS
        };
        let m = |f: &str| s.math(f);
        let mut out = s.heading("Flatten");
        out += &s.paragraph(&format!(
            "Input {c}x{h}x{w} (channels x rows x columns) read channel-major, as PyTorch: {} with \
             {} (1-based; 0-based, {}), {n} elements. A reshape: no arithmetic.",
            m("u[n] = x[c,i,j]"),
            m("n = (c - 1)·H·W + (i - 1)·W + j"),
            m("n = c·H·W + i·W + j"),
        ));
        out += &s.heading("Forward");
        out += &equations(s, n, limit, |k| (self.u(k), self.x(k)));
        out += &s.heading("Jacobian ∂u/∂x");
        if self.full {
            let cols: Vec<String> = (0..n).map(|k| format!("∂{}", self.u(k))).collect();
            let rows: Vec<(String, Vec<String>)> = (0..n)
                .map(|r| {
                    let cells = (0..n).map(|k| if k == r { "1" } else { "0" }.into());
                    (format!("∂{}", self.x(r)), cells.collect())
                })
                .collect();
            out += &s.table("", &cols, &rows);
        }
        out += &s.paragraph(&format!(
            "{} exactly when n is x's position, else 0: the identity permutation ({n} x {n}, one 1 \
             per row and column).{}",
            m("∂u[n]/∂x[c,i,j] = 1"),
            if self.full {
                ""
            } else {
                " (Table omitted at this size.)"
            }
        ));
        out += &s.heading("Chain rule: ∂L/∂x");
        out += &equations(s, n, limit, |k| {
            (s.partial("L", &self.x(k)), s.sym(Sym::Delta, &[k + 1]))
        });
        out += &s.paragraph(&format!(
            "With δ = ∂L/∂u: {}, the gradient reshaped back to {c}x{h}x{w}.",
            m("∂L/∂x[c,i,j] = δ[n]")
        ));
        out
    }
}
