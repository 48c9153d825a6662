//! The dense layer's `forward` and `backward_deferred` over a chunk of samples at once, as loop
//! IR: each row of `w` is loaded once for all the chunk's samples instead of once per sample
//! (a layer whose weights outgrow the first-level cache is bound by reading them:
//! `BENCHMARKS.md`, LeNet-5). Operands `x [S][N]`, `w [M][N]`, `b [M]`, `delta [S][M]`.
//!
//! Each sample's element gets the operations of the one-sample program ([`super::program`]) in
//! the same order, so the results are the same bits as `S` calls of it:
//!
//! - `forward_chunk`: per output `o`, every sample's partial sums `s_q[l]` updated in the same
//!   loop over the inputs (sample after sample within each step), then added pairwise after
//!   the bias as in `forward`;
//! - `backward_deferred_chunk`: per output `o`, `db[o] += delta[q][o]` for `q` ascending, then
//!   one row update of `dL/dx` for every sample, `dx[q][i] += delta[q][o] * w[o][i]`.
//!
//! They are proven by symbolic execution against [`Batch`](crate::derive::dense::Batch), the
//! layer's derivation over the chunk.

use super::program::{at, Form, C, L};
use crate::ir::vars::O;
use crate::ir::{Array, Counter, Expr, Index, Layouts, Local, Program, Returns, Stmt, Term};

/// Samples per chunk: the batch trainer's (`conv_runtime::network::batch::CHUNK`).
pub(crate) const SAMPLES: usize = 4;

/// The program of `body` over `samples` samples: operands `x [S][N]`, `w [M][N]`, `b [M]`,
/// `delta [S][M]`.
fn program(
    (n, m, samples): (usize, usize, usize),
    locals: Vec<Local>,
    body: Vec<Stmt>,
    returns: Returns,
) -> Program {
    Program {
        operands: [vec![samples, n], vec![m, n], vec![m], vec![samples, m]],
        named: Vec::new(),
        locals,
        body,
        layouts: Layouts::default(),
        returns,
    }
}

/// `forward_chunk(x, w, b) -> u` written as `form`, `x` and `u` holding `samples` samples.
/// (Two outputs per pass, eight chains of multiply-adds instead of four, measured slower:
/// `BENCHMARKS.md`, LeNet-5.)
pub(crate) fn forward_chunk_in(n: usize, m: usize, form: Form, samples: usize) -> Program {
    let lanes = form.lanes_for(n);
    let chunks = n / lanes;
    let rest = chunks * lanes;
    let mut locals = vec![Local::zeroed("u", vec![samples, m])];
    // Per sample: its partial sums `s` and (fused forms) every output's, `ss`.
    let mut sums = Vec::new();
    let mut kept = Vec::new();
    if chunks > 0 {
        for _ in 0..samples {
            locals.push(Local::bound("s", vec![lanes]));
            sums.push(locals.len() - 1);
        }
        if form.fused {
            for _ in 0..samples {
                locals.push(Local::zeroed("ss", vec![m, lanes]));
                kept.push(locals.len() - 1);
            }
        }
    }
    let x = |q: usize, i: Index| at(Array::X, vec![Index::at(q), i]);
    let mut per_output = Vec::new();
    if chunks > 0 {
        per_output.extend(sums.iter().map(|&s| Stmt::Fill {
            local: s,
            value: Expr::plain(Vec::new()),
        }));
        let updates = (0..samples).flat_map(|q| {
            let s = Array::Local(sums[q]);
            (0..lanes).map(move |l| {
                let i = Index::var(C).offset(l);
                form.accumulate(
                    at(s, vec![Index::at(l)]),
                    x(q, i.clone()),
                    at(Array::K, vec![Index::var(O), i]),
                )
            })
        });
        // As `forward`'s loop: `c` runs over 0, lanes, .., rest - lanes.
        per_output.push(Stmt::Loop {
            var: C,
            extent: rest - lanes + 1,
            step: lanes,
            counter: Counter::Plain,
            body: updates.collect(),
        });
        per_output.extend(kept.iter().zip(&sums).map(|(&ss, &s)| {
            let copy = Stmt::copy(
                at(Array::Local(ss), vec![Index::var(O), Index::var(L)]),
                at(Array::Local(s), vec![Index::var(L)]),
            );
            Stmt::each(L, lanes, vec![copy])
        }));
    }
    // u[q][o] = b[o] + Σ partial sums + the remaining products.
    let output = |q: usize| {
        let mut sum = vec![Term::Read(at(Array::B, vec![Index::var(O)]))];
        if chunks > 0 {
            sum.push(Term::Pairwise(match form.fused {
                true => at(Array::Local(kept[q]), vec![Index::var(O)]),
                false => at(Array::Local(sums[q]), Vec::new()),
            }));
        }
        sum.extend((rest..n).map(|i| {
            let i = Index::at(i);
            Term::Product(x(q, i.clone()), at(Array::K, vec![Index::var(O), i]))
        }));
        Stmt::Set {
            to: at(Array::Local(0), vec![Index::at(q), Index::var(O)]),
            value: Expr::plain(sum),
        }
    };
    let body = match form.fused && chunks > 0 {
        true => [Stmt::each(O, m, per_output)]
            .into_iter()
            .chain((0..samples).map(|q| Stmt::counted(O, m, true, vec![output(q)])))
            .collect(),
        false => {
            per_output.extend((0..samples).map(output));
            vec![Stmt::each(O, m, per_output)]
        }
    };
    program((n, m, samples), locals, body, Returns::Forward { u: 0 })
}

