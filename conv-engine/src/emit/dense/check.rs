//! The dense layer's compile-time check, like the convolution's ([`super::super::check`]): a
//! `const _: () = ...` item that evaluates the emitted `const fn forward` and `backward` on
//! pseudo-random integer-valued inputs and compares them exactly with
//! the matrix form (`b + W x`, `Wᵀ δ`, `δ xᵀ`, `δ`) written in
//! `conv_runtime::proof::{f32, f64}::assert_dense`; and `backward_into` likewise, run into
//! buffers that start as copies of the (integer, mostly nonzero) weights and bias, its
//! gradients being what it added (`buffer after - buffer before`, exact on integers).
//!
//! A dense layer with `N` inputs and `M` outputs is the convolution of a 1x1 input with a 1x1
//! kernel, `N` input and `M` output channels (the flat layouts coincide); the check draws its
//! values with that convolution's geometry (`refill`, whose value range keeps every partial sum
//! of `N + 1` or `M` products exact, so the check does not depend on the summation order). It
//! compares with `assert_dense` rather than `conv_runtime::reference`: the reference's general
//! padded/strided loops cost rustc's constant evaluator several times more per weight, where
//! the matrix form is one loop step per product and needs no buffers.
//!
//! The input sets follow the convolution's rule ([`input_sets`]: two when the layer has at most
//! `MAX_WINDOW_MACS / 2` weights, else one; seeds `4n + 1` to `4n + 4`), and a layer of more
//! than [`crate::MAX_WINDOW_MACS`] weights is not evaluated (its code is proven symbolically
//! only; the docs say so), as the evaluation would approach `long_running_const_eval`.

use super::super::check::input_sets;
use crate::{Geometry, GeometrySpec, Scalar};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// The convolution whose reference is the dense layer's: 1x1 input and kernel, `n` input and
/// `m` output channels (`None` when a size is zero or a length overflows).
pub(super) fn geometry(n: usize, m: usize) -> Option<Geometry> {
    GeometrySpec {
        in_channels: n,
        out_channels: m,
        ..GeometrySpec::new([1, 1], [1, 1])
    }
    .resolve()
    .ok()
}

/// Whether the layer of geometry `g` is evaluated at compile time: at most
/// [`crate::MAX_WINDOW_MACS`] weights.
pub(super) fn evaluated(g: &Geometry) -> bool {
    g.macs() <= crate::MAX_WINDOW_MACS
}

/// The `const _` item checking `name::forward`, `name::backward` and `name::backward_into` (`n`
/// inputs, `m` outputs),
/// or nothing when the layer is not [`evaluated`].
pub(super) fn item(name: &Ident, g: &Geometry, scalar: Scalar) -> TokenStream {
    if !evaluated(g) {
        return TokenStream::new();
    }
    let (n, m) = (g.in_channels(), g.out_channels());
    let t = Ident::new(scalar.name(), Span::call_site());
    let zero = match scalar {
        Scalar::F32 => quote!(0.0f32),
        Scalar::F64 => quote!(0.0f64),
    };
    let (ln, lm) = (Literal::usize_unsuffixed(n), Literal::usize_unsuffixed(m));
    let sets = Literal::u64_unsuffixed(input_sets(g));
    let proof = quote!(::conv_runtime::proof::#t);
    quote! {
        #[doc(hidden)]
        const _: () = {
            // The convolution with a 1x1 input and kernel, N input and M output channels.
            const G: ::conv_runtime::Geometry = match (::conv_runtime::GeometrySpec {
                input: [1, 1], kernel: [1, 1], stride: [1, 1], dilation: [1, 1],
                padding: ::conv_runtime::Padding::Valid, in_channels: #ln, out_channels: #lm,
            }).resolve() {
                ::core::result::Result::Ok(g) => g,
                ::core::result::Result::Err(e) => e.panic(),
            };
            let mut x = [#zero; #ln];
            let mut w = [[#zero; #ln]; #lm];
            let mut b = [#zero; #lm];
            let mut delta = [#zero; #lm];
            let mut set: u64 = 0;
            while set < #sets {
                #proof::refill(&G, &mut x, 4 * set + 1);
                #proof::refill(&G, w.as_flattened_mut(), 4 * set + 2);
                #proof::refill(&G, &mut b, 4 * set + 3);
                #proof::refill(&G, &mut delta, 4 * set + 4);
                let u = #name::forward_const(&x, &w, &b);
                let g = #name::backward_const(&x, &w, &delta);
                #proof::assert_dense(
                    &x, w.as_flattened(), &b, &u, &delta, &g.dx, g.dk.as_flattened(), &g.db,
                );
                // Into buffers that hold other values: what was added is the gradient.
                let (mut dw, mut db) = (w, b);
                let dx = #name::backward_into_const(&x, &w, &delta, &mut dw, &mut db);
                let mut o = 0;
                while o < #lm {
                    db[o] -= b[o];
                    let mut i = 0;
                    while i < #ln {
                        dw[o][i] -= w[o][i];
                        i += 1;
                    }
                    o += 1;
                }
                #proof::assert_dense(
                    &x, w.as_flattened(), &b, &u, &delta, &dx, dw.as_flattened(), &db,
                );
                set += 1;
            }
        };
    }
}
