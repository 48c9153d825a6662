//! Parsing and validation of `#[conv2d(...)]` into a [`Spec`].
//!
//! One pass per file: `entries` splits the attribute into `key = value` pairs, `keys` hands
//! each value to its parser (`values`, `size`) through a single table, `validate` resolves
//! the geometry and checks the unroll limit, and `target` checks the item is a unit struct.
//!
//! Every problem becomes a [`syn::Error`] on the narrowest span available (the number, not the
//! whole attribute), and all of them are reported together; a check is skipped only when it
//! depends on a value that already failed, so one mistake gives one error.

mod entries;
mod keys;
mod size;
mod suggest;
mod target;
mod validate;
mod values;

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
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, e: Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// The value, or `None` with the error recorded.
    fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    fn finish(self) -> Result<(), Error> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests;
