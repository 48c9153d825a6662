//! Placeholder dense layer code (replaced by the IR-built, proven form).

use proc_macro2::TokenStream;
use quote::quote;

/// A hidden unit struct `name` with `forward` and `backward` of a dense layer.
pub fn item(
    name: &syn::Ident,
    inputs: usize,
    outputs: usize,
    scalar: crate::Scalar,
) -> syn::Result<TokenStream> {
    let t = proc_macro2::Ident::new(scalar.name(), proc_macro2::Span::call_site());
    let (n, m) = (super::lit(inputs), super::lit(outputs));
    Ok(quote! {
        #[doc(hidden)]
        pub struct #name;
        impl #name {
            #[inline]
            pub fn forward(x: &[#t; #n], w: &[[#t; #n]; #m], b: &[#t; #m]) -> [#t; #m] {
                let mut u = *b;
                for o in 0..#m {
                    let mut s = 0.0;
                    for i in 0..#n { s += w[o][i] * x[i]; }
                    u[o] += s;
                }
                u
            }
            #[inline]
            pub fn backward(x: &[#t; #n], w: &[[#t; #n]; #m], delta: &[#t; #m])
                -> ::conv_runtime::Gradients<[#t; #n], [[#t; #n]; #m], [#t; #m]> {
                let mut dx = [0.0; #n];
                let mut dk = [[0.0; #n]; #m];
                for o in 0..#m {
                    for i in 0..#n {
                        dx[i] += delta[o] * w[o][i];
                        dk[o][i] = delta[o] * x[i];
                    }
                }
                ::conv_runtime::Gradients { dx, dk, db: *delta }
            }
        }
    })
}
