//! Validation of the values read: the geometry through [`GeometrySpec::resolve`] (zero sizes,
//! kernel larger than the padded input), each of its errors spanned on the number it concerns,
//! then the unroll limit.

use super::keys::Given;
use super::values::{self, Num, Pair};
use super::Errors;
use crate::{
    ChannelLayout, Field, Geometry, GeometryError, GeometrySpec, Padding, Scalar, Spec, Strategy,
    Unroll, MAX_DERIVED_MACS, MAX_UNROLLED_TERMS, MAX_WINDOW_MACS,
};
use proc_macro2::Span;
use syn::Error;

/// The validated spec, or `None` with every problem in `errors`.
pub(super) fn spec(given: &Given, errors: &mut Errors) -> Option<Spec> {
    let (input, kernel) = (given.input?, given.kernel?);
    let request = GeometrySpec {
        input: input.values(),
        kernel: kernel.values(),
        stride: given.stride.map_or([1, 1], |p| p.values()),
        dilation: given.dilation.map_or([1, 1], |p| p.values()),
        padding: padding(given),
        in_channels: given.in_channels.map_or(1, |n| n.value),
        out_channels: given.out_channels.map_or(1, |n| n.value),
    };
    errors.ok(fits_in_usize(&request, given))?;
    let geometry = errors.ok(resolve(request, given))?;
    let channels = given.in_channels.is_some() || given.out_channels.is_some();
    let spec = Spec {
        geometry,
        layout: if channels {
            ChannelLayout::ChannelFirst
        } else {
            ChannelLayout::Plain
        },
        scalar: given.scalar.unwrap_or(Scalar::F32),
        unroll: given.unroll.map(|(u, _)| u).unwrap_or_default(),
    };
    errors.ok(unroll_limit(&spec, given, input.span))?;
    Some(spec)
}

fn padding(given: &Given) -> Padding {
    match &given.padding {
        None | Some(values::Padding::Valid) => Padding::Valid,
        Some(values::Padding::Same) => Padding::Same,
        Some(values::Padding::Explicit(n, _)) => Padding::Explicit {
            top: n[0].value,
            bottom: n[1].value,
            left: n[2].value,
            right: n[3].value,
        },
    }
}

/// Rejects sizes whose arithmetic inside `resolve` would overflow: the dilated kernel
/// `(K - 1) * D + 1`, and `H + (K - 1) * D` for `same` padding.
fn fits_in_usize(request: &GeometrySpec, given: &Given) -> syn::Result<()> {
    for axis in 0..2 {
        let Some(span) = span_of_kernel(request, axis) else {
            let (k, d) = (pair(request.kernel), pair(request.dilation));
            let at = given
                .dilation
                .or(given.kernel)
                .map_or_else(Span::call_site, |p| p.span);
            let msg = format!("kernel {k} with dilation {d} is larger than any input");
            return Err(Error::new(at, msg));
        };
        if request.input[axis].checked_add(span).is_none() {
            let at = given.input.map_or_else(Span::call_site, |p| p.span);
            let msg = format!("input {} is too large", size(request.input));
            return Err(Error::new(at, msg));
        }
    }
    Ok(())
}

/// `(K - 1) * D + 1` along `axis`, if it fits in `usize`.
fn span_of_kernel(request: &GeometrySpec, axis: usize) -> Option<usize> {
    let k = request.kernel[axis].saturating_sub(1);
    k.checked_mul(request.dilation[axis])?.checked_add(1)
}

/// [`GeometrySpec::resolve`], reporting every zero (it stops at the first, so each one found is
/// set to 1 and the request resolved again) and otherwise its one error.
fn resolve(mut request: GeometrySpec, given: &Given) -> syn::Result<Geometry> {
    let mut zeros: Option<Error> = None;
    // Each round clears one of the ten numbers that may be zero, so eleven rounds always end.
    for _ in 0..=10 {
        let e = match (request.resolve(), zeros.take()) {
            (Err(GeometryError::Zero(field)), found) => {
                set_to_one(&mut request, field);
                zeros = match (found, zero(given, field)) {
                    (Some(mut all), Some(e)) => {
                        all.combine(e);
                        Some(all)
                    }
                    (found, e) => found.or(e),
                };
                continue;
            }
            // Once a number was zero, later errors are artefacts of setting it to 1.
            (_, Some(found)) => found,
            (Ok(geometry), None) => return Ok(geometry),
            (Err(e), None) => geometry_error(e, &request, given),
        };
        return Err(e);
    }
    Err(zeros.unwrap_or_else(|| Error::new(Span::call_site(), "invalid layer geometry")))
}

