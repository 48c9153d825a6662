//! The run-time API never panics on bad lengths: every wrong-length operand of every public
//! function that takes slices (or, for the checks, array types that do not match the geometry)
//! is a typed error naming it ([`ShapeError`], [`BatchError`], [`CheckError`]), and outputs are
//! left untouched. Also: valid geometries with extreme strides, dilations and paddings run
//! without overflow, and the helpers that take a geometry or a range do not overflow on the
//! largest ones.
#![cfg(feature = "std")]

#[path = "support/naive.rs"]
mod naive;

use conv_runtime::checks::{
    check_exact, check_finite_differences, check_tolerance, Check, CheckError, Part, Tolerance,
};
use conv_runtime::proof::{self, Mismatch};
use conv_runtime::rng::SplitMix64;
use conv_runtime::train::{BatchError, Layer};
use conv_runtime::{
    conv2d, reference, Conv2d, Geometry, GeometrySpec, Gradients, Operand, Padding, Scalar,
    ShapeError,
};

/// 2 channels in, 3 out, 5x4 input, 3x2 kernel, stride (2, 1), padding (1, 0, 0, 1):
/// `x` 40, `k` 36, `b` 3, `u` 3 * 2 * 4 = 24.
const G: Geometry = match (GeometrySpec {
    input: [5, 4],
    kernel: [3, 2],
    stride: [2, 1],
    dilation: [1, 1],
    padding: Padding::Explicit {
        top: 1,
        bottom: 0,
        left: 0,
        right: 1,
    },
    in_channels: 2,
    out_channels: 3,
})
.resolve()
{
    Ok(g) => g,
    Err(e) => e.panic(),
};
const NX: usize = G.input_len();
const NK: usize = G.kernel_len();
const NB: usize = G.bias_len();
const NU: usize = G.output_len();

/// The geometries the slice functions are tried on: [`G`], the textbook layer (one bias), and a
/// 1x1 layer (every length 1, so "one short" is empty).
fn geometries() -> [Geometry; 3] {
    [
        G,
        GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap(),
        GeometrySpec::new([1, 1], [1, 1]).resolve().unwrap(),
    ]
}

#[test]
fn the_test_geometry_has_the_documented_lengths() {
    assert_eq!((NX, NK, NB, NU), (40, 36, 3, 24));
}

/// Wrong lengths for an operand of `n` elements: empty, one short, one long, much longer.
fn bad_lengths(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [0, n.saturating_sub(1), n + 1, 2 * n + 3]
        .into_iter()
        .filter(|&l| l != n)
        .collect();
    v.dedup();
    v
}

/// What output buffers hold before a call: no result of these tests is negative or a fraction.
fn sentinel<S: Scalar>() -> S {
    S::from_f64(-7.5)
}

/// `forward(g, x, k, b, u)` in any of its spellings.
type Forward<S> = fn(&Geometry, &[S], &[S], &[S], &mut [S]) -> Result<(), ShapeError>;
/// `backward(g, x, k, delta, dx, dk, db)` in any of its spellings.
type Backward<S> =
    fn(&Geometry, &[S], &[S], &[S], &mut [S], &mut [S], &mut [S]) -> Result<(), ShapeError>;

/// Each operand of `f` wrong in turn: the error names it with both lengths and `u` keeps its
/// contents; several wrong: the first in argument order is named; all right: `Ok`.
fn forward_rejects<S: Scalar>(f: Forward<S>) -> usize {
    let operands = [Operand::X, Operand::K, Operand::B, Operand::U];
    let mut cases = 0;
    for g in geometries() {
        let lens = [g.input_len(), g.kernel_len(), g.bias_len(), g.output_len()];
        let run = |l: [usize; 4]| {
            let (x, k, b) = (vec![S::ONE; l[0]], vec![S::ONE; l[1]], vec![S::ONE; l[2]]);
            let mut u = vec![sentinel::<S>(); l[3]];
            let r = f(&g, &x, &k, &b, &mut u);
            (r, u)
        };
        for which in 0..4 {
            for bad in bad_lengths(lens[which]) {
                let mut l = lens;
                l[which] = bad;
                let (r, u) = run(l);
                assert_eq!(
                    r,
                    Err(ShapeError::new(operands[which], lens[which], bad)),
                    "{g:?}"
                );
                assert!(u.iter().all(|&v| v == sentinel()), "u written on error");
                cases += 1;
            }
        }
        let (r, _) = run([0, 0, lens[2] + 1, 0]);
        assert_eq!(r, Err(ShapeError::new(Operand::X, lens[0], 0)));
        let (r, _) = run([lens[0], lens[1], 0, 0]);
        assert_eq!(r, Err(ShapeError::new(Operand::B, lens[2], 0)));
        let (r, u) = run(lens);
        assert_eq!(r, Ok(()));
        assert!(u.iter().all(|&v| v != sentinel()), "u written on success");
    }
    cases
}

