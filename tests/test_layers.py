"""network3's layers and deep networks: every hand-written backward pass equals JAX's autodiff.

The per-layer cases are generated from the layer registry, so a new layer type, built in or
from a plugin, is checked here without anyone writing a new test.
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxnn
from jaxnn.backprop import net_backprop
from jaxnn.errors import JaxnnError
from jaxnn.layers import (
    ConvPool,
    FullyConnected,
    Layer,
    LayerType,
    Softmax,
    layers,
    make_layer,
    max_pool,
    max_pool_backward,
)
from jaxnn.net import conv_net, init_network, masks, net_autodiff_grad, net_loss

ELEMENTWISE = ["sigmoid", "tanh", "relu", "linear"]


def _layer_cases():
    """(type, activation, p_dropout, train) for every registered layer type: each elementwise
    activation when the type takes one, and dropout (in training and at test time) when it
    takes p_dropout."""
    cases = []
    for name, kind in layers.items():
        acts = ELEMENTWISE if "activation" in kind.example else [None]
        cases += [(name, act, 0.0, False) for act in acts]
        if "p_dropout" in kind.example:
            cases += [(name, acts[0], 0.5, True), (name, acts[-1], 0.5, False)]
    return cases


LAYER_CASES = _layer_cases()


def _random_like(shapes, seed):
    """Random float64 values of the given shapes, from NumPy: no compiling, and no zeros (softmax
    starts at zero, which would hide mistakes)."""
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(lambda s: jnp.asarray(rng.normal(size=s.shape)), shapes)


def _random_params(net, seed):
    return _random_like(jax.eval_shape(lambda: init_network(0, net, jnp.float64)), seed)


def _build(name, act, p):
    kind = layers.get(name)
    settings = dict(kind.example)
    if act is not None:
        settings["activation"] = act
    if "p_dropout" in settings:
        settings["p_dropout"] = p
    return kind, make_layer((name, settings))


@pytest.mark.parametrize(
    "name,act,p,train", LAYER_CASES, ids=[f"{n}-{a}-p{p}-{'train' if t else 'test'}" for n, a, p, t in LAYER_CASES]
)
def test_every_layer_backward_equals_vjp_of_its_forward(name, act, p, train, small_jit):
    kind, layer = _build(name, act, p)
    seed = LAYER_CASES.index((name, act, p, train))
    out_shape = layer.out_shape(kind.example_in_shape)
    params = _random_like(
        jax.eval_shape(lambda: layer.init(jax.random.key(0), kind.example_in_shape, jnp.float64)[0]), seed
    )
    x = jnp.asarray(np.random.default_rng(seed + 100).normal(size=(3,) + kind.example_in_shape))
    mult = layer.dropout(jax.random.key(seed), x.shape, x.dtype, train)

    @small_jit
    def both(params, x, mult, g):
        y, cache = layer.forward(params, x, mult)
        hand = layer.backward(params, cache, g)
        _, vjp = jax.vjp(lambda p, x: layer.forward(p, x, mult)[0], params, x)
        return y, hand, vjp(g)

    y_shape = jax.eval_shape(lambda: layer.forward(params, x, mult)[0]).shape
    assert y_shape == (3,) + out_shape
    g = jnp.asarray(np.random.default_rng(seed + 200).normal(size=y_shape))
    y, hand, reference = both(params, x, mult, g)
    chex.assert_tree_all_finite(reference)
    chex.assert_trees_all_close(hand, reference, rtol=1e-10, atol=1e-12)
    assert hand[1].shape == x.shape
    assert max(float(jnp.max(jnp.abs(t))) for t in jax.tree_util.tree_leaves(reference)) > 1e-6


@pytest.mark.parametrize("name", [n for n, k in layers.items() if k.make(**k.example).backward_z is not None])
def test_output_layer_backward_from_z_equals_vjp_of_its_logits(name, small_jit):
    """An output layer starts backprop from δ = ∂C/∂z (the cost's BP1): its hand-written
    ``backward_z`` must equal ``jax.vjp`` of its ``logits``, and ``forward`` must be the
    activation of ``logits``."""
    kind, layer = _build(name, None, 0.0)
    params = _random_like(
        jax.eval_shape(lambda: layer.init(jax.random.key(0), kind.example_in_shape, jnp.float64)[0]), 1
    )
    x = jnp.asarray(np.random.default_rng(2).normal(size=(4,) + kind.example_in_shape))
    delta = jnp.asarray(np.random.default_rng(3).normal(size=(4,) + layer.out_shape(kind.example_in_shape)))

    @small_jit
    def both(params, x):
        z, cache = layer.logits(params, x, None)
        _, vjp = jax.vjp(lambda p, x: layer.logits(p, x, None)[0], params, x)
        return z, layer.backward_z(params, cache, delta), vjp(delta)

    z, hand, reference = both(params, x)
    chex.assert_trees_all_close(hand, reference, rtol=1e-10, atol=1e-12)
    chex.assert_trees_all_close(layer.activation.fn(z), layer.forward(params, x, None)[0], rtol=1e-12)


NETS = {
    "conv-fc-softmax": lambda act: (
        [ConvPool(2, 3, 2, act), FullyConnected(5, act, p_dropout=0.3), Softmax(3, p_dropout=0.2)],
        (1, 9, 8),
    ),
    "conv-conv-softmax": lambda act: ([ConvPool(3, 3, 2, act), ConvPool(2, 2, 2, act), Softmax(4)], (2, 10, 10)),
}


def _problem(arch, act, seed, m=4):
    specs, in_shape = NETS[arch](act)
    net = conv_net(specs, in_shape)
    params = _random_params(net, seed)
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(size=(m, int(np.prod(in_shape)))))  # flat rows, as network3 takes them
    y = jax.nn.one_hot(rng.integers(0, net.shapes[-1][0], m), net.n_out, dtype=jnp.float64)
    return net, params, x, y


NET_CASES = [(arch, act, True) for arch in NETS for act in ("sigmoid", "relu", "tanh")] + [
    ("conv-fc-softmax", "tanh", False)
]


@pytest.mark.parametrize(
    "arch,act,train", NET_CASES, ids=[f"{a}-{b}-{'train' if t else 'test'}" for a, b, t in NET_CASES]
)
def test_network_backprop_equals_jax_grad_with_l2_and_dropout(arch, act, train, small_jit):
    net, params, x, y = _problem(arch, act, seed=ELEMENTWISE.index(act) + 7 * list(NETS).index(arch))
    mults = masks(net, jax.random.key(3), x.shape[0], x.dtype, train=train)
    hand, reference = small_jit(
        lambda p, x, y, mults: [f(net, p, x, y, 0.37, mults) for f in (net_backprop, net_autodiff_grad)]
    )(params, x, y, mults)
    chex.assert_tree_all_finite(reference)
    chex.assert_trees_all_close(hand, reference, rtol=1e-9, atol=1e-12)
    for g in reference:  # every layer receives a gradient
        assert float(jnp.max(jnp.abs(g["w"]))) > 1e-8


def test_l2_term_is_network3s_half_lambda_sum_of_squares(small_jit):
    net, params, x, y = _problem("conv-fc-softmax", "sigmoid", 0)
    sq = sum(float(jnp.sum(p["w"] ** 2)) for p in params)
    l_reg, l0, gb, g0 = small_jit(
        lambda p: [f(net, p, x, y, r) for f in (net_loss, net_backprop) for r in (0.25, 0.0)]
    )(params)
    np.testing.assert_allclose(float(l_reg) - float(l0), 0.5 * 0.25 * sq, rtol=1e-12)
    for a, b, p in zip(gb, g0, params):  # biases are not penalised
        np.testing.assert_allclose(a["w"] - b["w"], 0.25 * p["w"], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(a["b"], b["b"], rtol=1e-14)


def test_hand_written_gradient_matches_finite_differences():
    """The hand-written backprop, wrapped as the loss's VJP, against central differences."""
    net, params, x, y = _problem("conv-fc-softmax", "tanh", 3, m=2)

    @jax.custom_vjp
    def loss(p):
        return net_loss(net, p, x, y, 0.1)

    def fwd(p):
        return loss(p), p

    def bwd(p, ct):
        return (jax.tree_util.tree_map(lambda g: ct * g, net_backprop(net, p, x, y, 0.1)),)

    loss.defvjp(fwd, bwd)
    check_grads(jax.jit(loss), (params,), order=1, modes=["rev"], eps=1e-6, atol=1e-6, rtol=1e-6)


def test_max_pool_routes_delta_to_the_argmax():
    z = jnp.array(
        [
            [1.0, 5.0, 2.0, 0.0, 9.0],
            [3.0, 4.0, 8.0, 7.0, 9.0],
            [0.5, 0.1, 6.0, 6.5, 9.0],
            [0.2, 0.3, 1.0, 2.0, 9.0],
            [9.0, 9.0, 9.0, 9.0, 9.0],
        ]
    )[None, None]  # the last row and column are dropped
    pooled, arg = max_pool(z, 2)
    np.testing.assert_array_equal(pooled[0, 0], [[5.0, 8.0], [0.5, 6.5]])
    np.testing.assert_array_equal(arg[0, 0], [[1, 2], [0, 1]])
    g = jnp.array([[10.0, 20.0], [30.0, 40.0]])[None, None]
    routed = max_pool_backward(g, arg, 2, z.shape)
    expected = np.zeros((5, 5))
    expected[0, 1], expected[1, 2], expected[2, 0], expected[2, 3] = 10, 20, 30, 40
    np.testing.assert_array_equal(routed[0, 0], expected)
    # a tie goes to the first maximum in row-major order
    _, arg = max_pool(jnp.ones((1, 1, 2, 2)), 2)
    assert int(arg[0, 0, 0, 0]) == 0


def test_max_pool_differentiates_as_its_hand_written_backward_even_on_ties():
    """jax.grad and jax.jvp through max_pool route each window's gradient to the position of its
    first maximum, as max_pool_backward does (JAX's own rule for max would split it among ties)."""
    z = jnp.array([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0], [4.0, 4.0, 0.0, 0.0], [4.0, 4.0, 0.0, 0.0]])[None, None]
    g = jnp.array([[10.0, 20.0], [30.0, 40.0]])[None, None]
    grad = jax.grad(lambda z: jnp.sum(max_pool(z, 2)[0] * g))(z)
    _, arg = max_pool(z, 2)
    np.testing.assert_array_equal(grad, max_pool_backward(g, arg, 2, z.shape))
    expected = np.zeros((4, 4))
    expected[0, 1], expected[0, 2], expected[2, 0], expected[2, 2] = 10, 20, 30, 40
    np.testing.assert_array_equal(grad[0, 0], expected)
    t = jnp.arange(16.0).reshape(z.shape)
    pooled, tangent = jax.jvp(lambda z: max_pool(z, 2)[0], (z,), (t,))
    np.testing.assert_array_equal(pooled[0, 0], [[3.0, 3.0], [4.0, 0.0]])
    np.testing.assert_array_equal(tangent[0, 0], [[1.0, 2.0], [8.0, 10.0]])


