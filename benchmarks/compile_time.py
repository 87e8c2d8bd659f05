#!/usr/bin/env python
"""XLA's compile time and run time with its default CPU fusion emitters and with the older loop emitters.

The test suite spends most of its CPU time compiling programs that run for a moment, so it
compiles with ``--xla_cpu_use_fusion_emitters=false`` (tests/conftest.py); users keep XLA's
defaults. This measures both sides of that choice, each setting in fresh processes (XLA reads
its flags once per process), the settings alternated round by round, the compilation cache off:

- the compile time (``jax.jit(f).lower(...).compile()``) of a gradient of the book's MLP
  (float64, 20 rows), of a training epoch of the MLP (1,000 examples, mini-batch 10) and of
  the chapter 6 two-conv ReLU net (1,000 images, mini-batch 10);
- the run time of an epoch of the book's MLP (50,000 examples) once compiled (the fastest of
  epochs 2 to 4).

It prints the minimum over the rounds of each figure.

    python benchmarks/compile_time.py
    python benchmarks/compile_time.py --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "XLA's defaults (fusion emitters)": "",
    "--xla_cpu_use_fusion_emitters=false": "--xla_cpu_use_fusion_emitters=false",
}


def measure() -> dict:
    """One process's figures, in seconds."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    import jaxnn
    from jaxnn import optim, training
    from jaxnn.net import net_loss

    def compile_seconds(f, *args):
        lowered = jax.jit(f).lower(*args)
        start = time.perf_counter()
        lowered.compile()
        return time.perf_counter() - start

    out = {}
    mlp = jaxnn.mlp([784, 30, 10], cost="cross-entropy")
    params = jaxnn.init_network(0, mlp)
    x, y = jnp.zeros((20, 784)), jnp.zeros((20, 10))
    out["gradient of the MLP"] = compile_seconds(lambda p: jax.grad(lambda q: net_loss(mlp, q, x, y))(p), params)
    sgd = optim.book_transformation(False)
    conv = jaxnn.conv_net(
        [
            jaxnn.ConvPool(20, 5, activation="relu"),
            jaxnn.ConvPool(40, 5, activation="relu"),
            jaxnn.FullyConnected(100, activation="relu"),
            jaxnn.Softmax(10),
        ],
        (1, 28, 28),
    )
    for name, net, shape in (("epoch of the MLP", mlp, (784,)), ("epoch of the two-conv net", conv, (1, 28, 28))):
        p = jaxnn.init_network(0, net, jnp.float32)
        state = (p, optim.book_state(sgd, p, 0.1, 0.0))
        epoch = training.epoch_body(net, "backprop", 1000, 10, sgd, gather_steps=training.GATHER_STEPS)
        hp = {"reg_scale": 0.0, "p_dropout": jnp.zeros((len(net.layers),), jnp.float32)}
        data = (jnp.zeros((1000, *shape), jnp.float32), jnp.zeros((1000,), jnp.int32))
        out[f"{name} (1,000 examples)"] = compile_seconds(epoch, state, jax.random.key(0), *data, hp)
    d = jaxnn.load_mnist()
    book = jaxnn.mlp([784, 30, 10])
    train = (d.training.x, d.training.y)
    p = jaxnn.init_network(0, book)
    _, history = jaxnn.sgd(p, train, 4, 10, 3.0, key=0, net=book)  # the first epoch compiles
    out["run: one epoch of the book's MLP (50,000 examples)"] = min(history.seconds[1:])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    best: dict = {}
    for _ in range(a.rounds):
        for setting, flag in SETTINGS.items():
            env = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip())
            env["JAXNN_NO_COMPILATION_CACHE"] = "1"
            env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
            proc = subprocess.run(
                [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                sys.exit(proc.stderr[-3000:])
            for name, seconds in json.loads(proc.stdout.splitlines()[-1]).items():
                row = best.setdefault(name, {})
                row[setting] = min(row.get(setting, float("inf")), seconds)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; minimum of {a.rounds} rounds\n")
    names = list(SETTINGS)
    print(f"| | {' | '.join(names)} | defaults ÷ older |")
    print("|---|" + "---:|" * (len(names) + 1))
    for name, row in best.items():
        unit = 1000 if not name.startswith("run") else 1
        cells = [f"{row[s] * unit:.0f} ms" if unit == 1000 else f"{row[s]:.3f} s" for s in names]
        print(f"| {name} | {' | '.join(cells)} | {row[names[0]] / row[names[1]]:.2f}× |")


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(measure()))
    else:
        main()
