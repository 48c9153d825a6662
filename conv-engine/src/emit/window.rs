//! The `window` strategy, for layers too large to unroll: loops over output positions with the
//! kernel window written out as straight-line code. The taps are the derivation's (every
//! `(o, c, a, b)` of the kernel, at row offset `a*DH` and column offset `b*DW`); padding is
//! handled by reading a zero-padded copy of `x` and cropping a padded `dL/dx`, so the window
//! code has no bounds tests. The same compile-time proof checks it.
//!
//! Summation order: `u` as in the full unroll (`c, a, b` after the bias); `dL/dk`, `dL/db` over
//! `i, j` ascending; `dL/dx` accumulated over `i, j`, then `o`, `a`, `b` (exact on the proof's
//! integer inputs either way).

use super::shape::{lit, Shapes};
use super::unroll::Bodies;
use crate::{ChannelLayout, Spec};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

struct Window<'a> {
    spec: &'a Spec,
    shapes: &'a Shapes,
    channels: bool,
    /// The planted fault (tests only): the first tap reads the next weight.
    planted: bool,
}

pub(super) fn bodies(spec: &Spec, shapes: &Shapes, planted: bool) -> Bodies {
    let w = Window {
        spec,
        shapes,
        channels: spec.layout == ChannelLayout::ChannelFirst,
        planted,
    };
    Bodies {
        forward: w.forward(),
        backward: w.backward(),
    }
}

