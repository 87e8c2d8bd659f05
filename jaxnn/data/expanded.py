"""Expanded MNIST (chapter 6): the 50,000 training images and each one shifted by one pixel.

The book's ``expand_mnist.py`` adds, after every training image, four copies of it shifted by
one pixel down, up, right and left, the row or column that moves in filled with zeros: 250,000
training images. [`load_expanded_mnist`][jaxnn.data.load_expanded_mnist] builds the same set from the MNIST shipped with
jaxnn, caches it on disk, and returns it in [`jaxnn.load_mnist`][jaxnn.data.load_mnist]'s format, with the
validation and test sets unchanged::

    data = load_expanded_mnist()        # built on first use (a few seconds), then read from the cache
    data.training.x.shape               # (250000, 784)

Where it differs from the original: ``expand_mnist.py`` shuffles the 250,000 pairs with
Python's unseeded ``random.shuffle``; jaxnn shuffles them with a fixed seed (`SEED`), so
every build gives the same order and the same arrays.

The cache is a compressed ``.npz`` (uint8 images, no pickles) in ``cache_dir``, else ``$JAXNN_CACHE``,
else ``$XDG_CACHE_HOME/jaxnn``, else ``~/.cache/jaxnn``. It is written atomically, its SHA-256 is
recorded beside it, and it is checked against that record on every load; a file that fails the
check is rebuilt (with a warning).
"""

from __future__ import annotations

import functools
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any, List, Optional

import numpy as np

from jaxnn._files import atomic_write
from jaxnn.data._mnist import Dataset, Split, load_mnist_arrays, sha256_of, split_dataset
from jaxnn.errors import JaxnnError

#: The seed of the fixed shuffle of the expanded training set.
SEED = 0
#: The number of training images the book expands (the first 50,000 of MNIST's training set).
N_TRAINING = 50_000
#: The cache format; a file recorded with another version is rebuilt.
VERSION = 1
#: The shifts, in ``expand_mnist.py``'s order: (roll step, axis of the 28×28 image, name).
SHIFTS = ((1, 0, "down"), (-1, 0, "up"), (1, 1, "right"), (-1, 1, "left"))


def shift(images: np.ndarray, step: int, axis: int) -> np.ndarray:
    """``images`` (n, h, w) moved by ``step`` = ±1 pixel along ``axis`` (0: rows, 1: columns) of
    each image, the row or column that comes in filled with zeros (``expand_mnist.py``)."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise JaxnnError(f"shift takes a stack of images (n, height, width), got shape {images.shape}")
    if step not in (1, -1) or axis not in (0, 1):
        raise JaxnnError(f"shift moves images by step 1 or -1 along axis 0 or 1, got step={step}, axis={axis}")
    out = np.roll(images, step, axis=axis + 1)
    edge: List[Any] = [slice(None)] * 3
    edge[axis + 1] = 0 if step == 1 else -1  # the row/column that wrapped around
    out[tuple(edge)] = 0
    return out


def expand(images: np.ndarray, labels: np.ndarray):
    """``(images, labels)`` expanded as ``expand_mnist.py`` does, before its shuffle: each image
    followed by its shifts down, up, right and left (5n images, labels repeated alike)."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(labels) != len(images):
        raise JaxnnError(f"expand takes images (n, height, width) and n labels, got {images.shape} and {labels.shape}")
    stacked = np.stack([images] + [shift(images, step, axis) for step, axis, _ in SHIFTS], axis=1)
    return stacked.reshape((-1,) + images.shape[1:]), np.repeat(labels, 1 + len(SHIFTS))


