//! The dense layer's compile-time check, like the convolution's ([`super::super::check`]):
//! `const _: () = ...` items that evaluate the emitted `const fn forward` and `backward` on
//! pseudo-random integer-valued inputs and compare them exactly with
//! the matrix form (`b + W x`, `Wᵀ δ`, `δ xᵀ`, `δ`) written in
//! `conv_runtime::proof::{f32, f64}::assert_dense`; `backward_into`, run into buffers that
//! start as copies of the (integer, mostly nonzero) weights and bias, its gradients being what
//! it added (`buffer after - buffer before`, exact on integers), with `assert_dense_added`; and
//! `backward_sgd` at rate -1 on copies of the weights and bias, checked the same way.
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

/// The `const _` items checking `name::forward` with `name::backward`, `name::backward_into`,
/// `name::backward_deferred` and `name::backward_sgd` (`n` inputs, `m` outputs), or nothing
/// when the layer is not [`evaluated`]. Four items, not one: each constant evaluation has its
/// own step budget (`long_running_const_eval`), and one item checking them all would exceed it
/// at the sizes that are evaluated (a 400 -> 120 layer does).
pub(super) fn item(name: &Ident, g: &Geometry, scalar: Scalar) -> TokenStream {
    if !evaluated(g) {
        return TokenStream::new();
    }
    let t = Ident::new(scalar.name(), Span::call_site());
    let proof = quote!(::conv_runtime::proof::#t);
    let ln = Literal::usize_unsuffixed(g.in_channels());
    let backward = quote! {
        let u = #name::forward_const(&x, &w, &b);
        let g = #name::backward_const(&x, &w, &delta);
        #proof::assert_dense(
            &x, w.as_flattened(), &b, &u, &delta, &g.dx, g.dk.as_flattened(), &g.db,
        );
    };
    // Into buffers that hold other values (copies of the weights and bias): what was added,
    // exact on integers, is the gradient. `u` is checked with `backward`, so this item skips
    // it (and `forward_const`): the two items stay within the evaluation's step budget.
    let into = quote! {
        let (mut dw, mut db) = (w, b);
        let dx = #name::backward_into_const(&x, &w, &delta, &mut dw, &mut db);
        #proof::assert_dense_added(
            &x, w.as_flattened(), &delta, &dx, w.as_flattened(), dw.as_flattened(), &b, &db,
        );
    };
    // One step of descent at rate -1 on integers: the parameters gain exactly the gradients
    // (`w - (-1 * g) = w + g`), and `dx` reads the weights before their update.
    let sgd = quote! {
        let (mut w1, mut b1) = (w, b);
        let dx = #name::backward_sgd_const(&x, &mut w1, &mut b1, &delta, -1.0);
        #proof::assert_dense_added(
            &x, w.as_flattened(), &delta, &dx, w.as_flattened(), w1.as_flattened(), &b, &b1,
        );
    };
    // `backward_deferred` takes no `x` and adds nothing to a weight buffer: checked as
    // `backward_into` on a zero `x`, whose `dL/dw` (zero) is what it leaves the weights.
    let deferred = quote! {
        let mut db = b;
        let dx = #name::backward_deferred_const(&w, &delta, &mut db);
        let zero = [0.0; #ln];
        #proof::assert_dense_added(
            &zero, w.as_flattened(), &delta, &dx, w.as_flattened(), w.as_flattened(), &b, &db,
        );
    };
    let [backward, into, deferred, sgd] =
        [backward, into, deferred, sgd].map(|c| checked(g, scalar, c));
    quote!(#backward #into #deferred #sgd)
}

/// A `const _` item that draws the inputs `x`, `w`, `b`, `delta` of each set, then runs
/// `checks` (which evaluate the layer's functions and compare them with the matrix form in
/// `conv_runtime::proof::{f32, f64}`).
fn checked(g: &Geometry, scalar: Scalar, checks: TokenStream) -> TokenStream {
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
                #checks
                set += 1;
            }
        };
    }
}
