//! Array shapes of the generated functions' operands, and the tokens that follow from them:
//! types, zero values, destructuring patterns, nested literals and flat views.

use crate::{ChannelLayout, Spec};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// One operand: its binding-name prefix and its array dimensions (outermost first; empty for a
/// scalar).
pub(super) struct Operand {
    prefix: &'static str,
    dims: Vec<usize>,
}

/// The four operand shapes of a layer (`delta` and the gradients share these).
pub(super) struct Shapes {
    pub x: Operand,
    pub k: Operand,
    pub b: Operand,
    pub u: Operand,
    pub scalar: Ident,
}

/// The Rust types of a layer's operands, and of what `backward` returns.
pub(super) struct Types {
    pub x: TokenStream,
    pub k: TokenStream,
    pub b: TokenStream,
    pub u: TokenStream,
    pub gradients: TokenStream,
}

impl Shapes {
    /// The operands' types.
    pub fn types(&self) -> Types {
        let t = &self.scalar;
        let (x, k, b, u) = (self.x.ty(t), self.k.ty(t), self.b.ty(t), self.u.ty(t));
        let gradients = quote!(::conv_runtime::Gradients<#x, #k, #b>);
        Types {
            x,
            k,
            b,
            u,
            gradients,
        }
    }

    /// The bias parameter of the bodies: a plain layer's by value (`b: T`), a channel-first
    /// layer's by reference (`b: &[T; C_out]`).
    pub fn bias_param(&self) -> TokenStream {
        let b = self.b.ty(&self.scalar);
        match self.b.is_scalar() {
            true => quote!(b: #b),
            false => quote!(b: &#b),
        }
    }

    pub fn new(spec: &Spec) -> Self {
        let g = &spec.geometry;
        let ([h, w], [kh, kw], [oh, ow]) = (g.input(), g.kernel(), g.output());
        let (ci, co) = (g.in_channels(), g.out_channels());
        let (x, k, b, u) = match spec.layout {
            ChannelLayout::Plain => (vec![h, w], vec![kh, kw], vec![], vec![oh, ow]),
            ChannelLayout::ChannelFirst => (
                vec![ci, h, w],
                vec![co, ci, kh, kw],
                vec![co],
                vec![co, oh, ow],
            ),
        };
        Self {
            x: Operand {
                prefix: "x",
                dims: x,
            },
            k: Operand {
                prefix: "k",
                dims: k,
            },
            b: Operand {
                prefix: "b",
                dims: b,
            },
            u: Operand {
                prefix: "d",
                dims: u,
            },
            scalar: Ident::new(spec.scalar.name(), Span::call_site()),
        }
    }

    /// `0.0f32` / `0.0f64`.
    pub fn zero(&self) -> TokenStream {
        if self.scalar == "f32" {
            quote!(0.0f32)
        } else {
            quote!(0.0f64)
        }
    }
}

impl Operand {
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Dimensions, outermost first (none for a scalar).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    pub fn is_scalar(&self) -> bool {
        self.dims.is_empty()
    }

    /// `[[T; W]; H]`, or `T` for a scalar.
    pub fn ty(&self, scalar: &Ident) -> TokenStream {
        self.dims.iter().rev().fold(quote!(#scalar), |inner, &n| {
            let n = lit(n);
            quote!([#inner; #n])
        })
    }

    /// `[[0.0f32; W]; H]`.
    pub fn zeroed(&self, zero: &TokenStream) -> TokenStream {
        self.dims.iter().rev().fold(zero.clone(), |inner, &n| {
            let n = lit(n);
            quote!([#inner; #n])
        })
    }

    /// The binding name of flat element `flat`: `x_2_3` (indices joined by `_`), `b` for a scalar.
    pub fn name(&self, flat: usize) -> Ident {
        crate::ir::lower::element_name(self.prefix, &self.dims, flat)
    }

    /// A flat `&[T]` (or `&mut [T]`) view of a place holding this operand.
    pub fn flat(&self, place: &TokenStream, mutable: bool) -> TokenStream {
        if self.is_scalar() {
            return if mutable {
                quote!(::core::slice::from_mut(&mut #place))
            } else {
                quote!(::core::slice::from_ref(&#place))
            };
        }
        if self.dims.len() == 1 {
            // `&[T; N]` coerces to `&[T]` at the call.
            return if mutable {
                quote!(&mut #place)
            } else {
                quote!(&#place)
            };
        }
        let method = if mutable {
            quote!(as_flattened_mut)
        } else {
            quote!(as_flattened)
        };
        let mut view = place.clone();
        for _ in 1..self.dims.len() {
            view = quote!(#view.#method());
        }
        view
    }
}

/// An unsuffixed integer literal (`5`, not `5usize`), for readable generated code.
pub(crate) fn lit(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}
