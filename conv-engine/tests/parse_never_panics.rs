//! The attribute parser on arbitrary token streams built from the attribute's vocabulary and
//! its near misses: it never panics, and every rejection carries at least one message. (A
//! proptest strategy over token trees; `PROPTEST_CASES` runs it longer by hand.)

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use quote::quote;
use std::str::FromStr;

fn word() -> impl Strategy<Value = TokenTree> {
    prop::sample::select(vec![
        "input",
        "kernel",
        "stride",
        "padding",
        "dilation",
        "in_channels",
        "out_channels",
        "scalar",
        "unroll",
        "inptu",
        "x",
        "X",
        "same",
        "valid",
        "sam",
        "f32",
        "f64",
        "full",
        "window",
        "rows",
        "auto",
        "N",
        "struct",
    ])
    .prop_map(|w| TokenTree::Ident(Ident::new(w, Span::call_site())))
}

fn literal() -> impl Strategy<Value = TokenTree> {
    let fixed = prop::sample::select(vec![
        "0",
        "1",
        "5",
        "5x5",
        "28x28",
        "0x5",
        "5e5",
        "5X5",
        "5x",
        "5u8",
        "5x5u8",
        "1.5",
        "\"5x5\"",
        "99999999999999999999999999",
        "18446744073709551615x2",
        "4294967296x4294967296",
        "0b11",
        "'a'",
        "1_0x1_0",
    ])
    .prop_map(|l| l.to_string());
    let sizes = (0usize..40, 0usize..40).prop_map(|(a, b)| format!("{a}x{b}"));
    let numbers = (0usize..100).prop_map(|n| n.to_string());
    prop_oneof![fixed, sizes, numbers].prop_map(|text| match TokenStream::from_str(&text) {
        Ok(ts) => ts
            .into_iter()
            .next()
            .unwrap_or_else(|| TokenTree::Literal(Literal::usize_unsuffixed(0))),
        Err(_) => TokenTree::Literal(Literal::usize_unsuffixed(0)),
    })
}

fn punct() -> impl Strategy<Value = TokenTree> {
    prop::sample::select(vec!['=', ',', '-', '+', '.', ':'])
        .prop_map(|c| TokenTree::Punct(Punct::new(c, Spacing::Alone)))
}

fn tree() -> impl Strategy<Value = TokenTree> {
    let leaf = prop_oneof![3 => word(), 3 => literal(), 3 => punct()];
    leaf.prop_recursive(3, 24, 6, |inner| {
        (
            prop::collection::vec(inner, 0..6),
            prop::sample::select(vec![Delimiter::Parenthesis, Delimiter::Bracket]),
        )
            .prop_map(|(items, delim)| {
                TokenTree::Group(Group::new(delim, items.into_iter().collect()))
            })
    })
}

/// Mostly well-formed `key = value` lists with random values, sometimes free-form soup.
fn attribute() -> impl Strategy<Value = TokenStream> {
    let entry = (word(), prop::collection::vec(tree(), 0..4)).prop_map(|(key, value)| {
        let mut ts: Vec<TokenTree> = vec![key, TokenTree::Punct(Punct::new('=', Spacing::Alone))];
        ts.extend(value);
        ts.push(TokenTree::Punct(Punct::new(',', Spacing::Alone)));
        ts
    });
    let entries =
        prop::collection::vec(entry, 0..6).prop_map(|es| es.into_iter().flatten().collect());
    let soup = prop::collection::vec(tree(), 0..12).prop_map(|ts| ts.into_iter().collect());
    prop_oneof![4 => entries, 1 => soup]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_never_panics(attr in attribute(), unit in any::<bool>()) {
        let item = if unit { quote!(pub struct Layer;) } else { quote!(struct Layer { a: u8 }) };
        match conv_engine::parse::parse(attr, item) {
            Ok((spec, _)) => {
                // Accepted specs respect the limits the errors promise.
                prop_assert!(spec.geometry.macs() > 0);
            }
            Err(e) => prop_assert!(e.into_iter().all(|m| !m.to_string().is_empty())),
        }
    }
}
