//! The `#[conv2d]` attribute. Depend on `conv-runtime`, which re-exports it with its full
//! documentation (syntax, code forms, errors and examples) together with the trait, proof helpers
//! and checks the generated code refers to; all the work happens in `conv-engine`.

use proc_macro::TokenStream;

/// Implemented in `conv-derive`, a shim over `conv_engine::emit::expand`; use it through
/// `conv-runtime`, which re-exports it with the trait, proof helpers and checks the generated
/// code refers to.
#[proc_macro_attribute]
pub fn conv2d(attr: TokenStream, item: TokenStream) -> TokenStream {
    conv_engine::emit::expand(attr.into(), item.into()).into()
}

/// Implemented in `conv-derive`, a shim over `conv_engine::network::expand`; use it through
/// `conv-runtime`, which re-exports it with its documentation.
#[proc_macro_attribute]
pub fn network(attr: TokenStream, item: TokenStream) -> TokenStream {
    conv_engine::network::expand(attr.into(), item.into()).into()
}
