//! The vector lowering's shapes: what it writes with intrinsics, and what it leaves scalar.

use super::super::{body, Lowering, Names};
use crate::ir::{
    Array, Chain, Expr, Index, Layouts, Local, MulAdd, Place, Program, Returns, Stmt, Term, Var,
};
use crate::plan::{LaneSums, Vectors};
use proc_macro2::{Ident, Span};

const O: Var = Var("o");

fn at(array: Array, index: Vec<Index>) -> Place {
    Place { array, index }
}

/// `t[o]` of the local `t`, `k[1][o]` and `x[3]`.
fn t() -> Place {
    at(Array::Local(0), vec![Index::var(O)])
}

fn k_row() -> Place {
    at(Array::K, vec![Index::at(1), Index::var(O)])
}

fn x3() -> Place {
    at(Array::X, vec![Index::at(3)])
}

/// `t = mul_add(a, b, t)` through `mul_add::fused` (or `chain`).
fn fma(to: Place, a: Place, b: Place, chain: Chain) -> Stmt {
    Stmt::Set {
        to: to.clone(),
        value: Expr {
            terms: vec![Term::Read(to), Term::Product(a, b)],
            chain,
        },
    }
}

/// A program of `body` over a local `t` of `lanes` elements, `x` of 64 and `k` of 4 rows of
/// 64, lowered in `scalar` with `vectors`.
fn lowered(body_of: Vec<Stmt>, lanes: usize, scalar: &str, vectors: Vectors) -> String {
    let program = Program {
        operands: [vec![64], vec![4, 64], vec![4], vec![4]],
        named: Vec::new(),
        locals: vec![Local::zeroed("t", vec![lanes])],
        body: body_of,
        layouts: Layouts::default(),
        returns: Returns::Forward { u: 0 },
    };
    let scalar = Ident::new(scalar, Span::call_site());
    let how = Lowering {
        scalar: &scalar,
        calls: None,
        names: Names::CONVOLUTION,
        lane_sums: LaneSums::EachColumn,
        vectors,
    };
    body(&program, &how).to_string()
}

fn fused() -> Chain {
    Chain::MulAdd(MulAdd::Fused)
}

#[test]
fn a_loop_over_whole_vectors_is_written_with_intrinsics_in_the_scalar_order() {
    let each = |n| vec![Stmt::each(O, n, vec![fma(t(), k_row(), x3(), fused())])];
    let code = lowered(each(32), 32, "f32", Vectors::Avx512);
    let fma = "_mm512_fmadd_ps (_mm512_loadu_ps (k [1] [o .. o + 16] . as_ptr ()) , \
               _mm512_set1_ps (x [3]) , _mm512_loadu_ps (t [o .. o + 16] . as_ptr ()))";
    assert!(code.contains(fma), "{code}");
    assert!(code.contains("_mm512_storeu_ps (t [o .. o + 16] . as_mut_ptr () , __lanes)"));
    assert!(
        code.contains("while o < 32") && code.contains("o += 16"),
        "{code}"
    );
    assert!(!code.contains("mul_add ("), "{code}");
    // One vector: the block alone; `f64`: eight lanes.
    let code = lowered(each(16), 16, "f32", Vectors::Avx512);
    assert!(
        code.contains("let o : usize = 0 ;") && !code.contains("while"),
        "{code}"
    );
    let code = lowered(each(16), 16, "f64", Vectors::Avx512);
    assert!(
        code.contains("_mm512_fmadd_pd") && code.contains("o += 8"),
        "{code}"
    );
    // Scalar: the loop as it is.
    let code = lowered(each(32), 32, "f32", Vectors::Scalar);
    assert!(!code.contains("_mm512"), "{code}");
    assert!(
        code.contains("t [o] = mul_add (k [1] [o] , x [3] , t [o]) ;"),
        "{code}"
    );
}

