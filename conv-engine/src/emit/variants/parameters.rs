//! The bodies of `dL/dk` and `dL/db` alone (a network's first layer needs no `dL/dx`): each
//! tier's `backward` program cut to what these gradients depend on.

use super::{layer_level, shape, wide, window, Shapes};
use crate::derive::Derivation;
use crate::ir::lower;
use crate::plan::{Dx, LaneSums, Plan, TierPlan, Vectors, When};
use crate::Spec;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The hidden name of `tier`'s body of `dL/dk` and `dL/db` alone, where its `backward` form
/// is IR that [`crate::ir::prune::parameters`] can cut (window and layer-level forms).
pub(in crate::emit) fn parameters_name(p: &TierPlan) -> Option<Ident> {
    let form = match (p.dx, p.fused) {
        (Dx::Window, _) => "window",
        (Dx::LayerRows | Dx::LayerOverChannels, When::Always) => "rows_fused",
        (Dx::LayerRows | Dx::LayerOverChannels, _) => "rows",
        (Dx::Unrolled | Dx::RowsMatrix, _) => return None,
    };
    let sums = match p.parameter_lane_sums {
        LaneSums::Avx512Rows => "_avx512_sums",
        LaneSums::EachColumn => p.parameter_vectors.suffix(),
    };
    Some(format_ident!("__parameters_{}{}{}", form, wide(p), sums))
}

/// The bodies of `dL/dk` and `dL/db` alone (`(dk, db)`), once per form some tier uses: each
/// tier's `backward` program cut to the statements these gradients depend on, proven by
/// symbolic execution against the derivation's `dL/dk` and `dL/db` like every other body.
/// `None` when some tier's form cannot be cut.
pub(in crate::emit) fn parameters(
    spec: &Spec,
    plan: &Plan,
    d: &Derivation,
    shapes: &Shapes,
    name: &Ident,
) -> syn::Result<Option<TokenStream>> {
    if plan
        .tiers()
        .iter()
        .any(|(_, p)| parameters_name(p).is_none())
    {
        return Ok(None);
    }
    let shape::Types {
        x: x_ty,
        k: k_ty,
        b: b_ty,
        u: u_ty,
        ..
    } = shapes.types();
    let mut done: Vec<Ident> = Vec::new();
    let mut items = TokenStream::new();
    for (_, p) in plan.tiers() {
        let Some(f) = parameters_name(p).filter(|f| !done.contains(f)) else {
            continue;
        };
        let program = match p.dx {
            Dx::Window => window::backward(spec, shapes),
            _ => layer_level(spec, shapes, p),
        };
        let Some(program) = crate::ir::prune::parameters(&program) else {
            return Ok(None);
        };
        crate::ir::exec::check(&program, d, None).map_err(|e| {
            syn::Error::new(
                name.span(),
                format!("conv2d: `dL/dk` and `dL/db` alone disagree with the derivation: {e}"),
            )
        })?;
        let body = lower::body(
            &program,
            &lower::Lowering {
                scalar: &shapes.scalar,
                calls: None,
                names: lower::Names::CONVOLUTION,
                lane_sums: p.parameter_lane_sums,
                vectors: p.parameter_vectors,
            },
        );
        items.extend(match p.parameter_vectors {
            Vectors::Scalar => quote! {
                #[inline(always)]
                #[allow(unused_variables)]
                const fn #f(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> (#k_ty, #b_ty) { #body }
            },
            // AVX-512 intrinsics (and `conv_runtime::lanes`): neither `const` nor portable.
            Vectors::Avx512 => quote! {
                #[cfg(target_arch = "x86_64")]
                #[inline(always)]
                #[allow(unused_variables, unsafe_code)]
                fn #f(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> (#k_ty, #b_ty) { #body }
            },
        });
        done.push(f);
    }
    Ok(Some(items))
}
