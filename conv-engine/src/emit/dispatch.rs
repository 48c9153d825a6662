//! The layer's public functions: `forward` and `backward`, which run the variant of the tier
//! the CPU has (`conv_runtime::cpu::tier`), their portable `const fn`s `forward_const` and
//! `backward_const`, and per x86-64 tier a `#[target_feature]` function that compiles that
//! tier's body with the tier's features.

use super::shape::{self, Shapes};
use super::variants::{self, Names};
use crate::plan::{Dx, Plan, Tier, TierPlan, When};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Docs of the four public functions.
pub(super) struct Docs {
    pub forward: String,
    pub forward_const: String,
    pub backward: String,
    pub backward_const: String,
}

/// The public functions (inherent) and the tier functions (hidden associated items).
pub(super) struct Functions {
    pub public: TokenStream,
    pub hidden: TokenStream,
}

pub(super) fn functions(plan: &Plan, shapes: &Shapes, name: &Ident, docs: &Docs) -> Functions {
    let shape::Types {
        x: x_ty,
        k: k_ty,
        b: b_ty,
        u: u_ty,
        gradients,
    } = shapes.types();
    // The bodies take a plain layer's bias by value, a channel-first layer's by reference.
    let (b_param, b_arg) = match shapes.b.is_scalar() {
        true => (shapes.bias_param(), quote!(*b)),
        false => (shapes.bias_param(), quote!(b)),
    };
    let portable = variants::names(&plan.portable);
    let mut hidden = TokenStream::new();
    let (mut forward_arms, mut backward_arms) = (TokenStream::new(), TokenStream::new());
    let tiers: &[Tier] = match plan.dispatch {
        true => &[Tier::Avx512, Tier::Avx2],
        false => &[],
    };
    for &tier in tiers {
        let p = plan.tier(tier);
        let Names { forward, backward } = variants::names(p);
        let features = tier.target_features();
        let suffix = format!("{tier:?}").to_lowercase();
        let (f, b) = (
            format_ident!("__forward_{}", suffix),
            format_ident!("__backward_{}", suffix),
        );
        let variant = format_ident!("{}", format!("{tier:?}"));
        let types = Types {
            name,
            x: x_ty.clone(),
            k: k_ty.clone(),
            u: u_ty.clone(),
        };
        let backward_body = split_backward(p, &types, features, &backward);
        hidden.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #f(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                Self::#forward(x, k, b)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #b(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
                #backward_body
            }
        });
        // SAFETY: `tier` is one the CPU has (`conv_runtime::cpu`), so it runs the features
        // the function was compiled for. Called so in every build, also where the build's own
        // target features cover the tier (`-C target-cpu=native`): there the body, inlined into
        // a network's code, made LLVM copy the layer's output (18 KB per call for LeNet-5's
        // first layer), where the function's return was written in place.
        forward_arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => unsafe { Self::#f(x, k, #b_arg) }
        });
        backward_arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => unsafe { Self::#b(x, k, delta) }
        });
    }
    let Names {
        forward: pf,
        backward: pb,
    } = portable;
    let tier_ty = quote!(::conv_runtime::cpu::Tier);
    let (forward_call, backward_call) = match plan.dispatch {
        true => (
            quote!(match ::conv_runtime::cpu::tier() {
                #forward_arms
                _ => Self::#pf(x, k, #b_arg),
            }),
            quote!(match ::conv_runtime::cpu::tier() {
                #backward_arms
                _ => Self::#pb(x, k, delta),
            }),
        ),
        false => (
            quote!(Self::#pf(x, k, #b_arg)),
            quote!(Self::#pb(x, k, delta)),
        ),
    };
    let Docs {
        forward: fd,
        forward_const: fcd,
        backward: bd,
        backward_const: bcd,
    } = docs;
    let public = quote! {
        #[doc = #fd]
        #[inline]
        #[allow(unsafe_code)]
        pub fn forward(x: &#x_ty, k: &#k_ty, b: &#b_ty) -> #u_ty {
            #forward_call
        }

        #[doc = #fcd]
        #[inline]
        pub const fn forward_const(x: &#x_ty, k: &#k_ty, b: &#b_ty) -> #u_ty {
            Self::#pf(x, k, #b_arg)
        }

        #[doc = #bd]
        #[inline]
        #[allow(unsafe_code)]
        pub fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
            #backward_call
        }

        #[doc = #bcd]
        #[inline]
        pub const fn backward_const(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
            Self::#pb(x, k, delta)
        }

        /// `forward` on `tier`, or `None` when the CPU lacks it (for tests that compare
        /// the tiers).
        #[doc(hidden)]
        #[allow(unsafe_code)]
        pub fn __forward_on(tier: #tier_ty, x: &#x_ty, k: &#k_ty, b: &#b_ty) -> ::core::option::Option<#u_ty> {
            if !::conv_runtime::cpu::is_available(tier) {
                return ::core::option::Option::None;
            }
            ::core::option::Option::Some(match tier {
                #forward_arms
                _ => Self::#pf(x, k, #b_arg),
            })
        }

        /// `backward` on `tier`, or `None` when the CPU lacks it.
        #[doc(hidden)]
        #[allow(unsafe_code)]
        pub fn __backward_on(tier: #tier_ty, x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> ::core::option::Option<#gradients> {
            if !::conv_runtime::cpu::is_available(tier) {
                return ::core::option::Option::None;
            }
            ::core::option::Option::Some(match tier {
                #backward_arms
                _ => Self::#pb(x, k, delta),
            })
        }
    };
    Functions { public, hidden }
}

