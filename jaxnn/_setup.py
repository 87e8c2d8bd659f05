"""One validation step for every training entry point: the arguments of [`jaxnn.sgd`][jaxnn.training.sgd] and
[`jaxnn.sweep`][jaxnn.sweep.sweep] become a frozen `Setup`, checked before anything is compiled."""

from __future__ import annotations

import dataclasses
from typing import Any, List, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn.backprop import GRADIENTS
from jaxnn.errors import JaxnnError
from jaxnn.net import Network, check_network, init_network, make_model, mlp, require_differentiable
from jaxnn.regularizers import none as _no_penalty
from jaxnn.validation import (
    as_examples,
    as_params,
    as_targets,
    as_tree,
    check_sizes,
    choice,
    fits_dtype,
    float_dtype,
    fraction,
    positive_int,
)

#: The components of network.py's and network2.py's networks when none are named.
DEFAULTS = {
    "cost": "quadratic",
    "activation": "sigmoid",
    "output_activation": None,
    "regularizer": "l2",
    "dropout": "book",
}


@dataclasses.dataclass(frozen=True)
class Setup:
    """A training run's checked arguments: the network, the data on the device, the conventions.

    Attributes:
      net: the network as trained (no penalty when every λ is 0).
      x, y: the training inputs (rows) and targets (integer labels or rows), on the device.
      evaluation, test: ``(x, labels)`` pairs on the device, or ``None``.
      p_dropouts: the dropout rates asked for (one per run of a sweep), checked.
    """

    net: Network
    x: Any
    y: Any
    mini_batch_size: int
    evaluation: Optional[tuple]
    test: Optional[tuple]
    gradient: str
    dtype: Any
    shuffle: bool
    last_batch: str
    lmbda_scale: str
    p_dropouts: List[Optional[float]]

    @property
    def n(self) -> int:
        return int(len(self.x))

    @property
    def steps_per_epoch(self) -> int:
        full, rem = divmod(self.n, self.mini_batch_size)
        return full + (1 if rem and self.last_batch == "step" else 0)

    def reg_scale(self, lmbda: float, n: Optional[int] = None) -> float:
        """The penalty's factor for a data set of ``n`` rows (default: the training set): λ/n
        (network2) or λ over its number of full mini-batches (network3)."""
        n = self.n if n is None else n
        if self.lmbda_scale == "mini-batches":
            return lmbda / max(1, n // self.mini_batch_size)
        return lmbda / n

    def rates(self, p: Optional[float]):
        """One dropout rate per layer: ``p`` for each layer built with dropout (``None``: the rate
        it was built with), 0 for the others."""
        return jnp.asarray(
            [(layer.p_dropout if p is None else p) if layer.p_dropout > 0 else 0.0 for layer in self.net.layers],
            self.dtype,
        )

    def describe(self) -> dict:
        """The network as JSON: its layers' specs, input shape, cost and regularizer."""
        return {
            "layers": [[layer.name, dict(layer.config)] for layer in self.net.layers],
            "in_shape": list(self.net.in_shape),
            "cost": self.net.cost.name,
            "regularizer": self.net.regularizer.name,
        }


def pair(data, what: str, net: Network, dtype):
    """``(x, y)`` checked against the network and put on the device as ``dtype``."""
    try:
        x, y = data
    except (TypeError, ValueError):
        raise JaxnnError(f"{what} must be a pair (x, y) of inputs and labels") from None
    kind = what.split("_")[0]
    x = as_examples(x, net.in_shape, f"{kind} inputs")
    y = as_targets(y, len(x), net.n_out, f"{kind} labels")
    fits_dtype(x, dtype, f"{kind} inputs")
    fits_dtype(y, dtype, f"{kind} target rows")
    return jnp.asarray(x, dtype), (jnp.asarray(y) if y.ndim == 1 else jnp.asarray(y, dtype))


def check_params(net: Network, params) -> None:
    """Refuses parameters whose structure or shapes are not those of ``net``'s."""
    as_tree(params)
    expected = jax.eval_shape(lambda: init_network(0, net))
    got = jax.tree_util.tree_map(lambda a: tuple(np.shape(a)), list(params) if isinstance(params, tuple) else params)
    want = jax.tree_util.tree_map(lambda a: tuple(a.shape), expected)
    if got != want:  # nested lists and dicts of shapes: their structure is compared too
        raise JaxnnError(
            f"the parameters do not fit the network: their shapes are {got}, the network's are {want}; "
            "draw them with jaxnn.init_network(key, net)"
        )


def setup(
    params,
    training_data,
    mini_batch_size,
    *,
    net: Optional[Network] = None,
    sizes=None,
    components: Optional[dict] = None,
    lmbdas: Sequence[float] = (0.0,),
    p_dropouts=None,
    gradient: str = "backprop",
    evaluation_data=None,
    test_data=None,
    shuffle: bool = True,
    last_batch: str = "step",
    lmbda_scale: str = "examples",
    dtype=None,
    init: str = "default",
) -> Setup:
    """Checks a run's arguments and builds its `Setup`.

    The network is ``net``, or the stack of fully connected layers that ``params`` (or
    ``sizes``) describe, with ``components`` by name. Every name is checked, used or not.
    """
    components = {k: v for k, v in (components or {}).items() if v is not None}
    choice(gradient, tuple(GRADIENTS), "gradient")
    choice(last_batch, ("step", "drop"), "last_batch")
    choice(lmbda_scale, ("examples", "mini-batches"), "lmbda_scale")
    regularized = max(lmbdas) > 0
    if p_dropouts is not None and not p_dropouts:
        raise JaxnnError("p_dropout needs at least one value")
    if p_dropouts is not None:
        p_dropouts = [fraction(p, "p_dropout", "the probability of dropping a unit") for p in p_dropouts]
    if net is not None:
        check_network(net, components)
        if params is not None:
            check_params(net, params)
            dtype = jax.tree_util.tree_leaves(params)[0].dtype
        dropping = [layer for layer in net.layers if layer.p_dropout > 0]
        if p_dropouts is None:
            p_dropouts = [None]  # each layer's own rate
        elif max(p_dropouts) > 0 and not dropping:
            raise JaxnnError(
                "p_dropout sets the rate of the network's dropout layers, and it has none: build "
                "layers with p_dropout, e.g. FullyConnected(100, p_dropout=0.5)"
            )
        if not regularized:
            net = net._replace(regularizer=_no_penalty)
    else:
        merged = {**DEFAULTS, **components}
        make_model(**merged)  # every name checked, used or not
        p_dropouts = list(p_dropouts or [0.0])
        if params is not None:
            sizes = as_params(params)
            dtype = params[0]["w"].dtype
        else:
            sizes = check_sizes(sizes)
        model = make_model(
            merged["activation"],
            merged["output_activation"],
            merged["cost"],
            merged["regularizer"] if regularized else "none",
            merged["dropout"] if max(p_dropouts) > 0 else None,
        )
        net = mlp(sizes, model, p_dropout=max(p_dropouts), init=init)
    require_differentiable(net)
    dtype = float_dtype(dtype if dtype is not None else jnp.float32)
    x, y = pair(training_data, "training_data", net, dtype)
    n = len(x)
    mini_batch_size = positive_int(mini_batch_size, "mini_batch_size")
    if mini_batch_size > n:
        raise JaxnnError(f"mini_batch_size {mini_batch_size} is larger than the {n} training examples: use at most {n}")
    evaluation = None if evaluation_data is None else pair(evaluation_data, "evaluation_data", net, dtype)
    test = None if test_data is None else pair(test_data, "test_data", net, dtype)
    return Setup(
        net,
        x,
        y,
        mini_batch_size,
        evaluation,
        test,
        gradient,
        dtype,
        bool(shuffle),
        last_batch,
        lmbda_scale,
        [None if p is None else float(p) for p in p_dropouts],
    )


__all__ = ["DEFAULTS", "Setup", "check_params", "pair", "setup"]
