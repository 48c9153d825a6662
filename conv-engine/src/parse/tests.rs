use super::*;
use quote::quote;

fn ok(attr: TokenStream) -> Spec {
    match parse(
        attr.clone(),
        quote!(
            pub struct Layer;
        ),
    ) {
        Ok((spec, _)) => spec,
        Err(e) => panic!("`{attr}`: {e}"),
    }
}

fn err(attr: TokenStream) -> String {
    err_on(
        attr,
        quote!(
            pub struct Layer;
        ),
    )
}

fn err_on(attr: TokenStream, item: TokenStream) -> String {
    match parse(attr.clone(), item) {
        Ok(_) => panic!("`{attr}` was accepted"),
        Err(e) => e
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn accepts_every_form() {
    let s = ok(quote!(input = 5x5, kernel = 3x3));
    assert_eq!(
        (s.geometry.input(), s.geometry.kernel(), s.geometry.output()),
        ([5, 5], [3, 3], [3, 3])
    );
    assert_eq!((s.layout, s.scalar), (ChannelLayout::Plain, Scalar::F32));
    assert_eq!(
        ok(quote!(input = (7, 6), kernel = (3, 2),))
            .geometry
            .output(),
        [5, 5]
    );
    assert_eq!(
        ok(quote!(input = 28x28, kernel = 5x5)).geometry.output(),
        [24, 24]
    );
    let s = ok(quote!(
        input = 7x6,
        kernel = 3x2,
        in_channels = 3,
        out_channels = 4,
        stride = 2,
        padding = same,
        dilation = (1, 1),
        scalar = f64
    ));
    assert_eq!(
        (s.layout, s.scalar),
        (ChannelLayout::ChannelFirst, Scalar::F64)
    );
    assert_eq!(
        (
            s.geometry.in_channels(),
            s.geometry.out_channels(),
            s.geometry.output()
        ),
        (3, 4, [4, 3])
    );
    let s = ok(quote!(
        input = 5x5,
        kernel = 3x3,
        padding = (1, 2, 0, 3),
        stride = (2, 1)
    ));
    assert_eq!(s.geometry.pads(), [1, 2, 0, 3]);
    assert_eq!(s.geometry.stride(), [2, 1]);
}

#[test]
fn rejects_each_bad_input_with_what_was_expected() {
    let cases: &[(TokenStream, &str)] = &[
        (quote!(kernel = 3x3), "missing `input = HxW`"),
        (quote!(input = 5x5), "missing `kernel = HxW`"),
        (
            quote!(inptu = 5x5, kernel = 3x3),
            "unknown key `inptu`; expected one of `input`",
        ),
        (quote!(inptu = 5x5, kernel = 3x3), "(did you mean `input`?)"),
        (
            quote!(input = 5x5, input = 5x5, kernel = 3x3),
            "duplicate key `input`",
        ),
        (
            quote!(input = (0, 5), kernel = 3x3),
            "`input` rows must be at least 1, found 0",
        ),
        (
            quote!(input = 5x5, kernel = 7x7),
            "kernel 7x7 is larger than input 5x5 with padding `valid`",
        ),
        (
            quote!(input = 0x5, kernel = 3x3),
            "reads as the hexadecimal number 0x5",
        ),
        (quote!(input = 5e5, kernel = 3x3), "floating-point literal"),
        (quote!(input = 5X5, kernel = 3x3), "lowercase `x`"),
        (quote!(input = 5 x 5, kernel = 3x3), "without spaces: `5x5`"),
        (quote!(input = 5x, kernel = 3x3), "missing the columns"),
        (
            quote!(input = (5, 5, 5), kernel = 3x3),
            "takes 2 numbers `(H, W)`, found 3",
        ),
        (quote!(input = 5u8, kernel = 3x3), "type suffix"),
        (quote!(input = 5x5u8, kernel = 3x3), "type suffix"),
        (quote!(input = N, kernel = 3x3), "sizes must be literals"),
        (quote!(input = 5, kernel = 3x3), "needs rows and columns"),
        (
            quote!(input = 5x5, kernel = 3x3, stride = 0),
            "`stride` rows must be at least 1",
        ),
        (
            quote!(input = 5x5, kernel = 3x3, stride = -1),
            "cannot be negative",
        ),
        (
            quote!(input = 5x5, kernel = 3x3, padding = sam),
            "(did you mean `same`?)",
        ),
        (
            quote!(input = 5x5, kernel = 3x3, scalar = f16),
            "expected `f32` or `f64`",
        ),
        (
            quote!(input = 99999999999999999999999999x5, kernel = 3x3),
            "too large",
        ),
        (
            quote!(input = 64x64, kernel = 9x9),
            "layer too large to unroll: input 64x64 with kernel 9x9",
        ),
    ];
    for (attr, want) in cases {
        let got = err(attr.clone());
        assert!(got.contains(want), "`{attr}`: expected `{want}` in `{got}`");
    }
}

#[test]
fn reports_every_problem_at_once() {
    let got = err(quote!(input = 0x5, kernel = 3X3, bogus = 1));
    assert_eq!(got.lines().count(), 3, "{got}");
}

#[test]
fn rejects_targets_that_are_not_unit_structs() {
    let attr = quote!(input = 5x5, kernel = 3x3);
    assert!(err_on(
        attr.clone(),
        quote!(
            struct L {
                a: u8,
            }
        )
    )
    .contains("found a struct with fields"));
    assert!(err_on(
        attr.clone(),
        quote!(
            struct L(u8);
        )
    )
    .contains("found a struct with fields"));
    assert!(err_on(
        attr.clone(),
        quote!(
            enum L {}
        )
    )
    .contains("found an enum"));
    assert!(err_on(
        attr.clone(),
        quote!(
            fn l() {}
        )
    )
    .contains("found a function"));
    assert!(err_on(
        attr,
        quote!(
            struct L<T>;
        )
    )
    .contains("found a generic struct"));
}

#[test]
fn suggestion_distance() {
    assert_eq!(distance("inptu", "input"), 2);
    assert_eq!(suggest("kernal", &KEYS), " (did you mean `kernel`?)");
    assert_eq!(suggest("zzz", &KEYS), "");
}
