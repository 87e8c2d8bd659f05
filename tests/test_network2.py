"""network2's training semantics: L2/L1 updates, monitoring, momentum, optax, schedules, divergence."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxnn


@pytest.fixture(scope="module")
def small():
    d = jaxnn.load_mnist()
    return jaxnn.Split(d.training.x[:1000], d.training.y[:1000]), jaxnn.Split(
        d.validation.x[:500], d.validation.y[:500]
    )


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("regularizer", ["l2", "l1"])
def test_one_step_matches_the_books_weight_decay_formula(regularizer):
    """A single mini-batch = the whole set of n = 4 examples: one SGD step, checked by hand."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, 3))
    y = np.array([0, 1, 1, 0])
    params = jaxnn.init_params(jax.random.key(0), [3, 2], "default", dtype=jnp.float64)
    eta, lmbda, n = 0.7, 2.5, 4
    new, _ = jaxnn.sgd(params, (x, y), 1, 4, eta, key=0, lmbda=lmbda, regularizer=regularizer, cost="cross-entropy")
    w, b = np.asarray(params[0]["w"]), np.asarray(params[0]["b"])
    a = _sigmoid(x @ w.T + b)
    delta = a - np.eye(2)[y]  # cross-entropy with sigmoid
    nabla_w, nabla_b = delta.T @ x, delta.sum(0)
    if regularizer == "l2":
        expected_w = (1 - eta * lmbda / n) * w - eta / 4 * nabla_w  # network2's update
    else:
        expected_w = w - eta * lmbda / n * np.sign(w) - eta / 4 * nabla_w
    np.testing.assert_allclose(new[0]["w"], expected_w, rtol=1e-12)
    np.testing.assert_allclose(new[0]["b"], b - eta / 4 * nabla_b, rtol=1e-12)


def test_monitoring_records_network2s_four_lists(small, capsys):
    train, val = small
    params = jaxnn.init_params(jax.random.key(0), [784, 20, 10])
    trained, h = jaxnn.sgd(
        params,
        train,
        3,
        10,
        0.5,
        key=0,
        evaluation_data=val,
        cost="cross-entropy",
        lmbda=5.0,
        monitor_evaluation_cost=True,
        monitor_training_cost=True,
        monitor_training_accuracy=True,
        verbose=True,
    )
    ec, ea, tc, ta = h.network2_lists()
    assert len(ec) == len(ea) == len(tc) == len(ta) == 3
    assert tc[-1] < tc[0] and ta[-1] > ta[0]
    # the recorded training cost is network2's total_cost: mean cost + ½(λ/n)Σ‖w‖²
    a = np.asarray(jaxnn.forward(trained, train.x))
    yy = np.eye(10)[train.y]
    c = np.mean(-np.sum(yy * np.log(a) + (1 - yy) * np.log(1 - a), axis=1))
    c += 0.5 * 5.0 / len(train.x) * sum(float(np.sum(np.asarray(p["w"]) ** 2)) for p in trained)
    assert tc[-1] == pytest.approx(c, rel=1e-4)
    assert ta[-1] == jaxnn.evaluate(trained, train.x, train.y)
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == [
        "Epoch 0 training complete",
        f"Cost on training data: {tc[0]}",
        f"Accuracy on training data: {ta[0]} / 1000",
        f"Cost on evaluation data: {ec[0]}",
    ]
    assert out[4] == f"Accuracy on evaluation data: {ea[0]} / 500"


def test_momentum_matches_optax_sgd_with_momentum(small):
    train, _ = small
    params = jaxnn.init_params(jax.random.key(1), [784, 10, 10], dtype=jnp.float64)
    a, _ = jaxnn.sgd(params, train, 2, 10, 0.1, key=3, momentum=0.9, cost="cross-entropy")
    b, _ = jaxnn.sgd(params, train, 2, 10, 0.1, key=3, optimizer=optax.sgd(0.1, momentum=0.9), cost="cross-entropy")
    chex.assert_trees_all_close(a, b, rtol=1e-9, atol=1e-12)
    c, _ = jaxnn.sgd(params, train, 2, 10, 0.1, key=3, cost="cross-entropy")
    assert not np.allclose(a[0]["w"], c[0]["w"])


def test_any_optax_optimizer_trains(small):
    train, val = small
    params = jaxnn.init_params(jax.random.key(0), [784, 20, 10])
    _, h = jaxnn.sgd(
        params,
        train,
        3,
        20,
        1.0,
        key=0,
        evaluation_data=val,
        optimizer=optax.adam(3e-3),
        cost="log-likelihood",
        output_activation="softmax",
    )
    assert h.best()[1] > 0.7


def test_early_stopping_and_eta_schedule(small):
    train, val = small
    params = jaxnn.init_params(jax.random.key(0), [784, 10, 10])
    # η so small that accuracy barely moves: early stopping fires after `early_stopping` flat epochs
    _, h = jaxnn.sgd(params, train, 50, 10, 1e-6, key=0, evaluation_data=val, early_stopping=2)
    assert h.stopped.startswith("early stopping") and len(h.epoch) < 50
    _, h = jaxnn.sgd(params, train, 200, 10, 1e-6, key=0, evaluation_data=val, halve_eta_after=1)
    assert h.stopped.startswith("learning-rate schedule")
    assert h.eta[0] == 1e-6 and min(h.eta) == pytest.approx(1e-6 / 128)
    assert all(later <= earlier for earlier, later in zip(h.eta, h.eta[1:]))


def test_divergence_keeps_the_last_good_parameters():
    x = np.linspace(-1, 1, 40)[:, None].astype(np.float32)
    y = 3 * x
    params = jaxnn.init_params(jax.random.key(0), [1, 8, 1], "default")
    trained, h = jaxnn.sgd(params, (x, y), 20, 4, 50.0, key=0, activation="linear")
    assert h.stopped is not None and "diverged in epoch" in h.stopped and "smaller eta" in h.stopped
    assert all(np.isfinite(np.asarray(l)).all() for l in jax.tree_util.tree_leaves(trained))
    trained, h = jaxnn.sgd(params, (x, y), 30, 4, 50.0, key=0, activation="linear", on_divergence="revert")
    assert h.stopped is None and len(h.epoch) >= 1 and min(h.eta) < 50.0
    assert all(np.isfinite(np.asarray(l)).all() for l in jax.tree_util.tree_leaves(trained))


def test_dropout_trains_and_scales_at_test_time(small):
    train, val = small
    params = jaxnn.init_params(jax.random.key(0), [784, 30, 10])
    kw = dict(key=0, evaluation_data=val, cost="log-likelihood", output_activation="softmax", p_dropout=0.5)
    trained, h = jaxnn.sgd(params, train, 3, 10, 0.5, **kw)
    assert h.best()[1] > 0.6
    # book dropout: the test-time network multiplies hidden activations by 1 - p
    net = jaxnn.mlp(
        [784, 30, 10], jaxnn.make_model("sigmoid", "softmax", "log-likelihood", dropout="book"), p_dropout=0.5
    )
    counted = jaxnn.training.measure(net, trained, jnp.asarray(val.x), jnp.asarray(val.y), 0.0)[1]
    assert counted == h.evaluation_correct[-1]
    scaled = [{"w": trained[0]["w"], "b": trained[0]["b"]}, {"w": trained[1]["w"] * 0.5, "b": trained[1]["b"]}]
    assert counted == jaxnn.evaluate(scaled, val.x, val.y, output_activation="softmax", cost="log-likelihood")
