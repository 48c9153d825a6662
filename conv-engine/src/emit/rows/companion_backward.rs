//! The companion's `backward` as IR ([`crate::ir`]): `dL/dx` in the matrix form (masked row
//! updates), `dL/dk` and `dL/db` as dot products in interleaved partial sums or over every
//! output channel at once.

use super::super::shape::Shapes;
use crate::ir::vars::{C, J, O, Q};
use crate::ir::{
    Array, Binding, Counter, Expr, Index, KernelLayout, Layouts, Local, Place, Program, Returns,
    Stmt, Term, Var,
};
use crate::plan::LANES;
use crate::{ChannelLayout, Spec};

/// The program under construction.
struct Builder {
    channels: bool,
    operands: [Vec<usize>; 4],
    locals: Vec<Local>,
    body: Vec<Stmt>,
}

impl Builder {
    fn local(&mut self, local: Local) -> usize {
        self.locals.push(local);
        self.locals.len() - 1
    }

    /// `let name = &of;`: a view of the sub-array at `of` and the statement binding it; the
    /// array itself, and no statement, when `of` is a whole array (plain layers).
    fn view(&mut self, name: &str, of: Place) -> (Array, Option<Stmt>) {
        if of.index.is_empty() {
            return (of.array, None);
        }
        let dims = match of.array {
            Array::Local(n) => self.locals[n].dims.clone(),
            operand => self.operands[match operand {
                Array::X => 0,
                Array::K => 1,
                Array::B => 2,
                _ => 3,
            }]
            .clone(),
        };
        let local = self.local(Local::view(name, dims[of.index.len()..].to_vec()));
        let bind = Stmt::View {
            local,
            of,
            mutable: false,
        };
        (Array::Local(local), Some(bind))
    }

    /// `array[channel..][rest..]`, without the channel indices for plain layers.
    fn at(&self, array: Array, channel: &[Index], rest: Vec<Index>) -> Place {
        let index = match self.channels {
            true => channel.iter().cloned().chain(rest).collect(),
            false => rest,
        };
        Place { array, index }
    }

    /// `body` in a loop over `n` channels (its counter opaque below [`LANES`] channels), or
    /// alone for plain layers.
    fn over(&self, var: Var, n: usize, body: Vec<Stmt>) -> Vec<Stmt> {
        match self.channels {
            true => vec![Stmt::counted(var, n, n < LANES, body)],
            false => body,
        }
    }
}

/// `array[index..]`.
fn local_or(array: Array, index: Vec<Index>) -> Place {
    Place { array, index }
}

fn local(n: usize, index: Vec<Index>) -> Place {
    Place {
        array: Array::Local(n),
        index,
    }
}

/// `s[l] += term(j + l)` for `j` in `0..n`, lane `l = j % LANES`: a loop over whole chunks of
/// `LANES` with the lanes written out (independent statements LLVM packs into vectors), then the
/// remaining `n % LANES` terms with constant indices.
fn lanes(s: usize, n: usize, term: impl Fn(Index) -> Term) -> Vec<Stmt> {
    let whole = n - n % LANES;
    let add = |lane: usize, j: Index| Stmt::Add {
        to: local(s, vec![Index::at(lane)]),
        value: Expr::plain(vec![term(j)]),
    };
    let mut out = Vec::new();
    if whole > 0 {
        let chunk = (0..LANES)
            .map(|l| add(l, Index::var(J).offset(l)))
            .collect();
        out.push(Stmt::Loop {
            var: J,
            extent: whole,
            step: LANES,
            counter: Counter::Plain,
            body: chunk,
        });
    }
    out.extend((whole..n).map(|j| add(j % LANES, Index::at(j))));
    out
}

