//! The companion's `forward`: row updates with the kernel taps written out, or blocks of
//! output columns updated over every output channel at once; and the companion's entry points.

use super::super::shape::Shapes;
use super::super::Bodies;
use super::{lit, Rows};
use crate::plan::BLOCK_FLOATS;
use crate::Spec;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

impl Rows<'_> {
    /// (`planted`, tests only: the first tap reads the next weight.)
    pub(super) fn row_forward(&self, planted: bool) -> TokenStream {
        let ow = self.g().output()[1];
        if self.forward_over_channels() {
            return quote!(Self::forward_transposed(x, &Self::kernel_out_inner(k), b));
        }
        let [kh, kw] = self.g().kernel();
        let updates = self
            .taps()
            .into_iter()
            .enumerate()
            .map(|(t, (a, b, row, col))| {
                let each = Self::row_update(ow, |looped, n| {
                    let (j, at) = (Self::index(looped, n), col(looped, n));
                    quote!(acc[#j] += xc[#row][#at] * w;)
                });
                let (a, b) = match (planted && t == 0, kw > 1, kh > 1) {
                    (true, true, _) => (a, lit(1).into_token_stream()),
                    (true, false, true) => (lit(1).into_token_stream(), b),
                    _ => (a, b),
                };
                quote! { let w = kc[#a][#b]; #each }
            });
        let (bias, store) = if self.channels {
            (quote!(b[o]), quote!(u[o][0] = acc;))
        } else {
            (quote!(b), quote!(u[0] = acc;))
        };
        let ow = lit(ow);
        let body = self.channels(
            quote!(let mut acc = [#bias; #ow];),
            quote!(#(#updates)*),
            store,
        );
        let zeros = self.shapes.u.zeroed(&self.shapes.zero());
        quote! { let mut u = #zeros; #body u }
    }

    /// Whether the forward row is vectorised over output channels
    /// ([`Self::row_forward_over_channels`]).
    pub(super) fn forward_over_channels(&self) -> bool {
        crate::plan::rows_forward_over_channels(self.spec)
    }

    /// The companion's associated functions for the forms vectorised over output channels,
    /// whose kernel or `dL/dk` have output channels innermost (the layer's loop transposes
    /// them once, not per row): `kernel_out_inner` and `forward_transposed` when the forward
    /// row is vectorised over output channels, `backward_parts` and `kernel_from_out_inner`
    /// when `dL/dk` is.
    pub(super) fn transposed_items(&self) -> TokenStream {
        let g = self.g();
        let ([kh, kw], ci, co) = (g.kernel(), g.in_channels(), g.out_channels());
        let t = &self.shapes.scalar;
        let (x_ty, k_ty, b_ty, u_ty) = (
            self.shapes.x.ty(t),
            self.shapes.k.ty(t),
            self.shapes.b.ty(t),
            self.shapes.u.ty(t),
        );
        let kt_ty = {
            let [kh, kw, ci, co] = [kh, kw, ci, co].map(lit);
            quote!([[[[#t; #co]; #kw]; #kh]; #ci])
        };
        // `to = from` for every kernel element (`o, c, a, b` in scope).
        let copy = |to: TokenStream, from: TokenStream| {
            let tap = Self::each("b", kw, quote!(#to = #from;));
            Self::each("o", co, Self::each("c", ci, Self::each("a", kh, tap)))
        };
        let forward = self.forward_over_channels().then(|| {
            let kt_zeros = self.out_inner_zeros();
            let transpose = copy(quote!(kt[c][a][b][o]), quote!(k[o][c][a][b]));
            let forward = self.row_forward_over_channels();
            quote! {
                /// The kernel with output channels innermost: `kt[c][a][b][o] = k[o][c][a][b]`.
                #[inline(always)]
                const fn kernel_out_inner(k: &#k_ty) -> #kt_ty {
                    let mut kt = #kt_zeros;
                    #transpose
                    kt
                }

                /// `forward` with the kernel from `kernel_out_inner`.
                #[inline(always)]
                const fn forward_transposed(x: &#x_ty, kt: &#kt_ty, b: &#b_ty) -> #u_ty {
                    #forward
                }
            }
        });
        let backward = self.dk_over_channels().then(|| {
            let k_zeros = self.shapes.k.zeroed(&self.shapes.zero());
            let transpose = copy(quote!(k[o][c][a][b]), quote!(kt[c][a][b][o]));
            let backward = self.row_backward_body();
            quote! {
                /// `k[o][c][a][b] = kt[c][a][b][o]` (the inverse of `kernel_out_inner`).
                #[inline(always)]
                const fn kernel_from_out_inner(kt: &#kt_ty) -> #k_ty {
                    let mut k = #k_zeros;
                    #transpose
                    k
                }

                /// `backward` with `dL/dk` as `kernel_out_inner` would give it (output
                /// channels innermost).
                #[inline(always)]
                const fn backward_parts(
                    x: &#x_ty,
                    k: &#k_ty,
                    delta: &#u_ty,
                ) -> ::conv_runtime::Gradients<#x_ty, #kt_ty, #b_ty> {
                    #backward
                }
            }
        });
        quote!(#forward #backward)
    }

    /// The forward row vectorised over output channels, for layers with at least [`LANES`]
    /// of them: with the kernel transposed (`kt[c][a][b][o] = k[o][c][a][b]`), each output
    /// column `j` of a block keeps the accumulators of all output channels,
    /// `acc[j][o] += kt[c][a][b][o] * x[c][a*DH][j*SW + b*DW]` (one input element times a
    /// contiguous kernel vector), the taps and the block's columns written out, then
    /// `u[o][0][j] = acc[j][o]`. Blocks hold at most [`BLOCK_FLOATS`] accumulators (they stay
    /// in registers). The accumulators pass through `core::hint::black_box` before the
    /// transposed store: otherwise LLVM's SLP vectoriser may pack the arithmetic along the
    /// stored columns instead of along the channels, depending on the block's length.
    pub(super) fn row_forward_over_channels(&self) -> TokenStream {
        let g = self.g();
        let ([_, ow], ci, co) = (g.output(), g.in_channels(), g.out_channels());
        let blocks = column_blocks(ow, (BLOCK_FLOATS / co).max(1));
        let blocks = blocks.into_iter().map(|(start, len)| {
            let taps = self.taps().into_iter().map(|(a, b, row, col)| {
                let each = (start..start + len).map(|j| {
                    let (slot, at) = (lit(j - start), col(false, j));
                    let update = Self::each("o", co, quote!(t[o] += w[o] * v;));
                    quote! { { let v = xc[#row][#at]; let t = &mut acc[#slot]; #update } }
                });
                quote! { let w = &kc[#a][#b]; #(#each)* }
            });
            let over_c = Self::channel_loop(
                "c",
                ci,
                quote! { let (xc, kc) = (&x[c], &kt[c]); #(#taps)* },
            );
            let len_lit = lit(len);
            let column = Self::offset(quote!(j), start);
            let store = Self::each(
                "o",
                co,
                Self::each("j", len, quote!(u[o][0][#column] = acc[j][o];)),
            );
            quote! {
                {
                    let mut acc = [*b; #len_lit];
                    #over_c
                    let acc = ::core::hint::black_box(acc);
                    #store
                }
            }
        });
        let zeros = self.shapes.u.zeroed(&self.shapes.zero());
        quote! {
            let mut u = #zeros;
            #(#blocks)*
            u
        }
    }
}

/// `(start, len)` of `ceil(n / most)` consecutive blocks covering `0..n`, at most `most` long,
/// their lengths differing by at most one.
fn column_blocks(n: usize, most: usize) -> Vec<(usize, usize)> {
    let count = n.div_ceil(most);
    let mut start = 0;
    (0..count)
        .map(|i| {
            let len = n / count + usize::from(i < n % count);
            start += len;
            (start - len, len)
        })
        .collect()
}

/// Bodies of the companion's `forward` and `backward` (`spec` is the row spec).
pub(in crate::emit) fn row_bodies(row_spec: &Spec, row_shapes: &Shapes, planted: bool) -> Bodies {
    let r = Rows::new(row_spec, row_shapes);
    Bodies {
        forward: r.row_forward(planted),
        backward: r.row_backward(),
    }
}

/// The companion's associated functions besides `forward` and `backward` (`spec` is the row
/// spec).
pub(in crate::emit) fn row_items(row_spec: &Spec, row_shapes: &Shapes) -> TokenStream {
    Rows::new(row_spec, row_shapes).transposed_items()
}