def _naive_conv_pool(x, w, b, p, fn):
    """ConvPool by explicit loops in NumPy: valid correlation, max-pool, bias, activation."""
    m, c, h, wd = x.shape
    f, _, k, _ = w.shape
    conv = np.zeros((m, f, h - k + 1, wd - k + 1))
    for n in range(m):
        for o in range(f):
            for i in range(h - k + 1):
                for j in range(wd - k + 1):
                    conv[n, o, i, j] = np.sum(x[n, :, i : i + k, j : j + k] * w[o])
    hp, wp = conv.shape[2] // p, conv.shape[3] // p
    pooled = np.zeros((m, f, hp, wp))
    for i in range(hp):
        for j in range(wp):
            pooled[:, :, i, j] = conv[:, :, p * i : p * i + p, p * j : p * j + p].max(axis=(2, 3))
    return fn(pooled + b[None, :, None, None])


@pytest.mark.parametrize("act,fn", [("sigmoid", lambda u: 1 / (1 + np.exp(-u))), ("relu", lambda u: np.maximum(u, 0))])
def test_conv_pool_forward_equals_naive_loops(act, fn):
    layer = ConvPool(3, 3, 2, act)
    params, shape = layer.init(jax.random.key(0), (2, 9, 8), jnp.float64)
    x = np.random.default_rng(0).normal(size=(2, 2, 9, 8))
    y, _ = layer.forward(params, jnp.asarray(x), None)
    assert shape == (3, 3, 3) and y.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(
        y, _naive_conv_pool(x, np.asarray(params["w"]), np.asarray(params["b"]), 2, fn), rtol=1e-12
    )


