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

from jaxnn import regularizers as _reg
from jaxnn.activations import Activation
from jaxnn.costs import Cost
from jaxnn.errors import JaxnnError, NotDifferentiableError
from jaxnn.regularizers import Regularizer

DROPOUT_MODES = (None, "book", "inverted")


class Model(NamedTuple):
    """The components of a fully connected network (hashable, so it can be a static jit argument).

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
    regularizer: Regularizer = _reg.none
    dropout: Optional[str] = None


def make_model(activation="sigmoid", output_activation=None, cost="quadratic", regularizer="none",
               dropout=None) -> Model:
    """Resolves component names into a :class:`Model` and checks that they fit together.

    Args:
      activation: the hidden layers' activation (name or record).
      output_activation: the output layer's; defaults to ``activation`` (network.py uses
        sigmoid everywhere).
      cost: the cost (name or record).
      regularizer: the weight penalty (``"none"``, ``"l2"``, ``"l1"`` or a record).
      dropout: ``None``, ``"book"`` or ``"inverted"``; see :class:`Model`.
    """
    from jaxnn.activations import activations
    from jaxnn.costs import costs
    from jaxnn.regularizers import regularizers
    from jaxnn.validation import choice, component

    if isinstance(activation, Model):
        return activation
    act = component(activations, activation)
    out = component(activations, output_activation) if output_activation is not None else act
    cost = component(costs, cost)
    reason = cost.unsupported(out)
    if reason:
        raise JaxnnError(reason)
    choice(dropout, DROPOUT_MODES, "dropout mode")
    return Model(act, out, cost, component(regularizers, regularizer), dropout)


def _model(components) -> Model:
    if isinstance(components.get("model"), Model):
        return components["model"]
    return make_model(**components)


def penalty(model: Model, params):
    """Σ over layers of the regularizer's penalty on the weights (biases are not penalised)."""
    return sum(model.regularizer.penalty(layer["w"]) for layer in params)


def dropout_masks(model: Model, params, key, p_dropout, m: int, dtype):
    """Training-time multipliers for each hidden layer's activations: 0 for a dropped unit,
    1 (book) or 1/(1 − p) (inverted) for a kept one. ``None`` without dropout."""
    if model.dropout is None:
        return None
    keep = 1 - jnp.asarray(p_dropout, dtype)
    keys = jax.random.split(key, len(params) - 1)
    masks = []
    for k, layer in zip(keys, params[:-1]):
        mask = jax.random.bernoulli(k, keep, (m, layer["w"].shape[0])).astype(dtype)
        masks.append(mask / keep if model.dropout == "inverted" else mask)
    return masks


def test_masks(model: Model, params, p_dropout, dtype):
    """Test-time multipliers: 1 − p on every hidden layer in the book's form, none otherwise."""
    if model.dropout != "book":
        return None
    return [1 - jnp.asarray(p_dropout, dtype)] * (len(params) - 1)


def require_differentiable(model: Model) -> None:
    """Raises a clear error when a component has no useful derivative."""
    for a in (model.activation, model.output_activation):
        if not a.differentiable:
            a.vjp(None, None, None)  # raises NotDifferentiableError with the component's reason
            raise NotDifferentiableError(f"activation {a.name!r} has no derivative")


def feedforward(model: Model, params, x, masks=None, weights_first: bool = False) -> Tuple[list, list]:
    """Runs the network, keeping every layer's z and activation (for backprop).

    Args:
      masks: optional multipliers for each hidden layer's activations (dropout), from
        :func:`dropout_masks` or :func:`test_masks`.
      weights_first: compute z as (w @ aᵀ)ᵀ instead of a @ wᵀ. The same arithmetic, but XLA
        then reads w in its stored layout; with ``a @ w.T`` the CPU backend copies a transposed
        w in every step, which in a sweep is a full extra pass over the stacked weights. The
        rounding can differ in the last bits, so only sweeps use it.

    Returns:
      ``(zs, activations)``: ``zs[l]`` is z^{l+1}, ``activations[0]`` is x and
      ``activations[l+1] = σ(zs[l])``, times its mask for a hidden layer.
    """
    a = x
    zs, acts = [], [x]
    last = len(params) - 1
    for l, layer in enumerate(params):
        z = ((layer["w"] @ a.T).T if weights_first else a @ layer["w"].T) + layer["b"]
        a = (model.output_activation if l == last else model.activation).fn(z)
        if masks is not None and l < last:
            a = a * masks[l]
        zs.append(z)
        acts.append(a)
    return zs, acts


