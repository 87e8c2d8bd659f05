"""Activation functions, each a record of pure functions with its hand-written derivative.

An [`Activation`][jaxnn.activations.Activation] carries ``fn`` (z -> a) and ``vjp`` (the hand-written product of an
upstream gradient with the Jacobian ∂a/∂z), which is what BP1 and BP2 need. Elementwise
activations also carry ``prime`` (σ'(z)), and ``vjp`` is then ``g * prime(z)``. Softmax is not
elementwise: its Jacobian is diag(a) − aaᵀ, so its ``vjp`` is written out by hand and its
``prime`` is ``None``. Derivations: ``docs/backprop.md``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp

from jaxnn.errors import JaxnnError, NotDifferentiableError
from jaxnn.registry import Registry

Array = jax.Array


class Activation(NamedTuple):
    """An activation function and its hand-written derivative.

    Attributes:
      name: the registry name.
      fn: ``fn(z) -> a``, applied over the last axis (rows are examples).
      vjp: ``vjp(z, a, g) -> g · ∂a/∂z``, the hand-written backward step (BP1/BP2).
      prime: ``prime(z) -> σ'(z)`` for elementwise activations, ``None`` otherwise.
      output_range: the open or closed interval the outputs lie in, used to decide which costs
        the activation can feed (cross-entropy needs (0, 1), log-likelihood needs a > 0).
      differentiable: ``False`` for the perceptron step, which has no useful derivative.
      log_fn: optional stable ``ln a`` from z (log-sigmoid, log-softmax).
      log1m_fn: optional stable ``ln(1 − a)`` from z.
    """

    name: str
    fn: Callable[[Array], Array]
    vjp: Callable[[Array, Array, Array], Array]
    prime: Optional[Callable[[Array], Array]] = None
    output_range: Tuple[float, float] = (-float("inf"), float("inf"))
    differentiable: bool = True
    log_fn: Optional[Callable[[Array], Array]] = None
    log1m_fn: Optional[Callable[[Array], Array]] = None


def elementwise(name: str, fn, prime, **kwargs) -> Activation:
    """Builds an elementwise [`Activation`][jaxnn.activations.Activation] from ``fn`` and its derivative ``prime``."""
    return Activation(name=name, fn=fn, prime=prime, vjp=lambda z, a, g: g * prime(z), **kwargs)


activations: Registry[Activation] = Registry("activation", Activation)


def get(name_or_activation) -> Activation:
    """Returns the registered activation for a name (or the record itself)."""
    return activations.get(name_or_activation)


def _sigmoid(z):
    return jax.nn.sigmoid(z)


sigmoid = activations.register(
    Activation(
        name="sigmoid",
        fn=_sigmoid,
        prime=lambda z: _sigmoid(z) * (1 - _sigmoid(z)),
        vjp=lambda z, a, g: g * a * (1 - a),  # σ'(z) = σ(z)(1 − σ(z)), reusing a = σ(z)
        output_range=(0.0, 1.0),
        log_fn=lambda z: -jax.nn.softplus(-z),
        log1m_fn=lambda z: -jax.nn.softplus(z),
    )
)

tanh = activations.register(
    Activation(
        name="tanh",
        fn=jnp.tanh,
        prime=lambda z: 1 - jnp.tanh(z) ** 2,
        vjp=lambda z, a, g: g * (1 - a * a),
        output_range=(-1.0, 1.0),
    )
)

relu = activations.register(
    elementwise(
        "relu",
        lambda z: jnp.maximum(z, 0),
        lambda z: (z > 0).astype(z.dtype),  # 0 at z = 0, as jax.nn.relu's gradient
        output_range=(0.0, float("inf")),
    )
)

linear = activations.register(
    Activation(
        name="linear",
        fn=lambda z: z,
        prime=lambda z: jnp.ones_like(z),
        vjp=lambda z, a, g: g,
    )
)


def _softmax(z):
    e = jnp.exp(z - jax.lax.stop_gradient(jnp.max(z, axis=-1, keepdims=True)))
    return e / jnp.sum(e, axis=-1, keepdims=True)


softmax = activations.register(
    Activation(
        name="softmax",
        fn=_softmax,
        # g · (diag(a) − aaᵀ) = a ⊙ (g − ⟨a, g⟩)
        vjp=lambda z, a, g: a * (g - jnp.sum(a * g, axis=-1, keepdims=True)),
        prime=None,
        output_range=(0.0, 1.0),
        log_fn=lambda z: jax.nn.log_softmax(z, axis=-1),
    )
)


def softmax_temperature(c: float) -> Activation:
    """softmax(c·z), the softmax with a temperature 1/c (the book's chapter 3 exercise).

    As c grows it tends to a one-hot argmax; c = 1 is the plain softmax. Its Jacobian is
    c(diag(a) − aaᵀ), so the hand-written backward step is c · a ⊙ (g − ⟨a, g⟩). Registered as
    the family ``"softmax(c=...)"``: ``make_model(output_activation="softmax(c=2)")``.
    """
    c = float(c)
    if not 0 < c < float("inf"):
        raise JaxnnError(f"softmax(c={c:g}) needs a finite factor c > 0: write e.g. 'softmax(c=2)'")
    return Activation(
        name=f"softmax(c={c:g})",
        fn=lambda z: _softmax(c * z),
        vjp=lambda z, a, g: c * a * (g - jnp.sum(a * g, axis=-1, keepdims=True)),
        prime=None,
        output_range=(0.0, 1.0),
        log_fn=lambda z: jax.nn.log_softmax(c * z, axis=-1),
    )


activations.register_family("softmax", softmax_temperature, {"c": 2.0})


def _no_derivative(*_):
    raise NotDifferentiableError(
        "the perceptron step has no useful derivative (it is 0 almost everywhere and undefined "
        "at 0), so gradient descent cannot train it: use 'sigmoid', the smooth version of the "
        "step, or train with a non-gradient rule"
    )


step = activations.register(
    Activation(
        name="step",
        fn=lambda z: (z > 0).astype(z.dtype),
        prime=_no_derivative,
        vjp=_no_derivative,
        output_range=(0.0, 1.0),
        differentiable=False,
    )
)

__all__ = [
    "Activation",
    "activations",
    "elementwise",
    "get",
    "linear",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_temperature",
    "step",
    "tanh",
]
