"""Layers of network3's deep networks, each a record of pure functions with a hand-written backward pass.

A [`Layer`][jaxnn.layers.Layer] is one configured layer. ``init`` draws its parameters, ``forward`` computes
its output from a batch (examples along the first axis) and keeps what the backward pass needs,
and ``backward`` is that pass written by hand: from g = ∂C/∂(output) to the gradients of the
layer's parameters and ∂C/∂(input). No layer calls ``jax.grad`` or ``jax.vjp``; the tests check
every registered layer's ``backward`` against ``jax.vjp`` of its ``forward``.

The library ships network3's three layers::

    jaxnn.ConvPool(20, 5, pool_size=2, activation="sigmoid")   # ConvPoolLayer
    jaxnn.FullyConnected(100, activation="sigmoid", p_dropout=0.0)  # FullyConnectedLayer
    jaxnn.Softmax(10, p_dropout=0.0)                           # SoftmaxLayer, the output layer

Layer *types* are registered by name as [`LayerType`][jaxnn.layers.LayerType] factories, so a layer can also be
written as a spec, ``("conv_pool", {"filters": 20, "filter_size": 5})``, and built with
[`make_layer`][jaxnn.layers.make_layer]. A third-party package adds a type through the entry-point group
``jaxnn.layers`` (see [`jaxnn.registry`][jaxnn.registry]). Derivations: ``docs/conv.md``.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp

from jaxnn.activations import Activation
from jaxnn.activations import get as _activation_get
from jaxnn.activations import softmax as _softmax_activation
from jaxnn.errors import JaxnnError
from jaxnn.initializers import initializers as _initializers
from jaxnn.initializers import normal as _normal
from jaxnn.registry import Registry
from jaxnn.validation import choice, positive_float, positive_int

Array = jax.Array
Shape = Tuple[int, ...]


class Layer(NamedTuple):
    """One configured layer: pure functions of its parameters and a batch.

    Attributes:
      name: the registry name of the layer's type (``"conv_pool"``, ...).
      config: the settings it was built with, as ``(name, value)`` pairs.
      out_shape: ``out_shape(in_shape) -> shape``: one example's output shape from its input
        shape (neither has the batch axis); raises [`JaxnnError`][jaxnn.errors.JaxnnError] when they do not fit.
      init: ``init(key, in_shape, dtype) -> (params, out_shape)``.
      forward: ``forward(params, x, mult) -> (y, cache)``. ``mult`` multiplies the layer's
        input before anything else: a dropout mask in training, the scalar 1 − p at test
        time, or ``None`` (see ``dropout``).
      backward: ``backward(params, cache, g) -> (grads, g_x)``, hand-written: ``g`` is
        ∂C/∂y, ``grads`` has the structure of ``params`` and ``g_x`` = ∂C/∂x has x's shape.
      dropout: ``dropout(key, x_shape, dtype, train, p=None) -> mult``: the input multiplier, a
        fresh mask of ``x_shape`` when ``train``, its test-time counterpart otherwise; ``None``
        for a layer built without dropout. ``p`` replaces the configured rate at run time (a
        traced number, so sweeps can vary it without recompiling).
      p_dropout: the configured rate of input dropout (0 for none).
      weights: the keys of ``params`` that the weight penalty covers (every ``w``).
      activation: output layers: the activation applied to ``z`` last, which the cost sees.
      logits: output layers: ``logits(params, x, mult) -> (z, cache)``, the layer up to its
        activation, so that the cost can work from z (BP1 and stable log-likelihoods).
      backward_z: output layers: ``backward_z(params, cache, delta) -> (grads, g_x)`` from
        δ = ∂C/∂z, hand-written (BP3, BP4 and BP2's wᵀδ).
    """

    name: str
    config: Tuple[Tuple[str, Any], ...]
    out_shape: Callable[[Shape], Shape]
    init: Callable[..., Tuple[Any, Shape]]
    forward: Callable[..., Tuple[Array, Any]]
    backward: Callable[..., Tuple[Any, Array]]
    dropout: Callable[..., Optional[Array]]
    p_dropout: float = 0.0
    weights: Tuple[str, ...] = ("w",)
    activation: Optional[Activation] = None
    logits: Optional[Callable[..., Tuple[Array, Any]]] = None
    backward_z: Optional[Callable[..., Tuple[Any, Array]]] = None

    @property
    def spec(self) -> Tuple[str, Dict[str, Any]]:
        """``(name, settings)``, which [`make_layer`][jaxnn.layers.make_layer] turns back into this layer."""
        return self.name, dict(self.config)

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.config)})"


class LayerType(NamedTuple):
    """A kind of layer, registered by name: a factory of configured [`Layer`][jaxnn.layers.Layer] records.

    Attributes:
      name: the registry name, used in specs such as ``("conv_pool", {...})``.
      make: ``make(**settings) -> Layer``.
      example: settings of a small instance; the test suite builds it to check the type's
        hand-written backward pass (with every elementwise activation when it takes
        ``activation``, and with dropout when it takes ``p_dropout``).
      example_in_shape: an input shape (no batch axis) that the example accepts.
      doc: one line on what the layer does.
    """

    name: str
    make: Callable[..., Layer]
    example: Dict[str, Any]
    example_in_shape: Shape
    doc: str = ""


layers: Registry[LayerType] = Registry("layer", LayerType)


def get(name_or_type) -> LayerType:
    """Returns the registered layer type for a name (or the record itself)."""
    return layers.get(name_or_type)


def make_layer(spec) -> Layer:
    """Builds a [`Layer`][jaxnn.layers.Layer] from a spec: a ``Layer``, a name, or a ``(name, settings)`` pair.

    ``make_layer(("conv_pool", {"filters": 20, "filter_size": 5, "activation": "relu"}))``
    equals ``ConvPool(20, 5, activation="relu")``.
    """
    if isinstance(spec, Layer):
        return spec
    if isinstance(spec, str):
        name, settings = spec, {}
    elif isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], dict):
        name, settings = spec
    else:
        raise JaxnnError(
            f"a layer spec must be a Layer, a layer name, or a (name, settings) pair such as "
            f"('conv_pool', {{'filters': 20, 'filter_size': 5}}), got {spec!r}"
        )
    kind = get(name)
    try:
        inspect.signature(kind.make).bind(**settings)
    except TypeError as exc:
        params = ", ".join(str(p) for p in inspect.signature(kind.make).parameters.values())
        raise JaxnnError(f"bad settings for layer {name!r} ({exc}): it takes {params}") from None
    return kind.make(**settings)


# -- shared pieces


def _rate(p) -> float:
    p = positive_float(p, "p_dropout", allow_zero=True)
    if p >= 1.0:
        raise JaxnnError(f"p_dropout is the probability of dropping an input and must be in [0, 1), got {p}")
    return p


DROPOUT_MODES = ("book", "inverted")


def _input_dropout(p: float, mode: str = "book"):
    """Dropout on a layer's input. ``"book"`` (network3's ``dropout_layer``, and network2's
    form): keep each value with probability 1 − p in training and scale by 1 − p at test time
    (as ``(1-p_dropout)*T.dot(inpt, w)``). ``"inverted"``: scale the kept values by 1/(1 − p) in
    training and leave the test-time input alone."""

    def dropout(key, x_shape, dtype, train: bool, rate=None):
        if p == 0.0:
            return None
        keep = 1 - jnp.asarray(p if rate is None else rate, dtype)
        if not train:
            return keep if mode == "book" else None
        if key is None:
            raise JaxnnError("dropout in training needs a PRNG key: pass key=jax.random.key(...)")
        mask = jax.random.bernoulli(key, keep, x_shape).astype(dtype)
        return mask / keep if mode == "inverted" else mask

    return dropout


def _apply_mult(x, mult):
    return x if mult is None else x * mult


def _rows(x):
    """network3's ``inpt.reshape((mini_batch_size, n_in))``: one flat row per example."""
    return x.reshape(x.shape[0], -1)


