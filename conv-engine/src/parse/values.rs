//! Values of the attribute's keys, from the tokens between `=` and the next top-level `,`.
//!
//! Sizes written `HxW` are decoded in [`super::size`]; everything else is a number, a
//! parenthesised tuple of numbers or a keyword.

use super::size;
use super::suggest::did_you_mean;
use crate::Scalar;
use proc_macro2::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};
use syn::Error;

/// A number with the span of the token it came from.
#[derive(Clone, Copy, Debug)]
pub(super) struct Num {
    pub value: usize,
    pub span: Span,
}

/// `[rows, columns]`, and the span of the whole value (for errors about both).
#[derive(Clone, Copy, Debug)]
pub(super) struct Pair {
    pub nums: [Num; 2],
    pub span: Span,
    /// Written as one number for both (`stride = 2`).
    pub single: bool,
}

impl Pair {
    pub fn new(nums: [Num; 2], span: Span) -> Self {
        Self {
            nums,
            span,
            single: false,
        }
    }

    /// One number for rows and columns.
    pub fn both(n: Num) -> Self {
        Self {
            nums: [n, n],
            span: n.span,
            single: true,
        }
    }

    pub fn values(&self) -> [usize; 2] {
        self.nums.map(|n| n.value)
    }
}

/// A parsed `padding`, its numbers keeping their spans.
pub(super) enum Padding {
    Valid,
    Same,
    /// `(top, bottom, left, right)`, and the span of the tuple.
    Explicit([Num; 4], Span),
}

/// The (non-empty) tokens of one value.
pub(crate) struct Value {
    tokens: Vec<TokenTree>,
}

impl Value {
    pub fn new(tokens: Vec<TokenTree>) -> Self {
        Self { tokens }
    }

    /// The value as written (modulo spacing), for messages.
    pub fn text(&self) -> String {
        self.stream().to_string()
    }

    fn stream(&self) -> TokenStream {
        self.tokens.iter().cloned().collect()
    }

    /// The value's tokens.
    pub fn tokens(&self) -> &[TokenTree] {
        &self.tokens
    }

    /// The span of the first token (the value is never empty).
    pub fn span(&self) -> Span {
        self.tokens
            .first()
            .map_or_else(Span::call_site, TokenTree::span)
    }

    /// An error covering every token of the value.
    fn error(&self, msg: String) -> Error {
        Error::new_spanned(self.stream(), msg)
    }
}

/// `HxW` or `(H, W)`.
pub(super) fn size(key: &str, v: &Value) -> syn::Result<Pair> {
    match v.tokens.as_slice() {
        [TokenTree::Literal(lit)] if is_string(lit) => Err(v.error(format!(
            "`{key}` takes a size like `5x5`, not a string: remove the quotes"
        ))),
        [TokenTree::Literal(lit)] => size::literal(key, lit),
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let [rows, cols] = tuple(key, g, "(rows, columns)")?;
            Ok(Pair::new([rows, cols], g.span()))
        }
        tokens => Err(size::spaced(key, tokens)
            .or_else(|| negative(key, v))
            .unwrap_or_else(|| not_literal(key, v, "a size like `5x5` or `(5, 5)`"))),
    }
}

/// `S` or `(SH, SW)` (stride and dilation).
pub(super) fn pair(key: &str, v: &Value) -> syn::Result<Pair> {
    match v.tokens.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let [rows, cols] = tuple(key, g, "(rows, columns)")?;
            Ok(Pair::new([rows, cols], g.span()))
        }
        [tt @ TokenTree::Literal(_)] => integer(key, tt).map(Pair::both),
        _ => Err(negative(key, v)
            .unwrap_or_else(|| not_literal(key, v, "a number like `2` or `(2, 1)`"))),
    }
}

/// One number (a channel count).
pub(super) fn count(key: &str, v: &Value) -> syn::Result<Num> {
    match v.tokens.as_slice() {
        [tt @ TokenTree::Literal(_)] => integer(key, tt),
        _ => Err(negative(key, v).unwrap_or_else(|| not_literal(key, v, "a number like `3`"))),
    }
}

