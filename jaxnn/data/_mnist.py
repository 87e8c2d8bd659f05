"""The MNIST copy shipped with jaxnn: its checksum, its arrays, and the book's split."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxnn.errors import JaxnnError
from jaxnn.validation import float_dtype

MNIST_PATH = Path(__file__).with_name("mnist.npz")
MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
MNIST_SIZE = 11_490_519

_verified: set = set()


class Split(NamedTuple):
    """One part of a dataset: inputs as rows and their labels."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


class Dataset(NamedTuple):
    """The book's three-way split."""

    training: Split
    validation: Split
    test: Split


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_mnist(path=MNIST_PATH) -> Path:
    """Checks the MNIST file's size and SHA-256; raises a clear error that says how to repair it."""
    if not isinstance(path, (str, os.PathLike)):
        raise JaxnnError(f"path must be the path of an MNIST .npz file, got {type(path).__name__}")
    path = Path(path)
    try:
        stamp = (str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns)
    except OSError:
        stamp = None
    if stamp in _verified:  # verified before, and not changed since
        return path
    repair = (
        "reinstall jaxnn (pip install --force-reinstall .) or restore the file with "
        "'git checkout -- jaxnn/data/mnist.npz'"
    )
    if not path.is_file():
        raise JaxnnError(f"the MNIST file {path} is missing: {repair}")
    if not os.access(path, os.R_OK):
        raise JaxnnError(
            f"the MNIST file {path} is not readable by this user (permission denied): check its permissions"
        )
    size = path.stat().st_size
    if size != MNIST_SIZE:
        raise JaxnnError(
            f"the MNIST file {path} has {size:,} bytes, expected {MNIST_SIZE:,}: it is truncated or replaced; {repair}"
        )
    digest = sha256_of(path)
    if digest != MNIST_SHA256:
        raise JaxnnError(f"the MNIST file {path} is corrupt (SHA-256 {digest[:12]}…): {repair}")
    _verified.add(stamp)
    return path


def _one_hot(labels: np.ndarray, n: int = 10, dtype=np.float32) -> np.ndarray:
    out = np.zeros((len(labels), n), dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def split_dataset(x_train, y_train, x_test, y_test, *, one_hot: bool, dtype, n_validation: int = 10_000) -> Dataset:
    def prep(x, y):
        x = x.reshape(len(x), -1).astype(dtype)
        x /= dtype(255)  # in place: one array of floats, not two (pages are slow to fault in)
        y = y.astype(np.int32)
        return Split(x, _one_hot(y, 10, dtype) if one_hot else y)

    n_train = len(x_train) - n_validation
    return Dataset(
        prep(x_train[:n_train], y_train[:n_train]),
        prep(x_train[n_train:], y_train[n_train:]),
        prep(x_test, y_test),
    )


def load_mnist_arrays(path=MNIST_PATH):
    """The raw uint8 arrays ``(x_train, y_train, x_test, y_test)`` of the verified file."""
    path = verify_mnist(path)
    with np.load(path, allow_pickle=False) as d:
        return d["x_train"], d["y_train"], d["x_test"], d["y_test"]


def flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise JaxnnError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def load_mnist(one_hot: bool = False, dtype=np.float32, path=MNIST_PATH) -> Dataset:
    """MNIST in the book's 50,000 / 10,000 / 10,000 split.

    Args:
      one_hot: give labels as one-hot rows (like mnist_loader's training targets) rather
        than integers.
      dtype: the float type of the pixels, scaled to [0, 1].
      path: the npz file; defaults to the copy shipped with jaxnn.

    Returns:
      A [`Dataset`][jaxnn.data.Dataset] of ``(x, y)`` splits with ``x`` of shape ``(n, 784)``.
    """
    one_hot, dtype = flag(one_hot, "one_hot"), float_dtype(dtype).type  # checked before the file is read
    return split_dataset(*load_mnist_arrays(path), one_hot=one_hot, dtype=dtype)
