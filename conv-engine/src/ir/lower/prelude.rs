//! What a lowered body starts with: the `mul_add` import, the `total` and `sum` helpers, and the
//! named operands' bindings, each only where the body uses it.

use super::tokens::{constant_flat, element_name, ident};
use super::{nest, Writer};
use crate::ir::{for_each_expr, Chain, MulAdd, Term};
use crate::plan::Vectors;
use proc_macro2::TokenStream;
use quote::quote;

impl Writer<'_> {
    /// `use conv_runtime::mul_add::f32 as mul_add;` where some sum fuses a second term (an
    /// unused import would warn in the user's crate), and `use core::arch::x86_64::*;` with
    /// [`Vectors::Avx512`].
    pub(super) fn mul_add_import(&self) -> Option<TokenStream> {
        let mut kind = None;
        for_each_expr(&self.program.body, &mut |e| {
            if let Chain::MulAdd(m) = e.chain {
                if e.terms.len() > 1 {
                    kind = Some(m);
                }
            }
        });
        let t = self.how.scalar;
        // Every sum that fuses may be one the vector lowering writes with intrinsics.
        let allow = (self.how.vectors == Vectors::Avx512).then(|| quote!(#[allow(unused_imports)]));
        let mul_add = kind.map(|m| match m {
            MulAdd::Target => quote!(#allow use ::conv_runtime::mul_add::#t as mul_add;),
            MulAdd::Fused => quote!(#allow use ::conv_runtime::mul_add::fused::#t as mul_add;),
        });
        // The intrinsics, where loops may be written with them.
        let vectors = allow.map(|allow| quote!(#allow use ::core::arch::x86_64::*;));
        Some(quote!(#mul_add #vectors)).filter(|t| !t.is_empty())
    }

    /// `const fn total` (the sum of an array's elements in order), `const fn leading` (of its
    /// first elements, pairwise) and `const fn sum` (added pairwise), where a sum uses them.
    pub(super) fn total_fn(&self) -> TokenStream {
        let (mut total, mut leading, mut pairwise) = (false, false, false);
        for_each_expr(&self.program.body, &mut |e| {
            total |= e.terms.iter().any(|t| matches!(t, Term::Total(_)));
            leading |= e.terms.iter().any(|t| matches!(t, Term::Leading(..)));
            pairwise |= e.terms.iter().any(|t| matches!(t, Term::Pairwise(_)));
        });
        let (t, zero) = (self.how.scalar, self.zero());
        let total = total.then(|| {
            quote! {
                /// The sum of the elements, in order.
                const fn total<const N: usize>(t: &[#t; N]) -> #t {
                    let mut s = #zero;
                    let mut i = 0;
                    while i < N { s += t[i]; i += 1; }
                    s
                }
            }
        });
        let leading = leading.then(|| {
            quote! {
                /// The sum of the first `n` elements, pairwise: those past the largest power of
                /// two not above `n` added into the first ones, then the second half into the
                /// first until one is left.
                const fn leading<const N: usize>(t: &[#t; N], n: usize) -> #t {
                    if n == 0 { return #zero; }
                    let mut s = *t;
                    let mut width = 1;
                    while width * 2 <= n { width *= 2; }
                    let mut i = 0;
                    while i + width < n { s[i] += s[i + width]; i += 1; }
                    while width > 1 {
                        width /= 2;
                        i = 0;
                        while i < width { s[i] += s[i + width]; i += 1; }
                    }
                    s[0]
                }
            }
        });
        let pairwise = pairwise.then(|| {
            quote! {
                /// The partial sums added pairwise.
                const fn sum<const N: usize>(s: &[#t; N]) -> #t {
                    let mut width = N;
                    let mut s = *s;
                    while width > 1 {
                        width /= 2;
                        let mut i = 0;
                        while i < width { s[i] += s[i + width]; i += 1; }
                    }
                    s[0]
                }
            }
        });
        quote!(#total #leading #pairwise)
    }

    /// `let [[x_0_0, _], ..] = *x;` for every named operand, `_` for elements never read by a
    /// constant index.
    pub(super) fn named(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for &array in &self.program.named {
            let dims = self.program.dims(array);
            if dims.is_empty() {
                continue;
            }
            let mut used = vec![false; dims.iter().product()];
            for_each_expr(&self.program.body, &mut |e| {
                for p in e.places() {
                    if let (true, Some(flat)) = (p.array == array, constant_flat(p, dims)) {
                        used[flat] = true;
                    }
                }
            });
            let items = used.iter().enumerate().map(|(flat, &u)| match u {
                true => {
                    let n = element_name(self.how.names.prefix(array), dims, flat);
                    quote!(#n)
                }
                false => quote!(_),
            });
            let pattern = nest(dims, &mut items.into_iter());
            let source = ident(self.how.names.source(array));
            out.extend(quote!(let #pattern = *#source;));
        }
        out
    }
}
