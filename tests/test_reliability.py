"""Reliability, round 2: regression tests for the defects a red-team pass found, and the faults
(a full disk, an unprivileged user, two writers, corrupt shipped data) that had not been tried.

docs/reliability.md lists each case with what the user sees and whether anything can be lost.
"""

import dataclasses
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnn
from jaxnn import _files, modelfile

# -- defect 1: the hand-written δ^L assumed one-hot targets

PAIRS = [
    (cost, act)
    for cost in ("quadratic", "cross-entropy", "log-likelihood")
    for act in ("sigmoid", "softmax", "softmax(c=2)", "linear")
    if cost == "quadratic" or act != "linear"
]


@pytest.mark.parametrize("cost,act", PAIRS)
def test_backprop_equals_autodiff_for_targets_that_are_not_one_hot(cost, act):
    """Softmax + log-likelihood used δ = a − y, wrong by up to 1.1 for rows of all ones."""
    rng = np.random.default_rng(0)
    # rows of all ones, probabilities not summing to 1, values above 1, all zeros: one batch
    y = np.concatenate([np.ones((2, 3)), rng.uniform(size=(2, 3)), 2 * rng.uniform(size=(2, 3)), np.zeros((2, 3))])
    x = rng.normal(size=(len(y), 4))
    net = jaxnn.mlp([4, 6, 3], cost=cost, output_activation=act)
    params = jaxnn.init_network(jax.random.key(0), net, jnp.float64)
    want = jaxnn.autodiff_grad(params, x, y, net=net)
    paths = [jaxnn.backprop] + ([jaxnn.backprop_per_example] if act == "softmax" else [])
    for path in paths:
        got = path(params, x, y, net=net)
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-9, atol=1e-12)


# -- defects 2, 3, 6, 7, 10 and the umask: what a save may replace, and what a load must read


def _params():
    return jaxnn.init_params(jax.random.key(0), [3, 2])


def test_saving_over_a_fifo_or_a_device_is_refused(tmp_path):
    """save_model renamed its temporary file over a device node and reported success."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    targets = [(fifo, "FIFO")]
    try:
        os.mknod(tmp_path / "dev", 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
        targets.append((tmp_path / "dev", "character device"))
    except OSError:
        pass  # no CAP_MKNOD here: the FIFO shows the same check
    for path, kind in targets:
        before = path.lstat()
        for save in (
            lambda p: jaxnn.save_model(p, _params()),
            lambda p: modelfile.save_network2(p, _params(), "quadratic"),
            lambda p: _files.atomic_write(p, lambda f: f.write(b"x")),
        ):
            with pytest.raises(jaxnn.JaxnnError, match=f"it is a {kind}.*, not a regular file"):
                save(path)
            after = path.lstat()
            assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p, _ in targets)  # no temp files
    with pytest.raises(jaxnn.JaxnnError, match="FIFO"):
        jaxnn.sgd(_params(), (np.zeros((4, 3)), np.zeros(4, int)), 1, 2, 0.1, key=0, checkpoint=fifo)


def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    """The policy: a save writes through a symbolic link, as open(path, "w") would."""
    real = tmp_path / "real.npz"
    jaxnn.save_model(real, jaxnn.init_params(jax.random.key(1), [3, 2]))
    real.chmod(0o600)
    link = tmp_path / "link.npz"
    link.symlink_to(real.name)
    jaxnn.save_model(link, _params(), cost="quadratic")
    assert link.is_symlink() and os.readlink(link) == real.name
    assert jaxnn.load_model(real)[1]["cost"] == "quadratic"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600  # a replaced file keeps its mode
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to("made.npz")
    jaxnn.save_model(dangling, _params())
    assert dangling.is_symlink() and (tmp_path / "made.npz").is_file()
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    with pytest.raises(jaxnn.JaxnnError, match="symbolic link loop"):
        jaxnn.save_model(loop, _params())
    (tmp_path / "fifo").mkdir()
    to_folder = tmp_path / "to-folder"
    to_folder.symlink_to("fifo")
    with pytest.raises(jaxnn.JaxnnError, match="it is a folder"):
        jaxnn.save_model(to_folder, _params())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling.npz", "fifo", "link.npz", "loop", "made.npz", "real.npz", "to-folder"
    ]  # fmt: skip


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_new_files_get_the_umask_mode_and_are_still_atomic(tmp_path, umask):
    """mkstemp's 0600 used to survive the rename: -rw------- under umask 022."""
    old = os.umask(umask)
    try:
        model = jaxnn.save_model(tmp_path / "m.npz", _params())
        net2 = modelfile.save_network2(tmp_path / "n.json", _params(), "quadratic")
        ckpt = tmp_path / "run.ckpt"
        jaxnn.sgd(_params(), (np.zeros((4, 3)), np.zeros(4, int)), 1, 2, 0.1, key=0, checkpoint=ckpt)
    finally:
        os.umask(old)
    for path in (model, net2, ckpt):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "n.json", "run.ckpt"]


