"""jaxnn.book: the book's shell sessions of chapters 1 and 3, in short form, and the façade's
agreement with the original network.py / network2.py formulas and file format."""

import json
import logging
import re
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxnn
from jaxnn import modelfile
from jaxnn.book import _facade, mnist_loader, network, network2

SAMPLE = Path(__file__).parent / "data" / "network2_sample.json"


@pytest.fixture(scope="module")
def mnist():
    return mnist_loader.load_data_wrapper()


def _lines(capsys):
    return capsys.readouterr().out.split("\n")[:-1]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _feedforward(net, a):
    """network.py's feedforward, in NumPy."""
    for w, b in zip(net.weights, net.biases):
        a = _sigmoid(w @ a + b)
    return a


def _original_backprop(net, x, y, delta_fn):
    """network.py's / network2.py's backprop, as the original writes it, in NumPy float64."""
    weights = [np.asarray(w, np.float64) for w in net.weights]
    biases = [np.asarray(b, np.float64) for b in net.biases]
    activation, activations, zs = np.asarray(x, np.float64), [np.asarray(x, np.float64)], []
    for b, w in zip(biases, weights):
        zs.append(w @ activation + b)
        activation = _sigmoid(zs[-1])
        activations.append(activation)
    delta = delta_fn(zs[-1], activations[-1], y)
    nabla_b, nabla_w = [delta], [delta @ activations[-2].T]
    for l in range(2, net.num_layers):
        delta = (weights[-l + 1].T @ delta) * _sigmoid(zs[-l]) * (1 - _sigmoid(zs[-l]))
        nabla_b.insert(0, delta)
        nabla_w.insert(0, delta @ activations[-l - 1].T)
    return nabla_b, nabla_w


def _quadratic_delta(z, a, y):
    return (a - y) * _sigmoid(z) * (1 - _sigmoid(z))


# -- mnist_loader


def test_load_data_gives_the_originals_tuples():
    training, validation, test = mnist_loader.load_data()
    for (x, y), n in zip((training, validation, test), (50_000, 10_000, 10_000)):
        assert isinstance(x, np.ndarray) and x.shape == (n, 784) and y.shape == (n,)
        assert np.issubdtype(y.dtype, np.integer) and 0 <= x.min() and x.max() <= 1
    assert list(training[1][:5]) == [5, 0, 4, 1, 9] and list(test[1][:5]) == [7, 2, 1, 0, 4]


def test_load_data_wrapper_gives_lists_of_column_pairs(mnist):
    training_data, validation_data, test_data = mnist
    assert [type(d) for d in mnist] == [list, list, list]
    assert [len(d) for d in mnist] == [50_000, 10_000, 10_000]
    x, y = training_data[0]
    assert x.shape == (784, 1) and np.issubdtype(x.dtype, np.floating)
    assert y.shape == (10, 1) and y.sum() == 1 and np.argmax(y) == 5
    np.testing.assert_array_equal(y, mnist_loader.vectorized_result(5))
    x, label = test_data[0]
    assert x.shape == (784, 1) and int(label) == 7 and np.ndim(label) == 0
    assert isinstance(training_data[:1000], list) and len(training_data[:1000]) == 1000
    np.testing.assert_array_equal(validation_data[3][0][:, 0], jaxnn.load_mnist().validation.x[3])


# -- chapter 1: network.py


def test_network_has_the_originals_attributes_and_shapes():
    net = network.Network([784, 30, 10], seed=0)
    assert net.num_layers == 3 and net.sizes == [784, 30, 10]
    assert [w.shape for w in net.weights] == [(30, 784), (10, 30)]
    assert [b.shape for b in net.biases] == [(30, 1), (10, 1)]
    assert all(isinstance(w, np.ndarray) for w in net.weights + net.biases)
    w = np.concatenate([w.ravel() for w in net.weights])
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1), as network.py draws


@pytest.mark.parametrize(
    "sizes, eta",
    [([784, 30, 10], 3.0), ([784, 100, 10], 3.0), ([784, 100, 10], 0.001), ([784, 30, 10], 100.0), ([784, 10], 3.0)],
)
def test_chapter1_sessions_print_network_py_lines(mnist, capsys, sizes, eta):
    """``net = network.Network(sizes); net.SGD(training_data, 30, 10, eta, test_data=test_data)``,
    on 10,000 training images for 2 epochs."""
    training_data, _, test_data = mnist
    net = network.Network(sizes, seed=1)
    before = [w.copy() for w in net.weights]
    assert net.SGD(training_data[:10000], 2, 10, eta, test_data=test_data[:1000]) is None
    lines = _lines(capsys)
    assert [re.fullmatch(r"Epoch (\d+): (\d+) / 1000", s).group(1) for s in lines] == ["0", "1"]
    correct = int(lines[-1].split()[2])
    assert correct == net.evaluate(test_data[:1000])
    assert [w.shape for w in net.weights] == [w.shape for w in before]
    assert not np.array_equal(net.weights[-1], before[-1])
    if eta == 3.0:
        assert correct > 400, lines  # chance is 100


