use super::suggest::{distance, nearest};
use super::*;
use crate::{ChannelLayout, Padding, Scalar};
use quote::quote;

mod reject;

fn unit() -> TokenStream {
    quote!(
        pub struct Layer;
    )
}

fn ok(attr: TokenStream) -> Spec {
    match parse(attr.clone(), unit()) {
        Ok((spec, _)) => spec,
        Err(e) => panic!("`{attr}` was rejected: {e}"),
    }
}

/// Every message, one per line.
fn errors_on(attr: TokenStream, item: TokenStream) -> Vec<String> {
    match parse(attr.clone(), item) {
        Ok(_) => panic!("`{attr}` was accepted"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn errors(attr: TokenStream) -> Vec<String> {
    errors_on(attr, unit())
}

/// Asserts `attr` gives exactly one error, containing `want`.
fn one_error(attr: TokenStream, want: &str) {
    let got = errors(attr.clone());
    assert_eq!(got.len(), 1, "`{attr}`: expected one error, got {got:#?}");
    assert!(
        got[0].contains(want),
        "`{attr}`: expected `{want}` in `{}`",
        got[0]
    );
}

#[test]
fn reads_sizes_written_hxw_or_as_tuples() {
    let s = ok(quote!(input = 5x5, kernel = 3x3));
    let g = s.geometry;
    assert_eq!(
        (g.input(), g.kernel(), g.output()),
        ([5, 5], [3, 3], [3, 3])
    );
    assert_eq!((s.layout, s.scalar), (ChannelLayout::Plain, Scalar::F32));
    assert_eq!(ok(quote!(input = (5, 5), kernel = (3, 3))), s);
    assert_eq!(
        ok(quote!(input = 28x28, kernel = 5x5)).geometry.output(),
        [24, 24]
    );
    let g = ok(quote!(input = 7x6, kernel = 3x2)).geometry;
    assert_eq!(
        (g.input(), g.kernel(), g.output()),
        ([7, 6], [3, 2], [5, 5])
    );
    let g = ok(quote!(input = (7, 6,), kernel = (3, 2),)).geometry;
    assert_eq!((g.input(), g.output()), ([7, 6], [5, 5]));
    assert_eq!(
        ok(quote!(input = 1_0x1_0, kernel = 3x3)).geometry.input(),
        [10, 10]
    );
}

#[test]
fn reads_stride_dilation_and_padding() {
    let g = ok(quote!(input = 9x9, kernel = 3x3, stride = 2)).geometry;
    assert_eq!((g.stride(), g.output()), ([2, 2], [4, 4]));
    let g = ok(quote!(input = 9x9, kernel = 3x3, stride = (2, 1))).geometry;
    assert_eq!((g.stride(), g.output()), ([2, 1], [4, 7]));
    let g = ok(quote!(input = 9x9, kernel = 3x3, dilation = 2)).geometry;
    assert_eq!((g.dilation(), g.output()), ([2, 2], [5, 5]));
    let g = ok(quote!(input = 9x9, kernel = 3x3, dilation = (1, 3))).geometry;
    assert_eq!((g.dilation(), g.output()), ([1, 3], [7, 3]));
    let g = ok(quote!(input = 5x5, kernel = 3x3, padding = valid)).geometry;
    assert_eq!(g.spec().padding, Padding::Valid);
    let g = ok(quote!(input = 5x5, kernel = 3x3, padding = same)).geometry;
    assert_eq!((g.spec().padding, g.output()), (Padding::Same, [5, 5]));
    let g = ok(quote!(input = 5x5, kernel = 3x3, padding = (1, 2, 0, 3))).geometry;
    assert_eq!((g.pads(), g.output()), ([1, 2, 0, 3], [6, 6]));
}

#[test]
fn channels_make_the_layout_channel_first_and_scalar_picks_the_type() {
    let s = ok(quote!(
        input = 5x5,
        kernel = 3x3,
        in_channels = 3,
        out_channels = 4
    ));
    assert_eq!(s.layout, ChannelLayout::ChannelFirst);
    assert_eq!(
        (s.geometry.in_channels(), s.geometry.out_channels()),
        (3, 4)
    );
    let s = ok(quote!(input = 5x5, kernel = 3x3, out_channels = 1));
    assert_eq!(
        (s.layout, s.geometry.in_channels()),
        (ChannelLayout::ChannelFirst, 1)
    );
    assert_eq!(
        ok(quote!(input = 5x5, kernel = 3x3, scalar = f64)).scalar,
        Scalar::F64
    );
    assert_eq!(
        ok(quote!(input = 5x5, kernel = 3x3, scalar = f32)).scalar,
        Scalar::F32
    );
    let s = ok(quote!(
        scalar = f64,
        padding = same,
        dilation = (1, 1),
        stride = 2,
        out_channels = 4,
        in_channels = 3,
        kernel = 3x2,
        input = 7x6,
    ));
    assert_eq!((s.scalar, s.geometry.output()), (Scalar::F64, [4, 3]));
}

#[test]
fn suggestions_are_close_and_count_swaps_as_one_edit() {
    assert_eq!(distance("inptu", "input"), 1);
    assert_eq!(distance("kernal", "kernel"), 1);
    assert_eq!(distance("", "same"), 4);
    assert_eq!(nearest("strid", &["stride", "scalar"]), Some("stride"));
    assert_eq!(nearest("Input", &["input"]), Some("input"));
    assert_eq!(nearest("zzz", &["input", "kernel"]), None);
}
