"""network3.py (chapter 6), running on jaxnn: the book's convolutional networks, without Theano.

::

    >>> from jaxnn.book import network3
    >>> from jaxnn.book.network3 import Network, ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer
    >>> training_data, validation_data, test_data = network3.load_data_shared()
    >>> mini_batch_size = 10
    >>> np.random.seed(0)  # optional: fixes the run (docs/book.md's)
    >>> net = Network([
    ...     FullyConnectedLayer(n_in=784, n_out=100),
    ...     SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
    >>> net.SGD(training_data, 60, mini_batch_size, 0.1, validation_data, test_data)
    Training mini-batch number 0
    Training mini-batch number 1000
    ...
    Epoch 0: validation accuracy 92.76%
    This is the best validation accuracy to date.
    The corresponding test accuracy is 92.02%
    ...
    Finished training network.
    Best validation accuracy of 97.90% obtained at iteration 289999
    Corresponding test accuracy of 97.85%

The layers become [`jaxnn.layers`][jaxnn.layers]' ``ConvPool``, ``FullyConnected`` and ``Softmax``, the
network a [`jaxnn.conv_net`][jaxnn.net.conv_net], and ``SGD`` is [`jaxnn.sgd`][jaxnn.training.sgd] with ``**jaxnn.NETWORK3``
(one compiled call per epoch, a ``lax.scan`` over the mini-batches, hand-written backprop).
The semantics are network3's: its initialisation, the data visited in order, the
incomplete last mini-batch dropped, L2 as λ/num_training_batches, dropout on each layer's
input with test-time scaling by 1 − p, and the test accuracy reported at the best validation
epoch. Where it differs from the original:

- ``load_data_shared`` reads jaxnn's shipped MNIST (the book's 50,000 / 10,000 / 10,000 split)
  for ``"../data/mnist.pkl.gz"``, and [`jaxnn.data.expanded.load_expanded_mnist`][jaxnn.data.load_expanded_mnist] for
  ``"../data/mnist_expanded.pkl.gz"``; the path need not exist and nothing is unpickled.
- The data are `SharedData` pairs ``(x, y)`` of NumPy arrays in place of Theano shared
  variables; slicing one slices its examples, so ``training_data[:1000]`` is a short run.
- Randomness comes from a JAX key: ``Network(layers, m, seed=...)`` or ``key=``; by default the
  seed is drawn from NumPy's global generator, so ``np.random.seed(n)`` fixes a run.
- ``ConvPoolLayer`` correlates rather than convolves (Theano flips the filters), a relabelling
  of the weights that changes nothing learnable; filters and pools must be square.
- The "Training mini-batch number" lines of an epoch are printed together, before the
  epoch's single compiled call.
"""

from __future__ import annotations

import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn.data import expanded, load_mnist
from jaxnn.errors import JaxnnError
from jaxnn.layers import ConvPool, FullyConnected, Softmax
from jaxnn.net import conv_net, init_network
from jaxnn.training import NETWORK3, as_key, sgd
from jaxnn.validation import positive_float, positive_int

# -- activations: network3's four, as JAX functions


def linear(z):
    """The identity, z."""
    return z


def ReLU(z):
    """max(0, z)."""
    return jnp.maximum(0.0, z)


def sigmoid(z):
    """1 / (1 + e^−z) (Theano's ``sigmoid``)."""
    return jax.nn.sigmoid(z)


def tanh(z):
    """The hyperbolic tangent (Theano's ``tanh``)."""
    return jnp.tanh(z)


_ACTIVATIONS = {linear: "linear", ReLU: "relu", sigmoid: "sigmoid", tanh: "tanh"}


def _activation(fn, layer):
    name = _ACTIVATIONS.get(fn) if callable(fn) else None
    if name is None:
        raise JaxnnError(
            f"{layer}'s activation_fn must be one of network3's linear, ReLU, sigmoid or tanh "
            f"(from jaxnn.book.network3), got {getattr(fn, '__name__', fn)!r}"
        )
    return name


# -- data


