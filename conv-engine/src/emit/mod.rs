//! Emission: tokens for the forward and backward functions, the trait impl, the compile-time
//! check and the derivation docs. Only validated, proven specs reach this stage.

mod check;
mod docs;
mod rows;
mod shape;
mod unroll;
mod window;

use crate::derive::Derivation;
use crate::{ChannelLayout, Padding, Spec, Strategy};
use proc_macro2::TokenStream;
use quote::quote;
use shape::Shapes;

/// Expands `#[conv2d(attr)] item`. On any error the item is emitted unchanged next to the
/// errors, so one mistake gives one diagnostic.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let (spec, target) = match crate::parse::parse(attr, item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#item #e);
        }
    };
    match generate(&spec, &target) {
        Ok(tokens) => tokens,
        Err(e) => {
            let e = e.to_compile_error();
            quote!(#target #e)
        }
    }
}

/// What [`generate_with`] emits besides the layer itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Emit the `const` item that evaluates the layer against `conv_runtime::proof` at compile
    /// time (on by default; the attribute always emits it). Turning it off is for measuring what
    /// the check costs.
    pub compile_time_check: bool,
    /// Overrides the spec's strategy (`None`: the spec's own choice).
    pub strategy: Option<Strategy>,
    /// Inline the SVG picture of the Jacobian (base64) in the struct docs of small layers (on
    /// by default). Off, the generated source is shorter to read.
    pub doc_images: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            compile_time_check: true,
            strategy: None,
            doc_images: true,
        }
    }
}

/// [`generate_with`] the default [`Options`] (what the attribute emits).
pub fn generate(spec: &Spec, target: &syn::ItemStruct) -> syn::Result<TokenStream> {
    generate_with(spec, target, &Options::default())
}