const PADDING_FORMS: &str = "`valid`, `same` or `(top, bottom, left, right)`";

/// `valid`, `same` or `(top, bottom, left, right)`.
pub(super) fn padding(key: &str, v: &Value) -> syn::Result<Padding> {
    match v.tokens.as_slice() {
        [TokenTree::Ident(id)] if id == "valid" => Ok(Padding::Valid),
        [TokenTree::Ident(id)] if id == "same" => Ok(Padding::Same),
        [TokenTree::Ident(id)] => {
            let word = id.to_string();
            let hint = did_you_mean(&word, &["valid", "same"]);
            let msg = format!("unknown padding `{word}`; expected {PADDING_FORMS}{hint}");
            Err(Error::new(id.span(), msg))
        }
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let nums = tuple(key, g, "(top, bottom, left, right)")?;
            Ok(Padding::Explicit(nums, g.span()))
        }
        [TokenTree::Literal(lit)] if !is_string(lit) => {
            let n = lit.to_string();
            Err(v.error(format!(
                "expected {PADDING_FORMS} for `{key}`, found `{n}`; \
                 for {n} on every side write `({n}, {n}, {n}, {n})`"
            )))
        }
        _ => Err(v.error(format!(
            "expected {PADDING_FORMS} for `{key}`, found `{}`",
            v.text()
        ))),
    }
}

/// `full`, `window`, `rows` or `auto`, with the span of the word.
pub(super) fn unroll(key: &str, v: &Value) -> syn::Result<(crate::Unroll, Span)> {
    use crate::Unroll;
    match v.tokens.as_slice() {
        [TokenTree::Ident(id)] if id == "full" => Ok((Unroll::Full, id.span())),
        [TokenTree::Ident(id)] if id == "window" => Ok((Unroll::Window, id.span())),
        [TokenTree::Ident(id)] if id == "rows" => Ok((Unroll::Rows, id.span())),
        [TokenTree::Ident(id)] if id == "auto" => Ok((Unroll::Auto, id.span())),
        _ => {
            let found = v.text();
            let hint = super::suggest::did_you_mean(&found, &["full", "window", "rows", "auto"]);
            Err(v.error(format!(
                "expected `full`, `window`, `rows` or `auto` for `{key}`, found `{found}`{hint}"
            )))
        }
    }
}

/// `f32` or `f64`.
pub(super) fn scalar(key: &str, v: &Value) -> syn::Result<Scalar> {
    match v.tokens.as_slice() {
        [TokenTree::Ident(id)] if id == "f32" => Ok(Scalar::F32),
        [TokenTree::Ident(id)] if id == "f64" => Ok(Scalar::F64),
        _ => {
            let found = v.text();
            // Only a change of case is suggested: `f16` is no misspelling of `f32`.
            let hint = match found.to_ascii_lowercase().as_str() {
                t @ ("f32" | "f64") => format!(" (did you mean `{t}`?)"),
                _ => String::new(),
            };
            Err(v.error(format!(
                "expected `f32` or `f64` for `{key}`, found `{found}`{hint}"
            )))
        }
    }
}

