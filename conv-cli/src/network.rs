//! `network FILE.rs`: the layer table and the memory and cost table of every `#[network]`
//! struct in a Rust source file, from the engine's own parser and renderer
//! ([`conv_engine::network::parse`], [`conv_engine::network::summary`]), so the figures are
//! the ones the generated rustdoc and constants hold.

use crate::args::NetworkArgs;
use proc_macro2::Span;
use quote::ToTokens;
use std::fmt::Write;
use syn::spanned::Spanned;

/// A `#[network(...)]` struct found in the file: its name, the attribute's tokens and the
/// struct without the attribute (what the macro receives).
struct Found {
    name: String,
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    /// The attribute, for problems the engine reports without a narrower place.
    span: Span,
}

/// The Markdown for the networks of `args.file` (the one named `args.name`, or all), or every
/// problem found.
pub fn render(args: &NetworkArgs) -> Result<String, Vec<String>> {
    let path = args.file.display();
    let source = std::fs::read_to_string(&args.file)
        .map_err(|e| vec![format!("cannot read `{path}`: {e}")])?;
    let file = syn::parse_file(&source)
        .map_err(|e| vec![format!("{path}:{}: not Rust source: {e}", at(e.span()))])?;
    let mut found = Vec::new();
    collect(&file.items, &mut found);
    if found.is_empty() {
        return Err(vec![format!(
            "no struct with a `#[network(...)]` attribute in `{path}`"
        )]);
    }
    if let Some(name) = &args.name {
        let names: Vec<String> = found.iter().map(|f| format!("`{}`", f.name)).collect();
        found.retain(|f| &f.name == name);
        if found.is_empty() {
            return Err(vec![format!(
                "no `#[network]` struct named `{name}` in `{path}`; found {}",
                names.join(", ")
            )]);
        }
    }
    let mut out = String::new();
    let mut errors = Vec::new();
    for f in &found {
        match conv_engine::network::parse(f.attr.clone(), f.item.clone()) {
            Ok(network) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                let _ = write!(
                    out,
                    "# {}\n\n{}",
                    f.name,
                    conv_engine::network::summary(&network)
                );
            }
            Err(e) => errors.extend(e.into_iter().map(|e| {
                format!(
                    "{path}:{}: `{}`: {e}",
                    at(narrowest(e.span(), f.span)),
                    f.name
                )
            })),
        }
    }
    match errors.is_empty() {
        true => Ok(out),
        false => Err(errors),
    }
}

/// `line:column` (both 1-based) where `span` starts.
fn at(span: Span) -> String {
    let start = span.start();
    format!("{}:{}", start.line, start.column + 1)
}

/// `span`, unless it is the call site (no place in the file, as for a missing key): then
/// `attribute`.
fn narrowest(span: Span, attribute: Span) -> Span {
    match span.byte_range().is_empty() {
        true => attribute,
        false => span,
    }
}

/// Every struct with a `network` attribute (`#[network(..)]` or a path ending in it, such as
/// `#[conv_runtime::network(..)]`), in inline modules too, in source order.
fn collect(items: &[syn::Item], found: &mut Vec<Found>) {
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                if let Some(f) = network(s) {
                    found.push(f);
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect(items, found);
                }
            }
            _ => {}
        }
    }
}

fn network(s: &syn::ItemStruct) -> Option<Found> {
    let is_network = |a: &syn::Attribute| {
        a.path()
            .segments
            .last()
            .is_some_and(|seg| seg.ident == "network")
    };
    let attr = s.attrs.iter().find(|a| is_network(a))?;
    // `#[network]` without arguments: the engine reports the missing `input`.
    let tokens = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => proc_macro2::TokenStream::new(),
    };
    let mut item = s.clone();
    item.attrs.retain(|a| !is_network(a));
    Some(Found {
        name: s.ident.to_string(),
        attr: tokens,
        item: item.into_token_stream(),
        span: attr.span(),
    })
}
