//! `Network::loss_and_recorded_gradients_chunk`: the recorded training function over a chunk
//! of samples (the batch trainer's unit of work), with every dense layer's `forward` and
//! `backward_deferred` run for the whole chunk at once (`forward_chunk`,
//! `backward_deferred_chunk`: each row of the weights loaded once for all the samples).
//!
//! The samples go through the layers below the first dense layer one after another, as
//! `loss_and_recorded_gradients` would take them; from the first dense layer on, layer by
//! layer, each layer's step for every sample before the next layer's; the loss per sample;
//! backward the same way down to the first dense layer, then the rest of each sample's
//! backward pass, sample after sample. Each sample keeps its own workspace. Every sample's
//! values get the operations of `loss_and_recorded_gradients` in the same order, and every
//! gradient buffer element its samples' additions in sample order, so the results are the same
//! bits as the samples one by one.

use super::backward::{self, record, step_name};
use super::functions::{training_input, training_step};
use super::steps::Update;
use super::types;
use crate::emit::dense::SAMPLES;
use crate::network::shapes::{Kind, Network};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

/// The first dense layer, where the network has its own chunk method: it has dense layers,
/// and the first layer is not one.
fn first_dense(n: &Network) -> Option<usize> {
    n.layers
        .iter()
        .position(|l| matches!(l.kind, Kind::Dense { .. }))
        .filter(|&first| first > 0)
}

/// Whether [`method`] writes a method.
pub(super) fn has_method(n: &Network) -> bool {
    first_dense(n).is_some()
}

/// The hidden method `__loss_and_recorded_gradients_chunk` and its two per-sample helpers, or
/// nothing where the network has none ([`has_method`]; the trait's default, one sample at a
/// time, then serves).
pub(super) fn method(n: &Network, t: &Ident, stored: &[bool]) -> TokenStream {
    match first_dense(n) {
        Some(first) => Chunk {
            n,
            t,
            stored,
            first,
            s: Literal::usize_unsuffixed(SAMPLES),
        }
        .method(),
        None => TokenStream::new(),
    }
}

/// What the pieces of the method are written from.
struct Chunk<'a> {
    n: &'a Network,
    t: &'a Ident,
    /// Which layer outputs the workspace keeps.
    stored: &'a [bool],
    /// The first dense layer.
    first: usize,
    /// The samples of a chunk, as a literal.
    s: Literal,
}

