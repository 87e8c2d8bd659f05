"""Ensembles of conv nets vote by plurality, and the chapter 5 and 6 examples run in quick mode."""

import os
import re
import subprocess
import sys
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnn
from jaxnn.convnet import conv_init, conv_net, ensemble_predict, ensemble_votes, plurality
from jaxnn.errors import JaxnnError
from jaxnn.layers import ConvPool, FullyConnected, Softmax

ROOT = Path(__file__).resolve().parent.parent


def test_plurality_counts_votes_and_breaks_ties_by_the_earliest_member():
    votes = np.array(
        [
            [0, 1, 2, 3, 1, 2, 5],
            [0, 2, 2, 1, 3, 5, 2],
            [1, 2, 0, 1, 2, 5, 2],
            [4, 4, 4, 4, 4, 2, 5],
        ]
    )
    # column by column: 0 has two votes; 2 has two; 2 has two; 1 has two; a four-way tie goes
    # to member 0's 1; 2 and 5 tie with two each and member 0 voted 2; 5 and 2 tie, member 0 voted 5.
    np.testing.assert_array_equal(plurality(votes), [0, 2, 2, 1, 1, 2, 5])
    np.testing.assert_array_equal(plurality(votes[1:]), [0, 2, 2, 1, 3, 5, 2])
    np.testing.assert_array_equal(plurality(votes[:1]), votes[0])


@pytest.mark.parametrize(
    "votes", [np.zeros((3,), int), np.zeros((0, 4), int), np.full((2, 2), -1), np.ones((2, 2)) * 0.5]
)
def test_plurality_rejects_malformed_votes(votes):
    with pytest.raises(JaxnnError, match="votes must be"):
        plurality(votes)


def _fixed(w, b):
    return [{"w": jnp.asarray(w, jnp.float32), "b": jnp.asarray(b, jnp.float32)}]


def test_ensemble_predict_on_constructed_members():
    net = conv_net([Softmax(3)], (2,))
    larger = _fixed([[1, 0], [0, 1], [0, 0]], [0, 0, 0])  # class 0 when x0 > x1, else class 1
    swapped = _fixed([[0, 1], [1, 0], [0, 0]], [0, 0, 0])  # class 1 when x0 > x1, else class 0
    always2 = _fixed(np.zeros((3, 2)), [0, 0, 10])  # class 2 whatever the input
    x = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 2.0]])
    np.testing.assert_array_equal(
        ensemble_votes([(net, larger), (net, always2), (net, swapped)], x), [[0, 1, 0], [2, 2, 2], [1, 0, 1]]
    )
    # three different votes everywhere: the first member decides
    np.testing.assert_array_equal(ensemble_predict([(net, larger), (net, always2), (net, swapped)], x), [0, 1, 0])
    np.testing.assert_array_equal(ensemble_predict([(net, always2), (net, larger), (net, swapped)], x), [2, 2, 2])
    # a majority wins over the first member
    np.testing.assert_array_equal(ensemble_predict([(net, larger), (net, swapped), (net, swapped)], x), [1, 0, 1])
    np.testing.assert_array_equal(
        ensemble_predict([(net, always2), (net, larger), (net, larger), (net, swapped)], x), [0, 1, 0]
    )


def test_ensemble_of_mixed_architectures_matches_each_members_argmax():
    x = jax.random.uniform(jax.random.key(3), (6, 1, 12, 12), jnp.float32)
    nets = [
        conv_net([ConvPool(2, 3), FullyConnected(5), Softmax(4)], (1, 12, 12)),
        conv_net([FullyConnected(6, "relu"), Softmax(4)], (1, 12, 12)),
    ]
    members = []
    for i, net in enumerate(nets):
        params = conv_init(jax.random.key(i), net)
        params[-1] = {"w": jax.random.normal(jax.random.key(10 + i), params[-1]["w"].shape), "b": params[-1]["b"]}
        members.append((net, params))
    votes = ensemble_votes(members, x, batch_size=3)  # two batches of 3
    for row, (net, params) in zip(votes, members):
        np.testing.assert_array_equal(row, np.argmax(jaxnn.forward(params, x, net=net), axis=-1))
    np.testing.assert_array_equal(ensemble_predict(members, x), votes[0])  # two members: ties go to the first


