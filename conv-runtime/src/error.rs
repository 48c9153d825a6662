//! Errors of the run-time API.

use core::fmt;

/// An operand of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operand {
    /// The input `x`.
    X,
    /// The kernel `k`.
    K,
    /// The bias `b`.
    B,
    /// The output `u`.
    U,
    /// The upstream gradient `delta = dL/du`.
    Delta,
    /// The gradient `dL/dx`.
    Dx,
    /// The gradient `dL/dk`.
    Dk,
    /// The gradient `dL/db`.
    Db,
}

impl Operand {
    /// The operand's name: `"x"`, `"dL/dx"`, ...
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

/// A slice whose length does not match the layer's geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShapeError {
    /// Which operand.
    pub operand: Operand,
    /// The length the geometry needs.
    pub expected: usize,
    /// The length given.
    pub found: usize,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` has {} elements, but the layer's geometry needs {}",
            self.operand.name(),
            self.found,
            self.expected
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ShapeError {}

/// `Err(ShapeError)` for the first slice in `given` whose length differs from its expected one.
pub(crate) const fn check_lengths(given: &[(Operand, usize, usize)]) -> Result<(), ShapeError> {
    let mut i = 0;
    while i < given.len() {
        let (operand, found, expected) = given[i];
        if found != expected {
            return Err(ShapeError { operand, expected, found });
        }
        i += 1;
    }
    Ok(())
}
