"""Bad input gets one clear JaxnnError that names the fix, before anything is compiled."""

import importlib

import jax
import numpy as np
import pytest

import jaxnn
from jaxnn import training
from jaxnn.cli import main

sweep_module = importlib.import_module("jaxnn.sweep")


def _compiled(*args, **kwargs):
    raise AssertionError("validation let a bad input reach compilation")


@pytest.fixture(autouse=True)
def no_compilation(monkeypatch):
    """Every error here must come before anything is compiled."""
    monkeypatch.setattr(training, "epoch_fn", _compiled)
    monkeypatch.setattr(training, "metrics_fn", _compiled)
    monkeypatch.setattr(sweep_module, "epoch_body", _compiled)


P = jaxnn.init_params(jax.random.key(0), [784, 4, 10])
X = np.zeros((20, 784), np.float32)
Y = np.arange(20) % 10


def sgd(**kw):
    args = dict(params=P, training_data=(X, Y), epochs=1, mini_batch_size=5, eta=1.0, key=0)
    args.update(kw)
    return jaxnn.sgd(**args)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(training_data=(X.reshape(20, 28, 28), Y)), r"flatten images first"),
        (dict(training_data=(np.full((20, 784), np.nan, np.float32), Y)), r"NaN or infinite"),
        (dict(training_data=(X, Y + 5)), r"output layer has 10 neurons"),
        (dict(training_data=(X, Y[:10])), r"one label per row"),
        (dict(training_data=(X[:, :100], Y)), r"sizes\[0\]=784"),
        (dict(eta=0), r"eta must be a finite number > 0"),
        (dict(eta=-1.0), r"eta must be"),
        (dict(eta=float("nan")), r"eta must be"),
        (dict(mini_batch_size=21), r"larger than the 20 training examples"),
        (dict(mini_batch_size=0), r"mini_batch_size must be at least 1"),
        (dict(epochs=1.5), r"epochs must be an integer"),
        (
            dict(activation="sigmoidd"),
            r"unknown activation 'sigmoidd': choose one of .*sigmoid.* \(did you mean 'sigmoid'\?\)",
        ),
        (dict(cost="cross_entropy"), r"unknown cost 'cross_entropy'.*\(did you mean 'cross-entropy'\?\)"),
        (dict(regularizer="L2"), r"unknown regularizer 'L2'.*\(did you mean 'l2'\?\)"),  # checked even with lmbda 0
        (dict(dropout="inverse"), r"unknown dropout mode 'inverse'.*\(did you mean 'inverted'\?\)"),
        (dict(gradient="autograd"), r"unknown gradient 'autograd'.*\(did you mean 'autodiff'\?\)"),
        (dict(on_divergence="halve"), r"unknown on_divergence policy 'halve': choose one of 'stop', 'revert'"),
        (dict(eta="3"), r"eta must be a number, got '3'"),
        (dict(eta=True), r"eta must be a number, got True"),
        (dict(eta=float("inf")), r"eta must be a finite number > 0"),
        (dict(lmbda=-1), r"lmbda must be a finite number ≥ 0"),
        (dict(p_dropout=1.0), r"p_dropout must be below 1 \(the probability of dropping a unit"),
        (dict(momentum=1.5), r"momentum must be below 1 \(the momentum coefficient"),
        (dict(min_eta_fraction=2), r"min_eta_fraction must be below 1"),
        (dict(epochs=-1), r"epochs must be at least 0"),
        (dict(key=2**70), r"key must fit in 64 bits"),
        (dict(key="seed"), r"key must be a jax.random key or an integer seed, got str"),
        (dict(key=jax.random.split(jax.random.key(0))), r"single PRNG key, got an array of \(2,\) keys"),
        (dict(callback=5), r"callback must be a function"),
        (dict(early_stopping=2), r"pass evaluation_data"),
        (dict(early_stopping=0, evaluation_data=(X, Y)), r"early_stopping must be at least 1"),
        (dict(resume=True), r"resume=True needs checkpoint=PATH"),
        (dict(optimizer="adam"), r"optimizer must be an optax.GradientTransformation"),
        (dict(checkpoint="/no/such/folder/run.ckpt"), r"the folder /no/such/folder does not exist; create it first"),
        (dict(params=[{"w": np.full((4, 784), np.nan), "b": np.zeros(4)}]), r"params\[0\]\['w'\] holds NaN"),
        (dict(params=[{"w": np.zeros((10, 784), int), "b": np.zeros(10, int)}]), r"parameters must be floats"),
        (dict(params={"w": 1}), r"params must be a non-empty list"),
        (dict(training_data=(X, Y + 0.5)), r"labels must be integers"),
        (dict(training_data=(X, Y > 4)), r"labels must be integers"),
        (dict(training_data=(X.astype(complex), Y)), r"must be a numeric array"),
        (dict(training_data=(X[:0], Y[:0])), r"are empty: pass at least one example"),
        (dict(training_data=(X, np.full((20, 10), np.inf))), r"labels contain NaN or infinite values"),
        (dict(training_data=(X, [[1, 2], [3]])), r"labels must be an array"),
        (dict(cost="mse"), r"unknown cost 'mse': choose one of .*quadratic"),
        (dict(cost="cross-entropy", output_activation="tanh"), r"needs outputs in \[0.0, 1.0\]"),
        (dict(gradient="numeric"), r"unknown gradient"),
        (dict(activation="step"), r"no useful derivative"),
        (dict(key=None), r"pass a PRNG key"),
        (
            dict(params=[{"w": np.zeros((4, 784)), "b": np.zeros(4)}, {"w": np.zeros((10, 5)), "b": np.zeros(10)}]),
            r"do not fit together",
        ),
        (dict(evaluation_data=(X, Y + 10)), r"evaluation labels range"),
        (dict(training_data=X), r"pair \(x, y\)"),
    ],
)
def test_bad_input_names_the_fix(kwargs, message):
    with pytest.raises(jaxnn.JaxnnError, match=message):
        sgd(**kwargs)