/// `(a, b, ...)` with exactly `N` numbers (a trailing comma allowed). Every bad element is
/// reported, not only the first.
fn tuple<const N: usize>(key: &str, group: &Group, form: &str) -> syn::Result<[Num; N]> {
    let mut items: Vec<Vec<TokenTree>> = vec![Vec::new()];
    for tt in group.stream() {
        match (&tt, items.last_mut()) {
            (TokenTree::Punct(p), _) if p.as_char() == ',' => items.push(Vec::new()),
            (_, Some(item)) => item.push(tt),
            (_, None) => {}
        }
    }
    if items.len() > 1 && items.last().is_some_and(Vec::is_empty) {
        items.pop();
    }
    let found = items.iter().filter(|i| !i.is_empty()).count();
    if items.len() != N || found != N {
        let texts: Vec<String> = items.iter().map(|i| Value::new(i.clone()).text()).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let hint = size::channels_hint(key, &texts, |[h, w]| format!("({h}, {w})"));
        let msg = format!("`{key}` takes {N} numbers `{form}`, found {found}{hint}");
        return Err(Error::new(group.span(), msg));
    }
    let mut nums = Vec::with_capacity(N);
    let mut errors: Option<Error> = None;
    for item in items {
        match element(key, item) {
            Ok(n) => nums.push(n),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    nums.try_into()
        .map_err(|_| Error::new(group.span(), format!("`{key}` takes {N} numbers `{form}`")))
}

/// One element of a tuple: a single number.
fn element(key: &str, item: Vec<TokenTree>) -> syn::Result<Num> {
    let v = Value::new(item);
    match v.tokens.as_slice() {
        [tt] => integer(key, tt),
        _ => Err(negative(key, &v).unwrap_or_else(|| not_literal(key, &v, "a number"))),
    }
}

/// One unsuffixed decimal integer literal.
pub(super) fn integer(key: &str, tt: &TokenTree) -> syn::Result<Num> {
    let TokenTree::Literal(lit) = tt else {
        let found = tt.to_string();
        let why = match tt {
            TokenTree::Ident(_) => ": the macro reads numbers, not names or constants",
            _ => "",
        };
        let msg = format!("`{key}` takes a number like `2`, found `{found}`{why}");
        return Err(Error::new(tt.span(), msg));
    };
    let text = lit.to_string();
    let span = lit.span();
    if is_string(lit) {
        let msg = format!("`{key}` takes a number like `2`, found `{text}`: remove the quotes");
        return Err(Error::new(span, msg));
    }
    if let Some(radix) = size::radix(&text) {
        let msg = format!("`{text}` is a {radix} literal; write `{key}` in decimal");
        return Err(Error::new(span, msg));
    }
    let (digits, rest) = size::leading_digits(&text);
    match rest {
        "" => size::number(digits, span),
        _ if size::is_float(rest) => {
            let msg = format!("`{text}` is not a whole number; `{key}` takes whole numbers");
            Err(Error::new(span, msg))
        }
        _ if size::is_type_suffix(rest) => {
            let msg = format!("`{text}` has the type suffix `{rest}`; write `{digits}`");
            Err(Error::new(span, msg))
        }
        _ if rest.starts_with('x') && size::leading_digits(&rest[1..]).1.is_empty() => {
            let cols = &rest[1..];
            let msg = format!(
                "`{key}` takes one number or `(rows, columns)`, found `{text}`; \
                 write `({digits}, {cols})`"
            );
            Err(Error::new(span, msg))
        }
        _ => Err(Error::new(
            span,
            format!("`{key}` takes a number like `2`, found `{text}`"),
        )),
    }
}

/// A string, byte or character literal (numbers start with a digit).
fn is_string(lit: &Literal) -> bool {
    !lit.to_string().starts_with(|c: char| c.is_ascii_digit())
}

/// `-5`, `-5x5`, `-(2, 1)`: a minus sign in front of a value.
fn negative(key: &str, v: &Value) -> Option<Error> {
    match v.tokens.as_slice() {
        [TokenTree::Punct(p), _] if p.as_char() == '-' => Some(v.error(format!(
            "`{key}` cannot be negative, found `{}`",
            v.text().replace(' ', "")
        ))),
        _ => None,
    }
}

/// Anything else: a name, a path, an expression.
fn not_literal(key: &str, v: &Value, expected: &str) -> Error {
    let why = match v.tokens.first() {
        Some(TokenTree::Ident(_)) => {
            "; the macro reads the attribute's tokens before any constant is known, \
             so it needs a literal"
        }
        _ => "",
    };
    v.error(format!(
        "expected {expected} for `{key}`, found `{}`{why}",
        v.text()
    ))
}
