//! `impl conv_runtime::network::Network` for the network: the trait's items forward to the
//! inherent functions, and the parameter visitors list every weight and bias.

use super::types;
use crate::network::memory::Memory;
use crate::network::shapes::Network;
use proc_macro2::TokenStream;
use quote::quote;

/// `impl conv_runtime::network::Network`.
pub(super) fn trait_impl(n: &Network, m: &Memory) -> TokenStream {
    let t = types::scalar(n);
    let name = &n.item.ident;
    let workspace = types::workspace(n);
    let input_ty = types::shape(&t, n.input);
    let classes = crate::emit::lit(n.output().len());
    let architecture = super::docs::architecture(n);
    let gradients = types::gradients_signature(n);
    let recorded = types::recorded_signature(n);
    let params: Vec<TokenStream> = n
        .layers
        .iter()
        .filter(|l| l.has_parameters())
        .flat_map(|l| {
            let name = &l.name;
            [quote!(#name.weight), quote!(#name.bias)]
        })
        .collect();
    let memory = {
        let f = |v: usize| crate::emit::lit(v);
        let (a, b, c, d, e, g, h, i) = (
            f(m.parameter_bytes),
            f(m.inference_bytes),
            f(m.workspace_bytes),
            f(m.backward_bytes),
            f(m.batch_training_bytes),
            f(m.fused_training_bytes),
            f(m.inference_macs),
            f(m.training_macs),
        );
        quote!(::conv_runtime::network::Memory {
            parameter_bytes: #a, inference_bytes: #b, workspace_bytes: #c, backward_bytes: #d,
            batch_training_bytes: #e, fused_training_bytes: #g, inference_macs: #h,
            training_macs: #i,
        })
    };
    let record = types::record(n);
    let deferred = types::deferred(n).0.into_iter().map(|r| {
        let f = |v: usize| crate::emit::lit(v);
        let (tensor, inputs, outputs, at) = (f(r.tensor), f(r.inputs), f(r.outputs), f(r.at));
        quote!(::conv_runtime::network::Deferred {
            tensor: #tensor, inputs: #inputs, outputs: #outputs, at: #at,
        })
    });
    // Where the network has a chunk method of its own (dense layers after the first layer).
    let chunk = super::chunk::has_method(n).then(|| {
        let chunk = quote!(::conv_runtime::network::CHUNK);
        quote! {
            fn loss_and_recorded_gradients_chunk(
                &self,
                xs: [&#input_ty; #chunk],
                labels: [usize; #chunk],
                wss: &mut [#workspace; #chunk],
                grads: &mut Self,
                records: &mut [#record; #chunk],
            ) -> ::core::result::Result<[#t; #chunk], (usize, ::conv_runtime::network::SampleError)> {
                #name::__loss_and_recorded_gradients_chunk(self, xs, labels, wss, grads, records)
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl ::conv_runtime::network::Network for #name {
            type Scalar = #t;
            type Input = #input_ty;
            type Logits = [#t; #classes];
            type Workspace = #workspace;
            type Record = #record;
            const CLASSES: usize = #classes;
            const ARCHITECTURE: &'static str = #architecture;
            const MEMORY: ::conv_runtime::network::Memory = #memory;
            const DEFERRED: &'static [::conv_runtime::network::Deferred] = &[#(#deferred),*];

            fn init(seed: u64) -> Self {
                #name::init(seed)
            }
            fn zeroed() -> Self {
                #name::zeroed()
            }
            fn workspace() -> #workspace {
                #workspace::new()
            }
            fn dinput(ws: &#workspace) -> &#input_ty {
                &ws.dinput
            }
            fn forward(&self, x: &#input_ty) -> [#t; #classes] {
                #name::forward(self, x)
            }
            fn loss_and_gradients #gradients {
                #name::loss_and_gradients(self, x, label, ws, grads)
            }
            fn loss_and_parameter_gradients #gradients {
                #name::loss_and_parameter_gradients(self, x, label, ws, grads)
            }
            fn loss_and_recorded_gradients #recorded {
                #name::__loss_and_recorded_gradients(self, x, label, ws, grads, record)
            }
            #chunk
            fn train_step(
                &mut self,
                x: &#input_ty,
                label: usize,
                learning_rate: #t,
                ws: &mut #workspace,
            ) -> ::core::result::Result<#t, ::conv_runtime::network::SampleError> {
                #name::train_step(self, x, label, learning_rate, ws)
            }
            fn for_each_parameter<'a>(&'a self, f: &mut dyn FnMut(&'a [#t])) {
                #( f(::conv_runtime::Tensor::flat(&self.#params)); )*
            }
            fn for_each_parameter_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [#t])) {
                #( f(::conv_runtime::Tensor::flat_mut(&mut self.#params)); )*
            }
            fn zip_parameters(&mut self, other: &Self, f: &mut dyn FnMut(&mut [#t], &[#t])) {
                #( f(
                    ::conv_runtime::Tensor::flat_mut(&mut self.#params),
                    ::conv_runtime::Tensor::flat(&other.#params),
                ); )*
            }
        }
    }
}
