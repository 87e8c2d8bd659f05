"""Expanded MNIST: expand_mnist.py's one-pixel shifts, built deterministically and cached with a checksum."""

import json
import warnings

import numpy as np
import pytest

import jaxnn
from jaxnn import JaxnnError
from jaxnn.data import expanded
from jaxnn.data.expanded import expand, load_expanded_mnist, shift

IMAGE = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)  # [[1 2 3] [4 5 6] [7 8 9]]


@pytest.mark.parametrize(
    "step, axis, expected",
    [
        (1, 0, [[0, 0, 0], [1, 2, 3], [4, 5, 6]]),  # down: the top row comes in as zeros
        (-1, 0, [[4, 5, 6], [7, 8, 9], [0, 0, 0]]),  # up
        (1, 1, [[0, 1, 2], [0, 4, 5], [0, 7, 8]]),  # right
        (-1, 1, [[2, 3, 0], [5, 6, 0], [8, 9, 0]]),  # left
    ],
)
def test_shifts_are_exact_with_zero_fill(step, axis, expected):
    out = shift(IMAGE, step, axis)
    np.testing.assert_array_equal(out[0], expected)
    np.testing.assert_array_equal(IMAGE[0], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])  # the input is untouched


def test_expand_follows_each_image_with_its_shifts_in_expand_mnists_order():
    images = np.stack([IMAGE[0], 10 * IMAGE[0]])
    x, y = expand(images, np.array([3, 7]))
    assert x.shape == (10, 3, 3) and y.tolist() == [3] * 5 + [7] * 5
    for i in range(2):
        np.testing.assert_array_equal(x[5 * i], images[i])
        for j, (step, axis, _) in enumerate(expanded.SHIFTS):
            np.testing.assert_array_equal(x[5 * i + 1 + j], shift(images[i : i + 1], step, axis)[0])
    assert [name for _, _, name in expanded.SHIFTS] == ["down", "up", "right", "left"]


def test_bad_shift_arguments_are_clear_errors():
    with pytest.raises(JaxnnError, match="step 1 or -1"):
        shift(IMAGE, 2, 0)
    with pytest.raises(JaxnnError, match="stack of images"):
        shift(IMAGE[0], 1, 0)
    with pytest.raises(JaxnnError, match="n labels"):
        expand(IMAGE, np.array([1, 2]))


@pytest.fixture(scope="module")
def mnist():
    return jaxnn.load_mnist()


def test_load_builds_five_copies_of_each_image_and_keeps_validation_and_test(tmp_path, mnist):
    n = 40
    d = load_expanded_mnist(tmp_path, n=n)
    x, y = d.training
    assert x.shape == (5 * n, 784) and x.dtype == np.float32 and y.shape == (5 * n,)
    assert np.array_equal(np.bincount(y, minlength=10), 5 * np.bincount(mnist.training.y[:n], minlength=10))
    # every image of the set is one of the five versions of a source image, with its label
    source = (mnist.training.x[:n] * 255).round().astype(np.uint8).reshape(n, 28, 28)
    versions, labels = expand(source, mnist.training.y[:n])
    want = sorted(zip(map(bytes, versions.reshape(5 * n, -1)), labels.tolist()))
    got = sorted(zip(map(bytes, (x * 255).round().astype(np.uint8)), y.tolist()))
    assert got == want
    assert not np.array_equal(y[:n], mnist.training.y[:n])  # shuffled, not in expand order
    # ... and in exactly the fixed order: expand's list shuffled by a generator seeded with SEED
    order = np.random.default_rng(expanded.SEED).permutation(5 * n)
    assert np.array_equal((x * 255).round().astype(np.uint8), versions.reshape(5 * n, -1)[order])
    assert np.array_equal(y, labels[order])
    for split in ("validation", "test"):
        assert np.array_equal(getattr(d, split).x, getattr(mnist, split).x)
        assert np.array_equal(getattr(d, split).y, getattr(mnist, split).y)
    record = json.loads((tmp_path / f"mnist_expanded_{n}.json").read_text())
    assert record["sha256"] == jaxnn.data.sha256_of(tmp_path / f"mnist_expanded_{n}.npz")


def test_builds_are_deterministic_and_the_cache_is_reused(tmp_path):
    a = load_expanded_mnist(tmp_path / "a", n=30)
    b = load_expanded_mnist(tmp_path / "b", n=30)
    assert np.array_equal(a.training.x, b.training.x) and np.array_equal(a.training.y, b.training.y)
    npz = tmp_path / "a" / "mnist_expanded_30.npz"
    stamp = npz.stat().st_mtime_ns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = load_expanded_mnist(tmp_path / "a", n=30)
    assert npz.stat().st_mtime_ns == stamp  # read, not rebuilt
    assert np.array_equal(a.training.x, c.training.x)


def test_a_checksum_mismatch_is_detected_and_rebuilt(tmp_path):
    good = load_expanded_mnist(tmp_path, n=10)
    npz = tmp_path / "mnist_expanded_10.npz"
    blob = bytearray(npz.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    npz.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match="does not match the recorded"):
        again = load_expanded_mnist(tmp_path, n=10)
    assert np.array_equal(again.training.x, good.training.x)
    assert json.loads((tmp_path / "mnist_expanded_10.json").read_text())["sha256"] == jaxnn.data.sha256_of(npz)
    (tmp_path / "mnist_expanded_10.json").write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable"):
        load_expanded_mnist(tmp_path, n=10)


def test_a_recorded_file_with_bad_arrays_is_refused_without_unpickling(tmp_path):
    npz, meta = tmp_path / "mnist_expanded_5.npz", tmp_path / "mnist_expanded_5.json"
    np.savez(npz, x=np.array([{"a": 1}], dtype=object), y=np.zeros(25, np.uint8))
    meta.write_text(json.dumps(expanded._record(5, jaxnn.data.sha256_of(npz))))
    with pytest.raises(JaxnnError, match="delete"):
        load_expanded_mnist(tmp_path, n=5)


def test_the_cache_folder_comes_from_the_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXNN_CACHE", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert expanded.cache_folder() == tmp_path / "env"
    assert expanded.cache_folder(tmp_path / "arg") == tmp_path / "arg"
    load_expanded_mnist(n=3)
    assert (tmp_path / "env" / "mnist_expanded_3.npz").is_file()
    monkeypatch.delenv("JAXNN_CACHE")
    assert expanded.cache_folder() == tmp_path / "xdg" / "jaxnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert expanded.cache_folder() == tmp_path / "home" / ".cache" / "jaxnn"


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(JaxnnError, match="from 1 to 50000"):
        load_expanded_mnist(tmp_path, n=0)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(JaxnnError, match="JAXNN_CACHE"):
        load_expanded_mnist(tmp_path / "a_file", n=2)


def test_the_default_is_the_books_250000_images():
    assert expanded.N_TRAINING == 50_000
    import inspect

    sig = inspect.signature(load_expanded_mnist)
    assert sig.parameters["cache_dir"].default is None and sig.parameters["n"].default == 50_000
    assert expanded._paths(expanded.cache_folder("/x"), 50_000)[0].name == "mnist_expanded.npz"
    assert jaxnn.load_expanded_mnist is load_expanded_mnist is jaxnn.data.load_expanded_mnist
