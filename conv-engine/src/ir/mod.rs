//! A loop IR for the generated code: loop nests over rows, positions and channels (with steps,
//! opaque or written-out counters and solved indices), element copies and sums with affine
//! indices, products, fused multiply-add chains, masked products, in-order and pairwise totals
//! of partial sums, array literals, and calls of the one-row companion layer. The engine does
//! two things with a [`Program`]:
//!
//! - [`exec`] executes it symbolically: every array element holds a sum of terms (input
//!   elements, and products of two), and the outputs are compared with the derivation, each
//!   element's exact multiset of terms (none missing, none extra). A call of the companion is
//!   executed by the companion's own derivation (the one-row layer, whose code is itself a
//!   program proven against that derivation).
//! - `lower` (with the `codegen` feature) writes it as Rust tokens, in one place.
//!
//! Arrays are the function's operands, or locals (zero-initialised, bound by a companion call,
//! bound once to a value, or constant masks), each with its dimensions; an index is affine in
//! the loop variables. Code that is written out (the unrolled form, a window's taps) is written out in
//! the IR too: its indices are constants, or affine in the enclosing loops.

pub mod exec;
#[cfg(feature = "codegen")]
pub(crate) mod lower;
pub mod prune;
mod stmt;

pub use stmt::{
    for_each_expr, for_each_expr_mut, fuse, fuse_sums, Chain, Counter, Expr, MulAdd, Stmt, Term,
};

/// A loop variable (its name in the lowered code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var(pub &'static str);

/// The loop variables the forms share: output rows and columns `i`, `j`; kernel rows and
/// columns `a`, `b`; input and output channels `c`, `o`; input (or padded input) rows and
/// columns `p`, `q`.
pub mod vars {
    use super::Var;

    /// Output row.
    pub const I: Var = Var("i");
    /// Output column.
    pub const J: Var = Var("j");
    /// Kernel row.
    pub const A: Var = Var("a");
    /// Kernel column.
    pub const B: Var = Var("b");
    /// Input channel.
    pub const C: Var = Var("c");
    /// Output channel.
    pub const O: Var = Var("o");
    /// Input row.
    pub const P: Var = Var("p");
    /// Input column.
    pub const Q: Var = Var("q");
}

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
    /// The bias `b`.
    B,
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

/// How a local holding kernel-shaped values is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KernelLayout {
    /// `[o][c][a][b]`, as the kernel.
    #[default]
    Kernel,
    /// `[c][a][b][o]`, output channels innermost.
    OutputChannelsInner,
}

/// How a local gets its value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Binding {
    /// A zero-initialised `let mut` at the top of the function.
    Zeroed,
    /// Bound by a companion call.
    Call,
    /// Bound by [`Stmt::Let`], [`Stmt::Literal`] or [`Stmt::Fill`] (each time the statement
    /// runs; in scope to the end of the body holding it).
    Let,
    /// A reference to a sub-array of another array, bound by [`Stmt::View`].
    View,
    /// A constant mask (`const NAME: [[u32; ..]; ..]`): all ones where set, zero elsewhere, in
    /// flat order; read only by [`Term::Masked`].
    Mask(Vec<bool>),
    /// A buffer the caller passes by `&mut` (the parameter of the local's name) that the code
    /// only adds into ([`Stmt::Add`]): what the code computes is what it adds, so reading the
    /// buffer's prior value, setting it or binding it is malformed.
    Accumulator,
}

/// How the kernel-shaped arrays of a program are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Layouts {
    /// The kernel operand `k`.
    pub k: KernelLayout,
    /// The `dL/dk` the program returns.
    pub dk: KernelLayout,
    /// The companion's `dL/dk` in [`Stmt::RowBackward`].
    pub row_dk: KernelLayout,
}

/// A local array: its name in the lowered code and its dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Local {
    /// The binding's name.
    pub name: String,
    /// Dimensions, outermost first (none for a scalar).
    pub dims: Vec<usize>,
    /// How it is bound.
    pub binding: Binding,
}

impl Local {
    /// A zero-initialised local.
    pub fn zeroed(name: impl Into<String>, dims: Vec<usize>) -> Self {
        Self {
            name: name.into(),
            dims,
            binding: Binding::Zeroed,
        }
    }

    /// A local a companion call binds.
    pub fn from_call(name: impl Into<String>, dims: Vec<usize>) -> Self {
        Self {
            name: name.into(),
            dims,
            binding: Binding::Call,
        }
    }