/// The companion's `backward` (`spec` is the row spec), or the body of `backward_parts` when
/// `dL/dk` is vectorised over output channels (its `dL/dk` then has output channels
/// innermost).
///
/// - `dL/db[o]`: the delta row in [`LANES`] interleaved partial sums, added pairwise.
/// - `dL/dk[o][c][a][b]`: the dot product of the delta row with window row `a*DH` from column
///   `b*DW` (stride `SW`), in the same partial sums; or, vectorised over output channels, with
///   the delta row transposed to `dt[j][o]`, `t[a][b][o] += dt[j][o] * x[c][a*DH][j*SW + b*DW]`
///   (no horizontal sums), kept as `dk[c] = t`. With fewer output channels or short rows the
///   transposes outweigh the sums saved, so those keep the dot products (the plan's rule).
/// - `dL/dx`, the matrix form: `dx[c][a*DH][q] = sum_o sum_b keep(b, q) *
///   dpad[o][q + LEAD - b*DW] * k[o][c][a][b]`, with `dpad[o][LEAD + j*SW] = delta[o][0][j]`,
///   `LEAD = (KW-1)*DW`, and `keep` the mask of the products that read a delta element: a
///   product that reads a zero of that padding or dilation is masked to `+0` (its bits and-ed
///   with a constant, `KEEP`), so `dL/dx` holds the chain rule's products and no others.
pub(in crate::emit) fn backward(spec: &Spec, shapes: &Shapes) -> Program {
    let g = &spec.geometry;
    let ([_, ow], [kh, kw], [_, wp], [_, sw], [dh, dw]) =
        (g.output(), g.kernel(), g.input(), g.stride(), g.dilation());
    let (ci, co) = (g.in_channels(), g.out_channels());
    let over_channels = crate::plan::companion_dk_over_channels(spec);
    let mut p = Builder {
        channels: spec.layout == ChannelLayout::ChannelFirst,
        operands: [&shapes.x, &shapes.k, &shapes.b, &shapes.u].map(|o| o.dims().to_vec()),
        locals: Vec::new(),
        body: Vec::new(),
    };
    let dk_dims = match over_channels {
        true => vec![ci, kh, kw, co],
        false => shapes.k.dims().to_vec(),
    };
    let dk = p.local(Local::zeroed("dk", dk_dims));
    let db = p.local(Local::zeroed("db", shapes.b.dims().to_vec()));
    let s = p.local(Local::bound("s", vec![LANES]));
    let (vo, vc) = (Index::var(O), Index::var(C));
    let delta = |p: &Builder, j: Index| {
        p.at(
            Array::Delta,
            std::slice::from_ref(&vo),
            vec![Index::at(0), j],
        )
    };
    // `d = &delta[o][0]`, the delta row of output channel `o`.
    let row = p.at(Array::Delta, std::slice::from_ref(&vo), vec![Index::at(0)]);
    let (d_row, bind_d) = p.view("d", row);
    let d = |j: Index| local_or(d_row, vec![j]);
    let zero = || Expr::plain(Vec::new());
    let fill = |local| Stmt::Fill {
        local,
        value: zero(),
    };

    // dL/db
    let mut per_o: Vec<Stmt> = bind_d.into_iter().collect();
    per_o.push(fill(s));
    per_o.extend(lanes(s, ow, |j| Term::Read(d(j))));
    per_o.push(Stmt::Set {
        to: p.at(Array::Local(db), std::slice::from_ref(&vo), vec![]),
        value: Expr::plain(vec![Term::Pairwise(local(s, vec![]))]),
    });
    if over_channels {
        let body = p.over(O, co, per_o);
        p.body.extend(body);
        let dt = p.local(Local::zeroed("dt", vec![ow, co]));
        let t = p.local(Local::bound("t", vec![kh, kw, co]));
        let v = p.local(Local::bound("v", vec![]));
        let transpose = Stmt::copy(
            local(dt, vec![Index::var(J), vo.clone()]),
            delta(&p, Index::var(J)),
        );
        p.body
            .push(Stmt::each(O, co, vec![Stmt::each(J, ow, vec![transpose])]));
        let (xc, bind_xc) = p.view(
            "xc",
            Place {
                array: Array::X,
                index: vec![vc.clone()],
            },
        );
        let (dj, bind_dj) = p.view("d", local(dt, vec![Index::var(J)]));
        let mut taps: Vec<Stmt> = bind_dj.into_iter().collect();
        for a in 0..kh {
            for b in 0..kw {
                let col = Index::at(b * dw).plus(J, sw);
                let x = local_or(xc, vec![Index::at(a * dh), col]);
                taps.push(Stmt::Let {
                    local: v,
                    value: Expr::read(x),
                });
                let to = local(t, vec![Index::at(a), Index::at(b), vo.clone()]);
                let d = local_or(dj, vec![vo.clone()]);
                taps.push(Stmt::each(
                    O,
                    co,
                    vec![Stmt::mul_add(to, d, local(v, vec![]))],
                ));
            }
        }
        let mut per_c: Vec<Stmt> = bind_xc.into_iter().collect();
        per_c.extend([
            fill(t),
            Stmt::each(J, ow, taps),
            Stmt::copy(local(dk, vec![vc.clone()]), local(t, vec![])),
        ]);
        p.body.push(Stmt::counted(C, ci, ci < LANES, per_c));
    } else {
        let gk = p.local(Local::bound("gk", vec![kh, kw]));
        let xc_of = p.at(Array::X, std::slice::from_ref(&vc), vec![]);
        let (xc, bind_xc) = p.view("xc", xc_of);
        let mut per_c: Vec<Stmt> = bind_xc.into_iter().collect();
        per_c.push(fill(gk));
        for a in 0..kh {
            for b in 0..kw {
                per_c.push(fill(s));
                per_c.extend(lanes(s, ow, |j| {
                    let col = Index {
                        constant: j.constant * sw + b * dw,
                        terms: j.terms.iter().map(|&(v, c)| (v, c * sw)).collect(),
                    };
                    let x = local_or(xc, vec![Index::at(a * dh), col]);
                    Term::Product(d(j), x)
                }));
                per_c.push(Stmt::Set {
                    to: local(gk, vec![Index::at(a), Index::at(b)]),
                    value: Expr::plain(vec![Term::Pairwise(local(s, vec![]))]),
                });
            }
        }
        per_c.push(Stmt::copy(
            p.at(Array::Local(dk), &[vo.clone(), vc.clone()], vec![]),
            local(gk, vec![]),
        ));
        let mut body = per_o;
        body.extend(p.over(C, ci, per_c));
        let body = p.over(O, co, body);
        p.body.extend(body);
    }

    // dL/dx, the matrix form.
    let lead = (kw - 1) * dw;
    let keep: Vec<bool> = (0..kw)
        .flat_map(|b| {
            (0..wp).map(move |q| {
                q.checked_sub(b * dw)
                    .is_some_and(|off| off % sw == 0 && off / sw < ow)
            })
        })
        .collect();
    let keep = p.local(Local {
        name: "KEEP".into(),
        dims: vec![kw, wp],
        binding: Binding::Mask(keep),
    });
    let dpad_dims = match p.channels {
        true => vec![co, wp + lead],
        false => vec![wp + lead],
    };
    let dpad = p.local(Local::zeroed("dpad", dpad_dims));
    let to = p.at(
        Array::Local(dpad),
        std::slice::from_ref(&vo),
        vec![Index::at(lead).plus(J, sw)],
    );
    let fill_dpad = Stmt::copy(to, delta(&p, Index::var(J)));
    let fill_dpad = match p.channels {
        true => Stmt::each(O, co, vec![Stmt::each(J, ow, vec![fill_dpad])]),
        false => Stmt::each(J, ow, vec![fill_dpad]),
    };
    p.body.push(fill_dpad);
    let dx = p.local(Local::zeroed("dx", shapes.x.dims().to_vec()));
    let acc = p.local(Local::bound("acc", vec![wp]));
    let w = p.local(Local::bound("w", vec![]));
    // `(dp, kc) = (&dpad[o], &k[o][c])`.
    let dp_of = p.at(Array::Local(dpad), std::slice::from_ref(&vo), vec![]);
    let (dp, bind_dp) = p.view("dp", dp_of);
    let kc_of = p.at(Array::K, &[vo.clone(), vc.clone()], vec![]);
    let (kc, bind_kc) = p.view("kc", kc_of);
    let mut rows = Vec::new();
    for a in 0..kh {
        let mut taps: Vec<Stmt> = bind_dp.iter().chain(&bind_kc).cloned().collect();
        for b in 0..kw {
            let weight = local_or(kc, vec![Index::at(a), Index::at(b)]);
            taps.push(Stmt::Let {
                local: w,
                value: Expr::read(weight),
            });
            let read = local_or(dp, vec![Index::var(Q).offset(lead - b * dw)]);
            let mask = local(keep, vec![Index::at(b), Index::var(Q)]);
            let update = Stmt::Add {
                to: local(acc, vec![Index::var(Q)]),
                value: Expr::plain(vec![Term::Masked(read, local(w, vec![]), mask)]),
            };
            taps.push(Stmt::each(Q, wp, vec![update]));
        }
        rows.push(fill(acc));
        rows.extend(p.over(O, co, taps));
        let row = p.at(
            Array::Local(dx),
            std::slice::from_ref(&vc),
            vec![Index::at(a * dh)],
        );
        rows.push(Stmt::copy(row, local(acc, vec![])));
    }
    let rows = p.over(C, ci, rows);
    p.body.extend(rows);
    Program {
        operands: [&shapes.x, &shapes.k, &shapes.b, &shapes.u].map(|o| o.dims().to_vec()),
        named: Vec::new(),
        locals: p.locals,
        body: p.body,
        layouts: Layouts {
            dk: match over_channels {
                true => KernelLayout::OutputChannelsInner,
                false => KernelLayout::Kernel,
            },
            ..Layouts::default()
        },
        returns: Returns::Backward { dx, dk, db },
    }
}
