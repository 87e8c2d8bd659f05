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

import json
from pathlib import Path
from typing import Any, Dict, Tuple

import jax
import numpy as np

from jaxnn.errors import JaxnnError
from jaxnn.io import MAX_METADATA_BYTES, atomic_write

FORMAT = "jaxnn-checkpoint"
VERSION = 1


def save_checkpoint(path, *, params, opt_state, key, epoch: int, eta: float, history: dict, config: dict,
                    best: int = -1, since_best: int = 0) -> Path:
    """Writes a checkpoint atomically; refuses non-finite parameters."""
    leaves = jax.tree_util.tree_leaves(params)
    if not all(np.isfinite(np.asarray(a)).all() for a in leaves):
        raise JaxnnError(f"refusing to checkpoint NaN or infinite parameters to {path}; the last good checkpoint is kept")
    arrays = {f"params/{i}": np.asarray(a) for i, a in enumerate(leaves)}
    arrays.update({f"opt/{i}": np.asarray(a) for i, a in enumerate(jax.tree_util.tree_leaves(opt_state))})
    arrays["key"] = np.asarray(jax.random.key_data(key))
    meta = {"format": FORMAT, "version": VERSION, "epoch": int(epoch), "eta": float(eta), "history": history,
            "config": config, "n_params": len(leaves), "best": int(best), "since_best": int(since_best)}
    arrays["__jaxnn__"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path, *, params_like, opt_state_like, config: dict) -> Tuple[Any, Any, Any, Dict]:
    """Reads a checkpoint for a run whose parameters and optimizer state look like the ``*_like``
    pytrees; returns ``(params, opt_state, key, meta)``.

    Raises:
      JaxnnError: when the file is corrupt, not a checkpoint, or from a run with another
        configuration (the message says which setting differs).
    """
    path = Path(path)
    bad = f"{path} is not a usable jaxnn checkpoint"
    try:
        with np.load(path, allow_pickle=False) as z:
            if "__jaxnn__" not in z.files:
                raise JaxnnError(f"{bad}: it has no jaxnn metadata")
            raw = z["__jaxnn__"]
            if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_METADATA_BYTES:
                raise JaxnnError(f"{bad}: its metadata block is malformed")
            meta = json.loads(raw.tobytes().decode())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
                raise JaxnnError(f"{bad}: it is not a version-{VERSION} {FORMAT} file")
            saved = meta.get("config")
            if saved != config:
                diff = sorted(k for k in set(saved or {}) | set(config) if (saved or {}).get(k) != config.get(k))
                raise JaxnnError(
                    f"{path} was written by a run with different settings ({', '.join(diff)}): resume with the "
                    "same settings, or delete the checkpoint to start afresh"
                )
            params = _restore(z, "params", params_like, bad)
            opt_state = _restore(z, "opt", opt_state_like, bad)
            key = jax.random.wrap_key_data(z["key"])
    except JaxnnError:
        raise
    except Exception as exc:  # zip, JSON and array errors alike: the file is damaged
        raise JaxnnError(f"{bad}: {type(exc).__name__}: {exc} (truncated or corrupt? delete it to start afresh)") from None
    return params, opt_state, key, meta


def _restore(z, prefix, like, bad):
    leaves, treedef = jax.tree_util.tree_flatten(like)
    out = []
    for i, ref in enumerate(leaves):
        name = f"{prefix}/{i}"
        if name not in z.files:
            raise JaxnnError(f"{bad}: array {name} is missing")
        a = z[name]
        if a.shape != np.shape(ref) or a.dtype != np.asarray(ref).dtype:
            raise JaxnnError(f"{bad}: {name} has shape {a.shape} {a.dtype}, expected {np.shape(ref)} {np.asarray(ref).dtype}")
        out.append(a)
    return jax.tree_util.tree_unflatten(treedef, out)


__all__ = ["load_checkpoint", "save_checkpoint"]