class SharedData(tuple):
    """A pair ``(x, y)``: inputs as float32 rows (n, 784) and integer labels (n,), which network3
    keeps as Theano shared variables ``(shared_x, shared_y)``.

    It unpacks as the original's pair (``training_x, training_y = training_data``) and, unlike
    it, slices by example: ``training_data[:1000]`` is the first 1,000 examples, a
    ``SharedData`` again. ``len`` is 2, as for the original pair; `size` counts examples.
    """

    __slots__ = ()

    def __new__(cls, x, y):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim < 2 or y.ndim != 1 or len(x) != len(y):
            raise JaxnnError(f"SharedData takes inputs x (n, ...) and n integer labels y, got {x.shape} and {y.shape}")
        return super().__new__(cls, (x, y))

    @property
    def x(self):
        return tuple.__getitem__(self, 0)

    @property
    def y(self):
        return tuple.__getitem__(self, 1)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return SharedData(self.x[i], self.y[i])
        return tuple.__getitem__(self, i)

    def __repr__(self):
        return f"SharedData(x={self.x.dtype}{list(self.x.shape)}, y={self.y.dtype}{list(self.y.shape)})"


def size(data):
    """Return the number of examples in ``data``, a ``(x, y)`` pair (network3's ``size``)."""
    return len(data[0])


#: The file names ``load_data_shared`` knows, and what it loads for each.
DATA_FILES = {"mnist.pkl.gz": "mnist", "mnist.pkl": "mnist", "mnist_expanded.pkl.gz": "expanded"}


def load_data_shared(filename="../data/mnist.pkl.gz"):
    """Return ``[training_data, validation_data, test_data]``, each a `SharedData` pair.

    ``filename`` names the book's data, not a file jaxnn reads: any path ending in
    ``mnist.pkl.gz`` gives jaxnn's shipped MNIST in the book's 50,000 / 10,000 / 10,000 split,
    and one ending in ``mnist_expanded.pkl.gz`` gives the 250,000 expanded training images of
    [`jaxnn.data.expanded.load_expanded_mnist`][jaxnn.data.load_expanded_mnist] (built and cached on first use). The path
    need not exist, and no file is ever unpickled.
    """
    try:
        name = os.path.basename(os.fspath(filename))
    except TypeError:
        raise JaxnnError(f"filename must be a path such as '../data/mnist.pkl.gz', got {filename!r}") from None
    kind = DATA_FILES.get(name)
    if kind is None:
        raise JaxnnError(
            f"load_data_shared knows the book's {' and '.join(repr(k) for k in DATA_FILES if k.endswith('gz'))}, "
            f"got {os.fspath(filename)!r}: jaxnn never unpickles a file; for other data pass (x, y) arrays "
            "to SGD, e.g. network3.SharedData(x, y)"
        )
    data = expanded.load_expanded_mnist() if kind == "expanded" else load_mnist()
    return [SharedData(split.x, split.y) for split in data]


# -- layers


def _ints(value, n, what, layer):
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        out = ()
    if len(out) != n or any(v < 1 for v in out) or any(int(v) != v for v in value):
        raise JaxnnError(f"{layer}'s {what} must be {n} positive integers, got {value!r}")
    return out


