"""Checkpoints: a run killed with SIGKILL and resumed ends bit for bit where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import chex
import jax
import numpy as np
import pytest

import jaxnn

SCRIPT = textwrap.dedent("""
    import sys, jax, numpy as np, jaxnn
    d = jaxnn.load_mnist()
    train = jaxnn.Split(d.training.x[:3000], d.training.y[:3000])
    params = jaxnn.init_params(jax.random.key(0), [784, 20, 10])
    checkpoint, epochs = sys.argv[1], int(sys.argv[2])
    trained, h = jaxnn.sgd(params, train, epochs, 1, 0.05, key=7, cost="cross-entropy", momentum=0.5,
                           p_dropout=0.2, lmbda=1.0, evaluation_data=(d.test.x[:500], d.test.y[:500]),
                           checkpoint=checkpoint if checkpoint != "-" else None, resume=checkpoint != "-")
    np.savez(sys.argv[3], *[np.asarray(l) for l in jax.tree_util.tree_leaves(trained)],
             correct=np.array(h.evaluation_correct), epochs=np.array(h.epoch))
""")


def _run(tmp_path, checkpoint, out, epochs=4, **kw):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(checkpoint), str(epochs), str(out)], **kw)


def _epoch_in(checkpoint):
    """The last epoch a checkpoint holds, or -1 while there is none (or it is being replaced)."""
    try:
        with np.load(checkpoint, allow_pickle=False) as z:
            return json.loads(z["__jaxnn__"].tobytes().decode())["epoch"]
    except Exception:
        return -1


def test_sigkill_mid_training_then_resume_is_bit_for_bit(tmp_path):
    reference = tmp_path / "reference.npz"
    assert _run(tmp_path, "-", reference).wait(timeout=600) == 0

    ckpt = tmp_path / "run.ckpt"
    proc = _run(tmp_path, ckpt, tmp_path / "unused.npz")
    deadline = time.time() + 600
    while _epoch_in(ckpt) < 1 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # somewhere in epoch 2 (or writing its checkpoint)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = _epoch_in(ckpt)
    assert 1 <= killed_at < 3

    resumed = tmp_path / "resumed.npz"
    assert _run(tmp_path, ckpt, resumed).wait(timeout=600) == 0
    with np.load(reference) as a, np.load(resumed) as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])  # identical, not merely close
        assert b["epochs"].tolist() == [0, 1, 2, 3]


def test_resume_refuses_a_checkpoint_from_other_settings(tmp_path):
    d = jaxnn.load_mnist()
    train = jaxnn.Split(d.training.x[:200], d.training.y[:200])
    params = jaxnn.init_params(jax.random.key(0), [784, 5, 10])
    ckpt = tmp_path / "c.ckpt"
    jaxnn.sgd(params, train, 1, 10, 0.5, key=0, checkpoint=ckpt)
    with pytest.raises(jaxnn.JaxnnError, match=r"different settings \(eta\)"):
        jaxnn.sgd(params, train, 2, 10, 0.6, key=0, checkpoint=ckpt, resume=True)
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(jaxnn.JaxnnError, match="truncated or corrupt"):
        jaxnn.sgd(params, train, 2, 10, 0.5, key=0, checkpoint=ckpt, resume=True)


def test_resume_in_process_equals_one_run(tmp_path):
    d = jaxnn.load_mnist()
    train = jaxnn.Split(d.training.x[:300], d.training.y[:300])
    params = jaxnn.init_params(jax.random.key(0), [784, 6, 10])
    kw = dict(key=3, evaluation_data=(d.test.x[:100], d.test.y[:100]), halve_eta_after=1)
    whole, h = jaxnn.sgd(params, train, 4, 10, 0.5, **kw)
    ckpt = tmp_path / "c.ckpt"
    jaxnn.sgd(params, train, 2, 10, 0.5, checkpoint=ckpt, **kw)
    resumed, h2 = jaxnn.sgd(params, train, 4, 10, 0.5, checkpoint=ckpt, resume=True, **kw)
    chex.assert_trees_all_equal(whole, resumed)
    assert h2.evaluation_correct == h.evaluation_correct and h2.eta == h.eta
