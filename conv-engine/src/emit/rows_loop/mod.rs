//! The `rows` strategy's loop over output rows around the one-row companion, as loop IR
//! ([`crate::ir`]): the padded copy of `x`, each row's window, the companion's call, the rows
//! of `u` stacked; for `backward`, each row's `delta` and the companion's gradients added into
//! a padded `dL/dx` (cropped at the end), `dL/dk` (transposed back once at the end when the
//! companion gives it output channels innermost) and `dL/db`. Executing the IR symbolically
//! proves this code against the derivation, with the companion taken as its own derivation.

mod dims;

use crate::ir::vars::{A, C, I, J, O, P, Q};
use crate::ir::{
    Array, Counter, Index, KernelLayout, Layouts, Local, Place, Program, Returns, Stmt, Var,
};
use crate::Spec;
use dims::Dims;

fn v(var: Var) -> Index {
    Index::var(var)
}

fn at(array: Array, index: Vec<Index>) -> Place {
    Place { array, index }
}

/// `body` inside loops over the dimensions `dims` with the variables `vars` (one per
/// dimension).
fn nest(vars: &[Var], dims: &[usize], body: Stmt) -> Stmt {
    vars.iter()
        .zip(dims)
        .rev()
        .fold(body, |body, (&var, &extent)| Stmt::Loop {
            var,
            extent,
            step: 1,
            counter: Counter::Plain,
            body: vec![body],
        })
}

/// A builder of one program's locals.
struct Locals(Vec<Local>);

impl Locals {
    fn add(&mut self, local: Local) -> usize {
        self.0.push(local);
        self.0.len() - 1
    }
}

/// The channel variable first for channel-first layers, then `rest`.
fn vars(d: &Dims, channel: Var, rest: &[Var]) -> Vec<Var> {
    d.channels
        .then_some(channel)
        .into_iter()
        .chain(rest.iter().copied())
        .collect()
}

fn indices(vars: &[Var]) -> Vec<Index> {
    vars.iter().map(|&x| v(x)).collect()
}

/// The padded copy of `x` (or `x` itself) and the statements that fill it.
fn padded_x(d: &Dims, locals: &mut Locals, body: &mut Vec<Stmt>) -> Array {
    if !d.padded() {
        return Array::X;
    }
    let xp = locals.add(Local::zeroed("xp", d.with(d.ci, &[d.hp, d.wp])));
    let vs = vars(d, C, &[P, Q]);
    let mut to = indices(&vs);
    let n = to.len();
    to[n - 2] = v(P).offset(d.top);
    to[n - 1] = v(Q).offset(d.left);
    let copy = Stmt::copy(at(Array::Local(xp), to), at(Array::X, indices(&vs)));
    body.push(nest(&vs, &d.with(d.ci, &[d.h, d.w]), copy));
    Array::Local(xp)
}

/// The copy of output row `i`'s window (rows `i*SH ..` of `xp`) into `w`.
fn window(d: &Dims, xp: Array, w: usize) -> Stmt {
    let vs = vars(d, C, &[A, Q]);
    let mut from = indices(&vs);
    let n = from.len();
    from[n - 2] = v(A).plus(I, d.sh);
    nest(
        &vs,
        &d.with(d.ci, &[d.khe, d.wp]),
        Stmt::copy(at(Array::Local(w), indices(&vs)), at(xp, from)),
    )
}

/// `forward`: `u[o][i] = companion.forward(window of row i)[o][0]` for every output row.
pub(crate) fn forward(spec: &Spec) -> Program {
    let d = Dims::new(spec);
    let mut locals = Locals(Vec::new());
    let mut body = Vec::new();
    let xp = padded_x(&d, &mut locals, &mut body);
    let w = locals.add(Local::zeroed("w", d.with(d.ci, &[d.khe, d.wp])));
    let u = locals.add(Local::zeroed("u", d.with(d.co, &[d.oh, d.ow])));
    let row = locals.add(Local::from_call("row", d.with(d.co, &[1, d.ow])));
    let vs = vars(&d, O, &[J]);
    let mut to = indices(&vs);
    to.insert(to.len() - 1, v(I));
    let mut from = indices(&vs);
    from.insert(from.len() - 1, Index::at(0));
    let store = nest(
        &vs,
        &d.with(d.co, &[d.ow]),
        Stmt::copy(at(Array::Local(u), to), at(Array::Local(row), from)),
    );
    body.push(Stmt::Loop {
        var: I,
        extent: d.oh,
        step: 1,
        counter: Counter::Plain,
        body: vec![
            window(&d, xp, w),
            Stmt::RowForward {
                window: w,
                out: row,
            },
            store,
        ],
    });
    Program {
        operands: operands(&d),
        named: Vec::new(),
        locals: locals.0,
        body,
        layouts: Layouts::default(),
        returns: Returns::Forward { u },
    }
}

