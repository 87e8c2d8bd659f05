"""mnist_loader.py, running on jaxnn: the book's MNIST structures, from the copy shipped with jaxnn.

The data come from [`jaxnn.load_mnist`][jaxnn.data.load_mnist] (the checksummed ``mnist.npz``), never from a
pickle, in the book's split: 50,000 training, 10,000 validation and 10,000 test images, with
pixels as float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np

from jaxnn.book._facade import vectorized_result
from jaxnn.data import load_mnist


def load_data():
    """Return ``(training_data, validation_data, test_data)``, each a tuple ``(x, y)`` of the images
    as rows ``x`` (n, 784) and their digits ``y`` (n,), as the original's unpickled tuples."""
    return tuple((split.x, split.y.astype(np.int64)) for split in load_mnist())


def load_data_wrapper():
    """Return ``(training_data, validation_data, test_data)`` as lists of ``(x, y)`` pairs.

    ``x`` is a (784, 1) column (a view into one array, so the lists cost little memory). In
    ``training_data`` ``y`` is a (10, 1) one-hot column (float64, as ``vectorized_result``);
    in ``validation_data`` and ``test_data`` it is the digit, an integer. The lists are real
    lists (Python 2's ``zip``), so ``training_data[:1000]`` works.
    """
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = load_data()
    one_hot = np.eye(10)[tr_y][:, :, None]  # vectorized_result of every label, at once
    training_data = list(zip(tr_x.reshape(-1, 784, 1), one_hot))
    validation_data = list(zip(va_x.reshape(-1, 784, 1), va_y))
    test_data = list(zip(te_x.reshape(-1, 784, 1), te_y))
    return training_data, validation_data, test_data


__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]
