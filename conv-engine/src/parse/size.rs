//! Sizes written `HxW`, read from the literal's text.
//!
//! `5x5` lexes as one integer literal, `5` with the suffix `x5` (and `28x28` as `28` with
//! `x28`). Shapes that look right but lex otherwise get errors that say how they read: `0x5` is
//! hexadecimal, `5e5` a float, `5X5` has an uppercase `X`, `5 x 5` is three tokens.

use super::values::{Num, Pair};
use proc_macro2::{Literal, Span, TokenTree};
use syn::Error;

/// `HxW` from one literal token.
pub(super) fn literal(key: &str, lit: &Literal) -> syn::Result<Pair> {
    let text = lit.to_string();
    let span = lit.span();
    let [rows, cols] = decode(key, &text).map_err(|msg| Error::new(span, msg))?;
    let (rows, cols) = (number(rows, span), number(cols, span));
    match (rows, cols) {
        (Ok(rows), Ok(cols)) => Ok(Pair::new([rows, cols], span)),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The rows and columns digits of `HxW`, or what is wrong with `text`.
fn decode<'t>(key: &str, text: &'t str) -> Result<[&'t str; 2], String> {
    if let Some(radix) = radix(text) {
        return Err(not_decimal(key, text, radix));
    }
    let (rows, rest) = leading_digits(text);
    if rest.is_empty() {
        return Err(format!(
            "`{key}` needs rows and columns, found only `{rows}`: \
             write `{rows}x{rows}` or `({rows}, {rows})`"
        ));
    }
    if is_float(rest) {
        return Err(float(key, text, rows, rest));
    }
    if let Some(cols) = rest.strip_prefix('X').filter(|c| is_digits(c)) {
        return Err(format!(
            "use a lowercase `x` between rows and columns: `{rows}x{cols}`"
        ));
    }
    if is_type_suffix(rest) {
        return Err(format!(
            "`{text}` has the type suffix `{rest}`; `{key}` takes rows and columns without a \
             suffix, like `{rows}x{rows}`"
        ));
    }
    let Some(after_x) = rest.strip_prefix('x') else {
        return Err(expected(key, text));
    };
    columns(key, text, rows, after_x).map(|cols| [rows, cols])
}

/// `0x5`: Rust reads the prefix, so this is the number five, not 0 rows by 5 columns.
fn not_decimal(key: &str, text: &str, radix: &str) -> String {
    match text.strip_prefix("0x").filter(|cols| is_digits(cols)) {
        Some(cols) => format!(
            "`{text}` reads as the hexadecimal number {text}, not as 0 rows by {cols} columns; \
             a size needs at least 1 row and 1 column, like `{key} = 5x5`"
        ),
        None => format!(
            "`{text}` reads as the {radix} number {text}; write the size in decimal, \
             like `{key} = 5x5`"
        ),
    }
}

/// `5e5` (likely meant `5x5`), `5.0`.
fn float(key: &str, text: &str, rows: &str, rest: &str) -> String {
    let found = format!("`{text}` reads as the floating-point number {text}");
    match rest.strip_prefix(['e', 'E']).filter(|cols| is_digits(cols)) {
        Some(cols) => format!("{found}; did you mean `{key} = {rows}x{cols}`?"),
        None => format!("{found}; `{key}` takes whole rows and columns, like `5x5`"),
    }
}

/// The columns digits after the `x` of `text`.
fn columns<'t>(key: &str, text: &str, rows: &str, after_x: &'t str) -> Result<&'t str, String> {
    if after_x.is_empty() {
        return Err(format!(
            "`{text}` is missing the columns: write e.g. `{rows}x{rows}`"
        ));
    }
    let parts: Vec<&str> = after_x.split('x').collect();
    if parts.len() > 1 && parts.iter().all(|p| is_digits(p)) {
        let numbers: Vec<&str> = [rows].into_iter().chain(parts.iter().copied()).collect();
        return Err(format!(
            "`{key}` takes 2 numbers (rows x columns), found {} in `{text}`{}",
            numbers.len(),
            channels_hint(key, &numbers, |[h, w]| format!("{h}x{w}"))
        ));
    }
    let (cols, suffix) = leading_digits(after_x);
    match suffix {
        "" if !cols.is_empty() => Ok(cols),
        _ if !cols.is_empty() && is_type_suffix(suffix) => Err(format!(
            "`{text}` has the type suffix `{suffix}`; sizes take none: write `{rows}x{cols}`"
        )),
        _ => Err(expected(key, text)),
    }
}