def test_chapter1_full_data_and_no_test_data(mnist, capsys):
    training_data, _, test_data = mnist
    net = network.Network([784, 30, 10], seed=2)
    net.SGD(training_data, 1, 10, 3.0, test_data=test_data)
    (line,) = _lines(capsys)
    assert re.fullmatch(r"Epoch 0: \d+ / 10000", line) and int(line.split()[2]) > 8000
    net.SGD(training_data[:10000], 2, 10, 3.0)
    assert _lines(capsys) == ["Epoch 0 complete", "Epoch 1 complete"]


def test_backprop_matches_the_core_and_the_original(mnist):
    training_data, _, _ = mnist
    net = network.Network([784, 30, 10], seed=3)
    x, y = training_data[7]
    nabla_b, nabla_w = net.backprop(x, y)
    assert [b.shape for b in nabla_b] == [(30, 1), (10, 1)] and [w.shape for w in nabla_w] == [(30, 784), (10, 30)]
    core = jaxnn.backprop(net._params(), x[:, 0][None], y[:, 0][None])  # the mean over one example
    for l, g in enumerate(core):
        np.testing.assert_allclose(nabla_w[l], g["w"], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(nabla_b[l][:, 0], g["b"], rtol=1e-10, atol=1e-14)
    ob, ow = _original_backprop(net, x, y, _quadratic_delta)
    for mine, theirs in zip(nabla_b + nabla_w, ob + ow):
        np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(net.cost_derivative(net.feedforward(x), y), net.feedforward(x) - y)


def test_feedforward_is_the_originals(mnist):
    _, _, test_data = mnist
    net = network.Network([784, 30, 10], seed=4)
    x = test_data[0][0]
    np.testing.assert_allclose(net.feedforward(x), _feedforward(net, x.astype(np.float64)), rtol=1e-10)
    batch = np.hstack([x, test_data[1][0]])  # (784, 2): columns, as NumPy broadcasting allows in the original
    assert net.feedforward(batch).shape == (10, 2)


def _original_update(net, mini_batch, eta, lmbda, n, delta_fn):
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    for x, y in mini_batch:
        db, dw = _original_backprop(net, x, y, delta_fn)
        nabla_b = [nb + d for nb, d in zip(nabla_b, db)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, dw)]
    weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw for w, nw in zip(net.weights, nabla_w)]
    biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(net.biases, nabla_b)]
    return weights, biases


def test_update_mini_batch_is_the_originals_formula(mnist):
    training_data, _, _ = mnist
    net = network.Network([784, 30, 10], seed=5)
    mini_batch = training_data[100:107]
    weights, biases = _original_update(net, mini_batch, 3.0, 0.0, 1, _quadratic_delta)
    net.update_mini_batch(mini_batch, 3.0)
    for mine, theirs in zip(net.weights + net.biases, weights + biases):
        np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("mini_batch_size", [40, 100])
def test_sgd_with_one_mini_batch_is_one_update(mnist, mini_batch_size):
    """SGD runs through the core's compiled epoch; with m ≥ n (one mini-batch of all n, as the
    original's slicing gives) it must equal update_mini_batch."""
    training_data, _, _ = mnist
    data = training_data[:40]
    a, b = network.Network([784, 30, 10], seed=6), network.Network([784, 30, 10], seed=6)
    a.SGD(data, 1, mini_batch_size, 3.0)
    b.update_mini_batch(data, 3.0)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(x, y, rtol=1e-10)


def test_seeds_and_numpys_global_generator():
    np.random.seed(7)
    a = network.Network([784, 30, 10])
    np.random.seed(7)
    b = network.Network([784, 30, 10])
    c = network.Network([784, 30, 10])
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(b.weights[0], c.weights[0])
    np.testing.assert_array_equal(
        network.Network([784, 30, 10], seed=1).biases[1],
        network.Network([784, 30, 10], key=jax.random.key(1)).biases[1],
    )
    with pytest.raises(jaxnn.JaxnnError, match="not both"):
        network.Network([784, 30, 10], seed=1, key=jax.random.key(1))


def test_list_to_array_conversion_is_cached_on_the_list(mnist):
    training_data, _, _ = mnist
    data = training_data[:500]
    first = _facade.as_arrays(data)
    assert _facade.as_arrays(data) is first
    assert first[0].shape == (500, 784) and first[1].shape == (500,)  # one-hot columns become labels
    np.testing.assert_array_equal(first[1], [np.argmax(y) for _, y in data])
    data.append(training_data[600])
    assert _facade.as_arrays(data)[0].shape == (501, 784)
    assert _facade.as_arrays(training_data[:500]) is not first  # a new list is converted anew
    x, y = _facade.as_arrays(zip([a for a, _ in data], [b for _, b in data]))  # Python 3's zip works too
    np.testing.assert_array_equal(x[:500], first[0])
    with pytest.raises(jaxnn.JaxnnError, match=r"list of \(x, y\) pairs"):
        _facade.as_arrays([(np.zeros((784, 1)), 1), (np.zeros((780, 1)), 2)])


# -- chapter 3: network2.py


def _session(capsys, sizes=(784, 30, 10), large=True, **kwargs):
    net = network2.Network(list(sizes), cost=network2.CrossEntropyCost, seed=kwargs.pop("seed", 0))
    if large:
        net.large_weight_initializer()
    lists = net.SGD(*kwargs.pop("args"), **kwargs)
    return net, lists, _lines(capsys)


