//! The hidden one-row companion layer of a `rows` layer: its `forward` and `backward` built as
//! IR, proven against the one-row layer's derivation and lowered, the associated functions of
//! the forms vectorised over output channels, and its own compile-time evaluation when the
//! layer is too large to evaluate whole.

use super::{check, fault, geometry, rows, rows_loop, shape, Shapes};
use crate::derive::Derivation;
use crate::plan::{Blocks, Vectors};
use crate::Spec;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The hidden one-row layer of a `rows` layer, with its own compile-time proof
/// when `prove`. Its `forward` and `backward` are built as IR and proven by symbolic execution
/// against the row's derivation (a failure is an error spanned on `name`).
///
/// With `fused`, the companion also has `forward_fused`: `forward`'s program with every
/// product fused into its running sum ([`crate::ir::fuse_sums`]), proven the same way and, when
/// `prove`, evaluated at compile time too; with `wide`, also `forward_fused_wide`, the same in
/// [`Blocks::Wide`] (the AVX-512 tier's). With `twin` (whether fused, and the blocks), the
/// `forward` so built also has a twin lowered with AVX-512 intrinsics
/// ([`crate::plan::Vectors::Avx512`]), suffixed `_avx512`: the same proven program, neither
/// `const` nor evaluated at compile time.
pub(super) fn item(
    row_spec: &Spec,
    row_shapes: &Shapes,
    (row, name): (&proc_macro2::Ident, &proc_macro2::Ident),
    (prove, fused, wide, twin): (bool, bool, bool, Option<(bool, Blocks)>),
    planted: bool,
) -> syn::Result<TokenStream> {
    let shape::Types {
        x: x_ty,
        k: k_ty,
        b: _,
        u: u_ty,
        gradients,
    } = row_shapes.types();
    let b_param = row_shapes.bias_param();
    let row_d = Derivation::new(&row_spec.geometry);
    let how = crate::ir::lower::Lowering {
        scalar: &row_shapes.scalar,
        calls: None,
        names: crate::ir::lower::Names::CONVOLUTION,
        lane_sums: crate::plan::LaneSums::EachColumn,
        vectors: crate::plan::Vectors::Scalar,
    };
    let symbolic = |program: &crate::ir::Program, what: &str| {
        crate::ir::exec::check(program, &row_d, None).map_err(|e| {
            syn::Error::new(
                name.span(),
                format!("conv2d: the one-row layer's `{what}` disagrees with its derivation: {e}"),
            )
        })
    };
    let forward = |blocks| rows::forward(row_spec, row_shapes, blocks);
    let fuse = |mut program: crate::ir::Program| {
        crate::ir::fuse_sums(&mut program.body);
        program
    };
    let name_of =
        |fused, blocks| format_ident!("forward{}", rows_loop::forward_suffix(fused, blocks));
    let twin_name = twin.map(|(fused, blocks)| name_of(fused, blocks));
    let mut forwards = vec![(
        name_of(false, Blocks::Narrow),
        forward(Blocks::Narrow),
        "forward",
    )];
    if fused {
        let program = fuse(forward(Blocks::Narrow));
        forwards.push((name_of(true, Blocks::Narrow), program, "fused forward"));
    }
    if wide {
        let program = fuse(forward(Blocks::Wide));
        forwards.push((name_of(true, Blocks::Wide), program, "wide fused forward"));
    }
    let transposed = crate::plan::rows_forward_over_channels(row_spec);
    let mut forward_items = TokenStream::new();
    let mut transposed_bodies = Vec::new();
    let names: Vec<_> = forwards.iter().map(|(f, ..)| f.clone()).collect();
    for (f, mut program, what) in forwards {
        symbolic(&program, what)?;
        if planted {
            fault::next_element(&mut program, fault::Which::First);
        }
        let mut lowerings = vec![(f.clone(), crate::ir::lower::body(&program, &how), true)];
        if twin_name.as_ref() == Some(&f) {
            let how = crate::ir::lower::Lowering {
                vectors: Vectors::Avx512,
                ..how
            };
            let lowered = crate::ir::lower::body(&program, &how);
            lowerings.push((
                format_ident!("{f}{}", Vectors::Avx512.suffix()),
                lowered,
                false,
            ));
        }
        for (f, lowered, konst) in lowerings {
            let body = match transposed {
                true => {
                    let t =
                        format_ident!("{}", f.to_string().replace("forward", "forward_transposed"));
                    transposed_bodies.push((t.clone(), lowered, konst));
                    quote!(Self::#t(x, &Self::kernel_out_inner(k), b))
                }
                false => lowered,
            };
            forward_items.extend(match konst {
                true => quote! {
                    #[inline(always)]
                    const fn #f(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                        #body
                    }
                },
                // AVX-512 intrinsics: neither `const` nor portable.
                false => quote! {
                    #[cfg(target_arch = "x86_64")]
                    #[inline(always)]
                    #[allow(unsafe_code)]
                    fn #f(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                        #body
                    }
                },
            });
        }
    }
    let backward = rows::backward(row_spec, row_shapes);
    symbolic(&backward, "backward")?;
    let backward = crate::ir::lower::body(&backward, &how);
    let (items, backward) = rows::items(row_spec, row_shapes, &transposed_bodies, backward);
    let geometry = geometry(row_spec);
    // `forward` and `backward` against the reference, the other forwards against `forward`.
    let check = match prove {
        false => TokenStream::new(),
        true => {
            let same: Vec<_> = names.iter().skip(1).collect();
            check::proof(row_spec, row_shapes, row, &same)
        }
    };
    Ok(quote! {
        /// The one-row layer (one output row's input window) that the `rows` strategy loops over.
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        struct #row;

        #[allow(dead_code)]
        impl #row {
            const GEOMETRY: ::conv_runtime::Geometry = #geometry;

            #forward_items

            #[inline(always)]
            const fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
                #backward
            }

            #items
        }

        #check
    })
}