/// The error for a zero `field`, on its number. `None` for the columns of a pair written as one
/// number (`stride = 0`): its rows already gave the error.
fn zero(given: &Given, field: Field) -> Option<Error> {
    let pair = |p: Option<Pair>, i: usize| match p {
        Some(p) if p.single && i == 1 => None,
        Some(p) if p.single => Some((p.span, true)),
        p => Some((p.map_or_else(Span::call_site, |p| p.nums[i].span), false)),
    };
    let num = |n: Option<Num>| Some((n.map_or_else(Span::call_site, |n| n.span), false));
    let (span, single) = match field {
        Field::InputRows => pair(given.input, 0),
        Field::InputCols => pair(given.input, 1),
        Field::KernelRows => pair(given.kernel, 0),
        Field::KernelCols => pair(given.kernel, 1),
        Field::StrideRows => pair(given.stride, 0),
        Field::StrideCols => pair(given.stride, 1),
        Field::DilationRows => pair(given.dilation, 0),
        Field::DilationCols => pair(given.dilation, 1),
        Field::InChannels => num(given.in_channels),
        Field::OutChannels => num(given.out_channels),
    }?;
    Some(if single {
        let key = field.describe().0;
        Error::new(span, format!("`{key}` must be at least 1, found 0"))
    } else {
        Error::new(span, GeometryError::Zero(field))
    })
}

fn set_to_one(request: &mut GeometrySpec, field: Field) {
    let n = match field {
        Field::InputRows => &mut request.input[0],
        Field::InputCols => &mut request.input[1],
        Field::KernelRows => &mut request.kernel[0],
        Field::KernelCols => &mut request.kernel[1],
        Field::StrideRows => &mut request.stride[0],
        Field::StrideCols => &mut request.stride[1],
        Field::DilationRows => &mut request.dilation[0],
        Field::DilationCols => &mut request.dilation[1],
        Field::InChannels => &mut request.in_channels,
        Field::OutChannels => &mut request.out_channels,
    };
    *n = 1;
}

/// The errors of `resolve` other than zeros, worded with the user's numbers.
fn geometry_error(e: GeometryError, request: &GeometrySpec, given: &Given) -> Error {
    let input = size(request.input);
    let padding = padding_text(request.padding);
    match e {
        GeometryError::KernelTooLarge { .. } => {
            let [a, b] = [0, 1].map(|axis| span_of_kernel(request, axis).unwrap_or(usize::MAX));
            let kernel = match request.dilation {
                [1, 1] => format!("kernel {} is", size(request.kernel)),
                d => format!(
                    "kernel {} with dilation {} spans {}, which is",
                    size(request.kernel),
                    pair(d),
                    size([a, b])
                ),
            };
            let padded = match request.padding {
                Padding::Explicit {
                    top,
                    bottom,
                    left,
                    right,
                } => {
                    let rows = request.input[0].saturating_add(top).saturating_add(bottom);
                    let cols = request.input[1].saturating_add(left).saturating_add(right);
                    format!(" ({} once padded)", size([rows, cols]))
                }
                _ => String::new(),
            };
            let msg = format!("{kernel} larger than input {input} with padding {padding}{padded}");
            Error::new(given.kernel.map_or_else(Span::call_site, |p| p.span), msg)
        }
        GeometryError::Zero(_) | GeometryError::TooLarge => {
            let at = match &given.padding {
                Some(values::Padding::Explicit(_, span)) => *span,
                _ => given.input.map_or_else(Span::call_site, |p| p.span),
            };
            let msg = format!("input {input} with padding {padding} is too large: {e}");
            Error::new(at, msg)
        }
    }
}

