"""Chapter 3's results and the study notes' experiments, each run as one vmapped sweep over seeds.

    python examples/chapter3.py cross-entropy   # 95.49% / 96.82% in the book
    python examples/chapter3.py l2              # λ = 5: 96.49% test; [784,100,10] 97.92% / 98.04% val
    python examples/chapter3.py overfitting     # 1,000 images, 400 epochs: 82.27% (λ 0) / 87.1% (λ 0.1)
    python examples/chapter3.py init            # new vs old initialisation, per-epoch validation accuracy
    python examples/chapter3.py costs           # quadratic vs cross-entropy vs softmax log-likelihood
    python examples/chapter3.py l1-l2           # the notes' L1/L2 λ table
    python examples/chapter3.py dropout         # the notes' dropout keep-probability table
    python examples/chapter3.py all --quick     # everything, briefly (as the tests run it)

Every experiment prints a markdown table (mean ± sd over seeds) beside the book's or the
notes' figure, and, with matplotlib installed, writes its figure to --out (docs/figures).
"""

import argparse
import time
from pathlib import Path

import numpy as np

import jaxnn
from jaxnn import plotting

DATA = None


def data():
    global DATA
    if DATA is None:
        DATA = jaxnn.load_mnist()
    return DATA


def sweep(sizes, epochs, eta, seeds, *, train=None, evaluation="test", **kw):
    d = data()
    start = time.perf_counter()
    res = jaxnn.sweep(
        sizes, train or d.training, epochs, 10, eta, seeds=seeds, evaluation_data=getattr(d, evaluation), **kw
    )
    res.wall = time.perf_counter() - start
    return res


def pct(values):
    values = 100 * np.asarray(values)
    sd = f" ± {values.std(ddof=1):.2f}" if len(values) > 1 else ""
    return f"{values.mean():.2f}%{sd}"


def row(name, book, res, which="best"):
    acc = res.best_accuracy if which == "best" else res.final_accuracy
    return f"| {name} | {book} | {pct(acc)} | {', '.join(f'{100 * a:.2f}' for a in acc)} | {res.wall:.0f} s |"


HEADER = "| configuration | book | jaxnn, mean ± sd | per seed | time (sweep) |\n| --- | --- | --- | --- | --- |"


def cross_entropy(a):
    print(HEADER)
    for hidden, book in ((30, "95.49%"), (100, "96.82%")):
        res = sweep([784, hidden, 10], a.epochs or 30, 0.5, a.seeds, cost="cross-entropy", init="large")
        print(row(f"[784,{hidden},10] cross-entropy, large init, η 0.5, {a.epochs or 30} epochs, best test", book, res))


def l2(a):
    print(HEADER)
    res = sweep([784, 30, 10], a.epochs or 30, 0.5, a.seeds, cost="cross-entropy", init="large", lmbda=5.0)
    print(row(f"[784,30,10] λ 5, η 0.5, {a.epochs or 30} epochs, best test", "96.49%", res))
    res = sweep(
        [784, 100, 10],
        a.epochs or 30,
        0.5,
        a.seeds,
        cost="cross-entropy",
        init="large",
        lmbda=5.0,
        evaluation="validation",
    )
    print(row(f"[784,100,10] λ 5, η 0.5, {a.epochs or 30} epochs, best validation", "97.92% val", res))
    res = sweep(
        [784, 100, 10],
        a.epochs or 60,
        0.1,
        a.seeds,
        cost="cross-entropy",
        init="large",
        lmbda=5.0,
        evaluation="validation",
    )
    print(row(f"[784,100,10] λ 5, η 0.1, {a.epochs or 60} epochs, best validation", "98.04% val", res))


