//! The machine that runs a [`Program`] symbolically: loops, sums, views, masks and companion
//! calls over arrays whose elements hold their terms.

mod companion;

use super::{kernel_index, leaf, times, Fault, Kind, Term};
use crate::derive::Derivation;
use crate::ir::{Array, Binding, Expr, Index, Place, Program, Returns, Stmt, Term as IrTerm, Var};

pub(super) struct Machine<'p> {
    program: &'p Program,
    operands: [Vec<Vec<Term>>; 4],
    pub(super) locals: Vec<Vec<Vec<Term>>>,
    /// Whether each local is in scope: zeroed locals, masks and `&mut` buffers always, the
    /// others from the
    /// statement that binds them to the end of the body holding it (reading one out of scope
    /// is malformed: the lowered code would not compile).
    bound: Vec<bool>,
    /// For each view local, the array it refers to and the flat position it starts at.
    views: Vec<Option<(Array, usize)>>,
    /// The bound loop variables and their values, innermost last (a few: a linear search is
    /// cheaper than hashing, above all in the unoptimised proc-macro).
    vars: Vec<(&'static str, usize)>,
}

impl<'p> Machine<'p> {
    pub(super) fn new(program: &'p Program) -> Self {
        let len = |dims: &[usize]| dims.iter().product::<usize>();
        let operand = |n: usize| {
            let dims = &program.operands[n];
            (0..len(dims))
                .map(|i| {
                    let i = match n {
                        1 => kernel_index(program.layouts.k, i, dims),
                        _ => i,
                    };
                    vec![leaf(Kind::OPERANDS[n], i)]
                })
                .collect()
        };
        Self {
            program,
            operands: [0, 1, 2, 3].map(operand),
            locals: program
                .locals
                .iter()
                .map(|l| vec![Vec::new(); len(&l.dims)])
                .collect(),
            bound: program
                .locals
                .iter()
                .map(|l| {
                    matches!(
                        l.binding,
                        Binding::Zeroed | Binding::Mask(_) | Binding::Accumulator
                    )
                })
                .collect(),
            views: vec![None; program.locals.len()],
            vars: Vec::new(),
        }
    }