/// Rejects layers above [`MAX_DERIVED_MACS`] multiply-adds, fully unrolled layers above
/// [`MAX_UNROLLED_TERMS`] products, window layers above [`MAX_WINDOW_MACS`] multiply-adds, and
/// rows layers above [`MAX_WINDOW_MACS`] multiply-adds per output row. Each message gives the
/// layer's count and the limit; it is spanned at the `unroll` value when a strategy asked for
/// is what exceeds its limit, else at `input` (the size of the layer is the cause).
fn unroll_limit(spec: &Spec, given: &Given, input: Span) -> syn::Result<()> {
    let g = &spec.geometry;
    let [oh, ow] = g.output();
    let [kh, kw] = g.kernel();
    let macs = [ow, g.out_channels(), g.in_channels(), kh, kw]
        .into_iter()
        .try_fold(oh as u128, |n, m| n.checked_mul(m as u128));
    if macs.is_none_or(|n| n > MAX_DERIVED_MACS as u128) {
        let count = macs.map_or_else(|| format!("more than {}", thousands(u128::MAX)), thousands);
        return Err(Error::new(
            input,
            format!(
                "layer too large to derive: {} needs {count} multiply-adds per forward pass, more \
                 than the limit of {} (each product is derived and proven at expansion); for a \
                 layer this size use `conv_runtime::reference` (the generic formulation at \
                 run-time sizes), or a smaller layer",
                describe(g),
                thousands(MAX_DERIVED_MACS as u128),
            ),
        ));
    }
    let at = match given.unroll {
        Some((unroll, span)) if unroll != Unroll::Auto => span,
        _ => input,
    };
    strategy_limit(spec, spec.strategy(), at)?;
    strategy_limit(spec, spec.strategy_on(crate::Tier::Avx2), at)?;
    strategy_limit(spec, spec.backward_strategy(), at)
}

/// The limit of one strategy (`auto` picks strategies within them).
fn strategy_limit(spec: &Spec, strategy: Strategy, at: Span) -> syn::Result<()> {
    let g = &spec.geometry;
    let (count, limit, msg) = match strategy {
        Strategy::Full => (
            spec.unrolled_terms(),
            MAX_UNROLLED_TERMS,
            "layer too large to unroll: {layer} gives {count} terms (forward + backward), more \
             than the limit of {limit}; use `unroll = rows` (loops over output rows) or a smaller \
             layer",
        ),
        Strategy::Rows => (
            g.row_window().macs(),
            MAX_WINDOW_MACS,
            "layer too large for the compile-time proof: one output row of {layer} needs {count} \
             multiply-adds, more than the limit of {limit}; use a narrower input, a smaller \
             kernel, a larger stride or fewer channels",
        ),
        Strategy::Window => (
            g.macs(),
            MAX_WINDOW_MACS,
            "layer too large for the compile-time proof: {layer} needs {count} multiply-adds per \
             forward pass, more than the limit of {limit}; use `unroll = rows` (the proof \
             evaluates one output row) or a smaller layer",
        ),
    };
    if count <= limit {
        return Ok(());
    }
    let msg = msg
        .replace("{layer}", &describe(g))
        .replace("{count}", &thousands(count as u128))
        .replace("{limit}", &thousands(limit as u128));
    Err(Error::new(at, msg))
}

/// `9663676416` as `9,663,676,416`.
fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `28x28 input with 9x9 kernel`, with the stride, dilation, padding and channels that differ
/// from the defaults.
fn describe(g: &Geometry) -> String {
    let s = g.spec();
    let mut text = format!("{} input with {} kernel", size(s.input), size(s.kernel));
    if s.stride != [1, 1] {
        text += &format!(", stride {}", pair(s.stride));
    }
    if s.dilation != [1, 1] {
        text += &format!(", dilation {}", pair(s.dilation));
    }
    if s.padding != Padding::Valid {
        text += &format!(", padding {}", padding_text(s.padding));
    }
    if (s.in_channels, s.out_channels) != (1, 1) {
        text += &format!(", {} -> {} channels", s.in_channels, s.out_channels);
    }
    text
}

/// `5x5`.
fn size([rows, cols]: [usize; 2]) -> String {
    format!("{rows}x{cols}")
}

/// `2`, or `(2, 1)` when the two differ (as written in the attribute).
fn pair([a, b]: [usize; 2]) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("({a}, {b})")
    }
}

fn padding_text(padding: Padding) -> String {
    match padding {
        Padding::Valid => "`valid`".into(),
        Padding::Same => "`same`".into(),
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => {
            format!("`({top}, {bottom}, {left}, {right})`")
        }
    }
}
