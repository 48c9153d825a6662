//! Run-time building blocks of a whole network, for the layers other than convolutions:
//! activations, pooling, the classification loss and the functions they need, plus (feature
//! `std`) a reader of the IDX files MNIST comes in.
//!
//! Everything but [`idx`] is `no_std` and allocation-free, generic over [`math::Real`] (`f32`
//! or `f64`) and uses the crate's own `exp`, `ln`, `tanh` and `sigmoid`, so results do not
//! depend on the `std` feature. Functions that take run-time sizes return a typed error on a
//! mismatch, never panic.
//!
//! - [`math`]: [`Real`](math::Real), the elementary functions.
//! - [`activation`]: ReLU, leaky ReLU, tanh, sigmoid; `backward` through the stored output.
//! - [`pool`]: max pooling (with argmax) and average pooling over `[C][H][W]` arrays.
//! - [`loss`]: softmax cross-entropy, softmax, argmax.
//! - [`idx`] (feature `std`): IDX image and label files.
//!
//! Layouts are channel-first and row-major, as for convolutions: `[C][H][W]`.

pub mod activation;
#[cfg(feature = "std")]
pub mod idx;
pub mod loss;
pub mod math;
pub mod pool;
