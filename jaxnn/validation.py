"""Input checks shared by the API and the CLI: each failure is one JaxnnError naming the fix,
raised before anything is compiled.

Every public entry point (``sgd``, ``sweep``, ``init_params``, ``make_model``, ``predict``,
``evaluate``, ``accuracy``, the loaders, the tuning searches and the CLI) passes what it is
given through these functions first, so a malformed input never reaches JAX. Arrays that are
JAX tracers (inside ``jit``, ``grad`` or ``vmap``) are let through unchecked: their values are
not known yet, and checking them there would break tracing.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np

from jaxnn.errors import JaxnnError
from jaxnn.registry import did_you_mean

#: The PRNG implementation of every key jaxnn makes from an integer seed, pinned so that a global
#: ``jax_default_prng_impl`` setting (or the JAX_DEFAULT_PRNG_IMPL variable) cannot change a run.
PRNG_IMPL = "threefry2x32"

_INT64 = (-(1 << 63), (1 << 63) - 1)


def _is_tracer(x) -> bool:
    import jax

    return isinstance(x, jax.core.Tracer)


def choice(value, choices: Sequence, name: str):
    """``value`` when it is one of ``choices``; otherwise an error listing them, with the closest."""
    try:
        ok = any(value is c or (isinstance(value, str) and isinstance(c, str) and value == c) for c in choices)
    except Exception:  # an array compares element-wise: not a choice
        ok = False
    if not ok:
        names = [c for c in choices if isinstance(c, str)]
        shown = ", ".join(repr(c) for c in choices)
        raise JaxnnError(f"unknown {name} {value!r}: choose one of {shown}{did_you_mean(value, names)}")
    return value


def as_inputs(x, n_in: int, what: str = "inputs") -> np.ndarray:
    """Checks that ``x`` is a finite float array of rows with ``n_in`` columns."""
    try:
        x = np.asarray(x)
    except Exception as exc:
        raise JaxnnError(f"{what} must be an array of shape (m, {n_in}): {exc}") from None
    if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise JaxnnError(f"{what} must be a numeric array of shape (m, {n_in}), got dtype {x.dtype}")
    if x.ndim == 3 and x.shape[1] * x.shape[2] == n_in:
        raise JaxnnError(
            f"expected {what} of shape (m, {n_in}) for sizes[0]={n_in}, got {x.shape}: flatten "
            f"images first, e.g. x.reshape(len(x), {n_in})"
        )
    if x.ndim != 2 or x.shape[1] != n_in:
        raise JaxnnError(
            f"expected {what} of shape (m, {n_in}) for sizes[0]={n_in}, got {x.shape}: one example "
            "per row, with as many columns as the input layer has neurons"
        )
    if x.shape[0] == 0:
        raise JaxnnError(f"{what} are empty: pass at least one example")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        raise JaxnnError(f"{what} contain NaN or infinite values in {bad} rows: clean or drop those rows first")
    return x


def as_examples(x, in_shape, what: str = "inputs") -> np.ndarray:
    """Checks inputs for a network whose examples have shape ``in_shape``: rows ``(m, n_in)``
    for a fully connected network, or rows ``(m, prod(in_shape))`` or examples ``(m, *in_shape)``
    for a network of images."""
    in_shape = tuple(in_shape)
    if len(in_shape) == 1:
        return as_inputs(x, in_shape[0], what)
    try:
        x = np.asarray(x)
    except Exception as exc:
        raise JaxnnError(f"{what} must be an array of images {in_shape}: {exc}") from None
    size = math.prod(in_shape)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise JaxnnError(f"{what} must be a numeric array, got dtype {x.dtype}")
    if x.ndim < 1 or x.shape[1:] not in ((size,), in_shape):
        raise JaxnnError(
            f"expected {what} of shape (m, {size}) or (m, {', '.join(map(str, in_shape))}) for "
            f"in_shape={in_shape}, got {x.shape}"
        )
    if x.shape[0] == 0:
        raise JaxnnError(f"{what} are empty: pass at least one example")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x.reshape(len(x), -1))).any(axis=1).sum())
        raise JaxnnError(f"{what} contain NaN or infinite values in {bad} rows: clean or drop those rows first")
    return x


def as_targets(y, m: int, n_out: int, what: str = "labels") -> np.ndarray:
    """Checks integer labels (m,) in [0, n_out), or target rows (m, n_out)."""
    try:
        y = np.asarray(y)
    except Exception as exc:
        raise JaxnnError(f"{what} must be an array of {m} integer labels: {exc}") from None
    if y.ndim == 2 and y.shape[1] == 1 and n_out != 1:
        y = y[:, 0]  # column of labels
    if y.shape[:1] != (m,):
        raise JaxnnError(
            f"{what} have {y.shape[0] if y.ndim else 0} entries but the inputs have {m} rows: pass one label per row"
        )
    if y.ndim == 1:
        if not np.issubdtype(y.dtype, np.integer):
            if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
                y = y.astype(np.int64)
            else:
                raise JaxnnError(
                    f"{what} must be integers (class indices) or rows of {n_out} targets, got dtype {y.dtype}"
                )
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= n_out:
            raise JaxnnError(
                f"{what} range over [{lo}, {hi}] but the output layer has {n_out} neurons (classes 0..{n_out - 1}): "
                "make sizes[-1] the number of classes"
            )
        return y.astype(np.int32)
    if y.ndim == 2 and y.shape[1] == n_out:
        if not (np.issubdtype(y.dtype, np.floating) or np.issubdtype(y.dtype, np.integer)):
            raise JaxnnError(f"{what} must be rows of {n_out} real numbers, got dtype {y.dtype}")
        if not np.isfinite(y).all():
            raise JaxnnError(f"{what} contain NaN or infinite values: clean or drop those rows first")
        return y
    raise JaxnnError(f"{what} must have shape ({m},) or ({m}, {n_out}) for sizes[-1]={n_out}, got {y.shape}")


def as_labels(labels, m: int, n_out: int, what: str = "labels") -> np.ndarray:
    """Class indices (m,) for scoring: integer labels, or one-hot rows turned into their argmax."""
    y = as_targets(labels, m, n_out, what)
    return y if y.ndim == 1 else np.argmax(y, axis=1).astype(np.int32)


#: The most parameters a network may have (about 8 GiB in float32): larger sizes are a typo.
MAX_PARAMETERS = 1 << 31
#: The widest layer a model file may declare.
MAX_WIDTH = 1 << 24


def check_sizes(sizes, bad: Optional[str] = None) -> List[int]:
    """The one check of a layer-size list such as [784, 30, 10]; returns it as ints.

    With ``bad`` (a sentence naming a file), the sizes were read from that file and the
    message says the file is at fault; otherwise they came from the caller.
    """
    ok = not isinstance(sizes, (str, bytes)) and isinstance(sizes, (list, tuple))
    ok = ok and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes)
    if bad is not None:
        if not ok or len(sizes) < 2 or not all(0 < s < MAX_WIDTH for s in sizes):
            raise JaxnnError(f"{bad}: 'sizes' must be a list of positive integers, got {sizes!r}")
    elif not ok:
        raise JaxnnError(f"sizes must be a list of layer widths such as [784, 30, 10], got {sizes!r}")
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise JaxnnError(f"sizes needs at least an input and an output layer, such as [784, 30, 10]; got {sizes}")
    if any(s < 1 for s in sizes):
        raise JaxnnError(f"every layer needs at least one neuron; got sizes {sizes}")
    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n > MAX_PARAMETERS:
        if bad is not None:
            raise JaxnnError(f"{bad}: it declares more than {MAX_PARAMETERS:,} parameters")
        raise JaxnnError(f"sizes {sizes} would need {n:,} parameters, more than {MAX_PARAMETERS:,}: use smaller layers")
    return sizes


def sizes_of(params, what: str = "params", floats: bool = False, finite: bool = False) -> List[int]:
    """Reads the layer sizes back from a fully connected network's parameters, checking that
    consecutive layers fit; with ``floats`` that every array is a float array, and with
    ``finite`` that it holds no NaN or infinity (tracers are let through)."""
    if not isinstance(params, (list, tuple)) or not params:
        raise JaxnnError(f"{what} must be a non-empty list of {{'w', 'b'}} layer records; see jaxnn.init_params")
    sizes: List[int] = []
    for l, layer in enumerate(params):
        try:
            w, b = layer["w"], layer["b"]
        except (KeyError, TypeError, IndexError):
            raise JaxnnError(f"{what}[{l}] must be a record {{'w': (n_out, n_in), 'b': (n_out,)}}") from None
        if getattr(w, "ndim", None) != 2 or getattr(b, "ndim", None) != 1 or w.shape[0] != b.shape[0]:
            raise JaxnnError(
                f"{what}[{l}] has w {getattr(w, 'shape', '?')} and b {getattr(b, 'shape', '?')}; "
                "expected w (n_out, n_in) and b (n_out,)"
            )
        if sizes and sizes[-1] != w.shape[1]:
            raise JaxnnError(
                f"{what}[{l}]['w'] takes {w.shape[1]} inputs but layer {l} has {sizes[-1]} outputs: "
                "the layers do not fit together (mismatched sizes)"
            )
        if not sizes:
            sizes.append(int(w.shape[1]))
        sizes.append(int(w.shape[0]))
        for k, a in (("w", w), ("b", b)):
            if floats or finite:
                float_array(a, f"{what}[{l}]['{k}']")
            if finite:
                finite_array(a, f"{what}[{l}]['{k}']")
    return sizes


def float_array(a, what: str) -> None:
    dtype = getattr(a, "dtype", None)
    if dtype is None or not np.issubdtype(np.dtype(dtype), np.floating):
        raise JaxnnError(f"{what} has dtype {dtype}: parameters must be floats, e.g. from jaxnn.init_params")


def finite_array(a, what: str) -> None:
    if not _is_tracer(a) and not np.isfinite(np.asarray(a)).all():
        raise JaxnnError(
            f"{what} holds NaN or infinite values: start from finite parameters "
            "(e.g. jaxnn.init_params, or the last good checkpoint)"
        )
    fits_dtype(a, a.dtype, what)


def fits_dtype(a, dtype, what: str) -> None:
    """Refuses finite values that would become ±inf in ``dtype`` as JAX computes in it (float64
    is float32 unless ``jax_enable_x64`` is set), naming the largest."""
    if _is_tracer(a):
        return
    import jax

    a = np.asarray(a)
    target = np.dtype(jax.dtypes.canonicalize_dtype(dtype))
    if a.size == 0 or a.dtype.kind != "f" or target.kind != "f" or np.finfo(a.dtype).max <= np.finfo(target).max:
        return
    largest, limit = float(np.max(np.abs(a))), float(np.finfo(target).max)
    if largest > limit:
        raise JaxnnError(
            f"{what} hold values up to {largest:.3g}, beyond the largest {target} ({limit:.3g}), "
            "so they would become infinite: scale them down, or compute in float64 "
            "(jax.config.update('jax_enable_x64', True))"
        )


def as_params(params, what: str = "params") -> List[int]:
    """Checks a fully connected network's parameters (layers that fit together, float dtype,
    finite values); returns the layer sizes."""
    return sizes_of(params, what, floats=True, finite=True)


def as_tree(params, what: str = "params") -> None:
    """Checks any network's parameters: float arrays, finite values."""
    leaves = _leaves(params)
    if not leaves:
        raise JaxnnError(f"{what} must be a non-empty list with one record of arrays per layer; see jaxnn.init_network")
    for path, a in leaves:
        float_array(a, f"{what}{path}")
        finite_array(a, f"{what}{path}")


