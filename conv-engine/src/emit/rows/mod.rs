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
//! written out element by element for rows of up to `WRITTEN_OUT_ROW` elements (the accumulator
//! row then lives in registers and LLVM's SLP vectoriser packs the statements into vectors), else
//! as a loop over `j`. Layers with at least `LANES` output channels (and rows of up to
//! `WRITTEN_OUT_ROW` columns) vectorise the forward row over output channels instead: blocks of
//! output columns keep one accumulator per output channel, updated by one input element times a
//! contiguous row of the kernel transposed to `kt[c][a][b][o]` (the layer transposes it once). Its `backward` computes `dL/dx` in the matrix form, as row
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
//! over rows in that layout and transposed to the kernel's once per call
//! (`companion_forward`, `companion_backward`). The companion's `forward` and `backward` and the
//! loop over output rows around it (`emit::rows_loop`) are built as IR ([`crate::ir`]) and
//! proven by symbolic execution: the companion against the one-row layer's derivation, the loop
//! against the layer's with the companion taken as that derivation.
//!
//! Layers the compile-time check evaluates whole write `backward` at the layer level instead
//! (the plan's `Dx::LayerRows` and `Dx::LayerOverChannels`, built as loop IR in
//! `emit::layer_rows`): with output rows of at least `LANES` columns and fewer than `LANES`
//! output channels, `dL/dx` one padded input row at a time and `dL/dk`, `dL/db` as lane sums
//! over all output rows (no masks, one horizontal sum per tap per call); with shorter rows and
//! at least `LANES` output channels, every gradient updated over output channels at once per
//! output position and tap. Beside the first of these, the AVX2 and AVX-512 tiers write
//! `forward` at the layer level too (`Forward::LayerRows`): rows of sums a multiple of a vector
//! wide, two output channels per input load, with no companion.
//!
//! Loops run over output and input channels (counters of loops over fewer than `LANES`
//! channels pass through `core::hint::black_box`: when the written-out row updates leave such a
//! loop innermost, LLVM vectorises across its few channels with gathers instead of along the
//! rows, which is slower; from `LANES` channels on that pays); only the
//! `KH x KW` kernel window and short rows are written out, so the code size does not grow with
//! the channel counts.
//!
//! Summation order: `u` as in the full unroll (`c, a, b` after the bias); `dL/dk` per row over
//! `j` in 8 interleaved partial sums added pairwise (or in the order of `j`), then over rows
//! `i`; `dL/db` likewise; `dL/dx` per window over `o, b`, then over rows. At the layer level
//! over rows: `u` as in the companion; `dL/dk` and `dL/db` per column `j` over rows `i`, then
//! over `j` pairwise; `dL/dx` per kernel column `b` over `a, o`, then over `b`. Over output
//! channels: `dL/dk`, `dL/db` over `i, j`; `dL/dx` per output channel over `i`, then `j`, then
//! across `o` (pairwise for a power of two of output channels, else in order; exact on the
//! proof's integer inputs either way).

mod companion_backward;
mod companion_forward;

pub(super) use companion_backward::backward;
pub(super) use companion_forward::forward;

use super::shape::{lit, Shapes};
use crate::ir::lower::transpose;
use crate::{Geometry, Spec};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

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

/// The companion's items written as tokens (the transposes around the forms vectorised over
/// output channels).
struct Rows<'a> {
    spec: &'a Spec,
    shapes: &'a Shapes,
}

impl<'a> Rows<'a> {
    fn new(spec: &'a Spec, shapes: &'a Shapes) -> Self {
        Self { spec, shapes }
    }

