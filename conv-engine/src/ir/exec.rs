//! Symbolic execution of a [`Program`]: every element holds the terms summed into it (an input
//! element, or a product of two), and the outputs are compared with the derivation, each
//! element's exact multiset of terms. A local read outside the scope of its binding is
//! malformed, as the lowered code would not compile.
//!
//! A buffer the caller passes by `&mut` ([`Binding::Accumulator`]) starts empty and only
//! `Stmt::Add` may write it: its final terms are what the code added, compared with the
//! derivation like a returned gradient. Reading its prior value (which is no part of the
//! gradient) is malformed.

use super::{Binding, KernelLayout, Program, Returns};
use crate::derive::{Derivation, Derived, Product, Sums};
use std::fmt;

mod machine;
use machine::Machine;

/// Why a program is not the derivation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An output element's terms differ from the derivation's.
    Mismatch {
        /// `"u"`, `"dL/dx"`, `"dL/dk"` or `"dL/db"`.
        output: &'static str,
        /// Flat position of the element.
        element: usize,
        /// Terms the program sums there.
        got: usize,
        /// Terms the derivation sums there.
        expected: usize,
    },
    /// The program cannot run: an index out of bounds, an unbound variable, a product of sums.
    Malformed(String),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Mismatch {
                output,
                element,
                got,
                expected,
            } if got == expected => write!(
                f,
                "{output} element {element}: the code sums other terms than the derivation \
                 ({got} each)"
            ),
            Fault::Mismatch {
                output,
                element,
                got,
                expected,
            } => write!(
                f,
                "{output} element {element}: the code sums {got} terms, the derivation \
                 {expected}"
            ),
            Fault::Malformed(why) => write!(f, "the loop code cannot run: {why}"),
        }
    }
}

impl std::error::Error for Fault {}

/// What a successful execution compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Terms compared over all outputs.
    pub terms: usize,
}

/// An input element or a product, packed: `(first << 32) | second`, a lone element with
/// `first = LONE`. Products are stored with the smaller code first.
type Term = u64;
const LONE: u64 = u32::MAX as u64;

#[derive(Clone, Copy)]
enum Kind {
    X = 0,
    K = 1,
    B = 2,
    D = 3,
}

impl Kind {
    const OPERANDS: [Kind; 4] = [Kind::X, Kind::K, Kind::B, Kind::D];
}

fn leaf(kind: Kind, index: usize) -> Term {
    (LONE << 32) | ((kind as u64) << 30 | index as u64)
}

/// The product of two lone elements.
fn product(a: Term, b: Term) -> Result<Term, Fault> {
    if a >> 32 != LONE || b >> 32 != LONE {
        return Err(Fault::Malformed("a product of products".into()));
    }
    let (a, b) = (a & 0xffff_ffff, b & 0xffff_ffff);
    Ok((a.min(b) << 32) | a.max(b))
}

/// Multiplies every term of `value` (each a lone element) by the lone element `by`.
fn times(value: &[Term], by: Term, out: &mut Vec<Term>) -> Result<(), Fault> {
    for &t in value {
        out.push(product(t, by)?);
    }
    Ok(())
}

/// Executes `program` and compares its outputs with `layer`'s derivation (a convolution's
/// [`Derivation`] or a dense layer's [`Dense`](crate::derive::dense::Dense)); companion calls
/// run by `row`, the derivation of the convolution companion's geometry (a program that calls
/// the companion without one is malformed).
pub fn check<L: Derived + ?Sized>(
    program: &Program,
    layer: &L,
    row: Option<&Derivation>,
) -> Result<Checked, Fault> {
    accumulators(program)?;
    let mut machine = Machine::new(program);
    machine.run(&program.body, row)?;
    let local = |n: usize| &machine.locals[n];
    let u = |n: usize| {
        compare("u", local(n), |i| {
            let bias = leaf(Kind::B, layer.bias_of(i));
            expected_terms(layer.forward(), i, Kind::X, Kind::K, Some(bias))
        })
    };
    let dx = |n: usize| {
        compare("dL/dx", local(n), |i| {
            expected_terms(layer.dx(), i, Kind::D, Kind::K, None)
        })
    };
    let dk = |n: usize| {
        let dims = &program.locals[n].dims;
        compare("dL/dk", local(n), |i| {
            let i = kernel_index(program.layouts.dk, i, dims);
            expected_terms(layer.dk(), i, Kind::D, Kind::X, None)
        })
    };
    let db = |n: usize| {
        compare("dL/db", local(n), |i| {
            layer
                .db()
                .get(i)
                .iter()
                .map(|&Product(d, _)| leaf(Kind::D, d as usize))
                .collect()
        })
    };
    let terms = match program.returns {
        Returns::Forward { u: n } => u(n)?,
        Returns::Backward {
            dx: x,
            dk: k,
            db: b,
        } => dx(x)? + dk(k)? + db(b)?,
        Returns::Dx(n) => dx(n)?,
        Returns::Dk(n) => dk(n)?,
        Returns::Parameters { dk: k, db: b } => dk(k)? + db(b)?,
        Returns::Db(n) => db(n)?,
        Returns::Accumulate {
            dx: x,
            dk: k,
            db: b,
            ..
        } => dx(x)? + dk(k)? + db(b)?,
        Returns::Deferred { dx: x, db: b } => dx(x)? + db(b)?,
    };
    Ok(Checked { terms })
}

