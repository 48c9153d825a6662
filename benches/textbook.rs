//! The textbook layer (5x5 input, 3x3 kernel): the generated unrolled `forward` and `backward`
//! against `conv_runtime::reference`, the generic padded/rotated formulation at run-time sizes.
//!
//! Run with `cargo bench --bench textbook`.

use conv_runtime::{conv2d, reference, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[conv2d(input = 5x5, kernel = 3x3)]
struct Textbook;

struct Inputs {
    x: [[f32; 5]; 5],
    k: [[f32; 3]; 3],
    b: f32,
    delta: [[f32; 3]; 3],
}

/// Values in [-1, 1) (not integers: the compiler must not fold the arithmetic).
fn inputs() -> Inputs {
    let mut i = Inputs {
        x: [[0.0; 5]; 5],
        k: [[0.0; 3]; 3],
        b: 0.25,
        delta: [[0.0; 3]; 3],
    };
    let values =
        i.x.flat_mut()
            .iter_mut()
            .chain(i.k.flat_mut())
            .chain(i.delta.flat_mut());
    for (n, v) in values.enumerate() {
        *v = ((n * 7919) % 17) as f32 / 8.0 - 1.0;
    }
    i
}

fn textbook(c: &mut Criterion) {
    let Inputs { x, k, b, delta } = inputs();
    let g = Textbook::GEOMETRY;
    let mut group = c.benchmark_group("textbook");
    group.bench_function("forward/unrolled", |bch| {
        bch.iter(|| Textbook::forward(black_box(&x), black_box(&k), black_box(&b)))
    });
    group.bench_function("forward/reference", |bch| {
        let mut u = [[0.0f32; 3]; 3];
        bch.iter(|| {
            reference::forward(
                &g,
                black_box(x.flat()),
                black_box(k.flat()),
                black_box(b.flat()),
                u.flat_mut(),
            )
            .map(|()| u)
        })
    });
    group.bench_function("backward/unrolled", |bch| {
        bch.iter(|| Textbook::backward(black_box(&x), black_box(&k), black_box(&delta)))
    });
    group.bench_function("backward/reference", |bch| {
        let (mut dx, mut dk, mut db) = ([[0.0f32; 5]; 5], [[0.0f32; 3]; 3], 0.0f32);
        bch.iter(|| {
            reference::backward(
                &g,
                black_box(x.flat()),
                black_box(k.flat()),
                black_box(delta.flat()),
                dx.flat_mut(),
                dk.flat_mut(),
                db.flat_mut(),
            )
            .map(|()| (dx, dk, db))
        })
    });
    group.finish();
}

criterion_group!(benches, textbook);
criterion_main!(benches);
