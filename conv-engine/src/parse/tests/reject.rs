//! Every bad attribute or target gives an error saying what was found and what is expected.

use super::{errors, errors_on, ok, one_error, parse};
use proc_macro2::TokenStream;
use quote::quote;

#[test]
fn rejects_bad_keys() {
    one_error(
        quote!(kernel = 3x3),
        "missing `input = HxW` (for example `input = 5x5`)",
    );
    one_error(
        quote!(input = 5x5),
        "missing `kernel = HxW` (for example `kernel = 3x3`)",
    );
    let want = "unknown key `inptu`; expected one of `input`, `kernel`, `stride`, `padding`, \
                `dilation`, `in_channels`, `out_channels`, `scalar`, `unroll` (did you mean `input`?)";
    one_error(quote!(inptu = 5x5, kernel = 3x3), want);
    one_error(
        quote!(input = 5x5, kernel = 3x3, colour = 1),
        "unknown key `colour`; expected",
    );
    let got = errors(quote!(input = 5x5, kernel = 3x3, colour = 1));
    assert!(!got[0].contains("did you mean"), "{got:?}");
    one_error(
        quote!(input = 5x5, kernel = 3x3, input = 6x6),
        "duplicate key `input`; it was first given as `input = 5x5`",
    );
    one_error(
        quote!(input 5x5, kernel = 3x3),
        "expected `=` after `input`, found `5x5`",
    );
    one_error(
        quote!(input =, kernel = 3x3),
        "expected a value after `input =`",
    );
    one_error(
        quote!(input = 5x5,, kernel = 3x3),
        "expected `key = value` before this `,`",
    );
    one_error(
        quote!(5x5, kernel = 3x3),
        "expected a key such as `input`, found `5x5`",
    );
}

#[test]
fn rejects_sizes_that_lex_as_something_else() {
    one_error(
        quote!(input = 0x5, kernel = 3x3),
        "`0x5` reads as the hexadecimal number 0x5, not as 0 rows by 5 columns",
    );
    one_error(
        quote!(input = 0b11, kernel = 3x3),
        "reads as the binary number",
    );
    one_error(
        quote!(input = 5e5, kernel = 3x3),
        "`5e5` reads as the floating-point number 5e5; did you mean `input = 5x5`?",
    );
    one_error(
        quote!(input = 5.0, kernel = 3x3),
        "reads as the floating-point number 5.0; `input` takes whole rows and columns",
    );
    one_error(
        quote!(input = 5X5, kernel = 3x3),
        "lowercase `x` between rows and columns: `5x5`",
    );
    one_error(quote!(input = 5 x 5, kernel = 3x3), "without spaces: `5x5`");
    one_error(quote!(input = 5 x5, kernel = 3x3), "without spaces: `5x5`");
    one_error(quote!(input = 5x 5, kernel = 3x3), "without spaces: `5x5`");
    one_error(
        quote!(input = 5x, kernel = 3x3),
        "`5x` is missing the columns",
    );
    one_error(
        quote!(input = 5, kernel = 3x3),
        "needs rows and columns, found only `5`",
    );
    one_error(
        quote!(input = 5x5x5, kernel = 3x3),
        "takes 2 numbers (rows x columns), found 3",
    );
    one_error(
        quote!(input = (5, 5, 5), kernel = 3x3),
        "takes 2 numbers `(rows, columns)`, found 3",
    );
    // A third number on `input` is most likely the channels, which have a key of their own.
    // Square rows and columns say where the channels are: last, or first (as `#[network]`
    // writes sizes); otherwise both readings are offered.
    one_error(
        quote!(input = 5x5x3, kernel = 3x3),
        "`input` takes 2 numbers (rows x columns), found 3 in `5x5x3`; channels are a key of \
         their own: write `input = 5x5, in_channels = 3`",
    );
    one_error(
        quote!(input = 6x14x14, kernel = 3x3),
        "channels are a key of their own: write `input = 14x14, in_channels = 6`",
    );
    one_error(
        quote!(input = 6x5x3, kernel = 3x3),
        "channels are a key of their own: write `input = 5x3, in_channels = 6` (channels \
         first) or `input = 6x5, in_channels = 3` (channels last)",
    );
    one_error(
        quote!(input = (6, 5, 3), kernel = 3x3),
        "found 3; channels are a key of their own: write `input = (5, 3), in_channels = 6` \
         (channels first) or `input = (6, 5), in_channels = 3` (channels last)",
    );
    for no_hint in [
        quote!(input = 5x5x5x5, kernel = 3x3),
        quote!(input = 5x5, kernel = 3x3x3),
        quote!(input = (5, 5, n), kernel = 3x3),
    ] {
        let got = errors(no_hint.clone());
        assert!(
            !got.iter().any(|e| e.contains("in_channels")),
            "{no_hint}: {got:?}"
        );
    }
    one_error(
        quote!(input = (5), kernel = 3x3),
        "takes 2 numbers `(rows, columns)`, found 1",
    );
    one_error(
        quote!(input = 5u8, kernel = 3x3),
        "has the type suffix `u8`",
    );
    one_error(
        quote!(input = 5x5u8, kernel = 3x3),
        "has the type suffix `u8`; sizes take none: write `5x5`",
    );
    one_error(
        quote!(input = (5u8, 5), kernel = 3x3),
        "has the type suffix `u8`; write `5`",
    );
    one_error(
        quote!(input = 5xa, kernel = 3x3),
        "expected a size like `5x5` or `(5, 5)` for `input`, found `5xa`",
    );
    one_error(
        quote!(input = N, kernel = 3x3),
        "found `N`; the macro reads the attribute's tokens",
    );
    one_error(
        quote!(input = SIZES::A, kernel = 3x3),
        "expected a size like `5x5`",
    );
    one_error(
        quote!(input = "5x5", kernel = 3x3),
        "not a string: remove the quotes",
    );
    one_error(
        quote!(input = -5x5, kernel = 3x3),
        "`input` cannot be negative, found `-5x5`",
    );
    one_error(
        quote!(input = (5, -5), kernel = 3x3),
        "`input` cannot be negative, found `-5`",
    );
    one_error(
        quote!(input = (5, 2.5), kernel = 3x3),
        "`2.5` is not a whole number",
    );
}

