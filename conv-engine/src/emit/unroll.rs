//! The fully unrolled `forward` and `backward`, as loop IR without loops ([`crate::ir`]): one
//! expression per output element holding only the derivation's nonzero products, in its
//! documented summation order. Operands are bound to one name per element (no indexing), and
//! the results are built as one nested array literal (no `let` per output element), which keeps
//! rustc's type checking and LLVM cheap.
//!
//! `backward` combines three parts, `dL/dx`, `dL/dk` and `dL/db`, each a function (and a
//! program) of its own; the plan says whether they are kept apart (`#[inline(never)]`, so that
//! LLVM vectorises each sum on its own) or compiled as one expression. The expressions, and so
//! the results, are the same either way.
//!
//! The sums of `dL/dx` and `dL/dk` start with their first product and add the others in order,
//! each through `conv_runtime::mul_add`: one fused multiply-add per term where the plan fuses,
//! a product and a sum elsewhere. The order, and so the compile-time check on integers, is the
//! same either way; on other inputs the fused form rounds once per term instead of twice.
//! `forward` is a product and a sum per term on the portable tier and fused on the wide ones
//! in every form ([`crate::ir::fuse_sums`], as the plan says), so every form of `forward` gives
//! the same bits on one tier. The evidence for these choices is in `BENCHMARKS.md`.

use super::shape::Shapes;
use crate::derive::{Derivation, Product, Sums};
use crate::ir::{
    Array, Chain, Expr, Index, Layouts, Local, MulAdd, Place, Program, Returns, Stmt, Term,
};
use crate::plan::When;

/// Element `flat` of `array`, whose dimensions are `dims`, with constant indices.
pub(super) fn element(array: Array, dims: &[usize], flat: usize) -> Place {
    let mut rest = flat;
    let mut index = vec![Index::at(0); dims.len()];
    for (slot, &n) in index.iter_mut().zip(dims).rev() {
        *slot = Index::at(rest % n);
        rest /= n;
    }
    Place { array, index }
}

/// The operands' dimensions, `[x, k, b, delta]`.
pub(super) fn operands(shapes: &Shapes) -> [Vec<usize>; 4] {
    [&shapes.x, &shapes.k, &shapes.b, &shapes.u].map(|o| o.dims().to_vec())
}

/// A program binding `named`'s elements and returning one literal.
fn literal(
    shapes: &Shapes,
    named: Vec<Array>,
    name: &str,
    dims: &[usize],
    elements: Vec<Expr>,
    returns: fn(usize) -> Returns,
) -> Program {
    Program {
        operands: operands(shapes),
        named,
        locals: vec![Local::bound(name, dims.to_vec())],
        body: vec![Stmt::Literal { local: 0, elements }],
        layouts: Layouts::default(),
        returns: returns(0),
    }
}

/// `forward`: `u = b + x*k + ..` per output element.
pub(super) fn forward(d: &Derivation, shapes: &Shapes) -> Program {
    let [x, k, b, u] = operands(shapes);
    let elements = d.forward().iter().enumerate().map(|(i, products)| {
        let bias = Term::Read(element(Array::B, &b, d.u_at(i).c));
        let products = products.iter().map(|&Product(xi, ki)| {
            Term::Product(
                element(Array::X, &x, xi as usize),
                element(Array::K, &k, ki as usize),
            )
        });
        Expr::plain(std::iter::once(bias).chain(products).collect())
    });
    let named = vec![Array::X, Array::K, Array::B];
    literal(shapes, named, "u", &u, elements.collect(), |u| {
        Returns::Forward { u }
    })
}

/// `backward`'s parts: the programs of `dl_dx(k, delta)`, `dl_dk(x, delta)` and
/// `dl_db(delta)`, with `dL/dx` and `dL/dk` summed through `conv_runtime::mul_add` (`fused`
/// [`When::TargetHas`]: where the build's target has FMA; [`When::Always`]: everywhere `std`
/// is on).
pub(super) fn backward_parts(d: &Derivation, shapes: &Shapes, fused: When) -> [Program; 3] {
    let [x, k, b, u] = operands(shapes);
    let chain = Chain::MulAdd(match fused {
        When::Always => MulAdd::Fused,
        When::TargetHas | When::Never => MulAdd::Target,
    });
    let sums = |s: &Sums, second: (Array, &[usize])| -> Vec<Expr> {
        s.iter()
            .map(|products| Expr {
                terms: products
                    .iter()
                    .map(|&Product(di, oi)| {
                        Term::Product(
                            element(Array::Delta, &u, di as usize),
                            element(second.0, second.1, oi as usize),
                        )
                    })
                    .collect(),
                chain,
            })
            .collect()
    };
    let dx = literal(
        shapes,
        vec![Array::K, Array::Delta],
        "dx",
        &x,
        sums(d.dx(), (Array::K, &k)),
        Returns::Dx,
    );
    let dk = literal(
        shapes,
        vec![Array::X, Array::Delta],
        "dk",
        &k,
        sums(d.dk(), (Array::X, &x)),
        Returns::Dk,
    );
    let db = d.db().iter().map(|products| {
        let reads = products
            .iter()
            .map(|&Product(di, _)| Term::Read(element(Array::Delta, &u, di as usize)));
        Expr::plain(reads.collect())
    });
    let db = literal(
        shapes,
        vec![Array::Delta],
        "db",
        &b,
        db.collect(),
        Returns::Db,
    );
    [dx, dk, db]
}
