//! Turns the criterion results of `benches/layers.rs` (and `benches/candle.rs`, when it ran) into
//! `BENCHMARKS.md` tables (time per call, GFLOP/s, % of the measured FMA peak, ratios) with the
//! issue's targets checked, and `benchmarks.svg` (a bar chart of % of peak); and, when
//! `benches/lenet.rs` ran, the LeNet-5 section (`bench_report/lenet.rs`), beside PyTorch's
//! figures when `scripts/pytorch-lenet.py` wrote them into the round directories.
//!
//! ```sh
//! scripts/bench.sh          # runs the benchmarks for both targets, then this
//! cargo run --example bench_report -- target/criterion BENCHMARKS.md benchmarks.svg [budget.md]
//! ```
//!
//! FLOPs count 2 per multiply-add of the layer (padding-free, stride 1): forward `2·MACs`,
//! backward `4·MACs` (`dL/dx` and `dL/dk`; `dL/db` is a sum, not counted), both `6·MACs`.

// Beside this file, not in `examples/`, so that cargo does not take it for an example.
#[path = "bench_report/lenet.rs"]
mod lenet;

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use svg::node::element::{Line, Rectangle, Text};
use svg::Document;

/// (name, batch, C_in, H, W, C_out, KH, KW)
type Config = (
    &'static str,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

const CONFIGS: [Config; 6] = [
    ("A", 1, 1, 5, 5, 1, 3, 3),
    ("B", 1, 1, 8, 8, 8, 3, 3),
    ("C", 1, 1, 28, 28, 6, 5, 5),
    ("D", 64, 1, 28, 28, 6, 5, 5),
    ("E", 1, 16, 32, 32, 16, 3, 3),
    ("F", 1, 6, 14, 14, 16, 5, 5),
];
const OPS: [&str; 3] = ["forward", "backward", "forward+backward"];
const TARGETS: [&str; 2] = ["default", "native"];
/// Variants that are code the macro emits.
const GENERATED: [&str; 3] = ["full", "window", "rows"];

fn macs(config: &str) -> f64 {
    let (_, n, ci, h, w, co, kh, kw) = CONFIGS
        .iter()
        .copied()
        .find(|c| c.0 == config)
        .unwrap_or(CONFIGS[0]);
    (n * co * (h - kh + 1) * (w - kw + 1) * ci * kh * kw) as f64
}

fn flops(config: &str, op: &str) -> f64 {
    let per_mac = match op {
        "forward" => 2.0,
        "backward" => 4.0,
        _ => 6.0,
    };
    per_mac * macs(config)
}

/// Time in ns of every benchmark: (group, function) -> ns.
type Results = BTreeMap<(String, String), f64>;

/// Criterion's mean of every benchmark in every round found: (group, function) -> ns.
type Rounds = BTreeMap<(String, String), Vec<f64>>;

/// The median over the rounds of each benchmark's mean (the lower middle one for an even
/// count), and the largest number of rounds any benchmark has.
fn medians(rounds: Rounds) -> (Results, usize) {
    let most = rounds.values().map(Vec::len).max().unwrap_or(0);
    let results = rounds
        .into_iter()
        .map(|(key, mut means)| {
            means.sort_by(f64::total_cmp);
            (key, means[(means.len() - 1) / 2])
        })
        .collect();
    (results, most)
}

fn collect(dir: &Path, out: &mut Rounds) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") {
                read_one(&path, out);
            } else {
                collect(&path, out)?;
            }
        } else if path.file_name().is_some_and(|n| n == lenet::PYTORCH_FILE) {
            lenet::read_pytorch(&path, out);
        }
    }
    Ok(())
}

fn read_one(new: &Path, out: &mut Rounds) {
    let read = |name: &str| -> Option<Value> {
        serde_json::from_str(&std::fs::read_to_string(new.join(name)).ok()?).ok()
    };
    let (Some(bench), Some(est)) = (read("benchmark.json"), read("estimates.json")) else {
        return;
    };
    let (Some(group), Some(function), Some(mean)) = (
        bench["group_id"].as_str(),
        bench["function_id"].as_str(),
        est["mean"]["point_estimate"].as_f64(),
    ) else {
        return;
    };
    out.entry((group.to_string(), function.to_string()))
        .or_default()
        .push(mean);
}

