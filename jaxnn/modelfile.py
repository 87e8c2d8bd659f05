"""Saving and loading models: arrays in an ``.npz`` with JSON metadata, never pickled.

A model file holds each layer's arrays as ``layer{l}/w``, ``layer{l}/b``, ..., plus
``__jaxnn__``, a uint8 array of UTF-8 JSON: the format name and version, and either the sizes
and components by registry name of a fully connected network (format version 1), or the whole
network, every layer by its registry name and settings (version 2, written when ``net=`` is
given: conv nets and any other [Network][jaxnn.Network]). Files are written atomically (a temporary file in the same
folder, flushed to disk, then renamed over the target), so a crash mid-save never leaves a
half-written model where a good one stood. Loading uses ``allow_pickle=False`` and checks the
file against the schema before trusting any of it.

[`save_network2`][jaxnn.modelfile.save_network2] and [`load_network2`][jaxnn.modelfile.load_network2] read and write network2.py's own JSON format,
with the same atomic write and the same checks.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import jax
import numpy as np

from jaxnn._files import MAX_METADATA_BYTES, atomic_write, open_npz
from jaxnn.errors import JaxnnError
from jaxnn.net import Network, init_network, mlp, network
from jaxnn.validation import MAX_PARAMETERS, check_sizes, sizes_of, writable_file

FORMAT = "jaxnn-model"
VERSION = 2  # 2: the "network" entry, for any Network; files without it are written as version 1


def save_model(path, params, *, net: Optional[Network] = None, **metadata) -> Path:
    """Saves ``params`` and JSON-able ``metadata`` (components by name, ...) to ``path`` atomically.

    Without ``net``, ``params`` is a fully connected network's ``[{"w", "b"}, ...]`` and the
    file is format version 1, which every jaxnn release reads. With ``net`` (any
    [Network][jaxnn.Network], such as a conv net), the file records the network itself, layer by
    layer, and [load_network][jaxnn.load_network] rebuilds it.

    Non-finite parameters are refused, so a diverged run can never overwrite a good model.
    """
    reserved = sorted({"format", "version", "sizes", "network"} & set(metadata))
    if reserved:
        raise JaxnnError(f"save_model writes {', '.join(reserved)} itself: rename those metadata entries")
    if net is None:
        meta = {"format": FORMAT, "version": 1, "sizes": _sizes_of_savable(params)}
    else:
        meta = {"format": FORMAT, "version": VERSION, "network": network_spec(net)}
        _check_fits(net, params, f"cannot save {path}", from_file=False)
        if net.sizes is not None:
            meta["sizes"] = net.sizes
    writable_file(path, "model file")
    arrays = {f"layer{l}/{k}": a for l, k, a in _finite_arrays(path, params)}
    meta.update(metadata)
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
    """Loads a model saved by [`save_model`][jaxnn.modelfile.save_model]; returns ``(params, metadata)``.

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
        shapes = _layer_shapes(meta, bad)
        names = {f"layer{l}/{k}": shape for l, layer in enumerate(shapes) for k, shape in layer.items()}
        z.only({"__jaxnn__", *names})
        arrays = {name: z.array(name, shape, kinds="f") for name, shape in names.items()}
    params = [{k: arrays[f"layer{l}/{k}"] for k in layer} for l, layer in enumerate(shapes)]
    return params, meta


