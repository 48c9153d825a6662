//! The item `#[conv2d]` is applied to: a unit struct without generics.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Error, Item};

const EXPECTED: &str = "`#[conv2d]` applies to a unit struct such as `pub struct Textbook;`";

/// The target struct, or an error spanned on what makes it something else (the keyword, the
/// fields, the generics).
pub(super) fn target(item: TokenStream) -> syn::Result<syn::ItemStruct> {
    // `syn::ItemStruct` fails on an enum or a fn with a confusing message; `Item` parses both.
    let item: Item = syn::parse2(item)?;
    let (span, found) = match item {
        Item::Struct(s) => return unit_struct(s),
        Item::Enum(e) => (e.enum_token.span, "an enum"),
        Item::Union(u) => (u.union_token.span, "a union"),
        Item::Fn(f) => (f.sig.fn_token.span, "a function"),
        Item::Trait(t) => (t.trait_token.span, "a trait"),
        Item::Impl(i) => (i.impl_token.span, "an impl block"),
        Item::Mod(m) => (m.mod_token.span, "a module"),
        Item::Type(t) => (t.type_token.span, "a type alias"),
        Item::Const(c) => (c.const_token.span, "a constant"),
        Item::Static(s) => (s.static_token.span, "a static"),
        other => (first_token(&other), "another kind of item"),
    };
    Err(Error::new(span, format!("{EXPECTED}; found {found}")))
}

fn unit_struct(s: syn::ItemStruct) -> syn::Result<syn::ItemStruct> {
    if !s.generics.params.is_empty() || s.generics.where_clause.is_some() {
        return Err(Error::new_spanned(
            &s.generics,
            format!(
                "{EXPECTED}; found a generic struct \
                 (the layer's sizes are fixed by the attribute, so it takes no parameters)"
            ),
        ));
    }
    if !matches!(s.fields, syn::Fields::Unit) {
        let kind = match s.fields {
            syn::Fields::Named(_) => "a struct with fields",
            _ => "a tuple struct",
        };
        return Err(Error::new(
            s.fields.span(),
            format!("{EXPECTED}; found {kind} (the layer holds no data: remove the fields)"),
        ));
    }
    Ok(s)
}

fn first_token(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