/// The full expansion for a validated spec applied to `target` (a unit struct): the struct with
/// its derivation docs, the inherent `GEOMETRY`, `forward` and `backward`, the
/// `conv_runtime::Conv2d` impl, and the compile-time check.
///
/// Fails when the chain rule and the padded/rotated formulation disagree (the error is spanned
/// on the struct's name).
pub fn generate_with(
    spec: &Spec,
    target: &syn::ItemStruct,
    options: &Options,
) -> syn::Result<TokenStream> {
    let d = Derivation::new(&spec.geometry);
    crate::prove::prove(&d).map_err(|e| {
        syn::Error::new(
            target.ident.span(),
            format!("conv2d: the derivation disagrees with the padded/rotated formulation: {e}"),
        )
    })?;
    let shapes = Shapes::new(spec);
    let name = &target.ident;
    let forward_strategy = options.strategy.unwrap_or_else(|| spec.strategy());
    // `auto` may write `forward` differently for targets with AVX2 (`Spec::strategy_on`): then
    // both are emitted, each under its `cfg`, and the build compiles and proves one.
    let forward_avx2 = options.strategy.unwrap_or_else(|| spec.strategy_on(true));
    let backward_strategy = options.strategy.unwrap_or_else(|| spec.backward_strategy());
    let rows = [forward_strategy, forward_avx2, backward_strategy].contains(&Strategy::Rows);
    // The one-row companion layer, when either function loops over rows.
    let companion_spec = rows.then(|| {
        let row_spec = rows::row_spec(spec);
        (row_spec, Shapes::new(&row_spec), rows::companion(name))
    });
    let body = |strategy: Strategy| match (strategy, &companion_spec) {
        (Strategy::Rows, Some((_, row_shapes, row))) => {
            rows::bodies(spec, &shapes, row, row_shapes)
        }
        (Strategy::Window, _) => window::bodies(spec, &shapes),
        // `(Rows, None)` does not occur: the companion exists whenever a function uses rows.
        (Strategy::Full, _) | (Strategy::Rows, None) => unroll::bodies(&d, &shapes),
    };
    let (forward, backward) = if forward_strategy == backward_strategy {
        let both = body(forward_strategy);
        (both.forward, both.backward)
    } else {
        (
            body(forward_strategy).forward,
            body(backward_strategy).backward,
        )
    };
    let forward_avx2_body = (forward_avx2 != forward_strategy).then(|| body(forward_avx2).forward);
    // The whole layer is evaluated at compile time when that is affordable. Above that, a
    // `rows` layer's arithmetic is all in its companion (`rows::layer_level` is `Some` only
    // below), which `companion_item` proves on its own.
    let whole_check = !rows || spec.geometry.macs() <= crate::MAX_WINDOW_MACS;
    let companion = match &companion_spec {
        Some((row_spec, row_shapes, row)) => {
            let prove = options.compile_time_check && !whole_check;
            companion_item(row_spec, row_shapes, row, prove)
        }
        None => TokenStream::new(),
    };
    let t = &shapes.scalar;
    let (x_ty, k_ty, b_ty, u_ty) = (
        shapes.x.ty(t),
        shapes.k.ty(t),
        shapes.b.ty(t),
        shapes.u.ty(t),
    );
    let geometry = geometry(spec);
    let (struct_doc, forward_doc, backward_doc) = (
        docs::layer(&d, options.doc_images),
        docs::forward(&d, forward_strategy, forward_avx2, false),
        docs::backward(
            &d,
            backward_strategy,
            (backward_strategy == Strategy::Rows)
                .then(|| rows::layer_level(spec))
                .flatten(),
        ),
    );
    // Plain layers take the bias by value (`b: f32`); channel-first ones by reference.
    let (b_param, b_arg) = match spec.layout {
        ChannelLayout::Plain => (quote!(b: #b_ty), quote!(*b)),
        ChannelLayout::ChannelFirst => (quote!(b: &#b_ty), quote!(b)),
    };
    let check = if options.compile_time_check && whole_check {
        check::proof(spec, &shapes, name)
    } else {
        TokenStream::new()
    };
    let mut item = target.clone();
    if item.attrs.iter().any(|a| a.path().is_ident("doc")) {
        item.attrs.push(syn::parse_quote!(#[doc = ""]));
    }
    item.attrs.push(syn::parse_quote!(#[doc = #struct_doc]));
    let gradients = quote!(::conv_runtime::Gradients<#x_ty, #k_ty, #b_ty>);
    let forward_fn = |doc: &str, body: &TokenStream| {
        quote! {
            #[doc = #doc]
            #[inline]
            pub const fn forward(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                #body
            }
        }
    };
    let forward_fn = match &forward_avx2_body {
        None => forward_fn(&forward_doc, &forward),
        Some(avx2) => {
            let (without, with) = (
                forward_fn(&forward_doc, &forward),
                forward_fn(
                    &docs::forward(&d, forward_avx2, forward_strategy, true),
                    avx2,
                ),
            );
            quote! {
                #[cfg(not(target_feature = "avx2"))]
                #without
                #[cfg(target_feature = "avx2")]
                #with
            }
        }
    };
    Ok(quote! {
        #item

        impl #name {
            /// Sizes, stride, dilation, padding and channels of this layer.
            pub const GEOMETRY: ::conv_runtime::Geometry = #geometry;

            #forward_fn

            #[doc = #backward_doc]
            #[inline]
            pub const fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
                #backward
            }
        }

        #[automatically_derived]
        impl ::conv_runtime::Conv2d for #name {
            type Scalar = #t;
            type Input = #x_ty;
            type Kernel = #k_ty;
            type Bias = #b_ty;
            type Output = #u_ty;
            const GEOMETRY: ::conv_runtime::Geometry = #name::GEOMETRY;

            #[inline]
            fn forward(x: &#x_ty, k: &#k_ty, b: &#b_ty) -> #u_ty {
                #name::forward(x, k, #b_arg)
            }

            #[inline]
            fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
                #name::backward(x, k, delta)
            }
        }

        #check

        #companion
    })
}

/// The hidden one-row layer of a [`Strategy::Rows`] layer, with its own compile-time proof
/// when `prove`.
fn companion_item(
    row_spec: &Spec,
    row_shapes: &Shapes,
    row: &proc_macro2::Ident,
    prove: bool,
) -> TokenStream {
    let bodies = rows::row_bodies(row_spec, row_shapes);
    let items = rows::row_items(row_spec, row_shapes);
    let t = &row_shapes.scalar;
    let (x_ty, k_ty, b_ty, u_ty) = (
        row_shapes.x.ty(t),
        row_shapes.k.ty(t),
        row_shapes.b.ty(t),
        row_shapes.u.ty(t),
    );
    let b_param = match row_spec.layout {
        ChannelLayout::Plain => quote!(b: #b_ty),
        ChannelLayout::ChannelFirst => quote!(b: &#b_ty),
    };
    let geometry = geometry(row_spec);
    let (forward, backward) = (bodies.forward, bodies.backward);
    let check = if prove {
        check::proof(row_spec, row_shapes, row)
    } else {
        TokenStream::new()
    };
    quote! {
        /// The one-row layer (one output row's input window) that the `rows` strategy loops over.
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        struct #row;

        #[allow(dead_code)]
        impl #row {
            const GEOMETRY: ::conv_runtime::Geometry = #geometry;

            #[inline(always)]
            const fn forward(x: &#x_ty, k: &#k_ty, #b_param) -> #u_ty {
                #forward
            }

            #[inline(always)]
            const fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> ::conv_runtime::Gradients<#x_ty, #k_ty, #b_ty> {
                #backward
            }

            #items
        }

        #check
    }
}

/// `::conv_runtime::GeometrySpec { .. }.resolve()`, unwrapped at compile time (the spec was
/// validated by the same function during expansion, so the error arm never runs).
fn geometry(spec: &Spec) -> TokenStream {
    let s = spec.geometry.spec();
    let (input, kernel, stride, dilation) =
        (arr(s.input), arr(s.kernel), arr(s.stride), arr(s.dilation));
    let padding = match s.padding {
        Padding::Valid => quote!(::conv_runtime::Padding::Valid),
        Padding::Same => quote!(::conv_runtime::Padding::Same),
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => {
            let [top, bottom, left, right] = [top, bottom, left, right].map(shape::lit);
            quote!(::conv_runtime::Padding::Explicit { top: #top, bottom: #bottom, left: #left, right: #right })
        }
    };
    let (ci, co) = (shape::lit(s.in_channels), shape::lit(s.out_channels));
    quote! {
        match (::conv_runtime::GeometrySpec {
            input: #input, kernel: #kernel, stride: #stride, dilation: #dilation,
            padding: #padding, in_channels: #ci, out_channels: #co,
        }).resolve() {
            ::core::result::Result::Ok(g) => g,
            ::core::result::Result::Err(e) => e.panic(),
        }
    }
}

fn arr(pair: [usize; 2]) -> TokenStream {
    let [a, b] = pair.map(shape::lit);
    quote!([#a, #b])
}
