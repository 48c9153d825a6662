//! The dense layer's `forward` and `backward` as loop IR ([`crate::ir`]), over the operands
//! `x [N]`, `w [M][N]` (the IR's kernel `k`), `b [M]` and `delta [M]`:
//!
//! - `forward`: per output `o`, the dot product of row `o` of `w` with `x` in [`LANES`]
//!   independent partial sums (`s[l]` sums the products of inputs `c + l`, `c` stepping by
//!   `LANES`; on AVX-512 16, or 8 where 16 would leave a remainder and 8 does not, see
//!   [`Form::lanes_for`]), added pairwise (in the fused forms, in a second loop over the
//!   outputs, see [`forward_in`]), then `u[o] = b[o] + Σ s + ` the remaining products, written
//!   out. Layers with fewer inputs than lanes write every product out.
//! - `backward`: `dL/dx = Σ_o delta[o] * w[o][·]`, one contiguous row update per output (`o`
//!   outer, `i` inner); `dL/dw = delta xᵀ`, the outer product, row by row in the same loop;
//!   `dL/db = delta`, a copy.
//! - `backward_into`: `dL/dx` as `backward`'s, returned; `dL/dw` and `dL/db` added into the
//!   caller's `&mut` buffers `dw` and `db` (`dw[o][i] += delta[o] * x[i]`, `db[o] += delta[o]`,
//!   in the same loop over outputs), so no gradient array is built, returned and added again.
//!   The `dw` update is a product then a sum in every form: fusing it would read the buffer's
//!   prior value into the sum, which is no part of the gradient (and the symbolic proof rejects
//!   it).
//! - `backward_deferred`: `backward_into` without `dL/dw`: `dL/dx` returned, `dL/db` added into
//!   the caller's `db`; the caller forms `dL/dw = delta xᵀ` itself (a trainer, once for a
//!   batch's samples).
//! - `backward_sgd`: `backward_into`'s program with the weights and bias themselves as the
//!   buffers, each addition lowered as a step of gradient descent (`w[o][i] -= rate * (delta[o]
//!   * x[i])`); row `o` of `w` is read for `dL/dx` before its update, which the proof checks.

use crate::ir::vars::O;
use crate::ir::{
    Array, Chain, Counter, Expr, Index, Layouts, Local, MulAdd, Place, Program, Returns, Stmt,
    Term, Var,
};
use crate::tier::Tier;

/// Independent partial sums per dot product in `forward`: 8 `f32`s fill an AVX register (two SSE
/// registers), so the chunk's products vectorise and the sums carry no dependency from one
/// product to the next.
pub(crate) const LANES: usize = 8;

/// How a tier's code is written: the partial sums of `forward`, and whether the multiply-adds
/// are fused (`conv_runtime::mul_add::fused`, one instruction where the tier has FMA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Form {
    /// Partial sums per dot product (a power of two).
    pub lanes: usize,
    /// Whether each product is fused into its running sum.
    pub fused: bool,
}

impl Form {
    /// The form of `tier`: the portable code as the `const fn`s (8 lanes, a product and a
    /// sum), AVX2 fused in 8 lanes (one 256-bit register of `f32`), AVX-512 fused in 16 (one
    /// 512-bit register).
    pub(crate) const fn of(tier: Tier) -> Self {
        match tier {
            Tier::Portable => Self {
                lanes: LANES,
                fused: false,
            },
            Tier::Avx2 => Self {
                lanes: 8,
                fused: true,
            },
            Tier::Avx512 => Self {
                lanes: 16,
                fused: true,
            },
        }
    }

    /// The partial sums of a dot product of `n` inputs: the form's lanes, or, in the fused
    /// forms, half as many where that leaves no remainder and the full width would. (With a
    /// remainder after a short chunk loop, LLVM vectorises the loop over outputs instead, with
    /// gathers, several times slower: `BENCHMARKS.md`, LeNet-5, the step of ce432aa.)
    pub(crate) const fn lanes_for(self, n: usize) -> usize {
        let half = self.lanes / 2;
        match self.fused && !n.is_multiple_of(self.lanes) && n.is_multiple_of(half) {
            true => half,
            false => self.lanes,
        }
    }

