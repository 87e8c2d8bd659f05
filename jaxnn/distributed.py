"""Several processes, one program: jaxnn on JAX's multi-process runtime.

Every process runs the same script and calls `init` first, before any JAX computation.
``jax.devices()`` then lists the devices of all processes, and what jaxnn already shards over
``jax.devices()`` spreads over all of them:

- `jaxnn.sweep` splits its networks over the global device mesh (`jaxnn.sharding`);
  every process ends with the same `SweepResult`.
- `jaxnn.sgd` with ``data_parallel=True`` splits each mini-batch over the global mesh
  and all-reduces the gradients; every process ends with the same parameters.

Only process 0 writes files (`is_writer`): the sweep's ``save``, the checkpoints of
`jaxnn.sgd`. Collectives between processes use gloo on CPUs and NCCL on GPUs.

A dead process stops the others: JAX's coordination service notices the missing heartbeats
within ``heartbeat_timeout`` seconds and ends every other process with the message
"Terminating process because the JAX distributed service detected fatal errors"; a
collective waiting on the dead peer fails at once ("Connection closed by peer").
See docs/distributed.md.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

import jax
import numpy as np

from jaxnn.errors import JaxnnError

#: The environment variables `init` reads when its arguments are not given.
ENV = {
    "coordinator_address": "JAXNN_COORDINATOR",
    "num_processes": "JAXNN_NUM_PROCESSES",
    "process_id": "JAXNN_PROCESS_ID",
    "local_device_count": "JAXNN_LOCAL_DEVICE_COUNT",
    "heartbeat_timeout": "JAXNN_HEARTBEAT_TIMEOUT",
}

#: The name of the device-mesh axis that `jaxnn.sgd` splits mini-batches along.
BATCH_AXIS = "batch"


def _env_int(name: str, value: Optional[int], minimum: int) -> Optional[int]:
    if value is None:
        text = os.environ.get(ENV[name])
        if not text:
            return None
        try:
            value = int(text)
        except ValueError:
            raise JaxnnError(f"{ENV[name]}={text!r} is not an integer: set it to a whole number") from None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise JaxnnError(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return int(value)


def init(
    coordinator_address: Optional[str] = None,
    num_processes: Optional[int] = None,
    process_id: Optional[int] = None,
    *,
    local_device_count: Optional[int] = None,
    local_device_ids: Optional[Sequence[int]] = None,
    initialization_timeout: int = 300,
    heartbeat_timeout: Optional[int] = None,
    shutdown_timeout: int = 60,
    cpu_collectives: str = "gloo",
) -> None:
    """Joins this process to the others with ``jax.distributed.initialize``.

    Call it first, before anything that touches a device. Arguments left as ``None`` come from
    the environment variables ``JAXNN_COORDINATOR`` (``host:port`` of process 0),
    ``JAXNN_NUM_PROCESSES``, ``JAXNN_PROCESS_ID``, ``JAXNN_LOCAL_DEVICE_COUNT`` and
    ``JAXNN_HEARTBEAT_TIMEOUT``; whatever is still missing JAX detects from the cluster (SLURM,
    Open MPI, Kubernetes, Cloud TPU). Calling it again in an initialized process does nothing.

    Args:
      coordinator_address: ``host:port`` where process 0 serves the coordination service; every
        process passes the same one.
      num_processes: the number of processes.
      process_id: this process's number, from 0 to ``num_processes - 1``.
      local_device_count: on CPUs, the number of host devices this process exposes (each a share
        of its cores); ``None`` keeps JAX's setting (``XLA_FLAGS`` or one device).
      local_device_ids: the GPUs this process uses (default: JAX's choice; one per process under
        SLURM and Open MPI).
      initialization_timeout: seconds to wait for every process to connect.
      heartbeat_timeout: seconds without a heartbeat after which a process counts as dead and the
        others stop (default 60).
      shutdown_timeout: seconds a finished process waits at exit for the others to finish.
      cpu_collectives: ``"gloo"`` (TCP, built into jaxlib) or ``"mpi"`` for collectives between CPU
        processes; GPUs use NCCL whatever this says.
    """
    if jax.distributed.is_initialized():
        return
    coordinator_address = coordinator_address or os.environ.get(ENV["coordinator_address"]) or None
    num_processes = _env_int("num_processes", num_processes, 1)
    process_id = _env_int("process_id", process_id, 0)
    local_device_count = _env_int("local_device_count", local_device_count, 1)
    heartbeat = _env_int("heartbeat_timeout", heartbeat_timeout, 1) or 60
    if num_processes is not None and process_id is not None and process_id >= num_processes:
        raise JaxnnError(f"process_id {process_id} is not below num_processes {num_processes}: number them 0..n-1")
    if cpu_collectives not in ("gloo", "mpi"):
        raise JaxnnError(f"cpu_collectives must be 'gloo' or 'mpi', got {cpu_collectives!r}")
    try:
        jax.distributed.initialize(  # it refuses to run after a computation, before it changes anything
            coordinator_address,
            num_processes,
            process_id,
            local_device_ids=local_device_ids,
            initialization_timeout=int(initialization_timeout),
            heartbeat_timeout_seconds=int(heartbeat),
            shutdown_timeout_seconds=int(shutdown_timeout),
        )
    except RuntimeError as exc:
        if "must be called before" in str(exc):
            raise JaxnnError(
                "jaxnn.distributed.init() came after a JAX computation: call it first, before anything that "
                "touches a device (jax.devices(), an array, training)"
            ) from exc
        raise
    except ValueError as exc:
        raise JaxnnError(
            f"cannot start the distributed runtime ({exc}): pass coordinator_address, num_processes and "
            "process_id (or set JAXNN_COORDINATOR, JAXNN_NUM_PROCESSES, JAXNN_PROCESS_ID), or run under "
            "a cluster JAX detects (SLURM, Open MPI)"
        ) from exc
    # read when the CPU backend starts, which is after this (the devices are not touched yet)
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    if local_device_count is not None:
        jax.config.update("jax_num_cpu_devices", local_device_count)


def process_index() -> int:
    """This process's number (0 when JAX runs as one process)."""
    return jax.process_index()


