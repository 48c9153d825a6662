//! The network's inherent functions: inference (`forward`, `predict`), training
//! (`loss_and_gradients`, `train_step`, `sgd_step`; the backward pass is in `backward`),
//! initialisation and the memory and cost constants.

use super::backward;
use super::steps::{self, Update};
use super::types;
use crate::derive::activation::Activation;
use crate::derive::pool::PoolKind;
use crate::network::memory::Memory;
use crate::network::shapes::{Kind, Layer, Network};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The inherent impl.
pub(super) fn all(n: &Network, memory: &Memory, stored: &[bool]) -> TokenStream {
    let t = types::scalar(n);
    let name = &n.item.ident;
    let workspace = types::workspace(n);
    let input_ty = types::shape(&t, n.input);
    let classes = crate::emit::lit(n.output().len());
    let logits_ty = quote!([#t; #classes]);
    let consts = constants(memory);
    let gradients = types::gradients_signature(n);
    let inference = inference(n, &t);
    let training = training_forward(n, &t, stored);
    let accumulate = backward::backward(n, &t, &Update::Accumulate, true);
    let parameters = backward::backward(n, &t, &Update::Accumulate, false);
    let fused = backward::backward(n, &t, &Update::Sgd, false);
    let deferred = backward::backward(n, &t, &Update::Deferred, false);
    let recorded = types::recorded_signature(n);
    let init = init(n);
    let zeroed = zeroed(n);
    let steps = backward::backward_steps(n);
    let chunk = super::chunk::method(n, &t, stored);
    let rt = quote!(::conv_runtime::network::__private);
    quote! {
        impl #name {
            /// Number of classes (the length of the logits).
            pub const CLASSES: usize = #classes;
            #consts

            /// Parameters drawn as PyTorch draws its defaults for `nn.Conv2d` and `nn.Linear`:
            /// weights and biases uniform in `±1/sqrt(fan_in)`, from a deterministic generator
            /// seeded by `seed` (one stream per tensor).
            pub fn init(seed: u64) -> Self {
                let mut net = Self::zeroed();
                #init
                net
            }

            /// All parameters zero (a gradient buffer for [`Self::loss_and_gradients`]).
            pub fn zeroed() -> Self {
                Self { #zeroed }
            }

            /// A zeroed training workspace.
            pub const fn workspace() -> #workspace {
                #workspace::new()
            }

            /// The logits for `x` (the code between the layers compiled, as each layer's, for
            /// the CPU's widest tier).
            pub fn forward(&self, x: &#input_ty) -> #logits_ty {
                #rt::widest(#[inline(always)] || #inference)
            }

            /// The class with the largest logit (the first on ties).
            pub fn predict(&self, x: &#input_ty) -> usize {
                #rt::argmax(&self.forward(x))
            }

            /// The softmax cross-entropy loss of `x` against `label`; adds the gradient of every
            /// parameter to `grads` (as PyTorch accumulates `.grad`) and leaves `dL/dinput` in
            /// `ws.dinput`.
            ///
            /// # Errors
            ///
            /// A label out of range or a NaN or infinite input, before anything is computed.
            pub fn loss_and_gradients #gradients {
                #rt::check_sample(::conv_runtime::Tensor::flat(x), label, #classes)?;
                let logits = self.__train_forward(x, ws);
                #accumulate
            }

            /// As [`Self::loss_and_gradients`], without `dL/dinput` (`ws.dinput` is left as it
            /// was): the gradients training needs. The first layer's `dL/dx` is not computed
            /// (for a convolution, half of its backward pass).
            ///
            /// # Errors
            ///
            /// As [`Self::loss_and_gradients`].
            pub fn loss_and_parameter_gradients #gradients {
                #rt::check_sample(::conv_runtime::Tensor::flat(x), label, #classes)?;
                let logits = self.__train_forward(x, ws);
                #parameters
            }

            /// One step of SGD on one sample, each layer's update applied as soon as its
            /// gradient is known (backward reads a layer's weights before updating them), with
            /// no buffer for the whole gradient. Returns the loss before the step. As
            /// [`Self::loss_and_parameter_gradients`], it does not compute `dL/dinput`
            /// (`ws.dinput` is left as it was).
            ///
            /// # Errors
            ///
            /// As [`Self::loss_and_gradients`]; the parameters are then unchanged.
            pub fn train_step(
                &mut self,
                x: &#input_ty,
                label: usize,
                learning_rate: #t,
                ws: &mut #workspace,
            ) -> ::core::result::Result<#t, ::conv_runtime::network::SampleError> {
                #rt::check_sample(::conv_runtime::Tensor::flat(x), label, #classes)?;
                let logits = self.__train_forward(x, ws);
                #fused
            }

            /// `Network::loss_and_recorded_gradients`: [`Self::loss_and_parameter_gradients`]
            /// with each dense layer's `dL/dw` left out and its input and `delta` written to
            /// `record` instead.
            fn __loss_and_recorded_gradients #recorded {
                #rt::check_sample(::conv_runtime::Tensor::flat(x), label, #classes)?;
                let logits = self.__train_forward(x, ws);
                #deferred
            }

            /// `parameter -= learning_rate * gradient`, for every parameter.
            pub fn sgd_step(&mut self, grads: &Self, learning_rate: #t) {
                ::conv_runtime::network::Network::sgd_step(self, grads, learning_rate)
            }

            #[inline]
            fn __train_forward(&self, x: &#input_ty, ws: &mut #workspace) -> #logits_ty {
                #rt::widest(#[inline(always)] || { #training })
            }

            #steps
            #chunk
        }
    }
}