fn backward_rejects<S: Scalar>(f: Backward<S>) -> usize {
    use Operand::{Db, Delta, Dk, Dx, K, X};
    let operands = [X, K, Delta, Dx, Dk, Db];
    let mut cases = 0;
    for g in geometries() {
        let (nx, nk, nb, nu) = (g.input_len(), g.kernel_len(), g.bias_len(), g.output_len());
        let lens = [nx, nk, nu, nx, nk, nb];
        let run = |l: [usize; 6]| {
            let (x, k, d) = (vec![S::ONE; l[0]], vec![S::ONE; l[1]], vec![S::ONE; l[2]]);
            let mut dx = vec![sentinel::<S>(); l[3]];
            let mut dk = vec![sentinel::<S>(); l[4]];
            let mut db = vec![sentinel::<S>(); l[5]];
            let r = f(&g, &x, &k, &d, &mut dx, &mut dk, &mut db);
            let untouched = [dx, dk, db].iter().flatten().all(|&v| v == sentinel::<S>());
            (r, untouched)
        };
        for which in 0..6 {
            for bad in bad_lengths(lens[which]) {
                let mut l = lens;
                l[which] = bad;
                let (r, untouched) = run(l);
                assert_eq!(
                    r,
                    Err(ShapeError::new(operands[which], lens[which], bad)),
                    "{g:?}"
                );
                assert!(untouched, "gradients written on error");
                cases += 1;
            }
        }
        let (r, _) = run([nx, nk, 0, 0, 0, 0]);
        assert_eq!(r, Err(ShapeError::new(Delta, nu, 0)));
        let (r, _) = run([nx, nk, nu, nx, 0, 0]);
        assert_eq!(r, Err(ShapeError::new(Dk, nk, 0)));
        let (r, untouched) = run(lens);
        assert_eq!(r, Ok(()));
        assert!(!untouched, "gradients written on success");
    }
    cases
}

#[test]
fn reference_forward_and_backward_name_each_wrong_operand() {
    let mut cases = 0;
    cases += forward_rejects::<f32>(reference::forward::<f32>);
    cases += forward_rejects::<f64>(reference::forward::<f64>);
    cases += forward_rejects::<f32>(reference::f32::forward_into);
    cases += forward_rejects::<f64>(reference::f64::forward_into);
    cases += forward_rejects::<f32>(<f32 as Scalar>::forward_into);
    cases += forward_rejects::<f64>(<f64 as Scalar>::forward_into);
    cases += backward_rejects::<f32>(reference::backward::<f32>);
    cases += backward_rejects::<f64>(reference::backward::<f64>);
    cases += backward_rejects::<f32>(reference::f32::backward_into);
    cases += backward_rejects::<f64>(reference::f64::backward_into);
    cases += backward_rejects::<f32>(<f32 as Scalar>::backward_into);
    cases += backward_rejects::<f64>(<f64 as Scalar>::backward_into);
    // Per geometry: bad lengths of 4 forward and 6 backward operands. G: x 40, k 36, b 3,
    // u 24 (4 bad lengths each); textbook: b 1 (3: 0, 2, 5), others 4; 1x1: all 3.
    let forward = (4 * 4) + (3 + 3 * 4) + (4 * 3);
    let backward = (6 * 4) + (5 * 4 + 3) + (6 * 3);
    assert_eq!(cases, 6 * forward + 6 * backward);
}