#[test]
fn reports_each_bad_number_of_a_tuple() {
    let got = errors(quote!(input = (-5, 0x5), kernel = 3x3));
    assert_eq!(got.len(), 2, "{got:#?}");
}

#[test]
fn rejects_numbers_too_large_for_usize_without_panicking() {
    one_error(
        quote!(input = 999999999999999999999999999999x5, kernel = 3x3),
        "is too large",
    );
    one_error(
        quote!(input = (5, 999999999999999999999999999999), kernel = 3x3),
        "is too large",
    );
    one_error(
        quote!(
            input = 5x5,
            kernel = 3x3,
            stride = 999999999999999999999999999999
        ),
        "is too large",
    );
    let huge = usize::MAX.to_string();
    let huge: TokenStream = huge.parse().unwrap();
    for attr in [
        quote!(input = 5x5, kernel = 3x3, dilation = #huge),
        quote!(input = (#huge, 5), kernel = 3x3, padding = same),
        quote!(input = (#huge, #huge), kernel = 1x1),
        quote!(input = 5x5, kernel = 3x3, in_channels = #huge, out_channels = #huge),
        quote!(input = 5x5, kernel = 3x3, padding = (0, 0, 0, #huge)),
        quote!(
            input = 1x1,
            kernel = 1x1,
            padding = (0, 0, 0, 1000000000000)
        ),
        quote!(input = 1x1000000, kernel = 1x500000),
    ] {
        let got = errors(attr.clone());
        assert_eq!(got.len(), 1, "`{attr}`: {got:#?}");
    }
}

#[test]
fn rejects_bad_stride_padding_dilation_channels_and_scalar() {
    one_error(
        quote!(input = 5x5, kernel = 3x3, stride = 0),
        "`stride` must be at least 1, found 0",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, stride = (1, 0)),
        "`stride` columns must be at least 1",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, stride = -1),
        "`stride` cannot be negative",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, stride = 2x2),
        "write `(2, 2)`",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, stride = 1.5),
        "not a whole number",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, dilation = 0),
        "`dilation` must be at least 1, found 0",
    );
    one_error(quote!(input = 5x5, kernel = 3x3, padding = sam), "unknown padding `sam`; expected `valid`, `same` or `(top, bottom, left, right)` (did you mean `same`?)");
    one_error(
        quote!(input = 5x5, kernel = 3x3, padding = SAME),
        "(did you mean `same`?)",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, padding = full),
        "unknown padding `full`",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, padding = (1, 1)),
        "takes 4 numbers `(top, bottom, left, right)`, found 2",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, padding = 1),
        "write `(1, 1, 1, 1)`",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, in_channels = 0),
        "`in_channels` must be at least 1, found 0",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, out_channels = C),
        "expected a number like `3` for `out_channels`",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, scalar = f16),
        "expected `f32` or `f64` for `scalar`, found `f16`",
    );
    let got = errors(quote!(input = 5x5, kernel = 3x3, scalar = f16));
    assert!(!got[0].contains("did you mean"), "{got:?}");
    one_error(
        quote!(input = 5x5, kernel = 3x3, scalar = F64),
        "(did you mean `f64`?)",
    );
}

