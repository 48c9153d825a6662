//! The AVX-512 tier's work on whole vectors written with 512-bit intrinsics
//! (`core::arch::x86_64`), with [`Vectors::Avx512`]: loops whose statements each work lane by
//! lane on rows indexed by the loop's variable, and runs of statements written out one per
//! lane. Each lane gets the scalar code's operations in the scalar code's order: a fused
//! multiply-add for each `mul_add`, an addition for each `+`, a product for each `*`. Written
//! so because LLVM, tuned for a CPU where it prefers 256-bit vectors (`-C target-cpu=native`
//! on Intel's AVX-512 CPUs), vectorises the scalar loops in halves; intrinsics keep the width.

use super::tokens::{ident, index};
use super::Writer;
use crate::ir::{Array, Chain, Counter, Expr, MulAdd, Place, Stmt, Term, Var};
use crate::plan::Vectors;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

/// How a place's elements are spread over the lanes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// Lane `l` holds element `start + l` of the place's row (`start` its last index).
    Row,
    /// Every lane holds the place's element.
    Splat,
    /// A local bound by the vectorised statements themselves: a vector.
    Vector,
}

/// The vectorised statements' view of their places.
struct Lanes<'a> {
    /// The lanes of one vector.
    width: usize,
    /// The lane of each place, by the place.
    of: &'a dyn Fn(&Place) -> Option<Lane>,
}

