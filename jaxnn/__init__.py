"""jaxnn: the networks of Nielsen's *Neural Networks and Deep Learning*, functional and fast, in JAX.

The API in brief::

    import jax, jaxnn
    data = jaxnn.load_mnist()
    params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "large")
    params, history = jaxnn.sgd(params, data.training, epochs=30, mini_batch_size=10, eta=3.0,
                                key=jax.random.key(1), evaluation_data=data.test)
    print(history.best())

Every network is a :class:`Network`: a stack of layers with a cost and a regularizer
(:func:`mlp` for network.py's and network2.py's, :func:`conv_net` for network3's), and
:func:`sgd` trains any of them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any, List

if TYPE_CHECKING:  # the names for type checkers and editors; at run time each is imported on first use
    from jaxnn.activations import Activation, activations, elementwise
    from jaxnn.backprop import GRADIENTS, backprop, backprop_per_example
    from jaxnn.convnet import ConvNet, conv_init, ensemble_predict, train_convnet
    from jaxnn.costs import Cost, costs
    from jaxnn.data import Dataset, Split, load_expanded_mnist, load_fashion_mnist, load_mnist
    from jaxnn.errors import JaxnnError, NotDifferentiableError
    from jaxnn.history import History
    from jaxnn.initializers import Initializer, init_params, initializers
    from jaxnn.layers import ConvPool, FullyConnected, Layer, LayerType, Softmax, layers, make_layer
    from jaxnn.modelfile import load_model, load_network, save_model
    from jaxnn.net import (
        Model,
        Network,
        accuracy,
        autodiff_grad,
        conv_net,
        evaluate,
        feedforward,
        forward,
        init_network,
        loss,
        make_model,
        masks,
        mlp,
        network,
        predict,
    )
    from jaxnn.optim import book_sgd
    from jaxnn.regularizers import Regularizer, regularizers
    from jaxnn.sweep import SweepResult, sweep
    from jaxnn.training import NETWORK3, sgd
    from jaxnn.tuning import eta_threshold, lambda_search
    from jaxnn.validation import sizes_of

#: Where each public name lives. Importing jaxnn imports none of them (nor JAX): each module is
#: imported when one of its names is first used, so ``jaxnn --help`` starts at once.
_EXPORTS = {
    "jaxnn.activations": ("Activation", "activations", "elementwise"),
    "jaxnn.backprop": ("GRADIENTS", "backprop", "backprop_per_example"),
    "jaxnn.convnet": ("ConvNet", "conv_init", "ensemble_predict", "train_convnet"),
    "jaxnn.costs": ("Cost", "costs"),
    "jaxnn.data": ("Dataset", "Split", "load_expanded_mnist", "load_fashion_mnist", "load_mnist"),
    "jaxnn.errors": ("JaxnnError", "NotDifferentiableError"),
    "jaxnn.history": ("History",),
    "jaxnn.initializers": ("Initializer", "init_params", "initializers"),
    "jaxnn.layers": ("ConvPool", "FullyConnected", "Layer", "LayerType", "Softmax", "layers", "make_layer"),
    "jaxnn.modelfile": ("load_model", "load_network", "save_model"),
    "jaxnn.net": (
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
    ),
    "jaxnn.optim": ("book_sgd",),
    "jaxnn.regularizers": ("Regularizer", "regularizers"),
    "jaxnn.sweep": ("SweepResult", "sweep"),
    "jaxnn.training": ("NETWORK3", "sgd"),
    "jaxnn.tuning": ("eta_threshold", "lambda_search"),
    "jaxnn.validation": ("sizes_of",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
#: Names that are also submodules': ``jaxnn.layers`` is the layer registry and ``jaxnn.sweep`` the
#: function, not the modules of the same name.
_SHADOWED = {name: module for name, module in _HOME.items() if module == f"jaxnn.{name}"}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        if not name.startswith("_") and importlib.util.find_spec(f"jaxnn.{name}") is not None:
            return importlib.import_module(f"jaxnn.{name}")  # jaxnn.modelfile and the other submodules
        raise AttributeError(f"module 'jaxnn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    if name not in _SHADOWED:
        globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_HOME))


class _Package(types.ModuleType):
    """The jaxnn package. Importing the submodule ``jaxnn.layers`` sets the attribute ``layers``
    to that module; ``jaxnn.layers`` stays the layer registry all the same (and likewise for the
    other names in ``_SHADOWED``)."""

    def __getattribute__(self, name: str) -> Any:
        if name in _SHADOWED:
            value = importlib.import_module(_SHADOWED[name]).__dict__.get(name)
            if value is not None:  # None only while that module is still being imported
                return value
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Cost",
    "ConvNet",
    "ConvPool",
    "Dataset",
    "FullyConnected",
    "GRADIENTS",
    "History",
    "Initializer",
    "JaxnnError",
    "Layer",
    "LayerType",
    "Model",
    "NETWORK3",
    "Network",
    "NotDifferentiableError",
    "Regularizer",
    "Softmax",
    "Split",
    "SweepResult",
    "accuracy",
    "activations",
    "autodiff_grad",
    "backprop",
    "backprop_per_example",
    "book_sgd",
    "conv_init",
    "conv_net",
    "costs",
    "elementwise",
    "ensemble_predict",
    "eta_threshold",
    "evaluate",
    "feedforward",
    "feedforward",
    "forward",
    "init_network",
    "init_params",
    "initializers",
    "lambda_search",
    "layers",
    "load_expanded_mnist",
    "load_fashion_mnist",
    "load_mnist",
    "load_model",
    "load_network",
    "loss",
    "make_layer",
    "make_model",
    "masks",
    "mlp",
    "network",
    "predict",
    "regularizers",
    "save_model",
    "sgd",
    "sizes_of",
    "sweep",
    "train_convnet",
]