@pytest.mark.parametrize("act", ["sigmoid", "relu"])
def test_conv_pool_layer_equals_the_public_conv_and_pool_functions_on_ties_and_a_dropped_border(act, small_jit):
    """The layer works in its own layout (filters first, each pooling window's positions in column
    blocks); its forward pass, its backward pass and jax.vjp of its forward pass must all equal
    conv_valid, max_pool and their hand-written backward functions composed, in float64, on an
    input with blank regions (windows whose maxima tie, as MNIST's background gives) and a row and
    a column that pooling drops."""
    from jaxnn.layers import conv_filter_grad, conv_input_grad, conv_valid

    layer = ConvPool(3, 3, 2, act)
    params, _ = layer.init(jax.random.key(0), (2, 10, 9), jnp.float64)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 2, 10, 9))
    x[:, :, :5, :5] = 0.0  # blank: every window there ties at z = 0
    x, g = jnp.asarray(x), jnp.asarray(rng.normal(size=(2, 3, 4, 3)))
    w, b = params["w"], params["b"]
    fn = jaxnn.activations.get(act)

    @small_jit  # one program for the whole comparison
    def both(params, x, g):
        z = conv_valid(x, w)  # (2, 3, 8, 7): pooling drops its last column
        pooled, arg = max_pool(z, 2)
        u = pooled + b[None, :, None, None]
        delta_z = max_pool_backward(fn.vjp(u, fn.fn(u), g), arg, 2, z.shape)
        expected = {"w": conv_filter_grad(x, delta_z), "b": jnp.sum(fn.vjp(u, fn.fn(u), g), axis=(0, 2, 3))}
        composed = (z, pooled, fn.fn(u), expected, conv_input_grad(delta_z, w))
        y, cache = layer.forward(params, x, None)
        _, vjp = jax.vjp(lambda p, x: layer.forward(p, x, None)[0], params, x)
        return composed, (y, layer.backward(params, cache, g), vjp(g))

    (z, pooled, y_expected, expected, g_x_expected), (y, (grads, g_x), by_vjp) = both(params, x, g)
    windows = np.asarray(z)[:, :, :8, :6].reshape(2, 3, 4, 2, 3, 2)
    assert np.sum(windows == np.asarray(pooled)[:, :, :, None, :, None]) > pooled.size  # ties
    np.testing.assert_allclose(y, y_expected, rtol=1e-12)
    chex.assert_trees_all_close(grads, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_x, g_x_expected, rtol=1e-10, atol=1e-12)
    chex.assert_trees_all_close(by_vjp, (grads, g_x), rtol=1e-10, atol=1e-12)