/// For `input` written with a third number (`5x5x3`, `(5, 5, 3)`): how to give the channels,
/// which are a key of their own. `size` writes rows and columns in the form the user chose.
/// The channels are read as the odd number out of a square size: last (`5x5x3`, as
/// TensorFlow writes shapes) or first (`6x14x14`, as PyTorch and `#[network]` do); both
/// readings are offered when neither is square.
pub(super) fn channels_hint(
    key: &str,
    numbers: &[&str],
    size: impl Fn([&str; 2]) -> String,
) -> String {
    let [a, b, c] = match numbers {
        [a, b, c] if key == "input" && numbers.iter().all(|n| is_digits(n)) => [*a, *b, *c],
        _ => return String::new(),
    };
    let last = format!("`input = {}, in_channels = {c}`", size([a, b]));
    let first = format!("`input = {}, in_channels = {a}`", size([b, c]));
    let write = match (a == b, b == c) {
        (true, _) => last,
        (false, true) => first,
        (false, false) => format!("{first} (channels first) or {last} (channels last)"),
    };
    format!("; channels are a key of their own: write {write}")
}

fn expected(key: &str, text: &str) -> String {
    format!("expected a size like `5x5` or `(5, 5)` for `{key}`, found `{text}`")
}

/// `5 x 5`, `5 x5`, `5x 5`: a size split into several tokens, if the tokens form one.
pub(super) fn spaced(key: &str, tokens: &[TokenTree]) -> Option<Error> {
    let words = tokens
        .iter()
        .all(|t| matches!(t, TokenTree::Literal(_) | TokenTree::Ident(_)));
    if tokens.len() < 2 || !words {
        return None;
    }
    let joined: String = tokens.iter().map(ToString::to_string).collect::<String>();
    let joined = joined.to_ascii_lowercase();
    decode(key, &joined).ok()?;
    let stream: proc_macro2::TokenStream = tokens.iter().cloned().collect();
    Some(Error::new_spanned(
        stream,
        format!("write the size of `{key}` without spaces: `{joined}`"),
    ))
}

/// Decimal digits (with `_` separators) as a `usize`, or an error when it does not fit.
pub(super) fn number(digits: &str, span: Span) -> syn::Result<Num> {
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    clean
        .parse::<usize>()
        .map(|value| Num { value, span })
        .map_err(|_| {
            let max = usize::MAX;
            Error::new(span, format!("`{digits}` is too large (more than {max})"))
        })
}

/// `"hexadecimal"` for `0x..`, and likewise binary and octal: Rust reads these prefixes, so
/// `0x5` is the number five, not 0 by 5.
pub(super) fn radix(text: &str) -> Option<&'static str> {
    match text.get(..2) {
        Some("0x") => Some("hexadecimal"),
        Some("0b") => Some("binary"),
        Some("0o") => Some("octal"),
        _ => None,
    }
}

/// Splits `text` after its leading decimal digits (and `_` separators after the first digit).
pub(super) fn leading_digits(text: &str) -> (&str, &str) {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (c == '_' && i > 0)))
        .map_or(text.len(), |(i, _)| i);
    text.split_at(end)
}

fn is_digits(text: &str) -> bool {
    let (digits, rest) = leading_digits(text);
    !digits.is_empty() && rest.is_empty()
}

/// What follows the digits of a float literal: `.5`, `e5`, `E5`, `f32`.
pub(super) fn is_float(rest: &str) -> bool {
    rest.starts_with(['.', 'e', 'E']) || rest == "f32" || rest == "f64"
}

/// `u8`, `usize`, `i32`, ...: an integer type suffix.
pub(super) fn is_type_suffix(rest: &str) -> bool {
    const SUFFIXES: [&str; 12] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    ];
    SUFFIXES.contains(&rest)
}
