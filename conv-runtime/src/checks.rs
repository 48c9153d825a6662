//! Run-time checks any generated layer can run against independent oracles: the reference
//! formulation (exactly, and within a tolerance against an `f64` evaluation) and central finite
//! differences of its own forward pass.

use crate::{proof, reference, Conv2d, Geometry, Scalar, ShapeError, Tensor};
use core::fmt;

pub use crate::proof::Part;

/// Why a check failed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum CheckError {
    /// The layer's array types do not match its geometry.
    Shape(ShapeError),
    /// An element differs from the oracle beyond what the check allows.
    Mismatch {
        /// The check: `"exact"`, `"tolerance"` or `"finite differences"`.
        check: &'static str,
        /// Which result.
        part: Part,
        /// Flat position of the element.
        index: usize,
        /// The layer's value.
        got: f64,
        /// The oracle's value.
        expected: f64,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Shape(e) => write!(f, "shape: {e}"),
            CheckError::Mismatch {
                check,
                part,
                index,
                got,
                expected,
            } => {
                write!(
                    f,
                    "{check} check failed: {part:?}[{index}] is {got}, expected {expected}"
                )
            }
        }
    }
}

impl std::error::Error for CheckError {}

impl From<ShapeError> for CheckError {
    fn from(e: ShapeError) -> Self {
        CheckError::Shape(e)
    }
}

/// Elementwise tolerance `|got - expected| <= atol + rtol * |expected|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Absolute part.
    pub atol: f64,
    /// Relative part.
    pub rtol: f64,
}

impl Default for Tolerance {
    /// `1e-4 + 1e-4 * |expected|`: the rule of the TensorFlow/JAX float32 golden data, loose
    /// enough for `f32` summation-order differences on inputs in `[-1, 1)`.
    fn default() -> Self {
        Self {
            atol: 1e-4,
            rtol: 1e-4,
        }
    }
}

impl Tolerance {
    fn allows(&self, got: f64, expected: f64) -> bool {
        (got - expected).abs() <= self.atol + self.rtol * expected.abs()
    }
}

/// A layer's inputs and results.
struct Run<L: Conv2d> {
    x: L::Input,
    k: L::Kernel,
    b: L::Bias,
    delta: L::Output,
}

impl<L: Conv2d> Run<L> {
    fn new(mut value: impl FnMut() -> f64) -> Self {
        let mut run = Self {
            x: Tensor::zeroed(),
            k: Tensor::zeroed(),
            b: Tensor::zeroed(),
            delta: Tensor::zeroed(),
        };
        for v in run
            .x
            .flat_mut()
            .iter_mut()
            .chain(run.k.flat_mut())
            .chain(run.b.flat_mut())
            .chain(run.delta.flat_mut())
        {
            *v = L::Scalar::from_f64(value());
        }
        run
    }

