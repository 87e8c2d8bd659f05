"""The fully connected network as pure functions: forward, loss, accuracy and jax.grad.

A network is its parameters (see :func:`jaxnn.init_params`) plus a :class:`Model`, the
components it uses: a hidden activation, an output activation and a cost, each a registry
record. Every public function accepts either registry names or records::

    a = jaxnn.forward(params, x)                                  # sigmoid everywhere
    c = jaxnn.loss(params, x, y, cost="cross-entropy")
    g = jaxnn.autodiff_grad(params, x, y, cost="cross-entropy")   # same pytree as params

Inputs are rows: ``x`` has shape ``(m, sizes[0])``; a single example may be a vector.
Targets ``y`` are one-hot rows ``(m, sizes[-1])`` or integer labels ``(m,)``.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp

from jaxnn import activations as _act
from jaxnn import costs as _costs
from jaxnn.activations import Activation
from jaxnn.costs import Cost
from jaxnn.errors import JaxnnError, NotDifferentiableError


class Model(NamedTuple):
    """The components of a fully connected network (hashable, so it can be a static jit argument)."""

    activation: Activation
    output_activation: Activation
    cost: Cost


def make_model(activation="sigmoid", output_activation=None, cost="quadratic") -> Model:
    """Resolves component names into a :class:`Model` and checks that they fit together.

    Args:
      activation: the hidden layers' activation (name or record).
      output_activation: the output layer's; defaults to ``activation`` (network.py uses
        sigmoid everywhere).
      cost: the cost (name or record).
    """
    if isinstance(activation, Model):
        return activation
    act = _act.get(activation)
    out = _act.get(output_activation) if output_activation is not None else act
    cost = _costs.get(cost)
    reason = cost.unsupported(out)
    if reason:
        raise JaxnnError(reason)
    return Model(act, out, cost)


def _model(components) -> Model:
    if isinstance(components.get("model"), Model):
        return components["model"]
    return make_model(**components)


def require_differentiable(model: Model) -> None:
    """Raises a clear error when a component has no useful derivative."""
    for a in (model.activation, model.output_activation):
        if not a.differentiable:
            a.vjp(None, None, None)  # raises NotDifferentiableError with the component's reason
            raise NotDifferentiableError(f"activation {a.name!r} has no derivative")


def feedforward(model: Model, params, x) -> Tuple[list, list]:
    """Runs the network, keeping every layer's z and activation (for backprop).

    Returns:
      ``(zs, activations)``: ``zs[l]`` is z^{l+1}, ``activations[0]`` is x and
      ``activations[l+1] = σ(zs[l])``.
    """
    a = x
    zs, acts = [], [x]
    last = len(params) - 1
    for l, layer in enumerate(params):
        z = a @ layer["w"].T + layer["b"]
        a = (model.output_activation if l == last else model.activation).fn(z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def targets(y, n_out: int, dtype) -> jax.Array:
    """One-hot rows from integer labels; one-hot input is returned as ``dtype``."""
    y = jnp.asarray(y)
    if jnp.issubdtype(y.dtype, jnp.integer):
        return jax.nn.one_hot(y, n_out, dtype=dtype)
    return y.astype(dtype)


def model_forward(model: Model, params, x):
    return feedforward(model, params, x)[1][-1]


def model_loss(model: Model, params, x, y):
    """Mean cost over the rows of ``x`` (y one-hot)."""
    zs, _ = feedforward(model, params, x)
    return jnp.mean(model.cost.value_z(zs[-1], y, model.output_activation))


def model_autodiff_grad(model: Model, params, x, y):
    """``jax.grad`` of :func:`model_loss`: the reference every hand-written path must equal."""
    return jax.grad(lambda p: model_loss(model, p, x, y))(params)


def _rows(params, x):
    x = jnp.asarray(x)
    return x[None, :] if x.ndim == 1 else x


def forward(params, x, **components):
    """The network's output a^L for inputs ``x`` (rows), like network.py's ``feedforward``."""
    x = _rows(params, x)
    return model_forward(_model(components), params, x)


def loss(params, x, y, **components):
    """Mean cost of the mini-batch ``(x, y)``; ``components`` as in :func:`make_model`."""
    model = _model(components)
    x = _rows(params, x)
    return model_loss(model, params, x, targets(y, params[-1]["w"].shape[0], x.dtype).reshape(x.shape[0], -1))


def autodiff_grad(params, x, y, **components):
    """Gradient of :func:`loss` from ``jax.grad``; same pytree structure as ``params``."""
    model = _model(components)
    require_differentiable(model)
    x = _rows(params, x)
    y = targets(y, params[-1]["w"].shape[0], x.dtype).reshape(x.shape[0], -1)
    return model_autodiff_grad(model, params, x, y)


def predict(params, x, **components):
    """The index of the most active output neuron for each row (the predicted digit)."""
    return jnp.argmax(forward(params, x, **components), axis=-1)


def evaluate(params, x, labels, **components) -> int:
    """How many rows are classified correctly, as network.py's ``evaluate`` counts."""
    return int(jnp.sum(predict(params, x, **components) == jnp.asarray(labels)))


def accuracy(params, x, labels, **components) -> float:
    """The fraction of rows classified correctly."""
    return evaluate(params, x, labels, **components) / len(labels)


__all__ = [
    "Model",
    "accuracy",
    "autodiff_grad",
    "evaluate",
    "feedforward",
    "forward",
    "loss",
    "make_model",
    "predict",
]