/// The body of a tier's `backward`: its hidden body, or for an unrolled `backward` the plan
/// splits, `dL/dx` and `dL/dk` in `#[inline(never)]` functions with the tier's features (each
/// vectorised on its own).
fn split_backward(p: &TierPlan, types: &Types, features: &str, backward: &Ident) -> TokenStream {
    if !(p.dx == Dx::Unrolled && p.split == When::Always) {
        return quote!(Self::#backward(x, k, delta));
    }
    let [dl_dx, dl_dk, dl_db] = variants::unrolled_parts(p);
    let Types { name, x, k, u } = types;
    quote! {
        #[target_feature(enable = #features)]
        #[inline(never)]
        fn dl_dx(k: &#k, delta: &#u) -> #x {
            #name::#dl_dx(k, delta)
        }
        #[target_feature(enable = #features)]
        #[inline(never)]
        fn dl_dk(x: &#x, delta: &#u) -> #k {
            #name::#dl_dk(x, delta)
        }
        ::conv_runtime::Gradients {
            dx: dl_dx(k, delta),
            dk: dl_dk(x, delta),
            db: Self::#dl_db(delta),
        }
    }
}

/// The layer's name and array types, for nested functions (which cannot name `Self`).
struct Types<'a> {
    name: &'a Ident,
    x: TokenStream,
    k: TokenStream,
    u: TokenStream,
}

/// `__parameter_gradients(x, k, delta) -> (dk, db)`: `dL/dk` and `dL/db` without `dL/dx`
/// (hidden: what a network's first layer needs), running the variant of the CPU's tier as
/// `backward` does, with one `#[target_feature]` function per x86-64 tier.
/// `None` when some tier's `backward` form cannot be cut
/// ([`variants::parameters_name`]).
pub(super) fn parameter_gradients(plan: &Plan, shapes: &Shapes) -> Option<TokenStream> {
    let shape::Types {
        x: x_ty,
        k: k_ty,
        b: b_ty,
        u: u_ty,
        ..
    } = shapes.types();
    let ret = quote!((#k_ty, #b_ty));
    let portable = variants::parameters_name(&plan.portable)?;
    let mut arms = TokenStream::new();
    let mut hidden = TokenStream::new();
    let tiers: &[Tier] = match plan.dispatch {
        true => &[Tier::Avx512, Tier::Avx2],
        false => &[],
    };
    for &tier in tiers {
        let body = variants::parameters_name(plan.tier(tier))?;
        let features = tier.target_features();
        let f = format_ident!("__parameters_{}", format!("{tier:?}").to_lowercase());
        let variant = format_ident!("{}", format!("{tier:?}"));
        hidden.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = #features)]
            #[inline]
            fn #f(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #ret {
                Self::#body(x, k, delta)
            }
        });
        // SAFETY: as `backward`'s arms: `tier` is one the CPU has.
        arms.extend(quote! {
            #[cfg(target_arch = "x86_64")]
            ::conv_runtime::cpu::Tier::#variant => unsafe { Self::#f(x, k, delta) }
        });
    }
    let call = match plan.dispatch {
        true => quote!(match ::conv_runtime::cpu::tier() {
            #arms
            _ => Self::#portable(x, k, delta),
        }),
        false => quote!(Self::#portable(x, k, delta)),
    };
    Some(quote! {
        #hidden

        /// `dL/dk` and `dL/db` of `backward`, without `dL/dx`.
        #[doc(hidden)]
        #[inline]
        #[allow(unsafe_code)]
        pub fn __parameter_gradients(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #ret {
            #call
        }
    })
}
