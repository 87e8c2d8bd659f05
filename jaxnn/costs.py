"""Cost functions, each a record with the cost and its hand-written output error δ^L (BP1).

Every cost works on a batch of rows. ``fn(a, y)`` and ``fn_z(z, y, activation)`` return the
cost of each example (shape ``(m,)``); the training loss is their mean over the mini-batch,
which is network.py's ``eta/len(mini_batch)`` scaling. ``delta(z, a, y, activation)`` is
∂C_x/∂z^L for each example: BP1, written by hand. Derivation: docs/derivations.md
"""

from __future__ import annotations

from typing import Callable, FrozenSet, NamedTuple, Optional

import jax
import jax.numpy as jnp

from jaxnn.activations import Activation
from jaxnn.registry import Registry

Array = jax.Array


class Cost(NamedTuple):
    """A cost function with its hand-written output error.

    Attributes:
      name: the registry name.
      fn: ``fn(a, y) -> (m,)``, the cost of each example from the network's outputs.
      delta: ``delta(z, a, y, activation) -> (m, n_out)``, the output error δ^L = ∂C/∂z^L.
      fn_z: ``fn_z(z, y, activation) -> (m,)``, the same cost computed from z^L where that is
        more stable (log-sigmoid, log-softmax); this is what ``jax.grad`` differentiates.
      needs_range: the interval the output activation's values must lie in, or ``None``.
      canonical: output activations for which δ^L simplifies to a − y.
    """

    name: str
    fn: Callable[[Array, Array], Array]
    delta: Callable[[Array, Array, Array, Activation], Array]
    fn_z: Optional[Callable[[Array, Array, Activation], Array]] = None
    needs_range: Optional[tuple] = None
    canonical: FrozenSet[str] = frozenset()

    def value_z(self, z, y, activation: Activation) -> Array:
        """The per-example cost from z^L, stably where the cost knows how."""
        if self.fn_z is not None:
            return self.fn_z(z, y, activation)
        return self.fn(activation.fn(z), y)

    def unsupported(self, activation: Activation) -> Optional[str]:
        """Why ``activation`` cannot feed this cost, or ``None`` if it can."""
        if self.needs_range is None:
            return None
        lo, hi = self.needs_range
        a_lo, a_hi = activation.output_range
        if a_lo < lo or a_hi > hi:
            return (
                f"the {self.name} cost needs outputs in [{lo}, {hi}], but {activation.name!r} "
                f"outputs lie in [{a_lo}, {a_hi}]: use an output activation such as "
                f"{' or '.join(repr(c) for c in sorted(self.canonical)) or 'sigmoid'}"
            )
        return None


costs: Registry[Cost] = Registry("cost", Cost)


def get(name_or_cost) -> Cost:
    """Returns the registered cost for a name (or the record itself)."""
    return costs.get(name_or_cost)


def _clip_unit(a):
    """Keeps a strictly inside (0, 1) so that logarithms stay finite."""
    tiny = jnp.finfo(a.dtype).tiny
    return jnp.clip(a, tiny, 1 - jnp.finfo(a.dtype).epsneg)


# -- quadratic: C = ½‖a − y‖², δ^L = (a − y) ⊙ σ'(z^L)
# Derivation: docs/derivations.md#the-quadratic-cost


quadratic = costs.register(
    Cost(
        name="quadratic",
        fn=lambda a, y: 0.5 * jnp.sum((a - y) ** 2, axis=-1),
        delta=lambda z, a, y, act: act.vjp(z, a, a - y),
    )
)


# -- cross-entropy: C = −Σ_j [y ln a + (1 − y) ln(1 − a)], δ^L = a − y for a sigmoid output


def _ce_fn(a, y):
    a = _clip_unit(a)
    return -jnp.sum(y * jnp.log(a) + (1 - y) * jnp.log1p(-a), axis=-1)


def _ce_fn_z(z, y, act):
    if act.log_fn is None or act.log1m_fn is None:
        return _ce_fn(act.fn(z), y)
    return -jnp.sum(y * act.log_fn(z) + (1 - y) * act.log1m_fn(z), axis=-1)


def _ce_delta(z, a, y, act):
    """δ^L of the cross-entropy. Derivation: docs/derivations.md#the-cross-entropy-and-its-delta"""
    if act.name in _CE_CANONICAL:
        return a - y
    # ∂C/∂a = (a − y) / (a(1 − a)), then back through the activation's Jacobian.
    return act.vjp(z, a, (a - y) / (a * (1 - a)))


_CE_CANONICAL = frozenset({"sigmoid"})

cross_entropy = costs.register(
    Cost(
        name="cross-entropy",
        fn=_ce_fn,
        fn_z=_ce_fn_z,
        delta=_ce_delta,
        needs_range=(0.0, 1.0),
        canonical=_CE_CANONICAL,
    )
)


# -- log-likelihood: C = −ln a_y (y one-hot), δ^L = a − y for a softmax output


def _ll_fn(a, y):
    return -jnp.sum(y * jnp.log(_clip_unit(a)), axis=-1)


def _ll_fn_z(z, y, act):
    if act.log_fn is None:
        return _ll_fn(act.fn(z), y)
    return -jnp.sum(y * act.log_fn(z), axis=-1)


_LL_CANONICAL = frozenset({"softmax"})


def _ll_delta(z, a, y, act):
    """δ^L of the log-likelihood. Derivation: docs/derivations.md#softmax-with-the-log-likelihood"""
    if act.name in _LL_CANONICAL:
        # ∂/∂z of −Σ_j y_j ln softmax_j(z) is a·Σ_j y_j − y: the book's a − y when each row of y
        # sums to 1 (one-hot or probabilities), and still the exact gradient for any other targets.
        return a * jnp.sum(y, axis=-1, keepdims=True) - y
    return act.vjp(z, a, -y / a)


log_likelihood = costs.register(
    Cost(
        name="log-likelihood",
        fn=_ll_fn,
        fn_z=_ll_fn_z,
        delta=_ll_delta,
        needs_range=(0.0, 1.0),
        canonical=_LL_CANONICAL,
    )
)

__all__ = ["Cost", "costs", "cross_entropy", "get", "log_likelihood", "quadratic"]
