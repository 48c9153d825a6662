//! The LeNet-5 section: `benches/lenet.rs` (groups `<target>/lenet/<row>`) beside PyTorch on one
//! thread (`scripts/pytorch-lenet.py`, one `pytorch-lenet.json` per round), with the issue's
//! targets: PyTorch's time over ours at least 15x for batch-1 inference, 20x for the batch-1
//! training step (the fused `train_step`), 4x for the epoch at batch 16 on one thread; and two
//! threads at least 1.7x faster than one on the epoch.

use super::{Results, Rounds, TARGETS};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// The file `scripts/pytorch-lenet.py` writes into each round's directory.
pub const PYTORCH_FILE: &str = "pytorch-lenet.json";

/// One row: label, our group and function, PyTorch's row, and the target (PyTorch / ours).
struct Row {
    label: &'static str,
    group: &'static str,
    function: &'static str,
    pytorch: &'static str,
    target: Option<f64>,
}

const ROWS: [Row; 5] = [
    Row {
        label: "batch-1 inference (`forward`)",
        group: "inference",
        function: "forward",
        pytorch: "inference",
        target: Some(15.0),
    },
    Row {
        label: "batch-1 training step (`train_step`, fused update)",
        group: "train-step",
        function: "train_step",
        pytorch: "train-step",
        target: Some(20.0),
    },
    Row {
        label: "batch-1 training step (`loss_and_gradients` + `sgd_step`)",
        group: "train-step",
        function: "loss_and_gradients+sgd_step",
        pytorch: "train-step",
        target: None,
    },
    Row {
        label: "epoch, batch 16 (`Trainer`, 1 thread)",
        group: "epoch",
        function: "trainer-1-thread",
        pytorch: "epoch",
        target: Some(4.0),
    },
    Row {
        label: "epoch, batch 16 (`Trainer`, 2 threads)",
        group: "epoch",
        function: "trainer-2-threads",
        pytorch: "epoch",
        target: None,
    },
];

/// Two threads over one on the epoch.
const THREADS_TARGET: f64 = 1.7;

/// Adds one `pytorch-lenet.json` to the rounds, as (`pytorch/lenet/<row>`, `torch <version>`).
pub fn read_pytorch(path: &Path, out: &mut Rounds) {
    let Some(json) = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
    else {
        eprintln!("{}: not PyTorch's LeNet-5 figures; skipped", path.display());
        return;
    };
    let version = json["torch"].as_str().unwrap_or("?");
    let Some(ns) = json["ns"].as_object() else {
        return;
    };
    for (row, v) in ns {
        if let Some(v) = v.as_f64() {
            out.entry((format!("pytorch/lenet/{row}"), format!("torch {version}")))
                .or_default()
                .push(v);
        }
    }
}

fn ours(results: &Results, target: &str, row: &Row) -> Option<f64> {
    results
        .get(&(
            format!("{target}/lenet/{}", row.group),
            row.function.to_string(),
        ))
        .copied()
}

/// PyTorch's time for a row, and the name it was recorded under (`torch <version>`).
fn pytorch<'a>(results: &'a Results, row: &Row) -> Option<(f64, &'a str)> {
    let group = format!("pytorch/lenet/{}", row.pytorch);
    results
        .iter()
        .find(|((g, _), _)| *g == group)
        .map(|((_, f), ns)| (*ns, f.as_str()))
}

/// As the other tables, and seconds from one second up (an epoch).
fn time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else {
        super::time(ns)
    }
}

fn cell(ns: Option<f64>) -> String {
    ns.map_or("–".to_string(), time)
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// The section, or `None` when `benches/lenet.rs` did not run.
pub fn section(results: &Results) -> Option<String> {
    let any = ROWS
        .iter()
        .any(|r| TARGETS.iter().any(|t| ours(results, t, r).is_some()));
    if !any {
        return None;
    }
    let torch = ROWS
        .iter()
        .find_map(|r| pytorch(results, r))
        .map(|(_, name)| name.to_string());
    let mut md = String::from("## LeNet-5\n\n");
    let _ = write!(
        md,
        "`benches/lenet.rs` (criterion): LeNet-5 of `conv-examples/lenet` (`#[network]`; conv 5x5 \
         1→6 `same`, ReLU, max pool 2; conv 5x5 6→16, ReLU, max pool 2; dense 400→120→84→10 with \
         ReLU; softmax cross-entropy; SGD, learning rate 0.05) in f32 on the MNIST training images \
         of `conv-examples/lenet/data` (8,004). Batch-1 rows cycle through the first 256 images, one \
         per call; the epoch is one pass at batch 16 in a fixed shuffled order with \
         `network::batch::Trainer`. {} Everything runs on one thread but the 2-thread epoch, which \
         uses both cores of the machine. Rounds and medians as above; `default` and `native` as \
         above. Ratios are PyTorch's time over ours.\n\n",
        match &torch {
            Some(t) => format!(
                "PyTorch (`{t}`, `torch.set_num_threads(1)`) times the same network, sizes and \
                 steps in the same run (`scripts/pytorch-lenet.py`, installed into a virtualenv by \
                 `scripts/pytorch-setup.sh` with `PYTORCH=1 scripts/bench.sh`)."
            ),
            None => "PyTorch was not measured in this run (`PYTORCH=1 scripts/bench.sh` measures it)."
                .to_string(),
        }
    );
    md += "| row | default | native | PyTorch (1 thread) | PyTorch / default | PyTorch / native | target |\n\
           |---|---|---|---|---|---|---|\n";
    for row in &ROWS {
        let py = pytorch(results, row).map(|p| p.0);
        let _ = write!(md, "| {} |", row.label);
        for target in TARGETS {
            let _ = write!(md, " {} |", cell(ours(results, target, row)));
        }
        let _ = write!(md, " {} |", cell(py));
        for target in TARGETS {
            match (py, ours(results, target, row)) {
                (Some(p), Some(o)) => {
                    let _ = write!(md, " {:.1}× |", p / o);
                }
                _ => md += " – |",
            }
        }
        match row.target {
            Some(t) => {
                let _ = writeln!(md, " ≥ {t}× |");
            }
            None => md += " – |\n",
        }
    }
    md += "\n### Targets\n\n";
    for target in TARGETS {
        for row in ROWS.iter().filter(|r| r.target.is_some()) {
            let (Some(want), Some(o)) = (row.target, ours(results, target, row)) else {
                continue;
            };
            match pytorch(results, row) {
                Some((p, _)) => {
                    let _ = writeln!(
                        md,
                        "- {target} {}: PyTorch {} / ours {} = {:.1}× (target ≥ {want}×): {}",
                        row.label,
                        time(p),
                        time(o),
                        p / o,
                        mark(p / o >= want)
                    );
                }
                None => {
                    let _ = writeln!(
                        md,
                        "- {target} {} vs PyTorch (target ≥ {want}×): not measured in this run",
                        row.label
                    );
                }
            }
        }
        if let (Some(one), Some(two)) = (
            ours(results, target, &ROWS[3]),
            ours(results, target, &ROWS[4]),
        ) {
            let _ = writeln!(
                md,
                "- {target} epoch, batch 16: 1 thread {} / 2 threads {} = {:.2}× (target ≥ \
                 {THREADS_TARGET}×): {}",
                time(one),
                time(two),
                one / two,
                mark(one / two >= THREADS_TARGET)
            );
        }
    }
    md += "\n";
    Some(md)
}