#[test]
fn rejects_zero_sizes_each_on_its_number() {
    one_error(
        quote!(input = (0, 5), kernel = 3x3),
        "`input` rows must be at least 1, found 0",
    );
    one_error(
        quote!(input = 5x0, kernel = 3x3),
        "`input` columns must be at least 1, found 0",
    );
    let got = errors(quote!(input = (0, 0), kernel = (3, 0), stride = 0));
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(
        got.iter()
            .all(|e| e.contains("must be at least 1, found 0")),
        "{got:#?}"
    );
}

#[test]
fn rejects_kernels_larger_than_the_input() {
    one_error(
        quote!(input = 5x5, kernel = 7x7),
        "kernel 7x7 is larger than input 5x5 with padding `valid`",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x6),
        "kernel 3x6 is larger than input 5x5",
    );
    one_error(
        quote!(input = 5x5, kernel = 3x3, dilation = 3),
        "kernel 3x3 with dilation 3 spans 7x7, which is larger than input 5x5 with padding `valid`",
    );
    one_error(
        quote!(input = 5x5, kernel = 8x3, padding = (1, 1, 0, 0)),
        "kernel 8x3 is larger than input 5x5 with padding `(1, 1, 0, 0)` (7x5 once padded)",
    );
    // `same` pads the input up to the kernel.
    assert_eq!(
        ok(quote!(input = 5x5, kernel = 7x7, padding = same))
            .geometry
            .output(),
        [5, 5]
    );
}

#[test]
fn too_large_errors_give_count_and_limit_with_separators() {
    // 512 * 512 outputs (`same`) * 64 * 64 channel pairs * 9 taps.
    one_error(
        quote!(
            input = 512x512,
            kernel = 3x3,
            padding = same,
            in_channels = 64,
            out_channels = 64
        ),
        "needs 9,663,676,416 multiply-adds per forward pass, more than the limit of 20,000,000",
    );
    let got = errors(quote!(
        input = 512x512,
        kernel = 3x3,
        in_channels = 64,
        out_channels = 64
    ));
    assert!(got[0].contains("use `conv_runtime::reference`"), "{got:?}");
    // A count near `usize::MAX` (on 64-bit targets) is given exactly.
    one_error(
        quote!(
            input = 4000000x4000000,
            kernel = 1x1,
            in_channels = 1000,
            out_channels = 1000
        ),
        "needs 16,000,000,000,000,000,000 multiply-adds",
    );
}

