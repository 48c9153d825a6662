//! Renderers of a [`Pool`]: the forward definition (one equation per output), the Jacobian
//! `∂u/∂x` (a table for small layers: rows are inputs, columns outputs, entries `1/n` or the
//! indicator `[x = max(W)]`; the rule for large ones) and the chain rule for `∂L/∂x`, in the
//! convolution's styles. Indices are 1-based.
//!
//! ```
//! use conv_engine::derive::pool::{Pool, PoolKind};
//! use conv_engine::explain;
//! let p = Pool::new(PoolKind::Average, [1, 4, 4], [2, 2], [2, 2]).unwrap();
//! let md = explain::pool::markdown(&p);
//! assert!(md.contains("| ∂x<sub>1,1</sub> | 1/4 | 0 | 0 | 0 |"));
//! ```

use super::document::{equations, sum, SUMMARY_EQUATIONS};
use super::style::{Latex, Markdown, Style, Sym, Text};
use super::svg::matrix::{self, Entry, Matrix, Side, BLUE};
use super::{Detail, Format, AUTO_FULL_CELLS};
use crate::derive::pool::{Pool, PoolKind, PoolWeight};
use crate::derive::Pixel;

/// Whether `detail` writes `p`'s full tables and every equation ([`Detail::Auto`]: up to
/// [`AUTO_FULL_CELLS`] Jacobian cells).
pub fn is_full(p: &Pool, detail: Detail) -> bool {
    match detail {
        Detail::Full => true,
        Detail::Summary => false,
        Detail::Auto => p.input_len().saturating_mul(p.output_len()) <= AUTO_FULL_CELLS,
    }
}

/// Renders `p` in `format`.
pub fn render(p: &Pool, format: Format, detail: Detail) -> String {
    let full = is_full(p, detail);
    match format {
        Format::Markdown => Writer::new(p, &Markdown, full).write(),
        Format::Latex => Writer::new(p, &Latex, full).write(),
        Format::Text => Writer::new(p, &Text, full).write(),
    }
}

/// [`render`] as Markdown ([`Detail::Auto`]).
pub fn markdown(p: &Pool) -> String {
    render(p, Format::Markdown, Detail::Auto)
}

/// [`render`] as LaTeX ([`Detail::Auto`]), pure ASCII, `amsmath`.
pub fn latex(p: &Pool) -> String {
    render(p, Format::Latex, Detail::Auto)
}

/// [`render`] as plain text ([`Detail::Auto`]).
pub fn text(p: &Pool) -> String {
    render(p, Format::Text, Detail::Auto)
}

/// An SVG picture of `p`'s Jacobian `∂u/∂x`: one cell per structural nonzero entry (every cell
/// `1/n` for average pooling; for max pooling the entries that the argmax may select), drawn in
/// blocks for large layers.
pub fn svg(p: &Pool) -> String {
    let (value, note) = match p.kind() {
        PoolKind::Average => (
            format!("1/{}", p.window_len()),
            "Each output is the mean of its window.",
        ),
        PoolKind::Max => (
            "[x = max(W)]".to_string(),
            "The indicator is 1 at the window's first maximum (ties go to the first, as in \
             PyTorch) and 0 at its other cells.",
        ),
    };
    let (rows, cols) = (Side::image("x", p.input()), Side::image("u", p.output()));
    let entries = p
        .jacobian()
        .iter()
        .map(|e| Entry {
            row: matrix::flat(rows.shape, e.x),
            col: matrix::flat(cols.shape, e.u),
            value: value.clone(),
            fill: BLUE,
        })
        .collect();
    matrix::render(&Matrix {
        layer: describe(p),
        rows,
        cols,
        entries,
        cell: format!("∂u/∂x = {value}"),
        note: note.to_string(),
    })
}

/// `max pooling, input 1x4x4, kernel 2x2, stride (2, 2)`.
pub fn describe(p: &Pool) -> String {
    let ([c, h, w], [kh, kw], [sh, sw]) = (p.input(), p.kernel(), p.stride());
    format!(
        "{} pooling, input {c}x{h}x{w}, kernel {kh}x{kw}, stride ({sh}, {sw})",
        p.kind().name()
    )
}

struct Writer<'a, S: Style> {
    p: &'a Pool,
    s: &'a S,
    /// Whether indices carry the channel (more than one channel).
    channels: bool,
    full: bool,
}

impl<'a, S: Style> Writer<'a, S> {
    fn new(p: &'a Pool, s: &'a S, full: bool) -> Self {
        Self {
            p,
            s,
            channels: p.input()[0] > 1,
            full,
        }
    }

    fn pixel(&self, sym: Sym, p: Pixel) -> String {
        if self.channels {
            self.s.sym(sym, &[p.c + 1, p.row + 1, p.col + 1])
        } else {
            self.s.sym(sym, &[p.row + 1, p.col + 1])
        }
    }
    fn x(&self, flat: usize) -> String {
        self.pixel(Sym::X, self.p.x_at(flat))
    }
    fn u(&self, flat: usize) -> String {
        self.pixel(Sym::U, self.p.u_at(flat))
    }
    fn delta(&self, flat: usize) -> String {
        self.pixel(Sym::Delta, self.p.u_at(flat))
    }
    fn window(&self, flat: usize) -> String {
        self.pixel(Sym::Window, self.p.u_at(flat))
    }

    /// The entry `∂u/∂x` for `x` in `u`'s window.
    fn weight(&self, u: usize, x: usize) -> String {
        match self.p.weight() {
            PoolWeight::Average { count } => format!("1/{count}"),
            PoolWeight::Argmax => format!("[{} = max({})]", self.x(x), self.window(u)),
        }
    }

