//! Errors of the run-time API.

use core::fmt;

/// An operand of a convolution, as named in a [`ShapeError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operand {
    /// The input `x`, `[C_in][H][W]`.
    X,
    /// The kernel `k`, `[C_out][C_in][KH][KW]`.
    K,
    /// The bias `b`, `[C_out]`.
    B,
    /// The output `u`, `[C_out][OH][OW]`.
    U,
    /// The upstream gradient `delta = dL/du`, `[C_out][OH][OW]`.
    Delta,
    /// The gradient `dL/dx`, shaped like `x`.
    Dx,
    /// The gradient `dL/dk`, shaped like `k`.
    Dk,
    /// The gradient `dL/db`, shaped like `b`.
    Db,
}

impl Operand {
    /// The operand's name as the documentation writes it: `"x"`, `"delta"`, `"dL/dx"`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Operand::X => "x",
            Operand::K => "k",
            Operand::B => "b",
            Operand::U => "u",
            Operand::Delta => "delta",
            Operand::Dx => "dL/dx",
            Operand::Dk => "dL/dk",
            Operand::Db => "dL/db",
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A slice whose length does not match the layer's geometry.
///
/// The struct is `#[non_exhaustive]` (fields may be added): its fields can be read, but code
/// outside this crate builds one with [`ShapeError::new`] rather than a struct literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ShapeError {
    /// Which operand.
    pub what: Operand,
    /// The length the geometry needs.
    pub expected: usize,
    /// The length given.
    pub found: usize,
}

impl ShapeError {
    /// The error for operand `what`, whose length is `found` where the geometry needs
    /// `expected`.
    ///
    /// ```
    /// use conv_runtime::{Operand, ShapeError};
    ///
    /// let e = ShapeError::new(Operand::K, 9, 8);
    /// assert_eq!((e.what, e.expected, e.found), (Operand::K, 9, 8));
    /// assert_eq!(e.to_string(), "`k` has 8 elements, but the layer's geometry needs 9");
    /// ```
    pub const fn new(what: Operand, expected: usize, found: usize) -> Self {
        Self {
            what,
            expected,
            found,
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` has {} elements, but the layer's geometry needs {}",
            self.what, self.found, self.expected
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ShapeError {}

/// `Err` for the first `(operand, found, expected)` whose lengths differ.
pub(crate) const fn check_lengths(given: &[(Operand, usize, usize)]) -> Result<(), ShapeError> {
    let mut i = 0;
    while i < given.len() {
        let (what, found, expected) = given[i];
        if found != expected {
            return Err(ShapeError {
                what,
                expected,
                found,
            });
        }
        i += 1;
    }
    Ok(())
}
