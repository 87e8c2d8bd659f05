"""Saving and loading models: arrays in an ``.npz`` with JSON metadata, never pickled.

A model file holds each layer's ``w`` and ``b`` as ``layer{l}/w`` and ``layer{l}/b``, plus
``__jaxnn__``, a uint8 array of UTF-8 JSON: the format name and version, the sizes, and the
components by registry name. Files are written atomically (a temporary file in the same
folder, flushed to disk, then renamed over the target), so a crash mid-save never leaves a
half-written model where a good one stood. Loading uses ``allow_pickle=False`` and checks the
file against the schema before trusting any of it.

:func:`save_network2` and :func:`load_network2` read and write network2.py's own JSON format,
with the same atomic write and the same checks.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Dict, Tuple

import numpy as np

from jaxnn.errors import JaxnnError

FORMAT = "jaxnn-model"
VERSION = 1
MAX_METADATA_BYTES = 1 << 20
MAX_PARAMETERS = 1 << 31  # a declared size beyond this is rejected before allocation


def atomic_write(path, write) -> Path:
    """Calls ``write(file_object)`` on a temporary file, fsyncs it, then renames it to ``path``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise JaxnnError(f"cannot save to {path}: the folder {folder} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable where the platform allows
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def save_model(path, params, **metadata) -> Path:
    """Saves ``params`` and JSON-able ``metadata`` (components by name, ...) to ``path`` atomically.

    Non-finite parameters are refused, so a diverged run can never overwrite a good model.
    """
    from jaxnn.initializers import sizes_of

    sizes = sizes_of(params)
    arrays = {f"layer{l}/{k}": a for l, k, a in _finite_arrays(path, params)}
    meta = {"format": FORMAT, "version": VERSION, "sizes": sizes, **metadata}
    try:
        blob = json.dumps(meta, sort_keys=True).encode()
    except TypeError as exc:
        raise JaxnnError(f"model metadata must be JSON-serialisable: {exc}") from None
    arrays["__jaxnn__"] = np.frombuffer(blob, dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_model(path) -> Tuple[list, Dict[str, Any]]:
    """Loads a model saved by :func:`save_model`; returns ``(params, metadata)``.

    Raises:
      JaxnnError: when the file is missing, truncated, corrupt, not a jaxnn model, or
        inconsistent with its own metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise JaxnnError(f"no model file at {path}: check the path (save one with --save or jaxnn.save_model)")
    bad = f"{path} is not a readable jaxnn model"
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            if "__jaxnn__" not in names:
                raise JaxnnError(f"{bad}: it has no jaxnn metadata (is it a network2 JSON file? use jaxnn.io.load_network2)")
            raw = z["__jaxnn__"]
            if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_METADATA_BYTES:
                raise JaxnnError(f"{bad}: its metadata block is malformed")
            try:
                meta = json.loads(raw.tobytes().decode())
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise JaxnnError(f"{bad}: its metadata is not valid JSON") from None
            sizes = _check_meta(meta, bad)
            params = []
            for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                layer = {}
                for k, shape in (("w", (n_out, n_in)), ("b", (n_out,))):
                    name = f"layer{l}/{k}"
                    if name not in names:
                        raise JaxnnError(f"{bad}: array {name} is missing (file truncated?)")
                    a = z[name]
                    if a.shape != shape or not np.issubdtype(a.dtype, np.floating):
                        raise JaxnnError(f"{bad}: {name} has shape {a.shape} and dtype {a.dtype}, expected float {shape}")
                    if not np.isfinite(a).all():
                        raise JaxnnError(f"{bad}: {name} holds NaN or infinite values")
                    layer[k] = a
                params.append(layer)
    except JaxnnError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise JaxnnError(f"{bad}: {type(exc).__name__}: {exc} (truncated or corrupt? re-save it)") from None
    return params, meta


def _check_meta(meta, bad) -> list:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise JaxnnError(f"{bad}: its metadata does not say format {FORMAT!r}")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise JaxnnError(f"{bad}: format version {meta.get('version')!r} is newer than this jaxnn reads ({VERSION}); upgrade jaxnn")
    return _check_sizes(meta.get("sizes"), bad)


def _check_sizes(sizes, bad) -> list:
    """The declared layer sizes, checked before anything is allocated from them."""
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and 0 < s < 1 << 24 for s in sizes)):
        raise JaxnnError(f"{bad}: 'sizes' must be a list of positive integers, got {sizes!r}")
    if sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])) > MAX_PARAMETERS:
        raise JaxnnError(f"{bad}: it declares more than {MAX_PARAMETERS:,} parameters")
    return sizes


def _finite_arrays(path, params):
    """Yields ``(layer, "w" or "b", numpy array)``, refusing NaN or infinite values before a save."""
    for l, layer in enumerate(params):
        for k in ("w", "b"):
            a = np.asarray(layer[k])
            if not np.isfinite(a).all():
                raise JaxnnError(
                    f"refusing to save {path}: layer {l} '{k}' holds NaN or infinite values (training "
                    "diverged; lower eta); the file on disk, if any, is left as it was"
                )
            yield l, k, a


# -- network2.py's JSON format: {"sizes", "weights": (n_out, n_in) lists, "biases": (n, 1) lists, "cost"}

#: network2's cost class names and the jaxnn costs they are.
NETWORK2_COSTS = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross-entropy"}
MAX_NETWORK2_BYTES = 1 << 31  # about 100 million parameters as JSON text


def _network2_cost(cost, bad) -> str:
    """network2's class name for ``cost``, given as that name or as the jaxnn cost name."""
    for class_name, name in NETWORK2_COSTS.items():
        if cost in (class_name, name):
            return class_name
    raise JaxnnError(
        f"{bad}: unknown cost {cost!r}: network2 files name one of {', '.join(NETWORK2_COSTS)} "
        f"(jaxnn's {', '.join(repr(n) for n in NETWORK2_COSTS.values())})"
    )


def save_network2(path, params, cost) -> Path:
    """Saves ``params`` in network2.py's JSON format, atomically, so that the original's ``load`` reads it.

    Args:
      path: the file to write.
      params: jaxnn parameters, ``[{"w": (n_out, n_in), "b": (n_out,)}, ...]``.
      cost: ``"QuadraticCost"`` or ``"CrossEntropyCost"``, or the jaxnn names ``"quadratic"``
        and ``"cross-entropy"``.

    Non-finite parameters are refused, as by :func:`save_model`.
    """
    from jaxnn.initializers import sizes_of

    sizes = sizes_of(params)
    cost = _network2_cost(cost, f"cannot save {path}")
    weights, biases = [], []
    for _, k, a in _finite_arrays(path, params):
        a = a.astype(np.float64)
        if k == "w":
            weights.append(a.tolist())
        else:
            biases.append(a.reshape(-1, 1).tolist())  # network2's biases are columns
    blob = json.dumps({"sizes": sizes, "weights": weights, "biases": biases, "cost": cost}).encode()
    return atomic_write(path, lambda f: f.write(blob))


def _network2_array(value, shape, what, bad) -> np.ndarray:
    try:
        a = np.array(value)
    except (ValueError, TypeError):
        a = None
    if a is None or a.dtype.kind not in "fi" or a.shape != shape:
        got = f"shape {a.shape} of {a.dtype}" if a is not None else "ragged lists"
        raise JaxnnError(f"{bad}: {what} must be a {shape} nested list of numbers, got {got}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise JaxnnError(f"{bad}: {what} holds NaN or infinite values")
    return a


def load_network2(path) -> Tuple[list, Dict[str, Any]]:
    """Loads a network saved by network2.py's ``Network.save`` (or :func:`save_network2`).

    Returns:
      ``(params, metadata)``: float64 parameters ``[{"w": (n_out, n_in), "b": (n_out,)}, ...]``
      and ``{"format": "network2", "sizes": [...], "cost": jaxnn cost name, "network2_cost":
      class name}``, so ``jaxnn.evaluate(params, x, labels)`` scores it as network2's ``accuracy``.

    Raises:
      JaxnnError: when the file is missing, not JSON, or not a network2 network (wrong keys,
        types or shapes, an unknown cost, or implausibly large sizes).
    """
    path = Path(path)
    if not path.is_file():
        raise JaxnnError(f"no network2 file at {path}: check the path (save one with network2's net.save)")
    bad = f"{path} is not a readable network2 file"
    if path.stat().st_size > MAX_NETWORK2_BYTES:
        raise JaxnnError(f"{bad}: it is larger than {MAX_NETWORK2_BYTES:,} bytes")
    try:
        data = json.loads(path.read_bytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise JaxnnError(f"{bad}: it is not valid JSON ({type(exc).__name__}: {exc})") from None
    keys = ("sizes", "weights", "biases", "cost")
    if not isinstance(data, dict) or any(k not in data for k in keys):
        have = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise JaxnnError(f"{bad}: expected a JSON object with keys {', '.join(keys)}, got {have}")
    sizes = _check_sizes(data["sizes"], bad)
    cost = _network2_cost(data["cost"], bad)
    layers = len(sizes) - 1
    for k in ("weights", "biases"):
        if not isinstance(data[k], list) or len(data[k]) != layers:
            got = f"{len(data[k])} entries" if isinstance(data[k], list) else type(data[k]).__name__
            raise JaxnnError(f"{bad}: '{k}' must be a list of {layers} layers for sizes {sizes}, got {got}")
    params = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = _network2_array(data["weights"][l], (n_out, n_in), f"weights[{l}]", bad)
        b = _network2_array(data["biases"][l], (n_out, 1), f"biases[{l}]", bad)
        params.append({"w": w, "b": b[:, 0]})
    return params, {"format": "network2", "sizes": sizes, "cost": NETWORK2_COSTS[cost], "network2_cost": cost}


__all__ = ["atomic_write", "load_model", "load_network2", "save_model", "save_network2"]
