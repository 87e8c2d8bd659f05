"""The book's own code, running on jaxnn: ``from jaxnn.book import mnist_loader, network, network2``.

With that import line, the shell sessions of chapters 1 and 3 run unchanged, print what
network.py and network2.py print, and train through jaxnn's compiled core. See ``docs/book.md``.
"""

from jaxnn.book import mnist_loader, network, network2

__all__ = ["mnist_loader", "network", "network2"]