#[test]
fn vec_helpers_name_each_wrong_operand() {
    for g in geometries() {
        let (nx, nk, nb, nu) = (g.input_len(), g.kernel_len(), g.bias_len(), g.output_len());
        for bad in bad_lengths(nx) {
            let e = reference::forward_vec(&g, &vec![1.0f32; bad], &vec![1.0; nk], &vec![1.0; nb]);
            assert_eq!(e, Err(ShapeError::new(Operand::X, nx, bad)));
            let e = reference::backward_vec(&g, &vec![1.0f64; bad], &vec![1.0; nk], &vec![1.0; nu]);
            assert_eq!(e, Err(ShapeError::new(Operand::X, nx, bad)));
        }
        for bad in bad_lengths(nk) {
            let e = reference::forward_vec(&g, &vec![1.0f64; nx], &vec![1.0; bad], &vec![1.0; nb]);
            assert_eq!(e, Err(ShapeError::new(Operand::K, nk, bad)));
            let e = reference::backward_vec(&g, &vec![1.0f32; nx], &vec![1.0; bad], &vec![1.0; nu]);
            assert_eq!(e, Err(ShapeError::new(Operand::K, nk, bad)));
        }
        for bad in bad_lengths(nb) {
            let e = reference::forward_vec(&g, &vec![1.0f32; nx], &vec![1.0; nk], &vec![1.0; bad]);
            assert_eq!(e, Err(ShapeError::new(Operand::B, nb, bad)));
        }
        for bad in bad_lengths(nu) {
            let e = reference::backward_vec(&g, &vec![1.0f64; nx], &vec![1.0; nk], &vec![1.0; bad]);
            assert_eq!(e, Err(ShapeError::new(Operand::Delta, nu, bad)));
        }
        let u = reference::forward_vec(&g, &vec![1.0f64; nx], &vec![1.0; nk], &vec![1.0; nb]);
        assert_eq!(u.map(|u| u.len()), Ok(nu));
    }
}

/// A geometry with `C_in * H * W = C_out * C_in * KH * KW = usize::MAX` on 64-bit targets (the
/// kernel fills the input: one output): its `x` and `k` could never be allocated.
#[cfg(target_pointer_width = "64")]
const HUGE: Geometry = match GeometrySpec::new(
    [4_294_967_297, 4_294_967_295],
    [4_294_967_297, 4_294_967_295],
)
.resolve()
{
    Ok(g) => g,
    Err(e) => e.panic(),
};

/// The `Vec` helpers check the operands they are given before allocating the results, so a
/// wrong length on a geometry too large to allocate is an error, not an allocation failure.
#[cfg(target_pointer_width = "64")]
#[test]
fn vec_helpers_check_lengths_before_allocating() {
    assert_eq!(
        (HUGE.input_len(), HUGE.kernel_len()),
        (usize::MAX, usize::MAX)
    );
    assert_eq!(HUGE.output_len(), 1);
    let e = reference::backward_vec(&HUGE, &[1.0f32], &[1.0], &[1.0]);
    assert_eq!(e, Err(ShapeError::new(Operand::X, usize::MAX, 1)));
    let e = reference::forward_vec(&HUGE, &[1.0f64], &[1.0], &[1.0]);
    assert_eq!(e, Err(ShapeError::new(Operand::X, usize::MAX, 1)));
    // One output row per padding row: `u` has usize::MAX elements.
    let mut tall = GeometrySpec::new([1, 1], [1, 1]);
    tall.padding = Padding::Explicit {
        top: 0,
        bottom: usize::MAX - 1,
        left: 0,
        right: 0,
    };
    let tall = tall.resolve().unwrap();
    assert_eq!(tall.output_len(), usize::MAX);
    let e = reference::forward_vec(&tall, &[1.0f32], &[1.0], &[]);
    assert_eq!(e, Err(ShapeError::new(Operand::B, 1, 0)));
    let e = reference::backward_vec(&tall, &[1.0f32], &[1.0], &[1.0]);
    assert_eq!(e, Err(ShapeError::new(Operand::Delta, usize::MAX, 1)));
}

/// `proof::f32::check` with every slice right: [`G`]'s lengths.
struct Slices<S> {
    v: [Vec<S>; 8],
}

const CHECK_OPERANDS: [Operand; 8] = [
    Operand::X,
    Operand::K,
    Operand::B,
    Operand::U,
    Operand::Delta,
    Operand::Dx,
    Operand::Dk,
    Operand::Db,
];
const CHECK_LENS: [usize; 8] = [NX, NK, NB, NU, NU, NX, NK, NB];

