import shutil

import numpy as np
import pytest

import jaxnn
from jaxnn import data


def test_mnist_has_the_books_split_and_scaling():
    d = jaxnn.load_mnist()
    assert [len(s) for s in d] == [50_000, 10_000, 10_000]
    assert d.training.x.shape == (50_000, 784) and d.training.x.dtype == np.float32
    assert 0.0 == d.training.x.min() and d.training.x.max() == 1.0
    assert d.training.y[:5].tolist() == [5, 0, 4, 1, 9]  # the canonical first labels
    assert d.test.y[:5].tolist() == [7, 2, 1, 0, 4]
    # validation is the last 10,000 training images: the canonical per-digit counts add up
    counts = np.bincount(np.concatenate([d.training.y, d.validation.y]), minlength=10)
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(d.test.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert round(float(d.training.x[0].sum()) * 255) == 27525


def test_one_hot_labels():
    d = jaxnn.load_mnist(one_hot=True)
    assert d.training.y.shape == (50_000, 10)
    assert d.training.y[0].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]


def test_missing_or_corrupt_file_gives_a_clear_error(tmp_path):
    with pytest.raises(jaxnn.JaxnnError, match="missing.*reinstall"):
        data.load_mnist(path=tmp_path / "nope.npz")
    bad = tmp_path / "mnist.npz"
    shutil.copy(data.MNIST_PATH, bad)
    with open(bad, "r+b") as f:  # flip one byte in the middle
        f.seek(5_000_000)
        b = f.read(1)
        f.seek(5_000_000)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(jaxnn.JaxnnError, match="corrupt"):
        data.load_mnist(path=bad)
    with open(bad, "r+b") as f:
        f.truncate(1000)
    with pytest.raises(jaxnn.JaxnnError, match="truncated"):
        data.load_mnist(path=bad)


def test_fashion_mnist_absent_names_the_package(tmp_path):
    with pytest.raises(jaxnn.JaxnnError, match="apt-get install dataset-fashion-mnist"):
        jaxnn.load_fashion_mnist(directory=tmp_path)


def test_fashion_mnist_reads_idx_files(tmp_path):
    import gzip

    def idx(name, arr):
        header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(header + arr.astype(np.uint8).tobytes())

    rng = np.random.default_rng(0)
    idx("train-images-idx3-ubyte.gz", rng.integers(0, 256, (12, 28, 28)))
    idx("train-labels-idx1-ubyte.gz", np.arange(12) % 10)
    idx("t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (3, 28, 28)))
    idx("t10k-labels-idx1-ubyte.gz", np.array([1, 2, 3]))
    from jaxnn.data import _read_idx, split_dataset

    arrays = [
        _read_idx(tmp_path / n)
        for n in [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ]
    ]
    d = split_dataset(*arrays, one_hot=False, dtype=np.float32, n_validation=2)
    assert [len(s) for s in d] == [10, 2, 3]
    assert d.test.y.tolist() == [1, 2, 3]
    assert d.training.x.shape == (10, 784) and d.training.x.max() <= 1.0
