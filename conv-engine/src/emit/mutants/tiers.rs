//! What each tier's plan gives the code: the AVX-512 tier's calls of `conv_runtime::lanes`
//! (which bodies make them, and which do not) and its wider blocks of the layer-level
//! `forward`.

use crate::emit::layer_rows;
use crate::emit::shape::Shapes;
use crate::plan::Blocks;
use crate::{ChannelLayout, GeometrySpec, Padding, Scalar, Spec, Unroll};

#[test]
fn the_avx512_tier_alone_adds_sixteen_channel_lane_sums_with_the_runtime_shuffles() {
    use crate::plan::LaneSums::{Avx512Rows, EachColumn};
    use proc_macro2::TokenStream;
    use quote::quote;
    // The body of `name` in `code` (the tokens up to the next hidden function).
    fn body<'a>(code: &'a str, name: &str) -> &'a str {
        let start = code.find(&format!("fn {name} (")).expect(name);
        let rest = &code[start + 4..];
        &rest[..rest.find("fn __").unwrap_or(rest.len())]
    }
    let layer = |scalar: TokenStream| {
        let attr = quote!(input = 14x14, kernel = 5x5, in_channels = 6, out_channels = 16, #scalar);
        crate::emit::expand(
            attr,
            quote!(
                struct F;
            ),
        )
        .to_string()
    };
    // LeNet-5's second layer: the AVX-512 body calls the shuffles once per padded row, in
    // place of its loop of column sums; the AVX2 body keeps the loop.
    let f32 = layer(TokenStream::new());
    let call = "pairwise_rows_avx512 (& rq , & mut dxp [c] [p])";
    assert_eq!(f32.matches(call).count(), 1, "{f32}");
    assert!(body(&f32, "__backward_rows_fused_avx512_sums").contains(call));
    let avx2 = body(&f32, "__backward_rows_fused");
    assert!(!avx2.contains("pairwise_rows_avx512"));
    assert!(avx2.contains("dxp [c] [p] [q] = sum (& rq [q])"), "{avx2}");
    let plan = crate::plan::plan(
        &crate::parse::parse(
            quote!(
                input = 14x14,
                kernel = 5x5,
                in_channels = 6,
                out_channels = 16
            ),
            quote!(
                struct F;
            ),
        )
        .expect("a valid layer")
        .0,
    );
    let sums = plan.tiers().map(|(_, p)| p.lane_sums);
    assert_eq!(sums, [EachColumn, EachColumn, Avx512Rows]);
    // f64 partial sums are two vectors per column: no call.
    assert!(!layer(quote!(scalar = f64)).contains("pairwise_rows_avx512"));
}

#[test]
fn the_avx512_parameter_gradients_alone_add_the_taps_lane_sums_with_the_runtime_shuffles() {
    use crate::plan::LaneSums::{Avx512Rows, EachColumn};
    use quote::quote;
    let code = |attr: proc_macro2::TokenStream| {
        let spec = crate::parse::parse(
            attr,
            quote!(
                struct C;
            ),
        )
        .expect("a valid layer")
        .0;
        let target: syn::ItemStruct = syn::parse_quote!(
            struct C;
        );
        let options = crate::emit::Options {
            parameter_gradients: true,
            doc_images: false,
            ..crate::emit::Options::default()
        };
        let code = crate::emit::generate_with(&spec, &target, &options).expect("expands");
        (crate::plan::plan(&spec), code.to_string())
    };
    // LeNet-5's first layer: rows of 28 columns, lane sums 32 lanes wide. The AVX-512 body of
    // `dL/dk` and `dL/db` alone calls the shuffles once per pass (two output channels, five
    // taps); `backward` itself, which the compile-time check evaluates, does not.
    let (plan, lenet) = code(quote!(
        input = 28x28,
        kernel = 5x5,
        out_channels = 6,
        padding = same
    ));
    let sums = plan.tiers().map(|(_, p)| p.parameter_lane_sums);
    assert_eq!(sums, [EachColumn, EachColumn, Avx512Rows]);
    assert_eq!(plan.check, crate::plan::ConstCheck::Whole);
    // The pass's accumulators themselves (two channels, five taps), each a `leading` sum of 28.
    let call = concat!(
        "leading_rows_avx512 ([& s [0] [0] , & s [0] [1] , & s [0] [2] , & s [0] [3] , ",
        "& s [0] [4] , & s [1] [0] , & s [1] [1] , & s [1] [2] , & s [1] [3] , & s [1] [4]] , ",
        "[28 , 28 , 28 , 28 , 28 , 28 , 28 , 28 , 28 , 28] , & mut lane_sums ,)"
    );
    assert_eq!(lenet.matches(call).count(), 1, "{lenet}");
    let body = &lenet[lenet
        .find("fn __parameters_rows_fused_wide_avx512_sums (")
        .expect("the AVX-512 body")..];
    let at = body.find(call).expect("the call in the AVX-512 body");
    assert!(at < body[1..].find("fn __").unwrap_or(body.len()), "{body}");
    assert!(
        lenet.contains("const fn __parameters_rows_fused ("),
        "{lenet}"
    );
    // Rows of 16 lanes or fewer columns keep `leading`, and so does f64.
    for attr in [
        quote!(
            input = 16x16,
            kernel = 3x3,
            out_channels = 6,
            padding = same
        ),
        quote!(
            input = 28x28,
            kernel = 5x5,
            out_channels = 6,
            padding = same,
            scalar = f64
        ),
    ] {
        let (plan, other) = code(attr);
        assert!(plan
            .tiers()
            .iter()
            .all(|(_, p)| p.parameter_lane_sums == EachColumn));
        assert!(!other.contains("leading_rows_avx512"), "{other}");
    }
}

#[test]
fn the_layer_level_forward_keeps_as_many_channels_per_row_as_the_tier_has_registers_for() {
    use crate::plan::Forward;
    // LeNet-5's first layer: rows of 28 columns (32 lanes), six output channels: three rows of
    // sums per pass on AVX2 (12 of its 16 registers), all six on AVX-512 (12 of its 32).
    let geometry = GeometrySpec {
        padding: Padding::Same,
        out_channels: 6,
        ..GeometrySpec::new([28, 28], [5, 5])
    };
    let lenet = Spec {
        geometry: geometry.resolve().expect("a valid geometry"),
        layout: ChannelLayout::ChannelFirst,
        scalar: Scalar::F32,
        unroll: Unroll::Auto,
    };
    let p = crate::plan::plan(&lenet);
    assert_eq!(p.avx2.forward, Forward::LayerRows);
    assert_eq!(p.avx512.forward, Forward::LayerRows);
    assert_eq!(p.avx2.forward_blocks, Blocks::Narrow);
    assert_eq!(p.avx512.forward_blocks, Blocks::Wide);
    assert_eq!(Blocks::Narrow.channels_per_row(32, 6), 3);
    assert_eq!(Blocks::Wide.channels_per_row(32, 6), 6);
    // At least one channel, at most the layer's.
    assert_eq!(Blocks::Narrow.channels_per_row(128, 6), 1);
    assert_eq!(Blocks::Wide.channels_per_row(16, 6), 6);
    // One row of sums per channel of a group.
    let count = |blocks| {
        let program = layer_rows::forward(&lenet, &Shapes::new(&lenet), blocks);
        let rows = program
            .locals
            .iter()
            .filter(|l| l.name == "s" && l.dims == [32]);
        rows.count()
    };
    assert_eq!(count(Blocks::Narrow), 3);
    assert_eq!(count(Blocks::Wide), 6);
}
