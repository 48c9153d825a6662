//! The `window` form, for layers too large to unroll, as loop IR ([`crate::ir`]): loops over
//! output positions with the kernel window written out as straight-line code. The taps are the
//! derivation's (every `(o, c, a, b)` of the kernel, at row offset `a*DH` and column offset
//! `b*DW`); padding is handled by reading a zero-padded copy of `x` and cropping a padded
//! `dL/dx`, so the window code has no bounds tests.
//!
//! Summation order: `u` as in the full unroll (`c, a, b` after the bias); `dL/dk`, `dL/db` over
//! `i, j` ascending; `dL/dx` accumulated over `i, j`, then `o`, `a`, `b` (exact on the proof's
//! integer inputs either way).

use super::shape::Shapes;
use super::unroll::{element, operands};
use crate::ir::vars::{I, J, P, Q};
use crate::ir::{Array, Expr, Index, Layouts, Local, Place, Program, Returns, Stmt, Term};
use crate::{ChannelLayout, Spec};

struct Window<'a> {
    spec: &'a Spec,
    shapes: &'a Shapes,
    channels: bool,
    locals: Vec<Local>,
}

impl Window<'_> {
    fn g(&self) -> &crate::Geometry {
        &self.spec.geometry
    }

    fn local(&mut self, local: Local) -> usize {
        self.locals.push(local);
        self.locals.len() - 1
    }

    /// `array[c][row][col]` (no channel index for plain layers).
    fn at(&self, array: Array, c: usize, row: Index, col: Index) -> Place {
        let index = match self.channels {
            true => vec![Index::at(c), row, col],
            false => vec![row, col],
        };
        Place { array, index }
    }

    /// `[channels, rows, cols]` (no channel axis for plain layers).
    fn planes(&self, channels: usize, rows: usize, cols: usize) -> Vec<usize> {
        match self.channels {
            true => vec![channels, rows, cols],
            false => vec![rows, cols],
        }
    }

    fn padded(&self) -> bool {
        self.g().pads() != [0, 0, 0, 0]
    }

    /// A loop over every input position `(p, q)` with `body(c)` written out per channel.
    fn each_input(&self, body: impl Fn(usize) -> Stmt) -> Stmt {
        let [h, w] = self.g().input();
        let inner = Stmt::each(Q, w, (0..self.g().in_channels()).map(body).collect());
        Stmt::each(P, h, vec![inner])
    }

    /// `xp`: `x` itself, or a zero-padded copy and the loop that fills it.
    fn padded_input(&mut self, body: &mut Vec<Stmt>) -> Array {
        if !self.padded() {
            return Array::X;
        }
        let g = *self.g();
        let ([h, w], [t, b, l, r]) = (g.input(), g.pads());
        let dims = self.planes(g.in_channels(), h + t + b, w + l + r);
        let xp = Array::Local(self.local(Local::zeroed("xp", dims)));
        body.push(self.each_input(|c| {
            let to = self.at(xp, c, Index::var(P).offset(t), Index::var(Q).offset(l));
            Stmt::copy(to, self.at(Array::X, c, Index::var(P), Index::var(Q)))
        }));
        xp
    }

    /// A loop over every output position `(i, j)` around `body`.
    fn each_output(&self, body: Vec<Stmt>) -> Stmt {
        let [oh, ow] = self.g().output();
        let inner = Stmt::each(J, ow, body);
        Stmt::each(I, oh, vec![inner])
    }

    /// Every kernel tap `(c, flat)` of output channel `o` with its row and column in the padded
    /// input at output position `(i, j)`: `i*SH + a*DH`, `j*SW + b*DW`.
    fn taps(&self, o: usize) -> Vec<(usize, usize, Index, Index)> {
        let g = self.g();
        let ([kh, kw], [dh, dw], [sh, sw]) = (g.kernel(), g.dilation(), g.stride());
        let ci = g.in_channels();
        let mut out = Vec::new();
        for c in 0..ci {
            for a in 0..kh {
                for b in 0..kw {
                    let flat = ((o * ci + c) * kh + a) * kw + b;
                    let row = Index::at(a * dh).plus(I, sh);
                    let col = Index::at(b * dw).plus(J, sw);
                    out.push((c, flat, row, col));
                }
            }
        }
        out
    }

    fn kernel(&self, flat: usize) -> Place {
        element(Array::K, self.shapes.k.dims(), flat)
    }

    fn program(self, named: Vec<Array>, body: Vec<Stmt>, returns: Returns) -> Program {
        Program {
            operands: operands(self.shapes),
            named,
            locals: self.locals,
            body,
            layouts: Layouts::default(),
            returns,
        }
    }

    /// `u[o][i][j] = b[o] + Σ xp[c][..][..] * k[o][c][a][b]` per output position and channel.
    fn forward(mut self) -> Program {
        let mut body = Vec::new();
        let xp = self.padded_input(&mut body);
        let co = self.g().out_channels();
        let u = self.local(Local::zeroed("u", self.shapes.u.dims().to_vec()));
        let outputs = (0..co)
            .map(|o| {
                let bias = Term::Read(element(Array::B, self.shapes.b.dims(), o));
                let taps = self.taps(o).into_iter().map(|(c, flat, row, col)| {
                    Term::Product(self.at(xp, c, row, col), self.kernel(flat))
                });
                let to = self.at(Array::Local(u), o, Index::var(I), Index::var(J));
                Stmt::Set {
                    to,
                    value: Expr::plain(std::iter::once(bias).chain(taps).collect()),
                }
            })
            .collect();
        body.push(self.each_output(outputs));
        self.program(vec![Array::K, Array::B], body, Returns::Forward { u })
    }

    /// Per output position: `db[o] += d`, and per tap `dxp[..] += d * k`, `gk += d * xp[..]`,
    /// with `d = delta[o][i][j]`; then `dxp` cropped.
    fn backward(mut self) -> Program {
        let g = *self.g();
        let mut body = Vec::new();
        let xp = self.padded_input(&mut body);
        let ([h, w], [t, b, l, r], co) = (g.input(), g.pads(), g.out_channels());
        let dxp_dims = self.planes(g.in_channels(), h + t + b, w + l + r);
        let dxp_local = self.local(Local::zeroed("dxp", dxp_dims));
        let dxp = Array::Local(dxp_local);
        let grads: Vec<usize> = (0..self.shapes.k.len())
            .map(|flat| {
                let name = format!("g{}", self.shapes.k.name(flat));
                self.local(Local::zeroed(name, vec![]))
            })
            .collect();
        let db_sums: Vec<usize> = (0..co)
            .map(|o| self.local(Local::zeroed(format!("db_{o}"), vec![])))
            .collect();
        let scalar = |n: usize| Place {
            array: Array::Local(n),
            index: vec![],
        };
        let mut window = Vec::new();
        for (o, &db_sum) in db_sums.iter().enumerate() {
            let d = self.local(Local::bound(format!("d_{o}"), vec![]));
            let read = self.at(Array::Delta, o, Index::var(I), Index::var(J));
            window.push(Stmt::Let {
                local: d,
                value: Expr::read(read),
            });
            window.push(Stmt::add(scalar(db_sum), scalar(d)));
            for (c, flat, row, col) in self.taps(o) {
                let to = self.at(dxp, c, row.clone(), col.clone());
                window.push(Stmt::mul_add(to, scalar(d), self.kernel(flat)));
                let x = self.at(xp, c, row, col);
                window.push(Stmt::mul_add(scalar(grads[flat]), scalar(d), x));
            }
        }
        body.push(self.each_output(window));
        let dx = if self.padded() {
            let dx = self.local(Local::zeroed("dx", self.shapes.x.dims().to_vec()));
            body.push(self.each_input(|c| {
                let from = self.at(dxp, c, Index::var(P).offset(t), Index::var(Q).offset(l));
                let to = self.at(Array::Local(dx), c, Index::var(P), Index::var(Q));
                Stmt::copy(to, from)
            }));
            dx
        } else {
            dxp_local
        };
        let literal = |this: &mut Self, name: &str, dims: &[usize], of: &[usize]| {
            let local = this.local(Local::bound(name, dims.to_vec()));
            let elements = of.iter().map(|&n| Expr::read(scalar(n))).collect();
            (local, Stmt::Literal { local, elements })
        };
        let k_dims = self.shapes.k.dims().to_vec();
        let b_dims = self.shapes.b.dims().to_vec();
        let (dk, set_dk) = literal(&mut self, "dk", &k_dims, &grads);
        let (db, set_db) = literal(&mut self, "db", &b_dims, &db_sums);
        body.extend([set_dk, set_db]);
        self.program(vec![Array::K], body, Returns::Backward { dx, dk, db })
    }
}

fn window<'a>(spec: &'a Spec, shapes: &'a Shapes) -> Window<'a> {
    Window {
        spec,
        shapes,
        channels: spec.layout == ChannelLayout::ChannelFirst,
        locals: Vec::new(),
    }
}

/// The window `forward`.
pub(super) fn forward(spec: &Spec, shapes: &Shapes) -> Program {
    window(spec, shapes).forward()
}

/// The window `backward`.
pub(super) fn backward(spec: &Spec, shapes: &Shapes) -> Program {
    window(spec, shapes).backward()
}
