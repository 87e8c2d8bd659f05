#!/usr/bin/env python
"""When does one ``jaxnn.sweep`` beat training the same networks one by one with ``jaxnn.sgd``?

Three measurements, all in one process on the same machine, in float32:

  l2-table     The notes' L2 λ table of ``examples/chapter3.py l1-l2`` (sizes [784, 30, 10], softmax
               output with the log-likelihood cost, η 0.1, mini-batch 10, λ/n in
               {0, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1} × seeds {0, 1, 2}, test accuracy after every
               epoch): ONE ``jaxnn.sweep`` call against the same 21 ``jaxnn.sgd`` calls, one after
               another, each timed from the call to its return (compilation included in both).
  book-64      64 of the book's chapter 1 networks ([784, 30, 10], sigmoid, quadratic cost, η 3.0,
               mini-batch 10, N(0, 1) initialisation): steady seconds per epoch of a sweep of 64
               against 64 × the steady seconds per epoch of ``jaxnn.sgd`` (measured on a few runs).
               Two layouts: 64 seeds (64 data orders) and 4 seeds × 16 η (networks of one seed
               share each mini-batch, so their first layers are one wide matrix product).
  scaling      Throughput (network-examples per second) of a sweep of N = 1 ... 1024 book networks,
               for both layouts, against the memory-bandwidth floor: every SGD step reads and writes
               every stacked weight at least once, so a step cannot take less than
               2 × 4 bytes × weights × N / bandwidth, with the bandwidth measured by a NumPy copy
               of a 256 MB array. Large N train on a prefix of the training set (a few hundred
               mini-batches per epoch, not 5,000); the table says how many steps were timed.

  seeds        Sweeps over seeds only (every network its own initial weights and data order): N book
               networks as one sweep, in the library's layout (seed groups trained in chunks that
               fit in cache, one chunk after another) and in the earlier layout (all groups vmapped
               side by side), against N × one ``jaxnn.sgd`` epoch, for N = 1 ... 256. The three are
               timed round-robin (``--rounds`` rounds, medians), so a burst of other work hits all
               of them alike; this is the crossover against N.
  conv-4       The chapter 6 conv net (ConvPool(20, 5) + FullyConnected(100) + Softmax(10)), 2 seeds ×
               2 η (0.05, 0.1), mini-batch 10, on the first 5,000 training images: steady seconds
               per epoch of one sweep of the 4 against 4 × the steady seconds per epoch of
               ``jaxnn.sgd(net=...)`` (the second epoch of each; compilation not counted).

Usage, from the repository root::

    python benchmarks/sweep_speed.py            # everything (a few minutes on 2 idle cores)
    python benchmarks/sweep_speed.py --quick    # 1 epoch for the λ table, fewer steps and N (about 1.5 minutes)
    python benchmarks/sweep_speed.py --only scaling
    python benchmarks/sweep_speed.py --only seeds --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time

import jax
import numpy as np

import jaxnn
from jaxnn.sweep import run_keys

BOOK = [784, 30, 10]
NOTES_LAMBDAS = [0, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1]  # as in examples/chapter3.py (λ/n, per step)
NOTES_KW = dict(cost="log-likelihood", output_activation="softmax", init="default")
BOOK_KW = dict(cost="quadratic", init="large")


def _load():
    return "load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def n_weights(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def bandwidth(mb: int = 256, repeats: int = 5) -> float:
    """Bytes per second read + written by a NumPy copy of an ``mb`` MB float32 array (best of ``repeats``)."""
    a = np.ones(mb * 2**20 // 4, np.float32)
    b = np.empty_like(a)
    best = min(_timed(lambda: np.copyto(b, a)) for _ in range(repeats))
    return 2 * a.nbytes / best


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# ----------------------------------------------------------------------------- (a) the λ table


def l2_table(data, epochs: int) -> dict:
    n = len(data.training)
    seeds = [0, 1, 2]
    lmbdas = [lam * n for lam in NOTES_LAMBDAS]
    common = dict(
        evaluation_data=data.test,
        regularizer="l2",
        cost=NOTES_KW["cost"],
        output_activation=NOTES_KW["output_activation"],
    )
    t0 = time.perf_counter()
    res = jaxnn.sweep(BOOK, data.training, epochs, 10, 0.1, seeds=seeds, lmbda=lmbdas, init="default", **common)
    sweep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq_final = []
    for c in res.configs:
        k_init, k_sgd = run_keys(c["seed"])
        params = jaxnn.init_params(k_init, BOOK, "default")
        _, h = jaxnn.sgd(params, data.training, epochs, 10, 0.1, key=k_sgd, lmbda=c["lmbda"], **common)
        seq_final.append(h.evaluation_correct[-1])
    seq_s = time.perf_counter() - t0
    diff = np.abs(np.asarray(seq_final) - res.evaluation_correct[:, -1])
    return {
        "epochs": epochs,
        "networks": len(res.configs),
        "sweep_s": sweep_s,
        "sequential_s": seq_s,
        "ratio": sweep_s / seq_s,
        "sweep_first_epoch_s": res.seconds[0],
        "max_test_correct_difference": int(diff.max()),
    }


# ----------------------------------------------------------------------------- (b) and (c)


def sweep_epoch(train, seeds, etas, epochs=2) -> tuple:
    """(steady seconds per epoch, seconds of the first epoch) of a sweep of len(seeds) × len(etas)."""
    res = jaxnn.sweep(BOOK, train, epochs, 10, etas, seeds=seeds, **BOOK_KW)
    return min(res.seconds[1:]), res.seconds[0]


def sgd_epoch(train, runs: int) -> float:
    """The median steady seconds per epoch of ``jaxnn.sgd`` on the book's config, over ``runs`` seeds."""
    times = []
    for s in range(runs):
        k_init, k_sgd = run_keys(s)
        params = jaxnn.init_params(k_init, BOOK, "large")
        _, h = jaxnn.sgd(params, train, 2, 10, 3.0, key=k_sgd, cost="quadratic")
        times.append(h.seconds[1])
    return float(np.median(times))


