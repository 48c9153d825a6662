//! Every CPU tier this machine has, forced in turn (`__forward_on` / `__backward_on`, the
//! hidden per-tier entry points behind `forward` and `backward`): both give the reference's
//! exact results on integer inputs on every tier; on random floats, `forward` gives the same
//! bits on both wide tiers (every form adds the same products in the same order, fused there)
//! and agrees with the portable tier within rounding, and `backward` gives the same bits on every tier that sums the same way.

use conv_runtime::cpu::{self, Tier};
use conv_runtime::rng::SplitMix64;
use conv_runtime::{conv2d, reference, Conv2d, Tensor};

/// The layers: the textbook layer (unrolled everywhere, fused on the wide tiers), the digits
/// layer (unrolled or a window by tier), LeNet-5's first layer (rows), a strided, dilated,
/// padded f64 layer, a layer whose forward is rows or a window by tier, and LeNet-5's second
/// layer and configuration E, too large for the compile-time check to evaluate whole (so this
/// is their whole-layer check on integer inputs).
macro_rules! layers {
    ($($name:ident: $($key:ident = $value:tt),*;)*) => {
        $(
            #[conv2d($($key = $value),*)]
            struct $name;
        )*
        /// On a thread with a large stack: unoptimised builds keep every array of E's
        /// backward (64 KiB each) in the frames of the nested calls.
        #[test]
        fn every_tier_agrees() {
            std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn(|| { $( every_tier_agrees_on::<$name>(stringify!($name)); )* })
                .expect("a test thread")
                .join()
                .expect("every tier agrees");
        }
    };
}

layers! {
    Textbook: input = 5x5, kernel = 3x3;
    Digits: input = 8x8, kernel = 3x3, out_channels = 8;
    LeNet: input = 28x28, kernel = 5x5, out_channels = 6, padding = same;
    Strided: input = 9x11, kernel = 3x2, stride = (2, 1), dilation = (1, 2), padding = same, in_channels = 2, out_channels = 3, scalar = f64;
    Few: input = 16x16, kernel = 3x3, in_channels = 3, out_channels = 4;
    LeNet2: input = 14x14, kernel = 5x5, in_channels = 6, out_channels = 16;
    E: input = 32x32, kernel = 3x3, in_channels = 16, out_channels = 16;
}

/// What the tests need of a generated layer: its per-tier entry points.
trait Tiers: Conv2d {
    fn forward_on(
        tier: Tier,
        x: &Self::Input,
        k: &Self::Kernel,
        b: &Self::Bias,
    ) -> Option<Self::Output>;
    fn backward_on(
        tier: Tier,
        x: &Self::Input,
        k: &Self::Kernel,
        delta: &Self::Output,
    ) -> Option<conv_runtime::Gradients<Self::Input, Self::Kernel, Self::Bias>>;
}

macro_rules! tiers {
    ($($name:ident),*) => {$(
        impl Tiers for $name {
            fn forward_on(tier: Tier, x: &Self::Input, k: &Self::Kernel, b: &Self::Bias) -> Option<Self::Output> {
                $name::__forward_on(tier, x, k, b)
            }
            fn backward_on(
                tier: Tier,
                x: &Self::Input,
                k: &Self::Kernel,
                delta: &Self::Output,
            ) -> Option<conv_runtime::Gradients<Self::Input, Self::Kernel, Self::Bias>> {
                $name::__backward_on(tier, x, k, delta)
            }
        }
    )*};
}

tiers!(Textbook, Digits, LeNet, Strided, Few, LeNet2, E);

/// The tiers this CPU has; the test names the ones it could not run.
fn available() -> Vec<Tier> {
    let tiers: Vec<Tier> = Tier::ALL
        .into_iter()
        .filter(|&t| cpu::is_available(t))
        .collect();
    for t in Tier::ALL.iter().filter(|t| !tiers.contains(t)) {
        eprintln!("SKIPPED: tier {t:?} (this CPU lacks it)");
    }
    tiers
}

