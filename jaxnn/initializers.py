"""Weight initializers: records that turn a PRNG key and layer sizes into parameters.

Parameters are a list with one record per layer, ``{"w": (n_out, n_in), "b": (n_out,)}``, in
the book's orientation (z = w·a + b, so with rows as examples, z = a @ w.T + b).
"""

from __future__ import annotations

import functools
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


#: Draws of up to this many numbers are made at a power-of-two size (see `normal`); larger ones
#: at their own size, so that no large layer needs twice its memory to be drawn.
_MAX_POOLED = 1 << 22
#: The smallest power-of-two size drawn: every bias and small layer shares one program.
_MIN_POOLED = 1 << 10


@functools.partial(jax.jit, static_argnums=(1, 2))
def _flat_normal(key, size, dtype):
    return jax.random.normal(key, (size,), dtype)


@functools.partial(jax.jit, static_argnums=(1,))
def _first(flat, shape):
    return flat[: math.prod(shape)].reshape(shape)


@functools.partial(jax.jit, static_argnums=(2,))
def _first_scaled(flat, scale, shape):
    return flat[: math.prod(shape)].reshape(shape) * scale


def _pooled_size(key, n: int) -> int:
    """The size to draw ``n`` numbers at, or ``n`` when the draw's numbers depend on its shape."""
    if n > _MAX_POOLED or not getattr(jax.config, "jax_threefry_partitionable"):
        return n
    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    impl = str(jax.random.key_impl(key)) if typed else str(getattr(jax.config, "jax_default_prng_impl"))
    if impl != "threefry2x32":
        return n
    return max(_MIN_POOLED, 1 << (n - 1).bit_length())


def normal(key, shape, dtype=jnp.float32, scale=None):
    """``jax.random.normal(key, shape, dtype)`` (times ``scale`` when given), bit for bit, compiled
    once per size class rather than once per shape.

    Compiling JAX's normal draw takes 0.1–0.3 s on a CPU core, and a plain draw compiles it anew
    for every shape: four times for a [784, 30, 10] network, before training starts. With the threefry key JAX uses by default (counter-based and partitionable), the k-th
    number of a draw depends only on the key and k, not on the shape, so this draws the next power
    of two of numbers (at least 1,024, at most 4,194,304; larger draws are made at their own size)
    and keeps the first ones. Other key implementations are drawn at their own shape.
    """
    shape = tuple(int(d) for d in shape)
    n = math.prod(shape)
    size = _pooled_size(key, n)
    if size == n and scale is None:
        return jax.random.normal(key, shape, dtype)
    flat = _flat_normal(key, size, dtype) if size != n else jax.random.normal(key, (n,), dtype)
    if scale is None:
        return _first(flat, shape)
    return _first_scaled(flat, jnp.asarray(scale, dtype), shape)


def _normal_layer(weight_scale: Callable[[int], float], by_n_out: bool = False):
    def layer(key, n_in, n_out, dtype=jnp.float32):
        kw, kb = jax.random.split(key)
        scale = 1.0 / math.sqrt(n_out) if by_n_out else weight_scale(n_in)
        return {"w": normal(kw, (n_out, n_in), dtype, scale), "b": normal(kb, (n_out,), dtype)}

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
    "normal",
    "sizes_of",
    "zeros",
]
