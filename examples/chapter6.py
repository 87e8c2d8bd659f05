"""Chapter 6's convolutional networks (network3), each configuration of the book's table.

    python examples/chapter6.py fc            # FC100 sigmoid + softmax, 60 epochs, η 0.1: 97.80% in the book
    python examples/chapter6.py one-conv      # + ConvPool(20 filters 5×5, pool 2): 98.78%
    python examples/chapter6.py two-conv      # + a second ConvPool (40 filters): 99.06%
    python examples/chapter6.py relu          # ReLU, η 0.03, λ 0.1: 99.23%
    python examples/chapter6.py expanded      # the same on expanded MNIST (250,000 images): 99.37%
    python examples/chapter6.py dropout       # expanded, FC1000-FC1000-softmax, dropout 0.5, 40 epochs: 99.60%
    python examples/chapter6.py ensemble      # 5 of the dropout nets, plurality vote: 99.67%
    python examples/chapter6.py one-conv --quick   # 1,000 images, 2 epochs (as the tests run it)
    python examples/chapter6.py plot LOG...        # saved outputs' validation curves -> docs/figures/ch6_validation.png

Every run follows network3: mini-batch 10, the training data in order, incomplete batches
dropped, L2 scaled by λ/(n // m), and the reported figure is the test accuracy at the epoch
of best validation accuracy (the later epoch on a tie). Each epoch prints network3's lines;
the run ends with a markdown row: configuration, book, jaxnn, best epoch, seconds per epoch.
"""

import argparse
import sys
import time

import jax
import numpy as np

import jaxnn
from jaxnn.convnet import ensemble_predict
from jaxnn.layers import ConvPool, FullyConnected, Softmax

IN_SHAPE = (1, 28, 28)


def _one_conv(act="sigmoid"):
    return [ConvPool(20, 5, 2, act), FullyConnected(100, act), Softmax(10)]


def _two_conv(act="sigmoid"):
    return [ConvPool(20, 5, 2, act), ConvPool(40, 5, 2, act), FullyConnected(100, act), Softmax(10)]


def _dropout_net():
    return [
        ConvPool(20, 5, 2, "relu"),
        ConvPool(40, 5, 2, "relu"),
        FullyConnected(1000, "relu", 0.5),
        FullyConnected(1000, "relu", 0.5),
        Softmax(10, 0.5),
    ]


#: name -> (description, layers, epochs, eta, lmbda, expanded data, book's figure)
CONFIGS = {
    "fc": ("FC100 sigmoid + softmax, η 0.1", lambda: [FullyConnected(100), Softmax(10)], 60, 0.1, 0.0, False, "97.80%"),
    "one-conv": (
        "ConvPool(20, 5×5, pool 2) + FC100 + softmax, sigmoid, η 0.1",
        _one_conv,
        60,
        0.1,
        0.0,
        False,
        "98.78%",
    ),
    "two-conv": (
        "2 ConvPool (20, 40 filters) + FC100 + softmax, sigmoid, η 0.1",
        _two_conv,
        60,
        0.1,
        0.0,
        False,
        "99.06%",
    ),
    "relu": (
        "2 ConvPool + FC100 + softmax, ReLU, η 0.03, λ 0.1",
        lambda: _two_conv("relu"),
        60,
        0.03,
        0.1,
        False,
        "99.23%",
    ),
    "expanded": ("the ReLU net on expanded MNIST (250k)", lambda: _two_conv("relu"), 60, 0.03, 0.1, True, "99.37%"),
    "dropout": (
        "expanded, 2 ConvPool + FC1000-FC1000-softmax ReLU, dropout 0.5, η 0.03, λ 0.1",
        _dropout_net,
        40,
        0.03,
        0.1,
        True,
        "99.60%",
    ),
}
ENSEMBLE_BOOK = "99.67%"

#: quick mode: this many training images and epochs, 500 validation and test images.
QUICK_N, QUICK_EPOCHS, QUICK_EVAL = 1000, 2, 500