impl Chunk<'_> {
    /// The array of layer `i`'s outputs, one per sample, where the workspace does not keep them.
    fn values(i: usize) -> Ident {
        format_ident!("v{}", i + 1)
    }

    /// Layer `i`'s input for sample `q` (a reference), from the first dense layer on: in the
    /// sample's workspace `ws` (`wss[q]`, or a binding of it) or in the array of values.
    fn input(&self, i: usize, ws: TokenStream, q: TokenStream) -> TokenStream {
        match self.stored[i - 1] {
            true => {
                let a = types::output(i - 1);
                quote!(&#ws.#a)
            }
            false => {
                let v = Self::values(i - 1);
                quote!(&#v[#q])
            }
        }
    }

    /// One sample's forward statements below the first dense layer (`x` and `ws` in scope), as
    /// the training forward pass's.
    fn forward_below(&self) -> TokenStream {
        let (t, stored) = (self.t, self.stored);
        let layers = self.n.layers[..self.first].iter().enumerate();
        layers
            .map(|(i, l)| {
                let (a, ty) = (types::output(i), types::shape(t, l.output));
                let input = training_input(i, stored);
                training_step(
                    t,
                    i,
                    l,
                    &input,
                    stored[i],
                    |step| quote!(let #a: #ty = #step;),
                )
            })
            .collect()
    }

    /// The forward statements from the first dense layer on, layer by layer over the samples:
    /// each dense layer's `forward_chunk`, each other layer's step for every sample.
    fn forward_above(&self) -> TokenStream {
        let (t, s) = (self.t, &self.s);
        let mut out = TokenStream::new();
        for (i, l) in self.n.layers.iter().enumerate().skip(self.first) {
            let (v, ty) = (Self::values(i), types::shape(t, l.output));
            let stored = self.stored[i];
            if let Kind::Dense { .. } = l.kind {
                let (layer, name) = (types::layer_struct(l), &l.name);
                let inputs = (0..SAMPLES).map(|q| {
                    let q = Literal::usize_unsuffixed(q);
                    self.input(i, quote!(wss[#q]), quote!(#q))
                });
                out.extend(quote! {
                    let #v: [#ty; #s] = __layers::#layer::forward_chunk(
                        &[#(*#inputs),*],
                        &self.#name.weight,
                        &self.#name.bias,
                    );
                });
                if stored {
                    let a = types::output(i);
                    out.extend(quote!(for q in 0..#s { wss[q].#a = #v[q]; }));
                }
                continue;
            }
            let from = self.input(i, quote!(ws), quote!(q));
            let step = training_step(t, i, l, &from, stored, |step| quote!(#v[q] = #step;));
            if !stored {
                let zero = types::zero(l.output);
                out.extend(quote!(let mut #v: [#ty; #s] = [#zero; #s];));
            }
            out.extend(quote!(for q in 0..#s { let ws = &mut wss[q]; #step }));
        }
        out
    }

    /// The backward statements from the last layer down to the first dense layer, `ds` (every
    /// sample's gradient of the logits) in scope: each dense layer's records, then its
    /// `backward_deferred_chunk`; each other layer's step for every sample.
    fn backward_above(&self) -> TokenStream {
        let (t, s) = (self.t, &self.s);
        let samples = (0..SAMPLES).map(Literal::usize_unsuffixed);
        let samples = quote!([#(#samples),*]);
        let (deferred, _) = types::deferred(self.n);
        let mut out = TokenStream::new();
        for (i, l) in self.n.layers.iter().enumerate().skip(self.first).rev() {
            let f = step_name(i, l, &Update::Deferred);
            if let Some(r) = deferred.iter().find(|r| r.layer == i) {
                let (layer, name) = (types::layer_struct(l), &l.name);
                let in_ty = types::shape(t, l.input);
                let write = record(i, r);
                out.extend(quote! {
                    for q in 0..#s {
                        let (ws, record, d) = (&wss[q], &mut records[q], ds[q]);
                        #write
                    }
                    let mut ds: [#in_ty; #s] = __layers::#layer::backward_deferred_chunk(
                        &self.#name.weight,
                        &ds,
                        &mut grads.#name.bias,
                    );
                });
                continue;
            }
            out.extend(match (&l.kind, l.has_parameters()) {
                (Kind::Activation(_), _) => {
                    quote!(for q in 0..#s { self.#f(&mut wss[q], &mut ds[q]); })
                }
                (_, true) => {
                    quote!(let mut ds = #samples.map(|q| self.#f(xs[q], &mut wss[q], grads, &ds[q]));)
                }
                (_, false) => quote!(let mut ds = #samples.map(|q| self.#f(&mut wss[q], &ds[q]));),
            });
        }
        out
    }

    /// One sample's backward statements below the first dense layer (`x`, `ws`, `grads` and
    /// `d`, the gradient of the first dense layer's input, in scope).
    fn backward_below(&self) -> TokenStream {
        let layers = self.n.layers[..self.first].iter().enumerate().rev();
        layers
            .map(|(i, l)| backward::step(i, l, &Update::Deferred, false))
            .collect()
    }

    fn method(&self) -> TokenStream {
        let (n, t, s) = (self.n, self.t, &self.s);
        let rt = quote!(::conv_runtime::network::__private);
        let input_ty = types::shape(t, n.input);
        let workspace = types::workspace(n);
        let record_ty = types::record(n);
        let classes = crate::emit::lit(n.output().len());
        let logits = self.input(n.layers.len(), quote!(wss[q]), quote!(q));
        let (below, above) = (self.forward_below(), self.forward_above());
        let (top, rest) = (self.backward_above(), self.backward_below());
        let below_ty = types::shape(t, n.layers[self.first].input);
        quote! {
            /// The forward pass of one sample of a chunk up to the first dense layer, its values
            /// kept in `ws` (a call of its own: its temporaries leave the stack at its end).
            #[inline(never)]
            fn __chunk_forward_below(&self, x: &#input_ty, ws: &mut #workspace) {
                #rt::widest(#[inline(always)] || {
                    let _ = (&x, &ws);
                    #below
                })
            }

            /// The backward pass of one sample of a chunk below the first dense layer, from `d`, the
            /// gradient of that layer's input.
            #[inline(never)]
            fn __chunk_backward_below(
                &self,
                x: &#input_ty,
                ws: &mut #workspace,
                grads: &mut Self,
                d: &#below_ty,
            ) {
                let d = *d;
                #rest
            }

            /// `Network::loss_and_recorded_gradients_chunk`: [`Self::__loss_and_recorded_gradients`]
            /// of each sample of the chunk, the dense layers run for all of them at once.
            #[allow(unused_mut, clippy::needless_range_loop)]
            fn __loss_and_recorded_gradients_chunk(
                &self,
                xs: [&#input_ty; #s],
                labels: [usize; #s],
                wss: &mut [#workspace; #s],
                grads: &mut Self,
                records: &mut [#record_ty; #s],
            ) -> ::core::result::Result<[#t; #s], (usize, ::conv_runtime::network::SampleError)> {
                for q in 0..#s {
                    #rt::check_sample(::conv_runtime::Tensor::flat(xs[q]), labels[q], #classes)
                        .map_err(|e| (q, e))?;
                }
                for q in 0..#s {
                    self.__chunk_forward_below(xs[q], &mut wss[q]);
                }
                let (mut ds, losses) = #rt::widest(#[inline(always)] || {
                    #above
                    let mut ds = [[0.0; #classes]; #s];
                    let mut losses = [0.0; #s];
                    for q in 0..#s {
                        losses[q] = #rt::softmax_cross_entropy(#logits, labels[q], &mut ds[q]);
                    }
                    (ds, losses)
                });
                #top
                for q in 0..#s {
                    self.__chunk_backward_below(xs[q], &mut wss[q], grads, &ds[q]);
                }
                ::core::result::Result::Ok(losses)
            }
        }
    }
}
