"""A conservative check, before anything is allocated, that a network or a sweep fits in memory.

The estimate is a lower bound: the parameters, their gradients and the optimizer's state (one
array per parameter with momentum), plus one mini-batch of every layer's activations, for every
network. A run refused here could not have run; a run let through may still need more (XLA's
temporaries), so this catches the grids and layer sizes that are far beyond the machine, such
as a sweep of 10,000 networks of [4, 100000, 3], at once and with the numbers, instead of an
out-of-memory traceback minutes later.

The memory is the devices' own where JAX reports it (``device.memory_stats()["bytes_limit"]``
less what is in use, on GPUs), and otherwise the host's physical memory (``os.sysconf``), or the
container's limit when that is lower.
"""

from __future__ import annotations

import math
import os
from typing import Optional, Sequence

import jax
import numpy as np

from jaxnn.errors import JaxnnError


def _host_bytes() -> Optional[int]:
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit_file) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def available_bytes(devices: Optional[Sequence] = None) -> Optional[tuple]:
    """``(bytes, where)``: the memory the devices can hold, summed over accelerators (CPU devices
    share the host's memory, counted once), or ``None`` when it cannot be told."""
    devices = list(devices) if devices is not None else jax.local_devices()[:1]
    total, host = 0, False
    for d in devices:
        stats = None
        if d.platform != "cpu":
            try:
                stats = d.memory_stats()
            except Exception:  # not implemented on every backend
                stats = None
        if stats and stats.get("bytes_limit"):
            total += int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
        elif not host:
            host_total = _host_bytes()
            if host_total is None:
                return None
            total += host_total
            host = True
    kind = devices[0].platform.upper() if devices else "CPU"
    over = f" over {len(devices)} devices" if len(devices) > 1 and not host else ""
    return total, f"the {kind} memory ({total / 2**30:.1f} GiB{over})"


def parameter_count(net) -> int:
    """The number of parameters of one network (from shapes only; nothing is allocated)."""
    from jaxnn.net import init_network

    shapes = jax.eval_shape(lambda: init_network(0, net))
    return sum(math.prod(a.shape) for a in jax.tree_util.tree_leaves(shapes))


def estimate_bytes(net, networks: int = 1, batch: int = 1, dtype=np.float32, copies: int = 2) -> int:
    """A lower bound on the memory of training ``networks`` networks of ``net`` at once:
    ``copies`` arrays per parameter (parameters and gradients; 3 with momentum) and one
    mini-batch of ``batch`` rows through every layer."""
    itemsize = np.dtype(dtype).itemsize
    activations = sum(math.prod(shape) for shape in net.shapes) + net.n_out
    return networks * itemsize * (copies * parameter_count(net) + batch * activations)


def check_fits(net, what: str, networks: int = 1, batch: int = 1, dtype=np.float32, copies: int = 2, devices=None):
    """Refuses, with the numbers, a run whose lower-bound estimate exceeds the memory there is."""
    have = available_bytes(devices)
    if have is None:
        return
    need = estimate_bytes(net, networks, batch, dtype, copies)
    if need > have[0]:
        p = parameter_count(net)
        many = f"{networks:,} networks × " if networks > 1 else ""
        raise JaxnnError(
            f"{what} needs at least {need / 2**30:.1f} GiB ({many}{p:,} parameters × {np.dtype(dtype).itemsize} bytes "
            f"× {copies}, plus a mini-batch of activations), more than {have[1]}: "
            + (
                "train fewer networks at once (split the grid) or use smaller layers"
                if networks > 1
                else "use smaller layers"
            )
        )


def check_parameters_fit(count: int, dtype, what: str) -> None:
    """Refuses allocating ``count`` parameters of ``dtype`` when they alone exceed the memory."""
    have = available_bytes()
    need = count * np.dtype(dtype).itemsize
    if have is not None and need > have[0]:
        raise JaxnnError(
            f"{what} need {need / 2**30:.1f} GiB ({count:,} parameters × {np.dtype(dtype).itemsize} bytes), "
            f"more than {have[1]}: use smaller layers"
        )


__all__ = ["available_bytes", "check_fits", "check_parameters_fit", "estimate_bytes", "parameter_count"]
