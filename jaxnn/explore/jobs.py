"""View 2's training jobs: `jaxnn.sgd` in a worker thread, its progress sent to one tab.

Each epoch is one permutation of the training set, trained as `PARTS` calls of
`jaxnn.sgd` (one epoch each) on consecutive slices of it, so the page sees progress
inside the epoch and a stop takes effect within a slice. λ is scaled by the number of slices,
so the penalty's strength is λ/n of the whole training set, as in one call.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from jaxnn.errors import JaxnnError

#: Slices per epoch: the page's progress steps.
PARTS = 10
#: Limits of what the page may ask for.
MAX_EPOCHS = 100
MAX_HIDDEN = 4
MAX_WIDTH = 1000
#: Validation images scored after each epoch (all 10,000 for a stack of fully connected layers).
EVAL_MLP, EVAL_CONV = 10_000, 1_000
COSTS = ("quadratic", "cross-entropy", "log-likelihood")
ACTIVATIONS = ("sigmoid", "tanh", "relu")


class Cancelled(Exception):
    """Raised inside the worker when the run is stopped."""


@dataclasses.dataclass
class Settings:
    """A run's settings, checked."""

    preset: str  # "mlp" or "conv" (chapter 6: ConvPool(20, 5) + ConvPool(40, 5) + FC 100 + softmax)
    hidden: List[int]
    cost: str
    activation: str
    eta: float
    lmbda: float
    p_dropout: float
    epochs: int
    train_size: int
    mini_batch_size: int
    seed: int

    @classmethod
    def parse(cls, body: Any, n_training: int) -> "Settings":
        if not isinstance(body, dict):
            raise JaxnnError("the training settings must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)} | {"client"}
        unknown = sorted(set(body) - known)
        if unknown:
            raise JaxnnError(f"unknown training setting {unknown[0]!r}: use {', '.join(sorted(known - {'client'}))}")
        preset = body.get("preset", "mlp")
        if preset not in ("mlp", "conv"):
            raise JaxnnError(f"unknown preset {preset!r}: use mlp or conv")
        hidden = body.get("hidden", [30])
        if (
            not isinstance(hidden, list)
            or not 0 <= len(hidden) <= MAX_HIDDEN
            or not all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= MAX_WIDTH for h in hidden)
        ):
            raise JaxnnError(f"hidden must be a list of 0 to {MAX_HIDDEN} layer widths between 1 and {MAX_WIDTH}")
        cost = _name(body.get("cost", "cross-entropy"), COSTS, "cost")
        activation = _name(body.get("activation", "sigmoid"), ACTIVATIONS, "activation")
        if preset == "conv" and cost != "log-likelihood":
            cost = "log-likelihood"  # the softmax output layer's cost, as network3
        if preset == "mlp" and cost == "log-likelihood":
            raise JaxnnError("the log-likelihood cost needs a softmax output: use the conv preset, or cross-entropy")
        return cls(
            preset=preset,
            hidden=hidden,
            cost=cost,
            activation=activation,
            eta=_number(body.get("eta", 0.5), "eta", 1e-6, 100.0),
            lmbda=_number(body.get("lmbda", 0.0), "lmbda", 0.0, 1000.0),
            p_dropout=_number(body.get("p_dropout", 0.0), "p_dropout", 0.0, 0.9),
            epochs=int(_number(body.get("epochs", 5), "epochs", 1, MAX_EPOCHS, integer=True)),
            train_size=int(_number(body.get("train_size", 10_000), "train_size", 100, n_training, integer=True)),
            mini_batch_size=int(_number(body.get("mini_batch_size", 10), "mini_batch_size", 1, 1000, integer=True)),
            seed=int(_number(body.get("seed", 0), "seed", 0, 2**31 - 1, integer=True)),
        )

    def network(self):
        import jaxnn

        if self.preset == "conv":
            act = self.activation
            return jaxnn.conv_net(
                [
                    jaxnn.ConvPool(20, 5, 2, act),
                    jaxnn.ConvPool(40, 5, 2, act),
                    jaxnn.FullyConnected(100, act, p_dropout=self.p_dropout),
                    jaxnn.Softmax(10, p_dropout=self.p_dropout),
                ],
                (1, 28, 28),
            )
        dropout = "book" if self.p_dropout > 0 else None
        return jaxnn.mlp(
            [784, *self.hidden, 10],
            p_dropout=self.p_dropout,
            cost=self.cost,
            activation=self.activation,
            output_activation="sigmoid",
            regularizer="l2",
            dropout=dropout,
        )

    def label(self) -> str:
        arch = "conv (ch. 6)" if self.preset == "conv" else "[" + ",".join(map(str, [784, *self.hidden, 10])) + "]"
        return (
            f"{arch} {self.cost} {self.activation} η={self.eta:g} λ={self.lmbda:g} p={self.p_dropout:g} "
            f"n={self.train_size} e={self.epochs}"
        )


