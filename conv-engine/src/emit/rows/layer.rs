//! A `rows` layer's `backward` at the layer level, for layers the compile-time check evaluates
//! whole: over the rows of the whole layer, or over its positions with the output channels
//! innermost.

use super::super::shape::Shapes;
use super::{lit, Rows};
use crate::plan::Dx;
use crate::Spec;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

impl Rows<'_> {
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
    pub(super) fn layer_backward(&self) -> TokenStream {
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
    pub(super) fn layer_backward_over_channels(&self) -> TokenStream {
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
}

/// The layer's `backward` written at the layer level (`dx` is [`Dx::LayerRows`] or
/// [`Dx::LayerOverChannels`]): the padded copy of `x`, the sums, the crop of `dL/dx`.
pub(in crate::emit) fn layer_backward(spec: &Spec, shapes: &Shapes, dx: Dx) -> TokenStream {
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
