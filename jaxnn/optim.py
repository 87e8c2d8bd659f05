"""The book's update rule as an optax ``GradientTransformation``.

[`book_sgd`][jaxnn.optim.book_sgd] is network.py's and network2.py's step, w ← w − η∇C, or with chapter 3's
momentum μ: v ← μv − η∇C, w ← w + v. It is built with ``optax.inject_hyperparams``, so η and μ
live in the optimizer state: the trainer halves η there (``halve_eta_after``, the divergence
guard), a checkpoint saves it, and a sweep stacks one η per network. Every training path of
jaxnn ([`jaxnn.sgd`][jaxnn.training.sgd], [`jaxnn.sweep`][jaxnn.sweep.sweep], the book's modules) steps with it, or with any
other optax transformation passed as ``optimizer=``.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

import jax
import jax.numpy as jnp
import optax


def _book_rule(learning_rate, momentum, use_momentum: bool = False) -> optax.GradientTransformation:
    """The update −η∇C (plain) or v ← μv − η∇C (momentum), in each gradient's own dtype."""

    def init(params):
        if use_momentum:
            return jax.tree_util.tree_map(jnp.zeros_like, params)
        return optax.EmptyState()

    def update(grads, state, params=None):
        del params
        if not use_momentum:
            return jax.tree_util.tree_map(lambda g: -(jnp.asarray(learning_rate, g.dtype) * g), grads), state
        velocity = jax.tree_util.tree_map(
            lambda v, g: jnp.asarray(momentum, g.dtype) * v - jnp.asarray(learning_rate, g.dtype) * g, state, grads
        )
        return velocity, velocity

    return optax.GradientTransformation(init, update)


def book_sgd(learning_rate: float, momentum: float = 0.0) -> optax.GradientTransformation:
    """The book's SGD (with momentum when ``momentum`` > 0), its η and μ held in the state.

    ``params + updates`` is bit for bit the book's ``w − η∇C`` (negation is exact), so the
    trainer's results equal those of the rule written out by hand.
    """
    return optax.inject_hyperparams(_book_rule, static_args=("use_momentum",))(
        learning_rate=learning_rate, momentum=momentum, use_momentum=bool(momentum > 0)
    )


@functools.lru_cache(maxsize=None)
def book_transformation(use_momentum: bool) -> optax.GradientTransformation:
    """One shared [`book_sgd`][jaxnn.optim.book_sgd] per kind (plain or momentum), so that compiled epochs are
    reused across runs; the run's η and μ go into its state ([`book_state`][jaxnn.optim.book_state])."""
    return optax.inject_hyperparams(_book_rule, static_args=("use_momentum",))(
        learning_rate=1.0, momentum=0.0, use_momentum=use_momentum
    )


def book_state(transformation: optax.GradientTransformation, params, learning_rate, momentum=0.0):
    """``transformation.init(params)`` with η and μ set; each may be one number or, for a sweep's
    stacked parameters, one number per network."""
    state = transformation.init(params)
    hyper = state.hyperparams
    return state._replace(
        hyperparams={
            **hyper,
            "learning_rate": jnp.asarray(learning_rate, hyper["learning_rate"].dtype),
            "momentum": jnp.asarray(momentum, hyper["momentum"].dtype),
        }
    )


def apply(params, updates):
    """``params + updates``, leaf by leaf (``optax.apply_updates`` without its dtype casts)."""
    return jax.tree_util.tree_map(jnp.add, params, updates)


def learning_rate(state: Any) -> Optional[Any]:
    """The learning rate held in an ``inject_hyperparams`` state (an array), or ``None``."""
    hyper = getattr(state, "hyperparams", None)
    if isinstance(hyper, dict) and "learning_rate" in hyper:
        return hyper["learning_rate"]
    return None


def with_learning_rate(state: Any, value) -> Any:
    """The state with its learning rate replaced (same dtype and shape)."""
    old = learning_rate(state)
    if old is None:
        raise ValueError("the optimizer state holds no learning rate")
    return state._replace(hyperparams={**state.hyperparams, "learning_rate": jnp.asarray(value, old.dtype)})


__all__ = ["apply", "book_sgd", "book_state", "book_transformation", "learning_rate", "with_learning_rate"]