    /// `to += a * b`: fused, `to = mul_add(a, b, to)`, or a product and a sum.
    pub(super) fn accumulate(self, to: Place, a: Place, b: Place) -> Stmt {
        match self.fused {
            true => Stmt::Set {
                value: Expr {
                    terms: vec![Term::Read(to.clone()), Term::Product(a, b)],
                    chain: Chain::MulAdd(MulAdd::Fused),
                },
                to,
            },
            false => Stmt::mul_add(to, a, b),
        }
    }
}

/// An input element (a column of `w`).
const I: Var = Var("i");
/// The first input of a chunk of [`LANES`].
pub(super) const C: Var = Var("c");
/// A lane of the partial sums.
pub(super) const L: Var = Var("l");

/// The operands' dimensions, `[x, w, b, delta]`.
fn operands(n: usize, m: usize) -> [Vec<usize>; 4] {
    [vec![n], vec![m, n], vec![m], vec![m]]
}

pub(super) fn at(array: Array, index: Vec<Index>) -> Place {
    Place { array, index }
}

/// `x[i] * w[o][i]` for the input index `i`.
fn product(i: Index) -> Term {
    Term::Product(
        at(Array::X, vec![i.clone()]),
        at(Array::K, vec![Index::var(O), i]),
    )
}

/// `forward(x, w, b) -> u`, the portable form.
#[cfg(test)]
pub(crate) fn forward(n: usize, m: usize) -> Program {
    forward_in(n, m, Form::of(Tier::Portable))
}

/// `forward(x, w, b) -> u` written as `form`.
///
/// The fused forms keep every output's partial sums (`ss[o] = s`) and add them in a second
/// loop over the outputs, pairwise, its counter opaque: added in the loop that forms them,
/// LLVM's SLP vectoriser split the partial sums into pairs for the pairwise tree (and the
/// loop over outputs was vectorised with gathers); added in order in that loop, one lane at a
/// time, they were slower than in the loop of their own (`BENCHMARKS.md`, LeNet-5).
pub(crate) fn forward_in(n: usize, m: usize, form: Form) -> Program {
    let lanes = form.lanes_for(n);
    let chunks = n / lanes;
    let rest = chunks * lanes;
    let mut locals = vec![Local::zeroed("u", vec![m])];
    let mut per_output = Vec::new();
    let mut body = Vec::new();
    let mut sum = vec![Term::Read(at(Array::B, vec![Index::var(O)]))];
    if chunks > 0 {
        locals.push(Local::bound("s", vec![lanes]));
        let s = Array::Local(1);
        let sums = (0..lanes).map(|l| {
            let i = Index::var(C).offset(l);
            form.accumulate(
                at(s, vec![Index::at(l)]),
                at(Array::X, vec![i.clone()]),
                at(Array::K, vec![Index::var(O), i]),
            )
        });
        per_output.push(Stmt::Fill {
            local: 1,
            value: Expr::plain(Vec::new()),
        });
        // `c` runs over 0, lanes, .., rest - lanes: the bound `rest - lanes + 1` lets the
        // compiler see that `c + lanes - 1 < N` (no bounds checks in the chunk).
        per_output.push(Stmt::Loop {
            var: C,
            extent: rest - lanes + 1,
            step: lanes,
            counter: Counter::Plain,
            body: sums.collect(),
        });
        let partials = match form.fused {
            true => {
                // ss[o][l] = s[l], added pairwise in the loop over outputs below.
                locals.push(Local::zeroed("ss", vec![m, lanes]));
                let ss = Array::Local(2);
                let copy = Stmt::copy(
                    at(ss, vec![Index::var(O), Index::var(L)]),
                    at(s, vec![Index::var(L)]),
                );
                per_output.push(Stmt::each(L, lanes, vec![copy]));
                at(ss, vec![Index::var(O)])
            }
            false => at(s, Vec::new()),
        };
        sum.push(Term::Pairwise(partials));
    }
    sum.extend((rest..n).map(|i| product(Index::at(i))));
    let output = Stmt::Set {
        to: at(Array::Local(0), vec![Index::var(O)]),
        value: Expr::plain(sum),
    };
    match form.fused && chunks > 0 {
        true => {
            body.push(Stmt::each(O, m, per_output));
            body.push(Stmt::counted(O, m, true, vec![output]));
        }
        false => {
            per_output.push(output);
            body.push(Stmt::each(O, m, per_output));
        }
    }
    Program {
        operands: operands(n, m),
        named: Vec::new(),
        locals,
        body,
        layouts: Layouts::default(),
        returns: Returns::Forward { u: 0 },
    }
}

