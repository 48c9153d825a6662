//! The compile-time check that `#[conv2d]` emits for every layer: the generated code checked at
//! compile time on integer inputs.
//!
//! The macro emits a `const _: () = { .. };` item that fills the inputs with pseudo-random
//! nonzero integers ([`f32::refill`]), evaluates the layer's `const fn forward` and `backward` on
//! them, and hands everything to [`f32::assert_layer`]. That computes the same quantities with
//! [`reference`](crate::reference) (the definition for `u`, the padded / rotated formulation for
//! the gradients) and compares them exactly, element by element. The values keep every partial
//! sum an integer of magnitude at most `2^24` (see [`value_range`]), so `f32` and `f64` results
//! are exact whatever the summation order, and `==` is the right comparison. A wrong, missing or
//! extra term stops the build with a message naming the part (`u`, `dL/dx`, `dL/dk`, `dL/db`),
//! unless its value happens to equal the right term's on every input set checked.
//!
//! Despite the module's name this is a test on chosen inputs, not a proof. What is proven, for
//! every product, is the derivation: during expansion the engine compares the chain rule's
//! Jacobian tables symbolically, term by term, with the padded / rotated formulation
//! (`conv_engine::prove`). This check covers what that comparison does not see, the code
//! emitted from the derivation, on the inputs it evaluates.
//!
//! # Input sets
//!
//! The layer is checked on two input sets when it has at most
//! [`MAX_WINDOW_MACS`](crate::MAX_WINDOW_MACS)` / 2` multiply-adds, else on one, so that the
//! check never costs more than one set at the largest layer evaluated whole. The first set is
//! drawn with seeds 1 (`x`), 2 (`k`), 3 (`b`), 4 (`delta`) on zeroed arrays; the second with
//! seeds 5 to 8 over the first ([`f32::refill`] draws each element anew, other than its current
//! value), so no element of the second set equals the first set's at the same place, and a
//! wrong term that matched by chance on the first set is unlikely to match again. Layers that
//! loop over rows beyond `MAX_WINDOW_MACS` are checked through their one-row companion layer,
//! by the same rule.
//!
//! # The call the macro emits
//!
//! Arguments are flat row-major slices; the const generics `NX, NK, NB, NU` are the lengths of
//! `x`, `k`, `b` and `u` (the geometry's `input_len()`, `kernel_len()`, `bias_len()`,
//! `output_len()`), used to size the reference's buffers (a `const fn` cannot allocate):
//!
//! ```text
//! pub const fn refill(g: &Geometry, s: &mut [T], seed: u64)
//! pub const fn check<const NX: usize, const NK: usize, const NB: usize, const NU: usize>(
//!     g: &Geometry, x: &[T], k: &[T], b: &[T], u: &[T], delta: &[T], dx: &[T], dk: &[T], db: &[T],
//! ) -> Result<(), Mismatch>
//! pub const fn assert_layer<const NX: usize, const NK: usize, const NB: usize, const NU: usize>(
//!     g: &Geometry, x: &[T], k: &[T], b: &[T], u: &[T], delta: &[T], dx: &[T], dk: &[T], db: &[T],
//! )
//! pub const fn assert_same_forward(u: &[T], variant: &[T])
//! ```
//!
//! A layer's other `forward` variants (fused, or in other blocks) are evaluated on the same
//! inputs as the one `assert_layer` checks and must give its `u` exactly
//! (`assert_same_forward`): on integer values every variant's sums are exact, so equal to the
//! reference's, and no `backward` is evaluated again for them.
//!
//! Flat views, all `const`: a nested array `a: [[T; W]; H]` is `a.as_flattened()` (one call per
//! extra dimension, `as_flattened_mut()` for `refill`), a `[T; N]` is `&a` (it coerces), a scalar
//! bias is `::core::slice::from_ref(&b)` (`from_mut` for `refill`). Seeds of set `n` (from 0):
//! `x` `4n + 1`, `k` `4n + 2`, `b` `4n + 3`, `delta` `4n + 4`.
//!
//! For the textbook layer `Textbook` (`input = 5x5, kernel = 3x3`, `f32`), with
//! `forward(&[[f32; 5]; 5], &[[f32; 3]; 3], f32) -> [[f32; 3]; 3]` and
//! `backward(..) -> Gradients<[[f32; 5]; 5], [[f32; 3]; 3], f32>` (81 multiply-adds, so two
//! input sets), the emitted item is the `const _` below (the layer here is written by hand,
//! with loops, so the example runs):
//!
//! ```
//! use conv_runtime::{Geometry, GeometrySpec, Gradients};
//!
//! pub struct Textbook;
//! impl Textbook {
//!     pub const GEOMETRY: Geometry = match GeometrySpec::new([5, 5], [3, 3]).resolve() {
//!         Ok(g) => g,
//!         Err(e) => e.panic(),
//!     };
//!     pub const fn forward(x: &[[f32; 5]; 5], k: &[[f32; 3]; 3], b: f32) -> [[f32; 3]; 3] {
//!         let mut u = [[b; 3]; 3];
//!         let mut n = 0;
//!         while n < 81 {
//!             let (i, j, a, c) = (n / 27, n / 9 % 3, n / 3 % 3, n % 3);
//!             u[i][j] += x[i + a][j + c] * k[a][c];
//!             n += 1;
//!         }
//!         u
//!     }
//!     pub const fn backward(
//!         x: &[[f32; 5]; 5],
//!         k: &[[f32; 3]; 3],
//!         delta: &[[f32; 3]; 3],
//!     ) -> Gradients<[[f32; 5]; 5], [[f32; 3]; 3], f32> {
//!         let mut g = Gradients { dx: [[0.0; 5]; 5], dk: [[0.0; 3]; 3], db: 0.0 };
//!         let mut n = 0;
//!         while n < 81 {
//!             let (i, j, a, c) = (n / 27, n / 9 % 3, n / 3 % 3, n % 3);
//!             g.dx[i + a][j + c] += delta[i][j] * k[a][c];
//!             g.dk[a][c] += delta[i][j] * x[i + a][j + c];
//!             if a == 0 && c == 0 {
//!                 g.db += delta[i][j];
//!             }
//!             n += 1;
//!         }
//!         g
//!     }
//! }
//!
//! // What `#[conv2d(input = 5x5, kernel = 3x3)] pub struct Textbook;` emits:
//! const _: () = {
//!     let mut x = [[0.0f32; 5]; 5];
//!     let mut k = [[0.0f32; 3]; 3];
//!     let mut b = 0.0f32;
//!     let mut delta = [[0.0f32; 3]; 3];
//!     let mut set: u64 = 0;
//!     while set < 2 {
//!         ::conv_runtime::proof::f32::refill(&Textbook::GEOMETRY, x.as_flattened_mut(), 4 * set + 1);
//!         ::conv_runtime::proof::f32::refill(&Textbook::GEOMETRY, k.as_flattened_mut(), 4 * set + 2);
//!         ::conv_runtime::proof::f32::refill(
//!             &Textbook::GEOMETRY,
//!             ::core::slice::from_mut(&mut b),
//!             4 * set + 3,
//!         );
//!         ::conv_runtime::proof::f32::refill(
//!             &Textbook::GEOMETRY,
//!             delta.as_flattened_mut(),
//!             4 * set + 4,
//!         );
//!         let u = Textbook::forward(&x, &k, b);
//!         let g = Textbook::backward(&x, &k, &delta);
//!         ::conv_runtime::proof::f32::assert_layer::<25, 9, 1, 9>(
//!             &Textbook::GEOMETRY,
//!             x.as_flattened(),
//!             k.as_flattened(),
//!             ::core::slice::from_ref(&b),
//!             u.as_flattened(),
//!             delta.as_flattened(),
//!             g.dx.as_flattened(),
//!             g.dk.as_flattened(),
//!             ::core::slice::from_ref(&g.db),
//!         );
//!         set += 1;
//!     }
//! };
//! ```
//!
//! A channel-first layer (`in_channels`/`out_channels` given) has `x: [[[T; W]; H]; C_in]`,
//! `k: [[[[T; KW]; KH]; C_in]; C_out]`, `b: [T; C_out]` and `u: [[[T; OW]; OH]; C_out]`, so the
//! views gain `.as_flattened()` calls and the bias is a plain reference. Here
//! `input = 4x4, kernel = 3x3, stride = 2, padding = (1, 1, 1, 1), in_channels = 2,
//! out_channels = 3` (`NX = 2*4*4`, `NK = 3*2*3*3`, `NB = 3`, `NU = 3*2*2`):
//!
//! ```
//! # use conv_runtime::{Geometry, GeometrySpec, Gradients, Padding};
//! # type X = [[[f32; 4]; 4]; 2];
//! # type K = [[[[f32; 3]; 3]; 2]; 3];
//! # type U = [[[f32; 2]; 2]; 3];
//! pub struct Mixer;
//! impl Mixer {
//!     pub const GEOMETRY: Geometry = match (GeometrySpec {
//!         input: [4, 4],
//!         kernel: [3, 3],
//!         stride: [2, 2],
//!         dilation: [1, 1],
//!         padding: Padding::Explicit { top: 1, bottom: 1, left: 1, right: 1 },
//!         in_channels: 2,
//!         out_channels: 3,
//!     })
//!     .resolve()
//!     {
//!         Ok(g) => g,
//!         Err(e) => e.panic(),
//!     };
//!     // Hand-written loops over (o, i, j, c, a, bb), reading through `Geometry::tap`.
//! #   pub const fn forward(x: &X, k: &K, b: &[f32; 3]) -> U {
//! #       let mut u = [[[0.0; 2]; 2]; 3];
//! #       let mut n = 0;
//! #       while n < 3 * 2 * 2 * 2 * 3 * 3 {
//! #           let (o, i, j) = (n / 72, n / 36 % 2, n / 18 % 2);
//! #           let (c, a, bb) = (n / 9 % 2, n / 3 % 3, n % 3);
//! #           if c == 0 && a == 0 && bb == 0 {
//! #               u[o][i][j] += b[o];
//! #           }
//! #           if let Some((p, q)) = Self::GEOMETRY.tap(i, j, a, bb) {
//! #               u[o][i][j] += x[c][p][q] * k[o][c][a][bb];
//! #           }
//! #           n += 1;
//! #       }
//! #       u
//! #   }
//! #   pub const fn backward(x: &X, k: &K, delta: &U) -> Gradients<X, K, [f32; 3]> {
//! #       let (dx, dk, db) = ([[[0.0; 4]; 4]; 2], [[[[0.0; 3]; 3]; 2]; 3], [0.0; 3]);
//! #       let mut g = Gradients { dx, dk, db };
//! #       let mut n = 0;
//! #       while n < 3 * 2 * 2 * 2 * 3 * 3 {
//! #           let (o, i, j) = (n / 72, n / 36 % 2, n / 18 % 2);
//! #           let (c, a, bb) = (n / 9 % 2, n / 3 % 3, n % 3);
//! #           if c == 0 && a == 0 && bb == 0 {
//! #               g.db[o] += delta[o][i][j];
//! #           }
//! #           if let Some((p, q)) = Self::GEOMETRY.tap(i, j, a, bb) {
//! #               g.dx[c][p][q] += delta[o][i][j] * k[o][c][a][bb];
//! #               g.dk[o][c][a][bb] += delta[o][i][j] * x[c][p][q];
//! #           }
//! #           n += 1;
//! #       }
//! #       g
//! #   }
//! }
//!
//! const _: () = {
//!     let mut x = [[[0.0f32; 4]; 4]; 2];
//!     let mut k = [[[[0.0f32; 3]; 3]; 2]; 3];
//!     let mut b = [0.0f32; 3];
//!     let mut delta = [[[0.0f32; 2]; 2]; 3];
//!     let mut set: u64 = 0;
//!     while set < 2 {
//!         ::conv_runtime::proof::f32::refill(
//!             &Mixer::GEOMETRY,
//!             x.as_flattened_mut().as_flattened_mut(),
//!             4 * set + 1,
//!         );
//!         ::conv_runtime::proof::f32::refill(
//!             &Mixer::GEOMETRY,
//!             k.as_flattened_mut().as_flattened_mut().as_flattened_mut(),
//!             4 * set + 2,
//!         );
//!         ::conv_runtime::proof::f32::refill(&Mixer::GEOMETRY, &mut b, 4 * set + 3);
//!         ::conv_runtime::proof::f32::refill(
//!             &Mixer::GEOMETRY,
//!             delta.as_flattened_mut().as_flattened_mut(),
//!             4 * set + 4,
//!         );
//!         let u = Mixer::forward(&x, &k, &b);
//!         let g = Mixer::backward(&x, &k, &delta);
//!         ::conv_runtime::proof::f32::assert_layer::<32, 54, 3, 12>(
//!             &Mixer::GEOMETRY,
//!             x.as_flattened().as_flattened(),
//!             k.as_flattened().as_flattened().as_flattened(),
//!             &b,
//!             u.as_flattened().as_flattened(),
//!             delta.as_flattened().as_flattened(),
//!             g.dx.as_flattened().as_flattened(),
//!             g.dk.as_flattened().as_flattened().as_flattened(),
//!             &g.db,
//!         );
//!         set += 1;
//!     }
//! };
//! ```
//!
//! # A wrong term fails the build
//!
//! The layer below forgets one product of `dL/dk` (`d * x[1][1]`); the constant's evaluation
//! panics with ``conv2d proof failed: the generated `backward` differs from the padded/rotated
//! formulation (dL/dk)``, which is a compile error:
//!
//! ```compile_fail,E0080
//! use conv_runtime::{proof, Geometry, GeometrySpec};
//! const G: Geometry = match GeometrySpec::new([2, 2], [2, 2]).resolve() {
//!     Ok(g) => g,
//!     Err(e) => e.panic(),
//! };
//! // 2x2 input, 2x2 kernel, one output: u = b + Σ x*k.
//! const fn forward(x: &[[f32; 2]; 2], k: &[[f32; 2]; 2], b: f32) -> [[f32; 1]; 1] {
//!     [[b + x[0][0] * k[0][0] + x[0][1] * k[0][1] + x[1][0] * k[1][0] + x[1][1] * k[1][1]]]
//! }
//! type Grads = ([[f32; 2]; 2], [[f32; 2]; 2], f32);
//! const fn backward(x: &[[f32; 2]; 2], k: &[[f32; 2]; 2], d: &[[f32; 1]; 1]) -> Grads {
//!     let d = d[0][0];
//!     (
//!         [[d * k[0][0], d * k[0][1]], [d * k[1][0], d * k[1][1]]],
//!         [[d * x[0][0], d * x[0][1]], [d * x[1][0], 0.0]], // should be d * x[1][1]
//!         d,
//!     )
//! }
//! const _: () = {
//!     let (mut x, mut k) = ([[0.0f32; 2]; 2], [[0.0f32; 2]; 2]);
//!     let (mut b, mut delta) = (0.0f32, [[0.0f32; 1]; 1]);
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
//! # Dense layers
//!
//! A dense layer (`u[o] = b[o] + Σ_i w[o][i] * x[i]`, `N` inputs, `M` outputs) is checked the
//! same way, against the matrix form ([`f32::assert_dense`]: `u = b + W x`, `dL/dx = Wᵀ δ`,
//! `dL/dw = δ xᵀ`, `dL/db = δ`, each element computed where it is compared). Its values are drawn
//! with the geometry of the equivalent convolution (1x1 input and kernel, `N` input and `M`
//! output channels), whose [`value_range`] keeps the dense sums exact:
//!
//! ```
//! use conv_runtime::{proof, Geometry, GeometrySpec, Gradients};
//! // The equivalent convolution: 1x1 input and kernel, 3 input and 2 output channels.
//! const SPEC: GeometrySpec = GeometrySpec {
//!     in_channels: 3,
//!     out_channels: 2,
//!     ..GeometrySpec::new([1, 1], [1, 1])
//! };
//! const G: Geometry = match SPEC.resolve() {
//!     Ok(g) => g,
//!     Err(e) => e.panic(),
//! };
//! const fn forward(x: &[f32; 3], w: &[[f32; 3]; 2], b: &[f32; 2]) -> [f32; 2] {
//!     let (v, r) = (w[0], w[1]);
//!     [b[0] + v[0] * x[0] + v[1] * x[1] + v[2] * x[2], b[1] + r[0] * x[0] + r[1] * x[1] + r[2] * x[2]]
//! }
//! # const _: () = {
//! let (mut x, mut w, mut b) = ([0.0f32; 3], [[0.0f32; 3]; 2], [0.0f32; 2]);
//! proof::f32::refill(&G, &mut x, 1);
//! proof::f32::refill(&G, w.as_flattened_mut(), 2);
//! proof::f32::refill(&G, &mut b, 3);
//! let mut delta = [0.0f32; 2];
//! proof::f32::refill(&G, &mut delta, 4);
//! let u = forward(&x, &w, &b);
//! let mut g = Gradients { dx: [0.0f32; 3], dk: [[0.0f32; 3]; 2], db: delta };
//! let mut e = 0;
//! while e < 6 {
//!     let (o, i) = (e / 3, e % 3);
//!     g.dx[i] += delta[o] * w[o][i];
//!     g.dk[o][i] = delta[o] * x[i];
//!     e += 1;
//! }
//! proof::f32::assert_dense(
//!     &x, w.as_flattened(), &b, &u, &delta, &g.dx, g.dk.as_flattened(), &g.db,
//! );
//! # };
//! // A wrong dL/dw element is found.
//! let (x, w, delta) = ([1.0f32, 2.0, 3.0], [1.0f32; 6], [1.0f32, -1.0]);
//! let (u, dx) = ([6.0f32, 6.0], [0.0f32; 3]);
//! let mut dw = [1.0f32, 2.0, 3.0, -1.0, -2.0, -3.0];
//! assert!(proof::f32::check_dense(&x, &w, &[0.0; 2], &u, &delta, &dx, &dw, &delta).is_ok());
//! dw[4] = 2.0;
//! let err = proof::f32::check_dense(&x, &w, &[0.0; 2], &u, &delta, &dx, &dw, &delta);
//! assert_eq!(err, Err(proof::Mismatch::new(proof::Part::Dk, 4)));
//! ```
//!
//! # Cost
//!
//! Constant evaluation is interpreted: every loop iteration, call, branch and checked operation
//! costs compile time, and rustc's deny-by-default lint `long_running_const_eval` stops an
//! evaluation after about two million counted steps (loop iterations and calls). Per input set
//! the check does about `3 * Geometry::macs()` multiply-adds in [`reference`](crate::reference)
//! (whole zero rows of the padded / dilated arrays are skipped) besides the layer's own, plus a
//! few steps per element for `refill` and the comparison; two sets cost twice that. The macro
//! evaluates whole only layers of at most `MAX_WINDOW_MACS` multiply-adds (and fully unrolled
//! ones, at most `MAX_UNROLLED_TERMS / 3` nonzero products), and two sets only up to half of
//! `MAX_WINDOW_MACS`: below where the lint fires (one set of a 90x90 input with a 5x5 kernel,
//! 184,900 multiply-adds, passes it). What the check adds to a build is measured in
//! `BENCHMARKS.md` (compile budgets: the `expanded` form against `no-proof`).

