#!/usr/bin/env bash
# The benchmark suite: compile budgets of every configuration's layer, criterion runs of
# `benches/layers.rs` and `benches/lenet.rs` for the default target and for
# `-C target-cpu=native` (and of `benches/candle.rs` when CANDLE=1: the Rust peer, behind the
# `candle` feature; and `scripts/pytorch-lenet.py` once a round when PYTORCH=1: PyTorch on one
# thread, installed into `target/pytorch-venv` by `scripts/pytorch-setup.sh`), then
# `BENCHMARKS.md` and `benchmarks.svg` from the results: each figure the median of ROUNDS
# (default 3) rounds of the criterion runs, one round after another over both targets, so a
# slow spell of the machine (same code measured 10-40% apart within one round on the
# benchmark machine) moves one round's figures, not the report's.
#
# The compile budgets and the expansion cost (`scripts/expansion-cost.sh`, including a layer at
# `MAX_DERIVED_MACS`) come first, on the idle machine.
#
# Usage: scripts/bench.sh            (about 40 minutes on 2 cores; CANDLE=1 adds candle's build,
#                                     PYTORCH=1 PyTorch's install on the first run)
#        ROUNDS=1 scripts/bench.sh   (about 17 minutes)
#        PYTORCH=1 CANDLE=1 scripts/bench.sh   (every peer; never in CI)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/target/bench-report"
rm -rf "$out" target/criterion
mkdir -p "$out"

# PyTorch's install (a download of several hundred MB or more) before anything is measured.
python=""
[ "${PYTORCH:-0}" = 1 ] && python="$(scripts/pytorch-setup.sh | tail -n 1)"

layer() { # N CI H W CO KH KW -> attribute
  echo "input = $3x$4, kernel = $6x$7, in_channels = $2, out_channels = $5"
}
scripts/compile-budget.sh \
  "input = 5x5, kernel = 3x3" \
  "$(layer 1 1 8 8 8 3 3)" \
  "$(layer 1 1 28 28 6 5 5)" \
  "$(layer 1 16 32 32 16 3 3)" | tee "$out/budget.md"
{
  printf "\n### Expansion cost\n\n"
  printf '%s\n\n' "\`scripts/expansion-cost.sh\` (the engine in a release build, one process per layer; the whole expansion derives and proves again, then proves every form's IR and writes the code). A proc-macro runs unoptimised unless the build sets \`opt-level\` for build dependencies, which makes it several times slower (the \`macro\` rows above):"
  scripts/expansion-cost.sh \
    "$(layer 1 1 28 28 6 5 5)" \
    "$(layer 1 16 32 32 16 3 3)" \
    "$(layer 1 16 290 32 16 3 3)"
} | tee -a "$out/budget.md"

features=()
[ "${CANDLE:-0}" = 1 ] && features=(--features candle)
rounds="${ROUNDS:-3}"
for round in $(seq 1 "$rounds"); do
  for target in default native; do
    flags=""
    [ "$target" = native ] && flags="-C target-cpu=native"
    # Results of variants an earlier run measured (an `auto` that picked other strategies then)
    # would be reported beside this run's.
    rm -rf "$root/target/bench-$target/criterion"
    echo "round $round of $rounds, $target"
    RUSTFLAGS="$flags" CARGO_TARGET_DIR="$root/target/bench-$target" \
      cargo bench --bench layers -- --noplot 2>&1 | grep -E '^(default|native)/|time:' || true
    RUSTFLAGS="$flags" CARGO_TARGET_DIR="$root/target/bench-$target" \
      cargo bench --bench lenet -- --noplot 2>&1 | grep -E '^(default|native)/|time:' || true
    if [ "${CANDLE:-0}" = 1 ]; then
      RUSTFLAGS="$flags" CARGO_TARGET_DIR="$root/target/bench-$target" \
        cargo bench "${features[@]}" --bench candle -- --noplot 2>&1 | grep -E '^(default|native)/|time:' || true
    fi
    mkdir -p "target/criterion/round-$round"
    cp -r "$root/target/bench-$target/criterion/." "target/criterion/round-$round/"
  done
  if [ -n "$python" ]; then
    echo "round $round of $rounds, pytorch"
    "$python" scripts/pytorch-lenet.py "target/criterion/round-$round/pytorch-lenet.json"
  fi
done
cargo run -q --example bench_report -- target/criterion BENCHMARKS.md benchmarks.svg "$out/budget.md"
