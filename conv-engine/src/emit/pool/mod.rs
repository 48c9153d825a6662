//! Max and average pooling as `const fn`s over fixed-size arrays, for `#[network]`, each with a
//! compile-time check: the code runs on integer inputs during compilation and must give exactly
//! what the derivation's tables give ([`crate::derive::pool`]: each output's window, the first
//! maximum of each window, the outputs that read each input).
//!
//! The window is written out (its taps are constants), inside loops over channels, output rows
//! and output columns. Max pooling scans the window row-major and takes a value when it is
//! larger than the best so far or NaN (PyTorch's rule: ties go to the first maximum); it
//! returns each window's position in its channel's plane, which `backward` reads. Where the
//! column stride divides the rows and windows are no wider than it, max pooling runs long
//! flat loops over each channel instead (`max_forward` and `max_backward` in this module): the
//! same maxima and positions as the row-major scan (the workspace's `network_kinds` tests check
//! the values with NaN, `-∞` and ties, and the positions with ties, against the run-time scan),
//! and the compile-time check runs whichever form a layer gets.

mod check;

use crate::derive::pool::{Pool, PoolKind};
use crate::Scalar;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// A hidden unit struct `name` with `forward` and `backward` of `pool`, and its compile-time
/// check (spanned on `at`); `fault` planted if it is a pool's (tests only).
pub fn item(
    name: &Ident,
    pool: &Pool,
    scalar: Scalar,
    at: Span,
    fault: Option<super::Fault>,
) -> TokenStream {
    let t = Ident::new(scalar.name(), Span::call_site());
    let [c, h, w] = pool.input();
    let [_, oh, ow] = pool.output();
    let x_ty = nested(quote!(#t), &[c, h, w]);
    let y_ty = nested(quote!(#t), &[c, oh, ow]);
    let i_ty = nested(quote!(u32), &[c, oh, ow]);
    let (x_zero, y_zero, i_zero) = (
        nested(quote!(0.0), &[c, h, w]),
        nested(quote!(0.0), &[c, oh, ow]),
        nested(quote!(0), &[c, oh, ow]),
    );
    let taps: Vec<(usize, usize)> = (0..pool.kernel()[0])
        .flat_map(|a| (0..pool.kernel()[1]).map(move |b| (a, b)))
        .collect();
    let loops = |body: TokenStream| windows(pool, body);
    let functions = match pool.kind() {
        PoolKind::Max => {
            let forward = max_forward(pool, &t, fault == Some(super::Fault::MaxPool));
            let backward = max_backward(pool, &t);
            quote! {
                /// The window maxima, and each one's position in its channel's plane.
                #[inline(always)]
                pub const fn forward(x: &#x_ty) -> (#y_ty, #i_ty) {
                    let mut y: #y_ty = #y_zero;
                    let mut indices: #i_ty = #i_zero;
                    Self::forward_into(x, &mut y, &mut indices);
                    (y, indices)
                }
                /// `forward`, every maximum and position written into `y` and `indices`
                /// (where a network keeps them).
                #[inline(always)]
                pub const fn forward_into(x: &#x_ty, y: &mut #y_ty, indices: &mut #i_ty) {
                    #forward
                }
                /// Each `d` added at its window's maximum.
                #[inline(always)]
                pub const fn backward(indices: &#i_ty, d: &#y_ty) -> #x_ty {
                    let mut dx: #x_ty = #x_zero;
                    #backward
                    dx
                }
            }
        }
        PoolKind::Average => {
            let n = lit(pool.window_len());
            // The planted fault spreads `d` undivided.
            let share = match fault == Some(super::Fault::AveragePool) {
                true => quote!(d[c][i][j]),
                false => quote!(d[c][i][j] / #n as #t),
            };
            let sum = taps.iter().map(|&(a, b)| {
                let (a, b) = (lit(a), lit(b));
                quote!(s += x[c][p + #a][q + #b];)
            });
            let spread = taps.iter().map(|&(a, b)| {
                let (a, b) = (lit(a), lit(b));
                quote!(dx[c][p + #a][q + #b] += g;)
            });
            let forward = loops(quote! {
                let mut s: #t = 0.0;
                #(#sum)*
                y[c][i][j] = s / #n as #t;
            });
            let backward = loops(quote! {
                let g = #share;
                #(#spread)*
            });
            quote! {
                /// The window means.
                #[inline(always)]
                pub const fn forward(x: &#x_ty) -> #y_ty {
                    let mut y: #y_ty = #y_zero;
                    #forward
                    y
                }
                /// Each `d`, divided by the window's size, added to every element of its window.
                #[inline(always)]
                pub const fn backward(d: &#y_ty) -> #x_ty {
                    let mut dx: #x_ty = #x_zero;
                    #backward
                    dx
                }
            }
        }
    };
    let check = check::check(name, pool, &t, at);
    quote! {
        #[doc(hidden)]
        pub struct #name;
        impl #name {
            #functions
        }
        #check
    }
}

/// Whether max pooling runs over flat loops: a column stride of at least 2 that divides the
/// rows, with windows no wider than it (so each output row is `W / sw` long and every `sw`
/// consecutive elements of a row hold one window's taps in that row). Then the loop over a
/// channel's windows is one long flat loop, whose `sw`-strided reads LLVM vectorises with
/// shuffles of whole vectors; the loops over a row, short for small planes, are what LLVM
/// unrolls whole before vectorising the loop around them with gathers across rows or channels.
fn flat(pool: &Pool) -> bool {
    let [_, _, w] = pool.input();
    let [_, kw] = pool.kernel();
    let [_, sw] = pool.stride();
    sw >= 2 && w % sw == 0 && kw <= sw
}

/// `body` once per window, in loops over channels `c`, output rows `i` and output columns `j`,
/// with the window's top-left position `(p, q)` in scope.
fn windows(pool: &Pool, body: TokenStream) -> TokenStream {
    let [c, _, _] = pool.input();
    let [_, oh, ow] = pool.output();
    let [sh, sw] = pool.stride().map(lit);
    let (cs, ohs, ows) = (lit(c), lit(oh), lit(ow));
    quote! {
        let mut c = 0;
        while c < #cs {
            let mut i = 0;
            while i < #ohs {
                let mut j = 0;
                while j < #ows {
                    let (p, q) = (i * #sh, j * #sw);
                    #body
                    j += 1;
                }
                i += 1;
            }
            c += 1;
        }
    }
}

/// The body of max pooling's `forward_into`: each window scanned row-major from its first tap,
/// taking a value that is larger than the best so far or NaN.
///
/// With [`flat`] windows, two flat loops over the channel: first every row's windows scanned
/// along the row (window `m` of the rows' windows starts at element `sw·m`), then the windows
/// starting at every row, their rows' maxima scanned down (window `k`'s row `a` is the rows'
/// window `k + a·W/sw`, taken when larger or NaN, as in the row-major scan: a later row's
/// maximum replaces the best exactly when one of its taps would have), before the rows that
/// start a window are copied out. Windows at rows that start none (`sh - 1` of every `sh`)
/// are computed too, but the loops' strided reads are shuffles of whole vectors, not gathers,
/// and the first loop reads each tap once, where a scan of each window in full read it once
/// per window holding it (`BENCHMARKS.md`, LeNet-5).
fn max_forward(pool: &Pool, t: &Ident, ties_to_last: bool) -> TokenStream {
    let [c, h, w] = pool.input();
    let [_, oh, _] = pool.output();
    let [kh, kw] = pool.kernel();
    let [sh, sw] = pool.stride();
    let taps: Vec<(usize, usize)> = (0..kh).flat_map(|a| (0..kw).map(move |b| (a, b))).collect();
    let (cs, ohs, wl, shl, swl) = (lit(c), lit(oh), lit(w), lit(sh), lit(sw));
    if !flat(pool) {
        let rest = taps.iter().skip(1).map(|&(a, b)| {
            let offset = Literal::u32_unsuffixed((a * w + b) as u32);
            let (a, b) = (lit(a), lit(b));
            take_if_larger(
                quote!(x[c][p + #a][q + #b]),
                quote!(base + #offset),
                ties_to_last,
            )
        });
        let scan = quote! {
            let mut best = x[c][p][q];
            let mut at = base;
            #(#rest)*
        };
        return windows(
            pool,
            quote! {
                // `check` made sure every position of the plane fits in a u32.
                let base = (p * #wl + q) as u32;
                #scan
                y[c][i][j] = best;
                indices[c][i][j] = at;
            },
        );
    }
    let plane = w / sw;
    // Tap `b` of the window `m` of all the rows' windows: plane position `sw·m + b`.
    let in_row = (1..kw).map(|b| {
        let b = lit(b);
        take_if_larger(quote!(x[#swl * m + #b]), quote!(#b), ties_to_last)
    });
    // Row `a` of the window starting at `k`: the row's window `plane·a` further on, its
    // maximum's position `a·W` past the row's. (The position of a row's maximum is its column
    // added to a constant: a position read from memory under the condition, LLVM gathered.)
    let across = (1..kh).map(|a| {
        let (offset, row) = (lit(a * plane), Literal::u32_unsuffixed((a * w) as u32));
        let scan = take_if_larger(
            quote!(row_best[k + #offset]),
            quote!(base + #row + b),
            ties_to_last,
        );
        quote! {
            let b = row_at[k + #offset];
            #scan
        }
    });
    let (starts, all) = (lit((h - kh + 1) * plane), lit(h * plane));
    let (planel, start_rows) = (lit(plane), lit(h - kh + 1));
    quote! {
        // Buffers of one channel, each filled whole before it is read: zeroed once, not once
        // per channel (LLVM does not see the loops overwrite them).
        let mut row_best = [0.0 as #t; #all];
        let mut row_at = [0u32; #all];
        let mut best_rows = [[0.0 as #t; #planel]; #start_rows];
        let mut at_rows = [[0u32; #planel]; #start_rows];
        let mut c = 0;
        while c < #cs {
            let x = x[c].as_flattened();
            // Every row's windows, each scanned along its row: the maximum and its column in
            // the window.
            let mut m = 0;
            while m < #all {
                let mut best = x[#swl * m];
                let mut at = 0;
                #(#in_row)*
                row_best[m] = best;
                row_at[m] = at;
                m += 1;
            }
            // Then the windows starting at every row, the rows' maxima scanned down.
            let (values, positions) = (best_rows.as_flattened_mut(), at_rows.as_flattened_mut());
            let mut k = 0;
            while k < #starts {
                // The window's top-left position (`check` made sure every position of the
                // plane fits in a u32).
                let base = (#swl * k) as u32;
                let mut best = row_best[k];
                let mut at = base + row_at[k];
                #(#across)*
                values[k] = best;
                positions[k] = at;
                k += 1;
            }
            let mut i = 0;
            while i < #ohs {
                y[c][i] = best_rows[i * #shl];
                indices[c][i] = at_rows[i * #shl];
                i += 1;
            }
            c += 1;
        }
    }
}

/// One step of the scan (PyTorch's rule): `value` taken as `best`, with `position` as `at`,
/// when it is larger than `best` or NaN (or equal, with the fault `ties_to_last` planted).
fn take_if_larger(value: TokenStream, position: TokenStream, ties_to_last: bool) -> TokenStream {
    let larger = match ties_to_last {
        true => quote!(v >= best),
        false => quote!(v > best),
    };
    quote! {
        let v = #value;
        let take = #larger || v.is_nan();
        best = if take { v } else { best };
        at = if take { #position } else { at };
    }
}

/// The body of max pooling's `backward` (into `dx`, zeroed): each `d` added at its window's
/// maximum.
///
/// With [`flat`] windows that do not overlap (`kh ≤ sh`), each element of `dx` is instead
/// `0.0 + d` of the window whose maximum it is, or zero (the same values): one flat loop over a
/// channel's windows finds where in its window each maximum is and writes every tap, window row
/// `a` of all windows into a buffer of its own (`sw` consecutive elements per window), whose
/// rows are then copied to the input rows they belong to; rows in no window stay zero.
fn max_backward(pool: &Pool, t: &Ident) -> TokenStream {
    let [c, _, w] = pool.input();
    let [_, oh, ow] = pool.output();
    let [kh, _] = pool.kernel();
    let [sh, sw] = pool.stride();
    let (cs, ohs, wl) = (lit(c), lit(oh), lit(w));
    if !(flat(pool) && kh <= sh) {
        return windows(
            pool,
            quote! {
                let _ = (p, q);
                let at = indices[c][i][j] as usize;
                dx[c][at / #wl][at % #wl] += d[c][i][j];
            },
        );
    }
    // Each window's top-left position in its channel's plane.
    let bases = (0..oh).flat_map(|i| (0..ow).map(move |j| i * sh * w + j * sw));
    let bases = bases.map(|p| Literal::u32_unsuffixed(p as u32));
    let (out, sws, shl, kw) = (lit(oh * ow), lit(sw), lit(sh), pool.kernel()[1]);
    let rows: Vec<Ident> = (0..kh).map(|a| quote::format_ident!("row_{a}")).collect();
    let flats: Vec<Ident> = (0..kh).map(|a| quote::format_ident!("flat_{a}")).collect();
    // Tap `(a, b)` of window `m`: column `b` of its window row `a`; `kw ≤ sw`, and the columns
    // between `kw` and `sw` are in no window.
    let taps = (0..kh)
        .flat_map(|a| (0..sw).map(move |b| (a, b)))
        .map(|(a, b)| {
            let (flat, b_lit) = (&flats[a], lit(b));
            if b < kw {
                let offset = Literal::u32_unsuffixed((a * w + b) as u32);
                quote!(#flat[#sws * m + #b_lit] = if offset == #offset { g } else { 0.0 };)
            } else {
                quote!(#flat[#sws * m + #b_lit] = 0.0;)
            }
        });
    let copies = (0..kh).map(|a| {
        let (row, a) = (&rows[a], lit(a));
        quote!(dx[c][i * #shl + #a] = #row[i];)
    });
    quote! {
        const BASES: [u32; #out] = [#(#bases),*];
        // Every element of the row buffers is written for each channel: zeroed once.
        #(let mut #rows = [[0.0 as #t; #wl]; #ohs];)*
        let mut c = 0;
        while c < #cs {
            let (d, at) = (d[c].as_flattened(), indices[c].as_flattened());
            #(let #flats = #rows.as_flattened_mut();)*
            let mut m = 0;
            while m < #out {
                // Where in its window the maximum is (`check` made sure every position of the
                // plane fits in a u32), and `d` added to zero there.
                let offset = at[m].wrapping_sub(BASES[m]);
                let g = 0.0 + d[m];
                #(#taps)*
                m += 1;
            }
            let mut i = 0;
            while i < #ohs {
                #(#copies)*
                i += 1;
            }
            c += 1;
        }
    }
}

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// `value` nested in arrays of `dims`, outermost first.
fn nested(value: TokenStream, dims: &[usize]) -> TokenStream {
    dims.iter().rev().fold(value, |inner, &n| {
        let n = lit(n);
        quote!([#inner; #n])
    })
}
