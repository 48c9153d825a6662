//! The compile-time check that `#[conv2d]` emits for every layer.
//!
//! The macro emits a `const _: () = { .. };` item that fills inputs with [`f32::fill`](self::f32::fill)
//! (pseudo-random integers), evaluates the layer's `const fn forward` and `backward`, and passes
//! everything to [`f32::assert_layer`](self::f32::assert_layer), which computes the same
//! quantities with [`reference`](crate::reference) (the padded/rotated formulation) and compares
//! them exactly. Integer values keep every partial sum below `2^24`, so `f32` and `f64` results
//! are exact whatever the summation order; a wrong, missing or extra term fails the build:
//!
//! ```compile_fail,E0080
//! use conv_runtime::{proof, Geometry, GeometrySpec};
//! const G: Geometry = match GeometrySpec::new([2, 2], [2, 2]).resolve() {
//!     Ok(g) => g,
//!     Err(e) => e.panic(),
//! };
//! // A 2x2 input, 2x2 kernel, one output: u = b + Σ x*k. The backward below forgets `d * x[1][1]`.
//! const fn forward(x: &[[f32; 2]; 2], k: &[[f32; 2]; 2], b: f32) -> [[f32; 1]; 1] {
//!     [[b + x[0][0] * k[0][0] + x[0][1] * k[0][1] + x[1][0] * k[1][0] + x[1][1] * k[1][1]]]
//! }
//! const fn backward(x: &[[f32; 2]; 2], k: &[[f32; 2]; 2], d: &[[f32; 1]; 1]) -> ([[f32; 2]; 2], [[f32; 2]; 2], f32) {
//!     let d = d[0][0];
//!     ([[d * k[0][0], d * k[0][1]], [d * k[1][0], d * k[1][1]]],
//!      [[d * x[0][0], d * x[0][1]], [d * x[1][0], 0.0]],
//!      d)
//! }
//! const _: () = {
//!     let (mut x, mut k, mut b, mut delta) = ([[0.0f32; 2]; 2], [[0.0f32; 2]; 2], 0.0f32, [[0.0f32; 1]; 1]);
//!     proof::f32::fill(&G, x.as_flattened_mut(), 1);
//!     proof::f32::fill(&G, k.as_flattened_mut(), 2);
//!     proof::f32::fill(&G, core::slice::from_mut(&mut b), 3);
//!     proof::f32::fill(&G, delta.as_flattened_mut(), 4);
//!     let u = forward(&x, &k, b);
//!     let (dx, dk, db) = backward(&x, &k, &delta);
//!     proof::f32::assert_layer::<4, 4, 1, 1>(
//!         &G, x.as_flattened(), k.as_flattened(), core::slice::from_ref(&b), u.as_flattened(),
//!         delta.as_flattened(), dx.as_flattened(), dk.as_flattened(), core::slice::from_ref(&db),
//!     );
//! };
//! ```
//!
//! With the missing term restored (`d * x[1][1]`) the same item compiles; see the crate's tests.

use crate::Geometry;

/// Which result of a layer differs from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// An operand's length does not match the geometry.
    Shape,
    /// The forward output `u`.
    U,
    /// `dL/dx`.
    Dx,
    /// `dL/dk`.
    Dk,
    /// `dL/db`.
    Db,
}

/// The first element where a layer and the reference differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mismatch {
    /// Which result.
    pub part: Part,
    /// Flat position of the element (for [`Part::Shape`], 0).
    pub index: usize,
}

/// Largest magnitude of the integer test values for `g`: every sum of the layer (at most
/// `terms` products plus the bias) stays below `2^24`, so it is exact in `f32`.
pub const fn value_range(g: &Geometry) -> u64 {
    let [kh, kw] = g.kernel();
    let [oh, ow] = g.output();
    let forward = g.in_channels() * kh * kw + 1;
    let dx = g.out_channels() * kh * kw;
    let dk = oh * ow;
    let mut terms = forward;
    if dx > terms {
        terms = dx;
    }
    if dk > terms {
        terms = dk;
    }
    let bound = (1u64 << 24) / (terms as u64 + 1);
    // Integer square root, capped: large enough that a swapped operand shows.
    let mut r = 1u64;
    while (r + 1) * (r + 1) <= bound && r < 1024 {
        r += 1;
    }
    r
}

