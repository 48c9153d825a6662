//! Prints the code `#[conv2d(...)]` emits for a spec, formatted (what `cargo expand` shows).
//!
//! ```sh
//! cargo run --example expand -- "input = 5x5, kernel = 3x3"
//! cargo run --example expand -- "input = 28x28, kernel = 5x5" --no-check   # without the compile-time proof
//! cargo run --example expand -- "input = 28x28, kernel = 5x5" --window     # loops over windows
//! cargo run --example expand -- "input = 28x28, kernel = 5x5, unroll = rows" # loops over rows
//! ```

use conv_engine::emit::{generate_with, Options};
use std::process::ExitCode;
use std::str::FromStr;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(attr) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: expand \"input = 5x5, kernel = 3x3\" [--no-check] [--window]");
        return ExitCode::FAILURE;
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    let options = Options {
        compile_time_check: !flag("--no-check"),
        strategy: flag("--window").then_some(conv_engine::Strategy::Window),
        doc_images: true,
        fault: None,
        parameter_gradients: false,
    };
    let tokens = match proc_macro2::TokenStream::from_str(attr) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let item = quote::quote!(
        pub struct Layer;
    );
    let expanded = conv_engine::parse::parse(tokens, item)
        .and_then(|(spec, target)| generate_with(&spec, &target, &options));
    match expanded.and_then(syn::parse2::<syn::File>) {
        Ok(file) => {
            print!("{}", prettyplease::unparse(&file));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
