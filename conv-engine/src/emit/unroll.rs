//! The fully unrolled `forward` and `backward`: one expression per output element holding only
//! the derivation's nonzero products, in its documented summation order. Operands are
//! destructured into named bindings (no indexing), and the results are built as one nested array
//! literal (no `let` per output element), which keeps rustc's type checking and LLVM cheap.
//!
//! `backward` combines three parts, `dL/dx`, `dL/dk` and `dL/db`, each a function of its own;
//! the plan says whether they are kept apart (`#[inline(never)]`, so that LLVM vectorises each
//! sum on its own) or compiled as one expression. The expressions, and so the results, are the
//! same either way.
//!
//! The sums of `dL/dx` and `dL/dk` start with their first product and add the others in order,
//! each through `conv_runtime::mul_add` (`use`d as `mul_add` where a sum has a second term):
//! one fused multiply-add per term where the plan fuses, a product and a sum elsewhere. The
//! order, and so the compile-time check on integers, is the same either way; on other inputs
//! the fused form rounds once per term instead of twice. `forward` stays unfused, so every
//! form of `forward` gives the same bits. The evidence for both choices is in `BENCHMARKS.md`.

use super::shape::{Operand, Shapes};
use crate::derive::{Derivation, Product, Sums};
use crate::plan::When;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The bodies of `forward` and `backward`.
pub(super) struct Bodies {
    pub forward: TokenStream,
    pub backward: TokenStream,
}

/// The unrolled layer's parts: `forward`'s body, and the bodies of `dl_dx(k, delta) -> X`,
/// `dl_dk(x, delta) -> K` and `dl_db(delta) -> B`, which `backward` combines.
pub(super) struct Parts {
    pub forward: TokenStream,
    pub dl_dx: TokenStream,
    pub dl_dk: TokenStream,
    pub dl_db: TokenStream,
}

/// The parts, with `dL/dx` and `dL/dk` summed through `conv_runtime::mul_add` (`fused`
/// [`When::TargetHas`]: where the build's target has FMA; [`When::Always`]: everywhere `std`
/// is on).
pub(super) fn parts(d: &Derivation, shapes: &Shapes, fused: When, planted: bool) -> Parts {
    let names = Names::new(shapes);
    let (x_used, k_used) = (
        used(d.forward(), shapes.x.len(), 0),
        used(d.forward(), shapes.k.len(), 1),
    );
    let x = names.destructure(&shapes.x, "x", &names.x, &x_used);
    let k = names.destructure(&shapes.k, "k", &names.k, &k_used);
    let b = names.destructure(&shapes.b, "b", &names.b, &vec![true; shapes.b.len()]);
    let all_used = vec![true; shapes.u.len()];
    let delta = names.destructure(&shapes.u, "delta", &names.d, &all_used);
    let zero = shapes.zero();

    let u = d.forward().iter().enumerate().map(|(i, products)| {
        let bias = &names.b[d.u_at(i).c];
        match (planted && !matches!(fused, When::Always), products) {
            // The planted fault (tests only): the first product reads the next weight.
            (true, [Product(x, k), rest @ ..]) if i == 0 => {
                let wrong = [Product(*x, (*k + 1) % names.k.len() as u32)];
                let products: Vec<Product> = wrong.iter().chain(rest).copied().collect();
                biased_sum(bias, &products, &names.x, &names.k)
            }
            _ => biased_sum(bias, products, &names.x, &names.k),
        }
    });
    let u = shapes.u.literal(u.collect());
    let forward = quote! { #x #k #b #u };

    let mut dx = fused_sums(d.dx(), &names.d, &names.k, &zero);
    if planted && matches!(fused, When::Always) {
        // The planted fault (tests only) of the fused variants: the last `dL/dx` element with
        // a product reads the first weight in its first product.
        if let Some((i, products)) = d
            .dx()
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .last()
        {
            let wrong: Vec<Product> = products
                .iter()
                .enumerate()
                .map(|(n, &Product(a, b))| {
                    Product(
                        a,
                        if n == 0 {
                            (b + 1) % names.k.len() as u32
                        } else {
                            b
                        },
                    )
                })
                .collect();
            let wrong = Sums::from_lists(vec![wrong]);
            dx[i] = fused_sums(&wrong, &names.d, &names.k, &zero).remove(0);
        }
    }
    let dx = shapes.x.literal(dx);
    let dk = shapes
        .k
        .literal(fused_sums(d.dk(), &names.d, &names.x, &zero));
    let db = d.db().iter().map(|ds| {
        let terms = ds.iter().map(|&Product(i, _)| &names.d[i as usize]);
        quote!(#(#terms)+*)
    });
    let db = shapes.b.literal(db.collect());
    let t = &shapes.scalar;
    // An output position whose window holds only padding has no `dL/dx` or `dL/dk` terms.
    let delta_in =
        |s: &Sums| names.destructure(&shapes.u, "delta", &names.d, &used(s, shapes.u.len(), 0));
    let (delta_dx, delta_dk) = (delta_in(d.dx()), delta_in(d.dk()));
    let helper = match fused {
        When::Always => quote!(::conv_runtime::mul_add::fused::#t),
        When::TargetHas | When::Never => quote!(::conv_runtime::mul_add::#t),
    };
    // `mul_add` where a sum has a second term (an unused import would warn in the user's crate).
    let mul_add = |s: &Sums| {
        s.iter()
            .any(|products| products.len() > 1)
            .then(|| quote!(use #helper as mul_add;))
    };
    let (mul_add_dx, mul_add_dk) = (mul_add(d.dx()), mul_add(d.dk()));
    Parts {
        forward,
        dl_dx: quote! { #mul_add_dx #k #delta_dx #dx },
        dl_dk: quote! { #mul_add_dk #x #delta_dk #dk },
        dl_db: quote! { #delta #db },
    }
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
