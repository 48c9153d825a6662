//! `unroll = full`, `unroll = window` and `unroll = rows` emit different code for the same
//! layer; on integer inputs (exact in f32) they agree exactly, and all pass the run-time checks.

use conv_runtime::checks::{check_exact, check_finite_differences};
use conv_runtime::{conv2d, proof, Conv2d, Tensor};

fn same_results<A, B>()
where
    A: Conv2d<Scalar = f32>,
    B: Conv2d<
        Scalar = f32,
        Input = A::Input,
        Kernel = A::Kernel,
        Bias = A::Bias,
        Output = A::Output,
    >,
{
    for seed in 1..4 {
        let (mut x, mut k, mut b, mut d) = (
            A::Input::zeroed(),
            A::Kernel::zeroed(),
            A::Bias::zeroed(),
            A::Output::zeroed(),
        );
        for (n, t) in [x.flat_mut(), k.flat_mut(), b.flat_mut(), d.flat_mut()]
            .into_iter()
            .enumerate()
        {
            proof::f32::fill(&A::GEOMETRY, t, seed * 10 + n as u64);
        }
        assert_eq!(A::forward(&x, &k, &b), B::forward(&x, &k, &b));
        assert_eq!(A::backward(&x, &k, &d), B::backward(&x, &k, &d));
    }
    for seed in 0..2 {
        check_exact::<B>(seed).unwrap();
        check_finite_differences::<B>(seed).unwrap();
    }
}

macro_rules! both {
    ($test:ident, $($attr:tt)*) => {
        #[test]
        fn $test() {
            #[conv2d($($attr)*, unroll = full)]
            struct Full;
            #[conv2d($($attr)*, unroll = window)]
            struct Window;
            #[conv2d($($attr)*, unroll = rows)]
            struct Rows;
            same_results::<Full, Window>();
            same_results::<Full, Rows>();
        }
    };
}

both!(textbook, input = 5x5, kernel = 3x3);
both!(
    strided_same,
    input = 7x6,
    kernel = 3x2,
    stride = 2,
    padding = same,
    in_channels = 2,
    out_channels = 3
);
both!(
    dilated_padded,
    input = 6x7,
    kernel = 2x3,
    dilation = (2, 1),
    padding = (1, 0, 2, 1)
);
both!(
    kernel_equals_input,
    input = 4x6,
    kernel = 4x6,
    in_channels = 3,
    out_channels = 2
);
// At least 8 output channels and output rows of at least 8 columns: `rows` computes `dL/dk`
// vectorised over output channels.
both!(
    many_output_channels,
    input = 10x11,
    kernel = 3x2,
    dilation = (1, 2),
    padding = (1, 0, 0, 2),
    in_channels = 2,
    out_channels = 8
);
both!(
    many_output_channels_strided,
    input = 9x20,
    kernel = 3x3,
    stride = (1, 2),
    padding = same,
    out_channels = 9
);
// At least 8 output channels: `rows` computes the forward row vectorised over output channels,
// here in blocks of 5 columns (96 accumulators hold 6 columns of 16 channels), with `dL/dk` in
// that layout too.
both!(
    sixteen_output_channels,
    input = 4x12,
    kernel = 2x3,
    in_channels = 2,
    out_channels = 16
);
// Output rows of fewer than 8 columns: the forward row over output channels; `backward` at the
// layer level with output channels innermost.
both!(
    many_output_channels_short_rows,
    input = 5x7,
    kernel = 2x3,
    dilation = (2, 1),
    in_channels = 3,
    out_channels = 8
);
both!(
    many_output_channels_short_rows_strided_padded,
    input = 9x10,
    kernel = 3x3,
    stride = 2,
    dilation = (1, 2),
    padding = same,
    in_channels = 2,
    out_channels = 9
);

// Output rows of at least 8 columns, fewer than 8 output channels: `rows` writes `backward` at
// the layer level (`dL/dx` per input row, `dL/dk` summed over all rows), not through the
// one-row companion.
both!(
    layer_level_backward,
    input = 12x13,
    kernel = 3x4,
    dilation = (2, 1),
    padding = (1, 2, 0, 3)
);
both!(
    layer_level_backward_channels,
    input = 11x20,
    kernel = 3x3,
    stride = 2,
    dilation = (1, 2),
    padding = same,
    in_channels = 2,
    out_channels = 3
);
both!(
    layer_level_backward_skipping_stride,
    input = 14x17,
    kernel = 2x3,
    stride = (3, 1),
    dilation = (2, 1),
    out_channels = 2
);