def test_cross_entropy_session_prints_network2s_lines(mnist, capsys):
    """``net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data, monitor_evaluation_accuracy=True)``"""
    training_data, _, test_data = mnist
    net, lists, lines = _session(
        capsys,
        args=(training_data[:1000], 2, 10, 0.5),
        evaluation_data=test_data[:1000],
        monitor_evaluation_accuracy=True,
    )
    assert len(lines) == 6 and lines[0] == "Epoch 0 training complete" and lines[3] == "Epoch 1 training complete"
    assert lines[2] == lines[5] == ""  # network2's bare print after each epoch
    counts = [int(re.fullmatch(r"Accuracy on evaluation data: (\d+) / 1000", s).group(1)) for s in lines[1::3]]
    assert lists == ([], counts, [], []) and counts[-1] > 500  # chance is 100
    assert net.accuracy(test_data[:1000]) == counts[-1]


def test_overfitting_session_monitors_training_cost(mnist, capsys):
    """``net.SGD(training_data[:1000], 400, 10, 0.5, evaluation_data=test_data,
    monitor_evaluation_accuracy=True, monitor_training_cost=True)``, for 4 epochs."""
    training_data, _, test_data = mnist
    net, (ec, ea, tc, ta), lines = _session(
        capsys,
        args=(training_data[:1000], 4, 10, 0.5),
        evaluation_data=test_data[:1000],
        monitor_evaluation_accuracy=True,
        monitor_training_cost=True,
    )
    assert ec == [] and ta == [] and len(ea) == len(tc) == 4
    assert tc[-1] < tc[0]
    for j in range(4):
        assert lines[4 * j : 4 * j + 4] == [
            f"Epoch {j} training complete",
            f"Cost on training data: {tc[j]}",
            f"Accuracy on evaluation data: {ea[j]} / 1000",
            "",
        ]
    assert net.total_cost(training_data[:1000], 0.0) == pytest.approx(tc[-1], rel=1e-12)


def test_regularized_session_prints_all_four_monitors_in_network2s_order(mnist, capsys):
    """``net.SGD(training_data[:1000], 400, 10, 0.5, evaluation_data=test_data, lmbda=0.1,
    monitor_evaluation_cost=True, monitor_evaluation_accuracy=True, monitor_training_cost=True,
    monitor_training_accuracy=True)``, for 2 epochs."""
    training_data, _, test_data = mnist
    net, (ec, ea, tc, ta), lines = _session(
        capsys,
        args=(training_data[:1000], 2, 10, 0.5),
        evaluation_data=test_data[:1000],
        lmbda=0.1,
        monitor_evaluation_cost=True,
        monitor_evaluation_accuracy=True,
        monitor_training_cost=True,
        monitor_training_accuracy=True,
    )
    assert [len(v) for v in (ec, ea, tc, ta)] == [2, 2, 2, 2]
    assert lines[6:] == [
        "Epoch 1 training complete",
        f"Cost on training data: {tc[1]}",
        f"Accuracy on training data: {ta[1]} / 1000",
        f"Cost on evaluation data: {ec[1]}",
        f"Accuracy on evaluation data: {ea[1]} / 1000",
        "",
    ]
    assert all(isinstance(c, float) for c in ec + tc) and all(isinstance(c, int) for c in ea + ta)
    assert ta[1] > 500 and ea[1] > 500
    # network2's total_cost divides the λ term by the size of the data it is given
    assert net.total_cost(test_data[:1000], 0.1, convert=True) == pytest.approx(ec[1], rel=1e-12)
    assert net.total_cost(training_data[:1000], 0.1) == pytest.approx(tc[1], rel=1e-12)
    assert net.accuracy(training_data[:1000], convert=True) == ta[1]


def test_lmbda_5_and_initializer_sessions(mnist, capsys):
    """``net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data, lmbda=5.0,
    monitor_evaluation_accuracy=True, monitor_training_accuracy=True)``, and chapter 3's
    comparison of the default and the large initializers on the validation data, short."""
    training_data, validation_data, test_data = mnist
    _, (ec, ea, tc, ta), lines = _session(
        capsys,
        args=(training_data[:1000], 1, 10, 0.5),
        lmbda=5.0,
        evaluation_data=test_data[:1000],
        monitor_evaluation_accuracy=True,
        monitor_training_accuracy=True,
    )
    assert lines == [
        "Epoch 0 training complete",
        f"Accuracy on training data: {ta[0]} / 1000",
        f"Accuracy on evaluation data: {ea[0]} / 1000",
        "",
    ]
    for large in (True, False):
        _, (_, ea, _, _), lines = _session(
            capsys,
            large=large,
            args=(training_data[:1000], 1, 10, 0.1),
            lmbda=5.0,
            evaluation_data=validation_data[:1000],
            monitor_evaluation_accuracy=True,
        )
        assert lines == ["Epoch 0 training complete", f"Accuracy on evaluation data: {ea[0]} / 1000", ""]
        assert ea[0] > 200


