"""Weight initializers: records that turn a PRNG key and layer sizes into parameters.

Parameters are a list with one record per layer, ``{"w": (n_out, n_in), "b": (n_out,)}``, in
the book's orientation (z = w·a + b, so with rows as examples, z = a @ w.T + b).
"""

from __future__ import annotations

from typing import Callable, List, NamedTuple, Sequence

import jax
import jax.numpy as jnp

from jaxnn.errors import JaxnnError
from jaxnn.registry import Registry

Params = List[dict]

#: The most parameters a network may have (about 8 GiB in float32): larger sizes are a typo.
MAX_PARAMETERS = 1 << 31


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


def _normal_layer(weight_scale: Callable[[int], float]):
    def layer(key, n_in, n_out, dtype=jnp.float32):
        kw, kb = jax.random.split(key)
        w = jax.random.normal(kw, (n_out, n_in), dtype) * jnp.asarray(weight_scale(n_in), dtype)
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


def check_sizes(sizes: Sequence[int]) -> List[int]:
    """Validates a layer-size list such as [784, 30, 10] and returns it as ints."""
    import numbers

    if isinstance(sizes, (str, bytes)) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in _iterable(sizes)):
        raise JaxnnError(f"sizes must be a list of layer widths such as [784, 30, 10], got {sizes!r}")
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise JaxnnError(
            f"sizes needs at least an input and an output layer, such as [784, 30, 10]; got {sizes}"
        )
    if any(s < 1 for s in sizes):
        raise JaxnnError(f"every layer needs at least one neuron; got sizes {sizes}")
    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n > MAX_PARAMETERS:
        raise JaxnnError(f"sizes {sizes} would need {n:,} parameters, more than {MAX_PARAMETERS:,}: use smaller layers")
    return sizes


def _iterable(sizes):
    try:
        return list(sizes)
    except TypeError:
        return [None]  # not a list: rejected by the caller


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
    from jaxnn.validation import component, float_dtype, prng_key

    sizes = check_sizes(sizes)
    init = component(initializers, initializer)
    dtype = float_dtype(dtype)
    keys = jax.random.split(prng_key(key), len(sizes) - 1)
    return [init.layer(k, n_in, n_out, dtype) for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])]


def sizes_of(params: Params) -> List[int]:
    """Reads the layer sizes back from parameters, checking that consecutive layers fit."""
    if not isinstance(params, (list, tuple)) or not params:
        raise JaxnnError("params must be a non-empty list of {'w', 'b'} layer records; see jaxnn.init_params")
    sizes = []
    for l, layer in enumerate(params):
        try:
            w, b = layer["w"], layer["b"]
        except (KeyError, TypeError, IndexError):
            raise JaxnnError(f"params[{l}] must be a record {{'w': (n_out, n_in), 'b': (n_out,)}}") from None
        if getattr(w, "ndim", None) != 2 or getattr(b, "ndim", None) != 1 or w.shape[0] != b.shape[0]:
            raise JaxnnError(
                f"params[{l}] has w {getattr(w, 'shape', '?')} and b {getattr(b, 'shape', '?')}; "
                "expected w (n_out, n_in) and b (n_out,)"
            )
        if sizes and sizes[-1] != w.shape[1]:
            raise JaxnnError(
                f"params[{l}]['w'] takes {w.shape[1]} inputs but layer {l} has {sizes[-1]} outputs: "
                "the layers do not fit together (mismatched sizes)"
            )
        if not sizes:
            sizes.append(int(w.shape[1]))
        sizes.append(int(w.shape[0]))
    return sizes


__all__ = ["Initializer", "initializers", "init_params", "large", "default", "sizes_of", "check_sizes"]
