"""network3's ensembles, and the names the conv-net API had before it joined the one network protocol.

Conv nets are [`Network`][jaxnn.net.Network] values like every other network: build one with
[`jaxnn.conv_net`][jaxnn.net.conv_net] (or [`jaxnn.network`][jaxnn.net.network]), draw its parameters with
[`jaxnn.init_network`][jaxnn.net.init_network], and train it with [`jaxnn.sgd`][jaxnn.training.sgd] (``net=``), which gives it
checkpoints, early stopping, schedules, optax and the divergence guard; [`jaxnn.sweep`][jaxnn.sweep.sweep]
trains many at once. network3's conventions are ``**jaxnn.NETWORK3``::

    net = jaxnn.conv_net([jaxnn.ConvPool(20, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)],
                         in_shape=(1, 28, 28))
    params = jaxnn.init_network(jax.random.key(0), net)
    params, history = jaxnn.sgd(params, data.training, 60, 10, 0.1, key=1, net=net,
                                evaluation_data=data.validation, test_data=data.test, **jaxnn.NETWORK3)
    print(history.best_validation())      # network3's report: (epoch, validation, test)

[`ensemble_predict`][jaxnn.convnet.ensemble_predict] lets several trained networks vote by plurality. Details: ``docs/conv.md``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn.errors import JaxnnError
from jaxnn.history import History
from jaxnn.net import Network, conv_net, init_network, net_forward
from jaxnn.training import NETWORK3, sgd

#: The name conv nets had; every network is a [`Network`][jaxnn.net.Network] now.
ConvNet = Network


def conv_init(key, net: Network, dtype=jnp.float32):
    """[`jaxnn.init_network`][jaxnn.net.init_network] under network3's name."""
    return init_network(key, net, dtype)


# -- ensembles


def ensemble_votes(nets_and_params, x, batch_size: int = 1000) -> np.ndarray:
    """Each member's predicted class for each example: an int array ``(members, m)``.

    Args:
      nets_and_params: ``(net, params)`` pairs, the members in order.
      x: inputs, as rows or images.
    """
    members = list(nets_and_params)
    if not members:
        raise JaxnnError("an ensemble needs at least one member: pass a list of (net, params) pairs")
    votes = []
    for i, member in enumerate(members):
        try:
            net, params = member
        except (TypeError, ValueError):
            raise JaxnnError(f"ensemble member {i} must be a (net, params) pair, got {type(member).__name__}") from None
        if not isinstance(net, Network):
            raise JaxnnError(
                f"ensemble member {i}'s net must be a Network: build it with jaxnn.conv_net(layers, in_shape)"
            )
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        xs = jnp.asarray(x)
        votes.append(
            np.concatenate(
                [
                    np.asarray(jnp.argmax(_forward_fn(net)(params, xs[j : j + batch_size].astype(dtype)), axis=-1))
                    for j in range(0, len(xs), batch_size)
                ]
            )
        )
    if len({v.shape for v in votes}) != 1:
        raise JaxnnError("ensemble members gave different numbers of predictions: pass the same inputs to all")
    return np.stack(votes)


def plurality(votes, n_classes: Optional[int] = None) -> np.ndarray:
    """The plurality vote of ``votes`` ``(members, m)``, one class per example.

    The class with the most votes wins. On a tie, the tied class voted for by the earliest
    member wins: what network3's ``conv.py`` gets from ``Counter(p).most_common(1)`` on
    Python 3.7 and later, which keeps the first-seen class among equal counts.
    """
    votes = np.asarray(votes)
    if votes.ndim != 2 or votes.shape[0] < 1 or not np.issubdtype(votes.dtype, np.integer) or votes.min(initial=0) < 0:
        raise JaxnnError(
            f"votes must be non-negative integer classes of shape (members, examples), got {votes.dtype} {votes.shape}"
        )
    k, m = votes.shape
    n = int(votes.max(initial=0)) + 1 if n_classes is None else int(n_classes)
    counts = np.zeros((m, n), np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(m), (k, m)), votes), 1)
    tied = counts == counts.max(axis=1, keepdims=True)  # (m, n): the classes with most votes
    first = np.argmax(tied[np.arange(m)[None, :], votes], axis=0)  # the earliest member voting for one
    return votes[first, np.arange(m)]


def ensemble_predict(nets_and_params, x, batch_size: int = 1000) -> np.ndarray:
    """Classifies x by the plurality vote of several networks (see [`plurality`][jaxnn.convnet.plurality]).

    Each member votes for its most probable class (test-time dropout scaling); the class with
    the most votes wins, and a tie goes to the tied class of the earliest member.

    Args:
      nets_and_params: ``(net, params)`` pairs; the members may differ in architecture.
      x: inputs, as rows ``(m, 784)`` or images.

    Returns:
      an int array of m predicted classes.
    """
    return plurality(ensemble_votes(nets_and_params, x, batch_size))


@functools.lru_cache(maxsize=32)
def _forward_fn(net: Network):
    return jax.jit(lambda params, x: net_forward(net, params, x))


# -- deprecated


def train_convnet(
    net: Network,
    params,
    training_data,
    epochs: int,
    mini_batch_size: int,
    eta: float,
    *,
    key,
    validation_data=None,
    test_data=None,
    lmbda: float = 0.0,
    gradient: str = "backprop",
    shuffle: bool = False,
    verbose: bool = False,
):
    """Deprecated: ``jaxnn.sgd(params, training_data, epochs, mini_batch_size, eta, key=key, net=net,
    evaluation_data=validation_data, test_data=test_data, **jaxnn.NETWORK3)`` does the same and
    more; ``history.best_validation()`` is network3's report."""
    warnings.warn(
        "train_convnet is deprecated: use jaxnn.sgd(..., net=net, evaluation_data=validation_data, "
        "test_data=test_data, **jaxnn.NETWORK3)",
        DeprecationWarning,
        stacklevel=2,
    )
    return sgd(
        params,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        key=key,
        net=net,
        evaluation_data=validation_data,
        test_data=test_data,
        lmbda=lmbda,
        gradient=gradient,
        verbose=verbose,
        **{**NETWORK3, "shuffle": bool(shuffle)},
    )


def __getattr__(name: str):
    if name == "ConvHistory":
        warnings.warn(
            "ConvHistory is deprecated: jaxnn.sgd returns a jaxnn.History for every network "
            "(history.best_validation() is network3's report)",
            DeprecationWarning,
            stacklevel=2,
        )
        return History
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ConvNet",
    "conv_init",
    "conv_net",
    "ensemble_predict",
    "ensemble_votes",
    "plurality",
    "train_convnet",
]
