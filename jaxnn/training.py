"""Mini-batch stochastic gradient descent, one jitted call per epoch.

Each epoch runs as a single compiled program: the data stay on the device, a fresh
permutation is drawn from the epoch's key, ``lax.scan`` steps through the mini-batches
(gathering them by index, 100 mini-batches at a time, so the data are never copied into
shuffled order), and the parameters are donated so XLA updates them in place. Evaluation is a
second jitted call.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn import progress
from jaxnn.backprop import model_backprop, model_backprop_per_example
from jaxnn.errors import JaxnnError
from jaxnn.initializers import sizes_of
from jaxnn.network import (
    Model,
    dropout_masks,
    feedforward,
    make_model,
    model_autodiff_grad,
    penalty,
    require_differentiable,
    test_masks,
)
from jaxnn.validation import (
    as_inputs,
    as_params,
    as_targets,
    choice,
    fraction,
    optional_callable,
    positive_float,
    positive_int,
    prng_key,
    writable_file,
)

#: The gradient paths, by name; each maps (model, params, x, y_one_hot) to the mean-cost gradient.
GRADIENTS: Dict[str, Callable] = {
    "backprop": model_backprop,
    "autodiff": model_autodiff_grad,
    "backprop-per-example": model_backprop_per_example,
}


@dataclasses.dataclass
class History:
    """What happened in each epoch of :func:`sgd`.

    The four lists of network2's ``SGD`` are here as ``evaluation_cost``,
    ``evaluation_correct``, ``training_cost`` and ``training_correct`` (each empty unless
    monitored); :meth:`network2_lists` returns them in network2's order.

    Attributes:
      epoch: epoch numbers, from 0 as network.py prints them.
      evaluation_correct: correctly classified evaluation examples per epoch.
      evaluation_size: the number of evaluation examples.
      evaluation_cost, training_cost: the regularized cost per epoch, network2's total_cost.
      training_correct, training_size: the same for the training data.
      eta: the learning rate used in each epoch (it changes under a schedule).
      seconds: wall time of each epoch's training call (the first includes compilation).
      stopped: why training ended before ``epochs``, or ``None``.
    """

    epoch: List[int] = dataclasses.field(default_factory=list)
    evaluation_correct: List[int] = dataclasses.field(default_factory=list)
    evaluation_size: int = 0
    evaluation_cost: List[float] = dataclasses.field(default_factory=list)
    training_cost: List[float] = dataclasses.field(default_factory=list)
    training_correct: List[int] = dataclasses.field(default_factory=list)
    training_size: int = 0
    eta: List[float] = dataclasses.field(default_factory=list)
    seconds: List[float] = dataclasses.field(default_factory=list)
    stopped: Optional[str] = None

    @property
    def evaluation_accuracy(self) -> List[float]:
        """Evaluation accuracy per epoch, as fractions."""
        return [c / self.evaluation_size for c in self.evaluation_correct]

    @property
    def training_accuracy(self) -> List[float]:
        """Training accuracy per epoch, as fractions."""
        return [c / self.training_size for c in self.training_correct]

    def best(self) -> Tuple[int, float]:
        """The best epoch and its evaluation accuracy (the figure the book reports)."""
        if not self.evaluation_correct:
            raise JaxnnError("no evaluation accuracy was recorded (pass evaluation_data), so there is no best epoch")
        i = int(np.argmax(self.evaluation_correct))
        return self.epoch[i], self.evaluation_correct[i] / self.evaluation_size

    def network2_lists(self):
        """``(evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)`` as network2
        returns them (accuracies as counts)."""
        return (self.evaluation_cost, self.evaluation_correct, self.training_cost, self.training_correct)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _gather_targets(y, idx, n_out, dtype):
    yb = y[idx]
    if yb.ndim == 1:  # integer labels become one-hot rows here, inside the compiled step
        return jax.nn.one_hot(yb, n_out, dtype=dtype)
    return yb.astype(dtype)


def _book_sgd_update(params, grads, velocity, hp):
    """w ← w − η∇C, or with momentum μ: v ← μv − η∇C, w ← w + v (the book's chapter 3 rule)."""
    if velocity is None:
        return jax.tree_util.tree_map(lambda p, g: p - hp["eta"] * g, params, grads), None
    velocity = jax.tree_util.tree_map(lambda v, g: hp["momentum"] * v - hp["eta"] * g, velocity, grads)
    return jax.tree_util.tree_map(jnp.add, params, velocity), velocity


#: Mini-batches gathered together by :func:`epoch_body` (``gather_steps``): 100 mini-batches of
#: 10 are one 1,000-row gather of about 3 MB, which stays in cache while they are stepped through.
GATHER_STEPS = 100
#: ... but never more than this many bytes of gathered rows at once (large mini-batches gather fewer).
GATHER_BYTES = 8 * 2**20


def epoch_body(model: Model, gradient: str, n: int, mini_batch_size: int, optimizer=None, momentum: bool = False,
               weights_first: bool = False, gather_steps: int = 1, gather_bytes: int = GATHER_BYTES):
    """One epoch as a pure function: ``epoch((params, opt_state), key, x, y, hp) -> (params, opt_state)``.

    ``hp`` holds the run-time numbers ``eta``, ``reg_scale`` (λ/n), ``p_dropout`` and ``momentum``,
    so changing them never recompiles, and ``jax.vmap`` can batch them for sweeps. The
    permutation is split into ``n // m`` full mini-batches, scanned, and, when ``m`` does not
    divide ``n``, one last short mini-batch of ``n % m`` examples, stepped with η over its own
    size exactly as network.py does. ``weights_first`` computes the forward products as (w @ aᵀ)ᵀ
    for ``gradient="backprop"`` (sweeps use it). ``gather_steps`` > 1 gathers that many
    mini-batches' rows in one indexing operation (at most ``gather_bytes`` of them) and then steps
    through them as contiguous slices: the same examples in the same order, so the same results
    bit for bit, with fewer and better-shaped gathers (``jaxnn.sgd`` uses :data:`GATHER_STEPS`;
    see docs/performance.md).
    """
    grad = (functools.partial(model_backprop, weights_first=True) if (weights_first and gradient == "backprop")
            else GRADIENTS[gradient])
    m = mini_batch_size
    n_full, rem = divmod(n, m)

    def sgd_step(state, xb, yb, hp, key):
        params, opt_state = state
        masks = dropout_masks(model, params, key, hp["p_dropout"], xb.shape[0], xb.dtype)
        g = grad(model, params, xb, yb, hp["reg_scale"], masks)
        if optimizer is None:
            return _book_sgd_update(params, g, opt_state if momentum else None, hp)
        updates, opt_state = optimizer.update(g, opt_state, params)
        return jax.tree_util.tree_map(jnp.add, params, updates), opt_state

    def gather(x, y, idx, n_out):
        xb = x[idx]
        return xb, _gather_targets(y, idx, n_out, xb.dtype)

    def epoch(state, key, x, y, hp):
        perm_key, dropout_key = jax.random.split(key)
        perm = jax.random.permutation(perm_key, n)
        hp = {k: jnp.asarray(v, x.dtype) for k, v in hp.items()}
        n_out = state[0][-1]["w"].shape[0]

        def step(st, xb, yb, i):
            return sgd_step(st, xb, yb, hp, jax.random.fold_in(dropout_key, i))

        def one_by_one(st, first, count):  # `count` mini-batches from mini-batch `first`, each gathered alone
            def body(st, inputs):
                idx, i = inputs
                return step(st, *gather(x, y, idx, n_out), i), None

            batches = perm[first * m : (first + count) * m].reshape(count, m)
            return jax.lax.scan(body, st, (batches, first + jnp.arange(count)))[0]

        row_bytes = m * math.prod(x.shape[1:]) * x.dtype.itemsize
        g = max(1, min(gather_steps, n_full, gather_bytes // row_bytes))
        n_groups = n_full // g if g > 1 else 0
        if n_groups:
            def group(st, inputs):  # one gather of g mini-batches, then g steps over its slices
                idx, j = inputs
                xg, yg = gather(x, y, idx, n_out)
                xg, yg = xg.reshape(g, m, *xg.shape[1:]), yg.reshape(g, m, *yg.shape[1:])

                def body(st, inputs):
                    xb, yb, i = inputs
                    return step(st, xb, yb, i), None

                return jax.lax.scan(body, st, (xg, yg, j * g + jnp.arange(g)))[0], None

            groups = perm[: n_groups * g * m].reshape(n_groups, g * m)
            state, _ = jax.lax.scan(group, state, (groups, jnp.arange(n_groups)))
        if n_full - n_groups * g:
            state = one_by_one(state, n_groups * g, n_full - n_groups * g)
        if rem:
            state = step(state, *gather(x, y, perm[n_full * m :], n_out), n_full)
        return state

    return epoch


@functools.lru_cache(maxsize=64)
def epoch_fn(model: Model, gradient: str, n: int, mini_batch_size: int, optimizer=None, momentum: bool = False):
    """:func:`epoch_body`, compiled, with the training state donated so XLA updates it in place."""
    return jax.jit(epoch_body(model, gradient, n, mini_batch_size, optimizer, momentum, gather_steps=GATHER_STEPS),
                   donate_argnums=0)


@functools.lru_cache(maxsize=64)
def evaluate_fn(model: Model):
    """The compiled count of correct argmax predictions: ``f(params, x, labels, p_dropout) -> int``."""

    def count(params, x, labels, p_dropout=0.0):
        a = feedforward(model, params, x, test_masks(model, params, p_dropout, x.dtype))[1][-1]
        return jnp.sum(jnp.argmax(a, axis=-1) == labels)

    return jax.jit(count)


def metrics_body(model: Model):
    """``f(params, x, y, reg_scale, p_dropout) -> (cost, correct)``: network2's ``total_cost``
    (mean cost plus (λ/n)·penalty) and ``accuracy`` in one pass."""

    def metrics(params, x, y, reg_scale, p_dropout):
        n_out = params[-1]["w"].shape[0]
        masks = test_masks(model, params, p_dropout, x.dtype)
        zs, acts = feedforward(model, params, x, masks)
        labels = y if y.ndim == 1 else jnp.argmax(y, axis=-1)
        yy = jax.nn.one_hot(y, n_out, dtype=x.dtype) if y.ndim == 1 else y.astype(x.dtype)
        cost = jnp.mean(model.cost.fn(acts[-1], yy))
        if model.regularizer.name != "none":
            cost = cost + reg_scale * penalty(model, params)
        return cost, jnp.sum(jnp.argmax(acts[-1], axis=-1) == labels)

    return metrics


@functools.lru_cache(maxsize=64)
def metrics_fn(model: Model):
    """:func:`metrics_body`, compiled."""
    return jax.jit(metrics_body(model))


@jax.jit
def _all_finite(tree):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(t)) for t in jax.tree_util.tree_leaves(tree)]))