def _dense_logits(weights_first: bool):
    """z = (x ⊙ mult) wᵀ + b, or the same product written (w (x ⊙ mult)ᵀ)ᵀ with
    ``weights_first``: XLA then reads w in its stored layout, which saves sweeps a copy of
    their stacked weights in every step (the rounding can differ in the last bits)."""

    def logits(params, x, mult):
        xm = _rows(_apply_mult(x, mult))
        w = params["w"]
        z = ((w @ xm.T).T if weights_first else xm @ w.T) + params["b"]
        return z, (x, mult, z)

    return logits


def _dense_grads(params, x, mult, delta):
    """BP3, BP4 and BP2's product wᵀδ for z = (x ⊙ mult) wᵀ + b, back to x's shape.

    Derivation: docs/conv.md#fully-connected-and-softmax
    """
    grads = {"w": delta.T @ _rows(_apply_mult(x, mult)), "b": jnp.sum(delta, axis=0)}
    g_x = _apply_mult((delta @ params["w"]).reshape(x.shape), mult)
    return grads, g_x


def _dense_backward_z(params, cache, delta):
    x, mult, _ = cache
    return _dense_grads(params, x, mult, delta)


def _dense(name, config, n_out, act: Activation, p: float, init: str, mode: str, weights_first: bool) -> Layer:
    initializer = _initializers.get(init)
    logits = _dense_logits(weights_first)

    def layer_init(key, in_shape, dtype=jnp.float32):
        return initializer.layer(key, math.prod(in_shape), n_out, dtype), (n_out,)

    def forward(params, x, mult):
        z, cache = logits(params, x, mult)
        a = act.fn(z)
        return a, (*cache, a)

    def backward(params, cache, g):
        x, mult, z, a = cache
        return _dense_grads(params, x, mult, act.vjp(z, a, g))

    return Layer(
        name=name,
        config=config,
        out_shape=lambda in_shape: (n_out,),
        init=layer_init,
        forward=forward,
        backward=backward,
        dropout=_input_dropout(p, mode),
        p_dropout=p,
        activation=act,
        logits=logits,
        backward_z=_dense_backward_z,
    )


