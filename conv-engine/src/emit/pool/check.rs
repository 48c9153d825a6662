//! The compile-time check of a pooling layer: its `forward` and `backward` run on integer
//! inputs during compilation and must give exactly what the derivation's tables give.

use super::{lit, nested};
use crate::derive::pool::{Pool, PoolKind};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// Pseudo-random integers in `[-2, 2]` (windows often hold the same maximum twice), times
/// `scale`: a fixed hash of the position, the same in every build.
fn integers(n: usize, salt: u64, scale: f64) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            let mut z = (i ^ salt.rotate_left(17)).wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) % 5) as f64 * scale - 2.0 * scale
        })
        .collect()
}

/// The `const` item that runs `forward` and `backward` on integer inputs and compares every
/// element with the derivation's tables. Average pooling's inputs and `delta` are multiples of
/// the window's size, so every mean and share is an exact integer.
pub(super) fn check(name: &Ident, pool: &Pool, t: &Ident, at: Span) -> TokenStream {
    let [c, h, w] = pool.input();
    let [_, oh, ow] = pool.output();
    let scale = match pool.kind() {
        PoolKind::Max => 1.0,
        PoolKind::Average => pool.window_len() as f64,
    };
    let x = integers(c * h * w, 1, scale);
    let d = integers(c * oh * ow, 2, scale);
    let n = pool.window_len() as f64;
    let (y, dx, indices) = match pool.kind() {
        PoolKind::Max => {
            let mut dx = vec![0.0; x.len()];
            let mut y = Vec::new();
            let mut indices = Vec::new();
            for (u, du) in d.iter().enumerate() {
                // The first maximum (the inputs are integers: no NaN).
                let first = pool
                    .window(u)
                    .fold(None, |best: Option<usize>, p| match best {
                        Some(b) if x[p] <= x[b] => Some(b),
                        _ => Some(p),
                    })
                    .unwrap_or(0);
                y.push(x[first]);
                indices.push(first % (h * w));
                dx[first] += du;
            }
            (y, dx, Some(indices))
        }
        PoolKind::Average => {
            let y = (0..pool.output_len())
                .map(|u| pool.window(u).map(|p| x[p]).sum::<f64>() / n)
                .collect();
            let dx = (0..x.len())
                .map(|p| pool.readers(p).map(|u| d[u] / n).sum())
                .collect();
            (y, dx, None)
        }
    };
    let floats = |v: &[f64], dims: &[usize]| {
        nested_values(v, dims, |f| {
            let l = Literal::f64_unsuffixed(*f);
            quote!(#l)
        })
    };
    let x_lit = floats(&x, &[c, h, w]);
    let d_lit = floats(&d, &[c, oh, ow]);
    let y_lit = floats(&y, &[c, oh, ow]);
    let dx_lit = floats(&dx, &[c, h, w]);
    let x_ty = nested(quote!(#t), &[c, h, w]);
    let y_ty = nested(quote!(#t), &[c, oh, ow]);
    let compare = |got: TokenStream, want: TokenStream, dims: [usize; 3], what: &str| {
        let [a, b, e] = dims.map(lit);
        let layer = name.to_string();
        let layer = layer.trim_start_matches("__");
        let msg = format!(
            "layer `{layer}`: {} pooling: {what} differs from the derivation",
            pool.kind().name()
        );
        quote! {
            let mut c = 0;
            while c < #a {
                let mut i = 0;
                while i < #b {
                    let mut j = 0;
                    while j < #e {
                        if #got[c][i][j] != #want[c][i][j] {
                            panic!(#msg);
                        }
                        j += 1;
                    }
                    i += 1;
                }
                c += 1;
            }
        }
    };
    let run = match indices {
        Some(indices) => {
            let i_lit = nested_values(&indices, &[c, oh, ow], |v| {
                let l = Literal::u32_unsuffixed(*v as u32);
                quote!(#l)
            });
            let i_ty = nested(quote!(u32), &[c, oh, ow]);
            let cmp_i = compare(
                quote!(indices),
                quote!(want_indices),
                [c, oh, ow],
                "a window's maximum",
            );
            quote! {
                let (y, indices) = #name::forward(&x);
                let dx = #name::backward(&indices, &d);
                let want_indices: #i_ty = #i_lit;
                #cmp_i
            }
        }
        None => quote! {
            let y = #name::forward(&x);
            let dx = #name::backward(&d);
        },
    };
    let cmp_y = compare(quote!(y), quote!(want_y), [c, oh, ow], "forward");
    let cmp_dx = compare(quote!(dx), quote!(want_dx), [c, h, w], "backward");
    quote::quote_spanned! {at=>
        #[doc(hidden)]
        const _: () = {
            let x: #x_ty = #x_lit;
            let d: #y_ty = #d_lit;
            #run
            let want_y: #y_ty = #y_lit;
            let want_dx: #x_ty = #dx_lit;
            #cmp_y
            #cmp_dx
        };
    }
}

/// A nested array literal of `values` (row-major) with dimensions `dims`.
fn nested_values<T>(
    values: &[T],
    dims: &[usize],
    each: impl Fn(&T) -> TokenStream + Copy,
) -> TokenStream {
    match dims.split_first() {
        None => values.first().map(each).unwrap_or_default(),
        Some((&n, rest)) => {
            let step: usize = rest.iter().product();
            let rows = (0..n).map(|r| nested_values(&values[r * step..(r + 1) * step], rest, each));
            quote!([#(#rows),*])
        }
    }
}
