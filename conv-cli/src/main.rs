//! `conv-derivation`: the derivation of a `#[conv2d(...)]` layer for any size, in the format
//! you need, or the exact code the macro emits.
//!
//! ```sh
//! cargo run --release -p conv-cli -- --input 5x5 --kernel 3x3                 # text
//! cargo run --release -p conv-cli -- --input 5x5 --kernel 3x3 --format markdown
//! cargo run --release -p conv-cli -- --input 6x5 --kernel 3x3 --stride 2 --padding same --format json
//! cargo run --release -p conv-cli -- --input 5x5 --kernel 3x3 --format latex --standalone -o textbook.tex
//! cargo run --release -p conv-cli -- --input 28x28 --kernel 5x5 --format svg -o jacobian.svg
//! cargo run --release -p conv-cli -- --input 5x5 --kernel 3x3 --format rust    # what the macro emits
//! ```
//!
//! The layer options (`--input`, `--kernel`, `--stride`, `--padding`, `--dilation`,
//! `--in-channels`, `--out-channels`, `--scalar`, `--unroll`) take the attribute's values
//! (`5x5`, `(5, 5)`, `2`, `(2, 1)`, `same`, `(1, 0, 2, 1)`, `f64`, `window`). They are assembled into the attribute
//! `input = .., kernel = .., ..` and validated by [`conv_engine::parse::parse`], so the
//! messages are the attribute's own; every problem is printed as `error: ...` on standard
//! error and the exit code is 1 (2 for a malformed command line, from clap).
//!
//! # Other layer kinds
//!
//! Subcommands print the derivation of the other layer kinds, rendered by
//! [`conv_engine::explain`]'s `dense`, `pool`, `activation`, `flatten` and `loss` modules, in
//! every format (`--format markdown|latex|text|svg`; `svg` draws the Jacobian `du/dx`, or the
//! softmax's `dp/dz` for the loss):
//!
//! ```sh
//! cargo run -p conv-cli -- dense --inputs 3 --outputs 2
//! cargo run -p conv-cli -- pool --kind max --input 1x4x4 --kernel 2x2 [--stride 2]
//! cargo run -p conv-cli -- activation relu            # leaky-relu [--alpha 0.01], tanh, sigmoid
//! cargo run -p conv-cli -- activation tanh --format svg --input 2x3x3
//! cargo run -p conv-cli -- flatten --input 2x3x3
//! cargo run -p conv-cli -- loss --classes 3
//! cargo run -p conv-cli -- network conv-examples/lenet/src/lib.rs [--name LeNet5]
//! ```
//!
//! `network FILE.rs` reads a Rust source file, finds the structs with a `#[network(...)]`
//! attribute (in inline modules too; `--name` picks one), validates each with
//! [`conv_engine::network::parse`] and prints [`conv_engine::network::summary`]: the layer
//! table and the memory and cost table (parameter bytes, peak inference activations, the
//! training workspace, training in gradient-buffer and fused modes, multiply-adds per
//! inference and per training step), the Markdown of the network's rustdoc. A missing file,
//! a file without a network or an invalid network is an `error: ...` with exit code 1.
//!
//! Sizes are `CxHxW` (or `HxW` for one channel) and `KHxKW` (or `K`); the pooling stride
//! defaults to the kernel, as PyTorch. Invalid sizes are the engine's typed errors, printed as
//! `error: ...` with exit code 1.
//!
//! # Detail
//!
//! Without `--full`, layers whose Jacobian `∂u/∂x` has more than
//! [`conv_engine::explain::AUTO_FULL_CELLS`] cells (input elements times output elements) are
//! summarised: index formulas, counts and the first equations (JSON: counts only). `--full`
//! writes everything; for Markdown, LaTeX and text it is refused above 1,000,000 Jacobian
//! cells, since the `∂u/∂x` table alone would be tens of megabytes (JSON `--full` grows with
//! the number of products only, which the attribute's unroll limit bounds). `--summary` forces
//! the summary. SVG and Rust ignore both.
//!
//! # JSON schema (`"schema": "conv-derivation/1"`)
//!
//! All indices are **0-based** (like the arrays the macro emits; the Markdown, LaTeX and text
//! renderers write 1-based subscripts, as in the textbook).
//!
//! ```text
//! {
//!   "schema": "conv-derivation/1",
//!   "attribute": "input = 5x5, kernel = 3x3",   // as given on the command line
//!   "indexing": "0-based",
//!   "full": true,                               // whether the "sums" lists are present
//!   "geometry": {
//!     "input": [H, W], "kernel": [KH, KW], "stride": [SH, SW], "dilation": [DH, DW],
//!     "padding": "valid" | "same" | "explicit",
//!     "pads": { "top": _, "bottom": _, "left": _, "right": _ },   // the padding used
//!     "in_channels": C_in, "out_channels": C_out, "output": [OH, OW],
//!     "scalar": "f32" | "f64", "layout": "plain" | "channel_first"
//!   },
//!   "forward": Section, "dx": Section, "dk": Section, "db": Section
//! }
//! Section = { "count": number of sums, "terms": number of products, "sums"?: [Sum] }
//!
//! pixel = { "c": channel, "row": _, "col": _ }          // an element of x, u or delta
//! tap   = { "o": out channel, "c": in channel, "row": _, "col": _ }   // an element of k
//! bias  = { "o": out channel }
//!
//! forward sums: { "u": pixel, "bias": bias, "products": [{ "x": pixel, "k": tap }] }
//!               u[u] = b[bias] + Σ x[x]·k[k]
//! dx sums:      { "x": pixel, "products": [{ "delta": pixel, "k": tap }] }
//!               dL/dx[x] = Σ delta[delta]·k[k]   (each product is one nonzero du/dx entry:
//!                                                 du[delta]/dx[x] = k[k])
//! dk sums:      { "k": tap,   "products": [{ "delta": pixel, "x": pixel }] }
//!               dL/dk[k] = Σ delta[delta]·x[x]
//! db sums:      { "b": bias,  "products": [{ "delta": pixel }] }
//!               dL/db[b] = Σ delta[delta]
//! ```
//!
//! Sums are listed in element order (row-major, channel first) and products in the engine's
//! summation order (see `conv_engine::derive`). Only nonzero products appear (reads of the
//! padding are dropped). Without channels `c` and `o` are always 0.
//!
//! # SVG
//!
//! A picture of `∂u/∂x`: rows are input elements, columns output elements; every nonzero entry
//! is a `<rect class="cell">` coloured by the kernel weight it equals (legend on the right, one
//! colour per weight up to 64 weights, else one per spatial tap). Above 256 rows or columns the
//! matrix is downscaled: each nonzero block (one input row by one output row) is a grey
//! `<rect class="block">` and each diagonal run of entries holding one weight is one
//! `<line class="run">`; the caption says which drawing was made.

