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
from jaxnn import optim
from jaxnn.checkpoint import load_checkpoint, save_checkpoint

SCRIPT = textwrap.dedent("""
    import sys, jax, numpy as np, jaxnn
    d = jaxnn.load_mnist()
    checkpoint, epochs, kind = sys.argv[1], int(sys.argv[2]), sys.argv[4]
    resume = dict(checkpoint=checkpoint if checkpoint != "-" else None, resume=checkpoint != "-")
    evaluation = (d.test.x[:500], d.test.y[:500])
    if kind == "mlp":
        train = jaxnn.Split(d.training.x[:3000], d.training.y[:3000])
        params = jaxnn.init_params(jax.random.key(0), [784, 20, 10])
        trained, h = jaxnn.sgd(params, train, epochs, 1, 0.05, key=7, cost="cross-entropy", momentum=0.5,
                               p_dropout=0.2, lmbda=1.0, evaluation_data=evaluation, **resume)
    elif kind == "sweep":  # 2 seeds x 2 etas, momentum and dropout: every network's state is restored
        train = jaxnn.Split(d.training.x[:3000], d.training.y[:3000])
        r = jaxnn.sweep([784, 20, 10], train, epochs, 1, [0.05, 0.1], seeds=[0, 1], lmbda=1.0, p_dropout=0.2,
                        momentum=0.5, cost="cross-entropy", evaluation_data=evaluation, monitor_training_cost=True,
                        **resume)
        np.savez(sys.argv[3], *[np.asarray(l) for l in jax.tree_util.tree_leaves(r.params)],
                 correct=r.evaluation_correct, cost=r.training_cost, epochs=np.arange(len(r.seconds)))
        sys.exit()
    else:  # a conv net with dropout, L2 and momentum, shuffled: every piece of state a resume must restore
        train = jaxnn.Split(d.training.x[:4000], d.training.y[:4000])
        net = jaxnn.conv_net([jaxnn.ConvPool(6, 5, activation="relu"), jaxnn.FullyConnected(30, p_dropout=0.2),
                              jaxnn.Softmax(10, p_dropout=0.1)], (1, 28, 28))
        params = jaxnn.init_network(jax.random.key(0), net)
        trained, h = jaxnn.sgd(params, train, epochs, 5, 0.05, key=7, net=net, momentum=0.5, lmbda=0.5,
                               evaluation_data=evaluation, test_data=evaluation, **resume)
    np.savez(sys.argv[3], *[np.asarray(l) for l in jax.tree_util.tree_leaves(trained)],
             correct=np.array(h.evaluation_correct), epochs=np.array(h.epoch))
""")


def _run(tmp_path, checkpoint, out, epochs=4, kind="mlp", **kw):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(checkpoint), str(epochs), str(out), kind], **kw)


def _epoch_in(checkpoint):
    """The last epoch a checkpoint holds, or -1 while there is none (or it is being replaced)."""
    try:
        with np.load(checkpoint, allow_pickle=False) as z:
            return json.loads(z["__jaxnn__"].tobytes().decode())["epoch"]
    except Exception:
        return -1


@pytest.mark.parametrize("kind", ["mlp", "conv", "sweep"])
def test_sigkill_mid_training_then_resume_is_bit_for_bit(tmp_path, kind):
    reference = tmp_path / "reference.npz"
    assert _run(tmp_path, "-", reference, kind=kind).wait(timeout=600) == 0

    ckpt = tmp_path / "run.ckpt"
    proc = _run(tmp_path, ckpt, tmp_path / "unused.npz", kind=kind)
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
    assert _run(tmp_path, ckpt, resumed, kind=kind).wait(timeout=600) == 0
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


# -- divergence: the message names the epoch and the cause, and nothing good is lost


def _linear_run(tmp_path, eta, lmbda=0.0, on_divergence="stop", epochs=10):
    """A one-weight linear network on x = 1, y = 3 with single-example steps: w and b are pulled
    back and forth by a factor of about 1 − 2η per step, so η = 10 overflows float32 in epoch 2."""
    x = np.ones((10, 1), np.float32)
    seen = {}
    params = jaxnn.init_params(jax.random.key(0), [1, 1])
    ckpt = tmp_path / "run.ckpt"
    trained, h = jaxnn.sgd(
        params,
        (x, 3 * x),
        epochs,
        1,
        eta,
        key=0,
        lmbda=lmbda,
        activation="linear",
        on_divergence=on_divergence,
        checkpoint=ckpt,
        callback=lambda j, p, _: seen.update({j: jax.tree_util.tree_map(np.array, p)}),
    )
    return trained, h, seen, ckpt


def _checkpointed(ckpt, like):
    state_like = optim.book_state(optim.book_transformation(False), like, 1.0)
    params, _, _, meta = load_checkpoint(
        ckpt,
        params_like=like,
        opt_state_like=state_like,
        config=json.loads(np.load(ckpt)["__jaxnn__"].tobytes())["config"],
    )
    return params, meta