def test_ensemble_rejects_bad_members():
    with pytest.raises(JaxnnError, match="at least one member"):
        ensemble_predict([], np.zeros((1, 2)))
    with pytest.raises(JaxnnError, match="must be a \\(net, params\\) pair"):
        ensemble_predict([object()], np.zeros((1, 2)))
    with pytest.raises(JaxnnError, match="must be a Network"):
        ensemble_predict([("net", [])], np.zeros((1, 2)))


def test_conv_api_is_exported():
    for name in (
        "ConvPool",
        "FullyConnected",
        "Softmax",
        "Network",
        "network",
        "conv_net",
        "init_network",
        "sgd",
        "NETWORK3",
        "History",
        "ensemble_predict",
        "backprop",
        "autodiff_grad",
        "GRADIENTS",
        "make_layer",
        "layers",
        "sweep",
    ):
        assert name in jaxnn.__all__ and getattr(jaxnn, name) is not None


def test_old_conv_names_are_deprecated_aliases_of_the_one_trainer():
    net = conv_net([ConvPool(2, 3), Softmax(3)], (1, 6, 6))
    params = jaxnn.init_network(0, net)
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(20, 36)), rng.integers(0, 3, 20))
    with pytest.warns(DeprecationWarning, match="jaxnn.sgd"):
        old, h_old = jaxnn.train_convnet(net, params, data, 2, 10, 0.5, key=3, validation_data=data, test_data=data)
    new, h_new = jaxnn.sgd(
        params, data, 2, 10, 0.5, key=3, net=net, evaluation_data=data, test_data=data, **jaxnn.NETWORK3
    )
    chex.assert_trees_all_equal(old, new)
    assert h_old.best_validation() == h_new.best_validation()
    with pytest.warns(DeprecationWarning, match="History"):
        from jaxnn.convnet import ConvHistory
    assert ConvHistory is jaxnn.History


# -- the examples, in quick mode


def _run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_chapter6_quick_relu_learns_and_reports_networks3_figure():
    out = _run(str(ROOT / "examples" / "chapter6.py"), "relu", "--quick", "--seed", "1")
    vals = [float(v) for v in re.findall(r"Epoch \d+: validation accuracy ([\d.]+)%", out)]
    assert len(vals) == 2
    tests = [float(v) for v in re.findall(r"corresponding test accuracy is ([\d.]+)%", out)]
    row = re.search(r"^\| relu: .*, 2 epochs \| 99.23% \| ([\d.]+)% \| (\d+) \|", out, re.M)
    assert row, out
    # the reported figure is the test accuracy measured at the best validation epoch
    best = int(len(vals) - 1 - np.argmax(vals[::-1]))
    assert int(row.group(2)) == best
    assert float(row.group(1)) == tests[-1]
    assert float(row.group(1)) > 40  # 1,000 images and 2 epochs already lift it well above chance


def test_chapter5_quick_prints_speeds_and_depth_table(tmp_path):
    out = _run(str(ROOT / "examples" / "chapter5.py"), "all", "--quick", "--out", str(tmp_path))
    rows = dict(re.findall(r"^\| (\d) \| (?:—|[\d., ]+) \| ([\d., ]+) \| [\d.,; ]+ \|$", out, re.M))
    assert set(rows) == {"1", "2"}
    one = [float(v) for v in rows["1"].split(",")]
    two = [float(v) for v in rows["2"].split(",")]
    assert len(one) == 1 and len(two) == 2
    assert two[0] < two[1]  # the vanishing gradient: the earlier hidden layer learns more slowly
    assert (tmp_path / "ch5_speed_of_learning.png").stat().st_size > 1000
    depth = re.findall(r"^\| (\d) \| 96\.\d\d% \| ([\d.]+)% \|", out, re.M)
    assert [d for d, _ in depth] == ["1", "2"]
    assert all(0 < float(v) <= 100 for _, v in depth)
