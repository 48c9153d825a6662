//! conv2d runtime (skeleton)
pub use conv_derive::conv2d;
