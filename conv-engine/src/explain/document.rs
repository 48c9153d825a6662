//! The derivation as a document, written through a [`Style`].

use super::style::{Style, Sym};
use crate::derive::{Derivation, Pixel, Product, Sums, Tap};
use crate::prove::padded;
use crate::Padding;

/// Equations shown per gradient in a summary.
pub(super) const SUMMARY_EQUATIONS: usize = 3;
/// Products shown per sum in a summary.
const SUMMARY_TERMS: usize = 6;

/// `start` and the `count` terms `term(0..count)` joined by ` + `; unless `full`, cut after
/// [`SUMMARY_TERMS`] terms with the rest counted by [`Style::elided`]. `0` when empty.
pub(super) fn sum<S: Style>(
    s: &S,
    start: Option<String>,
    count: usize,
    full: bool,
    term: impl Fn(usize) -> String,
) -> String {
    let shown = if full {
        count
    } else {
        count.min(SUMMARY_TERMS)
    };
    let mut terms: Vec<String> = start.into_iter().chain((0..shown).map(term)).collect();
    if shown < count {
        terms.push(s.elided(count));
    }
    if terms.is_empty() {
        "0".to_string()
    } else {
        terms.join(" + ")
    }
}

/// The equations `eq(0..count)` (each `(lhs, rhs)`); at most `limit` of them, then a line
/// saying how many more of the same form were left out.
pub(super) fn equations<S: Style>(
    s: &S,
    count: usize,
    limit: usize,
    eq: impl Fn(usize) -> (String, String),
) -> String {
    let eqs: Vec<(String, String)> = (0..count.min(limit)).map(eq).collect();
    let mut out = s.equations(&eqs);
    if count > limit {
        out += &s.paragraph(&format!(
            "… and {} more equations of the same form.",
            count - limit
        ));
    }
    out
}

pub(super) struct Document<'a, S: Style> {
    d: &'a Derivation,
    s: &'a S,
    /// Whether indices carry channels (any channel count above 1).
    channels: bool,
    /// Whether every term is written (else long sums are cut short).
    full: bool,
}

