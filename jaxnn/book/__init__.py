"""The book's own code, running on jaxnn: ``from jaxnn.book import mnist_loader, network, network2, network3``.

With that import line (and, for chapter 6, ``from jaxnn.book.network3 import Network,
ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer, ReLU``), the shell sessions of chapters 1,
3, 5 and 6 run unchanged, print what network.py, network2.py and network3.py print, and train
through jaxnn's compiled core. See ``docs/book.md``.
"""

from jaxnn.book import mnist_loader, network, network2, network3

__all__ = ["mnist_loader", "network", "network2", "network3"]
