//! The compile-time proof: a `const _: () = ...` item that evaluates the emitted `const fn`s on
//! pseudo-random integer-valued inputs and compares them exactly with the padded/rotated
//! formulation in `conv_runtime::proof` (integer values make every sum exact in `f32` and `f64`,
//! so the check does not depend on summation order). A wrong term fails the build.

use super::shape::Shapes;
use crate::Spec;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

pub(super) fn proof(spec: &Spec, s: &Shapes, name: &Ident) -> TokenStream {
    let module = &s.scalar;
    let zero = s.zero();
    let (x0, k0, b0, d0) = (
        s.x.zeroed(&zero),
        s.k.zeroed(&zero),
        s.b.zeroed(&zero),
        s.u.zeroed(&zero),
    );
    let fill = |op: &super::shape::Operand, place: TokenStream, seed: u64| {
        let view = op.flat(&place, true);
        let seed = proc_macro2::Literal::u64_unsuffixed(seed);
        quote!(::conv_runtime::proof::#module::fill(&#name::GEOMETRY, #view, #seed);)
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
    quote! {
        #[doc(hidden)]
        const _: () = {
            let mut x = #x0;
            let mut k = #k0;
            let mut b = #b0;
            let mut delta = #d0;
            #fx #fk #fb #fd
            let u = #name::forward(&x, &k, #b_arg);
            let g = #name::backward(&x, &k, &delta);
            ::conv_runtime::proof::#module::assert_layer::<#(#sizes),*>(&#name::GEOMETRY, #(#args),*);
        };
    }
}
