"""Datasets: the MNIST copy shipped with jaxnn, and Fashion-MNIST where Debian's package is installed.

``load_mnist()`` gives the book's split (mnist_loader.py): the first 50,000 training images
for training, the last 10,000 for validation, and the 10,000 test images, as float32 rows in
[0, 1] with integer labels (or one-hot rows with ``one_hot=True``). The shipped file is
checked against its SHA-256 before use.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from jaxnn.errors import JaxnnError
from jaxnn.validation import choice, float_dtype

MNIST_PATH = Path(__file__).with_name("mnist.npz")
MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
MNIST_SIZE = 11_490_519
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

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
    size = path.stat().st_size
    if size != MNIST_SIZE:
        raise JaxnnError(
            f"the MNIST file {path} has {size:,} bytes, expected {MNIST_SIZE:,}: it is truncated "
            f"or replaced; {repair}"
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


def _split(x_train, y_train, x_test, y_test, one_hot: bool, dtype, n_validation=10_000) -> Dataset:
    def prep(x, y):
        x = (x.reshape(len(x), -1).astype(dtype)) / dtype(255)
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


def load_mnist(one_hot: bool = False, dtype=np.float32, path=MNIST_PATH) -> Dataset:
    """MNIST in the book's 50,000 / 10,000 / 10,000 split.

    Args:
      one_hot: give labels as one-hot rows (like mnist_loader's training targets) rather
        than integers.
      dtype: the float type of the pixels, scaled to [0, 1].
      path: the npz file; defaults to the copy shipped with jaxnn.

    Returns:
      A :class:`Dataset` of ``(x, y)`` splits with ``x`` of shape ``(n, 784)``.
    """
    one_hot, dtype = _flag(one_hot, "one_hot"), float_dtype(dtype).type  # checked before the file is read
    return _split(*load_mnist_arrays(path), one_hot=one_hot, dtype=dtype)


def _flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise JaxnnError(f"{name} must be True or False, got {value!r}")
    return bool(value)


FASHION_REPAIR = ("reinstall it with 'apt-get install --reinstall dataset-fashion-mnist', or download the "
                  "four IDX .gz files again and pass directory=")


def _read_idx(path: Path, shape=None) -> np.ndarray:
    """Reads a gzipped IDX file of unsigned bytes. gzip's CRC-32 and length check catch a
    corrupt or truncated file; ``shape``, when given, is the shape the file must have."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise JaxnnError(f"{path} is corrupt or truncated ({type(exc).__name__}: {exc}): {FASHION_REPAIR}") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08 or len(raw) < 4 + 4 * raw[3]:
        raise JaxnnError(f"{path} is not an IDX file of unsigned bytes: {FASHION_REPAIR}")
    ndim = raw[3]
    dims = [int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4)]
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    expected = 1
    for d in dims:
        expected *= d  # Python ints: a hostile header cannot overflow the count
    if data.size != expected:
        raise JaxnnError(f"{path} is truncated or corrupt: its header declares {expected} values, it holds "
                         f"{data.size}: {FASHION_REPAIR}")
    if shape is not None and tuple(dims) != tuple(shape):
        raise JaxnnError(f"{path} holds an array of shape {tuple(dims)}, expected {tuple(shape)}: {FASHION_REPAIR}")
    return data.reshape(dims)


def load_fashion_mnist(one_hot: bool = False, dtype=np.float32, directory: Optional[os.PathLike] = None) -> Dataset:
    """Fashion-MNIST, in the same 50,000 / 10,000 / 10,000 split and format as :func:`load_mnist`.

    It reads Debian's ``dataset-fashion-mnist`` package (IDX files under
    ``/usr/share/datasets/fashion-mnist``), or ``directory`` if given.
    """
    one_hot, dtype = _flag(one_hot, "one_hot"), float_dtype(dtype).type
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise JaxnnError(f"directory must be a folder path, got {type(directory).__name__}")
    d = Path(directory) if directory is not None else FASHION_MNIST_DIR
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    missing = [n for n in names if not (d / n).is_file()]
    if missing:
        raise JaxnnError(
            f"Fashion-MNIST not found in {d} (missing {', '.join(missing)}): install it with "
            "'apt-get install dataset-fashion-mnist', or pass directory= with the four IDX .gz files"
        )
    shapes = [(60_000, 28, 28), (60_000,), (10_000, 28, 28), (10_000,)]
    arrays = [_read_idx(d / n, shape) for n, shape in zip(names, shapes)]
    for labels, n in ((arrays[1], names[1]), (arrays[3], names[3])):
        if labels.max() > 9:
            raise JaxnnError(f"{d / n} holds labels above 9, so it is not Fashion-MNIST: {FASHION_REPAIR}")
    return _split(*arrays, one_hot=one_hot, dtype=dtype)


DATASETS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}


def load(name: str, **kwargs) -> Dataset:
    """Loads a dataset by name: ``"mnist"`` or ``"fashion-mnist"``."""
    choice(name, tuple(DATASETS), "dataset")
    return DATASETS[name](**kwargs)


from jaxnn.data.expanded import load_expanded_mnist  # noqa: E402  (it builds on the names above)

__all__ = ["Dataset", "Split", "load", "load_expanded_mnist", "load_fashion_mnist", "load_mnist", "load_mnist_arrays",
           "verify_mnist"]
