#!/usr/bin/env python
"""Where one step of the chapter 6 two-conv net's epoch spends its time, operation by operation.

It builds the epoch that ``conv_speed.py`` times (ConvPool(20, 5) → ConvPool(40, 5) →
FullyConnected(100) → Softmax(10), sigmoid, mini-batches of 10 in order, float32), compiles it,
runs it once untraced and once under ``jax.profiler``, and prints, for each compiled operation of
the step (XLA's fusions and library calls), its time per step, its share, its output shape and
the JAX operation it came from (from the optimized program's metadata)::

    python benchmarks/conv_profile.py                     # the hand-written backward passes
    python benchmarks/conv_profile.py --gradient autodiff
    python benchmarks/conv_profile.py --batches 500 --top 30

The traced pass runs slower than the untraced one (the profiler's own cost, printed); the shares
are what to read. XLA names its fusions after their first operation, and ``ynn_fusion`` marks the
matrix products (and a few reductions) that XLA hands to the YNNPACK library on this CPU.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gradient", choices=["backprop", "autodiff"], default="backprop")
    p.add_argument("--batches", type=int, default=200, help="mini-batches of 10 in the profiled pass")
    p.add_argument("--top", type=int, default=20, help="how many operations to list")
    a = p.parse_args(argv)
    # XLA:CPU records each operation in the profile only when asked to
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true").strip()
    sys.path.insert(0, str(ROOT))
    import jax
    import jax.numpy as jnp

    import jaxnn
    from jaxnn import optim
    from jaxnn.layers import ConvPool, FullyConnected, Softmax
    from jaxnn.training import epoch_fn, structure

    n = a.batches * 10
    d = jaxnn.load_mnist()
    x, y = jnp.asarray(d.training.x[:n]), jnp.asarray(d.training.y[:n])
    net = jaxnn.conv_net([ConvPool(20, 5), ConvPool(40, 5), FullyConnected(100), Softmax(10)], (1, 28, 28))
    params = jaxnn.init_network(jax.random.key(0), net)
    transform = optim.book_transformation(False)
    epoch = epoch_fn(structure(net), a.gradient, n, 10, transform, False, "drop")
    hp = {"reg_scale": jnp.zeros(()), "p_dropout": jnp.zeros(len(net.layers))}
    key = jax.random.key(1)

    def fresh():
        return jax.block_until_ready((params, optim.book_state(transform, params, 0.1, 0.0)))

    state = jax.block_until_ready(epoch(jax.tree.map(jnp.array, fresh()), key, x, y, hp))  # compiles
    start = time.perf_counter()
    state = jax.block_until_ready(epoch(state, key, x, y, hp))
    untraced = time.perf_counter() - start
    # the optimized program, for each operation's shape and origin
    hlo = epoch.lower(state, key, x, y, hp).compile().as_text() if hasattr(epoch, "lower") else ""
    origin = {}
    for m in re.finditer(r"^\s*%?([\w.\-]+) = (\([^)]*\)|\S+) [\w\-]+\(.*?metadata=\{op_name=\"([^\"]*)\"", hlo, re.M):
        origin[m[1]] = (re.sub(r"\{[^}]*\}", "", m[2]), m[3].split("/")[-1])
    with tempfile.TemporaryDirectory() as folder:
        jax.profiler.start_trace(folder, create_perfetto_trace=True)
        start = time.perf_counter()
        state = jax.block_until_ready(epoch(state, key, x, y, hp))
        traced = time.perf_counter() - start
        jax.profiler.stop_trace()
        files = glob.glob(os.path.join(folder, "**", "*.trace.json.gz"), recursive=True)
        if not files:
            print("the profiler wrote no trace; is this JAX built with its profiler?")
            return 1
        with gzip.open(files[0]) as f:
            events = json.load(f)
    events = events["traceEvents"] if isinstance(events, dict) else events
    total, count = collections.Counter(), collections.Counter()
    for e in events:
        name = e.get("name", "")
        if e.get("ph") == "X" and name in origin:
            total[name] += e.get("dur", 0)
            count[name] += 1
    steps = a.batches
    ops_us = sum(total.values()) / steps
    print(
        f"# two-conv net, {a.gradient}, {steps} mini-batches of 10: untraced {untraced / steps * 1e6:.0f} µs per step, "
        f"traced {traced / steps * 1e6:.0f} µs; the {len(total)} operations' own times add up to {ops_us:.0f} µs "
        "(some run side by side on the two threads)"
    )
    print()
    print("| operation | µs / step | share | output | from |")
    print("| --- | ---: | ---: | --- | --- |")
    for name, us in total.most_common(a.top):
        shape, op = origin[name]
        print(f"| {name} | {us / steps:.0f} | {us / steps / ops_us:.0%} | {shape} | {op} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