def load(expanded: bool, quick: bool):
    d = jaxnn.load_mnist()
    if expanded:
        if quick:  # a small deterministic stand-in: the first images and their 1-pixel shifts
            d = d._replace(training=_shifted(d.training.x[: QUICK_N // 5], d.training.y[: QUICK_N // 5]))
        else:
            from jaxnn.data.expanded import load_expanded_mnist  # imported only when used

            d = load_expanded_mnist()
    if quick:
        cut = lambda s, n: jaxnn.Split(s.x[:n], s.y[:n])  # noqa: E731
        d = jaxnn.Dataset(cut(d.training, QUICK_N), cut(d.validation, QUICK_EVAL), cut(d.test, QUICK_EVAL))
    return d


def _shifted(x, y):
    """x and its 1-pixel shifts up, down, left and right with zero fill (quick mode only)."""
    img = np.asarray(x).reshape(-1, 28, 28)
    out = [img]
    for axis, step in ((1, -1), (1, 1), (2, -1), (2, 1)):
        s = np.roll(img, step, axis=axis)
        edge = [slice(None)] * 3
        edge[axis] = 0 if step == 1 else -1
        s[tuple(edge)] = 0
        out.append(s)
    return jaxnn.Split(np.concatenate(out).reshape(len(out) * len(img), -1), np.concatenate([np.asarray(y)] * 5))


def network3_lines(epoch, params, hist):
    """Prints network3's lines after each epoch (validation, and test at a new best)."""
    print(f"Epoch {epoch}: validation accuracy {hist.evaluation_accuracy[-1]:.2%}")
    if hist.test_correct[-1] is not None:  # measured, as network3 does, when validation is at least the best
        print("This is the best validation accuracy to date.")
        print(f"The corresponding test accuracy is {hist.test_accuracy[-1]:.2%}")


def train_one(name, a, seed, data=None):
    desc, make, epochs, eta, lmbda, expanded, book = CONFIGS[name]
    epochs = a.epochs if a.epochs is not None else (QUICK_EPOCHS if a.quick else epochs)
    d = data if data is not None else load(expanded, a.quick)
    net = jaxnn.conv_net(make(), IN_SHAPE)
    params = jaxnn.init_network(jax.random.key(seed), net)
    print(
        f"# {name}: {desc}; {epochs} epochs, mini-batch 10, {len(d.training)} training images, seed {seed}, "
        f"gradient {a.gradient}",
        flush=True,
    )
    start = time.perf_counter()
    params, hist = jaxnn.sgd(
        params,
        d.training,
        epochs,
        10,
        eta,
        key=seed + 1,
        net=net,
        lmbda=lmbda,
        evaluation_data=d.validation,
        test_data=d.test,
        gradient=a.gradient,
        callback=network3_lines,
        **jaxnn.NETWORK3,
    )
    wall = time.perf_counter() - start
    print(f"# seconds per epoch: {', '.join(f'{s:.1f}' for s in hist.seconds)}", flush=True)
    return net, params, hist, wall, d


def row(name, desc, book, epochs, acc, best_epoch, sec):
    return f"| {name}: {desc}, {epochs} epochs | {book} | {acc:.2%} | {best_epoch} | {sec:.1f} s |"


HEADER = (
    "| configuration | book | jaxnn (test at best validation epoch) | best epoch | s/epoch (after the first) |\n"
    "| --- | --- | --- | --- | --- |"
)


def run_config(name, a):
    net, params, hist, wall, _ = train_one(name, a, a.seed)
    desc, _, _, _, _, _, book = CONFIGS[name]
    best_epoch, val, test = hist.best_validation()
    sec = float(np.mean(hist.seconds[1:])) if len(hist.seconds) > 1 else hist.seconds[0]
    print(f"# best validation {val:.2%} at epoch {best_epoch}; its test accuracy {test:.2%}; wall {wall:.0f} s")
    print(HEADER)
    print(row(name, desc, book, len(hist.epoch), test, best_epoch, sec), flush=True)
    return test


def run_ensemble(a):
    """Trains ``--members`` dropout nets (seeds seed, seed+1, ...) and lets them vote."""
    d = load(True, a.quick)
    members = []
    for i in range(a.members):
        net, params, hist, _, _ = train_one("dropout", a, a.seed + i, data=d)
        members.append((net, params))
        print(f"# member {i}: test {hist.best_validation()[2]:.2%} at its best validation epoch", flush=True)
    # network3's ensemble votes with each member's final parameters.
    votes = ensemble_predict(members, d.test.x)
    acc = float(np.mean(np.asarray(votes) == np.asarray(d.test.y)))
    singles = [float(np.mean(np.asarray(ensemble_predict([m], d.test.x)) == np.asarray(d.test.y))) for m in members]
    print(f"# members' final test accuracies: {', '.join(f'{s:.2%}' for s in singles)}")
    print(HEADER)
    epochs = a.epochs if a.epochs is not None else (QUICK_EPOCHS if a.quick else CONFIGS["dropout"][2])
    print(
        f"| ensemble: plurality vote of {a.members} dropout nets, {epochs} epochs each | {ENSEMBLE_BOOK} | "
        f"{acc:.2%} | final | - |",
        flush=True,
    )
    return acc


def plot_logs(paths, out):
    """Plots the validation accuracy per epoch from the saved output of runs of this script."""
    import re
    from pathlib import Path

    from jaxnn import plotting

    fig, ax = plotting.subplots(width=6.0, height=3.6)
    for path in paths:
        text = Path(path).read_text()
        head = re.search(r"^# ([\w-]+): ", text, re.M)
        vals = [float(v) for v in re.findall(r"^[Ee]poch \d+: validation (?:accuracy )?([\d.]+)%", text, re.M)]
        if not head or not vals:
            raise SystemExit(f"{path}: no per-epoch lines of examples/chapter6.py found")
        ax.plot(np.arange(len(vals)), vals, label=f"{head.group(1)} (book {CONFIGS[head.group(1)][-1]})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_ylim(97, 100)
    ax.grid(alpha=0.3)
    ax.legend()
    print(f"# figure: {plotting.save(fig, Path(out) / 'ch6_validation.png')}")


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["plot"]:  # python examples/chapter6.py plot LOG... [--out DIR]
        p = argparse.ArgumentParser(description="plot saved runs' validation accuracy")
        p.add_argument("logs", nargs="+")
        p.add_argument("--out", default="docs/figures")
        a = p.parse_args(argv[1:])
        return plot_logs(a.logs, a.out)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", choices=[*CONFIGS, "ensemble"])
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the book's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help=f"{QUICK_N} training images, {QUICK_EPOCHS} epochs")
    p.add_argument("--gradient", choices=["backprop", "autodiff"], default="backprop")
    p.add_argument("--members", type=int, default=5, help="ensemble size")
    a = p.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # per-epoch lines reach a log file as they happen
    if a.config == "ensemble":
        run_ensemble(a)
    else:
        run_config(a.config, a)


if __name__ == "__main__":
    sys.exit(main())
