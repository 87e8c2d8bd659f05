"""One trainer for every network: a conv net gets what the MLP has (stopping, the η schedule,
optax, the divergence guard), and a sweep of conv nets equals the same nets trained one by one."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxnn
from jaxnn.sweep import run_keys

LAYERS = [jaxnn.ConvPool(4, 5), jaxnn.FullyConnected(20), jaxnn.Softmax(10)]


@pytest.fixture(scope="module")
def small():
    d = jaxnn.load_mnist()
    return jaxnn.Split(d.training.x[:1000], d.training.y[:1000]), jaxnn.Split(
        d.validation.x[:300], d.validation.y[:300]
    )


@pytest.fixture(scope="module")
def net():
    return jaxnn.conv_net(LAYERS, (1, 28, 28))


def test_conv_net_early_stopping_and_eta_schedule(small, net):
    train, val = small
    params = jaxnn.init_network(jax.random.key(0), net)
    # η so small that the accuracy never moves: both stop after the flat epochs
    _, h = jaxnn.sgd(params, train, 20, 10, 1e-7, key=0, net=net, evaluation_data=val, early_stopping=2)
    assert h.stopped.startswith("early stopping") and h.epoch == [0, 1, 2]
    _, h = jaxnn.sgd(
        params, train, 20, 10, 1e-7, key=0, net=net, evaluation_data=val, halve_eta_after=1, min_eta_fraction=1 / 8
    )
    # η is halved after each flat epoch and the run stops once it falls below η₀/8
    assert h.stopped.startswith("learning-rate schedule") and h.eta == [1e-7, 1e-7, 5e-8, 2.5e-8, 1.25e-8]


def test_conv_net_trains_with_an_optax_optimizer_and_its_schedule(small, net):
    train, val = small
    params = jaxnn.init_network(jax.random.key(0), net)
    before = jaxnn.evaluate(params, *val, net=net)
    trained, h = jaxnn.sgd(params, train, 2, 10, 1.0, key=1, net=net, evaluation_data=val, optimizer=optax.adam(3e-3))
    assert h.evaluation_correct[-1] > max(150, 2 * before)  # half right after 200 Adam steps; chance is 30
    # an optimizer made with inject_hyperparams follows the η schedule too
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=1e-7)
    _, h = jaxnn.sgd(
        params,
        train,
        20,
        10,
        1.0,
        key=1,
        net=net,
        evaluation_data=val,
        optimizer=opt,
        halve_eta_after=1,
        min_eta_fraction=1 / 4,
    )
    assert h.stopped.startswith("learning-rate schedule")
    np.testing.assert_allclose(h.eta, [1e-7, 1e-7, 5e-8, 2.5e-8], rtol=1e-6)


def test_conv_net_divergence_keeps_the_last_good_parameters(small, net):
    train, val = small
    params = jaxnn.init_network(jax.random.key(0), net)
    trained, h = jaxnn.sgd(params, train, 5, 10, 1e30, key=0, net=net, evaluation_data=val)
    assert "diverged in epoch" in h.stopped and "kept the last good parameters" in h.stopped
    assert all(np.isfinite(np.asarray(a)).all() for a in jax.tree_util.tree_leaves(trained))


def test_network3_conventions_are_options_of_sgd(small, net):
    """NETWORK3 visits the data in order and drops the short last mini-batch: the epoch equals
    SGD written out by hand over the first n // m mini-batches, with λ/(n // m)."""
    train, _ = small
    x, y = train.x[:95], train.y[:95]
    params = jax.tree_util.tree_map(lambda a: a + 0.01, jaxnn.init_network(jax.random.key(2), net))
    trained, h = jaxnn.sgd(params, (x, y), 1, 10, 0.2, key=0, net=net, lmbda=0.9, **jaxnn.NETWORK3)
    assert h.steps_per_epoch == 9
    step = jax.jit(
        lambda p, xb, yb: jax.tree_util.tree_map(
            lambda p, g: p - 0.2 * g, p, jaxnn.backprop(p, xb, yb, net=net, lmbda=0.1, n=1)
        )
    )  # 0.9 / 9
    expected = params
    for i in range(9):
        expected = step(expected, x[10 * i : 10 * i + 10], y[10 * i : 10 * i + 10])
    chex.assert_trees_all_close(trained, expected, rtol=1e-5, atol=1e-6)


def test_sweep_of_conv_nets_equals_them_one_by_one():
    d = jaxnn.load_mnist()
    train = jaxnn.Split(d.training.x[:5000], d.training.y[:5000])
    val = jaxnn.Split(d.validation.x[:500], d.validation.y[:500])
    net = jaxnn.conv_net([jaxnn.ConvPool(20, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)], (1, 28, 28))
    res = jaxnn.sweep(net, train, 1, 10, [0.05, 0.1], seeds=[0, 1], evaluation_data=val, dtype=jnp.float64)
    assert len(res.configs) == 4
    for i, c in enumerate(res.configs):
        k_init, k_sgd = run_keys(c["seed"])
        params = jaxnn.init_network(k_init, net, jnp.float64)
        alone, h = jaxnn.sgd(params, train, 1, 10, c["eta"], key=k_sgd, net=net, evaluation_data=val)
        chex.assert_trees_all_close(res.network(i), alone, rtol=1e-9, atol=1e-11)
        assert res.evaluation_correct[i].tolist() == h.evaluation_correct
    assert (res.best_accuracy > 0.15).all()  # one epoch on 5,000 images; chance is 0.1