class ConvPoolLayer:
    """network3's convolution and max-pooling layer: σ(maxpool(x ⋆ w) + b).

    Args:
      filter_shape: ``(filters, input feature maps, height, width)``, e.g. ``(20, 1, 5, 5)``.
      image_shape: ``(mini_batch_size, input feature maps, height, width)``, e.g. ``(10, 1, 28, 28)``.
      poolsize: the max-pooling window, ``(2, 2)`` by default.
      activation_fn: ``sigmoid`` (the default), ``ReLU``, ``tanh`` or ``linear``.

    After the layer's network is built, ``w`` (filter_shape) and ``b`` (filters,) hold its
    parameters as NumPy arrays, and ``params`` is ``[w, b]``.
    """

    def __init__(self, filter_shape, image_shape, poolsize=(2, 2), activation_fn=sigmoid):
        self.filter_shape = _ints(filter_shape, 4, "filter_shape", "ConvPoolLayer")
        self.image_shape = _ints(image_shape, 4, "image_shape", "ConvPoolLayer")
        self.poolsize = _ints(poolsize, 2, "poolsize", "ConvPoolLayer")
        self.activation_fn = activation_fn
        f, c, kh, kw = self.filter_shape
        if kh != kw or self.poolsize[0] != self.poolsize[1]:
            raise JaxnnError(
                f"ConvPoolLayer takes square filters and pools in jaxnn, got filter_shape={self.filter_shape} "
                f"and poolsize={self.poolsize}: use e.g. filter_shape=({f}, {c}, 5, 5), poolsize=(2, 2)"
            )
        if c != self.image_shape[1]:
            raise JaxnnError(
                f"ConvPoolLayer's filter_shape {self.filter_shape} has {c} input feature maps but its image_shape "
                f"{self.image_shape} has {self.image_shape[1]}: the two second entries must be equal"
            )
        self.layer = ConvPool(f, kh, self.poolsize[0], _activation(activation_fn, "ConvPoolLayer"))
        self.in_shape = self.image_shape[1:]

    def _set(self, p):
        self.w, self.b = np.array(p["w"]), np.array(p["b"])
        self.params = [self.w, self.b]

    def __repr__(self):
        return (
            f"ConvPoolLayer(filter_shape={self.filter_shape}, image_shape={self.image_shape}, "
            f"poolsize={self.poolsize}, activation_fn={getattr(self.activation_fn, '__name__', '?')})"
        )


class FullyConnectedLayer:
    """network3's fully connected layer: σ((1 − p)·x w + b) at test time, σ(dropout(x) w + b) in training.

    Args:
      n_in, n_out: its inputs (the previous layer's outputs, flattened) and neurons.
      activation_fn: ``sigmoid`` (the default), ``ReLU``, ``tanh`` or ``linear``.
      p_dropout: the probability of dropping each input in training.

    After the layer's network is built, ``w`` (n_in, n_out) and ``b`` (n_out,) hold its
    parameters in network3's orientation, and ``params`` is ``[w, b]``.
    """

    _name = "FullyConnectedLayer"

    def __init__(self, n_in, n_out, activation_fn=sigmoid, p_dropout=0.0):
        self.n_in = positive_int(n_in, f"{self._name}'s n_in")
        self.n_out = positive_int(n_out, f"{self._name}'s n_out")
        self.activation_fn = activation_fn
        self.p_dropout = p_dropout
        self.layer = self._make()
        self.in_shape = (self.n_in,)

    def _make(self):
        return FullyConnected(self.n_out, _activation(self.activation_fn, self._name), self.p_dropout)

    def _set(self, p):
        self.w, self.b = np.array(p["w"]).T, np.array(p["b"])
        self.params = [self.w, self.b]

    def __repr__(self):
        return (
            f"{self._name}(n_in={self.n_in}, n_out={self.n_out}, "
            f"activation_fn={getattr(self.activation_fn, '__name__', '?')}, p_dropout={self.p_dropout})"
        )


class SoftmaxLayer(FullyConnectedLayer):
    """network3's output layer: softmax((1 − p)·x w + b), zero-initialised, trained on the
    log-likelihood cost. Arguments and attributes as `FullyConnectedLayer`'s, without
    ``activation_fn``."""

    _name = "SoftmaxLayer"

    def __init__(self, n_in, n_out, p_dropout=0.0):
        super().__init__(n_in, n_out, None, p_dropout)

    def _make(self):
        return Softmax(self.n_out, self.p_dropout)

    def __repr__(self):
        return f"SoftmaxLayer(n_in={self.n_in}, n_out={self.n_out}, p_dropout={self.p_dropout})"


_LAYERS = (ConvPoolLayer, FullyConnectedLayer)


# -- the network


