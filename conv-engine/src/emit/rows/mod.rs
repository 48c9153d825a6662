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
//! output position and tap.
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
//! over rows: `dL/dk` and `dL/db` per column `j` over rows `i`, then over `j`; `dL/dx` per
//! kernel column `b` over `a, o`, then over `b`. Over output channels: `dL/dk`, `dL/db` over
//! `i, j`; `dL/dx` per output channel over `i, j, c, a, b`, then over `o` (exact on the
//! proof's integer inputs either way).

mod companion_backward;
mod companion_forward;

pub(super) use companion_backward::backward;
pub(super) use companion_forward::{forward, items};

use super::shape::{lit, Shapes};
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
