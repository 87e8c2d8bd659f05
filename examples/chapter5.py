"""Chapter 5's vanishing-gradient experiment and its depth table (network2 settings).

    python examples/chapter5.py speed     # per-layer speed of learning ‖δ^l‖ during training, 1-4 hidden layers
    python examples/chapter5.py depth     # 1-4 hidden layers of 30: best validation accuracy, 30 epochs, 3 seeds
    python examples/chapter5.py all --quick   # both, briefly (as the tests run it)

speed: the book's generate_gradient.py. Networks [784, 30, …, 30, 10] (sigmoid, cross-entropy,
network2's default initialisation) train on the first 1,000 training images by full-batch
gradient descent (one mini-batch of 1,000 per epoch), η 0.1, λ 5. Before each epoch the
speed of learning of hidden layer l is ‖δ^l‖, the norm of the bias gradient ∂C/∂b^l averaged
over the 1,000 images (no regularization term: biases are not penalised). It prints the
initial values beside the book's and plots the curves to --out/ch5_speed_of_learning.png.

depth: network2 runs of 30 epochs, mini-batch 10, η 0.1, λ 5 on full MNIST, validation
accuracy, as one vmapped jaxnn.sweep over --seeds for each depth.
"""

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import plotting
from jaxnn.backprop import net_backprop

ROOT = Path(__file__).resolve().parent.parent
#: the book's initial ‖δ^l‖, first hidden layer first (chapter 5); not given for one hidden layer.
BOOK_INITIAL = {1: None, 2: (0.07, 0.31), 3: (0.012, 0.060, 0.283), 4: (0.003, 0.017, 0.070, 0.285)}
#: the book's validation accuracies for 1-4 hidden layers of 30.
BOOK_DEPTH = {1: "96.48%", 2: "96.90%", 3: "96.57%", 4: "96.53%"}
MODEL = jaxnn.make_model("sigmoid", cost="cross-entropy")


def sizes_for(hidden: int):
    return [784] + [30] * hidden + [10]


@jax.jit
def _bias_norms(params, x, y):
    grads = net_backprop(jaxnn.mlp(jaxnn.sizes_of(params), MODEL), params, x, y)
    return jnp.stack([jnp.linalg.norm(g["b"]) for g in grads[:-1]])


def speed_of_learning(hidden: int, epochs: int, seed: int, n: int = 1000, eta: float = 0.1, lmbda: float = 5.0):
    """``(epochs + 1, hidden)``: ‖δ^l‖ of each hidden layer before each epoch and after the last."""
    d = jaxnn.load_mnist()
    x = jnp.asarray(d.training.x[:n])
    y = jax.nn.one_hot(jnp.asarray(d.training.y[:n]), 10, dtype=x.dtype)
    params = jaxnn.init_params(jax.random.key(seed), sizes_for(hidden), "default")
    norms = [np.asarray(_bias_norms(params, x, y))]

    def record(epoch, params, history):
        norms.append(np.asarray(_bias_norms(params, x, y)))

    if epochs:
        jaxnn.sgd(
            params,
            (x, d.training.y[:n]),
            epochs,
            n,
            eta,
            key=seed + 1,
            cost="cross-entropy",
            lmbda=lmbda,
            monitor_evaluation_accuracy=False,
            callback=record,
        )
    return np.stack(norms)


