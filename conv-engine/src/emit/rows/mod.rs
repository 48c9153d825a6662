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
//! (`companion_forward`, `companion_backward`). The loop over output rows around the companion
//! is built as loop IR and proven by symbolic execution (`emit::rows_loop`).
//!
//! Layers the compile-time check evaluates whole write `backward` at the layer level instead
//! (the plan's `Dx::LayerRows` and `Dx::LayerOverChannels`, built as loop IR in
//! `emit::layer_rows`): with output rows of at least [`LANES`] columns and fewer than [`LANES`]
//! output channels, `dL/dx` one padded input row at a time and `dL/dk`, `dL/db` as lane sums
//! over all output rows (no masks, one horizontal sum per tap per call); with shorter rows and
//! at least [`LANES`] output channels, every gradient updated over output channels at once per
//! output position and tap.
//!
//! Loops run over output and input channels (counters of loops over fewer than [`LANES`]
//! channels pass through `core::hint::black_box`, see [`Rows::channel_loop`]); only the
//! `KH x KW` kernel window and short rows are written out, so the code size does not grow with
//! the channel counts.
//!
//! Summation order: `u` as in the full unroll (`c, a, b` after the bias); `dL/dk` per row over
//! `j` in 8 interleaved partial sums added pairwise (or in the order of `j`), then over rows
//! `i`; `dL/db` likewise; `dL/dx` per window over `o, b`, then over rows. At the layer level
//! over rows: `dL/dk` and `dL/db` per column `j` over rows `i`, then over `j`; `dL/dx` per
//! kernel column `b` over `a, o`, then over `b`. Over output channels: `dL/dk`, `dL/db` over
//! `i, j`; `dL/dx` per output channel over `i, j, c, a, b`, then over `o` (exact on the
//! proof's integer inputs either way).

mod companion_backward;
mod companion_forward;

pub(super) use companion_forward::{row_bodies, row_items};

use super::shape::{lit, Shapes};
use crate::{ChannelLayout, Geometry, Spec};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};

use crate::plan::{LANES, WRITTEN_OUT_ROW};

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
}
