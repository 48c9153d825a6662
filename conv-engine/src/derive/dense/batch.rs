//! The dense layer applied to a batch of `S` samples at once, `U = W X + b 1ᵀ` with one column
//! of `X` (and of `U` and `delta`) per sample: the derivation the code that runs several
//! samples through one load of the weights is proven against. Every sample's sums are the
//! one-sample layer's ([`Dense`]) with its own inputs and `delta`s; the parameters' gradients
//! sum the samples' in sample order.
//!
//! Flat positions: `x` and `dL/dx` are `[S][inputs]`, `u` and `delta` `[S][outputs]` (sample
//! `s`'s element `k` at `s * len + k`); `w`, `b` and their gradients as the one-sample layer's.

use super::super::{Derived, Product, Sums};
use super::Dense;

/// The derivation of a dense layer over `samples` samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    samples: usize,
    outputs: usize,
    forward: Sums,
    dx: Sums,
    dw: Sums,
    db: Sums,
}

impl Batch {
    /// `layer` over `samples` samples, from its one-sample sums.
    pub fn new(layer: &Dense, samples: usize) -> Self {
        let (n, m) = (layer.inputs() as u32, layer.outputs() as u32);
        let per_sample = |sums: &Sums, first: u32, second: u32| -> Sums {
            let lists = (0..samples as u32)
                .flat_map(|s| {
                    sums.iter().map(move |products| {
                        products
                            .iter()
                            .map(|&Product(a, b)| Product(a + s * first, b + s * second))
                            .collect()
                    })
                })
                .collect();
            Sums::from_lists(lists)
        };
        // Each parameter's gradient: every sample's products, sample by sample.
        let summed = |sums: &Sums, first: u32, second: u32| -> Sums {
            let lists = sums
                .iter()
                .map(|products| {
                    (0..samples as u32)
                        .flat_map(|s| {
                            products
                                .iter()
                                .map(move |&Product(a, b)| Product(a + s * first, b + s * second))
                        })
                        .collect()
                })
                .collect();
            Sums::from_lists(lists)
        };
        Self {
            samples,
            outputs: layer.outputs(),
            // (x, w): x moves with the sample.
            forward: per_sample(layer.forward(), n, 0),
            // (delta, w): delta moves with the sample.
            dx: per_sample(layer.dx(), m, 0),
            // (delta, x): both move with the sample.
            dw: summed(layer.dw(), m, n),
            // (delta, delta).
            db: summed(layer.db(), m, m),
        }
    }

    /// Samples.
    pub fn samples(&self) -> usize {
        self.samples
    }
}

impl Derived for Batch {
    fn forward(&self) -> &Sums {
        &self.forward
    }
    fn dx(&self) -> &Sums {
        &self.dx
    }
    fn dk(&self) -> &Sums {
        &self.dw
    }
    fn db(&self) -> &Sums {
        &self.db
    }
    fn bias_of(&self, u: usize) -> usize {
        u % self.outputs.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sample_has_the_layers_sums_on_its_own_elements() {
        let (n, m, s) = (3, 2, 4);
        let layer = Dense::new(n, m);
        let batch = Batch::new(&layer, s);
        assert_eq!(batch.samples(), s);
        for q in 0..s {
            for o in 0..m {
                // u[q][o] = b[o] + Σ_i x[q][i] * w[o][i]
                let want: Vec<Product> = (0..n)
                    .map(|i| Product((q * n + i) as u32, (o * n + i) as u32))
                    .collect();
                assert_eq!(batch.forward().get(q * m + o), want.as_slice());
                assert_eq!(batch.bias_of(q * m + o), o);
            }
            for i in 0..n {
                // dL/dx[q][i] = Σ_o delta[q][o] * w[o][i]
                let want: Vec<Product> = (0..m)
                    .map(|o| Product((q * m + o) as u32, (o * n + i) as u32))
                    .collect();
                assert_eq!(batch.dx().get(q * n + i), want.as_slice());
            }
        }
        for o in 0..m {
            // dL/db[o] = Σ_q delta[q][o], in sample order.
            let want: Vec<Product> = (0..s)
                .map(|q| Product((q * m + o) as u32, (q * m + o) as u32))
                .collect();
            assert_eq!(batch.db().get(o), want.as_slice());
            for i in 0..n {
                // dL/dw[o][i] = Σ_q delta[q][o] * x[q][i]
                let want: Vec<Product> = (0..s)
                    .map(|q| Product((q * m + o) as u32, (q * n + i) as u32))
                    .collect();
                assert_eq!(batch.dk().get(o * n + i), want.as_slice());
            }
        }
    }

    #[test]
    fn one_sample_is_the_layer() {
        let layer = Dense::new(5, 3);
        let batch = Batch::new(&layer, 1);
        assert_eq!(batch.forward(), layer.forward());
        assert_eq!(batch.dx(), layer.dx());
        assert_eq!(batch.dk(), layer.dw());
        assert_eq!(batch.db(), layer.db());
    }
}
