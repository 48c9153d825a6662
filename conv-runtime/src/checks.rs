//! Run-time checks any layer can run against independent oracles:
//!
//! - [`check_exact`]: nonzero integers in `[-R, R]` (`R` the largest magnitude for which every sum stays exact) against
//!   [`mod@reference`] in the layer's scalar, with `==`;
//! - [`check_tolerance`]: uniform floats in `[-1, 1)` against [`mod@reference`] in `f64` on the
//!   same values, within a [`Tolerance`];
//! - [`check_finite_differences`]: nonzero integers in `[-4, 4]` against central differences of
//!   the layer's own `forward`, with `==` (see its docs for why that is exact).
//!
//! Each returns the first element that fails, as a [`CheckError`]. Inputs come from a small
//! deterministic generator (splitmix64) seeded by `seed`, so a failure reproduces.

use crate::rng::SplitMix64;
use crate::{proof, reference, Conv2d, Gradients, Scalar, ShapeError, Tensor};
use core::fmt;

pub use crate::proof::Part;

/// Which check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// [`check_exact`].
    Exact,
    /// [`check_tolerance`].
    Tolerance,
    /// [`check_finite_differences`].
    FiniteDifferences,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Check::Exact => "exact",
            Check::Tolerance => "tolerance",
            Check::FiniteDifferences => "finite differences",
        })
    }
}

/// Why a check failed: the first element outside what the check allows, or a shape problem.
///
/// The struct is `#[non_exhaustive]` (fields may be added): its fields can be read, but code
/// outside this crate builds one with [`CheckError::new`] rather than a struct literal.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct CheckError {
    /// The check.
    pub check: Check,
    /// Which result. [`Part::Shape`] when the layer's array types do not match its geometry.
    pub part: Part,
    /// Flat row-major position of the element (0 for [`Part::Shape`]).
    pub index: usize,
    /// The layer's value (for [`Part::Shape`], the length found).
    pub got: f64,
    /// The oracle's value (for [`Part::Shape`], the length the geometry needs).
    pub expected: f64,
}

impl CheckError {
    /// The failure of `check` at flat
    /// row-major position `index` of `part`, where the layer gave `got` and the oracle
    /// `expected` (for [`Part::Shape`]: `index` 0, and the lengths found and needed).
    ///
    /// ```
    /// use conv_runtime::checks::{Check, CheckError, Part};
    ///
    /// let e = CheckError::new(Check::Exact, Part::Dx, 6, 1.0, 2.0);
    /// assert_eq!((e.check, e.part, e.index), (Check::Exact, Part::Dx, 6));
    /// assert_eq!(e.to_string(), "exact check failed: dL/dx[6] is 1, expected 2");
    /// ```
    pub const fn new(check: Check, part: Part, index: usize, got: f64, expected: f64) -> Self {
        Self {
            check,
            part,
            index,
            got,
            expected,
        }
    }

    fn shape(check: Check) -> impl Fn(ShapeError) -> Self {
        move |e| CheckError {
            check,
            part: Part::Shape(e),
            index: 0,
            got: e.found as f64,
            expected: e.expected as f64,
        }
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.part {
            Part::Shape(e) => write!(f, "{} check failed: {e}", self.check),
            part => write!(
                f,
                "{} check failed: {}[{}] is {}, expected {}",
                self.check,
                part.name(),
                self.index,
                self.got,
                self.expected
            ),
        }
    }
}

impl std::error::Error for CheckError {}

/// Elementwise tolerance: `|got - expected| <= atol + rtol * |expected|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Absolute part.
    pub atol: f64,
    /// Relative part.
    pub rtol: f64,
}

impl Default for Tolerance {
    /// `atol = rtol = 1e-4`, meant for `f32`: the rule of the TensorFlow/JAX `float32` golden
    /// data, loose enough for `f32` rounding and summation order on inputs in `[-1, 1)`.
    fn default() -> Self {
        Self {
            atol: 1e-4,
            rtol: 1e-4,
        }
    }
}

impl Tolerance {
    /// Whether `got` is close enough to `expected`.
    pub fn allows(&self, got: f64, expected: f64) -> bool {
        (got - expected).abs() <= self.atol + self.rtol * expected.abs()
    }
}

/// The checks' inputs: [`SplitMix64`] values as `f64`.
struct Rng(SplitMix64);

impl Rng {
    /// Uniform in `[-1, 1)`.
    fn unit(&mut self) -> f64 {
        2.0 * self.0.unit() - 1.0
    }
    /// A nonzero integer in `[-r, r]`.
    fn nonzero(&mut self, r: u64) -> f64 {
        self.0.nonzero(r) as f64
    }
}

/// What `L::backward` returns.
type LayerGradients<L> =
    Gradients<<L as Conv2d>::Input, <L as Conv2d>::Kernel, <L as Conv2d>::Bias>;