def _name(value, allowed, what):
    if value not in allowed:
        raise JaxnnError(f"unknown {what} {value!r}: use one of {', '.join(allowed)}")
    return value


def _number(value, what, lo, hi, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise JaxnnError(f"{what} must be {kind} between {lo:g} and {hi:g}, got {value!r}")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise JaxnnError(f"{what} must be between {lo:g} and {hi:g}, got {value!r}")
    return value


class Run:
    """One training run: settings, state, the per-epoch points, and the trained parameters."""

    def __init__(self, run_id: str, client: str, settings: Settings, emit: Callable[[dict], None]):
        self.id, self.client, self.settings, self._emit = run_id, client, settings, emit
        self.state = "queued"  # running, finished, stopped, diverged, failed
        self.message = ""
        self.points: List[Dict[str, float]] = []
        self.net: Any = None
        self.params: Any = None
        self.stop_event = threading.Event()
        self.thread: Optional[threading.Thread] = None

    def summary(self) -> Dict[str, Any]:
        return {
            "run": self.id,
            "label": self.settings.label(),
            "settings": dataclasses.asdict(self.settings),
            "state": self.state,
            "message": self.message,
            "points": self.points,
        }

    def emit(self, kind: str, **data) -> None:
        self._emit({"type": kind, "run": self.id, **data})

    def start(self, data) -> None:
        self.thread = threading.Thread(target=self._work, args=(data,), name=f"jaxnn-explore-{self.id}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def _work(self, data) -> None:
        try:
            self.state = "running"
            self.emit("state", state="running", label=self.settings.label())
            self._train(data)
        except Cancelled:
            self.state, self.message = "stopped", ""
        except Exception as exc:  # reported to the page; the server goes on
            self.state, self.message = "failed", f"{type(exc).__name__}: {exc}"
        if self.state == "running":
            self.state = "finished"
        self.emit("state", state=self.state, message=self.message)

    def _train(self, data) -> None:
        import jax
        import jax.numpy as jnp

        import jaxnn
        from jaxnn.training import measure

        s = self.settings
        net = s.network()
        key_init, key_sgd = jax.random.split(jax.random.key(s.seed))
        params = jaxnn.init_network(key_init, net)
        x = jnp.asarray(data.training.x[: s.train_size], jnp.float32)
        y = jnp.asarray(data.training.y[: s.train_size])
        n_eval = EVAL_MLP if s.preset == "mlp" else EVAL_CONV
        vx = jnp.asarray(data.validation.x[:n_eval], jnp.float32)
        vy = jnp.asarray(data.validation.y[:n_eval])
        n = s.train_size
        parts = max(1, min(PARTS, n // s.mini_batch_size))
        bounds = np.linspace(0, n, parts + 1).astype(int)
        rng = np.random.default_rng(s.seed)
        self.net = net

        def check(*_):
            if self.stop_event.is_set():
                raise Cancelled()

        for epoch in range(s.epochs):
            start = time.perf_counter()
            order = rng.permutation(n)
            for part in range(parts):
                check()
                idx = jnp.asarray(order[bounds[part] : bounds[part + 1]])
                params, history = jaxnn.sgd(
                    params,
                    (x[idx], y[idx]),
                    1,
                    s.mini_batch_size,
                    s.eta,
                    key=jax.random.fold_in(key_sgd, epoch * parts + part),
                    net=net,
                    lmbda=s.lmbda * (bounds[part + 1] - bounds[part]) / n,
                    p_dropout=s.p_dropout if s.p_dropout > 0 else None,
                    callback=check,
                )
                if history.stopped:  # the divergence guard kept the last good parameters
                    self.params = params
                    self.state, self.message = "diverged", history.stopped
                    return
                self.emit("progress", epoch=epoch, done=(part + 1) / parts)
            cost, correct = measure(net, params, vx, vy)
            tcost, tcorrect = measure(net, params, x[:n_eval], y[:n_eval])
            point = {
                "epoch": epoch,
                "accuracy": int(correct) / len(vx),
                "cost": float(cost),
                "training_accuracy": int(tcorrect) / min(n, n_eval),
                "training_cost": float(tcost),
                "seconds": time.perf_counter() - start,
            }
            if not all(math.isfinite(v) for v in point.values()):
                self.params = params
                self.state, self.message = "diverged", f"the cost became {point['cost']} at epoch {epoch}: lower η"
                return
            self.points.append(point)
            self.params = params
            self.emit("epoch", **point)
