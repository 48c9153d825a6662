//! The trainable layer: SGD follows `kernel -= lr * dk`, `bias -= lr * db`; gradients accumulate
//! over samples and reset; batch helpers reject mismatched lengths; stacks chain the gradients.

use conv_runtime::train::{BatchError, Layer, Stack};
use conv_runtime::{conv2d, reference, Conv2d, Tensor};

type Input = <Conv as Conv2d>::Input;
type Output = <Conv as Conv2d>::Output;

#[conv2d(input = 5x5, kernel = 3x3, in_channels = 2, out_channels = 3, scalar = f64)]
struct Conv;

fn inputs(seed: u64) -> (Input, Output) {
    let mut x = [[[0.0; 5]; 5]; 2];
    let mut d = [[[0.0; 3]; 3]; 3];
    for (n, v) in x.flat_mut().iter_mut().chain(d.flat_mut()).enumerate() {
        *v = ((n as u64 * 37 + seed * 11) % 9) as f64 - 4.0;
    }
    (x, d)
}

#[test]
fn sgd_step_is_kernel_minus_lr_times_accumulated_gradient() {
    let mut layer = Layer::<Conv>::init(3);
    let before = layer;
    let (x1, d1) = inputs(1);
    let (x2, d2) = inputs(2);
    layer.backward(&x1, &d1);
    layer.backward(&x2, &d2);
    // The accumulated gradient is the sum of the reference gradients of both samples.
    let g = Conv::GEOMETRY;
    let r1 = reference::backward_vec(&g, x1.flat(), before.kernel.flat(), d1.flat()).unwrap();
    let r2 = reference::backward_vec(&g, x2.flat(), before.kernel.flat(), d2.flat()).unwrap();
    let dk: Vec<f64> = r1.dk.iter().zip(&r2.dk).map(|(a, b)| a + b).collect();
    let db: Vec<f64> = r1.db.iter().zip(&r2.db).map(|(a, b)| a + b).collect();
    assert_eq!(layer.dk.flat(), &dk[..]);
    assert_eq!(layer.db.flat(), &db[..]);
    layer.sgd_step(0.125);
    let want_k: Vec<f64> = before
        .kernel
        .flat()
        .iter()
        .zip(&dk)
        .map(|(k, d)| k - 0.125 * d)
        .collect();
    let want_b: Vec<f64> = before
        .bias
        .flat()
        .iter()
        .zip(&db)
        .map(|(b, d)| b - 0.125 * d)
        .collect();
    assert_eq!(layer.kernel.flat(), &want_k[..]);
    assert_eq!(layer.bias.flat(), &want_b[..]);
    assert!(
        layer
            .dk
            .flat()
            .iter()
            .chain(layer.db.flat())
            .all(|&v| v == 0.0),
        "reset after the step"
    );
}

#[test]
fn initialisation_is_deterministic_and_scaled() {
    let (a, b, c) = (
        Layer::<Conv>::init(5),
        Layer::<Conv>::init(5),
        Layer::<Conv>::init(6),
    );
    assert_eq!(a, b);
    assert_ne!(a.kernel, c.kernel);
    let limit = (6.0f64 / ((2 + 3) * 9) as f64).sqrt();
    assert!(a.kernel.flat().iter().all(|w| w.abs() <= limit));
    assert!(a.kernel.flat().iter().any(|w| w.abs() > limit / 2.0));
    assert_eq!(a.bias, [0.0; 3]);
}

#[test]
fn batches_match_single_samples_and_reject_bad_lengths() {
    let mut layer = Layer::<Conv>::init(1);
    let (x1, d1) = inputs(1);
    let (x2, d2) = inputs(2);
    let mut us = [[[[0.0; 3]; 3]; 3]; 2];
    layer.forward_batch(&[x1, x2], &mut us).unwrap();
    assert_eq!(us, [layer.forward(&x1), layer.forward(&x2)]);
    assert_eq!(
        layer.forward_batch(&[x1, x2], &mut us[..1]),
        Err(BatchError::new(2, 1))
    );
    let mut dxs = [[[[0.0; 5]; 5]; 2]; 2];
    assert_eq!(
        layer.backward_batch(&[x1, x2], &[d1], &mut dxs),
        Err(BatchError::new(2, 1))
    );
    assert_eq!(
        layer.dk, [[[[0.0; 3]; 3]; 2]; 3],
        "nothing accumulated on error"
    );
    layer
        .backward_batch(&[x1, x2], &[d1, d2], &mut dxs)
        .unwrap();
    let mut single = Layer::<Conv>::init(1);
    assert_eq!(dxs, [single.backward(&x1, &d1), single.backward(&x2, &d2)]);
    assert_eq!((layer.dk, layer.db), (single.dk, single.db));
}

#[conv2d(input = 6x6, kernel = 3x3)]
struct First;

#[conv2d(input = 4x4, kernel = 2x2)]
struct Second;

#[test]
fn a_stack_chains_the_gradients() {
    let mut stack = Stack::new(
        Layer::<First>::new([[1.0, -2.0, 0.5]; 3], 0.25),
        Layer::<Second>::new([[2.0, 1.0]; 2], -1.0),
    );
    let x = [[1.0, 2.0, -1.0, 0.0, 3.0, 1.0]; 6];
    let delta = [[1.0, -1.0, 2.0]; 3];
    let dx = stack.backward(&x, &delta);
    // By hand: through the second layer, then the first.
    let hidden = First::forward(&x, &stack.first.kernel, &0.25);
    let g2 = Second::backward(&hidden, &stack.second.kernel, &delta);
    let g1 = First::backward(&x, &stack.first.kernel, &g2.dx);
    assert_eq!(dx, g1.dx);
    assert_eq!((stack.first.dk, stack.first.db), (g1.dk, g1.db));
    assert_eq!((stack.second.dk, stack.second.db), (g2.dk, g2.db));
    assert_eq!(
        stack.forward(&x),
        Second::forward(&hidden, &stack.second.kernel, &-1.0)
    );
}
