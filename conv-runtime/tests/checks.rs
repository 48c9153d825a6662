//! The run-time checks and the compile-time proof accept a correct layer and reject a wrong one.
//! The layers here are written by hand (loops over the chain rule), not generated.
#![cfg(feature = "std")]

use conv_runtime::checks::{
    check_exact, check_finite_differences, check_tolerance, Check, CheckError, Part, Tolerance,
};
use conv_runtime::proof::{self, Mismatch};
use conv_runtime::{Conv2d, Geometry, GeometrySpec, Gradients, Operand, ShapeError};

const G: Geometry = match GeometrySpec::new([5, 5], [3, 3]).resolve() {
    Ok(g) => g,
    Err(e) => e.panic(),
};

type X = [[f32; 5]; 5];
type K = [[f32; 3]; 3];
type U = [[f32; 3]; 3];

fn forward(x: &X, k: &K, b: f32) -> U {
    let mut u = [[b; 3]; 3];
    for (i, row) in u.iter_mut().enumerate() {
        for (j, out) in row.iter_mut().enumerate() {
            for a in 0..3 {
                for bb in 0..3 {
                    *out += x[i + a][j + bb] * k[a][bb];
                }
            }
        }
    }
    u
}

/// The chain rule by loops; `wrong` drops the product `delta[1][1] * k[0][0]` from
/// `dL/dx[1][1]` (flat index 6).
fn backward(x: &X, k: &K, delta: &U, wrong: bool) -> Gradients<X, K, f32> {
    let mut g = Gradients {
        dx: [[0.0; 5]; 5],
        dk: [[0.0; 3]; 3],
        db: 0.0,
    };
    for i in 0..3 {
        for j in 0..3 {
            g.db += delta[i][j];
            for a in 0..3 {
                for bb in 0..3 {
                    if !(wrong && (i, j, a, bb) == (1, 1, 0, 0)) {
                        g.dx[i + a][j + bb] += delta[i][j] * k[a][bb];
                    }
                    g.dk[a][bb] += delta[i][j] * x[i + a][j + bb];
                }
            }
        }
    }
    g
}

/// A correct hand-written textbook layer.
struct Right;
/// The same with one wrong term in `dL/dx`.
struct Wrong;

macro_rules! layer {
    ($name:ident, $wrong:expr) => {
        impl Conv2d for $name {
            type Scalar = f32;
            type Input = X;
            type Kernel = K;
            type Bias = f32;
            type Output = U;
            const GEOMETRY: Geometry = G;
            fn forward(x: &X, k: &K, b: &f32) -> U {
                forward(x, k, *b)
            }
            fn backward(x: &X, k: &K, delta: &U) -> Gradients<X, K, f32> {
                backward(x, k, delta, $wrong)
            }
        }
    };
}
layer!(Right, false);
layer!(Wrong, true);

/// A layer whose array types do not match its geometry (a 4x4 input for a 5x5 layer).
struct Misshapen;

impl Conv2d for Misshapen {
    type Scalar = f64;
    type Input = [[f64; 4]; 4];
    type Kernel = [[f64; 3]; 3];
    type Bias = f64;
    type Output = [[f64; 3]; 3];
    const GEOMETRY: Geometry = G;
    fn forward(_: &[[f64; 4]; 4], _: &[[f64; 3]; 3], b: &f64) -> [[f64; 3]; 3] {
        [[*b; 3]; 3]
    }
    fn backward(
        _: &[[f64; 4]; 4],
        _: &[[f64; 3]; 3],
        _: &[[f64; 3]; 3],
    ) -> Gradients<[[f64; 4]; 4], [[f64; 3]; 3], f64> {
        Gradients::default()
    }
}

#[test]
fn a_correct_layer_passes_every_check() {
    for seed in 0..5 {
        check_exact::<Right>(seed).unwrap();
        check_tolerance::<Right>(seed, Tolerance::default()).unwrap();
        check_finite_differences::<Right>(seed).unwrap();
    }
}

#[test]
fn a_wrong_term_fails_every_check() {
    let at_dx_1_1 = |e: &CheckError| (e.part, e.index) == (Part::Dx, 6);
    let e = check_exact::<Wrong>(1).unwrap_err();
    assert!(at_dx_1_1(&e) && e.check == Check::Exact, "{e}");
    let e = check_tolerance::<Wrong>(1, Tolerance::default()).unwrap_err();
    assert!(at_dx_1_1(&e) && e.check == Check::Tolerance, "{e}");
    let e = check_finite_differences::<Wrong>(1).unwrap_err();
    assert!(at_dx_1_1(&e) && e.check == Check::FiniteDifferences, "{e}");
    // The missing product is delta[1][1] * k[0][0]: got + that = expected.
    assert_ne!(e.got, e.expected);
    let msg = e.to_string();
    assert!(
        msg.starts_with("finite differences check failed: dL/dx[6] is "),
        "{msg}"
    );
}