    pub(super) fn run(&mut self, body: &[Stmt], row: Option<&Derivation>) -> Result<(), Fault> {
        let companion =
            || row.ok_or_else(|| Fault::Malformed("a companion call without a companion".into()));
        // The locals this body binds, out of scope again after it.
        let mut scoped = Vec::new();
        for stmt in body {
            match stmt {
                Stmt::Loop {
                    var,
                    extent,
                    step,
                    body,
                    ..
                } => {
                    if *step == 0 {
                        return Err(Fault::Malformed(format!("`{}` steps by 0", var.0)));
                    }
                    self.fresh(*var)?;
                    for value in (0..*extent).step_by(*step) {
                        self.set(var.0, value);
                        self.run(body, row)?;
                    }
                    self.unset(var.0);
                }
                Stmt::Solve {
                    var,
                    target,
                    offset,
                    stride,
                    extent,
                    body,
                } => {
                    if *stride == 0 {
                        return Err(Fault::Malformed(format!("`{}` has the stride 0", var.0)));
                    }
                    let (target, offset) = (self.eval(target)?, self.eval(offset)?);
                    let solved = target
                        .checked_sub(offset)
                        .filter(|rel| rel % stride == 0 && rel / stride < *extent);
                    if let Some(rel) = solved {
                        self.fresh(*var)?;
                        self.set(var.0, rel / stride);
                        self.run(body, row)?;
                        self.unset(var.0);
                    }
                }
                Stmt::Block(body) => self.run(body, row)?,
                Stmt::Opaque { .. } => {}
                Stmt::View { local, of, .. } => {
                    let (array, range) = self.target(of)?;
                    if range.len() != self.locals[*local].len() {
                        return Err(Fault::Malformed(format!(
                            "`{}` holds {} elements, {of:?} {}",
                            self.program.locals[*local].name,
                            self.locals[*local].len(),
                            range.len()
                        )));
                    }
                    self.views[*local] = Some((array, range.start));
                }
                Stmt::Fill { local, value } => {
                    let row_values = self.eval_block(value)?;
                    let n = self.locals[*local].len() / row_values.len().max(1);
                    let values = (0..n).flat_map(|_| row_values.iter().cloned()).collect();
                    self.store(*local, values)?;
                }
                Stmt::Set { to, value } if to.index.len() < self.program.dims(to.array).len() => {
                    let values = self.eval_block(value)?;
                    let (array, range) = self.target(to)?;
                    if range.len() != values.len() {
                        return Err(Fault::Malformed(format!(
                            "{to:?} holds {} elements, the value {}",
                            range.len(),
                            values.len()
                        )));
                    }
                    let Array::Local(n) = array else {
                        return Err(Fault::Malformed(format!("{to:?}: operands are read-only")));
                    };
                    self.added_only(n, false)?;
                    for (slot, value) in self.locals[n][range].iter_mut().zip(values) {
                        *slot = value;
                    }
                }
                Stmt::Set { to, value } => {
                    let value = self.eval_expr(value)?;
                    *self.write(to, false)? = value;
                }
                Stmt::Add { to, value } => {
                    let value = self.eval_expr(value)?;
                    self.write(to, true)?.extend(value);
                }
                Stmt::Let { local, value } => {
                    let values = match self.program.locals[*local].dims.is_empty() {
                        true => vec![self.eval_expr(value)?],
                        false => self.eval_block(value)?,
                    };
                    self.store(*local, values)?;
                }
                Stmt::Literal { local, elements } => {
                    let values = elements
                        .iter()
                        .map(|e| self.eval_expr(e))
                        .collect::<Result<_, _>>()?;
                    self.store(*local, values)?;
                }
                Stmt::RowForward { window, out } => {
                    self.row_forward(*window, *out, companion()?)?
                }
                Stmt::RowBackward {
                    window,
                    delta,
                    dx,
                    dk,
                    db,
                } => self.row_backward([*window, *delta, *dx, *dk, *db], companion()?)?,
            }
            match *stmt {
                Stmt::Let { local, .. }
                | Stmt::Literal { local, .. }
                | Stmt::Fill { local, .. }
                | Stmt::View { local, .. }
                | Stmt::RowForward { out: local, .. } => self.bind(local, &mut scoped),
                Stmt::RowBackward { dx, dk, db, .. } => {
                    for n in [dx, dk, db] {
                        self.bind(n, &mut scoped);
                    }
                }
                _ => {}
            }
        }
        for n in scoped {
            self.bound[n] = false;
        }
        Ok(())
    }

    /// Brings `local` into scope for the rest of the body being run (`scoped`: the locals
    /// that body brought into scope).
    fn bind(&mut self, local: usize, scoped: &mut Vec<usize>) {
        if !std::mem::replace(&mut self.bound[local], true) {
            scoped.push(local);
        }
    }

    /// Checks that `var` is not bound already (a nested loop reusing an enclosing loop's
    /// variable is malformed).
    fn fresh(&self, var: Var) -> Result<(), Fault> {
        match self.vars.iter().any(|&(name, _)| name == var.0) {
            true => Err(Fault::Malformed(format!("`{}` is bound twice", var.0))),
            false => Ok(()),
        }
    }

    fn flat(&self, place: &Place) -> Result<usize, Fault> {
        self.element(place)?;
        Ok(self.range(place)?.start)
    }

