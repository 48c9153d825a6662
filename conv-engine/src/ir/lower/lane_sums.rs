//! The AVX-512 tier's loops of lane sums written as one call of `conv_runtime::lanes`.

use super::tokens::ident;
use super::Writer;
use crate::ir::{Array, Index, Place, Stmt, Term, Var};
use crate::plan::LaneSums;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

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
            && self.program.dims(rows.array) == [extent, 16]
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
}
