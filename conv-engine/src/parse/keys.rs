//! The attribute's keys: one table naming each key and its value parser, and the pass that
//! reads the entries through it (unknown, duplicate and missing keys).

use super::entries::{entries, Entry};
use super::suggest::{did_you_mean, nearest};
use super::values::{self, Num, Pair, Value};
use super::Errors;
use crate::{Scalar, Unroll};
use proc_macro2::{Span, TokenStream};
use syn::Error;

/// The values given, each keeping the spans of its tokens. `None`: not given (the default).
#[derive(Default)]
pub(super) struct Given {
    pub input: Option<Pair>,
    pub kernel: Option<Pair>,
    pub stride: Option<Pair>,
    pub padding: Option<values::Padding>,
    pub dilation: Option<Pair>,
    pub in_channels: Option<Num>,
    pub out_channels: Option<Num>,
    pub scalar: Option<Scalar>,
    /// The strategy and the span of its value (errors about its limit point there).
    pub unroll: Option<(Unroll, Span)>,
}

/// Parses one value into its field of [`Given`]; the `&str` is the key, for messages.
type Setter = fn(&mut Given, &str, &Value) -> syn::Result<()>;

/// One key of the attribute.
pub(super) struct Key {
    pub name: &'static str,
    /// An example value for the "missing" error; `Some` makes the key required.
    pub example: Option<&'static str>,
    /// Whether the geometry depends on the value (a bad one then skips the geometry checks).
    pub shapes_geometry: bool,
    set: Setter,
}

const fn required(name: &'static str, example: &'static str, set: Setter) -> Key {
    Key {
        name,
        example: Some(example),
        shapes_geometry: true,
        set,
    }
}

const fn optional(name: &'static str, set: Setter) -> Key {
    Key {
        name,
        example: None,
        shapes_geometry: true,
        set,
    }
}

impl Key {
    const fn not_geometry(self) -> Key {
        Key {
            shapes_geometry: false,
            ..self
        }
    }
}

/// Every key, in the order messages list them. A new key is one line here, a field of
/// [`Given`] and its value parser.
// One line per key keeps the table readable; rustfmt would spread each over five.
#[rustfmt::skip]
pub(super) const KEYS: &[Key] = &[
    required("input", "5x5", |g, k, v| values::size(k, v).map(|x| g.input = Some(x))),
    required("kernel", "3x3", |g, k, v| values::size(k, v).map(|x| g.kernel = Some(x))),
    optional("stride", |g, k, v| values::pair(k, v).map(|x| g.stride = Some(x))),
    optional("padding", |g, k, v| values::padding(k, v).map(|x| g.padding = Some(x))),
    optional("dilation", |g, k, v| values::pair(k, v).map(|x| g.dilation = Some(x))),
    optional("in_channels", |g, k, v| values::count(k, v).map(|x| g.in_channels = Some(x))),
    optional("out_channels", |g, k, v| values::count(k, v).map(|x| g.out_channels = Some(x))),
    optional("scalar", |g, k, v| values::scalar(k, v).map(|x| g.scalar = Some(x))).not_geometry(),
    optional("unroll", |g, k, v| values::unroll(k, v).map(|x| g.unroll = Some(x))).not_geometry(),
];

/// Reads the attribute through [`KEYS`]. Every problem goes to `errors`; the values come back
/// only when the geometry can be checked (all required keys given, no geometry value bad).
pub(super) fn read(attr: TokenStream, errors: &mut Errors) -> Option<Given> {
    let mut reader = Reader::default();
    for entry in entries(attr) {
        match entry {
            Ok(entry) => reader.entry(entry, errors),
            Err(e) => {
                // The segment may be a required key written without its name: `5x5`.
                reader.keyless = true;
                reader.complete = false;
                errors.push(e);
            }
        }
    }
    reader.missing(errors);
    reader.complete.then_some(reader.given)
}

struct Reader {
    given: Given,
    /// Keys read so far, with the text of their first value.
    seen: Vec<(&'static str, String)>,
    /// Unknown keys, so a misspelt `inptu` does not also give "missing `input`".
    unknown: Vec<String>,
    /// Whether a segment had no key; it may be the missing one.
    keyless: bool,
    complete: bool,
}

impl Default for Reader {
    fn default() -> Self {
        Self {
            given: Given::default(),
            seen: Vec::new(),
            unknown: Vec::new(),
            keyless: false,
            complete: true,
        }
    }
}

impl Reader {
    fn entry(&mut self, Entry { key, value }: Entry, errors: &mut Errors) {
        let name = key.to_string();
        let Some(spec) = KEYS.iter().find(|k| k.name == name) else {
            errors.push(unknown_key(&key, &name));
            self.unknown.push(name);
            self.complete = false;
            return;
        };
        if let Some((_, first)) = self.seen.iter().find(|(k, _)| *k == spec.name) {
            let msg = format!(
                "duplicate key `{name}`; it was first given as `{name} = {first}`: remove one"
            );
            errors.push(Error::new(key.span(), msg));
            return;
        }
        let text = value.as_ref().map_or_else(|_| String::new(), Value::text);
        self.seen.push((spec.name, text));
        let set = value.and_then(|v| (spec.set)(&mut self.given, spec.name, &v));
        if errors.ok(set).is_none() && spec.shapes_geometry {
            self.complete = false;
        }
    }

    /// Reports required keys that were not given (unless a misspelling of them was reported).
    fn missing(&mut self, errors: &mut Errors) {
        for key in KEYS {
            let (Some(example), false) =
                (key.example, self.seen.iter().any(|(k, _)| *k == key.name))
            else {
                continue;
            };
            self.complete = false;
            let misspelt = |u: &String| nearest(u, &[key.name]).is_some();
            if self.keyless || self.unknown.iter().any(misspelt) {
                continue;
            }
            let msg = format!(
                "missing `{0} = HxW` (for example `{0} = {example}`)",
                key.name
            );
            errors.push(Error::new(Span::call_site(), msg));
        }
    }
}

fn unknown_key(key: &proc_macro2::Ident, name: &str) -> Error {
    let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    let expected = names
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = did_you_mean(name, &names);
    Error::new(
        key.span(),
        format!("unknown key `{name}`; expected one of {expected}{hint}"),
    )
}