#[test]
fn a_misshapen_layer_is_a_shape_error_not_a_panic() {
    let shape = Part::Shape(ShapeError::new(Operand::X, 25, 16));
    for e in [
        check_exact::<Misshapen>(0).unwrap_err(),
        check_tolerance::<Misshapen>(0, Tolerance::default()).unwrap_err(),
        check_finite_differences::<Misshapen>(0).unwrap_err(),
    ] {
        assert_eq!((e.part, e.got, e.expected), (shape, 16.0, 25.0), "{e}");
        assert!(e
            .to_string()
            .ends_with("`x` has 16 elements, but the layer's geometry needs 25"));
    }
}

#[test]
fn tolerance_is_absolute_plus_relative() {
    let t = Tolerance::default();
    assert_eq!((t.atol, t.rtol), (1e-4, 1e-4));
    assert!(t.allows(1.0 + 1.9e-4, 1.0));
    assert!(!t.allows(1.0 + 2.1e-4, 1.0));
    assert!(t.allows(1e-4, 0.0) && !t.allows(-1.1e-4, 0.0));
}

/// Inputs as the macro's compile-time check makes them.
fn inputs() -> (X, K, f32, U) {
    let (mut x, mut k, mut b, mut delta) = ([[0.0; 5]; 5], [[0.0; 3]; 3], 0.0, [[0.0; 3]; 3]);
    proof::f32::fill(&G, x.as_flattened_mut(), 1);
    proof::f32::fill(&G, k.as_flattened_mut(), 2);
    proof::f32::fill(&G, std::slice::from_mut(&mut b), 3);
    proof::f32::fill(&G, delta.as_flattened_mut(), 4);
    (x, k, b, delta)
}

#[test]
fn the_proof_rejects_a_wrong_function() {
    let (x, k, b, delta) = inputs();
    let u = forward(&x, &k, b);
    let check = |g: &Gradients<X, K, f32>, u: &U| {
        proof::f32::check::<25, 9, 1, 9>(
            &G,
            x.as_flattened(),
            k.as_flattened(),
            std::slice::from_ref(&b),
            u.as_flattened(),
            delta.as_flattened(),
            g.dx.as_flattened(),
            g.dk.as_flattened(),
            std::slice::from_ref(&g.db),
        )
    };
    let right = backward(&x, &k, &delta, false);
    assert_eq!(check(&right, &u), Ok(()));
    let dx_1_1 = Mismatch::new(Part::Dx, 6);
    assert_eq!(check(&backward(&x, &k, &delta, true), &u), Err(dx_1_1));
    let mut wrong_u = u;
    wrong_u[2][1] += 1.0;
    let u_2_1 = Mismatch::new(Part::U, 7);
    assert_eq!(check(&right, &wrong_u), Err(u_2_1));
    let mut wrong_db = right;
    wrong_db.db = -wrong_db.db;
    assert_eq!(check(&wrong_db, &u).unwrap_err().part, Part::Db);
    let mut wrong_dk = right;
    wrong_dk.dk[2][2] = 0.0;
    let dk_2_2 = Mismatch::new(Part::Dk, 8);
    assert_eq!(check(&wrong_dk, &u), Err(dk_2_2));
}

#[test]
fn the_proof_reports_lengths_as_shape_errors() {
    let (x, k, b, delta) = inputs();
    let u = forward(&x, &k, b);
    let g = backward(&x, &k, &delta, false);
    let (xs, ks, bs, us, ds) = (
        x.as_flattened(),
        k.as_flattened(),
        std::slice::from_ref(&b),
        u.as_flattened(),
        delta.as_flattened(),
    );
    let (dx, dk, db) = (
        g.dx.as_flattened(),
        g.dk.as_flattened(),
        std::slice::from_ref(&g.db),
    );
    let shape = |what, expected, found| {
        Err(Mismatch::new(
            Part::Shape(ShapeError::new(what, expected, found)),
            0,
        ))
    };
    let check = proof::f32::check::<25, 9, 1, 9>;
    assert_eq!(
        check(&G, xs, ks, bs, &us[1..], ds, dx, dk, db),
        shape(Operand::U, 9, 8)
    );
    assert_eq!(
        check(&G, xs, ks, bs, us, ds, &dx[..24], dk, db),
        shape(Operand::Dx, 25, 24)
    );
    assert_eq!(
        check(&G, &xs[..3], ks, bs, us, ds, dx, dk, db),
        shape(Operand::X, 25, 3)
    );
    assert_eq!(
        check(&G, xs, ks, bs, us, &ds[..2], dx, dk, db),
        shape(Operand::Delta, 9, 2)
    );
    // A buffer size that is not the geometry's.
    let bad_buffer = proof::f32::check::<25, 9, 1, 10>;
    assert_eq!(
        bad_buffer(&G, xs, ks, bs, us, ds, dx, dk, db),
        shape(Operand::U, 9, 10)
    );
}