@pytest.mark.parametrize(
    "sizes,message",
    [
        ([784], "at least an input and an output"),
        ([784, 0, 10], "at least one neuron"),
        ("abc", "list of layer widths"),
    ],
)
def test_bad_sizes(sizes, message):
    with pytest.raises(jaxnn.JaxnnError, match=message):
        jaxnn.init_params(jax.random.key(0), sizes)


def test_unknown_initializer_lists_the_choices():
    with pytest.raises(jaxnn.JaxnnError, match="choose one of default, large"):
        jaxnn.init_params(jax.random.key(0), [2, 2], "xavier")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(seeds=3), r"seeds must be a list of integers"),
        (dict(seeds=[0, -1]), r"seed must be at least 0"),
        (dict(eta=[0.5, float("nan")]), r"eta must be a finite number > 0"),
        (dict(eta=np.array(0.5), momentum=1.0), r"momentum must be below 1"),
        (dict(p_dropout=[0.0, 1.0]), r"p_dropout must be below 1"),
        (dict(init="larg"), r"unknown initializer 'larg'.*did you mean 'large'"),
        (dict(dtype=np.int32), r"dtype must be a float type"),
        (dict(cost="quadratc"), r"did you mean 'quadratic'"),
        (dict(sizes=[784, 0, 10]), r"at least one neuron"),
        (dict(sizes=[10**6, 10**6, 10]), r"more than 2,147,483,648: use smaller layers"),
        (dict(mini_batch_size=0), r"mini_batch_size must be at least 1"),
    ],
)
def test_sweep_bad_input_names_the_fix(kwargs, message):
    args = dict(sizes=[784, 4, 10], training_data=(X, Y), epochs=1, mini_batch_size=5, eta=0.5)
    args.update(kwargs)
    with pytest.raises(jaxnn.JaxnnError, match=message):
        jaxnn.sweep(**args)


