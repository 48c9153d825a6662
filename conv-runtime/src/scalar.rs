//! The element types (`f32`, `f64`) and fixed-size arrays of them seen as flat slices.

use crate::{reference, Geometry, ShapeError};
use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An element type of generated layers: `f32` or `f64` (sealed: no other type implements it).
///
/// The hidden methods dispatch to [`reference::f32`] or [`reference::f64`].
pub trait Scalar:
    Copy
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// Converts (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts exactly.
    fn to_f64(self) -> f64;
    /// [`reference::forward`] for this type.
    #[doc(hidden)]
    fn forward_into(
        g: &Geometry,
        x: &[Self],
        k: &[Self],
        b: &[Self],
        u: &mut [Self],
    ) -> Result<(), ShapeError>;
    /// [`reference::backward`] for this type.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn backward_into(
        g: &Geometry,
        x: &[Self],
        k: &[Self],
        delta: &[Self],
        dx: &mut [Self],
        dk: &mut [Self],
        db: &mut [Self],
    ) -> Result<(), ShapeError>;
}

macro_rules! scalar {
    ($t:ident) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn forward_into(
                g: &Geometry,
                x: &[Self],
                k: &[Self],
                b: &[Self],
                u: &mut [Self],
            ) -> Result<(), ShapeError> {
                reference::$t::forward_into(g, x, k, b, u)
            }
            fn backward_into(
                g: &Geometry,
                x: &[Self],
                k: &[Self],
                delta: &[Self],
                dx: &mut [Self],
                dk: &mut [Self],
                db: &mut [Self],
            ) -> Result<(), ShapeError> {
                reference::$t::backward_into(g, x, k, delta, dx, dk, db)
            }
        }
    };
}
scalar!(f32);
scalar!(f64);

/// A scalar or a fixed-size (nested) array of scalars, seen as a flat row-major slice.
pub trait Tensor<S: Scalar>: Copy + Debug + PartialEq + Send + Sync + 'static {
    /// The elements, row-major.
    fn flat(&self) -> &[S];
    /// The elements, row-major, mutably.
    fn flat_mut(&mut self) -> &mut [S];
    /// All zeros.
    fn zeroed() -> Self;
}

impl<S: Scalar> Tensor<S> for S {
    fn flat(&self) -> &[S] {
        core::slice::from_ref(self)
    }
    fn flat_mut(&mut self) -> &mut [S] {
        core::slice::from_mut(self)
    }
    fn zeroed() -> Self {
        S::ZERO
    }
}

impl<S: Scalar, const A: usize> Tensor<S> for [S; A] {
    fn flat(&self) -> &[S] {
        self
    }
    fn flat_mut(&mut self) -> &mut [S] {
        self
    }
    fn zeroed() -> Self {
        [S::ZERO; A]
    }
}

impl<S: Scalar, const A: usize, const B: usize> Tensor<S> for [[S; B]; A] {
    fn flat(&self) -> &[S] {
        self.as_flattened()
    }
    fn flat_mut(&mut self) -> &mut [S] {
        self.as_flattened_mut()
    }
    fn zeroed() -> Self {
        [[S::ZERO; B]; A]
    }
}

impl<S: Scalar, const A: usize, const B: usize, const C: usize> Tensor<S> for [[[S; C]; B]; A] {
    fn flat(&self) -> &[S] {
        self.as_flattened().as_flattened()
    }
    fn flat_mut(&mut self) -> &mut [S] {
        self.as_flattened_mut().as_flattened_mut()
    }
    fn zeroed() -> Self {
        [[[S::ZERO; C]; B]; A]
    }
}

impl<S: Scalar, const A: usize, const B: usize, const C: usize, const D: usize> Tensor<S>
    for [[[[S; D]; C]; B]; A]
{
    fn flat(&self) -> &[S] {
        self.as_flattened().as_flattened().as_flattened()
    }
    fn flat_mut(&mut self) -> &mut [S] {
        self.as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
    }
    fn zeroed() -> Self {
        [[[[S::ZERO; D]; C]; B]; A]
    }
}
