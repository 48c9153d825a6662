//! The attribute's keys (`input`, `scalar`) and the struct's fields, one layer each: `name:
//! kind` for a layer without options (`a1: relu`), `name: kind!(options)` for one with them
//! (`c1: conv!(kernel = 5x5, out_channels = 6)`, `p1: maxpool!(2x2)`, `f1: dense!(120)`).

use crate::parse::{self, Arguments};
use crate::Scalar;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::Error;

/// The network as written: its keys, and each field's layer kind with its options.
pub(super) struct Syntax {
    pub item: syn::ItemStruct,
    /// `[channels, rows, columns]`, with the span of the value.
    pub input: ([usize; 3], Span),
    pub scalar: Scalar,
    pub layers: Vec<LayerSyntax>,
}

/// One field: its name, docs, the kind's name and the tokens between the kind's parentheses.
pub(super) struct LayerSyntax {
    pub name: syn::Ident,
    pub attrs: Vec<syn::Attribute>,
    pub kind: syn::Ident,
    pub options: Option<TokenStream>,
    /// The whole field type, for errors about the layer as a whole.
    pub span: Span,
}

const EXPECTED: &str = "`#[network]` applies to a struct with one field per layer, such as \
     `pub struct Net { c1: conv!(kernel = 3x3, out_channels = 4), a1: relu, f: flatten, \
     d1: dense!(10) }`";

pub(super) fn parse(attr: TokenStream, item: TokenStream) -> syn::Result<Syntax> {
    let mut errors = parse::Errors::default();
    let keys = errors.ok(keys(attr));
    let item = errors.ok(target(item));
    let layers = item.as_ref().map(|s| fields(s, &mut errors));
    errors.finish()?;
    match (keys, item, layers) {
        (Some((input, scalar)), Some(item), Some(layers)) => Ok(Syntax {
            item,
            input,
            scalar,
            layers,
        }),
        // Every pass that gives `None` has pushed an error.
        _ => Err(Error::new(
            Span::call_site(),
            "invalid `#[network]` attribute",
        )),
    }
}

/// `input = CxHxW` (required) and `scalar = f32 | f64`.
fn keys(attr: TokenStream) -> syn::Result<(([usize; 3], Span), Scalar)> {
    let args = Arguments::read(attr, &["input", "scalar"])?;
    let input = match args.get("input") {
        Some(v) => parse::image_size("input", v)?,
        None => {
            return Err(Error::new(
                Span::call_site(),
                "missing `input = CxHxW` (for example `input = 1x28x28`)",
            ))
        }
    };
    let scalar = match args.get("scalar") {
        Some(v) => parse::scalar_value("scalar", v)?,
        None => Scalar::F32,
    };
    Ok((input, scalar))
}

fn target(item: TokenStream) -> syn::Result<syn::ItemStruct> {
    let item: syn::Item = syn::parse2(item)?;
    let s = match item {
        syn::Item::Struct(s) => s,
        other => {
            return Err(Error::new(
                other.span(),
                format!("{EXPECTED}; found another item"),
            ))
        }
    };
    if !s.generics.params.is_empty() || s.generics.where_clause.is_some() {
        return Err(Error::new_spanned(
            &s.generics,
            format!("{EXPECTED}; found a generic struct (the network's sizes are fixed)"),
        ));
    }
    match &s.fields {
        syn::Fields::Named(f) if !f.named.is_empty() => Ok(s),
        fields => Err(Error::new(
            fields.span(),
            format!("{EXPECTED}; found a struct without named fields"),
        )),
    }
}

fn fields(s: &syn::ItemStruct, errors: &mut parse::Errors) -> Vec<LayerSyntax> {
    s.fields
        .iter()
        .filter_map(|f| errors.ok(field(f)))
        .collect()
}

fn field(f: &syn::Field) -> syn::Result<LayerSyntax> {
    let name = f
        .ident
        .clone()
        .ok_or_else(|| Error::new(f.span(), EXPECTED))?;
    let span = f.ty.span();
    let (kind, options) = match &f.ty {
        syn::Type::Path(p) if p.qself.is_none() => match p.path.get_ident() {
            Some(kind) => (kind.clone(), None),
            None => return Err(not_a_layer(&f.ty)),
        },
        syn::Type::Macro(m) => match m.mac.path.get_ident() {
            Some(kind) => (kind.clone(), Some(m.mac.tokens.clone())),
            None => return Err(not_a_layer(&f.ty)),
        },
        other => return Err(not_a_layer(other)),
    };
    let attrs = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect();
    Ok(LayerSyntax {
        name,
        attrs,
        kind,
        options,
        span,
    })
}

fn not_a_layer(ty: &syn::Type) -> Error {
    let found = quote::ToTokens::to_token_stream(ty).to_string();
    Error::new_spanned(
        ty,
        format!(
            "expected a layer such as `relu`, `flatten`, `conv!(kernel = 3x3, out_channels = 4)`, \
             `maxpool!(2x2)` or `dense!(10)`, found `{found}`"
        ),
    )
}

/// The first token of `tokens`' span, or `fallback` when empty.
pub(super) fn first_span(tokens: &TokenStream, fallback: Span) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or(fallback, |t: TokenTree| t.span())
}