    /// A local that refers to a sub-array ([`Stmt::View`]).
    pub fn view(name: impl Into<String>, dims: Vec<usize>) -> Self {
        Self {
            name: name.into(),
            dims,
            binding: Binding::View,
        }
    }

    /// A buffer the caller passes by `&mut`, which the code only adds into.
    pub fn accumulator(name: impl Into<String>, dims: Vec<usize>) -> Self {
        Self {
            name: name.into(),
            dims,
            binding: Binding::Accumulator,
        }
    }

    /// A local bound once to its value.
    pub fn bound(name: impl Into<String>, dims: Vec<usize>) -> Self {
        Self {
            name: name.into(),
            dims,
            binding: Binding::Let,
        }
    }
}

/// What the program returns, each a local: the forward pass (`u`), the backward pass (`dx`,
/// `dk`, `db`), one part of the backward pass (the unrolled `backward` is three functions), or
/// `dx` with `dk` and `db` added into the caller's buffers (or `db` alone, `dk` left to the
/// caller).
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
    /// `dL/dx` alone.
    Dx(usize),
    /// `dL/dk` alone.
    Dk(usize),
    /// `dL/db` alone.
    Db(usize),
    /// `(dk, db)`: the parameter gradients alone ([`prune::parameters`]).
    Parameters {
        /// `dL/dk`.
        dk: usize,
        /// `dL/db`.
        db: usize,
    },
    /// `dL/dx`, with `dL/dk` and `dL/db` added into two [`Binding::Accumulator`] locals: what
    /// the code adds into each buffer is compared with the derivation.
    Accumulate {
        /// `dL/dx`, returned.
        dx: usize,
        /// The buffer `dL/dk` is added into.
        dk: usize,
        /// The buffer `dL/db` is added into.
        db: usize,
        /// Whether the buffers are the parameters themselves (`k` and `b`, passed by `&mut`)
        /// and each addition is lowered as a step of gradient descent, `p -= rate * (value)`
        /// (`rate` a parameter): the update applied as the gradient is computed. Reading an
        /// element of `k` or `b` after the code wrote its buffer's is malformed (the lowered code
        /// would read the updated parameter).
        descent: bool,
    },
    /// `dL/dx`, with `dL/db` added into a [`Binding::Accumulator`] local, and `dL/dk` computed
    /// by none of the program's statements: the caller forms it later from the same `delta` and
    /// `x` (a trainer sums a batch's `dL/dw` of a dense layer once for the batch). `dL/dx` and
    /// what the code adds into the buffer are compared with the derivation.
    Deferred {
        /// `dL/dx`, returned.
        dx: usize,
        /// The buffer `dL/db` is added into.
        db: usize,
    },
}

impl Returns {
    /// The one local the function returns, or `None` where it returns several (`Gradients`,
    /// or the pair of parameter gradients).
    pub fn returned(&self) -> Option<usize> {
        match *self {
            Returns::Forward { u: n }
            | Returns::Dx(n)
            | Returns::Dk(n)
            | Returns::Db(n)
            | Returns::Accumulate { dx: n, .. }
            | Returns::Deferred { dx: n, .. } => Some(n),
            Returns::Backward { .. } | Returns::Parameters { .. } => None,
        }
    }
}

/// One function's code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Program {
    /// Dimensions of `x`, `k`, `b` and `delta` (outermost first; plain layers have no channel
    /// axis, and their bias is a scalar).
    pub operands: [Vec<usize>; 4],
    /// Operands whose elements the lowered code binds to names once (`let [k_0_0, ..] = *k;`)
    /// and reads by name where an index is constant, in the order they are bound.
    pub named: Vec<Array>,
    /// The locals, zero-initialised.
    pub locals: Vec<Local>,
    /// The statements.
    pub body: Vec<Stmt>,
    /// How `k`, the returned `dL/dk` and the companion's are laid out.
    pub layouts: Layouts,
    /// What the function returns.
    pub returns: Returns,
}

impl Program {
    /// The dimensions of `array`.
    pub fn dims(&self, array: Array) -> &[usize] {
        match array {
            Array::X => &self.operands[0],
            Array::K => &self.operands[1],
            Array::B => &self.operands[2],
            Array::Delta => &self.operands[3],
            Array::Local(n) => &self.locals[n].dims,
        }
    }
}
