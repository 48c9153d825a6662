//! The options of `#[network]` and of its layers (`maxpool!(2x2, stride = 1)`): an optional
//! leading value without a key, then `key = value` entries, read with the same value parsers
//! and messages as `#[conv2d]`'s keys.

use super::entries::split;
use super::suggest::did_you_mean;
use super::values::{self, Value};
use super::Errors;
use crate::Scalar;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::Error;

/// The entries read, each keeping its tokens' spans.
pub(crate) struct Arguments {
    /// The leading value without a key (`2x2` in `maxpool!(2x2)`), if any.
    pub positional: Option<Value>,
    entries: Vec<(String, Value)>,
}

impl Arguments {
    /// Reads `tokens`, accepting the keys in `allowed` (unknown and duplicate keys, and a value
    /// without a key after the first entry, are errors; all are reported together).
    pub fn read(tokens: TokenStream, allowed: &[&str]) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut out = Self {
            positional: None,
            entries: Vec::new(),
        };
        let segments = split(super::transparent(tokens));
        for (i, (segment, _)) in segments.into_iter().enumerate() {
            if segment.is_empty() {
                continue;
            }
            match (&segment[0], segment.get(1)) {
                (TokenTree::Ident(key), Some(TokenTree::Punct(eq))) if eq.as_char() == '=' => {
                    let name = key.to_string();
                    let value: Vec<TokenTree> = segment[2..].to_vec();
                    if !allowed.contains(&name.as_str()) {
                        let list = allowed
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        let hint = did_you_mean(&name, allowed);
                        let msg = format!("unknown key `{name}`; expected one of {list}{hint}");
                        errors.push(Error::new(key.span(), msg));
                    } else if out.entries.iter().any(|(k, _)| *k == name) {
                        let msg = format!("duplicate key `{name}`: remove one");
                        errors.push(Error::new(key.span(), msg));
                    } else if value.is_empty() {
                        let msg = format!("expected a value after `{name} =`");
                        errors.push(Error::new(eq.span(), msg));
                    } else {
                        out.entries.push((name, Value::new(value)));
                    }
                }
                _ if i == 0 => out.positional = Some(Value::new(segment)),
                (first, _) => {
                    let text: TokenStream = segment.iter().cloned().collect();
                    let msg = format!("expected `key = value`, found `{text}`");
                    errors.push(Error::new(first.span(), msg));
                }
            }
        }
        errors.finish().map(|()| out)
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }
}

/// `CxHxW`, or `HxW` for one channel, from one literal (`1x28x28` lexes as `1` with the suffix
/// `x28x28`); the span is the literal's.
pub(crate) fn image_size(key: &str, v: &Value) -> syn::Result<([usize; 3], Span)> {
    let (tokens, span) = (v.tokens(), v.span());
    let [TokenTree::Literal(lit)] = tokens else {
        return Err(Error::new(
            span,
            format!("`{key}` takes a size like `1x28x28` (channels x rows x columns)"),
        ));
    };
    let text = lit.to_string();
    let parts: Vec<&str> = text.split('x').collect();
    let numbers: Option<Vec<usize>> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect();
    match numbers.as_deref() {
        Some(&[h, w]) if h > 0 && w > 0 => Ok(([1, h, w], lit.span())),
        Some(&[c, h, w]) if c > 0 && h > 0 && w > 0 => Ok(([c, h, w], lit.span())),
        Some(n) if n.len() >= 2 && n.len() <= 3 => Err(Error::new(
            lit.span(),
            format!("`{key}` needs at least one channel, row and column, found `{text}`"),
        )),
        _ => Err(Error::new(
            lit.span(),
            format!(
                "`{key}` takes a size like `1x28x28` (channels x rows x columns) or `28x28` \
                 (one channel), found `{text}`"
            ),
        )),
    }
}

/// `f32` or `f64`.
pub(crate) fn scalar_value(key: &str, v: &Value) -> syn::Result<Scalar> {
    values::scalar(key, v)
}

/// One number (`dense!(120)`).
pub(crate) fn count_value(key: &str, v: &Value) -> syn::Result<(usize, Span)> {
    values::count(key, v).map(|n| (n.value, n.span))
}

/// `HxW`, `(H, W)`, or one number for both (`maxpool!(2)`).
pub(crate) fn pair_value(key: &str, v: &Value) -> syn::Result<([usize; 2], Span)> {
    match v.tokens() {
        [TokenTree::Literal(lit)] if lit.to_string().contains('x') => {
            values::size(key, v).map(|p| (p.values(), p.span))
        }
        _ => values::pair(key, v).map(|p| (p.values(), p.span)),
    }
}

/// A non-negative finite decimal number (`leaky_relu!(0.01)`).
pub(crate) fn number_value(key: &str, v: &Value) -> syn::Result<(f64, Span)> {
    let span = v.span();
    match v.tokens() {
        [TokenTree::Literal(lit)] => {
            let text = lit.to_string().replace('_', "");
            let text = text.trim_end_matches("f64").trim_end_matches("f32");
            match text.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 => Ok((n, lit.span())),
                _ => Err(Error::new(
                    lit.span(),
                    format!("`{key}` takes a non-negative number like `0.01`, found `{lit}`"),
                )),
            }
        }
        _ => Err(Error::new(
            span,
            format!(
                "`{key}` takes a non-negative number like `0.01`, found `{}`",
                v.text()
            ),
        )),
    }
}