fn operands(d: &Dims) -> [Vec<usize>; 4] {
    [
        d.with(d.ci, &[d.h, d.w]),
        d.kernel(KernelLayout::Kernel),
        d.bias(),
        d.with(d.co, &[d.oh, d.ow]),
    ]
}

/// `Add { to: target[vars], from: source[vars] }` over every element of `dims`.
fn add_all(names: &[Var], dims: &[usize], target: usize, source: usize) -> Stmt {
    let vs = &names[..dims.len()];
    let add = Stmt::add(
        at(Array::Local(target), indices(vs)),
        at(Array::Local(source), indices(vs)),
    );
    nest(vs, dims, add)
}

/// `backward`: per output row, the companion's gradients of its window and `delta` row,
/// summed into the layer's.
pub(crate) fn backward(spec: &Spec, dk_layout: KernelLayout) -> Program {
    let d = Dims::new(spec);
    let mut locals = Locals(Vec::new());
    let mut body = Vec::new();
    let xp = padded_x(&d, &mut locals, &mut body);
    let window_dims = d.with(d.ci, &[d.khe, d.wp]);
    let (dk_dims, b_dims) = (d.kernel(dk_layout), d.bias());
    let w = locals.add(Local::zeroed("w", window_dims.clone()));
    let delta_row = locals.add(Local::zeroed("d", d.with(d.co, &[1, d.ow])));
    let dxp = locals.add(Local::zeroed("dxp", d.with(d.ci, &[d.hp, d.wp])));
    let dk_sum = locals.add(Local::zeroed("dk_sum", dk_dims.clone()));
    let db = locals.add(Local::zeroed("db", b_dims.clone()));
    let gdx = locals.add(Local::from_call("gdx", window_dims));
    let gdk = locals.add(Local::from_call("gdk", dk_dims.clone()));
    let gdb = locals.add(Local::from_call("gdb", b_dims.clone()));
    // delta row i
    let vs = vars(&d, O, &[J]);
    let mut from = indices(&vs);
    from.insert(from.len() - 1, v(I));
    let mut to = indices(&vs);
    to.insert(to.len() - 1, Index::at(0));
    let take = nest(
        &vs,
        &d.with(d.co, &[d.ow]),
        Stmt::copy(at(Array::Local(delta_row), to), at(Array::Delta, from)),
    );
    // dxp[c][i*SH + a][q] += gdx[c][a][q]
    let vs = vars(&d, C, &[A, Q]);
    let mut to = indices(&vs);
    let n = to.len();
    to[n - 2] = v(A).plus(I, d.sh);
    let add_dx = nest(
        &vs,
        &d.with(d.ci, &[d.khe, d.wp]),
        Stmt::add(
            at(Array::Local(dxp), to),
            at(Array::Local(gdx), indices(&vs)),
        ),
    );
    let kernel_vars = [Var("n0"), Var("n1"), Var("n2"), Var("n3")];
    let mut per_row = vec![
        window(&d, xp, w),
        take,
        Stmt::RowBackward {
            window: w,
            delta: delta_row,
            dx: gdx,
            dk: gdk,
            db: gdb,
        },
        add_dx,
    ];
    per_row.push(add_all(&kernel_vars, &dk_dims, dk_sum, gdk));
    per_row.push(add_all(&kernel_vars, &b_dims, db, gdb));
    body.push(Stmt::Loop {
        var: I,
        extent: d.oh,
        step: 1,
        counter: Counter::Plain,
        body: per_row,
    });
    // dL/dk in the kernel's layout.
    let dk = match (d.channels, dk_layout) {
        (true, KernelLayout::OutputChannelsInner) => {
            let dk = locals.add(Local::zeroed("dk", d.kernel(KernelLayout::Kernel)));
            let [o, c, a, b] = kernel_vars;
            body.push(nest(
                &[o, c, a, b],
                &d.kernel(KernelLayout::Kernel),
                Stmt::copy(
                    at(Array::Local(dk), indices(&[o, c, a, b])),
                    at(Array::Local(dk_sum), indices(&[c, a, b, o])),
                ),
            ));
            dk
        }
        _ => dk_sum,
    };
    // dL/dx: dxp cropped.
    let dx = if d.padded() {
        let dx = locals.add(Local::zeroed("dx", d.with(d.ci, &[d.h, d.w])));
        let vs = vars(&d, C, &[P, Q]);
        let mut from = indices(&vs);
        let n = from.len();
        from[n - 2] = v(P).offset(d.top);
        from[n - 1] = v(Q).offset(d.left);
        body.push(nest(
            &vs,
            &d.with(d.ci, &[d.h, d.w]),
            Stmt::copy(
                at(Array::Local(dx), indices(&vs)),
                at(Array::Local(dxp), from),
            ),
        ));
        dx
    } else {
        dxp
    };
    Program {
        operands: operands(&d),
        named: Vec::new(),
        locals: locals.0,
        body,
        layouts: Layouts {
            row_dk: dk_layout,
            ..Layouts::default()
        },
        returns: Returns::Backward { dx, dk, db },
    }
}

