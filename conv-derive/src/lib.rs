//! The `#[conv2d]` attribute: see [`conv2d`] for its syntax, the code it emits and its errors.
//! Depend on `conv-runtime`, which re-exports it together with the trait, proof helpers and
//! checks the generated code refers to; all the work happens in `conv-engine`.

use proc_macro::TokenStream;

#[doc = include_str!("conv2d.md")]
#[proc_macro_attribute]
pub fn conv2d(attr: TokenStream, item: TokenStream) -> TokenStream {
    conv_engine::emit::expand(attr.into(), item.into()).into()
}
