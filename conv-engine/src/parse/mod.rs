//! Parsing and validation of `#[conv2d(...)]` into a [`Spec`](crate::Spec).
//!
//! Every problem becomes a [`syn::Error`] spanned on the narrowest token available (the number,
//! not the whole attribute), and all problems are reported together.

mod target;
mod value;

use crate::{
    ChannelLayout, Field, GeometryError, GeometrySpec, Padding, Scalar, Spec, MAX_UNROLLED_TERMS,
};
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::Error;
use value::{Num, Value};

/// The keys the attribute accepts, in the order error messages list them.
const KEYS: [&str; 8] = [
    "input",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "in_channels",
    "out_channels",
    "scalar",
];

/// Parses `#[conv2d(attr)]` applied to `item`.
///
/// Returns the validated spec and the target struct, or every problem found, combined into one
/// [`syn::Error`].
pub fn parse(attr: TokenStream, item: TokenStream) -> Result<(Spec, syn::ItemStruct), Error> {
    let mut errors = Errors::default();
    let target = target::target(item).map_err(|e| errors.push(e)).ok();
    let spec = attribute(attr, &mut errors);
    match (errors.finish(), spec, target) {
        (Ok(()), Some(spec), Some(target)) => Ok((spec, target)),
        (Err(e), _, _) => Err(e),
        _ => Err(Error::new(
            Span::call_site(),
            "invalid `#[conv2d]` attribute",
        )),
    }
}

#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, e: Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
    fn finish(self) -> Result<(), Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The values given, each with its spans.
#[derive(Default)]
struct Given {
    input: Option<[Num; 2]>,
    input_span: Option<Span>,
    kernel: Option<[Num; 2]>,
    kernel_span: Option<Span>,
    stride: Option<[Num; 2]>,
    dilation: Option<[Num; 2]>,
    padding: Option<value::Padding>,
    in_channels: Option<Num>,
    out_channels: Option<Num>,
    scalar: Option<Scalar>,
}

fn attribute(attr: TokenStream, errors: &mut Errors) -> Option<Spec> {
    let mut given = Given::default();
    let mut seen: Vec<(String, Span)> = Vec::new();
    for (key, value) in entries(attr, errors) {
        let name = key.to_string();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == name) {
            let mut e = Error::new(key.span(), format!("duplicate key `{name}`"));
            e.combine(Error::new(*first, format!("`{name}` was first given here")));
            errors.push(e);
            continue;
        }
        seen.push((name.clone(), key.span()));
        if let Err(e) = assign(&mut given, &name, &key, &value) {
            errors.push(e);
        }
    }
    let mut missing = false;
    for (key, present) in [
        ("input", given.input_span.is_some()),
        ("kernel", given.kernel_span.is_some()),
    ] {
        // A misspelt key already reported with this key as its suggestion needs no second error.
        let misspelt = seen
            .iter()
            .any(|(k, _)| !KEYS.contains(&k.as_str()) && !suggest(k, &[key]).is_empty());
        if !present && !misspelt {
            errors.push(Error::new(
                Span::call_site(),
                format!(
                    "missing `{key} = HxW` (for example `{key} = {}`)",
                    if key == "input" { "5x5" } else { "3x3" }
                ),
            ));
        }
        missing |= !present;
    }
    if missing {
        return None;
    }
    validate(&given, errors)
}

/// Splits `key = value, ...` into keys and value tokens.
fn entries(attr: TokenStream, errors: &mut Errors) -> Vec<(proc_macro2::Ident, Value)> {
    let mut out = Vec::new();
    let mut tokens = attr.into_iter().peekable();
    while let Some(tt) = tokens.next() {
        let key = match tt {
            TokenTree::Ident(id) => id,
            other => {
                errors.push(Error::new(
                    other.span(),
                    format!("expected a key such as `input`, found `{other}`"),
                ));
                skip_to_comma(&mut tokens);
                continue;
            }
        };
        match tokens.next() {
            Some(TokenTree::Punct(p)) if p.as_char() == '=' => {}
            _ => {
                errors.push(Error::new(key.span(), format!("expected `{key} = ...`")));
                skip_to_comma(&mut tokens);
                continue;
            }
        }
        let mut value = Vec::new();
        while let Some(tt) =
            tokens.next_if(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
        {
            value.push(tt);
        }
        tokens.next();
        let span = key.span();
        out.push((key, Value::new(value, span)));
    }
    out
}

fn skip_to_comma(tokens: &mut std::iter::Peekable<proc_macro2::token_stream::IntoIter>) {
    for tt in tokens.by_ref() {
        if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
            break;
        }
    }
}