/// Plants a fault (tests only): every window is copied from the input rows of the first
/// output row (the row offset `i*SH` dropped).
pub(super) fn plant(program: &mut Program) {
    fn walk(body: &mut [Stmt]) -> bool {
        body.iter_mut().any(|s| match s {
            Stmt::Loop { body, .. } => walk(body),
            Stmt::Set { value, .. } => {
                let stride = value
                    .places_mut()
                    .flat_map(|p| p.index.iter_mut())
                    .flat_map(|i| i.terms.iter_mut())
                    .find(|(v, _)| *v == I);
                match stride {
                    Some((_, coefficient)) => {
                        *coefficient = 0;
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        })
    }
    walk(&mut program.body);
}

/// The suffix of the companion's `forward` (and `forward_transposed`) a tier calls: `_fused`
/// where it fuses, `_fused_wide` in [`crate::plan::Blocks::Wide`].
pub(super) fn forward_suffix(fused: bool, blocks: crate::plan::Blocks) -> &'static str {
    match (fused, blocks) {
        (true, crate::plan::Blocks::Wide) => "_fused_wide",
        (true, _) => "_fused",
        (false, _) => "",
    }
}

/// How the loop calls the companion `row`: through the forms vectorised over output channels
/// (the kernel transposed once per call, `dL/dk` summed with output channels innermost) where
/// the plan has them, through its fused `forward` when `fused`, in `blocks`, and through that
/// `forward`'s twin written with AVX-512 intrinsics when `vectors` says so.
pub(super) fn calls(
    spec: &Spec,
    row: &proc_macro2::Ident,
    (fused, blocks, vectors): (bool, crate::plan::Blocks, crate::plan::Vectors),
) -> crate::ir::lower::Calls {
    use quote::{format_ident, quote};
    let (row_f, row_b) = (row.clone(), row.clone());
    let transposed = crate::plan::rows_forward_over_channels(spec);
    let prelude = match transposed {
        true => quote!(let kt = #row::kernel_out_inner(k);),
        false => quote!(),
    };
    let suffix = forward_suffix(fused, blocks).to_string() + vectors.suffix();
    let forward: crate::ir::lower::Call = match transposed {
        true => {
            let f = format_ident!("forward_transposed{suffix}");
            Box::new(move |a| {
                let w = a[0];
                quote!(#row_f::#f(&#w, &kt, b))
            })
        }
        false => {
            let f = format_ident!("forward{suffix}");
            Box::new(move |a| {
                let w = a[0];
                quote!(#row_f::#f(&#w, k, b))
            })
        }
    };
    let parts = crate::plan::companion_dk_over_channels(spec);
    let backward: crate::ir::lower::Call = Box::new(move |a| {
        let (w, d) = (a[0], a[1]);
        match parts {
            true => quote!(#row_b::backward_parts(&#w, k, &#d)),
            false => quote!(#row_b::backward(&#w, k, &#d)),
        }
    });
    crate::ir::lower::Calls {
        prelude,
        forward,
        backward,
    }
}

/// The layout of the companion's `dL/dk`.
pub(super) fn dk_layout(spec: &Spec) -> KernelLayout {
    match crate::plan::companion_dk_over_channels(spec) {
        true => KernelLayout::OutputChannelsInner,
        false => KernelLayout::Kernel,
    }
}

#[cfg(test)]
mod tests;
