#!/usr/bin/env python
"""Seconds per training epoch of the book's network: jaxnn against the usual alternatives.

The configuration is the one of chapter 1 of *Neural Networks and Deep Learning*: sizes
[784, 30, 10], sigmoid everywhere, quadratic cost, mini-batches of 10, eta = 3.0, one pass over
the 50,000 MNIST training images of ``jaxnn.load_mnist()``. Everything runs in one process on
the same machine, in float32 (``--numpy-dtype float64`` gives the NumPy rows network.py's dtype):

  jaxnn (backprop)        ``jaxnn.sgd(..., gradient="backprop")``: one compiled call per epoch
                          (``lax.scan`` over the mini-batches), hand-written matrix backprop.
  jaxnn (autodiff)        the same with ``gradient="autodiff"`` (``jax.grad``).
  JAX, jit per step       a Python loop over NumPy mini-batches calling a jitted ``jax.grad``
                          step: the loop most people write first.
  PyTorch eager           ``nn.Sequential`` + ``optim.SGD``, a Python loop over mini-batches, with
                          ``torch.set_num_threads`` = the usable cores, and again with 1 thread
                          (skipped, with a note, when torch is not importable).
  NumPy, matrix           network.py's update computed for the whole mini-batch at once (rows).
  NumPy, per example      network.py's algorithm as written: column vectors, ``backprop(x, y)``
                          one example at a time, summed over the mini-batch, then one step.
  PyTorch torch.compile   the PyTorch loop with the model wrapped in ``torch.compile`` (skipped,
                          with the reason, where it fails, e.g. without a C++ compiler).

Each table also gives "% of FLOP floor": the epoch's matrix-multiply work at the machine's SGEMM
rate (measured at the start with NumPy float32 products of 2048 × 2048 matrices), divided by the
measured time. After the book's network, shorter tables time three more configurations with
the same implementations: [784, 100, 10]; mini-batch 100; and network2's cross-entropy cost with
L2 (λ = 5, η = 0.5) (``--configs book`` leaves them out).

jaxnn's epochs are timed by ``jaxnn.sgd`` itself (``History.seconds``: from the epoch's call to
``block_until_ready`` of the new parameters) after a first, compiling epoch whose extra time is
reported as "compile". Every implementation is set up and warmed up first; then the timed runs
go round-robin, one run of each implementation per round, so that a burst of other work on the
machine hits all rows alike; each row is the median of ``--repeats`` rounds. The slow baselines
are timed on a prefix of their shuffled epoch and scaled to 50,000 examples; the table says so.

Usage, from the repository root::

    python benchmarks/epoch_speed.py                    # the full table (under a minute on 2 idle cores)
    python benchmarks/epoch_speed.py --quick            # a rough table in about 20 seconds
    python benchmarks/epoch_speed.py --variants         # also time jaxnn variants (where the time goes)
    python benchmarks/epoch_speed.py --check-accuracy   # train the baselines for 2 epochs, print test accuracy
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from typing import List, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

import jaxnn

ETA = 3.0
MINI_BATCH = 10


class Config(NamedTuple):
    """One training configuration: what every implementation of a table trains."""

    name: str
    sizes: tuple
    m: int = MINI_BATCH
    eta: float = ETA
    cost: str = "quadratic"  # or "cross-entropy" (sigmoid output, network2's cost)
    lmbda: float = 0.0  # L2 as network2 applies it: w <- (1 - eta*lmbda/n) w - (eta/m) sum of gradients

    def flops(self, n: int) -> float:
        """Matrix-multiply FLOPs of one epoch over n examples: the forward pass 2·n_in·n_out per
        layer, BP4 as much again, BP2 2·n_in·n_out for every layer but the first."""
        fwd = sum(2 * a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        bp2 = sum(2 * a * b for a, b in zip(self.sizes[1:-1], self.sizes[2:]))
        return n * (2 * fwd + bp2)

    def describe(self) -> str:
        cost = "quadratic cost" if self.cost == "quadratic" else "cross-entropy cost"
        l2 = f", L2 λ = {self.lmbda:g}" if self.lmbda else ""
        return f"sizes {list(self.sizes)}, sigmoid, {cost}{l2}, mini-batch {self.m}, η = {self.eta:g}"


BOOK = Config("the book's network", (784, 30, 10))
#: The other configurations of the performance issue, each timed in a shorter table.
OTHER_CONFIGS = (
    Config("[784, 100, 10]", (784, 100, 10)),
    Config("mini-batch 100", (784, 30, 10), m=100),
    Config("network2: cross-entropy + L2", (784, 30, 10), eta=0.5, cost="cross-entropy", lmbda=5.0),
)


def _prefix(limit: int, n: int, m: int = MINI_BATCH) -> int:
    """A whole number of mini-batches, at least one, at most the epoch."""
    return max(m, min(n, limit - limit % m))


# ----------------------------------------------------------------------------- runners
#
# A runner is set up once (built, compiled, warmed up), then run() times one pass over its
# `examples` examples and returns the seconds.


class Runner:
    name = ""
    note = ""
    examples = 0
    n = 0
    compile_s: Optional[float] = None

    def setup(self) -> None:
        pass

    def run(self) -> float:
        raise NotImplementedError


class LoopRunner(Runner):
    """A runner whose ``_train(count)`` times one pass over ``count`` shuffled examples."""

    def _train(self, count) -> float:
        raise NotImplementedError

    def setup(self):
        self._train(min(self.examples, 2000))

    def run(self):
        return self._train(self.examples)


class JaxnnRunner(Runner):
    """``jaxnn.sgd`` for one epoch per run; the epoch is compiled once (sgd caches it), and each run
    continues from the previous run's parameters with a new shuffle."""

    def __init__(self, gradient, params0, x, y, mini_batch=None, cfg: Config = BOOK):
        # The data go to the device once, as within one sgd run. Handing sgd NumPy arrays on every
        # call would put a fresh 157 MB copy in each timed epoch: the copy is asynchronous, so the
        # epoch's block_until_ready waits for it.
        self.x, self.y = jax.block_until_ready((jnp.asarray(x), jnp.asarray(y)))
        self.gradient, self.m, self.cfg = gradient, mini_batch or cfg.m, cfg
        self.params = params0
        self.n = self.examples = len(x)
        self.name = f"jaxnn ({gradient})" if self.m == cfg.m else f"jaxnn ({gradient}, mini-batch {self.m})"
        self.note = "jaxnn.sgd, one compiled call per epoch"
        self.first = None
        self.seed = 0

    def _epoch(self) -> float:
        self.seed += 1
        cfg = self.cfg
        self.params, history = jaxnn.sgd(
            self.params,
            (self.x, self.y),
            1,
            self.m,
            cfg.eta,
            key=self.seed,
            gradient=self.gradient,
            activation="sigmoid",
            cost=cfg.cost,
            lmbda=cfg.lmbda,
            regularizer="l2",
        )
        return history.seconds[0]

    def setup(self):
        self.first = self._epoch()  # traces and compiles
        self._epoch()  # warm-up

    def run(self):
        return self._epoch()


