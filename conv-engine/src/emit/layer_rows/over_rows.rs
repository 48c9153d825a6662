//! The layer-level `backward` over the rows of the whole layer ([`Dx::LayerRows`], for output
//! rows of at least `LANES` columns and fewer output channels), not one output row's window in
//! each sum:
//!
//! - `dL/dx` row by row of the padded input: for row `p` and input channel `c`, the partial
//!   sums `s[b][j] = sum over o and the kernel rows a that reach p (p = i*SH + a*DH) of
//!   delta[o][i][j] * k[o][c][a][b]` (output-row long, the chain rule's products and no
//!   others), then `dxp[c][p][j*SW + b*DW] = sum over b of s[b][j]`, each `s[b]` placed in a
//!   zero row `r[b]` at its offset and the rows added lane by lane. One shifted sum per input
//!   row instead of one masked product per tap and window (the companion's matrix form).
//! - `dL/dk` per kernel row `a` and input channel `c`, for two output channels at a time (one
//!   load of an input element feeds both) and as many kernel columns per pass over the rows as
//!   the tier's registers keep ([`Blocks::taps_per_pass`]): the lane sums `s[m][b][j] +=
//!   delta[o + m][i][j] * xp[c][i*SH + a*DH][j*SW + b*DW]` over all output rows `i`, added
//!   across lanes once per tap (the companion adds across lanes once per tap and row).
//! - `dL/db` the same lane sums of the delta rows.
//!
//! The lane sums of `dL/dk` and `dL/db` span the output row rounded up to a multiple of
//! [`ROW_VECTOR`] columns, over a copy of `delta` whose rows are zero past the output row (and
//! a padded input wide enough): LLVM vectorised LeNet-5's first layer's rows of 28 columns
//! four lanes at a time and a layer's rows of 24 not at all; on 32 columns it uses sixteen
//! (`BENCHMARKS.md`, LeNet-5, the steps of 429044a and dc6529d). Only the output row's lanes
//! are added across (the others may hold `0 * inf`).
//!
//! Each row's lanes (the output row's columns) are added pairwise once per tap (`leading`: the
//! lanes past the largest power of two into the first ones, then halves), a few vector
//! additions; added in order, one lane at a time, they were scalar additions that held up
//! LeNet-5's first layer's parameter gradients (`BENCHMARKS.md`, LeNet-5, the step of
//! 53b6006). (Not as 8 interleaved partial sums added pairwise, as in the
//! companion: LLVM's SLP vectoriser mixed the taps' sums with shuffles and LeNet's first layer
//! took several times longer natively.) The counters of the loops over kernel rows, over pairs
//! of output channels and over fewer than `LANES` channels pass through `core::hint::black_box`
//! (see `emit::rows`).
//!
//! Summation order: `dL/dk` and `dL/db` per column `j` over rows `i`, then over `j` pairwise;
//! `dL/dx` per kernel column `b` over `a, o`, then over `b`.
//!
//! [`Dx::LayerRows`]: crate::plan::Dx::LayerRows
//! [`Blocks::taps_per_pass`]: crate::plan::Blocks::taps_per_pass

use super::{local_at, v, whole, zero, Layer, A, C, I, J, O, P, Q};

/// Columns of one vector on the widest tier (AVX-512, `f32`): the lane sums of `dL/dk` and
/// `dL/db` span a multiple of it.
pub(in crate::emit) const ROW_VECTOR: usize = crate::plan::ROW_LANES;
use crate::ir::{Array, Expr, Index, Local, Stmt, Term, Var};

/// The vector of [`ROW_VECTOR`] lanes of the lane sums of `dL/db`.
const H: Var = Var("h");

