//! A trainable layer around any generated [`Conv2d`]: parameters, accumulated gradients, SGD.
//!
//! ```
//! use conv_runtime::{conv2d, train::Layer};
//!
//! #[conv2d(input = 4x4, kernel = 3x3)]
//! struct Conv;
//!
//! let mut layer = Layer::<Conv>::init(7);
//! let x = [[1.0f32; 4]; 4];
//! let u = layer.forward(&x);
//! // Push every output towards zero: L = Σ u² / 2, so delta = u.
//! let dx = layer.backward(&x, &u);
//! assert_eq!(dx.len(), 4);
//! layer.sgd_step(0.01);
//! let smaller: f32 = layer.forward(&x).iter().flatten().map(|v| v * v).sum();
//! assert!(smaller < u.iter().flatten().map(|v| v * v).sum::<f32>());
//! ```

use crate::{Conv2d, Scalar, Tensor};
use core::fmt;

/// Parameters and accumulated gradients of one `#[conv2d]` layer.
pub struct Layer<L: Conv2d> {
    /// The kernel `k`.
    pub kernel: L::Kernel,
    /// The bias `b`.
    pub bias: L::Bias,
    /// `dL/dk` accumulated since the last [`Layer::sgd_step`] or [`Layer::zero_grad`].
    pub dk: L::Kernel,
    /// `dL/db` accumulated likewise.
    pub db: L::Bias,
}

// Written out: derives would require `L` itself (a unit marker) to implement the traits.
impl<L: Conv2d> Clone for Layer<L> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: Conv2d> Copy for Layer<L> {}
impl<L: Conv2d> PartialEq for Layer<L> {
    fn eq(&self, other: &Self) -> bool {
        (self.kernel, self.bias, self.dk, self.db) == (other.kernel, other.bias, other.dk, other.db)
    }
}
impl<L: Conv2d> fmt::Debug for Layer<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layer")
            .field("kernel", &self.kernel)
            .field("bias", &self.bias)
            .field("dk", &self.dk)
            .field("db", &self.db)
            .finish()
    }
}

/// A batch whose slices disagree in length.
///
/// The struct is `#[non_exhaustive]` (fields may be added): its fields can be read, but code
/// outside this crate builds one with [`BatchError::new`] rather than a struct literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BatchError {
    /// Samples in the inputs.
    pub inputs: usize,
    /// Length of the other slice (outputs, upstream gradients, or input gradients).
    pub other: usize,
}