def _np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _np_sigmoid_prime(z):
    return _np_sigmoid(z) * (1 - _np_sigmoid(z))


class NetworkPy:
    """network.py's Network, kept line for line (weights (n_out, n_in), biases (n_out, 1))."""

    def __init__(self, params, dtype, cost="quadratic"):
        self.num_layers, self.cost = len(params) + 1, cost
        self.weights = [np.array(p["w"], dtype) for p in params]
        self.biases = [np.array(p["b"], dtype).reshape(-1, 1) for p in params]
        self.dtype = dtype

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = _np_sigmoid(np.dot(w, a) + b)
        return a

    def update_mini_batch(self, mini_batch, eta, decay=1.0):
        nabla_b = [np.zeros(b.shape, self.dtype) for b in self.biases]
        nabla_w = [np.zeros(w.shape, self.dtype) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [decay * w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape, self.dtype) for b in self.biases]
        nabla_w = [np.zeros(w.shape, self.dtype) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = _np_sigmoid(z)
            activations.append(activation)
        delta = activations[-1] - y  # network2's CrossEntropyCost.delta
        if self.cost == "quadratic":
            delta = delta * _np_sigmoid_prime(zs[-1])  # cost_derivative · σ'(z^L)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = _np_sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w

    def train(self, xs, ys, order, eta, mini_batch=MINI_BATCH, lmbda=0.0):
        """network.py's SGD loop over the examples in `order` (a prefix of a shuffled epoch), with
        network2's L2 weight decay when lmbda > 0."""
        decay = 1 - eta * lmbda / len(xs)
        for k in range(0, len(order), mini_batch):
            self.update_mini_batch([(xs[i], ys[i]) for i in order[k : k + mini_batch]], eta, decay)

    def evaluate(self, x, labels):
        return sum(int(np.argmax(self.feedforward(col.reshape(-1, 1))) == l) for col, l in zip(x, labels))


class NetworkMatrix:
    """The same SGD update, with the whole mini-batch as one matrix of rows."""

    def __init__(self, params, dtype, cost="quadratic"):
        self.weights = [np.array(p["w"], dtype) for p in params]
        self.biases = [np.array(p["b"], dtype) for p in params]
        self.cost = cost

    def train(self, x, y_one_hot, order, eta, mini_batch=MINI_BATCH, lmbda=0.0):
        ws, bs = self.weights, self.biases
        decay = 1 - eta * lmbda / len(x)
        for k in range(0, len(order), mini_batch):
            idx = order[k : k + mini_batch]
            a = x[idx]
            acts = [a]
            for w, b in zip(ws, bs):
                a = _np_sigmoid(a @ w.T + b)
                acts.append(a)
            delta = a - y_one_hot[idx]  # BP1 for the cross-entropy cost
            if self.cost == "quadratic":
                delta *= a * (1 - a)  # BP1, with σ'(z) = a(1 − a)
            scale = eta / len(idx)
            for l in range(len(ws) - 1, -1, -1):
                grad_w = delta.T @ acts[l]  # BP4, summed over the mini-batch
                grad_b = delta.sum(axis=0)  # BP3
                if l:
                    delta = (delta @ ws[l]) * acts[l] * (1 - acts[l])  # BP2, before w^l moves
                if lmbda:
                    ws[l] *= decay
                ws[l] -= scale * grad_w
                bs[l] -= scale * grad_b

    def evaluate(self, x, labels):
        a = x
        for w, b in zip(self.weights, self.biases):
            a = _np_sigmoid(a @ w.T + b)
        return int(np.sum(np.argmax(a, axis=1) == labels))


class NumpyRunner(LoopRunner):
    def __init__(self, kind, params0, x, y_one_hot, limit, dtype, cfg: Config = BOOK):
        self.n, self.cfg = len(x), cfg
        self.examples = _prefix(limit, self.n, cfg.m)
        x = np.asarray(x, dtype)
        y_one_hot = np.asarray(y_one_hot, dtype)
        if kind == "per-example":
            self.net = NetworkPy(params0, dtype, cfg.cost)
            self.xs, self.ys = x[:, :, None], y_one_hot[:, :, None]  # column vectors, as mnist_loader gives
            self.name = "NumPy, per example (network.py)"
        else:
            self.net = NetworkMatrix(params0, dtype, cfg.cost)
            self.xs, self.ys = x, y_one_hot
            self.name = "NumPy, matrix over the mini-batch"
        self.note = f"{np.dtype(dtype).name}, Python loop over mini-batches"
        self.rng = np.random.default_rng(2)

    def _train(self, count):
        order = self.rng.permutation(self.n)[:count]  # network.py shuffles at the start of every epoch
        with np.errstate(over="ignore"):  # exp(−z) overflows to inf for very negative z: σ is then 0, as it should be
            start = time.perf_counter()
            self.net.train(self.xs, self.ys, order, self.cfg.eta, self.cfg.m, self.cfg.lmbda)
            return time.perf_counter() - start


class TorchRunner(LoopRunner):
    """``nn.Sequential`` + ``optim.SGD`` in a Python loop over mini-batches; ``compiled`` wraps the
    model in ``torch.compile`` (forward and backward compiled by TorchInductor)."""

    def __init__(self, params0, x, y_one_hot, limit, threads, cfg: Config = BOOK, compiled: bool = False):
        import torch

        self.torch, self.cfg = torch, cfg
        self.threads = threads
        self.n = len(x)
        self.examples = _prefix(limit, self.n, cfg.m)
        torch.manual_seed(0)
        layers = []
        for p in params0:
            w = np.array(p["w"], np.float32)
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(np.array(p["b"], np.float32)))
            layers += [lin, torch.nn.Sigmoid()]
        self.model = torch.nn.Sequential(*layers[:-1])  # the last sigmoid is applied in the loss
        # network2's L2 on the weights only: torch adds weight_decay·w to the gradient before the
        # step, so weight_decay = λ/n gives w <- (1 − ηλ/n)w − η·grad.
        weights = [q for name, q in self.model.named_parameters() if name.endswith("weight")]
        biases = [q for name, q in self.model.named_parameters() if name.endswith("bias")]
        self.opt = torch.optim.SGD(
            [{"params": weights, "weight_decay": cfg.lmbda / self.n}, {"params": biases, "weight_decay": 0.0}],
            lr=cfg.eta,
        )
        self.forward = torch.compile(self.model) if compiled else self.model
        self.X = torch.from_numpy(np.array(x, np.float32))
        self.Y = torch.from_numpy(np.array(y_one_hot, np.float32))
        kind = "PyTorch torch.compile" if compiled else "PyTorch eager"
        self.name = f"{kind}, {threads} thread{'s' if threads > 1 else ''}"
        self.note = (
            f"torch {torch.__version__}, {'torch.compile(model)' if compiled else 'autograd'} + optim.SGD, "
            "Python loop over mini-batches"
        )
        self.ready = False

    def setup(self):
        if self.ready:  # already set up (and compiled) before the timing
            return
        start = time.perf_counter()
        self._train(self.cfg.m)  # the first step: traces and compiles under torch.compile
        self.compile_s = time.perf_counter() - start if self.forward is not self.model else None
        super().setup()
        self.ready = True

    def model_output(self, xb):
        return self.torch.sigmoid(self.model(xb))

    def _train(self, count):
        torch = self.torch
        torch.set_num_threads(self.threads)
        forward, opt, X, Y, m = self.forward, self.opt, self.X, self.Y, self.cfg.m
        cross_entropy = self.cfg.cost == "cross-entropy"
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        perm = torch.randperm(self.n)[:count]
        start = time.perf_counter()
        for k in range(0, count, m):
            idx = perm[k : k + m]
            xb, yb = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            z = forward(xb)
            if cross_entropy:  # network2's cost, summed over the outputs, mean over the mini-batch
                loss = bce(z, yb, reduction="sum") / len(idx)
            else:  # quadratic cost, mean over the mini-batch
                loss = 0.5 * ((torch.sigmoid(z) - yb) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
        return time.perf_counter() - start


class JaxPerStepRunner(LoopRunner):
    """A jitted jax.grad step called from a Python loop over NumPy mini-batches."""

    def __init__(self, params0, x, y_one_hot, limit, cfg: Config = BOOK):
        self.n, self.cfg = len(x), cfg
        self.examples = _prefix(limit, self.n, cfg.m)
        self.x = np.asarray(x, np.float32)
        self.y = np.asarray(y_one_hot, np.float32)
        self.name = "JAX, jit per step (Python loop)"
        self.note = "NumPy mini-batches, one jitted call per step"

        n = self.n

        def loss(params, xb, yb):
            a = xb
            for layer in params[:-1]:
                a = jax.nn.sigmoid(a @ layer["w"].T + layer["b"])
            z = a @ params[-1]["w"].T + params[-1]["b"]
            if cfg.cost == "cross-entropy":
                c = jnp.mean(jnp.sum(jax.nn.softplus(z) - yb * z, axis=1))  # −y ln σ(z) − (1 − y) ln(1 − σ(z))
            else:
                c = 0.5 * jnp.mean(jnp.sum((jax.nn.sigmoid(z) - yb) ** 2, axis=1))
            return c + cfg.lmbda / (2 * n) * sum(jnp.sum(layer["w"] ** 2) for layer in params)

        @jax.jit
        def step(params, xb, yb):
            grads = jax.grad(loss)(params, xb, yb)
            return jax.tree_util.tree_map(lambda p, g: p - cfg.eta * g, params, grads)

        self.step = step
        self.params = jax.tree_util.tree_map(jnp.array, params0)
        self.rng = np.random.default_rng(3)

    def _train(self, count):
        order = self.rng.permutation(self.n)[:count]
        x, y, step, params = self.x, self.y, self.step, self.params
        start = time.perf_counter()
        for k in range(0, count, self.cfg.m):
            idx = order[k : k + self.cfg.m]
            params = step(params, x[idx], y[idx])
        jax.block_until_ready(params)
        self.params = params
        return time.perf_counter() - start

    def setup(self):
        self.compile_s = self._train(self.cfg.m)
        super().setup()


def runner_factories(params0, x, y, y_one_hot, threads, np_dtype, baseline_n, torch_n, per_example_n) -> dict:
    """The book-configuration rows, in table order: key -> a function that builds the runner.
    The keys name the rows for ``--skip`` (by their first word) and ``--peak-memory-of``."""
    f = {
        "backprop": lambda: JaxnnRunner("backprop", params0, x, y),
        "autodiff": lambda: JaxnnRunner("autodiff", params0, x, y),
        "jax-step": lambda: JaxPerStepRunner(params0, x, y_one_hot, baseline_n),
        "torch": lambda: TorchRunner(params0, x, y_one_hot, torch_n, threads),
    }
    if threads != 1:  # eager PyTorch on tiny matrices is sensitive to its thread count
        f["torch-1"] = lambda: TorchRunner(params0, x, y_one_hot, torch_n, 1)
    f["torch-compile"] = lambda: TorchRunner(params0, x, y_one_hot, torch_n, threads, compiled=True)
    f["matrix"] = lambda: NumpyRunner("matrix", params0, x, y_one_hot, baseline_n, np_dtype)
    f["per-example"] = lambda: NumpyRunner("per-example", params0, x, y_one_hot, per_example_n, np_dtype)
    return f


def _peak_rss_mb() -> float:
    """This process's peak resident set in MB (VmHWM; ru_maxrss would include the parent's peak
    from before exec, which Linux carries over into a child)."""
    import resource

    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_of(key: str, argv: List[str]) -> Optional[float]:
    """Peak resident memory (MB) of a fresh process that loads MNIST, sets up the row ``key`` and
    runs one timed pass; the same options as this run."""
    import subprocess

    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), *argv, "--peak-memory-of", key], capture_output=True, text=True
    )
    line = next((l for l in out.stdout.splitlines() if l.startswith("PEAK ")), None)
    return None if line is None else json.loads(line[len("PEAK ") :])["peak_rss_mb"]


