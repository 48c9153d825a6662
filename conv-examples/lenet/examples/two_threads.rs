//! Two threads on this machine: round by round, one LeNet-5 epoch at batch 16 on one thread,
//! one on two threads (`network::batch::Trainer`, the epoch `benches/lenet.rs` times), and the
//! time a cache line takes to go from one core to the other and back (two threads passing a
//! counter). The end groups the rounds by that round trip: the two-thread epoch exchanges
//! parameters and gradients between the cores at every batch, so it depends on it, where
//! independent work on the two cores does not.
//!
//! ```text
//! cargo run --release -p conv-examples-lenet --example two_threads -- [ROUNDS]
//! ```
//!
//! `BENCHMARKS.md` (LeNet-5, "Two threads on this machine") gives what it measured.

use conv_examples_lenet::{mnist, LeNet5};
use conv_runtime::network::batch::{BatchError, Trainer};
use conv_runtime::rng::SplitMix64;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const BATCH: usize = 16;
const LEARNING_RATE: f32 = 0.05;
/// Round trips timed per measurement.
const TRIPS: u64 = 100_000;
/// Round trips above this many nanoseconds count as "far" in the summary.
const FAR_NS: f64 = 150.0;

type Batches<'a> = Vec<(Vec<&'a mnist::Image>, Vec<usize>)>;

fn main() -> ExitCode {
    let rounds = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 20,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: two_threads [ROUNDS] (a positive number of rounds, 20 by default)");
            return ExitCode::from(2);
        }
    };
    if std::thread::available_parallelism().map_or(0, |n| n.get()) < 2 {
        eprintln!("two_threads needs two CPUs");
        return ExitCode::from(2);
    }
    let set = match mnist::load(&mnist::data_dir(), "train") {
        Ok(set) => set,
        Err(e) => {
            eprintln!("cannot read the MNIST training set: {e}");
            return ExitCode::FAILURE;
        }
    };
    let batches = batches(&set);
    let mut one = Run::new(1);
    let mut two = Run::new(2);
    let mut rows = Vec::with_capacity(rounds);
    // A first epoch each, untimed (the caches, the threads and the pages), then the rounds.
    for round in 0..=rounds {
        let (t1, t2) = match (one.epoch(&batches), two.epoch(&batches)) {
            (Ok(t1), Ok(t2)) => (t1, t2),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("a training batch failed: {e}");
                return ExitCode::FAILURE;
            }
        };
        if round == 0 {
            continue;
        }
        let trip = round_trip();
        println!(
            "round {round}: 1 thread {t1:.1} ms, 2 threads {t2:.1} ms ({:.2}x), round trip {trip:.0} ns",
            t1 / t2
        );
        rows.push((t1, t2, trip));
    }
    summary("all rounds", &rows.iter().collect::<Vec<_>>());
    let (far, near): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.2 > FAR_NS);
    summary(&format!("round trip up to {FAR_NS} ns"), &near);
    summary(&format!("round trip above {FAR_NS} ns"), &far);
    ExitCode::SUCCESS
}

/// The training set in one fixed shuffled order, cut into batches (the bench's epoch).
fn batches(set: &mnist::Set) -> Batches<'_> {
    let mut order: Vec<usize> = (0..set.labels.len()).collect();
    SplitMix64::new(1).shuffle(&mut order);
    order
        .chunks(BATCH)
        .map(|b| {
            let images = b.iter().map(|&i| &set.images[i]).collect();
            (images, b.iter().map(|&i| set.labels[i]).collect())
        })
        .collect()
}

/// A network and a trainer with its threads, kept from epoch to epoch.
struct Run {
    net: Box<LeNet5>,
    trainer: Trainer<LeNet5>,
}

impl Run {
    fn new(threads: usize) -> Self {
        Self {
            net: Box::new(LeNet5::init(1)),
            trainer: Trainer::new(threads),
        }
    }

    /// One epoch's wall time in milliseconds.
    fn epoch(&mut self, batches: &Batches<'_>) -> Result<f64, BatchError> {
        let net = &mut self.net;
        let start = Instant::now();
        self.trainer.run(|trainer| {
            batches.iter().try_for_each(|(inputs, labels)| {
                trainer.step(net, inputs, labels, LEARNING_RATE).map(drop)
            })
        })?;
        Ok(start.elapsed().as_secs_f64() * 1e3)
    }
}

/// A counter alone on its cache lines.
#[repr(align(128))]
struct Line(AtomicU64);

/// Nanoseconds for a cache line to go from one thread to the other and back: each thread
/// waits for the counter to reach its turn and advances it, [`TRIPS`] times. The two threads
/// spin, so each runs on a core of its own (the scheduler spreads two busy threads).
fn round_trip() -> f64 {
    let line = Line(AtomicU64::new(0));
    let pass = |first: u64| {
        let mut turn = first;
        while turn < 2 * TRIPS {
            while line.0.load(Ordering::Acquire) != turn {
                std::hint::spin_loop();
            }
            line.0.store(turn + 1, Ordering::Release);
            turn += 2;
        }
    };
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| pass(1));
        pass(0);
    });
    start.elapsed().as_nanos() as f64 / TRIPS as f64
}

/// Medians of a group of rounds (1-thread epoch, 2-thread epoch, ratio, round trip).
fn summary(name: &str, rows: &[&(f64, f64, f64)]) {
    if rows.is_empty() {
        println!("{name}: no round");
        return;
    }
    let median = |f: &dyn Fn(&(f64, f64, f64)) -> f64| {
        let mut v: Vec<f64> = rows.iter().map(|r| f(r)).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{name}: {} rounds, medians 1 thread {:.1} ms, 2 threads {:.1} ms, ratio {:.2}x, round trip {:.0} ns",
        rows.len(),
        median(&|r| r.0),
        median(&|r| r.1),
        median(&|r| r.0 / r.1),
        median(&|r| r.2),
    );
}
