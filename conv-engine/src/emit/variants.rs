//! The code of every variant the plan asks for, each written once: the bodies of `forward`
//! per form and of `backward` per form and fusion, as hidden associated `const fn`s of the
//! layer (`#[inline(always)]`, so that each tier's `#[target_feature]` function compiles them
//! with its features).

use super::layer_rows;
use super::rows;
use super::rows_loop;
use super::shape::{self, Shapes};
use super::unroll;
use super::window;
use crate::derive::Derivation;
use crate::ir::{lower, Program};
use crate::plan::{Blocks, ConstCheck, Dx, Forward, LaneSums, Plan, TierPlan, Vectors, When};
use crate::Spec;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

mod parameters;
pub(super) use parameters::{parameters, parameters_name};

/// The hidden function names of one tier's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Names {
    pub forward: Ident,
    pub backward: Ident,
}

/// The layer's variants: hidden items, and the names each tier calls.
pub(super) struct Variants {
    /// Associated functions of the layer (bodies of every variant).
    pub items: TokenStream,
    /// Items beside the layer (the one-row companion of `rows`).
    pub companion: Option<(Spec, Shapes, Ident)>,
}

/// The hidden name of `tier`'s `forward` body.
pub(super) fn forward_name(p: &TierPlan) -> Ident {
    let form = match p.forward {
        Forward::Unrolled => "unrolled",
        Forward::Window => "window",
        Forward::Rows | Forward::RowsOverChannels => "rows",
        Forward::LayerRows => "layer_rows",
    };
    let fused = match (p.forward_fused, p.forward_blocks) {
        (When::Always, Blocks::Wide) => "_fused_wide",
        (When::Always, _) => "_fused",
        _ => "",
    };
    format_ident!("__forward_{}{}{}", form, fused, p.vectors.suffix())
}

/// The hidden name of `tier`'s `backward` body.
pub(super) fn backward_name(p: &TierPlan) -> Ident {
    let form = match (p.dx, p.fused) {
        (Dx::Unrolled, When::Always) => "unrolled_fused",
        (Dx::Unrolled, _) => "unrolled",
        (Dx::Window, _) => "window",
        (Dx::LayerRows | Dx::LayerOverChannels, When::Always) => "rows_fused",
        _ => "rows",
    };
    let sums = match p.lane_sums {
        LaneSums::Avx512Rows => "_avx512_sums",
        LaneSums::EachColumn => p.vectors.suffix(),
    };
    format_ident!("__backward_{}{}{}", form, wide(p), sums)
}

/// The hidden names of `p`'s unrolled `backward`'s parts (`dL/dx`, `dL/dk`, `dL/db`), which
/// differ by whether they fuse and how they write their vectors.
pub(super) fn unrolled_parts(p: &TierPlan) -> [Ident; 3] {
    let suffix = match p.fused {
        When::Always => "_fused",
        _ => "",
    };
    let vectors = p.vectors.suffix();
    ["dx", "dk", "db"].map(|part| format_ident!("__dl_{}{}{}", part, suffix, vectors))
}

/// The names of `tier`'s bodies.
pub(super) fn names(p: &TierPlan) -> Names {
    Names {
        forward: forward_name(p),
        backward: backward_name(p),
    }
}

