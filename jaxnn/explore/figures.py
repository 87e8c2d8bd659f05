"""View 3: the book's interactive figures, computed by jaxnn's own components."""

from __future__ import annotations

import functools
import math
from typing import Any, Dict, List

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn.errors import JaxnnError

#: Chapter 4's target function, on [0, 1].
TARGET = "0.2 + 0.4x² + 0.3x·sin(15x) + 0.05·cos(50x)"
#: Chapter 3's two starting points (w, b) of the one neuron, and its η.
SLOWDOWN_STARTS = {"a": (0.6, 0.9), "b": (2.0, 2.0)}
SLOWDOWN_ETA = 0.15
GRID = 201


def number(body: Dict[str, Any], key: str, lo: float, hi: float, default=None, integer: bool = False) -> float:
    """``body[key]`` checked to be a finite number in [lo, hi] (an integer when asked)."""
    value = body.get(key, default)
    if value is None:
        raise JaxnnError(f"{key} is required: a number between {lo:g} and {hi:g}")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not lo <= value <= hi or (integer and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise JaxnnError(f"{key} must be {kind} between {lo:g} and {hi:g}, got {value!r}")
    return value


def _sigmoid():
    from jaxnn.activations import activations

    return activations.get("sigmoid")


def neuron(body: Dict[str, Any]) -> Dict[str, Any]:
    """Chapter 1: σ(wx + b) and the perceptron's step(wx + b) over x in [-4, 4]."""
    w = number(body, "w", -50, 50)
    b = number(body, "b", -50, 50)
    from jaxnn.activations import activations

    x = jnp.linspace(-4.0, 4.0, GRID)
    z = w * x + b
    return {
        "x": _list(x),
        "sigmoid": _list(_sigmoid().fn(z)),
        "perceptron": _list(activations.get("step").fn(z)),
    }


def target(x):
    return 0.2 + 0.4 * x**2 + 0.3 * x * jnp.sin(15 * x) + 0.05 * jnp.cos(50 * x)


def universality(body: Dict[str, Any]) -> Dict[str, Any]:
    """Chapter 4: pairs of hidden step neurons. Pair i steps up at ``steps[i]`` and down at
    ``steps[i + 1]`` with height ``heights[i]`` (the steps default to equal intervals of [0, 1]);
    the output neuron is linear, the weighted sum of the hidden neurons. The weight w (1000) makes
    the sigmoids steps; the network is a jaxnn [1, 2k, 1] MLP evaluated by `jaxnn.forward`."""
    import jaxnn

    heights = body.get("heights")
    if not isinstance(heights, list) or not 1 <= len(heights) <= 20:
        raise JaxnnError("heights must be a list of 1 to 20 numbers, one per pair of hidden neurons")
    hs = [number({"h": h}, "h", -10, 10) for h in heights]
    k = len(hs)
    w_big = number(body, "w", 10, 10000, default=1000)
    x = jnp.linspace(0.0, 1.0, GRID)[:, None]
    steps = np.linspace(0.0, 1.0, k + 1)
    if body.get("steps") is not None:
        given = body["steps"]
        if not isinstance(given, list) or len(given) != k + 1:
            raise JaxnnError(f"steps must be a list of {k + 1} step positions in [0, 1], one more than the heights")
        steps = np.array([number({"step": v}, "step", 0, 1) for v in given])
        if np.any(np.diff(steps) < 0):
            raise JaxnnError("steps must be in increasing order: pair i steps up at steps[i] and down at steps[i + 1]")
    # hidden neuron 2i steps at steps[i], 2i + 1 at steps[i + 1]; output weights h[i], -h[i]
    s = np.repeat(steps, 2)[1:-1]
    w1 = np.full((2 * k, 1), w_big)
    b1 = -w_big * s
    w2 = np.array([[h if j % 2 == 0 else -h for h in hs for j in range(2)]])
    params = [{"w": jnp.asarray(w1), "b": jnp.asarray(b1)}, {"w": jnp.asarray(w2), "b": jnp.zeros(1)}]
    out = jaxnn.forward(params, x, activation="sigmoid", output_activation="linear")[:, 0]
    f = target(x[:, 0])
    return {
        "x": _list(x[:, 0]),
        "output": _list(out),
        "target": _list(f),
        "steps": steps.tolist(),
        "error": float(jnp.mean(jnp.abs(out - f))),
        "target_formula": TARGET,
    }


@functools.lru_cache(maxsize=4)
def _slowdown_fn(cost: str, epochs: int):
    import jaxnn
    from jaxnn.net import net_autodiff_grad

    net = jaxnn.mlp([1, 1], cost=cost, activation="sigmoid")
    x, y = jnp.ones((1, 1)), jnp.zeros((1, 1))

    def step(params, _):
        g = net_autodiff_grad(net, params, x, y)
        params = jax.tree_util.tree_map(lambda p, d: p - SLOWDOWN_ETA * d, params, g)
        a = jaxnn.forward(params, x, net=net)[0, 0]
        c = jaxnn.loss(params, x, y, net=net)
        return params, (a, c)

    def run(w, b):
        params = [{"w": jnp.full((1, 1), w), "b": jnp.full((1,), b)}]
        a0 = jaxnn.forward(params, x, net=net)[0, 0]
        c0 = jaxnn.loss(params, x, y, net=net)
        _, (a, c) = jax.lax.scan(step, params, None, length=epochs)
        return jnp.concatenate([a0[None], a]), jnp.concatenate([c0[None], c])

    return jax.jit(run)


def slowdown(body: Dict[str, Any]) -> Dict[str, Any]:
    """Chapter 3: one sigmoid neuron, input 1, target 0, η = 0.15, trained by gradient descent
    with the quadratic cost and with cross-entropy, from the book's start ``a`` (w 0.6, b 0.9)
    or ``b`` (w 2, b 2)."""
    start = body.get("start", "a")
    if start not in SLOWDOWN_STARTS:
        raise JaxnnError(f"unknown start {start!r}: use a (w 0.6, b 0.9) or b (w 2, b 2)")
    epochs = int(number(body, "epochs", 1, 1000, default=300, integer=True))
    w, b = SLOWDOWN_STARTS[start]
    out: Dict[str, Any] = {"epochs": epochs, "w": w, "b": b, "eta": SLOWDOWN_ETA}
    for cost in ("quadratic", "cross-entropy"):
        a, c = _slowdown_fn(cost, epochs)(w, b)
        out[cost] = {"output": _list(a), "cost": _list(c)}
    return out


def speed(body: Dict[str, Any], data) -> Dict[str, Any]:
    """Chapter 5: the speed of learning of each hidden layer, ‖∂C/∂b^l‖ over 1,000 training
    images, after each epoch of training a [784, 30 × k, 10] sigmoid network (cross-entropy,
    η 0.1, mini-batches of 10) by `jaxnn.sgd`."""
    import jaxnn
    from jaxnn.net import net_autodiff_grad, targets

    k = int(number(body, "hidden", 1, 4, default=2, integer=True))
    epochs = int(number(body, "epochs", 1, 30, default=10, integer=True))
    net = jaxnn.mlp([784, *[30] * k, 10], cost="cross-entropy", activation="sigmoid")
    x = jnp.asarray(data.training.x[:1000], jnp.float32)
    y = jnp.asarray(data.training.y[:1000])
    grad = jax.jit(lambda p: net_autodiff_grad(net, p, x, targets(y, 10, x.dtype)))
    rows: List[List[float]] = []

    def record(_epoch, params, _history=None):
        g = grad(params)
        rows.append([float(jnp.linalg.norm(layer["b"])) for layer in g[:-1]])

    params = jaxnn.init_network(jax.random.key(0), net)
    record(-1, params)
    jaxnn.sgd(params, (x, y), epochs, 10, 0.1, key=1, net=net, callback=record)
    return {"hidden": k, "epochs": list(range(epochs + 1)), "speed": [list(r) for r in zip(*rows)]}


def _list(a) -> List[float]:
    return np.round(np.asarray(a, np.float64), 5).tolist()
