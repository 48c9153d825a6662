//! A `backward` program cut down to its parameter gradients: the statements that `dL/dk` and
//! `dL/db` depend on, and no others (the first layer of a network needs no `dL/dx`). The cut
//! program is a program like any other: executing it symbolically proves it, term by term,
//! against the derivation's `dL/dk` and `dL/db`.

use super::{Array, Expr, Place, Program, Returns, Stmt, Term};

/// The statements of `program` (a [`Returns::Backward`] program) that `dL/dk` and `dL/db`
/// depend on, returning [`Returns::Parameters`]; `None` for other programs and for programs
/// with statements this cut does not follow (views, companion calls).
pub fn parameters(program: &Program) -> Option<Program> {
    let Returns::Backward { dk, db, .. } = program.returns else {
        return None;
    };
    if !plain(&program.body) {
        return None;
    }
    let mut needed = vec![false; program.locals.len()];
    needed[dk] = true;
    needed[db] = true;
    // Each pass marks what the kept statements read; the marks only grow, so this ends.
    loop {
        let before = needed.clone();
        mark(&program.body, &mut needed);
        if needed == before {
            break;
        }
    }
    let body = keep(&program.body, &needed);
    // Renumber the locals that stay.
    let mut new = vec![usize::MAX; program.locals.len()];
    let mut locals = Vec::new();
    for (n, local) in program.locals.iter().enumerate() {
        if needed[n] {
            new[n] = locals.len();
            locals.push(local.clone());
        }
    }
    let mut body = body;
    renumber(&mut body, &new);
    Some(Program {
        operands: program.operands.clone(),
        named: program.named.clone(),
        locals,
        body,
        layouts: program.layouts,
        returns: Returns::Parameters {
            dk: new[dk],
            db: new[db],
        },
    })
}

/// Whether `body` holds only loops, blocks, element statements and bindings.
fn plain(body: &[Stmt]) -> bool {
    body.iter().all(|s| match s {
        Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => plain(body),
        Stmt::Set { .. }
        | Stmt::Add { .. }
        | Stmt::Let { .. }
        | Stmt::Literal { .. }
        | Stmt::Fill { .. }
        | Stmt::Opaque { .. } => true,
        Stmt::View { .. } | Stmt::RowForward { .. } | Stmt::RowBackward { .. } => false,
    })
}

/// The local a statement writes or binds, if any.
fn defines(s: &Stmt) -> Option<usize> {
    let local = |a: Array| match a {
        Array::Local(n) => Some(n),
        _ => None,
    };
    match s {
        Stmt::Set { to, .. } | Stmt::Add { to, .. } => local(to.array),
        Stmt::Let { local, .. }
        | Stmt::Literal { local, .. }
        | Stmt::Fill { local, .. }
        | Stmt::Opaque { local } => Some(*local),
        _ => None,
    }
}

/// The places a sum reads.
fn reads(e: &Expr) -> impl Iterator<Item = &Place> {
    e.terms.iter().flat_map(|t| match t {
        Term::Read(p) | Term::Total(p) | Term::Leading(p, _) | Term::Pairwise(p) => vec![p],
        Term::Product(a, b) => vec![a, b],
        Term::Masked(a, b, m) => vec![a, b, m],
    })
}

/// The sums of one statement (not of its body).
fn sums(s: &Stmt) -> Vec<&Expr> {
    match s {
        Stmt::Set { value, .. }
        | Stmt::Add { value, .. }
        | Stmt::Let { value, .. }
        | Stmt::Fill { value, .. } => vec![value],
        Stmt::Literal { elements, .. } => elements.iter().collect(),
        _ => Vec::new(),
    }
}

/// Marks the locals the statements writing a needed local read.
fn mark(body: &[Stmt], needed: &mut [bool]) {
    for s in body {
        match s {
            Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => {
                mark(body, needed)
            }
            _ if defines(s).is_some_and(|n| needed[n]) => {
                for p in sums(s).into_iter().flat_map(reads) {
                    if let Array::Local(n) = p.array {
                        needed[n] = true;
                    }
                }
            }
            _ => {}
        }
    }
}

/// The statements that write a needed local, in their loops (loops left empty dropped).
fn keep(body: &[Stmt], needed: &[bool]) -> Vec<Stmt> {
    body.iter()
        .filter_map(|s| {
            let mut s = s.clone();
            match &mut s {
                Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => {
                    *body = keep(body, needed);
                    let empty = body.is_empty();
                    (!empty).then_some(s)
                }
                _ => defines(&s).is_some_and(|n| needed[n]).then_some(s),
            }
        })
        .collect()
}

/// Every place a sum reads, masks included, mutably.
fn places_mut(e: &mut Expr) -> impl Iterator<Item = &mut Place> {
    e.terms.iter_mut().flat_map(|t| match t {
        Term::Read(p) | Term::Total(p) | Term::Leading(p, _) | Term::Pairwise(p) => vec![p],
        Term::Product(a, b) => vec![a, b],
        Term::Masked(a, b, m) => vec![a, b, m],
    })
}

/// Every local `n` renamed `new[n]`.
fn renumber(body: &mut [Stmt], new: &[usize]) {
    let place = |p: &mut Place| {
        if let Array::Local(n) = p.array {
            p.array = Array::Local(new[n]);
        }
    };
    for s in body.iter_mut() {
        match s {
            Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => {
                renumber(body, new)
            }
            Stmt::Set { to, value } | Stmt::Add { to, value } => {
                place(to);
                places_mut(value).for_each(place);
            }
            Stmt::Let { local, value } | Stmt::Fill { local, value } => {
                *local = new[*local];
                places_mut(value).for_each(place);
            }
            Stmt::Literal { local, elements } => {
                *local = new[*local];
                elements
                    .iter_mut()
                    .for_each(|e| places_mut(e).for_each(place));
            }
            Stmt::Opaque { local } => *local = new[*local],
            _ => {}
        }
    }
}