/// Writes every body some tier uses, once. Each form (unrolled, window, the layer-level `rows`
/// `backward`, the loop over rows around the companion) is built as IR, proven by symbolic
/// execution against the derivation (a failure is an error spanned on `name`), and lowered; the
/// companion's own bodies are proven the same way against the one-row layer's derivation
/// (`companion`).
pub(super) fn build(
    spec: &Spec,
    plan: &Plan,
    d: &Derivation,
    shapes: &Shapes,
    name: &Ident,
    fault: Option<super::Fault>,
) -> syn::Result<Variants> {
    use super::Fault;
    let row_spec = rows::row_spec(spec);
    let row = (row_spec, Shapes::new(&row_spec), rows::companion(name));
    let row_derivation = std::cell::OnceCell::new();
    // Proves `program` (the code of `what`) against the derivation by symbolic execution.
    let prove = |program: &Program, what: &str, calls: Option<&lower::Calls>| {
        let row_d =
            calls.map(|_| row_derivation.get_or_init(|| Derivation::new(&row_spec.geometry)));
        crate::ir::exec::check(program, d, row_d).map_err(|e| {
            syn::Error::new(
                name.span(),
                format!("conv2d: {what} disagrees with the derivation: {e}"),
            )
        })?;
        Ok::<_, syn::Error>(())
    };
    let lower_with = |program: &Program, calls: Option<&lower::Calls>, lane_sums, vectors| {
        lower::body(
            program,
            &lower::Lowering {
                scalar: &shapes.scalar,
                calls,
                names: lower::Names::CONVOLUTION,
                lane_sums,
                vectors,
            },
        )
    };
    let shape::Types {
        x: x_ty,
        k: k_ty,
        b: b_ty,
        u: u_ty,
        gradients,
    } = shapes.types();
    let b_param = shapes.bias_param();
    let mut done: Vec<Ident> = Vec::new();
    let mut items = TokenStream::new();
    for p in plan.tiers().iter().flat_map(|&(_, p)| bodies(plan, p)) {
        let p = &p;
        let (f, b) = (forward_name(p), backward_name(p));
        let lower = |program: &Program, calls: Option<&lower::Calls>| {
            lower_with(program, calls, LaneSums::EachColumn, p.vectors)
        };
        if !done.contains(&f) {
            let fused = p.forward_fused == When::Always;
            // The program of a form, fused where the tier fuses `forward`.
            let form = |mut program: Program| {
                if fused {
                    crate::ir::fuse_sums(&mut program.body);
                }
                program
            };
            // A whole-layer form: fused where the tier fuses, proven, then (in tests only) a
            // wrong term planted in it for the compile-time evaluation to reject.
            let whole = |program: Program, what: &str, planted: Fault| {
                let mut program = form(program);
                prove(&program, what, None)?;
                if fault == Some(planted) {
                    super::fault::next_element(&mut program, super::fault::Which::First);
                }
                Ok::<_, syn::Error>(lower(&program, None))
            };
            let body = match p.forward {
                Forward::Unrolled => whole(
                    unroll::forward(d, shapes),
                    "the unrolled `forward`",
                    Fault::Unrolled,
                )?,
                Forward::Window => whole(
                    window::forward(spec, shapes),
                    "the window `forward`",
                    Fault::Window,
                )?,
                Forward::LayerRows => whole(
                    layer_rows::forward(spec, shapes, p.forward_blocks),
                    "the layer-level `forward`",
                    Fault::LayerRows,
                )?,
                Forward::Rows | Forward::RowsOverChannels => {
                    let mut program = rows_loop::forward(spec);
                    if fault == Some(Fault::RowsLoop) {
                        rows_loop::plant(&mut program);
                    }
                    let companion = (fused, p.forward_blocks, p.vectors);
                    let calls = rows_loop::calls(spec, &row.2, companion);
                    prove(&program, "the loop over rows", Some(&calls))?;
                    lower(&program, Some(&calls))
                }
            };
            items.extend(match p.vectors {
                Vectors::Scalar => quote! {
                    #[inline(always)]
                    const fn #f(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty { #body }
                },
                // AVX-512 intrinsics: neither `const` nor portable.
                Vectors::Avx512 => quote! {
                    #[cfg(target_arch = "x86_64")]
                    #[inline(always)]
                    #[allow(unsafe_code)]
                    fn #f(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty { #body }
                },
            });
            done.push(f);
        }
        if done.contains(&b) {
            continue;
        }
        let body = match p.dx {
            Dx::Unrolled => {
                let mut parts = unroll::backward_parts(d, shapes, p.fused);
                for part in &parts {
                    prove(part, "the unrolled `backward`", None)?;
                }
                if fault == Some(Fault::FusedBackward) && p.fused == When::Always {
                    super::fault::next_element(&mut parts[0], super::fault::Which::Last);
                }
                let [bx, bk, bb] = parts.map(|part| lower(&part, None));
                let [dl_dx, dl_dk, dl_db] = unrolled_parts(p);
                let inline = match p.split {
                    When::Never => quote!(#[inline(always)]),
                    When::Always => quote!(#[inline]),
                    When::TargetHas => quote! {
                        #[cfg_attr(target_feature = "avx512f", inline(never))]
                        #[cfg_attr(not(target_feature = "avx512f"), inline(always))]
                    },
                };
                let (konst, only) = match p.vectors {
                    Vectors::Scalar => (quote!(const), quote!()),
                    // AVX-512 intrinsics: neither `const` nor portable.
                    Vectors::Avx512 => (
                        quote!(),
                        quote!(#[cfg(target_arch = "x86_64")] #[allow(unsafe_code)]),
                    ),
                };
                items.extend(quote! {
                    #only
                    #inline
                    #konst fn #dl_dx(k: &#k_ty, delta: &#u_ty) -> #x_ty { #bx }
                    #only
                    #inline
                    #konst fn #dl_dk(x: &#x_ty, delta: &#u_ty) -> #k_ty { #bk }
                    #only
                    #[inline(always)]
                    #konst fn #dl_db(delta: &#u_ty) -> #b_ty { #bb }
                });
                quote! {
                    ::conv_runtime::Gradients {
                        dx: Self::#dl_dx(k, delta),
                        dk: Self::#dl_dk(x, delta),
                        db: Self::#dl_db(delta),
                    }
                }
            }
            Dx::Window => {
                let program = window::backward(spec, shapes);
                prove(&program, "the window `backward`", None)?;
                lower(&program, None)
            }
            Dx::RowsMatrix => {
                let program = rows_loop::backward(spec, rows_loop::dk_layout(spec));
                let calls = rows_loop::calls(spec, &row.2, (false, Blocks::Narrow, p.vectors));
                prove(&program, "the loop over rows", Some(&calls))?;
                lower(&program, Some(&calls))
            }
            Dx::LayerRows | Dx::LayerOverChannels => {
                let program = layer_level(spec, shapes, p);
                prove(&program, "the layer-level `backward`", None)?;
                lower_with(&program, None, p.lane_sums, p.vectors)
            }
        };
        items.extend(match p.vectors {
            Vectors::Scalar => quote! {
                #[inline(always)]
                const fn #b(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients { #body }
            },
            // AVX-512 intrinsics (and `conv_runtime::lanes`): neither `const` nor portable.
            Vectors::Avx512 => quote! {
                #[cfg(target_arch = "x86_64")]
                #[inline(always)]
                #[allow(unsafe_code)]
                fn #b(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients { #body }
            },
        });
        done.push(b);
    }
    Ok(Variants {
        items,
        companion: plan.companion.then_some(row),
    })
}

/// The plans of the bodies `p` needs: its own, and where its vectors are written with
/// intrinsics in a layer that the compile-time check evaluates whole, first the scalar twin
/// that the check evaluates (the same programs).
fn bodies(plan: &Plan, p: &TierPlan) -> Vec<TierPlan> {
    match (p.vectors, plan.check) {
        (Vectors::Avx512, ConstCheck::Whole) => vec![checked(p), *p],
        _ => vec![*p],
    }
}

/// The plan of the bodies the compile-time check evaluates for `p`'s: `p`'s, their vectors
/// written as scalar code (intrinsics are not `const`).
pub(super) fn checked(p: &TierPlan) -> TierPlan {
    TierPlan {
        vectors: Vectors::Scalar,
        ..*p
    }
}

/// `"_wide"` where `p`'s `backward` takes the wide blocks.
fn wide(p: &TierPlan) -> &'static str {
    match p.backward_blocks {
        Blocks::Wide => "_wide",
        Blocks::Narrow => "",
    }
}

/// The layer-level `backward` program of `p`'s form, its multiply-adds fused where `p` fuses.
fn layer_level(spec: &Spec, shapes: &Shapes, p: &TierPlan) -> Program {
    let mut program = layer_rows::backward(spec, shapes, p.dx, p.backward_blocks);
    if p.fused == When::Always {
        crate::ir::fuse(&mut program.body);
    }
    program
}
