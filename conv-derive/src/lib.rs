//! The `#[conv2d]` attribute. Depend on `conv-runtime`, which re-exports it with its documentation;
//! all the work happens in `conv-engine`.

use proc_macro::TokenStream;

/// Derives, proves and emits a convolution layer. See `conv_runtime::conv2d`.
#[proc_macro_attribute]
pub fn conv2d(attr: TokenStream, item: TokenStream) -> TokenStream {
    conv_engine::emit::expand(attr.into(), item.into()).into()
}