def _activation(activation, elementwise: bool, layer: str) -> Activation:
    act = _activation_get(activation)
    if elementwise and act.prime is None:
        raise JaxnnError(
            f"{layer} applies its activation to each unit of each feature map, so it needs an elementwise "
            f"activation, not {act.name!r}: use 'sigmoid', 'tanh', 'relu' or 'linear'"
        )
    return act


def _mode(dropout: str) -> str:
    return choice(dropout, DROPOUT_MODES, "dropout mode")


# -- FullyConnected: network3's FullyConnectedLayer, and every layer of network.py's and network2.py's networks


def FullyConnected(
    n_out: int,
    activation="sigmoid",
    p_dropout: float = 0.0,
    init: str = "network3",
    dropout: str = "book",
    weights_first: bool = False,
) -> Layer:
    """A fully connected layer: a = σ((x ⊙ mask) wᵀ + b), its input flattened per example.

    network3's ``FullyConnectedLayer`` with the defaults: weights drawn from N(0, 1/√n_out)
    and biases from N(0, 1). network.py's and network2.py's networks are stacks of these layers
    with ``init="large"`` or ``"default"`` (see [`jaxnn.mlp`][jaxnn.net.mlp]). With ``p_dropout`` the
    layer drops its *inputs* in training, which is the same as dropping the outputs of the
    layer below.

    Args:
      n_out: the number of neurons.
      activation: an activation name or record (the output activation when it is the last layer).
      p_dropout: the probability of dropping each input in training.
      init: the initializer (a registry name): ``"network3"``, ``"default"``, ``"large"``, ...
      dropout: ``"book"`` (scale by 1 − p at test time, as network3) or ``"inverted"`` (scale
        the kept inputs by 1/(1 − p) in training instead).
      weights_first: write the product as (w xᵀ)ᵀ; the same arithmetic in another layout, which
        sweeps use (see `_dense_logits`).
    """
    act = _activation_get(activation)
    return _fully_connected(
        positive_int(n_out, "n_out"),
        act,
        _rate(p_dropout),
        _initializers.get(init).name,
        _mode(dropout),
        bool(weights_first),
    )


@functools.lru_cache(maxsize=None)
def _fully_connected(n_out: int, act: Activation, p: float, init: str, mode: str, weights_first: bool) -> Layer:
    config: Tuple[Tuple[str, Any], ...] = (("n_out", n_out), ("activation", act.name), ("p_dropout", p))
    if init != "network3":
        config += (("init", init),)
    if mode != "book":
        config += (("dropout", mode),)
    if weights_first:
        config += (("weights_first", True),)
    return _dense("fully_connected", config, n_out, act, p, init, mode, weights_first)


# -- Softmax: network3's SoftmaxLayer, the output layer