def test_whatever_save_model_writes_load_model_reads(tmp_path):
    """2 MiB of metadata, cost=123 and NaN saved, then failed to load (NaN as non-standard JSON)."""
    path = tmp_path / "m.npz"
    for metadata, match in (
        (dict(note="x" * (2 << 20)), "more than the 1,048,576 load_model reads"),
        (dict(cost=123), "'cost' must be a name"),
        (dict(activation=["sigmoid"]), "'activation' must be a name"),
        (dict(lr=float("nan")), "finite numbers"),
        (dict(history={"cost": [1.0, float("inf")]}), "finite numbers"),
    ):
        with pytest.raises(jaxnn.JaxnnError, match=match):
            jaxnn.save_model(path, _params(), **metadata)
        assert not path.exists() and list(tmp_path.iterdir()) == []
    note = "x" * ((1 << 20) - 200)  # just under the limit: saves and loads
    jaxnn.save_model(path, _params(), note=note, lr=0.5)
    assert jaxnn.load_model(path)[1]["note"] == note


def test_network2_parse_failures_are_clear_errors(tmp_path):
    """An integer weight of 5,001 digits was a raw ValueError traceback."""
    path = tmp_path / "n.json"
    for weight in ("1" * 5001, "-" + "9" * 4400, "1e999999", "[" * 50 + "1" + "]" * 50, "1" * 30):
        path.write_text('{"sizes": [1, 1], "weights": [[[%s]]], "biases": [[[0]]], "cost": "QuadraticCost"}' % weight)
        with pytest.raises(jaxnn.JaxnnError, match="not a readable network2 file"):
            modelfile.load_network2(path)


def test_big_endian_arrays_load_in_native_order_and_predict(tmp_path):
    """Big-endian weights loaded, then predict raised a JAX TypeError."""
    params = jaxnn.init_params(jax.random.key(0), [3, 4, 2])
    jaxnn.save_model(tmp_path / "m.npz", params)
    with np.load(tmp_path / "m.npz") as z:
        arrays = {k: z[k] for k in z.files}
    swapped = {k: a.astype(a.dtype.newbyteorder(">")) if a.dtype.kind == "f" else a for k, a in arrays.items()}
    np.savez(tmp_path / "be.npz", **swapped)
    loaded, _ = jaxnn.load_model(tmp_path / "be.npz")
    assert all(a.dtype.isnative for a in jax.tree_util.tree_leaves(loaded))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(jaxnn.predict(loaded, x), jaxnn.predict(params, x))
    chex.assert_trees_all_equal(loaded, jax.tree_util.tree_map(np.asarray, params))