def speed(a):
    epochs = a.epochs if a.epochs is not None else (10 if a.quick else 500)
    depths = (1, 2) if a.quick else (1, 2, 3, 4)
    start = time.perf_counter()
    seeds = a.seeds[:1] if a.quick else a.seeds
    runs = {h: [speed_of_learning(h, epochs, s) for s in seeds] for h in depths}
    print(
        f"# speed of learning: 1,000 images, full-batch GD, η 0.1, λ 5, {epochs} epochs, seeds {seeds} "
        f"({time.perf_counter() - start:.0f} s)"
    )
    print("| hidden layers | book's initial ‖δ^l‖ (layer 1 first) | jaxnn initial ‖δ^l‖, mean over seeds | per seed |")
    print("| --- | --- | --- | --- |")
    for h, r in runs.items():
        book = ", ".join(f"{v:g}" for v in BOOK_INITIAL[h]) if BOOK_INITIAL[h] else "—"
        init = np.stack([x[0] for x in r])
        per_seed = "; ".join(", ".join(f"{v:.3f}" for v in row) for row in init)
        print(f"| {h} | {book} | {', '.join(f'{v:.3f}' for v in init.mean(axis=0))} | {per_seed} |")
    print(
        "| hidden layers | ‖δ^l‖ after the last epoch, seed "
        + str(seeds[0])
        + " | ratio last/first layer, initial → final |"
    )
    print("| --- | --- | --- |")
    for h, r in runs.items():
        n0, n1 = r[0][0], r[0][-1]
        print(f"| {h} | {', '.join(f'{v:.2g}' for v in n1)} | {n0[-1] / n0[0]:.1f} → {n1[-1] / n1[0]:.1f} |")
    if a.out and plotting.available():
        rows = 1 if len(depths) <= 2 else 2
        fig, axes = plotting.subplots(rows, -(-len(depths) // rows), width=4.2, height=3.2, squeeze=False)
        for ax, (h, r) in zip(axes.flat, runs.items()):
            for l in range(h):
                ax.plot(np.arange(len(r[0])), r[0][:, l], label=f"hidden layer {l + 1}")
            ax.set_yscale("log")
            ax.set_title(f"{h} hidden layer{'s' if h > 1 else ''} of 30")
            ax.set_xlabel("epoch (full-batch step)")
            ax.legend(fontsize=7)
        for ax in axes[:, 0]:
            ax.set_ylabel(r"speed of learning $\|\delta^l\|$")
        path = plotting.save(fig, Path(a.out) / "ch5_speed_of_learning.png")
        print(f"# figure: {path}")
    return runs


def depth(a):
    d = jaxnn.load_mnist()
    train, val = d.training, d.validation
    epochs = a.epochs if a.epochs is not None else (1 if a.quick else 30)
    seeds = a.seeds[:1] if a.quick else a.seeds
    if a.quick:
        train, val = jaxnn.Split(train.x[:1000], train.y[:1000]), jaxnn.Split(val.x[:1000], val.y[:1000])
    print(
        f"# depth: network2, cross-entropy, default init, {epochs} epochs, mini-batch 10, η 0.1, λ 5, "
        f"{len(train)} training images, validation accuracy, seeds {seeds}"
    )
    print(
        "| hidden layers of 30 | book | jaxnn best validation, mean ± sd | final epoch, mean | per seed (best) | time |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    out = {}
    for h in (1, 2) if a.quick else (1, 2, 3, 4):
        start = time.perf_counter()
        res = jaxnn.sweep(
            sizes_for(h), train, epochs, 10, 0.1, seeds=seeds, lmbda=5.0, cost="cross-entropy", evaluation_data=val
        )
        best, final = 100 * res.best_accuracy, 100 * res.final_accuracy
        sd = f" ± {best.std(ddof=1):.2f}" if len(best) > 1 else ""
        print(
            f"| {h} | {BOOK_DEPTH[h]} | {best.mean():.2f}%{sd} | {final.mean():.2f}% | "
            f"{', '.join(f'{b:.2f}' for b in best)} | {time.perf_counter() - start:.0f} s |",
            flush=True,
        )
        out[h] = best
    return out


EXPERIMENTS = {"speed": speed, "depth": depth}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("experiment", choices=[*EXPERIMENTS, "all"])
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the book's, 500 for speed, 30 for depth)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--seed", type=int, default=None, help="a single seed (overrides --seeds)")
    p.add_argument("--quick", action="store_true", help="few epochs, little data, one or two depths")
    p.add_argument("--out", default=str(ROOT / "docs" / "figures"), help="folder for the figure ('' for none)")
    a = p.parse_args(argv)
    if a.seed is not None:
        a.seeds = [a.seed]
    sys.stdout.reconfigure(line_buffering=True)
    for name in EXPERIMENTS if a.experiment == "all" else [a.experiment]:
        EXPERIMENTS[name](a)


if __name__ == "__main__":
    sys.exit(main())
