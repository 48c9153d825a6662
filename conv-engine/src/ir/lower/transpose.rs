//! Transposes written as passes of interleaving: a nest of loops that only copies one array
//! into another with one dimension moved from first to last (or from last to first), which
//! LLVM would write with a gather or a scatter per vector, lowered instead as a few flat loops
//! whose interleaved loads or stores LLVM writes as shuffles of whole vectors. Each element is
//! copied, so the values are those of the nest the proof executed.

use super::Writer;
use crate::ir::{Array, Counter, Expr, Index, Place, Stmt, Term, Var};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// Which way a transpose moves its moved dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `to[r][o] = from[o][r]`: the first dimension of `from` becomes the last of `to`.
    ToLast,
    /// `to[o][r] = from[r][o]`: the last dimension of `from` becomes the first of `to`.
    ToFirst,
}

/// One pass over a flat array of `factor · part` elements: for `m` in `0..part` and `h` in
/// `0..factor`, `to[to_m·m + to_h·h] = from[from_m·m + from_h·h]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pass {
    pub factor: usize,
    pub part: usize,
    pub to_m: usize,
    pub to_h: usize,
    pub from_m: usize,
    pub from_h: usize,
}

/// `n` as a product of interleaving factors of 2 to 4, the largest first (passes of a factor 4
/// where they can): `None` for `n < 2` or a prime factor above 4.
pub(crate) fn factors(mut n: usize) -> Option<Vec<usize>> {
    if n < 2 {
        return None;
    }
    let mut factors = Vec::new();
    for f in [4, 3, 2] {
        while n.is_multiple_of(f) {
            factors.push(f);
            n /= f;
        }
    }
    (n == 1).then_some(factors)
}

/// The passes that transpose `moved` rows of `rest` elements ([`Direction::ToLast`]: `from`
/// is `[moved][rest]`, `to` is `[rest][moved]`) or the inverse ([`Direction::ToFirst`]).
/// Interleaving by a factor `f` views its input as `f` equal parts and writes element `m` of
/// part `h` to `f·m + h`; with `moved = f₁·f₂·…`, after the passes element `r` of row `o` is at
/// `moved·r + o` (the first pass places the most significant digit of `o`). The inverse undoes
/// them in reverse order. `None` where `moved` has no such factors.
pub(crate) fn passes(moved: usize, rest: usize, direction: Direction) -> Option<Vec<Pass>> {
    let len = moved * rest;
    let pass = |factor: usize| {
        let part = len / factor;
        match direction {
            Direction::ToLast => Pass {
                factor,
                part,
                to_m: factor,
                to_h: 1,
                from_m: 1,
                from_h: part,
            },
            Direction::ToFirst => Pass {
                factor,
                part,
                to_m: 1,
                to_h: part,
                from_m: factor,
                from_h: 1,
            },
        }
    };
    let factors = factors(moved)?;
    Some(match direction {
        Direction::ToLast => factors.into_iter().map(pass).collect(),
        Direction::ToFirst => factors.into_iter().rev().map(pass).collect(),
    })
}