/// Inputs whose `dL/dx` sums one pass over the outputs keeps per sample (in registers: four
/// AVX-512 vectors of `f32` per sample, sixteen for the chunk).
const BLOCK: usize = 64;

/// `backward_deferred_chunk(w, delta, db) -> dx` written as `form`, `delta` and `dx` holding
/// `samples` samples: every sample's `dL/dx` returned, `dL/db` (the samples' sum) added into
/// `db`. `dL/db` first, per output for `q` ascending; then `dL/dx` in blocks of [`BLOCK`]
/// inputs (the last block the rest), each block's sums of every sample kept over a pass over
/// the outputs (`o` ascending, as `backward_deferred`'s row updates) and stored at its end, so
/// that the sums are not loaded and stored again for every output.
pub(crate) fn backward_deferred_chunk_in(
    n: usize,
    m: usize,
    form: Form,
    samples: usize,
) -> Program {
    let (dx, db) = (0, 1);
    let mut locals = vec![
        Local::zeroed("dx", vec![samples, n]),
        Local::accumulator("db", vec![m]),
    ];
    let d: Vec<usize> = (0..samples)
        .map(|_| {
            locals.push(Local::bound("d", Vec::new()));
            locals.len() - 1
        })
        .collect();
    let delta = |q: usize| at(Array::Local(d[q]), Vec::new());
    // dL/db[o] += delta[q][o], q ascending.
    let sums = (0..samples).map(|q| {
        Stmt::add(
            at(Array::Local(db), vec![Index::var(O)]),
            at(Array::Delta, vec![Index::at(q), Index::var(O)]),
        )
    });
    let mut body = vec![Stmt::each(O, m, sums.collect())];
    // The blocks: `(first input as an index, width)`, full blocks over `c` then the rest.
    let full = n / BLOCK * BLOCK;
    let mut blocks = Vec::new();
    if full > 0 {
        blocks.push((Some(full), BLOCK));
    }
    if n > full {
        blocks.push((None, n - full));
    }
    for (over, width) in blocks {
        let first = match over {
            Some(_) => Index::var(C),
            None => Index::at(full),
        };
        let acc: Vec<usize> = (0..samples)
            .map(|_| {
                locals.push(Local::bound("acc", vec![width]));
                locals.len() - 1
            })
            .collect();
        let mut pass: Vec<Stmt> = acc
            .iter()
            .map(|&a| Stmt::Fill {
                local: a,
                value: Expr::plain(Vec::new()),
            })
            .collect();
        // acc_q[l] += delta[q][o] * w[o][first + l], one load of each weight for every sample.
        let mut per_output: Vec<Stmt> = (0..samples)
            .map(|q| Stmt::Let {
                local: d[q],
                value: Expr::read(at(Array::Delta, vec![Index::at(q), Index::var(O)])),
            })
            .collect();
        per_output.extend((0..width).flat_map(|l| {
            let i = first.clone().offset(l);
            let acc = &acc;
            let delta = &delta;
            (0..samples).map(move |q| {
                form.accumulate(
                    at(Array::Local(acc[q]), vec![Index::at(l)]),
                    delta(q),
                    at(Array::K, vec![Index::var(O), i.clone()]),
                )
            })
        }));
        pass.push(Stmt::each(O, m, per_output));
        // dx[q][first + l] = acc_q[l]
        pass.extend((0..samples).map(|q| {
            let store = Stmt::copy(
                at(
                    Array::Local(dx),
                    vec![Index::at(q), first.clone().plus(L, 1)],
                ),
                at(Array::Local(acc[q]), vec![Index::var(L)]),
            );
            Stmt::each(L, width, vec![store])
        }));
        body.push(match over {
            Some(full) => Stmt::Loop {
                var: C,
                extent: full - BLOCK + 1,
                step: BLOCK,
                counter: Counter::Plain,
                body: pass,
            },
            None => Stmt::Block(pass),
        });
    }
    program((n, m, samples), locals, body, Returns::Deferred { dx, db })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::dense::{Batch, Dense};
    use crate::ir::exec;
    use crate::tier::Tier;

    #[test]
    fn every_tiers_chunk_programs_are_the_batch_derivation() {
        for (n, m) in [
            (1, 1),
            (3, 2),
            (8, 3),
            (17, 5),
            (24, 2),
            (128, 3),
            (400, 12),
        ] {
            let batch = Batch::new(&Dense::new(n, m), SAMPLES);
            for tier in Tier::ALL {
                let form = Form::of(tier);
                for program in [
                    forward_chunk_in(n, m, form, SAMPLES),
                    backward_deferred_chunk_in(n, m, form, SAMPLES),
                ] {
                    exec::check(&program, &batch, None)
                        .unwrap_or_else(|e| panic!("{n} -> {m} on {tier:?}: {e}"));
                }
            }
        }
    }

    #[test]
    fn a_sample_reading_another_samples_input_is_rejected() {
        let batch = Batch::new(&Dense::new(17, 3), SAMPLES);
        let form = Form::of(Tier::Avx512);
        let mut program = forward_chunk_in(17, 3, form, SAMPLES);
        // The last sample's remaining product reading the first sample's input.
        let [Stmt::Loop { .. }, .., Stmt::Loop { body, .. }] = program.body.as_mut_slice() else {
            panic!("a loop over outputs per sample");
        };
        let Stmt::Set { value, .. } = &mut body[0] else {
            panic!("the output statement");
        };
        let Some(Term::Product(x, _)) = value.terms.last_mut() else {
            panic!("a remaining product");
        };
        x.index[0] = Index::at(0);
        assert!(exec::check(&program, &batch, None).is_err());
    }

    #[test]
    fn a_sample_left_out_of_db_is_rejected() {
        let batch = Batch::new(&Dense::new(5, 2), SAMPLES);
        let mut program = backward_deferred_chunk_in(5, 2, Form::of(Tier::Portable), SAMPLES);
        assert!(exec::check(&program, &batch, None).is_ok());
        // First `db[o] += delta[q][o]` per output, per sample; drop sample 1's.
        let Stmt::Loop { body, .. } = &mut program.body[0] else {
            panic!("a loop over outputs first");
        };
        assert!(matches!(body[1], Stmt::Add { .. }));
        body.remove(1);
        assert!(exec::check(&program, &batch, None).is_err());
    }
}
