//! The fully unrolled `forward` and `backward`: one expression per output element holding only
//! the derivation's nonzero products, in its documented summation order. Operands are
//! destructured into named bindings (no indexing), and the results are built as one nested array
//! literal (no `let` per output element), which keeps rustc's type checking and LLVM cheap.
//!
//! `backward` builds `dL/dx` and `dL/dk` in two nested functions and the gradients in a third.
//! On targets with AVX-512 these are `#[inline(never)]`, so LLVM vectorises each sum on its
//! own; elsewhere they are `#[inline(always)]` and compile as one expression. The expressions,
//! and so the results, are the same either way. Measured on this project's benchmark machine:
//!
//! - `-C target-cpu=native`, criterion (`benches/layers.rs`), two runs of each form: the
//!   textbook layer's `forward` + `backward` 38.4-38.6 ns against 40.0-40.2 ns as one
//!   expression (a third run of this form: 43.7 and 64.0 ns), its `backward` alone 30-33 ns
//!   either way; the digits layer (8x8 input, 3x3 kernel, 8 output channels) as
//!   `unroll = full`, `backward` 2.04-2.11 us against 2.18-2.26 us.
//! - A scratch harness (best of 9 batches, so best cases: about 5 ns below criterion's mean for
//!   the same code), the textbook layer's `backward`: natively 25 ns against 31 ns; with AVX2
//!   alone 8% slower kept apart (27.5 against 25.4 ns), hence the `cfg`; on the default target
//!   as fast (31.0 against 30.9 ns).
//!
//! The sums of `dL/dx` and `dL/dk` start with their first product and add the others in order,
//! each through `conv_runtime::mul_add` (`use`d as `mul_add` where a sum has a second term):
//! one fused multiply-add per term where the target has FMA and `std` is on, a product and a
//! sum elsewhere. The order, and so the compile-time proof on integers, is the same either way;
//! on other inputs the fused form rounds once per term instead of twice. With
//! `-C target-cpu=native` (criterion, `benches/layers.rs`) the textbook layer's `backward`
//! takes 24-26 ns against 30-33 ns unfused (19.4 against 25.7 ns in the scratch harness), and
//! the digits layer's as `unroll = full` 0.90-0.93 us against 2.15 us.
//!
//! `forward` stays unfused. Fused in every strategy (so that they would still agree bit for
//! bit), one filtered criterion run against the last full run unfused was no faster anywhere:
//! the textbook layer 13.5 against 13.5 ns, LeNet's window 2.86 against 2.86 us, the
//! 16-channel layer's rows 50.7 against 50.3 us; the textbook layer's `window` and `rows`
//! forms were slower (17.7 and 15.2 ns against 13.6 and 11.6 ns).

use super::shape::{Operand, Shapes};
use crate::derive::{Derivation, Product, Sums};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The bodies of `forward` and `backward`.
pub(super) struct Bodies {
    pub forward: TokenStream,
    pub backward: TokenStream,
}

