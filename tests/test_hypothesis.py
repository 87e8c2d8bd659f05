"""Property-based tests: random malformed inputs at every public entry point.

Each property passes only when every failure is a ``JaxnnError`` with a one-line message (or,
for the CLI, argparse's exit status 2 with a usage message): never a traceback from inside JAX
or NumPy. Training itself is replaced by a sentinel that raises :class:`Reached`, so an input that
passes validation stops there, and any input that gets past validation without being valid
shows up as a different exception.
"""

import atexit
import contextlib
import gzip
import importlib
import io as stdio
import json
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import chex
import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jaxnn
from jaxnn import checkpoint, cli, modelfile, training
from jaxnn import data as datasets

sweep_module = importlib.import_module("jaxnn.sweep")  # jaxnn.sweep is also the function

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)

SIZES = [4, 3]
P = jaxnn.init_params(jax.random.key(0), SIZES)
X = np.random.default_rng(0).random((8, 4)).astype(np.float32)
Y = np.arange(8) % 3
TMP = Path(tempfile.mkdtemp(prefix="jaxnn-hypothesis-"))
atexit.register(shutil.rmtree, TMP, ignore_errors=True)


class Reached(Exception):
    """Validation passed: the call got as far as compiling an epoch."""


def _reached(*args, **kwargs):
    raise Reached


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    """Every test here stops where compilation would start."""
    monkeypatch.setattr(training, "epoch_fn", _reached)
    monkeypatch.setattr(training, "metrics_fn", _reached)
    monkeypatch.setattr(sweep_module, "run_keys", _reached)


def expect_clear_error(call):
    """Runs ``call``; passes on success, on :class:`Reached` or on a one-line JaxnnError."""
    try:
        return call()
    except Reached:
        return None
    except jaxnn.JaxnnError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
        return exc


# -- strategies

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.just(object()),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30))
any_value = st.one_of(junk, numbers)
dtypes = st.sampled_from(
    [
        np.float32,
        np.float64,
        np.float16,
        np.int32,
        np.int64,
        np.uint8,
        np.bool_,
        np.complex64,
        np.dtype("U3"),
        np.dtype("O"),
    ]
)


