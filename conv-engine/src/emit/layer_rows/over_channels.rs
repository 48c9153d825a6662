//! The layer-level `backward` with output channels innermost ([`Dx::LayerOverChannels`]), for
//! channel-first layers with short output rows and many output channels: `delta` and the
//! kernel are transposed once to `dt[i][j][o]` and `kt[c][a][b][o]`; then for every output
//! position `(i, j)` and tap, one vector update over output channels per gradient:
//! `tk[c][a][b][o] += dt[i][j][o] * xp[c][i*SH + a*DH][j*SW + b*DW]` (`dL/dk`, transposed
//! back at the end), `sb[o] += dt[i][j][o]` (`dL/db`), and `acc[c][p][q][o] += dt[i][j][o] *
//! kt[c][a][b][o]` at `p = i*SH + a*DH`, `q = j*SW + b*DW` (`dL/dx`: the chain rule's products
//! and no others, one partial sum per output channel, added in order of `o` at the end).
//!
//! The transposes' loops over output channels are opaque (`core::hint::black_box`): LLVM
//! vectorised them across output channels with AVX-512 gathers, which made the digits layer
//! slower. The loops over input channels are not (the updates over output channels are
//! innermost; opaque, they made the digits layer slower on the default target).
//!
//! Summation order: `dL/dk`, `dL/db` over `i, j`; `dL/dx` per output channel over `i, j, c,
//! a, b`, then over `o`.
//!
//! [`Dx::LayerOverChannels`]: crate::plan::Dx::LayerOverChannels

use super::{v, whole, Layer, A, B, C, I, J, O, P, Q};
use crate::ir::{Array, Expr, Index, Local, Place, Stmt, Term, Var};

/// `body` inside loops over `vars` (each to its extent in `dims`), the outermost opaque when
/// `opaque`.
fn nest(vars: &[Var], dims: &[usize], opaque: bool, body: Vec<Stmt>) -> Stmt {
    let mut loops = vars.iter().zip(dims).rev().peekable();
    let mut body = body;
    while let Some((&var, &extent)) = loops.next() {
        let outermost = loops.peek().is_none();
        body = vec![Stmt::counted(var, extent, opaque && outermost, body)];
    }
    body.pop().expect("at least one loop")
}

fn indices(vars: &[Var]) -> Vec<Index> {
    vars.iter().map(|&x| v(x)).collect()
}

/// `array[vars..]`, each index a loop variable.
fn at(array: Array, vars: &[Var]) -> Place {
    Place {
        array,
        index: indices(vars),
    }
}

impl Layer<'_> {
    /// `dL/dx`, `dL/dk` and `dL/db` (the padded `dxp`, `dk`, `db`) over output positions,
    /// every output channel at once (channel-first layers only, the only ones the plan gives
    /// this form).
    pub(super) fn over_channels(&mut self, xp: Array) -> (usize, usize, usize) {
        let s = self.s;
        let (taps, kernel) = ([C, A, B], [s.ci, s.kh, s.kw]);
        let (positions, output) = ([I, J], [s.oh, s.ow]);
        let x = self.local(Local::bound("v", vec![]));
        let (row, col) = (s.row(), Index::at(0).plus(J, s.sw).plus(B, s.dw));
        let each_o = |body: Stmt| Stmt::each(O, s.co, vec![body]);
        let with_o = |vars: &[Var]| [O].iter().chain(vars).copied().collect::<Vec<_>>();
        let o_last = |vars: &[Var]| vars.iter().chain(&[O]).copied().collect::<Vec<_>>();
        // The transposes, output channels outermost and opaque: dt[i][j][o] = delta[o][i][j],
        // kt[c][a][b][o] = k[o][c][a][b].
        let transpose = |to: usize, from: Array, inner: &[Var], dims: &[usize]| {
            let extents: Vec<usize> = [s.co].iter().chain(dims).copied().collect();
            let to = at(Array::Local(to), &o_last(inner));
            let copy = Stmt::copy(to, at(from, &with_o(inner)));
            nest(&with_o(inner), &extents, true, vec![copy])
        };
        let dt = self.zeroed("dt", vec![s.oh, s.ow, s.co]);
        let d = at(Array::Local(dt), &[I, J, O]);
        self.body
            .push(transpose(dt, Array::Delta, &positions, &output));
        let kt = self.zeroed("kt", vec![s.ci, s.kh, s.kw, s.co]);
        self.body.push(transpose(kt, Array::K, &taps, &kernel));
        let kt = at(Array::Local(kt), &o_last(&taps));
        // Per position: sb[o] += d[o]; per tap, v = xp[c][r][q] and tk[c][a][b][o] += d[o] * v.
        let tk = self.zeroed("tk", vec![s.ci, s.kh, s.kw, s.co]);
        let sb = self.zeroed("sb", vec![s.co]);
        let tk = at(Array::Local(tk), &o_last(&taps));
        let read = Place {
            array: xp,
            index: vec![v(C), row.clone(), col.clone()],
        };
        let dk_tap = vec![
            Stmt::Let {
                local: x,
                value: Expr::read(read),
            },
            each_o(Stmt::mul_add(tk.clone(), d.clone(), whole(x))),
        ];
        let per_position = vec![
            each_o(Stmt::add(at(Array::Local(sb), &[O]), d.clone())),
            nest(&taps, &kernel, false, dk_tap),
        ];
        self.body
            .push(nest(&positions, &output, false, per_position));
        // dk[o][c][a][b] = tk[c][a][b][o]; db = sb.
        let dk = self.zeroed("dk", self.shapes.k.dims().to_vec());
        let back = Stmt::copy(at(Array::Local(dk), &with_o(&taps)), tk);
        let extents = [s.co, s.ci, s.kh, s.kw];
        self.body
            .push(nest(&with_o(&taps), &extents, true, vec![back]));
        let db = self.local(Local::bound("db", vec![s.co]));
        self.body.push(Stmt::Let {
            local: db,
            value: Expr::read(whole(sb)),
        });
        // acc[c][r][q][o] += d[o] * kt[c][a][b][o], per position and tap.
        let acc = self.zeroed("acc", vec![s.ci, s.hp, s.wp, s.co]);
        let to = Place {
            array: Array::Local(acc),
            index: vec![v(C), row, col, v(O)],
        };
        let dx_taps = nest(
            &taps,
            &kernel,
            false,
            vec![each_o(Stmt::mul_add(to, d, kt))],
        );
        self.body
            .push(nest(&positions, &output, false, vec![dx_taps]));
        // dxp[c][p][q] = total(&acc[c][p][q])
        let dxp = self.zeroed("dxp", vec![s.ci, s.hp, s.wp]);
        let total = Stmt::Set {
            to: at(Array::Local(dxp), &[C, P, Q]),
            value: Expr::plain(vec![Term::Total(at(Array::Local(acc), &[C, P, Q]))]),
        };
        let padded = [s.ci, s.hp, s.wp];
        self.body
            .push(nest(&[C, P, Q], &padded, false, vec![total]));
        (dxp, dk, db)
    }
}