use crate::{Geometry, ShapeError};

/// Which result of a layer differs from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// An operand's length does not match the geometry (for [`check`](self::f32::check), one of
    /// the layer's results `u`, `dL/dx`, `dL/dk`, `dL/db`, one of its inputs, or a buffer size
    /// `NX`..`NU` that differs from the geometry's).
    Shape(ShapeError),
    /// The forward output `u`.
    U,
    /// `dL/dx`.
    Dx,
    /// `dL/dk`.
    Dk,
    /// `dL/db`.
    Db,
}

impl Part {
    /// `"u"`, `"dL/dx"`, `"dL/dk"`, `"dL/db"`, or `"shape"`.
    pub const fn name(self) -> &'static str {
        match self {
            Part::Shape(_) => "shape",
            Part::U => "u",
            Part::Dx => "dL/dx",
            Part::Dk => "dL/dk",
            Part::Db => "dL/db",
        }
    }
}

/// The first element where a layer and the reference differ.
///
/// The struct is `#[non_exhaustive]` (fields may be added): its fields can be read, but code
/// outside this crate builds one with [`Mismatch::new`] rather than a struct literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Mismatch {
    /// Which result.
    pub part: Part,
    /// Flat row-major position of the element (0 for [`Part::Shape`]).
    pub index: usize,
}