def test_a_zip_with_two_members_of_the_same_name_is_refused(tmp_path):
    """The last of two same-named members silently won."""
    good = jaxnn.save_model(tmp_path / "m.npz", _params())
    other = jaxnn.save_model(tmp_path / "o.npz", jaxnn.init_params(jax.random.key(5), [3, 2]))
    dup = tmp_path / "dup.npz"
    with zipfile.ZipFile(dup, "w") as out, zipfile.ZipFile(good) as a, zipfile.ZipFile(other) as b:
        for name in a.namelist():
            out.writestr(name, a.read(name))
        with pytest.warns(UserWarning, match="Duplicate name"):
            out.writestr("layer0/w.npy", b.read("layer0/w.npy"))
    with pytest.raises(jaxnn.JaxnnError, match="two members named layer0/w.npy"):
        jaxnn.load_model(dup)
    with pytest.raises(jaxnn.JaxnnError, match="two members named"):  # the reader checkpoints share
        with _files.open_npz(dup, "bad", "fix"):
            pass


# -- defect 5: SweepResult.table() after a divergence, and without evaluation data

_RNG = np.random.default_rng(0)
_X = _RNG.uniform(size=(40, 4)).astype(np.float32)
_Y = _RNG.integers(0, 3, 40)


def test_sweep_table_after_a_divergence_and_without_evaluation_data():
    """table() raised "zero-size array" (no evaluation data); diverged networks were scored."""
    r = jaxnn.sweep([4, 5, 3], (_X, _Y), 2, 10, eta=[0.5, 1e30], seeds=[0, 1], activation="relu")
    assert r.diverged.tolist() == [-1, 0, -1, 0]  # η = 10³⁰ diverges in epoch 0
    params = [np.asarray(a) for a in jax.tree_util.tree_leaves(r.params)]
    assert all(np.isfinite(a[[0, 2]]).all() and not np.isfinite(a[[1, 3]]).all() for a in params)
    with pytest.raises(jaxnn.JaxnnError, match="pass evaluation_data= "):
        r.table()
    # the counts a NaN network gets (argmax of NaN is class 0) must not reach the table
    r = dataclasses.replace(
        r, evaluation_correct=np.array([[10, 20], [11, 11], [30, 15], [11, 11]]), evaluation_size=40
    )
    np.testing.assert_array_equal(r.best_accuracy, [0.5, np.nan, 0.75, np.nan])
    np.testing.assert_array_equal(r.final_accuracy, [0.5, np.nan, 0.375, np.nan])
    assert r.table().splitlines()[2:] == [
        "| 0.5 | 0 | 0 | 62.50% ± 17.68 | 50.00, 75.00 |",
        "| 1e+30 | 0 | 0 | diverged | diverged, diverged |",
    ]


# -- defect 4: memory estimated before anything is allocated


def test_a_sweep_far_beyond_memory_is_refused_up_front_with_the_numbers():
    """10,000 networks of [4, 100000, 3] ran 205 s, then died with an out-of-memory traceback."""
    etas = list(np.linspace(0.1, 1.0, 1000))
    with pytest.raises(
        jaxnn.JaxnnError, match=r"this sweep of 10,000 networks needs at least [\d.]+ GiB .* more than the"
    ):
        jaxnn.sweep([4, 1_000_000, 3], (_X, _Y), 1, 10, eta=etas, seeds=list(range(10)))


def test_single_networks_beyond_memory_are_refused(monkeypatch):
    from jaxnn import memory

    monkeypatch.setattr(memory, "available_bytes", lambda devices=None: (128 << 20, "the CPU memory (0.1 GiB)"))
    with pytest.raises(
        jaxnn.JaxnnError, match=r"need 6.0 GiB \(1,600,360,003 parameters × 4 bytes\), more than the CPU"
    ):
        jaxnn.init_params(0, [4, 40000, 40000, 3])
    # 92 MiB of parameters: they fit alone, not with a copy, their gradient and momentum
    wide = 3_000_000
    params = [
        {"w": np.zeros((wide, 4), np.float32), "b": np.zeros(wide, np.float32)},
        {"w": np.zeros((3, wide), np.float32), "b": np.zeros(3, np.float32)},
    ]
    with pytest.raises(jaxnn.JaxnnError, match=r"this network needs at least 0.4 GiB .* use smaller layers"):
        jaxnn.sgd(params, (_X, _Y), 1, 10, 0.1, key=0, momentum=0.5)
    with pytest.raises(
        jaxnn.JaxnnError, match=r"this sweep of 2 networks needs at least 0.6 GiB .* \(split the grid\)"
    ):
        jaxnn.sweep([4, wide, 3], (_X, _Y), 1, 10, eta=[0.1, 0.2])