def test_network3_initialisation(small_jit):
    net = conv_net([ConvPool(20, 5, 2), FullyConnected(100), Softmax(10)], (1, 28, 28))
    assert net.shapes == ((1, 28, 28), (20, 12, 12), (100,), (10,))
    conv, fc, sm = small_jit(lambda k: init_network(k, net, jnp.float64))(jax.random.key(0))
    assert conv["w"].shape == (20, 1, 5, 5) and fc["w"].shape == (100, 2880) and sm["w"].shape == (10, 100)
    np.testing.assert_allclose(np.std(conv["w"]), 1 / np.sqrt(20 * 25 / 4), rtol=0.15)  # n_out = f·k²/p²
    np.testing.assert_allclose(np.std(fc["w"]), 1 / np.sqrt(100), rtol=0.02)  # 1/√n_out, not 1/√n_in
    np.testing.assert_allclose(np.std(fc["b"]), 1.0, rtol=0.2)
    assert not np.any(sm["w"]) and not np.any(sm["b"])


def test_dropout_masks_the_input_with_explicit_keys(small_jit):
    layer = FullyConnected(4, "sigmoid", p_dropout=0.25)
    shape = (2000, 6)
    a = layer.dropout(jax.random.key(0), shape, jnp.float64, True)
    np.testing.assert_array_equal(a, layer.dropout(jax.random.key(0), shape, jnp.float64, True))
    assert np.any(a != layer.dropout(jax.random.key(1), shape, jnp.float64, True))
    assert set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_allclose(np.mean(a), 0.75, atol=0.02)
    assert float(layer.dropout(None, shape, jnp.float64, False)) == 0.75  # test time: scale by 1 − p
    with pytest.raises(JaxnnError, match="key"):
        layer.dropout(None, shape, jnp.float64, True)
    # a dropped input contributes nothing: zero gradient for its weight column
    params, _ = layer.init(jax.random.key(1), (6,), jnp.float64)
    x = np.random.default_rng(2).normal(size=(1, 6))
    mask = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 1.0]])

    @small_jit
    def run(params, x, mask):
        y, cache = layer.forward(params, x, mask)
        return y, layer.backward(params, cache, jnp.ones_like(y))

    y, (grads, g_x) = run(params, x, mask)
    w, b = np.asarray(params["w"]), np.asarray(params["b"])
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-((x * mask) @ w.T + b))), rtol=1e-12)
    assert not np.any(grads["w"][:, [1, 4]]) and not np.any(g_x[:, [1, 4]])
    # network3 has no dropout in convolutional layers; the test-time forward scales by 1 − p
    net = conv_net([ConvPool(2, 3), FullyConnected(3, p_dropout=0.5), Softmax(2, p_dropout=0.25)], (1, 8, 8))
    train = masks(net, jax.random.key(0), 5)
    assert train[0] is None and train[1].shape == (5, 2, 3, 3) and train[2].shape == (5, 3)
    assert [None if t is None else float(t) for t in masks(net, None, 5, train=False)] == [None, 0.5, 0.75]


