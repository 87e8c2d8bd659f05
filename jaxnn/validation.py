"""Input checks shared by the API and the CLI: each failure is one JaxnnError naming the fix,
raised before anything is compiled.

Every public entry point (``sgd``, ``sweep``, ``init_params``, ``make_model``, ``predict``,
``evaluate``, ``accuracy``, the loaders, the tuning searches and the CLI) passes what it is
given through these functions first, so a malformed input never reaches JAX. Arrays that are
JAX tracers (inside ``jit``, ``grad`` or ``vmap``) are let through unchecked: their values are
not known yet, and checking them there would break tracing.
"""

from __future__ import annotations

import difflib
import math
import numbers
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from jaxnn.errors import JaxnnError

#: The PRNG implementation of every key jaxnn makes from an integer seed, pinned so that a global
#: ``jax_default_prng_impl`` setting (or the JAX_DEFAULT_PRNG_IMPL variable) cannot change a run.
PRNG_IMPL = "threefry2x32"

_INT64 = (-(1 << 63), (1 << 63) - 1)


def _is_tracer(x) -> bool:
    import jax

    return isinstance(x, jax.core.Tracer)


def did_you_mean(value, names: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``value`` is close to one of ``names``, else ``""``."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(names), n=1, cutoff=0.6)
    if not close:  # also catch case and punctuation slips: "Sigmoid", "cross_entropy"
        norm = {n.lower().replace("_", "-"): n for n in names}
        close = [norm[value.lower().replace("_", "-")]] if value.lower().replace("_", "-") in norm else []
    return f" (did you mean {close[0]!r}?)" if close else ""


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


def component(registry, value):
    """``registry.get(value)``, with a "did you mean" hint for a misspelt name."""
    try:
        return registry.get(value)
    except JaxnnError as exc:
        if isinstance(value, str) and str(exc).startswith("unknown"):
            hint = did_you_mean(value, registry.names())
            if hint:
                raise JaxnnError(f"{exc}{hint}") from None
        raise


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


def as_targets(y, m: int, n_out: int, what: str = "labels") -> np.ndarray:
    """Checks integer labels (m,) in [0, n_out), or target rows (m, n_out)."""
    try:
        y = np.asarray(y)
    except Exception as exc:
        raise JaxnnError(f"{what} must be an array of {m} integer labels: {exc}") from None
    if y.ndim == 2 and y.shape[1] == 1 and n_out != 1:
        y = y[:, 0]  # column of labels
    if y.shape[:1] != (m,):
        raise JaxnnError(f"{what} have {y.shape[0] if y.ndim else 0} entries but the inputs have {m} rows: pass one label per row")
    if y.ndim == 1:
        if not np.issubdtype(y.dtype, np.integer):
            if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
                y = y.astype(np.int64)
            else:
                raise JaxnnError(f"{what} must be integers (class indices) or rows of {n_out} targets, got dtype {y.dtype}")
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


def as_params(params, what: str = "params") -> list:
    """Checks a network's parameters: layers that fit together, float dtype, finite values.

    Returns the layer sizes.
    """
    from jaxnn.initializers import sizes_of

    sizes = sizes_of(params)
    for l, layer in enumerate(params):
        for k in ("w", "b"):
            a = layer[k]
            dtype = getattr(a, "dtype", None)
            if dtype is None or not np.issubdtype(np.dtype(dtype), np.floating):
                raise JaxnnError(
                    f"{what}[{l}]['{k}'] has dtype {dtype}: parameters must be floats, e.g. from jaxnn.init_params"
                )
            if not _is_tracer(a) and not np.isfinite(np.asarray(a)).all():
                raise JaxnnError(
                    f"{what}[{l}]['{k}'] holds NaN or infinite values: start from finite parameters "
                    "(e.g. jaxnn.init_params, or the last good checkpoint)"
                )
    return sizes


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
    if not _INT64[0] <= value <= _INT64[1]:
        raise JaxnnError(f"{name} must fit in 64 bits (|seed| < 2**63), got {value}")
    return int(value)


def prng_key(key):
    """A ``jax.random`` key from a typed key, a raw ``(2,)`` uint32 key, or an integer seed.

    Seeds become keys of the pinned implementation :data:`PRNG_IMPL`.
    """
    import jax
    import jax.numpy as jnp

    if key is None:
        raise JaxnnError("pass a PRNG key, e.g. key=jax.random.key(0) (or an integer seed): jaxnn draws no hidden randomness")
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
    is not a folder itself."""
    try:
        path = Path(path)
    except TypeError:
        raise JaxnnError(f"the {what} path must be a string or a Path, got {type(path).__name__}") from None
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise JaxnnError(f"cannot write the {what} {path}: the folder {folder} does not exist; create it first")
    if path.is_dir():
        raise JaxnnError(f"cannot write the {what} {path}: it is a folder; give a file name inside it")
    return path


def optional_callable(value, name: str):
    if value is not None and not callable(value):
        raise JaxnnError(f"{name} must be a function (or None), got {type(value).__name__}")
    return value
