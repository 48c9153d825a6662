//! The dense layer's public functions, with the convolution's dispatch
//! ([`super::super::dispatch`]): `forward`, `backward`, `backward_into`, `backward_deferred`
//! and `backward_sgd` run the variant of the tier the CPU has (`conv_runtime::cpu::tier`),
//! their `_const` twins are the portable `const fn`s (what the compile-time check evaluates),
//! and per x86-64 tier a `#[target_feature]` function compiles that tier's proven body with the
//! tier's features; every build calls that function, also where the build's own features
//! cover the tier.

use super::Docs;
use crate::tier::Tier;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The array types of the layer's arguments and results.
pub(super) struct Types {
    pub t: TokenStream,
    pub x: TokenStream,
    pub w: TokenStream,
    pub u: TokenStream,
    pub gradients: TokenStream,
    /// `x` of every sample of a chunk.
    pub xs: TokenStream,
    /// `u` (and `delta`) of every sample of a chunk.
    pub us: TokenStream,
}

/// The lowered bodies of one tier, in the order of [`Function::ALL`].
pub(super) struct Bodies {
    pub tier: Tier,
    pub bodies: [TokenStream; Function::ALL.len()],
}

/// One of the layer's functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Function {
    Forward,
    Backward,
    BackwardInto,
    BackwardDeferred,
    BackwardSgd,
    ForwardChunk,
    BackwardDeferredChunk,
}

impl Function {
    pub(super) const ALL: [Function; 7] = [
        Function::Forward,
        Function::Backward,
        Function::BackwardInto,
        Function::BackwardDeferred,
        Function::BackwardSgd,
        Function::ForwardChunk,
        Function::BackwardDeferredChunk,
    ];

    /// The public name.
    pub(super) const fn name(self) -> &'static str {
        match self {
            Function::Forward => "forward",
            Function::Backward => "backward",
            Function::BackwardInto => "backward_into",
            Function::BackwardDeferred => "backward_deferred",
            Function::BackwardSgd => "backward_sgd",
            Function::ForwardChunk => "forward_chunk",
            Function::BackwardDeferredChunk => "backward_deferred_chunk",
        }
    }

    /// The parameters (with their types), the arguments that pass them on, and the result.
    fn signature(self, types: &Types) -> (TokenStream, TokenStream, TokenStream) {
        let Types {
            t,
            x,
            w,
            u,
            gradients,
            xs,
            us,
        } = types;
        match self {
            Function::Forward => (quote!(x: &#x, w: &#w, b: &#u), quote!(x, w, b), quote!(#u)),
            Function::Backward => (
                quote!(x: &#x, w: &#w, delta: &#u),
                quote!(x, w, delta),
                quote!(#gradients),
            ),
            Function::BackwardInto => (
                quote!(x: &#x, w: &#w, delta: &#u, dw: &mut #w, db: &mut #u),
                quote!(x, w, delta, dw, db),
                quote!(#x),
            ),
            Function::BackwardDeferred => (
                quote!(w: &#w, delta: &#u, db: &mut #u),
                quote!(w, delta, db),
                quote!(#x),
            ),
            Function::BackwardSgd => (
                quote!(x: &#x, w: &mut #w, b: &mut #u, delta: &#u, rate: #t),
                quote!(x, w, b, delta, rate),
                quote!(#x),
            ),
            Function::ForwardChunk => (
                quote!(x: &#xs, w: &#w, b: &#u),
                quote!(x, w, b),
                quote!(#us),
            ),
            Function::BackwardDeferredChunk => (
                quote!(w: &#w, delta: &#us, db: &mut #u),
                quote!(w, delta, db),
                quote!(#xs),
            ),
        }
    }

    /// Whether a hidden `__{name}_on(tier, ..)` is emitted, for the tests that compare tiers.
    const fn on_tier(self) -> bool {
        matches!(self, Function::Forward | Function::Backward)
    }
}

/// The public functions and the hidden tier functions, from the portable bodies and those of
/// the x86-64 tiers.
pub(super) fn functions(
    types: &Types,
    portable: &Bodies,
    tiers: &[Bodies],
    docs: &Docs,
) -> TokenStream {
    Function::ALL
        .iter()
        .enumerate()
        .map(|(n, &f)| function(f, types, &portable.bodies[n], tiers, n, docs))
        .collect()
}

/// Function `f` (number `n` of [`Function::ALL`]): the public dispatching function, its
/// `const fn`, its tier functions and, for [`Function::on_tier`], the hidden `__{name}_on`.
fn function(
    f: Function,
    types: &Types,
    portable: &TokenStream,
    tiers: &[Bodies],
    n: usize,
    docs: &Docs,
) -> TokenStream {
    let (params, args, ret) = f.signature(types);
    let name = Ident::new(f.name(), proc_macro2::Span::call_site());
    let konst = format_ident!("{}_const", f.name());
    let (doc, const_doc) = docs.of(f);
    let mut hidden = TokenStream::new();
    let mut arms = TokenStream::new();
    for Bodies { tier, bodies } in tiers {
        let suffix = format!("{tier:?}").to_lowercase();
        let outer = format_ident!("__{}_{}", f.name(), suffix);
        let inner = format_ident!("__{}_{}_body", f.name(), suffix);
        let body = &bodies[n];
        let features = tier.target_features();
        let variant = format_ident!("{}", format!("{tier:?}"));
        hidden.extend(quote! {
            #[doc(hidden)]
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            #[allow(unsafe_code)]
            fn #inner(#params) -> #ret {
                #body
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #outer(#params) -> #ret {
                Self::#inner(#args)
            }
        });
        // SAFETY: `tier` is one the CPU has (`conv_runtime::cpu`), so it runs the features
        // the function was compiled for (called so in every build, as the convolution's).
        arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => unsafe { Self::#outer(#args) }
        });
    }
    let on = f.on_tier().then(|| {
        let on = format_ident!("__{}_on", f.name());
        let doc = format!(
            "`{}` on `tier`, or `None` when the CPU lacks it (for tests that compare the tiers).",
            f.name()
        );
        quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #[allow(unsafe_code)]
            pub fn #on(tier: ::conv_runtime::cpu::Tier, #params) -> ::core::option::Option<#ret> {
                if !::conv_runtime::cpu::is_available(tier) {
                    return ::core::option::Option::None;
                }
                ::core::option::Option::Some(match tier {
                    #arms
                    _ => Self::#konst(#args),
                })
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[inline]
        #[allow(unsafe_code)]
        pub fn #name(#params) -> #ret {
            match ::conv_runtime::cpu::tier() {
                #arms
                _ => Self::#konst(#args),
            }
        }

        #[doc = #const_doc]
        #[inline]
        pub const fn #konst(#params) -> #ret {
            #portable
        }

        #on
        #hidden
    }
}
