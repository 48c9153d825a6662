//! A loop IR for the generated code: loop nests over rows, positions and channels, element
//! copies and accumulations with affine indices, and calls of the one-row companion layer.
//! The engine does two things with a [`Program`]:
//!
//! - [`exec`] executes it symbolically: every array element holds a sum of terms (input
//!   elements, and products of two), and the outputs are compared with the derivation, each
//!   element's exact multiset of terms (none missing, none extra). A call of the companion is
//!   executed by the companion's own derivation (the one-row layer, whose code the
//!   compile-time evaluation checks whole).
//! - `lower` (with the `codegen` feature) writes it as Rust tokens, in one place.
//!
//! Arrays are zero-initialised locals or the function's operands, each with its dimensions;
//! an index is affine in the loop variables.

pub mod exec;
#[cfg(feature = "codegen")]
pub(crate) mod lower;

/// A loop variable (its name in the lowered code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var(pub &'static str);

/// `constant + Σ coefficient * variable`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Index {
    /// The constant part.
    pub constant: usize,
    /// The variable parts.
    pub terms: Vec<(Var, usize)>,
}

impl Index {
    /// A constant index.
    pub fn at(constant: usize) -> Self {
        Self {
            constant,
            terms: Vec::new(),
        }
    }

    /// `var`.
    pub fn var(var: Var) -> Self {
        Self::at(0).plus(var, 1)
    }

    /// `self + coefficient * var`.
    pub fn plus(mut self, var: Var, coefficient: usize) -> Self {
        if coefficient > 0 {
            self.terms.push((var, coefficient));
        }
        self
    }

    /// `self + constant`.
    pub fn offset(mut self, constant: usize) -> Self {
        self.constant += constant;
        self
    }
}

/// An array: an operand of the function or a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Array {
    /// The input `x`.
    X,
    /// The kernel `k`.
    K,
    /// `delta = dL/du`.
    Delta,
    /// Local number `n` of [`Program::locals`].
    Local(usize),
}

/// One element: an array and an index per dimension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    /// The array.
    pub array: Array,
    /// One index per dimension, outermost first.
    pub index: Vec<Index>,
}

/// A statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `for var in 0..extent { body }` (`opaque`: the counter passes through
    /// `core::hint::black_box`, which keeps LLVM from vectorising across it).
    Loop {
        /// The variable.
        var: Var,
        /// The trip count.
        extent: usize,
        /// Whether the counter is opaque to the optimiser.
        opaque: bool,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `to = from`.
    Copy {
        /// The element written.
        to: Place,
        /// The element read.
        from: Place,
    },
    /// `to += from`.
    Add {
        /// The element updated.
        to: Place,
        /// The element read.
        from: Place,
    },
    /// `out = companion.forward(window, k, b)`: `window` and `out` are locals shaped like the
    /// companion's input and output.
    RowForward {
        /// The companion's input.
        window: usize,
        /// The companion's output.
        out: usize,
    },
    /// `(dx, dk, db) = companion.backward(window, k, delta_row)`; `dk` is laid out as
    /// [`Program::dk_layout`] says.
    RowBackward {
        /// The companion's input.
        window: usize,
        /// The companion's `delta`.
        delta: usize,
        /// Its `dL/dx`, shaped like `window`.
        dx: usize,
        /// Its `dL/dk`.
        dk: usize,
        /// Its `dL/db`.
        db: usize,
    },
}

/// How a local holding kernel-shaped values is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelLayout {
    /// `[o][c][a][b]`, as the kernel.
    Kernel,
    /// `[c][a][b][o]`, output channels innermost.
    OutputChannelsInner,
}

/// A local array: its name in the lowered code and its dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Local {
    /// The binding's name.
    pub name: &'static str,
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Whether a companion call binds it (else it is a zero-initialised `let mut`).
    pub bound_by_call: bool,
}

impl Local {
    /// A zero-initialised local.
    pub fn zeroed(name: &'static str, dims: Vec<usize>) -> Self {
        Self {
            name,
            dims,
            bound_by_call: false,
        }
    }

    /// A local a companion call binds.
    pub fn from_call(name: &'static str, dims: Vec<usize>) -> Self {
        Self {
            name,
            dims,
            bound_by_call: true,
        }
    }
}

/// What the program returns: the forward pass (`u`) or the backward pass (`dx`, `dk`, `db`),
/// each a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Returns {
    /// `u`.
    Forward {
        /// `u`.
        u: usize,
    },
    /// `Gradients { dx, dk, db }`.
    Backward {
        /// `dL/dx`.
        dx: usize,
        /// `dL/dk`.
        dk: usize,
        /// `dL/db`.
        db: usize,
    },
}

/// One function's code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Program {
    /// Dimensions of `x`, `k` and `delta` (outermost first; plain layers have no channel axis).
    pub operands: [Vec<usize>; 3],
    /// The locals, zero-initialised.
    pub locals: Vec<Local>,
    /// The statements.
    pub body: Vec<Stmt>,
    /// The layout of the companion's `dL/dk` in [`Stmt::RowBackward`].
    pub dk_layout: KernelLayout,
    /// What the function returns.
    pub returns: Returns,
}

impl Program {
    /// The dimensions of `array`.
    pub fn dims(&self, array: Array) -> &[usize] {
        match array {
            Array::X => &self.operands[0],
            Array::K => &self.operands[1],
            Array::Delta => &self.operands[2],
            Array::Local(n) => &self.locals[n].dims,
        }
    }
}
