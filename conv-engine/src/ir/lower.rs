//! The IR as Rust tokens: `while` loops, indexed element copies and accumulations, and the
//! companion's calls. The one place loop code is written.

use super::{Array, Index, Place, Program, Returns, Stmt};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// A call of the companion, given the names of its array arguments.
pub(crate) type Call = Box<dyn Fn(&[&Ident]) -> TokenStream>;

/// How the companion is called.
pub(crate) struct Calls {
    /// Statements before the body (for example the kernel transposed once).
    pub prelude: TokenStream,
    /// `forward(window)`.
    pub forward: Call,
    /// `backward(window, delta_row)`.
    pub backward: Call,
}

/// The function body of `program`: locals, statements, the returned value.
pub(crate) fn body(program: &Program, zero: &TokenStream, calls: &Calls) -> TokenStream {
    let locals = program.locals.iter().filter(|l| !l.bound_by_call).map(|l| {
        let name = ident(l.name);
        let zeros = l.dims.iter().rev().fold(zero.clone(), |inner, &n| {
            let n = Literal::usize_unsuffixed(n);
            quote!([#inner; #n])
        });
        quote!(let mut #name = #zeros;)
    });
    let statements = stmts(program, &program.body, calls);
    let name = |n: usize| ident(program.locals[n].name);
    let returned = match program.returns {
        Returns::Forward { u } => {
            let u = name(u);
            quote!(#u)
        }
        Returns::Backward { dx, dk, db } => {
            let (dx, dk, db) = (name(dx), name(dk), name(db));
            quote!(::conv_runtime::Gradients { dx: #dx, dk: #dk, db: #db })
        }
    };
    let prelude = &calls.prelude;
    quote! { #prelude #(#locals)* #statements #returned }
}

fn stmts(program: &Program, body: &[Stmt], calls: &Calls) -> TokenStream {
    body.iter().map(|s| stmt(program, s, calls)).collect()
}

fn stmt(program: &Program, s: &Stmt, calls: &Calls) -> TokenStream {
    let name = |n: usize| ident(program.locals[n].name);
    match s {
        Stmt::Loop {
            var,
            extent,
            opaque,
            body,
        } => {
            let (v, n) = (ident(var.0), Literal::usize_unsuffixed(*extent));
            let next = match opaque {
                true => quote!(#v = ::core::hint::black_box(#v + 1);),
                false => quote!(#v += 1;),
            };
            let body = stmts(program, body, calls);
            quote! {
                let mut #v = 0;
                while #v < #n {
                    #body
                    #next
                }
            }
        }
        Stmt::Copy { to, from } => {
            let (to, from) = (place(program, to), place(program, from));
            quote!(#to = #from;)
        }
        Stmt::Add { to, from } => {
            let (to, from) = (place(program, to), place(program, from));
            quote!(#to += #from;)
        }
        Stmt::RowForward { window, out } => {
            let (out, call) = (name(*out), (calls.forward)(&[&name(*window)]));
            quote!(let #out = #call;)
        }
        Stmt::RowBackward {
            window,
            delta,
            dx,
            dk,
            db,
        } => {
            let call = (calls.backward)(&[&name(*window), &name(*delta)]);
            let (dx, dk, db) = (name(*dx), name(*dk), name(*db));
            quote!(let ::conv_runtime::Gradients { dx: #dx, dk: #dk, db: #db } = #call;)
        }
    }
}

fn place(program: &Program, p: &Place) -> TokenStream {
    let array = match p.array {
        Array::X => ident("x"),
        Array::K => ident("k"),
        Array::Delta => ident("delta"),
        Array::Local(n) => ident(program.locals[n].name),
    };
    let indices = p.index.iter().map(index);
    quote!(#array #([#indices])*)
}

fn index(i: &Index) -> TokenStream {
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

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}
