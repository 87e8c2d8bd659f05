import importlib

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnn
from jaxnn.sweep import run_keys


@pytest.fixture(scope="module")
def small():
    d = jaxnn.load_mnist()
    return jaxnn.Split(d.training.x[:600], d.training.y[:600]), jaxnn.Split(d.validation.x[:300], d.validation.y[:300])


def test_sweep_equals_the_same_runs_one_by_one(small):
    train, val = small
    kw = dict(cost="cross-entropy", evaluation_data=val)
    res = jaxnn.sweep(
        [784, 12, 10],
        train,
        2,
        10,
        [0.5, 1.0],
        seeds=[0, 1],
        lmbda=[0.0, 3.0],
        p_dropout=[0.0, 0.3],
        dtype=jnp.float64,
        **kw,
    )
    assert len(res.configs) == 16 and res.evaluation_correct.shape == (16, 2)
    for i in (0, 5, 10, 15):
        c = res.configs[i]
        k_init, k_sgd = run_keys(c["seed"])
        params = jaxnn.init_params(k_init, [784, 12, 10], "default", dtype=jnp.float64)
        alone, h = jaxnn.sgd(
            params, train, 2, 10, c["eta"], key=k_sgd, lmbda=c["lmbda"], p_dropout=c["p_dropout"], **kw
        )
        chex.assert_trees_all_close(res.network(i), alone, rtol=1e-9, atol=1e-11)
        assert res.evaluation_correct[i].tolist() == h.evaluation_correct


def test_sweep_table_groups_seeds(small):
    train, val = small
    res = jaxnn.sweep([784, 10, 10], train, 1, 10, 3.0, seeds=[0, 1, 2], lmbda=[0.0, 0.1], evaluation_data=val)
    table = res.table(by=("lmbda",))
    rows = table.splitlines()[2:]
    assert len(rows) == 2 and rows[0].startswith("| 0 |") and rows[1].startswith("| 0.1 |")
    assert all(len(r.split("|")[3].split(",")) == 3 for r in rows)
    assert (res.best_accuracy > 0.2).all()  # one epoch on 600 images; chance is 0.1


def test_sweep_rejects_bad_grids(small):
    train, _ = small
    with pytest.raises(jaxnn.JaxnnError, match="eta"):
        jaxnn.sweep([784, 10, 10], train, 1, 10, [0.5, -1])
    with pytest.raises(jaxnn.JaxnnError, match="p_dropout must be below 1"):
        jaxnn.sweep([784, 10, 10], train, 1, 10, 0.5, p_dropout=[0.5, 1.0])
    with pytest.raises(jaxnn.JaxnnError, match="seeds needs"):
        jaxnn.sweep([784, 10, 10], train, 1, 10, 0.5, seeds=[])


def test_sweep_in_chunks_equals_the_same_runs_one_by_one(small, monkeypatch):
    """Large sweeps train their seed groups a few at a time (lax.map over chunks): the same networks."""
    sweep_module = importlib.import_module("jaxnn.sweep")  # the module: jaxnn.sweep is the function
    train, val = small
    monkeypatch.setattr(sweep_module, "CACHE_BYTES", 0)  # always in chunks
    monkeypatch.setattr(sweep_module, "CHUNK_BYTES", 1)  # of one group each
    assert sweep_module._chunk(4, 100) == 1
    monkeypatch.setattr(sweep_module, "CHUNK_BYTES", 250)
    assert sweep_module._chunk(4, 100) == 2 and sweep_module._chunk(3, 100) == 1
    kw = dict(cost="cross-entropy", evaluation_data=val)
    res = jaxnn.sweep([784, 12, 10], train, 2, 10, [0.5, 1.0], seeds=[0, 1, 2, 3], dtype=jnp.float64, **kw)
    assert len(res.configs) == 8
    for i in (0, 3, 6):
        c = res.configs[i]
        k_init, k_sgd = run_keys(c["seed"])
        params = jaxnn.init_params(k_init, [784, 12, 10], "default", dtype=jnp.float64)
        alone, h = jaxnn.sgd(params, train, 2, 10, c["eta"], key=k_sgd, **kw)
        chex.assert_trees_all_close(res.network(i), alone, rtol=1e-9, atol=1e-11)
        assert res.evaluation_correct[i].tolist() == h.evaluation_correct


# -- checkpoints: a sweep stopped after any epoch goes on to exactly the uninterrupted result


def _assert_same(a, b):
    chex.assert_trees_all_equal(a.params, b.params)  # identical, not merely close
    np.testing.assert_array_equal(a.evaluation_correct, b.evaluation_correct)
    np.testing.assert_array_equal(a.diverged, b.diverged)
    assert len(a.seconds) == len(b.seconds)


