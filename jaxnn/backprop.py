"""Hand-written backpropagation, BP1–BP4, per example and over a whole mini-batch.

Both functions have the signature of :func:`jaxnn.autodiff_grad` and return the gradient of
the mean cost over the mini-batch, so all three are interchangeable in training and are tested
equal to each other in float64. With δ^l = ∂C/∂z^l:

- BP1  δ^L = ∇_a C ⊙ σ'(z^L)               (``cost.delta``)
- BP2  δ^l = ((w^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l)  (``activation.vjp``)
- BP3  ∂C/∂b^l = δ^l
- BP4  ∂C/∂w^l = δ^l (a^{l−1})ᵀ

Derivation: docs/backprop.md#the-four-equations
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxnn.network import Model, _prepare, feedforward, require_differentiable


def _hidden_error(model, zs, acts, params, l, upstream, mask):
    """BP2 for hidden layer l: back through the dropout mask, then the activation's Jacobian.

    Derivation: docs/derivations.md#dropout-in-backprop
    """
    if mask is not None:
        upstream = upstream * mask
    a = acts[l] if mask is None else model.activation.fn(zs[l - 1])  # σ(z) before masking
    return model.activation.vjp(zs[l - 1], a, upstream)


def _regularize(model, params, grads, reg_scale):
    """Adds the penalty's hand-written gradient, (λ/n)·∂penalty/∂w, to the weight gradients.

    Derivation: docs/derivations.md#l2-and-l1-regularization
    """
    if model.regularizer.name == "none":
        return grads
    return [{"w": g["w"] + reg_scale * model.regularizer.grad(p["w"]), "b": g["b"]} for p, g in zip(params, grads)]


def model_backprop(model: Model, params, x, y, reg_scale=0.0, masks=None, weights_first: bool = False):
    """Matrix-based backprop over a mini-batch of rows: one pass, no loop over examples.

    ``weights_first`` is passed to :func:`jaxnn.network.feedforward` (sweeps use it).

    Derivation: docs/backprop.md#over-a-mini-batch-of-rows
    """
    zs, acts = feedforward(model, params, x, masks, weights_first)
    m = x.shape[0]
    # BP1; dividing by m here makes every later gradient that of the mean cost.
    delta = model.cost.delta(zs[-1], acts[-1], y, model.output_activation) / m
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        grads[l] = {"w": delta.T @ acts[l], "b": jnp.sum(delta, axis=0)}  # BP4, BP3
        if l:
            delta = _hidden_error(model, zs, acts, params, l, delta @ params[l]["w"],
                                  None if masks is None else masks[l - 1])  # BP2
    return _regularize(model, params, grads, reg_scale)


def model_backprop_example(model: Model, params, x, y, masks=None):
    """network.py's ``backprop(x, y)``: the gradient of one example's cost (x, y vectors).

    Derivation: docs/backprop.md#the-four-equations
    """
    zs, acts = feedforward(model, params, x, masks)
    delta = model.cost.delta(zs[-1], acts[-1], y, model.output_activation)  # BP1
    nabla = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        nabla[l] = {"w": jnp.outer(delta, acts[l]), "b": delta}  # BP4, BP3
        if l:
            delta = _hidden_error(model, zs, acts, params, l, params[l]["w"].T @ delta,
                                  None if masks is None else masks[l - 1])  # BP2
    return nabla


def model_backprop_per_example(model: Model, params, x, y, reg_scale=0.0, masks=None):
    """network.py's ``update_mini_batch`` gradient: per-example backprop, summed, over m."""

    def add_example(total, xym):
        x1, y1, m1 = xym
        nabla = model_backprop_example(model, params, x1, y1, m1)
        return jax.tree_util.tree_map(jnp.add, total, nabla), None

    m = x.shape[0]
    row_masks = None if masks is None else [jnp.broadcast_to(k, (m, p["w"].shape[0])) for k, p in zip(masks, params)]
    zero = jax.tree_util.tree_map(jnp.zeros_like, params)
    total, _ = jax.lax.scan(add_example, zero, (x, y, row_masks))
    grads = jax.tree_util.tree_map(lambda t: t / m, total)
    return _regularize(model, params, grads, reg_scale)


def _public(model_fn):
    def grad(params, x, y, **components):
        model, x, y, reg_scale, masks = _prepare(params, x, y, components)
        require_differentiable(model)
        return model_fn(model, params, x, y, reg_scale, masks)

    grad.__name__ = model_fn.__name__.replace("model_", "")
    grad.__doc__ = model_fn.__doc__ + "\n\n    Same signature as :func:`jaxnn.autodiff_grad`."
    return grad


backprop = _public(model_backprop)
backprop_per_example = _public(model_backprop_per_example)

__all__ = ["backprop", "backprop_per_example", "model_backprop", "model_backprop_per_example"]
