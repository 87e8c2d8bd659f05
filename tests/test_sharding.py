"""A sweep spread over 4 (forced host) devices gives the parameters of the same sweep on one device."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import jaxnn
from jaxnn import sharding

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import json
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import jaxnn

    assert jax.device_count() == 4, jax.devices()
    d = jaxnn.load_mnist()
    train = jaxnn.Split(d.training.x[:300], d.training.y[:300])
    val = jaxnn.Split(d.validation.x[:200], d.validation.y[:200])
    out = {}
    # 4 seeds: one group (data order) per device; 2 seeds x 3 eta: the 3 networks of each group
    # split over 3 of the 4 devices (more than the 2 groups would use).
    for name, seeds, eta in (("groups", [0, 1, 2, 3], [0.5]), ("within", [0, 1], [0.5, 1.0, 2.0])):
        kw = dict(seeds=seeds, lmbda=2.0, p_dropout=0.2, cost="cross-entropy", evaluation_data=val,
                  dtype=jnp.float64)
        many = jaxnn.sweep([784, 12, 10], train, 2, 10, eta, **kw)
        one = jaxnn.sweep([784, 12, 10], train, 2, 10, eta, devices=1, **kw)
        leaves = jax.tree_util.tree_leaves(many.params)
        out[name] = {
            "devices": len(leaves[0].sharding.device_set),
            "one_devices": len(jax.tree_util.tree_leaves(one.params)[0].sharding.device_set),
            "max_diff": max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                            for a, b in zip(leaves, jax.tree_util.tree_leaves(one.params))),
            "same_correct": many.evaluation_correct.tolist() == one.evaluation_correct.tolist(),
            "moved": float(np.max(np.abs(np.asarray(many.network(0)[0]["w"]) - np.asarray(
                jaxnn.init_params(jax.random.split(jax.random.key(seeds[0]))[0], [784, 12, 10], "default",
                                  dtype=jnp.float64)[0]["w"])))),
        }
    print("RESULT", json.dumps(out))
""")


def test_sharded_sweep_equals_one_device():
    env = dict(
        os.environ,
        # 4 host devices, and the suite's compiler setting (tests/conftest.py)
        XLA_FLAGS=f"--xla_force_host_platform_device_count=4 {os.environ.get('JAXNN_TEST_XLA_FLAG', '')}".strip(),
        JAX_PLATFORMS="cpu",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    assert out["groups"]["devices"] == 4 and out["within"]["devices"] == 3
    for name, r in out.items():
        assert r["one_devices"] == 1, name
        assert r["moved"] > 1e-3, name  # training changed the weights, so the comparison means something
        assert r["max_diff"] <= 1e-12, (name, r["max_diff"])
        assert r["same_correct"], name


def test_plan_splits_groups_first_then_networks():
    devices = ["d0", "d1", "d2", "d3"]  # plan only counts and slices them
    mesh, axis = sharding.plan(8, 3, devices[:1])
    assert mesh is None
    with pytest.raises(jaxnn.JaxnnError, match="devices is empty"):
        sharding.plan(4, 1, [])
    with pytest.raises(jaxnn.JaxnnError, match="available"):
        sharding.plan(4, 1, 99)
    assert sharding._largest_divisor(6, 4) == 3 and sharding._largest_divisor(7, 4) == 1