def targets(y, n_out: int, dtype) -> jax.Array:
    """One-hot rows from integer labels; one-hot input is returned as ``dtype``."""
    y = jnp.asarray(y)
    if jnp.issubdtype(y.dtype, jnp.integer):
        return jax.nn.one_hot(y, n_out, dtype=dtype)
    return y.astype(dtype)


def model_forward(model: Model, params, x, masks=None):
    return feedforward(model, params, x, masks)[1][-1]


def model_loss(model: Model, params, x, y, reg_scale=0.0, masks=None):
    """Mean cost over the rows of ``x`` (y one-hot), plus ``reg_scale`` (λ/n) times the penalty."""
    zs, _ = feedforward(model, params, x, masks)
    c = jnp.mean(model.cost.value_z(zs[-1], y, model.output_activation))
    if model.regularizer.name == "none":
        return c
    return c + reg_scale * penalty(model, params)


def model_autodiff_grad(model: Model, params, x, y, reg_scale=0.0, masks=None):
    """``jax.grad`` of :func:`model_loss`: the reference every hand-written path must equal."""
    return jax.grad(lambda p: model_loss(model, p, x, y, reg_scale, masks))(params)


def _rows(params, x):
    x = jnp.asarray(x)
    return x[None, :] if x.ndim == 1 else x


def forward(params, x, **components):
    """The network's output a^L for inputs ``x`` (rows), like network.py's ``feedforward``."""
    x = _rows(params, x)
    return model_forward(_model(components), params, x)


def _prepare(params, x, y, components):
    """Resolves the components and shapes the inputs of the public loss and gradient functions.

    ``lmbda`` and ``n`` give the regularization strength λ/n (n defaults to the number of rows);
    ``masks`` are dropout multipliers (see :func:`dropout_masks`).
    """
    components = dict(components)
    lmbda = components.pop("lmbda", 0.0)
    n = components.pop("n", None)
    masks = components.pop("masks", None)
    if lmbda and components.get("regularizer", "none") == "none":
        components["regularizer"] = "l2"
    model = _model(components)
    x = _rows(params, x)
    y = targets(y, params[-1]["w"].shape[0], x.dtype).reshape(x.shape[0], -1)
    return model, x, y, lmbda / (n or x.shape[0]), masks


def loss(params, x, y, **components):
    """Mean cost of the mini-batch ``(x, y)``, plus (λ/n)·penalty when ``lmbda`` is given.

    Keyword args: the components of :func:`make_model`, and ``lmbda``, ``n`` (the training-set
    size in λ/n; default the number of rows) and ``masks`` (dropout multipliers).
    """
    model, x, y, reg_scale, masks = _prepare(params, x, y, components)
    return model_loss(model, params, x, y, reg_scale, masks)


def autodiff_grad(params, x, y, **components):
    """Gradient of :func:`loss` from ``jax.grad``; same pytree structure as ``params``."""
    model, x, y, reg_scale, masks = _prepare(params, x, y, components)
    require_differentiable(model)
    return model_autodiff_grad(model, params, x, y, reg_scale, masks)


def _checked(params, x, components):
    """Validates the inputs of :func:`predict` and :func:`evaluate` before anything runs."""
    from jaxnn.validation import as_inputs, as_params

    sizes = as_params(params)
    model = _model(components)
    if not isinstance(x, jax.core.Tracer):
        if getattr(x, "ndim", None) == 1 and len(x) == sizes[0]:
            x = x[None, :]
        x = as_inputs(x, sizes[0])
    return model, sizes, x


def predict(params, x, **components):
    """The index of the most active output neuron for each row (the predicted digit)."""
    model, _, x = _checked(params, x, components)
    return jnp.argmax(forward(params, x, model=model), axis=-1)


def evaluate(params, x, labels, **components) -> int:
    """How many rows are classified correctly, as network.py's ``evaluate`` counts."""
    from jaxnn.validation import as_labels

    model, sizes, x = _checked(params, x, components)
    labels = as_labels(labels, len(x), sizes[-1])
    return int(jnp.sum(predict(params, x, model=model) == jnp.asarray(labels)))


def accuracy(params, x, labels, **components) -> float:
    """The fraction of rows classified correctly."""
    correct = evaluate(params, x, labels, **components)
    return correct / (len(x) if getattr(x, "ndim", 2) == 2 else 1)


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
