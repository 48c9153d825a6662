//! Time of each expansion stage for one layer: the derivation with its proof against the
//! padded/rotated formulation, the loop IR's symbolic proof (rows layers), and the whole
//! `emit::generate`. Memory: run it under `/usr/bin/time -v` (maximum resident set size).
//!
//! ```sh
//! cargo run --release -p conv-engine --example expansion_cost -- \
//!     "input = 32x32, kernel = 3x3, in_channels = 16, out_channels = 16"
//! ```
//!
//! Release builds measure the engine's own cost; the proc-macro runs it unoptimised unless the
//! build sets `opt-level` for build dependencies.

use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(attr) = std::env::args().nth(1) else {
        eprintln!("usage: expansion_cost \"input = 5x5, kernel = 3x3\"");
        return ExitCode::FAILURE;
    };
    let parsed = proc_macro2::TokenStream::from_str(&attr)
        .map_err(|e| e.to_string())
        .and_then(|attr| {
            conv_engine::parse::parse(
                attr,
                quote::quote!(
                    struct Layer;
                ),
            )
            .map_err(|e| e.to_string())
        });
    let (spec, target) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let d = conv_engine::derive::Derivation::new(&spec.geometry);
    let derived = start.elapsed();
    let proof = conv_engine::prove::prove(&d);
    let proven = start.elapsed();
    println!("layer: {attr} ({} multiply-adds)", spec.geometry.macs());
    println!("plan: {:?}", conv_engine::plan(&spec));
    println!("derivation: {:.3} s", derived.as_secs_f64());
    println!(
        "derivation proof: {:.3} s ({:?})",
        (proven - derived).as_secs_f64(),
        proof.map(|p| p.products)
    );
    let start = Instant::now();
    match conv_engine::emit::generate(&spec, &target) {
        Ok(tokens) => println!(
            "generate (derivation, proofs including the loop IR's, code): {:.3} s, {} bytes of tokens",
            start.elapsed().as_secs_f64(),
            tokens.to_string().len()
        ),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
