"""Test settings: float64 everywhere, so that gradient paths can be compared to 1e-10.

Compiled programs are shared by the whole run: every process (the pytest-xdist workers, and the
scripts, notebooks and command lines the tests start) uses one persistent compilation cache in
a temporary folder, so a program that several processes compile is compiled once. It is never
the user's own cache (tests/test_cache.py tests that one on its own, in its own folder).

Every process also compiles with XLA's older CPU loop emitters (`SUITE_XLA_FLAG`), which compile
a program 1.4–2.4 times as fast as the default fusion emitters (benchmarks/compile_time.py) and
give the same numbers, bit for bit: tests/test_compiler_setting.py checks that against a process
with XLA's defaults. Set ``JAXNN_TEST_XLA_DEFAULTS=1`` to run the whole suite with XLA's
defaults instead. The tests' own small programs compile with LLVM's optimisation passes off
(the `small_jit` fixture).
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

if not os.environ.get("JAXNN_TEST_CACHE"):  # the first pytest process of the run: it owns the folder
    os.environ["JAXNN_TEST_CACHE"] = tempfile.mkdtemp(prefix="jaxnn-test-cache-")
    atexit.register(shutil.rmtree, os.environ["JAXNN_TEST_CACHE"], ignore_errors=True)
os.environ["JAXNN_CACHE"] = os.environ["JAXNN_TEST_CACHE"]
os.environ.pop("JAXNN_NO_COMPILATION_CACHE", None)

#: What every process of the suite adds to ``XLA_FLAGS`` (see the module's docstring).
SUITE_XLA_FLAG = "--xla_cpu_use_fusion_emitters=false"


def _xla_accepts(flags: str) -> bool:
    """Whether this jaxlib knows every flag of ``flags``: XLA ends the process on an unknown one,
    so a release that drops the suite's flag makes the suite fall back to XLA's defaults rather than fail."""
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    probe = "import jax; jax.numpy.zeros(1).block_until_ready()"
    return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True).returncode == 0


# the first pytest process decides, and the processes it starts inherit the setting
if "JAXNN_TEST_XLA_FLAG" not in os.environ:
    flags = f"{os.environ.get('XLA_FLAGS', '')} {SUITE_XLA_FLAG}".strip()
    use = (
        os.environ.get("JAXNN_TEST_XLA_DEFAULTS") != "1"
        and "fusion_emitters" not in os.environ.get("XLA_FLAGS", "")
        and _xla_accepts(flags)
    )
    os.environ["JAXNN_TEST_XLA_FLAG"] = SUITE_XLA_FLAG if use else ""
    if use:
        os.environ["XLA_FLAGS"] = flags

import functools  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)

#: Compiler options for the tests' own small programs (`small_jit`).
SMALL_PROGRAM_OPTIONS = {"xla_backend_optimization_level": 0}


@pytest.fixture(scope="session")
def small_jit():
    """``jax.jit`` for a test's own small programs: the gradients of a few tiny layers, compiled
    once and run once or a few times. They compile with LLVM's optimisation passes off
    (`SMALL_PROGRAM_OPTIONS`), which take more time than they could save on such programs
    (tests/test_equivalence.py and tests/test_layers.py together: about a third less CPU time;
    docs/performance.md, "Round 5: the tests' own programs"). jaxnn's own programs (epochs, sweeps,
    predictions) keep XLA's settings, since tests that train for many steps would run slower.
    Plain ``jax.jit`` under ``JAXNN_TEST_XLA_DEFAULTS=1``, or where this jaxlib refuses the option."""
    if os.environ.get("JAXNN_TEST_XLA_DEFAULTS") == "1":
        return jax.jit
    fast = functools.partial(jax.jit, compiler_options=SMALL_PROGRAM_OPTIONS)
    try:
        fast(lambda v: v + 1)(jax.numpy.zeros(1)).block_until_ready()
    except Exception:  # an XLA that does not know the option
        return jax.jit
    return fast


@pytest.fixture(scope="session")
def explore_model(tmp_path_factory):
    """A small trained MLP's model file for the explore tests: [784, 30, 10], cross-entropy,
    two epochs on the first 10,000 training images (about 90% on the test data)."""
    import jaxnn

    data = jaxnn.load_mnist()
    net = jaxnn.mlp([784, 30, 10], cost="cross-entropy")
    params = jaxnn.init_network(0, net)
    train = (data.training.x[:10_000], data.training.y[:10_000])
    params, _ = jaxnn.sgd(params, train, 2, 10, 0.5, key=1, net=net)
    path = tmp_path_factory.mktemp("explore") / "model.npz"
    jaxnn.save_model(path, params, cost="cross-entropy", activation="sigmoid", dataset="mnist")
    return path
