//! The dense programs proven, lowered and expanded for several sizes, and planted faults in
//! each program rejected by the symbolic proof.

use super::*;
use crate::ir::exec::check;
use crate::plan::{LaneSums, Vectors};

/// `program` lowered as every tier but AVX-512 `f32` lowers it (lane sums column by column).
fn lower(program: &Program, t: &Ident) -> TokenStream {
    super::lower(program, t, (LaneSums::EachColumn, Vectors::Scalar))
}

const SIZES: [(usize, usize); 5] = [(1, 1), (3, 2), (17, 5), (16, 3), (400, 120)];

fn programs(n: usize, m: usize) -> [(&'static str, Program); 5] {
    [
        ("forward", program::forward(n, m)),
        ("backward", program::backward(n, m)),
        ("backward_into", program::backward_into(n, m)),
        ("backward_deferred", program::backward_deferred(n, m)),
        ("backward_sgd", program::backward_sgd(n, m)),
    ]
}

#[test]
fn every_size_proves_and_lowers() {
    for (n, m) in SIZES {
        let d = Dense::new(n, m);
        let [(_, forward), (_, backward), (_, into), (_, deferred), (_, sgd)] = programs(n, m);
        // u: the bias and N products per output; the gradients: every product once, and delta.
        assert_eq!(check(&forward, &d, None).map(|c| c.terms), Ok(m * (n + 1)));
        assert_eq!(
            check(&backward, &d, None).map(|c| c.terms),
            Ok(2 * n * m + m)
        );
        assert_eq!(check(&into, &d, None).map(|c| c.terms), Ok(2 * n * m + m));
        // No `dL/dw`: `dL/dx`'s products and delta.
        assert_eq!(check(&deferred, &d, None).map(|c| c.terms), Ok(n * m + m));
        assert_eq!(check(&sgd, &d, None).map(|c| c.terms), Ok(2 * n * m + m));
        for (what, program) in programs(n, m) {
            let t = Ident::new("f32", Span::call_site());
            let body = lower(&program, &t);
            let block: syn::Block =
                syn::parse2(quote!({ #body })).unwrap_or_else(|e| panic!("{n} -> {m} {what}: {e}"));
            assert!(!block.stmts.is_empty());
        }
    }
}

#[test]
fn every_tier_proves() {
    for (n, m) in SIZES {
        let d = Dense::new(n, m);
        for tier in Tier::ALL {
            let form = program::Form::of(tier);
            let forward = program::forward_in(n, m, form);
            let backward = program::backward_in(n, m, form);
            let into = program::backward_into_in(n, m, form);
            assert_eq!(check(&forward, &d, None).map(|c| c.terms), Ok(m * (n + 1)));
            for program in [backward, into] {
                assert_eq!(
                    check(&program, &d, None).map(|c| c.terms),
                    Ok(2 * n * m + m)
                );
            }
        }
    }
    // The fused forms call `mul_add` into the running sums, in 16 lanes on AVX-512.
    let t = Ident::new("f32", Span::call_site());
    let avx512 = |n| {
        lower(
            &program::forward_in(n, 3, program::Form::of(Tier::Avx512)),
            &t,
        )
    };
    let body = avx512(48).to_string();
    assert!(
        body.contains("s [15] = mul_add (x [c + 15] , w [o] [c + 15] , s [15])"),
        "{body}"
    );
    assert!(body.contains("fused :: f32 as mul_add"), "{body}");
    // In 8 where 16 would leave a remainder and 8 does not (40 = 2 * 16 + 8 = 5 * 8); 16 where
    // both leave one (36).
    let body = avx512(40).to_string();
    assert!(body.contains("let mut s = [0.0f32 ; 8]"), "{body}");
    assert!(!body.contains("s [8]"), "{body}");
    // Each output's partial sums kept, then added pairwise in a loop of their own, its counter
    // opaque.
    assert!(body.contains("ss [o] [l] = s [l]"), "{body}");
    assert!(body.contains("u [o] = b [o] + sum (& ss [o]) ;"), "{body}");
    assert!(
        body.contains("o = :: core :: hint :: black_box (o + 1)"),
        "{body}"
    );
    let body = avx512(36).to_string();
    assert!(body.contains("let mut s = [0.0f32 ; 16]"), "{body}");
    assert!(body.contains("x [35] * w [o] [35]"), "{body}");
    // As the AVX-512 tier lowers `f32`: the pairwise sums of sixteen outputs at a time, then
    // each added to its bias; not where products follow the sum (36) or lanes are 8 (40).
    let program = |n| program::forward_in(n, 3, program::Form::of(Tier::Avx512));
    let call = "pairwise_rows_avx512 (& ss , & mut lane_sums)";
    let body = super::lower(&program(48), &t, (LaneSums::Avx512Rows, Vectors::Scalar)).to_string();
    assert!(body.contains(call), "{body}");
    assert!(body.contains("u [o] = b [o] + lane_sums [o] ;"), "{body}");
    assert!(!body.contains("sum (& ss [o])"), "{body}");
    for n in [36, 40] {
        let body =
            super::lower(&program(n), &t, (LaneSums::Avx512Rows, Vectors::Scalar)).to_string();
        assert!(!body.contains("pairwise_rows_avx512"), "{body}");
    }
}

#[test]
fn forward_sums_in_lanes_with_the_remainder_written_out() {
    let t = Ident::new("f32", Span::call_site());
    let body = lower(&program::forward(17, 5), &t).to_string();
    // Two chunks of 8 (c = 0, 8: the bound 9 proves c + 7 < 17), then x[16].
    assert!(body.contains("while c < 9"), "{body}");
    assert!(
        body.contains("s [7] += x [c + 7] * w [o] [c + 7]"),
        "{body}"
    );
    assert!(
        body.contains("u [o] = b [o] + sum (& s) + x [16] * w [o] [16]"),
        "{body}"
    );
    // Fewer inputs than lanes: every product written out.
    let body = lower(&program::forward(3, 2), &t).to_string();
    assert!(!body.contains("sum"), "{body}");
    assert!(body.contains("b [o] + x [0] * w [o] [0] + x [1] * w [o] [1] + x [2] * w [o] [2]"));
    let body = lower(&program::backward(3, 2), &t).to_string();
    assert!(body.contains("dx [i] += d * w [o] [i]"), "{body}");
    assert!(body.contains("dw [o] [i] = d * x [i]"), "{body}");
    assert!(body.contains("let db = * delta"), "{body}");
    // Into the caller's buffers: no gradient arrays of its own but `dx`, which it returns.
    let body = lower(&program::backward_into(3, 2), &t).to_string();
    assert!(body.contains("dw [o] [i] += d * x [i]"), "{body}");
    assert!(body.contains("db [o] += d"), "{body}");
    assert!(!body.contains("let mut dw"), "{body}");
    assert!(body.trim_end().ends_with("dx"), "{body}");
    // Without `dL/dw`: no weight buffer, nothing read from `x`.
    let body = lower(&program::backward_deferred(3, 2), &t).to_string();
    assert!(body.contains("db [o] += d"), "{body}");
    assert!(body.contains("dx [i] += d * w [o] [i]"), "{body}");
    let reads_x = body.split_whitespace().any(|token| token == "x");
    assert!(!body.contains("dw") && !reads_x, "{body}");
    assert!(body.trim_end().ends_with("dx"), "{body}");
}

#[test]
fn a_buffer_is_only_added_into() {
    use crate::ir::{Array, Binding, Chain, Expr, Index, MulAdd, Place, Returns, Stmt, Term};
    let d = Dense::new(3, 2);
    let dw = |i: usize| Place {
        array: Array::Local(1),
        index: vec![Index::at(0), Index::at(i)],
    };
    let malformed = |program: &Program| {
        let err = check(program, &d, None).unwrap_err();
        assert!(matches!(err, exec::Fault::Malformed(_)), "{err}");
        err.to_string()
    };
    // Its prior value read (a fused `dw = mul_add(d, x, dw)` would), set, or bound.
    let mut read = program::backward_into(3, 2);
    read.body.push(Stmt::add(
        Place {
            array: Array::Local(0),
            index: vec![Index::at(0)],
        },
        dw(0),
    ));
    let err = malformed(&read);
    assert!(
        err.contains("reads the prior value of the `&mut` buffer `dw`"),
        "{err}"
    );
    let mut fused = program::backward_into(3, 2);
    fused.body.push(Stmt::Set {
        to: dw(1),
        value: Expr {
            terms: vec![
                Term::Read(dw(1)),
                Term::Product(
                    Place {
                        array: Array::X,
                        index: vec![Index::at(0)],
                    },
                    Place {
                        array: Array::Delta,
                        index: vec![Index::at(0)],
                    },
                ),
            ],
            chain: Chain::MulAdd(MulAdd::Fused),
        },
    });
    malformed(&fused);
    let mut set = program::backward_into(3, 2);
    set.body.push(Stmt::copy(dw(2), dw(2)));
    malformed(&set);
    // A buffer nothing is compared in, and a gradient added into a local.
    let mut unchecked = program::backward_into(3, 2);
    unchecked.returns = Returns::Dx(0);
    let err = malformed(&unchecked);
    assert!(err.contains("does not add a gradient into"), "{err}");
    let mut local = program::backward_into(3, 2);
    local.locals[2].binding = Binding::Zeroed;
    malformed(&local);
    // An empty buffer is no gradient: added nothing, `dL/dw` is missing.
    let mut dropped = program::backward_into(3, 2);
    let Stmt::Loop { body, .. } = &mut dropped.body[0] else {
        unreachable!("backward_into is a loop over outputs")
    };
    body.pop();
    let err = check(&dropped, &d, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dL/dk element 0: the code sums 0 terms, the derivation 1"
    );
}

#[test]
fn the_fused_update_steps_the_parameters_after_reading_each_row() {
    use crate::ir::Stmt;
    let t = Ident::new("f32", Span::call_site());
    let sgd = program::backward_sgd(3, 2);
    let body = lower(&sgd, &t).to_string();
    assert!(body.contains("b [o] -= rate * (d) ;"), "{body}");
    assert!(body.contains("dx [i] += d * w [o] [i]"), "{body}");
    assert!(body.contains("w [o] [i] -= rate * (d * x [i]) ;"), "{body}");
    assert!(!body.contains("let mut w"), "{body}");
    // The update of row `o` moved before `dL/dx` reads it: the code would read updated weights.
    let mut early = sgd.clone();
    let Stmt::Loop { body, .. } = &mut early.body[0] else {
        unreachable!("backward_sgd is a loop over outputs")
    };
    let update = body.pop().expect("the update loop");
    body.insert(1, update);
    let err = check(&early, &Dense::new(3, 2), None).unwrap_err();
    assert!(
        err.to_string()
            .contains("K element 0 is read after its update in place"),
        "{err}"
    );
    // The same order with buffers of their own (`backward_into`) reads nothing updated.
    let mut into = early;
    if let crate::ir::Returns::Accumulate { descent, .. } = &mut into.returns {
        *descent = false;
    }
    assert!(check(&into, &Dense::new(3, 2), None).is_ok());
}

#[test]
fn every_planted_fault_fails_the_proof() {
    let mut planted = 0;
    for (n, m) in [(1, 1), (3, 2), (17, 5), (16, 3)] {
        let d = Dense::new(n, m);
        for (what, program) in programs(n, m) {
            for (k, wrong) in super::super::mutants::faults(&program)
                .into_iter()
                .enumerate()
            {
                planted += 1;
                assert!(
                    check(&wrong, &d, None).is_err(),
                    "fault {k} of the {n} -> {m} {what} passed the proof"
                );
            }
        }
    }
    assert!(planted > 200, "{planted} faults planted");
}

#[test]
fn a_dropped_term_and_a_shifted_index_are_named() {
    let d = Dense::new(17, 5);
    // The remainder's product dropped from u.
    let mut forward = program::forward(17, 5);
    let crate::ir::Stmt::Loop { body, .. } = &mut forward.body[0] else {
        unreachable!("forward is a loop over outputs")
    };
    let Some(crate::ir::Stmt::Set { value, .. }) = body.last_mut() else {
        unreachable!("u[o] is set last")
    };
    value.terms.pop();
    let err = check(&forward, &d, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "u element 0: the code sums 17 terms, the derivation 18"
    );
    // dL/dw[o][i] reading x[i + 1].
    let mut backward = program::backward(3, 2);
    let crate::ir::Stmt::Loop { body, .. } = &mut backward.body[1] else {
        unreachable!("the loop over outputs follows db")
    };
    let crate::ir::Stmt::Loop { body, .. } = &mut body[2] else {
        unreachable!("dL/dw's loop is third")
    };
    let crate::ir::Stmt::Set { value, .. } = &mut body[0] else {
        unreachable!("dL/dw[o][i] is set")
    };
    value.places_mut().last().expect("x[i]").index[0].constant += 1;
    let err = check(&backward, &Dense::new(3, 2), None).unwrap_err();
    assert!(matches!(err, exec::Fault::Malformed(_)), "{err}");
}

/// The tokens of `item`, parsed.
fn expand(name: &str, n: usize, m: usize, scalar: Scalar) -> syn::File {
    let tokens = item(&Ident::new(name, Span::call_site()), n, m, scalar, None)
        .unwrap_or_else(|e| panic!("{n} -> {m}: {e}"));
    syn::parse2(tokens).unwrap_or_else(|e| panic!("{n} -> {m}: {e}"))
}

#[test]
fn the_item_expands_to_a_hidden_struct_const_fns_and_the_check() {
    for (n, m) in SIZES {
        for scalar in [Scalar::F32, Scalar::F64] {
            let file = expand("Layer", n, m, scalar);
            let [syn::Item::Struct(s), syn::Item::Impl(i), syn::Item::Const(c), syn::Item::Const(into), syn::Item::Const(deferred), syn::Item::Const(sgd)] =
                &file.items[..]
            else {
                panic!("{n} -> {m}: {:#?}", file.items.len());
            };
            assert_eq!(s.ident, "Layer");
            assert!(s
                .attrs
                .iter()
                .any(|a| quote!(#a).to_string() == "# [doc (hidden)]"));
            let fns: Vec<String> = i
                .items
                .iter()
                .filter_map(|item| match item {
                    syn::ImplItem::Fn(f) if f.sig.constness.is_some() => {
                        Some(f.sig.ident.to_string())
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(
                fns,
                [
                    "forward_const",
                    "backward_const",
                    "backward_into_const",
                    "backward_deferred_const",
                    "backward_sgd_const",
                    "forward_chunk_const",
                    "backward_deferred_chunk_const"
                ]
            );
            assert_eq!(c.ident, "_");
            let check = quote!(#c).to_string();
            let t = scalar.name();
            assert!(check.contains(&format!("conv_runtime :: proof :: {t} :: assert_dense")));
            assert!(check.contains("Layer :: backward_const"), "{check}");
            assert_eq!(into.ident, "_");
            let into = quote!(#into).to_string();
            assert!(into.contains("Layer :: backward_into_const"), "{into}");
            assert!(into.contains(&format!(
                "conv_runtime :: proof :: {t} :: assert_dense_added"
            )));
            // On a zero `x`: nothing added to the weights is the right `dL/dw`.
            let deferred = quote!(#deferred).to_string();
            assert!(
                deferred.contains("Layer :: backward_deferred_const (& w , & delta , & mut db)"),
                "{deferred}"
            );
            assert!(
                deferred.contains("assert_dense_added (& zero"),
                "{deferred}"
            );
            // One step at rate -1: the parameters gain exactly the gradients.
            let sgd = quote!(#sgd).to_string();
            assert!(
                sgd.contains(
                    "Layer :: backward_sgd_const (& x , & mut w1 , & mut b1 , & delta , - 1.0)"
                ),
                "{sgd}"
            );
            assert!(sgd.contains("assert_dense_added"), "{sgd}");
        }
    }
    let file = expand("L", 400, 120, Scalar::F32);
    let file = quote!(#file).to_string();
    assert!(file.contains(
        "pub const fn forward_const (x : & [f32 ; 400] , w : & [[f32 ; 400] ; 120] , b : & [f32 ; 120]) -> [f32 ; 120]"
    ), "{file}");
    assert!(file.contains(
        "pub fn forward (x : & [f32 ; 400] , w : & [[f32 ; 400] ; 120] , b : & [f32 ; 120]) -> [f32 ; 120]"
    ), "{file}");
    // One `#[target_feature]` variant per x86-64 tier, chosen by the CPU's tier.
    for tier in ["avx2", "avx512"] {
        assert!(file.contains(&format!("fn __forward_{tier} (")), "{file}");
        assert!(file.contains(&format!("fn __backward_{tier} (")), "{file}");
        assert!(
            file.contains(&format!("fn __backward_into_{tier} (")),
            "{file}"
        );
        assert!(
            file.contains(&format!("fn __backward_deferred_{tier} (")),
            "{file}"
        );
        assert!(
            file.contains(&format!("fn __backward_sgd_{tier} (")),
            "{file}"
        );
    }
    assert!(file.contains(
        "pub fn backward_deferred (w : & [[f32 ; 400] ; 120] , delta : & [f32 ; 120] , db : & mut [f32 ; 120]) -> [f32 ; 400]"
    ), "{file}");
    assert!(file.contains(
        "pub fn backward_sgd (x : & [f32 ; 400] , w : & mut [[f32 ; 400] ; 120] , b : & mut [f32 ; 120] , delta : & [f32 ; 120] , rate : f32) -> [f32 ; 400]"
    ), "{file}");
    assert!(file.contains(":: conv_runtime :: cpu :: tier ()"), "{file}");
    assert!(file.contains(
        "pub fn backward_into (x : & [f32 ; 400] , w : & [[f32 ; 400] ; 120] , delta : & [f32 ; 120] , dw : & mut [[f32 ; 400] ; 120] , db : & mut [f32 ; 120]) -> [f32 ; 400]"
    ), "{file}");
    assert!(file.contains(
        ":: conv_runtime :: Gradients < [f32 ; 400] , [[f32 ; 400] ; 120] , [f32 ; 120] >"
    ));
}

#[test]
fn layers_too_large_to_evaluate_get_no_check() {
    let g = check::geometry(500, 301).expect("a geometry");
    assert!(!check::evaluated(&g));
    assert!(check::item(&Ident::new("L", Span::call_site()), &g, Scalar::F32).is_empty());
    assert!(check::evaluated(
        &check::geometry(500, 300).expect("a geometry")
    ));
}

#[test]
fn wrong_sizes_are_errors_on_the_name() {
    let name = Ident::new("Layer", Span::call_site());
    let err = item(&name, 0, 3, Scalar::F32, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dense: a layer of 0 inputs and 3 outputs; expected at least 1 of each"
    );
    assert!(item(&name, 3, 0, Scalar::F32, None).is_err());
    let err = item(&name, 1 << 20, 1 << 20, Scalar::F32, None).unwrap_err();
    assert!(
        err.to_string().contains("is more than 20000000 weights"),
        "{err}"
    );
    assert!(item(&name, usize::MAX, 2, Scalar::F32, None).is_err());
}