impl<'a, S: Style> Document<'a, S> {
    pub fn new(d: &'a Derivation, s: &'a S, full: bool) -> Self {
        let g = d.geometry();
        Self {
            d,
            s,
            channels: g.in_channels() > 1 || g.out_channels() > 1,
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
    fn x(&self, flat: u32) -> String {
        self.pixel(Sym::X, self.d.x_at(flat as usize))
    }
    fn u(&self, flat: usize) -> String {
        self.pixel(Sym::U, self.d.u_at(flat))
    }
    fn delta(&self, flat: u32) -> String {
        self.pixel(Sym::Delta, self.d.u_at(flat as usize))
    }
    fn k(&self, flat: u32) -> String {
        let t: Tap = self.d.k_at(flat as usize);
        if self.channels {
            self.s
                .sym(Sym::K, &[t.o + 1, t.c + 1, t.row + 1, t.col + 1])
        } else {
            self.s.sym(Sym::K, &[t.row + 1, t.col + 1])
        }
    }
    fn b(&self, o: usize) -> String {
        if self.channels {
            self.s.sym(Sym::B, &[o + 1])
        } else {
            self.s.sym(Sym::B, &[])
        }
    }

    fn sum(
        &self,
        start: Option<String>,
        products: &[Product],
        f: impl Fn(&Product) -> String,
    ) -> String {
        sum(
            self.s,
            start,
            products.len(),
            self.full,
            |n| f(&products[n]),
        )
    }

    /// One equation per element of `sums`; at most `limit` of them.
    fn equations(
        &self,
        sums: &Sums,
        limit: usize,
        lhs: impl Fn(usize) -> String,
        rhs: impl Fn(usize, &[Product]) -> String,
    ) -> String {
        equations(self.s, sums.len(), limit, |i| (lhs(i), rhs(i, sums.get(i))))
    }

    pub fn write(&self) -> String {
        let full = self.full;
        let limit = if full { usize::MAX } else { SUMMARY_EQUATIONS };
        let mut out = self.s.heading("Derivation");
        out += &self.s.paragraph(&self.summary());
        out += &self.s.heading("Forward");
        out += &self.forward(limit);
        if full {
            out += &self.s.heading("Jacobian ∂u/∂x");
            out += &self.jacobian_x();
            out += &self.s.heading("Jacobian ∂u/∂k");
            out += &self.jacobian_k();
            out += &self.s.paragraph(&self.bias_jacobian());
        } else {
            out += &self.s.paragraph(&self.jacobian_summary());
        }
        out += &self.s.heading("Chain rule: ∂L/∂x");
        out += &self.dx(limit);
        out += &self.s.heading("Matrix form");
        out += &self.matrix_form(full);
        out += &self.s.heading("∂L/∂k");
        out += &self.dk(limit);
        out += &self.s.heading("∂L/∂b");
        out += &self.db(limit);
        out
    }

    fn summary(&self) -> String {
        let g = self.d.geometry();
        let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
        let ([sh, sw], [dh, dw], [t, b, l, r]) = (g.stride(), g.dilation(), g.pads());
        let padding = match g.spec().padding {
            Padding::Valid => "valid".to_string(),
            Padding::Same => format!("same ({t}, {b}, {l}, {r})"),
            Padding::Explicit { .. } => format!("({t}, {b}, {l}, {r})"),
        };
        format!(
            "Input {h}x{w}, kernel {kh}x{kw}, stride ({sh}, {sw}), dilation ({dh}, {dw}), padding {padding}, \
             channels {} -> {}: output {oh}x{ow}. Each of u, ∂L/∂x and ∂L/∂k is a sum of {} nonzero \
             products in all ({} in total). Indices are 1-based.",
            g.in_channels(),
            g.out_channels(),
            g.nonzero_terms(),
            self.d.terms(),
        )
    }

    fn forward(&self, limit: usize) -> String {
        self.equations(
            self.d.forward(),
            limit,
            |i| self.u(i),
            |i, p| {
                let bias = self.b(self.d.u_at(i).c);
                self.sum(Some(bias), p, |&Product(x, k)| {
                    self.s.product(&self.x(x), &self.k(k))
                })
            },
        )
    }

    fn jacobian_x(&self) -> String {
        let g = self.d.geometry();
        let cols: Vec<String> = (0..g.output_len())
            .map(|u| format!("∂{}", self.u(u)))
            .collect();
        let rows = (0..g.input_len())
            .map(|x| {
                let mut cells = vec!["0".to_string(); g.output_len()];
                for &Product(u, k) in self.d.dx().get(x) {
                    cells[u as usize] = self.k(k);
                }
                (format!("∂{}", self.x(x as u32)), cells)
            })
            .collect::<Vec<_>>();
        self.s.table("", &cols, &rows)
    }

    fn jacobian_k(&self) -> String {
        let g = self.d.geometry();
        let cols: Vec<String> = (0..g.output_len())
            .map(|u| format!("∂{}", self.u(u)))
            .collect();
        let rows = (0..g.kernel_len())
            .map(|k| {
                let mut cells = vec!["0".to_string(); g.output_len()];
                for &Product(u, x) in self.d.dk().get(k) {
                    cells[u as usize] = self.x(x);
                }
                (format!("∂{}", self.k(k as u32)), cells)
            })
            .collect::<Vec<_>>();
        self.s.table("", &cols, &rows)
    }

    /// `∂u/∂b = 1`, per output channel when there are several.
    fn bias_jacobian(&self) -> String {
        let partial = self
            .s
            .partial(&self.s.sym(Sym::U, &[]), &self.s.sym(Sym::B, &[]));
        let one = self.s.math(&format!("{partial} = 1"));
        if self.channels {
            format!(
                "{one} for every output of channel o and its bias b[o]; 0 for the other biases."
            )
        } else {
            format!("{one} for every output: the bias is added to each.")
        }
    }

    fn jacobian_summary(&self) -> String {
        let g = self.d.geometry();
        let m = |formula: &str| self.s.math(formula);
        format!(
            "The Jacobian ∂u/∂x is {} x {} with {} nonzero entries: {} where {} and {}, else 0. \
             ∂u/∂k holds the same x entries; {}. (Tables omitted at this size.)",
            g.output_len(),
            g.input_len(),
            g.nonzero_terms(),
            m("∂u[o,i,j]/∂x[c,p,q] = k[o,c,a,b]"),
            m("p = i·SH + a·DH - top"),
            m("q = j·SW + b·DW - left"),
            m("∂u[o,i,j]/∂b[o] = 1"),
        )
    }

    fn dx(&self, limit: usize) -> String {
        let dl = |x: usize| self.s.partial("L", &self.x(x as u32));
        self.equations(self.d.dx(), limit, dl, |_, p| {
            self.sum(None, p, |&Product(d, k)| {
                self.s.product(&self.delta(d), &self.k(k))
            })
        })
    }

    fn dk(&self, limit: usize) -> String {
        let dl = |k: usize| self.s.partial("L", &self.k(k as u32));
        self.equations(self.d.dk(), limit, dl, |_, p| {
            self.sum(None, p, |&Product(d, x)| {
                self.s.product(&self.delta(d), &self.x(x))
            })
        })
    }

    fn db(&self, limit: usize) -> String {
        let dl = |o: usize| self.s.partial("L", &self.b(o));
        self.equations(self.d.db(), limit, dl, |_, p| {
            self.sum(None, p, |&Product(d, _)| self.delta(d))
        })
    }

    fn matrix_form(&self, full: bool) -> String {
        let g = self.d.geometry();
        let ([sh, sw], [dh, dw], [top, _, left, _]) = (g.stride(), g.dilation(), g.pads());
        let [eh, ew] = padded::extent(g);
        let [oh, ow] = g.output();
        let rows = (oh - 1) * sh + 1 + 2 * (eh - 1);
        let cols = (ow - 1) * sw + 1 + 2 * (ew - 1);
        let dx = self.s.math(&format!(
            "∂L/∂x = crop(pad(dilate(δ, stride ({sh}, {sw})), ({eh}-1, {ew}-1)) ⋆ rot180(dilate(k, ({dh}, {dw}))))"
        ));
        let dk = self.s.math("∂L/∂k = pad(x) ⋆ dilate(δ)");
        let db = self.s.math("∂L/∂b = Σ δ");
        let mut out = self.s.paragraph(&format!(
            "{dx}: δ with stride-1 zeros between its entries, padded with {} rows and {} columns of \
             zeros on each side ({rows}x{cols}), correlated with the dilated kernel rotated 180 \
             degrees ({eh}x{ew}), summed over output channels; the result covers the padded input \
             and is cropped by {top} rows and {left} columns to x. {dk}: taps {dh}, {dw} apart. \
             {db} per output channel.",
            eh - 1,
            ew - 1,
        ));
        if !full {
            return out;
        }
        let index = |n: usize| (1..=n).map(|i| i.to_string()).collect::<Vec<_>>();
        let grid = |r: usize, c: usize, cell: &dyn Fn(usize, usize) -> Option<String>| {
            (0..r)
                .map(|i| {
                    (
                        format!("{}", i + 1),
                        (0..c)
                            .map(|j| cell(i, j).unwrap_or_else(|| "0".into()))
                            .collect(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let delta = grid(rows, cols, &|i, j| {
            padded::padded_delta(g, 0, i, j).map(|d| self.delta(d))
        });
        out += &self.s.paragraph(&format!(
            "Padded, stride-dilated δ (output channel 1), {rows}x{cols}:"
        ));
        out += &self.s.table("", &index(cols), &delta);
        let kernel = grid(eh, ew, &|i, j| {
            padded::rotated_kernel(g, 0, 0, i, j).map(|k| self.k(k))
        });
        out += &self.s.paragraph(&format!(
            "Rotated, dilated kernel (channels 1, 1), {eh}x{ew}:"
        ));
        out += &self.s.table("", &index(ew), &kernel);
        out
    }

    pub fn forward_doc(&self) -> String {
        format!(
            "Forward pass, fully unrolled: `u[o][i][j] = b[o] + Σ_{{c,a,b}} x[c][i·SH + a·DH - top][j·SW + b·DW - left] · k[o][c][a][b]`.\n\n\
             {} nonzero products, each output summed over `c, a, b` in ascending order after the bias. \
             See the type's documentation for the derivation.",
            self.d.forward().terms()
        )
    }
}
