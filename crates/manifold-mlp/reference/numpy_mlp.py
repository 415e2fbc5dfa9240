"""The MLP's control in NumPy: the same 784-16-16-10 network (He initialisation, ReLU,
softmax cross-entropy), the same Adam (lr 1e-3, beta 0.9 / 0.999, eps 1e-8) and the same
minibatch of 32, in float32, written by hand. Times whole epochs over the 60 000 MNIST
training images and writes the median to JSON, for comparison with `manifold bench mlp`.

    python3 crates/manifold-mlp/reference/numpy_mlp.py [MNIST_DIR] [--repeats 3] [--json FILE]
"""

import argparse
import gzip
import json
import os
import time

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory):
    def find(stem):
        for name in (stem, stem + ".gz"):
            path = os.path.join(directory, name)
            if os.path.exists(path):
                return path
        raise SystemExit(f"{directory}: no {stem}(.gz)")

    x = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y = read_idx(find("train-labels-idx1-ubyte")).astype(np.int64)
    return x, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mnist", nargs="?", default=os.environ.get("MNIST_DIR", "assets/mnist"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--json", default="bench/mlp-numpy.json")
    args = parser.parse_args()
    x, y = load(args.mnist)
    rng = np.random.default_rng(0)
    widths = [784, 16, 16, 10]
    params = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        params.append(rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out)).astype(np.float32))
        params.append(np.zeros(fan_out, np.float32))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    t = 0

    def step(xb, yb):
        nonlocal t
        w1, c1, w2, c2, w3, c3 = params
        h1 = np.maximum(xb @ w1 + c1, 0)
        h2 = np.maximum(h1 @ w2 + c2, 0)
        z = h2 @ w3 + c3
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        n = len(yb)
        loss = -np.log(p[np.arange(n), yb]).mean()
        dz = p
        dz[np.arange(n), yb] -= 1
        dz /= n
        grads = [None] * 6
        grads[4], grads[5] = h2.T @ dz, dz.sum(0)
        d2 = (dz @ w3.T) * (h2 > 0)
        grads[2], grads[3] = h1.T @ d2, d2.sum(0)
        d1 = (d2 @ w2.T) * (h1 > 0)
        grads[0], grads[1] = xb.T @ d1, d1.sum(0)
        t += 1
        for k, g in enumerate(grads):
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            mh = m[k] / (1 - b1**t)
            vh = v[k] / (1 - b2**t)
            params[k] -= (lr * mh / (np.sqrt(vh) + eps)).astype(np.float32)
        return loss

    times = []
    for epoch in range(args.repeats + 1):
        order = np.random.default_rng(epoch).permutation(len(x))
        started = time.perf_counter()
        for s in range(0, len(x), args.batch):
            idx = order[s:s + args.batch]
            step(x[idx], y[idx])
        if epoch > 0:
            times.append(time.perf_counter() - started)
    report = {
        "benchmark": "mlp one epoch in NumPy (60 000 images, forward + backward + Adam)",
        "numpy": np.__version__,
        "batch": args.batch,
        "epoch_seconds": times,
        "median_epoch_seconds": float(np.median(times)),
    }
    os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
    print(f"numpy mlp: median epoch {report['median_epoch_seconds']:.3f} s at batch {args.batch} — {args.json}")


if __name__ == "__main__":
    main()
