//! The dense layer's public functions, with the convolution's dispatch
//! ([`super::super::dispatch`]): `forward`, `backward`, `backward_into` and `backward_sgd` run
//! the variant of the tier the CPU has (`conv_runtime::cpu::tier`), `forward_const`,
//! `backward_const`, `backward_into_const` and `backward_sgd_const` are the portable
//! `const fn`s (what the compile-time check evaluates), and per x86-64 tier a
//! `#[target_feature]` function compiles that tier's proven body with the tier's features.
//! Where the build's own features cover a tier (`-C target-cpu=native`, say), the body is
//! called directly, so that it inlines into its caller.

use super::Docs;
use crate::tier::Tier;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The array types of the layer's arguments and results.
pub(super) struct Types {
    pub t: TokenStream,
    pub x: TokenStream,
    pub w: TokenStream,
    pub u: TokenStream,
    pub gradients: TokenStream,
}

/// The lowered `forward`, `backward`, `backward_into` and `backward_sgd` bodies of one tier.
pub(super) struct Bodies {
    pub tier: Tier,
    pub forward: TokenStream,
    pub backward: TokenStream,
    pub backward_into: TokenStream,
    pub backward_sgd: TokenStream,
}

/// The public functions and the hidden tier functions, from the portable bodies and those of
/// the x86-64 tiers.
pub(super) fn functions(
    types: &Types,
    portable: &Bodies,
    tiers: &[Bodies],
    docs: &Docs,
) -> TokenStream {
    let Types {
        t,
        x,
        w,
        u,
        gradients,
    } = types;
    let mut hidden = TokenStream::new();
    let (mut forward_arms, mut backward_arms) = (TokenStream::new(), TokenStream::new());
    let (mut into_arms, mut sgd_arms) = (TokenStream::new(), TokenStream::new());
    for Bodies {
        tier,
        forward: f_body,
        backward: b_body,
        backward_into: i_body,
        backward_sgd: s_body,
    } in tiers
    {
        let suffix = format!("{tier:?}").to_lowercase();
        let (f, b) = (
            format_ident!("__forward_{}", suffix),
            format_ident!("__backward_{}", suffix),
        );
        let (f_inner, b_inner) = (
            format_ident!("__forward_{}_body", suffix),
            format_ident!("__backward_{}_body", suffix),
        );
        let (i, i_inner) = (
            format_ident!("__backward_into_{}", suffix),
            format_ident!("__backward_into_{}_body", suffix),
        );
        let (sgd, sgd_inner) = (
            format_ident!("__backward_sgd_{}", suffix),
            format_ident!("__backward_sgd_{}_body", suffix),
        );
        let features = tier.target_features();
        let variant = format_ident!("{}", format!("{tier:?}"));
        hidden.extend(quote! {
            #[doc(hidden)]
            #[inline(always)]
            fn #f_inner(x: &#x, w: &#w, b: &#u) -> #u {
                #f_body
            }
            #[doc(hidden)]
            #[inline(always)]
            fn #b_inner(x: &#x, w: &#w, delta: &#u) -> #gradients {
                #b_body
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #f(x: &#x, w: &#w, b: &#u) -> #u {
                Self::#f_inner(x, w, b)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #b(x: &#x, w: &#w, delta: &#u) -> #gradients {
                Self::#b_inner(x, w, delta)
            }
            #[doc(hidden)]
            #[inline(always)]
            fn #i_inner(x: &#x, w: &#w, delta: &#u, dw: &mut #w, db: &mut #u) -> #x {
                #i_body
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #i(x: &#x, w: &#w, delta: &#u, dw: &mut #w, db: &mut #u) -> #x {
                Self::#i_inner(x, w, delta, dw, db)
            }
            #[doc(hidden)]
            #[inline(always)]
            fn #sgd_inner(x: &#x, w: &mut #w, b: &mut #u, delta: &#u, rate: #t) -> #x {
                #s_body
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #sgd(x: &#x, w: &mut #w, b: &mut #u, delta: &#u, rate: #t) -> #x {
                Self::#sgd_inner(x, w, b, delta, rate)
            }
        });
        let covered = tier
            .cfg_features()
            .iter()
            .map(|f| quote!(target_feature = #f));
        let covered = quote!(all(#(#covered),*));
        // SAFETY: `tier` is one the CPU has (`conv_runtime::cpu`), so it runs the features
        // the function was compiled for.
        forward_arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => {
                #[cfg(#covered)]
                { Self::#f_inner(x, w, b) }
                #[cfg(not(#covered))]
                unsafe { Self::#f(x, w, b) }
            }
        });
        backward_arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => {
                #[cfg(#covered)]
                { Self::#b_inner(x, w, delta) }
                #[cfg(not(#covered))]
                unsafe { Self::#b(x, w, delta) }
            }
        });
        into_arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => {
                #[cfg(#covered)]
                { Self::#i_inner(x, w, delta, dw, db) }
                #[cfg(not(#covered))]
                unsafe { Self::#i(x, w, delta, dw, db) }
            }
        });
        sgd_arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => {
                #[cfg(#covered)]
                { Self::#sgd_inner(x, w, b, delta, rate) }
                #[cfg(not(#covered))]
                unsafe { Self::#sgd(x, w, b, delta, rate) }
            }
        });
    }
    let (pf, pb, pi, ps) = (
        &portable.forward,
        &portable.backward,
        &portable.backward_into,
        &portable.backward_sgd,
    );
    let Docs {
        forward: fd,
        forward_const: fcd,
        backward: bd,
        backward_const: bcd,
        backward_into: id,
        backward_into_const: icd,
        backward_sgd: sd,
        backward_sgd_const: scd,
        ..
    } = docs;
    let tier_ty = quote!(::conv_runtime::cpu::Tier);
    quote! {
        #[doc = #fd]
        #[inline]
        #[allow(unsafe_code)]
        pub fn forward(x: &#x, w: &#w, b: &#u) -> #u {
            match ::conv_runtime::cpu::tier() {
                #forward_arms
                _ => Self::forward_const(x, w, b),
            }
        }

        #[doc = #fcd]
        #[inline]
        pub const fn forward_const(x: &#x, w: &#w, b: &#u) -> #u {
            #pf
        }

        #[doc = #bd]
        #[inline]
        #[allow(unsafe_code)]
        pub fn backward(x: &#x, w: &#w, delta: &#u) -> #gradients {
            match ::conv_runtime::cpu::tier() {
                #backward_arms
                _ => Self::backward_const(x, w, delta),
            }
        }

        #[doc = #bcd]
        #[inline]
        pub const fn backward_const(x: &#x, w: &#w, delta: &#u) -> #gradients {
            #pb
        }

        #[doc = #id]
        #[inline]
        #[allow(unsafe_code)]
        pub fn backward_into(x: &#x, w: &#w, delta: &#u, dw: &mut #w, db: &mut #u) -> #x {
            match ::conv_runtime::cpu::tier() {
                #into_arms
                _ => Self::backward_into_const(x, w, delta, dw, db),
            }
        }

        #[doc = #icd]
        #[inline]
        pub const fn backward_into_const(x: &#x, w: &#w, delta: &#u, dw: &mut #w, db: &mut #u) -> #x {
            #pi
        }

        #[doc = #sd]
        #[inline]
        #[allow(unsafe_code)]
        pub fn backward_sgd(x: &#x, w: &mut #w, b: &mut #u, delta: &#u, rate: #t) -> #x {
            match ::conv_runtime::cpu::tier() {
                #sgd_arms
                _ => Self::backward_sgd_const(x, w, b, delta, rate),
            }
        }

        #[doc = #scd]
        #[inline]
        pub const fn backward_sgd_const(x: &#x, w: &mut #w, b: &mut #u, delta: &#u, rate: #t) -> #x {
            #ps
        }

        /// `forward` on `tier`, or `None` when the CPU lacks it (for tests that compare
        /// the tiers).
        #[doc(hidden)]
        #[allow(unsafe_code)]
        pub fn __forward_on(tier: #tier_ty, x: &#x, w: &#w, b: &#u) -> ::core::option::Option<#u> {
            if !::conv_runtime::cpu::is_available(tier) {
                return ::core::option::Option::None;
            }
            ::core::option::Option::Some(match tier {
                #forward_arms
                _ => Self::forward_const(x, w, b),
            })
        }

        /// `backward` on `tier`, or `None` when the CPU lacks it.
        #[doc(hidden)]
        #[allow(unsafe_code)]
        pub fn __backward_on(tier: #tier_ty, x: &#x, w: &#w, delta: &#u) -> ::core::option::Option<#gradients> {
            if !::conv_runtime::cpu::is_available(tier) {
                return ::core::option::Option::None;
            }
            ::core::option::Option::Some(match tier {
                #backward_arms
                _ => Self::backward_const(x, w, delta),
            })
        }

        /// `backward_into` on `tier`, or `None` (the buffers untouched) when the CPU lacks it.
        #[doc(hidden)]
        #[allow(unsafe_code)]
        pub fn __backward_into_on(
            tier: #tier_ty, x: &#x, w: &#w, delta: &#u, dw: &mut #w, db: &mut #u,
        ) -> ::core::option::Option<#x> {
            if !::conv_runtime::cpu::is_available(tier) {
                return ::core::option::Option::None;
            }
            ::core::option::Option::Some(match tier {
                #into_arms
                _ => Self::backward_into_const(x, w, delta, dw, db),
            })
        }

        #hidden
    }
}
