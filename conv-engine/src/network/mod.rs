//! `#[network]`: a whole small network (convolution, dense, pooling, activation and flatten
//! layers, then softmax cross-entropy), from the same pipeline as `#[conv2d]`, one stage per
//! module:
//!
//! ```text
//! #[network(...)] struct   -> syntax   the attribute's keys and one layer per field
//!                          -> shapes   shapes inferred layer by layer; each layer's options
//!                                      validated as its own attribute would be
//!                          -> emit     each layer's code (a convolution through `#[conv2d]`'s
//!                                      own expansion, a dense layer through its proven IR),
//!                                      then the glue: parameters, workspace, forward,
//!                                      backward, updates, memory and cost constants, docs
//! ```
//!
//! Every problem is a `syn::Error` on the narrowest span (the layer, or the number in it),
//! and all of them are reported together.

mod emit;
mod memory;
mod shapes;
mod syntax;

pub use memory::Memory;
pub use shapes::{Kind, Layer, Network, Shape};

use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[network(attr)] item`. On any error the item's name is still declared (as a unit
/// struct) next to the errors, so one mistake gives one diagnostic.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    // A planted fault (tests only, `crate::emit::Fault`), for every layer it applies to.
    let (attr, fault) = crate::emit::fault::take(attr);
    match parse(attr, item.clone()) {
        Ok(network) => match emit::network(&network, fault) {
            Ok(tokens) => tokens,
            Err(e) => fallback(&item, e),
        },
        Err(e) => fallback(&item, e),
    }
}

/// The validated network of `#[network(attr)] item`, or every problem found.
pub fn parse(attr: TokenStream, item: TokenStream) -> syn::Result<Network> {
    let syntax = syntax::parse(attr, item)?;
    shapes::infer(syntax)
}

/// The network's layer table (kind, output shape, parameters, multiply-adds, what was checked)
/// and its memory and cost table, as Markdown: the generated struct's rustdoc, and what
/// `conv-derivation network` prints.
pub fn summary(network: &Network) -> String {
    emit::docs::network(network, &Memory::of(network))
}

fn fallback(item: &TokenStream, e: syn::Error) -> TokenStream {
    let e = e.to_compile_error();
    match syn::parse2::<syn::ItemStruct>(item.clone()) {
        Ok(s) => {
            let (attrs, vis, name) = (&s.attrs, &s.vis, &s.ident);
            let attrs = attrs.iter().filter(|a| a.path().is_ident("doc"));
            quote!(#(#attrs)* #vis struct #name; #e)
        }
        Err(_) => e,
    }
}

#[cfg(test)]
mod tests;