# ----------------------------------------------------------------------------- results


class Result:
    """One row of the table."""

    def __init__(self, runner: Runner, times: List[float]):
        self.name, self.note, self.examples, self.n = runner.name, runner.note, runner.examples, runner.n
        self.times = times  # seconds for `examples` examples, one per round
        self.compile_s = runner.compile_s
        self.key = getattr(runner, "key", None)
        self.peak_mb: Optional[float] = None  # filled in by a fresh process, see peak_memory_of
        if isinstance(runner, JaxnnRunner):  # the first epoch's extra time over a steady one
            self.compile_s = runner.first - statistics.median(times)

    @property
    def seconds(self) -> float:
        """Median seconds per epoch of n examples (scaled when only a prefix was timed)."""
        return statistics.median(self.times) * self.n / self.examples

    @property
    def per_second(self) -> float:
        return self.n / self.seconds

    @property
    def timed_on(self) -> str:
        if self.examples == self.n:
            return "whole epoch"
        return f"{self.examples:,} of {self.n:,} examples, ×{self.n / self.examples:g}"

    def as_dict(self) -> dict:
        return {
            "implementation": self.name,
            "seconds_per_epoch": self.seconds,
            "examples_per_second": self.per_second,
            "examples_timed": self.examples,
            "raw_seconds": self.times,
            "compile_seconds": self.compile_s,
            "peak_rss_mb": self.peak_mb,
            "note": self.note,
        }


