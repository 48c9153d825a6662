//! The dense (fully connected) layer's code, the convolution's sibling at the emit stage:
//! `u[o] = b[o] + Σ_i w[o][i] * x[i]`, weights `[out][in]` as PyTorch's `nn.Linear`.
//!
//! [`item`] derives the layer ([`crate::derive::dense`]), proves the chain rule against the
//! matrix form ([`crate::prove::dense`]), builds `forward` and `backward` as loop IR (the private
//! `program` module), proves each against the derivation by symbolic execution
//! ([`crate::ir::exec::check`]), lowers them ([`crate::ir`]'s lowering, with the weights passed
//! as `w`) and adds the compile-time check on integer inputs (the private `check` module). Any
//! failure is a `syn::Error` spanned on the layer's name.

mod check;
mod program;
#[cfg(test)]
mod tests;

use crate::derive::dense::Dense;
use crate::ir::{exec, lower, Program};
use crate::Scalar;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

pub(crate) use program::LANES;

/// The hidden unit struct `name` of a dense layer with `inputs` inputs and `outputs` outputs
/// (`T` the `scalar`, `N = inputs`, `M = outputs`), with
///
/// ```text
/// #[inline] pub const fn forward(x: &[T; N], w: &[[T; N]; M], b: &[T; M]) -> [T; M]
/// #[inline] pub const fn backward(x: &[T; N], w: &[[T; N]; M], delta: &[T; M])
///     -> ::conv_runtime::Gradients<[T; N], [[T; N]; M], [T; M]>   // dx, dk = dL/dw, db
/// ```
///
/// and the `const _` item that checks both at compile time on integer inputs against the matrix
/// form in `conv_runtime::proof` (layers of at most [`crate::MAX_WINDOW_MACS`] weights).
///
/// # Errors
/// A size of zero, a layer of more than [`crate::MAX_DERIVED_MACS`] weights, or a derivation
/// or code that its proof rejects (which would be a bug of the engine), each spanned on `name`.
pub fn item(
    name: &Ident,
    inputs: usize,
    outputs: usize,
    scalar: Scalar,
) -> syn::Result<TokenStream> {
    let error = |why: String| syn::Error::new(name.span(), format!("dense: {why}"));
    if inputs == 0 || outputs == 0 {
        return Err(error(format!(
            "a layer of {inputs} inputs and {outputs} outputs; expected at least 1 of each"
        )));
    }
    let geometry = check::geometry(inputs, outputs)
        .filter(|g| g.macs() <= crate::MAX_DERIVED_MACS)
        .ok_or_else(|| {
            error(format!(
                "{inputs} inputs x {outputs} outputs is more than {} weights",
                crate::MAX_DERIVED_MACS
            ))
        })?;
    let d = Dense::new(inputs, outputs);
    crate::prove::dense::prove(&d).map_err(|e| {
        error(format!(
            "the derivation disagrees with the matrix form: {e}"
        ))
    })?;
    let (forward, backward) = (
        program::forward(inputs, outputs),
        program::backward(inputs, outputs),
    );
    for (program, what) in [(&forward, "forward"), (&backward, "backward")] {
        exec::check(program, &d, None).map_err(|e| {
            error(format!(
                "the `{what}` code disagrees with the derivation: {e}"
            ))
        })?;
    }
    let t = Ident::new(scalar.name(), Span::call_site());
    let (f, b) = (lower(&forward, &t), lower(&backward, &t));
    let (n, m) = (
        Literal::usize_unsuffixed(inputs),
        Literal::usize_unsuffixed(outputs),
    );
    let docs = Docs::new(inputs, outputs, check::evaluated(&geometry));
    let (struct_doc, forward_doc, backward_doc) = (docs.layer, docs.forward, docs.backward);
    let check = check::item(name, &geometry, scalar);
    Ok(quote! {
        #[doc = #struct_doc]
        #[doc(hidden)]
        pub struct #name;

        impl #name {
            #[doc = #forward_doc]
            #[inline]
            pub const fn forward(x: &[#t; #n], w: &[[#t; #n]; #m], b: &[#t; #m]) -> [#t; #m] {
                #f
            }

            #[doc = #backward_doc]
            #[inline]
            pub const fn backward(
                x: &[#t; #n],
                w: &[[#t; #n]; #m],
                delta: &[#t; #m],
            ) -> ::conv_runtime::Gradients<[#t; #n], [[#t; #n]; #m], [#t; #m]> {
                #b
            }
        }

        #check
    })
}

/// The body of `program`, its weights passed as `w`.
fn lower(program: &Program, scalar: &Ident) -> TokenStream {
    let how = lower::Lowering {
        scalar,
        calls: None,
        names: lower::Names::DENSE,
    };
    lower::body(program, &how)
}

/// The rustdoc of the struct and its functions: what the code computes, in which order, and
/// which checks ran.
struct Docs {
    layer: String,
    forward: String,
    backward: String,
}

impl Docs {
    fn new(n: usize, m: usize, evaluated: bool) -> Self {
        let order = match n / LANES {
            0 => "every product written out in order of `i`, after the bias".to_string(),
            _ => format!(
                "{LANES} partial sums (`s[l]` sums inputs `i ≡ l mod {LANES}` below {}), added \
                 pairwise, after the bias; then the {} remaining product(s) in order of `i`",
                n / LANES * LANES,
                n % LANES
            ),
        };
        let evaluation = match evaluated {
            true => {
                "It is evaluated at compile time on integer inputs and compared exactly with \
                the matrix form."
            }
            false => "It is too large to evaluate at compile time: no check on values ran.",
        };
        let checked = format!(
            "The code was proven during expansion, by symbolic execution, to sum exactly the \
             derivation's products (whose chain rule was compared term by term with the matrix \
             form). {evaluation}"
        );
        Self {
            layer: format!(
                "Dense layer, {n} inputs -> {m} outputs: `u[o] = b[o] + Σ_i w[o][i] * x[i]`, \
                 weights `[out][in]`. {checked}"
            ),
            forward: format!(
                "`u[o] = b[o] + Σ_i w[o][i] * x[i]` for each of the {m} outputs: {order}.\n\n\
                 {checked}"
            ),
            backward: format!(
                "The gradients from `delta = dL/du`: `dx = Wᵀ delta` (`dx[i] = Σ_o delta[o] * \
                 w[o][i]`, summed over `o` ascending, one row of `w` per output), `dk = dL/dw = \
                 delta xᵀ` (`delta[o] * x[i]`), `db = delta`.\n\n{checked}"
            ),
        }
    }
}