@pytest.mark.parametrize("eta, lmbda", [(10.0, 1000.0), (10.0, 20.0), (100.0, 20.0), (1.0, 20.0)])
def test_hyper_parameter_sessions_without_hidden_layer(mnist, capsys, eta, lmbda):
    """``net = network2.Network([784, 10]); net.SGD(training_data[:1000], 30, 10, eta, lmbda=lmbda,
    evaluation_data=validation_data[:100], monitor_evaluation_accuracy=True)``, for 2 epochs."""
    training_data, validation_data, _ = mnist
    net = network2.Network([784, 10], seed=0)
    epochs = 5 if lmbda == 1000.0 else 2
    _, ea, _, _ = net.SGD(
        training_data[:1000],
        epochs,
        10,
        eta,
        lmbda=lmbda,
        evaluation_data=validation_data[:100],
        monitor_evaluation_accuracy=True,
    )
    out, err = capsys.readouterr()
    assert out.split("\n")[:-1] == [
        line
        for j in range(epochs)
        for line in (f"Epoch {j} training complete", f"Accuracy on evaluation data: {ea[j]} / 100", "")
    ]
    assert len(ea) == epochs and all(0 <= a <= 100 for a in ea)
    if lmbda == 1000.0:
        # 1 − ηλ/n = −9 on every step: the weights overflow to NaN within a few epochs. The
        # original goes on with NaN weights, whose argmax is always 0 ("pure noise"); so does the
        # façade, saying why on stderr.
        zeros = sum(int(y) == 0 for _, y in validation_data[:100])
        assert ea[-1] == zeros and "training diverged in epoch" in err
        assert all(np.isnan(w).all() for w in net.weights + net.biases)


def test_total_cost_and_accuracy_follow_the_original(mnist):
    training_data, _, test_data = mnist
    data = test_data[:200]
    for cost in (network2.CrossEntropyCost, network2.QuadraticCost):
        net = network2.Network([784, 20, 10], cost=cost, seed=8)
        lmbda = 3.0
        expected = sum(cost.fn(_feedforward(net, x), network2.vectorized_result(y)) / len(data) for x, y in data)
        expected += 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in net.weights)
        assert net.total_cost(data, lmbda, convert=True) == pytest.approx(expected, rel=1e-10)
        assert net.accuracy(data) == sum(int(np.argmax(_feedforward(net, x)) == y) for x, y in data)
    train = training_data[:50]
    assert net.accuracy(train, convert=True) == sum(
        int(np.argmax(_feedforward(net, x)) == np.argmax(y)) for x, y in train
    )


def test_network2_backprop_and_update_are_the_originals(mnist):
    training_data, _, _ = mnist
    for cost, sizes in ((network2.CrossEntropyCost, [784, 16, 12, 10]), (network2.QuadraticCost, [784, 30, 10])):
        net = network2.Network(sizes, cost=cost, seed=9)
        x, y = training_data[3]
        for mine, theirs in zip(sum(net.backprop(x, y), []), sum(_original_backprop(net, x, y, cost.delta), [])):
            np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-12)
        mini_batch = training_data[10:15]
        weights, biases = _original_update(net, mini_batch, 0.5, 5.0, 1000, cost.delta)
        net.update_mini_batch(mini_batch, 0.5, 5.0, 1000)
        for mine, theirs in zip(net.weights + net.biases, weights + biases):
            np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-10)


def test_cost_classes_keep_the_originals_numpy_formulas():
    a, y = np.array([[0.8], [0.1]]), np.array([[1.0], [0.0]])
    z = np.log(a / (1 - a))
    assert network2.QuadraticCost.fn(a, y) == pytest.approx(0.5 * (0.04 + 0.01))
    np.testing.assert_allclose(network2.QuadraticCost.delta(z, a, y), (a - y) * a * (1 - a))
    assert network2.CrossEntropyCost.fn(a, y) == pytest.approx(-np.log(0.8) - np.log(0.9))
    np.testing.assert_array_equal(network2.CrossEntropyCost.delta(z, a, y), a - y)
    assert network2.CrossEntropyCost.fn(np.array([[1.0]]), np.array([[1.0]])) == 0.0  # nan_to_num of 0·log 0


def test_a_cost_without_a_jaxnn_name_is_a_clear_error(mnist):
    class MyCost:
        fn, delta = network2.CrossEntropyCost.fn, network2.CrossEntropyCost.delta

    net = network2.Network([784, 10], cost=MyCost, seed=0)
    with pytest.raises(jaxnn.JaxnnError, match="no jaxnn cost name"):
        net.SGD(mnist[0][:20], 1, 10, 0.5)


def test_monitoring_the_evaluation_data_needs_it(mnist):
    net = network2.Network([784, 10], seed=0)
    with pytest.raises(jaxnn.JaxnnError, match="need evaluation_data"):
        net.SGD(mnist[0][:20], 1, 10, 0.5, monitor_evaluation_accuracy=True)


# -- network2's JSON files


def test_save_and_load_round_trip_in_network2s_format(mnist, tmp_path):
    _, _, test_data = mnist
    net = network2.Network([784, 20, 10], cost=network2.QuadraticCost, seed=10)
    path = tmp_path / "net.json"
    net.save(str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]  # written atomically, nothing left behind
    raw = json.loads(path.read_text())
    assert set(raw) == {"sizes", "weights", "biases", "cost"} and raw["cost"] == "QuadraticCost"
    assert np.array(raw["weights"][0]).shape == (20, 784) and np.array(raw["biases"][1]).shape == (10, 1)
    loaded = network2.load(str(path))
    assert loaded.cost is network2.QuadraticCost and loaded.sizes == [784, 20, 10]
    for a, b in zip(net.weights + net.biases, loaded.weights + loaded.biases):
        np.testing.assert_array_equal(a, b)
    assert loaded.accuracy(test_data[:500]) == net.accuracy(test_data[:500])


