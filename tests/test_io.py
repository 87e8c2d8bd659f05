import json
import os

import chex
import jax
import numpy as np
import pytest

import jaxnn
from jaxnn import io


def test_save_load_round_trip(tmp_path):
    params = jaxnn.init_params(jax.random.key(0), [6, 5, 3])
    path = jaxnn.save_model(tmp_path / "m.npz", params, cost="quadratic", activation="sigmoid")
    loaded, meta = jaxnn.load_model(path)
    chex.assert_trees_all_equal(loaded, jax.tree_util.tree_map(np.asarray, params))
    assert meta["sizes"] == [6, 5, 3] and meta["cost"] == "quadratic" and meta["format"] == "jaxnn-model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind


def test_nan_parameters_never_overwrite_a_saved_model(tmp_path):
    params = jaxnn.init_params(jax.random.key(0), [4, 3])
    path = jaxnn.save_model(tmp_path / "m.npz", params)
    good = path.read_bytes()
    bad = [{"w": params[0]["w"].at[0, 0].set(np.nan), "b": params[0]["b"]}]
    with pytest.raises(jaxnn.JaxnnError, match="diverged"):
        jaxnn.save_model(path, bad)
    assert path.read_bytes() == good


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _meta(**over):
    m = {"format": "jaxnn-model", "version": 1, "sizes": [2, 1]}
    m.update(over)
    return np.frombuffer(json.dumps(m).encode(), np.uint8)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: p.write_bytes(b"not a zip at all"), "not a readable jaxnn model"),
        (lambda p: _write_npz(p, a=np.zeros(3)), "no jaxnn metadata"),
        (lambda p: _write_npz(p, __jaxnn__=np.frombuffer(b"{not json", np.uint8)), "not valid JSON"),
        (lambda p: _write_npz(p, __jaxnn__=_meta(format="other")), "format"),
        (lambda p: _write_npz(p, __jaxnn__=_meta(version=99)), "newer than this jaxnn"),
        (lambda p: _write_npz(p, __jaxnn__=_meta(sizes=[2, "x"])), "positive integers"),
        (lambda p: _write_npz(p, __jaxnn__=_meta(sizes=[1 << 23, 1 << 23])), "more than"),
        (lambda p: _write_npz(p, __jaxnn__=_meta()), "missing"),
        (lambda p: _write_npz(p, __jaxnn__=_meta(), **{"layer0/w": np.zeros((3, 3)), "layer0/b": np.zeros(1)}), "expected float"),
        (lambda p: _write_npz(p, __jaxnn__=_meta(), **{"layer0/w": np.array([[object()], [1]], dtype=object), "layer0/b": np.zeros(1)}), "not a readable"),
    ],
)
def test_corrupt_or_foreign_files_give_clear_errors(tmp_path, make, message):
    path = tmp_path / "m.npz"
    make(path)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        jaxnn.load_model(path)


def test_truncated_file(tmp_path):
    path = jaxnn.save_model(tmp_path / "m.npz", jaxnn.init_params(jax.random.key(0), [30, 20, 10]))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(jaxnn.JaxnnError, match="truncated or corrupt"):
        jaxnn.load_model(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(jaxnn.JaxnnError, match="no model file"):
        jaxnn.load_model(tmp_path / "none.npz")
    with pytest.raises(jaxnn.JaxnnError, match="does not exist"):
        jaxnn.save_model(tmp_path / "no" / "m.npz", jaxnn.init_params(jax.random.key(0), [2, 1]))


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def boom(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        io.atomic_write(path, boom)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]