def cache_folder(path: Optional[os.PathLike] = None) -> Path:
    """The folder of jaxnn's cached data: ``path``, else ``$JAXNN_CACHE``, else
    ``$XDG_CACHE_HOME/jaxnn``, else ``~/.cache/jaxnn``."""
    if path is not None:
        return Path(path).expanduser()
    if os.environ.get("JAXNN_CACHE"):
        return Path(os.environ["JAXNN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxnn"


def _paths(folder: Path, n: int):
    name = "mnist_expanded" if n == N_TRAINING else f"mnist_expanded_{n}"
    return folder / f"{name}.npz", folder / f"{name}.json"


@functools.lru_cache(maxsize=1)
def _mnist_arrays():
    """The shipped MNIST's uint8 arrays, read once per process (read-only)."""
    arrays = load_mnist_arrays()
    for a in arrays:
        a.flags.writeable = False
    return arrays


def _build(n: int, arrays):
    """``expand``'s arrays in the fixed shuffled order, ``x[order]``, ``y[order]``. Each version
    of the images goes straight to its shuffled rows, so only the result is allocated, not the
    stack and its shuffled copy besides (a new large array can cost the kernel time: see
    docs/performance.md, "Large arrays and the kernel's huge pages")."""
    x_train, y_train, _, _ = arrays
    images, labels = x_train[:n], y_train[:n]
    versions = 1 + len(SHIFTS)
    order = np.random.default_rng(SEED).permutation(versions * n)
    row = np.empty_like(order)
    row[order] = np.arange(len(order))  # row[j]: where expand's j-th image goes
    row = row.reshape(n, versions)
    x = np.empty((versions * n,) + images.shape[1:], np.uint8)
    x[row[:, 0]] = images
    for v, (step, axis, _) in enumerate(SHIFTS, 1):
        x[row[:, v]] = shift(images, step, axis)
    return x, np.repeat(labels, versions)[order].astype(np.uint8)


def _savez_fast(f, **arrays):
    """``np.savez_compressed``'s format (``np.load`` reads it) at zlib's fastest level: a file of
    46 MB rather than 41 MB for the full set, written in much less time (the whole first build:
    docs/performance.md, "Round 5: the tests' own programs")."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as archive:
        for name, a in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(a), allow_pickle=False)


def _record(n: int, digest: Optional[str]) -> dict:
    return {"format": "jaxnn-expanded-mnist", "version": VERSION, "n_source": n, "seed": SEED, "sha256": digest}


def _problem(npz: Path, meta: Path, n: int) -> Optional[str]:
    """Why the cached file cannot be used, or None when its recorded checksum matches."""
    if not npz.is_file():
        return None if not meta.exists() else "its record exists but the data file is missing"
    try:
        record = json.loads(meta.read_text())
    except (OSError, ValueError) as exc:
        return f"its checksum record {meta.name} is missing or unreadable ({exc})"
    expected = _record(n, record.get("sha256") if isinstance(record, dict) else None)
    if record != expected or not isinstance(expected["sha256"], str):
        return f"its record {meta.name} is not this version's ({record!r})"
    digest = sha256_of(npz)
    if digest != expected["sha256"]:
        return f"its SHA-256 {digest[:12]}… does not match the recorded {expected['sha256'][:12]}…"
    return None


def _write(npz: Path, meta: Path, n: int, arrays):
    x, y = _build(n, arrays)
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(npz, lambda f: _savez_fast(f, x=x, y=y))
        blob = json.dumps(_record(n, sha256_of(npz)), indent=1).encode()
        atomic_write(meta, lambda f: f.write(blob))
    except OSError as exc:
        raise JaxnnError(
            f"cannot write the expanded MNIST cache in {npz.parent} ({exc}): pass cache_dir= or set "
            "JAXNN_CACHE to a writable folder"
        ) from None
    return x, y


def _read(npz: Path, n: int):
    repair = f"delete {npz} and load again to rebuild it"
    try:
        with np.load(npz, allow_pickle=False) as d:
            x, y = d["x"], d["y"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise JaxnnError(f"the cached {npz} cannot be read ({exc}): {repair}") from None
    if x.shape != (5 * n, 28, 28) or x.dtype != np.uint8 or y.shape != (5 * n,) or y.dtype != np.uint8:
        raise JaxnnError(f"the cached {npz} holds arrays of the wrong shape or type: {repair}")
    return x, y


def load_expanded_mnist(cache_dir: Optional[os.PathLike] = None, *, n: int = N_TRAINING) -> Dataset:
    """MNIST with the expanded training set of chapter 6, in [`jaxnn.load_mnist`][jaxnn.data.load_mnist]'s format.

    The training split holds the first ``n`` training images and their four one-pixel shifts
    (5n images; 250,000 by default) in a fixed shuffled order; validation and test are
    [`jaxnn.load_mnist`][jaxnn.data.load_mnist]'s. The first call builds the set from the shipped MNIST and caches
    it; later calls read the cache after checking its SHA-256, and rebuild it if it fails.

    Args:
      cache_dir: the cache folder; by default ``$JAXNN_CACHE``, else ``$XDG_CACHE_HOME/jaxnn``,
        else ``~/.cache/jaxnn``.
      n: (for quick runs and tests) expand only the first ``n`` training images.

    Returns:
      A [`Dataset`][jaxnn.data.Dataset] of float32 rows in [0, 1] with integer labels.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= N_TRAINING:
        raise JaxnnError(f"n is the number of training images to expand, from 1 to {N_TRAINING}, got {n!r}")
    folder = cache_folder(cache_dir)
    npz, meta = _paths(folder, int(n))
    problem = _problem(npz, meta, int(n))
    if problem is not None:
        warnings.warn(f"the cached expanded MNIST {npz} failed its check ({problem}); rebuilding it", stacklevel=2)
    arrays = _mnist_arrays()
    if problem is not None or not npz.is_file():
        x, y = _write(npz, meta, int(n), arrays)
    else:
        x, y = _read(npz, int(n))
    base = split_dataset(*arrays, one_hot=False, dtype=np.float32)  # load_mnist()'s split, from the arrays read once
    training = Split((x.reshape(len(x), -1).astype(np.float32)) / np.float32(255), y.astype(np.int32))
    return Dataset(training, base.validation, base.test)


__all__ = ["N_TRAINING", "SEED", "SHIFTS", "cache_folder", "expand", "load_expanded_mnist", "shift"]
