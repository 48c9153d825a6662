// The compile-time check the macro emits, fed a hand-written layer with one wrong term in
// dL/dx: the build fails with the check's message.
use conv_runtime::{proof, Geometry, GeometrySpec};

const G: Geometry = match GeometrySpec::new([3, 3], [2, 2]).resolve() {
    Ok(g) => g,
    Err(e) => e.panic(),
};

const fn forward(x: &[[f32; 3]; 3], k: &[[f32; 2]; 2], b: f32) -> [[f32; 2]; 2] {
    let mut u = [[b; 2]; 2];
    let mut n = 0;
    while n < 16 {
        let (i, j, a, c) = (n / 8, n / 4 % 2, n / 2 % 2, n % 2);
        u[i][j] += x[i + a][j + c] * k[a][c];
        n += 1;
    }
    u
}

/// dL/dx[1][1] uses k[0][0] for the window at (1, 0), where k[0][1] belongs.
const fn backward(x: &[[f32; 3]; 3], k: &[[f32; 2]; 2], d: &[[f32; 2]; 2]) -> ([[f32; 3]; 3], [[f32; 2]; 2], f32) {
    let (mut dx, mut dk, mut db) = ([[0.0f32; 3]; 3], [[0.0f32; 2]; 2], 0.0f32);
    let mut n = 0;
    while n < 16 {
        let (i, j, a, c) = (n / 8, n / 4 % 2, n / 2 % 2, n % 2);
        let weight = if i == 1 && j == 0 && a == 0 && c == 1 { k[0][0] } else { k[a][c] };
        dx[i + a][j + c] += d[i][j] * weight;
        dk[a][c] += d[i][j] * x[i + a][j + c];
        n += 1;
    }
    let mut m = 0;
    while m < 4 {
        db += d[m / 2][m % 2];
        m += 1;
    }
    (dx, dk, db)
}

const _: () = {
    let (mut x, mut k, mut b, mut d) = ([[0.0f32; 3]; 3], [[0.0f32; 2]; 2], 0.0f32, [[0.0f32; 2]; 2]);
    proof::f32::fill(&G, x.as_flattened_mut(), 1);
    proof::f32::fill(&G, k.as_flattened_mut(), 2);
    proof::f32::fill(&G, core::slice::from_mut(&mut b), 3);
    proof::f32::fill(&G, d.as_flattened_mut(), 4);
    let u = forward(&x, &k, b);
    let (dx, dk, db) = backward(&x, &k, &d);
    proof::f32::assert_layer::<9, 4, 1, 4>(
        &G,
        x.as_flattened(),
        k.as_flattened(),
        core::slice::from_ref(&b),
        u.as_flattened(),
        d.as_flattened(),
        dx.as_flattened(),
        dk.as_flattened(),
        core::slice::from_ref(&db),
    );
};

fn main() {}