def as_key(key):
    """A ``jax.random`` key from a key or an integer seed (see :func:`jaxnn.validation.prng_key`)."""
    return prng_key(key)


def epoch_key(key, epoch: int):
    """The key of one epoch; derived by folding in the epoch number, so epoch k can be replayed alone."""
    return jax.random.fold_in(key, epoch)


def epoch_order(key, epoch: int, n: int):
    """The order in which :func:`sgd` visits the n training examples in ``epoch``."""
    return jax.random.permutation(jax.random.split(epoch_key(as_key(key), epoch))[0], n)


def _pair(data, what, sizes):
    try:
        x, y = data
    except (TypeError, ValueError):
        raise JaxnnError(f"{what} must be a pair (x, y) of inputs and labels") from None
    x = as_inputs(x, sizes[0], f"{what.split('_')[0]} inputs")
    y = as_targets(y, len(x), sizes[-1], f"{what.split('_')[0]} labels")
    return x, y


def _run_config(sizes, x, y, mini_batch_size, model, gradient, lmbda, p_dropout, momentum, optimizer, eta0, key,
                dtype, evaluating) -> dict:
    """What a checkpoint must agree with before a run resumes from it (JSON-able)."""
    step = max(1, len(x) // 1000)
    digest = hashlib.blake2b(np.ascontiguousarray(x[::step]).tobytes() + np.ascontiguousarray(y).tobytes(),
                             digest_size=16).hexdigest()
    return {
        "sizes": sizes, "n": int(len(x)), "data": digest, "mini_batch_size": mini_batch_size,
        "activation": model.activation.name, "output_activation": model.output_activation.name,
        "cost": model.cost.name, "regularizer": model.regularizer.name, "dropout": model.dropout,
        "gradient": gradient, "lmbda": lmbda, "p_dropout": p_dropout, "momentum": momentum,
        "optimizer": None if optimizer is None else type(optimizer).__name__, "eta": eta0,
        "key": np.asarray(jax.random.key_data(key)).tolist(), "dtype": str(np.dtype(dtype)), "evaluating": evaluating,
    }


def _divergence_message(epoch: int, model: Model, hp: dict) -> str:
    """One sentence naming the epoch and the likely cause of non-finite parameters."""
    if model.regularizer.name == "l2" and hp["eta"] * hp["reg_scale"] > 2:
        # 1 − ηλ/n < −1: the L2 weight decay flips the weights' sign and grows them
        return (f"training diverged in epoch {epoch}: the parameters became NaN or infinite "
                f"(ηλ/n = {hp['eta'] * hp['reg_scale']:g} > 2 makes the weight decay overshoot; "
                "make eta or lmbda smaller)")
    return (f"training diverged in epoch {epoch}: the parameters became NaN or infinite "
            f"(η = {hp['eta']:g} is likely too large for this network; try a smaller eta)")


@dataclasses.dataclass
class _Stopping:
    """Early stopping and the halve-η schedule, both watching the evaluation accuracy."""

    early_stopping: Optional[int]
    halve_eta_after: Optional[int]
    min_eta_fraction: float
    eta0: float
    best: int = -1
    since_best: int = 0

    def update(self, correct: int, hp: dict) -> Optional[str]:
        """Takes one epoch's correct count; may halve ``hp["eta"]``; returns why to stop, or None."""
        if correct > self.best:
            self.best, self.since_best = correct, 0
        else:
            self.since_best += 1
        stopped = None
        if self.early_stopping and self.since_best >= self.early_stopping:
            stopped = f"early stopping: no better evaluation accuracy in {self.early_stopping} epochs"
        if self.halve_eta_after and self.since_best >= self.halve_eta_after:
            hp["eta"] /= 2
            self.since_best = 0
            if hp["eta"] < self.eta0 * self.min_eta_fraction * (1 - 1e-9):
                stopped = f"learning-rate schedule: η fell below η₀·{self.min_eta_fraction:g}"
        return stopped


@dataclasses.dataclass
class _Monitor:
    """network2's four per-epoch measurements, each computed by one jitted call."""

    metrics: Callable
    evaluation: Optional[tuple]
    training: tuple
    lmbda: float
    p_dropout: float
    evaluation_cost: bool
    evaluation_accuracy: bool
    training_cost: bool
    training_accuracy: bool

    def record(self, history: History, params) -> List[str]:
        """Appends this epoch's measurements to ``history``; returns network2's lines for them."""
        lines = []
        if self.evaluation is not None and (self.evaluation_accuracy or self.evaluation_cost):
            ex, ey = self.evaluation
            c, correct = self.metrics(params, ex, ey, self.lmbda / len(ex), self.p_dropout)
            history.evaluation_correct.append(int(correct))
            if self.evaluation_cost:
                history.evaluation_cost.append(float(c))
        if self.training_cost or self.training_accuracy:
            x, y = self.training
            c, correct = self.metrics(params, x, y, self.lmbda / len(x), self.p_dropout)
            if self.training_cost:
                history.training_cost.append(float(c))
                lines.append(f"Cost on training data: {float(c)}")
            if self.training_accuracy:
                history.training_correct.append(int(correct))
                lines.append(f"Accuracy on training data: {int(correct)} / {len(x)}")
        if self.evaluation_cost and self.evaluation is not None:
            lines.append(f"Cost on evaluation data: {history.evaluation_cost[-1]}")
        return lines


def _epoch_lines(epoch: int, history: History, lines: List[str], monitor: _Monitor) -> List[str]:
    """The lines network.py (``Epoch j: k / n``) or network2.py prints after an epoch."""
    evaluated = monitor.evaluation is not None and (monitor.evaluation_accuracy or monitor.evaluation_cost)
    if evaluated and not (monitor.evaluation_cost or monitor.training_cost or monitor.training_accuracy):
        return [f"Epoch {epoch}: {history.evaluation_correct[-1]} / {history.evaluation_size}"]
    out = [f"Epoch {epoch} training complete" if lines or evaluated else f"Epoch {epoch} complete", *lines]
    if evaluated:
        out.append(f"Accuracy on evaluation data: {history.evaluation_correct[-1]} / {history.evaluation_size}")
    return out


def sgd(
    params,
    training_data,
    epochs: int,
    mini_batch_size: int,
    eta: float,
    *,
    key,
    evaluation_data=None,
    cost="quadratic",
    activation="sigmoid",
    output_activation=None,
    gradient: str = "backprop",
    lmbda: float = 0.0,
    regularizer: str = "l2",
    p_dropout: float = 0.0,
    dropout: str = "book",
    momentum: float = 0.0,
    optimizer=None,
    monitor_evaluation_cost: bool = False,
    monitor_evaluation_accuracy: bool = True,
    monitor_training_cost: bool = False,
    monitor_training_accuracy: bool = False,
    early_stopping: Optional[int] = None,
    halve_eta_after: Optional[int] = None,
    min_eta_fraction: float = 1 / 128,
    on_divergence: str = "stop",
    checkpoint=None,
    resume: bool = False,
    verbose: bool = False,
    show_progress: bool = False,
    callback: Optional[Callable] = None,
):
    """Trains a fully connected network by mini-batch SGD, as network.py's and network2.py's ``SGD``.

    Each epoch reshuffles the training data (from ``key``) and steps through mini-batches of
    ``mini_batch_size`` with w ← w − η(∇C₀ + (λ/n)∂penalty/∂w), where ∇C₀ is the mean gradient
    over the mini-batch and n the number of training examples: for L2 that is network2's
    w ← (1 − ηλ/n)w − (η/m)Σ_x ∇C_x. When ``mini_batch_size`` does not divide n, the last
    mini-batch of each epoch is short and steps with η over its own size, as in network.py.

    Args:
      params: initial parameters (from :func:`jaxnn.init_params`); not modified.
      training_data: ``(x, y)`` with ``x`` of shape ``(n, sizes[0])`` and ``y`` integer labels
        ``(n,)`` or target rows ``(n, sizes[-1])``.
      epochs: the most passes over the training data.
      mini_batch_size: examples per gradient step (the book's m).
      eta: the learning rate η of the built-in SGD.
      key: a ``jax.random`` key (or integer seed) for the shuffles and dropout masks.
      evaluation_data: optional ``(x, labels)`` scored after every epoch (network.py's
        ``test_data``, network2's ``evaluation_data``).
      cost, activation, output_activation: components by registry name or record.
      gradient: ``"backprop"`` (hand-written, matrix-based), ``"autodiff"`` (``jax.grad``) or
        ``"backprop-per-example"`` (network.py's loop over examples).
      lmbda: the regularization parameter λ (0 for none).
      regularizer: ``"l2"`` (network2's) or ``"l1"``, or any registered regularizer.
      p_dropout: the probability of dropping each hidden unit in training (0 for none).
      dropout: ``"book"`` (scale by 1 − p at test time, as network3) or ``"inverted"``.
      momentum: the momentum coefficient μ of the built-in SGD (0 for plain SGD).
      optimizer: an ``optax.GradientTransformation`` to use instead of the built-in SGD; it
        carries its own learning rate, so ``eta`` and ``momentum`` are then not used.
      monitor_*: which of network2's four per-epoch lists to record. Evaluation accuracy is
        recorded whenever evaluation data are given.
      early_stopping: stop after this many epochs without a new best evaluation accuracy.
      halve_eta_after: halve η after this many epochs without a new best evaluation accuracy,
        and stop once η falls below ``min_eta_fraction`` of its first value (the book's η/128).
      on_divergence: when the parameters become NaN or infinite, ``"stop"`` keeps the last
        good parameters and ends training; ``"revert"`` goes back to them, halves η and goes on.
      checkpoint: a file to write (atomically) after every epoch, with everything needed to go on.
      resume: if ``checkpoint`` exists, continue from it; the run then ends with exactly the
        parameters an uninterrupted run would have (see :mod:`jaxnn.checkpoint`).
      verbose: print network.py's and network2's per-epoch lines.
      show_progress: show a progress bar over epochs.
      callback: called as ``callback(epoch, params, history)`` after each epoch.

    Returns:
      ``(params, history)``: the trained parameters and a :class:`History`.
    """
    sizes = as_params(params)
    eta = positive_float(eta, "eta")
    lmbda = positive_float(lmbda, "lmbda", allow_zero=True)
    p_dropout = fraction(p_dropout, "p_dropout", "the probability of dropping a unit")
    momentum = fraction(momentum, "momentum", "the momentum coefficient μ")
    min_eta_fraction = fraction(min_eta_fraction, "min_eta_fraction", "the fraction of η₀ at which the schedule stops")
    make_model(activation, output_activation, cost, regularizer, dropout)  # every name checked, used or not
    model = make_model(activation, output_activation, cost, regularizer if lmbda > 0 else "none",
                       dropout if p_dropout > 0 else None)
    require_differentiable(model)
    choice(gradient, tuple(GRADIENTS), "gradient")
    choice(on_divergence, ("stop", "revert"), "on_divergence policy")
    optional_callable(callback, "callback")
    if checkpoint is not None:
        writable_file(checkpoint, "checkpoint")
    elif resume:
        raise JaxnnError("resume=True needs checkpoint=PATH: the file to resume from")
    if optimizer is not None and not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise JaxnnError("optimizer must be an optax.GradientTransformation, e.g. optax.adam(1e-3)")
    if optimizer is not None and (momentum or halve_eta_after):
        raise JaxnnError("momentum and halve_eta_after apply to the built-in SGD: with optimizer=, "
                         "put them in the optax transformation (e.g. optax.sgd(eta, momentum))")
    epochs = positive_int(epochs, "epochs", minimum=0)
    for name, value in (("early_stopping", early_stopping), ("halve_eta_after", halve_eta_after)):
        if value is not None:
            positive_int(value, name)
    if (early_stopping or halve_eta_after) and evaluation_data is None:
        raise JaxnnError("early_stopping and halve_eta_after watch the evaluation accuracy: pass evaluation_data")
    key = prng_key(key)
    x, y = _pair(training_data, "training_data", sizes)
    n = len(x)
    mini_batch_size = positive_int(mini_batch_size, "mini_batch_size")
    if mini_batch_size > n:
        raise JaxnnError(
            f"mini_batch_size {mini_batch_size} is larger than the {n} training examples: use at most {n}"
        )
    dtype = params[0]["w"].dtype
    if evaluation_data is not None:
        ex, ey = _pair(evaluation_data, "evaluation_data", sizes)
        ex, ey = jnp.asarray(ex, dtype), jnp.asarray(ey) if ey.ndim == 1 else jnp.asarray(ey, dtype)

    x = jnp.asarray(x, dtype)
    y = jnp.asarray(y) if y.ndim == 1 else jnp.asarray(y, dtype)
    run_epoch = epoch_fn(model, gradient, n, mini_batch_size, optimizer, momentum > 0)
    metrics = metrics_fn(model)
    params = jax.tree_util.tree_map(jnp.array, params)  # a private copy: epochs donate it
    if optimizer is not None:
        opt_state = optimizer.init(params)
    else:
        opt_state = jax.tree_util.tree_map(jnp.zeros_like, params) if momentum > 0 else None
    hp = {"eta": eta, "reg_scale": lmbda / n, "p_dropout": p_dropout, "momentum": momentum}
    history = History(evaluation_size=0 if evaluation_data is None else len(ey), training_size=n)
    eta0 = eta
    stopping = _Stopping(early_stopping, halve_eta_after, min_eta_fraction, eta0)
    monitor = _Monitor(metrics, (ex, ey) if evaluation_data is not None else None, (x, y), lmbda, p_dropout,
                       monitor_evaluation_cost, monitor_evaluation_accuracy or bool(early_stopping or halve_eta_after),
                       monitor_training_cost, monitor_training_accuracy)
    start_epoch = 0
    if checkpoint is not None:
        from jaxnn.checkpoint import load_checkpoint

        config = _run_config(sizes, x, y, mini_batch_size, model, gradient, lmbda, p_dropout, momentum,
                             optimizer, eta0, key, dtype, evaluation_data is not None)
        if resume and Path(checkpoint).is_file():
            params, opt_state, _, meta = load_checkpoint(checkpoint, params_like=params, opt_state_like=opt_state,
                                                         config=config)
            params = jax.tree_util.tree_map(jnp.asarray, params)
            opt_state = jax.tree_util.tree_map(jnp.asarray, opt_state)
            history = History(**meta["history"])
            hp["eta"], stopping.best, stopping.since_best = meta["eta"], meta["best"], meta["since_best"]
            start_epoch = meta["epoch"] + 1
            if history.stopped:
                start_epoch = epochs  # that run had already ended
    bar = progress.bar(epochs - start_epoch, "training", enabled=show_progress)
    good = None
    try:
        for j in range(start_epoch, epochs):
            if on_divergence == "revert":
                good = jax.tree_util.tree_map(jnp.array, (params, opt_state))
            else:
                good = jax.tree_util.tree_map(jnp.array, params) if j == 0 or good is None else good
            start = time.perf_counter()
            params, opt_state = run_epoch((params, opt_state), epoch_key(key, j), x, y, hp)
            jax.block_until_ready(params)
            history.seconds.append(time.perf_counter() - start)
            if not bool(_all_finite(params)):
                msg = _divergence_message(j, model, hp)
                if on_divergence == "revert":
                    params, opt_state = good
                    hp["eta"] /= 2
                    bar.write(f"{msg}; reverted to epoch {j - 1} and halved η to {hp['eta']:g}")
                    continue
                params = good
                history.stopped = msg + "; kept the last good parameters"
                bar.write(history.stopped)
                break
            if on_divergence == "stop":
                good = None
            history.epoch.append(j)
            history.eta.append(hp["eta"])
            lines = monitor.record(history, params)
            if verbose:
                for line in _epoch_lines(j, history, lines, monitor):
                    bar.write(line)
            if history.evaluation_correct:
                bar.set_postfix_str(f"{history.evaluation_correct[-1] / history.evaluation_size:.2%}")
            bar.update()
            if callback is not None:
                callback(j, params, history)
            if history.evaluation_correct:
                history.stopped = stopping.update(history.evaluation_correct[-1], hp) or history.stopped
            if checkpoint is not None:
                from jaxnn.checkpoint import save_checkpoint

                save_checkpoint(checkpoint, params=params, opt_state=opt_state, key=key, epoch=j, eta=hp["eta"],
                                history=history.as_dict(), config=config, best=stopping.best, since_best=stopping.since_best)
            if history.stopped:
                break
    finally:
        bar.close()
    return params, history


__all__ = ["GRADIENTS", "History", "epoch_body", "epoch_fn", "epoch_key", "evaluate_fn", "metrics_fn", "sgd"]