fn every_tier_agrees_on<L: Tiers>(name: &str) {
    let tiers = available();
    assert!(tiers.contains(&Tier::Portable));
    let g = L::GEOMETRY;
    let mut rng = SplitMix64::new(7);
    // Integer inputs: every tier equals the reference exactly.
    let (x, k, b, delta) = filled::<L>(&mut || (rng.next_u64() % 9) as f64 - 4.0);
    let mut u = L::Output::zeroed();
    reference::forward(&g, x.flat(), k.flat(), b.flat(), u.flat_mut()).expect("shapes");
    let mut expected = conv_runtime::Gradients {
        dx: L::Input::zeroed(),
        dk: L::Kernel::zeroed(),
        db: L::Bias::zeroed(),
    };
    reference::backward(
        &g,
        x.flat(),
        k.flat(),
        delta.flat(),
        expected.dx.flat_mut(),
        expected.dk.flat_mut(),
        expected.db.flat_mut(),
    )
    .expect("shapes");
    for &tier in &tiers {
        let got = L::forward_on(tier, &x, &k, &b).expect("an available tier");
        assert!(got.flat() == u.flat(), "{name} forward on {tier:?}");
        let got = L::backward_on(tier, &x, &k, &delta).expect("an available tier");
        assert!(
            got.dx.flat() == expected.dx.flat(),
            "{name} dL/dx on {tier:?}"
        );
        assert!(
            got.dk.flat() == expected.dk.flat(),
            "{name} dL/dk on {tier:?}"
        );
        assert!(
            got.db.flat() == expected.db.flat(),
            "{name} dL/db on {tier:?}"
        );
    }
    // Random floats: forward the same bits on the wide tiers (both fuse every form), within
    // rounding of the portable tier;
    // backward the same bits on the wide tiers (both fuse the unrolled and the layer-level
    // sums, and the other loop forms do not depend on the tier).
    let (x, k, b, delta) = filled::<L>(&mut || rng.unit() * 2.0 - 1.0);
    let portable = L::forward_on(Tier::Portable, &x, &k, &b).expect("portable");
    let wide: Vec<_> = tiers.iter().filter(|&&t| t != Tier::Portable).collect();
    // Each output sums at most `terms` values of magnitude at most 1: the two roundings differ
    // by at most `terms` ulps of a sum of magnitude at most `terms`.
    let terms = (g.kernel_len() / g.out_channels() + 1) as f64;
    let epsilon = match std::mem::size_of::<L::Scalar>() {
        4 => f64::from(f32::EPSILON),
        _ => f64::EPSILON,
    };
    let values = |t: &L::Output| -> Vec<f64> {
        t.flat()
            .iter()
            .map(|v| conv_runtime::Scalar::to_f64(*v))
            .collect()
    };
    for &&tier in &wide {
        let got = L::forward_on(tier, &x, &k, &b).expect("an available tier");
        let first = L::forward_on(*wide[0], &x, &k, &b).expect("an available tier");
        assert_eq!(
            bits::<L>(got.flat()),
            bits::<L>(first.flat()),
            "{name} forward on {tier:?}"
        );
        let portable = values(&portable);
        let got = values(&got);
        let near = got
            .iter()
            .zip(&portable)
            .all(|(a, b)| (a - b).abs() <= terms * terms * epsilon);
        assert!(near, "{name} forward on {tier:?} against the portable tier");
        assert!(got.iter().all(|v| v.is_finite()), "{name}");
    }
    if let [first, rest @ ..] = wide.as_slice() {
        let a = L::backward_on(**first, &x, &k, &delta).expect("an available tier");
        for &&tier in rest {
            let b = L::backward_on(tier, &x, &k, &delta).expect("an available tier");
            assert_eq!(
                bits::<L>(a.dx.flat()),
                bits::<L>(b.dx.flat()),
                "{name} dL/dx on {tier:?}"
            );
            assert_eq!(
                bits::<L>(a.dk.flat()),
                bits::<L>(b.dk.flat()),
                "{name} dL/dk on {tier:?}"
            );
            assert_eq!(
                bits::<L>(a.db.flat()),
                bits::<L>(b.db.flat()),
                "{name} dL/db on {tier:?}"
            );
        }
    }
}

type Operands<L> = (
    <L as Conv2d>::Input,
    <L as Conv2d>::Kernel,
    <L as Conv2d>::Bias,
    <L as Conv2d>::Output,
);

/// `x`, `k`, `b` and `delta` filled with `next()`.
fn filled<L: Conv2d>(next: &mut impl FnMut() -> f64) -> Operands<L> {
    let (mut x, mut k, mut b, mut delta) = (
        L::Input::zeroed(),
        L::Kernel::zeroed(),
        L::Bias::zeroed(),
        L::Output::zeroed(),
    );
    for v in x
        .flat_mut()
        .iter_mut()
        .chain(k.flat_mut())
        .chain(b.flat_mut())
        .chain(delta.flat_mut())
    {
        *v = conv_runtime::Scalar::from_f64(next());
    }
    (x, k, b, delta)
}

fn bits<L: Conv2d>(values: &[L::Scalar]) -> Vec<u64> {
    values
        .iter()
        .map(|v| conv_runtime::Scalar::to_f64(*v).to_bits())
        .collect()
}
