//! Tokens of indices, operands and names.

use crate::ir::{Array, Counter, Index, Place, Program, Var};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

/// `index`, parenthesised when it is more than one part.
pub(super) fn grouped(i: &Index) -> TokenStream {
    let tokens = index(i);
    match i.terms.len() + usize::from(i.constant > 0) {
        0 | 1 => tokens,
        _ => quote!((#tokens)),
    }
}

/// The flat position of `p` when every index is a constant.
pub(super) fn constant_flat(p: &Place, dims: &[usize]) -> Option<usize> {
    let mut flat = 0;
    for (i, &n) in p.index.iter().zip(dims) {
        if !i.terms.is_empty() || i.constant >= n {
            return None;
        }
        flat = flat * n + i.constant;
    }
    (p.index.len() == dims.len()).then_some(flat)
}

/// The parameters the operands are passed as, which differ by layer kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    /// `x`.
    pub x: &'static str,
    /// The kernel (or weights).
    pub k: &'static str,
    /// The bias.
    pub b: &'static str,
    /// `delta = dL/du`.
    pub delta: &'static str,
}

impl Names {
    /// A convolution's: `x`, `k`, `b`, `delta`.
    pub const CONVOLUTION: Names = Names {
        x: "x",
        k: "k",
        b: "b",
        delta: "delta",
    };
    /// A dense layer's: `x`, `w`, `b`, `delta`.
    pub const DENSE: Names = Names {
        k: "w",
        ..Names::CONVOLUTION
    };

    /// The parameter `array` is passed as.
    pub(super) fn source(&self, array: Array) -> &'static str {
        match array {
            Array::X => self.x,
            Array::K => self.k,
            Array::B => self.b,
            Array::Delta => self.delta,
            Array::Local(_) => "",
        }
    }

    /// The prefix of an operand's element names (`d` for `delta`).
    pub(super) fn prefix(&self, array: Array) -> &'static str {
        match array {
            Array::Delta => "d",
            other => self.source(other),
        }
    }
}

/// The binding name of flat element `flat` of an array of `dims`: `x_2_3` (indices joined by
/// `_`), the prefix alone for a scalar.
pub(crate) fn element_name(prefix: &str, dims: &[usize], flat: usize) -> Ident {
    let mut rest = flat;
    let mut parts = vec![0; dims.len()];
    for (slot, n) in parts.iter_mut().zip(dims).rev() {
        *slot = rest % n;
        rest /= n;
    }
    let mut name = prefix.to_string();
    for p in parts {
        name.push('_');
        name.push_str(&p.to_string());
    }
    format_ident!("{}", name)
}

pub(super) fn index(i: &Index) -> TokenStream {
    let mut parts: Vec<TokenStream> = i
        .terms
        .iter()
        .map(|&(v, c)| {
            let v = ident(v.0);
            match c {
                1 => quote!(#v),
                _ => {
                    let c = Literal::usize_unsuffixed(c);
                    quote!(#v * #c)
                }
            }
        })
        .collect();
    if i.constant > 0 || parts.is_empty() {
        let c = Literal::usize_unsuffixed(i.constant);
        parts.push(quote!(#c));
    }
    quote!(#(#parts)+*)
}

pub(super) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// The name local `n` of `program` is lowered to: its own, followed by `_k` when `k` earlier
/// locals have the same name. Two locals are two variables in the IR's semantics (and in its
/// symbolic execution), so they are two in the code too: with one name, the second `let` would
/// shadow the first while both are live.
pub(super) fn local_name(program: &Program, n: usize) -> Ident {
    let name = &program.locals[n].name;
    match program.locals[..n]
        .iter()
        .filter(|l| &l.name == name)
        .count()
    {
        0 => ident(name),
        k => ident(&format!("{name}_{k}")),
    }
}

/// `[[value; m]; n]` over `dims` (`value` for none).
pub(super) fn repeat(dims: &[usize], value: TokenStream) -> TokenStream {
    dims.iter().rev().fold(value, |inner, &n| {
        let n = Literal::usize_unsuffixed(n);
        quote!([#inner; #n])
    })
}

/// A nested array literal of `items` in flat order (the item itself for a scalar).
pub(super) fn nest(dims: &[usize], items: &mut impl Iterator<Item = TokenStream>) -> TokenStream {
    match dims.split_first() {
        None => items.next().unwrap_or_default(),
        Some((&n, rest)) => {
            let rows = (0..n).map(|_| nest(rest, items));
            quote!([#(#rows),*])
        }
    }
}

/// `for var in (0..extent).step_by(step) { body }` with its counter written as `counter` says:
/// a `while` loop, or the body once per value, each copy in a block after `let var = value;`.
pub(super) fn counted(
    var: Var,
    (extent, step, counter): (usize, usize, Counter),
    body: TokenStream,
) -> TokenStream {
    let (v, n) = (ident(var.0), Literal::usize_unsuffixed(extent));
    if counter == Counter::Unrolled {
        let values = (0..extent).step_by(step).map(Literal::usize_unsuffixed);
        return quote!(#({ let #v: usize = #values; #body })*);
    }
    let step = Literal::usize_unsuffixed(step);
    let next = match counter {
        Counter::Opaque => quote!(#v = ::core::hint::black_box(#v + #step);),
        _ => quote!(#v += #step;),
    };
    quote! {
        let mut #v = 0;
        while #v < #n {
            #body
            #next
        }
    }
}
