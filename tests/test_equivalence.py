"""The spine of jaxnn's verification: every hand-written gradient equals jax.grad.

The combinations are generated from the registries, so a new activation or cost, built in or
from a plugin, is checked here without anyone writing a new test.
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxnn
from jaxnn.backprop import net_backprop, net_backprop_per_example
from jaxnn.net import net_autodiff_grad, net_loss

PATHS = (net_autodiff_grad, net_backprop, net_backprop_per_example)


def _net(params, *components, **kw):
    """network.py's network for ``params``' sizes, with the named components."""
    return jaxnn.mlp(jaxnn.sizes_of(params), jaxnn.make_model(*components, **kw))


# every registered activation, plus one member of each parametrised family ("softmax(c=2)")
DIFFERENTIABLE = [n for n, a in jaxnn.activations.items() if a.differentiable] + jaxnn.activations.family_examples()
COSTS = jaxnn.costs.names()


def _combinations():
    """(hidden, output, cost) triples: every hidden activation with every cost, and every
    output activation that each cost accepts."""
    combos = set()
    for cost in COSTS:
        c = jaxnn.costs.get(cost)
        valid_out = [o for o in DIFFERENTIABLE if c.unsupported(jaxnn.activations.get(o)) is None]
        assert valid_out, f"no registered activation can feed cost {cost}"
        for hidden in DIFFERENTIABLE:
            out = hidden if hidden in valid_out else sorted(valid_out)[0]
            combos.add((hidden, out, cost))
        for out in valid_out:
            combos.add(("sigmoid", out, cost))
    return sorted(combos)


COMBINATIONS = _combinations()


def _one_hot(labels, n):
    """One-hot rows, in NumPy: every random problem has its own shapes, and each new shape
    would compile JAX's eager operations again."""
    return jnp.asarray(np.eye(n)[np.asarray(labels)])


def _random_problem(seed, out_act, positive_bias=False):
    """A random architecture (1-4 hidden layers, random widths) and a random batch, float64.

    The weights are drawn as network2's default initializer draws them, N(0, 1/n_in) and biases
    N(0, 1), by NumPy: jaxnn.init_params would compile its random draws for every new layer
    shape (its own draws are tested in tests/test_determinism.py). ``positive_bias`` keeps ReLU units
    alive, so that their gradients are not all zero.
    """
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(2, 7)) for _ in range(int(rng.integers(3, 7)))]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        b = rng.normal(size=n_out)
        params.append({"w": jnp.asarray(w), "b": jnp.asarray(np.abs(b) + 0.5 if positive_bias else b)})
    m = int(rng.integers(1, 6))
    x = jnp.asarray(rng.normal(size=(m, sizes[0])))
    if out_act == "softmax" or rng.random() < 0.5:
        y = _one_hot(rng.integers(0, sizes[-1], m), sizes[-1])
    else:
        y = jnp.asarray(rng.uniform(0.05, 0.95, size=(m, sizes[-1])))
    return params, x, y


@pytest.mark.parametrize("hidden,out,cost", COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS])
@pytest.mark.parametrize("seed", [0, 1])
def test_hand_written_backprop_equals_jax_grad(hidden, out, cost, seed, small_jit):
    params, x, y = _random_problem(seed + 10 * COMBINATIONS.index((hidden, out, cost)), out, "relu" in (hidden, out))
    net = _net(params, hidden, out, cost)
    if cost == "log-likelihood" and out != "softmax":
        y = _one_hot(np.argmax(y, 1), y.shape[1])
    # one compiled program per case: eager dispatch would compile every op for every new shape
    reference, matrix, per_example = small_jit(lambda p, x, y: [f(net, p, x, y) for f in PATHS])(params, x, y)
    chex.assert_tree_all_finite(reference)
    chex.assert_trees_all_close(matrix, reference, rtol=1e-9, atol=1e-12)
    chex.assert_trees_all_close(per_example, reference, rtol=1e-9, atol=1e-12)
    # and the gradient is not trivially zero
    assert max(float(np.max(np.abs(g))) for g in jax.tree_util.tree_leaves(reference)) > 1e-8