def _leaves(params):
    import jax

    return [(jax.tree_util.keystr(path), a) for path, a in jax.tree_util.tree_leaves_with_path(params)]


def positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise JaxnnError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise JaxnnError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def positive_float(value, name: str, allow_zero: bool = False) -> float:
    if isinstance(value, (bool, str, bytes)):
        raise JaxnnError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise JaxnnError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = "≥ 0" if allow_zero else "> 0"
        raise JaxnnError(f"{name} must be a finite number {need}, got {value!r}")
    return v


def fraction(value, name: str, what: str = "a probability") -> float:
    """A number in [0, 1): a dropout rate or a momentum coefficient."""
    v = positive_float(value, name, allow_zero=True)
    if v >= 1:
        raise JaxnnError(f"{name} must be below 1 ({what}, in [0, 1)), got {value!r}")
    return v


def float_dtype(dtype, name: str = "dtype"):
    """A NumPy floating dtype, e.g. from ``np.float32`` or ``"float64"``."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise JaxnnError(f"{name} must be a float type such as numpy.float32, got {dtype!r}") from None
    if not np.issubdtype(d, np.floating):
        raise JaxnnError(f"{name} must be a float type such as numpy.float32, got {d}")
    return d


def seeds(values, name: str = "seeds") -> list:
    """A non-empty list of integer seeds."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise JaxnnError(f"{name} must be a list of integers such as [0, 1, 2], got {values!r}")
    out = [seed(s, name) for s in values]
    if not out:
        raise JaxnnError(f"{name} needs at least one seed, e.g. [0]")
    return out


