"""jaxnn over JAX's multi-process runtime, with real processes on 127.0.0.1.

Two processes with two forced CPU devices each (a global mesh of 4 devices, gloo collectives)
run tests/_distributed_worker.py; a third process runs the same work alone, with 4 forced CPU
devices, so that only the split over processes differs (tests/test_sharding.py compares 4
devices with one, in float64: a sweep's float32 products round differently when each device holds
fewer networks, and η = 3 amplifies that). The sweep of 8 networks must give the lone process's
parameters and accuracies, the data-parallel training those of plain training on one device, and
a killed process must bring the other down within a bounded time.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxnn
from jaxnn import distributed

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("_distributed_worker.py")

pytestmark = pytest.mark.distributed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    env = dict(
        os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    for name in ("XLA_FLAGS", *distributed.ENV.values()):
        env.pop(name, None)
    env.update(extra)
    # the suite's compiler setting (tests/conftest.py), beside any device count
    flags = " ".join(f for f in (env.get("XLA_FLAGS", ""), os.environ.get("JAXNN_TEST_XLA_FLAG", "")) if f)
    if flags:
        env["XLA_FLAGS"] = flags
    return env


def _start(mode, out, n=2, heartbeat=60):
    """``n`` processes of the worker joined on a free port (or one lone process for ``reference``)."""
    if mode == "reference":  # one process with the same 4 devices: only the split over processes differs
        env = _env(XLA_FLAGS="--xla_force_host_platform_device_count=4")
        cmd = [sys.executable, str(WORKER), mode, str(out)]
        return [subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)]
    address = f"127.0.0.1:{_free_port()}"
    return [
        subprocess.Popen(
            [sys.executable, str(WORKER), mode, str(out)],
            env=_env(
                JAXNN_COORDINATOR=address,
                JAXNN_NUM_PROCESSES=str(n),
                JAXNN_PROCESS_ID=str(i),
                JAXNN_LOCAL_DEVICE_COUNT="2",
                JAXNN_HEARTBEAT_TIMEOUT=str(heartbeat),
            ),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(n)
    ]


def _finish(procs, timeout=900):
    outputs = []
    for p in procs:
        try:
            outputs.append(p.communicate(timeout=timeout)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    return outputs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The worker's results: two distributed processes and the lone reference, run side by side."""
    dist, ref = tmp_path_factory.mktemp("distributed"), tmp_path_factory.mktemp("reference")
    procs = _start("distributed", dist) + _start("reference", ref)
    outputs = _finish(procs)
    for p, text in zip(procs, outputs):
        assert p.returncode == 0, text[-3000:]
    # every process has exited; new ones go on from the distributed sweep's checkpoint of epoch 1
    procs = _start("resume", dist)
    for p, text in zip(procs, _finish(procs)):
        assert p.returncode == 0, text[-3000:]
    load = lambda path: dict(np.load(path))  # noqa: E731
    resumed = [load(dist / f"resume_{i}.npz") for i in (0, 1)]
    p0, p1 = load(dist / "distributed_0.npz"), load(dist / "distributed_1.npz")
    for run, r in ((p0, resumed[0]), (p1, resumed[1])):  # the sweep's first epoch, then its resumed end
        run["first_correct"] = run.pop("sweep_correct")
        run.update({k: v for k, v in r.items() if k.startswith("sweep") or k == "epochs"})
    return dist, p0, p1, load(ref / "reference_0.npz")


def _leaves(run, name):
    return [
        run[k]
        for k in sorted(
            (k for k in run if k.startswith(name + "_") and k[len(name) + 1 :].isdigit()),
            key=lambda k: int(k.split("_")[-1]),
        )
    ]


def _max_diff(a, b):
    assert len(a) == len(b) > 0
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def test_sweep_over_two_processes_restarted_from_its_checkpoint_equals_one_process(runs):
    folder, p0, p1, ref = runs
    # epoch 1 over two processes, as the lone process's first epoch
    assert (
        p0["first_correct"][:, 0].tolist() == p1["first_correct"][:, 0].tolist() == ref["sweep_correct"][:, 0].tolist()
    )
    assert int(p0["epochs"]) == 2  # the restarted processes went on from the checkpoint to epoch 2
    assert int(p0["processes"]) == 2 and int(ref["processes"]) == 1
    assert int(p0["mesh_devices"]) == 4 and int(p0["mesh_processes"]) == 2  # the 4 seeds over both processes
    assert int(ref["mesh_devices"]) == 4
    assert sorted(a.shape for a in _leaves(p0, "sweep")) == [(8, 10), (8, 10, 30), (8, 30), (8, 30, 784)]
    assert _max_diff(_leaves(p0, "sweep"), _leaves(p1, "sweep")) == 0.0  # every process holds the same result
    assert _max_diff(_leaves(p0, "sweep"), _leaves(ref, "sweep")) <= 1e-6
    assert p0["sweep_correct"].tolist() == ref["sweep_correct"].tolist() == p1["sweep_correct"].tolist()
    assert (
        p0["sweep_correct"][:, -1].mean() > 80
    )  # of 200 (chance: 20): they learned, so the comparison means something
    # only process 0 wrote the file, and it holds the result
    assert bool(p0["saved"]) and not bool(p1["saved"])
    saved = np.load(folder / "sweep.npz")  # the first run's result, of one epoch
    assert saved["evaluation_correct"].tolist() == p0["first_correct"].tolist()
    assert [p for p in folder.iterdir() if p.name.startswith(".")] == []  # no temporary file left over