# -- defect 9: finite values beyond the training dtype


def test_values_beyond_the_training_dtype_are_refused_by_name(tmp_path):
    """float64 inputs of 1e300 ended in "diverged: η is likely too large"."""
    x = _X.astype(np.float64)
    x[3, 2] = 1e300
    params = jaxnn.init_params(0, [4, 3])
    beyond = r"hold values up to 1e\+300, beyond the largest float32 \(3.4e\+38\)"
    with pytest.raises(jaxnn.JaxnnError, match="training inputs " + beyond):
        jaxnn.sgd(params, (x, _Y), 1, 10, 0.1, key=0)
    with pytest.raises(jaxnn.JaxnnError, match="evaluation inputs " + beyond):
        jaxnn.sgd(params, (_X, _Y), 1, 10, 0.1, key=0, evaluation_data=(x, _Y))
    with pytest.raises(jaxnn.JaxnnError, match="training target rows " + beyond):
        jaxnn.sgd(params, (_X, np.where(x[:, :3] > 1, 1e300, 0.0)), 1, 10, 0.1, key=0, cost="quadratic")
    with pytest.raises(jaxnn.JaxnnError, match="inputs " + beyond):
        jaxnn.predict(params, x)
    with pytest.raises(jaxnn.JaxnnError, match="training inputs " + beyond):
        jaxnn.sweep([4, 3], (x, _Y), 1, 10, 0.1)
    # network2 weights of 1e300 evaluated to a meaningless accuracy
    path = modelfile.save_network2(tmp_path / "n.json", params, "quadratic")
    doc = json.loads(path.read_text())
    doc["weights"][0][1][2] = 1e300
    path.write_text(json.dumps(doc))
    loaded, _ = modelfile.load_network2(path)
    with jax.enable_x64(False), pytest.raises(jaxnn.JaxnnError, match=r"params\[0\]\['w'\] " + beyond):
        jaxnn.evaluate(loaded, _X, _Y)  # float64 arrays compute in float32 without jax_enable_x64
    assert 0 <= jaxnn.evaluate(loaded, _X, _Y) <= len(_X)  # with it (as in these tests) they fit


# -- defect 11: resuming checks the initial parameters; an existing checkpoint is not overwritten unasked


