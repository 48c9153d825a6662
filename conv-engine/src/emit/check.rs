//! The compile-time check: a `const _: () = ...` item that evaluates the emitted `const fn`s on
//! pseudo-random integer-valued inputs and compares them exactly with the padded/rotated
//! formulation in `conv_runtime::proof` (integer values make every sum exact in `f32` and `f64`,
//! so the check does not depend on summation order). A wrong term fails the build.
//!
//! This is a test on chosen inputs, not a proof: a wrong term whose value happens to equal the
//! right one's on those inputs passes. So the check runs on two input sets where the budget
//! allows ([`input_sets`]): the first drawn with seeds 1-4 (`x`, `k`, `b`, `delta`), the second
//! with seeds 5-8 from the first (`conv_runtime::proof::f32::refill`), so that no element of the
//! second set equals the first set's at the same place.
//!
//! The check's cost is constant-evaluation time, about proportional to the layer's
//! multiply-adds times the number of input sets. [`crate::MAX_WINDOW_MACS`] bounds the layers
//! evaluated whole; the rule keeps two sets within the cost of one set at that bound.

use super::shape::Shapes;
use crate::{Geometry, Spec};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// How many input sets the check evaluates the layer on: two when the layer has at most
/// [`crate::MAX_WINDOW_MACS`]` / 2` multiply-adds, else one.
pub(crate) const fn input_sets(g: &Geometry) -> u64 {
    if g.macs() <= crate::MAX_WINDOW_MACS / 2 {
        2
    } else {
        1
    }
}

/// [`proof`] of the pair `layer::forward_fn` and `layer::backward_fn` (hidden bodies of
/// `layer`, whose `GEOMETRY` is the layer's), and of the other forward bodies `same`: a hidden
/// `__Check` struct in a `const _` block whose `forward` and `backward` call them.
pub(super) fn pair(
    spec: &Spec,
    s: &Shapes,
    layer: &Ident,
    (forward_fn, backward_fn): (&Ident, &Ident),
    same: &[&Ident],
) -> TokenStream {
    let super::shape::Types {
        x: x_ty,
        k: k_ty,
        b: _,
        u: u_ty,
        gradients,
    } = s.types();
    let b_param = s.bias_param();
    let check_name = Ident::new("__Check", proc_macro2::Span::call_site());
    let check = proof(spec, s, &check_name, same);
    quote! {
        #[doc(hidden)]
        const _: () = {
            #[allow(non_camel_case_types)]
            struct __Check;
            impl __Check {
                const GEOMETRY: ::conv_runtime::Geometry = #layer::GEOMETRY;
                const fn forward(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                    #layer::#forward_fn(x, k, b)
                }
                const fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
                    #layer::#backward_fn(x, k, delta)
                }
                #(
                    const fn #same(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                        #layer::#same(x, k, b)
                    }
                )*
            }
            #check
        };
    }
}

/// The check of `name::forward` and `name::backward` against the reference, and of the other
/// forward bodies `same` against `name::forward` on the same inputs (exactly: on integer
/// values every variant's sums are exact).
pub(super) fn proof(spec: &Spec, s: &Shapes, name: &Ident, same: &[&Ident]) -> TokenStream {
    let module = &s.scalar;
    let zero = s.zero();
    let (x0, k0, b0, d0) = (
        s.x.zeroed(&zero),
        s.k.zeroed(&zero),
        s.b.zeroed(&zero),
        s.u.zeroed(&zero),
    );
    // Set `n` (from 0) uses seeds `4n + 1` (x) to `4n + 4` (delta).
    let fill = |op: &super::shape::Operand, place: TokenStream, offset: u64| {
        let view = op.flat(&place, true);
        let offset = proc_macro2::Literal::u64_unsuffixed(offset);
        quote!(::conv_runtime::proof::#module::refill(&#name::GEOMETRY, #view, 4 * set + #offset);)
    };
    let (fx, fk, fb, fd) = (
        fill(&s.x, quote!(x), 1),
        fill(&s.k, quote!(k), 2),
        fill(&s.b, quote!(b), 3),
        fill(&s.u, quote!(delta), 4),
    );
    let b_arg = if s.b.is_scalar() {
        quote!(b)
    } else {
        quote!(&b)
    };
    let view = |op: &super::shape::Operand, place: TokenStream| op.flat(&place, false);
    let args = [
        view(&s.x, quote!(x)),
        view(&s.k, quote!(k)),
        view(&s.b, quote!(b)),
        view(&s.u, quote!(u)),
        view(&s.u, quote!(delta)),
        view(&s.x, quote!(g.dx)),
        view(&s.k, quote!(g.dk)),
        view(&s.b, quote!(g.db)),
    ];
    let g = spec.geometry;
    let sizes =
        [g.input_len(), g.kernel_len(), g.bias_len(), g.output_len()].map(super::shape::lit);
    let sets = proc_macro2::Literal::u64_unsuffixed(input_sets(&g));
    let (u_flat, variant) = (view(&s.u, quote!(u)), view(&s.u, quote!(v)));
    let same = same.iter().map(|f| {
        quote! {
            let v = #name::#f(&x, &k, #b_arg);
            ::conv_runtime::proof::#module::assert_same_forward(#u_flat, #variant);
        }
    });
    quote! {
        #[doc(hidden)]
        #[allow(long_running_const_eval)]
        const _: () = {
            let mut x = #x0;
            let mut k = #k0;
            let mut b = #b0;
            let mut delta = #d0;
            let mut set: u64 = 0;
            while set < #sets {
                #fx #fk #fb #fd
                let u = #name::forward(&x, &k, #b_arg);
                let g = #name::backward(&x, &k, &delta);
                ::conv_runtime::proof::#module::assert_layer::<#(#sizes),*>(&#name::GEOMETRY, #(#args),*);
                #(#same)*
                set += 1;
            }
        };
    }
}
