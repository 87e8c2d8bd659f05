"""Reliability, round 2: regression tests for the defects a red-team pass found, and the faults
(a full disk, an unprivileged user, two writers, corrupt shipped data) that had not been tried.

docs/reliability.md lists each case with what the user sees and whether anything can be lost.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnn

# -- defect 1: the hand-written δ^L assumed one-hot targets

PAIRS = [
    (cost, act)
    for cost in ("quadratic", "cross-entropy", "log-likelihood")
    for act in ("sigmoid", "softmax", "softmax(c=2)", "linear")
    if cost == "quadratic" or act != "linear"
]


@pytest.mark.parametrize("cost,act", PAIRS)
def test_backprop_equals_autodiff_for_targets_that_are_not_one_hot(cost, act):
    """Softmax + log-likelihood used δ = a − y, wrong by up to 1.1 for rows of all ones."""
    rng = np.random.default_rng(0)
    # rows of all ones, probabilities not summing to 1, values above 1, all zeros: one batch
    y = np.concatenate([np.ones((2, 3)), rng.uniform(size=(2, 3)), 2 * rng.uniform(size=(2, 3)), np.zeros((2, 3))])
    x = rng.normal(size=(len(y), 4))
    net = jaxnn.mlp([4, 6, 3], cost=cost, output_activation=act)
    params = jaxnn.init_network(jax.random.key(0), net, jnp.float64)
    want = jaxnn.autodiff_grad(params, x, y, net=net)
    paths = [jaxnn.backprop] + ([jaxnn.backprop_per_example] if act == "softmax" else [])
    for path in paths:
        got = path(params, x, y, net=net)
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-9, atol=1e-12)
