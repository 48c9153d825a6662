//! The stack that LeNet-5's `forward` and `train_step` take, for `scripts/stack-peak.sh`
//! (valgrind's massif with `--stacks=yes`): the network, its input and its workspace are on the
//! heap, and a marker of 1 MiB is allocated on the heap just before the calls, so that the
//! script can tell the calls' snapshots from those of the set-up.
//!
//! ```text
//! cargo run --release -p conv-examples-lenet --example stack -- forward|train_step [CALLS]
//! ```
//!
//! `BENCHMARKS.md` (LeNet-5, "Stack") gives what it measured.

use conv_examples_lenet::LeNet5;
use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let calls = match args.next().map(|a| a.parse::<usize>()) {
        None => 200,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("CALLS: {e}");
            return ExitCode::from(2);
        }
    };
    let mut net: Box<LeNet5> = Box::new(LeNet5::init(1));
    let mut ws = Box::new(LeNet5::workspace());
    let mut x = Box::new([[[0.0f32; 28]; 28]; 1]);
    for (i, v) in x.iter_mut().flatten().flatten().enumerate() {
        *v = (i % 7) as f32 / 7.0;
    }
    let marker = black_box(vec![1u8; 1 << 20]);
    match which.as_str() {
        "forward" => {
            for _ in 0..calls {
                black_box(net.forward(black_box(&x)));
            }
        }
        "train_step" => {
            for i in 0..calls {
                match net.train_step(black_box(&x), i % 10, 0.01, &mut ws) {
                    Ok(loss) => {
                        black_box(loss);
                    }
                    Err(e) => {
                        eprintln!("train_step: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
        }
        _ => {
            eprintln!("usage: stack forward|train_step [CALLS]");
            return ExitCode::from(2);
        }
    }
    drop(marker);
    ExitCode::SUCCESS
}
