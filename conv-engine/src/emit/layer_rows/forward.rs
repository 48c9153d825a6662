//! The layer-level `forward` over the rows of the whole layer ([`Forward::LayerRows`]), beside
//! the layer-level `backward` over rows on the AVX2 and AVX-512 tiers: per output row `i` and
//! group of output channels, the rows of sums `s[m][j] = b[o + m]`, then for every input
//! channel `c`, kernel row `a` and column `b` (written out) `s[m][j] += xp[c][i*SH +
//! a*DH][j*SW + b*DW] * k[o + m][c][a][b]`, one load of an input element feeding every channel
//! of the group; then the output row's columns of `s` stored into `u`. A group holds as many
//! channels as the tier's accumulators keep rows of sums ([`Blocks::channels_per_row`]: three
//! rows of 32 lanes on AVX2, six on AVX-512, for LeNet-5's first layer): with two, the few
//! chains of fused multiply-adds waited on each other's latency (`BENCHMARKS.md`, LeNet-5).
//!
//! The rows of sums span the output row rounded up to a multiple of [`ROW_VECTOR`] columns, over
//! a padded input wide enough for them: LeNet-5's first layer's rows of 28 columns take two
//! 16-lane vectors per tap instead of a 16-, an 8- and a 4-lane one (the one-row companion's
//! written-out row). The columns past the output row are never stored.
//!
//! Summation order: the bias, then the taps in the order `c, a, b`, as in the companion's
//! `forward` (the same bits).
//!
//! [`Forward::LayerRows`]: crate::plan::Forward::LayerRows
//! [`Blocks::channels_per_row`]: crate::plan::Blocks::channels_per_row

use super::over_rows::ROW_VECTOR;
use super::{local_at, v, whole, Layer, A, C, I, J};
use crate::ir::{Array, Expr, Index, Local, Stmt};
use crate::plan::Blocks;

impl Layer<'_> {
    /// `u`, as many output channels at a time as `blocks` keeps rows of sums for (then the
    /// rest together) for channel-first layers.
    pub(super) fn forward_over_rows(&mut self, blocks: Blocks) -> usize {
        let s = self.s;
        let lanes = s.ow.next_multiple_of(ROW_VECTOR);
        let xp = self.padded_input(s.wp.max((lanes - 1) * s.sw + (s.kw - 1) * s.dw + 1));
        let u = self.zeroed("u", self.shapes.u.dims().to_vec());
        let x = self.local(Local::bound("v", vec![]));
        let group = blocks.channels_per_row(lanes, s.co);
        self.over_channel_groups(group, |layer, n, first| {
            layer.forward_block((xp, u, x), lanes, n, first)
        });
        u
    }

    /// `u[first + m]` for `m` in `0..n`: per output row, the rows of `lanes` sums of the `n`
    /// output channels updated by every tap, then stored.
    fn forward_block(
        &mut self,
        (xp, u, x): (Array, usize, usize),
        lanes: usize,
        n: usize,
        first: Index,
    ) -> Vec<Stmt> {
        let s = self.s;
        let sums: Vec<usize> = (0..n)
            .map(|_| self.local(Local::bound("s", vec![lanes])))
            .collect();
        let weights: Vec<usize> = (0..n)
            .map(|_| self.local(Local::bound("w", vec![])))
            .collect();
        let o = |m: usize| first.clone().offset(m);
        let sum = |m: usize| local_at(sums[m], vec![v(J)]);
        // s[m] = [b[o + m]; lanes]
        let mut per_i: Vec<Stmt> = (0..n)
            .map(|m| Stmt::Fill {
                local: sums[m],
                value: Expr::read(self.at(Array::B, o(m), vec![])),
            })
            .collect();
        // s[m][j] += xp[c][i*SH + a*DH][j*SW + b*DW] * k[o + m][c][a][b], per b.
        let taps = (0..s.kw)
            .flat_map(|b| {
                let col = Index::at(b * s.dw).plus(J, s.sw);
                let mut body = vec![Stmt::Let {
                    local: x,
                    value: Expr::read(self.at(xp, v(C), vec![s.row(), col])),
                }];
                body.extend((0..n).map(|m| Stmt::mul_add(sum(m), whole(x), whole(weights[m]))));
                let weights = (0..n).map(|m| Stmt::Let {
                    local: weights[m],
                    value: Expr::read(self.kernel(Array::K, [o(m), v(C), v(A), Index::at(b)])),
                });
                weights
                    .chain([Stmt::each(J, lanes, body)])
                    .collect::<Vec<_>>()
            })
            .collect();
        per_i.extend(self.over(C, s.ci, vec![Stmt::counted(A, s.kh, true, taps)]));
        // u[o + m][i][j] = s[m][j], for the output row's columns.
        per_i.extend((0..n).map(|m| {
            let to = self.at(Array::Local(u), o(m), vec![v(I), v(J)]);
            Stmt::each(J, s.ow, vec![Stmt::copy(to, sum(m))])
        }));
        vec![Stmt::each(I, s.oh, per_i)]
    }
}
