"""Bad input gets one clear JaxnnError that names the fix, before anything is compiled."""

import jax
import numpy as np
import pytest

import jaxnn

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
        (dict(activation="sigmoidd"), r"unknown activation 'sigmoidd': choose one of .*sigmoid"),
        (dict(cost="mse"), r"unknown cost 'mse': choose one of .*quadratic"),
        (dict(cost="cross-entropy", output_activation="tanh"), r"needs outputs in \[0.0, 1.0\]"),
        (dict(gradient="numeric"), r"unknown gradient"),
        (dict(key=None), r"pass a PRNG key"),
        (dict(params=[{"w": np.zeros((4, 784)), "b": np.zeros(4)}, {"w": np.zeros((10, 5)), "b": np.zeros(10)}]),
         r"do not fit together"),
        (dict(evaluation_data=(X, Y + 10)), r"evaluation labels range"),
        (dict(training_data=X), r"pair \(x, y\)"),
    ],
)
def test_bad_input_names_the_fix(kwargs, message):
    with pytest.raises(jaxnn.JaxnnError, match=message):
        sgd(**kwargs)


@pytest.mark.parametrize("sizes,message", [([784], "at least an input and an output"), ([784, 0, 10], "at least one neuron"),
                                           ("abc", "list of layer widths")])
def test_bad_sizes(sizes, message):
    with pytest.raises(jaxnn.JaxnnError, match=message):
        jaxnn.init_params(jax.random.key(0), sizes)


def test_unknown_initializer_lists_the_choices():
    with pytest.raises(jaxnn.JaxnnError, match="choose one of default, large"):
        jaxnn.init_params(jax.random.key(0), [2, 2], "xavier")
