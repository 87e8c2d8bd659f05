"""Input checks shared by the API and the CLI: each failure is one JaxnnError naming the fix,
raised before anything is compiled."""

from __future__ import annotations

import math
import numbers

import numpy as np

from jaxnn.errors import JaxnnError


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
    y = np.asarray(y)
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
        if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
            raise JaxnnError(f"{what} must be finite numbers")
        return y
    raise JaxnnError(f"{what} must have shape ({m},) or ({m}, {n_out}) for sizes[-1]={n_out}, got {y.shape}")


def positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise JaxnnError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise JaxnnError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def positive_float(value, name: str, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise JaxnnError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = "≥ 0" if allow_zero else "> 0"
        raise JaxnnError(f"{name} must be a finite number {need}, got {value!r}")
    return v
