//! Proof: the chain-rule gradients of [`derive`](crate::derive) equal an independent
//! formulation, compared term by term as multisets of products: for the convolution the classic
//! padded/rotated formulation (the private `padded` module, [`prove`]), for the dense layer the
//! matrix form ([`dense::prove`]). A mismatch is an error that the macro turns into a compile
//! error.

pub mod dense;
pub(crate) mod padded;

use crate::derive::{Derivation, Product, Sums};
use std::fmt;

/// Which gradient a [`Disagreement`] concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gradient {
    /// `dL/dx`.
    Dx,
    /// `dL/dk`.
    Dk,
    /// `dL/dw`, the dense layer's weights.
    Dw,
    /// `dL/db`.
    Db,
}

/// The first element where the chain rule and the independent formulation differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The independent formulation compared with: `"padded/rotated formulation"` for the
    /// convolution, `"matrix form"` for the dense layer.
    pub formulation: &'static str,
    /// The gradient.
    pub gradient: Gradient,
    /// Flat position of the element.
    pub element: usize,
    /// Products from the chain rule (sorted).
    pub chain_rule: Vec<Product>,
    /// Products from the independent formulation (sorted).
    pub padded: Vec<Product>,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.gradient {
            Gradient::Dx => "dL/dx",
            Gradient::Dk => "dL/dk",
            Gradient::Dw => "dL/dw",
            Gradient::Db => "dL/db",
        };
        write!(
            f,
            "{name} element {}: the chain rule gives {} products, the {} {} ({:?} vs {:?})",
            self.element,
            self.chain_rule.len(),
            self.formulation,
            self.padded.len(),
            self.chain_rule,
            self.padded
        )
    }
}

impl std::error::Error for Disagreement {}

/// What a successful proof checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proof {
    /// Products compared (`dL/dx`, `dL/dk` and `dL/db` together).
    pub products: usize,
}

/// Compares the derivation's gradients with the padded/rotated formulation, term by term.
pub fn prove(d: &Derivation) -> Result<Proof, Disagreement> {
    let g = d.geometry();
    let mut products = 0;
    for (gradient, ours, theirs) in [
        (Gradient::Dx, d.dx(), padded::dx(g)),
        (Gradient::Dk, d.dk(), padded::dk(g)),
        (Gradient::Db, d.db(), padded::db(g)),
    ] {
        products += compare(PADDED, gradient, ours, theirs)?;
    }
    Ok(Proof { products })
}

/// The convolution's independent formulation, as a [`Disagreement`] names it.
const PADDED: &str = "padded/rotated formulation";

/// Compares `ours` with `theirs` (built by `formulation`), element by element, as multisets.
fn compare(
    formulation: &'static str,
    gradient: Gradient,
    ours: &Sums,
    theirs: Vec<Vec<Product>>,
) -> Result<usize, Disagreement> {
    let mut products = 0;
    let len = ours.len().max(theirs.len());
    for element in 0..len {
        let mut chain_rule = ours.get(element).to_vec();
        let mut padded = theirs.get(element).cloned().unwrap_or_default();
        chain_rule.sort_unstable();
        padded.sort_unstable();
        if chain_rule != padded {
            return Err(Disagreement {
                formulation,
                gradient,
                element,
                chain_rule,
                padded,
            });
        }
        products += padded.len();
    }
    Ok(products)
}

#[cfg(test)]
mod tests;
