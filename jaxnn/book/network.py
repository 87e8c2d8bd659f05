"""network.py (chapter 1), running on jaxnn: the book's ``Network`` class, same methods, same output.

::

    >>> from jaxnn.book import mnist_loader, network
    >>> training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    >>> np.random.seed(0)  # optional: fixes the run, as for the original
    >>> net = network.Network([784, 30, 10])
    >>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    Epoch 0: 9103 / 10000
    ...
    Epoch 29: 9518 / 10000

``SGD`` trains through [`jaxnn.sgd`][jaxnn.training.sgd], one compiled call per epoch, so 30 epochs take
seconds rather than minutes. Where it differs from the original:

- Randomness comes from a JAX key: ``Network(sizes, seed=...)`` or ``key=``; by default the
  seed is drawn from NumPy's global generator, so ``np.random.seed(n)`` fixes it, as it fixes
  the original's ``np.random.randn``.
- ``SGD`` shuffles with that key and leaves the caller's ``training_data`` list in its order
  (the original shuffles it in place with ``random.shuffle``).
- Arrays are float32 (JAX's default), or float64 under ``jax_enable_x64``; the original's are float64.
- When the weights overflow to NaN, the core stops; the façade then goes on as the original
  does, with NaN weights for the remaining epochs, and says so once on stderr.
"""

from __future__ import annotations

from jaxnn.book._facade import BookNetwork, sigmoid, sigmoid_prime


class Network(BookNetwork):
    """network.py's sigmoid network with the quadratic cost.

    Args:
      sizes: neurons per layer, input first, e.g. ``[784, 30, 10]``.
      seed, key: (not in the original) an integer seed or a ``jax.random`` key for the initial
        weights and the shuffles; see the module docstring for the default.

    Attributes:
      weights: one (n_out, n_in) NumPy array per layer, drawn from N(0, 1).
      biases: one (n_out, 1) column per layer, drawn from N(0, 1).
      num_layers, sizes: as in the original.
    """

    def __init__(self, sizes, *, seed=None, key=None):
        super().__init__(sizes, seed, key)
        self._initialize("large")  # network.py's N(0, 1) weights and biases

    def _cost_name(self):
        return "quadratic"

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """Train the network using mini-batch stochastic gradient descent, printing
        ``Epoch j: k / n`` after each epoch when ``test_data`` is given, else ``Epoch j complete``.

        ``training_data`` is a list of ``(x, y)`` pairs (one-hot ``y``); ``test_data`` a list of
        ``(x, label)`` pairs. When ``mini_batch_size`` does not divide n, the last mini-batch of
        each epoch is short, as in the original.
        """
        test_data = test_data if test_data is not None and len(test_data) else None
        n_test = len(test_data) if test_data is not None else 0

        def report(j, history):
            if test_data is not None:
                print(f"Epoch {j}: {history.evaluation_correct[-1]} / {n_test}", flush=True)
            else:
                print(f"Epoch {j} complete", flush=True)

        self._sgd(training_data, epochs, mini_batch_size, eta, test_data, report)

    def update_mini_batch(self, mini_batch, eta):
        """Update the weights and biases by one gradient-descent step on ``mini_batch``, a list of
        ``(x, y)`` pairs: w ← w − (η/m)Σ_x ∇C_x, as the original (the sum is one matrix pass)."""
        self._update(mini_batch, eta)

    def evaluate(self, test_data):
        """Return the number of test inputs for which the network's most active output neuron is
        the correct label."""
        return self._count(test_data, "test_data")

    def cost_derivative(self, output_activations, y):
        """Return the vector of partial derivatives ∂C_x/∂a for the output activations."""
        return output_activations - y


__all__ = ["Network", "sigmoid", "sigmoid_prime"]
