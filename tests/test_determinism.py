"""Determinism: the same seed gives the same parameters and history, whatever the run, the
global PRNG setting, or the gradient path (see docs/reliability.md for what is not promised)."""

import contextlib
import dataclasses
import importlib

import chex
import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import validation

RNG = np.random.default_rng(0)
X = RNG.random((40, 6))
Y = RNG.integers(0, 3, 40)
EVAL = (RNG.random((15, 6)), RNG.integers(0, 3, 15))
KW = dict(
    evaluation_data=EVAL, cost="cross-entropy", lmbda=0.5, p_dropout=0.3, momentum=0.5, monitor_training_cost=True
)


def _run(seed=1, gradient="backprop", dtype=jnp.float32, **kw):
    params = jaxnn.init_params(seed, [6, 5, 3], dtype=dtype)
    trained, h = jaxnn.sgd(params, (X, Y), 3, 7, 0.5, key=seed, gradient=gradient, **{**KW, **kw})
    return jax.tree_util.tree_map(np.asarray, trained), {
        k: v for k, v in dataclasses.asdict(h).items() if k != "seconds"
    }


@contextlib.contextmanager
def default_prng(impl):
    old = jax.config.jax_default_prng_impl
    jax.config.update("jax_default_prng_impl", impl)
    try:
        yield
    finally:
        jax.config.update("jax_default_prng_impl", old)


def test_same_seed_same_parameters_and_history():
    (p1, h1), (p2, h2) = _run(), _run()
    chex.assert_trees_all_equal(p1, p2)  # bit for bit
    assert h1 == h2 and len(h1["training_cost"]) == 3
    p3, h3 = _run(seed=2)
    assert not np.array_equal(p1[0]["w"], p3[0]["w"])  # the seed does matter


def test_integer_seeds_are_pinned_to_threefry_whatever_the_global_default():
    p1, h1 = _run()
    with default_prng("rbg"):
        assert str(jax.random.key_impl(jax.random.key(1))) == "rbg"  # the global setting really changed
        p2, h2 = _run()
        assert str(jax.random.key_impl(validation.prng_key(1))) == validation.PRNG_IMPL
    chex.assert_trees_all_equal(p1, p2)
    assert h1 == h2
    explicit = jax.random.key(1, impl="threefry2x32")
    chex.assert_trees_all_equal(jaxnn.init_params(explicit, [6, 5, 3]), jaxnn.init_params(1, [6, 5, 3]))
    raw = jax.random.key_data(explicit)  # an old-style uint32 key is the same key
    chex.assert_trees_all_equal(jaxnn.init_params(raw, [6, 5, 3]), jaxnn.init_params(1, [6, 5, 3]))


def _bits(a):
    return np.asarray(a).view(np.uint8)


def test_weights_drawn_at_a_pooled_size_equal_jax_random_normal_bit_for_bit(monkeypatch):
    # jaxnn.initializers.normal draws a power-of-two count of numbers and keeps the first ones, so
    # that one compiled draw serves many layer shapes; the numbers must be jax.random.normal's.
    from jaxnn.initializers import _flat_normal, normal

    module = importlib.import_module("jaxnn.initializers")  # (jaxnn.initializers is also the registry's name)
    monkeypatch.setattr(module, "_MAX_POOLED", 4096)  # so that (70, 70) is drawn at its own size
    cases = [((10,), None), ((30, 784), 784**-0.5), ((20, 1, 5, 5), 0.2), ((70, 70), 0.5)]
    for key, dtype, shape, scale in [(jax.random.key(3), d, *c) for d in (jnp.float32, jnp.float64) for c in cases] + [
        (jax.random.key(4, impl="rbg"), jnp.float32, (30, 20), 0.1)  # other key types: drawn at their own shape
    ]:
        expected = jax.random.normal(key, shape, dtype)
        expected = expected if scale is None else expected * jnp.asarray(scale, dtype)
        got = normal(key, shape, dtype, scale)
        assert got.shape == shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(_bits(got), _bits(expected))
    keys = jax.random.split(jax.random.key(5), 4)  # a sweep draws its networks' weights under vmap
    np.testing.assert_array_equal(
        _bits(jax.vmap(lambda k: normal(k, (10, 30), jnp.float32, 0.5))(keys)),
        _bits(jax.vmap(lambda k: jax.random.normal(k, (10, 30), jnp.float32) * jnp.float32(0.5))(keys)),
    )
    key = jax.random.key(3)  # inside a compiled program, too, the numbers are the eager draw's
    np.testing.assert_array_equal(
        _bits(jax.jit(lambda k: normal(k, (30, 784), jnp.float32, 0.5))(key)),
        _bits(jax.random.normal(key, (30, 784), jnp.float32) * jnp.float32(0.5)),
    )
    old = jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)  # numbers then depend on the shape
    try:
        key = jax.random.key(6)
        np.testing.assert_array_equal(
            _bits(normal(key, (30, 7), jnp.float64)), _bits(jax.random.normal(key, (30, 7), jnp.float64))
        )
    finally:
        jax.config.update("jax_threefry_partitionable", old)
    before = _flat_normal._cache_size()
    key = jax.random.key(7)
    for shape in [(31,), (17, 3), (9, 11), (700,)]:  # four shapes, one size class: one new program at most
        normal(key, shape, jnp.float32)
    assert _flat_normal._cache_size() - before <= 1


def test_gradient_paths_agree_on_the_whole_run():
    """Same seed, same shuffles and dropout masks: only the gradient's arithmetic differs, so the
    float64 runs agree to about 1e-12 and classify every evaluation example the same."""
    p1, h1 = _run(dtype=jnp.float64)
    p2, h2 = _run(gradient="autodiff", dtype=jnp.float64)
    chex.assert_trees_all_close(p1, p2, rtol=1e-9, atol=1e-11)
    assert h1["evaluation_correct"] == h2["evaluation_correct"]
    np.testing.assert_allclose(h1["training_cost"], h2["training_cost"], rtol=1e-10)
    assert not np.array_equal(p1[0]["w"], jaxnn.init_params(1, [6, 5, 3], dtype=jnp.float64)[0]["w"])  # it trained


def test_sweep_is_deterministic_and_pinned():
    kw = dict(seeds=[0, 1], lmbda=[0.0, 0.5], cost="cross-entropy")
    a = jaxnn.sweep([6, 5, 3], (X, Y), 2, 7, 0.5, **kw)
    with default_prng("rbg"):
        b = jaxnn.sweep([6, 5, 3], (X, Y), 2, 7, 0.5, **kw)
    chex.assert_trees_all_equal(a.params, b.params)
    assert not np.array_equal(a.network(0)[0]["w"], a.network(2)[0]["w"])  # the seeds differ


def test_checkpoint_records_the_key_implementation(tmp_path):
    ckpt = tmp_path / "c.ckpt"
    params = jaxnn.init_params(0, [6, 3])
    jaxnn.sgd(params, (X, Y), 1, 7, 0.5, key=0, checkpoint=ckpt)
    with np.load(ckpt) as z:
        import json

        meta = json.loads(z["__jaxnn__"].tobytes())
        assert meta["key_impl"] == "threefry2x32" and z["key"].dtype == np.uint32 and z["key"].shape == (2,)
