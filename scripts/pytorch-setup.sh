#!/usr/bin/env bash
# Creates a Python virtualenv under `target/pytorch-venv` holding PyTorch for
# `scripts/pytorch-lenet.py`, the peer of the LeNet-5 benchmarks. Only run when asked
# (`PYTORCH=1 scripts/bench.sh` runs it); never in CI: the wheels are several hundred MB (CPU
# build) to a few GB (the PyPI build, which brings CUDA libraries it does not use here).
#
# CPU wheels from PyTorch's own index when it is reachable, else torch from PyPI. Idempotent: an
# existing venv whose torch imports is kept. Prints the venv's python on the last line.
#
# Usage: scripts/pytorch-setup.sh     (TORCH_SPEC=torch==2.15.* by default)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${PYTORCH_VENV:-$root/target/pytorch-venv}"
spec="${TORCH_SPEC:-torch==2.15.*}"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
if ! "$venv/bin/python" -m pip install --quiet --timeout 20 --retries 1 \
  --index-url https://download.pytorch.org/whl/cpu "$spec" numpy >&2; then
  echo "PyTorch's CPU index is not reachable or lacks $spec; installing from PyPI" >&2
  "$venv/bin/python" -m pip install --quiet "$spec" numpy >&2
fi
"$venv/bin/python" -c "import torch; print('torch', torch.__version__, file=__import__('sys').stderr)"
echo "$venv/bin/python"
