"""Chapter 3's hyper-parameter workflow: find η's threshold from the training cost, then search λ.

The book's recipe: with λ = 0, try η = 0.01, 0.1, 1, 10, … and watch the training cost in the
first few epochs. The threshold is the largest η for which the cost falls steadily; a good η is
about half of it. Then, with η fixed, try λ over a grid and keep the best validation accuracy.
Both searches run as one vmapped sweep each.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Iterable, List, Optional, Sequence

import jax
import numpy as np

from jaxnn._setup import setup
from jaxnn.errors import JaxnnError
from jaxnn.net import Network, net_metrics
from jaxnn.sweep import SweepResult, sweep
from jaxnn.validation import positive_float, positive_int


@dataclasses.dataclass
class EtaSearch:
    """The outcome of [`eta_threshold`][jaxnn.tuning.eta_threshold].

    Attributes:
      etas: the η values tried, ascending.
      training_cost: ``(len(etas), epochs)`` training cost per epoch (mean over seeds).
      decreasing: for each η, whether its training cost fell in every epoch.
      threshold: the largest η whose cost fell steadily, or ``None`` if none did.
      suggested: half the threshold, the book's rule of thumb.
    """

    etas: List[float]
    training_cost: np.ndarray
    decreasing: List[bool]
    threshold: Optional[float]
    suggested: Optional[float]

    def table(self) -> str:
        lines = ["| η | training cost per epoch | falls steadily |", "| --- | --- | --- |"]
        for eta, costs, ok in zip(self.etas, self.training_cost, self.decreasing):
            lines.append(f"| {eta:g} | {', '.join(f'{c:.4g}' for c in costs)} | {'yes' if ok else 'no'} |")
        return "\n".join(lines)


def eta_threshold(
    sizes,
    training_data,
    *,
    etas: Sequence[float] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0),
    epochs: int = 3,
    mini_batch_size: int = 10,
    seeds: Sequence[int] = (0,),
    **kwargs,
) -> EtaSearch:
    """Estimates the threshold learning rate from the training cost of the first ``epochs`` epochs.

    The cost before training is the first point of each curve, so even one epoch tells whether
    η made things better. ``kwargs`` go to [`jaxnn.sweep`][jaxnn.sweep.sweep] (cost, activation, init, lmbda, …).
    """
    etas = sorted(_numbers(etas, "etas", allow_zero=False))
    positive_int(epochs, "epochs")
    before = sweep(sizes, training_data, 0, mini_batch_size, etas, seeds=seeds, monitor_training_cost=True, **kwargs)
    res = sweep(sizes, training_data, epochs, mini_batch_size, etas, seeds=seeds, monitor_training_cost=True, **kwargs)
    start = _initial_cost(before, sizes, training_data, kwargs)
    costs = np.concatenate([start[:, None], res.training_cost], axis=1)
    by_eta = np.array([costs[[i for i, c in enumerate(res.configs) if c["eta"] == e]].mean(0) for e in etas])
    ok = [bool(np.all(np.isfinite(c)) and np.all(np.diff(c) < 0)) for c in by_eta]
    good = [e for e, k in zip(etas, ok) if k]
    threshold = max(good) if good else None
    return EtaSearch(etas, by_eta[:, 1:], ok, threshold, threshold / 2 if threshold else None)


def _numbers(values, name, allow_zero) -> List[float]:
    """A non-empty list of finite numbers (> 0, or ≥ 0 with ``allow_zero``)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise JaxnnError(f"{name} must be a list of numbers such as [0.1, 1.0], got {values!r}")
    out = [positive_float(v, name, allow_zero=allow_zero) for v in values]
    if not out:
        raise JaxnnError(f"{name} needs at least one value")
    return out


def _initial_cost(res: SweepResult, sizes, training_data, kwargs) -> np.ndarray:
    """Each network's training cost before its first step (without the penalty)."""
    net = sizes if isinstance(sizes, Network) else None
    components = {k: kwargs.get(k) for k in ("cost", "activation", "output_activation")} if net is None else {}
    s = setup(None, training_data, 1, net=net, sizes=None if net is not None else sizes, components=components)
    f = jax.jit(jax.vmap(functools.partial(net_metrics, s.net), in_axes=(0, None, None, None, None)))
    c, _ = f(res.params, s.x, s.y, 0.0, None)
    return np.asarray(c)


def lambda_search(
    sizes,
    training_data,
    validation_data,
    eta: float,
    *,
    lmbdas: Sequence[float] = (0.0, 0.01, 0.1, 1.0, 5.0, 10.0, 100.0),
    epochs: int = 10,
    mini_batch_size: int = 10,
    seeds: Sequence[int] = (0,),
    **kwargs,
):
    """Tries every λ at once and returns ``(best_lmbda, SweepResult)``, judged by the mean best
    validation accuracy over ``seeds``."""
    lmbdas = _numbers(lmbdas, "lmbdas", allow_zero=True)
    positive_int(epochs, "epochs")
    if validation_data is None:
        raise JaxnnError("lambda_search judges each λ on validation_data: pass (x, labels), e.g. data.validation")
    res = sweep(
        sizes,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        lmbda=list(lmbdas),
        seeds=seeds,
        evaluation_data=validation_data,
        **kwargs,
    )
    # a network that diverged scores 0: it has no accuracy to average (its best_accuracy is NaN)
    accuracy = np.nan_to_num(res.best_accuracy, nan=0.0)
    scores = {l: np.mean([a for c, a in zip(res.configs, accuracy) if c["lmbda"] == l]) for l in lmbdas}
    return max(scores, key=lambda lmbda: scores[lmbda]), res


__all__ = ["EtaSearch", "eta_threshold", "lambda_search"]
