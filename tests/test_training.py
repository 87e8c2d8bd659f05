import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnn
from jaxnn.training import epoch_order


@pytest.fixture(scope="module")
def mnist():
    return jaxnn.load_mnist()


def _small(mnist, n=2000):
    return jaxnn.Split(mnist.training.x[:n], mnist.training.y[:n])


def test_book_network_learns_mnist_quickly(mnist):
    params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "large")
    _, history = jaxnn.sgd(params, mnist.training, 2, 10, 3.0, key=jax.random.key(1), evaluation_data=mnist.validation)
    assert len(history.evaluation_correct) == 2 and history.evaluation_size == 10_000
    assert history.best()[1] > 0.88  # after 2 of the book's 30 epochs; the full run reaches ~95%
    assert history.evaluation_correct[-1] >= history.evaluation_correct[0] - 100


@pytest.mark.parametrize("gradient", ["autodiff", "backprop-per-example"])
def test_gradient_paths_train_to_the_same_parameters(mnist, gradient):
    params = jaxnn.init_params(jax.random.key(0), [784, 12, 10], "default", dtype=jnp.float64)
    data = _small(mnist, 300)
    kw = dict(epochs=2, mini_batch_size=7, eta=0.5, key=3, cost="cross-entropy")
    ref, _ = jaxnn.sgd(params, data, gradient="backprop", **kw)
    other, _ = jaxnn.sgd(params, data, gradient=gradient, **kw)
    chex.assert_trees_all_close(ref, other, rtol=1e-8, atol=1e-10)


def test_one_epoch_equals_network_py_update_rule_with_short_last_batch(mnist):
    """Replays an epoch in plain NumPy with network.py's update rule, short last batch included."""
    params = jaxnn.init_params(jax.random.key(2), [784, 5, 10], "large", dtype=jnp.float64)
    x, y = mnist.training.x[:23].astype(np.float64), mnist.training.y[:23]
    trained, _ = jaxnn.sgd(params, (x, y), 1, 10, 3.0, key=jax.random.key(9))
    perm = np.asarray(epoch_order(jax.random.key(9), 0, 23))
    w = [np.array(p["w"]) for p in params]
    b = [np.array(p["b"]) for p in params]
    sig = lambda z: 1 / (1 + np.exp(-z))
    for batch in (perm[:10], perm[10:20], perm[20:]):  # 10 + 10 + a short batch of 3
        nw = [np.zeros_like(a) for a in w]
        nb = [np.zeros_like(a) for a in b]
        for i in batch:
            acts, zs = [x[i]], []
            for wl, bl in zip(w, b):
                zs.append(wl @ acts[-1] + bl)
                acts.append(sig(zs[-1]))
            delta = (acts[-1] - np.eye(10)[y[i]]) * sig(zs[-1]) * (1 - sig(zs[-1]))
            for l in (1, 0):
                nw[l] += np.outer(delta, acts[l])
                nb[l] += delta
                if l:
                    delta = (w[l].T @ delta) * sig(zs[l - 1]) * (1 - sig(zs[l - 1]))
        w = [wl - 3.0 / len(batch) * g for wl, g in zip(w, nw)]
        b = [bl - 3.0 / len(batch) * g for bl, g in zip(b, nb)]
    for l in range(2):
        np.testing.assert_allclose(trained[l]["w"], w[l], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(trained[l]["b"], b[l], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("gather_steps, gather_bytes", [(3, 2**23), (100, 2**23), (100, 4 * 10 * 784 * 4)])
def test_gathering_mini_batches_in_groups_changes_nothing(mnist, gather_steps, gather_bytes):
    """sgd gathers 100 mini-batches at a time; any grouping steps the same examples in the same
    order with the same dropout masks: bit-identical parameters, leftover steps and short last
    mini-batch included (257 = 25 × 10 + 7; 25 = 8 × 3 + 1, or 6 × 4 + 1 when at most four
    mini-batches' rows fit in gather_bytes)."""
    from jaxnn import optim
    from jaxnn.training import epoch_body

    net = jaxnn.mlp([784, 16, 10], jaxnn.make_model(cost="cross-entropy", dropout="book"), p_dropout=0.25)
    params = jaxnn.init_params(jax.random.key(4), [784, 16, 10])
    x, y = jnp.asarray(mnist.training.x[:257]), jnp.asarray(mnist.training.y[:257])
    hp = {"reg_scale": 0.01, "p_dropout": jnp.asarray([0.0, 0.25])}
    transform = optim.book_transformation(True)
    run = {
        g: jax.jit(epoch_body(net, "backprop", 257, 10, transform, gather_steps=g, gather_bytes=gather_bytes))
        for g in (1, gather_steps)
    }
    state = optim.book_state(transform, params, 0.5, 0.9)
    one, grouped = (run[g]((params, state), jax.random.key(8), x, y, hp) for g in (1, gather_steps))
    chex.assert_trees_all_equal(one, grouped)
    assert not np.allclose(one[0][0]["w"], params[0]["w"])


def test_same_seed_same_result_and_input_params_untouched(mnist):
    params = jaxnn.init_params(jax.random.key(0), [784, 8, 10])
    before = jax.tree_util.tree_map(np.array, params)
    a, ha = jaxnn.sgd(params, _small(mnist, 500), 2, 10, 1.0, key=5, evaluation_data=mnist.test)
    b, hb = jaxnn.sgd(params, _small(mnist, 500), 2, 10, 1.0, key=5, evaluation_data=mnist.test)
    chex.assert_trees_all_equal(a, b)
    assert ha.evaluation_correct == hb.evaluation_correct
    chex.assert_trees_all_equal(jax.tree_util.tree_map(np.asarray, params), before)
    c, _ = jaxnn.sgd(params, _small(mnist, 500), 2, 10, 1.0, key=6)
    assert not np.allclose(a[0]["w"], c[0]["w"])


def test_regression_targets_and_callback():
    x = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
    y = 0.5 * x + 0.2
    params = jaxnn.init_params(jax.random.key(0), [1, 1], "default")
    seen = []
    trained, _ = jaxnn.sgd(
        params, (x, y), 200, 8, 0.5, key=0, activation="linear", callback=lambda j, p, h: seen.append(j)
    )
    assert seen == list(range(200))
    np.testing.assert_allclose(trained[0]["w"], [[0.5]], atol=1e-3)
    np.testing.assert_allclose(trained[0]["b"], [0.2], atol=1e-3)


def test_verbose_prints_network_py_lines(mnist, capsys):
    params = jaxnn.init_params(jax.random.key(0), [784, 10, 10])
    jaxnn.sgd(
        params,
        _small(mnist, 200),
        2,
        10,
        1.0,
        key=0,
        evaluation_data=(mnist.test.x[:50], mnist.test.y[:50]),
        verbose=True,
    )
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(":")[0] for l in lines] == ["Epoch 0", "Epoch 1"]
    assert all(l.endswith(" / 50") for l in lines)
    jaxnn.sgd(params, _small(mnist, 200), 1, 10, 1.0, key=0, verbose=True)
    assert capsys.readouterr().out.strip() == "Epoch 0 complete"