impl<S: Scalar> Slices<S> {
    /// Lengths `l` of `x, k, b, u, delta, dx, dk, db`, the results those of the reference on
    /// inputs `x = k = b = delta = 1` (so a right-length call passes).
    fn new(l: [usize; 8]) -> Self {
        let ones = |n: usize| vec![S::ONE; n];
        let full = |n: usize, want: usize, v: Vec<S>| if n == want { v } else { ones(n) };
        let (x, k, b, d) = (ones(NX), ones(NK), ones(NB), ones(NU));
        let u = reference::forward_vec(&G, &x, &k, &b).unwrap();
        let gr = reference::backward_vec(&G, &x, &k, &d).unwrap();
        Self {
            v: [
                ones(l[0]),
                ones(l[1]),
                ones(l[2]),
                full(l[3], NU, u),
                ones(l[4]),
                full(l[5], NX, gr.dx),
                full(l[6], NK, gr.dk),
                full(l[7], NB, gr.db),
            ],
        }
    }
}

fn shape_mismatch(what: Operand, expected: usize, found: usize) -> Result<(), Mismatch> {
    Err(Mismatch::new(
        Part::Shape(ShapeError::new(what, expected, found)),
        0,
    ))
}

macro_rules! check_with {
    ($t:ident, $nx:expr, $nk:expr, $nb:expr, $nu:expr, $s:expr) => {{
        let v = &$s.v;
        proof::$t::check::<{ $nx }, { $nk }, { $nb }, { $nu }>(
            &G, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
        )
    }};
}

fn proof_check_rejects<S: Scalar>(check: fn(&Slices<S>) -> Result<(), Mismatch>) -> usize {
    let mut cases = 0;
    assert_eq!(check(&Slices::new(CHECK_LENS)), Ok(()));
    for which in 0..8 {
        for bad in bad_lengths(CHECK_LENS[which]) {
            let mut l = CHECK_LENS;
            l[which] = bad;
            let want = shape_mismatch(CHECK_OPERANDS[which], CHECK_LENS[which], bad);
            assert_eq!(check(&Slices::new(l)), want, "{:?}", CHECK_OPERANDS[which]);
            cases += 1;
        }
    }
    // Results are checked first: `u` wrong and `x` wrong names `u`.
    let mut l = CHECK_LENS;
    (l[0], l[3]) = (0, 0);
    assert_eq!(check(&Slices::new(l)), shape_mismatch(Operand::U, NU, 0));
    cases
}

#[test]
fn proof_check_names_each_wrong_slice() {
    let f32_cases = proof_check_rejects::<f32>(|s| check_with!(f32, NX, NK, NB, NU, s));
    let f64_cases = proof_check_rejects::<f64>(|s| check_with!(f64, NX, NK, NB, NU, s));
    assert_eq!((f32_cases, f64_cases), (32, 32));
}

/// The const generics `NX..NU` size the reference's buffers: a wrong one is a shape error
/// naming the result it sizes, with the buffer's size as the length found.
#[test]
fn proof_check_names_each_wrong_buffer_size() {
    let s = Slices::<f32>::new(CHECK_LENS);
    let t = Slices::<f64>::new(CHECK_LENS);
    assert_eq!(
        check_with!(f32, NX, NK, NB, NU + 1, s),
        shape_mismatch(Operand::U, NU, NU + 1)
    );
    assert_eq!(
        check_with!(f64, NX, NK, NB, 0, t),
        shape_mismatch(Operand::U, NU, 0)
    );
    assert_eq!(
        check_with!(f32, NX - 1, NK, NB, NU, s),
        shape_mismatch(Operand::Dx, NX, NX - 1)
    );
    assert_eq!(
        check_with!(f64, NX + 5, NK, NB, NU, t),
        shape_mismatch(Operand::Dx, NX, NX + 5)
    );
    assert_eq!(
        check_with!(f32, NX, 1, NB, NU, s),
        shape_mismatch(Operand::Dk, NK, 1)
    );
    assert_eq!(
        check_with!(f64, NX, NK * 2, NB, NU, t),
        shape_mismatch(Operand::Dk, NK, NK * 2)
    );
    assert_eq!(
        check_with!(f32, NX, NK, 0, NU, s),
        shape_mismatch(Operand::Db, NB, 0)
    );
    assert_eq!(
        check_with!(f64, NX, NK, NB + 1, NU, t),
        shape_mismatch(Operand::Db, NB, NB + 1)
    );
}

