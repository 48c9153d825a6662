//! Parsing and validation of `#[conv2d(...)]` into a [`Spec`].
//!
//! One pass per file: `entries` splits the attribute into `key = value` pairs, `keys` hands
//! each value to its parser (`values`, `size`) through a single table, `validate` resolves
//! the geometry and checks the unroll limit, and `target` checks the item is a unit struct.
//!
//! Every problem becomes a [`syn::Error`] on the narrowest span available (the number, not the
//! whole attribute), and all of them are reported together; a check is skipped only when it
//! depends on a value that already failed, so one mistake gives one error.

mod arguments;
mod entries;
mod keys;
mod size;
mod suggest;
pub(crate) use suggest::did_you_mean;
mod target;
mod validate;
mod values;

pub(crate) use arguments::{
    count_value, image_size, number_value, pair_value, scalar_value, Arguments,
};

use crate::Spec;
use proc_macro2::{Span, TokenStream};
use syn::Error;

/// Parses `#[conv2d(attr)]` applied to `item`.
///
/// Returns the validated spec and the target struct, or every problem found, combined into one
/// [`syn::Error`] (each with the narrowest span available).
pub fn parse(attr: TokenStream, item: TokenStream) -> Result<(Spec, syn::ItemStruct), Error> {
    let mut errors = Errors::default();
    let spec = keys::read(transparent(attr), &mut errors)
        .and_then(|given| validate::spec(&given, &mut errors));
    let target = errors.ok(target::target(item));
    errors.finish()?;
    match (spec, target) {
        (Some(spec), Some(target)) => Ok((spec, target)),
        // Every pass that gives `None` has pushed an error, so this arm is not reached.
        _ => Err(Error::new(
            Span::call_site(),
            "invalid `#[conv2d]` attribute",
        )),
    }
}

/// The validated spec of a convolution inside `#[network]`: the options as `#[conv2d]` takes
/// them (every key but `input` and `in_channels`, which the network infers from the layer
/// before, given here as `input` and spanned on `at`), checked by the same passes.
pub(crate) fn conv_layer(
    options: TokenStream,
    input: [usize; 3],
    scalar: crate::Scalar,
    at: Span,
) -> Result<Spec, Error> {
    use proc_macro2::{Ident, Literal, Punct, Spacing, TokenTree};
    let options = transparent(options);
    const KEYS: [&str; 6] = [
        "kernel",
        "out_channels",
        "stride",
        "padding",
        "dilation",
        "unroll",
    ];
    for (segment, _) in entries::split(options.clone()) {
        let Some(TokenTree::Ident(key)) = segment.first() else {
            continue;
        };
        let name = key.to_string();
        let msg = match name.as_str() {
            "input" | "in_channels" | "scalar" => format!(
                "`{name}` of a layer is inferred from the layer before it (here {}x{}x{}) and \
                 the network's `scalar`: remove it",
                input[0], input[1], input[2]
            ),
            _ if KEYS.contains(&name.as_str()) => continue,
            _ => format!(
                "unknown key `{name}`; expected one of {}{}",
                KEYS.map(|k| format!("`{k}`")).join(", "),
                did_you_mean(&name, &KEYS)
            ),
        };
        return Err(Error::new(key.span(), msg));
    }
    let mut attr = options;
    let mut key = |name: &str, value: TokenTree| {
        let mut comma = Punct::new(',', Spacing::Alone);
        comma.set_span(at);
        let mut eq = Punct::new('=', Spacing::Alone);
        eq.set_span(at);
        attr.extend([
            TokenTree::Punct(comma),
            TokenTree::Ident(Ident::new(name, at)),
            TokenTree::Punct(eq),
            value,
        ]);
    };
    let mut size = Literal::usize_unsuffixed(input[1]);
    size = format!("{}x{}", input[1], input[2])
        .parse::<Literal>()
        .unwrap_or(size);
    size.set_span(at);
    let mut channels = Literal::usize_unsuffixed(input[0]);
    channels.set_span(at);
    key("input", TokenTree::Literal(size));
    key("in_channels", TokenTree::Literal(channels));
    key("scalar", TokenTree::Ident(Ident::new(scalar.name(), at)));
    let mut errors = Errors::default();
    let spec = keys::read(attr, &mut errors).and_then(|given| validate::spec(&given, &mut errors));
    errors.finish()?;
    spec.ok_or_else(|| Error::new(at, "invalid convolution layer"))
}

/// `attr` with every invisible group (`Delimiter::None`, which `macro_rules!` puts around
/// `$x:literal` and `$x:expr` fragments) replaced by its contents, at any depth, so that an
/// attribute written by a declarative macro reads like one written by hand.
fn transparent(attr: TokenStream) -> TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    attr.into_iter()
        .flat_map(|tree| match tree {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                transparent(g.stream()).into_iter().collect::<Vec<_>>()
            }
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), transparent(g.stream()));
                inner.set_span(g.span());
                vec![TokenTree::Group(inner)]
            }
            other => vec![other],
        })
        .collect()
}

/// Every problem found so far, combined (serde's `Ctxt`, darling's `Accumulator`).
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, e: Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// The value, or `None` with the error recorded.
    pub(crate) fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    pub(crate) fn finish(self) -> Result<(), Error> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests;
