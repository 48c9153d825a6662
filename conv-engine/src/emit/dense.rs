//! The dense (fully connected) layer's code, the convolution's sibling at the emit stage:
//! `u[o] = b[o] + Σ_i w[o][i] * x[i]`, weights `[out][in]` as PyTorch's `nn.Linear`.
//!
//! [`item`] derives the layer ([`crate::derive::dense`]), proves the chain rule against the
//! matrix form ([`crate::prove::dense`]), builds `forward`, `backward`, `backward_into`,
//! `backward_deferred` and `backward_sgd` as loop IR (the private `program` module), and
//! `forward_chunk` and `backward_deferred_chunk` over a chunk of samples (the private `chunk`
//! module), proves each against the derivation (the chunk's against
//! [`Batch`]) by symbolic execution
//! ([`crate::ir::exec::check`]), lowers them ([`crate::ir`]'s lowering, with the weights passed
//! as `w`) and adds the compile-time check on integer inputs (the private `check` module). Any
//! failure is a `syn::Error` spanned on the layer's name.

mod chunk;
pub(crate) use chunk::SAMPLES;
mod check;
mod program;
#[cfg(test)]
mod tests;
mod tiers;

use crate::derive::dense::{Batch, Dense};
use crate::ir::{exec, lower, Program};
use crate::plan::Vectors;
use crate::tier::Tier;
use crate::Scalar;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// The hidden unit struct `name` of a dense layer with `inputs` inputs and `outputs` outputs
/// (`T` the `scalar`, `N = inputs`, `M = outputs`), with
///
/// ```text
/// #[inline] pub fn forward(x: &[T; N], w: &[[T; N]; M], b: &[T; M]) -> [T; M]
/// #[inline] pub fn backward(x: &[T; N], w: &[[T; N]; M], delta: &[T; M])
///     -> ::conv_runtime::Gradients<[T; N], [[T; N]; M], [T; M]>   // dx, dk = dL/dw, db
/// #[inline] pub fn backward_into(x: &[T; N], w: &[[T; N]; M], delta: &[T; M],
///     dw: &mut [[T; N]; M], db: &mut [T; M]) -> [T; N]            // dw += dL/dw, db += dL/db
/// #[inline] pub fn backward_deferred(w: &[[T; N]; M], delta: &[T; M], db: &mut [T; M])
///     -> [T; N]                                     // db += dL/db; dL/dw left to the caller
/// #[inline] pub fn backward_sgd(x: &[T; N], w: &mut [[T; N]; M], b: &mut [T; M],
///     delta: &[T; M], rate: T) -> [T; N]            // w -= rate * dL/dw, b -= rate * dL/db
/// #[inline] pub fn forward_chunk(x: &[[T; N]; S], w: &[[T; N]; M], b: &[T; M]) -> [[T; M]; S]
/// #[inline] pub fn backward_deferred_chunk(w: &[[T; N]; M], delta: &[[T; M]; S],
///     db: &mut [T; M]) -> [[T; N]; S]               // S samples at once (the private `chunk`)
/// ```
///
/// which run the variant of the CPU's tier (the private `tiers` module), their portable
/// `const fn`s (`forward_const` and so on), and the `const _`
/// item that checks those but the chunk functions at compile time on integer inputs against
/// the matrix form in `conv_runtime::proof` (layers of at most [`crate::MAX_WINDOW_MACS`]
/// weights). Every tier's code is proven symbolically.
///
/// # Errors
/// A size of zero, a layer of more than [`crate::MAX_DERIVED_MACS`] weights, or a derivation
/// or code that its proof rejects (which would be a bug of the engine), each spanned on `name`.
pub fn item(
    name: &Ident,
    inputs: usize,
    outputs: usize,
    scalar: Scalar,
    fault: Option<super::Fault>,
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
    let batch = Batch::new(&d, chunk::SAMPLES);
    let t = Ident::new(scalar.name(), Span::call_site());
    let mut bodies = Vec::new();
    for tier in [Tier::Portable, Tier::Avx512, Tier::Avx2] {
        let form = program::Form::of(tier);
        let programs = tiers::Function::ALL.map(|f| match f {
            tiers::Function::Forward => program::forward_in(inputs, outputs, form),
            tiers::Function::Backward => program::backward_in(inputs, outputs, form),
            tiers::Function::BackwardInto => program::backward_into_in(inputs, outputs, form),
            tiers::Function::BackwardDeferred => {
                program::backward_deferred_in(inputs, outputs, form)
            }
            tiers::Function::BackwardSgd => program::backward_sgd_in(inputs, outputs, form),
            tiers::Function::ForwardChunk => {
                chunk::forward_chunk_in(inputs, outputs, form, chunk::SAMPLES)
            }
            tiers::Function::BackwardDeferredChunk => {
                chunk::backward_deferred_chunk_in(inputs, outputs, form, chunk::SAMPLES)
            }
        });
        let mut programs = programs;
        for (program, f) in programs.iter().zip(tiers::Function::ALL) {
            let checked = match f {
                tiers::Function::ForwardChunk | tiers::Function::BackwardDeferredChunk => {
                    exec::check(program, &batch, None)
                }
                _ => exec::check(program, &d, None),
            };
            checked.map_err(|e| {
                error(format!(
                    "the `{}` code of tier {tier:?} disagrees with the derivation: {e}",
                    f.name()
                ))
            })?;
        }
        if fault == Some(super::Fault::Dense) && tier == Tier::Portable {
            // After the proof: only the compile-time evaluation can catch it.
            plant(&mut programs[0]);
        }
        // The AVX-512 tier's `f32` lane sums of 16 partial sums per output: sixteen outputs at
        // a time (`conv_runtime::lanes`).
        let lane_sums = match tier == Tier::Avx512 && scalar == crate::Scalar::F32 {
            true => crate::plan::LaneSums::Avx512Rows,
            false => crate::plan::LaneSums::EachColumn,
        };
        // The tier functions are not `const` (the check evaluates the `_const` twins).
        let vectors = match tier {
            Tier::Avx512 => Vectors::Avx512,
            _ => Vectors::Scalar,
        };
        bodies.push(tiers::Bodies {
            tier,
            bodies: programs.map(|p| lower(&p, &t, (lane_sums, vectors))),
        });
    }
    let portable = bodies.remove(0);
    let (n, m, samples) = (
        Literal::usize_unsuffixed(inputs),
        Literal::usize_unsuffixed(outputs),
        Literal::usize_unsuffixed(chunk::SAMPLES),
    );
    let types = tiers::Types {
        t: quote!(#t),
        x: quote!([#t; #n]),
        w: quote!([[#t; #n]; #m]),
        u: quote!([#t; #m]),
        gradients: quote!(::conv_runtime::Gradients<[#t; #n], [[#t; #n]; #m], [#t; #m]>),
        xs: quote!([[#t; #n]; #samples]),
        us: quote!([[#t; #m]; #samples]),
    };
    // Whether the AVX-512 `forward` adds its lane sums with `conv_runtime::lanes` (the lowering
    // writes the call where the program's statement has its shape).
    let avx512_sums = bodies.iter().any(|b| {
        b.tier == Tier::Avx512 && b.bodies[0].to_string().contains("pairwise_rows_avx512")
    });
    let docs = Docs::new(inputs, outputs, check::evaluated(&geometry), avx512_sums);
    let struct_doc = docs.layer.clone();
    let functions = tiers::functions(&types, &portable, &bodies, &docs);
    let check = check::item(name, &geometry, scalar);
    Ok(quote! {
        #[doc = #struct_doc]
        #[doc(hidden)]
        pub struct #name;

        impl #name {
            #functions
        }

        #check
    })
}

/// The body of `program`, its weights passed as `w`.
fn lower(
    program: &Program,
    scalar: &Ident,
    (lane_sums, vectors): (crate::plan::LaneSums, Vectors),
) -> TokenStream {
    let how = lower::Lowering {
        scalar,
        calls: None,
        names: lower::Names::DENSE,
        lane_sums,
        vectors,
    };
    lower::body(program, &how)
}

/// The rustdoc of the struct and its functions: what the code computes, in which order, and
/// which checks ran.
struct Docs {
    layer: String,
    /// Per function of [`tiers::Function::ALL`]: the dispatching function's doc and its
    /// `const fn`'s.
    functions: [(String, String); tiers::Function::ALL.len()],
}

/// The summation order of `forward` written as `form` over `n` inputs.
fn order(n: usize, form: program::Form) -> String {
    let lanes = form.lanes_for(n);
    let added = "added pairwise";
    match n / lanes {
        0 => "every product written out in order of `i`, after the bias".to_string(),
        _ => format!(
            "{lanes} partial sums (`s[l]` sums inputs `i ≡ l mod {lanes}` below {}), {added}, \
             after the bias; then the {} remaining product(s) in order of `i`",
            n / lanes * lanes,
            n % lanes
        ),
    }
}

impl Docs {
    fn new(n: usize, m: usize, evaluated: bool, avx512_sums: bool) -> Self {
        let evaluation = match evaluated {
            true => {
                "It is evaluated at compile time on integer inputs (`forward_const`, \
                `backward_const`, `backward_into_const` into buffers holding other integers, what \
                it added taken as its gradients, `backward_deferred_const` likewise for `dx` and \
                `db`, and `backward_sgd_const` at rate -1, which adds the gradients to the \
                parameters) and compared exactly with the matrix form."
            }
            false => "It is too large to evaluate at compile time: no check on values ran.",
        };
        let checked = format!(
            "The code of every tier was proven during expansion, by symbolic execution, to sum \
             exactly the derivation's products (whose chain rule was compared term by term with \
             the matrix form). {evaluation}"
        );
        // Every function's AVX-512 variant (`lower`).
        let intrinsics = " The AVX-512 variant of each of the layer's functions writes its loops \
                          over whole 512-bit vectors, and runs of statements that fill one \
                          (`forward`'s partial sums), with AVX-512 intrinsics (`core::arch`): \
                          the proven program, each lane given the scalar code's operations in \
                          its order.";
        let [portable, avx2, mut avx512] = Tier::ALL.map(|t| order(n, program::Form::of(t)));
        if avx512_sums {
            avx512 += " (the pairwise sums of sixteen outputs at a time, with AVX-512 shuffles: \
                       `conv_runtime::lanes::pairwise_rows_avx512`, the same additions in the \
                       same order as the proven program's, checked bit for bit by its tests)";
        }
        let tiers = format!(
            "It runs the variant of the tier the CPU has (`conv_runtime::cpu::tier`): on x86-64 \
             with AVX2 and FMA, {avx2}; with AVX-512, {avx512}; on both, each product fused \
             into its running sum (`conv_runtime::mul_add::fused`), so the last bits can differ \
             between tiers. Elsewhere it is `forward_const`.{intrinsics}"
        );
        let backward = "The gradients from `delta = dL/du`: `dx = Wᵀ delta` (`dx[i] = Σ_o \
                        delta[o] * w[o][i]`, summed over `o` ascending, one row of `w` per \
                        output), `dk = dL/dw = delta xᵀ` (`delta[o] * x[i]`), `db = delta`";
        let deferred = format!(
            "`backward_into` without `dL/dw`: `dx` returned as `backward`'s and `db += delta`; \
             the caller forms `dL/dw = delta xᵀ` from the same `delta` and `x` (the network's \
             batch trainer does, once for a batch's samples). It runs the variant of the tier \
             the CPU has; on AVX2 and AVX-512 each term of `dx` is fused into its running \
             sum.\n\n{checked}"
        );
        let deferred_const = format!("`backward_deferred` as portable `const fn`.\n\n{checked}");
        let layer = format!(
            "Dense layer, {n} inputs -> {m} outputs: `u[o] = b[o] + Σ_i w[o][i] * x[i]`, \
                 weights `[out][in]`. {checked}"
        );
        let forward = format!(
            "`u[o] = b[o] + Σ_i w[o][i] * x[i]` for each of the {m} outputs. {tiers}\n\n\
                 {checked}"
        );
        let forward_const = format!(
            "`forward` as portable `const fn`: {portable}, each a product and a sum.\n\n\
                 {checked}"
        );
        let backward_doc = format!(
            "{backward}. It runs the variant of the tier the CPU has; on AVX2 and AVX-512 \
                 each term of `dx` is fused into its running sum.\n\n{checked}"
        );
        let backward_const = format!("`backward` as portable `const fn`. {backward}.\n\n{checked}");
        let backward_into = format!(
            "`backward`, its weight and bias gradients added into `dw` and `db` (`dw[o][i] \
                 += delta[o] * x[i]`, a product then a sum, and `db[o] += delta[o]`), `dx` \
                 returned. It runs the variant of the tier the CPU has; on AVX2 and AVX-512 each \
                 term of `dx` is fused into its running sum.\n\n{checked}"
        );
        let backward_into_const = format!(
            "`backward_into` as portable `const fn`: `dx` as `backward_const`'s, `dw += \
                 delta xᵀ`, `db += delta`.\n\n{checked}"
        );
        let backward_sgd = format!(
            "`backward` and one step of gradient descent at once, for the fused training \
                 step: `dx` returned as `backward`'s (each row of `w` read before it is \
                 updated), and `w` and `b` updated in place with the gradients as they are \
                 computed, `w[o][i] -= rate * (delta[o] * x[i])` and `b[o] -= rate * delta[o]` \
                 (the same operations as `backward_into` into zeroed buffers followed by `p -= \
                 rate * g`), with no `dL/dw` array. It runs the variant of the tier the CPU has; \
                 on AVX2 and AVX-512 each term of `dx` is fused into its running sum.\n\n\
                 {checked}"
        );
        let backward_sgd_const = format!("`backward_sgd` as portable `const fn`.\n\n{checked}");
        let s = chunk::SAMPLES;
        let chunk_checked = format!(
            "The code of every tier was proven during expansion, by symbolic execution, to sum \
             exactly the products of the layer's derivation over {s} samples (each sample's \
             the derivation's above, the bias gradient the samples' sum in sample order). It is \
             not evaluated at compile time."
        );
        let forward_chunk = format!(
            "`forward` of each of the {s} samples of a chunk (`u[q]` from `x[q]`), every row of \
             `w` loaded once for all of them: per sample the operations of `forward` on the \
             same tier, in the same order (the network's batch trainer runs its chunks' samples \
             through it). It runs the variant of the tier the CPU has.\n\n{chunk_checked}"
        );
        let forward_chunk_const =
            format!("`forward_chunk` as portable `const fn`.\n\n{chunk_checked}");
        let deferred_chunk = format!(
            "`backward_deferred` of each of the {s} samples of a chunk (`dx[q]` from \
             `delta[q]`, and `db += delta[q]` for `q` ascending), every row of `w` loaded once \
             for all of them: per sample the operations of `backward_deferred` on the same \
             tier, in the same order. It runs the variant of the tier the CPU has.\n\n\
             {chunk_checked}"
        );
        let deferred_chunk_const =
            format!("`backward_deferred_chunk` as portable `const fn`.\n\n{chunk_checked}");
        Self {
            layer,
            functions: [
                (forward, forward_const),
                (backward_doc, backward_const),
                (backward_into, backward_into_const),
                (deferred, deferred_const),
                (backward_sgd, backward_sgd_const),
                (forward_chunk, forward_chunk_const),
                (deferred_chunk, deferred_chunk_const),
            ],
        }
    }

    /// The docs of function `f` and of its `const fn`.
    fn of(&self, f: tiers::Function) -> (&str, &str) {
        let n = tiers::Function::ALL
            .iter()
            .position(|&g| g == f)
            .unwrap_or(0);
        let (doc, const_doc) = &self.functions[n];
        (doc, const_doc)
    }
}

/// The planted fault [`super::Fault::Dense`], after the proof: the first sum that starts from
/// the bias (`u[o] = b[o] + ...`, in `forward`) adds `x[0] * w[o][0]` once more.
fn plant(forward: &mut Program) {
    use crate::ir::{Array, Index, Place, Term};
    let mut planted = false;
    crate::ir::for_each_expr_mut(&mut forward.body, &mut |e| match e.terms.first() {
        Some(Term::Read(b)) if !planted && b.array == Array::B => {
            let o = b.index[0].clone();
            let at = |array, index| Place { array, index };
            e.terms.push(Term::Product(
                at(Array::X, vec![Index::at(0)]),
                at(Array::K, vec![o, Index::at(0)]),
            ));
            planted = true;
        }
        _ => {}
    });
}
