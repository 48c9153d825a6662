//! Splits the attribute into `key = value` entries at its top-level commas.
//!
//! Commas inside parentheses belong to a value (`input = (5, 5)`): a group is one token tree.

use super::values::Value;
use proc_macro2::{Ident, TokenStream, TokenTree};
use syn::Error;

/// One `key = value`. A malformed entry (no `=`, or nothing after it) keeps its key, so the key
/// still counts as given, and carries its error in place of the value.
pub(super) struct Entry {
    pub key: Ident,
    pub value: syn::Result<Value>,
}

/// The entries of `attr`, in order: an error for a segment without a key (`5x5` alone) or an
/// empty one (`a = 1,, b = 2`).
pub(super) fn entries(attr: TokenStream) -> Vec<syn::Result<Entry>> {
    let segments = split(attr);
    let last = segments.len().saturating_sub(1);
    let mut out = Vec::new();
    for (i, (segment, comma)) in segments.into_iter().enumerate() {
        match (segment.is_empty(), comma) {
            (false, _) => out.push(entry(segment)),
            // A trailing comma (or an empty attribute) is fine.
            (true, Some(comma)) if i < last => out.push(Err(Error::new(
                comma.span(),
                "expected `key = value` before this `,`",
            ))),
            (true, _) => {}
        }
    }
    out
}

/// The tokens between top-level commas, each with the comma that ends it.
pub(super) fn split(attr: TokenStream) -> Vec<(Vec<TokenTree>, Option<TokenTree>)> {
    let mut segments = Vec::new();
    let mut current = Vec::new();
    for tt in attr {
        if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
            segments.push((std::mem::take(&mut current), Some(tt)));
        } else {
            current.push(tt);
        }
    }
    segments.push((current, None));
    segments
}

/// `key = value...` from one non-empty segment, or an error when it does not start with a key.
fn entry(segment: Vec<TokenTree>) -> syn::Result<Entry> {
    let mut tokens = segment.into_iter();
    let key = match tokens.next() {
        Some(TokenTree::Ident(key)) => key,
        first => {
            let all: TokenStream = first.into_iter().chain(tokens).collect();
            let msg = format!("expected a key such as `input`, found `{all}`");
            return Err(Error::new_spanned(&all, msg));
        }
    };
    let value = match tokens.next() {
        Some(TokenTree::Punct(eq)) if eq.as_char() == '=' => {
            let value: Vec<TokenTree> = tokens.collect();
            if value.is_empty() {
                Err(Error::new(
                    eq.span(),
                    format!("expected a value after `{key} =`"),
                ))
            } else {
                Ok(Value::new(value))
            }
        }
        Some(other) => Err(Error::new(
            other.span(),
            format!("expected `=` after `{key}`, found `{other}`"),
        )),
        None => Err(Error::new(key.span(), format!("expected `{key} = ...`"))),
    };
    Ok(Entry { key, value })
}