    /// The flat positions of the (sub-)array at `place` (one element when every dimension is
    /// indexed).
    fn range(&self, place: &Place) -> Result<std::ops::Range<usize>, Fault> {
        let dims = self.program.dims(place.array);
        if dims.len() < place.index.len() {
            return Err(Fault::Malformed(format!("{place:?} has the wrong rank")));
        }
        if let Array::Local(n) = place.array {
            if !self.bound[n] {
                let name = &self.program.locals[n].name;
                return Err(Fault::Malformed(format!("`{name}` is used out of scope")));
            }
        }
        let mut flat = 0;
        for (index, &n) in place.index.iter().zip(dims) {
            let i = self.eval(index)?;
            if i >= n {
                return Err(Fault::Malformed(format!("{place:?}: {i} is out of 0..{n}")));
            }
            flat = flat * n + i;
        }
        let len: usize = dims[place.index.len()..].iter().product();
        Ok(flat * len..(flat + 1) * len)
    }

    /// The array `place` is in (through a view, the one the view refers to) and its flat
    /// positions there.
    fn target(&self, place: &Place) -> Result<(Array, std::ops::Range<usize>), Fault> {
        let range = self.range(place)?;
        Ok(match place.array {
            Array::Local(n) => match self.views[n] {
                Some((array, start)) => (array, start + range.start..start + range.end),
                None => (place.array, range),
            },
            _ => (place.array, range),
        })
    }

    /// The elements a statement's whole value gives: those of a sub-array when it is a single
    /// read of one, else the one sum.
    fn eval_block(&self, value: &Expr) -> Result<Vec<Vec<Term>>, Fault> {
        match value.terms.as_slice() {
            [IrTerm::Read(p)] if p.index.len() < self.program.dims(p.array).len() => {
                let (array, range) = self.source(p)?;
                Ok(self.array(array)[range].to_vec())
            }
            _ => Ok(vec![self.eval_expr(value)?]),
        }
    }

