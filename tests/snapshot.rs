//! The emitted code is reviewable: formatted with prettyplease and compared with a checked-in
//! snapshot (insta). Review changes with `cargo insta review` or by reading the `.snap` diff.

use quote::quote;

fn expand(attr: proc_macro2::TokenStream) -> String {
    let tokens = conv_engine::emit::expand(
        attr,
        quote!(
            pub struct Textbook;
        ),
    );
    let file: syn::File = syn::parse2(tokens).expect("the expansion is a valid Rust file");
    elide_images(&prettyplease::unparse(&file))
}

/// The inlined SVG picture is checked by the SVG tests; here it is cut to its first bytes.
fn elide_images(code: &str) -> String {
    const MARK: &str = "data:image/svg+xml;base64,";
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        let start = at + MARK.len();
        let end = rest[start..].find(')').map_or(rest.len(), |e| start + e);
        out.push_str(&rest[..start + 16.min(end - start)]);
        out.push_str(&format!("...[{} base64 characters]", end - start));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
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
