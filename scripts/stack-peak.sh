#!/usr/bin/env bash
# The stack LeNet-5's `forward` and `train_step` take (`conv-examples/lenet/examples/stack.rs`),
# measured by valgrind's massif with `--stacks=yes`: of the snapshots taken while the calls run
# (those whose heap holds the example's 1 MiB marker), the largest and the smallest stack in
# bytes, and their difference, what the calls take on top of `main`'s frame at most.
# Under valgrind the CPU has no AVX-512 (valgrind does not emulate it), so the AVX2 tier runs
# where the CPU has AVX2.
#
# Usage: scripts/stack-peak.sh [CALLS]   (200 calls of each by default)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
calls=${1:-200}
command -v valgrind >/dev/null || { echo "stack-peak.sh needs valgrind" >&2; exit 1; }
cargo build -q --release --manifest-path "$root/Cargo.toml" -p conv-examples-lenet --example stack
bin="$root/target/release/examples/stack"
out="$root/target/stack-peak"
mkdir -p "$out"
for which in forward train_step; do
  valgrind -q --tool=massif --stacks=yes --max-snapshots=1000 \
    --massif-out-file="$out/$which.massif" "$bin" "$which" "$calls"
  awk -v which="$which" -F= '
    /^mem_heap_B=/ { heap = $2 }
    /^mem_stacks_B=/ {
      if (heap >= 1048576) {
        n++
        if (max == "" || $2 > max) max = $2
        if (min == "" || $2 < min) min = $2
      }
    }
    END {
      if (n == 0) { print which ": no snapshot during the calls"; exit 1 }
      printf "%s: %d snapshots during the calls, stack %d to %d bytes: up to %d bytes above main\n",
        which, n, min, max, max - min
    }' "$out/$which.massif"
done
