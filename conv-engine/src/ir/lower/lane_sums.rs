//! The AVX-512 tier's lane sums written as calls of `conv_runtime::lanes`: loops of lane sums
//! of sixteen-lane rows (`pairwise_rows_avx512`), and runs of `leading` sums of rows of 17 to
//! 32 lanes (`leading_rows_avx512`).

use super::tokens::ident;
use super::Writer;
use crate::ir::{Array, Index, Place, Stmt, Term, Var};
use crate::plan::LaneSums;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// The lanes of one AVX-512 vector of `f32`.
const LANES: usize = 16;

impl Writer<'_> {
    /// With [`LaneSums::Avx512Rows`], the loop `for q in 0..R { row[q] = sum(&rq[q]) }` (`row`
    /// an `f32` row of `R` elements, `rq` a local of `R` rows of 16 lanes, each added pairwise)
    /// as one call of `conv_runtime::lanes::pairwise_rows_avx512`, which performs the same
    /// additions sixteen rows at a time: the statement the proof executed, written so that
    /// LLVM need not vectorise it. With a first term, `row[q] = first[q] + sum(&rq[q])`, the
    /// sums go to a row of their own, then each is added to its first term, as before. `None`
    /// for any other loop.
    pub(super) fn lane_sums(
        &self,
        var: Var,
        extent: usize,
        step: usize,
        body: &[Stmt],
    ) -> Option<TokenStream> {
        if self.how.lane_sums != LaneSums::Avx512Rows || step != 1 {
            return None;
        }
        let [Stmt::Set { to, value }] = body else {
            return None;
        };
        let column = Index::var(var);
        let (first, rows) = match value.terms.as_slice() {
            [Term::Pairwise(rows)] => (None, rows),
            [Term::Read(first), Term::Pairwise(rows)] if first.index == [column.clone()] => {
                (Some(first), rows)
            }
            _ => return None,
        };
        let (Some((last, row)), Array::Local(local)) = (to.index.split_last(), rows.array) else {
            return None;
        };
        let fits = *last == column
            && rows.index == [column]
            && self.program.dims(rows.array) == [extent, LANES]
            && self.program.dims(to.array).get(row.len()) == Some(&extent)
            && self.program.dims(to.array).len() == row.len() + 1;
        if !fits {
            return None;
        }
        let row = self.place(&Place {
            array: to.array,
            index: row.to_vec(),
        });
        let rows = self.local(local);
        // SAFETY (of the call written): only the AVX-512 tier's body is lowered with
        // `LaneSums::Avx512Rows`, and that tier runs only on CPUs with AVX-512F.
        let call = |out: TokenStream| quote!(unsafe { ::conv_runtime::lanes::pairwise_rows_avx512(&#rows, &mut #out) };);
        let Some(first) = first else {
            return Some(call(row));
        };
        let (v, n, t) = (
            ident(var.0),
            Literal::usize_unsuffixed(extent),
            self.how.scalar,
        );
        let (to, first, sums) = (self.place(to), self.place(first), call(quote!(lane_sums)));
        let zero = self.zero();
        Some(quote! {{
            let mut lane_sums: [#t; #n] = [#zero; #n];
            #sums
            let mut #v = 0;
            while #v < #n {
                #to = #first + lane_sums[#v];
                #v += 1;
            }
        }})
    }

    /// With [`LaneSums::Avx512Rows`], the run of statements `to_r = leading(&row_r, n_r)` at the
    /// start of `body` (at least two; each `row_r` a row of 32 lanes of an `f32` local, `16 <
    /// n_r <= 32`) as one call of `conv_runtime::lanes::leading_rows_avx512`, and the length
    /// of the run. `leading` adds lanes `16..n` into lanes `0..n - 16`, then the sixteen
    /// pairwise; the call makes the same additions in the same order, each row's first step
    /// one masked vector addition, then the sixteen lanes of every row, sixteen rows at a time,
    /// on the rows themselves (the pass's accumulators, in registers once inlined; copied to
    /// rows of sixteen lanes first, they went through the stack). `None` for any other run.
    pub(super) fn leading_sums(&self, body: &[Stmt]) -> Option<(usize, TokenStream)> {
        if self.how.lane_sums != LaneSums::Avx512Rows || *self.how.scalar != "f32" {
            return None;
        }
        let sums: Vec<(&Place, &Place, usize)> = body
            .iter()
            .map_while(|s| {
                let Stmt::Set { to, value } = s else {
                    return None;
                };
                let [Term::Leading(row, n)] = value.terms.as_slice() else {
                    return None;
                };
                let dims = self.program.dims(row.array);
                let fits = matches!(row.array, Array::Local(_))
                    && dims.last() == Some(&(2 * LANES))
                    && row.index.len() + 1 == dims.len()
                    && (LANES + 1..=2 * LANES).contains(n);
                fits.then_some((to, row, *n))
            })
            .collect();
        if sums.len() < 2 {
            return None;
        }
        let rows = sums.iter().map(|&(_, row, _)| self.place(row));
        let lanes = sums.iter().map(|&(_, _, n)| Literal::usize_unsuffixed(n));
        let stores = sums.iter().enumerate().map(|(k, &(to, _, _))| {
            let (to, k) = (self.place(to), Literal::usize_unsuffixed(k));
            quote!(#to = lane_sums[#k];)
        });
        let r = Literal::usize_unsuffixed(sums.len());
        // SAFETY (of the call written): as in `lane_sums`.
        let tokens = quote! {{
            let mut lane_sums = [0.0f32; #r];
            unsafe {
                ::conv_runtime::lanes::leading_rows_avx512(
                    [#(&#rows),*],
                    [#(#lanes),*],
                    &mut lane_sums,
                )
            };
            #(#stores)*
        }};
        Some((sums.len(), tokens))
    }
}
