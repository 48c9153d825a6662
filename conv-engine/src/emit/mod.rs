//! Emission, as a pipeline: the parsed [`Spec`] is planned ([`mod@crate::plan`]), derived and
//! proven ([`crate::prove`]); each planned code form is built once as IR ([`crate::ir`]: the
//! form modules `unroll`, `window`, `layer_rows`, `rows_loop` and the companion's `rows`),
//! proven by symbolic execution and lowered (`variants`, `companion`); the public functions
//! dispatch to the variants per CPU tier (`dispatch`), and the compile-time check, the trait
//! impl and the docs follow. Only validated, proven specs reach the code writers.

mod check;
mod companion;
pub mod dense;
mod dispatch;
mod docs;
pub(crate) mod fault;
mod layer_rows;
#[cfg(test)]
mod mutants;
pub mod pool;
mod rows;
mod rows_loop;
mod shape;
pub(crate) use shape::lit;
mod unroll;
mod variants;
mod window;

use crate::derive::Derivation;
use crate::plan::{Blocks, ConstCheck, Forward, Plan, When};
use crate::{Padding, Spec, Strategy};
pub use fault::Fault;
use proc_macro2::TokenStream;
use quote::quote;
use shape::Shapes;

/// Expands `#[conv2d(attr)] item`. On any error the item is emitted unchanged next to the
/// errors, so one mistake gives one diagnostic.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let (attr, fault) = fault::take(attr);
    let (spec, target) = match crate::parse::parse(attr, item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#item #e);
        }
    };
    let options = Options {
        fault,
        ..Options::default()
    };
    match generate_with(&spec, &target, &options) {
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
    /// A wrong term or offset planted in one code form, for the tests that show the checks
    /// reject it (never set by users; see `fault`).
    #[doc(hidden)]
    pub fault: Option<Fault>,
    /// Also emit the hidden `__parameter_gradients(x, k, delta) -> (dk, db)` (`dL/dk` and
    /// `dL/db` without `dL/dx`, what a network's first layer needs) where every tier's
    /// `backward` form can be cut to it ([`has_parameter_gradients`]); off by default.
    #[doc(hidden)]
    pub parameter_gradients: bool,
}

/// Whether [`Options::parameter_gradients`] gives the layer of `spec` its
/// `__parameter_gradients`: every tier's `backward` is in a form that can be cut to `dL/dk`
/// and `dL/db` (window or layer-level).
pub fn has_parameter_gradients(spec: &Spec) -> bool {
    let plan = crate::plan::plan(spec);
    plan.tiers()
        .iter()
        .all(|(_, p)| variants::parameters_name(p).is_some())
}

impl Default for Options {
    fn default() -> Self {
        Self {
            compile_time_check: true,
            strategy: None,
            doc_images: true,
            fault: None,
            parameter_gradients: false,
        }
    }
}

/// [`generate_with`] the default [`Options`] (what the attribute emits).
pub fn generate(spec: &Spec, target: &syn::ItemStruct) -> syn::Result<TokenStream> {
    generate_with(spec, target, &Options::default())
}