def test_nan_divergence_names_epoch_and_cause_keeps_last_good_params_and_checkpoint(tmp_path):
    trained, h, seen, ckpt = _linear_run(tmp_path, eta=10.0)
    assert h.epoch == [0, 1]  # epochs 0 and 1 were finite; epoch 2 overflowed
    assert h.stopped.startswith("training diverged in epoch 2: the parameters became NaN or infinite")
    assert "η = 10 is likely too large" in h.stopped and "kept the last good parameters" in h.stopped
    chex.assert_trees_all_equal(jax.tree_util.tree_map(np.asarray, trained), seen[1])  # epoch 1's parameters
    saved, meta = _checkpointed(ckpt, trained)
    assert meta["epoch"] == 1  # the NaN epoch never reached the checkpoint
    chex.assert_trees_all_equal(saved, seen[1])
    assert all(np.isfinite(a).all() for a in jax.tree_util.tree_leaves(saved))


def test_divergence_from_weight_decay_blames_eta_times_lambda(tmp_path):
    _, h, _, _ = _linear_run(tmp_path, eta=1.0, lmbda=30.0)  # ηλ/n = 1 · 30 / 10 = 3: w ← −2w + …
    assert "diverged in epoch" in h.stopped and "ηλ/n = 3 > 2" in h.stopped and "eta or lmbda smaller" in h.stopped


def test_revert_policy_halves_eta_and_checkpoints_only_finite_epochs(tmp_path):
    trained, h, seen, ckpt = _linear_run(tmp_path, eta=10.0, on_divergence="revert", epochs=12)
    # halved until |1 − 2η| < 1, where the steps contract; the diverged epochs are not in the history
    assert h.stopped is None and h.eta[0] == 10.0 and h.eta[-1] < 1 and 2 not in h.epoch and h.epoch[-1] == 11
    assert all(later <= earlier for earlier, later in zip(h.eta, h.eta[1:]))
    saved, meta = _checkpointed(ckpt, trained)
    assert meta["epoch"] == 11 and meta["eta"] == h.eta[-1]
    chex.assert_trees_all_equal(saved, jax.tree_util.tree_map(np.asarray, trained))
    assert all(np.isfinite(a).all() for p in seen.values() for a in jax.tree_util.tree_leaves(p))


# -- untrusted checkpoints: checked against the schema before anything in them is used

LIKE = jaxnn.init_params(jax.random.key(0), [3, 2])
CONFIG = {"sizes": [3, 2]}


def _valid(tmp_path):
    return save_checkpoint(
        tmp_path / "c.ckpt",
        params=LIKE,
        opt_state=None,
        key=jax.random.key(0),
        epoch=0,
        eta=1.0,
        history={"epoch": [0], "eta": [1.0]},
        config=CONFIG,
    )


def _rewrite(path, meta_change=None, arrays_change=None):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["__jaxnn__"].tobytes())
    (meta_change or (lambda m: None))(meta)
    (arrays_change or (lambda a: None))(arrays)
    arrays["__jaxnn__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _load(path):
    return load_checkpoint(path, params_like=LIKE, opt_state_like=None, config=CONFIG)


@pytest.mark.parametrize(
    "meta_change,arrays_change,message",
    [
        (lambda m: m.update(epoch="3"), None, "entry 'epoch' has the wrong type"),
        (lambda m: m.update(eta=float("nan")), None, "epoch, since_best or eta is out of range"),
        (lambda m: m.update(extra=1), None, "has unknown keys extra"),
        (lambda m: m.pop("history"), None, "lacks history"),
        (lambda m: m["history"].update(epoch="0"), None, "history entry 'epoch' has the wrong type"),
        (lambda m: m["history"].update(hacked=[1]), None, "history has unknown entries hacked"),
        (lambda m: m.update(n_params=3), None, "holds 3 parameter arrays, the run has 2"),
        (lambda m: m.update(key_impl="nope"), None, "unknown PRNG implementation 'nope'"),
        (lambda m: m.update(config={"sizes": [3, 3]}), None, r"different settings \(sizes\)"),
        # the leaves are b (2,) then w (2, 3)
        (None, lambda a: a.update({"params/1": np.full((2, 3), np.nan, np.float32)}), "params/1 holds NaN"),
        (None, lambda a: a.update({"params/1": np.zeros((2, 3), np.float64)}), "dtype float64, expected float32"),
        (None, lambda a: a.update({"params/1": np.zeros((3, 2), np.float32)}), r"shape \(3, 2\)"),
        (None, lambda a: a.update(key=np.zeros(2, np.int64)), "key has shape"),
        (None, lambda a: a.update({"opt/0": np.zeros(1)}), r"arrays this format does not have \(opt/0\)"),
        (None, lambda a: a.pop("params/1"), "array params/1 is missing"),
    ],
)
def test_checkpoint_schema_violations(tmp_path, meta_change, arrays_change, message):
    path = _valid(tmp_path)
    _load(path)  # the untouched file loads
    _rewrite(path, meta_change, arrays_change)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        _load(path)


def test_missing_checkpoint_names_the_way_out(tmp_path):
    with pytest.raises(jaxnn.JaxnnError, match="no checkpoint at .*run without resume=True"):
        _load(tmp_path / "none.ckpt")