/// `backward(x, w, delta) -> Gradients { dx, dk: dL/dw, db }`, the portable form.
#[cfg(test)]
pub(crate) fn backward(n: usize, m: usize) -> Program {
    backward_in(n, m, Form::of(Tier::Portable))
}

/// `backward(x, w, delta) -> Gradients { dx, dk: dL/dw, db }` written as `form` (`dL/dx`'s
/// row updates fused when the form fuses).
pub(crate) fn backward_in(n: usize, m: usize, form: Form) -> Program {
    let (dx, dw, db, d) = (0, 1, 2, 3);
    let locals = vec![
        Local::zeroed("dx", vec![n]),
        Local::zeroed("dw", vec![m, n]),
        Local::bound("db", vec![m]),
        Local::bound("d", Vec::new()),
    ];
    // `delta[o] * place`, `delta[o]` read once per output into `d`.
    let times = |place: Place| {
        let d = at(Array::Local(d), Vec::new());
        Expr::plain(vec![Term::Product(d, place)])
    };
    let per_output = vec![
        Stmt::Let {
            local: d,
            value: Expr::read(at(Array::Delta, vec![Index::var(O)])),
        },
        // dL/dx[i] += delta[o] * w[o][i]
        Stmt::each(
            I,
            n,
            vec![form.accumulate(
                at(Array::Local(dx), vec![Index::var(I)]),
                at(Array::Local(d), Vec::new()),
                at(Array::K, vec![Index::var(O), Index::var(I)]),
            )],
        ),
        // dL/dw[o][i] = delta[o] * x[i]
        Stmt::each(
            I,
            n,
            vec![Stmt::Set {
                to: at(Array::Local(dw), vec![Index::var(O), Index::var(I)]),
                value: times(at(Array::X, vec![Index::var(I)])),
            }],
        ),
    ];
    let body = vec![
        // dL/db = delta
        Stmt::Let {
            local: db,
            value: Expr::read(at(Array::Delta, Vec::new())),
        },
        Stmt::each(O, m, per_output),
    ];
    Program {
        operands: operands(n, m),
        named: Vec::new(),
        locals,
        body,
        layouts: Layouts::default(),
        returns: Returns::Backward { dx, dk: dw, db },
    }
}

/// `backward_into(x, w, delta, dw, db) -> dx`, the portable form.
#[cfg(test)]
pub(crate) fn backward_into(n: usize, m: usize) -> Program {
    backward_into_in(n, m, Form::of(Tier::Portable))
}

/// `backward_into(x, w, delta, dw, db) -> dx` written as `form`: `dL/dx` as
/// [`backward_in`]'s, `dL/dw` and `dL/db` added into the `&mut` buffers `dw` and `db`.
pub(crate) fn backward_into_in(n: usize, m: usize, form: Form) -> Program {
    accumulating(n, m, form, false)
}

/// `backward_sgd(x, w, b, delta, rate) -> dx`, the portable form.
#[cfg(test)]
pub(crate) fn backward_sgd(n: usize, m: usize) -> Program {
    backward_sgd_in(n, m, Form::of(Tier::Portable))
}

