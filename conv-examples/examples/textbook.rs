//! The textbook layer: a 5x5 input, a 3x3 kernel, stride 1, VALID.
//!
//! Declares the layer, prints its derivation (the `∂u/∂x` table, the `∂L/∂x` equations, the matrix
//! form, `∂L/∂k` and `∂L/∂b`), runs forward and backward on sample values, and checks them against
//! `conv_runtime`'s generic padded/rotated formulation.
//!
//! Run with `cargo run --release --example textbook`.

use conv_runtime::{conv2d, reference, Conv2d, Tensor};

/// The textbook layer: 5x5 input, 3x3 kernel, 3x3 output.
#[conv2d(input = 5x5, kernel = 3x3)]
pub struct Textbook;

fn main() {
    print!("{}", Textbook::derivation().to_text());

    // Sample values (the TensorFlow/JAX golden case `s1_valid_5x5_k3x3`).
    let x = [
        [1.0, -1.0, 4.0, 2.0, 1.0],
        [1.0, -3.0, 1.0, 3.0, 3.0],
        [3.0, 1.0, 3.0, 2.0, 3.0],
        [4.0, 2.0, -1.0, -3.0, -1.0],
        [1.0, -3.0, 1.0, 3.0, -4.0],
    ];
    let k = [[1.0, -3.0, 2.0], [-4.0, 0.0, -1.0], [3.0, 3.0, -4.0]];
    let b = -1.0;
    let delta = [[4.0, -3.0, -4.0], [-2.0, -1.0, 1.0], [-1.0, -2.0, 1.0]];

    let u = Textbook::forward(&x, &k, &b);
    let g = Textbook::backward(&x, &k, &delta);
    println!("Sample values\n=============\n");
    println!("u     = {u:?}");
    println!("dL/dx = {:?}", g.dx);
    println!("dL/dk = {:?}", g.dk);
    println!("dL/db = {:?}\n", g.db);

    // The same through the generic formulation, at run-time sizes.
    let geometry = Textbook::GEOMETRY;
    let expected_u = reference::forward_vec(&geometry, x.flat(), k.flat(), b.flat());
    let expected = reference::backward_vec(&geometry, x.flat(), k.flat(), delta.flat());
    let agree = match (expected_u, expected) {
        (Ok(eu), Ok(eg)) => {
            eu == u.flat() && eg.dx == g.dx.flat() && eg.dk == g.dk.flat() && eg.db == g.db.flat()
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("the reference formulation refused the shapes: {e}");
            false
        }
    };
    let exact = conv_runtime::checks::check_exact::<Textbook>(7);
    println!("Check against conv_runtime::reference (padded/rotated formulation)\n==================================================================\n");
    println!(
        "sample values:               {}",
        if agree { "equal" } else { "DIFFERENT" }
    );
    match exact {
        Ok(()) => println!("random integer-valued check: equal"),
        Err(e) => println!("random integer-valued check: {e}"),
    }
    if !agree || exact.is_err() {
        std::process::exit(1);
    }
}