@st.composite
def arrays(draw, max_dims=3):
    dtype = np.dtype(draw(dtypes))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=6))
    if dtype.kind == "O":
        return np.array([object()] * int(np.prod(shape)), dtype=object).reshape(shape)
    if dtype.kind == "U":
        return np.full(shape, "ab", dtype=dtype)
    width = 16 if dtype == np.float16 else 32
    elements = st.floats(allow_nan=True, allow_infinity=True, width=width) if dtype.kind in "fc" else None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def near_valid_x(draw):
    """Rows of 4 floats, sometimes with a NaN or inf planted."""
    n = draw(st.integers(0, 9))
    x = np.zeros((n, 4), np.float32)
    if n and draw(st.booleans()):
        x[draw(st.integers(0, n - 1)), draw(st.integers(0, 3))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return x


labels = st.one_of(
    arrays(max_dims=2),
    hnp.arrays(np.int64, st.integers(0, 10), elements=st.integers(-3, 5)),
    st.lists(st.integers(-2, 4), max_size=10),
)
names = st.one_of(
    st.sampled_from(
        [
            "sigmoid",
            "sigmod",
            "Sigmoid",
            "tanh",
            "softmax",
            "softmax(c=2)",
            "softmax(c=)",
            "softmax(x=1)",
            "relu",
            "step",
            "quadratic",
            "cross-entropy",
            "cross_entropy",
            "log-likelihood",
            "l1",
            "l2",
            "L2",
            "none",
            "",
        ]
    ),
    st.text(max_size=8),
    junk,
)


# -- sgd


@SETTINGS
@given(x=st.one_of(arrays(), near_valid_x()), y=labels)
def test_sgd_malformed_data(x, y):
    expect_clear_error(lambda: jaxnn.sgd(P, (x, y), 1, 2, 1.0, key=0))
    expect_clear_error(lambda: jaxnn.sgd(P, (X, Y), 1, 2, 1.0, key=0, evaluation_data=(x, y)))


@SETTINGS
@given(
    hp=st.fixed_dictionaries(
        {},
        optional={
            "epochs": st.one_of(st.integers(-3, 3), any_value),
            "mini_batch_size": st.one_of(st.integers(-2, 12), any_value),
            "eta": st.one_of(numbers, any_value),
            "lmbda": numbers,
            "p_dropout": st.one_of(st.floats(-1, 2), any_value),
            "momentum": st.one_of(st.floats(-1, 2), any_value),
            "key": st.one_of(st.integers(-(2**70), 2**70), any_value),
            "activation": names,
            "output_activation": names,
            "cost": names,
            "regularizer": names,
            "dropout": st.one_of(st.sampled_from(["book", "inverted", "invert"]), any_value),
            "gradient": st.one_of(st.sampled_from(list(training.GRADIENTS) + ["autograd"]), any_value),
            "on_divergence": st.one_of(st.sampled_from(["stop", "revert", "halve"]), any_value),
            "early_stopping": st.one_of(st.integers(-1, 2), any_value),
            "halve_eta_after": st.one_of(st.integers(-1, 2), any_value),
            "min_eta_fraction": numbers,
            "checkpoint": st.sampled_from([None, str(TMP / "no-such-folder" / "c.ckpt"), str(TMP)]),
            "callback": st.one_of(st.none(), st.integers(), st.just(print)),
        },
    ),
    params=st.one_of(
        st.just(P),
        any_value,
        st.lists(st.dictionaries(st.sampled_from(["w", "b", "x"]), arrays(), max_size=3), max_size=2),
    ),
)
def test_sgd_bad_hyper_parameters_and_params(hp, params):
    args = dict(epochs=1, mini_batch_size=2, eta=1.0, key=0)
    args.update(hp)
    expect_clear_error(
        lambda: jaxnn.sgd(params, (X, Y), args.pop("epochs"), args.pop("mini_batch_size"), args.pop("eta"), **args)
    )


@SETTINGS
@given(
    params=st.lists(st.fixed_dictionaries({"w": arrays(), "b": arrays()}), min_size=1, max_size=2),
    x=st.one_of(arrays(), near_valid_x()),
    y=labels,
)
def test_predict_evaluate_accuracy(params, x, y):
    for call in (
        lambda: jaxnn.predict(params, x),
        lambda: jaxnn.evaluate(P, x, y),
        lambda: jaxnn.accuracy(params, X, y),
        lambda: jaxnn.evaluate(params, X, Y),
    ):
        expect_clear_error(call)


@SETTINGS
@given(
    key=any_value,
    sizes=st.one_of(st.lists(st.integers(-2, 5), max_size=4), any_value),
    init=names,
    dtype=st.one_of(dtypes, any_value),
)
def test_init_params_and_make_model(key, sizes, init, dtype):
    expect_clear_error(lambda: jaxnn.init_params(key, sizes, init, dtype))
    expect_clear_error(lambda: jaxnn.init_params(jax.random.key(0), sizes, init, dtype))
    expect_clear_error(lambda: jaxnn.make_model(init, sizes if isinstance(sizes, str) else None, key, init, dtype))


# -- sweep and the tuning searches


@SETTINGS
@given(
    kw=st.fixed_dictionaries(
        {},
        optional={
            "seeds": st.one_of(st.lists(st.integers(-2, 3), max_size=3), any_value),
            "lmbda": st.one_of(numbers, st.lists(numbers, max_size=3), any_value),
            "p_dropout": st.one_of(st.lists(st.floats(-1, 2), max_size=2), any_value),
            "momentum": any_value,
            "init": names,
            "cost": names,
            "activation": names,
            "gradient": names,
            "dtype": st.one_of(dtypes, any_value),
            "evaluation_data": st.one_of(st.none(), st.tuples(arrays(), labels)),
        },
    ),
    sizes=st.one_of(st.just(SIZES), st.lists(st.integers(-1, 5), max_size=3), any_value),
    eta=st.one_of(numbers, st.lists(numbers, max_size=3), any_value),
    epochs=st.one_of(st.integers(-2, 2), any_value),
    m=st.one_of(st.integers(-1, 10), any_value),
)
def test_sweep_and_searches(kw, sizes, eta, epochs, m):
    expect_clear_error(lambda: jaxnn.sweep(sizes, (X, Y), epochs, m, eta, **kw))
    expect_clear_error(
        lambda: jaxnn.eta_threshold(
            sizes, (X, Y), etas=eta if isinstance(eta, list) else [eta], epochs=epochs, mini_batch_size=m
        )
    )
    expect_clear_error(
        lambda: jaxnn.lambda_search(
            sizes,
            (X, Y),
            kw.get("evaluation_data"),
            eta,
            epochs=epochs,
            mini_batch_size=m,
            lmbdas=kw.get("lmbda", [0.0]),
        )
    )


# -- untrusted files


def _model_bytes():
    path = jaxnn.save_model(TMP / "valid.npz", jaxnn.init_params(jax.random.key(1), [5, 4, 3]), cost="quadratic")
    return path.read_bytes()


def _checkpoint_bytes():
    path = checkpoint.save_checkpoint(
        TMP / "valid.ckpt",
        params=P,
        opt_state=None,
        key=jax.random.key(0),
        epoch=0,
        eta=1.0,
        history={"epoch": [0], "eta": [1.0]},
        config={"a": 1},
    )
    return path.read_bytes()


# a sweep of 2 networks in one seed group, the second diverged (NaN) in epoch 0
SWEEP_P = jax.tree_util.tree_map(lambda a: np.stack([np.asarray(a), np.full(a.shape, np.nan, a.dtype)])[None], P)
SWEEP_CONFIG = {"configs": [{"eta": 1.0}, {"eta": 1e30}], "evaluating": True}


def _sweep_checkpoint_bytes():
    path = checkpoint.save_sweep_checkpoint(
        TMP / "valid-sweep.ckpt",
        params=SWEEP_P,
        opt_state=None,
        epoch=0,
        correct=[[3, 0]],
        training_cost=[[0.5, np.nan]],
        seconds=[0.1],
        diverged=[-1, 0],
        config=SWEEP_CONFIG,
    )
    return path.read_bytes()


MODEL, CKPT, SWEEP_CKPT = _model_bytes(), _checkpoint_bytes(), _sweep_checkpoint_bytes()


@st.composite
def damaged(draw, good):
    """Random bytes, a truncation, or a few flipped bytes of a valid file."""
    how = draw(st.sampled_from(["random", "truncate", "flip"]))
    if how == "random":
        return draw(st.binary(max_size=600))
    if how == "truncate":
        return good[: draw(st.integers(0, len(good) - 1))]
    data = bytearray(good)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(data)


def _load_checkpoint(path):
    return checkpoint.load_checkpoint(path, params_like=P, opt_state_like=None, config={"a": 1})


def _load_sweep_checkpoint(path):
    loaded = checkpoint.load_sweep_checkpoint(
        path, params_like=SWEEP_P, opt_state_like=None, config=SWEEP_CONFIG, monitor_training_cost=True
    )
    if isinstance(loaded, tuple):  # whatever loads is consistent: non-finite networks are marked diverged
        params, _, epoch, correct, _, seconds, diverged = loaded
        for i in range(2):
            net = [np.asarray(a)[0, i] for a in jax.tree_util.tree_leaves(params)]
            assert all(np.isfinite(a).all() for a in net) or 0 <= diverged[i] <= epoch
        assert correct.shape == (epoch + 1, 2) and len(seconds) == epoch + 1
    return loaded


def test_a_valid_sweep_checkpoint_loads_as_written():
    path = TMP / "sweep-roundtrip.ckpt"
    path.write_bytes(SWEEP_CKPT)
    params, _, epoch, correct, cost, seconds, diverged = _load_sweep_checkpoint(path)
    chex.assert_trees_all_equal(params, SWEEP_P)  # NaN equals NaN here: the diverged network is kept as it was
    assert (epoch, correct.tolist(), seconds, diverged.tolist()) == (0, [[3, 0]], [0.1], [-1, 0])
    assert cost[0, 0] == 0.5 and np.isnan(cost[0, 1])


@SETTINGS
@given(model=damaged(MODEL), ckpt=damaged(CKPT), sweep_ckpt=damaged(SWEEP_CKPT))
def test_damaged_model_and_checkpoint_files(model, ckpt, sweep_ckpt):
    path = TMP / "damaged.npz"
    path.write_bytes(model)
    loaded = expect_clear_error(lambda: jaxnn.load_model(path))
    if isinstance(loaded, tuple):  # a flip in padding can leave the file valid: then it must be consistent
        params, meta = loaded
        assert jaxnn.sizes_of(params) == meta["sizes"]
        assert all(np.isfinite(a).all() for a in jax.tree_util.tree_leaves(params))
    path.write_bytes(ckpt)
    expect_clear_error(lambda: _load_checkpoint(path))
    path.write_bytes(sweep_ckpt)
    expect_clear_error(lambda: _load_sweep_checkpoint(path))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=12,
)