def overfitting(a):
    d = data()
    train = jaxnn.Split(d.training.x[:1000], d.training.y[:1000])
    epochs = a.epochs or 400
    print(HEADER)
    results = {}
    for lmbda, book in ((0.0, "82.27%"), (0.1, "87.1%")):
        res = sweep(
            [784, 30, 10],
            epochs,
            0.5,
            a.seeds,
            train=train,
            cost="cross-entropy",
            init="large",
            lmbda=lmbda,
            monitor_training_cost=True,
        )
        results[lmbda] = res
        print(row(f"1,000 images, λ {lmbda}, η 0.5, {epochs} epochs, best test", book, res))
        final = res.final_accuracy
        print(f"|  final epoch | | {pct(final)} | | |")
    if plotting.available():
        fig, (ax1, ax2) = plotting.subplots(1, 2, width=4.5)
        for lmbda, res in results.items():
            ax1.plot(res.training_cost.mean(0), label=f"λ = {lmbda}")
            ax2.plot(100 * res.evaluation_correct.mean(0) / res.evaluation_size, label=f"λ = {lmbda}")
        ax1.set(xlabel="epoch", ylabel="training cost", title="cost on the 1,000 training images")
        ax2.set(xlabel="epoch", ylabel="test accuracy (%)", title="accuracy on the test data")
        ax1.legend(), ax2.legend()
        print("figure:", plotting.save(fig, Path(a.out) / "ch3_overfitting.png"))


def init(a):
    epochs = a.epochs or 30
    curves = {}
    print("| initialisation | book, epoch 0 → last | jaxnn epoch 0 (mean) | jaxnn last epoch (mean ± sd) | best |")
    print("| --- | --- | --- | --- | --- |")
    for name, book in (("default", "92.70 → 96.50"), ("large", "86.43 → 96.37")):
        res = sweep(
            [784, 30, 10], epochs, 0.1, a.seeds, cost="cross-entropy", init=name, lmbda=5.0, evaluation="validation"
        )
        acc = res.evaluation_correct / res.evaluation_size
        curves[name] = 100 * acc.mean(0)
        print(f"| {name} | {book} | {100 * acc[:, 0].mean():.2f}% | {pct(acc[:, -1])} | {pct(res.best_accuracy)} |")
    print("per-epoch validation accuracy (mean over seeds):")
    for name, c in curves.items():
        print(f"  {name:8s}", " ".join(f"{v:.2f}" for v in c))
    if plotting.available():
        fig, ax = plotting.subplots(width=6)
        for name, c in curves.items():
            ax.plot(c, label=f"{name} init")
        ax.set(xlabel="epoch", ylabel="validation accuracy (%)", title="[784,30,10], η 0.1, λ 5")
        ax.legend()
        print("figure:", plotting.save(fig, Path(a.out) / "ch3_init.png"))


def costs(a):
    epochs = a.epochs or 5
    runs = {
        "quadratic (sigmoid out, η 3.0)": dict(cost="quadratic", eta=3.0),
        "cross-entropy (sigmoid out, η 0.5)": dict(cost="cross-entropy", eta=0.5),
        "log-likelihood (softmax out, η 0.5)": dict(cost="log-likelihood", output_activation="softmax", eta=0.5),
    }
    print("| cost | training cost per epoch (mean) | test accuracy per epoch (mean, %) | best (mean ± sd) |")
    print("| --- | --- | --- | --- |")
    curves = {}
    for name, kw in runs.items():
        eta = kw.pop("eta")
        res = sweep([784, 30, 10], epochs, eta, a.seeds, monitor_training_cost=True, **kw)
        acc = 100 * res.evaluation_correct.mean(0) / res.evaluation_size
        curves[name] = (res.training_cost.mean(0), acc)
        print(
            f"| {name} | {', '.join(f'{c:.4f}' for c in res.training_cost.mean(0))} | "
            f"{', '.join(f'{v:.2f}' for v in acc)} | {pct(res.best_accuracy)} |"
        )
    if plotting.available():
        fig, (ax1, ax2) = plotting.subplots(1, 2, width=4.5)
        for name, (c, acc) in curves.items():
            ax1.plot(range(1, epochs + 1), c, marker="o", label=name.split(" (")[0])
            ax2.plot(range(1, epochs + 1), acc, marker="o", label=name.split(" (")[0])
        ax1.set(xlabel="epoch", ylabel="training cost", title="training cost (each cost's own scale)")
        ax2.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
        ax2.legend()
        print("figure:", plotting.save(fig, Path(a.out) / "ch3_costs.png"))