def test_specs_registry_and_errors():
    assert {"conv_pool", "fully_connected", "softmax"} <= set(layers.names())
    layer = make_layer(("conv_pool", {"filters": 20, "filter_size": 5, "pool_size": 2, "activation": "relu"}))
    assert layer is ConvPool(20, 5, activation="relu")  # same spec, same record: no recompiling
    assert make_layer(layer.spec) is layer and repr(layer).startswith("conv_pool(filters=20")
    with pytest.raises(JaxnnError, match="unknown layer"):
        make_layer(("pool", {}))
    with pytest.raises(JaxnnError, match="bad settings.*filter_size"):
        make_layer(("conv_pool", {"filters": 2, "size": 5}))
    with pytest.raises(JaxnnError, match="elementwise"):
        ConvPool(2, 3, activation="softmax")
    with pytest.raises(JaxnnError, match="does not fit"):
        conv_net([ConvPool(2, 5, 2), Softmax(2)], (1, 4, 4))
    with pytest.raises(JaxnnError, match="channels, height, width"):
        conv_net([FullyConnected(10), ConvPool(2, 3), Softmax(2)], (1, 8, 8))
    with pytest.raises(JaxnnError, match="p_dropout"):
        Softmax(10, p_dropout=1.0)
    net = conv_net([ConvPool(2, 3), Softmax(2)], (1, 8, 8))
    with pytest.raises(JaxnnError, match=r"\(m, 64\) or \(m, 1, 8, 8\)"):
        jaxnn.predict(init_network(0, net), jnp.zeros((3, 28, 28)), net=net)


