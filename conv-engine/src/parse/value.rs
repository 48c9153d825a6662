//! Values of the attribute's keys, from the tokens between `=` and the next `,`.
//!
//! `5x5` lexes as one integer literal with suffix `x5`, so sizes are read from the literal's
//! text; the shapes that look right but lex otherwise (`0x5` hexadecimal, `5e5` a float, `5X5`,
//! `5 x 5`) get errors that say so.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::Error;

/// A number with the span of the token it came from.
#[derive(Clone, Copy, Debug)]
pub(super) struct Num {
    pub value: usize,
    pub span: Span,
}

/// The tokens of one value, and the span covering them (for errors about the whole value).
pub(super) struct Value {
    pub tokens: Vec<TokenTree>,
    pub span: Span,
}

impl Value {
    pub fn new(tokens: Vec<TokenTree>, fallback: Span) -> Self {
        let span = match (tokens.first(), tokens.last()) {
            (Some(a), Some(b)) => a.span().join(b.span()).unwrap_or_else(|| a.span()),
            _ => fallback,
        };
        Self { tokens, span }
    }
}

/// `HxW` or `(H, W)`.
pub(super) fn size(key: &str, v: &Value) -> Result<[Num; 2], Error> {
    match v.tokens.as_slice() {
        [TokenTree::Literal(lit)] => size_literal(key, lit),
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let nums = tuple(key, g.stream(), g.span(), 2, "(H, W)")?;
            Ok([nums[0], nums[1]])
        }
        [TokenTree::Literal(a), TokenTree::Ident(x), TokenTree::Literal(b)]
            if x == "x" || x == "X" =>
        {
            Err(Error::new(
                x.span(),
                format!("write the size of `{key}` without spaces: `{a}x{b}` (or `({a}, {b})`)"),
            ))
        }
        _ => Err(not_a_literal(key, v, "a size like `5x5` or `(5, 5)`")),
    }
}

fn size_literal(key: &str, lit: &proc_macro2::Literal) -> Result<[Num; 2], Error> {
    let text = lit.to_string();
    let span = lit.span();
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("0x") || lower.starts_with("0b") || lower.starts_with("0o") {
        let radix = match &lower[..2] {
            "0x" => "hexadecimal",
            "0b" => "binary",
            _ => "octal",
        };
        return Err(Error::new(
            span,
            format!("`{text}` reads as the {radix} number {text}, not a size; a size needs rows and columns of at least 1, such as `{key} = 5x5` or `{key} = (5, 5)`"),
        ));
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(text.len());
    let (rows, rest) = text.split_at(digits_end);
    if rows.is_empty() {
        return Err(Error::new(
            span,
            format!("expected a size like `5x5` or `(5, 5)` for `{key}`, found `{text}`"),
        ));
    }
    if rest.starts_with('.') || rest.starts_with('e') || rest.starts_with('E') {
        return Err(Error::new(
            span,
            format!("`{text}` is a floating-point literal; `{key}` needs integer rows and columns such as `5x5`"),
        ));
    }
    let cols = match rest.strip_prefix('x') {
        Some(cols) => cols,
        None if rest.starts_with('X') => {
            return Err(Error::new(
                span,
                format!(
                    "use a lowercase `x` between rows and columns: `{rows}x{}`",
                    &rest[1..]
                ),
            ));
        }
        None if rest.is_empty() => {
            return Err(Error::new(
                span,
                format!(
                    "`{key}` needs rows and columns: write `{rows}x{rows}` or `({rows}, {rows})`"
                ),
            ));
        }
        None => return Err(suffixed(&text, span)),
    };
    if cols.is_empty() {
        return Err(Error::new(
            span,
            format!("`{text}` is missing the columns: write e.g. `{rows}x{rows}`"),
        ));
    }
    if !cols.chars().all(|c| c.is_ascii_digit() || c == '_') || cols.starts_with('_') {
        return Err(suffixed(&text, span));
    }
    Ok([number(rows, span)?, number(cols, span)?])
}

fn suffixed(text: &str, span: Span) -> Error {
    Error::new(
        span,
        format!(
            "`{text}` has a type suffix or stray characters; write plain numbers such as `5x5`"
        ),
    )
}

/// Decimal digits (with `_` separators) as a `usize`, or an overflow error.
fn number(digits: &str, span: Span) -> Result<Num, Error> {
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    clean
        .parse::<usize>()
        .map(|value| Num { value, span })
        .map_err(|_| Error::new(span, format!("`{digits}` is too large")))
}

/// One unsuffixed integer literal.
pub(super) fn integer(key: &str, tt: &TokenTree) -> Result<Num, Error> {
    match tt {
        TokenTree::Literal(lit) => {
            let text = lit.to_string();
            if text.chars().all(|c| c.is_ascii_digit() || c == '_') && !text.starts_with('_') {
                number(&text, lit.span())
            } else if text.contains(['.', 'e', 'E']) && !text.starts_with("0x") {
                Err(Error::new(
                    lit.span(),
                    format!("`{text}` is not an integer; `{key}` takes whole numbers"),
                ))
            } else {
                Err(suffixed(&text, lit.span()))
            }
        }
        TokenTree::Punct(p) if p.as_char() == '-' => {
            Err(Error::new(p.span(), format!("`{key}` cannot be negative")))
        }
        other => Err(Error::new(
            other.span(),
            format!("`{key}` takes integer literals, found `{other}`"),
        )),
    }
}

/// `(a, b, ...)` with exactly `n` integers.
fn tuple(
    key: &str,
    inner: TokenStream,
    span: Span,
    n: usize,
    form: &str,
) -> Result<Vec<Num>, Error> {
    let mut items: Vec<Vec<TokenTree>> = vec![Vec::new()];
    for tt in inner {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => items.push(Vec::new()),
            _ => items.last_mut().map_or((), |item| item.push(tt)),
        }
    }
    if items.last().is_some_and(Vec::is_empty) && items.len() > 1 {
        items.pop();
    }
    if items.len() != n || items.iter().any(Vec::is_empty) {
        let found = items.iter().filter(|i| !i.is_empty()).count();
        return Err(Error::new(
            span,
            format!("`{key}` takes {n} numbers `{form}`, found {found}"),
        ));
    }
    items
        .iter()
        .map(|item| match item.as_slice() {
            [tt] => integer(key, tt),
            [first, ..] => integer(key, first).and_then(|_| {
                Err(Error::new(
                    first.span(),
                    format!("`{key}` takes integer literals `{form}`"),
                ))
            }),
            [] => Err(Error::new(
                span,
                format!("`{key}` takes {n} numbers `{form}`"),
            )),
        })
        .collect()
}