def _npz(path, arrays_, meta):
    with zipfile.ZipFile(path, "w") as zf:
        if meta is not None:
            with zf.open("__jaxnn__.npy", "w") as f:
                np.lib.format.write_array(f, np.frombuffer(json.dumps(meta).encode(), np.uint8))
        for name, a in arrays_.items():
            with zf.open(name + ".npy", "w") as f:
                np.lib.format.write_array(f, a, allow_pickle=True)


@SETTINGS
@given(
    meta=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "format": st.sampled_from(["jaxnn-model", "jaxnn-checkpoint", "jaxnn-sweep-checkpoint", "x"]),
                "version": st.one_of(st.just(1), json_values),
            },
            optional={
                "sizes": st.one_of(st.just([2, 1]), json_values),
                "epoch": json_values,
                "eta": json_values,
                "history": json_values,
                "config": st.one_of(st.just({"a": 1}), st.just(SWEEP_CONFIG), json_values),
                "seconds": st.one_of(st.just([0.1]), json_values),
                "n_params": json_values,
                "best": json_values,
                "since_best": json_values,
                "cost": json_values,
            },
        ),
    ),
    members=st.dictionaries(
        st.sampled_from(["layer0/w", "layer0/b", "params/0", "params/1", "key", "diverged", "correct", "evil"]),
        arrays(),
        max_size=4,
    ),
)
def test_hostile_npz_files(meta, members):
    path = TMP / "hostile.npz"
    _npz(path, members, meta)
    loaded = expect_clear_error(lambda: jaxnn.load_model(path))
    if isinstance(loaded, tuple):
        assert jaxnn.sizes_of(loaded[0]) == loaded[1]["sizes"]
    expect_clear_error(lambda: _load_checkpoint(path))
    expect_clear_error(lambda: _load_sweep_checkpoint(path))