impl Window<'_> {
    fn g(&self) -> &crate::Geometry {
        &self.spec.geometry
    }

    /// `arr[c][row][col]` (no channel index for plain layers).
    fn at(&self, arr: &Ident, c: usize, row: TokenStream, col: TokenStream) -> TokenStream {
        if self.channels {
            let c = lit(c);
            quote!(#arr[#c][#row][#col])
        } else {
            quote!(#arr[#row][#col])
        }
    }

    /// `[[[0.0; cols]; rows]; channels]` (without the channel axis for plain layers).
    fn zeros(&self, channels: usize, rows: usize, cols: usize) -> TokenStream {
        let channels = self.channels.then_some(channels);
        super::shape::planes(&self.shapes.zero(), channels, rows, cols)
    }

    fn padded(&self) -> bool {
        self.g().pads() != [0, 0, 0, 0]
    }

    /// `xp`: `x` itself, or a zero-padded copy.
    fn padded_input(&self) -> TokenStream {
        let g = self.g();
        if !self.padded() {
            return quote!(let xp = x;);
        }
        let ([h, w], [t, b, l, r]) = (g.input(), g.pads());
        let zeros = self.zeros(g.in_channels(), h + t + b, w + l + r);
        let xp = Ident::new("xp", Span::call_site());
        let x = Ident::new("x", Span::call_site());
        let (t, l) = (lit(t), lit(l));
        let copy = self.each_input(|c| {
            let to = self.at(&xp, c, quote!(p + #t), quote!(q + #l));
            let from = self.at(&x, c, quote!(p), quote!(q));
            quote!(#to = #from;)
        });
        quote!(let mut xp = #zeros; #copy)
    }

    /// A loop over every input position `(p, q)` running `body(c)` for each channel.
    fn each_input(&self, body: impl Fn(usize) -> TokenStream) -> TokenStream {
        let [h, w] = self.g().input();
        let (h, w) = (lit(h), lit(w));
        let bodies = (0..self.g().in_channels()).map(body);
        quote! {
            let mut p = 0;
            while p < #h {
                let mut q = 0;
                while q < #w {
                    #(#bodies)*
                    q += 1;
                }
                p += 1;
            }
        }
    }

    /// A loop over every output position `(i, j)`, with `r = i*SH`, `s = j*SW`.
    fn each_output(&self, body: TokenStream) -> TokenStream {
        let g = self.g();
        let ([oh, ow], [sh, sw]) = (g.output(), g.stride());
        let (oh, ow) = (lit(oh), lit(ow));
        let scaled = |index: TokenStream, stride: usize| match stride {
            1 => index,
            _ => {
                let stride = lit(stride);
                quote!(#index * #stride)
            }
        };
        let (r, s) = (scaled(quote!(i), sh), scaled(quote!(j), sw));
        quote! {
            let mut i = 0;
            while i < #oh {
                let mut j = 0;
                while j < #ow {
                    let (r, s) = (#r, #s);
                    #body
                    j += 1;
                }
                i += 1;
            }
        }
    }

    /// Every kernel tap `(o, c, a, b)` with its flat position and its row/column offsets.
    fn taps(&self, o: usize) -> Vec<(usize, usize, TokenStream, TokenStream)> {
        let g = self.g();
        let ([kh, kw], [dh, dw]) = (g.kernel(), g.dilation());
        let ci = g.in_channels();
        let offset = |base: &str, n: usize| {
            let base = Ident::new(base, Span::call_site());
            if n == 0 {
                quote!(#base)
            } else {
                let n = lit(n);
                quote!(#base + #n)
            }
        };
        let mut out = Vec::new();
        for c in 0..ci {
            for a in 0..kh {
                for b in 0..kw {
                    let flat = ((o * ci + c) * kh + a) * kw + b;
                    out.push((c, flat, offset("r", a * dh), offset("s", b * dw)));
                }
            }
        }
        out
    }

    fn kernel(&self) -> TokenStream {
        let names = self.shapes.k.names();
        let used = vec![true; names.len()];
        self.shapes
            .k
            .destructure(&Ident::new("k", Span::call_site()), &names, &used)
    }

    fn forward(&self) -> TokenStream {
        let g = self.g();
        let (k, xp) = (self.kernel(), self.padded_input());
        let bias_names = self.shapes.b.names();
        let bias = self.shapes.b.destructure(
            &Ident::new("b", Span::call_site()),
            &bias_names,
            &vec![true; bias_names.len()],
        );
        let k_names = self.shapes.k.names();
        let xp_ident = Ident::new("xp", Span::call_site());
        let u = Ident::new("u", Span::call_site());
        let outputs = (0..g.out_channels()).map(|o| {
            let b = &bias_names[o];
            let terms = self.taps(o).into_iter().map(|(c, flat, row, col)| {
                let x = self.at(&xp_ident, c, row, col);
                let flat = match self.planted && o == 0 && flat == 0 {
                    true => 1 % k_names.len(),
                    false => flat,
                };
                let k = &k_names[flat];
                quote!(#x * #k)
            });
            let target = self.at(&u, o, quote!(i), quote!(j));
            quote!(#target = #b #(+ #terms)*;)
        });
        let body = self.each_output(quote!(#(#outputs)*));
        let zeros = self.shapes.u.zeroed(&self.shapes.zero());
        quote! { #k #bias #xp let mut u = #zeros; #body u }
    }

    fn backward(&self) -> TokenStream {
        let g = self.g();
        let (k, xp) = (self.kernel(), self.padded_input());
        let k_names = self.shapes.k.names();
        let grad_names: Vec<Ident> = k_names.iter().map(|n| format_ident!("g{}", n)).collect();
        let db_names: Vec<Ident> = (0..g.out_channels())
            .map(|o| format_ident!("db_{}", o))
            .collect();
        let zero = self.shapes.zero();
        let (xp_i, dxp_i, delta_i) = (
            Ident::new("xp", Span::call_site()),
            Ident::new("dxp", Span::call_site()),
            Ident::new("delta", Span::call_site()),
        );
        let window = (0..g.out_channels()).map(|o| {
            let d = format_ident!("d_{}", o);
            let db = &db_names[o];
            let read = self.at(&delta_i, o, quote!(i), quote!(j));
            let taps = self.taps(o).into_iter().map(|(c, flat, row, col)| {
                let (k, gk) = (&k_names[flat], &grad_names[flat]);
                let dx = self.at(&dxp_i, c, row.clone(), col.clone());
                let x = self.at(&xp_i, c, row, col);
                quote! { #dx += #d * #k; #gk += #d * #x; }
            });
            quote! { let #d = #read; #db += #d; #(#taps)* }
        });
        let body = self.each_output(quote!(#(#window)*));
        let ([h, w], [t, b, l, r]) = (g.input(), g.pads());
        let dxp_zeros = self.zeros(g.in_channels(), h + t + b, w + l + r);
        let crop = if self.padded() {
            let (t, l) = (lit(t), lit(l));
            let dx_i = Ident::new("dx", Span::call_site());
            let copy = self.each_input(|c| {
                let to = self.at(&dx_i, c, quote!(p), quote!(q));
                let from = self.at(&dxp_i, c, quote!(p + #t), quote!(q + #l));
                quote!(#to = #from;)
            });
            let zeros = self.shapes.x.zeroed(&zero);
            quote!(let mut dx = #zeros; #copy)
        } else {
            quote!(let dx = dxp;)
        };
        let dk = self
            .shapes
            .k
            .literal(grad_names.iter().map(|n| quote!(#n)).collect());
        let db = self
            .shapes
            .b
            .literal(db_names.iter().map(|n| quote!(#n)).collect());
        quote! {
            #k #xp
            let mut dxp = #dxp_zeros;
            #(let mut #grad_names = #zero;)*
            #(let mut #db_names = #zero;)*
            #body
            #crop
            ::conv_runtime::Gradients { dx, dk: #dk, db: #db }
        }
    }
}
