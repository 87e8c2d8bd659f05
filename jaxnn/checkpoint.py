"""Per-epoch checkpoints of a training run, and resuming from them bit for bit.

A checkpoint holds everything the next epoch depends on: the parameters, the optimizer state
(momentum velocities or an optax state), the run's PRNG key, the current η, the epoch just
finished and the history so far. Each epoch's key is derived from the run's key and the epoch
number (``jaxnn.training.epoch_key``), so a resumed run draws exactly the shuffles and dropout
masks the uninterrupted run would have drawn, and ends with identical parameters.

Checkpoints are written atomically after the epoch's parameters have been checked finite, so
a crash, a kill or a divergence never leaves a broken or NaN checkpoint in place of a good one.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import jax
import numpy as np

from jaxnn._files import atomic_write, open_npz
from jaxnn.errors import JaxnnError
from jaxnn.history import History
from jaxnn.validation import PRNG_IMPL

FORMAT = "jaxnn-checkpoint"
#: 2: any network (its layers in the run's settings), and the optimizer state of optax's
#: ``inject_hyperparams`` (η lives there).
VERSION = 2


def save_checkpoint(
    path,
    *,
    params,
    opt_state,
    key,
    epoch: int,
    eta: float,
    history: dict,
    config: dict,
    best: int = -1,
    since_best: int = 0,
) -> Path:
    """Writes a checkpoint atomically; refuses non-finite parameters."""
    leaves = jax.tree_util.tree_leaves(params)
    if not all(np.isfinite(np.asarray(a)).all() for a in leaves):
        raise JaxnnError(
            f"refusing to checkpoint NaN or infinite parameters to {path}; the last good checkpoint is kept"
        )
    arrays: Dict[str, Any] = {f"params/{i}": np.asarray(a) for i, a in enumerate(leaves)}
    arrays.update({f"opt/{i}": np.asarray(a) for i, a in enumerate(jax.tree_util.tree_leaves(opt_state))})
    arrays["key"] = np.asarray(jax.random.key_data(key))
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": int(epoch),
        "eta": float(eta),
        "history": history,
        "config": config,
        "n_params": len(leaves),
        "best": int(best),
        "since_best": int(since_best),
        "key_impl": str(jax.random.key_impl(key)),
    }
    arrays["__jaxnn__"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path, *, params_like, opt_state_like, config: dict) -> Tuple[Any, Any, Any, Dict]:
    """Reads a checkpoint for a run whose parameters and optimizer state look like the ``*_like``
    pytrees; returns ``(params, opt_state, key, meta)``.

    The file is checked against the schema before anything in it is used: the metadata's keys
    and types, every array's declared shape and dtype (before it is read), finite parameters,
    and no arrays beyond those the run needs.

    Raises:
      JaxnnError: when the file is missing, oversized, corrupt, not a checkpoint, or from a run
        with another configuration (the message says which setting differs).
    """
    path = Path(path)
    bad = f"{path} is not a usable jaxnn checkpoint"
    if not path.is_file():
        raise JaxnnError(f"no checkpoint at {path}: check the path, or run without resume=True to start afresh")
    p_leaves, p_def = jax.tree_util.tree_flatten(params_like)
    o_leaves, o_def = jax.tree_util.tree_flatten(opt_state_like)
    with open_npz(path, bad, "delete it to start afresh") as z:
        if "__jaxnn__" not in z.names:
            raise JaxnnError(f"{bad}: it has no jaxnn metadata")
        meta = z.metadata()
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise JaxnnError(f"{bad}: it is not a version-{VERSION} {FORMAT} file")
        _check_schema(meta, bad, len(p_leaves))
        saved = meta["config"]
        if saved != config:
            diff = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
            raise JaxnnError(
                f"{path} was written by a run with different settings ({', '.join(diff)}): resume with the "
                "same settings, or delete the checkpoint to start afresh"
            )
        names = {f"params/{i}": a for i, a in enumerate(p_leaves)}
        opt_names = {f"opt/{i}": a for i, a in enumerate(o_leaves)}
        impl = meta.get("key_impl", PRNG_IMPL)
        try:
            key_shape = np.shape(jax.random.key_data(jax.random.key(0, impl=impl)))
        except (ValueError, KeyError, TypeError):
            raise JaxnnError(f"{bad}: its key uses an unknown PRNG implementation {impl!r}") from None
        z.only({"__jaxnn__", "key", *names, *opt_names})
        params = [z.array(n, np.shape(a), dtype=np.asarray(a).dtype) for n, a in names.items()]
        opt = [
            z.array(n, np.shape(a), kinds=np.asarray(a).dtype.kind, dtype=np.asarray(a).dtype)
            for n, a in opt_names.items()
        ]
        key = jax.random.wrap_key_data(z.array("key", key_shape, kinds="u", dtype=np.uint32), impl=impl)
    return jax.tree_util.tree_unflatten(p_def, params), jax.tree_util.tree_unflatten(o_def, opt), key, meta


#: The metadata a checkpoint must hold, with the JSON types each entry may take.
SCHEMA: Dict[str, Union[type, Tuple[type, ...]]] = {
    "format": str,
    "version": int,
    "epoch": int,
    "eta": (int, float),
    "history": dict,
    "config": dict,
    "n_params": int,
    "best": int,
    "since_best": int,
}


def _check_schema(meta: dict, bad: str, n_params: int) -> None:
    """Checks the metadata's keys and types, and the history's, before anything trusts them."""
    missing = sorted(set(SCHEMA) - set(meta))
    extra = sorted(set(meta) - set(SCHEMA) - {"key_impl"})
    if missing or extra:
        raise JaxnnError(
            f"{bad}: its metadata {'lacks ' + ', '.join(missing) if missing else 'has unknown keys ' + ', '.join(extra)}"
        )
    for k, kind in SCHEMA.items():
        if not isinstance(meta[k], kind) or isinstance(meta[k], bool):
            raise JaxnnError(f"{bad}: its metadata entry {k!r} has the wrong type ({type(meta[k]).__name__})")
    if meta["epoch"] < 0 or meta["since_best"] < 0 or not (math.isfinite(meta["eta"]) and meta["eta"] > 0):
        raise JaxnnError(f"{bad}: its epoch, since_best or eta is out of range")
    if meta["n_params"] != n_params:
        raise JaxnnError(f"{bad}: it holds {meta['n_params']} parameter arrays, the run has {n_params}")
    if not isinstance(meta.get("key_impl", PRNG_IMPL), str):
        raise JaxnnError(f"{bad}: its metadata entry 'key_impl' must name a PRNG implementation")
    fields = {
        f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        for f in dataclasses.fields(History)
    }
    history = meta["history"]
    unknown = sorted(set(history) - set(fields))
    if unknown:
        raise JaxnnError(f"{bad}: its history has unknown entries {', '.join(unknown)}")
    for k, v in history.items():
        default = fields[k]
        if isinstance(default, list):
            ok = isinstance(v, list) and all(
                (isinstance(e, (int, float)) and not isinstance(e, bool)) or (e is None and k == "test_correct")
                for e in v
            )
        elif default is None:
            ok = v is None or isinstance(v, str)
        else:
            ok = isinstance(v, type(default)) and not isinstance(v, bool)
        if not ok:
            raise JaxnnError(f"{bad}: its history entry {k!r} has the wrong type")


__all__ = ["load_checkpoint", "save_checkpoint"]