@pytest.mark.parametrize("hidden,out,cost", COMBINATIONS[::3], ids=["-".join(c) for c in COMBINATIONS[::3]])
def test_loss_passes_finite_difference_check(hidden, out, cost):
    params, x, y = _random_problem(7, out, "relu" in (hidden, out))
    net = _net(params, hidden, out, cost)
    if cost == "log-likelihood":
        y = _one_hot(np.argmax(y, 1), y.shape[1])
    check_grads(
        jax.jit(lambda p: net_loss(net, p, x, y)), (params,), order=1, modes=["rev"], eps=1e-6, atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_activation_derivative_matches_jax(name):
    act = jaxnn.activations.get(name)
    z = jnp.asarray(np.random.default_rng(3).normal(size=(4, 5)))
    g = jnp.asarray(np.random.default_rng(4).normal(size=(4, 5)))
    _, vjp = jax.vjp(act.fn, z)
    chex.assert_trees_all_close(act.vjp(z, act.fn(z), g), vjp(g)[0], rtol=1e-10, atol=1e-12)
    if act.prime is not None:
        elementwise = jax.vmap(jax.vmap(jax.grad(lambda s: act.fn(s[None])[0])))(z)
        chex.assert_trees_all_close(act.prime(z), elementwise, rtol=1e-10, atol=1e-12)


def test_softmax_temperature_is_a_family_that_saves_and_loads(tmp_path):
    act = jaxnn.activations.get("softmax(c=2)")
    z = jnp.asarray([[0.0, 1.0, 2.0]])
    chex.assert_trees_all_close(act.fn(z), jax.nn.softmax(2 * z), rtol=1e-12)
    # c -> infinity gives the argmax; c = 1 is the plain softmax
    chex.assert_trees_all_close(
        jaxnn.activations.get("softmax(c=200)").fn(z), jnp.asarray([[0.0, 0.0, 1.0]]), atol=1e-12
    )
    chex.assert_trees_all_close(jaxnn.activations.get("softmax(c=1)").fn(z), jaxnn.activations.get("softmax").fn(z))
    params = jaxnn.init_params(jax.random.key(0), [4, 3], "default", dtype=jnp.float64)
    path = jaxnn.save_model(tmp_path / "t.npz", params, output_activation="softmax(c=0.5)", cost="log-likelihood")
    loaded_params, meta = jaxnn.load_model(path)
    model = jaxnn.make_model(output_activation=meta["output_activation"], cost=meta["cost"])
    assert model.output_activation.name == "softmax(c=0.5)"
    x = jnp.ones((2, 4))
    chex.assert_trees_all_close(
        jaxnn.forward(loaded_params, x, output_activation=model.output_activation),
        jax.nn.softmax(0.5 * (x @ params[0]["w"].T + params[0]["b"])),
        rtol=1e-6,
    )
    for bad, words in [
        ("softmax(c=0)", "c > 0"),
        ("softmax(t=1)", "takes the parameters c"),
        ("softmax(c=x)", "name=number"),
    ]:
        with pytest.raises(jaxnn.JaxnnError, match=words):
            jaxnn.activations.get(bad)


def test_public_gradient_functions_share_one_signature():
    params, x, y = _random_problem(5, "sigmoid")
    labels = jnp.argmax(y, axis=1)
    kw = dict(cost="cross-entropy", activation="tanh", output_activation="sigmoid")
    ref = jaxnn.autodiff_grad(params, x, labels, **kw)
    chex.assert_trees_all_close(jaxnn.backprop(params, x, labels, **kw), ref, rtol=1e-10)
    chex.assert_trees_all_close(jaxnn.backprop_per_example(params, x, labels, **kw), ref, rtol=1e-10)
    chex.assert_trees_all_equal_structs(ref, params)
    # each runs as one compiled program per network and shape, which the next call reuses
    net = _net(params, "tanh", "sigmoid", "cross-entropy")
    halved = jax.tree_util.tree_map(lambda a: a * 0.5, params)
    for public, path in [(jaxnn.autodiff_grad, net_autodiff_grad), (jaxnn.backprop, net_backprop)]:
        other = public(halved, x, labels, **kw)
        assert not np.allclose(other[0]["w"], ref[0]["w"])
        assert jaxnn.net.compiled(path, net)._cache_size() == 1


def test_softmax_jacobian_is_diag_a_minus_a_a_transpose():
    z = jnp.array([0.3, -1.2, 2.0, 0.1])
    a = jaxnn.activations.get("softmax").fn(z)
    chex.assert_trees_all_close(
        jax.jacobian(jaxnn.activations.get("softmax").fn)(z), jnp.diag(a) - jnp.outer(a, a), rtol=1e-12
    )


def test_step_activation_refuses_to_differentiate():
    params = jaxnn.init_params(jax.random.key(0), [3, 2], dtype=jnp.float64)
    x = jnp.ones((2, 3))
    for grad in (jaxnn.autodiff_grad, jaxnn.backprop, jaxnn.backprop_per_example):
        with pytest.raises(jaxnn.NotDifferentiableError, match="no useful derivative"):
            grad(params, x, jnp.array([0, 1]), activation="step")
    # but the forward pass works: it is the book's perceptron
    assert set(np.unique(np.asarray(jaxnn.forward(params, x, activation="step")))) <= {0.0, 1.0}


def test_cross_entropy_is_finite_at_saturated_outputs():
    ce = jaxnn.costs.get("cross-entropy")
    a = jnp.array([[0.0, 1.0, 1.0, 0.0]])
    y = jnp.array([[0.0, 1.0, 0.0, 1.0]])
    c = ce.fn(a, y)
    assert np.isfinite(np.asarray(c)).all() and float(c[0]) > 30  # large, not inf/NaN
    assert float(ce.fn(jnp.array([[0.0, 1.0]]), jnp.array([[0.0, 1.0]]))[0]) < 1e-6
    # from logits, the cost and its gradient stay finite and correct far into saturation
    sig = jaxnn.activations.get("sigmoid")
    z = jnp.array([[800.0, -800.0]])
    y = jnp.array([[0.0, 1.0]])
    chex.assert_trees_all_close(ce.value_z(z, y, sig), jnp.array([1600.0]))
    g = jax.grad(lambda z: ce.value_z(z, y, sig).sum())(z)
    chex.assert_trees_all_close(g, jnp.array([[1.0, -1.0]]))
    chex.assert_trees_all_close(ce.delta(z, sig.fn(z), y, sig), g)


def test_plugin_activation_is_discovered_and_checked():
    if "softplus" not in jaxnn.activations:
        pytest.fail("the example plugin is not installed: pip install ./examples/plugin-softplus")
    assert jaxnn.activations.plugins()["softplus"] == "jaxnn_softplus:softplus"
    assert any(h == "softplus" for h, _, _ in COMBINATIONS)


def test_every_differentiable_activation_and_cost_is_covered():
    hidden = {h for h, _, _ in COMBINATIONS}
    outputs = {o for _, o, _ in COMBINATIONS}
    assert hidden == set(DIFFERENTIABLE)
    assert {c for _, _, c in COMBINATIONS} == set(COSTS)
    assert {"sigmoid", "softmax"} <= outputs


REGULARIZERS = [n for n in jaxnn.regularizers.names() if n != "none"]


@pytest.mark.parametrize("regularizer", REGULARIZERS)
@pytest.mark.parametrize("cost", COSTS)
def test_regularized_gradient_equals_jax_grad(regularizer, cost, small_jit):
    out = "softmax" if cost == "log-likelihood" else "sigmoid"
    params, x, y = _random_problem(11, out)
    net = _net(params, "tanh", out, cost, regularizer)
    if cost == "log-likelihood":
        y = _one_hot(np.argmax(y, 1), y.shape[1])
    reg_scale = 0.37  # λ/n
    reference, matrix, per_example = small_jit(lambda p, x, y: [f(net, p, x, y, reg_scale) for f in PATHS])(
        params, x, y
    )
    chex.assert_trees_all_close(matrix, reference, rtol=1e-9, atol=1e-12)
    chex.assert_trees_all_close(per_example, reference, rtol=1e-9, atol=1e-12)
    unregularized = net_autodiff_grad(net._replace(regularizer=jaxnn.regularizers.get("none")), params, x, y)
    diff = reference[0]["w"] - unregularized[0]["w"]
    chex.assert_trees_all_close(diff, reg_scale * jaxnn.regularizers.get(regularizer).grad(params[0]["w"]), rtol=1e-9)
    chex.assert_trees_all_close(reference[0]["b"], unregularized[0]["b"])  # biases are not penalised


@pytest.mark.parametrize("mode", ["book", "inverted"])
@pytest.mark.parametrize("hidden", ["sigmoid", "relu", "tanh"])
def test_backprop_through_dropout_masks_equals_jax_grad(mode, hidden, small_jit):
    params, x, y = _random_problem(13, "softmax", hidden == "relu")
    net = jaxnn.mlp(
        jaxnn.sizes_of(params), jaxnn.make_model(hidden, "softmax", "log-likelihood", dropout=mode), p_dropout=0.4
    )
    masks = jaxnn.masks(net, jax.random.key(4), x.shape[0], x.dtype)
    assert masks[0] is None  # network2's dropout leaves the input pixels alone
    assert any(float(jnp.min(mk)) == 0 for mk in masks[1:])  # some units really are dropped
    reference, matrix, per_example = small_jit(lambda p, x, y, mk: [f(net, p, x, y, 0.0, mk) for f in PATHS])(
        params, x, y, masks
    )
    chex.assert_trees_all_close(matrix, reference, rtol=1e-9, atol=1e-12)
    chex.assert_trees_all_close(per_example, reference, rtol=1e-9, atol=1e-12)


def test_l1_uses_sgn_zero_equals_zero():
    w = jnp.array([[0.0, 2.0], [-3.0, 0.0]])
    l1 = jaxnn.regularizers.get("l1")
    chex.assert_trees_all_equal(l1.grad(w), jnp.array([[0.0, 1.0], [-1.0, 0.0]]))
    chex.assert_trees_all_equal(jax.grad(l1.penalty)(w), l1.grad(w))
