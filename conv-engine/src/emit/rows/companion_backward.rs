//! The companion's `backward`: `dL/dx` in the matrix form (masked row updates), `dL/dk` and
//! `dL/db` as dot products in interleaved partial sums or over every output channel at once.

use super::{lit, Rows};
use crate::plan::LANES;
use proc_macro2::TokenStream;
use quote::quote;

impl Rows<'_> {
    pub(super) fn row_backward(&self) -> TokenStream {
        match self.dk_over_channels() {
            true => quote! {
                let g = Self::backward_parts(x, k, delta);
                let dk = Self::kernel_from_out_inner(&g.dk);
                ::conv_runtime::Gradients { dx: g.dx, dk, db: g.db }
            },
            false => self.row_backward_body(),
        }
    }

    /// Whether `dL/dk` is vectorised over output channels (see `row_backward_body`); the
    /// companion's `backward` then goes through `backward_parts`.
    pub(super) fn dk_over_channels(&self) -> bool {
        crate::plan::companion_dk_over_channels(self.spec)
    }

    /// `[[[[0; C_out]; KW]; KH]; C_in]` (the kernel's shape with output channels innermost).
    pub(super) fn out_inner_zeros(&self) -> TokenStream {
        let g = self.g();
        let zero = self.shapes.zero();
        let [kh, kw] = g.kernel().map(lit);
        let (ci, co) = (lit(g.in_channels()), lit(g.out_channels()));
        quote!([[[[#zero; #co]; #kw]; #kh]; #ci])
    }

    /// The body of `backward` (of `backward_parts` when `dL/dk` is vectorised over output
    /// channels).
    pub(super) fn row_backward_body(&self) -> TokenStream {
        let g = self.g();
        let ([_, ow], [kh, kw], [_, wp], [_, sw], [dh, dw]) =
            (g.output(), g.kernel(), g.input(), g.stride(), g.dilation());
        let zero = self.shapes.zero();
        let lanes = lit(LANES);
        let lead = (kw - 1) * dw;
        let scalar = &self.shapes.scalar;
        // dL/dk and dL/db: dot products of the delta row with window rows, in lanes.
        let dots = self.taps().into_iter().map(|(a, b, row, col)| {
            let dot = Self::lanes(ow, |looped, n| {
                let (j, at) = (Self::index(looped, n), col(looped, n));
                quote!(d[#j] * xc[#row][#at])
            });
            quote! {
                let mut s = [#zero; #lanes];
                #dot
                gk[#a][#b] = sum(&s);
            }
        });
        let (d_row, db_slot, dk_slot) = if self.channels {
            (quote!(&delta[o][0]), quote!(db[o]), quote!(dk[o][c]))
        } else {
            (quote!(&delta[0]), quote!(db), quote!(dk))
        };
        let db_sum = Self::lanes(ow, |looped, n| {
            let j = Self::index(looped, n);
            quote!(d[#j])
        });
        let (kh_lit, kw_lit) = (lit(kh), lit(kw));
        let per_o = quote! {
            let d = #d_row;
            let mut s = [#zero; #lanes];
            #db_sum
            #db_slot = sum(&s);
        };
        let per_c = quote! {
            let mut gk = [[#zero; #kw_lit]; #kh_lit];
            #(#dots)*
            #dk_slot = gk;
        };
        let co = g.out_channels();
        let dk_db = if self.dk_over_channels() {
            // dL/dk vectorised over output channels instead: with the delta row transposed,
            // t[a][b][o] += dt[j][o] * x[c][a*DH][j*SW + b*DW] (no horizontal sums), kept as
            // dk[c] = t (output channels innermost; `kernel_from_out_inner` transposes the sum
            // once per layer call: transposing every row's, LLVM emitted AVX-512 scatters that
            // dominated the backward pass). With fewer output channels or short rows the
            // transposes outweigh the sums saved, so those keep the dot products (the plan's
            // rule).
            let ci = g.in_channels();
            let (co_lit, ow_lit) = (lit(co), lit(ow));
            let updates = self.taps().into_iter().map(|(a, b, row, col)| {
                let at = col(true, 0);
                let each = Self::each("o", co, quote!(t[#a][#b][o] += d[o] * v;));
                quote! { let v = xc[#row][#at]; #each }
            });
            let over_j = Self::each("j", ow, quote! { let d = &dt[j]; #(#updates)* });
            let per_c = Self::channel_loop(
                "c",
                ci,
                quote! {
                    let xc = &x[c];
                    let mut t = [[[#zero; #co_lit]; #kw_lit]; #kh_lit];
                    #over_j
                    dk[c] = t;
                },
            );
            let transpose = Self::each(
                "o",
                co,
                Self::each("j", ow, quote!(dt[j][o] = delta[o][0][j];)),
            );
            let db = Self::channel_loop("o", co, per_o);
            quote! {
                #db
                let mut dt = [[#zero; #co_lit]; #ow_lit];
                #transpose
                #per_c
            }
        } else {
            self.channels(per_o, per_c, TokenStream::new())
        };

        // dL/dx, the matrix form: dx[c][a*DH][q] = sum_o sum_b keep(b, q) *
        // dpad[o][q + LEAD - b*DW] * k[o][c][a][b], with dpad[o][LEAD + j*SW] = delta[o][0][j],
        // LEAD = (KW-1)*DW, and `keep` the mask of the products that read a delta element.
        let wp_lit = lit(wp);
        let rows = (0..kh).map(|a| {
            let a_lit = lit(a);
            let taps = (0..kw).map(|b| {
                let b_lit = lit(b);
                let at = Self::offset(quote!(q), lead - b * dw);
                let update = Self::each(
                    "q",
                    wp,
                    quote!(acc[q] += #scalar::from_bits((dp[#at] * w).to_bits() & KEEP[#b_lit][q]);),
                );
                quote! { let w = kc[#a_lit][#b_lit]; #update }
            });
            let (dp, kc) = if self.channels {
                (quote!(&dpad[o]), quote!(&k[o][c]))
            } else {
                (quote!(&dpad), quote!(k))
            };
            let per_o = quote! { let (dp, kc) = (#dp, #kc); #(#taps)* };
            let over_o = if self.channels {
                Self::channel_loop("o", g.out_channels(), per_o)
            } else {
                per_o
            };
            let target = if self.channels {
                quote!(dx[c])
            } else {
                quote!(dx)
            };
            let row = lit(a * dh);
            quote! {
                let mut acc = [#zero; #wp_lit];
                #over_o
                #target[#row] = acc;
            }
        });
        // KEEP[b][q]: all ones where kernel column b reaches column q from a delta element, zero
        // where the matrix form reads the padding or the stride dilation of dpad.
        let (bits, ones) = match self.spec.scalar {
            crate::Scalar::F32 => (quote!(u32), quote!(u32::MAX)),
            crate::Scalar::F64 => (quote!(u64), quote!(u64::MAX)),
        };
        let keep_rows = (0..kw).map(|b| {
            let cells = (0..wp).map(|q| {
                let valid = q
                    .checked_sub(b * dw)
                    .is_some_and(|off| off % sw == 0 && off / sw < ow);
                if valid {
                    ones.clone()
                } else {
                    quote!(0)
                }
            });
            quote!([#(#cells),*])
        });
        let kw_lit = lit(kw);
        let keep = quote! {
            const KEEP: [[#bits; #wp_lit]; #kw_lit] = [#(#keep_rows),*];
        };
        let dpw = lit(wp + lead);
        let place = Self::offset(Self::scaled(quote!(j), sw), lead);
        let dpad = if self.channels {
            let co = lit(g.out_channels());
            let fill = Self::each(
                "o",
                g.out_channels(),
                Self::each("j", ow, quote!(dpad[o][#place] = delta[o][0][j];)),
            );
            quote! { let mut dpad = [[#zero; #dpw]; #co]; #fill }
        } else {
            let fill = Self::each("j", ow, quote!(dpad[#place] = delta[0][j];));
            quote! { let mut dpad = [#zero; #dpw]; #fill }
        };
        let dx = if self.channels {
            Self::channel_loop("c", g.in_channels(), quote!(#(#rows)*))
        } else {
            quote!(#(#rows)*)
        };
        let t = &self.shapes.scalar;
        let (dx_zeros, db_zeros) = (self.shapes.x.zeroed(&zero), self.shapes.b.zeroed(&zero));
        let dk_zeros = match self.dk_over_channels() {
            true => self.out_inner_zeros(),
            false => self.shapes.k.zeroed(&zero),
        };
        quote! {
            /// The partial sums added pairwise.
            const fn sum(s: &[#t; #lanes]) -> #t {
                let mut width = #lanes;
                let mut s = *s;
                while width > 1 {
                    width /= 2;
                    let mut i = 0;
                    while i < width { s[i] += s[i + width]; i += 1; }
                }
                s[0]
            }
            let mut dk = #dk_zeros;
            let mut db = #db_zeros;
            #dk_db
            #keep
            #dpad
            let mut dx = #dx_zeros;
            #dx
            ::conv_runtime::Gradients { dx, dk, db }
        }
    }
}
