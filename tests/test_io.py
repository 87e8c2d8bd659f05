import io as stdio
import json
import os
import re
import shutil
import zipfile

import chex
import jax
import numpy as np
import pytest

import jaxnn
from jaxnn import _files, modelfile


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
        (
            lambda p: _write_npz(p, __jaxnn__=_meta(), **{"layer0/w": np.zeros((3, 3)), "layer0/b": np.zeros(1)}),
            "expected float",
        ),
        (
            lambda p: _write_npz(
                p, __jaxnn__=_meta(), **{"layer0/w": np.array([[object()], [1]], dtype=object), "layer0/b": np.zeros(1)}
            ),
            "not a readable",
        ),
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
        _files.atomic_write(path, boom)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_leaves_no_temporary_file_when_interrupted_as_it_is_made(tmp_path, monkeypatch):
    # A Ctrl-C's KeyboardInterrupt can land just after the temporary file is made, before the
    # code that made it has returned (as in tempfile.mkstemp's last lines): the file must still go
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    real_open = os.open

    def open_then_interrupt(file, flags, *args, **kwargs):
        fd = real_open(file, flags, *args, **kwargs)
        if flags & os.O_CREAT:
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _files.atomic_write(path, lambda f: f.write(b"new"))
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


# -- untrusted files: each hostile or malformed kind, refused with a clear error before it is trusted


