#!/usr/bin/env python3
"""An independent NumPy implementation of the DreamComp rule, written straight from
the rule as the crate README states it, in float64 like the original by default.

It shares no code with the Rust crate: it is the cross-check behind the README's
section on k100 (how far a faithful implementation lands from the original's table).

    python3 crates/manifold-dreamcomp/reference/dreamcomp.py --neurons 100 --epochs 15 \
        --batch 100 --recon 10 --xi 0.003 --seeds 0,1,2

prints, per seed, the test accuracy after every epoch and the final one. With
`--hold-out N` it trains on all but N random training images and also reports the test
accuracy of the epoch those N held-out images score best (model selection without the
test set).
"""
import argparse
import gzip
import os
import struct

import numpy as np


def read_idx(path):
    """An MNIST IDX file (gzipped or not) as uint8 rows (images) or a vector (labels)."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic == 2051:
        n, rows, cols = struct.unpack(">III", data[4:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)
    if magic == 2049:
        return np.frombuffer(data, np.uint8, offset=8)
    raise SystemExit(f"{path}: not an MNIST IDX file (magic {magic})")


def load_mnist(directory):
    def one(stem):
        for name in (stem + ".gz", stem):
            path = os.path.join(directory, name)
            if os.path.exists(path):
                return read_idx(path)
        raise SystemExit(f"{os.path.join(directory, stem)}[.gz]: not found")

    return (
        one("train-images-idx3-ubyte") / 255.0,
        one("train-labels-idx1-ubyte"),
        one("t10k-images-idx3-ubyte") / 255.0,
        one("t10k-labels-idx1-ubyte"),
    )


def step(w, v, xi, zeta):
    """One minibatch: S = w·Vᵀ, winners by argmax, M normalised by win counts,
    w += ξ ⊙ (M·V − (Σ_b S⊙M)_k · w / ζ). Dense, as the spec writes it."""
    k, b = w.shape[0], v.shape[0]
    s = w @ v.T
    m = np.zeros((k, b), w.dtype)
    m[s.argmax(0), np.arange(b)] = 1
    m /= np.maximum(1, m.sum(1, keepdims=True))
    w += xi * (m @ v - (s * m).sum(1, keepdims=True) * w / zeta)


def test_accuracy(w, x, y):
    """Neuron class = argmax of its label synapses; prediction = class of the neuron
    whose pixel synapses best match the image."""
    classes = w[:, 784:].argmax(1)
    return 100.0 * (classes[(x @ w[:, :784].T).argmax(1)] == y).mean()


def train(data, neurons, epochs, batch, recon, xi, c_xi, seed, dtype, hold_out=0):
    """Test accuracy after each epoch, and the held-out accuracy (empty without hold-out)."""
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(seed)
    x_held, y_held = x_train[:0], y_train[:0]
    if hold_out:
        perm = rng.permutation(len(x_train))
        held, kept = perm[:hold_out], perm[hold_out:]
        x_held, y_held = x_train[held].astype(dtype), y_train[held]
        x_train, y_train = x_train[kept], y_train[kept]
    v_all = np.concatenate([x_train, np.eye(10)[y_train]], 1).astype(dtype)
    x_test = x_test.astype(dtype)
    width = v_all.shape[1]
    w = rng.random((neurons, width)).astype(dtype)
    zeta = np.ones(width, dtype)
    zeta[784:] = recon
    rates = np.full(width, xi, dtype)
    rates[784:] = c_xi
    accuracies, held_accuracies = [], []
    for _ in range(epochs):
        order = rng.permutation(len(v_all))
        for i in range(len(v_all) // batch):
            step(w, v_all[order[i * batch : (i + 1) * batch]], rates, zeta)
        accuracies.append(test_accuracy(w, x_test, y_test))
        if hold_out:
            held_accuracies.append(test_accuracy(w, x_held, y_held))
    return accuracies, held_accuracies


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../assets/mnist")
    p.add_argument("--mnist", default=os.environ.get("MNIST_DIR", shipped),
                   help="MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist)")
    p.add_argument("--neurons", type=int, default=100)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--recon", type=float, default=10.0)
    p.add_argument("--xi", type=float, default=0.003)
    p.add_argument("--c-xi", type=float, help="label-synapse rate (default: = xi)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--hold-out", type=int, default=0,
                   help="training images held out to choose the epoch (default 0: none)")
    a = p.parse_args()
    data = load_mnist(a.mnist)
    finals, chosen = [], []
    for seed in (int(s) for s in a.seeds.split(",")):
        acc, held = train(data, a.neurons, a.epochs, a.batch, a.recon, a.xi,
                          a.xi if a.c_xi is None else a.c_xi, seed, np.dtype(a.dtype), a.hold_out)
        finals.append(acc[-1])
        line = f"seed {seed}: final {acc[-1]:.2f}%  per epoch " + " ".join(f"{x:.2f}" for x in acc)
        if held:
            best = int(np.argmax(held))  # the first of equal held-out scores
            chosen.append(acc[best])
            line += f"  held-out choice: epoch {best + 1}, test {acc[best]:.2f}%"
        print(line, flush=True)
    print(f"mean {np.mean(finals):.2f}%, sd {np.std(finals, ddof=1) if len(finals) > 1 else 0:.2f}, "
          f"min {min(finals):.2f}, max {max(finals):.2f} over {len(finals)} seeds")
    if chosen:
        print(f"epoch chosen on the {a.hold_out} held-out images: mean test {np.mean(chosen):.2f}%")


if __name__ == "__main__":
    main()
