"""Mini-batch stochastic gradient descent, one jitted call per epoch.

Each epoch runs as a single compiled program: the data stay on the device, a fresh
permutation is drawn from the epoch's key, ``lax.scan`` steps through the mini-batches
(gathering each one by index, so the data are never copied into shuffled order), and the
parameters are donated so XLA updates them in place. Evaluation is a second jitted call.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Callable, Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn import progress
from jaxnn.backprop import model_backprop, model_backprop_per_example
from jaxnn.errors import JaxnnError
from jaxnn.initializers import sizes_of
from jaxnn.network import Model, feedforward, make_model, model_autodiff_grad, require_differentiable
from jaxnn.validation import as_inputs, as_targets, positive_float, positive_int

#: The gradient paths, by name; each maps (model, params, x, y_one_hot) to the mean-cost gradient.
GRADIENTS: Dict[str, Callable] = {
    "backprop": model_backprop,
    "autodiff": model_autodiff_grad,
    "backprop-per-example": model_backprop_per_example,
}


@dataclasses.dataclass
class History:
    """What happened in each epoch of :func:`sgd`.

    Attributes:
      epoch: epoch numbers, from 0 as network.py prints them.
      evaluation_correct: correctly classified evaluation examples per epoch (empty without
        evaluation data).
      evaluation_size: the number of evaluation examples.
      seconds: wall time of each epoch's training call (the first includes compilation).
    """

    epoch: List[int] = dataclasses.field(default_factory=list)
    evaluation_correct: List[int] = dataclasses.field(default_factory=list)
    evaluation_size: int = 0
    seconds: List[float] = dataclasses.field(default_factory=list)

    @property
    def evaluation_accuracy(self) -> List[float]:
        """Evaluation accuracy per epoch, as fractions."""
        return [c / self.evaluation_size for c in self.evaluation_correct]

    def best(self) -> Tuple[int, float]:
        """The best epoch and its evaluation accuracy (the figure the book reports)."""
        if not self.evaluation_correct:
            raise JaxnnError("no evaluation data were given, so there is no best epoch")
        i = int(np.argmax(self.evaluation_correct))
        return self.epoch[i], self.evaluation_correct[i] / self.evaluation_size

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _gather_targets(y, idx, n_out, dtype):
    yb = y[idx]
    if yb.ndim == 1:  # integer labels become one-hot rows here, inside the compiled step
        return jax.nn.one_hot(yb, n_out, dtype=dtype)
    return yb.astype(dtype)


@functools.lru_cache(maxsize=64)
def epoch_fn(model: Model, gradient: str, n: int, mini_batch_size: int):
    """The compiled epoch for ``n`` examples: ``epoch(params, key, x, y, eta) -> params``.

    The permutation is split into ``n // m`` full mini-batches, scanned, and, when ``m`` does not
    divide ``n``, one last short mini-batch of ``n % m`` examples, stepped with ``eta`` over its
    own size exactly as network.py does.
    """
    grad = GRADIENTS[gradient]
    m = mini_batch_size
    n_full, rem = divmod(n, m)

    def sgd_step(params, x, y, idx, eta):
        n_out = params[-1]["w"].shape[0]
        xb = x[idx]
        yb = _gather_targets(y, idx, n_out, xb.dtype)
        g = grad(model, params, xb, yb)
        return jax.tree_util.tree_map(lambda p, d: p - eta * d, params, g)

    def epoch(params, key, x, y, eta):
        perm = jax.random.permutation(key, n)
        eta = jnp.asarray(eta, x.dtype)
        if n_full:
            batches = perm[: n_full * m].reshape(n_full, m)
            params, _ = jax.lax.scan(lambda p, idx: (sgd_step(p, x, y, idx, eta), None), params, batches)
        if rem:
            params = sgd_step(params, x, y, perm[n_full * m :], eta)
        return params

    return jax.jit(epoch, donate_argnums=0)


@functools.lru_cache(maxsize=64)
def evaluate_fn(model: Model):
    """The compiled count of correct argmax predictions: ``f(params, x, labels) -> int``."""

    def count(params, x, labels):
        a = feedforward(model, params, x)[1][-1]
        return jnp.sum(jnp.argmax(a, axis=-1) == labels)

    return jax.jit(count)


def as_key(key):
    """A ``jax.random`` key from a key or an integer seed."""
    if key is None:
        raise JaxnnError("pass a PRNG key, e.g. key=jax.random.key(0) (or an integer seed): jaxnn draws no hidden randomness")
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return jax.random.key(int(key))
    if isinstance(key, jax.Array) and (jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) or key.shape == (2,)):
        return key
    raise JaxnnError(f"key must be a jax.random key or an integer seed, got {type(key).__name__}")


def epoch_key(key, epoch: int):
    """The key of one epoch; derived by folding in the epoch number, so epoch k can be replayed alone."""
    return jax.random.fold_in(key, epoch)


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
    verbose: bool = False,
    show_progress: bool = False,
    callback: Optional[Callable] = None,
):
    """Trains a fully connected network by mini-batch SGD, as network.py's ``SGD`` does.

    Each epoch reshuffles the training data (from ``key``), steps through mini-batches of
    ``mini_batch_size`` with w ← w − (η/m) Σ_x ∇C_x, and then counts correct evaluation
    predictions. When ``mini_batch_size`` does not divide the number of examples, the last
    mini-batch of each epoch is short and steps with η over its own size, as in network.py.

    Args:
      params: initial parameters (from :func:`jaxnn.init_params`); not modified.
      training_data: ``(x, y)`` with ``x`` of shape ``(n, sizes[0])`` and ``y`` integer labels
        ``(n,)`` or target rows ``(n, sizes[-1])``.
      epochs: number of passes over the training data.
      mini_batch_size: examples per gradient step (the book's m).
      eta: the learning rate η.
      key: a ``jax.random`` key (or integer seed) for the shuffles.
      evaluation_data: optional ``(x, labels)`` scored after every epoch (network.py's
        ``test_data``).
      cost, activation, output_activation: components by registry name or record.
      gradient: ``"backprop"`` (hand-written, matrix-based), ``"autodiff"`` (``jax.grad``) or
        ``"backprop-per-example"`` (network.py's loop over examples).
      verbose: print ``Epoch j: k / n`` (or ``Epoch j complete``) lines as network.py does.
      show_progress: show a progress bar over epochs.
      callback: called as ``callback(epoch, params, history)`` after each epoch.

    Returns:
      ``(params, history)``: the trained parameters and a :class:`History`.
    """
    sizes = sizes_of(params)
    model = make_model(activation, output_activation, cost)
    require_differentiable(model)
    if gradient not in GRADIENTS:
        raise JaxnnError(f"unknown gradient {gradient!r}: choose one of {', '.join(GRADIENTS)}")
    epochs = positive_int(epochs, "epochs", minimum=0)
    eta = positive_float(eta, "eta")
    key = as_key(key)
    try:
        x, y = training_data
    except (TypeError, ValueError):
        raise JaxnnError("training_data must be a pair (x, y) of inputs and labels") from None
    x = as_inputs(x, sizes[0], "training inputs")
    y = as_targets(y, len(x), sizes[-1], "training labels")
    n = len(x)
    mini_batch_size = positive_int(mini_batch_size, "mini_batch_size")
    if mini_batch_size > n:
        raise JaxnnError(
            f"mini_batch_size {mini_batch_size} is larger than the {n} training examples: use at most {n}"
        )
    dtype = params[0]["w"].dtype
    if evaluation_data is not None:
        try:
            ex, ey = evaluation_data
        except (TypeError, ValueError):
            raise JaxnnError("evaluation_data must be a pair (x, labels)") from None
        ex = as_inputs(ex, sizes[0], "evaluation inputs")
        ey = as_targets(ey, len(ex), sizes[-1], "evaluation labels")
        if ey.ndim == 2:
            ey = np.argmax(ey, axis=1).astype(np.int32)
        ex, ey = jnp.asarray(ex, dtype), jnp.asarray(ey)

    x = jnp.asarray(x, dtype)
    y = jnp.asarray(y) if y.ndim == 1 else jnp.asarray(y, dtype)
    run_epoch = epoch_fn(model, gradient, n, mini_batch_size)
    count = evaluate_fn(model)
    params = jax.tree_util.tree_map(jnp.array, params)  # a private copy: epochs donate it
    history = History(evaluation_size=0 if evaluation_data is None else len(ey))
    bar = progress.bar(epochs, "training", enabled=show_progress)
    try:
        for j in range(epochs):
            start = time.perf_counter()
            params = run_epoch(params, epoch_key(key, j), x, y, eta)
            jax.block_until_ready(params)
            history.seconds.append(time.perf_counter() - start)
            history.epoch.append(j)
            if evaluation_data is not None:
                correct = int(count(params, ex, ey))
                history.evaluation_correct.append(correct)
                line = f"Epoch {j}: {correct} / {len(ey)}"
                bar.set_postfix_str(f"{correct / len(ey):.2%}")
            else:
                line = f"Epoch {j} complete"
            if verbose:
                bar.write(line)
            bar.update()
            if callback is not None:
                callback(j, params, history)
    finally:
        bar.close()
    return params, history


__all__ = ["GRADIENTS", "History", "epoch_fn", "epoch_key", "evaluate_fn", "sgd"]
