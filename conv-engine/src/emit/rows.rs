//! The `rows` strategy: a loop over output rows around a *one-row layer*.
//!
//! Output row `i` of a layer reads only the `KHE = (KH-1)*DH + 1` rows of the zero-padded input
//! starting at `i*SH`. That window is itself a layer: input `KHE x WP` (`WP` the padded width),
//! the same kernel, stride, dilation and channels, no padding, one output row. The macro emits
//! that one-row layer as a hidden companion struct (`__<Name>Row`) with its own `forward` and
//! `backward`, written as row updates with the kernel taps written out:
//!
//! ```text
//! acc = [b[o]; OW];  acc[j] += w[c][a*DH][j*SW + b*DW] * k[o][c][a][b]   (every tap, j = 0..OW)
//! ```
//!
//! written out element by element for rows of up to [`WRITTEN_OUT_ROW`] elements (the accumulator
//! row then lives in registers and LLVM's SLP vectoriser packs the statements into vectors), else
//! as a loop over `j`. Layers with at least [`LANES`] output channels (and rows of up to
//! [`WRITTEN_OUT_ROW`] columns) vectorise the forward row over output channels instead: blocks of
//! output columns keep one accumulator per output channel, updated by one input element times a
//! contiguous row of the kernel transposed to `kt[c][a][b][o]` (the layer transposes it once, see
//! [`Rows::row_forward_over_channels`]). Its `backward` computes `dL/dx` in the matrix form, as row
//! updates too: window row `a*DH` of input channel `c` is the sum over output channels `o` and
//! kernel columns `b` of `k[o][c][a][b]` times the delta row of `o`, dilated by the stride and
//! zero-padded by `(KW-1)*DW`, read from offset `(KW-1-b)*DW` (the reversed kernel row), over the
//! whole row for every tap (so that the row stays in registers). A product that reads a zero of
//! that padding or dilation is masked to `+0` (its bits and-ed with a constant mask, `KEEP`), so
//! `dL/dx` holds the chain rule's products and no others: a non-finite weight reaches exactly the
//! inputs it touches, as in the reference, where multiplying the zeros would give NaN. `dL/dk` is
//! computed as dot products of delta rows with window rows in 8 interleaved partial sums
//! (independent lanes that LLVM packs into vectors), or, for layers with at least 8 output channels
//! and output rows of at least 8 columns, as row updates vectorised over output channels
//! (`t[a][b][o] += delta[o][j] * x[c][a*DH][j*SW + b*DW]` with the delta row transposed), summed
//! over rows in that layout and transposed to the kernel's once per call. The layer's `forward`
//! copies each window and stacks the companion's rows; `backward` adds each window's `dL/dx` into a
//! padded `dL/dx` (cropped at the end) and sums `dL/dk` and `dL/db` over rows.
//!
//! Layers the proof evaluates whole write `backward` at the layer level instead (the plan's [`Dx::LayerRows`] and [`Dx::LayerOverChannels`]):
//! with output rows of at least [`LANES`] columns and fewer than [`LANES`] output channels,
//! `dL/dx` one padded input row at a time and `dL/dk`, `dL/db` as lane sums over all output rows
//! ([`Rows::layer_backward`]: no masks, one horizontal sum per tap per call); with shorter rows
//! and at least [`LANES`] output channels, every gradient updated over output channels at once
//! per output position and tap ([`Rows::layer_backward_over_channels`]).
//!
//! The compile-time proof evaluates the whole layer when it is small enough
//! ([`crate::MAX_WINDOW_MACS`] multiply-adds), else the companion (all of the layer's
//! arithmetic is in it, and it is small: `OW * C_out * C_in * KH * KW` multiply-adds). Loops
//! run over output and input channels (counters of loops over fewer than [`LANES`] channels
//! pass through `core::hint::black_box`, see [`Rows::channel_loop`]); only the `KH x KW` kernel
//! window and short rows are written out, so the code size does not grow with the channel
//! counts.
//!
//! Summation order: `u` as in the full unroll (`c, a, b` after the bias); `dL/dk` per row over
//! `j` in 8 interleaved partial sums added pairwise (or in the order of `j`), then over rows
//! `i`; `dL/db` likewise; `dL/dx` per window over `o, b`, then over rows. At the layer level
//! over rows: `dL/dk` and `dL/db` per column `j` over rows `i`, then over `j`; `dL/dx` per
//! kernel column `b` over `a, o`, then over `b`. Over output channels: `dL/dk`, `dL/db` over
//! `i, j`; `dL/dx` per output channel over `i, j, c, a, b`, then over `o` (exact on the
//! proof's integer inputs either way).