def test_resume_checks_the_initial_parameters_and_existing_checkpoints_are_not_overwritten(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    params = jaxnn.init_params(0, [4, 3])
    jaxnn.sgd(params, (_X, _Y), 1, 10, 0.1, key=0, checkpoint=ckpt)
    saved = ckpt.read_bytes()
    with pytest.raises(jaxnn.JaxnnError, match=r"different settings \(initial_params\)"):
        jaxnn.sgd(jaxnn.init_params(1, [4, 3]), (_X, _Y), 2, 10, 0.1, key=0, checkpoint=ckpt, resume=True)
    with pytest.raises(jaxnn.JaxnnError, match="already exists: pass resume=True to continue that run, or delete it"):
        jaxnn.sgd(params, (_X, _Y), 2, 10, 0.1, key=0, checkpoint=ckpt)
    assert ckpt.read_bytes() == saved
    _, h = jaxnn.sgd(params, (_X, _Y), 2, 10, 0.1, key=0, checkpoint=ckpt, resume=True)
    assert h.epoch == [0, 1]


# -- defect 12: a diverging conv net under jaxnn.sgd stops with the divergence message, never NaN


def test_a_diverging_conv_net_stops_and_returns_finite_parameters():
    net = jaxnn.conv_net([jaxnn.ConvPool(2, 3), jaxnn.FullyConnected(4), jaxnn.Softmax(3)], (1, 6, 6))
    params = jaxnn.init_network(jax.random.key(0), net)
    x = _RNG.uniform(size=(20, 1, 6, 6)).astype(np.float32)
    trained, h = jaxnn.sgd(params, (x, _Y[:20]), 3, 5, 1e30, key=0, net=net)
    assert h.stopped is not None and h.stopped.startswith("training diverged in epoch 0")
    assert all(np.isfinite(np.asarray(a)).all() for a in jax.tree_util.tree_leaves(trained))
    chex.assert_trees_all_equal(jax.tree_util.tree_map(np.asarray, trained), jax.tree_util.tree_map(np.asarray, params))


# -- never tried before: a real full disk, an unprivileged user, two writers at once


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB tmpfs: saving more than that fills it for real (skipped where mount is not allowed)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount")
    folder = tmp_path / "small"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_real_full_disk_keeps_the_previous_file_and_leaves_no_temporary_file(full_disk):
    path = jaxnn.save_model(full_disk / "m.npz", _params(), note="the good one")
    good = path.read_bytes()
    big = [{"w": np.ones((200, 1000), np.float32), "b": np.zeros(200, np.float32)}]  # 800 kB, twice over 1 MiB
    (full_disk / "filler").write_bytes(b"\0" * 400_000)
    with pytest.raises(OSError) as failure:
        jaxnn.save_model(path, big)
    assert failure.value.errno == errno.ENOSPC
    assert path.read_bytes() == good and jaxnn.load_model(path)[1]["note"] == "the good one"
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "m.npz"]
    # a checkpoint that no longer fits: the run stops with the error, the last checkpoint is whole
    ckpt = full_disk / "run.ckpt"
    wide = [{"w": np.zeros((2000, 4), np.float32), "b": np.zeros(2000, np.float32)}, {"w": np.zeros((3, 2000), np.float32), "b": np.zeros(3, np.float32)}]  # fmt: skip
    jaxnn.sgd(wide, (_X, _Y), 1, 10, 0.1, key=0, checkpoint=ckpt)
    before = ckpt.read_bytes()
    (full_disk / "filler").write_bytes(b"\0" * (1_048_576 - 2 * len(before) - len(good) + 40_000))
    with pytest.raises(OSError, match="No space left on device"):
        jaxnn.sgd(wide, (_X, _Y), 2, 10, 0.1, key=0, checkpoint=ckpt, resume=True)
    assert ckpt.read_bytes() == before
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "m.npz", "run.ckpt"]


_AS_NOBODY = r"""
import json, os, sys
import numpy as np
import jaxnn
from jaxnn import modelfile

print("ready", flush=True)
ro, rw = sys.argv[1], sys.argv[2]
params = [{"w": np.ones((2, 3), np.float32), "b": np.zeros(2, np.float32)}]
out = {}
def attempt(name, f):
    try:
        f()
        out[name] = "ok"
    except jaxnn.JaxnnError as e:
        out[name] = str(e)
attempt("read-only folder", lambda: jaxnn.save_model(os.path.join(ro, "new.npz"), params))
attempt("read-only file", lambda: jaxnn.save_model(os.path.join(rw, "locked.npz"), params))
attempt("network2 read-only file", lambda: modelfile.save_network2(os.path.join(rw, "locked.npz"), params, "quadratic"))
attempt("checkpoint in read-only folder", lambda: jaxnn.sgd(
    params, (np.zeros((4, 3)), np.zeros(4, int)), 1, 2, 0.1, key=0, checkpoint=os.path.join(ro, "run.ckpt")))
attempt("unreadable model", lambda: jaxnn.load_model(os.path.join(rw, "secret.npz")))
attempt("unreadable network2", lambda: modelfile.load_network2(os.path.join(rw, "secret.npz")))
attempt("writable folder", lambda: jaxnn.save_model(os.path.join(rw, "mine.npz"), params))
print(json.dumps(out))
"""