/// `backward_sgd(x, w, b, delta, rate) -> dx` written as `form`: [`backward_into_in`]'s
/// program with the weights and bias themselves (`&mut w`, `&mut b`) as its buffers, each
/// addition lowered as a step of gradient descent (`w[o][i] -= rate * (delta[o] * x[i])`,
/// `b[o] -= rate * delta[o]`): the update of the fused training step, with no `dL/dw` array.
/// Row `o` of `w` is read for `dL/dx` before it is updated (which the proof checks).
pub(crate) fn backward_sgd_in(n: usize, m: usize, form: Form) -> Program {
    accumulating(n, m, form, true)
}

/// `backward_deferred(w, delta, db) -> dx`, the portable form.
#[cfg(test)]
pub(crate) fn backward_deferred(n: usize, m: usize) -> Program {
    backward_deferred_in(n, m, Form::of(Tier::Portable))
}

/// `backward_deferred(w, delta, db) -> dx` written as `form`: [`backward_into_in`]'s program
/// without its `dL/dw` statements (and without the buffer `dw`): `dL/dx` returned, `dL/db`
/// added into `db`.
pub(crate) fn backward_deferred_in(n: usize, m: usize, form: Form) -> Program {
    let (dx, db, d) = (0, 1, 2);
    let locals = vec![
        Local::zeroed("dx", vec![n]),
        Local::accumulator("db", vec![m]),
        Local::bound("d", Vec::new()),
    ];
    Program {
        operands: operands(n, m),
        named: Vec::new(),
        locals,
        body: vec![Stmt::each(O, m, per_output(n, form, dx, db, d))],
        layouts: Layouts::default(),
        returns: Returns::Deferred { dx, db },
    }
}

/// The statements per output `o` that [`accumulating`] and [`backward_deferred_in`] share:
/// `delta[o]` bound to local `d` and added into `db[o]`, then the row update of `dL/dx`.
fn per_output(n: usize, form: Form, dx: usize, db: usize, d: usize) -> Vec<Stmt> {
    let delta_o = || at(Array::Local(d), Vec::new());
    vec![
        Stmt::Let {
            local: d,
            value: Expr::read(at(Array::Delta, vec![Index::var(O)])),
        },
        // dL/db[o] += delta[o]
        Stmt::add(at(Array::Local(db), vec![Index::var(O)]), delta_o()),
        // dL/dx[i] += delta[o] * w[o][i]
        Stmt::each(
            I,
            n,
            vec![form.accumulate(
                at(Array::Local(dx), vec![Index::var(I)]),
                delta_o(),
                at(Array::K, vec![Index::var(O), Index::var(I)]),
            )],
        ),
    ]
}

/// The program of [`backward_into_in`] (`descent` false) or [`backward_sgd_in`] (true).
fn accumulating(n: usize, m: usize, form: Form, descent: bool) -> Program {
    let (dx, dw, db, d) = (0, 1, 2, 3);
    let (w_name, b_name) = match descent {
        true => ("w", "b"),
        false => ("dw", "db"),
    };
    let locals = vec![
        Local::zeroed("dx", vec![n]),
        Local::accumulator(w_name, vec![m, n]),
        Local::accumulator(b_name, vec![m]),
        Local::bound("d", Vec::new()),
    ];
    let mut per_output = per_output(n, form, dx, db, d);
    // dL/dw[o][i] += delta[o] * x[i]
    per_output.push(Stmt::each(
        I,
        n,
        vec![Stmt::mul_add(
            at(Array::Local(dw), vec![Index::var(O), Index::var(I)]),
            at(Array::Local(d), Vec::new()),
            at(Array::X, vec![Index::var(I)]),
        )],
    ));
    Program {
        operands: operands(n, m),
        named: Vec::new(),
        locals,
        body: vec![Stmt::each(O, m, per_output)],
        layouts: Layouts::default(),
        returns: Returns::Accumulate {
            dx,
            dk: dw,
            db,
            descent,
        },
    }
}