@SETTINGS
@given(
    doc=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "sizes": st.one_of(st.just([2, 1]), json_values),
                "weights": st.one_of(st.just([[[0.5, 0.5]]]), json_values),
                "biases": st.one_of(st.just([[[0.0]]]), json_values),
                "cost": st.one_of(st.sampled_from(["QuadraticCost", "CrossEntropyCost"]), json_values),
            },
            optional={"extra": json_values},
        ),
    ),
    raw=st.binary(max_size=40),
)
def test_network2_json_with_wrong_types(doc, raw):
    path = TMP / "net.json"
    path.write_text(json.dumps(doc))
    loaded = expect_clear_error(lambda: modelfile.load_network2(path))
    if isinstance(loaded, tuple):
        assert loaded[1]["sizes"] == [2, 1] and loaded[0][0]["w"].shape == (1, 2)
    path.write_bytes(raw)
    expect_clear_error(lambda: modelfile.load_network2(path))


@st.composite
def npy_member(draw):
    """A member's bytes: a .npy array of a random dtype and byte order, or random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=60))
    dtype = np.dtype(draw(st.sampled_from(["<f4", ">f4", ">f8", "<f2", ">i4", "u1", "<c8"])))
    shape = draw(st.sampled_from([(), (2,), (2, 3), (3, 2), (1, 2)]))
    a = draw(hnp.arrays(dtype, shape, elements=st.floats(width=16) if dtype.kind == "f" else None))
    buf = stdio.BytesIO()
    np.lib.format.write_array(buf, a)
    return buf.getvalue()


@SETTINGS
@given(
    members=st.lists(
        st.tuples(
            st.sampled_from(
                ["__jaxnn__.npy", "layer0/w.npy", "layer0/b.npy", "params/0.npy", "key.npy", "x", "../up.npy"]
            ),
            npy_member(),
            st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
        ),
        max_size=6,
    ),
    meta=st.sampled_from([None, {"format": "jaxnn-model", "version": 1, "sizes": [3, 2]}]),
)
def test_random_zips_with_duplicate_names_and_byte_orders(members, meta):
    """Random zips (any member names, duplicates included; arrays of any byte order; random bytes)
    given to every loader: a one-line JaxnnError, or a model consistent with its metadata."""
    path = TMP / "random.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as zf:
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of duplicate names
        if meta is not None:
            buf = stdio.BytesIO()
            np.lib.format.write_array(buf, np.frombuffer(json.dumps(meta).encode(), np.uint8))
            zf.writestr("__jaxnn__.npy", buf.getvalue())
        for name, blob, compression in members:
            zf.writestr(name, blob, compress_type=compression)
    loaded = expect_clear_error(lambda: jaxnn.load_model(path))
    if isinstance(loaded, tuple):
        params, meta_ = loaded
        assert jaxnn.sizes_of(params) == meta_["sizes"]
        assert all(a.dtype.isnative and np.isfinite(a).all() for a in jax.tree_util.tree_leaves(params))
        assert jaxnn.predict(params, np.ones((1, 3), np.float32)).shape == (1,)
    expect_clear_error(lambda: _load_checkpoint(path))
    expect_clear_error(lambda: _load_sweep_checkpoint(path))
    expect_clear_error(lambda: modelfile.load_network2(path))


@SETTINGS
@given(
    parts=st.lists(
        st.sampled_from(
            ['{"sizes": [1, 1], "weights": [[[', "]]], ", '"biases": [[[0]]], "cost": "QuadraticCost"}', "1" * 5001,
             "-" + "9" * 4400, "1e999999", "NaN", "Infinity", "[" * 60, "]" * 60, "1.5", ",", '"', "\\ud800", "null"]
        ),
        max_size=8,
    )
)  # fmt: skip
def test_random_json_text_as_network2(parts):
    """Hand-made JSON text (5,000-digit integers, NaN, deep nesting, lone surrogates): a one-line
    JaxnnError, or a correctly shaped, finite network."""
    path = TMP / "random.json"
    path.write_text("".join(parts))
    loaded = expect_clear_error(lambda: modelfile.load_network2(path))
    if isinstance(loaded, tuple):
        assert loaded[0][0]["w"].shape == (1, 1) and np.isfinite(loaded[0][0]["w"]).all()


@SETTINGS
@given(
    params=st.one_of(any_value, st.lists(st.fixed_dictionaries({"w": arrays(), "b": arrays()}), max_size=2)),
    meta=st.dictionaries(st.text(max_size=4), st.one_of(json_values, st.just(object())), max_size=2),
)
def test_save_model_with_bad_params_or_metadata(params, meta):
    meta = {k: v for k, v in meta.items() if k.isidentifier() and k != "path" and k != "params"}
    expect_clear_error(lambda: jaxnn.save_model(TMP / "saved.npz", params, **meta))


# -- loaders


@st.composite
def idx_gz(draw):
    """A gzip file holding random bytes, or an IDX header with random dimensions and too little data."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=100))
    dims = draw(st.lists(st.integers(0, 2**32 - 1), max_size=4))
    body = bytes([0, 0, draw(st.sampled_from([8, 9])), len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return gzip.compress(body + draw(st.binary(max_size=50)))[: draw(st.integers(1, 400))]


@SETTINGS
@given(
    files=st.lists(idx_gz(), min_size=4, max_size=4),
    one_hot=any_value,
    dtype=st.one_of(dtypes, any_value),
    name=st.one_of(st.sampled_from(["mnist", "fashion-mnist", "MNIST", "fashion_mnist"]), any_value),
)
def test_loaders(files, one_hot, dtype, name):
    folder = TMP / "fashion"
    folder.mkdir(exist_ok=True)
    for n, content in zip(
        [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ],
        files,
    ):
        (folder / n).write_bytes(content)
    expect_clear_error(lambda: jaxnn.load_fashion_mnist(directory=folder))
    expect_clear_error(lambda: jaxnn.load_fashion_mnist(one_hot=one_hot, dtype=dtype, directory=folder))
    (TMP / "mnist.npz").write_bytes(files[0])
    expect_clear_error(lambda: jaxnn.load_mnist(path=TMP / "mnist.npz"))
    if not (one_hot is True or one_hot is False) or not isinstance(dtype, type):  # a valid call would load MNIST
        expect_clear_error(lambda: jaxnn.load_mnist(one_hot=one_hot, dtype=dtype))
    if not isinstance(name, str) or name not in datasets.DATASETS:
        expect_clear_error(lambda: datasets.load(name))


# -- the command line


TINY = datasets.Dataset(
    datasets.Split(np.zeros((30, 784), np.float32), np.arange(30) % 10),
    datasets.Split(np.zeros((10, 784), np.float32), np.arange(10) % 10),
    datasets.Split(np.zeros((10, 784), np.float32), np.arange(10) % 10),
)
OPTIONS = [
    "--sizes",
    "--epochs",
    "--mini-batch-size",
    "--eta",
    "--cost",
    "--activation",
    "--output-activation",
    "--init",
    "--seed",
    "--seeds",
    "--gradient",
    "--lmbda",
    "--regularizer",
    "--p-dropout",
    "--momentum",
    "--early-stopping",
    "--halve-eta-after",
    "--train-size",
    "--dataset",
    "--evaluate-on",
    "--on",
    "--save",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "-1",
            "0",
            "1",
            "nan",
            "inf",
            "1e400",
            "784,30,10",
            "784,,10",
            "4,3",
            "abc",
            "sigmoid",
            "sigmod",
            "mnist",
            "fashion-mnist",
            "test",
            "none",
            "0,1,-1",
            "99999999999999999999999",
            str(TMP / "nope" / "m.npz"),
        ]
    ),
    st.text(alphabet="-0123456789.,ae", max_size=6),
)


