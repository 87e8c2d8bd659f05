"""The benchmark's baselines compute the same training as jaxnn, for every configuration it times.

A speed table is only worth something if every row does the same work. These tests run one epoch
of each NumPy implementation and of the JAX per-step loop from ``benchmarks/epoch_speed.py`` on a
few examples, in the order ``jaxnn.sgd`` visits them, and compare the parameters with
``jaxnn.sgd``'s.
"""

import importlib.util
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxnn
from jaxnn.training import epoch_order

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "epoch_speed.py"
_spec = importlib.util.spec_from_file_location("epoch_speed", _PATH)
epoch_speed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(epoch_speed)

CONFIGS = (epoch_speed.BOOK,) + epoch_speed.OTHER_CONFIGS
N = 230  # 23 mini-batches of 10, or 2 of 100 and a short one of 30


@pytest.fixture(scope="module")
def data():
    d = jaxnn.load_mnist()
    return d.training.x[:N].astype(np.float64), d.training.y[:N]


def _jaxnn_epoch(cfg, params0, x, y, key):
    trained, _ = jaxnn.sgd(
        params0,
        (x, y),
        1,
        cfg.m,
        cfg.eta,
        key=key,
        cost=cfg.cost,
        lmbda=cfg.lmbda,
        regularizer="l2",
        monitor_evaluation_accuracy=False,
    )
    return [{k: np.asarray(v) for k, v in layer.items()} for layer in trained]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_numpy_baselines_train_as_jaxnn_does(data, cfg):
    x, y = data
    params0 = jaxnn.init_params(jax.random.key(0), list(cfg.sizes), "default", dtype=np.float64)
    expected = _jaxnn_epoch(cfg, params0, x, y, key=7)
    order = np.asarray(epoch_order(jax.random.key(7), 0, N))
    y_one_hot = np.eye(10)[y]

    matrix = epoch_speed.NetworkMatrix(params0, np.float64, cfg.cost)
    matrix.train(x, y_one_hot, order, cfg.eta, cfg.m, cfg.lmbda)
    per_example = epoch_speed.NetworkPy(params0, np.float64, cfg.cost)
    per_example.train(x[:, :, None], y_one_hot[:, :, None], order, cfg.eta, cfg.m, cfg.lmbda)
    for l, layer in enumerate(expected):
        np.testing.assert_allclose(matrix.weights[l], layer["w"], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(matrix.biases[l], layer["b"], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(per_example.weights[l], layer["w"], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(per_example.biases[l][:, 0], layer["b"], rtol=1e-9, atol=1e-11)
    assert not np.allclose(expected[0]["w"], params0[0]["w"])  # the epoch did train


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_jax_per_step_loop_trains_as_jaxnn_does(data, cfg):
    x, y = data
    x, y = x[:200], y[:200]  # the runner times whole mini-batches only
    params0 = jaxnn.init_params(jax.random.key(1), list(cfg.sizes), "default")
    x32 = x.astype(np.float32)
    expected = _jaxnn_epoch(cfg, params0, x32, y, key=3)
    runner = epoch_speed.JaxPerStepRunner(params0, x32, np.eye(10, dtype=np.float32)[y], len(x), cfg)
    runner.rng = type(
        "FixedOrder", (), {"permutation": lambda self, n: np.asarray(epoch_order(jax.random.key(3), 0, n))}
    )()
    runner.run()
    got = runner.params
    for l, layer in enumerate(expected):
        np.testing.assert_allclose(np.asarray(got[l]["w"]), layer["w"], rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(np.asarray(got[l]["b"]), layer["b"], rtol=2e-4, atol=2e-5)


def test_flop_count_of_the_book_network():
    # forward 2·(784·30 + 30·10), BP4 as much again, BP2 2·30·10, per example
    assert epoch_speed.BOOK.flops(1) == 2 * (2 * (784 * 30 + 30 * 10)) + 2 * 30 * 10
    assert epoch_speed.BOOK.flops(50_000) / 1e9 == pytest.approx(4.79, abs=0.01)


def test_gpu_script_rejects_unknown_options():
    """benchmarks/gpu.sh parses its options before it installs or runs anything (its dry run,
    ``benchmarks/gpu.sh --cpu-dry-run``, takes minutes on 2 cores and is run by hand)."""
    import subprocess

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.sh"
    out = subprocess.run(["bash", str(script), "--bogus"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "unknown option --bogus" in out.stderr
    out = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "--cpu-dry-run" in out.stdout


def test_suite_compile_log_counts_each_compilation_of_a_test(tmp_path):
    """benchmarks/suite_compiles.py logs the compilations of every process pytest runs, through
    JAX's public monitoring events; here on a one-test file that compiles one program of its own."""
    import os
    import subprocess
    import sys

    test = tmp_path / "test_one_program.py"
    test.write_text(
        "import jax, jax.numpy as jnp\n"
        "def test_one_program():\n"
        "    assert float(jax.jit(lambda v: (v * 3.0).sum())(jnp.arange(7.0))) == 63.0\n"
    )
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "suite_compiles.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    out = subprocess.run(
        [sys.executable, str(script), "-q", "-p", "no:xdist", str(test)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    summary = next(line for line in out.stdout.splitlines() if line.startswith("pytest -q"))
    assert "exit 0" in summary and "in 1 processes" in summary
    rows = {line.split(" | ")[0].strip("| "): line for line in out.stdout.splitlines() if line.startswith("| ")}
    assert "jit(<lambda>)" in rows  # the test's own program, counted once
    assert rows["jit(<lambda>)"].split(" | ")[1] == "1"
    assert any("test_one_program.py" in name for name in rows)