/// Checks that the [`Binding::Accumulator`] locals are exactly the buffers
/// [`Returns::Accumulate`] names for `dL/dk` and `dL/db` (or [`Returns::Deferred`] for
/// `dL/db`): a buffer nothing is compared in would go unchecked.
fn accumulators(program: &Program) -> Result<(), Fault> {
    let buffers = match program.returns {
        Returns::Accumulate { dk, db, .. } if dk != db => vec![dk, db],
        Returns::Deferred { db, .. } => vec![db],
        _ => Vec::new(),
    };
    for (n, local) in program.locals.iter().enumerate() {
        let accumulator = matches!(local.binding, Binding::Accumulator);
        if accumulator != buffers.contains(&n) {
            return Err(Fault::Malformed(format!(
                "`{}` is {} but the function {} it",
                local.name,
                match accumulator {
                    true => "a `&mut` buffer",
                    false => "a local",
                },
                match accumulator {
                    true => "does not add a gradient into",
                    false => "adds a gradient into",
                }
            )));
        }
    }
    if let Returns::Accumulate { dk, db, .. } = program.returns {
        if buffers.is_empty() || dk >= program.locals.len() || db >= program.locals.len() {
            return Err(Fault::Malformed(
                "`dL/dk` and `dL/db` need two `&mut` buffers".into(),
            ));
        }
    }
    if let Returns::Deferred { db, .. } = program.returns {
        if db >= program.locals.len() {
            return Err(Fault::Malformed("`dL/db` needs a `&mut` buffer".into()));
        }
    }
    Ok(())
}

/// The kernel's flat index (`[o][c][a][b]`) of element `position` of an array laid out as
/// `layout` with dimensions `dims`.
fn kernel_index(layout: KernelLayout, position: usize, dims: &[usize]) -> usize {
    match (layout, dims.last()) {
        (KernelLayout::OutputChannelsInner, Some(&co)) if co > 0 => {
            let len: usize = dims.iter().product();
            (position % co) * (len / co) + position / co
        }
        _ => position,
    }
}

/// The derivation's terms of element `i` of `sums` (`first`, `second` the kinds of each
/// product's factors), with `bias` first when given.
fn expected_terms(
    sums: &Sums,
    i: usize,
    first: Kind,
    second: Kind,
    bias: Option<Term>,
) -> Vec<Term> {
    let products = sums.get(i).iter().map(|&Product(a, b)| {
        product(leaf(first, a as usize), leaf(second, b as usize)).unwrap_or(0)
    });
    bias.into_iter().chain(products).collect()
}

fn compare(
    output: &'static str,
    got: &[Vec<Term>],
    expected: impl Fn(usize) -> Vec<Term>,
) -> Result<usize, Fault> {
    let mut terms = 0;
    for (element, got) in got.iter().enumerate() {
        let want = expected(element);
        // Most forms sum in the derivation's order: equal as lists, they are equal as multisets.
        if got.len() == want.len() && *got == want {
            terms += want.len();
            continue;
        }
        let (mut got, mut want) = (got.clone(), want);
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            return Err(Fault::Mismatch {
                output,
                element,
                got: got.len(),
                expected: want.len(),
            });
        }
        terms += want.len();
    }
    Ok(terms)
}