#[test]
fn test_values_are_nonzero_integers_in_range_and_exact() {
    // The range keeps every sum at most 2^24 (exact in f32) and is wide enough that a swapped
    // operand almost always changes a result.
    assert_eq!(proof::value_range(&G), 1024);
    let big = GeometrySpec::new([28, 28], [5, 5]).resolve().unwrap();
    let r = proof::value_range(&big);
    assert!(
        r >= 100 && 577 * r * r <= 1 << 24 && 577 * (r + 1) * (r + 1) > 1 << 24,
        "{r}"
    );

    let mut s = [0.0f64; 4000];
    proof::f64::fill(&big, &mut s, 9);
    assert!(s
        .iter()
        .all(|&v| v != 0.0 && v.fract() == 0.0 && v.abs() <= r as f64));
    assert!(s.contains(&(r as f64)) && s.contains(&-(r as f64)));
    let mut again = [0.0f64; 4000];
    proof::f64::fill(&big, &mut again, 9);
    assert_eq!(s, again, "deterministic");
    proof::f64::fill(&big, &mut again, 10);
    assert_ne!(s, again, "the seed matters");
}

#[test]
fn refill_draws_a_second_set_unlike_the_first() {
    let big = GeometrySpec::new([28, 28], [5, 5]).resolve().unwrap();
    let r = proof::value_range(&big) as f64;
    let mut first = [0.0f64; 4000];
    proof::f64::fill(&big, &mut first, 9);
    // On zeroed values, `refill` writes what `fill` writes.
    let mut from_zero = [0.0f64; 4000];
    proof::f64::refill(&big, &mut from_zero, 9);
    assert_eq!(first, from_zero);
    // Over the first set, every element changes, and stays a nonzero integer in range.
    let mut second = first;
    proof::f64::refill(&big, &mut second, 13);
    for (i, (&a, &b)) in first.iter().zip(&second).enumerate() {
        assert!(b != a, "element {i} kept its value {a}");
        assert!(
            b != 0.0 && b.fract() == 0.0 && b.abs() <= r,
            "element {i}: {b}"
        );
    }
    // With one value on each side (range 1), the only other value is the negation.
    let wide = GeometrySpec::new([5000, 5000], [1, 1]).resolve().unwrap();
    assert_eq!(proof::value_range(&wide), 1);
    let mut ones = [1.0f32, -1.0, 1.0];
    proof::f32::refill(&wide, &mut ones, 1);
    assert_eq!(ones, [-1.0, 1.0, -1.0]);
}

/// The reason for a second input set: a wrong term whose value equals the right one's on the
/// first set (here `dL/dk[0][0]` reading `x[q]` instead of `x[0][0]`, where the first set has
/// the same value in both) passes the first set and fails the second.
#[test]
fn the_second_input_set_catches_a_term_the_first_one_misses() {
    const NX: usize = 28 * 28;
    let big = GeometrySpec::new([28, 28], [5, 5]).resolve().unwrap();
    let (mut x, mut k, mut b, mut delta) = (vec![0.0; NX], vec![0.0; 25], [0.0], vec![0.0; 576]);
    let draw = |x: &mut [f64], k: &mut [f64], b: &mut [f64], delta: &mut [f64], set: u64| {
        proof::f64::refill(&big, x, 4 * set + 1);
        proof::f64::refill(&big, k, 4 * set + 2);
        proof::f64::refill(&big, b, 4 * set + 3);
        proof::f64::refill(&big, delta, 4 * set + 4);
    };
    draw(&mut x, &mut k, &mut b, &mut delta, 0);
    let q = (1..NX)
        .find(|&q| x[q] == x[0])
        .expect("784 values in a range of a few hundred repeat");
    let check = |x: &[f64], k: &[f64], b: &[f64], delta: &[f64]| {
        let u = conv_runtime::reference::forward_vec(&big, x, k, b).unwrap();
        let mut g = conv_runtime::reference::backward_vec(&big, x, k, delta).unwrap();
        // The wrong term: delta[0][0] * x[q] in place of delta[0][0] * x[0][0].
        g.dk[0] += delta[0] * (x[q] - x[0]);
        proof::f64::check::<NX, 25, 1, 576>(&big, x, k, b, &u, delta, &g.dx, &g.dk, &g.db)
    };
    assert_eq!(check(&x, &k, &b, &delta), Ok(()), "the first set misses it");
    draw(&mut x, &mut k, &mut b, &mut delta, 1);
    assert_eq!(
        check(&x, &k, &b, &delta),
        Err(Mismatch::new(Part::Dk, 0)),
        "the second set catches it"
    );
}
