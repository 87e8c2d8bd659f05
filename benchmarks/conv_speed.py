#!/usr/bin/env python
"""Seconds per epoch and peak memory of the book's two-conv-pool network: jaxnn against PyTorch CPU.

The network is chapter 6's ``dbl_conv``: ConvPool(20 filters 5×5, pool 2) → ConvPool(40 filters
5×5, pool 2) → FullyConnected(100) → Softmax(10), sigmoid, log-likelihood cost, plain SGD with
η 0.1, mini-batches of 10 taken in order (network3's semantics), float32, on MNIST training images.

  jaxnn (backprop)   ``jaxnn.training.epoch_fn(net, "backprop", ...)``: the whole epoch is one
                     compiled ``lax.scan``; each layer's hand-written backward pass.
  jaxnn (autodiff)   the same with ``"autodiff"`` (``jax.grad`` of the loss).
  PyTorch eager      ``Conv2d → MaxPool2d → Sigmoid`` twice, ``Linear → Sigmoid → Linear``,
                     ``CrossEntropyLoss`` and ``optim.SGD``: a Python loop over the mini-batches, with
                     ``torch.set_num_threads`` = the usable cores. (Conv2d adds its bias before
                     the pool, network3 after it; a per-channel constant commutes with max, so
                     the functions are the same.)

Each implementation runs in its own subprocess, so that its peak resident memory (``ru_maxrss``)
is its own. A worker loads the data, builds the network, runs one untimed warm-up pass (the
compilation, for jaxnn) and then times ``--repeats`` passes over the first ``--batches``
mini-batches, scaled to the 5,000 mini-batches of a 50,000-image epoch; each row is the median.
The workers run one after another, in the order given by ``--only``.

Usage, from the repository root::

    python benchmarks/conv_speed.py                 # 500 mini-batches per timing, 3 repeats
    python benchmarks/conv_speed.py --batches 5000  # whole epochs
    python benchmarks/conv_speed.py --quick         # 50 mini-batches, 1 repeat (a smoke test)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ETA = 0.1
M = 10
EPOCH_BATCHES = 5000
IMPLEMENTATIONS = {
    "jaxnn-backprop": "jaxnn (hand-written backward)",
    "jaxnn-autodiff": "jaxnn (autodiff)",
    "torch": "PyTorch eager CPU",
}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _data(n):
    sys.path.insert(0, str(ROOT))
    import jaxnn

    d = jaxnn.load_mnist()
    return np.asarray(d.training.x[:n], np.float32), np.asarray(d.training.y[:n])


def worker_jaxnn(gradient: str, batches: int, repeats: int) -> dict:
    import jax

    import jaxnn
    from jaxnn import optim
    from jaxnn.layers import ConvPool, FullyConnected, Softmax
    from jaxnn.training import epoch_fn, structure

    n = batches * M
    x, y = _data(n)
    net = jaxnn.conv_net([ConvPool(20, 5), ConvPool(40, 5), FullyConnected(100), Softmax(10)], (1, 28, 28))
    params = jaxnn.init_network(jax.random.key(0), net)
    transform = optim.book_transformation(False)  # plain SGD, η in its state
    # network3's semantics: the mini-batches in order, an incomplete last one dropped
    epoch = epoch_fn(structure(net), gradient, n, M, transform, False, "drop")
    x, y = jax.numpy.asarray(x), jax.numpy.asarray(y)
    state = (params, optim.book_state(transform, params, ETA, 0.0))
    hp = {"reg_scale": 0.0, "p_dropout": jax.numpy.zeros(len(net.layers))}
    key = jax.random.key(1)
    start = time.perf_counter()
    state = jax.block_until_ready(epoch(state, key, x, y, hp))
    warm = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        state = jax.block_until_ready(epoch(state, key, x, y, hp))
        times.append(time.perf_counter() - start)
    return {"times": times, "warmup": warm, "version": f"jax {jax.__version__}"}


def worker_torch(batches: int, repeats: int) -> dict:
    import torch

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    torch.manual_seed(0)
    n = batches * M
    x, y = _data(n)
    X = torch.from_numpy(x).reshape(n, 1, 28, 28)
    Y = torch.from_numpy(y.astype(np.int64))
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 20, 5),
        nn.MaxPool2d(2),
        nn.Sigmoid(),
        nn.Conv2d(20, 40, 5),
        nn.MaxPool2d(2),
        nn.Sigmoid(),
        nn.Flatten(),
        nn.Linear(640, 100),
        nn.Sigmoid(),
        nn.Linear(100, 10),
    )
    opt = torch.optim.SGD(model.parameters(), lr=ETA)
    loss_fn = nn.CrossEntropyLoss()

    def run():
        for i in range(0, n, M):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(X[i : i + M]), Y[i : i + M]).backward()
            opt.step()

    start = time.perf_counter()
    run()
    warm = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"times": times, "warmup": warm, "version": f"torch {torch.__version__}, {torch.get_num_threads()} threads"}


def worker(name: str, batches: int, repeats: int) -> None:
    if name == "torch":
        out = worker_torch(batches, repeats)
    else:
        out = worker_jaxnn(name.split("-")[1], batches, repeats)
    out["peak_mib"] = _peak_mib()
    print("RESULT " + json.dumps(out))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batches", type=int, default=500, help="mini-batches per timed pass (5000 = one epoch)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="50 mini-batches, 1 repeat")
    p.add_argument("--only", nargs="+", choices=list(IMPLEMENTATIONS), default=list(IMPLEMENTATIONS))
    p.add_argument("--worker", choices=list(IMPLEMENTATIONS), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.quick:
        a.batches, a.repeats = 50, 1
    if a.worker:
        return worker(a.worker, a.batches, a.repeats)

    print(
        f"# two-conv-pool network, mini-batch {M}, float32; {a.batches} mini-batches per timing, "
        f"scaled to {EPOCH_BATCHES}; median of {a.repeats}; {platform.processor() or platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} cores; {platform.python_version()}"
    )
    results = {}
    for name in a.only:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        env.pop("JAX_ENABLE_X64", None)
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", name, "--batches", str(a.batches), "--repeats", str(a.repeats)],
            capture_output=True,
            text=True,
            env=env,
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not line:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            print(f"# {IMPLEMENTATIONS[name]}: failed ({tail[0]})")
            continue
        results[name] = json.loads(line[0][len("RESULT ") :])
        print(
            f"# {IMPLEMENTATIONS[name]}: {results[name]['version']}; passes {', '.join(f'{t:.2f}' for t in results[name]['times'])} s",
            flush=True,
        )
    if not results:
        return 1
    scale = EPOCH_BATCHES / a.batches
    per_epoch = {k: statistics.median(r["times"]) * scale for k, r in results.items()}
    ref = per_epoch.get("torch")
    print()
    print("| implementation | s/epoch | × PyTorch time | warm-up pass (compile) | peak memory (RSS) |")
    print("| --- | --- | --- | --- | --- |")
    for k, r in results.items():
        ratio = f"{per_epoch[k] / ref:.2f}" if ref else "—"
        print(
            f"| {IMPLEMENTATIONS[k]} | {per_epoch[k]:.1f} | {ratio} | {r['warmup']:.1f} s | {r['peak_mib']:.0f} MiB |"
        )
    if ref:
        for k in per_epoch:
            if k != "torch":
                print(f"# {IMPLEMENTATIONS[k]} is {ref / per_epoch[k]:.2f}× the speed of PyTorch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
