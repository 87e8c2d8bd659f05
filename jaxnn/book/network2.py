"""network2.py (chapter 3), running on jaxnn: cross-entropy, L2 regularization, better initialization.

::

    >>> from jaxnn.book import mnist_loader, network2
    >>> training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    >>> np.random.seed(0)  # optional: fixes the run, as for the original
    >>> net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    >>> net.large_weight_initializer()
    >>> net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data, monitor_evaluation_accuracy=True)
    Epoch 0 training complete
    Accuracy on evaluation data: 9127 / 10000

    Epoch 1 training complete
    ...

``SGD`` trains through [`jaxnn.sgd`][jaxnn.training.sgd] and prints network2's lines in network2's order;
``save`` and ``load`` read and write network2's JSON through [`jaxnn.modelfile`][jaxnn.modelfile]. The differences
from the original are those of `jaxnn.book.network` (JAX keys, the caller's list left
unshuffled, float32 by default, divergence said on stderr), and:

- Training and ``total_cost`` compute the cross-entropy from z stably (log-sigmoid), where the
  original's ``nan_to_num`` turns an infinite cost into 1.8e308.
- ``accuracy`` and ``total_cost`` tell digit labels from one-hot targets by themselves; their
  ``convert`` flag is accepted and not needed.
- ``save`` writes atomically and ``load`` validates the file ([`jaxnn.modelfile.load_network2`][jaxnn.modelfile.load_network2]).
"""

from __future__ import annotations

import numpy as np

from jaxnn import modelfile
from jaxnn.book._facade import BookNetwork, sigmoid, sigmoid_prime, vectorized_result
from jaxnn.errors import JaxnnError