@st.composite
def argv(draw):
    command = draw(st.sampled_from(["train", "sweep", "evaluate", "list", "fit", ""]))
    args = [command] if command else []
    if command == "evaluate":
        args.append(draw(st.sampled_from([str(TMP / "damaged.npz"), str(TMP / "missing.npz"), str(TMP)])))
    for _ in range(draw(st.integers(0, 4))):
        args.append(draw(st.sampled_from(OPTIONS)))
        if draw(st.integers(0, 9)):
            args.append(draw(VALUES))
    return args


@SETTINGS
@given(args=argv(), model=damaged(MODEL))
def test_cli_argv(args, model):
    (TMP / "damaged.npz").write_bytes(model)
    real_load = datasets.load
    err = stdio.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            datasets, "load", lambda name, **kw: TINY if name in ("mnist", "fashion-mnist") else real_load(name, **kw)
        )
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(stdio.StringIO()):
                code = cli.main(args + ["--no-progress"] if args[:1] in (["train"], ["sweep"]) else args)
        except SystemExit as exc:  # argparse: exit status 2 and a usage line naming the problem
            assert exc.code == 2 and "error:" in err.getvalue(), (args, err.getvalue())
            return
        except Reached:
            return
    text = err.getvalue()
    if code == 0:
        assert args[0] in ("list", "evaluate"), args
    else:
        assert code == 2 and text.startswith("jaxnn: error:") and text.count("\n") == 1, (args, text)