    /// Binds `name` to `value` (again, in the loop that binds it).
    fn set(&mut self, name: &'static str, value: usize) {
        match self.vars.iter_mut().rev().find(|(bound, _)| *bound == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
    }

    fn unset(&mut self, name: &'static str) {
        self.vars.retain(|&(bound, _)| bound != name);
    }

    fn eval(&self, index: &Index) -> Result<usize, Fault> {
        let mut value = index.constant;
        for &(Var(name), coefficient) in &index.terms {
            let v = self
                .vars
                .iter()
                .rev()
                .find(|&&(bound, _)| bound == name)
                .map(|&(_, v)| v)
                .ok_or_else(|| Fault::Malformed(format!("`{name}` is not a loop variable here")))?;
            value += coefficient * v;
        }
        Ok(value)
    }

    fn array(&self, array: Array) -> &Vec<Vec<Term>> {
        match array {
            Array::X => &self.operands[0],
            Array::K => &self.operands[1],
            Array::B => &self.operands[2],
            Array::Delta => &self.operands[3],
            Array::Local(n) => &self.locals[n],
        }
    }

    /// The terms `value` sums (a product of two sums distributed).
    fn eval_expr(&self, value: &Expr) -> Result<Vec<Term>, Fault> {
        let mut out = Vec::new();
        for term in &value.terms {
            match term {
                IrTerm::Read(p) => out.extend_from_slice(self.read(p)?),
                IrTerm::Masked(a, b, mask) => {
                    let kept = match mask.array {
                        Array::Local(n) => match &self.program.locals[n].binding {
                            Binding::Mask(bits) => bits.get(self.flat(mask)?).copied(),
                            _ => None,
                        },
                        _ => None,
                    };
                    match kept {
                        Some(true) => {
                            let b = self.read(b)?;
                            for &t in self.read(a)? {
                                times(b, t, &mut out)?;
                            }
                        }
                        Some(false) => {}
                        None => {
                            return Err(Fault::Malformed(format!("{mask:?} is not a mask")));
                        }
                    }
                }
                IrTerm::Total(p) | IrTerm::Pairwise(p) => {
                    let (array, range) = self.source(p)?;
                    for element in &self.array(array)[range] {
                        out.extend_from_slice(element);
                    }
                }
                IrTerm::Leading(p, n) => {
                    let (array, range) = self.source(p)?;
                    if *n > range.len() {
                        return Err(Fault::Malformed(format!(
                            "{p:?} has fewer than {n} elements"
                        )));
                    }
                    for element in &self.array(array)[range.start..range.start + n] {
                        out.extend_from_slice(element);
                    }
                }
                IrTerm::Product(a, b) => {
                    let b = self.read(b)?;
                    for &t in self.read(a)? {
                        times(b, t, &mut out)?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Checks that `place` indexes every dimension of its array.
    fn element(&self, place: &Place) -> Result<(), Fault> {
        match self.program.dims(place.array).len() == place.index.len() {
            true => Ok(()),
            false => Err(Fault::Malformed(format!("{place:?} has the wrong rank"))),
        }
    }

    fn read(&self, place: &Place) -> Result<&[Term], Fault> {
        self.element(place)?;
        let (array, range) = self.source(place)?;
        Ok(&self.array(array)[range.start])
    }

    /// In a program of gradient descent ([`Returns::Accumulate`] with `descent`), element
    /// `flat` of the operand `array` (`k` or `b`) is the parameter its buffer updates in place:
    /// reading it after the buffer's element was written would read the updated value.
    fn not_yet_updated(&self, array: Array, flat: usize) -> Result<(), Fault> {
        let buffer = match (&self.program.returns, array) {
            (
                Returns::Accumulate {
                    dk, descent: true, ..
                },
                Array::K,
            ) => *dk,
            (
                Returns::Accumulate {
                    db, descent: true, ..
                },
                Array::B,
            ) => *db,
            _ => return Ok(()),
        };
        match self.locals.get(buffer).and_then(|l| l.get(flat)) {
            Some(terms) if !terms.is_empty() => Err(Fault::Malformed(format!(
                "{array:?} element {flat} is read after its update in place"
            ))),
            _ => Ok(()),
        }
    }

    /// [`Self::target`] for a read: a `&mut` buffer's prior value is no part of what the code
    /// computes, nor is a parameter after its update in place ([`Self::not_yet_updated`]).
    fn source(&self, place: &Place) -> Result<(Array, std::ops::Range<usize>), Fault> {
        let (array, range) = self.target(place)?;
        match array {
            Array::Local(n) if matches!(self.program.locals[n].binding, Binding::Accumulator) => {
                Err(Fault::Malformed(format!(
                    "{place:?} reads the prior value of the `&mut` buffer `{}`",
                    self.program.locals[n].name
                )))
            }
            _ => {
                for flat in range.clone() {
                    self.not_yet_updated(array, flat)?;
                }
                Ok((array, range))
            }
        }
    }

    /// Checks that local `n` may be written by an `added` (`+=`) or other write: a `&mut`
    /// buffer only by `+=`.
    fn added_only(&self, n: usize, added: bool) -> Result<(), Fault> {
        match (added, &self.program.locals[n].binding) {
            (false, Binding::Accumulator) => Err(Fault::Malformed(format!(
                "`{}` is a `&mut` buffer the code may only add into",
                self.program.locals[n].name
            ))),
            _ => Ok(()),
        }
    }

    /// The element at `place`, for `+=` when `added`, else for `=`.
    fn write(&mut self, place: &Place, added: bool) -> Result<&mut Vec<Term>, Fault> {
        self.element(place)?;
        let (array, range) = self.target(place)?;
        match array {
            Array::Local(n) => {
                self.added_only(n, added)?;
                Ok(&mut self.locals[n][range.start])
            }
            _ => Err(Fault::Malformed(format!(
                "{place:?}: operands are read-only"
            ))),
        }
    }

    pub(super) fn store(&mut self, local: usize, values: Vec<Vec<Term>>) -> Result<(), Fault> {
        self.added_only(local, false)?;
        if self.locals[local].len() != values.len() {
            return Err(Fault::Malformed(format!(
                "`{}` holds {} elements, its value {}",
                self.program.locals[local].name,
                self.locals[local].len(),
                values.len()
            )));
        }
        self.locals[local] = values;
        Ok(())
    }
}
