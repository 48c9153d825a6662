//! The companion's `forward` as IR ([`crate::ir`]): row updates with the kernel taps written
//! out, or blocks of output columns updated over every output channel at once.

use super::super::shape::Shapes;
use crate::ir::{
    vars, Array, Expr, Index, KernelLayout, Layouts, Local, Place, Program, Returns, Stmt,
};
use crate::plan::{Blocks, LANES, WRITTEN_OUT_ROW};
use crate::{ChannelLayout, Spec};

/// The companion's `forward` (`spec` is the row spec): row updates with the kernel taps
/// written out, `acc[j] += x[c][a*DH][j*SW + b*DW] * k[o][c][a][b]` over a row of
/// accumulators that starts at the bias; or, vectorised over output channels ([`over_channels`]),
/// the body of `forward_transposed` in `blocks`.
pub(in crate::emit) fn forward(spec: &Spec, shapes: &Shapes, blocks: Blocks) -> Program {
    if crate::plan::rows_forward_over_channels(spec) {
        return over_channels(spec, shapes, blocks);
    }
    let ([_, ow], [kh, kw], [_, sw], [dh, dw], ci, co) = sizes(&spec.geometry);
    let channels = spec.layout == ChannelLayout::ChannelFirst;
    let (o, c) = (vars::O, vars::C);
    let mut locals = vec![
        Local::zeroed("u", shapes.u.dims().to_vec()),
        Local::bound("acc", vec![ow]),
        Local::bound("w", vec![]),
    ];
    let (u, acc, w) = (0, 1, 2);
    let at = |array, index| Place { array, index };
    // `xc = &x[c]` and `kc = &k[o][c]` (the operands themselves for plain layers).
    let (xc, kc) = match channels {
        true => {
            // A channel of `x`: its rows and columns.
            locals.push(Local::view("xc", shapes.x.dims()[1..].to_vec()));
            locals.push(Local::view("kc", vec![kh, kw]));
            (Array::Local(3), Array::Local(4))
        }
        false => (Array::X, Array::K),
    };
    let mut taps = Vec::new();
    for a in 0..kh {
        for b in 0..kw {
            let weight = at(kc, vec![Index::at(a), Index::at(b)]);
            taps.push(Stmt::Let {
                local: w,
                value: Expr::read(weight),
            });
            // acc[j] += xc[a*DH][j*SW + b*DW] * w
            let update = |j: Index, col: Index| {
                let x = at(xc, vec![Index::at(a * dh), col]);
                Stmt::mul_add(
                    at(Array::Local(acc), vec![j]),
                    x,
                    at(Array::Local(w), vec![]),
                )
            };
            match ow <= WRITTEN_OUT_ROW {
                true => {
                    taps.extend((0..ow).map(|j| update(Index::at(j), Index::at(j * sw + b * dw))))
                }
                false => {
                    let j = vars::J;
                    let col = Index::at(b * dw).plus(j, sw);
                    taps.push(Stmt::each(j, ow, vec![update(Index::var(j), col)]));
                }
            }
        }
    }
    let body = match channels {
        true => {
            let (vo, vc) = (Index::var(o), Index::var(c));
            let views = [
                Stmt::View {
                    local: 3,
                    of: at(Array::X, vec![vc.clone()]),
                    mutable: false,
                },
                Stmt::View {
                    local: 4,
                    of: at(Array::K, vec![vo.clone(), vc]),
                    mutable: false,
                },
            ];
            let fill = Stmt::Fill {
                local: acc,
                value: Expr::read(at(Array::B, vec![vo.clone()])),
            };
            let store = Stmt::copy(
                at(Array::Local(u), vec![vo, Index::at(0)]),
                at(Array::Local(acc), vec![]),
            );
            let per_c = [views.to_vec(), taps].concat();
            vec![Stmt::counted(
                o,
                co,
                co < LANES,
                vec![fill, Stmt::counted(c, ci, ci < LANES, per_c), store],
            )]
        }
        false => {
            let fill = Stmt::Fill {
                local: acc,
                value: Expr::read(at(Array::B, vec![])),
            };
            let store = Stmt::copy(
                at(Array::Local(u), vec![Index::at(0)]),
                at(Array::Local(acc), vec![]),
            );
            [vec![fill], taps, vec![store]].concat()
        }
    };
    program(shapes, locals, body, KernelLayout::Kernel)
}

