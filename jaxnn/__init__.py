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

from jaxnn import _cache
from jaxnn.activations import Activation, activations, elementwise
from jaxnn.backprop import GRADIENTS, backprop, backprop_per_example
from jaxnn.convnet import ConvNet, conv_init, ensemble_predict, train_convnet
from jaxnn.costs import Cost, costs
from jaxnn.data import Dataset, Split, load_expanded_mnist, load_fashion_mnist, load_mnist
from jaxnn.errors import JaxnnError, NotDifferentiableError
from jaxnn.history import History
from jaxnn.initializers import Initializer, init_params, initializers
from jaxnn.layers import ConvPool, FullyConnected, Layer, LayerType, Softmax, layers, make_layer
from jaxnn.modelfile import load_model, save_model
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

__version__ = "0.1.0"

# JAX's persistent compilation cache in ~/.cache/jaxnn/xla (opt out: JAXNN_NO_COMPILATION_CACHE=1)
_cache.enable()

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
