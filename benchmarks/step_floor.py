#!/usr/bin/env python
"""What one SGD step of the book's network costs in XLA, piece by piece, on this machine.

Two measurements, each alternated over rounds in one process (median of ``--repeats``):

  products   ``lax.scan`` over 5,000 steps of only the step's large matrix products: the
             forward product of a 10×784 mini-batch with the 30×784 weights, alone and with
             the weight-gradient product and the update; the same with the weights stored
             transposed (784×30); an empty step; and NumPy's product, one Python call each.
  gather     the library's own epoch (``jaxnn.training.epoch_body``, book configuration) with
             1, 10 and 100 mini-batches gathered at once (``gather_steps``).

Run it as it is, or under ``XLA_FLAGS=...`` or ``taskset -c 0`` to see what a flag or one core
changes (docs/performance.md, "Attempts").

Usage, from the repository root::

    python benchmarks/step_floor.py            # about a minute on 2 cores
    python benchmarks/step_floor.py --only products
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxnn

STEPS, M = 5000, 10


def _median_seconds(fns: dict, repeats: int) -> dict:
    for f in fns.values():  # compile and warm up
        jax.block_until_ready(f())
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(f())
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(t) for k, t in times.items()}


def products(repeats: int) -> None:
    rng = np.random.default_rng(0)
    xs = rng.random((STEPS, M, 784), dtype=np.float32)
    x = jnp.asarray(xs)
    d = jnp.asarray(rng.standard_normal((STEPS, M, 30), dtype=np.float32) * 1e-3)
    w_np = rng.standard_normal((30, 784), dtype=np.float32)
    w, wt = jnp.asarray(w_np), jnp.asarray(w_np.T.copy())

    def scan(body):  # a compiled lax.scan of `body` over the steps
        return jax.jit(lambda init, xs: jax.lax.scan(body, init, xs)[0])

    empty = scan(lambda acc, xb: (acc + xb[0, 0], None))
    forward = scan(lambda acc, xb: (acc + (xb @ w.T)[0, 0], None))
    forward_t = scan(lambda acc, xb: (acc + (xb @ wt)[0, 0], None))

    def step(w, xd):  # the forward product, the weight gradient δᵀx that depends on it, the update
        xb, db = xd
        return w - 1e-6 * ((db * (xb @ w.T)).T @ xb), None

    def step_t(wt, xd):  # the same with the weights stored (784, 30)
        xb, db = xd
        return wt - 1e-6 * (xb.T @ (db * (xb @ wt))), None

    both, both_t = scan(step), scan(step_t)
    zero = jnp.float32(0)
    fns = {
        "an empty step (one element read)": lambda: empty(zero, x),
        "the forward product alone, x @ Wᵀ": lambda: forward(zero, x),
        "the same with W stored transposed (784×30), x @ W": lambda: forward_t(zero, x),
        "the forward product, the weight-gradient product and the update": lambda: both(w, (x, d)),
        "the same with W stored transposed throughout": lambda: both_t(wt, (x, d)),
    }
    med = _median_seconds(fns, repeats)
    numpy_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(STEPS):
            xs[i] @ w_np.T
        numpy_times.append(time.perf_counter() - start)
    med["NumPy (OpenBLAS) x @ Wᵀ, one Python call per product"] = statistics.median(numpy_times)
    print(f"## The step's large products, {STEPS:,} steps (median of {repeats})\n")
    print("| measured | µs per step | s per 5,000 steps |\n|---|---:|---:|")
    for k, s in med.items():
        print(f"| {k} | {s / STEPS * 1e6:.1f} | {s:.4f} |")
    flop = 2 * 2 * M * 784 * 30 * STEPS
    s = med["the forward product, the weight-gradient product and the update"]
    print(f"\nThe two products: {flop / 1e9:.2f} GFLOP in {s:.3f} s = {flop / s / 1e9:.0f} GFLOP/s\n", flush=True)


def gather(repeats: int) -> None:
    from jaxnn import optim
    from jaxnn.training import epoch_body

    data = jaxnn.load_mnist()
    x, y = jax.block_until_ready((jnp.asarray(data.training.x), jnp.asarray(data.training.y)))
    sizes = [784, 30, 10]
    net = jaxnn.mlp(sizes, jaxnn.make_model())
    hp = {"reg_scale": 0.0, "p_dropout": jnp.zeros(len(net.layers))}
    p0 = jaxnn.init_params(jax.random.key(0), sizes, "large")
    transform = optim.book_transformation(False)  # the book's plain SGD, η = 3.0 in its state
    state, runs = {}, {}
    for g in (1, 10, 100):
        epoch = jax.jit(epoch_body(net, "backprop", len(x), M, transform, gather_steps=g), donate_argnums=0)
        params = jax.tree_util.tree_map(jnp.array, p0)
        state[g] = [(params, optim.book_state(transform, params, 3.0, 0.0)), 0]  # (training state, epochs run)

        def run(g=g, epoch=epoch):  # one more epoch, from where the last one ended
            state[g][1] += 1
            state[g][0] = epoch(state[g][0], jax.random.key(state[g][1]), x, y, hp)
            return state[g][0]

        runs[g] = run
    med = _median_seconds(runs, repeats)
    print(f"## jaxnn's epoch, book configuration, by mini-batches gathered at once (median of {repeats})\n")
    print("| gather_steps | s / epoch |\n|---:|---:|")
    for g, s in med.items():
        print(f"| {g} | {s:.3f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--only", choices=["products", "gather"])
    args = ap.parse_args(argv)
    if args.only in (None, "products"):
        products(args.repeats)
    if args.only in (None, "gather"):
        gather(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