pub(super) fn bodies(d: &Derivation, shapes: &Shapes) -> Bodies {
    let names = Names::new(shapes);
    let (x_used, k_used) = (
        used(d.forward(), shapes.x.len(), 0),
        used(d.forward(), shapes.k.len(), 1),
    );
    let all_used = vec![true; shapes.u.len()];
    let x = names.destructure(&shapes.x, "x", &names.x, &x_used);
    let k = names.destructure(&shapes.k, "k", &names.k, &k_used);
    let b = names.destructure(&shapes.b, "b", &names.b, &vec![true; shapes.b.len()]);
    let delta = names.destructure(&shapes.u, "delta", &names.d, &all_used);
    let zero = shapes.zero();

    let u = d.forward().iter().enumerate().map(|(i, products)| {
        let bias = &names.b[d.u_at(i).c];
        biased_sum(bias, products, &names.x, &names.k)
    });
    let u = shapes.u.literal(u.collect());
    let forward = quote! { #x #k #b #u };

    let dx = shapes
        .x
        .literal(fused_sums(d.dx(), &names.d, &names.k, &zero));
    let dk = shapes
        .k
        .literal(fused_sums(d.dk(), &names.d, &names.x, &zero));
    let db = d.db().iter().map(|ds| {
        let terms = ds.iter().map(|&Product(i, _)| &names.d[i as usize]);
        quote!(#(#terms)+*)
    });
    let db = shapes.b.literal(db.collect());
    let t = &shapes.scalar;
    let (x_ty, k_ty, u_ty) = (shapes.x.ty(t), shapes.k.ty(t), shapes.u.ty(t));
    let b_ty = shapes.b.ty(t);
    // Where the three functions are kept apart (see the module docs).
    let split = quote! {
        #[cfg_attr(target_feature = "avx512f", inline(never))]
        #[cfg_attr(not(target_feature = "avx512f"), inline(always))]
    };
    // An output position whose window holds only padding has no `dL/dx` or `dL/dk` terms.
    let delta_in =
        |s: &Sums| names.destructure(&shapes.u, "delta", &names.d, &used(s, shapes.u.len(), 0));
    let (delta_dx, delta_dk) = (delta_in(d.dx()), delta_in(d.dk()));
    // `mul_add` where a sum has a second term (an unused import would warn in the user's crate).
    let mul_add = |s: &Sums| {
        s.iter()
            .any(|products| products.len() > 1)
            .then(|| quote!(use ::conv_runtime::mul_add::#t as mul_add;))
    };
    let (mul_add_dx, mul_add_dk) = (mul_add(d.dx()), mul_add(d.dk()));
    let backward = quote! {
        #split
        const fn dl_dx(k: &#k_ty, delta: &#u_ty) -> #x_ty {
            #mul_add_dx
            #k #delta_dx
            #dx
        }
        #split
        const fn dl_dk(x: &#x_ty, delta: &#u_ty) -> #k_ty {
            #mul_add_dk
            #x #delta_dk
            #dk
        }
        #split
        const fn gradients(
            x: &#x_ty,
            k: &#k_ty,
            delta: &#u_ty,
        ) -> ::conv_runtime::Gradients<#x_ty, #k_ty, #b_ty> {
            #delta
            ::conv_runtime::Gradients { dx: dl_dx(k, delta), dk: dl_dk(x, delta), db: #db }
        }
        gradients(x, k, delta)
    };
    Bodies { forward, backward }
}

/// Binding names of every element of every operand (`d_*` for `delta`).
struct Names {
    x: Vec<Ident>,
    k: Vec<Ident>,
    b: Vec<Ident>,
    d: Vec<Ident>,
}

impl Names {
    fn new(s: &Shapes) -> Self {
        Self {
            x: s.x.names(),
            k: s.k.names(),
            b: s.b.names(),
            d: s.u.names(),
        }
    }

    fn destructure(
        &self,
        op: &Operand,
        source: &str,
        names: &[Ident],
        used: &[bool],
    ) -> TokenStream {
        op.destructure(
            &Ident::new(source, proc_macro2::Span::call_site()),
            names,
            used,
        )
    }
}

/// Which elements of an operand with `len` elements appear in any of `sums`' products, on the
/// side `side` picks (`0` the first factor, `1` the second); the others are bound to `_`.
fn used(sums: &Sums, len: usize, side: usize) -> Vec<bool> {
    let mut used = vec![false; len];
    for &Product(first, second) in sums.iter().flatten() {
        used[[first, second][side] as usize] = true;
    }
    used
}

/// Each sum as its first product with the others fused into the running sum in order:
/// `mul_add(a2, b2, mul_add(a1, b1, a0 * b0))` (`conv_runtime::mul_add`); `0.0` for none.
fn fused_sums(s: &Sums, first: &[Ident], second: &[Ident], zero: &TokenStream) -> Vec<TokenStream> {
    s.iter()
        .map(|products| {
            let mut terms = products
                .iter()
                .map(|&Product(a, b)| (&first[a as usize], &second[b as usize]));
            match terms.next() {
                None => zero.clone(),
                Some((a, b)) => {
                    terms.fold(quote!(#a * #b), |sum, (a, b)| quote!(mul_add(#a, #b, #sum)))
                }
            }
        })
        .collect()
}

/// `bias + a0 * b0 + a1 * b1 + ...`, the forward sum of one output element.
fn biased_sum(
    bias: &Ident,
    products: &[Product],
    first: &[Ident],
    second: &[Ident],
) -> TokenStream {
    let terms = products.iter().map(|&Product(a, b)| {
        let (a, b) = (&first[a as usize], &second[b as usize]);
        quote!(#a * #b)
    });
    quote!(#bias #(+ #terms)*)
}