def run_round_robin(runners: List[Runner], repeats: int) -> List[Result]:
    for r in runners:
        start = time.perf_counter()
        r.setup()
        print(f"  set up {r.name} ({time.perf_counter() - start:.1f} s)", flush=True)
    times = {id(r): [] for r in runners}
    for k in range(repeats):
        for r in runners:
            times[id(r)].append(r.run())
        print(
            f"  round {k + 1}/{repeats}: "
            + ", ".join(f"{times[id(r)][-1] * r.n / r.examples:.3f}" for r in runners)
            + " s/epoch",
            flush=True,
        )
    return [Result(r, times[id(r)]) for r in runners]


def markdown_table(results: List[Result], floor_s: Optional[float] = None) -> List[str]:
    """The table; ``floor_s`` is the epoch's matrix-multiply work at the measured SGEMM rate, and
    "% of FLOP floor" is floor_s / (s / epoch)."""
    base = results[0].seconds
    memory = any(r.peak_mb is not None for r in results)
    lines = [
        "| implementation | s / epoch | examples / s | × slower than jaxnn | % of FLOP floor | compile (s) "
        + ("| peak memory (MB) " if memory else "")
        + "| timed on | notes |",
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if memory else "") + "---|---|",
    ]
    for r in results:
        comp = f"{r.compile_s:.2f}" if r.compile_s is not None else "–"
        floor = f"{100 * floor_s / r.seconds:.1f}%" if floor_s else "–"
        peak = (f"{r.peak_mb:.0f} | " if r.peak_mb is not None else "– | ") if memory else ""
        lines.append(
            f"| {r.name} | {r.seconds:.3f} | {r.per_second:,.0f} | {r.seconds / base:.1f}× | {floor} | "
            f"{comp} | {peak}{r.timed_on} | {r.note} |"
        )
    return lines


