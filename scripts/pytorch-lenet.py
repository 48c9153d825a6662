#!/usr/bin/env python3
"""PyTorch's figures for the LeNet-5 rows of BENCHMARKS.md: the network of
conv-examples/lenet (conv 5x5 1->6 padding 2, ReLU, max pool 2; conv 5x5 6->16, ReLU, max pool 2;
flatten; 400->120 ReLU, 120->84 ReLU, 84->10; softmax cross-entropy; SGD, learning rate 0.05) in
float32 on one thread, on the same MNIST files (conv-examples/lenet/data), timed as
benches/lenet.rs times ours:

- inference: the logits of one image (batch 1, under torch.inference_mode), cycling through
  the first 256 training images;
- train-step: one SGD step on one image (zero_grad, forward, cross_entropy, backward, step);
- epoch: one epoch at batch 16 over the 8,004 training images in a fixed shuffled order (the
  last batch holds 4), the images already tensors (as ours are already arrays).

Each figure is the mean time per iteration over SAMPLES samples after a warm-up, as criterion's
mean. Training goes on from iteration to iteration, as in ours.

Writes JSON (times in ns) to the path given, or to stdout:

    {"tool": "scripts/pytorch-lenet.py", "torch": "2.15.0", "threads": 1,
     "ns": {"inference": ..., "train-step": ..., "epoch": ...}}

Usage: scripts/pytorch-setup.sh; target/pytorch-venv/bin/python scripts/pytorch-lenet.py [OUT]
(PYTORCH=1 scripts/bench.sh does both).
"""

import gzip
import json
import os
import struct
import sys
import time

# One thread, set before torch starts its pools.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "conv-examples", "lenet", "data")
LEARNING_RATE = 0.05
BATCH = 16
CYCLE = 256
SAMPLES = int(os.environ.get("SAMPLES", "10"))


def read_idx(path, magic):
    """The payload and dimensions of a gzip-compressed IDX file."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    found, = struct.unpack(">I", data[:4])
    if found != magic:
        raise ValueError(f"{path}: magic {found}, expected {magic}")
    ndim = magic & 0xFF
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    payload = data[4 + 4 * ndim :]
    count = 1
    for d in dims:
        count *= d
    if len(payload) != count:
        raise ValueError(f"{path}: {len(payload)} bytes of data, expected {count}")
    return payload, dims


def load(prefix):
    """Images as a float32 tensor [N, 1, 28, 28] in [0, 1], labels as int64 [N]."""
    images, (n, rows, cols) = read_idx(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz"), 2051)
    labels, (m,) = read_idx(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz"), 2049)
    if (rows, cols) != (28, 28) or n != m:
        raise ValueError(f"{prefix}: {n} images of {rows}x{cols}, {m} labels")
    x = torch.frombuffer(bytearray(images), dtype=torch.uint8).reshape(n, 1, 28, 28)
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).to(torch.int64)
    return x.to(torch.float32) / 255.0, y


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.f1(x))
        x = F.relu(self.f2(x))
        return self.f3(x)


def measure(step, iters, warm_up_s=0.5):
    """Mean ns per call of `step(i)` over SAMPLES samples of `iters` calls, after a warm-up."""
    start, i = time.perf_counter(), 0
    while time.perf_counter() - start < warm_up_s:
        step(i)
        i += 1
    total, calls = 0, 0
    for _ in range(SAMPLES):
        t0 = time.perf_counter_ns()
        for _ in range(iters):
            step(i)
            i += 1
        total += time.perf_counter_ns() - t0
        calls += iters
    return total / calls


def main():
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    x, y = load("train")
    net = LeNet5()
    params = sum(p.numel() for p in net.parameters())
    assert params == 61706, f"{params} parameters, LeNet-5 has 61,706"
    opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    singles = [(x[i : i + 1], y[i : i + 1]) for i in range(min(CYCLE, len(y)))]

    def infer(i):
        with torch.inference_mode():
            return net(singles[i % len(singles)][0])

    def train_step(i):
        xi, yi = singles[i % len(singles)]
        opt.zero_grad()
        loss = F.cross_entropy(net(xi), yi)
        loss.backward()
        opt.step()
        return loss

    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(1))
    xs, ys = x[order].contiguous(), y[order].contiguous()
    batches = [(xs[i : i + BATCH], ys[i : i + BATCH]) for i in range(0, len(ys), BATCH)]

    def epoch(_):
        for xb, yb in batches:
            opt.zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            opt.step()

    ns = {
        "inference": measure(infer, 2000),
        "train-step": measure(train_step, 500),
        "epoch": measure(epoch, 1, warm_up_s=1.0),
    }
    out = {
        "tool": "scripts/pytorch-lenet.py",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "samples": SAMPLES,
        "images": len(ys),
        "ns": ns,
    }
    text = json.dumps(out, indent=1)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text + "\n")
    print(
        f"pytorch {torch.__version__}, {out['threads']} thread: inference {ns['inference'] / 1e3:.1f} µs, "
        f"train step {ns['train-step'] / 1e3:.1f} µs, epoch {ns['epoch'] / 1e9:.3f} s",
        file=sys.stderr,
    )
    if len(sys.argv) <= 1:
        print(text)


if __name__ == "__main__":
    main()
