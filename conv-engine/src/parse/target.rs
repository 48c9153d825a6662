//! The item `#[conv2d]` is applied to: a unit struct without generics.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;

const EXPECTED: &str = "`#[conv2d]` applies to a unit struct such as `pub struct Textbook;`";

/// The target struct, or a spanned error naming what was found instead.
pub(super) fn target(item: TokenStream) -> syn::Result<syn::ItemStruct> {
    let item: syn::Item = syn::parse2(item)?;
    let (span, found): (proc_macro2::Span, &str) = match item {
        syn::Item::Struct(s) => {
            if !s.generics.params.is_empty() || s.generics.where_clause.is_some() {
                (s.generics.span(), "a generic struct (the array sizes are fixed, so the layer takes no parameters)")
            } else if !matches!(s.fields, syn::Fields::Unit) {
                (
                    s.fields.span(),
                    "a struct with fields (the layer holds no data; remove the fields)",
                )
            } else {
                return Ok(s);
            }
        }
        syn::Item::Enum(e) => (e.enum_token.span, "an enum"),
        syn::Item::Fn(f) => (f.sig.fn_token.span, "a function"),
        syn::Item::Union(u) => (u.union_token.span, "a union"),
        other => (first_token_span(&other), "another kind of item"),
    };
    Err(syn::Error::new(span, format!("{EXPECTED}; found {found}")))
}

fn first_token_span(item: &syn::Item) -> proc_macro2::Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(proc_macro2::Span::call_site, |t| t.span())
}