#[test]
fn rejects_layers_too_large_to_unroll() {
    let want = "layer too large to unroll: 64x64 input with 9x9 kernel gives 762,048 terms \
                (forward + backward), more than the limit of 100,000; use `unroll = rows`";
    one_error(quote!(input = 64x64, kernel = 9x9, unroll = full), want);
    // `auto` switches to rows instead: the proof evaluates one output row (56 * 81 = 4536
    // multiply-adds).
    assert_eq!(
        ok(quote!(input = 64x64, kernel = 9x9)).strategy(),
        crate::Strategy::Rows
    );
    // Windows are limited by the cost of evaluating the whole layer at compile time.
    one_error(
        quote!(input = 64x64, kernel = 9x9, unroll = window),
        "layer too large for the compile-time proof: 64x64 input with 9x9 kernel needs 254,016 \
         multiply-adds per forward pass, more than the limit of 150,000",
    );
    // Every strategy by the size of the symbolic derivation (20,000,000 multiply-adds).
    one_error(
        quote!(
            input = 300x67,
            kernel = 3x3,
            in_channels = 16,
            out_channels = 16
        ),
        // 298 * 65 * 16 * 16 * 9 multiply-adds.
        "layer too large to derive: 300x67 input with 3x3 kernel, 16 -> 16 channels needs \
         44,628,480 multiply-adds per forward pass, more than the limit of 20,000,000",
    );
    assert_eq!(
        ok(quote!(
            input = 135x67,
            kernel = 3x3,
            in_channels = 16,
            out_channels = 16
        ))
        .geometry
        .macs(),
        19_918_080
    );
    // Rows by the cost of one output row.
    one_error(
        quote!(
            input = 16x1200,
            kernel = 3x3,
            in_channels = 8,
            out_channels = 8
        ),
        "layer too large for the compile-time proof: one output row of 16x1200 input with 3x3 \
         kernel, 8 -> 8 channels needs 690,048 multiply-adds, more than the limit of 150,000",
    );
    one_error(
        quote!(
            input = 28x28,
            kernel = 3x3,
            in_channels = 8,
            out_channels = 8,
            unroll = window
        ),
        "28x28 input with 3x3 kernel, 8 -> 8 channels needs 389,376 multiply-adds",
    );
    // Under the unroll limit (3 * 26 * 26 * 9 * 4 = 73008 terms), over `auto`'s threshold.
    let spec = ok(quote!(
        input = 28x28,
        kernel = 3x3,
        out_channels = 4,
        unroll = full
    ));
    assert_eq!(spec.strategy(), crate::Strategy::Full);
    let spec = ok(quote!(input = 28x28, kernel = 3x3, out_channels = 4));
    assert_eq!(spec.strategy(), crate::Strategy::Rows);
    assert_eq!(
        ok(quote!(input = 28x28, kernel = 5x5)).strategy(),
        crate::Strategy::Full
    );
    assert_eq!(
        ok(quote!(input = 5x5, kernel = 3x3, unroll = window)).strategy(),
        crate::Strategy::Window
    );
    // `auto` decides per function: backward leaves the full unroll earlier (1,000 products).
    let strategies = |spec: crate::Spec| (spec.strategy(), spec.backward_strategy());
    use crate::Strategy::{Full, Rows};
    let textbook = ok(quote!(input = 5x5, kernel = 3x3));
    assert_eq!(strategies(textbook), (Full, Full));
    let digits = ok(quote!(
        input = 8x8,
        kernel = 3x3,
        in_channels = 1,
        out_channels = 8
    ));
    assert_eq!(strategies(digits), (Full, Rows));
    let lenet = ok(quote!(input = 28x28, kernel = 5x5, out_channels = 6));
    assert_eq!(strategies(lenet), (Rows, Rows));
    let explicit = ok(quote!(
        input = 8x8,
        kernel = 3x3,
        out_channels = 8,
        unroll = full
    ));
    assert_eq!(strategies(explicit), (Full, Full));
    // On targets with AVX2, `auto` writes small unpadded layers with at least 8 output channels,
    // and unpadded rows layers with fewer than 8, output rows of fewer than 8 columns and at
    // most 150,000 multiply-adds, as a window (same products, same order); padded ones,
    // explicit strategies, longer rows and larger layers are `rows` on every target.
    use crate::Strategy::Window;
    assert_eq!(digits.strategy_on(crate::Tier::Avx2), Window);
    assert_eq!(digits.strategy_on(crate::Tier::Portable), Full);
    let padded = ok(quote!(
        input = 8x8,
        kernel = 3x3,
        out_channels = 8,
        padding = same
    ));
    assert_eq!(padded.strategy_on(crate::Tier::Avx2), Full);
    let seven = ok(quote!(input = 8x8, kernel = 3x3, out_channels = 7));
    assert_eq!(seven.strategy_on(crate::Tier::Avx2), Full);
    assert_eq!(explicit.strategy_on(crate::Tier::Avx2), Full);
    assert_eq!(textbook.strategy_on(crate::Tier::Avx2), Full);
    assert_eq!(lenet.strategy_on(crate::Tier::Avx2), Rows);
    assert_eq!(lenet.strategy_on(crate::Tier::Portable), Rows);
    let short = ok(quote!(
        input = 10x10,
        kernel = 5x5,
        in_channels = 8,
        out_channels = 6
    ));
    assert_eq!(short.strategy_on(crate::Tier::Avx2), Window);
    // Rows on every target: padded; asked for; 8 output channels (the rows are vectorised over
    // them); 24 * 24 * 25 * 6 * 2 = 172,800 multiply-adds, above the window's 150,000.
    for keeps_rows in [
        quote!(
            input = 28x28,
            kernel = 5x5,
            out_channels = 6,
            padding = same
        ),
        quote!(input = 28x28, kernel = 5x5, out_channels = 6, unroll = rows),
        quote!(input = 28x28, kernel = 5x5, out_channels = 8),
        quote!(
            input = 28x28,
            kernel = 5x5,
            in_channels = 2,
            out_channels = 6
        ),
    ] {
        let spec = ok(keeps_rows);
        assert_eq!(strategies(spec), (Rows, Rows), "{spec:?}");
        assert_eq!(spec.strategy_on(crate::Tier::Avx2), Rows, "{spec:?}");
    }
}

