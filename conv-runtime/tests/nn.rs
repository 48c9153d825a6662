//! The network building blocks of `conv_runtime::nn`, against independent oracles: `std`'s
//! elementary functions (bounded in ulps), central finite differences of the forward passes,
//! naive formulations written here, and values worked out by hand.
#![cfg(feature = "std")]

#[path = "nn/activation.rs"]
mod activation;
#[path = "nn/idx.rs"]
mod idx;
#[path = "nn/loss.rs"]
mod loss;
#[path = "nn/math.rs"]
mod math;
#[path = "nn/pool.rs"]
mod pool;