/// `auto`'s `forward` of a small unpadded layer with 8 output channels: fully unrolled on the
/// portable tier, a window on the wide ones; the same bits either way.
#[test]
fn auto_forward_is_the_same_on_every_target() {
    #[conv2d(input = 8x8, kernel = 3x3, out_channels = 8)]
    struct Auto;
    #[conv2d(input = 8x8, kernel = 3x3, out_channels = 8, unroll = full)]
    struct Full;
    auto_forward_on_this_target::<Auto>(conv_engine::Strategy::Full);
    same_forward_bits::<Auto, Full>();
}

/// `auto`'s `forward` of an unpadded layer it writes as rows, with fewer than 8 output
/// channels and output rows of fewer than 8 columns: rows on the portable tier, a window on the
/// wide ones; the same bits either way.
#[test]
fn auto_rows_forward_is_the_same_on_every_target() {
    #[conv2d(input = 10x10, kernel = 5x5, in_channels = 8, out_channels = 6)]
    struct Auto;
    #[conv2d(input = 10x10, kernel = 5x5, in_channels = 8, out_channels = 6, unroll = rows)]
    struct Rows;
    auto_forward_on_this_target::<Auto>(conv_engine::Strategy::Rows);
    same_forward_bits::<Auto, Rows>();
}

/// `auto` writes `A`'s (a channel-first layer's) `forward` with `portable` on the portable
/// tier and as a window on the tiers with AVX2 or AVX-512 (the plan of every tier is
/// emitted, and `forward` runs the one the CPU has).
fn auto_forward_on_this_target<A: Conv2d>(portable: conv_engine::Strategy) {
    let spec = conv_engine::Spec {
        layout: conv_engine::ChannelLayout::ChannelFirst,
        ..conv_engine::Spec::new(A::GEOMETRY)
    };
    assert_eq!(spec.strategy(), portable);
    for tier in [conv_engine::Tier::Avx2, conv_engine::Tier::Avx512] {
        assert_eq!(spec.strategy_on(tier), conv_engine::Strategy::Window);
    }
}

/// `A::forward` and `B::forward` give the same bits on 20 random inputs.
fn same_forward_bits<A, B>()
where
    A: Conv2d<Scalar = f32>,
    B: Conv2d<
        Scalar = f32,
        Input = A::Input,
        Kernel = A::Kernel,
        Bias = A::Bias,
        Output = A::Output,
    >,
{
    let mut next = floats();
    for _ in 0..20 {
        let (mut x, mut k, mut b) = (A::Input::zeroed(), A::Kernel::zeroed(), A::Bias::zeroed());
        for v in x
            .flat_mut()
            .iter_mut()
            .chain(k.flat_mut())
            .chain(b.flat_mut())
        {
            *v = next();
        }
        assert_eq!(bits(&A::forward(&x, &k, &b)), bits(&B::forward(&x, &k, &b)));
    }
}

/// Pseudo-random floats uniform in `[-1, 1)` with all 24 mantissa bits in play (xorshift).
fn floats() -> impl FnMut() -> f32 {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// The bits of every element.
fn bits<T: Tensor<f32>>(t: &T) -> Vec<u32> {
    t.flat().iter().map(|v| v.to_bits()).collect()
}

/// `full` and `window` write `forward` with the same products in the same order (the bias,
/// then `c, a, b`) for unpadded layers, so their results are the same bits on any input, not
/// only on integers: `auto` relies on that when it picks one or the other by target
/// (`conv_engine::Spec::strategy_on`).
#[test]
fn full_and_window_forward_agree_bit_for_bit() {
    #[conv2d(input = 8x9, kernel = 3x2, stride = (1, 2), dilation = (2, 1), in_channels = 3, out_channels = 8, unroll = full)]
    struct Full;
    #[conv2d(input = 8x9, kernel = 3x2, stride = (1, 2), dilation = (2, 1), in_channels = 3, out_channels = 8, unroll = window)]
    struct Window;
    same_forward_bits::<Full, Window>();
}

/// `rows` writes `forward` with the products of `full` and `window` in the same order too
/// (fewer than 8 output channels, where `auto` picks rows or a window by target).
#[test]
fn rows_and_window_forward_agree_bit_for_bit() {
    #[conv2d(input = 8x9, kernel = 3x2, stride = (1, 2), dilation = (2, 1), in_channels = 3, out_channels = 5, unroll = rows)]
    struct Rows;
    #[conv2d(input = 8x9, kernel = 3x2, stride = (1, 2), dilation = (2, 1), in_channels = 3, out_channels = 5, unroll = window)]
    struct Window;
    same_forward_bits::<Rows, Window>();
}
