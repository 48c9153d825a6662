//! The chain rule as the transpose of the forward sums, shared by every layer kind whose outputs
//! are sums of `(x, k)` products plus one bias element each (the convolution, the dense layer).

use super::{Product, Sums};

/// A layer's derivation as the code checker ([`crate::ir::exec::check`]) reads it: `u` as sums
/// of `(x, k)` products plus one bias element each, and the chain rule's sums. The convolution's
/// [`Derivation`](super::Derivation) and the dense layer's [`Dense`](super::dense::Dense)
/// implement it.
pub trait Derived {
    /// `u` as sums of `(x, k)` products (the bias element [`bias_of`](Self::bias_of) is added
    /// to each).
    fn forward(&self) -> &Sums;
    /// `dL/dx` as sums of `(delta, k)` products.
    fn dx(&self) -> &Sums;
    /// `dL/dk` (the weights' gradient) as sums of `(delta, x)` products.
    fn dk(&self) -> &Sums;
    /// `dL/db` as sums of `(delta, delta)` products (read the first).
    fn db(&self) -> &Sums;
    /// The flat position of the bias element added to output `u`.
    fn bias_of(&self, u: usize) -> usize;
}

/// Lengths of the arrays the gradients are shaped like.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lengths {
    /// `x` (and `dL/dx`).
    pub x: usize,
    /// `k` (and `dL/dk`).
    pub k: usize,
    /// `b` (and `dL/db`).
    pub b: usize,
}

/// The chain rule read off the Jacobian, which the forward sums hold: every forward product
/// `x * k` in `u` contributes `delta[u] * k` to `dL/dx[x]` and `delta[u] * x` to `dL/dk[k]`;
/// `dL/db[bias(u)]` sums `delta[u]`. Walking `u` in ascending order sums every gradient over `u`
/// ascending. Returns `(dL/dx, dL/dk, dL/db)`.
pub(crate) fn transpose(
    forward: &Sums,
    lengths: Lengths,
    bias: impl Fn(usize) -> usize,
) -> (Sums, Sums, Sums) {
    let mut dx = vec![Vec::new(); lengths.x];
    let mut dk = vec![Vec::new(); lengths.k];
    let mut db = vec![Vec::new(); lengths.b];
    for (u, products) in forward.iter().enumerate() {
        let delta = u as u32;
        for &Product(x, k) in products {
            dx[x as usize].push(Product(delta, k));
            dk[k as usize].push(Product(delta, x));
        }
        db[bias(u)].push(Product(delta, delta));
    }
    (
        Sums::from_lists(dx),
        Sums::from_lists(dk),
        Sums::from_lists(db),
    )
}
