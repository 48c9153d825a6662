//! The emitted code is reviewable: formatted with prettyplease and compared with a checked-in
//! snapshot (insta). Review changes with `cargo insta review` or by reading the `.snap` diff.
//! The SVG picture the struct docs inline is left out here (`doc_images: false`); the engine's
//! docs tests check it.

use conv_engine::emit::{generate_with, Options};
use quote::quote;

fn expand(attr: proc_macro2::TokenStream) -> String {
    let (spec, target) = conv_engine::parse::parse(
        attr,
        quote!(
            pub struct Textbook;
        ),
    )
    .expect("a valid spec");
    let options = Options {
        doc_images: false,
        ..Options::default()
    };
    let tokens = generate_with(&spec, &target, &options).expect("a proven layer");
    let file: syn::File = syn::parse2(tokens).expect("the expansion is a valid Rust file");
    prettyplease::unparse(&file)
}

#[test]
fn textbook_layer() {
    insta::assert_snapshot!(expand(quote!(input = 5x5, kernel = 3x3)));
}

#[test]
fn strided_padded_channel_first_layer() {
    insta::assert_snapshot!(expand(quote!(
        input = 4x3,
        kernel = 2x2,
        stride = 2,
        padding = same,
        in_channels = 1,
        out_channels = 2,
        scalar = f64
    )));
}
