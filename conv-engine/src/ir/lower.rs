//! The IR as Rust tokens: `while` loops, indexed element writes, sums, literals, and the
//! companion's calls. The one place generated code is written from the IR.

use super::{Array, Binding, Chain, Expr, Place, Program, Returns, Stmt, Term};
mod lane_sums;
mod prelude;
mod tokens;
pub(crate) mod transpose;
mod vectors;

use tokens::{constant_flat, counted, grouped, ident, index, local_name, nest, repeat};
pub(crate) use tokens::{element_name, Names};

use crate::plan::{LaneSums, Vectors};
use proc_macro2::{Ident, Literal, TokenStream};
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

/// What the lowering needs besides the program.
pub(crate) struct Lowering<'a> {
    /// `f32` or `f64`.
    pub scalar: &'a Ident,
    /// How the companion is called (programs without companion calls need none).
    pub calls: Option<&'a Calls>,
    /// The parameters the operands are passed as.
    pub names: Names,
    /// How a loop of lane sums of sixteen `f32` partial sums per column is written
    /// ([`Writer::lane_sums`]).
    pub lane_sums: LaneSums,
    /// How loops over whole vectors are written ([`Writer::vector_loop`]).
    pub vectors: Vectors,
}

/// The function body of `program`: the `mul_add` import where a sum fuses, the companion's
/// prelude, the named operands' bindings, the zeroed locals, the statements, the returned value
/// (a literal bound last and returned is the tail expression itself). A
/// [`Binding::Accumulator`] local is the `&mut` parameter of its name, which the function's
/// signature declares.
pub(crate) fn body(program: &Program, how: &Lowering<'_>) -> TokenStream {
    let w = Writer { program, how };
    let zero = w.zero();
    let locals = program.locals.iter().enumerate().map(|(n, l)| {
        let name = local_name(program, n);
        match &l.binding {
            Binding::Zeroed => {
                let zeros = repeat(&l.dims, zero.clone());
                quote!(let mut #name = #zeros;)
            }
            Binding::Mask(bits) => {
                let (ty, ones) = match how.scalar.to_string().as_str() {
                    "f32" => (quote!(u32), quote!(u32::MAX)),
                    _ => (quote!(u64), quote!(u64::MAX)),
                };
                let cells = bits.iter().map(|&set| match set {
                    true => ones.clone(),
                    false => quote!(0),
                });
                let (ty, value) = (repeat(&l.dims, ty), nest(&l.dims, &mut cells.into_iter()));
                quote!(const #name: #ty = #value;)
            }
            // Bound by their statements, or (a `&mut` buffer) a parameter.
            Binding::Call | Binding::Let | Binding::View | Binding::Accumulator => {
                TokenStream::new()
            }
        }
    });
    let locals: TokenStream = locals.collect();
    let name = |n: usize| local_name(program, n);
    let returned_local = program.returns.returned();
    let (statements, tail) = match (program.body.split_last(), returned_local) {
        (Some((Stmt::Literal { local, elements }, rest)), Some(n)) if *local == n => {
            (w.stmts(rest), w.literal(&program.locals[n].dims, elements))
        }
        _ => {
            let tail = match program.returns {
                Returns::Backward { dx, dk, db } => {
                    // `dx` rather than `dx: dx` where the local has the field's name.
                    let field = |field: &str, n: usize| {
                        let (f, local) = (ident(field), name(n));
                        match local == field {
                            true => quote!(#f),
                            false => quote!(#f: #local),
                        }
                    };
                    let (dx, dk, db) = (field("dx", dx), field("dk", dk), field("db", db));
                    quote!(::conv_runtime::Gradients { #dx, #dk, #db })
                }
                Returns::Parameters { dk, db } => {
                    let (dk, db) = (name(dk), name(db));
                    quote!((#dk, #db))
                }
                _ => {
                    let n = name(returned_local.unwrap_or_default());
                    quote!(#n)
                }
            };
            (w.stmts(&program.body), tail)
        }
    };
    let prelude = how.calls.map(|c| c.prelude.clone());
    let mul_add = w.mul_add_import();
    let total = w.total_fn();
    let named = w.named();
    quote! { #mul_add #total #prelude #named #locals #statements #tail }
}

struct Writer<'a> {
    program: &'a Program,
    how: &'a Lowering<'a>,
}

impl Writer<'_> {
    fn zero(&self) -> TokenStream {
        match self.how.scalar.to_string().as_str() {
            "f32" => quote!(0.0f32),
            _ => quote!(0.0f64),
        }
    }

    fn stmts(&self, mut body: &[Stmt]) -> TokenStream {
        let mut out = TokenStream::new();
        while let Some((first, rest)) = body.split_first() {
            if let Some((n, sums)) = self.leading_sums(body) {
                out.extend(sums);
                body = &body[n..];
            } else if let Some((n, run)) = self.vector_run(body) {
                out.extend(run);
                body = &body[n..];
            } else {
                out.extend(self.stmt(first));
                body = rest;
            }
        }
        out
    }

    fn local(&self, n: usize) -> Ident {
        local_name(self.program, n)
    }

    /// Whether `to` is a parameter a program of gradient descent updates in place
    /// ([`Returns::Accumulate`] with `descent`): its additions are lowered `-= rate * (..)`.
    fn descends(&self, to: &Place) -> bool {
        match (&self.program.returns, to.array) {
            (
                Returns::Accumulate {
                    dk,
                    db,
                    descent: true,
                    ..
                },
                Array::Local(n),
            ) => n == *dk || n == *db,
            _ => false,
        }
    }

    fn stmt(&self, s: &Stmt) -> TokenStream {
        if let Some(passes) = self.transpose(s) {
            return passes;
        }
        match s {
            Stmt::Loop {
                var,
                extent,
                step,
                counter,
                body,
            } => {
                if let Some(call) = self.lane_sums(*var, *extent, *step, body) {
                    return call;
                }
                if let Some(vectors) = self.vector_loop(*var, (*extent, *step, *counter), body) {
                    return vectors;
                }
                counted(*var, (*extent, *step, *counter), self.stmts(body))
            }
            Stmt::Set { to, value } => {
                let (to, value) = (self.place(to), self.whole(value));
                quote!(#to = #value;)
            }
            Stmt::Add { to, value } if self.descends(to) => {
                let (to, value) = (self.place(to), self.expr(value));
                quote!(#to -= rate * (#value);)
            }
            Stmt::Add { to, value } => {
                let (to, value) = (self.place(to), self.expr(value));
                quote!(#to += #value;)
            }
            Stmt::Let { local, value } => {
                let (name, value) = (self.local(*local), self.whole(value));
                match writes(&self.program.body, *local) {
                    true => quote!(let mut #name = #value;),
                    false => quote!(let #name = #value;),
                }
            }
            Stmt::Literal { local, elements } => {
                let name = self.local(*local);
                let value = self.literal(&self.program.locals[*local].dims, elements);
                quote!(let #name = #value;)
            }
            Stmt::Fill { local, value } => {
                let name = self.local(*local);
                let dims = &self.program.locals[*local].dims;
                let value = match value.terms.as_slice() {
                    [Term::Read(p)] if p.index.len() < self.program.dims(p.array).len() => {
                        repeat(&dims[..1], self.whole(value))
                    }
                    _ => repeat(dims, self.expr(value)),
                };
                quote!(let mut #name = #value;)
            }
            Stmt::Block(body) => {
                let body = self.stmts(body);
                quote!({ #body })
            }
            Stmt::View { local, of, mutable } => {
                let (name, of) = (self.local(*local), self.place(of));
                match mutable {
                    true => quote!(let #name = &mut #of;),
                    false => quote!(let #name = &#of;),
                }
            }
            Stmt::Opaque { local } => {
                let name = self.local(*local);
                quote!(let #name = ::core::hint::black_box(#name);)
            }
            Stmt::Solve {
                var,
                target,
                offset,
                stride,
                extent,
                body,
            } => {
                let (v, n) = (ident(var.0), Literal::usize_unsuffixed(*extent));
                let (target, offset) = (index(target), grouped(offset));
                let rel = quote!(#target - #offset);
                let body = self.stmts(body);
                match stride {
                    1 => quote! {
                        if #target >= #offset && #rel < #n {
                            let #v = #rel;
                            #body
                        }
                    },
                    _ => {
                        let stride = Literal::usize_unsuffixed(*stride);
                        quote! {
                            if #target >= #offset && (#rel) % #stride == 0 && (#rel) / #stride < #n {
                                let #v = (#rel) / #stride;
                                #body
                            }
                        }
                    }
                }
            }
            Stmt::RowForward { window, out } => {
                let call = self.how.calls.map(|c| (c.forward)(&[&self.local(*window)]));
                let out = self.local(*out);
                quote!(let #out = #call;)
            }
            Stmt::RowBackward {
                window,
                delta,
                dx,
                dk,
                db,
            } => {
                let call = self
                    .how
                    .calls
                    .map(|c| (c.backward)(&[&self.local(*window), &self.local(*delta)]));
                let (dx, dk, db) = (self.local(*dx), self.local(*dk), self.local(*db));
                quote!(let ::conv_runtime::Gradients { dx: #dx, dk: #dk, db: #db } = #call;)
            }
        }
    }

    /// A nested array literal of `elements` in flat order (the element itself for a scalar).
    fn literal(&self, dims: &[usize], elements: &[Expr]) -> TokenStream {
        nest(dims, &mut elements.iter().map(|e| self.expr(e)))
    }

    /// `t0 + t1 + ..`, or `mul_add(a2, b2, mul_add(a1, b1, t0))`; zero for no terms.
    fn expr(&self, e: &Expr) -> TokenStream {
        let mut terms = e.terms.iter();
        let Some(first) = terms.next() else {
            return self.zero();
        };
        let first = self.term(first);
        terms.fold(first, |sum, t| match (e.chain, t) {
            (Chain::MulAdd(_), Term::Product(a, b)) => {
                let (a, b) = (self.place(a), self.place(b));
                quote!(mul_add(#a, #b, #sum))
            }
            _ => {
                let t = self.term(t);
                quote!(#sum + #t)
            }
        })
    }

    /// A statement's whole value: a sum, or a copy of a sub-array (`*x` for a whole operand,
    /// which the function takes by reference).
    fn whole(&self, e: &Expr) -> TokenStream {
        match e.terms.as_slice() {
            [Term::Read(p)] if p.index.is_empty() && !self.program.dims(p.array).is_empty() => {
                let place = self.place(p);
                match p.array {
                    Array::Local(_) => place,
                    _ => quote!(*#place),
                }
            }
            _ => self.expr(e),
        }
    }

    fn term(&self, t: &Term) -> TokenStream {
        match t {
            Term::Read(p) => self.place(p),
            Term::Total(p) => {
                let p = self.place(p);
                quote!(total(&#p))
            }
            Term::Leading(p, n) => {
                let (p, n) = (self.place(p), proc_macro2::Literal::usize_unsuffixed(*n));
                quote!(leading(&#p, #n))
            }
            Term::Pairwise(p) => {
                let p = self.place(p);
                quote!(sum(&#p))
            }
            Term::Masked(a, b, mask) => {
                let (a, b, mask, t) = (
                    self.place(a),
                    self.place(b),
                    self.place(mask),
                    self.how.scalar,
                );
                quote!(#t::from_bits((#a * #b).to_bits() & #mask))
            }
            Term::Product(a, b) => {
                let (a, b) = (self.place(a), self.place(b));
                quote!(#a * #b)
            }
        }
    }

    fn place(&self, p: &Place) -> TokenStream {
        let dims = self.program.dims(p.array);
        if self.program.named.contains(&p.array) {
            if let Some(flat) = constant_flat(p, dims) {
                let name = element_name(self.how.names.prefix(p.array), dims, flat);
                return quote!(#name);
            }
        }
        let array = match p.array {
            Array::Local(n) => self.local(n),
            operand => ident(self.how.names.source(operand)),
        };
        let indices = p.index.iter().map(index);
        quote!(#array #([#indices])*)
    }
}

/// Whether some statement of `body` writes into the local `local` (`Set` or `Add`).
pub fn writes(body: &[Stmt], local: usize) -> bool {
    body.iter().any(|s| match s {
        Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => {
            writes(body, local)
        }
        Stmt::Set { to, .. } | Stmt::Add { to, .. } => to.array == Array::Local(local),
        _ => false,
    })
}
