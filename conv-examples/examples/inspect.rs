//! Inspects the textbook layer's derivation through its API: prints it as text, Markdown and
//! LaTeX (the first lines of each) and writes the Jacobian picture to `textbook-jacobian.svg`
//! (or the path given as the first argument).
//!
//! Run with `cargo run --example inspect [-- out.svg]`.

use conv_runtime::derivation::explain::{self, Detail, Format};
use conv_runtime::{conv2d, Conv2d};

/// The textbook layer: 5x5 input, 3x3 kernel, 3x3 output.
#[conv2d(input = 5x5, kernel = 3x3)]
pub struct Textbook;

fn main() -> std::io::Result<()> {
    let d = Textbook::derivation();
    print!("{}", d.to_text());
    for format in [Format::Markdown, Format::Latex] {
        let rendered = explain::render(&d, format, Detail::Auto);
        println!(
            "--- {format:?} (first 12 of {} lines) ---",
            rendered.lines().count()
        );
        rendered.lines().take(12).for_each(|l| println!("{l}"));
    }
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "textbook-jacobian.svg".into());
    std::fs::write(&path, d.to_svg())?;
    println!("--- SVG of the Jacobian written to {path} ---");
    Ok(())
}
