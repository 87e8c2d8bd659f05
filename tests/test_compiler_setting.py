"""The suite's compiler setting changes no number.

tests/conftest.py makes every process of the suite compile with XLA's older CPU loop emitters
(``--xla_cpu_use_fusion_emitters=false``), which compile 1.4–2.4 times as fast as the default
fusion emitters (benchmarks/compile_time.py). Users run XLA's defaults. Here the same training
runs (an MLP with momentum and L2 by the hand-written backward in float32 and by jax.grad in
float64, a two-conv ReLU net with dropout and L2, and a sweep of four MLPs) run in this process
and in a process with XLA's default flags, and must agree bit for bit, parameters and accuracies
alike.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

RUNS = """
import jax, jax.numpy as jnp, numpy as np
import jaxnn

def results():
    jax.config.update("jax_enable_x64", True)
    d = jaxnn.load_mnist()
    x, y = d.training.x[:600], d.training.y[:600]
    val = (d.validation.x[:300], d.validation.y[:300])
    out = {}

    def put(name, params, history):
        for i, leaf in enumerate(jax.tree_util.tree_leaves(params)):
            out[f"{name}_{i}"] = np.asarray(leaf)
        out[f"{name}_correct"] = np.asarray(history.evaluation_correct)

    conv = jaxnn.conv_net(
        [
            jaxnn.ConvPool(8, 5, activation="relu"),
            jaxnn.ConvPool(12, 5, activation="relu"),
            jaxnn.FullyConnected(30, activation="relu", p_dropout=0.5),
            jaxnn.Softmax(10),
        ],
        (1, 28, 28),
    )
    mlp = jaxnn.mlp([784, 30, 10], cost="cross-entropy")
    for dtype, gradient in ((jnp.float32, "backprop"), (jnp.float64, "autodiff")):
        params = jaxnn.init_network(0, mlp, dtype)
        put(f"mlp_{jnp.dtype(dtype).name}_{gradient}", *jaxnn.sgd(params, (x.astype(dtype), y), 1, 10, 0.5, key=1,
                                                              net=mlp, gradient=gradient, lmbda=5.0, momentum=0.5,
                                                              evaluation_data=val))
    params = jaxnn.init_network(0, conv, jnp.float32)
    put("conv_float32_backprop", *jaxnn.sgd(params, (x[:200].reshape(-1, 1, 28, 28), y[:200]), 1, 10, 0.1, key=1,
                                            net=conv, lmbda=0.1, evaluation_data=(val[0].reshape(-1, 1, 28, 28), val[1])))
    res = jaxnn.sweep(jaxnn.mlp([784, 20, 10]), jaxnn.Split(x, y), 1, 10, [1.0, 3.0], seeds=[0, 1],
                      evaluation_data=jaxnn.Split(*val))
    for i in range(len(res.configs)):
        for j, leaf in enumerate(jax.tree_util.tree_leaves(res.network(i))):
            out[f"sweep_{i}_{j}"] = np.asarray(leaf)
    out["sweep_correct"] = np.asarray(res.evaluation_correct)
    return out

if __name__ == "__main__":
    import sys
    np.savez(sys.argv[1], **results())
"""


def test_the_suites_compiler_setting_gives_xla_defaults_numbers_bit_for_bit(tmp_path):
    flag = os.environ.get("JAXNN_TEST_XLA_FLAG", "")
    if not flag:
        pytest.skip("the suite runs with XLA's default flags: there is nothing to compare")
    script = tmp_path / "runs.py"
    script.write_text(RUNS)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env["XLA_FLAGS"] = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if f != flag)
    proc = subprocess.Popen(  # runs beside this process's own runs
        [sys.executable, str(script), str(tmp_path / "defaults.npz")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        namespace: dict = {}
        exec(compile(RUNS, "runs.py", "exec"), namespace)
        here = namespace["results"]()
        _, err = proc.communicate(timeout=600)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    with np.load(tmp_path / "defaults.npz") as defaults:
        assert sorted(defaults.files) == sorted(here)
        for name in defaults.files:
            np.testing.assert_array_equal(here[name], defaults[name], err_msg=name)
    # every run learned (chance is 30 of the 300 validation images), so the comparison means something
    counts = np.concatenate([here[k].ravel() for k in here if k.endswith("_correct")])
    assert counts.min() > 40 and here["mlp_float32_backprop_correct"][0] > 150