def sgemm_rate(size: int = 2048, repeats: int = 5) -> float:
    """The machine's float32 matrix-multiply rate in FLOP/s: the best of ``repeats`` NumPy
    (OpenBLAS) products of two size × size matrices, all cores."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, size, size), dtype=np.float32)
    a @ b  # warm-up
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best


def _timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- other configurations


def run_other_configs(data, rate: float, repeats: int, quick: bool, skip: set) -> dict:
    """One shorter table per configuration of :data:`OTHER_CONFIGS`: jaxnn both ways, the JAX
    per-step loop, PyTorch eager (1 thread) and both NumPy implementations (per example on a short
    prefix)."""
    x, y = data.training.x, data.training.y
    y_one_hot = np.eye(10, dtype=np.float32)[y]
    out = {}
    for cfg in OTHER_CONFIGS:
        params0 = [
            {k: np.array(v) for k, v in layer.items()}
            for layer in jaxnn.init_params(jax.random.key(0), list(cfg.sizes), "large")
        ]
        runners: List[Runner] = [JaxnnRunner("backprop", params0, x, y, cfg=cfg)]
        if "autodiff" not in skip:
            runners.append(JaxnnRunner("autodiff", params0, x, y, cfg=cfg))
        if "jax-step" not in skip:
            runners.append(JaxPerStepRunner(params0, x, y_one_hot, 10_000 if quick else 50_000, cfg))
        if "torch" not in skip and importlib.util.find_spec("torch") is not None:
            # one thread: on this kind of machine it was never slower than more threads for these
            # tiny matrices, and it is far less hurt by other work on the cores
            runners.append(TorchRunner(params0, x, y_one_hot, 2000 if quick else 10_000, 1, cfg))
        if "matrix" not in skip:
            runners.append(NumpyRunner("matrix", params0, x, y_one_hot, 10_000 if quick else 50_000, np.float32, cfg))
        if "per-example" not in skip:
            runners.append(NumpyRunner("per-example", params0, x, y_one_hot, 1000 if quick else 2000, np.float32, cfg))
        floor_s = cfg.flops(len(x)) / rate
        print(
            f"\n## {cfg.name}: {cfg.describe()} (median of {repeats}; FLOP floor {floor_s * 1e3:.1f} ms)\n", flush=True
        )
        results = run_round_robin(runners, repeats)
        table = markdown_table(results, floor_s)
        print("\n".join(table), flush=True)
        out[cfg.name] = {
            "config": cfg._asdict(),
            "floor_s": floor_s,
            "table": table,
            "results": [r.as_dict() for r in results],
        }
    return out


# ----------------------------------------------------------------------------- variants


def _permutation_one_sort(key, n: int):
    """A uniform permutation from one sort on 64 random bits per index (jax.random.permutation
    draws and sorts twice for n = 50,000)."""
    hi, lo = jax.random.bits(key, (2, n), jnp.uint32)
    return jax.lax.sort((hi, lo, jnp.arange(n, dtype=jnp.int32)), num_keys=2)[2]


def _rebuilt_epoch(
    n: int,
    m: int,
    unroll: int = 1,
    contiguous: bool = False,
    part: str = "all",
    one_sort: bool = False,
    gather_steps: int = 1,
):
    """An epoch built like jaxnn's (a permutation, ``lax.scan``, each mini-batch gathered by index,
    the public hand-written ``jaxnn.backprop``), with knobs; for ``--variants`` only.

    part: "all" (the whole epoch), "permutation" (only draw the permutation) or "loop" (the scan
    and the gathers, with a trivial body in place of the gradient and the update).
    one_sort: draw the permutation with :func:`_permutation_one_sort`.
    gather_steps: gather this many mini-batches' rows at once, then scan over their slices
    (``jaxnn.sgd`` gathers 100 at once; the other rebuilt rows gather each mini-batch alone).
    """
    steps = n // m

    def step(params, xb, labels, eta):
        g = jaxnn.backprop(params, xb, labels, activation="sigmoid", cost="quadratic")
        return jax.tree_util.tree_map(lambda p, d: p - eta * d, params, g)

    def epoch(params, key, x, y, eta):
        perm = (_permutation_one_sort(key, n) if one_sort else jax.random.permutation(key, n))[: steps * m]
        eta = jnp.asarray(eta, x.dtype)
        if part == "permutation":
            return jax.tree_util.tree_map(lambda p: p.at[0].add(perm[0].astype(p.dtype) * 1e-30), params)
        if part == "loop":

            def body(acc, idx):
                xb, labels = x[idx], jax.nn.one_hot(y[idx], 10, dtype=x.dtype)
                return acc + jnp.sum(xb) + jnp.sum(labels), None

            acc, _ = jax.lax.scan(body, jnp.zeros((), x.dtype), perm.reshape(steps, m), unroll=unroll)
            return jax.tree_util.tree_map(lambda p: p.at[0].add(acc * 1e-30), params)
        if contiguous:  # shuffle the data once (one big gather), then scan over contiguous slices
            xs = x[perm].reshape(steps, m, -1)
            ys = y[perm].reshape(steps, m)
            params, _ = jax.lax.scan(lambda p, b: (step(p, b[0], b[1], eta), None), params, (xs, ys), unroll=unroll)
        elif gather_steps > 1:  # one gather per group of mini-batches, as jaxnn.sgd does
            g = gather_steps
            groups = perm[: steps // g * g * m].reshape(steps // g, g * m)

            def group(p, idx):
                xs, ys = x[idx].reshape(g, m, -1), y[idx].reshape(g, m)
                return jax.lax.scan(lambda p, b: (step(p, b[0], b[1], eta), None), p, (xs, ys), unroll=unroll)[0], None

            params, _ = jax.lax.scan(group, params, groups)
            params, _ = jax.lax.scan(
                lambda p, idx: (step(p, x[idx], y[idx], eta), None), params, perm[steps // g * g * m :].reshape(-1, m)
            )
        else:  # gather each mini-batch by index inside the scan
            params, _ = jax.lax.scan(
                lambda p, idx: (step(p, x[idx], y[idx], eta), None), params, perm.reshape(steps, m), unroll=unroll
            )
        return params

    return jax.jit(epoch, donate_argnums=0)


class RebuiltRunner(Runner):
    def __init__(self, name, params0, x, y, bfloat16=False, **knobs):
        self.name, self.note = name, "rebuilt epoch (see _rebuilt_epoch)"
        self.n = self.examples = len(x)
        self.f = _rebuilt_epoch(self.n, MINI_BATCH, **knobs)
        dtype = jnp.bfloat16 if bfloat16 else None
        self.x, self.y = jnp.asarray(x, dtype), jnp.asarray(y)
        self.params = jax.tree_util.tree_map(lambda p: jnp.array(p, dtype), params0)
        self.key = jax.random.key(1)
        self.k = 0

    def run(self):
        self.k += 1
        start = time.perf_counter()
        self.params = self.f(self.params, jax.random.fold_in(self.key, self.k), self.x, self.y, ETA)
        jax.block_until_ready(self.params)
        return time.perf_counter() - start

    def setup(self):
        self.compile_s = self.run()
        self.run()


def run_variants(params0, x, y, repeats: int) -> List[str]:
    """Timings that show where a jaxnn epoch spends its time."""
    runners = [
        JaxnnRunner("backprop", params0, x, y),
        JaxnnRunner("backprop-per-example", params0, x, y),
        JaxnnRunner("backprop", params0, x, y, mini_batch=100),
        JaxnnRunner("backprop", params0, x, y, mini_batch=1000),
        RebuiltRunner("rebuilt epoch: the permutation of 50,000 only", params0, x, y, part="permutation"),
        RebuiltRunner("rebuilt epoch: a one-sort permutation only", params0, x, y, part="permutation", one_sort=True),
        RebuiltRunner("rebuilt epoch: permutation + scan + gathers, no gradient", params0, x, y, part="loop"),
        RebuiltRunner("rebuilt epoch: whole", params0, x, y),
        RebuiltRunner("rebuilt epoch, one-sort permutation", params0, x, y, one_sort=True),
        RebuiltRunner("rebuilt epoch, scan unroll=2", params0, x, y, unroll=2),
        RebuiltRunner("rebuilt epoch, scan unroll=10", params0, x, y, unroll=10),
        RebuiltRunner("rebuilt epoch, data shuffled once, then contiguous slices", params0, x, y, contiguous=True),
        RebuiltRunner("rebuilt epoch, 100 mini-batches gathered at once", params0, x, y, gather_steps=100),
        RebuiltRunner("rebuilt epoch, 10 mini-batches gathered at once", params0, x, y, gather_steps=10),
        RebuiltRunner("rebuilt epoch, bfloat16 data and weights", params0, x, y, bfloat16=True),
    ]
    print(f"\n## Variants (median of {repeats} rounds)\n", flush=True)
    results = run_round_robin(runners, repeats)
    base = results[0].seconds
    lines = ["| variant | s / epoch | vs jaxnn (backprop) |", "|---|---:|---:|"]
    for r in results:
        lines.append(f"| {r.name} | {r.seconds:.3f} | {r.seconds / base:.2f}× |")

    sizes = [params0[0]["w"].shape[1]] + [q["w"].shape[0] for q in params0]
    flops = BOOK._replace(sizes=tuple(sizes)).flops(len(x))
    steps = len(x) // MINI_BATCH
    lines += [
        "",
        f"Matrix-multiply work of one epoch, counted by hand: {flops / 1e9:.2f} GFLOP, i.e. "
        f"{flops / base / 1e9:.0f} GFLOP/s at {base:.3f} s/epoch; {base / steps * 1e6:.1f} µs per "
        f"mini-batch step of 10.",
    ]
    print("\n" + "\n".join(lines), flush=True)
    return lines


# ----------------------------------------------------------------------------- machine


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001
        return "not installed"


def _loadavg():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine_info() -> List[str]:
    cpu, family, model, avx512 = platform.processor() or "unknown", "?", "?", False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name":
                    cpu = value
                elif key == "cpu family":
                    family = value
                elif key == "model":
                    model = value
                elif key == "flags":
                    avx512 = "avx512f" in value.split()
                    break
    except OSError:
        pass
    return [
        f"CPU: {cpu} (family {family}, model {model}, AVX-512 {'yes' if avx512 else 'no'}); "
        f"{os.cpu_count()} logical cores, {usable_cores()} usable by this process",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()}); Python {platform.python_version()}",
        f"jax {jax.__version__}, jaxlib {_version('jaxlib')} (backend {jax.default_backend()}), numpy {np.__version__}, "
        f"torch {_version('torch')}, jaxnn {jaxnn.__version__}",
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '(unset)')}",
        "load average at the start (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in _loadavg()),
    ]


# ----------------------------------------------------------------------------- memory and compile time

_FRESH = """
import json, resource, sys, time
t0 = time.perf_counter()
import jax, jaxnn
sizes = [int(s) for s in sys.argv[1].split(",")]
d = jaxnn.load_mnist()
def rss():  # the peak resident set of this process image, in MB (ru_maxrss would include the parent's
    # peak from before exec, which Linux carries over)
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = rss()
params = jaxnn.init_params(jax.random.key(0), sizes, "large")
_, h = jaxnn.sgd(params, d.training, 3, 10, 3.0, key=1, evaluation_data=d.test)
print("FRESH", json.dumps({"peak_rss_mb": rss(), "rss_before_training_mb": before, "epoch_seconds": h.seconds,
                          "compile_s": h.seconds[0] - min(h.seconds[1:]), "process_s": time.perf_counter() - t0}))
