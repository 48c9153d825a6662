//! From the command-line options to a validated [`Spec`], through the attribute's own parser.
//!
//! Each value is tokenized on its own (so a comment or an unbalanced bracket in one value cannot
//! swallow the next key), the attribute `key = value, ...` is assembled from those tokens and
//! handed to [`conv_engine::parse::parse`], exactly as `#[conv2d(...)]` would be.

use conv_engine::Spec;
use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::quote;
use std::str::FromStr;

/// A validated layer and the attribute text it was read from.
pub struct Layer {
    /// The validated spec.
    pub spec: Spec,
    /// The target struct (`pub struct <name>;`).
    pub target: syn::ItemStruct,
    /// The attribute as given: `input = 5x5, kernel = 3x3` (the values as typed, trimmed).
    pub attribute: String,
}

/// Every problem found, each one message (without the `error: ` prefix), and the attribute
/// text when it could be assembled.
pub struct Problems {
    /// The messages, in the order the parser reports them.
    pub messages: Vec<String>,
    /// The attribute text, for a note after the messages.
    pub attribute: Option<String>,
}

/// Parses `(key, flag, value)` options and the struct name into a layer.
pub fn parse(options: &[(&str, &str, &str)], name: &str) -> Result<Layer, Problems> {
    let mut messages = Vec::new();
    let mut entries = Vec::new();
    let mut texts = Vec::new();
    for &(key, flag, value) in options {
        match value_tokens(flag, value) {
            Ok(tokens) => {
                texts.push(format!("{key} = {}", value.trim()));
                let key = Ident::new(key, Span::call_site());
                entries.push(quote!(#key = #tokens));
            }
            Err(message) => messages.push(message),
        }
    }
    let target = match syn::parse_str::<Ident>(name) {
        Ok(ident) => Some(quote!(pub struct #ident;)),
        Err(_) => {
            messages.push(format!(
                "`--name` takes a Rust identifier like `Textbook`, found `{name}`"
            ));
            None
        }
    };
    let (Some(target), true) = (target, messages.is_empty()) else {
        return Err(Problems {
            messages,
            attribute: None,
        });
    };
    let attribute = quote!(#(#entries),*);
    let text = texts.join(", ");
    match conv_engine::parse::parse(attribute, target) {
        Ok((spec, target)) => Ok(Layer {
            spec,
            target,
            attribute: text,
        }),
        Err(e) => Err(Problems {
            messages: e.into_iter().map(|e| e.to_string()).collect(),
            attribute: Some(text),
        }),
    }
}

/// The tokens of one value, or why they cannot stand for one attribute value.
fn value_tokens(flag: &str, value: &str) -> Result<TokenStream, String> {
    let tokens = TokenStream::from_str(value)
        .map_err(|e| format!("`{flag}` value `{value}` is not valid attribute syntax: {e}"))?;
    if tokens.is_empty() {
        return Err(format!("`{flag}` needs a value, found nothing"));
    }
    let top_level_comma = tokens
        .clone()
        .into_iter()
        .any(|t| matches!(&t, TokenTree::Punct(p) if p.as_char() == ','));
    if top_level_comma {
        return Err(format!(
            "`{flag}` takes one value, found `{value}`; write a pair in parentheses, like `(2, 1)`"
        ));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(options: &[(&str, &str, &str)]) -> Vec<String> {
        match parse(options, "Layer") {
            Ok(_) => Vec::new(),
            Err(p) => p.messages,
        }
    }

    #[test]
    fn textbook_parses() {
        let layer = parse(
            &[("input", "--input", "5x5"), ("kernel", "--kernel", "3x3")],
            "T",
        );
        let layer = layer.ok().expect("textbook layer parses");
        assert_eq!(layer.spec.geometry.output(), [3, 3]);
        assert_eq!(layer.attribute, "input = 5x5, kernel = 3x3");
        assert_eq!(layer.target.ident, "T");
    }

    #[test]
    fn a_comment_cannot_swallow_the_next_key() {
        let m = messages(&[
            ("input", "--input", "5x5 //"),
            ("kernel", "--kernel", "3x3"),
        ]);
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn unbalanced_and_smuggled_values_are_errors() {
        let m = messages(&[("input", "--input", "(5, 5"), ("kernel", "--kernel", "3x3")]);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("`--input` value `(5, 5` is not valid"),
            "{m:?}"
        );
        let m = messages(&[("input", "--input", "5x5, kernel = 3x3")]);
        assert!(m[0].contains("takes one value"), "{m:?}");
        let m = messages(&[("input", "--input", ""), ("kernel", "--kernel", "3x3")]);
        assert_eq!(m, ["`--input` needs a value, found nothing"]);
    }

    #[test]
    fn a_bad_name_is_an_error() {
        let m = parse(
            &[("input", "--input", "5x5"), ("kernel", "--kernel", "3x3")],
            "1a",
        );
        assert!(m.is_err());
    }
}