def test_sweep_resumed_from_its_checkpoint_equals_one_sweep(small, tmp_path):
    train, val = small
    kw = dict(seeds=[0, 1], lmbda=[0.0, 1.0], momentum=0.5, evaluation_data=val, monitor_training_cost=True)
    whole = jaxnn.sweep([784, 8, 10], train, 3, 10, 0.5, **kw)
    ckpt = tmp_path / "sweep.ckpt"
    first = jaxnn.sweep([784, 8, 10], train, 1, 10, 0.5, checkpoint=ckpt, **kw)
    assert first.evaluation_correct.shape == (4, 1)
    resumed = jaxnn.sweep([784, 8, 10], train, 3, 10, 0.5, checkpoint=ckpt, resume=True, **kw)
    _assert_same(whole, resumed)
    np.testing.assert_array_equal(whole.training_cost, resumed.training_cost)
    # the checkpoint now holds all 3 epochs: resuming again trains nothing and returns the same result
    again = jaxnn.sweep([784, 8, 10], train, 3, 10, 0.5, checkpoint=ckpt, resume=True, **kw)
    _assert_same(whole, again)
    assert again.seconds == resumed.seconds


def test_a_diverged_network_stays_marked_through_a_resume(small, tmp_path):
    train, val = small
    kw = dict(seeds=[0], evaluation_data=val, activation="relu")
    whole = jaxnn.sweep([784, 8, 10], train, 3, 10, [0.5, 1e30], **kw)
    assert whole.diverged.tolist() == [-1, 0]  # η = 10³⁰ diverges in epoch 0
    ckpt = tmp_path / "sweep.ckpt"
    jaxnn.sweep([784, 8, 10], train, 2, 10, [0.5, 1e30], checkpoint=ckpt, **kw)
    resumed = jaxnn.sweep([784, 8, 10], train, 3, 10, [0.5, 1e30], checkpoint=ckpt, resume=True, **kw)
    _assert_same(whole, resumed)
    assert "diverged" in resumed.table()


def test_sweep_checkpoint_refusals(small, tmp_path):
    train, val = small
    ckpt = tmp_path / "sweep.ckpt"
    with pytest.raises(jaxnn.JaxnnError, match="resume=True needs checkpoint=PATH"):
        jaxnn.sweep([784, 5, 10], train, 1, 10, 0.5, resume=True)
    jaxnn.sweep([784, 5, 10], train, 2, 10, [0.5, 1.0], checkpoint=ckpt)
    before = ckpt.read_bytes()
    with pytest.raises(jaxnn.JaxnnError, match="already exists: pass resume=True"):
        jaxnn.sweep([784, 5, 10], train, 1, 10, [0.5, 1.0], checkpoint=ckpt)
    with pytest.raises(jaxnn.JaxnnError, match=r"different settings \(configs\)"):
        jaxnn.sweep([784, 5, 10], train, 3, 10, [0.5, 2.0], checkpoint=ckpt, resume=True)
    with pytest.raises(jaxnn.JaxnnError, match=r"different settings \(data\)"):
        other = jaxnn.Split(train.x[::-1], train.y[::-1])
        jaxnn.sweep([784, 5, 10], other, 3, 10, [0.5, 1.0], checkpoint=ckpt, resume=True)
    with pytest.raises(jaxnn.JaxnnError, match=r"holds 2 epochs, more than epochs=1: pass epochs=2"):
        jaxnn.sweep([784, 5, 10], train, 1, 10, [0.5, 1.0], checkpoint=ckpt, resume=True)
    assert ckpt.read_bytes() == before  # nothing refused touched it
    run = tmp_path / "run.ckpt"  # a single run's checkpoint is named as such
    jaxnn.sgd(jaxnn.init_params(jax.random.key(0), [784, 5, 10]), train, 1, 10, 0.5, key=0, checkpoint=run)
    with pytest.raises(jaxnn.JaxnnError, match="checkpoint of one run: resume it with jaxnn.sgd"):
        jaxnn.sweep([784, 5, 10], train, 2, 10, [0.5, 1.0], checkpoint=run, resume=True)
    ckpt.write_bytes(before[:200])
    with pytest.raises(jaxnn.JaxnnError, match="truncated or corrupt"):
        jaxnn.sweep([784, 5, 10], train, 3, 10, [0.5, 1.0], checkpoint=ckpt, resume=True)
    ckpt.unlink()  # resume with no file yet starts afresh, as jaxnn.sgd does
    fresh = jaxnn.sweep([784, 5, 10], train, 1, 10, [0.5, 1.0], checkpoint=ckpt, resume=True)
    assert len(fresh.seconds) == 1 and ckpt.is_file()