class QuadraticCost:
    """C = ½‖a − y‖², with δ^L = (a − y) ⊙ σ'(z). ``name`` is the jaxnn cost that training uses."""

    name = "quadratic"

    @staticmethod
    def fn(a, y):
        """Return the cost associated with an output ``a`` and desired output ``y``."""
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        """Return the error delta from the output layer."""
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """C = −Σ_j [y ln a + (1 − y) ln(1 − a)], with δ^L = a − y. ``name`` is the jaxnn cost that
    training uses (computed stably from z there; ``fn`` here keeps the original's nan_to_num)."""

    name = "cross-entropy"

    @staticmethod
    def fn(a, y):
        """Return the cost associated with an output ``a`` and desired output ``y``; nan_to_num
        turns the 0·log 0 = nan of a saturated neuron into 0, as in the original."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        """Return the error delta from the output layer (``z`` is unused)."""
        return a - y


_COSTS = {c.__name__: c for c in (QuadraticCost, CrossEntropyCost)}


class Network(BookNetwork):
    """network2.py's sigmoid network.

    Args:
      sizes: neurons per layer, input first, e.g. ``[784, 30, 10]``.
      cost: ``CrossEntropyCost`` (the default) or ``QuadraticCost``; a class of your own works
        when its ``name`` is a registered jaxnn cost (``jaxnn list``).
      seed, key: (not in the original) an integer seed or a ``jax.random`` key; by default the
        seed is drawn from NumPy's global generator, so ``np.random.seed(n)`` fixes it.

    Attributes:
      weights: one (n_out, n_in) NumPy array per layer; biases: one (n_out, 1) column per layer.
      num_layers, sizes, cost: as in the original.
    """

    def __init__(self, sizes, cost=CrossEntropyCost, *, seed=None, key=None):
        super().__init__(sizes, seed, key)
        self.cost = cost
        self.default_weight_initializer()

    def _cost_name(self):
        name = getattr(self.cost, "name", None)
        if not isinstance(name, str):
            raise JaxnnError(
                f"cost {getattr(self.cost, '__name__', self.cost)!r} has no jaxnn cost name: use network2.CrossEntropyCost "
                "or network2.QuadraticCost, or give your class a 'name' of a registered jaxnn cost (see 'jaxnn list')"
            )
        return name

    def default_weight_initializer(self):
        """Draw weights from N(0, 1/n_in) (standard deviation 1/√n_in) and biases from N(0, 1)."""
        self._initialize("default")

    def large_weight_initializer(self):
        """Draw weights and biases from N(0, 1), as network.py does (chapter 1's initialization)."""
        self._initialize("large")

    def SGD(
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        lmbda=0.0,
        evaluation_data=None,
        monitor_evaluation_cost=False,
        monitor_evaluation_accuracy=False,
        monitor_training_cost=False,
        monitor_training_accuracy=False,
    ):
        """Train the network using mini-batch stochastic gradient descent with L2 regularization
        w ← (1 − ηλ/n)w − (η/m)Σ_x ∇C_x, n = len(training_data).

        After each epoch it prints ``Epoch j training complete``, then the monitored figures in
        network2's order (training cost, training accuracy, evaluation cost, evaluation accuracy)
        and a blank line. Returns the four per-epoch lists ``(evaluation_cost,
        evaluation_accuracy, training_cost, training_accuracy)``, each empty unless monitored.
        """
        monitor_evaluation = monitor_evaluation_cost or monitor_evaluation_accuracy
        if monitor_evaluation and (evaluation_data is None or not len(evaluation_data)):
            raise JaxnnError(
                "monitor_evaluation_cost and monitor_evaluation_accuracy need evaluation_data, "
                "e.g. evaluation_data=validation_data"
            )
        n = len(training_data)
        n_data = len(evaluation_data) if monitor_evaluation else 0

        def report(j, h):
            print(f"Epoch {j} training complete")
            if monitor_training_cost:
                print(f"Cost on training data: {h.training_cost[-1]}")
            if monitor_training_accuracy:
                print(f"Accuracy on training data: {h.training_correct[-1]} / {n}")
            if monitor_evaluation_cost:
                print(f"Cost on evaluation data: {h.evaluation_cost[-1]}")
            if monitor_evaluation_accuracy:
                print(f"Accuracy on evaluation data: {h.evaluation_correct[-1]} / {n_data}")
            print(flush=True)

        history = self._sgd(
            training_data,
            epochs,
            mini_batch_size,
            eta,
            evaluation_data if monitor_evaluation else None,
            report,
            lmbda,
            monitor_evaluation_cost=monitor_evaluation_cost,
            monitor_evaluation_accuracy=monitor_evaluation_accuracy,
            monitor_training_cost=monitor_training_cost,
            monitor_training_accuracy=monitor_training_accuracy,
        )
        evaluation_cost, evaluation_correct, training_cost, training_correct = history.network2_lists()
        return (
            list(evaluation_cost),
            list(evaluation_correct) if monitor_evaluation_accuracy else [],
            list(training_cost),
            list(training_correct),
        )

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """One gradient-descent step on ``mini_batch``, a list of ``(x, y)`` pairs:
        w ← (1 − ηλ/n)w − (η/m)Σ_x ∇C_x and b ← b − (η/m)Σ_x ∇_b C_x, n the training-set size."""
        self._update(mini_batch, eta, lmbda / n)

    def accuracy(self, data, convert=False):
        """Return the number of inputs in ``data`` that the network classifies correctly.

        ``convert`` is accepted for the original's signature; labels and one-hot targets are
        told apart from the data themselves, so either form of data gives the right count.
        """
        return self._count(data, "data")

    def total_cost(self, data, lmbda, convert=False):
        """Return the mean cost over ``data`` plus ½(λ/len(data))Σ‖w‖², as the original (whose
        λ term divides by the size of the data evaluated, not of the training set).
        ``convert`` is accepted and decided from the data, as in `accuracy`."""
        return self._metrics(data, lmbda, "data")[0]

    def save(self, filename):
        """Save the network to ``filename`` in network2's JSON format (written atomically)."""
        modelfile.save_network2(filename, self._params(), self._cost_name())


def load(filename):
    """Load a network saved by network2's ``save`` (this one's or the original's); returns a
    `Network`. The file is validated, and a bad one raises a JaxnnError that says why."""
    params, meta = modelfile.load_network2(filename)
    net = Network(meta["sizes"], cost=_COSTS[meta["network2_cost"]])
    net.weights = [p["w"] for p in params]
    net.biases = [p["b"].reshape(-1, 1) for p in params]
    return net


__all__ = ["CrossEntropyCost", "Network", "QuadraticCost", "load", "sigmoid", "sigmoid_prime", "vectorized_result"]