def test_a_registered_layer_type_is_usable_by_name():
    """A third-party type registers a factory; it is then built from specs (and tested above)."""
    kind = LayerType("test_identity_fc", lambda n_out=2: FullyConnected(n_out, "linear"), {"n_out": 2}, (3,))
    layers.register(kind, replace=True)
    try:
        net = conv_net([("test_identity_fc", {"n_out": 4}), ("softmax", {"n_out": 2})], (3,))
        assert isinstance(net.layers[0], Layer) and net.shapes == ((3,), (4,), (2,))
    finally:
        layers._items.pop("test_identity_fc")


def test_incomplete_last_mini_batch_is_dropped_and_data_visited_in_order(small_jit):
    """n = 25, m = 10: two steps on examples 0..19, checked against SGD written out by hand."""
    net = conv_net([ConvPool(2, 3, 2, "tanh"), Softmax(3)], (1, 6, 6))
    params = _random_params(net, 5)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(25, 36)), rng.integers(0, 3, 25)
    eta, lmbda = 0.3, 0.8
    trained, history = jaxnn.sgd(params, (x, y), 1, 10, eta, key=0, lmbda=lmbda, net=net, **jaxnn.NETWORK3)
    assert history.steps_per_epoch == 2
    step = small_jit(
        lambda p, xb, yb: jax.tree_util.tree_map(
            lambda p, g: p - eta * g, p, net_backprop(net, p, xb, jax.nn.one_hot(yb, 3, dtype=xb.dtype), lmbda / 2)
        )
    )  # λ / (25 // 10)
    expected = params
    for i in range(2):
        expected = step(expected, x[10 * i : 10 * i + 10], y[10 * i : 10 * i + 10])
    chex.assert_trees_all_close(trained, expected, rtol=1e-12, atol=1e-14)
    # the same epoch with jax.grad
    auto, _ = jaxnn.sgd(params, (x, y), 1, 10, eta, key=0, lmbda=lmbda, gradient="autodiff", net=net, **jaxnn.NETWORK3)
    chex.assert_trees_all_close(auto, expected, rtol=1e-10, atol=1e-12)


def test_best_validation_epoch_reports_its_test_accuracy():
    h = jaxnn.History(
        epoch=[0, 1, 2, 3],
        evaluation_correct=[50, 70, 70, 60],
        evaluation_size=100,
        test_correct=[40, 65, 66, None],
        test_size=100,
    )
    assert h.best_validation() == (2, 0.7, 0.66)  # ties go to the later epoch (network3 compares with >=)
    assert h.best() == (1, 0.7)  # network.py's report: the first best epoch


@pytest.fixture(scope="module")
def mnist_small():
    d = jaxnn.load_mnist()
    return (d.training.x[:2000].reshape(-1, 1, 28, 28), d.training.y[:2000]), (
        d.validation.x[:1000],
        d.validation.y[:1000],
    )


def test_short_training_run_learns_mnist(mnist_small):
    training, validation = mnist_small
    net = conv_net([ConvPool(4, 5, 2), Softmax(10)], (1, 28, 28))
    params = init_network(jax.random.key(0), net)
    before = jaxnn.evaluate(params, *validation, net=net)
    params, history = jaxnn.sgd(
        params, training, 2, 10, 0.5, key=1, net=net, evaluation_data=validation, test_data=validation, **jaxnn.NETWORK3
    )
    assert len(history.evaluation_accuracy) == 2 and history.steps_per_epoch == 200
    epoch, val, test = history.best_validation()
    assert val > 0.75 > before / 1000 and test == val
    assert jax.tree_util.tree_leaves(params)[0].dtype == jnp.float32
