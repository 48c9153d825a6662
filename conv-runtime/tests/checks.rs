//! The checks and the compile-time proof accept a correct layer and reject a wrong one. The
//! layers here are written by hand (loops over the definition), not generated.

use conv_runtime::checks::{
    check_exact, check_finite_differences, check_tolerance, CheckError, Part, Tolerance,
};
use conv_runtime::proof::{self, Mismatch};
use conv_runtime::{Conv2d, Geometry, GeometrySpec, Gradients};

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

/// The chain rule by loops; `wrong` drops the product `delta[1][1] * k[0][0]` from `dL/dx[1][1]`.
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

struct Right;
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
    let is_dx_11 = |e: CheckError| {
        matches!(
            e,
            CheckError::Mismatch {
                part: Part::Dx,
                index: 6,
                ..
            }
        )
    };
    assert!(is_dx_11(check_exact::<Wrong>(1).unwrap_err()));
    assert!(is_dx_11(
        check_tolerance::<Wrong>(1, Tolerance::default()).unwrap_err()
    ));
    let e = check_finite_differences::<Wrong>(1).unwrap_err();
    assert!(is_dx_11(e), "{e}");
    assert!(
        e.to_string()
            .starts_with("finite differences check failed: Dx[6]"),
        "{e}"
    );
}

#[test]
fn the_proof_rejects_a_wrong_function() {
    let (mut x, mut k, mut b, mut delta) =
        ([[0.0f32; 5]; 5], [[0.0f32; 3]; 3], 0.0f32, [[0.0f32; 3]; 3]);
    proof::f32::fill(&G, x.as_flattened_mut(), 1);
    proof::f32::fill(&G, k.as_flattened_mut(), 2);
    proof::f32::fill(&G, std::slice::from_mut(&mut b), 3);
    proof::f32::fill(&G, delta.as_flattened_mut(), 4);
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
    assert_eq!(check(&backward(&x, &k, &delta, false), &u), Ok(()));
    assert_eq!(
        check(&backward(&x, &k, &delta, true), &u),
        Err(Mismatch {
            part: Part::Dx,
            index: 6
        })
    );
    let mut wrong_u = u;
    wrong_u[2][1] += 1.0;
    assert_eq!(
        check(&backward(&x, &k, &delta, false), &wrong_u),
        Err(Mismatch {
            part: Part::U,
            index: 7
        })
    );
}

#[test]
fn test_values_are_distinct_enough_and_exact() {
    // The range keeps every sum below 2^24 (exact in f32) and large enough that swapping two
    // operands almost always changes a result.
    assert_eq!(proof::value_range(&G), 1024);
    let big = GeometrySpec::new([28, 28], [5, 5]).resolve().unwrap();
    let r = proof::value_range(&big);
    assert!(r >= 100 && 576 * r * r < 1 << 24, "{r}");
}
