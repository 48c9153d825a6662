//! Types, names and zero values of the tokens the network's code is written with.

use crate::network::shapes::{Kind, Layer, Network, Shape};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// The scalar's type name (`f32`).
pub(super) fn scalar(network: &Network) -> Ident {
    Ident::new(network.scalar.name(), Span::call_site())
}

/// `[[[T; W]; H]; C]` or `[T; N]`.
pub(super) fn shape(t: &Ident, shape: Shape) -> TokenStream {
    nested(quote!(#t), &shape.dims())
}

/// `value` nested in arrays of `dims` (outermost first): the type when `value` is a type, the
/// zero when it is `0.0`.
pub(super) fn nested(value: TokenStream, dims: &[usize]) -> TokenStream {
    dims.iter().rev().fold(value, |inner, &n| {
        let n = crate::emit::lit(n);
        quote!([#inner; #n])
    })
}

/// The parameters and result of the functions that give the loss and add gradients into
/// `grads` (`loss_and_gradients`, `loss_and_parameter_gradients`), inherent and in the trait.
pub(super) fn gradients_signature(network: &Network) -> TokenStream {
    signature(network, TokenStream::new())
}

/// [`gradients_signature`] with the sample's record last (`loss_and_recorded_gradients`).
pub(super) fn recorded_signature(network: &Network) -> TokenStream {
    let record = record(network);
    signature(network, quote!(record: &mut #record,))
}

fn signature(network: &Network, extra: TokenStream) -> TokenStream {
    let t = scalar(network);
    let input_ty = shape(&t, network.input);
    let workspace = workspace(network);
    quote! {
        (
            &self,
            x: &#input_ty,
            label: usize,
            ws: &mut #workspace,
            grads: &mut Self,
            #extra
        ) -> ::core::result::Result<#t, ::conv_runtime::network::SampleError>
    }
}

/// The zero of `shape` (its element type inferred from where it goes).
pub(super) fn zero(shape: Shape) -> TokenStream {
    nested(quote!(0.0), &shape.dims())
}

/// The layer's weight and bias types.
pub(super) fn parameters(t: &Ident, layer: &Layer) -> Option<(TokenStream, TokenStream)> {
    match &layer.kind {
        Kind::Conv(spec) => {
            let g = &spec.geometry;
            let [kh, kw] = g.kernel();
            let w = nested(quote!(#t), &[g.out_channels(), g.in_channels(), kh, kw]);
            let b = nested(quote!(#t), &[g.out_channels()]);
            Some((w, b))
        }
        Kind::Dense { inputs, outputs } => Some((
            nested(quote!(#t), &[*outputs, *inputs]),
            nested(quote!(#t), &[*outputs]),
        )),
        _ => None,
    }
}

/// The hidden unit struct that holds a layer's own code (`__c1`).
pub(super) fn layer_struct(layer: &Layer) -> Ident {
    format_ident!("__{}", layer.name)
}

/// The workspace field holding the output of layer `i` (`a3`).
pub(super) fn output(i: usize) -> Ident {
    format_ident!("a{}", i + 1)
}

/// Where layer `i`'s input is kept for its backward step: `x`, or the previous layer's
/// workspace field.
pub(super) fn stored_input(i: usize) -> TokenStream {
    match i {
        0 => quote!(x),
        _ => {
            let a = output(i - 1);
            quote!(&ws.#a)
        }
    }
}

/// The workspace field holding the window indices of max-pool layer `i` (`i3`).
pub(super) fn indices(i: usize) -> Ident {
    format_ident!("i{}", i + 1)
}

/// The workspace type's name (`LeNet5Workspace`).
pub(super) fn workspace(network: &Network) -> Ident {
    format_ident!("{}Workspace", network.item.ident)
}

/// A dense layer whose `dL/dw` the recorded training function leaves to its caller, which
/// forms it from the layer's input and `delta` written to the sample's record.
pub(super) struct Deferred {
    /// The layer's position.
    pub layer: usize,
    /// Its weight tensor's position among the parameter tensors (weight, bias, per layer).
    pub tensor: usize,
    pub inputs: usize,
    pub outputs: usize,
    /// Where its input starts in the record; `delta` follows the input.
    pub at: usize,
}

/// The dense layers, in order, and the record's length (their inputs and outputs).
pub(super) fn deferred(network: &Network) -> (Vec<Deferred>, usize) {
    let (mut out, mut at, mut tensor) = (Vec::new(), 0, 0);
    for (layer, l) in network.layers.iter().enumerate() {
        if let Kind::Dense { inputs, outputs } = l.kind {
            out.push(Deferred {
                layer,
                tensor,
                inputs,
                outputs,
                at,
            });
            at += inputs + outputs;
        }
        if l.has_parameters() {
            tensor += 2;
        }
    }
    (out, at)
}

/// The record's type, `[T; R]`.
pub(super) fn record(network: &Network) -> TokenStream {
    let t = scalar(network);
    nested(quote!(#t), &[deferred(network).1])
}
