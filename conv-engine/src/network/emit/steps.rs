//! Each layer's step in the generated functions: forward (a value from the value before) and
//! backward (the gradient of the layer's input from the gradient of its output, and the
//! parameter gradients), written once for inference, training and the fused update.

use super::types;
use crate::derive::activation::Activation;
use crate::derive::pool::PoolKind;
use crate::network::shapes::{Kind, Layer};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The run-time helpers the steps call (`conv_runtime::network::__private`).
fn rt() -> TokenStream {
    quote!(::conv_runtime::network::__private)
}

/// `Tensor::flat(value)`.
fn flat(value: TokenStream) -> TokenStream {
    quote!(::conv_runtime::Tensor::flat(#value))
}

/// `Tensor::flat_mut(value)`.
fn flat_mut(value: TokenStream) -> TokenStream {
    quote!(::conv_runtime::Tensor::flat_mut(#value))
}

/// The forward step of `layer` as an expression of its input `x` (a reference): its output,
/// and for a max pool the window indices written to `indices` (a `&mut` place).
pub(super) fn forward(
    t: &Ident,
    layer: &Layer,
    x: &TokenStream,
    indices: Option<TokenStream>,
) -> TokenStream {
    let rt = rt();
    let zero = types::zero(layer.output);
    let out_ty = types::shape(t, layer.output);
    let name = &layer.name;
    match &layer.kind {
        Kind::Conv(_) | Kind::Dense { .. } => {
            let l = types::layer_struct(layer);
            quote!(__layers::#l::forward(#x, &self.#name.weight, &self.#name.bias))
        }
        Kind::Activation(a) => {
            // In place on a copy of the input (a move when the input is a local).
            let (f, alpha) = activation(t, a);
            let y = flat_mut(quote!(&mut y));
            quote!({ let mut y: #out_ty = *#x; #rt::#f(#alpha #y); y })
        }
        Kind::Pool(p) => {
            let l = types::layer_struct(layer);
            match (p.kind(), indices) {
                (PoolKind::Max, Some(indices)) => quote!({
                    let (y, at) = __layers::#l::forward(#x);
                    *#indices = at;
                    y
                }),
                (PoolKind::Max, None) => quote!(__layers::#l::forward(#x).0),
                (PoolKind::Average, _) => quote!(__layers::#l::forward(#x)),
            }
        }
        Kind::Flatten => {
            let (x, y) = (flat(x.clone()), flat_mut(quote!(&mut y)));
            quote!({ let mut y: #out_ty = #zero; #rt::copy(#x, #y); y })
        }
    }
}

/// The activation `a` applied in place to `place` (a local of the layer's input shape), as a
/// statement.
pub(super) fn activation_in_place(t: &Ident, a: &Activation, place: &TokenStream) -> TokenStream {
    let (f, alpha) = activation(t, a);
    let (rt, y) = (rt(), flat_mut(quote!(&mut #place)));
    quote!(#rt::#f(#alpha #y);)
}

/// The activation `a` of `x` (a reference) written into `y` (a `&mut` place), as a statement.
pub(super) fn activation_into(
    t: &Ident,
    a: &Activation,
    x: &TokenStream,
    y: TokenStream,
) -> TokenStream {
    activation_call(t, a, "into", x, y)
}

/// `conv_runtime`'s `{name}_{which}(alpha, read, write)` for activation `a`, as a statement.
fn activation_call(
    t: &Ident,
    a: &Activation,
    which: &str,
    read: &TokenStream,
    write: TokenStream,
) -> TokenStream {
    let rt = rt();
    let (f, alpha) = activation(t, a);
    let f = quote::format_ident!("{}_{}", f, which);
    let (read, write) = (flat(read.clone()), flat_mut(write));
    quote!(#rt::#f(#alpha #read, #write);)
}

/// How a parameter gradient is used: added to a gradient buffer, or applied at once.
pub(super) enum Update {
    /// `grads.layer.weight += dk` (into the `grads` argument; a dense layer's `backward_into`
    /// adds into it directly).
    Accumulate,
    /// `self.layer.weight -= learning_rate * dk` (a dense layer's `backward_sgd` updates its
    /// parameters as it computes their gradients).
    Sgd,
    /// As `Accumulate`, except a dense layer's `dL/dw`: its `backward_deferred` adds only
    /// `dL/db`, and the caller of the step records the layer's input and `delta`, from which
    /// the batch trainer forms `dL/dw`.
    Deferred,
}

/// The backward step of `layer` (number `i`): from `d` (a reference to the gradient of its
/// output, which the step only reads) to a new `d` (the gradient of its input, a value).
/// `input` reads the layer's input, `output` its stored output.
pub(super) fn backward(
    t: &Ident,
    i: usize,
    layer: &Layer,
    input: &TokenStream,
    output: &TokenStream,
    update: &Update,
) -> TokenStream {
    let rt = rt();
    let in_zero = types::zero(layer.input);
    let in_ty = types::shape(t, layer.input);
    let name = &layer.name;
    match &layer.kind {
        // The gradients added straight into the buffer: no `dL/dw` array built and added again.
        Kind::Dense { .. } if matches!(update, Update::Deferred) => {
            let l = types::layer_struct(layer);
            quote! {
                let d: #in_ty = __layers::#l::backward_deferred(
                    &self.#name.weight,
                    d,
                    &mut grads.#name.bias,
                );
            }
        }
        Kind::Dense { .. } if matches!(update, Update::Accumulate) => {
            let l = types::layer_struct(layer);
            quote! {
                let d: #in_ty = __layers::#l::backward_into(
                    #input,
                    &self.#name.weight,
                    d,
                    &mut grads.#name.weight,
                    &mut grads.#name.bias,
                );
            }
        }
        // The update applied as the gradients are computed: no `dL/dw` array built and
        // applied again.
        Kind::Dense { .. } => {
            let l = types::layer_struct(layer);
            quote! {
                let d: #in_ty = __layers::#l::backward_sgd(
                    #input,
                    &mut self.#name.weight,
                    &mut self.#name.bias,
                    d,
                    learning_rate,
                );
            }
        }
        Kind::Conv(_) => {
            let l = types::layer_struct(layer);
            let apply = apply(layer, update, quote!(g.dk), quote!(g.db));
            quote! {
                let g = __layers::#l::backward(#input, &self.#name.weight, d);
                #apply
                let d: #in_ty = g.dx;
            }
        }
        Kind::Activation(a) => {
            let step = activation_backward(t, a, output, quote!(&mut d));
            quote!(let mut d = *d; #step)
        }
        Kind::Pool(p) => {
            let l = types::layer_struct(layer);
            let call = match p.kind() {
                PoolKind::Max => {
                    let indices = types::indices(i);
                    quote!(__layers::#l::backward(&ws.#indices, d))
                }
                PoolKind::Average => quote!(__layers::#l::backward(d)),
            };
            quote!(let d: #in_ty = #call;)
        }
        Kind::Flatten => {
            let (d, dx) = (flat(quote!(d)), flat_mut(quote!(&mut dx)));
            quote! {
                let d: #in_ty = { let mut dx: #in_ty = #in_zero; #rt::copy(#d, #dx); dx };
            }
        }
    }
}

/// An activation's backward step on `d` in place (`d` a place of the gradient of its output,
/// which becomes the gradient of its input), from its stored `output`.
pub(super) fn activation_backward(
    t: &Ident,
    a: &Activation,
    output: &TokenStream,
    d: TokenStream,
) -> TokenStream {
    activation_call(t, a, "backward", output, d)
}

/// The parameter gradients of the first `layer` alone, from `d` (a reference to the gradient
/// of its output):
/// a convolution whose code can be cut to them calls its `__parameter_gradients` (no `dL/dx`);
/// other layers run their backward step and drop `dL/dx`.
pub(super) fn parameters(
    t: &Ident,
    layer: &Layer,
    input: &TokenStream,
    output: &TokenStream,
    update: &Update,
) -> TokenStream {
    let name = &layer.name;
    match &layer.kind {
        Kind::Conv(spec) if crate::emit::has_parameter_gradients(spec) => {
            let l = types::layer_struct(layer);
            let apply = apply(layer, update, quote!(dk), quote!(db));
            quote! {
                let (dk, db) = __layers::#l::__parameter_gradients(#input, &self.#name.weight, d);
                #apply
            }
        }
        _ => {
            let step = backward(t, 0, layer, input, output, update);
            quote! {
                #step
                let _ = d;
            }
        }
    }
}

/// The weight and bias gradients `dk` and `db` (places) added into `grads`, or applied to the
/// parameters.
fn apply(layer: &Layer, update: &Update, dk: TokenStream, db: TokenStream) -> TokenStream {
    let rt = rt();
    let name = &layer.name;
    let (target, call) = match update {
        Update::Accumulate | Update::Deferred => (quote!(grads), quote!(add_assign)),
        Update::Sgd => (quote!(self), quote!(sgd)),
    };
    let (w, b) = (
        flat_mut(quote!(&mut #target.#name.weight)),
        flat_mut(quote!(&mut #target.#name.bias)),
    );
    let (dk, db) = (flat(quote!(&#dk)), flat(quote!(&#db)));
    match update {
        Update::Accumulate | Update::Deferred => quote! {
            #rt::#call(#w, #dk);
            #rt::#call(#b, #db);
        },
        Update::Sgd => quote! {
            #rt::#call(#w, #dk, learning_rate);
            #rt::#call(#b, #db, learning_rate);
        },
    }
}

/// The helper's name and the leading `alpha,` argument of leaky ReLU.
fn activation(t: &Ident, a: &Activation) -> (Ident, TokenStream) {
    let name = Ident::new(a.name(), proc_macro2::Span::call_site());
    match a {
        Activation::LeakyRelu(alpha) => {
            let alpha = proc_macro2::Literal::f64_unsuffixed(alpha.get());
            (name, quote!(#alpha as #t,))
        }
        _ => (name, TokenStream::new()),
    }
}