/// The statements of `passes` from the flat slice `from` to the flat slice `to` (expressions
/// of `&[T]` and `&mut [T]`), through one or two buffers of `T` (`zero` their element).
pub(crate) fn interleaved(
    passes: &[Pass],
    from: TokenStream,
    to: TokenStream,
    t: &proc_macro2::Ident,
    zero: &TokenStream,
) -> TokenStream {
    let len = passes.first().map_or(0, |p| p.factor * p.part);
    let n = Literal::usize_unsuffixed(len);
    let buffers = [quote!(pass_a), quote!(pass_b)];
    let lit = Literal::usize_unsuffixed;
    let code = passes.iter().enumerate().map(|(i, p)| {
        let from = match i {
            0 => from.clone(),
            _ => {
                let b = &buffers[(i - 1) % 2];
                quote!(&#b)
            }
        };
        let to = match i + 1 == passes.len() {
            true => to.clone(),
            false => {
                let b = &buffers[i % 2];
                quote!(&mut #b)
            }
        };
        let part = lit(p.part);
        // `coefficient * m + constant`, without a factor of 1 or a term of 0.
        let at = |coefficient: usize, constant: usize| {
            let m = match coefficient {
                1 => quote!(m),
                c => {
                    let c = lit(c);
                    quote!(#c * m)
                }
            };
            match constant {
                0 => m,
                c => {
                    let c = lit(c);
                    quote!(#m + #c)
                }
            }
        };
        let moves = (0..p.factor).map(|h| {
            let (to, from) = (at(p.to_m, p.to_h * h), at(p.from_m, p.from_h * h));
            quote!(to[#to] = from[#from];)
        });
        quote! {
            {
                let (from, to): (&[#t], &mut [#t]) = (#from, #to);
                let mut m = 0;
                while m < #part {
                    #(#moves)*
                    m += 1;
                }
            }
        }
    });
    let used = passes.len().saturating_sub(1).min(2);
    let declare = buffers[..used]
        .iter()
        .map(|b| quote!(let mut #b: [#t; #n] = [#zero; #n];));
    quote! {
        #(#declare)*
        #(#code)*
    }
}

/// `vars` as the indices `[v₀][v₁]…`.
fn plain(vars: &[Var]) -> Vec<Index> {
    vars.iter().map(|&v| Index::var(v)).collect()
}

impl Writer<'_> {
    /// The nest `for v₀ { … for vₖ { to[v₀]…[vₖ] = from[..] } }` (plain counters, steps of 1,
    /// `to` a local written whole in the order of the loops) where `from` is `to`'s transpose
    /// with the last loop's dimension first (`from[vₖ][v₀]…`) or the first loop's last
    /// (`from[v₁]…[vₖ][v₀]`), as [`interleaved`] passes; dimensions of extent 1, indexed by 0,
    /// may sit anywhere in either. `None` for any other statement, or where the moved
    /// dimension has no interleaving factors.
    pub(super) fn transpose(&self, s: &Stmt) -> Option<TokenStream> {
        let mut loops = Vec::new();
        let mut at = s;
        while let Stmt::Loop {
            var,
            extent,
            step: 1,
            counter: Counter::Plain,
            body,
        } = at
        {
            loops.push((*var, *extent));
            let [inner] = body.as_slice() else {
                return None;
            };
            at = inner;
        }
        let Stmt::Set {
            to,
            value: Expr { terms, .. },
        } = at
        else {
            return None;
        };
        let [Term::Read(from)] = terms.as_slice() else {
            return None;
        };
        let (vars, extents): (Vec<Var>, Vec<usize>) = loops.iter().copied().unzip();
        let (Some((&first, inner)), Some((&last, outer))) = (vars.split_first(), vars.split_last())
        else {
            return None;
        };
        let named = |a: Array| self.program.named.contains(&a);
        // The indices and dimensions of `place`'s array, less those of extent 1 indexed by 0
        // (they change no element's flat position).
        let shape = |place: &Place| -> (Vec<Index>, Vec<usize>) {
            let dims = self.program.dims(place.array);
            let unit = Index::at(0);
            place
                .index
                .iter()
                .zip(dims)
                .filter(|&(i, &n)| !(n == 1 && *i == unit))
                .map(|(i, &n)| (i.clone(), n))
                .unzip()
        };
        let ((to_index, to_dims), (from_index, from_dims)) = (shape(to), shape(from));
        let whole = |place: &Place| place.index.len() == self.program.dims(place.array).len();
        if vars.len() < 2
            || !matches!(to.array, Array::Local(_))
            || from.array == to.array
            || named(to.array)
            || named(from.array)
            || !whole(to)
            || !whole(from)
            || to_index != plain(&vars)
            || to_dims != extents
        {
            return None;
        }
        let to_last: Vec<Var> = [last].iter().chain(outer).copied().collect();
        let to_first: Vec<Var> = inner.iter().chain([&first]).copied().collect();
        let (n, k) = (extents[0], extents[extents.len() - 1]);
        let last_first: Vec<usize> = [k]
            .iter()
            .chain(&extents[..extents.len() - 1])
            .copied()
            .collect();
        let first_last: Vec<usize> = extents[1..].iter().chain([&n]).copied().collect();
        // With two loops both descriptions hold; either may have the interleaving factors.
        let last_moved = (from_index == plain(&to_last) && from_dims == last_first)
            .then(|| passes(k, extents.iter().product::<usize>() / k, Direction::ToLast))
            .flatten();
        let first_moved = || {
            (from_index == plain(&to_first) && from_dims == first_last)
                .then(|| passes(n, extents.iter().product::<usize>() / n, Direction::ToFirst))
                .flatten()
        };
        let passes = last_moved.or_else(first_moved)?;
        let flat = |array: Array, method: TokenStream| {
            let name = self.place(&Place {
                array,
                index: Vec::new(),
            });
            let calls = (1..self.program.dims(array).len()).map(|_| method.clone());
            quote!(#name #(.#calls())*)
        };
        let from = flat(from.array, quote!(as_flattened));
        let to = flat(to.array, quote!(as_flattened_mut));
        let code = interleaved(&passes, from, to, self.how.scalar, &self.zero());
        Some(quote!({ #code }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `passes` run on the positions of a `[moved][rest]` (or `[rest][moved]`) array.
    fn run(passes: &[Pass], mut data: Vec<usize>) -> Vec<usize> {
        for p in passes {
            let mut out = vec![usize::MAX; data.len()];
            for m in 0..p.part {
                for h in 0..p.factor {
                    out[p.to_m * m + p.to_h * h] = data[p.from_m * m + p.from_h * h];
                }
            }
            data = out;
        }
        data
    }

    #[test]
    fn the_passes_transpose_both_ways() {
        for moved in 2..=48 {
            for rest in [1, 2, 3, 5, 25, 100, 150] {
                let len = moved * rest;
                let Some(there) = passes(moved, rest, Direction::ToLast) else {
                    assert!(factors(moved).is_none());
                    continue;
                };
                // from[o][r] at o·rest + r; to[r][o] must hold it.
                let to = run(&there, (0..len).collect());
                for o in 0..moved {
                    for r in 0..rest {
                        assert_eq!(to[r * moved + o], o * rest + r, "{moved} x {rest}");
                    }
                }
                let back = passes(moved, rest, Direction::ToFirst).expect("the same factors");
                // from[r][o] at r·moved + o; to[o][r] must hold it.
                let to = run(&back, (0..len).collect());
                for o in 0..moved {
                    for r in 0..rest {
                        assert_eq!(to[o * rest + r], r * moved + o, "{rest} x {moved}");
                    }
                }
            }
        }
    }

    /// The lowered body of a program whose only statement is the nest `t[i][j][o] =
    /// delta[o][i][j]` over `extents` (`t` of `dims`).
    fn lowered(co: usize, dims: Vec<usize>, extents: [usize; 2]) -> String {
        use crate::ir::{lower, Layouts, Local, Program, Returns};
        use crate::plan::LaneSums;
        let (i, j, o) = (Var("i"), Var("j"), Var("o"));
        let copy = Stmt::Set {
            to: Place {
                array: Array::Local(0),
                index: plain(&[i, j, o]),
            },
            value: Expr::read(Place {
                array: Array::Delta,
                index: plain(&[o, i, j]),
            }),
        };
        let nest = Stmt::each(
            i,
            extents[0],
            vec![Stmt::each(
                j,
                extents[1],
                vec![Stmt::each(o, co, vec![copy])],
            )],
        );
        let program = Program {
            operands: [vec![], vec![], vec![], vec![co, extents[0], extents[1]]],
            named: Vec::new(),
            locals: vec![Local::zeroed("t", dims)],
            body: vec![nest],
            layouts: Layouts::default(),
            returns: Returns::Forward { u: 0 },
        };
        let how = lower::Lowering {
            scalar: &proc_macro2::Ident::new("f32", proc_macro2::Span::call_site()),
            calls: None,
            names: lower::Names::CONVOLUTION,
            lane_sums: LaneSums::EachColumn,
            vectors: crate::plan::Vectors::Scalar,
        };
        lower::body(&program, &how).to_string()
    }

    #[test]
    fn only_whole_transposes_with_factors_become_passes() {
        let passes = lowered(16, vec![2, 3, 16], [2, 3]);
        assert!(passes.contains("pass_a"), "{passes}");
        assert!(!passes.contains("while o"), "{passes}");
        // Five output channels: no factors of 2 to 4, the nest as it is.
        let direct = lowered(5, vec![2, 3, 5], [2, 3]);
        assert!(
            !direct.contains("pass_a") && direct.contains("while o"),
            "{direct}"
        );
        // `t` larger than the nest writes: not a transpose of whole arrays.
        let part = lowered(16, vec![3, 3, 16], [2, 3]);
        assert!(
            !part.contains("pass_a") && part.contains("while o"),
            "{part}"
        );
    }

    #[test]
    fn factors_are_those_of_two_to_four() {
        assert_eq!(factors(16), Some(vec![4, 4]));
        assert_eq!(factors(6), Some(vec![3, 2]));
        assert_eq!(factors(24), Some(vec![4, 3, 2]));
        assert_eq!(factors(5), None);
        assert_eq!(factors(1), None);
        assert_eq!(factors(14), None);
    }
}