fn constants(m: &Memory) -> TokenStream {
    let rows = [
        ("PARAMETER_BYTES", m.parameter_bytes, "Bytes of the parameters (`size_of::<Self>()`)."),
        ("INFERENCE_BYTES", m.inference_bytes, "Bytes of activations a forward pass holds besides the parameters: the largest input plus output of one layer (plus a max pool's window indices; an activation after the first layer works in place, so its output alone). A layer's own temporaries (a convolution's padded rows, say) come on top."),
        ("WORKSPACE_BYTES", m.workspace_bytes, "Bytes of the training workspace (`size_of` of the workspace type)."),
        ("BACKWARD_BYTES", m.backward_bytes, "The most one layer's backward holds besides the workspace: the gradients it takes and gives (one array for an activation, which works on it in place), and a convolution's weight and bias gradients (a dense layer adds its own straight into the gradient buffer or the parameters; the layer's own temporaries come on top)."),
        ("BATCH_TRAINING_BYTES", m.batch_training_bytes, "Training through a gradient buffer (`loss_and_gradients`, then `sgd_step`): the buffer, the workspace and one layer's backward, besides the parameters (the layers' own temporaries come on top)."),
        ("FUSED_TRAINING_BYTES", m.fused_training_bytes, "Training with the fused update (`train_step`): the workspace and one layer's backward, besides the parameters (the layers' own temporaries come on top)."),
        ("INFERENCE_MACS", m.inference_macs, "Multiply-adds of one inference (convolutions without their padding taps, dense layers)."),
        ("TRAINING_MACS", m.training_macs, "Multiply-adds of one training step (`train_step`): forward, backward (`dL/dx` and `dL/dW`, each as many as forward, except the first layer's `dL/dx`, which training leaves out when that layer is a convolution cut to its parameter gradients) and the update (one per parameter)."),
    ];
    rows.iter()
        .map(|(name, value, doc)| {
            let ident = Ident::new(name, proc_macro2::Span::call_site());
            let value = crate::emit::lit(*value);
            quote!(#[doc = #doc] pub const #ident: usize = #value;)
        })
        .collect()
}

/// The input of layer `i` in the inference pass.
fn local_input(i: usize) -> TokenStream {
    match i {
        0 => quote!(x),
        _ => {
            let a = types::output(i - 1);
            quote!(&#a)
        }
    }
}

/// The chain of forward steps, each in a block that ends its input's life: layer `i`'s input
/// is bound inside the block whose value is layer `i`'s output, so only one layer's input and
/// output are live at a time (what `INFERENCE_BYTES` counts). An activation after the first
/// layer works in place on the binding of its input, which the next layer then reads: the
/// value is never copied to be activated.
fn inference(n: &Network, t: &Ident) -> TokenStream {
    let mut value = TokenStream::new();
    // The activations still to apply in place to `value` when it is bound.
    let mut pending = Vec::new();
    // `value` bound as layer `i - 1`'s output (of layer `i`'s input shape), and the pending
    // activations applied to that binding in place.
    let bind = |value: &TokenStream, pending: &mut Vec<&Activation>, i: usize, l: &Layer| {
        let (a, ty) = (types::output(i - 1), types::shape(t, l.input));
        let place = quote!(#a);
        let apply: Vec<_> = pending
            .drain(..)
            .map(|act| steps::activation_in_place(t, act, &place))
            .collect();
        let mutability = (!apply.is_empty()).then(|| quote!(mut));
        quote!(let #mutability #a: #ty = #value; #(#apply)*)
    };
    for (i, l) in n.layers.iter().enumerate() {
        value = match (i, &l.kind) {
            (0, _) => steps::forward(t, l, &local_input(i), None),
            (_, Kind::Activation(act)) => {
                pending.push(act);
                continue;
            }
            _ => {
                let (bound, step) = (
                    bind(&value, &mut pending, i, l),
                    steps::forward(t, l, &local_input(i), None),
                );
                quote!({ #bound #step })
            }
        };
    }
    // Activations at the end: applied to the last value's binding, which is the output.
    match n.layers.len() {
        last if !pending.is_empty() => {
            let (bound, a) = (
                bind(&value, &mut pending, last, &n.layers[last - 1]),
                types::output(last - 1),
            );
            quote!({ #bound #a })
        }
        _ => value,
    }
}

/// Where layer `i`'s input is during training.
pub(super) fn training_input(i: usize, stored: &[bool]) -> TokenStream {
    match i {
        0 => quote!(x),
        _ if stored[i - 1] => {
            let a = types::output(i - 1);
            quote!(&ws.#a)
        }
        _ => local_input(i),
    }
}

fn training_forward(n: &Network, t: &Ident, stored: &[bool]) -> TokenStream {
    let mut out = TokenStream::new();
    for (i, l) in n.layers.iter().enumerate() {
        let (a, ty) = (types::output(i), types::shape(t, l.output));
        let input = training_input(i, stored);
        out.extend(training_step(
            t,
            i,
            l,
            &input,
            stored[i],
            |step| quote!(let #a: #ty = #step;),
        ));
    }
    let last = n.layers.len() - 1;
    let a = types::output(last);
    match stored[last] {
        true => quote!(#out ws.#a),
        false => quote!(#out #a),
    }
}

/// Layer `i`'s forward statement in training, from `input` (a reference), `ws` in scope: its
/// output written to the workspace where it is kept (`stored`), else to the place `bind`
/// writes (`let a3: T = ..;`, say).
pub(super) fn training_step(
    t: &Ident,
    i: usize,
    l: &crate::network::Layer,
    input: &TokenStream,
    stored: bool,
    bind: impl FnOnce(TokenStream) -> TokenStream,
) -> TokenStream {
    let a = types::output(i);
    let indices = match l.kind {
        Kind::Pool(p) if p.kind() == PoolKind::Max => {
            let f = types::indices(i);
            Some(quote!(&mut ws.#f))
        }
        _ => None,
    };
    if let (Kind::Activation(act), true) = (&l.kind, stored) {
        // Written where it is kept, from its input: no copy of the input to activate in
        // place, and none of the result into the workspace.
        return steps::activation_into(t, act, input, quote!(&mut ws.#a));
    }
    if let (Kind::Pool(p), true) = (&l.kind, stored) {
        if p.kind() == PoolKind::Max {
            // Written where they are kept: no copy of the maxima or their positions.
            let (pool, f) = (types::layer_struct(l), types::indices(i));
            return quote!(__layers::#pool::forward_into(#input, &mut ws.#a, &mut ws.#f););
        }
    }
    let step = steps::forward(t, l, input, indices);
    match stored {
        true => quote!(ws.#a = #step;),
        false => bind(step),
    }
}

/// The fields of the all-zero parameters.
fn zeroed(n: &Network) -> TokenStream {
    n.layers
        .iter()
        .filter_map(|l| {
            let (w, b) = match &l.kind {
                Kind::Conv(spec) => {
                    let g = &spec.geometry;
                    let [kh, kw] = g.kernel();
                    (
                        vec![g.out_channels(), g.in_channels(), kh, kw],
                        vec![g.out_channels()],
                    )
                }
                Kind::Dense { inputs, outputs } => (vec![*outputs, *inputs], vec![*outputs]),
                _ => return None,
            };
            let (name, w, b) = (
                &l.name,
                types::nested(quote!(0.0), &w),
                types::nested(quote!(0.0), &b),
            );
            Some(quote!(#name: ::conv_runtime::network::Params { weight: #w, bias: #b },))
        })
        .collect()
}

/// Fills each parameter tensor of `net` from its own stream.
fn init(n: &Network) -> TokenStream {
    let mut out = TokenStream::new();
    let mut stream = 0u64;
    for l in &n.layers {
        let fan_in = match &l.kind {
            Kind::Conv(spec) => {
                let g = &spec.geometry;
                let [kh, kw] = g.kernel();
                g.in_channels() * kh * kw
            }
            Kind::Dense { inputs, .. } => *inputs,
            _ => continue,
        };
        let (name, fan_in) = (&l.name, crate::emit::lit(fan_in));
        let (sw, sb) = (stream, stream + 1);
        stream += 2;
        out.extend(quote! {
            ::conv_runtime::network::__private::init_uniform(
                ::conv_runtime::Tensor::flat_mut(&mut net.#name.weight), #fan_in, seed, #sw);
            ::conv_runtime::network::__private::init_uniform(
                ::conv_runtime::Tensor::flat_mut(&mut net.#name.bias), #fan_in, seed, #sb);
        });
    }
    out
}
