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
from pathlib import Path
from typing import Any, Dict, Tuple

import numpy as np

from jaxnn._files import MAX_METADATA_BYTES, atomic_write, open_npz
from jaxnn.errors import JaxnnError
from jaxnn.validation import check_sizes, sizes_of, writable_file

FORMAT = "jaxnn-model"
VERSION = 1


def save_model(path, params, **metadata) -> Path:
    """Saves ``params`` and JSON-able ``metadata`` (components by name, ...) to ``path`` atomically.

    Non-finite parameters are refused, so a diverged run can never overwrite a good model.
    """
    sizes = _sizes_of_savable(params)
    writable_file(path, "model file")
    reserved = sorted({"format", "version", "sizes"} & set(metadata))
    if reserved:
        raise JaxnnError(f"save_model writes {', '.join(reserved)} itself: rename those metadata entries")
    arrays = {f"layer{l}/{k}": a for l, k, a in _finite_arrays(path, params)}
    meta = {"format": FORMAT, "version": VERSION, "sizes": sizes, **metadata}
    try:
        blob = json.dumps(meta, sort_keys=True, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise JaxnnError(
            f"model metadata must be JSON-serialisable (strings, finite numbers, lists, dicts): {exc}"
        ) from None
    _check_savable_meta(path, blob)
    arrays["__jaxnn__"] = np.frombuffer(blob, dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_model(path) -> Tuple[list, Dict[str, Any]]:
    """Loads a model saved by :func:`save_model`; returns ``(params, metadata)``.

    Raises:
      JaxnnError: when the file is missing, oversized, truncated, corrupt, not a jaxnn model,
        holds arrays the format does not have, or is inconsistent with its own metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise JaxnnError(f"no model file at {path}: check the path (save one with --save or jaxnn.save_model)")
    bad = f"{path} is not a readable jaxnn model"
    with open_npz(path, bad, "re-save it") as z:
        if "__jaxnn__" not in z.names:
            raise JaxnnError(
                f"{bad}: it has no jaxnn metadata (is it a network2 JSON file? use jaxnn.modelfile.load_network2)"
            )
        meta = z.metadata()
        sizes = _check_meta(meta, bad)
        shapes: Dict[str, Tuple[int, ...]] = {}
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            shapes[f"layer{l}/w"], shapes[f"layer{l}/b"] = (n_out, n_in), (n_out,)
        z.only({"__jaxnn__", *shapes})
        arrays = {name: z.array(name, shape, kinds="f") for name, shape in shapes.items()}
    params = [{"w": arrays[f"layer{l}/w"], "b": arrays[f"layer{l}/b"]} for l in range(len(sizes) - 1)]
    return params, meta


def _check_meta(meta, bad) -> list:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise JaxnnError(f"{bad}: its metadata does not say format {FORMAT!r}")
    if not isinstance(meta.get("version"), int) or isinstance(meta["version"], bool) or not 1 <= meta["version"]:
        raise JaxnnError(f"{bad}: its format version {meta.get('version')!r} is not a positive integer")
    for k in ("cost", "activation", "output_activation", "dataset"):
        if meta.get(k) is not None and not isinstance(meta[k], str):
            raise JaxnnError(f"{bad}: its metadata entry {k!r} must be a name (a string), got {meta[k]!r}")
    if meta["version"] > VERSION:
        raise JaxnnError(
            f"{bad}: format version {meta.get('version')!r} is newer than this jaxnn reads ({VERSION}); upgrade jaxnn"
        )
    return check_sizes(meta.get("sizes"), bad)


def _check_savable_meta(path, blob: bytes) -> None:
    """Refuses, before writing, metadata that :func:`load_model` would refuse: what save_model
    writes, load_model reads."""
    if len(blob) > MAX_METADATA_BYTES:
        raise JaxnnError(
            f"refusing to save {path}: its metadata takes {len(blob):,} bytes as JSON, more than the "
            f"{MAX_METADATA_BYTES:,} load_model reads; store large data in a file of its own"
        )
    _check_meta(json.loads(blob), f"refusing to save {path}")


def _sizes_of_savable(params) -> list:
    """The sizes of float parameters; NaN is left to :func:`_finite_arrays`, which names the file."""
    sizes = sizes_of(params)
    for l, layer in enumerate(params):
        for k in ("w", "b"):
            dtype = getattr(layer[k], "dtype", None)
            if dtype is None or not np.issubdtype(np.dtype(dtype), np.floating):
                raise JaxnnError(f"params[{l}]['{k}'] has dtype {dtype}: only float parameters can be saved")
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
    sizes = _sizes_of_savable(params)
    writable_file(path, "network2 file")
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
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError):
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
        blob = path.read_bytes()
    except OSError as exc:
        raise JaxnnError(f"{bad}: {exc.strerror}; check its permissions") from None
    try:
        data = json.loads(blob.decode())
    except (ValueError, RecursionError, MemoryError) as exc:  # ValueError: also ints of over 4,300 digits
        raise JaxnnError(f"{bad}: it is not valid JSON ({type(exc).__name__}: {exc})") from None
    keys = ("sizes", "weights", "biases", "cost")
    if not isinstance(data, dict) or any(k not in data for k in keys):
        have = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise JaxnnError(f"{bad}: expected a JSON object with keys {', '.join(keys)}, got {have}")
    extra = sorted(set(data) - set(keys))
    if extra:
        raise JaxnnError(
            f"{bad}: it has keys network2 files do not have ({', '.join(map(repr, extra[:3]))}); "
            f"expected exactly {', '.join(keys)}"
        )
    sizes = check_sizes(data["sizes"], bad)
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


__all__ = ["load_model", "load_network2", "save_model", "save_network2"]