impl BatchError {
    /// The error for a batch of `inputs` samples given another slice of `other` elements.
    ///
    /// ```
    /// use conv_runtime::train::BatchError;
    ///
    /// let e = BatchError::new(2, 1);
    /// assert_eq!((e.inputs, e.other), (2, 1));
    /// assert_eq!(e.to_string(), "batch of 2 inputs given a slice of 1 elements");
    /// ```
    pub const fn new(inputs: usize, other: usize) -> Self {
        Self { inputs, other }
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "batch of {} inputs given a slice of {} elements",
            self.inputs, self.other
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BatchError {}

impl<L: Conv2d> Layer<L> {
    /// A layer with the given parameters and zero gradients.
    pub fn new(kernel: L::Kernel, bias: L::Bias) -> Self {
        Self {
            kernel,
            bias,
            dk: Tensor::zeroed(),
            db: Tensor::zeroed(),
        }
    }

    /// Deterministic Glorot-uniform initialisation from `seed`: kernel weights uniform in
    /// `±sqrt(6 / (fan_in + fan_out))` with `fan_in = C_in·KH·KW`, `fan_out = C_out·KH·KW`;
    /// zero bias.
    pub fn init(seed: u64) -> Self {
        let g = L::GEOMETRY;
        let [kh, kw] = g.kernel();
        // In f64: exact for any real layer, and no overflow for a geometry near `usize::MAX`.
        let fans = (g.in_channels() as f64 + g.out_channels() as f64) * kh as f64 * kw as f64;
        let limit = libm_sqrt(6.0 / fans);
        let mut rng = crate::rng::SplitMix64::new(seed);
        let mut kernel: L::Kernel = Tensor::zeroed();
        for w in kernel.flat_mut() {
            *w = L::Scalar::from_f64(limit * (2.0 * rng.unit() - 1.0));
        }
        Self::new(kernel, Tensor::zeroed())
    }

    /// `u = x ⋆ k + b` with this layer's parameters.
    pub fn forward(&self, x: &L::Input) -> L::Output {
        L::forward(x, &self.kernel, &self.bias)
    }

    /// Accumulates `dL/dk` and `dL/db` for one sample and returns `dL/dx`.
    pub fn backward(&mut self, x: &L::Input, delta: &L::Output) -> L::Input {
        let g = L::backward(x, &self.kernel, delta);
        add_assign(&mut self.dk, &g.dk);
        add_assign(&mut self.db, &g.db);
        g.dx
    }

    /// `kernel -= lr * dk`, `bias -= lr * db`, then the gradients are reset.
    pub fn sgd_step(&mut self, lr: L::Scalar) {
        for (w, d) in self.kernel.flat_mut().iter_mut().zip(self.dk.flat()) {
            *w -= lr * *d;
        }
        for (w, d) in self.bias.flat_mut().iter_mut().zip(self.db.flat()) {
            *w -= lr * *d;
        }
        self.zero_grad();
    }

    /// Resets the accumulated gradients.
    pub fn zero_grad(&mut self) {
        self.dk = Tensor::zeroed();
        self.db = Tensor::zeroed();
    }

    /// [`Layer::forward`] for every sample of `xs` into `us`.
    ///
    /// # Errors
    /// [`BatchError`] when `us` and `xs` differ in length (nothing is written).
    pub fn forward_batch(&self, xs: &[L::Input], us: &mut [L::Output]) -> Result<(), BatchError> {
        same_len(xs.len(), us.len())?;
        for (x, u) in xs.iter().zip(us) {
            *u = self.forward(x);
        }
        Ok(())
    }

    /// [`Layer::backward`] for every sample: accumulates `dL/dk`, `dL/db` over the batch and
    /// writes each `dL/dx` into `dxs`.
    ///
    /// # Errors
    /// [`BatchError`] when `deltas` or `dxs` differ in length from `xs` (nothing is changed).
    pub fn backward_batch(
        &mut self,
        xs: &[L::Input],
        deltas: &[L::Output],
        dxs: &mut [L::Input],
    ) -> Result<(), BatchError> {
        same_len(xs.len(), deltas.len())?;
        same_len(xs.len(), dxs.len())?;
        for ((x, d), dx) in xs.iter().zip(deltas).zip(dxs) {
            *dx = self.backward(x, d);
        }
        Ok(())
    }
}

/// Two layers where the first one's output is the second one's input. A stack whose shapes do
/// not chain is a type error.
pub struct Stack<A: Conv2d, B: Conv2d<Scalar = A::Scalar, Input = A::Output>> {
    /// The first layer.
    pub first: Layer<A>,
    /// The second layer, fed by the first.
    pub second: Layer<B>,
}

impl<A: Conv2d, B: Conv2d<Scalar = A::Scalar, Input = A::Output>> fmt::Debug for Stack<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field("first", &self.first)
            .field("second", &self.second)
            .finish()
    }
}

impl<A: Conv2d, B: Conv2d<Scalar = A::Scalar, Input = A::Output>> Stack<A, B> {
    /// Both layers, in order.
    pub fn new(first: Layer<A>, second: Layer<B>) -> Self {
        Self { first, second }
    }

    /// The second layer applied to the first's output.
    pub fn forward(&self, x: &A::Input) -> B::Output {
        self.second.forward(&self.first.forward(x))
    }

    /// Accumulates both layers' parameter gradients and returns `dL/dx` of the stack's input.
    pub fn backward(&mut self, x: &A::Input, delta: &B::Output) -> A::Input {
        let hidden = self.first.forward(x);
        let d_hidden = self.second.backward(&hidden, delta);
        self.first.backward(x, &d_hidden)
    }

    /// [`Layer::sgd_step`] on both layers.
    pub fn sgd_step(&mut self, lr: A::Scalar) {
        self.first.sgd_step(lr);
        self.second.sgd_step(lr);
    }
}

fn same_len(inputs: usize, other: usize) -> Result<(), BatchError> {
    if inputs == other {
        Ok(())
    } else {
        Err(BatchError { inputs, other })
    }
}

fn add_assign<S: Scalar, T: Tensor<S>>(acc: &mut T, v: &T) {
    for (a, b) in acc.flat_mut().iter_mut().zip(v.flat()) {
        *a += *b;
    }
}

/// `sqrt` without `std` (Newton's method; exact enough for an initialisation scale).
fn libm_sqrt(v: f64) -> f64 {
    if v <= 0.0 {
        return 0.0;
    }
    let mut r = if v > 1.0 { v } else { 1.0 };
    for _ in 0..64 {
        r = 0.5 * (r + v / r);
    }
    r
}
