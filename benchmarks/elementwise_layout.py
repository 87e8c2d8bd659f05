#!/usr/bin/env python
"""One elementwise step on the same 28,800 numbers held in arrays of different shapes.

The first ConvPool layer of the chapter 6 net applies its activation to 20 maps of 12×12 for
10 examples: 28,800 numbers. XLA's CPU backend runs an elementwise loop fast when the array's
last axis is long and several times slower when it is short, so the layer keeps such arrays
two-dimensional (docs/performance.md, "Round 4: pooling over column blocks"). This times
``sigmoid(a) * 0.5 + 0.25``, 5,000 times in a ``lax.scan``, for each shape, rounds alternated,
and prints microseconds per step (the minimum over the rounds).

    python benchmarks/elementwise_layout.py
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

SHAPES = [(28800,), (20, 1440), (200, 144), (20, 10, 144), (2400, 12), (20, 10, 12, 12)]


def program(shape, steps):
    a = jnp.asarray(np.random.default_rng(0).uniform(0.25, 0.75, size=shape).astype(np.float32))
    return jax.jit(lambda: lax.scan(lambda c, _: (jax.nn.sigmoid(c) * 0.5 + 0.25, None), a, None, length=steps)[0])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    progs = {s: program(s, a.steps) for s in SHAPES}
    for f in progs.values():
        jax.block_until_ready(f())  # compile
    best = {s: float("inf") for s in SHAPES}
    for _ in range(a.rounds):
        for s, f in progs.items():
            start = time.perf_counter()
            jax.block_until_ready(f())
            best[s] = min(best[s], (time.perf_counter() - start) / a.steps * 1e6)
    print(
        f"# sigmoid(a) * 0.5 + 0.25 on 28,800 float32 numbers; jax {jax.__version__}, {platform.processor() or platform.machine()}"
    )
    print("\n| shape | µs per step |\n| --- | ---: |")
    for s in SHAPES:
        print(f"| {s} | {best[s]:.1f} |")


if __name__ == "__main__":
    main()