def Softmax(n_out: int, p_dropout: float = 0.0, weights_first: bool = False) -> Layer:
    """network3's ``SoftmaxLayer``: a = softmax((x ⊙ mask) wᵀ + b), zero-initialised.

    As the output layer of a network trained on the log-likelihood cost, its error is
    δ = a − y (the cost's BP1), and the cost is computed stably from z as a log-softmax.

    Args:
      n_out: the number of classes.
      p_dropout: the probability of dropping each input in training.
      weights_first: as in [`FullyConnected`][jaxnn.layers.FullyConnected].
    """
    return _softmax(positive_int(n_out, "n_out"), _rate(p_dropout), bool(weights_first))


@functools.lru_cache(maxsize=None)
def _softmax(n_out: int, p: float, weights_first: bool) -> Layer:
    config: Tuple[Tuple[str, Any], ...] = (("n_out", n_out), ("p_dropout", p))
    if weights_first:
        config += (("weights_first", True),)
    return _dense("softmax", config, n_out, _softmax_activation, p, "zeros", "book", weights_first)


def with_weights_first(layer: Layer) -> Layer:
    """The same layer with its product written weights first, where it has the option."""
    settings = dict(layer.config)
    if layer.name in ("fully_connected", "softmax"):
        settings["weights_first"] = True
        return make_layer((layer.name, settings))
    return layer


# -- ConvPool: network3's ConvPoolLayer


def _patch_matrix(x, kh: int, kw: int):
    """im2col as one matrix: (m, c, H, W) -> (c·kh·kw, m·h·w) with h = H−kh+1, w = W−kw+1; row
    (c, u, v) and column (n, i, j) hold x[n, c, i+u, j+v].

    Built from kh·kw strided slices of x with its first two axes swapped, so XLA fuses it into
    one copy. With the filters flattened to (f, c·kh·kw), the convolution is one plain matrix
    product, and its filter gradient another, against the same matrix: on a CPU this beats
    ``lax.conv_general_dilated`` several times over for network3's small filters and
    mini-batches, and it needs no transposed copy of the patches (``benchmarks/conv_speed.py``;
    docs/performance.md, "The conv net's epoch").
    """
    m, c, hh, ww = x.shape
    h, w = hh - kh + 1, ww - kw + 1
    xt = jnp.swapaxes(x, 0, 1)  # (c, m, H, W)
    cols = jnp.stack([xt[:, :, u : u + h, v : v + w] for u in range(kh) for v in range(kw)], axis=1)
    return cols.reshape(c * kh * kw, m * h * w)


def _conv_fm(x, w):
    """The valid convolution with its output as (f, m, h, w), and the patch matrix it used."""
    f, c, kh, kw = w.shape
    patches = _patch_matrix(x, kh, kw)
    z = w.reshape(f, c * kh * kw) @ patches
    return z.reshape(f, x.shape[0], x.shape[2] - kh + 1, x.shape[3] - kw + 1), patches


def _filter_grad_fm(patches, delta_fm, w_shape):
    """∂C/∂w from the patch matrix and δ as (f, m, h, w): one product, δ (f, m·h·w) by patchesᵀ."""
    return (delta_fm.reshape(delta_fm.shape[0], -1) @ patches.T).reshape(w_shape)


def _input_grad_fm(delta_fm, w):
    """∂C/∂x as (m, c, H, W) from δ as (f, m, h, w): col2im of wᵀδ (see `conv_input_grad`)."""
    f, c, kh, kw = w.shape
    _, m, h, wd = delta_fm.shape
    # rows (u, v, c): each filter tap's block of rows is one contiguous (c, m, h, w) array
    wt = w.transpose(2, 3, 1, 0).reshape(kh * kw * c, f)
    cols = (wt @ delta_fm.reshape(f, -1)).reshape(kh * kw, c, m, h, wd)
    out = jnp.zeros((c, m, h + kh - 1, wd + kw - 1), delta_fm.dtype)
    for u in range(kh):
        for v in range(kw):
            out = out.at[:, :, u : u + h, v : v + wd].add(cols[u * kw + v])
    return jnp.swapaxes(out, 0, 1)


