"""jaxnn: the networks of Nielsen's *Neural Networks and Deep Learning*, functional and fast, in JAX.

The API in brief::

    import jax, jaxnn
    data = jaxnn.load_mnist()
    params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "large")
    params, history = jaxnn.sgd(params, data.training, epochs=30, mini_batch_size=10, eta=3.0,
                                key=jax.random.key(1), evaluation_data=data.test)
    print(history.best())
"""

from jaxnn.activations import Activation, activations, elementwise
from jaxnn.backprop import backprop, backprop_per_example
from jaxnn.convnet import (
    CONV_GRADIENTS,
    ConvHistory,
    ConvNet,
    conv_autodiff_grad,
    conv_backprop,
    conv_evaluate,
    conv_forward,
    conv_init,
    conv_loss,
    conv_masks,
    conv_net,
    ensemble_predict,
    train_convnet,
)
from jaxnn.costs import Cost, costs
from jaxnn.data import Dataset, Split, load_expanded_mnist, load_fashion_mnist, load_mnist
from jaxnn.errors import JaxnnError, NotDifferentiableError
from jaxnn.initializers import Initializer, init_params, initializers, sizes_of
from jaxnn.io import load_model, save_model
from jaxnn.layers import ConvPool, FullyConnected, Layer, LayerType, Softmax, layers, make_layer
from jaxnn.network import (
    Model,
    accuracy,
    autodiff_grad,
    evaluate,
    feedforward,
    forward,
    loss,
    make_model,
    predict,
)
from jaxnn.regularizers import Regularizer, regularizers
from jaxnn.sweep import SweepResult, sweep
from jaxnn.training import GRADIENTS, History, sgd
from jaxnn.tuning import eta_threshold, lambda_search

__version__ = "0.1.0"

__all__ = [
    "Activation", "Cost", "Dataset", "GRADIENTS", "History", "Initializer", "JaxnnError", "Model",
    "NotDifferentiableError", "Regularizer", "Split", "accuracy", "activations", "autodiff_grad", "backprop",
    "backprop_per_example", "costs", "elementwise", "evaluate", "feedforward", "forward",
    "init_params", "initializers", "load_expanded_mnist", "load_fashion_mnist", "load_mnist", "load_model", "loss",
    "make_model", "predict", "regularizers", "save_model", "sgd", "eta_threshold", "lambda_search", "sizes_of", "sweep", "SweepResult",
    "CONV_GRADIENTS", "ConvHistory", "ConvNet", "conv_autodiff_grad", "conv_backprop", "conv_evaluate", "conv_forward",
    "conv_init", "conv_loss", "conv_masks", "conv_net", "ensemble_predict", "train_convnet",
    "ConvPool", "FullyConnected", "Layer", "LayerType", "Softmax", "layers", "make_layer",
]