#[test]
fn rejects_a_misspelt_strategy() {
    one_error(
        quote!(input = 5x5, kernel = 3x3, unroll = windwo),
        "expected `full`, `window`, `rows` or `auto` for `unroll`, found `windwo` (did you mean \
         `window`?)",
    );
}

#[test]
fn reports_every_problem_at_once() {
    let got = errors(quote!(input = 0x5, kernel = 3X3, strid = 2, scalar = f16));
    assert_eq!(got.len(), 4, "{got:#?}");
    // A bad scalar does not hide a geometry problem.
    let got = errors(quote!(input = 5x5, kernel = 7x7, scalar = f16));
    assert_eq!(got.len(), 2, "{got:#?}");
    // Attribute and target problems come together.
    let got = errors_on(
        quote!(input = 5X5, kernel = 3x3),
        quote!(
            enum L {}
        ),
    );
    assert_eq!(got.len(), 2, "{got:#?}");
}

#[test]
fn rejects_targets_that_are_not_unit_structs() {
    let attr = quote!(input = 5x5, kernel = 3x3);
    let cases = [
        (
            quote!(
                struct L {
                    a: u8,
                }
            ),
            "found a struct with fields",
        ),
        (
            quote!(
                struct L(u8);
            ),
            "found a tuple struct",
        ),
        (
            quote!(
                enum L {}
            ),
            "found an enum",
        ),
        (
            quote!(
                fn l() {}
            ),
            "found a function",
        ),
        (
            quote!(
                struct L<const N: usize>;
            ),
            "found a generic struct",
        ),
        (quote!(impl L {}), "found an impl block"),
    ];
    for (item, want) in cases {
        let got = errors_on(attr.clone(), item.clone());
        assert_eq!(got.len(), 1, "`{item}`: {got:#?}");
        assert!(got[0]
            .starts_with("`#[conv2d]` applies to a unit struct such as `pub struct Textbook;`"));
        assert!(
            got[0].contains(want),
            "`{item}`: expected `{want}` in `{}`",
            got[0]
        );
    }
    let (_, target) = parse(
        attr,
        quote!(
            #[doc = "A layer."]
            pub(crate) struct L;
        ),
    )
    .unwrap();
    assert_eq!(target.ident, "L");
}