#[test]
fn a_sum_keeps_its_order_and_plain_products_stay_unfused() {
    // `t[o] = t[o] + k[1][o] * x[3] + k[2][o]`, plain: a product, then two additions.
    let value = Expr::plain(vec![
        Term::Read(t()),
        Term::Product(k_row(), x3()),
        Term::Read(at(Array::K, vec![Index::at(2), Index::var(O)])),
    ]);
    let code = lowered(
        vec![Stmt::each(O, 16, vec![Stmt::Set { to: t(), value }])],
        16,
        "f32",
        Vectors::Avx512,
    );
    let sum = "_mm512_add_ps (_mm512_add_ps (_mm512_loadu_ps (t [0 .. 16] . as_ptr ()) , \
               _mm512_mul_ps (_mm512_loadu_ps (k [1] [0 .. 16] . as_ptr ()) , \
               _mm512_set1_ps (x [3]))) , _mm512_loadu_ps (k [2] [0 .. 16] . as_ptr ()))";
    let code = code.replace("o .. o + 16", "0 .. 16");
    assert!(code.contains(sum), "{code}");
}

#[test]
fn loops_whose_lanes_are_not_independent_rows_stay_scalar() {
    let scalar = |body_of: Vec<Stmt>, lanes: usize| {
        let code = lowered(body_of, lanes, "f32", Vectors::Avx512);
        assert!(!code.contains("_mm512"), "{code}");
    };
    // Not a multiple of the width.
    scalar(
        vec![Stmt::each(O, 24, vec![fma(t(), k_row(), x3(), fused())])],
        24,
    );
    // A written array read at another index (lane 0 of every block).
    let t0 = at(Array::Local(0), vec![Index::at(0)]);
    scalar(
        vec![Stmt::each(O, 16, vec![fma(t(), k_row(), t0, fused())])],
        16,
    );
    // Fused only where the build's target has FMA.
    let target = Chain::MulAdd(MulAdd::Target);
    scalar(
        vec![Stmt::each(O, 16, vec![fma(t(), k_row(), x3(), target)])],
        16,
    );
    // The variable outside the last index.
    let column = at(Array::K, vec![Index::var(O), Index::at(1)]);
    let t16 = || at(Array::Local(0), vec![Index::var(O)]);
    scalar(
        vec![Stmt::each(O, 4, vec![fma(t16(), column, x3(), fused())])],
        4,
    );
    // Twice the variable in the last index (every other element).
    let strided = at(Array::X, vec![Index::var(O).plus(O, 1)]);
    scalar(
        vec![Stmt::each(O, 16, vec![fma(t(), strided, x3(), fused())])],
        16,
    );
}

/// `t[l] = mul_add(x[c + l], w, t[l])` for each lane `l`, `w` as `weight(l)` gives it.
fn run(weight: impl Fn(usize) -> Place) -> Vec<Stmt> {
    let c = Var("c");
    (0..16)
        .map(|l| {
            let lane = at(Array::Local(0), vec![Index::at(l)]);
            let x = at(Array::X, vec![Index::var(c).offset(l)]);
            fma(lane, x, weight(l), fused())
        })
        .collect()
}

#[test]
fn a_run_written_out_lane_by_lane_is_one_vector_statement() {
    let code = lowered(run(|_| x3()), 16, "f32", Vectors::Avx512);
    let fma = "_mm512_fmadd_ps (_mm512_loadu_ps (x [c .. c + 16] . as_ptr ()) , \
               _mm512_set1_ps (x [3]) , _mm512_loadu_ps (t [0 .. 16] . as_ptr ()))";
    assert!(code.contains(fma), "{code}");
    assert!(!code.contains("mul_add ("), "{code}");
    // A place both along the row (lane `l` reads `x[c + l]`) and the same in every lane
    // (`x[c]`): each as its position in the statement says.
    let c = at(Array::X, vec![Index::var(Var("c"))]);
    let code = lowered(run(|_| c.clone()), 16, "f32", Vectors::Avx512);
    assert!(code.contains("_mm512_set1_ps (x [c])"), "{code}");
    assert!(code.contains("_mm512_loadu_ps (x [c .. c + 16]"), "{code}");
    // One lane off the pattern: every statement as it is.
    let odd = |l| match l {
        5 => at(Array::X, vec![Index::at(4)]),
        _ => x3(),
    };
    let code = lowered(run(odd), 16, "f32", Vectors::Avx512);
    assert!(!code.contains("_mm512"), "{code}");
    assert!(
        code.contains("t [5] = mul_add (x [c + 5] , x [4] , t [5]) ;"),
        "{code}"
    );
}