macro_rules! proof {
    ($t:ident) => {
        /// The check in this element type (`const fn`).
        pub mod $t {
            use super::{value_range, Mismatch, Part};
            use crate::reference::$t as reference;
            use crate::Geometry;
            type T = core::primitive::$t;

            /// Fills `s` with pseudo-random integers in `[-R, R]`, `R = value_range(g)`,
            /// deterministic in `seed`.
            pub const fn fill(g: &Geometry, s: &mut [T], seed: u64) {
                let span = 2 * value_range(g) + 1;
                let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
                let mut i = 0;
                while i < s.len() {
                    // splitmix64
                    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    z ^= z >> 31;
                    s[i] = (z % span) as T - value_range(g) as T;
                    i += 1;
                }
            }

            /// Compares a layer's results with the reference formulation, exactly. `NX`, `NK`,
            /// `NB`, `NU` are the lengths of `x`, `k`, `b`, `u` (buffers for the reference).
            #[allow(clippy::too_many_arguments)]
            pub const fn check<const NX: usize, const NK: usize, const NB: usize, const NU: usize>(
                g: &Geometry,
                x: &[T],
                k: &[T],
                b: &[T],
                u: &[T],
                delta: &[T],
                dx: &[T],
                dk: &[T],
                db: &[T],
            ) -> Result<(), Mismatch> {
                let shape = Mismatch { part: Part::Shape, index: 0 };
                let (mut ru, mut rdx, mut rdk, mut rdb) = ([0.0; NU], [0.0; NX], [0.0; NK], [0.0; NB]);
                if reference::forward_into(g, x, k, b, &mut ru).is_err() {
                    return Err(shape);
                }
                if reference::backward_into(g, x, k, delta, &mut rdx, &mut rdk, &mut rdb).is_err() {
                    return Err(shape);
                }
                let pairs: [(&[T], &[T], Part); 4] =
                    [(u, &ru, Part::U), (dx, &rdx, Part::Dx), (dk, &rdk, Part::Dk), (db, &rdb, Part::Db)];
                let mut p = 0;
                while p < pairs.len() {
                    let (got, want, part) = pairs[p];
                    if got.len() != want.len() {
                        return Err(shape);
                    }
                    let mut i = 0;
                    while i < got.len() {
                        if got[i] != want[i] {
                            return Err(Mismatch { part, index: i });
                        }
                        i += 1;
                    }
                    p += 1;
                }
                Ok(())
            }

            /// [`check`], stopping compilation (or panicking at run time) on a mismatch with a
            /// message naming the result that differs.
            #[allow(clippy::too_many_arguments)]
            pub const fn assert_layer<const NX: usize, const NK: usize, const NB: usize, const NU: usize>(
                g: &Geometry,
                x: &[T],
                k: &[T],
                b: &[T],
                u: &[T],
                delta: &[T],
                dx: &[T],
                dk: &[T],
                db: &[T],
            ) {
                match check::<NX, NK, NB, NU>(g, x, k, b, u, delta, dx, dk, db) {
                    Ok(()) => {}
                    Err(Mismatch { part: Part::U, .. }) => {
                        panic!("conv2d proof failed: the generated `forward` differs from conv_runtime::reference (u)")
                    }
                    Err(Mismatch { part: Part::Dx, .. }) => panic!(
                        "conv2d proof failed: the generated `backward` differs from the padded/rotated formulation (dL/dx)"
                    ),
                    Err(Mismatch { part: Part::Dk, .. }) => panic!(
                        "conv2d proof failed: the generated `backward` differs from the padded/rotated formulation (dL/dk)"
                    ),
                    Err(Mismatch { part: Part::Db, .. }) => panic!(
                        "conv2d proof failed: the generated `backward` differs from the padded/rotated formulation (dL/db)"
                    ),
                    Err(Mismatch { part: Part::Shape, .. }) => {
                        panic!("conv2d proof failed: an operand's length does not match the layer's geometry")
                    }
                }
            }
        }
    };
}

proof!(f32);
proof!(f64);
