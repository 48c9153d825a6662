//! Statements and sums: what a [`super::Program`]'s body is made of.

use super::{Index, Place, Var};

/// One term of a sum: an element, the product of two, or the sum of a sub-array's elements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    /// An element (or, as a statement's whole value, a sub-array: a place with fewer indices
    /// than its array has dimensions).
    Read(Place),
    /// The product of two elements.
    Product(Place, Place),
    /// `total(&place)`: the elements of the sub-array at `place`, added in order.
    Total(Place),
    /// `leading(&place, n)`: the first `n` elements of the row at `place`, added pairwise (those
    /// past the largest power of two not above `n` into the first ones, then halves); the row's
    /// other elements are never read.
    Leading(Place, usize),
    /// `sum(&place)`: the elements of the sub-array at `place` (a power of two of them),
    /// added pairwise: the second half into the first, until one is left.
    Pairwise(Place),
    /// `T::from_bits((a * b).to_bits() & mask)`: the product where the element `mask` of a
    /// [`Binding::Mask`](super::Binding::Mask) local is set, `+0` where it is not.
    Masked(Place, Place, Place),
}

/// How a sum's terms are added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chain {
    /// `t0 + t1 + ..`, left to right.
    Plain,
    /// The first term, then each product after it fused into the running sum through
    /// `conv_runtime::mul_add` (`mul_add(a2, b2, mul_add(a1, b1, t0))`).
    MulAdd(MulAdd),
}

/// Which `conv_runtime::mul_add` a [`Chain::MulAdd`] sum calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MulAdd {
    /// `mul_add::f32`/`f64`: fused where the build's target has FMA.
    Target,
    /// `mul_add::fused::f32`/`f64`: fused wherever `std` is on.
    Fused,
}

/// A sum of terms in order (zero when empty).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Expr {
    /// The terms, in summation order.
    pub terms: Vec<Term>,
    /// How they are added.
    pub chain: Chain,
}

impl Expr {
    /// One element.
    pub fn read(place: Place) -> Self {
        Self::plain(vec![Term::Read(place)])
    }

    /// `t0 + t1 + ..`.
    pub fn plain(terms: Vec<Term>) -> Self {
        Self {
            terms,
            chain: Chain::Plain,
        }
    }

    /// Every place the expression reads.
    pub fn places(&self) -> impl Iterator<Item = &Place> {
        self.terms.iter().flat_map(|t| match t {
            Term::Read(p) | Term::Total(p) | Term::Leading(p, _) | Term::Pairwise(p) => {
                std::slice::from_ref(p).iter().chain(None)
            }
            Term::Product(a, b) => std::slice::from_ref(a).iter().chain(Some(b)),
            Term::Masked(a, b, _) => std::slice::from_ref(a).iter().chain(Some(b)),
        })
    }

    /// Every place the expression reads, mutably.
    pub fn places_mut(&mut self) -> impl Iterator<Item = &mut Place> {
        self.terms.iter_mut().flat_map(|t| match t {
            Term::Read(p) | Term::Total(p) | Term::Leading(p, _) | Term::Pairwise(p) => {
                std::slice::from_mut(p).iter_mut().chain(None)
            }
            Term::Product(a, b) => std::slice::from_mut(a).iter_mut().chain(Some(b)),
            Term::Masked(a, b, _) => std::slice::from_mut(a).iter_mut().chain(Some(b)),
        })
    }
}

/// How a loop's counter is written in the lowered code. The values the loop runs through are
/// the same in each, and so is everything the symbolic execution sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// `var += step` in a `while` loop.
    Plain,
    /// `var = core::hint::black_box(var + step)`: keeps LLVM from vectorising across the loop.
    Opaque,
    /// The body written once per value, each copy in a block of its own after
    /// `let var = value;`: every index the counter takes part in is a constant, so a local
    /// array indexed by it can live in registers (LLVM unrolls only short loops itself).
    Unrolled,
}

