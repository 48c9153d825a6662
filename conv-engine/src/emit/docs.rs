//! Rustdoc of the generated items: the derivation in Markdown (tables and equations for small
//! layers, a structured summary for large ones).

use crate::derive::Derivation;
use crate::explain;

pub(super) fn layer(d: &Derivation) -> String {
    explain::markdown(d, explain::Detail::Auto)
}

pub(super) fn forward(d: &Derivation) -> String {
    explain::forward_doc(d)
}

pub(super) fn backward(d: &Derivation) -> String {
    explain::backward_doc(d)
}
