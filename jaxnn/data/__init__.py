"""Datasets: the MNIST copy shipped with jaxnn, and Fashion-MNIST where Debian's package is installed.

``load_mnist()`` gives the book's split (mnist_loader.py): the first 50,000 training images
for training, the last 10,000 for validation, and the 10,000 test images, as float32 rows in
[0, 1] with integer labels (or one-hot rows with ``one_hot=True``). The shipped file is
checked against its SHA-256 before use.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Optional

import numpy as np

from jaxnn.data._mnist import (
    MNIST_PATH,
    MNIST_SHA256,
    MNIST_SIZE,
    Dataset,
    Split,
    flag,
    load_mnist,
    load_mnist_arrays,
    sha256_of,
    split_dataset,
    verify_mnist,
)
from jaxnn.data.expanded import load_expanded_mnist
from jaxnn.errors import JaxnnError
from jaxnn.validation import choice, float_dtype

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


FASHION_REPAIR = (
    "reinstall it with 'apt-get install --reinstall dataset-fashion-mnist', or download the "
    "four IDX .gz files again and pass directory="
)


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
        raise JaxnnError(
            f"{path} is truncated or corrupt: its header declares {expected} values, it holds "
            f"{data.size}: {FASHION_REPAIR}"
        )
    if shape is not None and tuple(dims) != tuple(shape):
        raise JaxnnError(f"{path} holds an array of shape {tuple(dims)}, expected {tuple(shape)}: {FASHION_REPAIR}")
    return data.reshape(dims)


def load_fashion_mnist(one_hot: bool = False, dtype=np.float32, directory: Optional[os.PathLike] = None) -> Dataset:
    """Fashion-MNIST, in the same 50,000 / 10,000 / 10,000 split and format as [`load_mnist`][jaxnn.data.load_mnist].

    It reads Debian's ``dataset-fashion-mnist`` package (IDX files under
    ``/usr/share/datasets/fashion-mnist``), or ``directory`` if given.
    """
    one_hot, dtype = flag(one_hot, "one_hot"), float_dtype(dtype).type
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise JaxnnError(f"directory must be a folder path, got {type(directory).__name__}")
    d = Path(directory) if directory is not None else FASHION_MNIST_DIR
    names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
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
    return split_dataset(*arrays, one_hot=one_hot, dtype=dtype)


DATASETS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}


def load(name: str, **kwargs) -> Dataset:
    """Loads a dataset by name: ``"mnist"`` or ``"fashion-mnist"``."""
    choice(name, tuple(DATASETS), "dataset")
    return DATASETS[name](**kwargs)


__all__ = [
    "MNIST_PATH",
    "MNIST_SHA256",
    "MNIST_SIZE",
    "Dataset",
    "Split",
    "load",
    "load_expanded_mnist",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_arrays",
    "sha256_of",
    "split_dataset",
    "verify_mnist",
]