def _forged_npz(path, meta, members):
    """An npz whose members are raw bytes: a header can declare anything."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__jaxnn__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
        for name, raw in members.items():
            zf.writestr(name, raw)


def _npy(a):
    buf = stdio.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=True)
    return buf.getvalue()


def test_huge_declared_shape_is_refused_before_anything_is_allocated(tmp_path):
    buf = stdio.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (40_000, 40_000)})
    header = buf.getvalue()
    meta = {"format": "jaxnn-model", "version": 1, "sizes": [40_000, 40_000]}  # within the parameter limit
    _forged_npz(tmp_path / "m.npz", meta, {"layer0/w.npy": header + b"\0" * 16, "layer0/b.npy": _npy(np.zeros(40_000))})
    with pytest.raises(
        jaxnn.JaxnnError,
        match=r"declares shape \(40000, 40000\) of float64 \(12,800,000,\d+ bytes\) "
        r"but the file holds \d+ \(truncated, corrupt or forged\)",
    ):
        jaxnn.load_model(tmp_path / "m.npz")


class _Hostile:
    def __reduce__(self):
        return (open, (str(_Hostile.target), "w"))


def test_object_arrays_are_never_unpickled(tmp_path):
    _Hostile.target = tmp_path / "pwned"
    a = np.empty((1, 2), dtype=object)
    a[0, 0], a[0, 1] = _Hostile(), _Hostile()
    _forged_npz(
        tmp_path / "m.npz",
        {"format": "jaxnn-model", "version": 1, "sizes": [2, 1]},
        {"layer0/w.npy": _npy(a), "layer0/b.npy": _npy(np.zeros(1))},
    )
    with pytest.raises(jaxnn.JaxnnError, match="holds Python objects, which jaxnn never unpickles"):
        jaxnn.load_model(tmp_path / "m.npz")
    assert not _Hostile.target.exists()  # the pickle's payload never ran


@pytest.mark.parametrize(
    "meta,message",
    [
        ({"version": True}, "format version True is not a positive integer"),
        ({"version": "1"}, "format version '1' is not a positive integer"),
        ({"sizes": "784,10"}, "'sizes' must be a list of positive integers"),
        ({"sizes": [2, 1.0]}, "'sizes' must be a list of positive integers"),
        ({"sizes": [2, True]}, "'sizes' must be a list of positive integers"),
        ({"cost": 5}, "metadata entry 'cost' must be a name"),
        ({"activation": ["sigmoid"]}, "metadata entry 'activation' must be a name"),
    ],
)
def test_metadata_with_wrong_json_types(tmp_path, meta, message):
    full = {"format": "jaxnn-model", "version": 1, "sizes": [2, 1], **meta}
    _forged_npz(tmp_path / "m.npz", full, {"layer0/w.npy": _npy(np.zeros((1, 2))), "layer0/b.npy": _npy(np.zeros(1))})
    with pytest.raises(jaxnn.JaxnnError, match=re.escape(message)):
        jaxnn.load_model(tmp_path / "m.npz")


@pytest.mark.parametrize(
    "members,message",
    [
        (
            {"layer0/w.npy": _npy(np.zeros((1, 2))), "layer0/b.npy": _npy(np.zeros(1)), "evil.npy": _npy(np.zeros(3))},
            r"holds arrays this format does not have \(evil\)",
        ),
        (
            {"layer0/w.npy": _npy(np.zeros((1, 2))), "layer0/b.npy": _npy(np.zeros(1)), "run.sh": b"rm -rf /"},
            r"holds members that are not arrays \(run.sh\)",
        ),
        (
            {"layer0/w.npy": _npy(np.zeros((1, 2), np.int64)), "layer0/b.npy": _npy(np.zeros(1))},
            r"layer0/w has shape \(1, 2\) and dtype int64, expected float \(1, 2\)",
        ),
        (
            {"layer0/w.npy": _npy(np.array([["ab", "cd"]])), "layer0/b.npy": _npy(np.zeros(1))},
            r"dtype <U2, expected float",
        ),
        (
            {"layer0/w.npy": _npy(np.full((1, 2), np.inf)), "layer0/b.npy": _npy(np.zeros(1))},
            "holds NaN or infinite values",
        ),
        ({"layer0/b.npy": _npy(np.zeros(1))}, r"array layer0/w is missing \(file truncated\?\)"),
    ],
)
def test_extra_missing_or_mistyped_arrays(tmp_path, members, message):
    _forged_npz(tmp_path / "m.npz", {"format": "jaxnn-model", "version": 1, "sizes": [2, 1]}, members)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        jaxnn.load_model(tmp_path / "m.npz")


def test_metadata_block_of_the_wrong_dtype(tmp_path):
    with open(tmp_path / "m.npz", "wb") as f:
        np.savez(f, __jaxnn__=np.zeros(10, np.float32))
    with pytest.raises(jaxnn.JaxnnError, match="metadata block is malformed"):
        jaxnn.load_model(tmp_path / "m.npz")


def test_oversized_files_are_refused_before_reading(tmp_path, monkeypatch):
    path = jaxnn.save_model(tmp_path / "m.npz", jaxnn.init_params(jax.random.key(0), [30, 10]))
    monkeypatch.setattr(_files, "MAX_FILE_BYTES", 1000)
    with pytest.raises(jaxnn.JaxnnError, match=r"has \d[\d,]* bytes, more than the 1,000 jaxnn reads"):
        jaxnn.load_model(path)
    net2 = modelfile.save_network2(tmp_path / "n.json", jaxnn.init_params(jax.random.key(0), [30, 10]), "quadratic")
    monkeypatch.setattr(modelfile, "MAX_NETWORK2_BYTES", 1000)
    with pytest.raises(jaxnn.JaxnnError, match="larger than 1,000 bytes"):
        modelfile.load_network2(net2)


def test_save_model_refuses_what_would_make_an_unreadable_file(tmp_path):
    params = jaxnn.init_params(jax.random.key(0), [2, 1])
    with pytest.raises(jaxnn.JaxnnError, match="save_model writes format itself"):
        jaxnn.save_model(tmp_path / "m.npz", params, format="mine")
    with pytest.raises(jaxnn.JaxnnError, match="JSON-serialisable"):
        jaxnn.save_model(tmp_path / "m.npz", params, note=object())
    with pytest.raises(jaxnn.JaxnnError, match="only float parameters can be saved"):
        jaxnn.save_model(tmp_path / "m.npz", [{"w": np.zeros((1, 2), int), "b": np.zeros(1, int)}])
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "text,message",
    [
        (
            json.dumps(
                {
                    "sizes": [2, 1],
                    "weights": [[[0.1, 0.2]]],
                    "biases": [[[0.0]]],
                    "cost": "QuadraticCost",
                    "script": "x",
                }
            ),
            r"keys network2 files do not have \('script'\)",
        ),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        (
            json.dumps({"sizes": [2, 1], "weights": [[[0.1, "0.2"]]], "biases": [[[0.0]]], "cost": "QuadraticCost"}),
            r"weights\[0\] must be a \(1, 2\) nested list of numbers",
        ),
        (
            json.dumps({"sizes": [2, 1], "weights": [[[0.1, 10**400]]], "biases": [[[0.0]]], "cost": "QuadraticCost"}),
            r"weights\[0\] must be a \(1, 2\) nested list of numbers",
        ),
        (json.dumps({"sizes": [1 << 20, 1 << 20], "weights": [], "biases": [], "cost": "QuadraticCost"}), "more than"),
    ],
)
def test_hostile_network2_json(tmp_path, text, message):
    path = tmp_path / "n.json"
    path.write_text(text)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        modelfile.load_network2(path)


# -- data integrity


def test_corrupted_mnist_copy_is_caught_with_a_repair_hint(tmp_path):
    from jaxnn import data

    copy = tmp_path / "mnist.npz"
    shutil.copy(data.MNIST_PATH, copy)
    assert data.verify_mnist(copy) == copy  # a good copy passes
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 3] ^= 0x01  # one bit, same size: only the checksum can tell
    copy.write_bytes(bytes(raw))
    os.utime(copy, ns=(1, 1))  # a new timestamp: the earlier verification no longer counts
    with pytest.raises(
        jaxnn.JaxnnError,
        match=r"is corrupt \(SHA-256 [0-9a-f]{12}…\): reinstall jaxnn "
        r"\(pip install --force-reinstall \.\) or restore the file",
    ):
        data.load_mnist(path=copy)


def test_corrupted_fashion_mnist_file_names_the_package_to_reinstall(tmp_path):
    import gzip

    names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    shapes = [(60_000, 28, 28), (60_000,), (10_000, 28, 28), (10_000,)]
    for n, shape in zip(names, shapes):
        header = bytes([0, 0, 8, len(shape)]) + b"".join(int(s).to_bytes(4, "big") for s in shape)
        (tmp_path / n).write_bytes(gzip.compress(header + bytes(int(np.prod(shape))), compresslevel=1))
    assert len(jaxnn.load_fashion_mnist(directory=tmp_path).training) == 50_000
    raw = bytearray((tmp_path / names[1]).read_bytes())
    raw[-6] ^= 0xFF  # inside the gzip trailer's CRC-32
    (tmp_path / names[1]).write_bytes(bytes(raw))
    with pytest.raises(
        jaxnn.JaxnnError, match="corrupt or truncated .*apt-get install --reinstall dataset-fashion-mnist"
    ):
        jaxnn.load_fashion_mnist(directory=tmp_path)


def test_cli_reports_a_full_disk_in_one_line(tmp_path, monkeypatch, capsys):
    from jaxnn import cli

    def full(path, *args, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(jaxnn, "save_model", full)
    code = cli.main(
        [
            "train",
            "--epochs",
            "0",
            "--train-size",
            "50",
            "--sizes",
            "784,5,10",
            "--no-progress",
            "--save",
            str(tmp_path / "m.npz"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("jaxnn: error: No space left on device (") and "free space or pick another path" in err
    assert not (tmp_path / "m.npz").exists()


def _small_conv_net():
    return jaxnn.conv_net(
        [jaxnn.ConvPool(3, 5, activation="relu"), jaxnn.FullyConnected(12, "relu", p_dropout=0.5), jaxnn.Softmax(10)],
        (1, 28, 28),
    )


def test_conv_net_round_trip_with_load_network(tmp_path):
    net = _small_conv_net()
    params = jaxnn.init_network(jax.random.key(3), net)
    params[-1]["w"] = jax.random.normal(jax.random.key(4), params[-1]["w"].shape)  # Softmax starts at zero
    jaxnn.save_model(tmp_path / "conv.npz", params, net=net, dataset="mnist", epochs=2)
    net2, params2, meta = jaxnn.load_network(tmp_path / "conv.npz")
    assert net2 == net  # the same layers, settings, cost and regularizer
    assert meta["version"] == 2 and meta["epochs"] == 2 and meta["network"]["layers"][0][0] == "conv_pool"
    chex.assert_trees_all_equal(params2, jax.tree.map(np.asarray, params))
    x = jaxnn.load_mnist().test.x[:20]
    np.testing.assert_array_equal(jaxnn.predict(params2, x, net=net2), jaxnn.predict(params, x, net=net))
    # load_model reads the same arrays
    params3, _ = jaxnn.load_model(tmp_path / "conv.npz")
    chex.assert_trees_all_equal(params3, params2)


def test_load_network_reads_version_1_files_and_network2_json(tmp_path):
    params = jaxnn.init_params(jax.random.key(0), [784, 8, 10])
    jaxnn.save_model(tmp_path / "v1.npz", params, cost="cross-entropy", activation="tanh", output_activation="sigmoid")
    net, loaded, meta = jaxnn.load_network(tmp_path / "v1.npz")
    assert meta["version"] == 1 and net.sizes == [784, 8, 10]
    assert [layer.activation.name for layer in net.layers] == ["tanh", "sigmoid"] and net.cost.name == "cross-entropy"
    modelfile.save_network2(tmp_path / "n2.json", params, "CrossEntropyCost")
    net2, loaded2, meta2 = jaxnn.load_network(tmp_path / "n2.json")
    assert net2.sizes == [784, 8, 10] and net2.cost.name == "cross-entropy" and meta2["format"] == "network2"
    x = jaxnn.load_mnist().test.x[:50]
    np.testing.assert_array_equal(jaxnn.predict(loaded2, x, net=net2), jaxnn.predict(params, x, activation="sigmoid"))


def test_save_model_with_net_refuses_params_that_do_not_fit(tmp_path):
    net = _small_conv_net()
    params = jaxnn.init_network(jax.random.key(0), net)
    with pytest.raises(jaxnn.JaxnnError, match="params do not fit the network"):
        jaxnn.save_model(tmp_path / "m.npz", params[:-1], net=net)
    with pytest.raises(jaxnn.JaxnnError, match="must be a jaxnn.Network"):
        jaxnn.save_model(tmp_path / "m.npz", params, net="conv")
    with pytest.raises(jaxnn.JaxnnError, match="writes network itself"):
        jaxnn.save_model(tmp_path / "m.npz", params, net=net, network={})
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda spec: spec["layers"].__setitem__(0, ["conv_poool", {}]), "unknown layer 'conv_poool'"),
        (lambda spec: spec.__setitem__("in_shape", [1, 4, 4]), "does not fit 4×4 images"),
        (lambda spec: spec.__setitem__("layers", "conv"), "list of \\[name, settings\\] pairs"),
        (lambda spec: spec.pop("cost"), "exactly the keys"),
        (lambda spec: spec["layers"][1][1].__setitem__("n_out", 13), "expected float \\(13"),
    ],
)
def test_hostile_network_entries_are_refused(tmp_path, change, message):
    net = _small_conv_net()
    path = jaxnn.save_model(tmp_path / "m.npz", jaxnn.init_network(jax.random.key(0), net), net=net)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta_npy = np.load(stdio.BytesIO(members["__jaxnn__.npy"]))
    meta = json.loads(meta_npy.tobytes())
    change(meta["network"])
    buf = stdio.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    members["__jaxnn__.npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        jaxnn.load_network(path)
