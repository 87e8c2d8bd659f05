#!/usr/bin/env python
"""Wall time from a cold process to a test accuracy: jaxnn against PyTorch eager CPU and NumPy.

Every run is a fresh Python process, started by this script, that imports its library, loads
MNIST (the book's 50,000 training images; the 10,000 test images are scored after every epoch),
builds the network and trains until the first epoch whose test accuracy reaches the mark. The
table gives the wall time from starting the process to that epoch's score, split into:

  startup   the interpreter, until the worker's first line runs
  import    ``import jaxnn`` (which imports JAX and optax), ``import torch``, or ``import numpy``
  data      reading MNIST into float32 arrays (jaxnn: ``jaxnn.load_mnist()`` and the copy to the
            device; the peers read the same ``mnist.npz`` with NumPy)
  compile   JAX's tracing, lowering and XLA compilation (the ``/jax/core/compile/*`` durations JAX
            reports); with a warm compilation cache, the reading of the cached programs instead
  train     the rest: the epochs and their test scoring, up to the mark

Recipes (``--only`` picks some; each runs in every implementation listed for it):

  mlp-book   to 95%: network2's [784, 30, 10], sigmoid, cross-entropy, N(0, 1/n_in) weights,
             η 0.5, λ 5 (L2), mini-batches of 10, shuffled every epoch (the book's chapter 3).
             jaxnn, PyTorch eager (1 thread, as the epoch benchmarks found fastest for this size)
             and NumPy (the whole mini-batch as one matrix).
  mlp-fast   to 95%: the fastest jaxnn recipe found, named as such: [784, 100, 10], ReLU, softmax
             with the log-likelihood cost, Adam (lr 3e-3), mini-batches of 50. jaxnn and PyTorch.
  conv-book  to 99.0%: the book's chapter 6 recipe unchanged: ConvPool(20, 5) → ConvPool(40, 5) →
             FullyConnected(100) → Softmax(10), ReLU, η 0.03, λ 0.1, mini-batches of 10, network3's
             order (no shuffle). jaxnn only by default (``--torch-conv-book`` adds PyTorch).
  conv-fast  to 99.0%: the fastest jaxnn recipe found, from jaxnn's own components: the same
             layers, ReLU, Adam with a cosine-decay schedule (2e-3 → 0 over ``--conv-epochs``
             epochs), mini-batches of 64, shuffled. jaxnn and PyTorch.

jaxnn runs twice per round: with a cold compilation cache (a new, empty cache folder) and with
the cache that run filled ("warm": what a user's second command gets). Runs go round-robin over
the implementations, ``--rounds`` times; the table gives each row's median. Other processes on the
machine slow every row; compare rows of one run.

Usage, from the repository root::

    python benchmarks/time_to_accuracy.py                       # everything (several minutes)
    python benchmarks/time_to_accuracy.py --only mlp-book mlp-fast --rounds 3
    python benchmarks/time_to_accuracy.py --quick               # MLPs only, 1 round, 3 epochs at most
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.time()  # the first line the worker runs (the interpreter's startup is before it)

ROOT = Path(__file__).resolve().parent.parent
MNIST = ROOT / "jaxnn" / "data" / "mnist.npz"
MARKS = {"mlp-book": 0.95, "mlp-fast": 0.95, "conv-book": 0.99, "conv-fast": 0.99}
RUNNERS = {
    "mlp-book": ("jaxnn", "torch", "numpy"),
    "mlp-fast": ("jaxnn", "torch"),
    "conv-book": ("jaxnn",),
    "conv-fast": ("jaxnn", "torch"),
}
N_TRAIN = 50_000


def _emit(event: str, **kw):
    print("TTA " + json.dumps({"event": event, "t": time.time(), **kw}), flush=True)


def _numpy_data(images: bool):
    import numpy as np

    with np.load(MNIST) as d:
        x, y, xt, yt = d["x_train"][:N_TRAIN], d["y_train"][:N_TRAIN], d["x_test"], d["y_test"]
    shape = (-1, 1, 28, 28) if images else (-1, 784)
    prep = lambda a: (a.reshape(shape).astype(np.float32)) / np.float32(255)  # noqa: E731
    return prep(x), y.astype(np.int64), prep(xt), yt.astype(np.int64)


def _init_mlp(sizes, seed=0):
    """network2's default initialisation, N(0, 1/n_in) weights and N(0, 1) biases, from NumPy."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((b, a)).astype(np.float32) / np.sqrt(a), rng.standard_normal(b).astype(np.float32))
        for a, b in zip(sizes[:-1], sizes[1:])
    ]