def conv_valid(x, w):
    """Valid 2-D cross-correlation over channels: (m, c, H, W) ⋆ (f, c, k, k) -> (m, f, H−k+1, W−k+1),

    z[n,f,i,j] = Σ_{c,u,v} x[n,c,i+u,j+v] w[f,c,u,v], as one product of the flattened filters
    with the im2col patch matrix.
    """
    return jnp.swapaxes(_conv_fm(x, w)[0], 0, 1)


def conv_filter_grad(x, delta):
    """∂C/∂w[f,c,u,v] = Σ_{n,i,j} δ[n,f,i,j] x[n,c,i+u,j+v]: x's patches contracted with δ over
    the batch and the output positions, giving (f, c, k, k)."""
    kh, kw = x.shape[2] - delta.shape[2] + 1, x.shape[3] - delta.shape[3] + 1
    return _filter_grad_fm(_patch_matrix(x, kh, kw), jnp.swapaxes(delta, 0, 1), (delta.shape[1], x.shape[1], kh, kw))


def conv_input_grad(delta, w):
    """∂C/∂x[n,c,s,t] = Σ_{f,u,v} δ[n,f,s−u,t−v] w[f,c,u,v]: the full convolution of δ with w
    (the transpose of im2col, "col2im"). Each filter tap (u, v) contributes δ·w[:, :, u, v],
    summed over f, to the input window that the tap reads, shifted by (u, v); the k² shifted
    products are added into an (m, c, H, W) array."""
    return _input_grad_fm(jnp.swapaxes(delta, 0, 1), w)


def _windows(z, p: int):
    """(m, f, h, w) -> (m, f, h//p, w//p, p·p): the non-overlapping p×p windows, the border
    rows and columns that do not fill a window dropped (Theano's ``ignore_border=True``)."""
    m, f, h, w = z.shape
    hp, wp = h // p, w // p
    z = z[:, :, : hp * p, : wp * p].reshape(m, f, hp, p, wp, p)
    return z.transpose(0, 1, 2, 4, 3, 5).reshape(m, f, hp, wp, p * p)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _pooled(z, p: int):
    return jnp.max(_windows(z, p), axis=-1)


@_pooled.defjvp
def _pooled_jvp(p: int, primals, tangents):
    # d(max) is the tangent at the window's (first) maximum: the same routing as
    # max_pool_backward, so jax.grad through a ConvPool layer equals the hand-written backward
    # even on ties, and costs what it does (JAX's own rule for max shares the gradient among
    # tied entries, counting them with extra reductions over every window).
    (z,), (t,) = primals, tangents
    win = _windows(z, p)
    pick = jax.nn.one_hot(jnp.argmax(win, axis=-1), p * p, dtype=t.dtype)
    return jnp.max(win, axis=-1), jnp.sum(pick * _windows(t, p), axis=-1)


def max_pool(z, p: int):
    """Max-pooling over non-overlapping p×p windows: ``(pooled, argmax)``, where argmax is
    the position of each window's maximum in row-major order (the first one on a tie).
    Differentiated (``jax.grad``, ``jax.jvp``), the pooled output passes each window's
    gradient to that position alone, as `max_pool_backward` does."""
    return _pooled(z, p), jnp.argmax(_windows(z, p), axis=-1)


