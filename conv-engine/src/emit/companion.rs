//! The hidden one-row companion layer of a `rows` layer: its `forward` and `backward` built as
//! IR, proven against the one-row layer's derivation and lowered, the associated functions of
//! the forms vectorised over output channels, and its own compile-time evaluation when the
//! layer is too large to evaluate whole.

use super::{check, fault, geometry, rows, shape, Shapes};
use crate::derive::Derivation;
use crate::Spec;
use proc_macro2::TokenStream;
use quote::quote;

/// The hidden one-row layer of a `rows` layer, with its own compile-time proof
/// when `prove`. Its `forward` and `backward` are built as IR and proven by symbolic execution
/// against the row's derivation (a failure is an error spanned on `name`).
pub(super) fn item(
    row_spec: &Spec,
    row_shapes: &Shapes,
    (row, name): (&proc_macro2::Ident, &proc_macro2::Ident),
    prove: bool,
    planted: bool,
) -> syn::Result<TokenStream> {
    let row_d = Derivation::new(&row_spec.geometry);
    let how = crate::ir::lower::Lowering {
        scalar: &row_shapes.scalar,
        calls: None,
        names: crate::ir::lower::Names::CONVOLUTION,
    };
    let symbolic = |program: &crate::ir::Program, what: &str| {
        crate::ir::exec::check(program, &row_d, None).map_err(|e| {
            syn::Error::new(
                name.span(),
                format!("conv2d: the one-row layer's `{what}` disagrees with its derivation: {e}"),
            )
        })
    };
    let mut forward = rows::forward(row_spec, row_shapes);
    symbolic(&forward, "forward")?;
    if planted {
        fault::next_element(&mut forward, fault::Which::First);
    }
    let lowered = crate::ir::lower::body(&forward, &how);
    let (forward, transposed) = match crate::plan::rows_forward_over_channels(row_spec) {
        true => (
            quote!(Self::forward_transposed(x, &Self::kernel_out_inner(k), b)),
            Some(lowered),
        ),
        false => (lowered, None),
    };
    let backward = rows::backward(row_spec, row_shapes);
    symbolic(&backward, "backward")?;
    let backward = crate::ir::lower::body(&backward, &how);
    let (items, backward) = rows::items(row_spec, row_shapes, transposed, backward);
    let shape::Types {
        x: x_ty,
        k: k_ty,
        b: _,
        u: u_ty,
        gradients,
    } = row_shapes.types();
    let b_param = row_shapes.bias_param();
    let geometry = geometry(row_spec);
    let check = if prove {
        check::proof(row_spec, row_shapes, row)
    } else {
        TokenStream::new()
    };
    Ok(quote! {
        /// The one-row layer (one output row's input window) that the `rows` strategy loops over.
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        struct #row;

        #[allow(dead_code)]
        impl #row {
            const GEOMETRY: ::conv_runtime::Geometry = #geometry;

            #[inline(always)]
            const fn forward(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                #forward
            }

            #[inline(always)]
            const fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
                #backward
            }

            #items
        }

        #check
    })
}
