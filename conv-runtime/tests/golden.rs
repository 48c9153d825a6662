//! The reference formulation against TensorFlow/JAX golden values copied into `golden/cases.rs`
//! (provenance there), compared with `==` in `f32` and `f64`, at run time and, for the textbook
//! layer, at compile time through the `const fn`s.
#![cfg(feature = "std")]

#[path = "golden/cases.rs"]
mod cases;

use conv_runtime::{reference, Scalar, Tensor};

/// One golden case, flat.
struct Golden<'a> {
    spec: conv_runtime::GeometrySpec,
    pads: [usize; 4],
    output: [usize; 2],
    x: &'a [f64],
    k: &'a [f64],
    b: &'a [f64],
    delta: &'a [f64],
    u: &'a [f64],
    dx: &'a [f64],
    dk: &'a [f64],
    db: &'a [f64],
}

impl Golden<'_> {
    fn check<S: Scalar>(&self) {
        let g = self.spec.resolve().expect("the golden geometry resolves");
        assert_eq!(g.pads(), self.pads, "pads");
        assert_eq!(g.output(), self.output, "output size");
        let cast = |v: &[f64]| v.iter().map(|&e| S::from_f64(e)).collect::<Vec<S>>();
        let (x, k, b, delta) = (cast(self.x), cast(self.k), cast(self.b), cast(self.delta));
        let u = reference::forward_vec(&g, &x, &k, &b).unwrap();
        assert_eq!(u, cast(self.u), "u");
        let grads = reference::backward_vec(&g, &x, &k, &delta).unwrap();
        assert_eq!(grads.dx, cast(self.dx), "dL/dx");
        assert_eq!(grads.dk, cast(self.dk), "dL/dk");
        assert_eq!(grads.db, cast(self.db), "dL/db");
    }
}

/// Checks case `$m` of `cases` in `f32` and `f64`.
macro_rules! golden {
    ($m:ident) => {{
        use cases::$m as c;
        let (x, k, b, delta) = (c::X, c::K, c::B, c::DELTA);
        let (u, dx, dk, db) = (c::U, c::DX, c::DK, c::DB);
        let golden = Golden {
            spec: c::SPEC,
            pads: c::PADS,
            output: c::OUTPUT,
            x: x.flat(),
            k: k.flat(),
            b: b.flat(),
            delta: delta.flat(),
            u: u.flat(),
            dx: dx.flat(),
            dk: dk.flat(),
            db: db.flat(),
        };
        golden.check::<f32>();
        golden.check::<f64>();
    }};
}

#[test]
fn textbook_5x5_by_3x3() {
    golden!(s1_valid_5x5_k3x3);
}

#[test]
fn stride_2_1_with_asymmetric_padding() {
    golden!(pad_1_0_2_1_s21_5x6_k2x3);
}

#[test]
fn dilation_2_with_same_padding() {
    golden!(dil2_same_6x7_k2x4);
}

#[test]
fn channels_with_stride_3_and_padding() {
    golden!(pad_0_2_1_0_s3_mc_n1_ci2_co3_7x5_k3x2);
}

#[test]
fn channels_with_dilation_2_and_same_padding() {
    golden!(dil2_same_mc_n1_ci2_co2_7x6_k3x3);
}

/// `src` narrowed to `f32` into `dst` (same length), in a `const` context.
const fn narrow(src: &[f64], dst: &mut [f32]) {
    let mut i = 0;
    while i < dst.len() {
        dst[i] = src[i] as f32;
        i += 1;
    }
}

/// The textbook case through `reference::f32`, evaluated by the compiler: `(u, dx, dk, db)`.
const TEXTBOOK_AT_COMPILE_TIME: ([f32; 9], [f32; 25], [f32; 9], [f32; 1]) = {
    use cases::s1_valid_5x5_k3x3 as c;
    let g = match c::SPEC.resolve() {
        Ok(g) => g,
        Err(e) => e.panic(),
    };
    let (mut x, mut k, mut b, mut delta) = ([0.0; 25], [0.0; 9], [0.0; 1], [0.0; 9]);
    narrow(c::X.as_flattened(), &mut x);
    narrow(c::K.as_flattened(), &mut k);
    narrow(&c::B, &mut b);
    narrow(c::DELTA.as_flattened(), &mut delta);
    let (mut u, mut dx, mut dk, mut db) = ([0.0; 9], [0.0; 25], [0.0; 9], [0.0; 1]);
    assert!(reference::f32::forward_into(&g, &x, &k, &b, &mut u).is_ok());
    assert!(reference::f32::backward_into(&g, &x, &k, &delta, &mut dx, &mut dk, &mut db).is_ok());
    (u, dx, dk, db)
};

#[test]
fn textbook_at_compile_time() {
    use cases::s1_valid_5x5_k3x3 as c;
    let (u, dx, dk, db) = TEXTBOOK_AT_COMPILE_TIME;
    let wide = |v: &[f32]| v.iter().map(|&e| f64::from(e)).collect::<Vec<f64>>();
    assert_eq!(wide(&u), c::U.flat());
    assert_eq!(wide(&dx), c::DX.flat());
    assert_eq!(wide(&dk), c::DK.flat());
    assert_eq!(wide(&db), c::DB.flat());
}
