//! The dense layer's proof: the chain rule of [`Dense`] (the transpose of the forward sums)
//! equals the matrix form, built directly from the index formulas and independently of it,
//! compared term by term:
//!
//! - `dL/dx = Wᵀ δ`: `dL/dx[i]` is column `i` of `W` times `δ`, `Σ_o δ[o] * w[o][i]`;
//! - `dL/dW = δ xᵀ`: `dL/dw[o][i] = δ[o] * x[i]`;
//! - `dL/db = δ`: `dL/db[o] = δ[o]`.

use super::{compare, Disagreement, Gradient, Proof};
use crate::derive::dense::Dense;
use crate::derive::Product;

/// The dense layer's independent formulation, as a [`Disagreement`] names it.
const MATRIX: &str = "matrix form";

/// Compares the derivation's gradients with the matrix form, term by term.
pub fn prove(d: &Dense) -> Result<Proof, Disagreement> {
    let mut products = 0;
    for (gradient, ours, theirs) in [
        (Gradient::Dx, d.dx(), dx(d.inputs(), d.outputs())),
        (Gradient::Dw, d.dw(), dw(d.inputs(), d.outputs())),
        (Gradient::Db, d.db(), db(d.outputs())),
    ] {
        products += compare(MATRIX, gradient, ours, theirs)?;
    }
    Ok(Proof { products })
}

/// `Wᵀ δ`: row `i` of `Wᵀ` is column `i` of `W`, `(w[0][i], .., w[M-1][i])`, at flat
/// positions `o * N + i`.
pub(crate) fn dx(n: usize, m: usize) -> Vec<Vec<Product>> {
    (0..n)
        .map(|i| {
            (0..m)
                .map(|o| Product(o as u32, (o * n + i) as u32))
                .collect()
        })
        .collect()
}

/// `δ xᵀ`: entry `(o, i)` is `δ[o] * x[i]`, row-major.
pub(crate) fn dw(n: usize, m: usize) -> Vec<Vec<Product>> {
    (0..m)
        .flat_map(|o| (0..n).map(move |i| vec![Product(o as u32, i as u32)]))
        .collect()
}

/// `δ`.
pub(crate) fn db(m: usize) -> Vec<Vec<Product>> {
    (0..m).map(|o| vec![Product(o as u32, o as u32)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::Sums;

    #[test]
    fn the_chain_rule_equals_the_matrix_form() {
        for (n, m) in [(1, 1), (3, 2), (1, 7), (9, 1), (17, 5), (400, 120)] {
            let proof = prove(&Dense::new(n, m)).unwrap_or_else(|e| panic!("{n} -> {m}: {e}"));
            // dL/dx and dL/dw each hold every forward product once; dL/db every delta once.
            assert_eq!(proof.products, 2 * n * m + m);
        }
    }

    #[test]
    fn a_planted_fault_in_the_derivation_is_rejected() {
        let mut d = Dense::new(3, 2);
        d.plant_fault();
        let err = prove(&d).unwrap_err();
        assert_eq!((err.gradient, err.element), (Gradient::Dx, 0));
        assert_eq!(err.chain_rule, vec![Product(0, 0)]);
        assert_eq!(err.padded, vec![Product(0, 0), Product(1, 3)]);
        assert_eq!(
            err.to_string(),
            "dL/dx element 0: the chain rule gives 1 products, the matrix form 2 \
             ([Product(0, 0)] vs [Product(0, 0), Product(1, 3)])"
        );
    }

    #[test]
    fn a_wrong_weight_or_input_is_rejected() {
        let d = Dense::new(3, 2);
        // dL/dx[1] reading w[1][2] instead of w[1][1].
        let mut lists: Vec<Vec<Product>> = d.dx().iter().map(<[Product]>::to_vec).collect();
        lists[1][1].1 = 5;
        let err = compare(MATRIX, Gradient::Dx, &Sums::from_lists(lists), dx(3, 2));
        assert_eq!(err.map_err(|e| e.element), Err(1));
        // dL/dw[1][0] reading x[1].
        let mut lists: Vec<Vec<Product>> = d.dw().iter().map(<[Product]>::to_vec).collect();
        lists[3][0].1 = 1;
        let err = compare(MATRIX, Gradient::Dw, &Sums::from_lists(lists), dw(3, 2)).unwrap_err();
        assert_eq!((err.gradient, err.element), (Gradient::Dw, 3));
        assert!(err.to_string().starts_with("dL/dw element 3"), "{err}");
        // dL/db[0] summing delta[1].
        let lists = vec![vec![Product(1, 1)], vec![Product(1, 1)]];
        let err = compare(MATRIX, Gradient::Db, &Sums::from_lists(lists), db(2));
        assert_eq!(err.map_err(|e| e.element), Err(0));
    }
}