class Network:
    """network3's network: layers in order, the last a `SoftmaxLayer`.

    Args:
      layers: the layers; each one's input (``image_shape[1:]`` or ``n_in``) must be what the
        layer before it outputs, which is checked here with an error naming the layer.
      mini_batch_size: examples per mini-batch; ``ConvPoolLayer``'s ``image_shape[0]`` and
        ``SGD``'s ``mini_batch_size`` must equal it, as in the original.
      seed, key: (not in the original) an integer seed or a ``jax.random`` key for the initial
        weights and the dropout masks; by default drawn from NumPy's global generator.

    Attributes:
      layers, mini_batch_size: as given; params: every layer's ``[w, b]`` in order (NumPy).
      net: the [`jaxnn.Network`][jaxnn.net.Network] that trains; history: the last ``SGD``'s
        [`jaxnn.History`][jaxnn.history.History].
    """

    def __init__(self, layers, mini_batch_size, *, seed=None, key=None):
        self.layers = list(layers) if isinstance(layers, (list, tuple)) else layers
        if not isinstance(self.layers, list) or not self.layers or not all(isinstance(l, _LAYERS) for l in self.layers):
            raise JaxnnError(
                "Network takes a list of ConvPoolLayer, FullyConnectedLayer and SoftmaxLayer objects, "
                f"ending with a SoftmaxLayer, got {layers!r}"
            )
        if not isinstance(self.layers[-1], SoftmaxLayer):
            raise JaxnnError(
                f"the last layer must be a SoftmaxLayer (network3's cost and accuracy are its), got {self.layers[-1]!r}"
            )
        self.mini_batch_size = positive_int(mini_batch_size, "mini_batch_size")
        self._check_shapes()
        self.net = conv_net([l.layer for l in self.layers], self.layers[0].in_shape)
        if key is not None and seed is not None:
            raise JaxnnError("pass seed= or key=, not both")
        if key is None:
            key = int(np.random.randint(0, 2**31 - 1)) if seed is None else seed
        self._key = as_key(key)
        self._key, init_key = jax.random.split(self._key)
        self._set_params(init_network(init_key, self.net, jnp.float32))
        self.history = None

    def _check_shapes(self):
        shape = None
        for i, l in enumerate(self.layers):
            if isinstance(l, ConvPoolLayer):
                if l.image_shape[0] != self.mini_batch_size:
                    raise JaxnnError(
                        f"layer {i}, {l!r}, has image_shape[0] = {l.image_shape[0]} but the network's "
                        f"mini_batch_size is {self.mini_batch_size}: image_shape must start with mini_batch_size"
                    )
                if shape is not None and shape != l.in_shape:
                    raise JaxnnError(
                        f"layer {i}, {l!r}, expects images {l.in_shape} but layer {i - 1} outputs {shape}: set "
                        f"image_shape=(mini_batch_size, {', '.join(map(str, shape))})"
                        if len(shape) == 3
                        else f"layer {i}, {l!r}, follows a layer that outputs flat rows {shape}: put ConvPoolLayers first"
                    )
            elif shape is not None and math.prod(shape) != l.n_in:
                raise JaxnnError(
                    f"layer {i}, {l!r}, has n_in={l.n_in} but layer {i - 1} outputs {shape} = {math.prod(shape)} "
                    f"values per example: set n_in={'*'.join(map(str, shape))}"
                    + ("" if len(shape) == 1 else f" (= {math.prod(shape)})")
                )
            shape = l.layer.out_shape(l.in_shape)

    def _set_params(self, params):
        self._params = params
        for l, p in zip(self.layers, params):
            l._set(p)
        self.params = [a for l in self.layers for a in l.params]

    def SGD(self, training_data, epochs, mini_batch_size, eta, validation_data, test_data, lmbda=0.0):
        """Train the network using mini-batch stochastic gradient descent.

        Each epoch takes ``size(training_data) // mini_batch_size`` steps of w ← w − η∇C over
        the mini-batches in order (a short last one is dropped), C the log-likelihood plus
        ½(λ/num_training_batches)Σw². It prints network3's lines: ``Training mini-batch number i``
        every 1,000 mini-batches, then after each epoch its validation accuracy and, when that
        is the best so far (``>=``), the test accuracy; at the end the best validation accuracy,
        its iteration, and the corresponding test accuracy. Accuracies are taken over the full
        mini-batches of the validation and test data, as the original does.
        """
        m = positive_int(mini_batch_size, "mini_batch_size")
        if m != self.mini_batch_size:
            raise JaxnnError(
                f"SGD's mini_batch_size {m} differs from the network's {self.mini_batch_size}: "
                "pass the mini_batch_size the Network was built with"
            )
        epochs = positive_int(epochs, "epochs")
        eta = positive_float(eta, "eta")
        lmbda = positive_float(lmbda, "lmbda", allow_zero=True)
        train_x, train_y = self._data(training_data, "training_data", m)
        valid = self._data(validation_data, "validation_data", m)
        test = None if test_data is None else self._data(test_data, "test_data", m)
        n = len(train_x)
        num_training_batches = n // m
        params = self._params
        self._key, key = jax.random.split(self._key)
        best = {"accuracy": 0.0, "iteration": None, "test": None}

        def announce(epoch):
            first = num_training_batches * epoch
            for iteration in range(-(-first // 1000) * 1000, first + num_training_batches, 1000):
                print(f"Training mini-batch number {iteration}")

        def report(epoch, _params, history):
            validation_accuracy = history.evaluation_correct[-1] / history.evaluation_size
            print(f"Epoch {epoch}: validation accuracy {validation_accuracy:.2%}")
            if validation_accuracy >= best["accuracy"]:
                print("This is the best validation accuracy to date.")
                best["accuracy"] = validation_accuracy
                best["iteration"] = num_training_batches * (epoch + 1) - 1
                if history.test_correct and history.test_correct[-1] is not None:
                    best["test"] = history.test_accuracy[-1]
                    print(f"The corresponding test accuracy is {best['test']:.2%}")
            print(end="", flush=True)
            if epoch + 1 < epochs:
                announce(epoch + 1)

        announce(0)
        params, history = sgd(
            params,
            (train_x, train_y),
            epochs,
            m,
            eta,
            key=key,
            net=self.net,
            evaluation_data=self._full_batches(*valid),
            lmbda=lmbda,
            callback=report,
            test_data=None if test is None else self._full_batches(*test),
            **NETWORK3,
        )
        self.history = history
        if history.stopped:
            print(f"jaxnn: {history.stopped}", file=sys.stderr)
        self._set_params(params)
        print("Finished training network.")
        print(f"Best validation accuracy of {best['accuracy']:.2%} obtained at iteration {best['iteration']}")
        if test is not None:  # measured in epoch 0 at the latest, as every accuracy is >= 0
            print(f"Corresponding test accuracy of {best['test']:.2%}")

    def _data(self, data, what, m):
        try:
            x, y = data
        except (TypeError, ValueError):
            raise JaxnnError(f"{what} must be a pair (x, y) such as network3.load_data_shared() returns") from None
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim < 2 or math.prod(x.shape[1:]) != math.prod(self.net.in_shape):
            raise JaxnnError(
                f"{what} has inputs of shape {x.shape}, but the first layer takes "
                f"{math.prod(self.net.in_shape)} values per example ({self.layers[0]!r})"
            )
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
            raise JaxnnError(f"{what} must have one integer label per example, got labels {y.dtype}{list(y.shape)}")
        if len(x) < m:
            raise JaxnnError(f"{what} has {len(x)} examples, fewer than one mini-batch of {m}: pass at least {m}")
        return x, y

    def _full_batches(self, x, y):
        """The full mini-batches of (x, y): network3's accuracy is the mean over them."""
        k = len(x) // self.mini_batch_size * self.mini_batch_size
        return x[:k], y[:k]


__all__ = [
    "ConvPoolLayer",
    "FullyConnectedLayer",
    "Network",
    "ReLU",
    "SharedData",
    "SoftmaxLayer",
    "linear",
    "load_data_shared",
    "sigmoid",
    "size",
    "tanh",
]