fn assign(given: &mut Given, name: &str, key: &proc_macro2::Ident, v: &Value) -> Result<(), Error> {
    match name {
        "input" => {
            given.input_span = Some(v.span);
            given.input = Some(value::size(name, v)?);
        }
        "kernel" => {
            given.kernel_span = Some(v.span);
            given.kernel = Some(value::size(name, v)?);
        }
        "stride" => given.stride = Some(value::pair(name, v)?),
        "dilation" => given.dilation = Some(value::pair(name, v)?),
        "padding" => given.padding = Some(value::padding(v)?),
        "in_channels" => given.in_channels = Some(value::count(name, v)?),
        "out_channels" => given.out_channels = Some(value::count(name, v)?),
        "scalar" => given.scalar = Some(value::scalar(v)?),
        _ => {
            let expected = KEYS.map(|k| format!("`{k}`")).join(", ");
            return Err(Error::new(
                key.span(),
                format!(
                    "unknown key `{name}`; expected one of {expected}{}",
                    suggest(name, &KEYS)
                ),
            ));
        }
    }
    Ok(())
}

/// ` (did you mean `x`?)` for the closest candidate within a small edit distance.
fn suggest(word: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// Resolves the geometry and checks the unroll limit. Inputs with a type error never reach
/// this point (they returned above), so every number here has a span.
fn validate(given: &Given, errors: &mut Errors) -> Option<Spec> {
    let (input, kernel) = (given.input?, given.kernel?);
    let one = |n: Option<[Num; 2]>| n.map_or([1, 1], |[a, b]| [a.value, b.value]);
    let padding = match &given.padding {
        None | Some(value::Padding::Valid) => Padding::Valid,
        Some(value::Padding::Same) => Padding::Same,
        Some(value::Padding::Explicit(t, b, l, r)) => Padding::Explicit {
            top: t.value,
            bottom: b.value,
            left: l.value,
            right: r.value,
        },
    };
    let request = GeometrySpec {
        input: [input[0].value, input[1].value],
        kernel: [kernel[0].value, kernel[1].value],
        stride: one(given.stride),
        dilation: one(given.dilation),
        padding,
        in_channels: given.in_channels.map_or(1, |n| n.value),
        out_channels: given.out_channels.map_or(1, |n| n.value),
    };
    let geometry = match request.resolve() {
        Ok(g) => g,
        Err(e) => {
            errors.push(geometry_error(e, given, &request));
            return None;
        }
    };
    let layout = if given.in_channels.is_some() || given.out_channels.is_some() {
        ChannelLayout::ChannelFirst
    } else {
        ChannelLayout::Plain
    };
    let spec = Spec {
        geometry,
        layout,
        scalar: given.scalar.unwrap_or(Scalar::F32),
    };
    let terms = spec.unrolled_terms();
    if terms > MAX_UNROLLED_TERMS {
        let [h, w] = request.input;
        let [kh, kw] = request.kernel;
        errors.push(Error::new(
            given.input_span.unwrap_or_else(Span::call_site),
            format!(
                "layer too large to unroll: input {h}x{w} with kernel {kh}x{kw} ({} -> {} channels) gives \
                 {terms} products (forward + backward), more than the limit of {MAX_UNROLLED_TERMS}; \
                 use a smaller layer",
                request.in_channels, request.out_channels
            ),
        ));
        return None;
    }
    Some(spec)
}

fn geometry_error(e: GeometryError, given: &Given, request: &GeometrySpec) -> Error {
    let fallback = Span::call_site();
    match e {
        GeometryError::Zero(field) => {
            let span = match field {
                Field::InputRows => given.input.map(|n| n[0].span),
                Field::InputCols => given.input.map(|n| n[1].span),
                Field::KernelRows => given.kernel.map(|n| n[0].span),
                Field::KernelCols => given.kernel.map(|n| n[1].span),
                Field::StrideRows => given.stride.map(|n| n[0].span),
                Field::StrideCols => given.stride.map(|n| n[1].span),
                Field::DilationRows => given.dilation.map(|n| n[0].span),
                Field::DilationCols => given.dilation.map(|n| n[1].span),
                Field::InChannels => given.in_channels.map(|n| n.span),
                Field::OutChannels => given.out_channels.map(|n| n.span),
            };
            Error::new(span.unwrap_or(fallback), e.to_string())
        }
        GeometryError::KernelTooLarge { .. } => {
            let [h, w] = request.input;
            let [kh, kw] = request.kernel;
            let padding = match request.padding {
                Padding::Valid => "`valid`".to_string(),
                Padding::Same => "`same`".to_string(),
                Padding::Explicit {
                    top,
                    bottom,
                    left,
                    right,
                } => format!("`({top}, {bottom}, {left}, {right})`"),
            };
            let dilation = match request.dilation {
                [1, 1] => String::new(),
                [dh, dw] => format!(" (dilated by ({dh}, {dw}))"),
            };
            Error::new(
                given.kernel_span.unwrap_or(fallback),
                format!("kernel {kh}x{kw}{dilation} is larger than input {h}x{w} with padding {padding}"),
            )
        }
        _ => Error::new(given.input_span.unwrap_or(fallback), e.to_string()),
    }
}

#[cfg(test)]
mod tests;
