//! Symbolic derivation: every output as a sum of products, the Jacobian tables, and the chain rule.
//! The convolution's is [`Derivation`] (below); the dense layer's, its sibling, is
//! [`dense::Dense`]. Both derive the chain rule the same way, as the transpose of the forward
//! sums, and both are [`Derived`], what the code checker reads.
//!
//! The convolution is the cross-correlation
//! `u[o][i][j] = b[o] + sum_{c,a,b} x[c][i*SH + a*DH - top][j*SW + b*DW - left] * k[o][c][a][b]`
//! with reads of the padding dropped (they are zero). From it:
//!
//! - Jacobian tables: `du[o][i][j]/dx[c][p][q]` is `k[o][c][a][b]` when `x[c][p][q]` is the element
//!   read at tap `(a, b)` of output `(i, j)`, else 0; `du[o][i][j]/dk[o][c][a][b]` is that `x`
//!   element; `du[o][i][j]/db[o] = 1`.
//! - Chain rule with `delta = dL/du`: `dL/dx[c][p][q] = sum_{o,i,j} delta[o][i][j] * du[o][i][j]/dx[c][p][q]`,
//!   `dL/dk[o][c][a][b] = sum_{i,j} delta[o][i][j] * x[...]`, `dL/db[o] = sum_{i,j} delta[o][i][j]`.
//!
//! Only nonzero products are stored. Summation order (the order of every list, and of the
//! emitted code): `u` over `c, a, b` ascending; `dL/dx` over `o, i, j` ascending; `dL/dk` over
//! `i, j` ascending; `dL/db` over `i, j` ascending.
//!
//! The other layer kinds are sibling modules: [`pool`] (max and average), [`activation`]
//! (ReLU, leaky ReLU, tanh, sigmoid), [`flatten`] and [`loss`] (softmax cross-entropy), each a
//! validating constructor returning [`LayerError`], its Jacobian and chain rule, and an
//! evaluation on concrete `f64` values.

pub mod activation;
mod chain;
pub mod dense;
mod error;
pub mod flatten;
mod index;
pub mod loss;
pub mod pool;
mod sums;

pub use chain::Derived;
pub use error::LayerError;
pub(crate) use index::Indexing;
pub use index::{Pixel, Tap};
pub use sums::{Product, Sums};

use crate::Geometry;

/// The derivation of one layer. Products hold flat positions (see [`Derivation::x_at`] and
/// friends to turn them back into indices):
///
/// | sum | one per | product `(first, second)` |
/// |---|---|---|
/// | [`forward`](Self::forward) | `u` element | `(x, k)` |
/// | [`dx`](Self::dx) | `x` element | `(delta, k)` |
/// | [`dk`](Self::dk) | `k` element | `(delta, x)` |
/// | [`db`](Self::db) | `b` element | `(delta, delta)`: the `delta` summed, twice |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derivation {
    geometry: Geometry,
    forward: Sums,
    dx: Sums,
    dk: Sums,
    db: Sums,
}

/// One nonzero entry of the Jacobian `du/dx`: `du[u]/dx[x] = k[k]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JacobianEntry {
    /// The output element differentiated.
    pub u: Pixel,
    /// The input element differentiated by.
    pub x: Pixel,
    /// The kernel weight the derivative equals.
    pub k: Tap,
}

impl Derivation {
    /// Expands the layer and applies the chain rule.
    pub fn new(geometry: &Geometry) -> Self {
        let forward = expand_forward(geometry);
        let (dx, dk, db) = chain_rule(geometry, &forward);
        Self {
            geometry: *geometry,
            forward,
            dx,
            dk,
            db,
        }
    }

    /// The layer's geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }
    /// `u` as sums of `(x, k)` products (the bias is added to each).
    pub fn forward(&self) -> &Sums {
        &self.forward
    }
    /// `dL/dx` as sums of `(delta, k)` products.
    pub fn dx(&self) -> &Sums {
        &self.dx
    }
    /// `dL/dk` as sums of `(delta, x)` products.
    pub fn dk(&self) -> &Sums {
        &self.dk
    }
    /// `dL/db` as sums of `delta` elements (each product is `(delta, delta)`; read the first).
    pub fn db(&self) -> &Sums {
        &self.db
    }