# ----------------------------------------------------------------------------- workers


def worker_jaxnn(recipe: str, max_epochs: int, conv_epochs: int):
    import jax

    compile_s = [0.0]

    def listen(event, duration, **_):
        if event.startswith("/jax/core/compile/"):
            compile_s[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listen)
    import jax.numpy as jnp
    import optax

    import jaxnn

    _emit("import")
    data = jaxnn.load_mnist()
    train = jaxnn.Split(jax.device_put(data.training.x[:N_TRAIN]), jax.device_put(data.training.y[:N_TRAIN]))
    test = jaxnn.Split(jax.device_put(data.test.x), jax.device_put(data.test.y))
    jax.block_until_ready((train, test))
    _emit("data")
    kw: dict = {}
    if recipe == "mlp-book":
        params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "default")
        args = (10, 0.5)
        kw = dict(cost="cross-entropy", lmbda=5.0)
    elif recipe == "mlp-fast":
        net = jaxnn.mlp([784, 100, 10], activation="relu", output_activation="softmax", cost="log-likelihood")
        params = jaxnn.init_network(jax.random.key(0), net)
        args = (50, 1.0)
        kw = dict(net=net, optimizer=optax.adam(3e-3))
    else:
        layers = [
            jaxnn.ConvPool(20, 5, activation="relu"),
            jaxnn.ConvPool(40, 5, activation="relu"),
            jaxnn.FullyConnected(100, activation="relu"),
            jaxnn.Softmax(10),
        ]
        net = jaxnn.conv_net(layers, (1, 28, 28))
        params = jaxnn.init_network(jax.random.key(0), net)
        if recipe == "conv-book":
            args = (10, 0.03)
            kw = dict(net=net, lmbda=0.1, **jaxnn.NETWORK3)
        else:
            steps = conv_epochs * (N_TRAIN // 64 + 1)
            args = (64, 1.0)
            kw = dict(net=net, optimizer=optax.adam(optax.cosine_decay_schedule(2e-3, steps)))
        train = jaxnn.Split(train.x.reshape(-1, 1, 28, 28), train.y)
        test = jaxnn.Split(test.x.reshape(-1, 1, 28, 28), test.y)
    del jnp

    class Reached(Exception):
        pass

    def callback(epoch, params, history):
        acc = history.evaluation_correct[-1] / history.evaluation_size
        _emit("epoch", epoch=epoch, accuracy=acc, compile_s=compile_s[0])
        if acc >= MARKS[recipe]:
            raise Reached

    try:
        jaxnn.sgd(params, train, max_epochs, *args, key=1, evaluation_data=test, callback=callback, **kw)
    except Reached:
        pass
    return f"jax {jax.__version__}"


def worker_torch(recipe: str, max_epochs: int, conv_epochs: int):
    import torch

    _emit("import")
    threads = 1 if recipe.startswith("mlp") else len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y, xt, yt = (torch.from_numpy(a) for a in _numpy_data(images=recipe.startswith("conv")))
    _emit("data")
    nn = torch.nn
    if recipe.startswith("mlp"):
        sizes = [784, 30, 10] if recipe == "mlp-book" else [784, 100, 10]
        act = nn.Sigmoid if recipe == "mlp-book" else nn.ReLU
        model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), act(), nn.Linear(sizes[1], sizes[2]))
        with torch.no_grad():
            for layer, (w, b) in zip((model[0], model[2]), _init_mlp(sizes)):
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.copy_(torch.from_numpy(b))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 20, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(20, 40, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(640, 100),
            nn.ReLU(),
            nn.Linear(100, 10),
        )
    sched = None
    if recipe == "mlp-book":
        m = 10
        # network2: C = cross-entropy summed over the outputs, averaged over the mini-batch, plus
        # (λ/2n)Σw² on the weights only: weight decay λ/n on the weights.
        bce = nn.BCEWithLogitsLoss(reduction="sum")
        eye = torch.eye(10)
        loss_fn = lambda out, t: bce(out, eye[t]) / len(t)  # noqa: E731
        opt = torch.optim.SGD(
            [
                {"params": [model[0].weight, model[2].weight], "weight_decay": 5.0 / N_TRAIN},
                {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0},
            ],
            lr=0.5,
        )
        shuffle = True
    else:
        loss_fn = nn.CrossEntropyLoss()
        if recipe == "mlp-fast":
            m, shuffle = 50, True
            opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        elif recipe == "conv-fast":
            m, shuffle = 64, True
            opt = torch.optim.Adam(model.parameters(), lr=2e-3)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, conv_epochs * (N_TRAIN // m + 1), eta_min=0.0)
        else:  # conv-book: network3's order and L2 λ/(n // m) on the weights only
            m, shuffle = 10, False
            weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
            biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
            opt = torch.optim.SGD(
                [{"params": weights, "weight_decay": 0.1 / (N_TRAIN // m)}, {"params": biases}], lr=0.03
            )
    n = len(x) - (len(x) % m if recipe == "conv-book" else 0)
    for epoch in range(max_epochs):
        model.train()
        order = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
        for k in range(0, n, m):
            idx = order[k : k + m]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
            if sched is not None:
                sched.step()
        model.eval()
        with torch.no_grad():
            correct = sum(
                int((model(xt[i : i + 1000]).argmax(1) == yt[i : i + 1000]).sum()) for i in range(0, 10000, 1000)
            )
        _emit("epoch", epoch=epoch, accuracy=correct / 10000, compile_s=0.0)
        if correct / 10000 >= MARKS[recipe]:
            break
    return f"torch {torch.__version__}, {threads} thread(s)"


def worker_numpy(recipe: str, max_epochs: int, conv_epochs: int):
    import numpy as np

    _emit("import")
    x, y, xt, yt = _numpy_data(images=False)
    _emit("data")
    (w1, b1), (w2, b2) = _init_mlp([784, 30, 10])
    eye = np.eye(10, dtype=np.float32)
    eta, lmbda, m = np.float32(0.5), 5.0, 10
    decay = np.float32(1 - 0.5 * lmbda / len(x))
    rng = np.random.default_rng(1)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for epoch in range(max_epochs):
        order = rng.permutation(len(x))
        with np.errstate(over="ignore"):
            for k in range(0, len(x), m):
                idx = order[k : k + m]
                a0 = x[idx]
                a1 = sig(a0 @ w1.T + b1)
                a2 = sig(a1 @ w2.T + b2)
                d2 = a2 - eye[y[idx]]  # the cross-entropy cost's output error
                d1 = (d2 @ w2) * a1 * (1 - a1)
                s = eta / len(idx)
                w2 *= decay
                w2 -= s * (d2.T @ a1)
                b2 -= s * d2.sum(0)
                w1 *= decay
                w1 -= s * (d1.T @ a0)
                b1 -= s * d1.sum(0)
            correct = int((np.argmax(sig(sig(xt @ w1.T + b1) @ w2.T + b2), 1) == yt).sum())
        _emit("epoch", epoch=epoch, accuracy=correct / 10000, compile_s=0.0)
        if correct / 10000 >= MARKS[recipe]:
            break
    return f"numpy {np.__version__}"


WORKERS = {"jaxnn": worker_jaxnn, "torch": worker_torch, "numpy": worker_numpy}


# ----------------------------------------------------------------------------- the driver


def run_one(impl: str, recipe: str, max_epochs: int, conv_epochs: int, env: dict, train_size: int) -> dict:
    """Starts a worker process and returns its phases (seconds) as measured from its start."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", impl, recipe]
    cmd += ["--max-epochs", str(max_epochs), "--conv-epochs", str(conv_epochs), "--train-size", str(train_size)]
    start = time.time()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.time() - start
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1], "wall_s": wall}
    events = [json.loads(line[4:]) for line in out.stdout.splitlines() if line.startswith("TTA ")]
    at = {e["event"]: e for e in events if e["event"] != "epoch"}
    epochs = [e for e in events if e["event"] == "epoch"]
    reached = next((e for e in epochs if e["accuracy"] >= MARKS[recipe]), None)
    last = reached or epochs[-1]
    compile_s = last["compile_s"]
    r = {
        "startup_s": at["start"]["t"] - start,
        "import_s": at["import"]["t"] - at["start"]["t"],
        "data_s": at["data"]["t"] - at["import"]["t"],
        "compile_s": compile_s,
        "train_s": last["t"] - at["data"]["t"] - compile_s,
        "epochs": last["epoch"] + 1,
        "accuracies": [e["accuracy"] for e in epochs],
        "reached": reached is not None,
        "total_s": last["t"] - start if reached else None,
        "version": at["done"]["version"],
    }
    return r


def _fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def main(argv=None) -> int:
    global N_TRAIN
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--worker", nargs=2, metavar=("IMPL", "RECIPE"), help=argparse.SUPPRESS)
    ap.add_argument("--only", nargs="+", choices=list(MARKS), default=None, help="recipes to run (default: all)")
    ap.add_argument(
        "--rounds", type=int, default=None, help="rounds of every row (default 3 for MLPs, 1 for conv nets)"
    )
    ap.add_argument(
        "--max-epochs", type=int, default=None, help="give up after this many epochs (default 10; conv-book 30)"
    )
    ap.add_argument("--conv-epochs", type=int, default=4, help="length of conv-fast's learning-rate schedule (epochs)")
    ap.add_argument("--impls", nargs="+", choices=list(WORKERS), default=None, help="implementations (default: all)")
    ap.add_argument("--train-size", type=int, default=N_TRAIN, help="train on the first N training images (short runs)")
    ap.add_argument("--torch-conv-book", action="store_true", help="also run conv-book in PyTorch (slow)")
    ap.add_argument("--quick", action="store_true", help="the MLP recipes only, 1 round, at most 3 epochs")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    if args.worker:
        impl, recipe = args.worker
        N_TRAIN = args.train_size
        _emit("start")
        version = WORKERS[impl](recipe, args.max_epochs, args.conv_epochs)
        _emit("done", version=version)
        return 0

    recipes = args.only or (["mlp-book", "mlp-fast"] if args.quick else list(MARKS))
    import platform

    out: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_start": ", ".join(f"{v:.2f}" for v in os.getloadavg()),
        "rows": [],
    }
    print(f"# Time to accuracy from a cold process\n\n- {out['machine']}; load average {out['load_start']}\n")
    print("| recipe | implementation | startup | import | data | compile | train | epochs | total (s) | reached |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for recipe in recipes:
        impls = list(RUNNERS[recipe]) + (["torch"] if recipe == "conv-book" and args.torch_conv_book else [])
        impls = [i for i in impls if args.impls is None or i in args.impls]
        rounds = args.rounds or (1 if args.quick or recipe.startswith("conv") else 3)
        max_epochs = args.max_epochs or (3 if args.quick else 30 if recipe == "conv-book" else 10)
        rows: dict = {}
        for _ in range(rounds):
            for impl in impls:
                env = {k: v for k, v in os.environ.items() if k != "JAXNN_NO_COMPILATION_CACHE"}
                if impl == "jaxnn":
                    with tempfile.TemporaryDirectory() as cache:
                        env["JAXNN_CACHE"] = cache
                        for label in ("cold cache", "warm cache"):
                            r = run_one(impl, recipe, max_epochs, args.conv_epochs, env, args.train_size)
                            rows.setdefault(f"jaxnn, {label}", []).append(r)
                else:
                    rows.setdefault(impl, []).append(
                        run_one(impl, recipe, max_epochs, args.conv_epochs, env, args.train_size)
                    )
        for name, runs in rows.items():
            good = [r for r in runs if "error" not in r]
            if not good:
                print(f"| {recipe} | {name} | failed: {runs[0]['error']} |||||||||")
                continue
            phases = ("startup_s", "import_s", "data_s", "compile_s", "train_s")
            med = {k: statistics.median(r[k] for r in good) for k in phases}
            totals = [r["total_s"] for r in good if r["total_s"] is not None]
            total = statistics.median(totals) if len(totals) == len(good) else None
            epochs = statistics.median(r["epochs"] for r in good)
            best = max(max(r["accuracies"]) for r in good)
            reached = f"{MARKS[recipe]:.0%} in {epochs:g} epochs" if total else f"no (best {best:.2%})"
            compile_txt = _fmt(med["compile_s"], 2) if name.startswith("jaxnn") else "–"
            print(
                f"| {recipe} | {name} | {med['startup_s']:.2f} | {med['import_s']:.2f} | {med['data_s']:.2f} | "
                f"{compile_txt} | {med['train_s']:.2f} | {epochs:g} | {_fmt(total, 2)} | {reached} |",
                flush=True,
            )
            out["rows"].append(
                {"recipe": recipe, "implementation": name, "runs": runs, "median": med, "total_s": total}
            )
    out["load_end"] = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\n- load average at the end {out['load_end']}; total = the median of the runs' totals")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
