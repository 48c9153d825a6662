//! Emission: tokens for the forward and backward functions, the trait impl, the compile-time
//! check and the derivation docs.

use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[conv2d(attr)] item`. On any error the item is emitted unchanged next to the
/// errors, so one mistake gives one diagnostic.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match crate::parse::parse(attr, item.clone()) {
        Ok((spec, target)) => layer(&spec, &target),
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote! { #item #errors }
        }
    }
}

fn layer(_spec: &crate::Spec, target: &syn::ItemStruct) -> TokenStream {
    quote! { #target }
}