def _pooling_patches(x, k: int, p: int):
    """im2col for a conv layer followed by p×p max-pooling: (m, c, H, W) -> (c·k², p²·m·hp·wp),
    row (c, u, v) and column (a, b, n, i, j) holding x[n, c, p·i+a+u, p·j+b+v], where
    (hp, wp) is the pooled size. Only the positions that pooling reads are kept (the border it
    drops is not computed), and the p² positions of every window fall in p² blocks of m·hp·wp
    columns, at the same place in each: the product with the filters gives z as (f, p², m·hp·wp),
    whose max over the second axis is the pooled map.

    Built from the input's p² phases ``x[:, :, a::p, b::p]`` and k²p² plain slices of them, so that
    jax.grad's transpose of it is made of plain pads too."""
    m, c, hh, ww = x.shape
    hp, wp = (hh - k + 1) // p, (ww - k + 1) // p
    xt = jnp.swapaxes(x, 0, 1)  # (c, m, H, W)
    phase = {(s, t): xt[:, :, s::p, t::p] for s in range(p) for t in range(p)}
    cols = [
        phase[(a + u) % p, (b + v) % p][:, :, (a + u) // p : (a + u) // p + hp, (b + v) // p : (b + v) // p + wp]
        for u in range(k)
        for v in range(k)
        for a in range(p)
        for b in range(p)
    ]
    return jnp.stack(cols, axis=1).reshape(c * k * k, p * p * m * hp * wp)


def _block_max(z):
    return functools.reduce(jnp.maximum, [z[:, q] for q in range(z.shape[1])])


@jax.custom_jvp
def _pooled_blocks(z):
    """Max over axis 1 of z (f, p², n): the pooled maps, with `max_pool`'s derivative (the tangent
    at the first maximum) rather than JAX's rule for max, which shares it among ties."""
    return _block_max(z)


@_pooled_blocks.defjvp
def _pooled_blocks_jvp(primals, tangents):
    (z,), (t,) = primals, tangents
    pick = jax.nn.one_hot(jnp.argmax(z, axis=1), z.shape[1], axis=1, dtype=t.dtype)
    return _block_max(z), jnp.sum(pick * t, axis=1)


def max_pool_backward(g, argmax, p: int, z_shape):
    """Routes each window's upstream gradient to the position of its maximum; every other
    position (and any dropped border) gets 0.

    Derivation: docs/conv.md#max-pooling
    """
    m, f, hp, wp = g.shape
    routed = jax.nn.one_hot(argmax, p * p, dtype=g.dtype) * g[..., None]
    routed = routed.reshape(m, f, hp, wp, p, p).transpose(0, 1, 2, 4, 3, 5).reshape(m, f, hp * p, wp * p)
    return jnp.pad(routed, ((0, 0), (0, 0), (0, z_shape[2] - hp * p), (0, z_shape[3] - wp * p)))


def ConvPool(filters: int, filter_size: int, pool_size: int = 2, activation="sigmoid") -> Layer:
    """network3's ``ConvPoolLayer``: valid convolution, then max-pooling, then bias, then activation.

    Inputs are images ``(m, c, h, w)``; the filters ``w`` have shape ``(f, c, k, k)`` and the
    bias ``b`` one entry per filter. The output is σ(maxpool_p(x ⋆ w) + b), of shape
    ``(m, f, (h−k+1)//p, (w−k+1)//p)``. ⋆ is cross-correlation (Theano's ``conv2d`` flips
    the filters, a relabelling that changes nothing learnable). Weights are drawn from
    N(0, 1/√n_out) with n_out = f·k²/p², biases from N(0, 1). There is no dropout in
    convolutional layers, as in network3.

    Args:
      filters: the number of filters (feature maps) f.
      filter_size: the side k of each square filter.
      pool_size: the side p of each square, non-overlapping pooling window.
      activation: an elementwise activation name or record.
    """
    return _conv_pool(
        positive_int(filters, "filters"),
        positive_int(filter_size, "filter_size"),
        positive_int(pool_size, "pool_size"),
        _activation(activation, True, "ConvPool"),
    )


@functools.lru_cache(maxsize=None)
def _conv_pool(f: int, k: int, p: int, act: Activation) -> Layer:
    def out_shape(in_shape):
        if len(in_shape) != 3:
            raise JaxnnError(
                f"a conv_pool layer takes images of shape (channels, height, width), got {tuple(in_shape)}: "
                "put it first (with in_shape=(1, 28, 28) for MNIST) or after another conv_pool layer"
            )
        _, h, w = in_shape
        if (h - k + 1) // p < 1 or (w - k + 1) // p < 1:
            raise JaxnnError(
                f"a {k}×{k} filter with {p}×{p} pooling does not fit {h}×{w} images: the convolution gives "
                f"{h - k + 1}×{w - k + 1} maps; use a smaller filter_size or pool_size"
            )
        return f, (h - k + 1) // p, (w - k + 1) // p

    def init(key, in_shape, dtype=jnp.float32):
        shape = out_shape(tuple(in_shape))
        kw, kb = jax.random.split(key)
        n_out = f * k * k / (p * p)
        params = {
            "w": _normal(kw, (f, in_shape[0], k, k), dtype, 1.0 / math.sqrt(n_out)),
            "b": _normal(kb, (f,), dtype),
        }
        return params, shape

    def forward(params, x, mult):
        if x.ndim != 4:
            raise JaxnnError(f"a conv_pool layer takes a batch of images (m, c, h, w), got shape {x.shape}")
        xm = _apply_mult(x, mult)
        m, _, hh, ww = x.shape
        hp, wp = (hh - k + 1) // p, (ww - k + 1) // p
        # filters first, and the p² positions of each pooling window in p² column blocks (see
        # _pooling_patches): the products need no transposed copies, pooling is an elementwise max
        # of p² blocks, and every elementwise step runs on 2-D arrays with long rows, which XLA's
        # CPU loops vectorise (on (f, m, 12, 12) arrays they ran several times slower). Only the
        # pooled output is reshaped back to (m, f, hp, wp).
        patches = _pooling_patches(xm, k, p)
        z = (params["w"].reshape(f, -1) @ patches).reshape(f, p * p, m * hp * wp)
        first = jnp.argmax(z, axis=1)  # each window's first maximum, for the backward pass
        u = _pooled_blocks(z) + params["b"][:, None]
        y = act.fn(u)
        out = jnp.swapaxes(y.reshape(f, m, hp * wp), 0, 1).reshape(m, f, hp, wp)
        return out, (patches, mult, first, u, y, x.shape)

    def backward(params, cache, g):
        patches, mult, first, u, y, x_shape = cache
        w = params["w"]
        m, _, hh, ww = x_shape
        h, wd = hh - k + 1, ww - k + 1
        hp, wp = h // p, wd // p
        g = jnp.swapaxes(g.reshape(m, f, hp * wp), 0, 1).reshape(f, m * hp * wp)
        delta_u = act.vjp(u, y, g)  # through the activation, as (f, m·hp·wp)
        # through the max-pool: each window's δ to its first maximum, as z's (f, p², m·hp·wp) blocks
        delta_z = jnp.stack([jnp.where(first == q, delta_u, 0) for q in range(p * p)], axis=1)
        grads = {"w": _filter_grad_fm(patches, delta_z, w.shape), "b": jnp.sum(delta_u, axis=1)}
        # ∂C/∂x from δ as (f, m, h, w) maps (zero on the border pooling dropped), by col2im
        # (written from δ and the maxima's positions in one pass: cheaper than transposing delta_z)
        window = (p * jnp.arange(p)[:, None, None] + jnp.arange(p)[None, None, :]).astype(first.dtype)
        hit = first.reshape(f, m, hp, 1, wp, 1) == window  # (f, m, hp, p, wp, p)
        delta_maps = jnp.where(hit, delta_u.reshape(f, m, hp, 1, wp, 1), 0).reshape(f, m, hp * p, wp * p)
        delta_maps = jnp.pad(delta_maps, ((0, 0), (0, 0), (0, h - hp * p), (0, wd - wp * p)))
        return grads, _apply_mult(_input_grad_fm(delta_maps, w), mult)

    return Layer(
        name="conv_pool",
        config=(("filters", f), ("filter_size", k), ("pool_size", p), ("activation", act.name)),
        out_shape=out_shape,
        init=init,
        forward=forward,
        backward=backward,
        dropout=_input_dropout(0.0),
    )


fully_connected = layers.register(
    LayerType(
        "fully_connected",
        FullyConnected,
        {"n_out": 3, "activation": "sigmoid", "p_dropout": 0.0},
        (2, 3, 3),
        "a fully connected layer (network3's FullyConnectedLayer; network.py's layers): σ(x wᵀ + b), dropout on its input",
    )
)
conv_pool = layers.register(
    LayerType(
        "conv_pool",
        ConvPool,
        {"filters": 3, "filter_size": 3, "pool_size": 2, "activation": "sigmoid"},
        (2, 7, 8),
        "network3's ConvPoolLayer: valid convolution, max-pool, bias, activation",
    )
)
softmax = layers.register(
    LayerType(
        "softmax",
        Softmax,
        {"n_out": 4, "p_dropout": 0.0},
        (5,),
        "network3's SoftmaxLayer: the zero-initialised output layer, dropout on its input",
    )
)

__all__ = [
    "ConvPool",
    "FullyConnected",
    "Layer",
    "LayerType",
    "Softmax",
    "conv_filter_grad",
    "conv_input_grad",
    "conv_valid",
    "get",
    "layers",
    "make_layer",
    "max_pool",
    "max_pool_backward",
    "with_weights_first",
]
