//! The fully unrolled `forward` and `backward`: one expression per output element holding only
//! the derivation's nonzero products, in its documented summation order. Operands are
//! destructured into named bindings (no indexing), and the results are built as one nested array
//! literal (no `let` per output element), which keeps rustc's type checking and LLVM cheap.

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
    let (x_used, k_used) = used(d, shapes);
    let all_used = vec![true; shapes.u.len()];
    let x = names.destructure(&shapes.x, "x", &names.x, &x_used);
    let k = names.destructure(&shapes.k, "k", &names.k, &k_used);
    let b = names.destructure(&shapes.b, "b", &names.b, &vec![true; shapes.b.len()]);
    let delta = names.destructure(&shapes.u, "delta", &names.d, &all_used);
    let zero = shapes.zero();

    let u = d.forward().iter().enumerate().map(|(i, products)| {
        let bias = &names.b[d.u_at(i).c];
        sum(Some(quote!(#bias)), products, &names.x, &names.k, &zero)
    });
    let u = shapes.u.literal(u.collect());
    let forward = quote! { #x #k #b #u };

    let dx = shapes.x.literal(sums(d.dx(), &names.d, &names.k, &zero));
    let dk = shapes.k.literal(sums(d.dk(), &names.d, &names.x, &zero));
    let db = d.db().iter().map(|ds| {
        let terms = ds.iter().map(|&Product(i, _)| &names.d[i as usize]);
        quote!(#(#terms)+*)
    });
    let db = shapes.b.literal(db.collect());
    let backward = quote! {
        #x #k #delta
        ::conv_runtime::Gradients { dx: #dx, dk: #dk, db: #db }
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

/// Which `x` and `k` elements appear in any product (the others are bound to `_`).
fn used(d: &Derivation, s: &Shapes) -> (Vec<bool>, Vec<bool>) {
    let (mut x, mut k) = (vec![false; s.x.len()], vec![false; s.k.len()]);
    for products in d.forward().iter() {
        for &Product(xi, ki) in products {
            x[xi as usize] = true;
            k[ki as usize] = true;
        }
    }
    (x, k)
}

fn sums(s: &Sums, first: &[Ident], second: &[Ident], zero: &TokenStream) -> Vec<TokenStream> {
    s.iter()
        .map(|products| sum(None, products, first, second, zero))
        .collect()
}

/// `start + a0 * b0 + a1 * b1 + ...`; `0.0` when there is nothing to add.
fn sum(
    start: Option<TokenStream>,
    products: &[Product],
    first: &[Ident],
    second: &[Ident],
    zero: &TokenStream,
) -> TokenStream {
    let terms = products.iter().map(|&Product(a, b)| {
        let (a, b) = (&first[a as usize], &second[b as usize]);
        quote!(#a * #b)
    });
    let terms: Vec<_> = start.into_iter().chain(terms).collect();
    if terms.is_empty() {
        zero.clone()
    } else {
        quote!(#(#terms)+*)
    }
}