mod args;
mod json;
mod kinds;
mod layer;
mod network;
mod output;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    if let Some(kind) = &cli.kind {
        return match kinds::render(kind) {
            Ok(text) => emit(kind.output(), &text),
            Err(messages) => {
                report(&messages);
                ExitCode::FAILURE
            }
        };
    }
    let layer = match layer::parse(&cli.layer_options(), &cli.name) {
        Ok(layer) => layer,
        Err(problems) => {
            report(&problems.messages);
            if let Some(attribute) = problems.attribute {
                eprintln!("  = note: read as #[conv2d({attribute})]");
            }
            return ExitCode::FAILURE;
        }
    };
    let choices = output::Choices {
        detail: output::detail(cli.full, cli.summary),
        doc_images: !cli.no_doc_images,
        standalone: cli.standalone,
    };
    let text = match output::render(&layer, cli.format, &choices) {
        Ok(text) => text,
        Err(messages) => {
            report(&messages);
            return ExitCode::FAILURE;
        }
    };
    emit(cli.output.as_deref(), &text)
}

/// Writes `text` to `path` or standard output; the exit code says whether it worked.
fn emit(path: Option<&std::path::Path>, text: &str) -> ExitCode {
    match write(path, text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            report(&[message]);
            ExitCode::FAILURE
        }
    }
}

fn report(messages: &[String]) {
    for message in messages {
        eprintln!("error: {message}");
    }
}

/// Writes `text` to `path`, or to standard output.
fn write(path: Option<&std::path::Path>, text: &str) -> Result<(), String> {
    match path {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                // A closed pipe (`| head`) is not an error worth reporting.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                result => result.map_err(|e| format!("cannot write to standard output: {e}")),
            }
        }
    }
}
