"""What network.py's and network2.py's façades share: the book's data and parameter shapes
converted to and from the core's, and a network object whose methods call the core.

The book keeps a network as ``weights`` (n_out, n_in) and column ``biases`` (n, 1), and its
data as Python lists of ``(x, y)`` pairs with ``x`` a (784, 1) column. The core wants rows:
``[{"w": (n_out, n_in), "b": (n_out,)}, ...]`` and arrays ``x`` (n, 784). The conversions below
are the whole of the façade's own work; training, evaluation and backprop are the core's.
"""

from __future__ import annotations

import contextlib
import functools
import io as _io
import sys
from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import optim
from jaxnn.backprop import net_backprop, net_backprop_example
from jaxnn.errors import JaxnnError
from jaxnn.net import compiled, mlp, net_forward, targets
from jaxnn.training import as_key, measure
from jaxnn.validation import check_sizes


def sigmoid(z):
    """The sigmoid function (NumPy), as in network.py."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid function (NumPy), as in network.py."""
    return sigmoid(z) * (1 - sigmoid(z))


def vectorized_result(j):
    """Return a (10, 1) unit vector with a 1.0 in the j'th position and zeroes elsewhere."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def float_dtype():
    """float64 when JAX runs with ``jax_enable_x64``, else float32 (JAX's default)."""
    return np.float64 if jax.config.jax_enable_x64 else np.float32


# -- data: lists of (x, y) pairs -> arrays, converted once per list

_CACHE_SIZE = 4
_cache: "OrderedDict[int, tuple]" = OrderedDict()


def _convert(data, what):
    try:
        xs, ys = zip(*data)
        x = np.stack([np.asarray(a).reshape(-1) for a in xs])
    except (TypeError, ValueError) as exc:
        raise JaxnnError(
            f"{what} must be a list of (x, y) pairs with every x a column of the same size, such as "
            f"mnist_loader.load_data_wrapper() returns: {exc}"
        ) from None
    first = np.asarray(ys[0])
    if first.ndim == 0:  # validation / test data: integer labels
        y = np.asarray(ys)
    else:  # training data: one-hot columns, kept as labels when they are exactly one-hot
        try:
            y = np.stack([np.asarray(t).reshape(-1) for t in ys])
        except ValueError as exc:
            raise JaxnnError(f"{what}: every y must have the same shape: {exc}") from None
        if y.ndim == 2 and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
            y = np.argmax(y, axis=1).astype(np.int32)
    return x, y


def as_arrays(data, what="data"):
    """``(x (n, n_in), y)`` from a list of ``(x, y)`` pairs, with ``y`` integer labels (n,) (from
    labels or one-hot columns) or target rows (n, n_out).

    The conversion is cached on the list itself (the same object, length, first and last pair),
    so calling ``SGD`` or ``accuracy`` again with the same list costs nothing. Changing an
    array inside a pair in place is not noticed; pass a new list instead.
    """
    if data is not None and not isinstance(data, (list, tuple)):
        data = list(data)  # e.g. Python 3's zip
    if data is None or not len(data):
        raise JaxnnError(f"{what} is empty: pass a list of (x, y) pairs")
    hit = _cache.get(id(data))
    if hit is not None and hit[0] is data and hit[1] == len(data) and hit[2] is data[0] and hit[3] is data[-1]:
        _cache.move_to_end(id(data))
        return hit[4]
    arrays = _convert(data, what)
    _cache[id(data)] = (data, len(data), data[0], data[-1], arrays)  # holding data keeps its id unique
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return arrays


def labels_of(y):
    """Integer labels from labels or target rows (network2's ``convert``, decided from the data)."""
    return y if y.ndim == 1 else np.argmax(y, axis=1)


# -- the core's compiled pieces, one set per network


@functools.lru_cache(maxsize=16)
def _compiled(net):
    forward = compiled(net_forward, net)
    example_grad = compiled(net_backprop_example, net)
    transform = optim.book_transformation(False)

    def step(params, x, y, eta, reg_scale):
        grads = net_backprop(net, params, x, y, reg_scale)
        updates, _ = transform.update(grads, optim.book_state(transform, params, eta), params)
        return optim.apply(params, updates)

    return forward, example_grad, jax.jit(step)


#: The model for what does not depend on the cost (feedforward, counting hits): the book's
#: networks are sigmoid everywhere, so network.py's and network2.py's share these compilations.
SIGMOID = jaxnn.make_model("sigmoid")


class BookNetwork:
    """The parts of network.py's and network2.py's ``Network`` that are the same in both.

    ``weights`` and ``biases`` are plain attributes holding NumPy arrays in the book's shapes;
    they are the network's state, read by every method and replaced after training, so
    assigning them (as network2's ``load`` does) works as in the original.
    """

    def __init__(self, sizes, seed=None, key=None):
        check_sizes(sizes)
        self.num_layers = len(sizes)
        self.sizes = sizes
        if key is not None and seed is not None:
            raise JaxnnError("pass seed= or key=, not both")
        if key is None:
            # Like the original's np.random.randn, a fresh network per call that np.random.seed(...) fixes.
            seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else seed
            key = seed
        self._key = as_key(key)

    # -- the state, in the book's shapes and the core's

    def _next_key(self):
        self._key, key = jax.random.split(self._key)
        return key

    def _initialize(self, initializer):
        self._set_params(jaxnn.init_params(self._next_key(), self.sizes, initializer, float_dtype()))

    def _params(self):
        """The core's parameters from ``weights`` and ``biases``."""
        dtype = float_dtype()
        params = []
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            w, b = np.asarray(w, dtype), np.asarray(b, dtype)
            if w.ndim != 2 or b.shape != (w.shape[0], 1):
                raise JaxnnError(
                    f"layer {l} has weights {w.shape} and biases {b.shape}: expected weights (n_out, n_in) "
                    "and column biases (n_out, 1), as the book's code keeps them"
                )
            params.append({"w": jnp.asarray(w), "b": jnp.asarray(b[:, 0])})
        jaxnn.sizes_of(params)  # layers that do not fit together fail here, clearly
        return params

    def _set_params(self, params):
        self.weights = [np.array(p["w"]) for p in params]
        self.biases = [np.array(p["b"]).reshape(-1, 1) for p in params]

    def _model(self, regularized=False):
        """The core's model: sigmoid everywhere, this network's cost, and L2 when regularized."""
        return jaxnn.make_model("sigmoid", cost=self._cost_name(), regularizer="l2" if regularized else "none")

    def _net(self, regularized=False):
        """The core's network: these sizes, with `_model`'s components."""
        return mlp(self.sizes, self._model(regularized))

    # -- the book's methods

    def feedforward(self, a):
        """Return the output of the network if ``a`` is input: a column (n_in, 1), or (n_in, m)."""
        a = np.asarray(a)
        forward = _compiled(mlp(self.sizes, SIGMOID))[0]
        if a.ndim == 1:
            return np.asarray(forward(self._params(), a[None, :]))[0]
        return np.asarray(forward(self._params(), a.T)).T

    def backprop(self, x, y):
        """Return ``(nabla_b, nabla_w)``, the gradient of the cost C_x of one example, layer by layer
        in the shapes of ``biases`` and ``weights`` (the core's hand-written BP1-BP4)."""
        params = self._params()
        x = jnp.asarray(np.asarray(x, float_dtype()).reshape(-1))
        y = np.asarray(y)
        y = targets(y.reshape(-1) if y.ndim else y, self.sizes[-1], x.dtype).reshape(-1)
        nabla = _compiled(self._net())[1](params, x, y)
        return [np.array(g["b"]).reshape(-1, 1) for g in nabla], [np.array(g["w"]) for g in nabla]

    def _update(self, mini_batch, eta, reg_scale=0.0):
        """One gradient step on a list of (x, y) pairs: w ← w − (η/m)Σ∇C_x − η·reg_scale·w."""
        x, y = _convert(mini_batch, "mini_batch")
        params = self._params()
        y = targets(y, self.sizes[-1], params[0]["w"].dtype)
        step = _compiled(self._net(regularized=True))[2]
        self._set_params(step(params, jnp.asarray(x, params[0]["w"].dtype), y, eta, reg_scale))

    def _count(self, data, what):
        x, y = as_arrays(data, what)
        x = jnp.asarray(x.astype(float_dtype(), copy=False))
        return measure(mlp(self.sizes, SIGMOID), self._params(), x, jnp.asarray(labels_of(y)), 0.0, None)[1]

    def _metrics(self, data, lmbda, what):
        """network2's ``(total_cost, accuracy)`` of a list of pairs, in one compiled pass."""
        return self._metrics_of(*as_arrays(data, what), lmbda)

    def _metrics_of(self, x, y, lmbda):
        x = jnp.asarray(x.astype(float_dtype(), copy=False))
        return measure(self._net(regularized=lmbda > 0), self._params(), x, jnp.asarray(y), lmbda / len(x), None)

    def _sgd(self, training_data, epochs, mini_batch_size, eta, evaluation_data, report, lmbda=0.0, **monitors):
        """Trains with [`jaxnn.sgd`][jaxnn.training.sgd] (one jitted call per epoch), calling ``report(j, history)``
        after each epoch, and stores the trained parameters in ``weights`` and ``biases``.

        Where the core stops a diverged run, the original goes on with NaN weights for the
        remaining epochs; so does this, saying so once on stderr, so that stdout and the four
        lists stay the original's.
        """
        train = as_arrays(training_data, "training_data")
        evaluation = None if evaluation_data is None else as_arrays(evaluation_data, "evaluation data")
        if isinstance(mini_batch_size, int) and mini_batch_size > len(train[0]):
            mini_batch_size = len(train[0])  # the original's slicing makes one mini-batch of all the data
        model = self._model()
        out = sys.stdout

        def callback(j, params, history):
            with contextlib.redirect_stdout(out):
                report(j, history)

        with contextlib.redirect_stdout(_io.StringIO()):  # the core's divergence note, replaced below
            params, history = jaxnn.sgd(
                self._params(),
                train,
                epochs,
                mini_batch_size,
                eta,
                key=self._next_key(),
                evaluation_data=evaluation,
                cost=model.cost,
                activation=model.activation,
                lmbda=lmbda,
                callback=callback,
                **monitors,
            )
        self._set_params(params)
        if len(history.epoch) < epochs:
            j = len(history.epoch)
            print(
                f"jaxnn: training diverged in epoch {j} (the weights became NaN or infinite; try a smaller "
                "eta or lmbda); as in the original, they stay NaN for the remaining epochs",
                file=sys.stderr,
            )
            self._set_params(jax.tree_util.tree_map(lambda p: jnp.full_like(p, jnp.nan), params))
            _continue_diverged(self, history, j, epochs, train, evaluation, lmbda, monitors, report)
        return history


def _continue_diverged(net, history, start, epochs, train, evaluation, lmbda, monitors, report):
    """Records and reports epochs ``start..epochs-1`` of a network whose weights are NaN, with the
    figures the core's monitoring would give for it (what the original prints after diverging)."""
    training = net._metrics_of(*train, lmbda)
    evaluated = net._metrics_of(*evaluation, lmbda) if evaluation is not None else None
    for j in range(start, epochs):
        history.epoch.append(j)
        if evaluated is not None and (
            monitors.get("monitor_evaluation_accuracy", True) or monitors.get("monitor_evaluation_cost")
        ):
            history.evaluation_correct.append(evaluated[1])
        if evaluated is not None and monitors.get("monitor_evaluation_cost"):
            history.evaluation_cost.append(evaluated[0])
        if monitors.get("monitor_training_cost"):
            history.training_cost.append(training[0])
        if monitors.get("monitor_training_accuracy"):
            history.training_correct.append(training[1])
        report(j, history)
