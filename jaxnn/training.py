"""Mini-batch stochastic gradient descent for any network, one jitted call per epoch.

Each epoch runs as a single compiled program: the data stay on the device, the epoch's order
is drawn from its key (or is the data's own order, as network3 visits it), ``lax.scan`` steps
through the mini-batches (gathering them by index, 100 mini-batches at a time, so the data are
never copied into shuffled order), and the training state is donated so XLA updates it in
place. Every step is the layers' gradient (hand-written or ``jax.grad``) followed by an optax
update: the book's rule ([`jaxnn.optim.book_sgd`][jaxnn.optim.book_sgd]) or any transformation passed as
``optimizer=``. Evaluation is a second jitted call.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn import distributed, memory, optim, progress
from jaxnn._setup import Setup, setup
from jaxnn.backprop import GRADIENTS
from jaxnn.checkpoint import check_path, load_checkpoint, save_checkpoint
from jaxnn.errors import JaxnnError
from jaxnn.history import History
from jaxnn.layers import make_layer, with_weights_first
from jaxnn.net import Network, compiled, masks, net_metrics, network
from jaxnn.validation import (
    choice,
    fraction,
    optional_callable,
    positive_float,
    positive_int,
    prng_key,
)

#: Mini-batches gathered together by [`epoch_body`][jaxnn.training.epoch_body] (``gather_steps``): 100 mini-batches of
#: 10 are one 1,000-row gather of about 3 MB, which stays in cache while they are stepped through.
GATHER_STEPS = 100
#: ... but never more than this many bytes of gathered rows at once (large mini-batches gather fewer).
GATHER_BYTES = 8 * 2**20


def structure(net: Network, weights_first: bool = False) -> Network:
    """The network as the compiled epoch sees it: every dropout rate is a run-time number, so
    layers with dropout are rebuilt with one placeholder rate and two runs that differ only in
    their rates share one compilation. ``weights_first`` writes the dense products weights
    first (sweeps)."""
    layers = []
    for layer in net.layers:
        if layer.p_dropout > 0 and "p_dropout" in dict(layer.config):
            layer = make_layer((layer.name, {**dict(layer.config), "p_dropout": 0.5}))
        layers.append(with_weights_first(layer) if weights_first else layer)
    if tuple(layers) == net.layers:
        return net
    return network(layers, net.in_shape, net.cost, net.regularizer)


def _gather_targets(y, idx, n_out, dtype):
    yb = y[idx]
    if yb.ndim == 1:  # integer labels become one-hot rows here, inside the compiled step
        return jax.nn.one_hot(yb, n_out, dtype=dtype)
    return yb.astype(dtype)


def epoch_body(
    net: Network,
    gradient: str,
    n: int,
    mini_batch_size: int,
    optimizer,
    *,
    shuffle: bool = True,
    last_batch: str = "step",
    gather_steps: int = 1,
    gather_bytes: int = GATHER_BYTES,
    batch_mesh=None,
):
    """One epoch as a pure function: ``epoch((params, opt_state), key, x, y, hp) -> (params, opt_state)``.

    ``hp`` holds the run-time numbers ``reg_scale`` (the penalty's factor, λ/n in network2) and
    ``p_dropout`` (one dropout rate per layer), so changing them never recompiles, and
    ``jax.vmap`` can batch them for sweeps; η lives in the optimizer state. The epoch's order
    (a fresh permutation, or the data's own order without ``shuffle``) is split into ``n // m``
    full mini-batches, which are scanned. When ``m`` does not divide ``n``, ``last_batch="step"``
    takes one last short mini-batch of ``n % m`` examples, stepped with η over its own size as
    network.py does; ``"drop"`` leaves those examples out, as network3 does.
    ``gather_steps`` > 1 gathers that many mini-batches' rows in one indexing operation (at
    most ``gather_bytes`` of them) and then steps through them as contiguous slices: the same
    examples in the same order, so the same results bit for bit, with fewer and better-shaped
    gathers (``jaxnn.sgd`` uses `GATHER_STEPS`; see docs/performance.md).
    ``batch_mesh`` (a one-axis ``jax.sharding.Mesh``, see [`batch_mesh`][jaxnn.distributed.batch_mesh])
    splits each mini-batch's rows over its devices: every device computes the gradient terms of
    its rows and XLA all-reduces their sum, so each step is the single-device step up to rounding.
    """
    grad = GRADIENTS[gradient]
    rows = None if batch_mesh is None else jax.sharding.NamedSharding(batch_mesh, jax.sharding.PartitionSpec("batch"))
    m = mini_batch_size
    n_full, rem = divmod(n, m)
    if last_batch == "drop":
        rem = 0

    def sgd_step(state, xb, yb, hp, key):
        params, opt_state = state
        if rows is not None and xb.shape[0] % batch_mesh.size == 0:  # data parallel: each device its rows
            xb, yb = jax.lax.with_sharding_constraint((xb, yb), rows)
        mults = masks(net, key, xb.shape[0], xb.dtype, train=True, p_dropout=hp["p_dropout"])
        g = grad(net, params, xb, yb, hp["reg_scale"], mults)
        updates, opt_state = optimizer.update(g, opt_state, params)
        return optim.apply(params, updates), opt_state

    def gather(x, y, idx):
        xb = x[idx]
        return xb, _gather_targets(y, idx, net.n_out, xb.dtype)

    def epoch(state, key, x, y, hp):
        perm_key, dropout_key = jax.random.split(key)
        order = jax.random.permutation(perm_key, n) if shuffle else jnp.arange(n)
        hp = {k: jnp.asarray(v, x.dtype) for k, v in hp.items()}

        def step(st, xb, yb, i):
            return sgd_step(st, xb, yb, hp, jax.random.fold_in(dropout_key, i))

        def one_by_one(st, first, count):  # `count` mini-batches from mini-batch `first`, each gathered alone
            def body(st, inputs):
                idx, i = inputs
                return step(st, *gather(x, y, idx), i), None

            batches = order[first * m : (first + count) * m].reshape(count, m)
            return jax.lax.scan(body, st, (batches, first + jnp.arange(count)))[0]

        row_bytes = m * math.prod(x.shape[1:]) * x.dtype.itemsize
        g = max(1, min(gather_steps, n_full, gather_bytes // row_bytes))
        n_groups = n_full // g if g > 1 else 0
        if n_groups:

            def group(st, inputs):  # one gather of g mini-batches, then g steps over its slices
                idx, j = inputs
                xg, yg = gather(x, y, idx)
                xg, yg = xg.reshape(g, m, *xg.shape[1:]), yg.reshape(g, m, *yg.shape[1:])

                def body(st, inputs):
                    xb, yb, i = inputs
                    return step(st, xb, yb, i), None

                return jax.lax.scan(body, st, (xg, yg, j * g + jnp.arange(g)))[0], None

            groups = order[: n_groups * g * m].reshape(n_groups, g * m)
            state, _ = jax.lax.scan(group, state, (groups, jnp.arange(n_groups)))
        if n_full - n_groups * g:
            state = one_by_one(state, n_groups * g, n_full - n_groups * g)
        if rem:
            state = step(state, *gather(x, y, order[n_full * m :]), n_full)
        return state

    return epoch


@functools.lru_cache(maxsize=64)
def epoch_fn(
    net: Network,
    gradient: str,
    n: int,
    mini_batch_size: int,
    optimizer,
    shuffle: bool = True,
    last_batch: str = "step",
    batch_mesh=None,
):
    """[`epoch_body`][jaxnn.training.epoch_body], compiled, with the training state donated so XLA updates it in place.
    With ``batch_mesh`` the state comes out replicated on every device of the mesh."""
    options: Dict[str, Any] = {"donate_argnums": 0}
    if batch_mesh is not None:
        options["out_shardings"] = jax.sharding.NamedSharding(batch_mesh, jax.sharding.PartitionSpec())
    return jax.jit(
        epoch_body(
            net,
            gradient,
            n,
            mini_batch_size,
            optimizer,
            shuffle=shuffle,
            last_batch=last_batch,
            gather_steps=GATHER_STEPS,
            batch_mesh=batch_mesh,
        ),
        **options,
    )


def metrics_fn(net: Network):
    """[`jaxnn.net.net_metrics`][jaxnn.net.net_metrics], compiled: ``f(params, x, y, reg_scale, p_dropout) -> (cost, correct)``."""
    return compiled(net_metrics, net)


#: Rows scored at once for networks of images (their feature maps are large); stacks of fully
#: connected layers score a whole data set in one call.
EVAL_CHUNK = 1000


def chunk_rows(net: Network, n: int) -> int:
    """Rows scored at once: all ``n`` for a stack of fully connected layers, `EVAL_CHUNK` otherwise."""
    return n if net.sizes is not None else EVAL_CHUNK


def in_chunks(fn, params, x, y, reg_scale, p_dropout, chunk: int):
    """``fn(params, x, y, reg_scale, p_dropout) -> (cost, correct)`` over a whole data set in
    chunks of ``chunk`` rows: the costs (means) weighted by each chunk's share, the counts summed.
    One chunk is returned as ``fn`` gives it."""
    n = len(x)
    if chunk >= n:
        return fn(params, x, y, reg_scale, p_dropout)
    parts = [
        (fn(params, x[i : i + chunk], y[i : i + chunk], reg_scale, p_dropout), min(chunk, n - i) / n)
        for i in range(0, n, chunk)
    ]
    return sum(np.asarray(c) * w for (c, _), w in parts), sum(np.asarray(k) for (_, k), _ in parts)


def measure(net: Network, params, x, y, reg_scale=0.0, p_dropout=None, chunk: Optional[int] = None):
    """``(cost, correct)`` over a whole data set, in chunks of ``chunk`` rows (default: `chunk_rows`)."""
    c, k = in_chunks(metrics_fn(net), params, x, y, reg_scale, p_dropout, chunk or chunk_rows(net, len(x)))
    return float(c), int(k)


@jax.jit
def _all_finite(tree):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(t)) for t in jax.tree_util.tree_leaves(tree)]))


def as_key(key):
    """A ``jax.random`` key from a key or an integer seed (see `jaxnn.validation.prng_key`)."""
    return prng_key(key)


def epoch_key(key, epoch: int):
    """The key of one epoch; derived by folding in the epoch number, so epoch k can be replayed alone."""
    return jax.random.fold_in(key, epoch)


def epoch_order(key, epoch: int, n: int):
    """The order in which [`sgd`][jaxnn.training.sgd] visits the n training examples in ``epoch``."""
    return jax.random.permutation(jax.random.split(epoch_key(as_key(key), epoch))[0], n)


def _run_config(s: Setup, x, y, optimizer, key, lmbda, p_dropout, momentum, eta0, params=None) -> dict:
    """What a checkpoint must agree with before a run resumes from it (JSON-able), including a
    fingerprint of the initial parameters: a run started from another init seed does not resume."""
    step = max(1, len(x) // 1000)
    digest = hashlib.blake2b(
        np.ascontiguousarray(x[::step]).tobytes() + np.ascontiguousarray(y).tobytes(), digest_size=16
    ).hexdigest()
    start = hashlib.blake2b(digest_size=16)
    for leaf in jax.tree_util.tree_leaves(params):
        start.update(np.ascontiguousarray(leaf).tobytes())
    return {
        "network": s.describe(),
        "n": int(len(x)),
        "data": digest,
        "mini_batch_size": s.mini_batch_size,
        "gradient": s.gradient,
        "lmbda": lmbda,
        "p_dropout": p_dropout,
        "momentum": momentum,
        "optimizer": None if optimizer is None else type(optimizer).__name__,
        "eta": eta0,
        "key": np.asarray(jax.random.key_data(key)).tolist(),
        "dtype": str(np.dtype(s.dtype)),
        "evaluating": s.evaluation is not None,
        "testing": s.test is not None,
        "shuffle": s.shuffle,
        "last_batch": s.last_batch,
        "lmbda_scale": s.lmbda_scale,
        "initial_params": start.hexdigest(),
    }


def _divergence_message(epoch: int, net: Network, eta: float, reg_scale: float) -> str:
    """One sentence naming the epoch and the likely cause of non-finite parameters."""
    if net.regularizer.name == "l2" and eta * reg_scale > 2:
        # 1 − ηλ/n < −1: the L2 weight decay flips the weights' sign and grows them
        return (
            f"training diverged in epoch {epoch}: the parameters became NaN or infinite "
            f"(ηλ/n = {eta * reg_scale:g} > 2 makes the weight decay overshoot; "
            "make eta or lmbda smaller)"
        )
    return (
        f"training diverged in epoch {epoch}: the parameters became NaN or infinite "
        f"(η = {eta:g} is likely too large for this network; try a smaller eta)"
    )


@dataclasses.dataclass
class _Stopping:
    """Early stopping and the halve-η schedule, both watching the evaluation accuracy."""

    early_stopping: Optional[int]
    halve_eta_after: Optional[int]
    min_eta_fraction: float
    eta0: float
    best: int = -1
    since_best: int = 0

    def update(self, correct: int) -> "tuple[Optional[str], bool]":
        """Takes one epoch's correct count; returns (why to stop or None, whether to halve η)."""
        if correct > self.best:
            self.best, self.since_best = correct, 0
        else:
            self.since_best += 1
        stopped = None
        if self.early_stopping and self.since_best >= self.early_stopping:
            stopped = f"early stopping: no better evaluation accuracy in {self.early_stopping} epochs"
        halve = bool(self.halve_eta_after and self.since_best >= self.halve_eta_after)
        if halve:
            self.since_best = 0
        return stopped, halve

    def below_minimum(self, eta: float) -> Optional[str]:
        if eta < self.eta0 * self.min_eta_fraction * (1 - 1e-9):
            return f"learning-rate schedule: η fell below η₀·{self.min_eta_fraction:g}"
        return None


@dataclasses.dataclass
class _Monitor:
    """network2's four per-epoch measurements, and network3's test accuracy at the best validation epoch."""

    net: Network
    evaluation: Optional[tuple]
    training: tuple
    test: Optional[tuple]
    reg_scale: Callable[[int], float]  # the penalty's factor for a data set of n rows
    p_dropout: Any
    evaluation_cost: bool
    evaluation_accuracy: bool
    training_cost: bool
    training_accuracy: bool

    def _measure(self, params, data, reg_scale):
        return measure(self.net, params, data[0], data[1], reg_scale, self.p_dropout)

    def record(self, history: History, params) -> List[str]:
        """Appends this epoch's measurements to ``history``; returns network2's lines for them."""
        lines = []
        if self.evaluation is not None and (self.evaluation_accuracy or self.evaluation_cost):
            ex, _ = self.evaluation
            c, correct = self._measure(params, self.evaluation, self.reg_scale(len(ex)))
            history.evaluation_correct.append(int(correct))
            if self.evaluation_cost:
                history.evaluation_cost.append(float(c))
        if self.training_cost or self.training_accuracy:
            x, _ = self.training
            c, correct = self._measure(params, self.training, self.reg_scale(len(x)))
            if self.training_cost:
                history.training_cost.append(float(c))
                lines.append(f"Cost on training data: {float(c)}")
            if self.training_accuracy:
                history.training_correct.append(int(correct))
                lines.append(f"Accuracy on training data: {int(correct)} / {len(x)}")
        if self.evaluation_cost and self.evaluation is not None:
            lines.append(f"Cost on evaluation data: {history.evaluation_cost[-1]}")
        if self.test is not None:
            best = max(history.evaluation_correct[:-1], default=-1) if history.evaluation_correct else None
            if best is None or history.evaluation_correct[-1] >= best:  # network3 compares with >=
                tx, _ = self.test
                correct = self._measure(params, self.test, self.reg_scale(len(tx)))[1]
                history.test_correct.append(int(correct))
                lines.append(f"Accuracy on test data: {int(correct)} / {len(tx)}")
            else:
                history.test_correct.append(None)
        return lines


def _epoch_lines(epoch: int, history: History, lines: List[str], monitor: _Monitor) -> List[str]:
    """The lines network.py (``Epoch j: k / n``) or network2.py prints after an epoch."""
    evaluated = monitor.evaluation is not None and (monitor.evaluation_accuracy or monitor.evaluation_cost)
    if evaluated and not (lines or monitor.evaluation_cost or monitor.training_cost or monitor.training_accuracy):
        return [f"Epoch {epoch}: {history.evaluation_correct[-1]} / {history.evaluation_size}"]
    out = [f"Epoch {epoch} training complete" if lines or evaluated else f"Epoch {epoch} complete", *lines]
    if evaluated:
        out.append(f"Accuracy on evaluation data: {history.evaluation_correct[-1]} / {history.evaluation_size}")
    return out


#: network3's conventions, as [`sgd`][jaxnn.training.sgd] options: the data visited in order, the incomplete last
#: mini-batch dropped, and L2 scaled by λ over the number of mini-batches. Its report, the test
#: accuracy at the best validation epoch, comes from passing ``test_data``.
NETWORK3: Dict[str, Any] = {"shuffle": False, "last_batch": "drop", "lmbda_scale": "mini-batches"}


def sgd(
    params,
    training_data,
    epochs: int,
    mini_batch_size: int,
    eta: float,
    *,
    key,
    net: Optional[Network] = None,
    evaluation_data=None,
    test_data=None,
    cost=None,
    activation=None,
    output_activation=None,
    gradient: str = "backprop",
    lmbda: float = 0.0,
    regularizer=None,
    p_dropout: Optional[float] = None,
    dropout=None,
    momentum: float = 0.0,
    optimizer=None,
    shuffle: bool = True,
    last_batch: str = "step",
    lmbda_scale: str = "examples",
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
    data_parallel: bool = False,
):
    """Trains any network by mini-batch SGD, as network.py's, network2.py's and network3.py's ``SGD``.

    Each epoch visits the training data in a fresh order (from ``key``) and steps through
    mini-batches of ``mini_batch_size`` with w ← w − η(∇C₀ + (λ/n)∂penalty/∂w), where ∇C₀ is
    the mean gradient over the mini-batch and n the number of training examples: for L2 that is
    network2's w ← (1 − ηλ/n)w − (η/m)Σ_x ∇C_x. When ``mini_batch_size`` does not divide n, the
    last mini-batch of each epoch is short and steps with η over its own size, as in network.py.
    network3's conventions are options: ``**jaxnn.NETWORK3`` visits the data in order, drops the
    incomplete mini-batch and scales L2 by λ/(n // m); ``test_data`` gives its report.

    Args:
      params: initial parameters (from [`jaxnn.init_params`][jaxnn.initializers.init_params] or [`jaxnn.init_network`][jaxnn.net.init_network]);
        not modified.
      training_data: ``(x, y)`` with ``x`` of shape ``(n, n_in)`` (or images ``(n, *in_shape)``)
        and ``y`` integer labels ``(n,)`` or target rows ``(n, n_out)``.
      epochs: the most passes over the training data.
      mini_batch_size: examples per gradient step (the book's m).
      eta: the learning rate η of the built-in SGD.
      key: a ``jax.random`` key (or integer seed) for the shuffles and dropout masks.
      net: the [`Network`][jaxnn.net.Network] (a conv net, say); without it, ``params`` are a stack of
        fully connected layers with the components named below.
      evaluation_data: optional ``(x, labels)`` scored after every epoch (network.py's
        ``test_data``, network2's ``evaluation_data``, network3's ``validation_data``).
      test_data: optional ``(x, labels)`` scored, as network3 does, in each epoch whose
        evaluation accuracy is at least the best so far (``history.best_validation()``).
      cost, activation, output_activation: components by registry name or record (without
        ``net``; default quadratic cost, sigmoid everywhere).
      gradient: ``"backprop"`` (hand-written, layer by layer), ``"autodiff"`` (``jax.grad``) or
        ``"backprop-per-example"`` (network.py's loop over examples).
      lmbda: the regularization parameter λ (0 for none).
      regularizer: ``"l2"`` (network2's, the default) or ``"l1"``, or any registered regularizer.
      p_dropout: the probability of dropping each hidden unit in training (without ``net``), or
        the rate of every layer of ``net`` that was built with dropout.
      dropout: without ``net``: ``"book"`` (scale by 1 − p at test time, as network3, the default)
        or ``"inverted"``.
      momentum: the momentum coefficient μ of the built-in SGD (0 for plain SGD).
      optimizer: an ``optax.GradientTransformation`` to use instead of the built-in SGD; it
        carries its own learning rate, so ``eta`` and ``momentum`` are then not used. Made with
        ``optax.inject_hyperparams``, it can follow ``halve_eta_after`` too.
      shuffle: draw a fresh order each epoch (``False``: the data's own order, as network3).
      last_batch: ``"step"`` (a short last mini-batch, network.py) or ``"drop"`` (network3).
      lmbda_scale: ``"examples"`` (the penalty's factor is λ/n, network2) or ``"mini-batches"``
        (λ/(n // m), network3).
      monitor_*: which of network2's four per-epoch lists to record. Evaluation accuracy is
        recorded whenever evaluation data are given.
      early_stopping: stop after this many epochs without a new best evaluation accuracy.
      halve_eta_after: halve η after this many epochs without a new best evaluation accuracy,
        and stop once η falls below ``min_eta_fraction`` of its first value (the book's η/128).
      on_divergence: when the parameters become NaN or infinite, ``"stop"`` keeps the last
        good parameters and ends training; ``"revert"`` goes back to them, halves η and goes on.
      checkpoint: a file to write (atomically) after every epoch, with everything needed to go on.
        An existing file is refused unless ``resume`` is set, so another run's progress is never
        overwritten unasked.
      resume: if ``checkpoint`` exists, continue from it; the run then ends with exactly the
        parameters an uninterrupted run would have (see [`jaxnn.checkpoint`][jaxnn.checkpoint]). The checkpoint
        must come from a run with the same settings, data and initial parameters.
      verbose: print network.py's and network2's per-epoch lines.
      show_progress: show a progress bar over epochs.
      callback: called as ``callback(epoch, params, history)`` after each epoch.
      data_parallel: split every mini-batch over all of ``jax.devices()`` (every process's, after
        `jaxnn.distributed.init`) and all-reduce the gradients: the parameters are those of
        one device up to rounding. ``mini_batch_size`` must be a multiple of the number of
        devices. Every process runs ``sgd`` with the same arguments and ends with the same
        parameters; only process 0 writes the checkpoint, which must be on a file system that
        every process reads when they resume.

    Returns:
      ``(params, history)``: the trained parameters and a [`History`][jaxnn.history.History].
    """
    eta = positive_float(eta, "eta")
    lmbda = positive_float(lmbda, "lmbda", allow_zero=True)
    momentum = fraction(momentum, "momentum", "the momentum coefficient μ")
    min_eta_fraction = fraction(min_eta_fraction, "min_eta_fraction", "the fraction of η₀ at which the schedule stops")
    s = setup(
        params,
        training_data,
        mini_batch_size,
        net=net,
        components=dict(
            cost=cost,
            activation=activation,
            output_activation=output_activation,
            regularizer=regularizer,
            dropout=dropout,
        ),
        lmbdas=[lmbda],
        p_dropouts=None if p_dropout is None else [p_dropout],
        gradient=gradient,
        evaluation_data=evaluation_data,
        test_data=test_data,
        shuffle=shuffle,
        last_batch=last_batch,
        lmbda_scale=lmbda_scale,
    )
    p_dropout = s.p_dropouts[0]
    choice(on_divergence, ("stop", "revert"), "on_divergence policy")
    optional_callable(callback, "callback")
    check_path(checkpoint, resume)
    if optimizer is not None and not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise JaxnnError("optimizer must be an optax.GradientTransformation, e.g. optax.adam(1e-3)")
    if optimizer is not None and momentum:
        raise JaxnnError(
            "momentum applies to the built-in SGD: with optimizer=, put it in the optax "
            "transformation (e.g. optax.sgd(eta, momentum))"
        )
    epochs = positive_int(epochs, "epochs", minimum=0)
    for name, value in (("early_stopping", early_stopping), ("halve_eta_after", halve_eta_after)):
        if value is not None:
            positive_int(value, name)
    if (early_stopping or halve_eta_after) and s.evaluation is None:
        raise JaxnnError("early_stopping and halve_eta_after watch the evaluation accuracy: pass evaluation_data")
    key = prng_key(key)
    memory.check_fits(  # the parameters' copy, their gradients and momentum, before anything is allocated
        s.net, "this network", batch=s.mini_batch_size, dtype=s.dtype, copies=3 if momentum else 2
    )

    x, y, n = s.x, s.y, s.n
    params = jax.tree_util.tree_map(lambda a: jnp.array(a, s.dtype), params)  # a private copy: epochs donate it
    if optimizer is None:
        transform = optim.book_transformation(momentum > 0)
        opt_state = optim.book_state(transform, params, eta, momentum)
    else:
        transform, opt_state = optimizer, optimizer.init(params)
    if halve_eta_after and optim.learning_rate(opt_state) is None:
        raise JaxnnError(
            "halve_eta_after changes the learning rate in the optimizer's state: with optimizer=, build "
            "it with optax.inject_hyperparams (e.g. optax.inject_hyperparams(optax.sgd)(learning_rate=0.1))"
        )
    mesh = None
    if data_parallel:
        mesh = distributed.batch_mesh()
        if s.mini_batch_size % mesh.size:
            raise JaxnnError(
                f"data_parallel splits each mini-batch over {mesh.size} devices: make mini_batch_size a multiple "
                f"of {mesh.size} (got {s.mini_batch_size})"
            )
        # the state and the training data whole on every device (every process holds the same values)
        params, opt_state, x, y = distributed.replicate((params, opt_state, x, y), mesh)
    run_epoch = epoch_fn(structure(s.net), s.gradient, n, s.mini_batch_size, transform, s.shuffle, s.last_batch, mesh)
    reg_scale = s.reg_scale(lmbda)
    hp = {"reg_scale": reg_scale, "p_dropout": s.rates(p_dropout)}
    history = History(
        evaluation_size=0 if s.evaluation is None else len(s.evaluation[0]),
        training_size=n,
        test_size=0 if s.test is None else len(s.test[0]),
        steps_per_epoch=s.steps_per_epoch,
    )

    eta_now = eta  # the learning rate as the user's number; the optimizer state holds it in the run's dtype

    def current_eta() -> float:
        lr = optim.learning_rate(opt_state)
        return eta_now if lr is None or optimizer is None else float(lr)

    def halve_eta() -> None:
        nonlocal opt_state, eta_now
        eta_now = current_eta() / 2
        opt_state = optim.with_learning_rate(opt_state, eta_now)

    stopping = _Stopping(early_stopping, halve_eta_after, min_eta_fraction, current_eta())
    monitor = _Monitor(
        s.net,
        s.evaluation,
        (x, y),
        s.test,
        lambda rows: s.reg_scale(lmbda, rows),
        hp["p_dropout"],
        monitor_evaluation_cost,
        monitor_evaluation_accuracy or bool(early_stopping or halve_eta_after) or s.test is not None,
        monitor_training_cost,
        monitor_training_accuracy,
    )
    start_epoch = 0
    config: dict = {}
    if checkpoint is not None:
        config = _run_config(s, x, y, optimizer, key, lmbda, p_dropout, momentum, eta, params)
        if resume and distributed.process_count() > 1:
            distributed.barrier("jaxnn.sgd resume")  # process 0 has finished writing before any process reads
        if resume and Path(checkpoint).is_file():
            params, opt_state, _, meta = load_checkpoint(
                checkpoint, params_like=params, opt_state_like=opt_state, config=config
            )
            params = jax.tree_util.tree_map(jnp.asarray, params)
            opt_state = jax.tree_util.tree_map(jnp.asarray, opt_state)
            if mesh is not None:
                params, opt_state = distributed.replicate((params, opt_state), mesh)
            history = History(**meta["history"])
            stopping.best, stopping.since_best = meta["best"], meta["since_best"]
            eta_now = meta["eta"]
            start_epoch = meta["epoch"] + 1
            if history.stopped:
                start_epoch = epochs  # that run had already ended
        if distributed.process_count() > 1:
            distributed.agree(
                start_epoch, f"the epoch to resume from (is {checkpoint} on a file system they all read?)"
            )
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
                msg = _divergence_message(j, s.net, current_eta(), reg_scale)
                if on_divergence == "revert":
                    params, opt_state = good
                    if optim.learning_rate(opt_state) is not None:
                        halve_eta()
                        bar.write(f"{msg}; reverted to epoch {j - 1} and halved η to {current_eta():g}")
                    else:
                        bar.write(f"{msg}; reverted to epoch {j - 1}")
                    continue
                params = good
                history.stopped = msg + "; kept the last good parameters"
                bar.write(history.stopped)
                break
            if on_divergence == "stop":
                good = None
            history.epoch.append(j)
            history.eta.append(current_eta())
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
                stopped, halve = stopping.update(history.evaluation_correct[-1])
                if halve:
                    halve_eta()
                    stopped = stopping.below_minimum(current_eta()) or stopped
                history.stopped = stopped or history.stopped
            if checkpoint is not None and distributed.is_writer():
                save_checkpoint(
                    checkpoint,
                    params=params,
                    opt_state=opt_state,
                    key=key,
                    epoch=j,
                    eta=current_eta(),
                    history=history.as_dict(),
                    config=config,
                    best=stopping.best,
                    since_best=stopping.since_best,
                )
            if history.stopped:
                break
    finally:
        bar.close()
    return params, history


__all__ = [
    "GATHER_BYTES",
    "GATHER_STEPS",
    "GRADIENTS",
    "NETWORK3",
    "chunk_rows",
    "epoch_body",
    "epoch_fn",
    "epoch_key",
    "in_chunks",
    "epoch_order",
    "measure",
    "metrics_fn",
    "sgd",
    "structure",
]
