"""Hand-written backpropagation, BP1–BP4, layer by layer: over a whole mini-batch or per example.

Both paths have the signature of [`jaxnn.autodiff_grad`][jaxnn.net.autodiff_grad] and return the gradient of the
mean cost over the mini-batch, so all three are interchangeable in training and are tested
equal to each other in float64. With δ^l = ∂C/∂z^l:

- BP1  δ^L = ∇_a C ⊙ σ'(z^L)               (``cost.delta``)
- BP2  δ^l = ((w^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l)  (each layer's ``backward``: its wᵀδ, then ``activation.vjp``)
- BP3  ∂C/∂b^l = δ^l
- BP4  ∂C/∂w^l = δ^l (a^{l−1})ᵀ

For a stack of fully connected layers (network.py's networks) this is the book's matrix-based
backprop; a conv-pool layer's ``backward`` runs the same step through its max-pool and its
convolution (docs/conv.md).

Derivation: docs/backprop.md#the-four-equations
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

import jax
import jax.numpy as jnp

from jaxnn.net import (
    Network,
    as_batch,
    compiled,
    hidden,
    masks,
    net_autodiff_grad,
    prepare,
    require_differentiable,
)


def _regularize(net: Network, params, grads, reg_scale):
    """Adds the penalty's hand-written gradient, reg_scale·∂penalty/∂w, to each layer's weights.

    Derivation: docs/derivations.md#l2-and-l1-regularization
    """
    if net.regularizer.name == "none":
        return grads
    return [
        {k: v + reg_scale * net.regularizer.grad(p[k]) if k in layer.weights else v for k, v in g.items()}
        for layer, p, g in zip(net.layers, params, grads)
    ]


def _unregularized(net: Network, params, x, y, mults):
    """The gradient of the mean cost, layer by layer: BP1 at the output, then each layer's backward."""
    inputs, caches = hidden(net, params, x, mults)
    out = net.layers[-1]
    assert out.logits is not None and out.backward_z is not None and out.activation is not None  # see network()
    z, cache = out.logits(params[-1], inputs[-1], mults[-1])
    a = out.activation.fn(z)
    # BP1; dividing by m here makes every later gradient that of the mean cost.
    delta = net.cost.delta(z, a, y, out.activation) / x.shape[0]
    grads: list = [None] * len(net.layers)
    grads[-1], g = out.backward_z(params[-1], cache, delta)  # BP3, BP4, and wᵀδ for BP2
    for l in range(len(net.layers) - 2, -1, -1):
        grads[l], g = net.layers[l].backward(params[l], caches[l], g)
    return grads


def net_backprop(net: Network, params, x, y, reg_scale=0.0, mults: Optional[list] = None):
    """Matrix-based backprop over a mini-batch: one pass through the layers, no loop over examples.

    Derivation: docs/backprop.md#over-a-mini-batch-of-rows
    """
    x = as_batch(net, x)
    if mults is None:
        mults = masks(net, None, x.shape[0], x.dtype, train=False)
    return _regularize(net, params, _unregularized(net, params, x, y, mults), reg_scale)


def net_backprop_example(net: Network, params, x, y, mults: Optional[list] = None):
    """network.py's ``backprop(x, y)``: the gradient of one example's cost (x one example, y its
    target row), without the penalty.

    Derivation: docs/backprop.md#the-four-equations
    """
    x = as_batch(net, x[None, ...])
    if mults is None:
        mults = masks(net, None, 1, x.dtype, train=False)
    return _unregularized(net, params, x, y[None, :], mults)


def net_backprop_per_example(net: Network, params, x, y, reg_scale=0.0, mults: Optional[list] = None):
    """network.py's ``update_mini_batch`` gradient: per-example backprop, summed, over m."""
    x = as_batch(net, x)
    m = x.shape[0]
    if mults is None:
        mults = masks(net, None, m, x.dtype, train=False)
    rows = [None if k is None else jnp.broadcast_to(k, (m,) + shape) for k, shape in zip(mults, net.shapes)]

    def add_example(total, example):
        x1, y1, k1 = example
        one = [None if k is None else k[None, ...] for k in k1]
        nabla = _unregularized(net, params, x1[None, ...], y1[None, :], one)
        return jax.tree_util.tree_map(jnp.add, total, nabla), None

    zero = jax.tree_util.tree_map(jnp.zeros_like, params)
    total, _ = jax.lax.scan(add_example, zero, (x, y, rows))
    grads = jax.tree_util.tree_map(lambda t: t / m, total)
    return _regularize(net, params, grads, reg_scale)


def _public(net_fn):
    def grad(params, x, y, net: Optional[Network] = None, **components):
        net, x, y, reg_scale, mults = prepare(params, x, y, net, components)
        require_differentiable(net)
        return compiled(net_fn, net)(params, x, y, reg_scale, mults)

    grad.__name__ = net_fn.__name__.replace("net_", "")
    grad.__doc__ = (net_fn.__doc__ or "") + "\n\n    Same signature as [`autodiff_grad`][jaxnn.net.autodiff_grad]."
    return grad


#: The gradient paths, by name; each maps (net, params, x, y_one_hot, reg_scale, mults) to the mean-cost gradient.
GRADIENTS: Dict[str, Callable] = {
    "backprop": net_backprop,
    "autodiff": net_autodiff_grad,
    "backprop-per-example": net_backprop_per_example,
}

backprop = _public(net_backprop)
backprop_per_example = _public(net_backprop_per_example)

__all__ = [
    "GRADIENTS",
    "backprop",
    "backprop_per_example",
    "net_backprop",
    "net_backprop_example",
    "net_backprop_per_example",
]