    /// `(part, got, expected)` for `u`, `dx`, `dk`, `db` against the reference in `S`.
    fn compare<S: Scalar>(
        &self,
        g: &Geometry,
        mut ok: impl FnMut(Part, usize, f64, f64) -> bool,
    ) -> Result<(), CheckError> {
        let cast = |v: &[L::Scalar]| {
            v.iter()
                .map(|e| S::from_f64(e.to_f64()))
                .collect::<Vec<S>>()
        };
        let (x, k, b, delta) = (
            cast(self.x.flat()),
            cast(self.k.flat()),
            cast(self.b.flat()),
            cast(self.delta.flat()),
        );
        let u = reference::forward_vec(g, &x, &k, &b)?;
        let want = reference::backward_vec(g, &x, &k, &delta)?;
        let got_u = L::forward(&self.x, &self.k, &self.b);
        let got = L::backward(&self.x, &self.k, &self.delta);
        let parts: [(Part, &[L::Scalar], &[S]); 4] = [
            (Part::U, got_u.flat(), &u),
            (Part::Dx, got.dx.flat(), &want.dx),
            (Part::Dk, got.dk.flat(), &want.dk),
            (Part::Db, got.db.flat(), &want.db),
        ];
        for (part, got, want) in parts {
            for (index, (g, w)) in got.iter().zip(want).enumerate() {
                let (g, w) = (g.to_f64(), w.to_f64());
                if !ok(part, index, g, w) {
                    return Err(CheckError::Mismatch {
                        check: "",
                        part,
                        index,
                        got: g,
                        expected: w,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[-1, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    /// An integer in `[-r, r]`.
    fn int(&mut self, r: u64) -> f64 {
        (self.next() % (2 * r + 1)) as f64 - r as f64
    }
}

fn labelled(check: &'static str, r: Result<(), CheckError>) -> Result<(), CheckError> {
    r.map_err(|e| match e {
        CheckError::Mismatch {
            part,
            index,
            got,
            expected,
            ..
        } => CheckError::Mismatch {
            check,
            part,
            index,
            got,
            expected,
        },
        other => other,
    })
}

/// `t` with element `i` moved by `h`.
fn nudged<S: Scalar, T: Tensor<S>>(t: &T, i: usize, h: f64) -> T {
    let mut out = *t;
    if let Some(v) = out.flat_mut().get_mut(i) {
        *v = S::from_f64(v.to_f64() + h);
    }
    out
}

/// Integer-valued random inputs (exact in `f32`, see [`proof::value_range`]): `L`'s `forward`
/// and `backward` must equal the reference formulation exactly.
///
/// # Errors
/// The first element that differs, or a shape error.
pub fn check_exact<L: Conv2d>(seed: u64) -> Result<(), CheckError> {
    let g = L::GEOMETRY;
    let mut rng = Rng(seed);
    let range = proof::value_range(&g);
    let run = Run::<L>::new(|| rng.int(range));
    labelled(
        "exact",
        run.compare::<L::Scalar>(&g, |_, _, got, want| got == want),
    )
}

/// Random inputs in `[-1, 1)` in `L`'s element type: results within `tol` of the reference
/// evaluated in `f64` on the same values.
///
/// # Errors
/// The first element outside the tolerance, or a shape error.
pub fn check_tolerance<L: Conv2d>(seed: u64, tol: Tolerance) -> Result<(), CheckError> {
    let g = L::GEOMETRY;
    let mut rng = Rng(seed);
    let run = Run::<L>::new(|| rng.unit());
    labelled(
        "tolerance",
        run.compare::<f64>(&g, |_, _, got, want| tol.allows(got, want)),
    )
}

/// Central finite differences in `f64` of `Loss = Σ u·delta` through `L::forward`, against
/// `L::backward`, for every element of `x`, `k` and `b`.
///
/// Inputs are integers in `[-R/2, R/2]` (`R` = [`proof::value_range`], so every sum, with the
/// step's half-integers, is exact in `f32`) and the step is `h = 0.5`: the loss is linear in each
/// variable, so the central difference equals the derivative up to `f64` rounding of the loss
/// sums; the check allows `1e-9 * (1 + |expected|)`.
///
/// # Errors
/// The first element whose derivative differs, or a shape error.
pub fn check_finite_differences<L: Conv2d>(seed: u64) -> Result<(), CheckError> {
    const H: f64 = 0.5;
    let mut rng = Rng(seed);
    let range = (proof::value_range(&L::GEOMETRY) / 2).max(1);
    let run = Run::<L>::new(|| rng.int(range));
    let grads = L::backward(&run.x, &run.k, &run.delta);
    let loss = |x: &L::Input, k: &L::Kernel, b: &L::Bias| -> f64 {
        let u = L::forward(x, k, b);
        u.flat()
            .iter()
            .zip(run.delta.flat())
            .map(|(u, d)| u.to_f64() * d.to_f64())
            .sum()
    };
    let close = |got: f64, fd: f64| (got - fd).abs() <= 1e-9 * (1.0 + fd.abs());
    let mismatch = |part, index, got, expected| CheckError::Mismatch {
        check: "finite differences",
        part,
        index,
        got,
        expected,
    };
    let x_fd = |i: usize, h: f64| loss(&nudged(&run.x, i, h), &run.k, &run.b);
    let k_fd = |i: usize, h: f64| loss(&run.x, &nudged(&run.k, i, h), &run.b);
    let b_fd = |i: usize, h: f64| loss(&run.x, &run.k, &nudged(&run.b, i, h));
    let parts: [(Part, &[L::Scalar], &dyn Fn(usize, f64) -> f64); 3] = [
        (Part::Dx, grads.dx.flat(), &x_fd),
        (Part::Dk, grads.dk.flat(), &k_fd),
        (Part::Db, grads.db.flat(), &b_fd),
    ];
    for (part, grads, loss_at) in parts {
        for (index, got) in grads.iter().enumerate() {
            let fd = (loss_at(index, H) - loss_at(index, -H)) / (2.0 * H);
            if !close(got.to_f64(), fd) {
                return Err(mismatch(part, index, got.to_f64(), fd));
            }
        }
    }
    Ok(())
}
