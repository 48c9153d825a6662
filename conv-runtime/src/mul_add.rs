//! `a * b + c` as generated code computes it: fused (one rounding, `f32::mul_add`) where the
//! target has FMA instructions and the `std` feature is on, otherwise a product and a sum (two
//! roundings). [`FUSED`] says which.
//!
//! The `backward` of `unroll = full` layers sums `dL/dx` and `dL/dk` with these functions: each
//! sum starts with its first product and adds the others in the documented order, each fused
//! into the running sum. On integer-valued inputs (the compile-time proof's) every product and
//! partial sum is exact, so both forms give the same numbers; on other inputs the fused form
//! rounds once per term instead of twice, so results can differ in the last bits between
//! targets with and without FMA (`-C target-cpu=native` against the default `x86_64` target,
//! for one).
//!
//! `core` has no `mul_add` (it needs a software fallback from `std`'s math library where the
//! hardware has none), hence the `std` condition; without `std` the two-rounding form is used
//! on every target.
//!
//! ```
//! use conv_runtime::mul_add;
//!
//! // 1 + 2^-23 squared is 1 + 2^-22 + 2^-46; the product alone rounds the 2^-46 away.
//! let a = 1.0 + f32::EPSILON;
//! let exact_low_bits = mul_add::f32(a, a, -(1.0 + 2.0 * f32::EPSILON));
//! if mul_add::FUSED {
//!     assert_eq!(exact_low_bits, f32::EPSILON * f32::EPSILON);
//! } else {
//!     assert_eq!(exact_low_bits, 0.0);
//! }
//! ```

/// Whether [`f32`](fn@f32) and [`f64`](fn@f64) fuse: `std` is on and the target has FMA
/// (`target_feature = "fma"`, for example with `-C target-cpu=native` on a CPU that has it).
pub const FUSED: bool = cfg!(all(feature = "std", target_feature = "fma"));

/// `a * b + c` in `f32`, fused where [`FUSED`] is true.
#[inline(always)]
pub const fn f32(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(all(feature = "std", target_feature = "fma"))]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(all(feature = "std", target_feature = "fma")))]
    {
        a * b + c
    }
}

/// `a * b + c` in `f64`, fused where [`FUSED`] is true.
#[inline(always)]
pub const fn f64(a: f64, b: f64, c: f64) -> f64 {
    #[cfg(all(feature = "std", target_feature = "fma"))]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(all(feature = "std", target_feature = "fma")))]
    {
        a * b + c
    }
}

/// `a * b + c` fused (one rounding) whenever the `std` feature is on, whatever the build's
/// target: what the variants of generated code for CPUs with FMA call (they are compiled with
/// FMA enabled, so this is one instruction there). Without `std`, a product and a sum.
pub mod fused {
    /// Whether [`f32`](fn@f32) and [`f64`](fn@f64) fuse: the `std` feature is on.
    pub const FUSED: bool = cfg!(feature = "std");

    /// `a * b + c` in `f32`, fused where [`FUSED`] is true.
    #[inline(always)]
    pub const fn f32(a: f32, b: f32, c: f32) -> f32 {
        #[cfg(feature = "std")]
        {
            a.mul_add(b, c)
        }
        #[cfg(not(feature = "std"))]
        {
            a * b + c
        }
    }

    /// `a * b + c` in `f64`, fused where [`FUSED`] is true.
    #[inline(always)]
    pub const fn f64(a: f64, b: f64, c: f64) -> f64 {
        #[cfg(feature = "std")]
        {
            a.mul_add(b, c)
        }
        #[cfg(not(feature = "std"))]
        {
            a * b + c
        }
    }
}
