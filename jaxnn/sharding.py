"""Spreading a sweep's networks over several devices with ``jax.sharding`` and ``jax.shard_map``.

A sweep's state is stacked as ``(groups, networks per group, ...)``: the networks of a group
share their data order (one seed). [`networks_over_devices`][jaxnn.sharding.networks_over_devices] wraps such a function with
``jax.shard_map`` over a one-axis mesh named ``"networks"``, splitting the group axis across the
devices when the number of groups allows it, and otherwise the axis of networks within a group.
Each device then runs exactly the single-device program on its share of the networks (the
training data are replicated), so the results equal those of one device. The same code runs on
several GPUs, or on one CPU split into host devices with
``XLA_FLAGS=--xla_force_host_platform_device_count=4``, and over several processes after
`jaxnn.distributed.init`: ``jax.devices()`` is then every process's devices, taken in turn
from each process so that a mesh smaller than all of them still spans every process.
"""

from __future__ import annotations

from typing import Optional, Tuple

import jax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxnn.errors import JaxnnError

AXIS = "networks"


def _largest_divisor(count: int, limit: int) -> int:
    return max(d for d in range(1, min(count, limit) + 1) if count % d == 0)


def _global_devices() -> list:
    """``jax.devices()``, taken in turn from each process: device 0 of every process, then device 1, ..."""
    devices = jax.devices()
    if jax.process_count() == 1:
        return devices
    rank: dict = {}
    order = []
    for d in devices:
        order.append((rank.setdefault(d.process_index, 0), d.process_index, d))
        rank[d.process_index] += 1
    return [d for _, _, d in sorted(order, key=lambda t: (t[0], t[1]))]


def _spans_every_process(devices) -> bool:
    """Whether every process owns one of ``devices``: a mesh that leaves a process out would leave
    it without the results."""
    if jax.process_count() == 1:
        return True
    return {getattr(d, "process_index", 0) for d in devices} == set(range(jax.process_count()))


def plan(groups: int, per_group: int, devices=None) -> Tuple[Optional[Mesh], int]:
    """The mesh to use and the axis (0: groups, 1: networks within a group) that it splits.

    ``devices`` is ``None`` (all of ``jax.devices()``), a number of devices, or a list of devices.
    Returns ``(None, 0)`` when only one device would be used.
    """
    if devices is None:
        devices = _global_devices()
    elif isinstance(devices, int) and not isinstance(devices, bool):
        available = _global_devices()
        if not 1 <= devices <= len(available):
            raise JaxnnError(
                f"devices={devices} but {len(available)} device(s) are available: "
                f"pass a number from 1 to {len(available)}"
            )
        devices = available[:devices]
    else:
        devices = list(devices)
        if not devices:
            raise JaxnnError("devices is empty: pass None (all devices), a number, or a list of jax devices")
    by_group, by_network = _largest_divisor(groups, len(devices)), _largest_divisor(per_group, len(devices))
    count, axis = (by_group, 0) if by_group >= by_network else (by_network, 1)
    if count == 1 or not _spans_every_process(list(devices)[:count]):
        return None, 0  # each process then trains every network itself, with the same result
    return Mesh(list(devices)[:count], (AXIS,)), axis


def state_sharding(mesh: Mesh, axis: int) -> NamedSharding:
    """Where `networks_over_devices` keeps a ``(groups, networks per group, ...)`` stack:
    split along ``axis`` over the mesh."""
    return NamedSharding(mesh, P(AXIS) if axis == 0 else P(None, AXIS))


def networks_over_devices(fn, mesh: Mesh, axis: int):
    """``fn(state, keys, x, y, hp)`` run with ``jax.shard_map``: ``state`` and ``hp`` split along
    ``axis`` (0 or 1), the per-group ``keys`` split along the groups when ``axis`` is 0, ``x`` and
    ``y`` replicated."""
    spec = P(AXIS) if axis == 0 else P(None, AXIS)
    keys = P(AXIS) if axis == 0 else P()
    return jax.shard_map(fn, mesh=mesh, in_specs=(spec, keys, P(), P(), spec), out_specs=spec)


__all__ = ["AXIS", "networks_over_devices", "plan", "state_sharding"]
