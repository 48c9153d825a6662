//! The layer-level `backward` with output channels innermost ([`Dx::LayerOverChannels`]), for
//! channel-first layers with many output channels (the plan says which): `delta` and the
//! kernel are transposed once to `dt[i][j][o]` and `kt[c][a][b][o]`; then every update is one
//! vector update over output channels:
//!
//! - `sb[o] += dt[i][j][o]` per output position (`dL/db`);
//! - per input channel `c`, `sk[a][b][o] += dt[i][j][o] * xp[c][i*SH + a*DH][j*SW + b*DW]`
//!   for every output position and tap, then `dkt[c][a][b][o] = sk[a][b][o]` (`dL/dk`: one
//!   channel's partial sums, which fit the vector registers for small kernels, each tap's
//!   chain independent of the others), and `dk[o][c][a][b] = dkt[c][a][b][o]` at the end;
//! - per input channel `c` and padded row `p`, the row's partial sums `rq[q][o]` start at zero
//!   and take `dt[i][j][o] * kt[c][a][b][o]` at `q = j*SW + b*DW` for every output row `i`
//!   that reaches `p` (through the kernel row `a` with `p = i*SH + a*DH`), output column and
//!   kernel column; then `dxp[c][p][q]` is `rq[q]` added across `o` (`dL/dx`: the chain
//!   rule's products and no others; pairwise when the output channels are a power of two,
//!   which vectorises, else in order; one column at a time, as LLVM vectorised the loop over
//!   columns with gathers). Where the row fits the vector registers
//!   ([`crate::plan::UNROLLED_DX_ROW`]), its updates are written out, one
//!   copy per output column and kernel column ([`Counter::Unrolled`](crate::ir::Counter)), so
//!   that `rq` stays in registers from its zeros to its sums; in a loop, each update loaded
//!   and stored its element (`BENCHMARKS.md`, LeNet-5, the step of 97349bc).
//!
//! The transposes (`dt`, `kt`, and `dk` from `dkt`) are nests of copies in the order of their
//! stores; the lowering writes each as passes of interleaving where the number of output
//! channels is a product of 2, 3 and 4 ([`crate::ir::lower::transpose`]), which LLVM writes
//! with shuffles of whole vectors. Written as nests, LLVM read or stored each vector with a
//! gather or a scatter (`BENCHMARKS.md`, LeNet-5). The loops over input channels are
//! not opaque (the updates over output channels are innermost; opaque, they made the digits
//! layer slower on the default target).
//!
//! Summation order: `dL/dk`, `dL/db` over `i, j`; `dL/dx` per output channel over `i`, then
//! `j` (the products of one element of `dL/dx` differ in `i` and `j`), then across `o`
//! (pairwise for a power of two of output channels: the second half into the first until one
//! is left; else in order).
//!
//! [`Dx::LayerOverChannels`]: crate::plan::Dx::LayerOverChannels

use super::{v, whole, zero, Layer, A, B, C, I, J, O, P, Q};
use crate::ir::{Array, Expr, Index, Local, Place, Stmt, Term, Var};
use crate::plan::UNROLLED_DX_ROW;