    fn g(&self) -> &Geometry {
        &self.spec.geometry
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
}

impl Rows<'_> {
    /// The companion's associated functions for the forms vectorised over output channels,
    /// whose kernel or `dL/dk` have output channels innermost (the layer's loop transposes
    /// them once, not per row): `kernel_out_inner` and the named `forward` bodies
    /// (`forward_transposed`, and `forward_transposed_fused` where some tier fuses) when the
    /// forward row is vectorised over output channels, `backward_parts` and
    /// `kernel_from_out_inner` when `dL/dk` is.
    pub(super) fn transposed_items(
        &self,
        forwards: &[(Ident, TokenStream, bool)],
        backward: TokenStream,
    ) -> TokenStream {
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
        let forward = (!forwards.is_empty()).then(|| {
            let kt_zeros = self.out_inner_zeros();
            let passes = transpose::passes(co, ci * kh * kw, transpose::Direction::ToLast);
            let transpose = match passes {
                Some(passes) => transpose::interleaved(
                    &passes,
                    quote!(k.as_flattened().as_flattened().as_flattened()),
                    quote!(kt.as_flattened_mut().as_flattened_mut().as_flattened_mut()),
                    &self.shapes.scalar,
                    &self.shapes.zero(),
                ),
                // In `kt`'s order, output channels innermost: whole vectors stored, the kernel
                // read with gathers. In the kernel's order LLVM moves one element at a time
                // (`BENCHMARKS.md`, LeNet-5, the step of bcf5b49).
                None => {
                    let o = Self::each("o", co, quote!(kt[c][a][b][o] = k[o][c][a][b];));
                    Self::each("c", ci, Self::each("a", kh, Self::each("b", kw, o)))
                }
            };
            let functions = forwards.iter().map(|(name, body, konst)| match konst {
                true => quote! {
                    /// `forward` with the kernel from `kernel_out_inner`.
                    #[inline(always)]
                    const fn #name(x: &#x_ty, k: &#kt_ty, b: &#b_ty) -> #u_ty {
                        #body
                    }
                },
                // AVX-512 intrinsics: neither `const` nor portable.
                false => quote! {
                    /// `forward` with the kernel from `kernel_out_inner`, its vectors written
                    /// with AVX-512 intrinsics.
                    #[cfg(target_arch = "x86_64")]
                    #[inline(always)]
                    #[allow(unsafe_code)]
                    fn #name(x: &#x_ty, k: &#kt_ty, b: &#b_ty) -> #u_ty {
                        #body
                    }
                },
            });
            quote! {
                /// The kernel with output channels innermost: `kt[c][a][b][o] = k[o][c][a][b]`.
                #[inline(always)]
                const fn kernel_out_inner(k: &#k_ty) -> #kt_ty {
                    let mut kt = #kt_zeros;
                    #transpose
                    kt
                }

                #(#functions)*
            }
        });
        let backward = self.dk_over_channels().then(|| {
            let k_zeros = self.shapes.k.zeroed(&self.shapes.zero());
            let transpose = copy(quote!(k[o][c][a][b]), quote!(kt[c][a][b][o]));
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
}

/// The companion's associated functions besides `forward` and `backward` (`spec` is the row
/// spec), with the named lowered bodies of `forward_transposed` (and its fused form) when the
/// forward row is vectorised over output channels, and the lowered backward body (that of
/// `backward_parts` when `dL/dk` is vectorised over output channels); and the body of
/// `backward`.
pub(in crate::emit) fn items(
    row_spec: &Spec,
    row_shapes: &Shapes,
    forward_transposed: &[(Ident, TokenStream, bool)],
    backward: TokenStream,
) -> (TokenStream, TokenStream) {
    let r = Rows::new(row_spec, row_shapes);
    (
        r.transposed_items(forward_transposed, backward.clone()),
        r.row_backward(backward),
    )
}

impl Rows<'_> {
    /// The companion's `backward`: the lowered body, or, when `dL/dk` is vectorised over
    /// output channels, `backward_parts` and the transpose of its `dL/dk`.
    pub(super) fn row_backward(&self, body: TokenStream) -> TokenStream {
        match self.dk_over_channels() {
            true => quote! {
                let g = Self::backward_parts(x, k, delta);
                let dk = Self::kernel_from_out_inner(&g.dk);
                ::conv_runtime::Gradients { dx: g.dx, dk, db: g.db }
            },
            false => body,
        }
    }

    /// Whether `dL/dk` is vectorised over output channels (see [`backward`]); the companion's
    /// `backward` then goes through `backward_parts`.
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
}