    /// The index of flat `x` (and `dL/dx`) position `flat`.
    pub fn x_at(&self, flat: usize) -> Pixel {
        self.geometry.x_at(flat)
    }
    /// The index of flat `u` (and `delta`) position `flat`.
    pub fn u_at(&self, flat: usize) -> Pixel {
        self.geometry.u_at(flat)
    }
    /// The index of flat `k` (and `dL/dk`) position `flat`.
    pub fn k_at(&self, flat: usize) -> Tap {
        self.geometry.k_at(flat)
    }

    /// The Jacobian table `du/dx`, nonzero entries only, ordered by `x` then `u` (rows of the
    /// textbook table, left to right).
    pub fn jacobian_x(&self) -> Vec<JacobianEntry> {
        let mut entries = Vec::with_capacity(self.forward.terms());
        for (x, products) in self.dx.iter().enumerate() {
            for &Product(u, k) in products {
                entries.push(JacobianEntry {
                    u: self.u_at(u as usize),
                    x: self.x_at(x),
                    k: self.k_at(k as usize),
                });
            }
        }
        entries
    }

    /// `du[u]/dx[x]`: the kernel weight, or `None` for a structural zero.
    pub fn du_dx(&self, u: Pixel, x: Pixel) -> Option<Tap> {
        let (u, x) = (self.geometry.u_flat(u) as u32, self.geometry.x_flat(x));
        let products = self.dx.get(x);
        let hit = products.binary_search_by_key(&u, |p| p.0).ok()?;
        Some(self.k_at(products[hit].1 as usize))
    }

    /// `du[u]/dk[k]`: the input element, or `None` for a structural zero (padding, or another
    /// output channel).
    pub fn du_dk(&self, u: Pixel, k: Tap) -> Option<Pixel> {
        let (u, k) = (self.geometry.u_flat(u) as u32, self.geometry.k_flat(k));
        let products = self.dk.get(k);
        let hit = products.binary_search_by_key(&u, |p| p.0).ok()?;
        Some(self.x_at(products[hit].1 as usize))
    }

    /// Drops one product of `dL/dx` (tests only: a planted fault, which the proof rejects).
    #[cfg(any(test, feature = "codegen"))]
    pub(crate) fn plant_fault(&mut self) {
        let first = self.dx.iter().position(|p| !p.is_empty());
        if let Some(i) = first {
            self.dx.drop_last(i);
        }
    }

    /// Total number of products of `u`, `dL/dx` and `dL/dk` (what a full unroll emits).
    pub fn terms(&self) -> usize {
        self.forward.terms() + self.dx.terms() + self.dk.terms()
    }
}

/// Every `u[o][i][j]` as its nonzero `(x, k)` products, in `c, a, b` order.
fn expand_forward(g: &Geometry) -> Sums {
    let [oh, ow] = g.output();
    let [kh, kw] = g.kernel();
    let mut lists = Vec::with_capacity(g.output_len());
    for o in 0..g.out_channels() {
        for i in 0..oh {
            for j in 0..ow {
                let mut list = Vec::new();
                for c in 0..g.in_channels() {
                    for a in 0..kh {
                        for b in 0..kw {
                            if let Some((p, q)) = g.tap(i, j, a, b) {
                                let x = g.x_flat(Pixel { c, row: p, col: q });
                                let k = g.k_flat(Tap {
                                    o,
                                    c,
                                    row: a,
                                    col: b,
                                });
                                list.push(Product(x as u32, k as u32));
                            }
                        }
                    }
                }
                lists.push(list);
            }
        }
    }
    Sums::from_lists(lists)
}

/// The chain rule, the transpose of the forward sums (see [`chain::transpose`]): `dL/db[o]`
/// sums the `delta` of output channel `o`.
fn chain_rule(g: &Geometry, forward: &Sums) -> (Sums, Sums, Sums) {
    let lengths = chain::Lengths {
        x: g.input_len(),
        k: g.kernel_len(),
        b: g.bias_len(),
    };
    chain::transpose(forward, lengths, |u| g.u_at(u).c)
}

impl Derived for Derivation {
    fn forward(&self) -> &Sums {
        &self.forward
    }
    fn dx(&self) -> &Sums {
        &self.dx
    }
    fn dk(&self) -> &Sums {
        &self.dk
    }
    fn db(&self) -> &Sums {
        &self.db
    }
    fn bias_of(&self, u: usize) -> usize {
        self.u_at(u).c
    }
}

#[cfg(test)]
mod tests;
