//! Planted faults, for tests only: the hidden attribute key `__fault = "form"` makes the
//! macro write one wrong term or offset into the code of that form, so that tests (trybuild,
//! through `#[conv2d]` and `#[network]`) can show the compile-time checks reject it. Users
//! never write it; it is not part of either attribute's documented syntax.

use crate::ir::{for_each_expr_mut, Array, Expr, Place, Program, Stmt};
use proc_macro2::{TokenStream, TokenTree};

/// Where the fault is planted.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The fully unrolled `forward`: its first product reads the wrong kernel weight.
    Unrolled,
    /// The fused unrolled `backward` of the AVX2 and AVX-512 variants: one `dL/dx` product
    /// reads the wrong kernel weight.
    FusedBackward,
    /// The window `forward`: its first tap reads the wrong kernel weight.
    Window,
    /// The one-row companion's `forward`: its first tap reads the wrong kernel weight.
    Rows,
    /// The derivation: one product of `dL/dx` dropped before the proof.
    Derivation,
    /// The loop over output rows around the companion: every window is copied from the first
    /// output row's input rows.
    RowsLoop,
    /// The layer-level `forward` of the AVX2 and AVX-512 variants: its first tap reads the
    /// wrong kernel weight.
    LayerRows,
    /// Each dense layer of a network: the portable `forward` adds one product twice (after the
    /// symbolic proof).
    Dense,
    /// Each max pool of a network: ties go to the last maximum of the window.
    MaxPool,
    /// Each average pool of a network: `backward` spreads each `d` undivided.
    AveragePool,
}

/// `attr` without a trailing `, __fault = "form"` (or a lone one), and the fault it names.
/// Anything else, including an unknown form, is left for the parser to report.
pub(crate) fn take(attr: TokenStream) -> (TokenStream, Option<Fault>) {
    let tokens: Vec<TokenTree> = attr.clone().into_iter().collect();
    let n = tokens.len();
    let key_at = match n {
        3 => 0,
        _ if n > 3 => n - 3,
        _ => return (attr, None),
    };
    let fault = match &tokens[key_at..] {
        [TokenTree::Ident(key), TokenTree::Punct(eq), TokenTree::Literal(form)]
            if key == "__fault" && eq.as_char() == '=' =>
        {
            match form.to_string().as_str() {
                "\"unrolled\"" => Fault::Unrolled,
                "\"window\"" => Fault::Window,
                "\"fused-backward\"" => Fault::FusedBackward,
                "\"rows\"" => Fault::Rows,
                "\"rows-loop\"" => Fault::RowsLoop,
                "\"layer-rows\"" => Fault::LayerRows,
                "\"derivation\"" => Fault::Derivation,
                "\"dense\"" => Fault::Dense,
                "\"max-pool\"" => Fault::MaxPool,
                "\"average-pool\"" => Fault::AveragePool,
                _ => return (attr, None),
            }
        }
        _ => return (attr, None),
    };
    // Drop the key, its value and the comma before it.
    let keep = match key_at {
        0 => 0,
        _ => key_at - 1,
    };
    (tokens[..keep].iter().cloned().collect(), Some(fault))
}

/// Which sum a fault is planted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Which {
    /// The first sum (depth first) that reads the kernel.
    First,
    /// The last one.
    Last,
}

/// Plants a wrong term in `program` after its proof, so that only the compile-time evaluation
/// can catch it: the first kernel weight the sum `which` picks reads (from `k` or a view of
/// it) is replaced by the next one (the next flat element for a constant index, else the next
/// value of the innermost constant index that has one).
pub(super) fn next_element(program: &mut Program, which: Which) {
    // The kernel, and the views of it (`kc = &k[o][c]`), with their dimensions.
    let mut kernels = vec![(Array::K, program.operands[1].clone())];
    views_of_k(&program.body, program, &mut kernels);
    let kernel = |p: &Place| {
        kernels
            .iter()
            .find(|(a, _)| *a == p.array)
            .map(|(_, d)| d.clone())
    };
    let reads_k = |e: &Expr| e.places().any(|p| kernel(p).is_some());
    let mut count = 0;
    for_each_expr_mut(&mut program.body, &mut |e| count += usize::from(reads_k(e)));
    let Some(target) = (match which {
        Which::First => Some(0),
        Which::Last => count.checked_sub(1),
    }) else {
        return;
    };
    let mut n = 0;
    for_each_expr_mut(&mut program.body, &mut |e| {
        if !reads_k(e) {
            return;
        }
        if n == target {
            if let Some(place) = e.places_mut().find(|p| kernel(p).is_some()) {
                if let Some(dims) = kernel(place) {
                    next(place, &dims);
                }
            }
        }
        n += 1;
    });
}

/// The view locals of `body` that refer into the kernel (or into a view of it).
fn views_of_k(body: &[Stmt], program: &Program, out: &mut Vec<(Array, Vec<usize>)>) {
    for s in body {
        match s {
            Stmt::View { local, of, .. } if out.iter().any(|(a, _)| *a == of.array) => {
                out.push((Array::Local(*local), program.locals[*local].dims.clone()));
            }
            Stmt::Loop { body, .. } | Stmt::Solve { body, .. } | Stmt::Block(body) => {
                views_of_k(body, program, out)
            }
            _ => {}
        }
    }
}

fn next(place: &mut Place, dims: &[usize]) {
    if place.index.iter().all(|i| i.terms.is_empty()) {
        let flat = place
            .index
            .iter()
            .zip(dims)
            .fold(0, |flat, (i, &n)| flat * n + i.constant);
        let len = dims.iter().product::<usize>();
        *place = super::unroll::element(place.array, dims, (flat + 1) % len);
        return;
    }
    let axis = place
        .index
        .iter()
        .zip(dims)
        .rposition(|(i, &n)| i.terms.is_empty() && i.constant + 1 < n);
    if let Some(axis) = axis {
        place.index[axis].constant += 1;
    }
}