impl Layer<'_> {
    /// `dL/dx`, `dL/dk` and `dL/db` (the padded `dxp`, `dk`, `db`) over the rows of the layer,
    /// `dL/dk` at most `taps` kernel columns per pass over the rows.
    pub(super) fn over_rows(&mut self, taps: usize) -> (usize, usize, usize) {
        let dxp = self.dx_over_rows();
        // The lane sums of `dL/dk` and `dL/db` span a multiple of `ROW_VECTOR` columns:
        // `delta`'s rows zero-padded to that width, and the padded input wide enough for them.
        let s = self.s;
        let lanes = s.ow.next_multiple_of(ROW_VECTOR);
        let xp = self.padded_input(s.wp.max((lanes - 1) * s.sw + (s.kw - 1) * s.dw + 1));
        let delta = self.lane_delta(lanes);
        let dk = self.dk_over_rows(xp, delta, lanes, taps);
        let db = self.db_over_rows(delta, lanes);
        (dxp, dk, db)
    }

    /// `delta` itself for rows of a multiple of `ROW_VECTOR` columns, else its rows copied into
    /// zero rows of `lanes` columns.
    fn lane_delta(&mut self, lanes: usize) -> Array {
        let s = self.s;
        if lanes == s.ow {
            return Array::Delta;
        }
        let dp = Array::Local(self.zeroed("dp", self.planes(s.co, s.oh, lanes)));
        let copy = Stmt::copy(
            self.at(dp, v(O), vec![v(I), v(J)]),
            self.at(Array::Delta, v(O), vec![v(I), v(J)]),
        );
        let rows = vec![Stmt::each(I, s.oh, vec![Stmt::each(J, s.ow, vec![copy])])];
        let body = match self.channels {
            true => vec![Stmt::each(O, s.co, rows)],
            false => rows,
        };
        self.body.extend(body);
        dp
    }

    /// `dxp[c][p][..]` one padded input row `p` at a time.
    fn dx_over_rows(&mut self) -> usize {
        let s = self.s;
        let dxp = self.zeroed("dxp", self.planes(s.ci, s.hp, s.wp));
        let sums = self.local(Local::bound("s", vec![s.kw, s.ow]));
        let rows = self.local(Local::bound("r", vec![s.kw, s.wp]));
        let w = self.local(Local::bound("w", vec![]));
        let at = |local: usize, b: usize, col: Index| local_at(local, vec![Index::at(b), col]);
        // s[b][j] += delta[o][i][j] * k[o][c][a][b], per b.
        let partials = (0..s.kw)
            .flat_map(|b| {
                let weight = self.kernel(Array::K, [v(O), v(C), v(A), Index::at(b)]);
                let d = self.at(Array::Delta, v(O), vec![v(I), v(J)]);
                let update = Stmt::mul_add(at(sums, b, v(J)), d, whole(w));
                [
                    Stmt::Let {
                        local: w,
                        value: Expr::read(weight),
                    },
                    Stmt::each(J, s.ow, vec![update]),
                ]
            })
            .collect();
        let reaching = Stmt::Solve {
            var: I,
            target: v(P),
            offset: Index::at(0).plus(A, s.dh),
            stride: s.sh,
            extent: s.oh,
            body: self.over(O, s.co, partials),
        };
        let mut per_c = vec![zero(sums), Stmt::counted(A, s.kh, true, vec![reaching])];
        per_c.push(zero(rows));
        // r[b][j*SW + b*DW] = s[b][j]
        per_c.extend((0..s.kw).map(|b| {
            let to = at(rows, b, Index::at(b * s.dw).plus(J, s.sw));
            Stmt::each(J, s.ow, vec![Stmt::copy(to, at(sums, b, v(J)))])
        }));
        // dxp[c][p][q] = r[0][q] + r[1][q] + ..
        let added = (0..s.kw).map(|b| Term::Read(at(rows, b, v(Q))));
        let store = Stmt::Set {
            to: self.at(Array::Local(dxp), v(C), vec![v(P), v(Q)]),
            value: Expr::plain(added.collect()),
        };
        per_c.push(Stmt::each(Q, s.wp, vec![store]));
        let per_p = self.over(C, s.ci, per_c);
        self.body.push(Stmt::each(P, s.hp, per_p));
        dxp
    }

    /// `dk`, two output channels at a time (then the last one alone) for channel-first layers,
    /// `taps` kernel columns per pass.
    fn dk_over_rows(&mut self, xp: Array, delta: Array, lanes: usize, taps: usize) -> usize {
        let s = self.s;
        let dk = self.zeroed("dk", self.shapes.k.dims().to_vec());
        let x = self.local(Local::bound("v", vec![]));
        self.over_channel_pairs(|layer, n, first| {
            let sums = layer.local(Local::bound("s", vec![n, s.kw.min(taps), lanes]));
            layer.dk_block([xp, delta], dk, x, sums, n, first)
        });
        dk
    }

    /// `dk[first + m][c][a][b]` for `m` in `0..n`: per input channel and kernel row, the lane
    /// sums `s[m][b][j]` over every output row (as many taps per pass as `sums` has rows),
    /// added across lanes once per tap.
    fn dk_block(
        &self,
        [xp, delta]: [Array; 2],
        dk: usize,
        x: usize,
        sums: usize,
        n: usize,
        first: Index,
    ) -> Vec<Stmt> {
        let s = self.s;
        let [taps, lanes] = [1, 2].map(|d| self.local_dims(sums)[d]);
        let o = |m: usize| first.clone().offset(m);
        let mut per_a = Vec::new();
        for group in (0..s.kw).collect::<Vec<_>>().chunks(taps) {
            // Tap `b` of the group in row `b - group[0]` of the sums.
            let slot = |b: usize| Index::at(b - group[0]);
            let taps = group.iter().map(|&b| {
                let col = Index::at(b * s.dw).plus(J, s.sw);
                let read = self.at(xp, v(C), vec![s.row(), col]);
                let mut body = vec![Stmt::Let {
                    local: x,
                    value: Expr::read(read),
                }];
                body.extend((0..n).map(|m| {
                    let sum = local_at(sums, vec![Index::at(m), slot(b), v(J)]);
                    let d = self.at(delta, o(m), vec![v(I), v(J)]);
                    Stmt::mul_add(sum, d, whole(x))
                }));
                Stmt::each(J, lanes, body)
            });
            let totals = (0..n).flat_map(|m| group.iter().map(move |&b| (m, b)));
            let totals = totals.map(|(m, b)| Stmt::Set {
                to: self.kernel(Array::Local(dk), [o(m), v(C), v(A), Index::at(b)]),
                value: self.across(sums, vec![Index::at(m), slot(b)]),
            });
            per_a.extend([zero(sums), Stmt::each(I, s.oh, taps.collect())]);
            per_a.extend(totals);
        }
        self.over(C, s.ci, vec![Stmt::counted(A, s.kh, true, per_a)])
    }

    /// The lane sums `sums[at..]` of the output row's columns added in order (`total` of the
    /// whole row when it has no more lanes than columns).
    fn across(&self, sums: usize, at: Vec<Index>) -> Expr {
        let row = local_at(sums, at);
        Expr::plain(vec![
            match self.local_dims(sums).last() == Some(&self.s.ow) {
                true => Term::Total(row),
                false => Term::Leading(row, self.s.ow),
            },
        ])
    }

    /// `db[o]`: lane sums of the delta rows, added across lanes. The lane sums are formed one
    /// vector of [`ROW_VECTOR`] lanes at a time over all rows (the counter of the loop over the
    /// vectors opaque): over whole rows of 32 lanes, LLVM unrolled the loop over the lanes and
    /// its SLP vectoriser added LeNet-5's first layer's rows two lanes at a time
    /// (`BENCHMARKS.md`, LeNet-5). Each lane's sum over the rows is the same either way.
    fn db_over_rows(&mut self, delta: Array, lanes: usize) -> usize {
        let s = self.s;
        let db = self.zeroed("db", self.shapes.b.dims().to_vec());
        let sums = self.local(Local::bound("s", vec![lanes]));
        let vectors = lanes / ROW_VECTOR;
        let lane = match vectors {
            1 => v(J),
            _ => v(J).plus(H, ROW_VECTOR),
        };
        let d = self.at(delta, v(O), vec![v(I), lane.clone()]);
        let add = Stmt::add(local_at(sums, vec![lane]), d);
        let rows = Stmt::each(I, s.oh, vec![Stmt::each(J, ROW_VECTOR, vec![add])]);
        let per_o = vec![
            zero(sums),
            match vectors {
                1 => rows,
                _ => Stmt::counted(H, vectors, true, vec![rows]),
            },
            Stmt::Set {
                to: self.at(Array::Local(db), v(O), vec![]),
                value: self.across(sums, vec![]),
            },
        ];
        let body = self.over(O, s.co, per_o);
        self.body.extend(body);
        db
    }
}