/// The strategy `auto` (named `auto (forward/backward)`) emitted `op` with: its forward's or
/// backward's, and for both functions the one they share, if they share one.
fn picked<'a>(auto: &'a str, op: &str) -> Option<&'a str> {
    let inner = auto.strip_prefix("auto (")?.strip_suffix(')')?;
    let (forward, backward) = inner.split_once('/')?;
    match op {
        "forward" => Some(forward),
        "backward" => Some(backward),
        _ => (forward == backward).then_some(forward),
    }
}

fn time(ns: f64) -> String {
    match ns {
        t if t < 1e3 => format!("{t:.1} ns"),
        t if t < 1e6 => format!("{:.2} µs", t / 1e3),
        t => format!("{:.2} ms", t / 1e6),
    }
}

/// The measured peak of a target in GFLOP/s: the fastest `peak` benchmark (its id carries its
/// flop count).
fn peak(results: &Results, target: &str) -> Option<(f64, String)> {
    results
        .iter()
        .filter(|((g, _), _)| g == &format!("{target}/peak"))
        .filter_map(|((_, f), ns)| {
            let flop: f64 = f.split(", ").nth(1)?.strip_suffix(" flop")?.parse().ok()?;
            Some((flop / ns, f.clone()))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

struct Report<'a> {
    results: &'a Results,
    /// How many rounds of criterion runs the figures are medians of.
    rounds: usize,
    md: String,
    chart: Vec<(String, String, f64)>,
}

impl Report<'_> {
    /// Variants measured for a target and config, in a fixed order.
    fn variants(&self, target: &str, config: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .results
            .keys()
            .filter(|(g, _)| g.starts_with(&format!("{target}/{config}/")))
            .map(|(_, f)| f.clone())
            .collect();
        names.sort_by_key(|n| {
            let rank = GENERATED
                .iter()
                .position(|g| g == n)
                .unwrap_or(if n.starts_with("auto") { 3 } else { 4 });
            (rank, n.clone())
        });
        names.dedup();
        names
    }

    fn ns(&self, target: &str, config: &str, op: &str, variant: &str) -> Option<f64> {
        self.results
            .get(&(format!("{target}/{config}/{op}"), variant.to_string()))
            .copied()
    }

    fn auto_name(&self, target: &str, config: &str) -> Option<String> {
        self.variants(target, config)
            .into_iter()
            .find(|v| v.starts_with("auto"))
    }

    fn table(&self, target: &str, config: &str, peak: f64) -> String {
        let mut t = String::from(
            "| variant | forward | GFLOP/s | % peak | backward | GFLOP/s | % peak | fwd+bwd | GFLOP/s | % peak | fwd+bwd vs auto |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        let auto = self
            .auto_name(target, config)
            .and_then(|a| self.ns(target, config, "forward+backward", &a));
        for v in self.variants(target, config) {
            let _ = write!(t, "| {v} |");
            for op in OPS {
                match self.ns(target, config, op, &v) {
                    Some(ns) => {
                        let gflops = flops(config, op) / ns;
                        let _ = write!(
                            t,
                            " {} | {gflops:.1} | {:.1}% |",
                            time(ns),
                            100.0 * gflops / peak
                        );
                    }
                    None => t += " – | – | – |",
                }
            }
            match (auto, self.ns(target, config, "forward+backward", &v)) {
                (Some(a), Some(ns)) => {
                    let _ = writeln!(t, " {:.2}× |", ns / a);
                }
                _ => t += " – |\n",
            }
        }
        t
    }

    /// The issue's targets for one build target, each with its figures.
    fn targets(&self, target: &str, peak: f64) -> String {
        let mut out = String::new();
        let mark = |ok: bool| if ok { "met" } else { "**not met**" };
        for (config, ..) in CONFIGS {
            let Some(auto) = self.auto_name(target, config) else {
                continue;
            };
            for op in OPS {
                let best = GENERATED
                    .iter()
                    .filter_map(|g| Some((self.ns(target, config, op, g)?, *g)))
                    .min_by(|a, b| a.0.total_cmp(&b.0));
                if let (Some((best, name)), Some(a)) = (best, self.ns(target, config, op, &auto)) {
                    let ratio = a / best;
                    // `auto` emits the same code as the strategy it picked for this function,
                    // so a gap between the two measures the run's noise, not the choice.
                    let verdict = if picked(&auto, op) == Some(name) {
                        format!("{} (same code as `{name}`)", mark(true))
                    } else {
                        mark(ratio <= 1.10).to_string()
                    };
                    let _ = writeln!(
                        out,
                        "- {config} {op}: `{auto}` {} vs best strategy `{name}` {} ({:+.0}%): {verdict}",
                        time(a),
                        time(best),
                        100.0 * (ratio - 1.0),
                    );
                }
            }
        }
        if let Some(auto) = self.auto_name(target, "A") {
            let op = "forward+backward";
            if let Some(a) = self.ns(target, "A", op, &auto) {
                for (peer, want) in [("reference", 8.0), ("candle", 100.0)] {
                    match self.ns(target, "A", op, peer) {
                        Some(p) => {
                            let _ = writeln!(
                                out,
                                "- A forward+backward: `{peer}` / `{auto}` = {:.1}× (target ≥ {want}×): {}",
                                p / a,
                                mark(p / a >= want)
                            );
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "- A forward+backward vs `{peer}`: not measured in this run"
                            );
                        }
                    }
                }
            }
        }
        let want = if target == "native" { 35.0 } else { 10.0 };
        for config in ["C", "D", "E"] {
            let Some(auto) = self.auto_name(target, config) else {
                continue;
            };
            for op in ["forward", "backward"] {
                if let Some(ns) = self.ns(target, config, op, &auto) {
                    let pct = 100.0 * flops(config, op) / ns / peak;
                    let _ = writeln!(
                        out,
                        "- {config} {op} (`{auto}`): {pct:.1}% of peak (target ≥ {want}%): {}",
                        mark(pct >= want)
                    );
                }
            }
        }
        out
    }

    fn run(&mut self, budget: Option<String>) {
        let rounds = match self.rounds {
            1 => "Each figure is criterion's mean of one round.".to_string(),
            n => format!(
                "Each figure is the median of {n} rounds' criterion means (the rounds run one \
                 after another over the whole suite, so a slow spell of the machine moves one \
                 round, not the figure)."
            ),
        };
        self.md += &format!("# Benchmarks\n\n\
            Generated by `scripts/bench.sh` (criterion, `benches/layers.rs`; the `candle` rows, when \
            present, by `benches/candle.rs` with `--features candle`), then `examples/bench_report.rs`. \
            One run on one machine: compare figures within this file, not with other machines. \
            {rounds} Single-threaded, f32, stride 1, VALID. Times are per call (for D, the whole batch of 64). \
            FLOPs: 2 per multiply-add; forward `2·MACs`, backward `4·MACs`, both `6·MACs`. \
            `default` is built without `RUSTFLAGS` (x86-64 baseline; the layers run the variant \
            of the CPU's tier, `conv_runtime::cpu::tier`), `native` is built with \
            `-C target-cpu=native`. `auto (f/b)` names the strategies `auto` picked for forward \
            and backward. `reference` is `conv_runtime::reference` (the generic padded/rotated \
            formulation at run-time sizes), `naive` plain const-generic nested loops.\n\n\
            ![% of peak, forward+backward](benchmarks.svg)\n\n");
        for target in TARGETS {
            let Some((peak, how)) = peak(self.results, target) else {
                continue;
            };
            let _ = write!(
                self.md,
                "## Target `{target}`\n\nMeasured FMA peak: {peak:.1} GFLOP/s (`{how}`).\n\n### Targets\n\n{}\n",
                self.targets(target, peak)
            );
            for (config, n, ci, h, w, co, kh, kw) in CONFIGS {
                if self.variants(target, config).is_empty() {
                    continue;
                }
                let _ = write!(
                    self.md,
                    "### {target} / {config}: batch {n}, {ci}→{co} channels, {h}x{w} input, {kh}x{kw} kernel ({} MACs)\n\n{}\n",
                    macs(config),
                    self.table(target, config, peak)
                );
                for v in self.variants(target, config) {
                    if let Some(ns) = self.ns(target, config, "forward+backward", &v) {
                        let pct = 100.0 * flops(config, "forward+backward") / ns / peak;
                        self.chart.push((format!("{target}/{config}"), v, pct));
                    }
                }
            }
        }
        if let Some(section) = lenet::section(self.results) {
            self.md += &section;
        }
        if let Some(budget) = budget {
            self.md += "## Compile budgets\n\n`scripts/compile-budget.sh` (a scratch crate holding one layer of each configuration, `CARGO_INCREMENTAL=0`; `macro` is the attribute, `expanded` the expansion pasted as source, `no-proof` the expansion without the compile-time proof):\n\n";
            self.md += &budget;
            self.md += "\n";
        }
    }
}

/// Grouped bars: one group per `target/config`, one bar per variant, height = % of peak.
fn chart(bars: &[(String, String, f64)]) -> Document {
    let mut groups: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
    groups.dedup();
    let mut variants: Vec<&str> = bars.iter().map(|b| b.1.as_str()).collect();
    variants.sort();
    variants.dedup();
    let colour = |v: &str| {
        let i = variants.iter().position(|x| *x == v).unwrap_or(0);
        format!("hsl({}, 60%, 50%)", i * 360 / variants.len().max(1))
    };
    let top = bars.iter().map(|b| b.2).fold(10.0f64, f64::max).ceil();
    let (bar, gap, plot_h, left, base) = (10.0, 14.0, 300.0, 50.0, 340.0);
    let group_w = bar * variants.len() as f64 + gap;
    let width = left + group_w * groups.len() as f64 + 220.0;
    let mut doc = Document::new()
        .set("viewBox", (0, 0, width, base + 80.0))
        .set("font-family", "sans-serif")
        .set("font-size", 11)
        .add(
            Text::new("% of measured FMA peak, forward+backward, per target/configuration")
                .set("x", left)
                .set("y", 20),
        );
    for tick in 0..=4 {
        let v = top * f64::from(tick) / 4.0;
        let y = base - plot_h * v / top;
        doc = doc
            .add(
                Line::new()
                    .set("x1", left)
                    .set("x2", left + group_w * groups.len() as f64)
                    .set("y1", y)
                    .set("y2", y)
                    .set("stroke", "#ddd"),
            )
            .add(
                Text::new(format!("{v:.0}%"))
                    .set("x", left - 6.0)
                    .set("y", y + 4.0)
                    .set("text-anchor", "end"),
            );
    }
    for (gi, g) in groups.iter().enumerate() {
        let x0 = left + gi as f64 * group_w + gap / 2.0;
        for (g2, v, pct) in bars.iter().filter(|b| b.0 == *g) {
            let _ = g2;
            let vi = variants.iter().position(|x| x == v).unwrap_or(0) as f64;
            let h = plot_h * pct / top;
            doc = doc.add(
                Rectangle::new()
                    .set("x", x0 + vi * bar)
                    .set("y", base - h)
                    .set("width", bar - 1.0)
                    .set("height", h)
                    .set("fill", colour(v)),
            );
        }
        doc = doc.add(
            Text::new(g.to_string())
                .set("x", x0 + bar * variants.len() as f64 / 2.0)
                .set("y", base + 16.0)
                .set("text-anchor", "middle"),
        );
    }
    let lx = left + group_w * groups.len() as f64 + 20.0;
    for (i, v) in variants.iter().enumerate() {
        let y = 40.0 + 16.0 * i as f64;
        doc = doc
            .add(
                Rectangle::new()
                    .set("x", lx)
                    .set("y", y - 9.0)
                    .set("width", 10)
                    .set("height", 10)
                    .set("fill", colour(v)),
            )
            .add(Text::new(v.to_string()).set("x", lx + 14.0).set("y", y));
    }
    doc
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| PathBuf::from(args.get(i).map_or(default, String::as_str));
    let (dir, md_path, svg_path) = (
        arg(0, "target/criterion"),
        arg(1, "BENCHMARKS.md"),
        arg(2, "benchmarks.svg"),
    );
    let budget = args.get(3).and_then(|p| std::fs::read_to_string(p).ok());
    let mut rounds = Rounds::new();
    if let Err(e) = collect(&dir, &mut rounds) {
        eprintln!("cannot read {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let (results, rounds) = medians(rounds);
    if results.is_empty() {
        eprintln!("no criterion results under {}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut report = Report {
        results: &results,
        rounds,
        md: String::new(),
        chart: Vec::new(),
    };
    report.run(budget);
    let written = std::fs::write(&md_path, &report.md)
        .and_then(|()| svg::save(&svg_path, &chart(&report.chart)));
    match written {
        Ok(()) => {
            println!("wrote {} and {}", md_path.display(), svg_path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}
