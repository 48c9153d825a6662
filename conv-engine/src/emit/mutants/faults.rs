//! The faults [`super`] plants in a program: each statement dropped, each term of each sum
//! dropped, each index of each element the code reads or writes shifted by one (or its stride
//! increased), but for faults that cannot change any sum ([`equivalent`]).

use crate::ir::{Array, Expr, Place, Program, Stmt, Term};

/// The statements of `body`, depth first, each with a path to reach it.
fn paths(body: &[Stmt], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    for (n, s) in body.iter().enumerate() {
        prefix.push(n);
        out.push(prefix.clone());
        if let Some(body) = inner(s) {
            paths(body, prefix, out);
        }
        prefix.pop();
    }
}

/// The variables of the loops of `body` that run once.
fn single_valued(body: &[Stmt], out: &mut Vec<crate::ir::Var>) {
    for s in body {
        if let Stmt::Loop {
            var, extent, step, ..
        } = s
        {
            if extent <= step {
                out.push(*var);
            }
        }
        if let Some(body) = inner(s) {
            single_valued(body, out);
        }
    }
}

/// The body of a loop, a block or a solved binding.
fn inner(s: &Stmt) -> Option<&Vec<Stmt>> {
    match s {
        Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => Some(body),
        _ => None,
    }
}

fn inner_mut(s: &mut Stmt) -> Option<&mut Vec<Stmt>> {
    match s {
        Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => Some(body),
        _ => None,
    }
}

/// The statement list holding the statement at `path`, and its position there.
fn holder<'a>(body: &'a mut Vec<Stmt>, path: &[usize]) -> (&'a mut Vec<Stmt>, usize) {
    match path {
        [n] => (body, *n),
        [n, rest @ ..] => match inner_mut(&mut body[*n]) {
            Some(body) => holder(body, rest),
            None => unreachable!("paths only descend into bodies"),
        },
        [] => unreachable!("paths are never empty"),
    }
}

/// The sums of a statement, and the element it writes or refers to (if any).
fn parts(s: &mut Stmt) -> (Vec<&mut Expr>, Option<&mut Place>) {
    match s {
        Stmt::Set { to, value } | Stmt::Add { to, value } => (vec![value], Some(to)),
        Stmt::Let { value, .. } | Stmt::Fill { value, .. } => (vec![value], None),
        Stmt::Literal { elements, .. } => (elements.iter_mut().collect(), None),
        Stmt::View { of, .. } => (Vec::new(), Some(of)),
        _ => (Vec::new(), None),
    }
}

/// Whether `s` is a fused accumulation, `to = mul_add(a, b, to)`: [`crate::ir::fuse`]'s form
/// of `to += a * b`, whose first term reads `to` where the unfused form reads it implicitly.
fn accumulation(s: &Stmt) -> bool {
    match s {
        Stmt::Set { to, value } => {
            matches!(value.chain, crate::ir::Chain::MulAdd(_))
                && matches!(value.terms.first(), Some(Term::Read(p)) if p == to)
        }
        _ => false,
    }
}