def test_the_original_network2s_sample_scores_9261(mnist):
    _, _, test_data = mnist
    net = network2.load(SAMPLE)
    assert net.sizes == [784, 20, 10] and net.cost is network2.CrossEntropyCost
    assert net.accuracy(test_data) == 9261
    params, meta = modelfile.load_network2(SAMPLE)
    assert meta["cost"] == "cross-entropy" and meta["network2_cost"] == "CrossEntropyCost"
    test = jaxnn.load_mnist().test
    assert jaxnn.evaluate(params, test.x, test.y) == 9261


def test_training_continues_from_the_sample(mnist, capsys):
    training_data, _, test_data = mnist
    net = network2.load(SAMPLE)
    before = net.weights[0].copy()
    _, ea, tc, _ = net.SGD(
        training_data[:1000],
        2,
        10,
        0.1,
        evaluation_data=test_data[:1000],
        monitor_evaluation_accuracy=True,
        monitor_training_cost=True,
    )
    assert not np.array_equal(net.weights[0], before) and tc[1] < tc[0]
    assert ea[-1] > 850  # it keeps what it learned
    assert _lines(capsys)[:2] == ["Epoch 0 training complete", f"Cost on training data: {tc[0]}"]


def test_save_network2_refuses_nan_and_unknown_costs(tmp_path):
    params = [{"w": np.ones((3, 4)), "b": np.zeros(3)}]
    path = modelfile.save_network2(tmp_path / "n.json", params, "cross-entropy")
    good = path.read_bytes()
    with pytest.raises(jaxnn.JaxnnError, match="NaN"):
        modelfile.save_network2(path, [{"w": np.full((3, 4), np.nan), "b": np.zeros(3)}], "CrossEntropyCost")
    with pytest.raises(jaxnn.JaxnnError, match="unknown cost 'log-likelihood'"):
        modelfile.save_network2(path, params, "log-likelihood")
    assert path.read_bytes() == good


def _good():
    return {
        "sizes": [2, 3, 1],
        "weights": [[[0.1, 0.2]] * 3, [[0.3] * 3]],
        "biases": [[[0.0]] * 3, [[0.5]]],
        "cost": "CrossEntropyCost",
    }


def _bad(**over):
    d = _good()
    d.update(over)
    return json.dumps(d)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object with keys"),
        (json.dumps({"sizes": [2, 1]}), "JSON object with keys"),
        (_bad(cost="SoftmaxCost"), "unknown cost 'SoftmaxCost'"),
        (_bad(sizes=[2, True, 1]), "'sizes' must be a list of positive integers"),
        (_bad(sizes=[2, -3, 1]), "'sizes' must be a list of positive integers"),
        (_bad(sizes=[2]), "'sizes' must be a list of positive integers"),
        (_bad(sizes="2,3,1"), "'sizes' must be a list of positive integers"),
        (_bad(sizes=[1_000_000, 1_000_000, 1]), "more than"),
        (_bad(weights=[[[0.1, 0.2]] * 3]), "'weights' must be a list of 2 layers"),
        (_bad(biases={"0": 1}), r"'biases' must be a list of 2 layers for sizes \[2, 3, 1\], got dict"),
        (
            _bad(weights=[[[0.1, 0.2]] * 2, [[0.3] * 3]]),
            r"weights\[0\] must be a \(3, 2\) nested list of numbers, got shape \(2, 2\)",
        ),
        (_bad(weights=[[[0.1, 0.2], [0.1], [0.1, 0.2]], [[0.3] * 3]]), "ragged"),
        (_bad(weights=[[["a", "b"]] * 3, [[0.3] * 3]]), r"weights\[0\] must be .* got shape \(3, 2\) of <U1"),
        (_bad(biases=[[0.0] * 3, [[0.5]]]), r"biases\[0\] must be a \(3, 1\) nested list"),
        (_bad(biases=[[[None]] * 3, [[0.5]]]), r"biases\[0\] must be"),
        (_bad(biases=[[[0.0]] * 3, [[float("nan")]]]), "NaN or infinite"),
    ],
)
def test_bad_network2_files_are_clear_errors(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        modelfile.load_network2(path)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        network2.load(path)


def test_a_missing_network2_file_is_a_clear_error(tmp_path):
    with pytest.raises(jaxnn.JaxnnError, match="no network2 file"):
        network2.load(tmp_path / "nothing.json")
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(_good()))
    params, meta = modelfile.load_network2(path)
    assert meta["sizes"] == [2, 3, 1] and params[1]["b"].shape == (1,) and params[0]["w"].dtype == np.float64


