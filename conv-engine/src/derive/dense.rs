//! The dense (fully connected) layer's derivation, the convolution's sibling:
//! `u[o] = b[o] + Σ_i w[o][i] * x[i]`, weights laid out `[out][in]` as PyTorch's `nn.Linear`.
//!
//! - Forward sums: one per `u` element, products `(x index i, w flat index o*inputs + i)`, the
//!   bias `b[o]` added to each.
//! - Jacobian: `du[o]/dx[i] = w[o][i]` (every entry nonzero), `du[o]/dw[o][i] = x[i]` (zero for
//!   another row of `w`), `du[o]/db[o] = 1` (zero for another bias).
//! - Chain rule with `delta = dL/du`, derived from the forward sums as the transpose of the
//!   Jacobian (the convolution's code): `dL/dx[i] = Σ_o delta[o] * w[o][i]`,
//!   `dL/dw[o][i] = delta[o] * x[i]`, `dL/db[o] = delta[o]`.
//!
//! Summation order (the order of every list): `u[o]` over `i` ascending, after the bias;
//! `dL/dx[i]` over `o` ascending; `dL/dw` and `dL/db` hold one product each.
//!
//! ```
//! use conv_engine::derive::{dense::{Dense, Weight}, Product};
//! let d = Dense::new(3, 2);
//! // u[1] = b[1] + x[0]*w[1][0] + x[1]*w[1][1] + x[2]*w[1][2]
//! assert_eq!(d.forward().get(1), &[Product(0, 3), Product(1, 4), Product(2, 5)]);
//! assert_eq!(d.du_dx(1, 2), Some(Weight { o: 1, i: 2 }));
//! ```

use super::chain::{self, Lengths};
use super::{Derived, Product, Sums};

mod batch;
pub use batch::Batch;

/// An element of the weights `w[o][i]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight {
    /// Output (row of `w`).
    pub o: usize,
    /// Input (column of `w`).
    pub i: usize,
}

/// The derivation of one dense layer. Products hold flat positions:
///
/// | sum | one per | product `(first, second)` |
/// |---|---|---|
/// | [`forward`](Self::forward) | `u` element `o` | `(x, w)`: `(i, o*inputs + i)` |
/// | [`dx`](Self::dx) | `x` element `i` | `(delta, w)` |
/// | [`dw`](Self::dw) | `w` element `o*inputs + i` | `(delta, x)` |
/// | [`db`](Self::db) | `b` element `o` | `(delta, delta)`: the `delta` summed, twice |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dense {
    inputs: usize,
    outputs: usize,
    forward: Sums,
    dx: Sums,
    dw: Sums,
    db: Sums,
}

impl Dense {
    /// Expands the layer with `inputs` inputs and `outputs` outputs and applies the chain rule.
    pub fn new(inputs: usize, outputs: usize) -> Self {
        let forward = expand_forward(inputs, outputs);
        let lengths = Lengths {
            x: inputs,
            k: inputs * outputs,
            b: outputs,
        };
        let (dx, dw, db) = chain::transpose(&forward, lengths, |u| u);
        Self {
            inputs,
            outputs,
            forward,
            dx,
            dw,
            db,
        }
    }

    /// Length of `x`.
    pub fn inputs(&self) -> usize {
        self.inputs
    }
    /// Length of `u` (and of `b` and `delta`).
    pub fn outputs(&self) -> usize {
        self.outputs
    }
    /// `u` as sums of `(x, w)` products (the bias is added to each).
    pub fn forward(&self) -> &Sums {
        &self.forward
    }
    /// `dL/dx` as sums of `(delta, w)` products.
    pub fn dx(&self) -> &Sums {
        &self.dx
    }
    /// `dL/dw` as sums of `(delta, x)` products, one sum per weight in `[out][in]` order.
    pub fn dw(&self) -> &Sums {
        &self.dw
    }
    /// `dL/db` as sums of `delta` elements (each product is `(delta, delta)`; read the first).
    pub fn db(&self) -> &Sums {
        &self.db
    }

    /// The flat position of `w[o][i]` (`o * inputs + i`).
    pub fn w_flat(&self, w: Weight) -> usize {
        w.o * self.inputs + w.i
    }
    /// The weight at flat position `flat`.
    pub fn w_at(&self, flat: usize) -> Weight {
        Weight {
            o: flat / self.inputs.max(1),
            i: flat % self.inputs.max(1),
        }
    }

    /// `du[o]/dx[i]`: the weight, read off the chain rule's sums (`None` out of range).
    pub fn du_dx(&self, o: usize, i: usize) -> Option<Weight> {
        let products = self.dx.get(i);
        let hit = products.binary_search_by_key(&(o as u32), |p| p.0).ok()?;
        Some(self.w_at(products[hit].1 as usize))
    }

    /// `du[o]/dw[w]`: the input element's index, or `None` for a structural zero (another row
    /// of `w`).
    pub fn du_dw(&self, o: usize, w: Weight) -> Option<usize> {
        if w.i >= self.inputs {
            return None;
        }
        let products = self.dw.get(self.w_flat(w));
        let hit = products.binary_search_by_key(&(o as u32), |p| p.0).ok()?;
        Some(products[hit].1 as usize)
    }

    /// `du[o]/db[b]`: 1 when `b == o` (and in range), else 0.
    pub fn du_db(&self, o: usize, b: usize) -> usize {
        usize::from(self.db.get(b).iter().any(|p| p.0 as usize == o))
    }

    /// Total number of products of `u`, `dL/dx` and `dL/dw`.
    pub fn terms(&self) -> usize {
        self.forward.terms() + self.dx.terms() + self.dw.terms()
    }

    /// Drops one product of `dL/dx` (tests only: a planted fault, which the proof rejects).
    #[cfg(test)]
    pub(crate) fn plant_fault(&mut self) {
        let first = self.dx.iter().position(|p| !p.is_empty());
        if let Some(i) = first {
            self.dx.drop_last(i);
        }
    }
}

impl Derived for Dense {
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
        u
    }
}

/// Every `u[o]` as its products `(i, o*inputs + i)`, `i` ascending.
fn expand_forward(inputs: usize, outputs: usize) -> Sums {
    let lists = (0..outputs)
        .map(|o| {
            (0..inputs)
                .map(|i| Product(i as u32, (o * inputs + i) as u32))
                .collect()
        })
        .collect();
    Sums::from_lists(lists)
}

#[cfg(test)]
mod tests;