def seed(value, name: str = "seed") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise JaxnnError(f"{name} must be an integer, got {value!r}")
    if not _INT64[0] <= int(value) <= _INT64[1]:
        raise JaxnnError(f"{name} must fit in 64 bits (|seed| < 2**63), got {value}")
    return int(value)


def prng_key(key):
    """A ``jax.random`` key from a typed key, a raw ``(2,)`` uint32 key, or an integer seed.

    Seeds become keys of the pinned implementation `PRNG_IMPL`.
    """
    import jax
    import jax.numpy as jnp

    if key is None:
        raise JaxnnError(
            "pass a PRNG key, e.g. key=jax.random.key(0) (or an integer seed): jaxnn draws no hidden randomness"
        )
    if isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, bool):
        return jax.random.key(seed(int(key), "key"), impl=PRNG_IMPL)
    if isinstance(key, jax.Array) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise JaxnnError(f"key must be a single PRNG key, got an array of {key.shape} keys: pass one, e.g. keys[0]")
        return key
    if isinstance(key, (jax.Array, np.ndarray)) and key.shape == (2,) and key.dtype == jnp.uint32:  # a raw PRNGKey
        return jax.random.wrap_key_data(jnp.asarray(key), impl=PRNG_IMPL)
    raise JaxnnError(f"key must be a jax.random key or an integer seed, got {type(key).__name__}")


def writable_file(path, what: str = "file") -> Path:
    """Checks, before any work is done, that ``path`` could be written: its folder exists and it
    is a regular file or nothing yet (not a folder, a device or a FIFO); a symbolic link is
    checked at the file it points to, which is where a save writes."""
    from jaxnn._files import write_target

    try:
        path = Path(path)
    except TypeError:
        raise JaxnnError(f"the {what} path must be a string or a Path, got {type(path).__name__}") from None
    write_target(path, what)
    return path


def optional_callable(value, name: str):
    if value is not None and not callable(value):
        raise JaxnnError(f"{name} must be a function (or None), got {type(value).__name__}")
    return value
