#!/usr/bin/env python
"""The measurements of ``benchmarks/gpu.sh`` on whatever ``jax.devices()`` gives (a GPU, or the CPU).

1. The book's MLP epoch: [784, 30, 10], sigmoid, quadratic cost, η 3, mini-batches of 10,
   ``jaxnn.sgd``; the median steady epoch of ``--repeats``.
2. A sweep of ``--sweep-n`` book networks (groups of 16 sharing a data order) against the
   device's memory-bandwidth floor: each SGD step reads and writes every stacked weight at least
   once, so an epoch of ``steps`` steps cannot take less than 2 × 4 bytes × weights × N × steps /
   bandwidth, with the bandwidth measured by copying a large array on the device.
3. The chapter 6 two-conv net's epoch: ConvPool(20, 5) → ConvPool(40, 5) → FullyConnected(100)
   → Softmax(10), sigmoid, η 0.1, mini-batches of 10 in order (as ``benchmarks/conv_speed.py``).
4. Time to 99%: ``benchmarks/time_to_accuracy.py --only conv-fast --impls jaxnn`` (a fresh process).

It writes ``results.json`` and ``results.md`` into ``--out``. ``--small`` runs every part at a
small size (the CPU dry run): figures from it only show that the script works.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import optim
from jaxnn.sweep import run_keys
from jaxnn.training import epoch_fn, structure

HERE = Path(__file__).resolve().parent
BOOK = [784, 30, 10]


def bandwidth(mb: int, repeats: int = 5) -> float:
    """Bytes per second read + written by copying an ``mb`` MB float32 array on the default device."""
    a = jnp.ones(mb * 2**20 // 4, jnp.float32)
    copy = jax.jit(lambda v: v * 2)  # reads and writes every element
    jax.block_until_ready(copy(a))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(copy(a))
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best


def mlp_epoch(train, repeats: int) -> dict:
    k_init, k_sgd = run_keys(0)
    params = jaxnn.init_params(k_init, BOOK, "large")
    _, h = jaxnn.sgd(
        params, train, repeats + 1, 10, 3.0, key=k_sgd, cost="quadratic", monitor_evaluation_accuracy=False
    )
    return {"epoch_s": statistics.median(h.seconds[1:]), "first_epoch_s": h.seconds[0], "images": len(train)}


def sweep_floor(train, n_nets: int, bw: float) -> dict:
    g = min(16, n_nets)
    res = jaxnn.sweep(
        BOOK,
        train,
        2,
        10,
        list(np.linspace(1.0, 4.0, g)),
        seeds=list(range(n_nets // g)),
        cost="quadratic",
        init="large",
    )
    steps = len(train) // 10
    weights = sum(a * b + b for a, b in zip(BOOK[:-1], BOOK[1:]))
    floor = steps * 2 * 4 * weights * n_nets / bw
    return {"N": n_nets, "steps": steps, "epoch_s": res.seconds[1], "floor_s": floor, "x_floor": res.seconds[1] / floor}


def conv_epoch(x, y, repeats: int) -> dict:
    net = jaxnn.conv_net(
        [jaxnn.ConvPool(20, 5), jaxnn.ConvPool(40, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)], (1, 28, 28)
    )
    params = jaxnn.init_network(jax.random.key(0), net)
    transform = optim.book_transformation(False)
    epoch = epoch_fn(structure(net), "backprop", len(x), 10, transform, False, "drop")
    x, y = jnp.asarray(x.reshape(-1, 1, 28, 28)), jnp.asarray(y)
    state = (params, optim.book_state(transform, params, 0.1, 0.0))
    hp = {"reg_scale": 0.0, "p_dropout": jnp.zeros(len(net.layers))}
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        state = jax.block_until_ready(epoch(state, jax.random.key(1), x, y, hp))
        times.append(time.perf_counter() - t)
    return {"epoch_s": statistics.median(times[1:]), "first_epoch_s": times[0], "images": len(x)}


def time_to_99(small: bool, out_dir: Path) -> dict:
    """``time_to_accuracy.py``'s conv-fast recipe, jaxnn only, cold and warm compilation cache."""
    path = out_dir / "time_to_accuracy.json"
    cmd = [sys.executable, str(HERE / "time_to_accuracy.py"), "--only", "conv-fast", "--impls", "jaxnn"]
    cmd += ["--rounds", "1", "--json", str(path)] + (["--max-epochs", "1", "--train-size", "1000"] if small else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode or not path.exists():
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1], "rows": []}
    rows = json.loads(path.read_text())["rows"]
    return {"rows": [{k: row[k] for k in ("implementation", "median", "total_s")} for row in rows]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for results.json and results.md")
    ap.add_argument("--small", action="store_true", help="small sizes (the CPU dry run)")
    args = ap.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    small = args.small
    dev = jax.devices()[0]
    data = jaxnn.load_mnist()
    n_mlp, n_sweep, n_conv = (2000, 1000, 500) if small else (50_000, 50_000, 50_000)
    sweep_n = 16 if small else 1024
    repeats = 1 if small else 3
    put = lambda n: jaxnn.Split(jax.device_put(data.training.x[:n]), jax.device_put(data.training.y[:n]))  # noqa: E731
    r: dict = {
        "device": f"{dev.device_kind} ({jax.default_backend()})",
        "devices": len(jax.devices()),
        "jax": jax.__version__,
        "host": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "small": small,
    }
    t0 = time.perf_counter()
    r["bandwidth_GBps"] = bandwidth(64 if small else 1024) / 1e9
    r["mlp"] = mlp_epoch(put(n_mlp), repeats)
    r["sweep"] = sweep_floor(put(n_sweep), sweep_n, r["bandwidth_GBps"] * 1e9)
    r["conv"] = conv_epoch(data.training.x[:n_conv], data.training.y[:n_conv], repeats)
    r["time_to_99"] = time_to_99(small, out_dir)
    r["wall_s"] = time.perf_counter() - t0
    (out_dir / "results.json").write_text(json.dumps(r, indent=2))
    m, s, c = r["mlp"], r["sweep"], r["conv"]
    lines = [
        f"# jaxnn on {r['device']}",
        "",
        f"jax {r['jax']}; host {r['host']}; device copy bandwidth {r['bandwidth_GBps']:.0f} GB/s"
        + ("; SMALL SIZES (dry run)" if small else ""),
        "",
        "| measurement | result |",
        "|---|---|",
        f"| book MLP epoch ({m['images']:,} images, mini-batch 10) | {m['epoch_s']:.3f} s (first epoch "
        f"{m['first_epoch_s']:.2f} s) |",
        f"| sweep of {s['N']} book networks ({s['steps']} steps) | {s['epoch_s']:.3f} s per epoch; bandwidth floor "
        f"{s['floor_s']:.3f} s; {s['x_floor']:.1f}× the floor |",
        f"| two-conv net epoch ({c['images']:,} images, mini-batch 10) | {c['epoch_s']:.2f} s (first epoch "
        f"{c['first_epoch_s']:.2f} s) |",
    ]
    for row in r["time_to_99"]["rows"]:
        total = "not reached" if row["total_s"] is None else f"{row['total_s']:.1f} s"
        phases = ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in row["median"].items())
        lines.append(f"| time to 99% test, conv-fast recipe, {row['implementation']} | {total} ({phases}) |")
    if "error" in r["time_to_99"]:
        lines.append(f"| time to 99% | failed: {r['time_to_99']['error']} |")
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if "error" in r["time_to_99"] else 0


if __name__ == "__main__":
    sys.exit(main())