/// Every planted fault of `program`: each statement dropped (but `Stmt::Opaque`); each term
/// dropped; each index of each place shifted by one, and the coefficient of its first loop
/// variable (a stride) increased by one. In a fused accumulation (`to = mul_add(a, b, to)`)
/// the running sum's read moves with `to`, as in the unfused `to += a * b`, not alone.
pub(in crate::emit) fn faults(program: &Program) -> Vec<Program> {
    let mut totalled = Vec::new();
    crate::ir::for_each_expr(&program.body, &mut |e| {
        for t in &e.terms {
            if let Term::Total(p) | Term::Leading(p, _) | Term::Pairwise(p) = t {
                totalled.push(p.array);
            }
        }
    });
    let mut at = Vec::new();
    paths(&program.body, &mut Vec::new(), &mut at);
    let mut single = Vec::new();
    single_valued(&program.body, &mut single);
    let mut out = Vec::new();
    for path in &at {
        let mut dropped = program.clone();
        let (body, n) = holder(&mut dropped.body, path);
        // Hiding a local from the optimiser changes no value: dropping it is no fault.
        if !matches!(body[n], Stmt::Opaque { .. }) {
            body.remove(n);
            out.push(dropped);
        }
        let mut probe = program.clone();
        let (body, n) = holder(&mut probe.body, path);
        let (sums, to) = parts(&mut body[n]);
        let shape: Vec<(usize, Vec<usize>)> = sums
            .iter()
            .map(|e| {
                let ranks = e.places().map(|p| p.index.len()).collect();
                (e.terms.len(), ranks)
            })
            .collect();
        let to_rank = to.map_or(0, |p| p.index.len());
        let fused = accumulation(&body[n]);
        for (s, (terms, ranks)) in shape.into_iter().enumerate() {
            for t in 0..terms {
                let mut wrong = program.clone();
                let (body, n) = holder(&mut wrong.body, path);
                parts(&mut body[n]).0[s].terms.remove(t);
                out.push(wrong);
            }
            for (p, rank) in ranks.into_iter().enumerate() {
                if fused && p == 0 {
                    continue;
                }
                for axis in 0..rank {
                    for restride in [false, true] {
                        let mut wrong = program.clone();
                        let (body, n) = holder(&mut wrong.body, path);
                        let mut sums = parts(&mut body[n]).0;
                        let Some(place) = sums[s].places_mut().nth(p) else {
                            continue;
                        };
                        let index = &mut place.index[axis];
                        match (restride, index.terms.first_mut()) {
                            (false, _) => index.constant += 1,
                            // A variable that takes only the value 0 has no stride to change.
                            (true, Some((v, _))) if single.contains(v) => continue,
                            (true, Some((_, coefficient))) => *coefficient += 1,
                            (true, None) => continue,
                        }
                        out.push(wrong);
                    }
                }
            }
        }
        // Which lane of a row of partial sums a term goes to changes no total, only the order
        // of the sum: moving it is no fault.
        let mut copy = program.clone();
        let (body, n) = holder(&mut copy.body, path);
        let lanes = parts(&mut body[n])
            .1
            .is_some_and(|to| totalled.contains(&to.array));
        let shifted: Vec<usize> = (0..to_rank)
            .filter(|&axis| !lanes && !equivalent(program, &body[n], axis))
            .collect();
        for axis in shifted {
            let mut wrong = program.clone();
            let (body, n) = holder(&mut wrong.body, path);
            let fused = accumulation(&body[n]);
            let (mut sums, to) = parts(&mut body[n]);
            if let Some(place) = to {
                place.index[axis].constant += 1;
            }
            let running = sums.first_mut().and_then(|e| e.terms.first_mut());
            if let (true, Some(Term::Read(sum))) = (fused, running) {
                sum.index[axis].constant += 1;
            }
            out.push(wrong);
        }
    }
    out
}

/// Whether shifting index `axis` of the element `s` writes cannot change any sum (such a
/// mutant is not planted). In the layer-level `backward` over rows, `r[b][j*SW + b*DW] =
/// s[b][j]` places kernel column `b`'s partial sums in zero row `b`, and the rows are then
/// added column by column (`dxp[c][p][q] = r[0][q] + r[1][q] + ..`): moved to row `b + 1`, the
/// sums land in the same column of another row and every `dxp` sum is unchanged wherever row
/// `b + 1`'s own columns (`j*SW + (b + 1)*DW`) miss them (output columns wider apart than the
/// dilation), so that mutant is equivalent.
fn equivalent(program: &Program, s: &Stmt, axis: usize) -> bool {
    let to = match s {
        Stmt::Set { to, .. } => to,
        _ => return false,
    };
    let spread = matches!(to.array, Array::Local(n) if program.locals[n].name == "r");
    spread && axis == 0
}