/// A layer's inputs: `x`, `k`, `b` and `delta = dL/du`.
struct Inputs<L: Conv2d> {
    x: L::Input,
    k: L::Kernel,
    b: L::Bias,
    delta: L::Output,
}

impl<L: Conv2d> Inputs<L> {
    fn new(mut value: impl FnMut() -> f64) -> Self {
        let mut run = Self {
            x: Tensor::zeroed(),
            k: Tensor::zeroed(),
            b: Tensor::zeroed(),
            delta: Tensor::zeroed(),
        };
        let all = run.x.flat_mut().iter_mut().chain(run.k.flat_mut());
        for v in all.chain(run.b.flat_mut()).chain(run.delta.flat_mut()) {
            *v = L::Scalar::from_f64(value());
        }
        run
    }

    /// The layer's `u` and gradients.
    fn layer(&self) -> (L::Output, LayerGradients<L>) {
        (
            L::forward(&self.x, &self.k, &self.b),
            L::backward(&self.x, &self.k, &self.delta),
        )
    }
}

/// The first element of `got` that `ok` rejects against `want`.
fn compare<A: Scalar, B: Scalar>(
    check: Check,
    part: Part,
    got: &[A],
    want: &[B],
    ok: impl Fn(f64, f64) -> bool,
) -> Result<(), CheckError> {
    for (index, (g, w)) in got.iter().zip(want).enumerate() {
        let (got, expected) = (g.to_f64(), w.to_f64());
        if !ok(got, expected) {
            return Err(CheckError {
                check,
                part,
                index,
                got,
                expected,
            });
        }
    }
    Ok(())
}

/// Nonzero integer-valued random inputs (exact in `f32`: every sum stays below `2^24`): `L`'s
/// `forward` and `backward` must equal [`mod@reference`] in `L::Scalar` exactly, element by
/// element.
/// This is the compile-time check at run time, with any seed.
///
/// # Errors
/// The first element that differs (in the order `u`, `dL/dx`, `dL/dk`, `dL/db`), or a shape
/// error when `L`'s array types do not match `L::GEOMETRY`.
pub fn check_exact<L: Conv2d>(seed: u64) -> Result<(), CheckError> {
    const CHECK: Check = Check::Exact;
    let g = L::GEOMETRY;
    let mut rng = Rng(SplitMix64::new(seed));
    let r = proof::value_range(&g);
    let inputs = Inputs::<L>::new(|| rng.nonzero(r));
    let (x, k, b, delta) = (&inputs.x, &inputs.k, &inputs.b, &inputs.delta);
    let mut u = L::Output::zeroed();
    let mut want = Gradients {
        dx: L::Input::zeroed(),
        dk: L::Kernel::zeroed(),
        db: L::Bias::zeroed(),
    };
    reference::forward(&g, x.flat(), k.flat(), b.flat(), u.flat_mut())
        .map_err(CheckError::shape(CHECK))?;
    let (dx, dk, db) = (want.dx.flat_mut(), want.dk.flat_mut(), want.db.flat_mut());
    reference::backward(&g, x.flat(), k.flat(), delta.flat(), dx, dk, db)
        .map_err(CheckError::shape(CHECK))?;
    let (got_u, got) = inputs.layer();
    let eq = |a: f64, b: f64| a == b;
    compare(CHECK, Part::U, got_u.flat(), u.flat(), eq)?;
    compare(CHECK, Part::Dx, got.dx.flat(), want.dx.flat(), eq)?;
    compare(CHECK, Part::Dk, got.dk.flat(), want.dk.flat(), eq)?;
    compare(CHECK, Part::Db, got.db.flat(), want.db.flat(), eq)
}

/// Random inputs uniform in `[-1, 1)`, rounded to `L::Scalar`: `L`'s results must lie within
/// `tol` of [`mod@reference`] evaluated in `f64` on the same (rounded) values.
///
/// # Errors
/// The first element outside the tolerance (in the order `u`, `dL/dx`, `dL/dk`, `dL/db`), or a
/// shape error when `L`'s array types do not match `L::GEOMETRY`.
pub fn check_tolerance<L: Conv2d>(seed: u64, tol: Tolerance) -> Result<(), CheckError> {
    const CHECK: Check = Check::Tolerance;
    let g = L::GEOMETRY;
    let mut rng = Rng(SplitMix64::new(seed));
    let inputs = Inputs::<L>::new(|| rng.unit());
    let wide = |t: &[L::Scalar]| t.iter().map(|v| v.to_f64()).collect::<Vec<f64>>();
    let (x, k) = (wide(inputs.x.flat()), wide(inputs.k.flat()));
    let (b, delta) = (wide(inputs.b.flat()), wide(inputs.delta.flat()));
    let u = reference::forward_vec(&g, &x, &k, &b).map_err(CheckError::shape(CHECK))?;
    let want = reference::backward_vec(&g, &x, &k, &delta).map_err(CheckError::shape(CHECK))?;
    let (got_u, got) = inputs.layer();
    let ok = |a: f64, b: f64| tol.allows(a, b);
    compare(CHECK, Part::U, got_u.flat(), &u, ok)?;
    compare(CHECK, Part::Dx, got.dx.flat(), &want.dx, ok)?;
    compare(CHECK, Part::Dk, got.dk.flat(), &want.dk, ok)?;
    compare(CHECK, Part::Db, got.db.flat(), &want.db, ok)
}