/// `assert_layer` is the compile-time assertion: it panics by design (a compile error in a
/// `const` item), with a message naming the operand.
#[test]
fn assert_layer_panics_naming_the_operand() {
    let names = [
        "`x`", "`k`", "`b`", "`u`", "`delta`", "`dL/dx`", "`dL/dk`", "`dL/db`",
    ];
    for which in 0..8 {
        let mut l = CHECK_LENS;
        l[which] += 1;
        let s = Slices::<f64>::new(l);
        let r = std::panic::catch_unwind(|| {
            let v = &s.v;
            proof::f64::assert_layer::<NX, NK, NB, NU>(
                &G, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
            );
        });
        let payload = r.expect_err("assert_layer accepted a wrong length");
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            msg.starts_with(&format!("conv2d proof failed: {} ", names[which]))
                && msg.ends_with("(shape)"),
            "{msg}"
        );
    }
}

/// `assert_same_forward` accepts equal outputs and panics on a differing element or length.
#[test]
fn assert_same_forward_panics_on_any_difference() {
    let message = |u: &[f32], v: &[f32]| {
        let r = std::panic::catch_unwind(|| proof::f32::assert_same_forward(u, v));
        r.err().map(|payload| {
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    };
    assert_eq!(message(&[1.0, -2.0], &[1.0, -2.0]), None);
    let differs = message(&[1.0, -2.0], &[1.0, 2.0]).expect("a differing element accepted");
    assert!(differs.starts_with("conv2d proof failed: ") && differs.ends_with("(u)"));
    let shorter = message(&[1.0, -2.0], &[1.0]).expect("a shorter output accepted");
    assert!(shorter.ends_with("(shape)"), "{shorter}");
}

/// `fill` takes any length (it does not depend on the geometry's lengths).
#[test]
fn proof_fill_takes_any_length() {
    let r = proof::value_range(&G) as f64;
    for len in [0, 1, NX - 1, NX + 1, 1000] {
        let mut s = vec![0.0f32; len];
        proof::f32::fill(&G, &mut s, 3);
        assert!(s
            .iter()
            .all(|&v| v != 0.0 && v.fract() == 0.0 && v.abs() as f64 <= r));
        let mut t = vec![0.0f64; len];
        proof::f64::fill(&G, &mut t, 3);
        assert_eq!(
            s.iter().map(|&v| v as f64).collect::<Vec<_>>(),
            t,
            "same values in f64"
        );
    }
}

/// A layer over [`G`] whose array types have `X, K, B, U` elements; `forward` and `backward`
/// panic, so a check that called them before checking the shapes would fail the test.
struct Misshapen<const X: usize, const K: usize, const B: usize, const U: usize>;

impl<const X: usize, const K: usize, const B: usize, const U: usize> Conv2d
    for Misshapen<X, K, B, U>
{
    type Scalar = f64;
    type Input = [f64; X];
    type Kernel = [f64; K];
    type Bias = [f64; B];
    type Output = [f64; U];
    const GEOMETRY: Geometry = G;
    fn forward(_: &[f64; X], _: &[f64; K], _: &[f64; B]) -> [f64; U] {
        panic!("forward called on a misshapen layer")
    }
    fn backward(
        _: &[f64; X],
        _: &[f64; K],
        _: &[f64; U],
    ) -> Gradients<[f64; X], [f64; K], [f64; B]> {
        panic!("backward called on a misshapen layer")
    }
}

/// The three checks' errors for `L`.
fn all_checks<L: Conv2d>() -> [CheckError; 3] {
    [
        check_exact::<L>(0).unwrap_err(),
        check_tolerance::<L>(0, Tolerance::default()).unwrap_err(),
        check_finite_differences::<L>(0).unwrap_err(),
    ]
}

/// `e` is the shape error `what, expected, found` of `check`.
fn is_shape(e: &CheckError, check: Check, what: Operand, expected: usize, found: usize) {
    let want = CheckError::new(
        check,
        Part::Shape(ShapeError::new(what, expected, found)),
        0,
        found as f64,
        expected as f64,
    );
    assert_eq!(*e, want, "{e}");
}

const CHECKS: [Check; 3] = [Check::Exact, Check::Tolerance, Check::FiniteDifferences];

#[test]
fn checks_name_each_misshapen_array_type() {
    for (e, check) in all_checks::<Misshapen<{ NX - 1 }, NK, NB, NU>>()
        .iter()
        .zip(CHECKS)
    {
        is_shape(e, check, Operand::X, NX, NX - 1);
    }
    for (e, check) in all_checks::<Misshapen<0, NK, NB, NU>>().iter().zip(CHECKS) {
        is_shape(e, check, Operand::X, NX, 0);
    }
    for (e, check) in all_checks::<Misshapen<NX, { NK + 1 }, NB, NU>>()
        .iter()
        .zip(CHECKS)
    {
        is_shape(e, check, Operand::K, NK, NK + 1);
    }
    for (e, check) in all_checks::<Misshapen<NX, NK, 1, NU>>().iter().zip(CHECKS) {
        is_shape(e, check, Operand::B, NB, 1);
    }
    // The output type is also `delta`'s: `check_tolerance` allocates `u` itself and finds the
    // mismatch in `delta`; the other two name `u`.
    let [exact, tolerance, fd] = all_checks::<Misshapen<NX, NK, NB, { NU + 2 }>>();
    is_shape(&exact, Check::Exact, Operand::U, NU, NU + 2);
    is_shape(&tolerance, Check::Tolerance, Operand::Delta, NU, NU + 2);
    is_shape(&fd, Check::FiniteDifferences, Operand::U, NU, NU + 2);
    // Several wrong: the first of x, k, b, u.
    for (e, check) in all_checks::<Misshapen<1, 1, 1, 1>>().iter().zip(CHECKS) {
        is_shape(e, check, Operand::X, NX, 1);
    }
}

#[conv2d(input = 4x4, kernel = 3x3, in_channels = 2, out_channels = 2)]
struct Small;

type SmallX = <Small as Conv2d>::Input;
type SmallU = <Small as Conv2d>::Output;

#[test]
fn batches_name_the_wrong_slice_and_change_nothing() {
    let x: SmallX = [[[1.0; 4]; 4]; 2];
    let d: SmallU = [[[1.0; 2]; 2]; 2];
    let fresh = Layer::<Small>::init(4);
    let mut layer = fresh;
    let poison_u: SmallU = [[[7.0; 2]; 2]; 2];
    let poison_x: SmallX = [[[7.0; 4]; 4]; 2];
    let mut cases = 0;
    for n in [0, 1, 3] {
        let xs = vec![x; n];
        for bad in bad_lengths(n) {
            let mut us = vec![poison_u; bad];
            let want = Err(BatchError::new(n, bad));
            assert_eq!(layer.forward_batch(&xs, &mut us), want);
            assert!(
                us.iter().all(|u| *u == poison_u),
                "outputs written on error"
            );

            let mut dxs = vec![poison_x; n];
            assert_eq!(layer.backward_batch(&xs, &vec![d; bad], &mut dxs), want);
            assert!(dxs.iter().all(|v| *v == poison_x), "dL/dx written on error");
            let mut dxs = vec![poison_x; bad];
            assert_eq!(layer.backward_batch(&xs, &vec![d; n], &mut dxs), want);
            assert!(dxs.iter().all(|v| *v == poison_x), "dL/dx written on error");
            // Both wrong: `deltas` is named.
            let mut dxs = vec![poison_x; bad + 1];
            assert_eq!(layer.backward_batch(&xs, &vec![d; bad], &mut dxs), want);
            assert_eq!(layer, fresh, "gradients accumulated on error");
            cases += 1;
        }
        // Right lengths: every sample written.
        let mut us = vec![poison_u; n];
        layer.forward_batch(&xs, &mut us).unwrap();
        assert!(us.iter().all(|u| *u == layer.forward(&x)));
    }
    assert_eq!(cases, 3 + 2 + 4);
}

/// Valid geometries with strides, dilations and paddings near `usize::MAX` (tiny tensors,
/// most taps in the padding): the reference runs without overflow and equals the naive loops
/// (which compute indices in `u128`).
#[test]
fn extreme_geometries_run_without_overflow() {
    let m = usize::MAX;
    let explicit = |top, bottom, left, right| Padding::Explicit {
        top,
        bottom,
        left,
        right,
    };
    let specs = [
        // Stride usize::MAX: one output.
        ([1, 1], [1, 1], [m, m], [1, 1], Padding::Valid),
        // Two outputs per axis, `usize::MAX / 2` apart; one of each pair reads the input.
        (
            [2, 3],
            [2, 2],
            [m / 2, m / 4],
            [1, 1],
            explicit(m / 2, 0, 0, m / 4),
        ),
        // A 2-tap kernel whose taps are `usize::MAX / 2` apart: the second reads the padding.
        ([1, 2], [2, 1], [1, 1], [m / 2, 1], explicit(0, m / 2, 0, 0)),
        // `same` with a huge dilation: every tap in the padding, u = b.
        ([2, 2], [2, 2], [1, 1], [m / 4, m / 4], Padding::Same),
        // A 2-tap kernel whose taps are `usize::MAX - 1` columns apart: the second reads the
        // padding, and the address of the input element after the last tap does not fit.
        ([1, 2], [1, 2], [1, 1], [1, m - 1], explicit(0, 0, 0, m - 2)),
        // `same` with a huge stride.
        ([3, 3], [2, 2], [m, m - 1], [1, 1], Padding::Same),
    ];
    for (n, (input, kernel, stride, dilation, padding)) in specs.into_iter().enumerate() {
        let g = GeometrySpec {
            input,
            kernel,
            stride,
            dilation,
            padding,
            in_channels: 2,
            out_channels: 2,
        }
        .resolve()
        .unwrap_or_else(|e| panic!("spec {n}: {e}"));
        assert!(g.output_len() <= 8, "spec {n}: {g:?}");
        let lens = [g.input_len(), g.kernel_len(), g.bias_len(), g.output_len()];
        let [x, k, b, d] =
            [0, 1, 2, 3].map(|i| naive::integers(n as u64 * 4 + i, lens[i as usize], 4));
        let u = reference::forward_vec(&g, &x, &k, &b).unwrap();
        assert_eq!(u, naive::forward(&g, &x, &k, &b), "spec {n}");
        let gr = reference::backward_vec(&g, &x, &k, &d).unwrap();
        let (dx, dk, db) = naive::backward(&g, &x, &k, &d);
        assert_eq!((&gr.dx, &gr.dk, &gr.db), (&dx, &dk, &db), "spec {n}");
        if n == 3 {
            // Every tap in the padding: u = b, zero gradients for x and k.
            assert!(naive::terms(&g).is_empty());
            let plane = g.output()[0] * g.output()[1];
            assert!(
                u.iter().enumerate().all(|(i, &v)| v == b[i / plane]),
                "{u:?}"
            );
            assert!(dx.iter().chain(&dk).all(|&v| v == 0.0));
        }
    }
}

/// `proof::value_range` on a geometry whose `C_in * KH * KW` is `usize::MAX`: the smallest
/// range (1), not an overflow.
#[cfg(target_pointer_width = "64")]
#[test]
fn value_range_of_the_largest_geometry_is_one() {
    assert_eq!(proof::value_range(&HUGE), 1);
    // And the checks, which call it first, report the shapes of a small layer claiming it.
    struct Claims;
    impl Conv2d for Claims {
        type Scalar = f32;
        type Input = [f32; 1];
        type Kernel = [f32; 1];
        type Bias = f32;
        type Output = f32;
        const GEOMETRY: Geometry = HUGE;
        fn forward(x: &[f32; 1], k: &[f32; 1], b: &f32) -> f32 {
            b + x[0] * k[0]
        }
        fn backward(x: &[f32; 1], k: &[f32; 1], d: &f32) -> Gradients<[f32; 1], [f32; 1], f32> {
            Gradients {
                dx: [d * k[0]],
                dk: [d * x[0]],
                db: *d,
            }
        }
    }
    for (e, check) in all_checks::<Claims>().iter().zip(CHECKS) {
        is_shape(e, check, Operand::X, usize::MAX, 1);
    }
    // `Layer::init` only reads the geometry for its scale.
    let layer = Layer::<Claims>::init(1);
    assert!(layer.kernel[0].abs() < 1e-9 && layer.bias == 0.0);
}

/// `SplitMix64::nonzero(r)` for the largest `r`: nonzero values in `[-r, r]` (at most
/// `i64::MAX` in magnitude), no overflow.
#[test]
fn nonzero_takes_any_range() {
    let mut rng = SplitMix64::new(5);
    for r in [
        u64::MAX,
        i64::MAX as u64 + 1,
        i64::MAX as u64,
        1 << 40,
        1,
        0,
    ] {
        let bound = (r.clamp(1, i64::MAX as u64)) as i128;
        for _ in 0..1000 {
            let v = rng.nonzero(r) as i128;
            assert!(v != 0 && -bound <= v && v <= bound, "{v} for r = {r}");
        }
    }
    // A small range: every value but zero is drawn.
    let mut seen = [false; 7];
    for _ in 0..1000 {
        seen[(rng.nonzero(3) + 3) as usize] = true;
    }
    assert_eq!(seen, [true, true, true, false, true, true, true]);
}
