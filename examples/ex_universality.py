"""Universality: approximating f(x) = 0.2 + 0.4x² + 0.3x·sin(15x) + 0.05·cos(50x) with one hidden layer.

Run it as is::

    python examples/ex_universality.py            # hand-built bumps, then 8,000 epochs of jaxnn.sgd
    python examples/ex_universality.py --quick    # 400 epochs
    python examples/ex_universality.py --out DIR  # put the figure in DIR

The book's chapter 4 construction, in jaxnn: a 1-N-1 network with sigmoid hidden neurons and a
linear output neuron. By hand: a hidden neuron σ(w(x − s)) with a large weight w is a step at
x = s; a pair of steps at s_i and s_{i+1} with output weights +h_i and −h_i is a bump of height
h_i on [s_i, s_{i+1}]; with h_i = f at the bump's midpoint the bumps trace f. By training: the
same shape of network, trained on f with jaxnn.sgd and the quadratic cost.
"""

import _common
import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import plotting

STEEP = 10_000.0  # the hand-built hidden weights
COMPONENTS = dict(activation="sigmoid", output_activation="linear")


def f(x):
    return 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def bumps(n_bumps, steep=STEEP):
    """Hand-set parameters of a 1-(2·n_bumps)-1 network: bump i is hidden neurons 2i (up) and 2i+1 (down)."""
    edges = np.linspace(0.0, 1.0, n_bumps + 1)
    edges[0], edges[-1] = -1e-3, 1 + 1e-3  # outer steps just outside [0, 1]: at x = s a step is only σ(0) = ½ high
    left, right = edges[:-1], edges[1:]
    heights = f((left + right) / 2)
    steps = np.stack([left, right], axis=1).reshape(-1)  # s for each hidden neuron
    w_hidden = np.full((2 * n_bumps, 1), steep)
    b_hidden = -steep * steps  # σ(steep·(x − s))
    w_out = np.stack([heights, -heights], axis=1).reshape(1, -1)
    return [
        {"w": jnp.asarray(w_hidden, jnp.float32), "b": jnp.asarray(b_hidden, jnp.float32)},
        {"w": jnp.asarray(w_out, jnp.float32), "b": jnp.zeros(1, jnp.float32)},
    ]


def errors(params, xs):
    approx = np.asarray(jaxnn.forward(params, xs[:, None], **COMPONENTS))[:, 0]
    err = np.abs(approx - f(xs))
    return approx, err


def main():
    args = _common.parser(__doc__, "400 training epochs instead of 8,000").parse_args()
    xs = np.linspace(0.0, 1.0, 20_001)  # evaluation grid, spacing 5e-5

    print(f"f(x) = 0.2 + 0.4x² + 0.3x·sin(15x) + 0.05·cos(50x) on [0, 1], errors on {len(xs):,} evenly spaced points")
    print(
        f"1. hand-built bumps: hidden w = {STEEP:g}, b = −w·s (a step at s), output weights ±f(midpoint), linear output"
    )
    print(f"  {'bumps':>6} {'hidden neurons':>15} {'max |error|':>12} {'mean |error|':>13}")
    for n in [5, 10, 25, 50, 100, 200]:
        _, err = errors(bumps(n), xs)
        print(f"  {n:>6} {2 * n:>15} {err.max():>12.4f} {err.mean():>13.5f}")
    hand, hand_err = errors(bumps(25), xs)

    n_hidden = 50
    epochs = 400 if args.quick else 8_000
    rng = np.random.default_rng(0)
    w = rng.normal(0.0, 30.0, (n_hidden, 1))
    w = np.where(np.abs(w) < 7.5, np.sign(w) * 7.5, w)  # every hidden neuron reasonably steep
    s = rng.uniform(0.0, 1.0, n_hidden)  # ... with its transition somewhere in [0, 1]
    x_train = np.linspace(0.0, 1.0, 1000, dtype=np.float32)[:, None]
    y_train = f(x_train).astype(np.float32)
    params = [
        {"w": jnp.asarray(w, jnp.float32), "b": jnp.asarray(-w[:, 0] * s, jnp.float32)},
        {"w": jnp.zeros((1, n_hidden), jnp.float32), "b": jnp.asarray([y_train.mean()], jnp.float32)},
    ]
    print()
    print(
        f"2. trained: 1-{n_hidden}-1, sigmoid hidden, linear output, quadratic cost, jaxnn.sgd on 1,000 evenly spaced x,"
    )
    print(
        f"  {epochs:,} epochs, mini-batch 10, η = 0.2; initial hidden w ~ N(0, 30²) (|w| ≥ 7.5), b = −w·s with s ~ U(0, 1),"
    )
    print("  output weights 0, output bias mean(f)")
    params, history = jaxnn.sgd(
        params, (x_train, y_train), epochs, 10, 0.2, key=jax.random.key(0), cost="quadratic", **COMPONENTS
    )
    trained, trained_err = errors(params, xs)
    print(f"  training took {sum(history.seconds):.1f} s")
    print()
    print(f"  {'network':<40} {'max |error|':>12} {'mean |error|':>13}")
    print(f"  {'hand-built, 25 bumps (50 hidden)':<40} {hand_err.max():>12.4f} {hand_err.mean():>13.5f}")
    print(f"  {f'trained, {n_hidden} hidden':<40} {trained_err.max():>12.4f} {trained_err.mean():>13.5f}")

    if not _common.can_plot():
        return
    fig, (ax1, ax2, ax3) = plotting.subplots(1, 3, width=4.0, height=3.2)
    ax1.plot(xs, f(xs), "k", lw=2, label="f")
    ax1.plot(xs, hand, label="25 bumps (50 hidden)")
    ax1.set(xlabel="x", title="hand-built steps and bumps")
    ax1.legend(fontsize=7)
    ax2.plot(xs, f(xs), "k", lw=2, label="f")
    ax2.plot(xs, trained, label=f"trained, {n_hidden} hidden")
    ax2.set(xlabel="x", title=f"jaxnn.sgd, {epochs:,} epochs")
    ax2.legend(fontsize=7)
    ax3.plot(xs, hand_err, label=f"hand-built, max {hand_err.max():.3f}")
    ax3.plot(xs, trained_err, label=f"trained, max {trained_err.max():.3f}")
    ax3.set(xlabel="x", ylabel="|approximation − f|", title="error")
    ax3.legend(fontsize=7)
    _common.save_figure(fig, "ex_universality", args)


if __name__ == "__main__":
    main()
