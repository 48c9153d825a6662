#!/usr/bin/env bash
# Compile budget of one generated layer: builds a scratch crate holding only that layer and
# reports wall time and peak memory (max RSS of cargo and rustc) of its own build, debug and
# release, in three forms:
#   macro     `#[conv2d(...)] pub struct Layer;` (expansion, proof and code generation)
#   expanded  the expansion pasted as source, with the compile-time proof
#   no-proof  the expansion without the compile-time proof
# Each crate also holds a plain `pub fn` calling `forward` and `backward`, so that the
# (`#[inline]`) generated functions are compiled to machine code as in a crate that uses them.
# Dependencies are built first and not counted.
#
# Usage: scripts/compile-budget.sh ["input = 28x28, kernel = 5x5" ...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=("input = 5x5, kernel = 3x3" "input = 28x28, kernel = 5x5")
work="$root/target/compile-budget"
mkdir -p "$work"
cargo build -q --manifest-path "$root/Cargo.toml" --example expand

measure() { # dir profile -> "seconds, peak MB" or "fails"
  local dir=$1 profile=$2 out
  (cd "$dir" && CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$work/target" cargo build -q --profile "$profile" >/dev/null 2>&1) || true
  touch "$dir/src/lib.rs"
  if out=$(cd "$dir" && CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$work/target" /usr/bin/time -f "%e %M" cargo build -q --profile "$profile" 2>&1 >/dev/null); then
    echo "$out" | tail -1 | awk '{ printf "%.2f s, %.0f MB", $1, $2 / 1024 }'
  else
    printf "fails: %s" "$(echo "$out" | grep -m1 '^error' | cut -c1-80)"
  fi
}

printf "| layer | form | debug | release |\n|---|---|---|---|\n"
for spec in "${specs[@]}"; do
  for form in macro expanded no-proof; do
    dir="$work/crate-$form"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "budget-$form"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
conv-runtime = { path = "$root/conv-runtime" }
[workspace]
TOML
    case $form in
      macro) printf '#[conv_runtime::conv2d(%s)]\npub struct Layer;\n' "$spec" > "$dir/src/lib.rs" ;;
      expanded) "$root/target/debug/examples/expand" "$spec" > "$dir/src/lib.rs" 2>/dev/null || { printf "| %s | %s | rejected | rejected |\n" "$spec" "$form"; continue; } ;;
      no-proof) "$root/target/debug/examples/expand" "$spec" --no-check > "$dir/src/lib.rs" 2>/dev/null || { printf "| %s | %s | rejected | rejected |\n" "$spec" "$form"; continue; } ;;
    esac
    cat >> "$dir/src/lib.rs" <<'RUST'

type L = Layer;
type X = <L as ::conv_runtime::Conv2d>::Input;
type K = <L as ::conv_runtime::Conv2d>::Kernel;
type B = <L as ::conv_runtime::Conv2d>::Bias;
type U = <L as ::conv_runtime::Conv2d>::Output;

/// Makes rustc generate machine code for the layer.
pub fn run(x: &X, k: &K, b: &B, delta: &U) -> (U, ::conv_runtime::Gradients<X, K, B>) {
    (
        <L as ::conv_runtime::Conv2d>::forward(x, k, b),
        <L as ::conv_runtime::Conv2d>::backward(x, k, delta),
    )
}
RUST
    printf "| %s | %s | %s | %s |\n" "$spec" "$form" "$(measure "$dir" dev)" "$(measure "$dir" release)"
  done
done
