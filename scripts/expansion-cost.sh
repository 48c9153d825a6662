#!/usr/bin/env bash
# Expansion cost of layers: the engine's own time (release build of `conv-engine`'s
# `expansion_cost` example) for the derivation with its proof against the padded/rotated
# formulation, and for the whole expansion (`emit::generate`: the derivation and its proof again,
# the symbolic proofs of every form's IR, the code), with the peak memory of the process.
# Prints a Markdown table.
#
# Usage: scripts/expansion-cost.sh "input = 28x28, kernel = 5x5, in_channels = 1, out_channels = 6" ...
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build -q --release --manifest-path "$root/Cargo.toml" -p conv-engine --example expansion_cost
bin="$root/target/release/examples/expansion_cost"

printf "| layer | multiply-adds | derivation and its proof | whole expansion | peak memory |\n"
printf "|---|---|---|---|---|\n"
for spec in "$@"; do
  log="$(mktemp)"
  if /usr/bin/time -f "peak %M" "$bin" "$spec" >"$log" 2>&1; then
    macs=$(sed -n 's/^layer: .*(\([0-9]*\) multiply-adds)$/\1/p' "$log")
    derive=$(sed -n 's/^derivation: \([0-9.]*\) s$/\1/p' "$log")
    prove=$(sed -n 's/^derivation proof: \([0-9.]*\) s.*$/\1/p' "$log")
    whole=$(sed -n 's/^generate [^:]*: \([0-9.]*\) s,.*$/\1/p' "$log")
    peak=$(sed -n 's/^peak \([0-9]*\)$/\1/p' "$log")
    awk -v spec="$spec" -v macs="$macs" -v d="$derive" -v p="$prove" -v w="$whole" -v m="$peak" \
      'BEGIN { printf "| %s | %d | %.2f s | %.2f s | %.0f MB |\n", spec, macs, d + p, w, m / 1024 }'
  else
    printf "| %s | fails: %s | | | |\n" "$spec" "$(grep -m1 -i error "$log" | cut -c1-80)"
  fi
  rm -f "$log"
done