"""


def fresh_process(sizes) -> Optional[dict]:
    """Peak resident memory of a fresh process that trains ``sizes`` for 3 epochs with ``jaxnn.sgd``
    (test accuracy every epoch), and how much longer its first, compiling epoch took."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", _FRESH, ",".join(map(str, sizes))],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("FRESH ")), None)
    if line is None:
        print(f"memory measurement failed: {out.stderr[-500:]}")
        return None
    return json.loads(line[len("FRESH ") :])


# ----------------------------------------------------------------------------- accuracy check


def check_accuracy(params0, data, epochs: int) -> None:
    """Trains the baselines for a few whole epochs and prints their test accuracy."""
    x, y = data.training.x, data.training.y
    yoh = np.eye(10, dtype=np.float32)[y]
    tx, ty = data.test.x, data.test.y
    rng = np.random.default_rng(0)
    n = len(x)
    with np.errstate(over="ignore"):
        net = NetworkMatrix(params0, np.float32)
        for e in range(epochs):
            net.train(x, yoh, rng.permutation(n), ETA)
            print(f"NumPy, matrix        epoch {e}: {net.evaluate(tx, ty)} / {len(ty)}", flush=True)
        net = NetworkPy(params0, np.float32)
        for e in range(epochs):
            net.train(x[:, :, None], yoh[:, :, None], rng.permutation(n), ETA)
            print(f"NumPy, per example   epoch {e}: {net.evaluate(tx, ty)} / {len(ty)}", flush=True)
    r = JaxPerStepRunner(params0, x, yoh, n)
    for e in range(epochs):
        r.run()
        print(f"JAX, jit per step    epoch {e}: {jaxnn.evaluate(r.params, tx, ty)} / {len(ty)}", flush=True)
    if importlib.util.find_spec("torch") is not None:
        import torch

        r = TorchRunner(params0, x, yoh, n, 1)  # one thread: only the accuracy matters here
        for e in range(epochs):
            r.run()
            with torch.no_grad():
                pred = r.model(torch.from_numpy(tx)).argmax(dim=1).numpy()
            print(f"PyTorch eager        epoch {e}: {int((pred == ty).sum())} / {len(ty)}", flush=True)
    _, h = jaxnn.sgd(params0, data.training, epochs, MINI_BATCH, ETA, key=1, evaluation_data=data.test)
    print(f"jaxnn.sgd            epochs 0..{epochs - 1}: {h.evaluation_correct} / {len(ty)}")


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=None, help="timed rounds (default 9; 3 with --quick)")
    ap.add_argument(
        "--quick", action="store_true", help="fewer rounds, and the baselines timed on small prefixes of the epoch"
    )
    ap.add_argument("--sizes", default="784,30,10", help="layer sizes, comma separated (default 784,30,10)")
    ap.add_argument(
        "--per-example-examples",
        type=int,
        default=None,
        help="examples timed for NumPy per example (default 10000; 1000 with --quick)",
    )
    ap.add_argument(
        "--torch-examples", type=int, default=None, help="examples timed for PyTorch (default 10000; 2000 with --quick)"
    )
    ap.add_argument(
        "--baseline-examples",
        type=int,
        default=None,
        help="examples timed for NumPy matrix and JAX per step (default 50000; 10000 with --quick)",
    )
    ap.add_argument(
        "--numpy-dtype",
        default="float32",
        choices=["float32", "float64"],
        help="float type of the NumPy rows (network.py itself computes in float64)",
    )
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: the usable cores)")
    ap.add_argument(
        "--skip",
        default="",
        help="comma-separated rows to leave out: autodiff, jax-step, torch, torch-compile, matrix, "
        "per-example, "
        "memory (the fresh-process measurement of peak memory and compile time)",
    )
    ap.add_argument(
        "--variants",
        action="store_true",
        help="also time jaxnn variants (mini-batch size, scan unroll, the permutation, gathers)",
    )
    ap.add_argument(
        "--check-accuracy",
        type=int,
        nargs="?",
        const=2,
        default=0,
        metavar="EPOCHS",
        help="instead of timing, train every implementation for EPOCHS (default 2) epochs and print test accuracy",
    )
    ap.add_argument(
        "--configs",
        default="all",
        choices=["all", "book"],
        help="all (default): after the book's network, also time [784, 100, 10], mini-batch 100 "
        "and network2's cross-entropy + L2 configuration, each in a shorter table; book: only it",
    )
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--peak-memory-of", help=argparse.SUPPRESS)  # worker mode: one row's peak memory
    ap.add_argument("--strict", action="store_true", help="exit with status 1 when a speed target is missed")
    args = ap.parse_args(argv)

    repeats = args.repeats or (3 if args.quick else 9)
    per_example_n = args.per_example_examples or (1000 if args.quick else 10_000)
    torch_n = args.torch_examples or (2000 if args.quick else 10_000)
    baseline_n = args.baseline_examples or (10_000 if args.quick else 50_000)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    sizes = [int(s) for s in args.sizes.split(",")]
    if len(sizes) < 2 or sizes[0] != 784 or sizes[-1] != 10:
        ap.error("--sizes must start with 784 and end with 10 (MNIST)")
    threads = args.threads or usable_cores()
    np_dtype = np.dtype(args.numpy_dtype).type

    info = machine_info()
    print("## Machine\n")
    print("\n".join(f"- {line}" for line in info), flush=True)

    data = jaxnn.load_mnist()
    x, y = data.training.x, data.training.y
    y_one_hot = np.eye(sizes[-1], dtype=np.float32)[y]
    params0 = [
        {k: np.array(v) for k, v in layer.items()} for layer in jaxnn.init_params(jax.random.key(0), sizes, "large")
    ]

    limits = dict(baseline_n=baseline_n, torch_n=torch_n, per_example_n=per_example_n)
    factories = runner_factories(params0, x, y, y_one_hot, threads, np_dtype, **limits)
    if args.peak_memory_of:  # a worker process: one implementation, set up and one timed pass
        runner = factories[args.peak_memory_of]()
        runner.setup()
        runner.run()
        print("PEAK " + json.dumps({"peak_rss_mb": _peak_rss_mb()}))
        return 0

    if args.check_accuracy:
        print(
            f"\nTest accuracy after {args.check_accuracy} epochs (sizes {sizes}, mini-batch {MINI_BATCH}, "
            f"eta {ETA}, float32):\n",
            flush=True,
        )
        check_accuracy(params0, data, args.check_accuracy)
        return 0

    rate = sgemm_rate()
    book = BOOK._replace(sizes=tuple(sizes))
    floor_s = book.flops(len(x)) / rate
    print(
        f"\nSGEMM rate of this machine (NumPy float32, 2048 × 2048 products, best of 5): {rate / 1e9:.0f} GFLOP/s. "
        f"The FLOP floor of an epoch is its matrix-multiply work at that rate: "
        f"{book.flops(len(x)) / 1e9:.2f} GFLOP, {floor_s * 1e3:.1f} ms for the book's network.",
        flush=True,
    )
    print(
        f"\nConfiguration: {book.describe()}, 50,000 MNIST training images, float32 unless noted; "
        f"median of {repeats} round-robin rounds.\n",
        flush=True,
    )

    notes: List[str] = []
    runners: List[Runner] = []
    for key in factories:
        if key != "backprop" and (key.split("-")[0] in skip or key in skip or (key == "torch-compile" and notes)):
            continue
        try:
            start = time.perf_counter()
            runner = factories[key]()
            if key == "torch-compile":  # compiled first, so that a failure can be reported and skipped
                runner.setup()
                print(f"  set up {runner.name}, compiling first ({time.perf_counter() - start:.1f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - torch missing, or torch.compile failing, means "skip the row"
            if not key.startswith("torch"):
                raise
            what = "torch.compile" if key == "torch-compile" else "PyTorch"
            if not any(n.startswith("PyTorch skipped") for n in notes):
                notes.append(
                    f"{what} skipped: it is not importable or fails here "
                    f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})."
                )
                print(notes[-1], flush=True)
            continue
        runner.key = key
        runners.append(runner)

    print("Timing:", flush=True)
    results = run_round_robin(runners, repeats)
    if "memory" not in skip:
        print("Peak memory: each row again in a fresh process (load MNIST, set up, one timed pass)", flush=True)
        worker_argv = [a for a in (argv if argv is not None else sys.argv[1:]) if a not in ("--variants", "--strict")]
        for r in results:
            r.peak_mb = peak_memory_of(r.key, worker_argv) if r.key else None
    table = markdown_table(results, floor_s)
    print(f"\n## Seconds per epoch (median of {repeats})\n")
    print("\n".join(table))
    for note in notes:
        print(f"\n{note}")
    load = _loadavg()
    load_line = f"Load average at the end (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in load)}" + (
        " — other work was running; treat the numbers with care." if load[0] > usable_cores() + 0.5 else ""
    )
    print(f"\n{load_line}")

    base = results[0].seconds
    checks, ok = [], True
    print("\n## Targets\n")
    fast = base <= 0.08
    ok &= fast
    checks.append({"against": "seconds per epoch", "seconds": base, "target": 0.08, "passed": fast})
    print(f"- jaxnn (backprop): {base:.3f} s per epoch (target ≤ 0.08 s): {'PASS' if fast else 'FAIL'}")
    for prefix, need in (
        ("NumPy, per example", 35.0),
        ("NumPy, matrix", 5.0),
        ("PyTorch eager", 12.0),
        ("JAX, jit per step", 2.5),
    ):
        # against the fastest row of that kind (PyTorch eager: the better of its two thread counts)
        r = min((q for q in results if q.name.startswith(prefix)), key=lambda q: q.seconds, default=None)
        if r is None:
            print(f"- {prefix}: not measured")
            continue
        speedup = r.seconds / base
        passed = speedup >= need
        ok &= passed
        checks.append({"against": r.name, "speedup": speedup, "target": need, "passed": passed})
        print(
            f"- jaxnn (backprop) vs {r.name}: {speedup:.1f}× faster (target ≥ {need:g}×): "
            f"{'PASS' if passed else 'FAIL'}"
        )

    fresh = None
    if "memory" not in skip:
        fresh = fresh_process(sizes)
        if fresh is not None:
            passed = fresh["peak_rss_mb"] <= 1024
            print(
                f"\n## Memory and compile time (a fresh process: load MNIST, jaxnn.sgd 3 epochs, test accuracy each)\n\n"
                f"- peak resident memory: {fresh['peak_rss_mb']:.0f} MB ({fresh['rss_before_training_mb']:.0f} MB "
                f"after loading the data, before training) (target ≤ 1024 MB: {'PASS' if passed else 'FAIL'})\n"
                f"- compile time of the new configuration (first epoch minus the fastest later one): "
                f"{fresh['compile_s']:.2f} s (target ≤ 3 s: {'PASS' if fresh['compile_s'] <= 3 else 'FAIL'}); "
                f"epochs: {', '.join(f'{t:.3f}' for t in fresh['epoch_seconds'])} s",
                flush=True,
            )

    other = {} if args.configs == "book" else run_other_configs(data, rate, max(3, repeats // 3), args.quick, skip)

    variant_lines = run_variants(params0, x, y, repeats) if args.variants else []

    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "machine": info,
                    "sizes": sizes,
                    "repeats": repeats,
                    "argv": sys.argv[1:],
                    "results": [r.as_dict() for r in results],
                    "checks": checks,
                    "notes": notes,
                    "load_at_end": load,
                    "variants": variant_lines,
                    "fresh_process": fresh,
                    "sgemm_flops_per_s": rate,
                    "other_configs": other,
                },
                f,
                indent=2,
            )
    return 1 if (args.strict and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())
