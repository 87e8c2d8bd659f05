"""Weight regularizers, each a record with its penalty and hand-written gradient.

The regularized cost is C = C₀ + (λ/n)·penalty(w), summed over every layer's weights (never
the biases), where n is the size of the training set, as in the book. With plain SGD this
gives network2's updates exactly:

- L2: penalty ½Σw², so w ← (1 − ηλ/n)·w − (η/m)Σ_x ∇C_x   (weight decay)
- L1: penalty Σ|w|, so w ← w − (ηλ/n)·sgn(w) − (η/m)Σ_x ∇C_x, with sgn(0) = 0

Derivation: docs/derivations.md#l2-and-l1-regularization
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnn.registry import Registry


class Regularizer(NamedTuple):
    """A weight penalty and its hand-written gradient.

    Attributes:
      name: the registry name.
      penalty: ``penalty(w) -> scalar`` for one weight matrix.
      grad: ``grad(w) -> array``, ∂penalty/∂w, written by hand.
    """

    name: str
    penalty: Callable[[jax.Array], jax.Array]
    grad: Callable[[jax.Array], jax.Array]


regularizers: Registry[Regularizer] = Registry("regularizer", Regularizer)

l2 = regularizers.register(Regularizer("l2", lambda w: 0.5 * jnp.sum(w * w), lambda w: w))


def _abs(w):
    # |w| with the subgradient sgn(0) = 0 at the kink, so jax.grad agrees with the book's rule
    return jnp.sum(jnp.where(w == 0, 0.0, jnp.abs(w)))


l1 = regularizers.register(Regularizer("l1", _abs, jnp.sign))
none = regularizers.register(Regularizer("none", lambda w: jnp.zeros((), w.dtype), jnp.zeros_like))


def get(name_or_regularizer) -> Regularizer:
    return regularizers.get(name_or_regularizer)


__all__ = ["Regularizer", "get", "l1", "l2", "none", "regularizers"]