/// The row's output `[1, OW]`, the kernel, the stride, the dilation and the channels.
#[allow(clippy::type_complexity)]
fn sizes(g: &crate::Geometry) -> ([usize; 2], [usize; 2], [usize; 2], [usize; 2], usize, usize) {
    (
        g.output(),
        g.kernel(),
        g.stride(),
        g.dilation(),
        g.in_channels(),
        g.out_channels(),
    )
}

fn program(shapes: &Shapes, locals: Vec<Local>, body: Vec<Stmt>, k: KernelLayout) -> Program {
    Program {
        operands: [&shapes.x, &shapes.k, &shapes.b, &shapes.u].map(|o| o.dims().to_vec()),
        named: Vec::new(),
        locals,
        body,
        layouts: Layouts {
            k,
            ..Layouts::default()
        },
        returns: Returns::Forward { u: 0 },
    }
}

/// The forward row vectorised over output channels, for layers with at least [`LANES`] of them
/// (the body of `forward_transposed`, whose kernel is transposed: `k[c][a][b][o]`): each output
/// column `j` of a block keeps the accumulators of all output channels,
/// `acc[j][o] += k[c][a][b][o] * x[c][a*DH][j*SW + b*DW]` (one input element times a contiguous
/// kernel vector), the taps and the block's columns written out, then `u[o][0][j] = acc[j][o]`
/// (a transpose the lowering writes as passes of interleaving where the block is the whole row:
/// [`crate::ir::lower::transpose`]).
/// Blocks hold as many accumulators as `blocks` says (they stay in registers). The accumulators
/// pass through `core::hint::black_box` before the transposed store: otherwise LLVM's SLP
/// vectoriser may pack the arithmetic along the stored columns instead of along the channels,
/// depending on the block's length.
fn over_channels(spec: &Spec, shapes: &Shapes, blocks: Blocks) -> Program {
    let ([_, ow], [kh, kw], [_, sw], [dh, dw], ci, co) = sizes(&spec.geometry);
    let (o, c, j) = (vars::O, vars::C, vars::J);
    let mut locals = vec![
        Local::zeroed("u", shapes.u.dims().to_vec()),
        Local::bound("v", vec![]),
        Local::view("xc", shapes.x.dims()[1..].to_vec()),
        Local::view("kc", vec![kh, kw, co]),
        Local::view("w", vec![co]),
        Local::view("t", vec![co]),
    ];
    let (u, v, xc, kc, w, t) = (0, 1, 2, 3, 4, 5);
    let at = |array, index| Place { array, index };
    let view = |local, of, mutable| Stmt::View { local, of, mutable };
    let mut body = Vec::new();
    for (start, len) in blocks.columns(ow, co) {
        locals.push(Local::bound("acc", vec![len, co]));
        let acc = locals.len() - 1;
        let mut per_c = vec![
            view(xc, at(Array::X, vec![Index::var(c)]), false),
            view(kc, at(Array::K, vec![Index::var(c)]), false),
        ];
        for a in 0..kh {
            for b in 0..kw {
                let weights = at(Array::Local(kc), vec![Index::at(a), Index::at(b)]);
                per_c.push(view(w, weights, false));
                for col in start..start + len {
                    let x = at(
                        Array::Local(xc),
                        vec![Index::at(a * dh), Index::at(col * sw + b * dw)],
                    );
                    let update = Stmt::mul_add(
                        at(Array::Local(t), vec![Index::var(o)]),
                        at(Array::Local(w), vec![Index::var(o)]),
                        at(Array::Local(v), vec![]),
                    );
                    per_c.push(Stmt::Block(vec![
                        Stmt::Let {
                            local: v,
                            value: Expr::read(x),
                        },
                        view(t, at(Array::Local(acc), vec![Index::at(col - start)]), true),
                        Stmt::each(o, co, vec![update]),
                    ]));
                }
            }
        }
        let store = Stmt::copy(
            at(
                Array::Local(u),
                vec![Index::var(o), Index::at(0), Index::var(j).offset(start)],
            ),
            at(Array::Local(acc), vec![Index::var(j), Index::var(o)]),
        );
        body.push(Stmt::Block(vec![
            Stmt::Fill {
                local: acc,
                value: Expr::read(at(Array::B, vec![])),
            },
            Stmt::counted(c, ci, ci < LANES, per_c),
            Stmt::Opaque { local: acc },
            Stmt::each(o, co, vec![Stmt::each(j, len, vec![store])]),
        ]));
    }
    let mut program = program(shapes, locals, body, KernelLayout::OutputChannelsInner);
    program.operands[1] = vec![ci, kh, kw, co];
    program
}