def test_a_read_only_folder_and_unwritable_files_as_an_unprivileged_user(tmp_path):
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run a step as the unprivileged user nobody")
    base = Path(tempfile.mkdtemp(prefix="jaxnn-nobody-"))
    try:
        base.chmod(0o755)
        ro, rw = base / "ro", base / "rw"
        ro.mkdir(mode=0o755)
        rw.mkdir()
        rw.chmod(0o777)
        locked = jaxnn.save_model(rw / "locked.npz", _params())
        locked.chmod(0o444)
        secret = jaxnn.save_model(rw / "secret.npz", _params())
        secret.chmod(0o600)
        before = locked.read_bytes()
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(jaxnn.__file__).parents[1]),
            "HOME": str(base),
            "JAX_PLATFORMS": "cpu",
        }
        done = subprocess.run(
            [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", sys.executable, "-c", _AS_NOBODY, str(ro), str(rw)],
            capture_output=True, text=True, env=env, timeout=300, cwd=base,
        )  # fmt: skip
        if "ready" not in done.stdout:  # e.g. a checkout or a Python in a folder only root may enter
            pytest.skip(f"the user nobody cannot import jaxnn here: {done.stderr.strip().splitlines()[-1:]}")
        assert done.returncode == 0, done.stderr[-2000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert "is not writable by this user" in out["read-only folder"]
        assert "is not writable by this user" in out["checkpoint in read-only folder"]
        assert "the file is read-only for this user" in out["read-only file"]
        assert "the file is read-only for this user" in out["network2 read-only file"]
        assert "permission denied" in out["unreadable model"].lower()
        assert "permission denied" in out["unreadable network2"].lower()
        assert out["writable folder"] == "ok"
        assert locked.read_bytes() == before and list(ro.iterdir()) == []
        assert sorted(p.name for p in rw.iterdir()) == ["locked.npz", "mine.npz", "secret.npz"]
        assert (rw / "mine.npz").stat().st_uid == 65534
    finally:
        shutil.rmtree(base)


_WRITER = r"""
import sys
import numpy as np
import jaxnn
for i in range(int(sys.argv[2])):
    jaxnn.save_model(sys.argv[1], [{"w": np.full((300, 300), 1.0, np.float32), "b": np.zeros(300, np.float32)}], who="a")
"""


def test_two_processes_writing_the_same_model_at_once_last_writer_wins_whole(tmp_path):
    path = tmp_path / "m.npz"
    other = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), "60"], env={**os.environ, "JAX_PLATFORMS": "cpu"}
    )
    mine = [{"w": np.full((300, 300), 2.0, np.float32), "b": np.zeros(300, np.float32)}]
    seen = set()
    try:
        while other.poll() is None or not seen:
            jaxnn.save_model(path, mine, who="b")
            params, meta = jaxnn.load_model(path)  # whichever writer won, the file is whole
            assert float(params[0]["w"][0, 0]) == {"a": 1.0, "b": 2.0}[meta["who"]]
            assert np.all(params[0]["w"] == params[0]["w"][0, 0])
            seen.add(meta["who"])
    finally:
        assert other.wait(timeout=300) == 0
    params, meta = jaxnn.load_model(path)
    assert meta["who"] in ("a", "b") and np.all(params[0]["w"] == {"a": 1.0, "b": 2.0}[meta["who"]])
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


TERMINAL_JAXNN = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'jaxnn'; runpy.run_module('jaxnn', run_name='__main__', alter_sys=True)"
)


def test_ctrl_c_in_the_cli_exits_130_in_one_line_and_leaves_no_partial_file(tmp_path):
    """SIGINT mid-training without --checkpoint: exit status 130, one "jaxnn: interrupted" line
    that says how to keep progress next time, no traceback, no half-written model.
    (tests/test_cli.py covers the run with --checkpoint, which resumes.)"""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONUNBUFFERED": "1"}
    argv = ["train", "--sizes", "784,10", "--epochs", "100000", "--train-size", "500", "--eta", "0.5"]
    proc = subprocess.Popen(
        # SIGINT as a terminal's foreground job has it, whatever this process inherited
        [sys.executable, "-c", TERMINAL_JAXNN, *argv, "--save", str(tmp_path / "m.npz"), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until training is under way
            if line.startswith("Epoch 0"):
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130
    last = err.strip().splitlines()[-1]
    assert last.startswith("jaxnn: interrupted") and "--checkpoint" in last and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
