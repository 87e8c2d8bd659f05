"""network3's deep networks: a stack of layers, its loss, two gradient paths, and SGD training.

A :class:`ConvNet` is a tuple of :class:`~jaxnn.layers.Layer` records plus the shape of one
input example, so that every layer's shapes are known before anything is compiled. Its
parameters are a list with one dict per layer. The chapter-6 network of the book::

    net = jaxnn.conv_net([jaxnn.ConvPool(20, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)],
                         in_shape=(1, 28, 28))
    params = jaxnn.conv_init(jax.random.key(0), net)
    params, history = jaxnn.train_convnet(net, params, data.training, 60, 10, 0.1, key=1,
                                          validation_data=data.validation, test_data=data.test)

Inputs may be flat rows ``(m, 784)`` or images ``(m, 1, 28, 28)``; each is reshaped to
``(m,) + in_shape``, as network3 reshapes its input rows. The cost is network3's: the mean
log-likelihood of the output layer plus ``reg_scale``·½Σw² over every layer's weights.
:func:`conv_backprop` runs each layer's hand-written backward pass; :func:`conv_autodiff_grad`
is ``jax.grad`` of :func:`conv_loss`; both have one signature. :func:`ensemble_predict` lets
several trained networks vote by plurality. Details: ``docs/conv.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn.errors import JaxnnError
from jaxnn.layers import Layer, make_layer
from jaxnn.network import targets
from jaxnn.training import _book_sgd_update, as_key, epoch_key
from jaxnn.validation import as_targets, positive_float, positive_int

Shape = Tuple[int, ...]


class ConvNet(NamedTuple):
    """A network as network3 builds one: layers in order, the last one the output layer.

    Hashable, so it can be a static ``jax.jit`` argument.

    Attributes:
      layers: the :class:`~jaxnn.layers.Layer` records.
      in_shape: the shape of one input example, e.g. ``(1, 28, 28)``.
      shapes: ``shapes[l]`` is layer l's input shape and ``shapes[-1]`` the network's output shape.
    """

    layers: Tuple[Layer, ...]
    in_shape: Shape
    shapes: Tuple[Shape, ...]

    def __repr__(self) -> str:
        return f"ConvNet({list(self.layers)!r}, in_shape={self.in_shape})"


def conv_net(layers: Sequence, in_shape: Sequence[int]) -> ConvNet:
    """Builds a :class:`ConvNet` from layers or layer specs, checking that their shapes fit.

    Args:
      layers: :class:`~jaxnn.layers.Layer` records or specs such as
        ``("conv_pool", {"filters": 20, "filter_size": 5})``; the last is the output layer.
      in_shape: the shape of one input example, e.g. ``(1, 28, 28)`` for MNIST.
    """
    layers = tuple(make_layer(s) for s in layers)
    if not layers:
        raise JaxnnError("a network needs at least one layer: end it with Softmax(n_classes)")
    shape = tuple(int(s) for s in in_shape)
    if not shape or any(s < 1 for s in shape):
        raise JaxnnError(f"in_shape must be a tuple of positive sizes, e.g. (1, 28, 28), got {in_shape!r}")
    shapes = [shape]
    for layer in layers:
        shape = tuple(layer.out_shape(shape))
        shapes.append(shape)
    if len(shapes[-1]) != 1:
        raise JaxnnError(f"the last layer must output one row of class scores per example, got shape {shapes[-1]}: end with Softmax(n_classes)")
    return ConvNet(layers, shapes[0], tuple(shapes))


def conv_init(key, net: ConvNet, dtype=jnp.float32) -> List[dict]:
    """Draws every layer's parameters with network3's initialisation (one key per layer)."""
    keys = jax.random.split(as_key(key), len(net.layers))
    return [layer.init(k, shape, dtype)[0] for layer, k, shape in zip(net.layers, keys, net.shapes)]


def conv_masks(net: ConvNet, key, m: int, dtype=jnp.float32, train: bool = True) -> list:
    """Each layer's input multiplier: fresh dropout masks for a batch of m when ``train``, the
    test-time scale 1 − p otherwise; ``None`` for layers without dropout."""
    keys = [None] * len(net.layers) if key is None else list(jax.random.split(key, len(net.layers)))
    return [layer.dropout(k, (m,) + shape, dtype, train) for layer, k, shape in zip(net.layers, keys, net.shapes)]


def _images(net: ConvNet, x):
    x = jnp.asarray(x)
    size = math.prod(net.in_shape)
    if x.ndim == 0 or x.size % size or x.shape[1:] not in ((size,), net.in_shape):
        raise JaxnnError(
            f"expected inputs of shape (m, {size}) or (m, {', '.join(map(str, net.in_shape))}) for "
            f"in_shape={net.in_shape}, got {x.shape}"
        )
    return x.reshape((x.shape[0],) + net.in_shape)


def _resolve(net, params, x, y, masks):
    x = _images(net, x)
    if masks is None:
        masks = conv_masks(net, None, x.shape[0], x.dtype, train=False)
    if y is not None:
        y = targets(y, net.shapes[-1][0], x.dtype).reshape(x.shape[0], -1)
    return x, y, masks


def _hidden(net: ConvNet, params, x, masks):
    """Runs every layer but the output layer: ``(inputs of each layer, caches)``."""
    inputs, caches = [x], []
    for layer, p, mult in zip(net.layers[:-1], params[:-1], masks[:-1]):
        x, cache = layer.forward(p, x, mult)
        inputs.append(x)
        caches.append(cache)
    return inputs, caches


def conv_forward(net: ConvNet, params, x, masks=None):
    """The output layer's activations (class probabilities for a softmax output).

    Args:
      masks: each layer's input multiplier from :func:`conv_masks`; the default is the
        test-time scaling by 1 − p, network3's ``output``.
    """
    x, _, masks = _resolve(net, params, x, None, masks)
    inputs, _ = _hidden(net, params, x, masks)
    return net.layers[-1].forward(params[-1], inputs[-1], masks[-1])[0]


def conv_penalty(net: ConvNet, params):
    """½Σw² over every layer's weights (network3's ``l2_norm_squared``/2; biases are not penalised)."""
    return sum((0.5 * jnp.sum(p[k] ** 2) for layer, p in zip(net.layers, params) for k in layer.weights),
               jnp.zeros((), jax.tree_util.tree_leaves(params)[0].dtype))


def conv_loss(net: ConvNet, params, x, y, reg_scale=0.0, masks=None):
    """network3's cost: −(1/m)Σ_x ln a_{y(x)} + reg_scale·½Σw².

    ``train_convnet`` uses ``reg_scale`` = λ/(n // m), network3's λ over the number of
    mini-batches; network2's weight decay is ``reg_scale`` = λ/n (see ``docs/conv.md``).

    Args:
      y: integer labels ``(m,)`` or one-hot rows.
      masks: as in :func:`conv_forward`.
    """
    x, y, masks = _resolve(net, params, x, y, masks)
    inputs, _ = _hidden(net, params, x, masks)
    out = net.layers[-1]
    if out.log_forward is not None:
        log_a = out.log_forward(params[-1], inputs[-1], masks[-1])
    else:
        log_a = jnp.log(out.forward(params[-1], inputs[-1], masks[-1])[0])
    return -jnp.mean(jnp.sum(y * log_a, axis=-1)) + reg_scale * conv_penalty(net, params)


def conv_autodiff_grad(net: ConvNet, params, x, y, reg_scale=0.0, masks=None):
    """``jax.grad`` of :func:`conv_loss`: the reference the hand-written path must equal."""
    return jax.grad(lambda p: conv_loss(net, p, x, y, reg_scale, masks))(params)


def conv_backprop(net: ConvNet, params, x, y, reg_scale=0.0, masks=None):
    """The gradient of :func:`conv_loss` from each layer's hand-written backward pass.

    The output layer starts from the log-likelihood (δ = (a − y)/m for softmax), then each
    layer's ``backward`` takes ∂C/∂(its output) to its parameter gradients and ∂C/∂(its
    input), which is the layer below's upstream gradient. The L2 term adds reg_scale·w.
    Same signature as :func:`conv_autodiff_grad`.
    """
    x, y, masks = _resolve(net, params, x, y, masks)
    inputs, caches = _hidden(net, params, x, masks)
    out = net.layers[-1]
    a, cache = out.forward(params[-1], inputs[-1], masks[-1])
    if out.loss_backward is not None:
        grads_out, g = out.loss_backward(params[-1], cache, y)
    else:
        grads_out, g = out.backward(params[-1], cache, -y / (y.shape[0] * a))  # ∂C/∂a for −mean(Σ y ln a)
    grads = [None] * len(net.layers)
    grads[-1] = grads_out
    for l in range(len(net.layers) - 2, -1, -1):
        grads[l], g = net.layers[l].backward(params[l], caches[l], g)
    return [
        {k: v + reg_scale * p[k] if k in layer.weights else v for k, v in gl.items()}
        for layer, p, gl in zip(net.layers, params, grads)
    ]


#: The gradient paths of :func:`train_convnet`, by name.
CONV_GRADIENTS: Dict[str, Callable] = {"backprop": conv_backprop, "autodiff": conv_autodiff_grad}


def network3_reg_scale(lmbda: float, n: int, mini_batch_size: int) -> float:
    """network3's L2 factor: λ / num_training_batches, with num_training_batches = n // m."""
    return lmbda / (n // mini_batch_size)


# -- training


def conv_epoch_body(net: ConvNet, gradient: str, n: int, mini_batch_size: int, shuffle: bool = False):
    """One epoch as a pure function: ``epoch(params, key, x, y, hp) -> params``.

    ``n // mini_batch_size`` full mini-batches are scanned with plain SGD, w ← w − η∇C; the
    n % m examples left over are not used (network3 drops incomplete batches). Mini-batches
    are gathered by index from x and y, in order as network3 does, or in a fresh permutation
    of each epoch's key with ``shuffle``. ``hp`` holds ``eta`` and ``reg_scale``.
    """
    grad = CONV_GRADIENTS[gradient]
    m = mini_batch_size
    steps = n // m

    def epoch(params, key, x, y, hp):
        perm_key, dropout_key = jax.random.split(key)
        order = jax.random.permutation(perm_key, n) if shuffle else jnp.arange(n)
        batches = order[: steps * m].reshape(steps, m)
        hp = {k: jnp.asarray(v, x.dtype) for k, v in hp.items()}

        def step(params, inputs):
            idx, i = inputs
            xb = x[idx]
            masks = conv_masks(net, jax.random.fold_in(dropout_key, i), m, x.dtype)
            g = grad(net, params, xb, y[idx], hp["reg_scale"], masks)
            return _book_sgd_update(params, g, None, hp)[0], None

        params, _ = jax.lax.scan(step, params, (batches, jnp.arange(steps)))
        return params

    return epoch


@functools.lru_cache(maxsize=32)
def conv_epoch_fn(net: ConvNet, gradient: str, n: int, mini_batch_size: int, shuffle: bool = False):
    """:func:`conv_epoch_body`, compiled, with the parameters donated so XLA updates them in place."""
    return jax.jit(conv_epoch_body(net, gradient, n, mini_batch_size, shuffle), donate_argnums=0)


@functools.lru_cache(maxsize=32)
def _count_fn(net: ConvNet):
    def count(params, x, labels):
        return jnp.sum(jnp.argmax(conv_forward(net, params, x), axis=-1) == labels)

    return jax.jit(count)


def conv_evaluate(net: ConvNet, params, x, labels, batch_size: int = 1000) -> int:
    """How many examples the network classifies correctly (test-time dropout scaling), in
    batches of ``batch_size`` to bound the memory the feature maps take."""
    x, labels = jnp.asarray(x), jnp.asarray(labels)
    if labels.ndim == 2:
        labels = jnp.argmax(labels, axis=-1)
    count = _count_fn(net)
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    return sum(int(count(params, x[i:i + batch_size].astype(dtype), labels[i:i + batch_size]))
               for i in range(0, len(x), batch_size))


@dataclasses.dataclass
class ConvHistory:
    """What happened in each epoch of :func:`train_convnet`.

    Attributes:
      epoch: epoch numbers, from 0.
      validation_accuracy: the fraction of validation examples classified correctly.
      test_accuracy: the test accuracy, measured (as network3 does) only in epochs whose
        validation accuracy is at least the best so far, ``None`` in the others.
      seconds: wall time of each epoch's training call (the first includes compilation).
      steps_per_epoch: the SGD steps in each epoch, n // mini_batch_size.
    """

    epoch: List[int] = dataclasses.field(default_factory=list)
    validation_accuracy: List[float] = dataclasses.field(default_factory=list)
    test_accuracy: List[Optional[float]] = dataclasses.field(default_factory=list)
    seconds: List[float] = dataclasses.field(default_factory=list)
    steps_per_epoch: int = 0

    def best(self) -> Tuple[int, float, Optional[float]]:
        """network3's report: ``(epoch, validation accuracy, test accuracy)`` at the best
        validation epoch, the later one on a tie (network3 compares with >=)."""
        if not self.validation_accuracy:
            raise JaxnnError("no validation accuracy was recorded (pass validation_data), so there is no best epoch")
        v = np.asarray(self.validation_accuracy)
        i = int(len(v) - 1 - np.argmax(v[::-1]))
        return self.epoch[i], self.validation_accuracy[i], self.test_accuracy[i]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _data(net: ConvNet, data, what: str):
    try:
        x, y = data
    except (TypeError, ValueError):
        raise JaxnnError(f"{what} must be a pair (x, y) of inputs and labels") from None
    x = np.asarray(x)
    _images(net, x[:1] if len(x) else x)
    if len(x) == 0:
        raise JaxnnError(f"{what} are empty: pass at least one example")
    y = as_targets(y, len(x), net.shapes[-1][0], f"{what} labels")
    return x, y


def train_convnet(
    net: ConvNet,
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
    """Trains a :class:`ConvNet` by mini-batch SGD with network3's semantics.

    Each epoch takes ``n // mini_batch_size`` steps of w ← w − η∇C, where C is
    :func:`conv_loss` with network3's L2 factor λ/(n // m); the last, incomplete mini-batch is
    dropped. As in network3 the data are visited in order (``shuffle=True`` draws a fresh order
    each epoch instead). After each epoch the validation accuracy is measured, and the test
    accuracy too whenever the validation accuracy is at least the best so far;
    ``history.best()`` is the figure network3 reports.

    Args:
      net: the network (:func:`conv_net`).
      params: initial parameters (:func:`conv_init`); not modified.
      training_data: ``(x, y)``: inputs as rows or images, labels as integers or one-hot rows.
      epochs: the number of passes over the training data.
      mini_batch_size: examples per gradient step (network3's mini_batch_size).
      eta: the learning rate η.
      key: a ``jax.random`` key (or integer seed) for dropout masks and shuffles.
      validation_data, test_data: optional ``(x, labels)``.
      lmbda: network3's L2 parameter λ.
      gradient: ``"backprop"`` (each layer's hand-written backward) or ``"autodiff"`` (``jax.grad``).
      shuffle: visit the training data in a fresh random order each epoch.
      verbose: print network3's per-epoch lines.

    Returns:
      ``(params, history)``: the trained parameters and a :class:`ConvHistory`.
    """
    if not isinstance(net, ConvNet):
        raise JaxnnError("net must be a ConvNet: build it with jaxnn.conv_net(layers, in_shape)")
    if gradient not in CONV_GRADIENTS:
        raise JaxnnError(f"unknown gradient {gradient!r}: choose one of {', '.join(CONV_GRADIENTS)}")
    eta = positive_float(eta, "eta")
    lmbda = positive_float(lmbda, "lmbda", allow_zero=True)
    epochs = positive_int(epochs, "epochs", minimum=0)
    mini_batch_size = positive_int(mini_batch_size, "mini_batch_size")
    key = as_key(key)
    x, y = _data(net, training_data, "training_data")
    n = len(x)
    if mini_batch_size > n:
        raise JaxnnError(f"mini_batch_size {mini_batch_size} is larger than the {n} training examples: use at most {n}")
    evaluation = {name: _data(net, d, name) for name, d in (("validation_data", validation_data), ("test_data", test_data))
                  if d is not None}
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    x = jnp.asarray(x, dtype)
    y = jnp.asarray(y) if y.ndim == 1 else jnp.asarray(y, dtype)
    run_epoch = conv_epoch_fn(net, gradient, n, mini_batch_size, bool(shuffle))
    hp = {"eta": eta, "reg_scale": network3_reg_scale(lmbda, n, mini_batch_size)}
    params = jax.tree_util.tree_map(jnp.array, params)  # a private copy: epochs donate it
    history = ConvHistory(steps_per_epoch=n // mini_batch_size)
    best = -1.0
    for j in range(epochs):
        start = time.perf_counter()
        params = run_epoch(params, epoch_key(key, j), x, y, hp)
        jax.block_until_ready(params)
        history.seconds.append(time.perf_counter() - start)
        history.epoch.append(j)
        test = None
        if "validation_data" in evaluation:
            vx, vy = evaluation["validation_data"]
            acc = conv_evaluate(net, params, vx, vy) / len(vx)
            history.validation_accuracy.append(acc)
            if verbose:
                print(f"Epoch {j}: validation accuracy {acc:.2%}")
            if acc >= best:
                best = acc
                if verbose:
                    print("This is the best validation accuracy to date.")
                if "test_data" in evaluation:
                    tx, ty = evaluation["test_data"]
                    test = conv_evaluate(net, params, tx, ty) / len(tx)
                    if verbose:
                        print(f"The corresponding test accuracy is {test:.2%}")
        elif "test_data" in evaluation:
            tx, ty = evaluation["test_data"]
            test = conv_evaluate(net, params, tx, ty) / len(tx)
        history.test_accuracy.append(test)
    return params, history


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
        if not isinstance(net, ConvNet):
            raise JaxnnError(f"ensemble member {i}'s net must be a ConvNet: build it with jaxnn.conv_net(layers, in_shape)")
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        xs = jnp.asarray(x)
        votes.append(np.concatenate([
            np.asarray(jnp.argmax(_forward_fn(net)(params, xs[j:j + batch_size].astype(dtype)), axis=-1))
            for j in range(0, len(xs), batch_size)
        ]))
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
        raise JaxnnError(f"votes must be non-negative integer classes of shape (members, examples), got {votes.dtype} {votes.shape}")
    k, m = votes.shape
    n = int(votes.max(initial=0)) + 1 if n_classes is None else int(n_classes)
    counts = np.zeros((m, n), np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(m), (k, m)), votes), 1)
    tied = counts == counts.max(axis=1, keepdims=True)          # (m, n): the classes with most votes
    first = np.argmax(tied[np.arange(m)[None, :], votes], axis=0)  # the earliest member voting for one
    return votes[first, np.arange(m)]


def ensemble_predict(nets_and_params, x, batch_size: int = 1000) -> np.ndarray:
    """Classifies x by the plurality vote of several networks (see :func:`plurality`).

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
def _forward_fn(net: ConvNet):
    return jax.jit(lambda params, x: conv_forward(net, params, x))


__all__ = [
    "CONV_GRADIENTS",
    "ConvHistory",
    "ConvNet",
    "conv_autodiff_grad",
    "conv_backprop",
    "conv_epoch_body",
    "conv_epoch_fn",
    "conv_evaluate",
    "conv_forward",
    "conv_init",
    "conv_loss",
    "conv_masks",
    "conv_net",
    "conv_penalty",
    "ensemble_predict",
    "ensemble_votes",
    "network3_reg_scale",
    "plurality",
    "train_convnet",
]