def test_tuning_searches_check_their_grids():
    with pytest.raises(jaxnn.JaxnnError, match="etas must be a number, got 'a'"):
        jaxnn.eta_threshold([784, 4, 10], (X, Y), etas=["a"])
    with pytest.raises(jaxnn.JaxnnError, match="epochs must be at least 1"):
        jaxnn.eta_threshold([784, 4, 10], (X, Y), epochs=0)
    with pytest.raises(jaxnn.JaxnnError, match="lambda_search judges each λ on validation_data"):
        jaxnn.lambda_search([784, 4, 10], (X, Y), None, 0.5)
    with pytest.raises(jaxnn.JaxnnError, match="lmbdas must be a finite number ≥ 0"):
        jaxnn.lambda_search([784, 4, 10], (X, Y), (X, Y), 0.5, lmbdas=[0.1, -1])


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: jaxnn.predict(P, np.zeros((3, 100))), r"expected inputs of shape \(m, 784\)"),
        (lambda: jaxnn.predict(P, np.zeros((3, 28, 28))), r"flatten images first"),
        (lambda: jaxnn.evaluate(P, X, Y[:5]), r"labels have 5 entries but the inputs have 20 rows"),
        (lambda: jaxnn.evaluate(P, X, Y + 10), r"labels range over \[10, 19\]"),
        (lambda: jaxnn.accuracy(P, np.full((20, 784), np.inf), Y), r"NaN or infinite values in 20 rows"),
        (lambda: jaxnn.accuracy([{"w": np.zeros((10, 784)), "b": np.full(10, np.nan)}], X, Y), r"holds NaN"),
        (lambda: jaxnn.predict(P, X, activation="relu6"), r"unknown activation 'relu6'.*did you mean 'relu'"),
        (lambda: jaxnn.load_mnist(dtype="int8"), r"dtype must be a float type such as numpy.float32, got int8"),
        (lambda: jaxnn.load_mnist(one_hot="yes"), r"one_hot must be True or False"),
        (lambda: jaxnn.data.load("mnsit"), r"unknown dataset 'mnsit'.*did you mean 'mnist'"),
        (lambda: jaxnn.init_params(jax.random.key(0), [784, 10], dtype=np.int32), r"dtype must be a float type"),
        (lambda: jaxnn.init_params("0", [784, 10]), r"key must be a jax.random key or an integer seed, got str"),
        (lambda: jaxnn.init_params(0, [784, 30.5, 10]), r"sizes must be a list of layer widths"),
    ],
)
def test_scoring_loading_and_init_name_the_fix(call, message):
    with pytest.raises(jaxnn.JaxnnError, match=message):
        call()


def test_predict_accepts_one_example_and_one_hot_labels_score_the_same():
    x = np.random.default_rng(0).random((20, 784))
    assert jaxnn.predict(P, x[0]).shape == (1,)
    assert jaxnn.evaluate(P, x, Y) == jaxnn.evaluate(P, x, np.eye(10)[Y])


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--seed", str(2**70)], "seed must fit in 64 bits"),
        (["train", "--save", "/no/such/folder/m.npz"], "the folder /no/such/folder does not exist"),
        (["train", "--gradient", "autograd"], "did you mean 'autodiff'"),
        (["train", "--dataset", "mnsit"], "did you mean 'mnist'"),
        (["train", "--p-dropout", "1"], "p_dropout must be below 1"),
        (["train", "--eta", "nan"], "eta must be a finite number > 0"),
        (["train", "--sizes", ""], "sizes needs at least an input and an output layer"),
        (["sweep", "--epochs", "0"], "--epochs must be at least 1 for a sweep"),
        (["sweep", "--seeds", "0,-1"], "seed must be at least 0"),
        (["sweep", "--init", "larg"], "did you mean 'large'"),
    ],
)
def test_cli_rejects_bad_values_before_training(args, message, capsys):
    assert main(args + ["--no-progress"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.startswith("jaxnn: error:") and captured.err.count("\n") == 1
    assert "Epoch" not in captured.out  # nothing was trained


def test_cli_evaluate_on_a_model_of_the_wrong_shape(tmp_path, capsys):
    path = jaxnn.save_model(tmp_path / "m.npz", jaxnn.init_params(0, [100, 10]))
    assert main(["evaluate", str(path)]) == 2
    assert "expected inputs of shape (m, 100) for sizes[0]=100, got (10000, 784)" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["train", "--epochs", "x"], ["sweep", "--sizes", "784,a"], ["evaluate"], ["fit"]])
def test_cli_argparse_errors_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and "error:" in capsys.readouterr().err