def load_network(path) -> Tuple[Network, list, Dict[str, Any]]:
    """Loads any model file as ``(net, params, metadata)``, ready for ``jaxnn.predict(params, x, net=net)``.

    It reads what [save_model][jaxnn.save_model] writes (a conv net or any other network with
    ``net=``; a fully connected one with or without it) and network2.py's JSON files (by their
    ``.json`` suffix). A fully connected file without a recorded network gets network.py's
    sigmoid layers unless its metadata names other components.

    Raises:
      JaxnnError: as [load_model][jaxnn.load_model] and [load_network2][jaxnn.modelfile.load_network2].
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        params, meta = load_network2(path)
        return mlp(meta["sizes"], cost=meta["cost"]), params, meta
    params, meta = load_model(path)
    bad = f"{path} is not a readable jaxnn model"
    if "network" in meta:
        net = network_from_spec(meta["network"], bad)
    else:
        names = ("activation", "output_activation", "cost", "regularizer")
        components = {k: meta[k] for k in names if meta.get(k) is not None}
        try:
            net = mlp(meta["sizes"], **components)
        except JaxnnError as exc:
            raise JaxnnError(f"{bad}: {exc}") from None
    return net, params, meta


def network_spec(net: Network) -> Dict[str, Any]:
    """The JSON form of a network: its layers by registry name and settings, its input shape, cost and regularizer."""
    if not isinstance(net, Network):
        raise JaxnnError(f"net must be a jaxnn.Network (from jaxnn.mlp, jaxnn.conv_net or jaxnn.network), got {net!r}")
    return {
        "layers": [[layer.name, dict(layer.config)] for layer in net.layers],
        "in_shape": list(net.in_shape),
        "cost": net.cost.name,
        "regularizer": net.regularizer.name,
    }


def network_from_spec(spec, bad: str = "bad network spec") -> Network:
    """Rebuilds the [Network][jaxnn.Network] that [network_spec][jaxnn.modelfile.network_spec] described."""
    keys = {"layers", "in_shape", "cost", "regularizer"}
    if not isinstance(spec, dict) or set(spec) != keys:
        got = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise JaxnnError(f"{bad}: its 'network' entry must have exactly the keys {sorted(keys)}, got {got}")
    layers = spec["layers"]
    if (
        not isinstance(layers, list)
        or not layers
        or not all(
            isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) and isinstance(s[1], dict) for s in layers
        )
    ):
        raise JaxnnError(f"{bad}: its layers must be a list of [name, settings] pairs, got {layers!r:.200}")
    in_shape = spec["in_shape"]
    if not isinstance(in_shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in in_shape):
        raise JaxnnError(f"{bad}: its in_shape must be a list of integers, got {in_shape!r:.200}")
    try:
        net = network([tuple(s) for s in layers], in_shape, spec["cost"], spec["regularizer"])
    except JaxnnError as exc:
        raise JaxnnError(f"{bad}: {exc}") from None
    _check_fits(net, None, bad, from_file=True)
    return net


def _param_shapes(net: Network) -> list:
    """Each layer's ``{name: shape}``, computed without allocating the parameters."""
    tree = jax.eval_shape(lambda: init_network(jax.random.key(0), net))
    return [{k: tuple(v.shape) for k, v in layer.items()} for layer in tree]


def _check_fits(net: Network, params, bad: str, from_file: bool) -> list:
    shapes = _param_shapes(net)
    n = sum(math.prod(s) for layer in shapes for s in layer.values())
    if n > MAX_PARAMETERS:
        raise JaxnnError(f"{bad}: the network has {n:,} parameters, more than {MAX_PARAMETERS:,}")
    if params is not None:
        ok = isinstance(params, (list, tuple)) and len(params) == len(shapes)
        ok = ok and all(
            isinstance(p, dict)
            and set(p) == set(s)
            and all(tuple(getattr(p[k], "shape", ())) == s[k] for k in s)
            and all(np.issubdtype(np.dtype(getattr(p[k], "dtype", object)), np.floating) for k in s)
            for p, s in zip(params, shapes)
        )
        if not ok:
            raise JaxnnError(f"{bad}: params do not fit the network: it expects float arrays of shapes {shapes}")
    return shapes


def _layer_shapes(meta, bad) -> list:
    """Every layer's ``{array name: shape}`` as the file's metadata declares them."""
    _check_meta(meta, bad)
    if meta["version"] >= 2 and "network" in meta:
        return _param_shapes(network_from_spec(meta["network"], bad))
    sizes = check_sizes(meta.get("sizes"), bad)
    return [{"w": (n_out, n_in), "b": (n_out,)} for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _check_meta(meta, bad) -> None:
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
    if meta["version"] == 1 and "network" in meta:
        raise JaxnnError(f"{bad}: a version 1 file has no 'network' entry")


def _check_savable_meta(path, blob: bytes) -> None:
    """Refuses, before writing, metadata that `load_model` would refuse: what save_model
    writes, load_model reads."""
    if len(blob) > MAX_METADATA_BYTES:
        raise JaxnnError(
            f"refusing to save {path}: its metadata takes {len(blob):,} bytes as JSON, more than the "
            f"{MAX_METADATA_BYTES:,} load_model reads; store large data in a file of its own"
        )
    _check_meta(json.loads(blob), f"refusing to save {path}")


def _sizes_of_savable(params) -> list:
    """The sizes of float parameters; NaN is left to `_finite_arrays`, which names the file."""
    sizes = sizes_of(params)
    for l, layer in enumerate(params):
        for k in ("w", "b"):
            dtype = getattr(layer[k], "dtype", None)
            if dtype is None or not np.issubdtype(np.dtype(dtype), np.floating):
                raise JaxnnError(f"params[{l}]['{k}'] has dtype {dtype}: only float parameters can be saved")
    return sizes


def _finite_arrays(path, params):
    """Yields ``(layer, array name, numpy array)``, refusing NaN or infinite values before a save."""
    for l, layer in enumerate(params):
        for k in layer:
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

    Non-finite parameters are refused, as by [`save_model`][jaxnn.modelfile.save_model].
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
    """Loads a network saved by network2.py's ``Network.save`` (or [`save_network2`][jaxnn.modelfile.save_network2]).

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


__all__ = [
    "load_model",
    "load_network",
    "load_network2",
    "network_from_spec",
    "network_spec",
    "save_model",
    "save_network2",
]