/// `body` inside loops over `vars` (each to its extent in `dims`).
fn nest(vars: &[Var], dims: &[usize], body: Vec<Stmt>) -> Stmt {
    let mut body = body;
    for (&var, &extent) in vars.iter().zip(dims).rev() {
        body = vec![Stmt::each(var, extent, body)];
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
        // The transposes, output channels innermost: dt[i][j][o] = delta[o][i][j],
        // kt[c][a][b][o] = k[o][c][a][b].
        let transpose = |to: usize, from: Array, inner: &[Var], dims: &[usize]| {
            let extents: Vec<usize> = dims.iter().chain(&[s.co]).copied().collect();
            let to = at(Array::Local(to), &o_last(inner));
            let copy = Stmt::copy(to, at(from, &with_o(inner)));
            nest(&o_last(inner), &extents, vec![copy])
        };
        let dt = self.zeroed("dt", vec![s.oh, s.ow, s.co]);
        let d = at(Array::Local(dt), &[I, J, O]);
        self.body
            .push(transpose(dt, Array::Delta, &positions, &output));
        let kt = self.zeroed("kt", vec![s.ci, s.kh, s.kw, s.co]);
        self.body.push(transpose(kt, Array::K, &taps, &kernel));
        let kt = at(Array::Local(kt), &o_last(&taps));
        // Per position: sb[o] += d[o].
        let sb = self.zeroed("sb", vec![s.co]);
        let db_sum = each_o(Stmt::add(at(Array::Local(sb), &[O]), d.clone()));
        self.body.push(nest(&positions, &output, vec![db_sum]));
        // Per input channel, over every position and tap: v = xp[c][r][q] and
        // sk[a][b][o] += d[o] * v, one channel's partial sums (they fit the vector registers on
        // small kernels, and every tap's chain is independent of the others); then
        // dkt[c][a][b][o] = sk[a][b][o], whole vectors, and after the last channel
        // dk[o][c][a][b] = dkt[c][a][b][o], a transpose the lowering writes as passes of
        // interleaving (stored per channel in `dk`'s order, LLVM read the sums with gathers or
        // stored every element on its own: `BENCHMARKS.md`, LeNet-5).
        let (ab, tap) = ([A, B], [s.kh, s.kw]);
        let sk = self.local(Local::bound("sk", vec![s.kh, s.kw, s.co]));
        let dkt = self.zeroed("dkt", vec![s.ci, s.kh, s.kw, s.co]);
        let read = Place {
            array: xp,
            index: vec![v(C), row.clone(), col.clone()],
        };
        let dk_tap = vec![
            Stmt::Let {
                local: x,
                value: Expr::read(read),
            },
            each_o(Stmt::mul_add(
                at(Array::Local(sk), &o_last(&ab)),
                d.clone(),
                whole(x),
            )),
        ];
        let dk_position = vec![nest(&ab, &tap, dk_tap)];
        let dk_channel = vec![
            zero(sk),
            nest(&positions, &output, dk_position),
            Stmt::copy(at(Array::Local(dkt), &[C]), whole(sk)),
        ];
        self.body.push(nest(&[C], &[s.ci], dk_channel));
        let dk = self.zeroed("dk", self.shapes.k.dims().to_vec());
        let store = Stmt::copy(
            at(Array::Local(dk), &with_o(&taps)),
            at(Array::Local(dkt), &o_last(&taps)),
        );
        self.body
            .push(nest(&with_o(&taps), &[s.co, s.ci, s.kh, s.kw], vec![store]));
        let db = self.local(Local::bound("db", vec![s.co]));
        self.body.push(Stmt::Let {
            local: db,
            value: Expr::read(whole(sb)),
        });
        // Per input channel and padded row `p`: rq[q][o] += d[o] * kt[c][a][b][o] for every
        // output row `i` that reaches `p` (through kernel row `a`, `p = i*SH + a*DH`), output
        // column `j` and kernel column `b` (`q = j*SW + b*DW`); then
        // dxp[c][p][q] = sum(&rq[q]) (pairwise, a power of two of output channels) or
        // total(&rq[q]) (in order). A row short enough for the vector registers has its updates
        // and sums written out, so that `rq` lives in registers from its zeros to its sums; a
        // longer row loops, its sums one column at a time (LLVM vectorised that loop over
        // columns with gathers).
        let dxp = self.zeroed("dxp", vec![s.ci, s.hp, s.wp]);
        let rq = self.local(Local::bound("rq", vec![s.wp, s.co]));
        let to = Place {
            array: Array::Local(rq),
            index: vec![col, v(O)],
        };
        let update = vec![each_o(Stmt::mul_add(to, d, kt))];
        let unrolled = s.wp * s.co <= UNROLLED_DX_ROW;
        let updates = match unrolled {
            true => Stmt::unrolled(J, s.ow, vec![Stmt::unrolled(B, s.kw, update)]),
            false => nest(&[J, B], &[s.ow, s.kw], update),
        };
        let reaching = Stmt::Solve {
            var: A,
            target: v(P),
            offset: Index::at(0).plus(I, s.sh),
            stride: s.dh,
            extent: s.kh,
            body: vec![updates],
        };
        let across = |place| match s.co.is_power_of_two() {
            true => Term::Pairwise(place),
            false => Term::Total(place),
        };
        let total = Stmt::Set {
            to: at(Array::Local(dxp), &[C, P, Q]),
            value: Expr::plain(vec![across(at(Array::Local(rq), &[Q]))]),
        };
        let totals = Stmt::counted(Q, s.wp, true, vec![total]);
        let dx_row = vec![zero(rq), Stmt::each(I, s.oh, vec![reaching]), totals];
        self.body.push(nest(&[C, P], &[s.ci, s.hp], dx_row));
        (dxp, dk, db)
    }
}