def test_chapter5_deeper_network_session(mnist, capsys):
    """Chapter 5: ``net = network2.Network([784, 30, 30, 30, 30, 10]); net.SGD(training_data, 30,
    10, 0.1, lmbda=5.0, evaluation_data=validation_data, monitor_evaluation_accuracy=True)``, for
    1 epoch on 2,000 images. (The sessions with 1, 2 and 3 hidden layers differ only in sizes;
    ``examples/book_sessions.py --quick`` runs each.)"""
    training_data, validation_data, _ = mnist
    net = network2.Network([784, 30, 30, 30, 30, 10], seed=0)
    before = [w.copy() for w in net.weights]
    _, ea, _, _ = net.SGD(
        training_data[:2000],
        1,
        10,
        0.1,
        lmbda=5.0,
        evaluation_data=validation_data[:1000],
        monitor_evaluation_accuracy=True,
    )
    assert _lines(capsys) == ["Epoch 0 training complete", f"Accuracy on evaluation data: {ea[0]} / 1000", ""]
    assert ea == [net.accuracy(validation_data[:1000])]
    assert all(not np.array_equal(a, b) for a, b in zip(before, net.weights))  # every layer learns


# -- the façade's speed and divergence (network.py / network2.py)


def _compiled(caplog, f):
    """The names of the functions that XLA compiles while ``f()`` runs."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="jax"), jax.log_compiles(True):
        f()
    return [m[1] for m in (re.match(r"Compiling (\S+) ", r.getMessage()) for r in caplog.records) if m]


def test_sgd_compiles_once_per_data_size(mnist, capsys, caplog):
    """The compiled epoch is cached by shape: a second SGD call, or a new network of the same
    sizes, compiles nothing; a new training-set size compiles one new epoch function. (The
    shapes are the chapter-1 and chapter-3 tests', so that a full run compiles them once.)"""
    training_data, _, test_data = mnist
    net = network.Network([784, 30, 10], seed=0)
    net.SGD(training_data[:10000], 1, 10, 3.0, test_data=test_data[:1000])
    assert _compiled(caplog, lambda: net.SGD(training_data[:10000], 2, 10, 3.0, test_data=test_data[:1000])) == []
    assert (
        _compiled(
            caplog,
            lambda: network.Network([784, 30, 10], seed=1).SGD(
                training_data[:10000], 1, 10, 3.0, test_data=test_data[:1000]
            ),
        )
        == []
    )
    assert (
        _compiled(caplog, lambda: net.SGD(training_data[:10010], 1, 10, 3.0, test_data=test_data[:1000])).count(
            "jit(epoch)"
        )
        == 1
    )
    assert _compiled(caplog, lambda: net.SGD(training_data[:10010], 1, 10, 3.0, test_data=test_data[:1000])) == []
    kw = dict(evaluation_data=test_data[:1000], monitor_evaluation_accuracy=True)
    net2, _, _ = _session(capsys, args=(training_data[:1000], 1, 10, 0.5), **kw)
    assert _compiled(caplog, lambda: net2.SGD(training_data[:1000], 2, 10, 0.5, **kw)) == []
    capsys.readouterr()


def test_eta_100_goes_on_like_the_original(mnist, capsys):
    """Chapter 1's η = 100 (the book: 9.82%): every epoch prints its line, nothing raises, and
    the saturated network stays near chance."""
    training_data, _, test_data = mnist
    net = network.Network([784, 30, 10], seed=4)
    assert net.SGD(training_data[:10000], 4, 10, 100.0, test_data=test_data[:1000]) is None
    lines = _lines(capsys)
    assert [re.fullmatch(r"Epoch (\d+): \d+ / 1000", s).group(1) for s in lines] == ["0", "1", "2", "3"]
    assert all(int(s.split()[2]) < 300 for s in lines), lines  # chance is about 100


# -- network3 (chapter 6)

from jaxnn.book import network3  # noqa: E402
from jaxnn.book.network3 import ConvPoolLayer, FullyConnectedLayer, Network, ReLU, SoftmaxLayer  # noqa: E402
from jaxnn.data import expanded  # noqa: E402

_ACC = r"(\d+\.\d\d)%"


@pytest.fixture(scope="module")
def shared():
    return network3.load_data_shared()


def _softmax_forward(net, x):
    """network3's test-time output from the layers' w and b, in NumPy (FC and softmax layers)."""
    a = np.asarray(x, np.float64)
    for layer in net.layers:
        z = (1 - layer.p_dropout) * a @ layer.w + layer.b
        if isinstance(layer, SoftmaxLayer):
            return np.argmax(z, axis=1)
        a = 1 / (1 + np.exp(-z)) if layer.activation_fn is network3.sigmoid else np.maximum(z, 0)


def test_load_data_shared_gives_sliceable_pairs(shared):
    training_data, validation_data, test_data = shared
    assert [network3.size(d) for d in shared] == [50000, 10000, 10000]
    training_x, training_y = training_data
    assert training_x.shape == (50000, 784) and training_x.dtype == np.float32 and training_y.dtype == np.int32
    assert len(training_data) == 2  # the original's (shared_x, shared_y) pair
    short = training_data[:1000]
    assert isinstance(short, network3.SharedData) and network3.size(short) == 1000
    assert np.array_equal(short.x, training_x[:1000]) and np.array_equal(short[1], training_y[:1000])
    np.testing.assert_array_equal(validation_data.y, jaxnn.load_mnist().validation.y)


def test_chapter6_first_session_prints_network3s_lines(shared, capsys):
    """``net = Network([FullyConnectedLayer(n_in=784, n_out=100), SoftmaxLayer(n_in=100, n_out=10)],
    mini_batch_size); net.SGD(training_data, 60, mini_batch_size, 0.1, validation_data, test_data)``,
    for 1 epoch on 5,000 training and 1,000 validation / test images."""
    training_data, validation_data, test_data = shared
    mini_batch_size = 10
    np.random.seed(0)
    net = Network([FullyConnectedLayer(n_in=784, n_out=100), SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
    assert not np.any(net.layers[1].w) and net.layers[0].w.shape == (784, 100)  # the softmax layer starts at zero
    assert net.SGD(training_data[:5000], 1, mini_batch_size, 0.1, validation_data[:1000], test_data[:1000]) is None
    lines = _lines(capsys)
    pattern = [
        "Training mini-batch number 0",
        f"Epoch 0: validation accuracy {_ACC}",
        "This is the best validation accuracy to date.",
        f"The corresponding test accuracy is {_ACC}",
        "Finished training network.",
        f"Best validation accuracy of {_ACC} obtained at iteration 499",
        f"Corresponding test accuracy of {_ACC}",
    ]
    assert len(lines) == len(pattern), lines
    found = [re.fullmatch(p, s) for p, s in zip(pattern, lines)]
    assert all(found), lines
    val, test = float(found[1][1]), float(found[3][1])
    assert val > 80 and test > 80  # chance is 10%
    assert found[5][1] == found[1][1] and found[6][1] == found[3][1]
    # the printed figures are the trained weights' (network3's orientation, test-time output)
    for data, printed in ((validation_data[:1000], val), (test_data[:1000], test)):
        assert 100 * np.mean(_softmax_forward(net, data.x) == data.y) == pytest.approx(printed, abs=0.051)


def test_best_epoch_bookkeeping_follows_network3(shared, capsys, monkeypatch):
    """The best-epoch lines follow network3's ``>=``, iteration count and 1,000-step messages."""
    training_data, validation_data, test_data = shared
    net = Network([FullyConnectedLayer(n_in=784, n_out=30), SoftmaxLayer(n_in=30, n_out=10)], 10, seed=0)
    accuracies = iter([0.5, 0.75, 0.25, 0.5, 0.625, 0.125])  # validation, [test,] ...: exact in binary
    monkeypatch.setattr(
        jaxnn.training, "measure", lambda net, params, x, y, *rest: (0.0, round(next(accuracies) * len(x)))
    )
    net.SGD(training_data[:6000], 4, 10, 0.1, validation_data[:200], test_data[:200])  # 600 mini-batches an epoch
    assert _lines(capsys) == [
        "Training mini-batch number 0",
        "Epoch 0: validation accuracy 50.00%",
        "This is the best validation accuracy to date.",
        "The corresponding test accuracy is 75.00%",
        "Training mini-batch number 1000",
        "Epoch 1: validation accuracy 25.00%",
        "Epoch 2: validation accuracy 50.00%",
        "This is the best validation accuracy to date.",  # a tie counts
        "The corresponding test accuracy is 62.50%",
        "Training mini-batch number 2000",
        "Epoch 3: validation accuracy 12.50%",
        "Finished training network.",
        "Best validation accuracy of 50.00% obtained at iteration 1799",
        "Corresponding test accuracy of 62.50%",
    ]
    assert net.history.evaluation_accuracy == [0.5, 0.25, 0.5, 0.125]
    assert net.history.test_accuracy == [0.75, None, 0.625, None]


def test_chapter6_relu_conv_session_trains(shared, capsys):
    """The two-ConvPool ReLU session (``net.SGD(training_data, 60, mini_batch_size, 0.03,
    validation_data, test_data, lmbda=0.1)``), for 1 epoch on 1,000 training images."""
    training_data, validation_data, test_data = shared
    mini_batch_size = 10
    net = Network(
        [
            ConvPoolLayer(
                image_shape=(mini_batch_size, 1, 28, 28),
                filter_shape=(20, 1, 5, 5),
                poolsize=(2, 2),
                activation_fn=ReLU,
            ),
            ConvPoolLayer(
                image_shape=(mini_batch_size, 20, 12, 12),
                filter_shape=(40, 20, 5, 5),
                poolsize=(2, 2),
                activation_fn=ReLU,
            ),
            FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=ReLU),
            SoftmaxLayer(n_in=100, n_out=10),
        ],
        mini_batch_size,
        seed=0,
    )
    assert [p.shape for p in net.params] == [
        (20, 1, 5, 5),
        (20,),
        (40, 20, 5, 5),
        (40,),
        (640, 100),
        (100,),
        (100, 10),
        (10,),
    ]
    before = net.layers[0].w.copy()
    net.SGD(training_data[:1000], 1, mini_batch_size, 0.03, validation_data[:500], test_data[:500], lmbda=0.1)
    lines = _lines(capsys)
    assert lines[0] == "Training mini-batch number 0" and lines[-3] == "Finished training network."
    val = float(re.fullmatch(f"Epoch 0: validation accuracy {_ACC}", lines[1])[1])
    assert lines[-2] == f"Best validation accuracy of {val:.2f}% obtained at iteration 99"
    assert val > 30  # chance is 10%; one epoch of 100 steps
    assert not np.array_equal(before, net.layers[0].w) and np.isfinite(net.layers[0].w).all()


def test_dropout_and_expanded_data_sessions(shared, capsys, monkeypatch, tmp_path):
    """``expanded_training_data, _, _ = network3.load_data_shared("../data/mnist_expanded.pkl.gz")``
    gives jaxnn's expanded MNIST (here a small build, in a temporary cache), and the dropout
    session's fully connected layers train on it."""
    real = expanded.load_expanded_mnist
    monkeypatch.setattr(expanded, "load_expanded_mnist", lambda: real(tmp_path, n=200))
    expanded_training_data, va, te = network3.load_data_shared("../data/mnist_expanded.pkl.gz")
    assert network3.size(expanded_training_data) == 1000 and network3.size(va) == 10000
    _, validation_data, test_data = shared
    net = Network(
        [
            FullyConnectedLayer(n_in=784, n_out=100, activation_fn=ReLU, p_dropout=0.5),
            SoftmaxLayer(n_in=100, n_out=10, p_dropout=0.5),
        ],
        10,
        seed=0,
    )
    net.SGD(expanded_training_data, 2, 10, 0.3, validation_data[:500], test_data[:500])
    lines = _lines(capsys)
    accuracies = [float(m[1]) for m in (re.fullmatch(f"Epoch \\d: validation accuracy {_ACC}", s) for s in lines) if m]
    assert len(accuracies) == 2 and max(accuracies) > 50, lines


def test_load_data_shared_never_unpickles(tmp_path):
    import pickle

    decoy = tmp_path / "mnist.pkl.gz"
    decoy.write_bytes(pickle.dumps("not read"))
    training_data, _, _ = network3.load_data_shared(str(decoy))  # the name picks the data; the file is not read
    assert network3.size(training_data) == 50000
    other = tmp_path / "mine.pkl.gz"
    other.write_bytes(pickle.dumps("not read either"))
    with pytest.raises(jaxnn.JaxnnError, match="never unpickles"):
        network3.load_data_shared(str(other))


def _conv(**kw):
    args = dict(image_shape=(10, 1, 28, 28), filter_shape=(20, 1, 5, 5), poolsize=(2, 2))
    return ConvPoolLayer(**{**args, **kw})


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: [_conv(), FullyConnectedLayer(n_in=784, n_out=100), SoftmaxLayer(n_in=100, n_out=10)],
            r"layer 1, FullyConnectedLayer\(n_in=784.* has n_in=784 but layer 0 outputs \(20, 12, 12\) = 2880 values per "
            r"example: set n_in=20\*12\*12",
        ),
        (
            lambda: [FullyConnectedLayer(n_in=784, n_out=100), SoftmaxLayer(n_in=30, n_out=10)],
            r"layer 1, SoftmaxLayer\(n_in=30.* has n_in=30 but layer 0 outputs \(100,\) = 100 values per example: set n_in=100",
        ),
        (
            lambda: [
                _conv(),
                _conv(image_shape=(10, 20, 14, 14), filter_shape=(40, 20, 5, 5)),
                SoftmaxLayer(40 * 5 * 5, 10),
            ],
            r"expects images \(20, 14, 14\) but layer 0 outputs \(20, 12, 12\): set image_shape=\(mini_batch_size, 20, 12, 12\)",
        ),
        (
            lambda: [_conv(image_shape=(20, 1, 28, 28)), SoftmaxLayer(2880, 10)],
            "image_shape must start with mini_batch_size",
        ),
        (lambda: [_conv(filter_shape=(20, 3, 5, 5)), SoftmaxLayer(2880, 10)], "input feature maps"),
        (lambda: [_conv(filter_shape=(20, 1, 5, 3)), SoftmaxLayer(2880, 10)], "square filters"),
        (
            lambda: [FullyConnectedLayer(784, 100, activation_fn=np.tanh), SoftmaxLayer(100, 10)],
            "linear, ReLU, sigmoid or tanh",
        ),
        (lambda: [FullyConnectedLayer(784, 100)], "the last layer must be a SoftmaxLayer"),
        (lambda: [FullyConnectedLayer(784, 100, p_dropout=1.0), SoftmaxLayer(100, 10)], "p_dropout"),
    ],
)
def test_layers_that_do_not_fit_are_clear_errors(make, message):
    with pytest.raises(jaxnn.JaxnnError, match=message):
        Network(make(), 10)


def test_sgd_arguments_are_checked(shared):
    training_data, validation_data, test_data = shared
    net = Network([FullyConnectedLayer(784, 30), SoftmaxLayer(30, 10)], 10, seed=0)
    with pytest.raises(jaxnn.JaxnnError, match="differs from the network's 10"):
        net.SGD(training_data[:100], 1, 20, 0.1, validation_data[:100], test_data[:100])
    with pytest.raises(jaxnn.JaxnnError, match="fewer than one mini-batch"):
        net.SGD(training_data[:100], 1, 10, 0.1, validation_data[:5], test_data[:100])
    with pytest.raises(jaxnn.JaxnnError, match="takes 784 values per example"):
        net.SGD(
            network3.SharedData(np.zeros((100, 10), np.float32), np.zeros(100, int)),
            1,
            10,
            0.1,
            validation_data[:100],
            test_data[:100],
        )
    with pytest.raises(jaxnn.JaxnnError, match="pair"):
        net.SGD(training_data.x, 1, 10, 0.1, validation_data, test_data)