impl Writer<'_> {
    /// The lanes of one vector of the scalar type: sixteen `f32` or eight `f64`.
    fn width(&self) -> usize {
        match *self.how.scalar == "f32" {
            true => 16,
            false => 8,
        }
    }

    /// `_mm512_{op}_ps` (`_pd` for `f64`).
    fn intrinsic(&self, op: &str) -> Ident {
        let suffix = match *self.how.scalar == "f32" {
            true => "ps",
            false => "pd",
        };
        format_ident!("_mm512_{}_{}", op, suffix)
    }

    /// With [`Vectors::Avx512`], the loop `for var in 0..extent { body }` (`extent` a multiple
    /// of the vector width, step 1) whose statements are lane-wise in `var`: each reads and
    /// writes rows at `var` plus an offset in their last index (and `var` nowhere else), or
    /// elements without `var`, or scalars the body binds; each array the body writes is
    /// accessed at one index only. Written as the same loop over blocks of a vector's width
    /// (the counter written as `counter` says), each block one vector statement per statement.
    /// `None` for any other loop.
    pub(super) fn vector_loop(
        &self,
        var: Var,
        (extent, step, counter): (usize, usize, Counter),
        body: &[Stmt],
    ) -> Option<TokenStream> {
        let width = self.width();
        if self.how.vectors != Vectors::Avx512 || step != 1 || extent % width != 0 {
            return None;
        }
        let bound: Vec<Array> = body
            .iter()
            .filter_map(|s| match s {
                Stmt::Let { local, .. } if self.program.locals[*local].dims.is_empty() => {
                    Some(Array::Local(*local))
                }
                _ => None,
            })
            .collect();
        let has = |i: &crate::ir::Index| i.terms.iter().any(|&(v, _)| v == var);
        let of = |p: &Place| {
            if bound.contains(&p.array) {
                return Some(Lane::Vector);
            }
            if p.index.len() != self.program.dims(p.array).len() {
                return None;
            }
            let Some((last, rest)) = p.index.split_last() else {
                return Some(Lane::Splat);
            };
            match (rest.iter().any(has), has(last)) {
                (false, false) => Some(Lane::Splat),
                (false, true) => {
                    let once = last.terms.iter().filter(|&&(v, _)| v == var).count() == 1;
                    (once && last.terms.contains(&(var, 1))).then_some(Lane::Row)
                }
                (true, _) => None,
            }
        };
        let lanes = Lanes { width, of: &of };
        let block = self.vector_stmts(body, &lanes)?;
        Some(match extent == width {
            // One vector: the block alone.
            true => {
                let v = ident(var.0);
                quote!({ let #v: usize = 0; #block })
            }
            false => super::tokens::counted(var, (extent, width, counter), block),
        })
    }

    /// With [`Vectors::Avx512`], a run at the start of `body` of as many statements as a
    /// vector has lanes, written out one per lane: the first statement's places each either
    /// the same in every statement, or one element further along their row in each next
    /// statement (the written place so). Written as one vector statement; with the length of
    /// the run. `None` for any other start.
    pub(super) fn vector_run(&self, body: &[Stmt]) -> Option<(usize, TokenStream)> {
        let width = self.width();
        if self.how.vectors != Vectors::Avx512 || body.len() < width {
            return None;
        }
        let run = &body[..width];
        let first = places(&run[0])?;
        let second = places(&run[1])?;
        if first.len() != second.len() {
            return None;
        }
        let along: Vec<bool> = first
            .iter()
            .zip(&second)
            .map(|(a, b)| match (shifted(a, 1), *a == *b) {
                (_, true) => Some(false),
                (Some(s), false) if s == **b => Some(true),
                _ => None,
            })
            .collect::<Option<_>>()?;
        for (k, s) in run.iter().enumerate().skip(1) {
            let mut expected = run[0].clone();
            for (p, &along) in places_mut(&mut expected).into_iter().zip(&along) {
                if along {
                    *p = shifted(p, k)?;
                }
            }
            if expected != *s {
                return None;
            }
        }
        let rows: Vec<&Place> = first
            .iter()
            .zip(&along)
            .filter_map(|(p, &a)| a.then_some(*p))
            .collect();
        // By position in the first statement (a place may be read both ways).
        let of = |p: &Place| {
            let lane = match rows.iter().any(|&r| std::ptr::eq(r, p)) {
                true => Lane::Row,
                false => Lane::Splat,
            };
            (p.index.len() == self.program.dims(p.array).len()).then_some(lane)
        };
        let lanes = Lanes { width, of: &of };
        Some((width, self.vector_stmts(&run[..1], &lanes)?))
    }

    /// The statements as vector statements in an `unsafe` block: `Set`s and `Add`s (at least
    /// one) of rows, and scalar `Let`s, with sums of reads and products (fused only through
    /// `mul_add::fused`). An array a statement writes must be accessed at one index only (its
    /// lanes touch only their own elements, so the blocks' order of lanes and statements gives
    /// the scalar order's values).
    fn vector_stmts(&self, body: &[Stmt], lanes: &Lanes<'_>) -> Option<TokenStream> {
        let written: Vec<&Place> = body
            .iter()
            .filter_map(|s| match s {
                Stmt::Set { to, .. } | Stmt::Add { to, .. } => Some(to),
                _ => None,
            })
            .collect();
        if written.is_empty() {
            return None;
        }
        for s in body {
            for p in places(s)? {
                let clash = written.iter().any(|w| w.array == p.array && **w != *p);
                if clash || (lanes.of)(p).is_none() {
                    return None;
                }
            }
        }
        let mut out = TokenStream::new();
        for s in body {
            out.extend(match s {
                Stmt::Let { local, value } => {
                    let (name, value) = (self.local(*local), self.vector(value, lanes)?);
                    quote!(let #name = #value;)
                }
                Stmt::Set { to, value } => {
                    (lanes.of)(to).filter(|&l| l == Lane::Row)?;
                    self.store(to, self.vector(value, lanes)?, lanes)
                }
                Stmt::Add { to, value } => {
                    (lanes.of)(to).filter(|&l| l == Lane::Row)?;
                    let (old, value) = (self.load(to, lanes), self.vector(value, lanes)?);
                    let sum = match self.descends(to) {
                        true => {
                            let [sub, mul, set1] =
                                ["sub", "mul", "set1"].map(|op| self.intrinsic(op));
                            quote!(#sub(#old, #mul(#set1(rate), #value)))
                        }
                        false => {
                            let add = self.intrinsic("add");
                            quote!(#add(#old, #value))
                        }
                    };
                    self.store(to, sum, lanes)
                }
                _ => return None,
            });
        }
        Some(quote!(unsafe { #out }))
    }

    /// The sum `e` as a vector, in the scalar lowering's order ([`Writer::expr`]).
    fn vector(&self, e: &Expr, lanes: &Lanes<'_>) -> Option<TokenStream> {
        if e.chain == Chain::MulAdd(MulAdd::Target) && e.terms.len() > 1 {
            // Fused only where the build's target has FMA: not the tier's choice.
            return None;
        }
        let mut terms = e.terms.iter();
        let Some(first) = terms.next() else {
            let zero = self.intrinsic("setzero");
            return Some(quote!(#zero()));
        };
        let mut sum = self.vector_term(first, lanes)?;
        for t in terms {
            sum = match (e.chain, t) {
                (Chain::MulAdd(_), Term::Product(a, b)) => {
                    let fmadd = self.intrinsic("fmadd");
                    let (a, b) = (self.operand(a, lanes)?, self.operand(b, lanes)?);
                    quote!(#fmadd(#a, #b, #sum))
                }
                _ => {
                    let (add, t) = (self.intrinsic("add"), self.vector_term(t, lanes)?);
                    quote!(#add(#sum, #t))
                }
            };
        }
        Some(sum)
    }

    fn vector_term(&self, t: &Term, lanes: &Lanes<'_>) -> Option<TokenStream> {
        match t {
            Term::Read(p) => self.operand(p, lanes),
            Term::Product(a, b) => {
                let mul = self.intrinsic("mul");
                let (a, b) = (self.operand(a, lanes)?, self.operand(b, lanes)?);
                Some(quote!(#mul(#a, #b)))
            }
            _ => None,
        }
    }

    /// A place as a vector: its row's elements loaded, its element in every lane, or the
    /// vector local itself.
    fn operand(&self, p: &Place, lanes: &Lanes<'_>) -> Option<TokenStream> {
        Some(match (lanes.of)(p)? {
            Lane::Row => self.load(p, lanes),
            Lane::Splat => {
                let (set1, p) = (self.intrinsic("set1"), self.place(p));
                quote!(#set1(#p))
            }
            Lane::Vector => {
                let Array::Local(n) = p.array else {
                    return None;
                };
                let name = self.local(n);
                quote!(#name)
            }
        })
    }

    /// `row[start..start + width]`, the lanes of a [`Lane::Row`] place (bounds-checked: the
    /// pointers the intrinsics take come from it).
    fn lanes_of(&self, p: &Place, lanes: &Lanes<'_>) -> TokenStream {
        let (last, rest) = p.index.split_last().expect("a row place has an index");
        let row = self.place(&Place {
            array: p.array,
            index: rest.to_vec(),
        });
        let (start, w) = (index(last), Literal::usize_unsuffixed(lanes.width));
        match last.terms.is_empty() {
            true => {
                let end = Literal::usize_unsuffixed(last.constant + lanes.width);
                quote!(#row[#start..#end])
            }
            false => quote!(#row[#start..#start + #w]),
        }
    }

    fn load(&self, p: &Place, lanes: &Lanes<'_>) -> TokenStream {
        let (loadu, row) = (self.intrinsic("loadu"), self.lanes_of(p, lanes));
        quote!(#loadu(#row.as_ptr()))
    }

    /// The vector `value` stored into the row of `to` (computed first, then stored).
    fn store(&self, to: &Place, value: TokenStream, lanes: &Lanes<'_>) -> TokenStream {
        let (storeu, row) = (self.intrinsic("storeu"), self.lanes_of(to, lanes));
        quote! {
            let __lanes = #value;
            #storeu(#row.as_mut_ptr(), __lanes);
        }
    }
}

/// The places of a `Set` or `Add`, the written one first (`None` for other statements).
fn places(s: &Stmt) -> Option<Vec<&Place>> {
    match s {
        Stmt::Set { to, value } | Stmt::Add { to, value } => {
            Some(std::iter::once(to).chain(value.places()).collect())
        }
        Stmt::Let { value, .. } => Some(value.places().collect()),
        _ => None,
    }
}

/// [`places`], mutably (none for other statements).
fn places_mut(s: &mut Stmt) -> Vec<&mut Place> {
    match s {
        Stmt::Set { to, value } | Stmt::Add { to, value } => {
            std::iter::once(to).chain(value.places_mut()).collect()
        }
        _ => Vec::new(),
    }
}

/// `p` with `by` added to its last index (`None` without an index).
fn shifted(p: &Place, by: usize) -> Option<Place> {
    let mut p = p.clone();
    p.index.last_mut()?.constant += by;
    Some(p)
}

#[cfg(test)]
mod tests;
