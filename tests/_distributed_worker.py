"""One process of tests/test_distributed.py: ``python _distributed_worker.py MODE OUT``.

MODE ``reference`` runs alone (no distributed runtime, one device); ``distributed`` and ``kill``
call ``jaxnn.distributed.init()``, which reads JAXNN_COORDINATOR, JAXNN_NUM_PROCESSES,
JAXNN_PROCESS_ID, JAXNN_LOCAL_DEVICE_COUNT and JAXNN_HEARTBEAT_TIMEOUT from the environment.
"""

import sys
import time
from pathlib import Path

mode, out = sys.argv[1], Path(sys.argv[2])
T0 = time.perf_counter()


def mark(what):
    print(f"{what}: {time.perf_counter() - T0:.1f} s ({time.process_time():.1f} s CPU)", flush=True)


if mode != "reference":
    from jaxnn import distributed

    distributed.init()

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxnn  # noqa: E402
from jaxnn import distributed, sharding  # noqa: E402

mark("initialized")
data = jaxnn.load_mnist()
train = jaxnn.Split(data.training.x[:400], data.training.y[:400])
val = jaxnn.Split(data.validation.x[:200], data.validation.y[:200])
me = jax.process_index()
P0 = jaxnn.init_params(jax.random.key(7), [784, 30, 10], "default")
DP = dict(key=3, evaluation_data=val, cost="cross-entropy", lmbda=1.0, p_dropout=0.2)

if mode == "kill":
    jaxnn.sgd(P0, train, 1, 20, 0.5, data_parallel=True, **DP)  # both processes take part once
    print(f"READY {me}", flush=True)
    if me == 1:
        time.sleep(0.5)
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    for _ in range(1000):  # process 0 trains on; each step all-reduces with the dead process
        jaxnn.sgd(P0, train, 1, 20, 0.5, data_parallel=True, **DP)
    sys.exit(0)

# 8 of the book's chapter 3 networks: 4 seeds (data orders) x 2 learning rates. The distributed
# processes stop after epoch 1 with a checkpoint; the test then starts both again ("resume"), and
# they go on to epoch 2 from it: the result must equal the lone process's two epochs.
SWEEP = dict(seeds=[0, 1, 2, 3], cost="cross-entropy", lmbda=1.0, evaluation_data=val)
if mode == "resume":
    result = jaxnn.sweep([784, 30, 10], train, 2, 10, [0.5, 3.0], checkpoint=out / "sweep.ckpt", resume=True, **SWEEP)
    arrays = {"sweep_correct": result.evaluation_correct, "epochs": np.asarray(len(result.seconds))}
    for i, leaf in enumerate(jax.tree_util.tree_leaves(distributed.fetch(result.params))):
        arrays[f"sweep_{i}"] = leaf
    np.savez(out / f"{mode}_{me}.npz", **arrays)
    mark(f"DONE {me}")
    sys.exit(0)
epochs, ckpt = (2, None) if mode == "reference" else (1, out / "sweep.ckpt")
result = jaxnn.sweep([784, 30, 10], train, epochs, 10, [0.5, 3.0], checkpoint=ckpt, **SWEEP)
mark("sweep")
ckpt = out / "dp.ckpt"
params, history = jaxnn.sgd(P0, train, 2, 20, 0.5, data_parallel=mode != "reference", checkpoint=ckpt, **DP)
mark("data-parallel sgd")
# the same run resumed from the checkpoint of epoch 1, for one more epoch
resumed, rhistory = jaxnn.sgd(
    P0, train, 3, 20, 0.5, data_parallel=mode != "reference", checkpoint=ckpt, resume=True, **DP
)
mark("resumed")
saved = result.save(out / "sweep.npz")
mesh, _ = sharding.plan(4, 2)
arrays = {
    "sweep_correct": result.evaluation_correct,
    "dp_correct": np.asarray(history.evaluation_correct),
    "resumed_correct": np.asarray(rhistory.evaluation_correct),
    "resumed_epochs": np.asarray(rhistory.epoch),
    "saved": np.asarray(saved is not None),
    "processes": np.asarray(jax.process_count()),
    "mesh_devices": np.asarray(0 if mesh is None else mesh.size),
    "mesh_processes": np.asarray(0 if mesh is None else len({d.process_index for d in mesh.devices.flat})),
}
for name, tree in (("sweep", result.params), ("dp", params), ("resumed", resumed)):
    for i, leaf in enumerate(jax.tree_util.tree_leaves(distributed.fetch(tree))):
        arrays[f"{name}_{i}"] = leaf
np.savez(out / f"{mode}_{me}.npz", **arrays)
mark(f"DONE {me}")
