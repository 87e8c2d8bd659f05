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


def check_path(checkpoint, resume: bool, what: str = "run") -> None:
    """Before training: ``checkpoint`` can be written, an existing one is continued only with
    ``resume`` (another ``what``'s progress is never overwritten unasked), and ``resume`` needs a path."""
    from jaxnn.validation import writable_file

    if checkpoint is not None:
        writable_file(checkpoint, "checkpoint")
        if not resume and Path(checkpoint).exists():
            raise JaxnnError(
                f"the checkpoint {checkpoint} already exists: pass resume=True to continue that {what}, or delete "
                "it (or pick another path) to start afresh"
            )
    elif resume:
        raise JaxnnError("resume=True needs checkpoint=PATH: the file to resume from")


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


SWEEP_FORMAT = "jaxnn-sweep-checkpoint"
SWEEP_VERSION = 1
#: A sweep checkpoint's metadata, with the JSON types each entry may take.
SWEEP_SCHEMA: Dict[str, Union[type, Tuple[type, ...]]] = {
    "format": str,
    "version": int,
    "epoch": int,
    "config": dict,
    "n_params": int,
    "seconds": list,
}


def save_sweep_checkpoint(
    path, *, params, opt_state, epoch: int, correct, training_cost, seconds, diverged, config: dict
) -> Path:
    """Writes a sweep's state after ``epoch`` atomically: every network's parameters and optimizer
    state (stacked), the accuracies and costs so far, and the epoch each network diverged in.

    A network that diverged keeps its NaN parameters (the sweep goes on with the others, and marks
    it); every network not marked diverged must be finite, or nothing is written."""
    p_leaves = [np.asarray(a) for a in jax.tree_util.tree_leaves(params)]
    diverged = np.asarray(diverged, np.int64)
    if not _finite_or_diverged(p_leaves, diverged):
        raise JaxnnError(f"refusing to checkpoint NaN parameters of a network not marked diverged to {path}")
    arrays: Dict[str, Any] = {f"params/{i}": a for i, a in enumerate(p_leaves)}
    arrays.update({f"opt/{i}": np.asarray(a) for i, a in enumerate(jax.tree_util.tree_leaves(opt_state))})
    arrays["diverged"] = diverged
    arrays["correct"] = np.asarray(correct, np.int64).reshape(-1, len(diverged))
    if training_cost is not None:
        arrays["training_cost"] = np.asarray(training_cost, np.float64).reshape(-1, len(diverged))
    meta = {
        "format": SWEEP_FORMAT,
        "version": SWEEP_VERSION,
        "epoch": int(epoch),
        "config": config,
        "n_params": len(p_leaves),
        "seconds": [float(t) for t in seconds],
    }
    arrays["__jaxnn__"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def _finite_or_diverged(leaves, diverged) -> bool:
    """Whether every network (the leaves' leading axes, flattened to ``len(diverged)``) is finite or
    marked diverged."""
    networks = len(diverged)
    finite = np.ones(networks, bool)
    for a in leaves:
        if a.dtype.kind == "f":
            finite &= np.isfinite(a.reshape(networks, -1)).all(axis=1)
    return bool(np.all(finite | (diverged >= 0)))


def load_sweep_checkpoint(path, *, params_like, opt_state_like, config: dict, monitor_training_cost: bool):
    """Reads a sweep checkpoint for a sweep whose stacked parameters and optimizer state look like
    the ``*_like`` pytrees; returns ``(params, opt_state, epoch, correct, training_cost, seconds,
    diverged)``, checked as
    [`load_checkpoint`][jaxnn.checkpoint.load_checkpoint] checks a run's: the schema, every array's
    declared shape and dtype before it is read, the settings, and no arrays beyond the sweep's.

    Raises:
      JaxnnError: when the file is missing, oversized, corrupt, not a sweep checkpoint, or from a
        sweep with other settings (the message says which differ).
    """
    path = Path(path)
    bad = f"{path} is not a usable jaxnn sweep checkpoint"
    if not path.is_file():
        raise JaxnnError(f"no checkpoint at {path}: check the path, or run without resume to start afresh")
    p_like, p_def = jax.tree_util.tree_flatten(params_like)
    o_like, o_def = jax.tree_util.tree_flatten(opt_state_like)
    with open_npz(path, bad, "delete it to start afresh") as z:
        if "__jaxnn__" not in z.names:
            raise JaxnnError(f"{bad}: it has no jaxnn metadata")
        meta = z.metadata()
        if meta.get("format") != SWEEP_FORMAT or meta.get("version") != SWEEP_VERSION:
            hint = " (it is a checkpoint of one run: resume it with jaxnn.sgd)" if meta.get("format") == FORMAT else ""
            raise JaxnnError(f"{bad}: it is not a version-{SWEEP_VERSION} {SWEEP_FORMAT} file{hint}")
        missing = sorted(set(SWEEP_SCHEMA) - set(meta))
        extra = sorted(set(meta) - set(SWEEP_SCHEMA))
        if missing or extra:
            raise JaxnnError(
                f"{bad}: its metadata {'lacks ' + ', '.join(missing) if missing else 'has unknown keys ' + ', '.join(extra)}"
            )
        for k, kind in SWEEP_SCHEMA.items():
            if not isinstance(meta[k], kind) or isinstance(meta[k], bool):
                raise JaxnnError(f"{bad}: its metadata entry {k!r} has the wrong type ({type(meta[k]).__name__})")
        epoch = meta["epoch"]
        if epoch < 0 or meta["n_params"] != len(p_like):
            raise JaxnnError(f"{bad}: its epoch or its number of arrays does not fit this sweep")
        seconds = meta["seconds"]
        if len(seconds) != epoch + 1 or not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) for t in seconds
        ):
            raise JaxnnError(f"{bad}: its epoch times do not match its epoch")
        saved = meta["config"]
        if saved != config:
            diff = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
            raise JaxnnError(
                f"{path} was written by a sweep with different settings ({', '.join(diff)}): resume with the "
                "same settings, or delete the checkpoint to start afresh"
            )
        networks = len(config["configs"])
        names = {f"params/{i}": a for i, a in enumerate(p_like)}
        opt_names = {f"opt/{i}": a for i, a in enumerate(o_like)}
        allowed = {"__jaxnn__", "diverged", "correct", *names, *opt_names}
        if monitor_training_cost:
            allowed.add("training_cost")
        z.only(allowed)

        def read(n, a):
            return z.array(n, np.shape(a), kinds=np.asarray(a).dtype.kind, dtype=np.asarray(a).dtype, finite=False)

        leaves = [read(n, a) for n, a in names.items()]
        opt = [read(n, a) for n, a in opt_names.items()]
        diverged = z.array("diverged", (networks,), kinds="i", dtype=np.int64)
        if np.any(diverged < -1) or np.any(diverged > epoch):
            raise JaxnnError(f"{bad}: its divergence epochs are out of range")
        if not _finite_or_diverged(leaves, diverged):
            raise JaxnnError(f"{bad}: a network not marked diverged has NaN or infinite parameters")
        evaluating = config.get("evaluating", False)
        correct = z.array("correct", (epoch + 1 if evaluating else 0, networks), kinds="i", dtype=np.int64)
        cost = None
        if monitor_training_cost:
            cost = z.array("training_cost", (epoch + 1, networks), dtype=np.float64, finite=False)
    params = jax.tree_util.tree_unflatten(p_def, leaves)
    opt_state = jax.tree_util.tree_unflatten(o_def, opt)
    return params, opt_state, epoch, correct, cost, [float(t) for t in seconds], diverged


__all__ = ["load_checkpoint", "load_sweep_checkpoint", "save_checkpoint", "save_sweep_checkpoint"]