# The notes' problem-4 setting, as far as it can be read from them: a softmax output with
# the log-likelihood cost, 5 epochs, and λ applied as a per-step weight penalty (as a
# framework's weight_decay is), i.e. jaxnn's λ/n equals the note's λ.
NOTES_LAMBDAS = [0, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1]
NOTES_L1 = [0.9177, 0.9180, 0.9101, 0.8909, 0.8549, 0.1135, 0.1135]
NOTES_L2 = [0.9177, 0.9167, 0.9182, 0.9186, 0.9129, 0.9123, 0.8175]
NOTES_KEEP = [1.0, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9]
NOTES_DROPOUT = [0.9177, 0.4825, 0.7582, 0.8225, 0.8545, 0.8945, 0.9068]
NOTES_KW = dict(cost="log-likelihood", output_activation="softmax", init="default")


def l1_l2(a):
    epochs = a.epochs or 5
    n = len(data().training)
    out = {}
    for reg in ("l1", "l2"):
        res = sweep(
            [784, 30, 10], epochs, 0.1, a.seeds, lmbda=[l * n for l in NOTES_LAMBDAS], regularizer=reg, **NOTES_KW
        )
        final = res.final_accuracy.reshape(len(a.seeds), len(NOTES_LAMBDAS))
        out[reg] = (final, res.wall)
    print("| λ (the note's, per step) | L1: note | L1: jaxnn (mean ± sd) | L2: note | L2: jaxnn (mean ± sd) |")
    print("| --- | --- | --- | --- | --- |")
    for i, lam in enumerate(NOTES_LAMBDAS):
        print(
            f"| {lam:g} | {100 * NOTES_L1[i]:.2f}% | {pct(out['l1'][0][:, i])} | {100 * NOTES_L2[i]:.2f}% | "
            f"{pct(out['l2'][0][:, i])} |"
        )
    print(
        f"(each column: one sweep of {len(NOTES_LAMBDAS)} λ × {len(a.seeds)} seeds; "
        f"L1 {out['l1'][1]:.0f} s, L2 {out['l2'][1]:.0f} s)"
    )


def dropout(a):
    epochs = a.epochs or 5
    res = sweep([784, 30, 10], epochs, 0.1, a.seeds, p_dropout=[round(1 - k, 6) for k in NOTES_KEEP], **NOTES_KW)
    final = res.final_accuracy.reshape(len(a.seeds), len(NOTES_KEEP))
    print("| p(keep) | note | jaxnn, book dropout (mean ± sd) |")
    print("| --- | --- | --- |")
    for i, k in enumerate(NOTES_KEEP):
        print(f"| {k:g} | {100 * NOTES_DROPOUT[i]:.2f}% | {pct(final[:, i])} |")
    print(f"(one sweep of {len(NOTES_KEEP)} rates × {len(a.seeds)} seeds, {res.wall:.0f} s)")


EXPERIMENTS = {
    "cross-entropy": cross_entropy,
    "l2": l2,
    "overfitting": overfitting,
    "init": init,
    "costs": costs,
    "l1-l2": l1_l2,
    "dropout": dropout,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("experiment", choices=[*EXPERIMENTS, "all"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=None, help="override the experiment's epoch count")
    p.add_argument("--quick", action="store_true", help="1 epoch (3 for overfitting), one seed")
    p.add_argument("--out", default="docs/figures", help="folder for the figures")
    a = p.parse_args()
    if a.quick:
        a.seeds, a.epochs = a.seeds[:1], a.epochs or 1
    for name, fn in EXPERIMENTS.items():
        if a.experiment in (name, "all"):
            print(f"## {name}")
            fn(a)
            print()


if __name__ == "__main__":
    main()