/// `S` or `(SH, SW)`.
pub(super) fn pair(key: &str, v: &Value) -> Result<[Num; 2], Error> {
    match v.tokens.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let nums = tuple(key, g.stream(), g.span(), 2, "(rows, columns)")?;
            Ok([nums[0], nums[1]])
        }
        [tt] => integer(key, tt).map(|n| [n, n]),
        [TokenTree::Punct(p), ..] if p.as_char() == '-' => {
            Err(Error::new(p.span(), format!("`{key}` cannot be negative")))
        }
        _ => Err(not_a_literal(key, v, "a number like `2` or `(2, 1)`")),
    }
}

/// A single count.
pub(super) fn count(key: &str, v: &Value) -> Result<Num, Error> {
    match v.tokens.as_slice() {
        [tt] => integer(key, tt),
        [TokenTree::Punct(p), ..] if p.as_char() == '-' => {
            Err(Error::new(p.span(), format!("`{key}` cannot be negative")))
        }
        _ => Err(not_a_literal(key, v, "a number like `3`")),
    }
}

/// `valid`, `same` or `(top, bottom, left, right)`.
pub(super) fn padding(v: &Value) -> Result<Padding, Error> {
    match v.tokens.as_slice() {
        [TokenTree::Ident(id)] => {
            let word = id.to_string();
            match word.as_str() {
                "valid" => Ok(Padding::Valid),
                "same" => Ok(Padding::Same),
                _ => Err(Error::new(
                    id.span(),
                    format!(
                        "unknown padding `{word}`; expected `valid`, `same` or `(top, bottom, left, right)`{}",
                        super::suggest(&word, &["valid", "same"])
                    ),
                )),
            }
        }
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let n = tuple(
                "padding",
                g.stream(),
                g.span(),
                4,
                "(top, bottom, left, right)",
            )?;
            Ok(Padding::Explicit(n[0], n[1], n[2], n[3]))
        }
        _ => Err(Error::new(
            v.span,
            "expected `valid`, `same` or `(top, bottom, left, right)` for `padding`",
        )),
    }
}

/// A parsed padding, its numbers keeping their spans.
pub(super) enum Padding {
    Valid,
    Same,
    Explicit(Num, Num, Num, Num),
}

/// `f32` or `f64`.
pub(super) fn scalar(v: &Value) -> Result<crate::Scalar, Error> {
    match v.tokens.as_slice() {
        [TokenTree::Ident(id)] if id == "f32" => Ok(crate::Scalar::F32),
        [TokenTree::Ident(id)] if id == "f64" => Ok(crate::Scalar::F64),
        _ => Err(Error::new(
            v.span,
            format!("expected `f32` or `f64` for `scalar`, found `{}`", text(v)),
        )),
    }
}

fn text(v: &Value) -> String {
    v.tokens
        .iter()
        .cloned()
        .collect::<TokenStream>()
        .to_string()
}

fn not_a_literal(key: &str, v: &Value, expected: &str) -> Error {
    if v.tokens.is_empty() {
        return Error::new(v.span, format!("`{key}` needs a value: {expected}"));
    }
    let what = match v.tokens.first() {
        Some(TokenTree::Ident(_)) => {
            " (a name: sizes must be literals, known when the macro expands)"
        }
        _ => "",
    };
    Error::new(
        v.span,
        format!("expected {expected} for `{key}`, found `{}`{what}", text(v)),
    )
}