impl Mismatch {
    /// The mismatch at flat row-major position `index` of `part` (0 for [`Part::Shape`]).
    /// A `const fn`, so it can be used in constant evaluation.
    ///
    /// ```
    /// use conv_runtime::proof::{Mismatch, Part};
    /// use conv_runtime::{Operand, ShapeError};
    ///
    /// const AT_DX_6: Mismatch = Mismatch::new(Part::Dx, 6);
    /// assert_eq!((AT_DX_6.part, AT_DX_6.index), (Part::Dx, 6));
    /// let shape = Mismatch::new(Part::Shape(ShapeError::new(Operand::U, 9, 8)), 0);
    /// assert_eq!(shape.part.name(), "shape");
    /// ```
    pub const fn new(part: Part, index: usize) -> Self {
        Self { part, index }
    }
}

/// Largest magnitude `R` of the test values for `g`: with every operand in `[-R, R]`, every
/// partial sum of `u`, `dL/dx`, `dL/dk` and `dL/db` (at most `terms` products of two operands,
/// plus the bias) is an integer of magnitude at most `2^24`, hence exact in `f32` and `f64`.
/// Capped at 1024 (and at least 1); larger values make a swapped operand more likely to show.
pub const fn value_range(g: &Geometry) -> u64 {
    let [kh, kw] = g.kernel();
    let [oh, ow] = g.output();
    let sums = [
        // u: products, then the bias (saturating: `C_in * KH * KW` may be `usize::MAX`)
        (g.in_channels() * kh * kw).saturating_add(1),
        // dL/dx: at most one product per (o, a, b)
        g.out_channels() * kh * kw,
        // dL/dk and dL/db: one per output position
        oh * ow,
    ];
    let mut terms = 1;
    let mut i = 0;
    while i < sums.len() {
        if sums[i] > terms {
            terms = sums[i];
        }
        i += 1;
    }
    // Largest r in [1, 1024] with (terms + 1) * r^2 <= 2^24, by bisection.
    let bound = (1u64 << 24) / (terms as u64).saturating_add(1);
    let (mut lo, mut hi) = (1u64, 1024u64);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if mid * mid <= bound {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The panic message of `assert_layer` for a mismatch.
const fn message(part: Part) -> &'static str {
    use crate::error::Operand;
    macro_rules! failed {
        ($($what:literal),*) => {
            concat!("conv2d proof failed: ", $($what),*)
        };
    }
    match part {
        Part::U => failed!("the generated `forward` differs from conv_runtime::reference (u)"),
        Part::Dx => {
            failed!("the generated `backward` differs from the padded/rotated formulation (dL/dx)")
        }
        Part::Dk => {
            failed!("the generated `backward` differs from the padded/rotated formulation (dL/dk)")
        }
        Part::Db => {
            failed!("the generated `backward` differs from the padded/rotated formulation (dL/db)")
        }
        Part::Shape(e) => match e.what {
            Operand::X => failed!("`x` does not have the length the geometry needs (shape)"),
            Operand::K => failed!("`k` does not have the length the geometry needs (shape)"),
            Operand::B => failed!("`b` does not have the length the geometry needs (shape)"),
            Operand::Delta => {
                failed!("`delta` does not have the length the geometry needs (shape)")
            }
            Operand::U => failed!(
                "`u` (or the buffer size NU) does not have the length the geometry needs (shape)"
            ),
            Operand::Dx => failed!(
                "`dL/dx` (or the buffer size NX) does not have the length the geometry needs ",
                "(shape)"
            ),
            Operand::Dk => failed!(
                "`dL/dk` (or the buffer size NK) does not have the length the geometry needs ",
                "(shape)"
            ),
            Operand::Db => failed!(
                "`dL/db` (or the buffer size NB) does not have the length the geometry needs ",
                "(shape)"
            ),
        },
    }
}

mod dense;

macro_rules! proof {
    ($t:ident) => {
        #[doc = concat!("The check in `", stringify!($t), "`; see the [module docs](super).")]
        pub mod $t {
            pub use super::dense::$t::{
                assert_dense, assert_dense_added, check_dense, check_dense_added,
            };
            use super::{message, value_range, Mismatch, Part};
            use crate::error::{check_lengths, Operand};
            use crate::reference::$t as reference;
            use crate::Geometry;
            type T = core::primitive::$t;

            /// Fills `s` with pseudo-random nonzero integers in `[-R, R]`, `R =`
            /// [`value_range(g)`](value_range), deterministic in `seed` (splitmix64). Zero is
            /// left out so that a missing or extra product always changes a sum.
            pub const fn fill(g: &Geometry, s: &mut [T], seed: u64) {
                let r = value_range(g);
                let mut rng = crate::rng::SplitMix64::new(seed ^ 0x2545_F491_4F6C_DD1D);
                let mut i = 0;
                while i < s.len() {
                    s[i] = rng.nonzero(r) as T;
                    i += 1;
                }
            }

            /// Replaces each element of `s` by a pseudo-random nonzero integer in `[-R, R]`,
            /// `R =` [`value_range(g)`](value_range), other than the element's current value
            /// (when that is an integer in range), deterministic in `seed` and the current
            /// values. On a zeroed `s` it writes exactly what [`fill`] writes. The macro's
            /// check draws each input set with it from the one before, so no element of a
            /// later set equals the earlier set's element at the same place.
            pub const fn refill(g: &Geometry, s: &mut [T], seed: u64) {
                let r = value_range(g);
                let mut rng = crate::rng::SplitMix64::new(seed ^ 0x2545_F491_4F6C_DD1D);
                let mut i = 0;
                while i < s.len() {
                    let current = s[i] as i64;
                    let except = if current as T == s[i] { current } else { 0 };
                    s[i] = rng.nonzero_except(r, except) as T;
                    i += 1;
                }
            }

            /// Compares a layer's results `u`, `dx`, `dk`, `db` on the inputs `x`, `k`, `b`,
            /// `delta` with the [reference](crate::reference), exactly (`==`), element by
            /// element, in the order `u`, `dL/dx`, `dL/dk`, `dL/db`. All slices are flat and
            /// row-major; `NX`, `NK`, `NB`, `NU` must be the geometry's `input_len()`,
            /// `kernel_len()`, `bias_len()` and `output_len()` (they size the reference's
            /// buffers).
            ///
            /// # Errors
            /// The first element that differs, or [`Part::Shape`] when a length (of a slice or
            /// of a buffer) does not match the geometry.
            #[allow(clippy::too_many_arguments)]
            pub const fn check<
                const NX: usize,
                const NK: usize,
                const NB: usize,
                const NU: usize,
            >(
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
                // The layer's results first, so that a later `U`..`Db` error names a buffer.
                if let Err(e) = check_lengths(&[
                    (Operand::U, u.len(), g.output_len()),
                    (Operand::Dx, dx.len(), g.input_len()),
                    (Operand::Dk, dk.len(), g.kernel_len()),
                    (Operand::Db, db.len(), g.bias_len()),
                ]) {
                    return Err(Mismatch {
                        part: Part::Shape(e),
                        index: 0,
                    });
                }
                let (mut ru, mut rdx, mut rdk, mut rdb) =
                    ([0.0; NU], [0.0; NX], [0.0; NK], [0.0; NB]);
                if let Err(e) = reference::forward_into(g, x, k, b, &mut ru) {
                    return Err(Mismatch {
                        part: Part::Shape(e),
                        index: 0,
                    });
                }
                if let Err(e) =
                    reference::backward_into(g, x, k, delta, &mut rdx, &mut rdk, &mut rdb)
                {
                    return Err(Mismatch {
                        part: Part::Shape(e),
                        index: 0,
                    });
                }
                let pairs: [(&[T], &[T], Part); 4] = [
                    (u, &ru, Part::U),
                    (dx, &rdx, Part::Dx),
                    (dk, &rdk, Part::Dk),
                    (db, &rdb, Part::Db),
                ];
                let mut p = 0;
                while p < pairs.len() {
                    let (got, want, part) = pairs[p];
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

            /// Panics (in a `const` item: a compile error) unless `variant`, another `forward`
            /// variant's output on the inputs of `u`, equals `u` element by element, where `u`
            /// is the output [`assert_layer`] compared with the reference.
            pub const fn assert_same_forward(u: &[T], variant: &[T]) {
                if u.len() != variant.len() {
                    panic!("conv2d proof failed: a generated `forward` variant has another length than `forward` (shape)");
                }
                let mut i = 0;
                while i < u.len() {
                    if u[i] != variant[i] {
                        panic!("conv2d proof failed: a generated `forward` variant differs from the `forward` checked against conv_runtime::reference (u)");
                    }
                    i += 1;
                }
            }

            /// [`check`], panicking on a mismatch (in a `const` item: a compile error) with a
            /// message naming the part, e.g. ``conv2d proof failed: the generated `backward`
            /// differs from the padded/rotated formulation (dL/dx)``.
            #[allow(clippy::too_many_arguments)]
            pub const fn assert_layer<
                const NX: usize,
                const NK: usize,
                const NB: usize,
                const NU: usize,
            >(
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
                if let Err(m) = check::<NX, NK, NB, NU>(g, x, k, b, u, delta, dx, dk, db) {
                    panic!("{}", message(m.part));
                }
            }
        }
    };
}

proof!(f32);
proof!(f64);