/// `t` with flat element `i` moved by `h`.
fn nudged<S: Scalar, T: Tensor<S>>(t: &T, i: usize, h: f64) -> T {
    let mut out = *t;
    if let Some(v) = out.flat_mut().get_mut(i) {
        *v = S::from_f64(v.to_f64() + h);
    }
    out
}

/// Central finite differences of `Loss = Σ u * delta` through `L::forward`, computed in `f64`,
/// against `L::backward`, for every element of `x`, `k` and `b`:
/// `dL/dv ≈ (Loss(v + h) - Loss(v - h)) / 2h`. An oracle that needs neither [`mod@reference`] nor
/// the chain rule.
///
/// # Tolerance: none
/// The loss is linear in each single variable (`u` is affine in each of `x`, `k`, `b` taken
/// alone), so the central difference equals the derivative with no truncation error. Inputs
/// are nonzero integers in `[-4, 4]` and `h = 0.5`, so every value the layer computes is a
/// multiple of `0.5` of magnitude at most `4.5 * 4 * terms + 4.5`, exact in `f32` for any layer
/// `#[conv2d]` accepts, and the `f64` loss sums and the division by `2h = 1` are exact too.
/// Any difference is therefore a wrong gradient, and the comparison is `==`.
///
/// # Cost
/// Two calls of `L::forward` per element of `x`, `k` and `b`, that is
/// `2 * (x elements + k elements + b elements)` forward passes (fewer when it stops at a wrong
/// gradient), plus one `forward` and one `backward`: the work grows as the number of elements
/// times the layer's multiply-adds. LeNet's first layer (28x28 input, 5x5 kernel, 1 -> 6
/// channels: 784 + 150 + 6 elements) takes 1,880 forward passes. A debug build runs them as
/// unoptimised code, far slower than a release build; for large layers run the check with
/// `--release`.
///
/// # Errors
/// The first element whose derivative differs (in the order `dL/dx`, `dL/dk`, `dL/db`), or a
/// shape error when `L`'s array types do not match `L::GEOMETRY`.
pub fn check_finite_differences<L: Conv2d>(seed: u64) -> Result<(), CheckError> {
    const CHECK: Check = Check::FiniteDifferences;
    const H: f64 = 0.5;
    let g = L::GEOMETRY;
    let lengths = [
        (
            crate::Operand::X,
            L::Input::zeroed().flat().len(),
            g.input_len(),
        ),
        (
            crate::Operand::K,
            L::Kernel::zeroed().flat().len(),
            g.kernel_len(),
        ),
        (
            crate::Operand::B,
            L::Bias::zeroed().flat().len(),
            g.bias_len(),
        ),
        (
            crate::Operand::U,
            L::Output::zeroed().flat().len(),
            g.output_len(),
        ),
    ];
    crate::error::check_lengths(&lengths).map_err(CheckError::shape(CHECK))?;
    let mut rng = Rng(SplitMix64::new(seed));
    let inputs = Inputs::<L>::new(|| rng.nonzero(4));
    let (x, k, b) = (&inputs.x, &inputs.k, &inputs.b);
    let (_, grads) = inputs.layer();
    let loss = |x: &L::Input, k: &L::Kernel, b: &L::Bias| -> f64 {
        let u = L::forward(x, k, b);
        let pairs = u.flat().iter().zip(inputs.delta.flat());
        pairs.map(|(u, d)| u.to_f64() * d.to_f64()).sum()
    };
    let central = |at: &dyn Fn(f64) -> f64| (at(H) - at(-H)) / (2.0 * H);
    let eq = |a: f64, b: f64| a == b;
    let fd_x: Vec<f64> = (0..g.input_len())
        .map(|i| central(&|h| loss(&nudged(x, i, h), k, b)))
        .collect();
    compare(CHECK, Part::Dx, grads.dx.flat(), &fd_x, eq)?;
    let fd_k: Vec<f64> = (0..g.kernel_len())
        .map(|i| central(&|h| loss(x, &nudged(k, i, h), b)))
        .collect();
    compare(CHECK, Part::Dk, grads.dk.flat(), &fd_k, eq)?;
    let fd_b: Vec<f64> = (0..g.bias_len())
        .map(|i| central(&|h| loss(x, k, &nudged(b, i, h))))
        .collect();
    compare(CHECK, Part::Db, grads.db.flat(), &fd_b, eq)
}