def book_64(train, runs: int) -> dict:
    one = sgd_epoch(train, runs)
    out = {"sgd_epoch_s": one, "sgd_runs_timed": runs, "one_by_one_64_s": 64 * one}
    for name, seeds, etas in (
        ("64 seeds", list(range(64)), [3.0]),
        ("4 seeds x 16 eta", [0, 1, 2, 3], list(np.linspace(1.0, 4.0, 16))),
    ):
        steady, first = sweep_epoch(train, seeds, etas)
        out[name] = {"sweep_epoch_s": steady, "first_epoch_s": first, "speedup": 64 * one / steady}
    return out


def scaling(data, ns, steps_for, bw) -> list:
    per_net = n_weights(BOOK)
    rows = []
    for layout in ("seeds", "shared"):
        for n_nets in ns:
            steps = steps_for(n_nets)
            train = jaxnn.Split(data.training.x[: 10 * steps], data.training.y[: 10 * steps])
            if layout == "seeds":
                seeds, etas = list(range(n_nets)), [3.0]
            else:  # groups of up to 16 networks share a seed, hence each mini-batch
                g = min(16, n_nets)
                seeds, etas = list(range(n_nets // g)), list(np.linspace(1.0, 4.0, g))
            steady, first = sweep_epoch(train, seeds, etas)
            floor = steps * 2 * 4 * per_net * n_nets / bw
            rows.append(
                {
                    "layout": layout,
                    "N": n_nets,
                    "steps": steps,
                    "epoch_s": steady,
                    "first_epoch_s": first,
                    "net_examples_per_s": n_nets * 10 * steps / steady,
                    "per_step_us": 1e6 * steady / steps,
                    "floor_s": floor,
                    "x_floor": steady / floor,
                }
            )
            r = rows[-1]
            print(
                f"| {layout} | {n_nets} | {steps} | {r['epoch_s']:.3f} | {r['per_step_us']:.0f} | "
                f"{r['net_examples_per_s']:,.0f} | {1e6 * floor / steps:.1f} | {r['x_floor']:.1f}× |",
                flush=True,
            )
    return rows


# ----------------------------------------------------------------------------- seeds: the crossover


@contextlib.contextmanager
def all_side_by_side():
    """The earlier layout: every seed group vmapped side by side, never in chunks."""
    module = importlib.import_module("jaxnn.sweep")
    old = module.CACHE_BYTES
    module.CACHE_BYTES = 2**62
    try:
        yield
    finally:
        module.CACHE_BYTES = old


def seeds_crossover(data, ns, steps_for, rounds: int) -> list:
    rows = []
    for n_nets in ns:
        steps = steps_for(n_nets)
        train = jaxnn.Split(data.training.x[: 10 * steps], data.training.y[: 10 * steps])
        seeds = list(range(n_nets))
        times: dict = {"chunks": [], "side by side": [], "one by one": []}
        for _ in range(rounds):
            times["chunks"].append(sweep_epoch(train, seeds, [3.0])[0])
            with all_side_by_side():
                times["side by side"].append(sweep_epoch(train, seeds, [3.0])[0])
            k_init, k_sgd = run_keys(0)
            params = jaxnn.init_params(k_init, BOOK, "large")
            _, h = jaxnn.sgd(params, train, 2, 10, 3.0, key=k_sgd, cost="quadratic", monitor_evaluation_accuracy=False)
            times["one by one"].append(n_nets * h.seconds[1])
        med = {k: float(np.median(v)) for k, v in times.items()}
        rows.append({"N": n_nets, "steps": steps, "rounds": times, "median_s": med})
        print(
            f"| {n_nets} | {steps} | {med['one by one']:.3f} | {med['side by side']:.3f} | "
            f"{med['one by one'] / med['side by side']:.2f}× | {med['chunks']:.3f} | "
            f"{med['one by one'] / med['chunks']:.2f}× |",
            flush=True,
        )
    return rows


# ----------------------------------------------------------------------------- (d) conv nets


CONV_LAYERS = [jaxnn.ConvPool(20, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)]


def conv_4(data, images: int = 5000) -> dict:
    """One sweep of 2 seeds × 2 η conv nets against the same 4 trained one by one (second epochs)."""
    net = jaxnn.conv_net(CONV_LAYERS, (1, 28, 28))
    train = jaxnn.Split(data.training.x[:images], data.training.y[:images])
    etas, seeds = [0.05, 0.1], [0, 1]
    res = jaxnn.sweep(net, train, 2, 10, etas, seeds=seeds)
    alone = []
    for seed in seeds:
        for eta in etas:
            k_init, k_sgd = run_keys(seed)
            _, h = jaxnn.sgd(jaxnn.init_network(k_init, net), train, 2, 10, eta, key=k_sgd, net=net)
            alone.append(h.seconds[1])
    one_by_one = sum(alone)
    return {"sweep_epoch_s": res.seconds[1], "one_by_one_epoch_s": one_by_one, "speedup": one_by_one / res.seconds[1]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="1 epoch for the λ table; fewer steps and sizes")
    ap.add_argument("--epochs", type=int, default=None, help="epochs of the λ table (default 5, as the notes)")
    ap.add_argument("--only", choices=["l2-table", "book-64", "scaling", "seeds", "conv-4"], default=None)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the seeds crossover (medians)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    data = jaxnn.load_mnist()
    out = {
        "machine": f"{jax.devices()[0].device_kind} ({jax.default_backend()}), {os.cpu_count()} cores",
        "jax": jax.__version__,
        "load_start": _load(),
    }
    print(
        f"# Sweeps against one-by-one runs\n\n- {out['machine']}, jax {jax.__version__}\n- {out['load_start']}\n",
        flush=True,
    )

    if args.only in (None, "l2-table"):
        epochs = args.epochs or (1 if args.quick else 5)
        r = out["l2_table"] = l2_table(data, epochs)
        print(
            f"## The notes' L2 λ table: 7 λ × 3 seeds, {epochs} epoch(s), test accuracy every epoch\n\n"
            f"| way | wall (s) |\n|---|---:|\n| one jaxnn.sweep (one compiled program) | {r['sweep_s']:.2f} |\n"
            f"| 21 × jaxnn.sgd, one after another | {r['sequential_s']:.2f} |\n\n"
            f"sweep / sequential = {r['ratio']:.2f} (target ≤ 0.7: {'PASS' if r['ratio'] <= 0.7 else 'FAIL'}); "
            f"largest difference in final test correct counts: {r['max_test_correct_difference']}\n",
            flush=True,
        )

    if args.only in (None, "book-64"):
        runs = 3 if args.quick else 5
        train = data.training
        r = out["book_64"] = book_64(train, runs)
        print(
            f"## 64 book networks, one full epoch (5,000 steps)\n\n"
            f"jaxnn.sgd alone: {r['sgd_epoch_s']:.3f} s per epoch (median over {runs} runs), "
            f"so 64 one by one: {r['one_by_one_64_s']:.2f} s per epoch (extrapolated from {runs} runs)\n\n"
            f"| sweep of 64 | s / epoch | first epoch (compile) | throughput vs one by one |\n|---|---:|---:|---:|"
        )
        for name in ("64 seeds", "4 seeds x 16 eta"):
            q = r[name]
            print(
                f"| {name} | {q['sweep_epoch_s']:.2f} | {q['first_epoch_s']:.2f} | {q['speedup']:.2f}× "
                f"(target ≥ 2.5×: {'PASS' if q['speedup'] >= 2.5 else 'FAIL'}) |"
            )
        print(flush=True)

    if args.only in (None, "scaling"):
        bw = bandwidth()
        out["bandwidth_GBps"] = bw / 1e9
        ns = [1, 4, 16, 64, 256] if args.quick else [1, 4, 16, 64, 256, 1024]
        budget = 20_000 if args.quick else 80_000  # network-steps per measured epoch

        def steps_for(n_nets):
            return int(min(5000, max(50, budget // n_nets)))

        print(
            f"## Throughput against N\n\nMeasured copy bandwidth (NumPy, 256 MB, read + write): {bw / 1e9:.1f} GB/s; "
            f"{n_weights(BOOK):,} weights and biases per network.\n'seeds': every network its own seed "
            f"(data order); 'shared': groups of up to 16 networks share a seed. Each row times the second "
            f"epoch over the first `steps` × 10 training images.\n\n"
            f"| layout | N | steps | s / epoch | µs / step | network-examples / s | floor µs / step | × floor |\n"
            f"|---|---:|---:|---:|---:|---:|---:|---:|",
            flush=True,
        )
        out["scaling"] = scaling(data, ns, steps_for, bw)
    if args.only in (None, "seeds"):
        ns = [1, 4, 16, 64] if args.quick else [1, 4, 16, 64, 256]
        budget = 20_000 if args.quick else 80_000

        def seed_steps(n_nets):
            return int(min(5000, max(50, budget // n_nets)))

        print(
            "\n## Sweeps over seeds: the crossover against N\n\nEvery network its own seed (initial weights and "
            f"data order); book networks; seconds per epoch over the first `steps` × 10 images, median of "
            f"{args.rounds} round-robin rounds; one by one = N × one `jaxnn.sgd` epoch.\n\n"
            "| N | steps | one by one (s) | all side by side (s) | throughput vs one by one | in chunks, the "
            "library's layout (s) | throughput vs one by one |\n|---:|---:|---:|---:|---:|---:|---:|",
            flush=True,
        )
        out["seeds"] = seeds_crossover(data, ns, seed_steps, args.rounds)
    if args.only in (None, "conv-4"):
        r = out["conv_4"] = conv_4(data)
        print(
            f"\n## 4 conv nets (2 seeds × 2 η), ConvPool(20, 5) + FC(100) + Softmax(10), 5,000 images\n\n"
            f"| way | s / epoch (second epoch) |\n|---|---:|\n| one jaxnn.sweep of 4 | {r['sweep_epoch_s']:.2f} |\n"
            f"| 4 × jaxnn.sgd(net=...), one after another | {r['one_by_one_epoch_s']:.2f} |\n\n"
            f"throughput of the sweep against one by one: {r['speedup']:.2f}×",
            flush=True,
        )
    out["load_end"] = _load()
    print(f"\n- {out['load_end']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
