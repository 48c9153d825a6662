//! Trains LeNet-5 (`#[network]`, see `src/lib.rs`) on the MNIST digits in `data/`: plain SGD,
//! batch 16, learning rate 0.05, 10 epochs, the training set shuffled each epoch with a fixed
//! seed; a progress bar per epoch, held-out accuracy and time after each; the trained weights
//! written to a file. `--load FILE` only runs inference with saved weights.
//!
//! ```text
//! cargo run --release --example lenet [-- --epochs N --threads N --save FILE | --load FILE]
//! ```

use conv_examples_lenet::{mnist, LeNet5};
use conv_runtime::network::batch::{BatchError, Trainer};
use conv_runtime::network::weights;
use conv_runtime::rng::SplitMix64;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

const BATCH: usize = 16;
const LEARNING_RATE: f32 = 0.05;
const SEED: u64 = 1;

struct Options {
    epochs: usize,
    threads: usize,
    save: String,
    load: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        epochs: 10,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        save: "lenet5.weights".into(),
        load: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--epochs" => o.epochs = value()?.parse().map_err(|e| format!("--epochs: {e}"))?,
            "--threads" => o.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--save" => o.save = value()?,
            "--load" => o.load = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument `{other}`; expected --epochs N, --threads N, --save FILE \
                     or --load FILE"
                ))
            }
        }
    }
    Ok(o)
}

fn accuracy(net: &LeNet5, set: &mnist::Set) -> f64 {
    let right = set
        .images
        .iter()
        .zip(&set.labels)
        .filter(|(x, y)| net.predict(x) == **y)
        .count();
    100.0 * right as f64 / set.labels.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = options()?;
    let dir = mnist::data_dir();
    let test = mnist::load(&dir, "test")?;
    if let Some(path) = &o.load {
        let net: Box<LeNet5> = Box::new(weights::load(&std::fs::read(path)?)?);
        let start = Instant::now();
        let acc = accuracy(&net, &test);
        println!(
            "{path}: held-out accuracy {acc:.2}% on {} images ({:.2} s)",
            test.labels.len(),
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let train = mnist::load(&dir, "train")?;
    println!(
        "LeNet-5: {} parameters ({} bytes), {} training and {} held-out images, batch {BATCH}, \
         learning rate {LEARNING_RATE}, {} thread(s)",
        LeNet5::PARAMETER_BYTES / 4,
        LeNet5::PARAMETER_BYTES,
        train.labels.len(),
        test.labels.len(),
        o.threads
    );
    let mut net = Box::new(LeNet5::init(SEED));
    let mut trainer = Trainer::<LeNet5>::new(o.threads);
    let mut order: Vec<usize> = (0..train.labels.len()).collect();
    let style = ProgressStyle::with_template("epoch {prefix:>2} [{bar:30}] {pos:>5}/{len} {msg}")?
        .progress_chars("=> ");
    let total = Instant::now();
    for epoch in 1..=o.epochs {
        SplitMix64::new(SEED + epoch as u64).shuffle(&mut order);
        let bar = ProgressBar::new(order.len() as u64).with_style(style.clone());
        bar.set_prefix(epoch.to_string());
        let start = Instant::now();
        // The epoch's batches start on the trainer's threads (`Trainer::run`).
        let (loss_sum, seen) = trainer.run(|trainer| {
            let (mut loss_sum, mut seen) = (0.0, 0);
            for batch in order.chunks(BATCH) {
                let inputs: Vec<&mnist::Image> = batch.iter().map(|&i| &train.images[i]).collect();
                let labels: Vec<usize> = batch.iter().map(|&i| train.labels[i]).collect();
                let loss = trainer.step(&mut net, &inputs, &labels, LEARNING_RATE)?;
                loss_sum += loss * batch.len() as f64;
                seen += batch.len();
                bar.inc(batch.len() as u64);
                if seen % (BATCH * 25) == 0 || seen == order.len() {
                    let rate = seen as f64 / start.elapsed().as_secs_f64();
                    bar.set_message(format!(
                        "loss {:.4}  {rate:.0} samples/s",
                        loss_sum / seen as f64
                    ));
                }
            }
            Ok::<_, BatchError>((loss_sum, seen))
        })?;
        let time = start.elapsed().as_secs_f64();
        bar.finish_and_clear();
        println!(
            "epoch {epoch:>2}: loss {:.4}, held-out accuracy {:.2}%, {time:.2} s ({:.0} samples/s)",
            loss_sum / seen as f64,
            accuracy(&net, &test),
            seen as f64 / time
        );
    }
    std::fs::write(&o.save, weights::save(&*net))?;
    println!(
        "trained in {:.1} s; weights written to {} (run with `--load {}` for inference only)",
        total.elapsed().as_secs_f64(),
        o.save,
        o.save
    );
    Ok(())
}
