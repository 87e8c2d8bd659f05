"""Test settings: float64 everywhere, so that gradient paths can be compared to 1e-10.

Compiled programs are shared by the whole run: every process (the pytest-xdist workers, and the
scripts, notebooks and command lines the tests start) uses one persistent compilation cache in
a temporary folder, so a program that several processes compile is compiled once. It is never
the user's own cache (tests/test_cache.py tests that one on its own, in its own folder).
"""

import atexit
import os
import shutil
import tempfile

if not os.environ.get("JAXNN_TEST_CACHE"):  # the first pytest process of the run: it owns the folder
    os.environ["JAXNN_TEST_CACHE"] = tempfile.mkdtemp(prefix="jaxnn-test-cache-")
    atexit.register(shutil.rmtree, os.environ["JAXNN_TEST_CACHE"], ignore_errors=True)
os.environ["JAXNN_CACHE"] = os.environ["JAXNN_TEST_CACHE"]
os.environ.pop("JAXNN_NO_COMPILATION_CACHE", None)

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)


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
