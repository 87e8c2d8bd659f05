"""Weight initializers: records that turn a PRNG key and layer sizes into parameters.

Parameters are a list with one record per layer, ``{"w": (n_out, n_in), "b": (n_out,)}``, in
the book's orientation (z = w·a + b, so with rows as examples, z = a @ w.T + b).
"""

from __future__ import annotations

import math
from typing import Callable, List, NamedTuple, Sequence

import jax
import jax.numpy as jnp

from jaxnn import _cache
from jaxnn.registry import Registry
from jaxnn.validation import check_sizes, float_dtype, prng_key, sizes_of

Params = List[dict]


class Initializer(NamedTuple):
    """Draws one layer's parameters.

    Attributes:
      name: the registry name.
      layer: ``layer(key, n_in, n_out, dtype) -> {"w": (n_out, n_in), "b": (n_out,)}``.
      doc: one line on what it draws.
    """

    name: str
    layer: Callable[..., dict]
    doc: str = ""


initializers: Registry[Initializer] = Registry("initializer", Initializer)

# Drawing the weights compiles JAX's random programs: the compilation cache must be on before
# (jaxnn.net turns it on too, for networks built before any weights are drawn).
_cache.enable()


def _normal_layer(weight_scale: Callable[[int], float], by_n_out: bool = False):
    def layer(key, n_in, n_out, dtype=jnp.float32):
        kw, kb = jax.random.split(key)
        scale = 1.0 / math.sqrt(n_out) if by_n_out else weight_scale(n_in)
        w = jax.random.normal(kw, (n_out, n_in), dtype) * jnp.asarray(scale, dtype)
        b = jax.random.normal(kb, (n_out,), dtype)
        return {"w": w, "b": b}

    return layer


large = initializers.register(
    Initializer(
        "large",
        _normal_layer(lambda n_in: 1.0),
        "network.py's init: weights and biases from N(0, 1)",
    )
)
default = initializers.register(
    Initializer(
        "default",
        _normal_layer(lambda n_in: 1.0 / n_in**0.5),
        "network2.py's default: weights from N(0, 1/√n_in), biases from N(0, 1)",
    )
)
network3 = initializers.register(
    Initializer(
        "network3",
        _normal_layer(lambda n_in: 1.0, by_n_out=True),
        "network3.py's FullyConnectedLayer: weights from N(0, 1/√n_out), biases from N(0, 1)",
    )
)


def _zeros_layer(key, n_in, n_out, dtype=jnp.float32):
    return {"w": jnp.zeros((n_out, n_in), dtype), "b": jnp.zeros((n_out,), dtype)}


zeros = initializers.register(Initializer("zeros", _zeros_layer, "network3.py's SoftmaxLayer: all zeros"))


def init_params(key, sizes: Sequence[int], initializer="default", dtype=jnp.float32) -> Params:
    """Draws parameters for a fully connected network.

    Args:
      key: a ``jax.random`` key; the only source of randomness.
      sizes: layer widths, input first, e.g. ``[784, 30, 10]``.
      initializer: a registry name (``"default"``, ``"large"``, ...) or an ``Initializer``.
      dtype: the parameters' float type.

    Returns:
      A list with one ``{"w": (n_out, n_in), "b": (n_out,)}`` per layer.
    """
    sizes = check_sizes(sizes)
    init = initializers.get(initializer)
    dtype = float_dtype(dtype)
    from jaxnn.memory import check_parameters_fit

    check_parameters_fit(sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:])), dtype, f"layers of sizes {sizes}")
    keys = jax.random.split(prng_key(key), len(sizes) - 1)
    return [init.layer(k, n_in, n_out, dtype) for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])]


__all__ = [
    "Initializer",
    "check_sizes",
    "default",
    "init_params",
    "initializers",
    "large",
    "network3",
    "sizes_of",
    "zeros",
]