def process_count() -> int:
    """The number of processes (1 when JAX runs as one process)."""
    return jax.process_count()


def is_writer() -> bool:
    """Whether this process writes files: only process 0 does, so each file is written once."""
    return jax.process_index() == 0


def fetch(tree):
    """The values of a tree of arrays as NumPy arrays on every process, also for arrays split over
    other processes' devices (gathered with ``multihost_utils.process_allgather``)."""

    def one(a):
        if isinstance(a, jax.Array) and not a.is_fully_addressable and not a.is_fully_replicated:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(a, tiled=True))
        return np.asarray(a)

    return jax.tree_util.tree_map(one, tree)


def agree(value, what: str) -> None:
    """Raises `JaxnnError` unless every process passes the same ``value`` (array-like)."""
    if jax.process_count() == 1:
        return
    from jax.experimental import multihost_utils

    try:
        multihost_utils.assert_equal(np.asarray(value), fail_message=what)
    except AssertionError:
        raise JaxnnError(
            f"the processes disagree on {what}: start every process with the same arguments and data"
        ) from None


def barrier(name: str) -> None:
    """Waits until every process has reached the barrier called ``name``."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def place(tree, sharding: jax.sharding.Sharding):
    """A tree of arrays laid out as ``sharding`` says. Over several processes, each process passes
    the whole value, which must be the same everywhere, and keeps its devices' parts (nothing
    checks that they agree, so that large data sets are not sent around to compare)."""
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)

    def one(a):
        a = np.asarray(a)
        return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])

    return jax.tree_util.tree_map(one, tree)


def replicate(tree, mesh: jax.sharding.Mesh):
    """A tree of arrays placed whole on every device of ``mesh`` (see `place`)."""
    return place(tree, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))


def batch_mesh(devices=None) -> jax.sharding.Mesh:
    """A one-axis mesh named `BATCH_AXIS` over ``devices`` (default: every process's devices)."""
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise JaxnnError("no devices to split the mini-batches over: pass None (all devices) or a list of devices")
    return jax.sharding.Mesh(np.array(devices), (BATCH_AXIS,))


__all__ = [
    "BATCH_AXIS",
    "ENV",
    "agree",
    "barrier",
    "batch_mesh",
    "fetch",
    "init",
    "is_writer",
    "process_count",
    "place",
    "process_index",
    "replicate",
]
