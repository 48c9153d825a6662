//! The backward pass of the network's training functions: the loss, then each layer's
//! backward step in reverse, each step a method of its own.

use super::steps::{self, Update};
use super::types;
use crate::network::shapes::{Kind, Network};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The loss, then backward through every layer in reverse, each layer a call of its own step
/// (`steps`); `logits` is in scope. Without `input_gradient`, the first layer gives only its
/// parameter gradients (a convolution's `dL/dx` is then never computed) and `ws.dinput` is left
/// as it was. With [`Update::Deferred`], each dense layer's input and `delta` are first
/// written to `record` (at the offsets of [`types::deferred`]).
pub(super) fn backward(
    n: &Network,
    t: &Ident,
    update: &Update,
    input_gradient: bool,
) -> TokenStream {
    let classes = crate::emit::lit(n.output().len());
    let rt = quote!(::conv_runtime::network::__private);
    let mut out = quote! {
        let mut d: [#t; #classes] = [0.0; #classes];
        let loss = #rt::softmax_cross_entropy(&logits, label, &mut d);
    };
    let (deferred, _) = types::deferred(n);
    for (i, l) in n.layers.iter().enumerate().rev() {
        if let (Update::Deferred, Some(r)) = (update, deferred.iter().find(|r| r.layer == i)) {
            out.extend(record(i, r));
        }
        out.extend(step(i, l, update, input_gradient));
    }
    let dinput = match input_gradient || n.layers.is_empty() {
        true => quote!(ws.dinput = d;),
        false => TokenStream::new(),
    };
    quote! {
        #out
        #dinput
        ::core::result::Result::Ok(loss)
    }
}

/// Layer `i`'s backward step, from `d` (the gradient of its output, a value in scope) to the
/// new `d`, with `x`, `ws` and `grads` (or `learning_rate`) in scope; for the first layer
/// without `input_gradient`, its parameter gradients alone.
pub(super) fn step(
    i: usize,
    l: &crate::network::Layer,
    update: &Update,
    input_gradient: bool,
) -> TokenStream {
    let f = step_name(i, l, update);
    if i == 0 && !input_gradient {
        // The first layer's parameter gradients alone (a dense layer's `backward_deferred`
        // computes its `dL/dx`, dropped).
        let first = first_step_name(l, update);
        return match (l.has_parameters(), update) {
            (true, Update::Deferred) if matches!(l.kind, Kind::Dense { .. }) => {
                quote!(let _ = self.#f(x, ws, grads, &d);)
            }
            (true, Update::Accumulate | Update::Deferred) => {
                quote!(self.#first(x, ws, grads, &d);)
            }
            (true, Update::Sgd) => quote!(self.#first(x, ws, learning_rate, &d);),
            (false, _) => quote!(let _ = d;),
        };
    }
    match (l.has_parameters(), update) {
        (true, Update::Accumulate | Update::Deferred) => {
            quote!(let d = self.#f(x, ws, grads, &d);)
        }
        (true, Update::Sgd) => quote!(let d = self.#f(x, ws, learning_rate, &d);),
        (false, _) if matches!(l.kind, Kind::Activation(_)) => {
            quote!(let mut d = d; self.#f(ws, &mut d);)
        }
        (false, _) => quote!(let d = self.#f(ws, &d);),
    }
}

/// Dense layer `i`'s input and `delta` (`d`, in scope) written to `record` at `r.at`.
pub(super) fn record(i: usize, r: &types::Deferred) -> TokenStream {
    let rt = quote!(::conv_runtime::network::__private);
    let input = types::stored_input(i);
    // The input at `start..middle`, `delta` at `middle..end`.
    let [start, middle, end] =
        [r.at, r.at + r.inputs, r.at + r.inputs + r.outputs].map(crate::emit::lit);
    quote! {
        #rt::copy(::conv_runtime::Tensor::flat(#input), &mut record[#start..#middle]);
        #rt::copy(&d, &mut record[#middle..#end]);
    }
}

/// The method holding the first layer's parameter gradients alone (no `dL/dinput`), per update
/// mode (a convolution's with [`Update::Deferred`] is its `Accumulate` method).
fn first_step_name(l: &crate::network::Layer, update: &Update) -> Ident {
    let name = &l.name;
    match update {
        Update::Accumulate | Update::Deferred => {
            quote::format_ident!("__accumulate_parameters_{}", name)
        }
        Update::Sgd => quote::format_ident!("__sgd_parameters_{}", name),
    }
}

/// The method holding layer `i`'s backward step: one per update mode for a layer with
/// parameters (a convolution's with [`Update::Deferred`] is its `Accumulate` method), one for
/// all modes otherwise.
pub(super) fn step_name(i: usize, l: &crate::network::Layer, update: &Update) -> Ident {
    let name = &l.name;
    let dense = matches!(l.kind, Kind::Dense { .. });
    match (l.has_parameters(), update) {
        (true, Update::Deferred) if dense => quote::format_ident!("__deferred_{}", name),
        (true, Update::Accumulate | Update::Deferred) => {
            quote::format_ident!("__accumulate_{}", name)
        }
        (true, Update::Sgd) => quote::format_ident!("__sgd_{}", name),
        (false, _) => quote::format_ident!("__backward_{}", i),
    }
}

/// Every layer's backward step as a method that is never inlined: each step's temporaries
/// (its gradients) live only during its call, so the stack holds one layer's at a time. Each
/// reads the gradient of its layer's output through a reference (an array passed by value to a
/// function that is not inlined is copied first: 18 KB per sample for LeNet-5's first layer).
pub(super) fn backward_steps(n: &Network) -> TokenStream {
    let t = types::scalar(n);
    let input_ty = types::shape(&t, n.input);
    let workspace = types::workspace(n);
    let mut out = TokenStream::new();
    for (i, l) in n.layers.iter().enumerate() {
        let input = types::stored_input(i);
        let output = {
            let a = types::output(i);
            quote!(&ws.#a)
        };
        let (in_ty, out_ty) = (types::shape(&t, l.input), types::shape(&t, l.output));
        let modes: &[Update] = match (&l.kind, l.has_parameters()) {
            (Kind::Dense { .. }, _) => &[Update::Accumulate, Update::Sgd, Update::Deferred],
            (_, true) => &[Update::Accumulate, Update::Sgd],
            (_, false) => &[Update::Accumulate],
        };
        if i == 0 && l.has_parameters() {
            for update in &[Update::Accumulate, Update::Sgd] {
                let f = first_step_name(l, update);
                let step = steps::parameters(&t, l, &input, &output, update);
                out.extend(match update {
                    Update::Accumulate | Update::Deferred => quote! {
                        #[inline(never)]
                        fn #f(&self, x: &#input_ty, ws: &mut #workspace, grads: &mut Self, d: &#out_ty) {
                            let _ = (&x, &ws);
                            #step
                        }
                    },
                    Update::Sgd => quote! {
                        #[inline(never)]
                        fn #f(&mut self, x: &#input_ty, ws: &mut #workspace, learning_rate: #t, d: &#out_ty) {
                            let _ = (&x, &ws);
                            #step
                        }
                    },
                });
            }
        }
        let activation = match &l.kind {
            Kind::Activation(a) => Some(a),
            _ => None,
        };
        for update in modes {
            let f = step_name(i, l, update);
            let step = steps::backward(&t, i, l, &input, &output, update);
            out.extend(match (l.has_parameters(), update) {
                (true, Update::Accumulate | Update::Deferred) => quote! {
                    #[inline(never)]
                    fn #f(&self, x: &#input_ty, ws: &mut #workspace, grads: &mut Self, d: &#out_ty) -> #in_ty {
                        let _ = (&x, &ws);
                        #step
                        d
                    }
                },
                (true, Update::Sgd) => quote! {
                    #[inline(never)]
                    fn #f(&mut self, x: &#input_ty, ws: &mut #workspace, learning_rate: #t, d: &#out_ty) -> #in_ty {
                        let _ = (&x, &ws);
                        #step
                        d
                    }
                },
                // Activations in place: `d` by value would be copied in and out of the step.
                (false, _) if activation.is_some() => {
                    let step = activation.map(|a| steps::activation_backward(&t, a, &output, quote!(d)));
                    quote! {
                        #[inline(never)]
                        fn #f(&self, ws: &mut #workspace, d: &mut #out_ty) {
                            ::conv_runtime::network::__private::widest(#[inline(always)] || {
                                let _ = &ws;
                                #step
                            })
                        }
                    }
                }
                // Activations, pooling and copies: compiled for the CPU's widest tier.
                (false, _) => quote! {
                    #[inline(never)]
                    fn #f(&self, ws: &mut #workspace, d: &#out_ty) -> #in_ty {
                        ::conv_runtime::network::__private::widest(#[inline(always)] || {
                            let _ = &ws;
                            #step
                            d
                        })
                    }
                },
            });
        }
    }
    out
}