/// The full expansion for a validated spec applied to `target` (a unit struct): the struct with
/// its derivation docs, the inherent `GEOMETRY`, `forward`, `backward` and their `const fn`s,
/// the `conv_runtime::Conv2d` impl, and the compile-time check.
///
/// Fails when the chain rule and the padded/rotated formulation disagree (the error is spanned
/// on the struct's name).
pub fn generate_with(
    spec: &Spec,
    target: &syn::ItemStruct,
    options: &Options,
) -> syn::Result<TokenStream> {
    let name = &target.ident;
    let plan = crate::plan::plan_with(spec, options.strategy);
    let mut d = Derivation::new(&spec.geometry);
    if options.fault == Some(Fault::Derivation) {
        d.plant_fault();
    }
    crate::prove::prove(&d).map_err(|e| {
        syn::Error::new(
            name.span(),
            format!("conv2d: the derivation disagrees with the padded/rotated formulation: {e}"),
        )
    })?;
    let shapes = Shapes::new(spec);
    let variants = variants::build(spec, &plan, &d, &shapes, name, options.fault)?;
    let docs = docs::functions(&d, &plan, options.compile_time_check);
    let mut functions = dispatch::functions(&plan, &shapes, name, &docs);
    let mut bodies = variants.items;
    if options.parameter_gradients {
        let cut = variants::parameters(spec, &plan, &d, &shapes, name)?;
        if let (Some(items), Some(dispatch)) = (cut, dispatch::parameter_gradients(&plan, &shapes))
        {
            bodies.extend(items);
            functions.hidden.extend(dispatch);
        }
    }
    let checks = match (options.compile_time_check, plan.check) {
        (true, ConstCheck::Whole) => whole_checks(spec, &plan, &shapes, name),
        _ => TokenStream::new(),
    };
    let companion = match &variants.companion {
        Some((row_spec, row_shapes, row)) => {
            let prove = options.compile_time_check && plan.check == ConstCheck::OneRow;
            let planted = options.fault == Some(Fault::Rows);
            let fused = plan.tiers().iter().any(|(_, p)| {
                let rows = matches!(p.forward, Forward::Rows | Forward::RowsOverChannels);
                rows && p.forward_fused == When::Always
            });
            let wide = plan.tiers().iter().any(|(_, p)| {
                p.forward == Forward::RowsOverChannels && p.forward_blocks == Blocks::Wide
            });
            // The forward the AVX-512 tier calls, when that tier writes it with intrinsics.
            let twin = Some(&plan.avx512)
                .filter(|p| p.vectors == crate::plan::Vectors::Avx512)
                .filter(|p| matches!(p.forward, Forward::Rows | Forward::RowsOverChannels))
                .map(|p| (p.forward_fused == When::Always, p.forward_blocks));
            let variants = (prove, fused, wide, twin);
            companion::item(row_spec, row_shapes, (row, name), variants, planted)?
        }
        None => TokenStream::new(),
    };
    let shape::Types {
        x: x_ty,
        k: k_ty,
        b: b_ty,
        u: u_ty,
        gradients,
    } = shapes.types();
    let scalar = &shapes.scalar;
    let geometry = geometry(spec);
    let mut item = target.clone();
    if item.attrs.iter().any(|a| a.path().is_ident("doc")) {
        item.attrs.push(syn::parse_quote!(#[doc = ""]));
    }
    let struct_doc = docs::layer(&d, options.doc_images);
    item.attrs.push(syn::parse_quote!(#[doc = #struct_doc]));
    let (public, hidden) = (functions.public, functions.hidden);
    Ok(quote! {
        #item

        impl #name {
            /// Sizes, stride, dilation, padding and channels of this layer.
            pub const GEOMETRY: ::conv_runtime::Geometry = #geometry;

            #public
        }

        #[doc(hidden)]
        const _: () = {
            #[allow(dead_code, clippy::too_many_lines)]
            impl #name {
                #bodies
                #hidden
            }
        };

        #[automatically_derived]
        impl ::conv_runtime::Conv2d for #name {
            type Scalar = #scalar;
            type Input = #x_ty;
            type Kernel = #k_ty;
            type Bias = #b_ty;
            type Output = #u_ty;
            const GEOMETRY: ::conv_runtime::Geometry = #name::GEOMETRY;

            #[inline]
            fn forward(x: &#x_ty, k: &#k_ty, b: &#b_ty) -> #u_ty {
                #name::forward(x, k, b)
            }

            #[inline]
            fn backward(x: &#x_ty, k: &#k_ty, delta: &#u_ty) -> #gradients {
                #name::backward(x, k, delta)
            }
        }

        #checks

        #companion
    })
}

/// The compile-time checks of the bodies the tiers run, each evaluated once: per distinct
/// `backward`, a hidden struct whose `forward` and `backward` are the first tier's pair with it,
/// evaluated by [`check::proof`]; the first also checks every other distinct `forward` against
/// its own on the same inputs.
fn whole_checks(
    spec: &Spec,
    plan: &Plan,
    shapes: &Shapes,
    name: &proc_macro2::Ident,
) -> TokenStream {
    let names = plan
        .tiers()
        .map(|(_, p)| variants::names(&variants::checked(p)));
    let mut out = TokenStream::new();
    let mut backwards = Vec::new();
    for n in &names {
        if backwards.contains(&&n.backward) {
            continue;
        }
        let same = match backwards.is_empty() {
            true => later_forwards(&names),
            false => Vec::new(),
        };
        out.extend(check::pair(
            spec,
            shapes,
            name,
            (&n.forward, &n.backward),
            &same,
        ));
        backwards.push(&n.backward);
    }
    out
}

/// The distinct `forward`s of the tiers other than the first tier's: the compile-time check
/// compares each with the first one's output on the same inputs.
fn later_forwards(names: &[variants::Names]) -> Vec<&proc_macro2::Ident> {
    let mut later = Vec::new();
    for n in names {
        if n.forward != names[0].forward && !later.contains(&&n.forward) {
            later.push(&n.forward);
        }
    }
    later
}

/// `::conv_runtime::GeometrySpec { .. }.resolve()`, unwrapped at compile time (the spec was
/// validated by the same function during expansion, so the error arm never runs).
pub(super) fn geometry(spec: &Spec) -> TokenStream {
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
