//! The IR as Rust tokens: `while` loops, indexed element writes, sums, literals, and the
//! companion's calls. The one place generated code is written from the IR.

use super::{
    for_each_expr, Array, Binding, Chain, Expr, Index, MulAdd, Place, Program, Returns, Stmt, Term,
};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

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
}

/// The function body of `program`: the `mul_add` import where a sum fuses, the companion's
/// prelude, the named operands' bindings, the zeroed locals, the statements, the returned value
/// (a literal bound last and returned is the tail expression itself).
pub(crate) fn body(program: &Program, how: &Lowering<'_>) -> TokenStream {
    let w = Writer { program, how };
    let locals = program
        .locals
        .iter()
        .enumerate()
        .filter(|(_, l)| l.binding == Binding::Zeroed)
        .map(|(n, l)| {
            let (name, zeros) = (ident(&l.name), w.zeros(n));
            quote!(let mut #name = #zeros;)
        });
    let locals: TokenStream = locals.collect();
    let name = |n: usize| ident(&program.locals[n].name);
    let returned_local = match program.returns {
        Returns::Forward { u: n } | Returns::Dx(n) | Returns::Dk(n) | Returns::Db(n) => Some(n),
        Returns::Backward { .. } => None,
    };
    let (statements, tail) = match (program.body.split_last(), returned_local) {
        (Some((Stmt::Literal { local, elements }, rest)), Some(n)) if *local == n => {
            (w.stmts(rest), w.literal(&program.locals[n].dims, elements))
        }
        _ => {
            let tail = match program.returns {
                Returns::Backward { dx, dk, db } => {
                    let (dx, dk, db) = (name(dx), name(dk), name(db));
                    quote!(::conv_runtime::Gradients { dx: #dx, dk: #dk, db: #db })
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

    /// `[[0.0; ..]; ..]` shaped like local `n` (`0.0` for a scalar).
    fn zeros(&self, n: usize) -> TokenStream {
        let dims = &self.program.locals[n].dims;
        dims.iter().rev().fold(self.zero(), |inner, &n| {
            let n = Literal::usize_unsuffixed(n);
            quote!([#inner; #n])
        })
    }

    fn stmts(&self, body: &[Stmt]) -> TokenStream {
        body.iter().map(|s| self.stmt(s)).collect()
    }

    fn local(&self, n: usize) -> Ident {
        ident(&self.program.locals[n].name)
    }

    fn stmt(&self, s: &Stmt) -> TokenStream {
        match s {
            Stmt::Loop {
                var,
                extent,
                step,
                opaque,
                body,
            } => {
                let (v, n) = (ident(var.0), Literal::usize_unsuffixed(*extent));
                let step = Literal::usize_unsuffixed(*step);
                let next = match opaque {
                    true => quote!(#v = ::core::hint::black_box(#v + #step);),
                    false => quote!(#v += #step;),
                };
                let body = self.stmts(body);
                quote! {
                    let mut #v = 0;
                    while #v < #n {
                        #body
                        #next
                    }
                }
            }
            Stmt::Set { to, value } => {
                let (to, value) = (self.place(to), self.whole(value));
                quote!(#to = #value;)
            }
            Stmt::Add { to, value } => {
                let (to, value) = (self.place(to), self.expr(value));
                quote!(#to += #value;)
            }
            Stmt::Let { local, value } => {
                let (name, value) = (self.local(*local), self.whole(value));
                quote!(let #name = #value;)
            }
            Stmt::Literal { local, elements } => {
                let name = self.local(*local);
                let value = self.literal(&self.program.locals[*local].dims, elements);
                quote!(let #name = #value;)
            }
            Stmt::Fill { local, value } if value.terms.is_empty() => {
                let (name, zeros) = (self.local(*local), self.zeros(*local));
                quote!(let mut #name = #zeros;)
            }
            Stmt::Fill { local, value } => {
                let name = self.local(*local);
                let n = self.program.locals[*local]
                    .dims
                    .first()
                    .copied()
                    .unwrap_or(1);
                let (value, n) = (self.whole(value), Literal::usize_unsuffixed(n));
                quote!(let mut #name = [#value; #n];)
            }
            Stmt::Block(body) => {
                let body = self.stmts(body);
                quote!({ #body })
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
            Term::Product(a, b) => {
                let (a, b) = (self.place(a), self.place(b));
                quote!(#a * #b)
            }
        }
    }

    /// `use conv_runtime::mul_add::f32 as mul_add;` where some sum fuses a second term (an
    /// unused import would warn in the user's crate).
    fn mul_add_import(&self) -> Option<TokenStream> {
        let mut kind = None;
        for_each_expr(&self.program.body, &mut |e| {
            if let Chain::MulAdd(m) = e.chain {
                if e.terms.len() > 1 {
                    kind = Some(m);
                }
            }
        });
        let t = self.how.scalar;
        kind.map(|m| match m {
            MulAdd::Target => quote!(use ::conv_runtime::mul_add::#t as mul_add;),
            MulAdd::Fused => quote!(use ::conv_runtime::mul_add::fused::#t as mul_add;),
        })
    }

    /// `const fn total`, the sum of an array's elements in order, where a sum uses it.
    fn total_fn(&self) -> Option<TokenStream> {
        let mut used = false;
        for_each_expr(&self.program.body, &mut |e| {
            used |= e.terms.iter().any(|t| matches!(t, Term::Total(_)));
        });
        let (t, zero) = (self.how.scalar, self.zero());
        used.then(|| {
            quote! {
                /// The sum of the elements, in order.
                const fn total<const N: usize>(t: &[#t; N]) -> #t {
                    let mut s = #zero;
                    let mut i = 0;
                    while i < N { s += t[i]; i += 1; }
                    s
                }
            }
        })
    }

    /// `let [[x_0_0, _], ..] = *x;` for every named operand, `_` for elements never read by a
    /// constant index.
    fn named(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for &array in &self.program.named {
            let dims = self.program.dims(array);
            if dims.is_empty() {
                continue;
            }
            let mut used = vec![false; dims.iter().product()];
            for_each_expr(&self.program.body, &mut |e| {
                for p in e.places() {
                    if let (true, Some(flat)) = (p.array == array, constant_flat(p, dims)) {
                        used[flat] = true;
                    }
                }
            });
            let items = used.iter().enumerate().map(|(flat, &u)| match u {
                true => {
                    let n = element_name(prefix(array), dims, flat);
                    quote!(#n)
                }
                false => quote!(_),
            });
            let pattern = nest(dims, &mut items.into_iter());
            let source = ident(source(array));
            out.extend(quote!(let #pattern = *#source;));
        }
        out
    }

    fn place(&self, p: &Place) -> TokenStream {
        let dims = self.program.dims(p.array);
        if self.program.named.contains(&p.array) {
            if let Some(flat) = constant_flat(p, dims) {
                let name = element_name(prefix(p.array), dims, flat);
                return quote!(#name);
            }
        }
        let array = match p.array {
            Array::Local(n) => self.local(n),
            operand => ident(source(operand)),
        };
        let indices = p.index.iter().map(index);
        quote!(#array #([#indices])*)
    }
}

/// A nested array literal of `items` in flat order (the item itself for a scalar).
fn nest(dims: &[usize], items: &mut impl Iterator<Item = TokenStream>) -> TokenStream {
    match dims.split_first() {
        None => items.next().unwrap_or_default(),
        Some((&n, rest)) => {
            let rows = (0..n).map(|_| nest(rest, items));
            quote!([#(#rows),*])
        }
    }
}

/// `index`, parenthesised when it is more than one part.
fn grouped(i: &Index) -> TokenStream {
    let tokens = index(i);
    match i.terms.len() + usize::from(i.constant > 0) {
        0 | 1 => tokens,
        _ => quote!((#tokens)),
    }
}

/// The flat position of `p` when every index is a constant.
fn constant_flat(p: &Place, dims: &[usize]) -> Option<usize> {
    let mut flat = 0;
    for (i, &n) in p.index.iter().zip(dims) {
        if !i.terms.is_empty() || i.constant >= n {
            return None;
        }
        flat = flat * n + i.constant;
    }
    (p.index.len() == dims.len()).then_some(flat)
}

/// The parameter an operand is passed as.
fn source(array: Array) -> &'static str {
    match array {
        Array::X => "x",
        Array::K => "k",
        Array::B => "b",
        Array::Delta => "delta",
        Array::Local(_) => "",
    }
}

/// The prefix of an operand's element names (`d` for `delta`).
fn prefix(array: Array) -> &'static str {
    match array {
        Array::Delta => "d",
        other => source(other),
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
