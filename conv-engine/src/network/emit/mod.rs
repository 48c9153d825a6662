//! The network's code: each layer's own items (a convolution through `#[conv2d]`'s expansion,
//! a dense layer through its IR), then the glue: the parameter struct, the workspace, the
//! functions that chain the layers (`steps`; for batch training, a chunk of samples at once:
//! `chunk`), the memory and cost constants, the trait impl and the docs.

mod backward;
mod chunk;
pub(super) mod docs;
mod functions;
mod steps;
mod trait_impl;
mod types;

use super::memory::{stored, Memory};
use super::shapes::{Kind, Network};
use crate::emit::Fault;
use proc_macro2::TokenStream;
use quote::quote;

/// The whole expansion.
pub(super) fn network(n: &Network, fault: Option<Fault>) -> syn::Result<TokenStream> {
    let t = types::scalar(n);
    let memory = Memory::of(n);
    let stored = stored(n);
    let name = &n.item.ident;
    let vis = &n.item.vis;
    let workspace = types::workspace(n);
    let layer_items = n
        .layers
        .iter()
        .map(|l| layer_item(n, l, fault))
        .collect::<syn::Result<Vec<_>>>()?;

    let fields = n.layers.iter().filter_map(|l| {
        let (w, b) = types::parameters(&t, l)?;
        let (attrs, field) = (&l.attrs, &l.name);
        Some(quote!(#(#attrs)* pub #field: ::conv_runtime::network::Params<#w, #b>,))
    });
    let attrs = n
        .item
        .attrs
        .iter()
        .filter(|a| !a.path().is_ident("network"));
    let doc = super::summary(n);

    let mut ws_fields = Vec::new();
    let mut ws_zero = Vec::new();
    for (i, l) in n.layers.iter().enumerate() {
        if stored[i] {
            let (f, ty, zero) = (
                types::output(i),
                types::shape(&t, l.output),
                types::zero(l.output),
            );
            ws_fields.push(quote!(#f: #ty,));
            ws_zero.push(quote!(#f: #zero,));
        }
        if let Kind::Pool(p) = l.kind {
            if p.kind() == crate::derive::pool::PoolKind::Max {
                let f = types::indices(i);
                let ty = types::nested(quote!(u32), &l.output.dims());
                let zero = types::nested(quote!(0), &l.output.dims());
                ws_fields.push(quote!(#f: #ty,));
                ws_zero.push(quote!(#f: #zero,));
            }
        }
    }
    let input_ty = types::shape(&t, n.input);
    let input_zero = types::zero(n.input);
    let ws_doc = format!(
        "What [`{name}::loss_and_gradients`] and [`{name}::train_step`] keep between the \
         forward and the backward pass: {} bytes, allocated by the caller (on the stack, in a \
         `static`, or boxed).",
        memory.workspace_bytes
    );
    let dinput_doc = format!(
        "`dL/dinput` of the last [`{name}::loss_and_gradients`] call (training, through \
         [`{name}::loss_and_parameter_gradients`] or [`{name}::train_step`], leaves it as it was)."
    );
    let functions = functions::all(n, &memory, &stored);
    let impls = trait_impl::trait_impl(n, &memory);
    Ok(quote! {
        #(#attrs)*
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug, ::core::cmp::PartialEq)]
        #vis struct #name {
            #(#fields)*
        }

        #[doc = #ws_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #workspace {
            #(#ws_fields)*
            #[doc = #dinput_doc]
            pub dinput: #input_ty,
        }

        #[doc(hidden)]
        const _: () = {
            mod __layers {
                #![allow(non_camel_case_types, dead_code)]
                #(#layer_items)*
            }

            impl #workspace {
                /// A zeroed workspace.
                pub const fn new() -> Self {
                    Self { #(#ws_zero)* dinput: #input_zero }
                }
            }

            impl ::core::default::Default for #workspace {
                fn default() -> Self {
                    Self::new()
                }
            }

            #functions
            #impls
        };
    })
}

/// A convolution's, a dense layer's or a pool's own code, in a hidden unit struct, with
/// `fault` planted where it applies.
fn layer_item(
    n: &Network,
    l: &super::shapes::Layer,
    fault: Option<Fault>,
) -> syn::Result<TokenStream> {
    let ident = types::layer_struct(l);
    match &l.kind {
        Kind::Conv(spec) => {
            let item: syn::ItemStruct = syn::parse_quote!(pub struct #ident;);
            // The first layer's `dL/dx` is `dL/dinput`, which training does not need.
            let first = n.layers.first().is_some_and(|f| f.name == l.name);
            let options = crate::emit::Options {
                doc_images: false,
                parameter_gradients: first,
                fault,
                ..crate::emit::Options::default()
            };
            crate::emit::generate_with(spec, &item, &options)
                .map_err(|e| syn::Error::new(l.name.span(), format!("layer `{}`: {e}", l.name)))
        }
        Kind::Dense { inputs, outputs } => {
            crate::emit::dense::item(&ident, *inputs, *outputs, n.scalar, fault)
                .map_err(|e| syn::Error::new(l.name.span(), format!("layer `{}`: {e}", l.name)))
        }
        Kind::Pool(pool) => Ok(crate::emit::pool::item(
            &ident,
            pool,
            n.scalar,
            l.name.span(),
            fault,
        )),
        _ => Ok(TokenStream::new()),
    }
}