/// A statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `for var in (0..extent).step_by(step) { body }`, its counter written as `counter` says.
    Loop {
        /// The variable.
        var: Var,
        /// The bound: the loop runs while `var < extent`.
        extent: usize,
        /// The step (at least 1).
        step: usize,
        /// How the counter is written: it changes the code LLVM sees, never the values.
        counter: Counter,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `to = value` (a sub-array when `to` has fewer indices than its array has dimensions,
    /// and `value` a single read of a sub-array of the same shape).
    Set {
        /// The element written.
        to: Place,
        /// The value.
        value: Expr,
    },
    /// `to += value`.
    Add {
        /// The element updated.
        to: Place,
        /// The value added.
        value: Expr,
    },
    /// `let name = value;`: binds a local ([`Binding::Let`](super::Binding::Let)): a scalar to a sum, an array to a
    /// single read of a (sub-)array of its shape.
    Let {
        /// The local.
        local: usize,
        /// Its value.
        value: Expr,
    },
    /// `let name = [[e0, e1, ..], ..];`: binds every element of a local ([`Binding::Let`](super::Binding::Let)) at
    /// once, in flat order.
    Literal {
        /// The local.
        local: usize,
        /// One value per element.
        elements: Vec<Expr>,
    },
    /// `let mut name = [value; n];`: binds every element of a local ([`Binding::Let`](super::Binding::Let)) to the
    /// same scalar sum (`[[value; m]; n]` for more dimensions), or every row to a single read of
    /// a sub-array shaped like the rest of the local's dimensions.
    Fill {
        /// The local.
        local: usize,
        /// The value of each row.
        value: Expr,
    },
    /// `{ body }`.
    Block(Vec<Stmt>),
    /// `let name = core::hint::black_box(name);`: the local's values unchanged, hidden from
    /// the optimiser.
    Opaque {
        /// The local.
        local: usize,
    },
    /// `if target >= offset && (target - offset) % stride == 0 && (target - offset) / stride <
    /// extent { let var = (target - offset) / stride; body }`: the body for the one value of
    /// `var` (if any) with `var * stride + offset == target` and `var < extent`.
    Solve {
        /// The variable bound.
        var: Var,
        /// The value solved for.
        target: Index,
        /// Its offset.
        offset: Index,
        /// The coefficient of `var`.
        stride: usize,
        /// The bound on `var`.
        extent: usize,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `let name = &of;` (`&mut of` when `mutable`): binds a [`Binding::View`](super::Binding::View) local to the
    /// sub-array at `of` (the local's dimensions are the rest of `of`'s array's); reads and
    /// writes through it are those of that sub-array.
    View {
        /// The local.
        local: usize,
        /// The sub-array it refers to.
        of: Place,
        /// Whether writes go through it.
        mutable: bool,
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
    /// [`Layouts::row_dk`](super::Layouts::row_dk) says.
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

/// Calls `f` on every sum of `body`, depth first.
pub fn for_each_expr<'p>(body: &'p [Stmt], f: &mut impl FnMut(&'p Expr)) {
    for s in body {
        match s {
            Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => {
                for_each_expr(body, f)
            }
            Stmt::Set { value, .. }
            | Stmt::Add { value, .. }
            | Stmt::Let { value, .. }
            | Stmt::Fill { value, .. } => f(value),
            Stmt::Literal { elements, .. } => elements.iter().for_each(&mut *f),
            Stmt::Opaque { .. }
            | Stmt::View { .. }
            | Stmt::RowForward { .. }
            | Stmt::RowBackward { .. } => {}
        }
    }
}

/// Every `to += a * b` of `body` written `to = mul_add(a, b, to)` through `conv_runtime`'s
/// `mul_add::fused` (one rounding): the same terms, in the same order.
pub fn fuse(body: &mut [Stmt]) {
    for s in body.iter_mut() {
        match s {
            Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => fuse(body),
            Stmt::Add { to, value }
                if value.chain == Chain::Plain
                    && matches!(value.terms.as_slice(), [Term::Product(..)]) =>
            {
                let mut terms = vec![Term::Read(to.clone())];
                terms.append(&mut value.terms);
                *s = Stmt::Set {
                    to: to.clone(),
                    value: Expr {
                        terms,
                        chain: Chain::MulAdd(MulAdd::Fused),
                    },
                };
            }
            _ => {}
        }
    }
}

/// [`fuse`], and every plain sum of a first term and products after it (`t0 + a1*b1 + ..`,
/// a `forward` element after its bias) written `mul_add(.., mul_add(a1, b1, t0))`: the same
/// terms, in the same order, each product rounded once with its sum.
pub fn fuse_sums(body: &mut [Stmt]) {
    fuse(body);
    for_each_expr_mut(body, &mut |e| {
        if let (Chain::Plain, [first, rest @ ..]) = (e.chain, e.terms.as_slice()) {
            let products = rest.iter().all(|t| matches!(t, Term::Product(..)));
            if !matches!(first, Term::Product(..)) && !rest.is_empty() && products {
                e.chain = Chain::MulAdd(MulAdd::Fused);
            }
        }
    });
}

/// Calls `f` on every sum of `body`, depth first, mutably.
pub fn for_each_expr_mut(body: &mut [Stmt], f: &mut impl FnMut(&mut Expr)) {
    for s in body {
        match s {
            Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => {
                for_each_expr_mut(body, f)
            }
            Stmt::Set { value, .. }
            | Stmt::Add { value, .. }
            | Stmt::Let { value, .. }
            | Stmt::Fill { value, .. } => f(value),
            Stmt::Literal { elements, .. } => elements.iter_mut().for_each(&mut *f),
            Stmt::Opaque { .. }
            | Stmt::View { .. }
            | Stmt::RowForward { .. }
            | Stmt::RowBackward { .. } => {}
        }
    }
}

impl Stmt {
    /// `for var in 0..extent { body }`.
    pub fn each(var: Var, extent: usize, body: Vec<Stmt>) -> Self {
        Stmt::Loop {
            var,
            extent,
            step: 1,
            counter: Counter::Plain,
            body,
        }
    }

    /// `for var in 0..extent { body }`, the counter opaque to the optimiser when `opaque`.
    pub fn counted(var: Var, extent: usize, opaque: bool, body: Vec<Stmt>) -> Self {
        let counter = match opaque {
            true => Counter::Opaque,
            false => Counter::Plain,
        };
        Stmt::Loop {
            var,
            extent,
            step: 1,
            counter,
            body,
        }
    }

    /// `for var in 0..extent { body }`, written out once per value ([`Counter::Unrolled`]).
    pub fn unrolled(var: Var, extent: usize, body: Vec<Stmt>) -> Self {
        Stmt::Loop {
            var,
            extent,
            step: 1,
            counter: Counter::Unrolled,
            body,
        }
    }

    /// `to = from`.
    pub fn copy(to: Place, from: Place) -> Self {
        Stmt::Set {
            to,
            value: Expr::read(from),
        }
    }

    /// `to += from`.
    pub fn add(to: Place, from: Place) -> Self {
        Stmt::Add {
            to,
            value: Expr::read(from),
        }
    }

    /// `to += a * b`.
    pub fn mul_add(to: Place, a: Place, b: Place) -> Self {
        Stmt::Add {
            to,
            value: Expr::plain(vec![Term::Product(a, b)]),
        }
    }
}