def test_data_parallel_training_equals_one_process(runs):
    _, p0, p1, ref = runs
    assert _max_diff(_leaves(p0, "dp"), _leaves(p1, "dp")) == 0.0
    moved = _max_diff(_leaves(ref, "dp"), [np.asarray(a) for a in _initial()])
    assert moved > 0.1  # training moved the weights
    assert _max_diff(_leaves(p0, "dp"), _leaves(ref, "dp")) <= 1e-5  # the all-reduce sums in another order
    assert p0["dp_correct"].tolist() == ref["dp_correct"].tolist()


def test_checkpoint_of_data_parallel_run_resumes_on_every_process(runs):
    _, p0, p1, ref = runs
    assert p0["resumed_epochs"].tolist() == [0, 1, 2]
    assert _max_diff(_leaves(p0, "resumed"), _leaves(p1, "resumed")) == 0.0
    assert _max_diff(_leaves(p0, "resumed"), _leaves(ref, "resumed")) <= 1e-5
    assert p0["resumed_correct"].tolist() == ref["resumed_correct"].tolist()


def _initial():
    return jax.tree_util.tree_leaves(jaxnn.init_params(jax.random.key(7), [784, 30, 10], "default"))


def test_a_killed_process_stops_the_other(tmp_path):
    procs = _start("kill", tmp_path, heartbeat=10)
    survivor, victim = procs
    start = time.monotonic()
    out = _finish([victim], timeout=240)[0]
    died = time.monotonic()
    assert victim.returncode == -9, out[-2000:]  # it killed itself after both were ready
    text = _finish([survivor], timeout=120)[0]
    assert survivor.returncode != 0, text[-2000:]
    assert time.monotonic() - died < 60, text[-2000:]
    assert "READY 0" in text and "DONE" not in text
    assert any(m in text for m in ("another task died", "Connection closed", "Terminating process")), text[-3000:]
    assert start <= died


def test_init_names_the_fix_for_bad_settings(monkeypatch):
    for name in distributed.ENV.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JAXNN_NUM_PROCESSES", "two")
    with pytest.raises(jaxnn.JaxnnError, match="JAXNN_NUM_PROCESSES='two' is not an integer"):
        distributed.init()
    monkeypatch.delenv("JAXNN_NUM_PROCESSES")
    with pytest.raises(jaxnn.JaxnnError, match="number them 0..n-1"):
        distributed.init("127.0.0.1:1", 2, 2)
    with pytest.raises(jaxnn.JaxnnError, match="'gloo' or 'mpi'"):
        distributed.init("127.0.0.1:1", 2, 0, cpu_collectives="nccl")
    jaxnn.init_params(jax.random.key(0), [2, 2])  # the devices are in use: init must come first, and says so
    with pytest.raises(jaxnn.JaxnnError, match="call it first"):
        distributed.init("127.0.0.1:1", 2, 0)
    assert not jax.distributed.is_initialized()


def test_cli_sweep_process_options_need_distributed(capsys):
    from jaxnn import cli

    assert cli.main(["sweep", "--process-id", "1", "--epochs", "1"]) == 2
    assert "go with --distributed" in capsys.readouterr().err


def test_launcher_sets_the_environment_and_stops_the_others_on_a_failure():
    child = (
        "import os, sys, time; i = os.environ['JAXNN_PROCESS_ID']; "
        "print('id', i, os.environ['JAXNN_NUM_PROCESSES'], os.environ['JAXNN_COORDINATOR'], flush=True); "
        "time.sleep(120) if i == '0' else sys.exit(3)"
    )
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "launch_local.py"), "-n", "2", "--", sys.executable, "-c", child],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert time.monotonic() - start < 60  # process 0 was stopped, not waited for
    assert "[1] id 1 2 127.0.0.1:" in proc.stdout  # process 1's lines are prefixed