use super::shape::{lit, Shapes};
use super::unroll::Bodies;
use crate::{ChannelLayout, Geometry, Spec};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};

use crate::plan::{Dx, BLOCK_FLOATS, LANES, WRITTEN_OUT_ROW};

/// The companion's spec: the row geometry with the layer's layout and scalar.
pub fn row_spec(spec: &Spec) -> Spec {
    Spec {
        geometry: spec.geometry.row_window(),
        ..*spec
    }
}

/// The companion struct's name.
pub(super) fn companion(name: &Ident) -> Ident {
    format_ident!("__{}Row", name)
}

/// Helpers shared by the layer's loop and the companion's bodies.
struct Rows<'a> {
    spec: &'a Spec,
    shapes: &'a Shapes,
    channels: bool,
}

impl<'a> Rows<'a> {
    fn new(spec: &'a Spec, shapes: &'a Shapes) -> Self {
        Self {
            spec,
            shapes,
            channels: spec.layout == ChannelLayout::ChannelFirst,
        }
    }

    fn g(&self) -> &Geometry {
        &self.spec.geometry
    }

    /// `arr[c]` for channel-first layers, `arr` for plain ones.
    fn ch(&self, arr: TokenStream, c: usize) -> TokenStream {
        if self.channels {
            let c = lit(c);
            quote!(#arr[#c])
        } else {
            arr
        }
    }

    /// `[[[0.0; cols]; rows]; channels]` (without the channel axis for plain layers).
    fn zeros(&self, channels: usize, rows: usize, cols: usize) -> TokenStream {
        let channels = self.channels.then_some(channels);
        super::shape::planes(&self.shapes.zero(), channels, rows, cols)
    }

    /// `index * step`, or `index` for a step of 1.
    fn scaled(index: TokenStream, step: usize) -> TokenStream {
        match step {
            1 => index,
            _ => {
                let step = lit(step);
                quote!(#index * #step)
            }
        }
    }

    /// `index + offset`, or `index` for an offset of 0.
    fn offset(index: TokenStream, offset: usize) -> TokenStream {
        match offset {
            0 => index,
            _ => {
                let offset = lit(offset);
                quote!(#index + #offset)
            }
        }
    }

    /// `j + n` (`j` a loop index) or the constant `n`.
    fn index(looped: bool, n: usize) -> TokenStream {
        match looped {
            true => Self::offset(quote!(j), n),
            false => lit(n).into_token_stream(),
        }
    }

    /// `s[l] += term(j)` for `j` in `0..n`, lane `l = j % LANES`: a loop over whole chunks of
    /// `LANES` with the lanes written out (independent statements LLVM packs into vectors),
    /// then the remaining `n % LANES` terms with constant indices. `term(true, l)` is the term
    /// of `j + l` in the loop, `term(false, j)` the one of the constant `j`.
    fn lanes(n: usize, term: impl Fn(bool, usize) -> TokenStream) -> TokenStream {
        let whole = n - n % LANES;
        let chunks = (whole > 0).then(|| {
            let chunk = (0..LANES).map(|l| {
                let (lane, t) = (lit(l), term(true, l));
                quote!(s[#lane] += #t;)
            });
            let (whole, step) = (lit(whole), lit(LANES));
            quote! {
                let mut j = 0;
                while j < #whole {
                    #(#chunk)*
                    j += #step;
                }
            }
        });
        let tail = (whole..n).map(|j| {
            let (lane, t) = (lit(j % LANES), term(false, j));
            quote!(s[#lane] += #t;)
        });
        quote! { #chunks #(#tail)* }
    }

    /// `body(looped, j)` for `j` in `0..n`: written out with constant indices
    /// (`body(false, j)`) for rows of up to [`WRITTEN_OUT_ROW`] elements, so that the updated
    /// row stays in registers and LLVM's SLP vectoriser packs the statements into vectors, else
    /// a loop (`body(true, 0)` inside `while j < n`).
    fn row_update(n: usize, body: impl Fn(bool, usize) -> TokenStream) -> TokenStream {
        if n <= WRITTEN_OUT_ROW {
            let each = (0..n).map(|j| body(false, j));
            quote!(#(#each)*)
        } else {
            Self::each("j", n, body(true, 0))
        }
    }

    /// `let mut j = 0; while j < n { body; j += 1; }`
    fn each(index: &str, n: usize, body: TokenStream) -> TokenStream {
        Self::counted(index, n, body, false)
    }

    /// [`Self::each`], with the counter passed through `core::hint::black_box` when `opaque`.
    fn counted(index: &str, n: usize, body: TokenStream, opaque: bool) -> TokenStream {
        let (index, n) = (Ident::new(index, Span::call_site()), lit(n));
        let next = match opaque {
            true => quote!(#index = ::core::hint::black_box(#index + 1);),
            false => quote!(#index += 1;),
        };
        quote! {
            let mut #index = 0;
            while #index < #n {
                #body
                #next
            }
        }
    }

    /// `(a, b, row, col)` of every tap of the kernel window: window row `a*DH`, and for output
    /// column `j + n` (`j` a loop index when `col(true, n)`, absent when `col(false, n)`) the
    /// column `(j + n)*SW + b*DW` it reads.
    #[allow(clippy::type_complexity)]
    fn taps(
        &self,
    ) -> Vec<(
        TokenStream,
        TokenStream,
        TokenStream,
        Box<dyn Fn(bool, usize) -> TokenStream>,
    )> {
        let g = self.g();
        let ([kh, kw], [_, sw], [dh, dw]) = (g.kernel(), g.stride(), g.dilation());
        let mut out: Vec<(_, _, _, Box<dyn Fn(bool, usize) -> TokenStream>)> = Vec::new();
        for a in 0..kh {
            for b in 0..kw {
                let col = move |looped: bool, n: usize| {
                    let fixed = n * sw + b * dw;
                    match looped {
                        true => Self::offset(Self::scaled(quote!(j), sw), fixed),
                        false => lit(fixed).into_token_stream(),
                    }
                };
                let (a_lit, b_lit, row) = (lit(a), lit(b), lit(a * dh));
                out.push((quote!(#a_lit), quote!(#b_lit), quote!(#row), Box::new(col)));
            }
        }
        out
    }

    /// `let mut index = 0; while index < n { body; index += 1; }` for a loop over `n` channels.
    /// With fewer than [`LANES`] channels the counter passes through `core::hint::black_box`
    /// (the identity in `const` evaluation): when the written-out row updates leave such a
    /// loop innermost, LLVM vectorises across its few channels with gathers instead of along
    /// the rows, which is slower; from [`LANES`] channels on that pays.
    fn channel_loop(index: &str, n: usize, body: TokenStream) -> TokenStream {
        Self::counted(index, n, body, n < LANES)
    }

    /// `body` inside loops over output channel `o` and input channel `c` (no loops for plain
    /// layers), with `xc = x[c]`, `kc = k[o][c]` and the bias or `delta` row of `o` in scope.
    fn channels(
        &self,
        per_o: TokenStream,
        per_c: TokenStream,
        after_o: TokenStream,
    ) -> TokenStream {
        let g = self.g();
        if !self.channels {
            return quote! { let (xc, kc) = (x, k); #per_o #per_c #after_o };
        }
        let per_c = quote! { let (xc, kc) = (&x[c], &k[o][c]); #per_c };
        let over_c = Self::channel_loop("c", g.in_channels(), per_c);
        Self::channel_loop("o", g.out_channels(), quote! { #per_o #over_c #after_o })
    }

    // ---- the companion (one-row layer) ----

    fn row_forward(&self) -> TokenStream {
        let ow = self.g().output()[1];
        if self.forward_over_channels() {
            return quote!(Self::forward_transposed(x, &Self::kernel_out_inner(k), b));
        }
        let updates = self.taps().into_iter().map(|(a, b, row, col)| {
            let each = Self::row_update(ow, |looped, n| {
                let (j, at) = (Self::index(looped, n), col(looped, n));
                quote!(acc[#j] += xc[#row][#at] * w;)
            });
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
    fn forward_over_channels(&self) -> bool {
        crate::plan::rows_forward_over_channels(self.spec)
    }

    /// The companion's associated functions for the forms vectorised over output channels,
    /// whose kernel or `dL/dk` have output channels innermost (the layer's loop transposes
    /// them once, not per row): `kernel_out_inner` and `forward_transposed` when the forward
    /// row is vectorised over output channels, `backward_parts` and `kernel_from_out_inner`
    /// when `dL/dk` is.
    fn transposed_items(&self) -> TokenStream {
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
    fn row_forward_over_channels(&self) -> TokenStream {
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

    fn row_backward(&self) -> TokenStream {
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
    fn dk_over_channels(&self) -> bool {
        crate::plan::companion_dk_over_channels(self.spec)
    }

    /// `[[[[0; C_out]; KW]; KH]; C_in]` (the kernel's shape with output channels innermost).
    fn out_inner_zeros(&self) -> TokenStream {
        let g = self.g();
        let zero = self.shapes.zero();
        let [kh, kw] = g.kernel().map(lit);
        let (ci, co) = (lit(g.in_channels()), lit(g.out_channels()));
        quote!([[[[#zero; #co]; #kw]; #kh]; #ci])
    }

    /// The body of `backward` (of `backward_parts` when `dL/dk` is vectorised over output
    /// channels).
    fn row_backward_body(&self) -> TokenStream {
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

impl Rows<'_> {
    /// `arr[index]` for channel-first layers, `arr` for plain ones (`index` a loop variable).
    fn at(&self, arr: TokenStream, index: TokenStream) -> TokenStream {
        match self.channels {
            true => quote!(#arr[#index]),
            false => arr,
        }
    }

    /// `body` in a loop over `n` channels, or alone for plain layers.
    fn over(&self, index: &str, n: usize, body: TokenStream) -> TokenStream {
        match self.channels {
            true => Self::channel_loop(index, n, body),
            false => body,
        }
    }

    /// The layer's `backward` written at the layer level (the rows of the whole layer, not one
    /// output row's window, in each sum):
    ///
    /// - `dL/dx` row by row of the padded input: for row `p` and input channel `c`, the partial
    ///   sums `s[b][j] = sum over o and the kernel rows a that reach p (p = i*SH + a*DH) of
    ///   delta[o][i][j] * k[o][c][a][b]` (output-row long, the chain rule's products and no
    ///   others), then `dxp[c][p][j*SW + b*DW] = sum over b of s[b][j]`, each `s[b]` placed in
    ///   a zero row at its offset and the rows added lane by lane. One shifted sum per input
    ///   row instead of one masked product per tap and window (the companion's matrix form).
    /// - `dL/dk` per kernel row `a` and input channel `c`, for two output channels at a time
    ///   (one load of an input row feeds both): the lane sums `s[o][b][j] += delta[o][i][j] *
    ///   xp[c][i*SH + a*DH][j*SW + b*DW]` over all output rows `i`, added across lanes once per
    ///   tap (the companion adds across lanes once per tap and row).
    /// - `dL/db` the same lane sums of the delta rows.
    ///
    /// Each row's lanes are added in order (`total`): with 8 interleaved partial sums added
    /// pairwise, as in the companion, LLVM's SLP vectoriser mixed the taps' sums with shuffles
    /// and LeNet's first layer took several times longer natively.
    fn layer_backward(&self) -> TokenStream {
        let ([oh, ow], [kh, kw], [hp, wp], [sh, sw], [dh, dw], [ci, co]) = self.sizes();
        let zero = self.shapes.zero();
        let (ow_lit, kw_lit, wp_lit) = (lit(ow), lit(kw), lit(wp));
        let delta_row = |o: TokenStream| self.at(quote!(delta), o);
        let kernel = |o: TokenStream| {
            let ko = self.at(quote!(k), o);
            self.at(ko, quote!(c))
        };

        // dL/dx
        let reach = Self::scaled(quote!(a), dh);
        let rel = quote!(p - #reach);
        let (reaches, row_i) = match sh {
            1 => {
                let oh = lit(oh);
                (quote!(p >= #reach && #rel < #oh), rel.clone())
            }
            _ => {
                let (oh, sh) = (lit(oh), lit(sh));
                (
                    quote!(p >= #reach && (#rel) % #sh == 0 && (#rel) / #sh < #oh),
                    quote!((#rel) / #sh),
                )
            }
        };
        let partials = (0..kw).map(|b| {
            let b = lit(b);
            let each = Self::each("j", ow, quote!(s[#b][j] += d[j] * w;));
            quote! { let w = kr[#b]; #each }
        });
        let (d, kr) = (delta_row(quote!(o)), kernel(quote!(o)));
        let per_o = self.over(
            "o",
            co,
            quote! { let (d, kr) = (&#d[i], &#kr[a]); #(#partials)* },
        );
        let over_a = Self::counted(
            "a",
            kh,
            quote! {
                if #reaches {
                    let i = #row_i;
                    #per_o
                }
            },
            true,
        );
        let place = Self::scaled(quote!(j), sw);
        let spread = (0..kw).map(|b| {
            let (b_lit, at) = (lit(b), Self::offset(place.clone(), b * dw));
            Self::each("j", ow, quote!(r[#b_lit][#at] = s[#b_lit][j];))
        });
        let added = (1..kw).fold(quote!(r[0][q]), |acc, b| {
            let b = lit(b);
            quote!(#acc + r[#b][q])
        });
        let dx_row = self.at(quote!(dxp), quote!(c));
        let store = Self::each("q", wp, quote!(#dx_row[p][q] = #added;));
        let per_c = self.over(
            "c",
            ci,
            quote! {
                let mut s = [[#zero; #ow_lit]; #kw_lit];
                #over_a
                let mut r = [[#zero; #wp_lit]; #kw_lit];
                #(#spread)*
                #store
            },
        );
        let dx = Self::each("p", hp, per_c);

        // dL/dk, for `n` output channels from `o` on.
        let x_row = {
            let (xc, r) = (
                self.at(quote!(xp), quote!(c)),
                Self::plus(Self::scaled(quote!(i), sh), reach.clone()),
            );
            quote!(&#xc[#r])
        };
        let dk_block = |n: usize| {
            let rows = (0..n).map(|m| {
                let (name, o) = (format_ident!("d{}", m), Self::offset(quote!(o), m));
                let row = delta_row(o);
                quote!(let #name = &#row[i];)
            });
            let taps = (0..kw).map(|b| {
                let b_lit = lit(b);
                let at = Self::offset(Self::scaled(quote!(j), sw), b * dw);
                let adds = (0..n).map(|m| {
                    let (name, m) = (format_ident!("d{}", m), lit(m));
                    quote!(s[#m][#b_lit][j] += #name[j] * v;)
                });
                Self::each("j", ow, quote! { let v = xr[#at]; #(#adds)* })
            });
            let totals = (0..n).flat_map(|m| {
                let dko = self.at(quote!(dk), Self::offset(quote!(o), m));
                let dkc = self.at(dko, quote!(c));
                (0..kw).map(move |b| {
                    let (m, b) = (lit(m), lit(b));
                    quote!(#dkc[a][#b] = total(&s[#m][#b]);)
                })
            });
            let n = lit(n);
            let over_i = Self::each("i", oh, quote! { let xr = #x_row; #(#rows)* #(#taps)* });
            let over_a = Self::counted(
                "a",
                kh,
                quote! {
                    let mut s = [[[#zero; #ow_lit]; #kw_lit]; #n];
                    #over_i
                    #(#totals)*
                },
                true,
            );
            self.over("c", ci, over_a)
        };
        let dk = if self.channels {
            let pairs = lit(co - co % 2);
            let pair = dk_block(2);
            let odd = (co % 2 == 1).then(|| {
                let last = lit(co - 1);
                let block = dk_block(1);
                quote! { let o = #last; #block }
            });
            quote! {
                let mut o = 0;
                while o < #pairs {
                    #pair
                    o = ::core::hint::black_box(o + 2);
                }
                #odd
            }
        } else {
            dk_block(1)
        };

        // dL/db
        let d = delta_row(quote!(o));
        let lanes = Self::each("i", oh, Self::each("j", ow, quote!(s[j] += #d[i][j];)));
        let db_slot = self.at(quote!(db), quote!(o));
        let db = self.over(
            "o",
            co,
            quote! {
                let mut s = [#zero; #ow_lit];
                #lanes
                #db_slot = total(&s);
            },
        );
        let (dk_zeros, db_zeros) = (self.shapes.k.zeroed(&zero), self.shapes.b.zeroed(&zero));
        let dxp_zeros = self.zeros(ci, hp, wp);
        let total = self.total(ow);
        quote! {
            #total
            let mut dxp = #dxp_zeros;
            #dx
            let mut dk = #dk_zeros;
            #dk
            let mut db = #db_zeros;
            #db
        }
    }

    /// The layer's `backward` at the layer level with output channels innermost
    /// ([`Dx::LayerOverChannels`]), for layers with short output rows and many output
    /// channels: `delta` and the kernel are transposed once to `dt[i][j][o]` and
    /// `kt[c][a][b][o]`; then for every output position `(i, j)` and tap, one vector update
    /// over output channels per gradient: `t[c][a][b][o] += dt[i][j][o] * xp[c][i*SH +
    /// a*DH][j*SW + b*DW]` (`dL/dk`, transposed back at the end), `sb[o] += dt[i][j][o]`
    /// (`dL/db`), and `acc[c][p][q][o] += dt[i][j][o] * kt[c][a][b][o]` at `p = i*SH + a*DH`,
    /// `q = j*SW + b*DW` (`dL/dx`: the chain rule's products and no others, one partial sum per
    /// output channel, added in order of `o` at the end). The transposes' loops over output
    /// channels are opaque (`core::hint::black_box`): LLVM vectorised them across output
    /// channels with AVX-512 gathers, which doubled the digits layer's time. The loops over
    /// input channels are not (the updates over output channels are innermost; opaque, they
    /// made the digits layer 1.45x slower on the default target).
    fn layer_backward_over_channels(&self) -> TokenStream {
        let ([oh, ow], [kh, kw], [hp, wp], [sh, sw], [dh, dw], [ci, co]) = self.sizes();
        let zero = self.shapes.zero();
        let [oh_l, ow_l, kh_l, kw_l, hp_l, wp_l, ci_l, co_l] =
            [oh, ow, kh, kw, hp, wp, ci, co].map(lit);
        let (r, q) = (
            Self::plus(Self::scaled(quote!(i), sh), Self::scaled(quote!(a), dh)),
            Self::plus(Self::scaled(quote!(j), sw), Self::scaled(quote!(b), dw)),
        );
        let opaque_o = |body: TokenStream| Self::counted("o", co, body, true);
        let taps =
            |body: TokenStream| Self::each("c", ci, Self::each("a", kh, Self::each("b", kw, body)));
        let positions = |body: TokenStream| {
            Self::each(
                "i",
                oh,
                Self::each("j", ow, quote! { let d = &dt[i][j]; #body }),
            )
        };
        let each_o = |body: TokenStream| Self::each("o", co, body);

        let dt = opaque_o(Self::each(
            "i",
            oh,
            Self::each("j", ow, quote!(dt[i][j][o] = delta[o][i][j];)),
        ));
        let kt = opaque_o(Self::each(
            "c",
            ci,
            Self::each(
                "a",
                kh,
                Self::each("b", kw, quote!(kt[c][a][b][o] = k[o][c][a][b];)),
            ),
        ));
        let db_update = each_o(quote!(sb[o] += d[o];));
        let dk_update = each_o(quote!(s[o] += d[o] * v;));
        let dk_taps = taps(quote! { let (v, s) = (xp[c][#r][#q], &mut tk[c][a][b]); #dk_update });
        let dk_sums = positions(quote! { #db_update #dk_taps });
        let dk_out = opaque_o(Self::each(
            "c",
            ci,
            Self::each(
                "a",
                kh,
                Self::each("b", kw, quote!(dk[o][c][a][b] = tk[c][a][b][o];)),
            ),
        ));
        let dx_update = each_o(quote!(s[o] += d[o] * w[o];));
        let dx_sums = positions(taps(
            quote! { let (w, s) = (&kt[c][a][b], &mut acc[c][#r][#q]); #dx_update },
        ));
        let dx_out = Self::each(
            "c",
            ci,
            Self::each(
                "p",
                hp,
                Self::each("q", wp, quote!(dxp[c][p][q] = total(&acc[c][p][q]);)),
            ),
        );
        let (dk_zeros, dxp_zeros) = (self.shapes.k.zeroed(&zero), self.zeros(ci, hp, wp));
        let total = self.total(co);
        quote! {
            #total
            let mut dt = [[[#zero; #co_l]; #ow_l]; #oh_l];
            #dt
            let mut kt = [[[[#zero; #co_l]; #kw_l]; #kh_l]; #ci_l];
            #kt
            let mut tk = [[[[#zero; #co_l]; #kw_l]; #kh_l]; #ci_l];
            let mut sb = [#zero; #co_l];
            #dk_sums
            let mut dk = #dk_zeros;
            #dk_out
            let db = sb;
            let mut acc = [[[[#zero; #co_l]; #wp_l]; #hp_l]; #ci_l];
            #dx_sums
            let mut dxp = #dxp_zeros;
            #dx_out
        }
    }

    /// `x + y`.
    fn plus(x: TokenStream, y: TokenStream) -> TokenStream {
        quote!(#x + #y)
    }

    /// `[OH, OW]`, `[KH, KW]`, the padded input's `[HP, WP]`, the stride, the dilation and
    /// `[C_in, C_out]`.
    #[allow(clippy::type_complexity)]
    fn sizes(
        &self,
    ) -> (
        [usize; 2],
        [usize; 2],
        [usize; 2],
        [usize; 2],
        [usize; 2],
        [usize; 2],
    ) {
        let g = self.g();
        (
            g.output(),
            g.kernel(),
            g.padded_input(),
            g.stride(),
            g.dilation(),
            [g.in_channels(), g.out_channels()],
        )
    }

    /// `const fn total(t: &[T; n]) -> T`: the sum of `t` in order.
    fn total(&self, n: usize) -> TokenStream {
        let (t, zero, n) = (&self.shapes.scalar, self.shapes.zero(), lit(n));
        quote! {
            /// The sum of the elements, in order.
            const fn total(t: &[#t; #n]) -> #t {
                let mut s = #zero;
                let mut i = 0;
                while i < #n { s += t[i]; i += 1; }
                s
            }
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
pub(super) fn row_bodies(row_spec: &Spec, row_shapes: &Shapes) -> Bodies {
    let r = Rows::new(row_spec, row_shapes);
    Bodies {
        forward: r.row_forward(),
        backward: r.row_backward(),
    }
}

/// The companion's associated functions besides `forward` and `backward` (`spec` is the row
/// spec).
pub(super) fn row_items(row_spec: &Spec, row_shapes: &Shapes) -> TokenStream {
    Rows::new(row_spec, row_shapes).transposed_items()
}

/// The layer's `backward` written at the layer level (`dx` is [`Dx::LayerRows`] or
/// [`Dx::LayerOverChannels`]): the padded copy of `x`, the sums, the crop of `dL/dx`.
pub(super) fn layer_backward(spec: &Spec, shapes: &Shapes, dx: Dx) -> TokenStream {
    let r = Rows::new(spec, shapes);
    let g = spec.geometry;
    let ([h, w], [t, _, l, _], ci) = (g.input(), g.pads(), g.in_channels());
    let padded = g.pads() != [0, 0, 0, 0];
    let [hp, wp] = g.padded_input();
    let zero = shapes.zero();
    let (t, l) = (lit(t), lit(l));
    let (xp, crop) = if padded {
        let copies = (0..ci).map(|c| {
            let (to, from) = (r.ch(quote!(xp), c), r.ch(quote!(x), c));
            let cols = Rows::each("q", w, quote!(#to[p + #t][q + #l] = #from[p][q];));
            Rows::each("p", h, cols)
        });
        let crops = (0..ci).map(|c| {
            let (to, from) = (r.ch(quote!(dx), c), r.ch(quote!(dxp), c));
            let cols = Rows::each("q", w, quote!(#to[p][q] = #from[p + #t][q + #l];));
            Rows::each("p", h, cols)
        });
        let (zeros, x_zeros) = (r.zeros(ci, hp, wp), shapes.x.zeroed(&zero));
        (
            quote!(let mut xp = #zeros; #(#copies)*),
            quote!(let mut dx = #x_zeros; #(#crops)*),
        )
    } else {
        (quote!(let xp = x;), quote!(let dx = dxp;))
    };
    let body = match dx {
        Dx::LayerOverChannels => r.layer_backward_over_channels(),
        _ => r.layer_backward(),
    };
    quote! {
        #xp
        #body
        #crop
        ::conv_runtime::Gradients { dx, dk, db }
    }
}
