//! The dense layer's `forward` and `backward` as loop IR ([`crate::ir`]), over the operands
//! `x [N]`, `w [M][N]` (the IR's kernel `k`), `b [M]` and `delta [M]`:
//!
//! - `forward`: per output `o`, the dot product of row `o` of `w` with `x` in [`LANES`]
//!   independent partial sums (`s[l]` sums the products of inputs `c + l`, `c` stepping by
//!   `LANES`), added pairwise, then `u[o] = b[o] + Σ s + ` the `N mod LANES` remaining products,
//!   written out. Layers with fewer than `LANES` inputs write every product out.
//! - `backward`: `dL/dx = Σ_o delta[o] * w[o][·]`, one contiguous row update per output (`o`
//!   outer, `i` inner); `dL/dw = delta xᵀ`, the outer product, row by row in the same loop;
//!   `dL/db = delta`, a copy.

use crate::ir::vars::O;
use crate::ir::{Array, Expr, Index, Layouts, Local, Place, Program, Returns, Stmt, Term, Var};

/// Independent partial sums per dot product in `forward`: 8 `f32`s fill an AVX register (two SSE
/// registers), so the chunk's products vectorise and the sums carry no dependency from one
/// product to the next.
pub(crate) const LANES: usize = 8;

/// An input element (a column of `w`).
const I: Var = Var("i");
/// The first input of a chunk of [`LANES`].
const C: Var = Var("c");

/// The operands' dimensions, `[x, w, b, delta]`.
fn operands(n: usize, m: usize) -> [Vec<usize>; 4] {
    [vec![n], vec![m, n], vec![m], vec![m]]
}

fn at(array: Array, index: Vec<Index>) -> Place {
    Place { array, index }
}

/// `x[i] * w[o][i]` for the input index `i`.
fn product(i: Index) -> Term {
    Term::Product(
        at(Array::X, vec![i.clone()]),
        at(Array::K, vec![Index::var(O), i]),
    )
}

/// `forward(x, w, b) -> u`.
pub(crate) fn forward(n: usize, m: usize) -> Program {
    let chunks = n / LANES;
    let rest = chunks * LANES;
    let mut locals = vec![Local::zeroed("u", vec![m])];
    let mut per_output = Vec::new();
    let mut sum = vec![Term::Read(at(Array::B, vec![Index::var(O)]))];
    if chunks > 0 {
        locals.push(Local::bound("s", vec![LANES]));
        let s = Array::Local(1);
        let lanes = (0..LANES).map(|l| Stmt::Add {
            to: at(s, vec![Index::at(l)]),
            value: Expr::plain(vec![product(Index::var(C).offset(l))]),
        });
        per_output.push(Stmt::Fill {
            local: 1,
            value: Expr::plain(Vec::new()),
        });
        // `c` runs over 0, LANES, .., rest - LANES: the bound `rest - LANES + 1` lets the
        // compiler see that `c + LANES - 1 < N` (no bounds checks in the chunk).
        per_output.push(Stmt::Loop {
            var: C,
            extent: rest - LANES + 1,
            step: LANES,
            opaque: false,
            body: lanes.collect(),
        });
        sum.push(Term::Pairwise(at(s, Vec::new())));
    }
    sum.extend((rest..n).map(|i| product(Index::at(i))));
    per_output.push(Stmt::Set {
        to: at(Array::Local(0), vec![Index::var(O)]),
        value: Expr::plain(sum),
    });
    Program {
        operands: operands(n, m),
        named: Vec::new(),
        locals,
        body: vec![Stmt::each(O, m, per_output)],
        layouts: Layouts::default(),
        returns: Returns::Forward { u: 0 },
    }
}

/// `backward(x, w, delta) -> Gradients { dx, dk: dL/dw, db }`.
pub(crate) fn backward(n: usize, m: usize) -> Program {
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
            vec![Stmt::Add {
                to: at(Array::Local(dx), vec![Index::var(I)]),
                value: times(at(Array::K, vec![Index::var(O), Index::var(I)])),
            }],
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
