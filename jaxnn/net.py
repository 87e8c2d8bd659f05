"""Every network of the book as one kind of value: a stack of layers, a cost and a regularizer.

A [`Network`][jaxnn.net.Network] is a tuple of [`Layer`][jaxnn.layers.Layer] records, the shape of one input
example, and the components that score its output: the cost and the weight penalty. Its
parameters are a list with one dict per layer. network.py's and network2.py's networks are
[`mlp`][jaxnn.net.mlp] stacks of [`FullyConnected`][jaxnn.layers.FullyConnected] layers; network3's conv nets are
built with [`network`][jaxnn.net.network] (or [`conv_net`][jaxnn.net.conv_net]) from ``ConvPool``, ``FullyConnected`` and
``Softmax``. The same pure functions run both::

    net = jaxnn.mlp([784, 30, 10])                                   # network.py's network
    net = jaxnn.conv_net([jaxnn.ConvPool(20, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)],
                         in_shape=(1, 28, 28))                       # network3's chapter 6 net
    params = jaxnn.init_network(jax.random.key(0), net)
    a = net_forward(net, params, x)
    c = net_loss(net, params, x, y)        # mean cost (+ reg_scale · penalty)

The public functions [`forward`][jaxnn.net.forward], [`loss`][jaxnn.net.loss], [`autodiff_grad`][jaxnn.net.autodiff_grad], [`predict`][jaxnn.net.predict],
[`evaluate`][jaxnn.net.evaluate] and [`accuracy`][jaxnn.net.accuracy] take the parameters first; with ``net=`` they run any
network, and without it they build network.py's from the parameters' sizes and the components
given by name (``cost="cross-entropy"``, ``activation="tanh"``, ...). Inputs are rows ``(m,
n_in)``, or images ``(m, *in_shape)`` for a network of images; targets are integer labels or
one-hot rows.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp

from jaxnn import _cache
from jaxnn.activations import Activation
from jaxnn.activations import activations as _activations
from jaxnn.costs import Cost
from jaxnn.costs import costs as _costs
from jaxnn.errors import JaxnnError, NotDifferentiableError
from jaxnn.initializers import initializers as _initializers
from jaxnn.layers import FullyConnected, Layer, make_layer
from jaxnn.regularizers import Regularizer
from jaxnn.regularizers import none as _no_penalty
from jaxnn.regularizers import regularizers as _regularizers
from jaxnn.validation import (
    as_examples,
    as_labels,
    as_params,
    as_tree,
    check_sizes,
    choice,
    fits_dtype,
    float_dtype,
    prng_key,
    sizes_of,
)

# JAX's persistent compilation cache in ~/.cache/jaxnn/xla (opt out: JAXNN_NO_COMPILATION_CACHE=1).
# Every module that compiles a network imports this one (and jaxnn.initializers, which draws
# the weights, does the same), so the cache is set before the first compilation, and
# `import jaxnn` alone (which imports no JAX) leaves JAX's settings alone.
_cache.enable()

Shape = Tuple[int, ...]
Params = List[dict]

#: network.py's and network2.py's dropout modes (``None`` for no dropout).
DROPOUT_MODES = (None, "book", "inverted")


class Network(NamedTuple):
    """A network: layers in order, the last one the output layer, and what scores its output.

    Hashable, so it can be a static ``jax.jit`` argument.

    Attributes:
      layers: the [`Layer`][jaxnn.layers.Layer] records.
      in_shape: the shape of one input example, e.g. ``(784,)`` or ``(1, 28, 28)``.
      shapes: ``shapes[l]`` is layer l's input shape and ``shapes[-1]`` the network's output shape.
      cost: the cost record (the book's quadratic, cross-entropy or log-likelihood, ...).
      regularizer: the weight penalty, scaled at run time by ``reg_scale`` (λ/n in network2).
    """

    layers: Tuple[Layer, ...]
    in_shape: Shape
    shapes: Tuple[Shape, ...]
    cost: Cost
    regularizer: Regularizer

    @property
    def n_out(self) -> int:
        return self.shapes[-1][0]

    @property
    def output_activation(self) -> Activation:
        return self.layers[-1].activation  # type: ignore[return-value]

    @property
    def sizes(self) -> Optional[List[int]]:
        """``[n_in, n_1, ..., n_out]`` for a stack of fully connected layers, else ``None``."""
        if len(self.in_shape) != 1 or any(layer.name not in ("fully_connected", "softmax") for layer in self.layers):
            return None
        return [s[0] for s in self.shapes]

    def __repr__(self) -> str:
        return (
            f"Network({list(self.layers)!r}, in_shape={self.in_shape}, cost={self.cost.name!r}, "
            f"regularizer={self.regularizer.name!r})"
        )


def network(layers: Sequence, in_shape: Sequence[int], cost="log-likelihood", regularizer="l2") -> Network:
    """Builds a [`Network`][jaxnn.net.Network] from layers or layer specs, checking that their shapes fit.

    Args:
      layers: [`Layer`][jaxnn.layers.Layer] records or specs such as
        ``("conv_pool", {"filters": 20, "filter_size": 5})``; the last is the output layer.
      in_shape: the shape of one input example, e.g. ``(1, 28, 28)`` for MNIST images.
      cost: the cost (a name or record); network3's is the log-likelihood.
      regularizer: the weight penalty (``"l2"``, network3's ½Σw², ``"l1"`` or ``"none"``).
    """
    built = tuple(make_layer(s) for s in layers)
    if not built:
        raise JaxnnError("a network needs at least one layer: end it with Softmax(n_classes)")
    try:
        shape = tuple(int(s) for s in in_shape)
    except (TypeError, ValueError):
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise JaxnnError(f"in_shape must be a tuple of positive sizes, e.g. (1, 28, 28), got {in_shape!r}")
    shapes = [shape]
    for layer in built:
        shape = tuple(layer.out_shape(shape))
        shapes.append(shape)
    if len(shapes[-1]) != 1:
        raise JaxnnError(
            f"the last layer must output one row of class scores per example, got shape {shapes[-1]}: "
            "end with Softmax(n_classes)"
        )
    out = built[-1]
    if out.logits is None or out.backward_z is None or out.activation is None:
        raise JaxnnError(
            f"the last layer must be an output layer with an activation, such as FullyConnected or "
            f"Softmax, not {out.name}"
        )
    cost_record = _costs.get(cost)
    reason = cost_record.unsupported(out.activation)
    if reason:
        raise JaxnnError(reason)
    return Network(built, shapes[0], tuple(shapes), cost_record, _regularizers.get(regularizer))


def conv_net(layers: Sequence, in_shape: Sequence[int]) -> Network:
    """network3's network: [`network`][jaxnn.net.network] with its log-likelihood cost and L2 penalty ½Σw²."""
    return network(layers, in_shape)


class Model(NamedTuple):
    """The components of network.py's and network2.py's networks, by record.

    Attributes:
      activation, output_activation, cost: component records.
      regularizer: the weight penalty; its strength λ/n is a run-time number, not part of the model.
      dropout: ``None``, ``"book"`` (drop hidden units in training, scale them by 1 − p at test
        time, as network3 does) or ``"inverted"`` (scale by 1/(1 − p) in training instead).
        The rate p is a run-time number too.
    """

    activation: Activation
    output_activation: Activation
    cost: Cost
    regularizer: Regularizer = _no_penalty
    dropout: Optional[str] = None


def make_model(
    activation="sigmoid", output_activation=None, cost="quadratic", regularizer="none", dropout=None
) -> Model:
    """Resolves component names into a [`Model`][jaxnn.net.Model] and checks that they fit together.

    Args:
      activation: the hidden layers' activation (name or record).
      output_activation: the output layer's; defaults to ``activation`` (network.py uses
        sigmoid everywhere).
      cost: the cost (name or record).
      regularizer: the weight penalty (``"none"``, ``"l2"``, ``"l1"`` or a record).
      dropout: ``None``, ``"book"`` or ``"inverted"``; see [`Model`][jaxnn.net.Model].
    """
    if isinstance(activation, Model):
        return activation
    act = _activations.get(activation)
    out = _activations.get(output_activation) if output_activation is not None else act
    cost_record = _costs.get(cost)
    reason = cost_record.unsupported(out)
    if reason:
        raise JaxnnError(reason)
    choice(dropout, DROPOUT_MODES, "dropout mode")
    return Model(act, out, cost_record, _regularizers.get(regularizer), dropout)


def mlp(sizes: Sequence[int], model: Any = None, *, p_dropout: float = 0.0, init="default", **components) -> Network:
    """network.py's and network2.py's network: a stack of fully connected layers.

    Layer l has ``sizes[l + 1]`` neurons; the hidden layers use the model's activation and the
    last its output activation. With a dropout mode and ``p_dropout`` > 0 every layer but the
    first drops its input (the hidden layers' outputs), as network2-style dropout does.

    Args:
      sizes: layer widths, input first, e.g. ``[784, 30, 10]``.
      model: a [`Model`][jaxnn.net.Model]; otherwise ``components`` are passed to [`make_model`][jaxnn.net.make_model].
      p_dropout: the dropout rate of the hidden units.
      init: the initializer by name: ``"default"`` (network2) or ``"large"`` (network.py).
    """
    sizes = check_sizes(sizes)
    model = model if isinstance(model, Model) else make_model(**components)
    init = _initializers.get(init).name
    p = float(p_dropout) if model.dropout is not None else 0.0
    mode = model.dropout or "book"
    layers = [
        FullyConnected(
            n,
            model.output_activation if l == len(sizes) - 2 else model.activation,
            p_dropout=p if l else 0.0,
            init=init,
            dropout=mode,
        )
        for l, n in enumerate(sizes[1:])
    ]
    return network(layers, (sizes[0],), model.cost, model.regularizer)


def check_network(net, components: Optional[dict] = None) -> Network:
    """``net`` when it is a [`Network`][jaxnn.net.Network] and no components are named beside it (they belong
    to the network: its layers, cost and regularizer)."""
    if not isinstance(net, Network):
        raise JaxnnError(
            "net must be a Network: build it with jaxnn.network(layers, in_shape), jaxnn.conv_net or jaxnn.mlp"
        )
    if components:
        raise JaxnnError(
            f"{', '.join(sorted(components))}: these components belong to the network; pass them when "
            "building it (jaxnn.network(..., cost=...) or the layers), not beside net="
        )
    return net


def init_network(key, net: Network, dtype=jnp.float32) -> Params:
    """Draws every layer's parameters (one key per layer, split from ``key``)."""
    check_network(net)
    dtype = float_dtype(dtype)
    keys = jax.random.split(prng_key(key), len(net.layers))
    return [layer.init(k, shape, dtype)[0] for layer, k, shape in zip(net.layers, keys, net.shapes)]


def rates(net: Network, dtype=jnp.float32):
    """The configured dropout rate of each layer's input, as an array (run-time numbers)."""
    return jnp.asarray([layer.p_dropout for layer in net.layers], dtype)


def masks(net: Network, key, m: int, dtype=jnp.float32, train: bool = True, p_dropout=None) -> list:
    """Each layer's input multiplier: fresh dropout masks for a batch of m when ``train``, the
    test-time multipliers otherwise; ``None`` for layers without dropout.

    ``p_dropout`` (one rate per layer, traced or not) replaces the configured rates: the layers
    built with dropout then use it, so a sweep can vary the rate in one compiled program.
    """
    dropping = any(layer.p_dropout > 0 for layer in net.layers)
    keys: list = (
        [None] * len(net.layers) if key is None or not dropping else list(jax.random.split(key, len(net.layers)))
    )
    return [
        layer.dropout(k, (m,) + shape, dtype, train, None if p_dropout is None else p_dropout[l])
        for l, (layer, k, shape) in enumerate(zip(net.layers, keys, net.shapes))
    ]


def penalty(net: Network, params):
    """Σ over layers of the regularizer's penalty on each layer's weights (biases are not penalised)."""
    return sum(
        (net.regularizer.penalty(p[k]) for layer, p in zip(net.layers, params) for k in layer.weights),
        jnp.zeros((), jax.tree_util.tree_leaves(params)[0].dtype),
    )


def require_differentiable(net: Network) -> None:
    """Raises a clear error when a component has no useful derivative."""
    for layer in net.layers:
        a = layer.activation
        if a is not None and not a.differentiable:
            zero = jnp.zeros(())
            a.vjp(zero, zero, zero)  # raises NotDifferentiableError with the component's reason
            raise NotDifferentiableError(f"activation {a.name!r} has no derivative")


def as_batch(net: Network, x):
    """``x`` as a batch of examples of the network's input shape."""
    return x.reshape((x.shape[0],) + net.in_shape) if len(net.in_shape) > 1 else x


def hidden(net: Network, params, x, mults):
    """Runs every layer but the output layer: ``(inputs of each layer, caches)``."""
    inputs, caches = [x], []
    for layer, p, mult in zip(net.layers[:-1], params[:-1], mults[:-1]):
        x, cache = layer.forward(p, x, mult)
        inputs.append(x)
        caches.append(cache)
    return inputs, caches


def _test_mults(net: Network, x, mults):
    return masks(net, None, x.shape[0], x.dtype, train=False) if mults is None else mults


def output_z(net: Network, params, x, mults=None):
    """The output layer's weighted input z^L (the logits)."""
    x = as_batch(net, x)
    mults = _test_mults(net, x, mults)
    inputs, _ = hidden(net, params, x, mults)
    logits = net.layers[-1].logits
    assert logits is not None  # network() accepts only output layers last
    return logits(params[-1], inputs[-1], mults[-1])[0]


def net_forward(net: Network, params, x, mults=None):
    """The network's output a^L; ``mults`` as from [`masks`][jaxnn.net.masks] (default: test time)."""
    return net.output_activation.fn(output_z(net, params, x, mults))


def feedforward(net: Network, params, x, mults=None) -> Tuple[list, list]:
    """Runs a stack of layers with activations (fully connected, softmax), keeping every layer's
    weighted input z and activation: ``(zs, activations)`` with ``activations[0]`` = x and
    ``activations[l + 1]`` = σ(``zs[l]``), as network.py's ``backprop`` computes them.

    ``mults`` as from [`masks`][jaxnn.net.masks] (default: test time).
    """
    x = as_batch(net, _rows(net, x))
    mults = _test_mults(net, x, mults)
    zs, acts = [], [x]
    for layer, p, mult in zip(net.layers, params, mults):
        if layer.logits is None or layer.activation is None:
            raise JaxnnError(
                f"feedforward keeps each layer's z and activation, and a {layer.name} layer has none: "
                "use net_forward for the output alone"
            )
        z = layer.logits(p, acts[-1], mult)[0]
        zs.append(z)
        acts.append(layer.activation.fn(z))
    return zs, acts


def targets(y, n_out: int, dtype) -> jax.Array:
    """One-hot rows from integer labels; one-hot input is returned as ``dtype``."""
    y = jnp.asarray(y)
    if jnp.issubdtype(y.dtype, jnp.integer):
        return jax.nn.one_hot(y, n_out, dtype=dtype)
    return y.astype(dtype)


def _plus_penalty(net: Network, params, cost, reg_scale):
    return cost if net.regularizer.name == "none" else cost + reg_scale * penalty(net, params)


def net_loss(net: Network, params, x, y, reg_scale=0.0, mults=None):
    """Mean cost over the batch (y one-hot), plus ``reg_scale`` times the penalty."""
    z = output_z(net, params, x, mults)
    return _plus_penalty(net, params, jnp.mean(net.cost.value_z(z, y, net.output_activation)), reg_scale)


def net_autodiff_grad(net: Network, params, x, y, reg_scale=0.0, mults=None):
    """``jax.grad`` of [`net_loss`][jaxnn.net.net_loss]: the reference every hand-written path must equal."""
    return jax.grad(lambda p: net_loss(net, p, x, y, reg_scale, mults))(params)


def net_metrics(net: Network, params, x, y, reg_scale, p_dropout=None):
    """``(cost, correct)`` at test time: network2's ``total_cost`` (the mean cost plus
    ``reg_scale``·penalty) and ``accuracy`` in one pass over a batch."""
    x = as_batch(net, x)
    mults = masks(net, None, x.shape[0], x.dtype, train=False, p_dropout=p_dropout)
    a = net_forward(net, params, x, mults)
    labels = y if y.ndim == 1 else jnp.argmax(y, axis=-1)
    cost = _plus_penalty(net, params, jnp.mean(net.cost.fn(a, targets(y, net.n_out, x.dtype))), reg_scale)
    return cost, jnp.sum(jnp.argmax(a, axis=-1) == labels)


# -- the public functions: parameters first, any network with net=, network.py's by default


def resolve(params, net: Optional[Network] = None, components: Optional[dict] = None) -> Network:
    """The network that ``params`` belong to: ``net`` when given, otherwise the stack of fully
    connected layers their sizes describe, with ``components`` by name."""
    components = dict(components or {})
    if net is not None:
        return check_network(net, components)
    model = components.pop("model", None)
    if isinstance(model, Network):
        return model
    if model is None:
        model = make_model(**components)
    elif components:
        raise JaxnnError(f"pass either model= or the components ({', '.join(sorted(components))}), not both")
    return mlp(sizes_of(params), model)


def _single(net: Network, x) -> bool:
    return getattr(x, "ndim", None) == len(net.in_shape) and tuple(x.shape) == net.in_shape


def _rows(net: Network, x):
    """A batch from a batch, or from a single example (a vector, or one image)."""
    x = jnp.asarray(x)
    return x[None, ...] if _single(net, x) else x


def prepare(params, x, y, net, components):
    """Resolves the network and shapes the inputs of the public loss and gradient functions.

    ``lmbda`` and ``n`` give the regularization strength λ/n (n defaults to the number of rows);
    ``masks`` are each layer's input multipliers (see [`masks`][jaxnn.net.masks]).
    """
    components = dict(components)
    lmbda = components.pop("lmbda", 0.0)
    n = components.pop("n", None)
    mults = components.pop("masks", None)
    if lmbda and net is None and components.get("regularizer", "none") == "none":
        components["regularizer"] = "l2"
    net = resolve(params, net, components)
    x = _rows(net, x)
    y = targets(y, net.n_out, x.dtype).reshape(x.shape[0], -1)
    return net, x, y, lmbda / (n or x.shape[0]), mults


@functools.lru_cache(maxsize=64)
def compiled(fn: Callable, net: Network) -> Callable:
    """``fn(net, ...)`` as one compiled program for ``net`` (a ``Network`` is hashable): what the
    public functions below run, so that a call compiles once per network and input shape rather
    than every operation on its own, and a repeated call costs microseconds, not milliseconds."""
    return jax.jit(functools.partial(fn, net))


def forward(params, x, net: Optional[Network] = None, **components):
    """The network's output a^L for inputs ``x``, like network.py's ``feedforward``."""
    net = resolve(params, net, components)
    return compiled(net_forward, net)(params, _rows(net, x))


def loss(params, x, y, net: Optional[Network] = None, **components):
    """Mean cost of the mini-batch ``(x, y)``, plus (λ/n)·penalty when ``lmbda`` is given.

    Keyword args: ``net``, or the components of [`make_model`][jaxnn.net.make_model]; and ``lmbda``, ``n`` (the
    training-set size in λ/n; default the number of rows) and ``masks`` (each layer's input
    multipliers, from [`masks`][jaxnn.net.masks]).
    """
    net, x, y, reg_scale, mults = prepare(params, x, y, net, components)
    return compiled(net_loss, net)(params, x, y, reg_scale, mults)


def autodiff_grad(params, x, y, net: Optional[Network] = None, **components):
    """Gradient of [`loss`][jaxnn.net.loss] from ``jax.grad``; same pytree structure as ``params``."""
    net, x, y, reg_scale, mults = prepare(params, x, y, net, components)
    require_differentiable(net)
    return compiled(net_autodiff_grad, net)(params, x, y, reg_scale, mults)


def checked(params, x, net: Optional[Network], components: dict):
    """Validates the inputs of [`predict`][jaxnn.net.predict] and [`evaluate`][jaxnn.net.evaluate] before anything runs."""
    net = resolve(params, net, components)
    if net.sizes is not None and isinstance(params, (list, tuple)) and all(isinstance(p, dict) for p in params):
        as_params(params)
    else:
        as_tree(params)
    if not isinstance(x, jax.core.Tracer):
        x = as_examples(x[None, ...] if _single(net, x) else x, net.in_shape)
        fits_dtype(x, jax.tree_util.tree_leaves(params)[0].dtype, "inputs")
    return net, x


def _predicted(net: Network, params, x):
    return jnp.argmax(net_forward(net, params, jnp.asarray(x, jax.tree_util.tree_leaves(params)[0].dtype)), axis=-1)


def _correct(net: Network, params, x, labels):
    return jnp.sum(_predicted(net, params, x) == labels)


def predict(params, x, net: Optional[Network] = None, **components):
    """The index of the most active output neuron for each example (the predicted digit)."""
    net, x = checked(params, x, net, components)
    return compiled(_predicted, net)(params, x)


def evaluate(params, x, labels, net: Optional[Network] = None, **components) -> int:
    """How many examples are classified correctly, as network.py's ``evaluate`` counts."""
    net, x = checked(params, x, net, components)
    labels = as_labels(labels, len(x), net.n_out)
    return int(compiled(_correct, net)(params, x, jnp.asarray(labels)))


def accuracy(params, x, labels, net: Optional[Network] = None, **components) -> float:
    """The fraction of examples classified correctly."""
    net = resolve(params, net, components)
    correct = evaluate(params, x, labels, net=net)
    return correct / (1 if _single(net, x) else len(x))


__all__ = [
    "DROPOUT_MODES",
    "Model",
    "Network",
    "accuracy",
    "autodiff_grad",
    "conv_net",
    "evaluate",
    "feedforward",
    "forward",
    "init_network",
    "loss",
    "make_model",
    "masks",
    "mlp",
    "network",
    "predict",
]