    fn write(&self) -> String {
        let limit = if self.full {
            usize::MAX
        } else {
            SUMMARY_EQUATIONS
        };
        let kind = match self.p.kind() {
            PoolKind::Max => "Max pooling",
            PoolKind::Average => "Average pooling",
        };
        let mut out = self.s.heading(kind);
        out += &self.s.paragraph(&self.summary());
        out += &self.s.heading("Forward");
        out += &equations(self.s, self.p.output_len(), limit, |u| {
            (self.u(u), self.forward(u))
        });
        out += &self.s.paragraph(&self.forward_rule());
        out += &self.s.heading("Jacobian ∂u/∂x");
        if self.full {
            out += &self.jacobian();
        }
        out += &self.s.paragraph(&self.jacobian_rule());
        out += &self.s.heading("Chain rule: ∂L/∂x");
        out += &equations(self.s, self.p.input_len(), limit, |x| {
            (self.s.partial("L", &self.x(x)), self.dx(x))
        });
        out += &self.s.paragraph(&self.chain_rule());
        out
    }

    fn summary(&self) -> String {
        let ([c, h, w], [kh, kw], [sh, sw]) = (self.p.input(), self.p.kernel(), self.p.stride());
        let [_, oh, ow] = self.p.output();
        let m = |f: &str| self.s.math(f);
        format!(
            "Input {c}x{h}x{w} (channels x rows x columns), kernel {kh}x{kw}, stride ({sh}, {sw}), \
             no padding: output {c}x{oh}x{ow}, {} = {oh} rows and {} = {ow} columns per channel. \
             Each output u[c,i,j] reads a window W[c,i,j] of {} inputs of its channel, {} for {} \
             and {} (0-based here), in row-major order. Indices are 1-based.",
            m(&format!("⌊({h} - {kh})/{sh}⌋ + 1")),
            m(&format!("⌊({w} - {kw})/{sw}⌋ + 1")),
            kh * kw,
            m("x[c, i·SH + a, j·SW + b]"),
            m("0 ≤ a < KH"),
            m("0 ≤ b < KW"),
        )
    }

    fn forward(&self, u: usize) -> String {
        let window: Vec<usize> = self.p.window(u).collect();
        let terms = |sep: &str| {
            let shown = sum(self.s, None, window.len(), self.full, |n| self.x(window[n]));
            shown.replace(" + ", sep)
        };
        match self.p.kind() {
            PoolKind::Max => format!("max({})", terms(", ")),
            PoolKind::Average => format!("({}) / {}", terms(" + "), window.len()),
        }
    }

    fn forward_rule(&self) -> String {
        match self.p.kind() {
            PoolKind::Max => format!(
                "The maximum of the window; its argmax is the first maximum in row-major order \
                 (ties go to the first, as PyTorch), and a NaN counts as the maximum (the window's last \
                 NaN, by PyTorch's scan): {}.",
                self.s.math("u[c,i,j] = max(W[c,i,j])")
            ),
            PoolKind::Average => format!(
                "The mean of the window, summed in row-major order, divided once: {}.",
                self.s.math("u[c,i,j] = (Σ W[c,i,j]) / (KH·KW)")
            ),
        }
    }

    fn jacobian(&self) -> String {
        let cols: Vec<String> = (0..self.p.output_len())
            .map(|u| format!("∂{}", self.u(u)))
            .collect();
        let rows: Vec<(String, Vec<String>)> = (0..self.p.input_len())
            .map(|x| {
                let mut cells = vec!["0".to_string(); self.p.output_len()];
                for u in self.p.readers(x) {
                    cells[u] = self.weight(u, x);
                }
                (format!("∂{}", self.x(x)), cells)
            })
            .collect();
        self.s.table("", &cols, &rows)
    }

    fn jacobian_rule(&self) -> String {
        let m = |f: &str| self.s.math(f);
        let entries = self.p.jacobian().len();
        let shape = format!(
            "{} x {} with {entries} structural nonzero entries",
            self.p.output_len(),
            self.p.input_len()
        );
        let omitted = if self.full {
            ""
        } else {
            " (Tables omitted at this size.)"
        };
        match self.p.kind() {
            PoolKind::Average => format!(
                "The Jacobian is {shape}: {} for x in the window W[c,i,j], else 0.{omitted}",
                m(&format!(
                    "∂u[c,i,j]/∂x[c,p,q] = 1/(KH·KW) = 1/{}",
                    self.p.window_len()
                ))
            ),
            PoolKind::Max => format!(
                "The Jacobian is {shape}: {} for x in the window W[c,i,j], else 0; {} is 1 when x \
                 is the first maximum of W in row-major order (ties go to the first, as PyTorch), \
                 else 0, so each column holds exactly one 1 for given values.{omitted}",
                m("∂u[c,i,j]/∂x[c,p,q] = [x[c,p,q] = max(W[c,i,j])]"),
                m("[x = max(W)]"),
            ),
        }
    }

    fn dx(&self, x: usize) -> String {
        let readers: Vec<usize> = self.p.readers(x).collect();
        sum(self.s, None, readers.len(), self.full, |n| {
            let u = readers[n];
            self.s.product(&self.delta(u), &self.weight(u, x))
        })
    }

    fn chain_rule(&self) -> String {
        let m = |f: &str| self.s.math(f);
        let rule = match self.p.kind() {
            PoolKind::Average => m("∂L/∂x[c,p,q] = Σ δ[c,i,j] · 1/(KH·KW)"),
            PoolKind::Max => m("∂L/∂x[c,p,q] = Σ δ[c,i,j] · [x[c,p,q] = max(W[c,i,j])]"),
        };
        format!(
            "With δ = ∂L/∂u: {rule}, summed over the outputs whose window holds x[c,p,q] (in \
             ascending order); an input in no window gets 0."
        )
    }
}
