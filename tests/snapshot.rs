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

/// One snapshot per code form (the plan's forms, which the generated docs name for each
/// tier): small layers that `plan` gives each form, so the snapshots stay short.
mod forms {
    use super::expand;
    use quote::quote;

    /// `window` forward and backward.
    #[test]
    fn window() {
        insta::assert_snapshot!(expand(quote!(
            input = 4x4,
            kernel = 2x2,
            padding = same,
            unroll = window
        )));
    }

    /// `rows`: forward the loop over rows around the companion (taps updating whole rows),
    /// backward the loop around the companion's matrix form and dot products.
    #[test]
    fn rows_companion() {
        insta::assert_snapshot!(expand(quote!(
            input = 4x4,
            kernel = 2x2,
            padding = same,
            unroll = rows
        )));
    }

    /// `rows` with many output channels: the companion's forward and `dL/dk` over output
    /// channels (kernel and `dL/dk` transposed once per call); large enough for a variant per
    /// CPU tier and the dispatch between them. 86 input channels give more `dL/dx` partial
    /// sums than the layer-level `backward` over output channels keeps (33,024), so `backward`
    /// loops over the companion too.
    #[test]
    fn rows_over_output_channels() {
        insta::assert_snapshot!(expand(quote!(
            input = 4x12,
            kernel = 3x3,
            in_channels = 86,
            out_channels = 8,
            unroll = rows
        )));
    }

    /// `rows` backward at the layer level over its rows (long rows, few channels).
    #[test]
    fn rows_layer_level_over_rows() {
        insta::assert_snapshot!(expand(quote!(input = 4x10, kernel = 2x2, unroll = rows)));
    }

    /// `rows` backward at the layer level over positions, output channels innermost (short
    /// rows, many channels).
    #[test]
    fn rows_layer_level_over_output_channels() {
        insta::assert_snapshot!(expand(quote!(
            input = 3x3,
            kernel = 2x2,
            out_channels = 8,
            unroll = rows
        )));
    }
}

/// Every code form's expansion carries its compile-time check: the `const` evaluation against
/// `conv_runtime::proof` (of the layer, or of the one-row companion for layers too large to
/// evaluate whole).
#[test]
fn every_form_carries_its_compile_time_check() {
    let layers = [
        quote!(input = 5x5, kernel = 3x3, unroll = full),
        quote!(input = 4x4, kernel = 2x2, padding = same, unroll = window),
        quote!(input = 4x4, kernel = 2x2, padding = same, unroll = rows),
        quote!(
            input = 4x12,
            kernel = 3x3,
            in_channels = 86,
            out_channels = 8,
            unroll = rows
        ),
        quote!(input = 4x10, kernel = 2x2, unroll = rows),
        quote!(input = 3x3, kernel = 2x2, out_channels = 8, unroll = rows),
        quote!(input = 8x8, kernel = 3x3, out_channels = 8),
        quote!(
            input = 14x14,
            kernel = 5x5,
            in_channels = 6,
            out_channels = 16
        ),
    ];
    for attr in layers {
        let code = expand(attr.clone());
        assert!(
            code.contains("assert_layer"),
            "{attr} has no compile-time check"
        );
    }
}

/// `generate_with` on a derivation with a product dropped (the test-only planted fault)
/// returns the proof's error, spanned on the struct.
#[test]
fn a_corrupted_derivation_is_an_error() {
    let (spec, target) = conv_engine::parse::parse(
        quote!(input = 5x5, kernel = 3x3),
        quote!(
            pub struct Textbook;
        ),
    )
    .expect("a valid spec");
    let options = Options {
        fault: Some(conv_engine::emit::Fault::Derivation),
        ..Options::default()
    };
    let e = generate_with(&spec, &target, &options).expect_err("the proof rejects it");
    assert!(
        e.to_string()
            .contains("the derivation disagrees with the padded/rotated formulation: dL/dx"),
        "{e}"
    );
}
