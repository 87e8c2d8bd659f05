"""Perceptrons and sigmoid neurons (the book's chapter 1, exercises 1 and 2).

Run it as is::

    python examples/ex_perceptrons.py            # prints the answer, saves docs/figures/ex_perceptrons.png
    python examples/ex_perceptrons.py --quick    # fewer inputs and scales
    python examples/ex_perceptrons.py --out DIR  # put the figure in DIR

Part I: multiplying every weight and bias of a network of perceptrons by c > 0 leaves its
output unchanged, because step(c·z) = step(z). Part II: a sigmoid network with weights and
biases c·w, c·b tends to the perceptron network as c → ∞, provided no neuron has
w·x + b = 0; a small network where a neuron sits exactly at w·x + b = 0 shows how it fails.
The perceptron is jaxnn's "step" activation, step(z) = 1 if z > 0 else 0.
"""

import _common
import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import plotting


def scaled(params, c):
    return jax.tree_util.tree_map(lambda p: c * p, params)


# jitted with the scale c as an argument, so each is compiled once for all values of c
@jax.jit
def perceptrons(params, c, x):
    """The network of perceptrons with weights and biases c·w, c·b."""
    return jaxnn.forward(scaled(params, c), x, activation="step")


@jax.jit
def sigmoids(params, c, x):
    """The same network with sigmoid neurons."""
    return jaxnn.forward(scaled(params, c), x, activation="sigmoid")


def neuron_margins(params, x):
    """For each input, min over the perceptron network's neurons of |w·x + b|."""
    a, smallest = x, jnp.full(x.shape[0], jnp.inf)
    for layer in params:
        z = a @ layer["w"].T + layer["b"]
        smallest = jnp.minimum(smallest, jnp.min(jnp.abs(z), axis=1))
        a = (z > 0).astype(z.dtype)
    return smallest


# The failing network: the hidden perceptron fires when x1 > x2, and the output neuron negates
# it, so the network says "x1 ≤ x2". At x1 = x2 the hidden neuron has w·x + b = 0 exactly.
TIE = [
    {"w": jnp.array([[1.0, -1.0]]), "b": jnp.array([0.0])},
    {"w": jnp.array([[-1.0]]), "b": jnp.array([0.25])},
]


def main():
    args = _common.parser(__doc__, "fewer inputs and scales (a few seconds)").parse_args()

    n_inputs = 2_000 if args.quick else 100_000
    sizes = [5, 8, 8, 3]
    rng = np.random.default_rng(0)  # N(0, 1) weights and biases, as network.py draws them
    params = [
        {"w": jnp.asarray(rng.normal(size=(o, i)), jnp.float32), "b": jnp.asarray(rng.normal(size=o), jnp.float32)}
        for i, o in zip(sizes[:-1], sizes[1:])
    ]
    x = jnp.asarray(rng.uniform(-1.0, 1.0, (n_inputs, sizes[0])), jnp.float32)

    print(f"Part I: a random network of perceptrons, sizes {sizes}, on {n_inputs:,} random inputs")
    reference = perceptrons(params, 1.0, x)
    scales = [1e-3, 0.5, 7.0, 1e3]
    for c in scales:  # c·(w·x + b) has the sign of w·x + b
        changed = int(jnp.sum(jnp.any(perceptrons(params, c, x) != reference, axis=1)))
        print(f"  c = {c:<8g} outputs that change: {changed} / {n_inputs:,}")

    margins = jax.jit(neuron_margins)(params, x)
    safe = margins >= 0.01
    print()
    print("Part II: the same weights in sigmoid neurons, scaled by c, against the perceptrons")
    print(f"  smallest |w·x + b| over all neurons and inputs: {float(jnp.min(margins)):.3g} (never 0)")
    print(f"  inputs whose every neuron has |w·x + b| >= 0.01: {int(jnp.sum(safe)):,} / {n_inputs:,}")
    print(f"  {'c':>9}  {'max gap, those inputs':>22}  {'max gap, all inputs':>20}  {'inputs with gap > 1e-3':>23}")
    cs = [1, 10, 100, 1_000, 10_000] if args.quick else [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]
    gaps_safe, gaps_all = [], []
    for c in cs:
        gap = jnp.max(jnp.abs(sigmoids(params, c, x) - reference), axis=1)
        gaps_safe.append(float(jnp.max(jnp.where(safe, gap, 0.0))))
        gaps_all.append(float(jnp.max(gap)))
        share = float(jnp.mean(gap > 1e-3))
        print(f"  {c:>9g}  {gaps_safe[-1]:>22.3g}  {gaps_all[-1]:>20.3g}  {share:>22.3%}")
    print("  the gap at each input tends to 0 (|σ(c·z) − step(z)| = σ(−c|z|) < e^(−c|z|)), but not uniformly:")
    print("  an input with a smaller |w·x + b| needs a larger c, so over all inputs the worst gap stays near 1")
    print("  until c·(smallest |w·x + b|) is large")

    print()
    print("Where it fails: the 'x1 ≤ x2' network: hidden w = (1, −1), b = 0; output w = −1, b = 0.25")
    x_tie = jnp.array([[0.5, 0.5]])
    p_tie = float(perceptrons(TIE, 1.0, x_tie)[0, 0])
    print(f"  input (0.5, 0.5): the hidden neuron has w·x + b = 0; perceptron network output = {p_tie:g}")
    for c in [1, 10, 100, 1_000]:
        hidden = float(sigmoids(TIE[:1], c, x_tie)[0, 0])
        out = float(sigmoids(TIE, c, x_tie)[0, 0])
        print(f"  c = {c:<6g} sigmoid network: hidden = {hidden:.3g}, output = {out:.6g}")
    x_near = jnp.array([[0.5 + 1e-3, 0.5]])
    print(
        f"  input (0.501, 0.5), no tie: perceptron output {float(perceptrons(TIE, 1.0, x_near)[0, 0]):g}, "
        f"sigmoid output at c = 1e5: {float(sigmoids(TIE, 1e5, x_near)[0, 0]):.3g}"
    )
    print("  at the tie the hidden neuron stays at σ(0) = 0.5 for every c, the output neuron sees")
    print("  z = c·(−0.5 + 0.25) = −0.25c, and the sigmoid network's output tends to 0, not to the perceptrons' 1")

    if not _common.can_plot():
        return
    fig, (ax1, ax2, ax3) = plotting.subplots(1, 3, width=4.0, height=3.2)
    z = jnp.linspace(-3, 3, 601)
    for c in [1, 3, 10, 100]:
        ax1.plot(z, jax.nn.sigmoid(c * z), label=f"σ({c}·z)")
    ax1.step(z, (z > 0).astype(float), "k--", where="post", label="step(z)")
    ax1.plot([0], [0.5], "ro")
    ax1.set(xlabel="z = w·x + b", ylabel="output", title="one neuron")
    ax1.legend(fontsize=7)
    ax2.loglog(cs, [max(g, 1e-12) for g in gaps_safe], "o-", label="inputs with all |w·x+b| ≥ 0.01")
    ax2.loglog(cs, [max(g, 1e-12) for g in gaps_all], "s--", label="all inputs")
    ax2.set(xlabel="c", ylabel="max |sigmoid − perceptron|", title=f"random {sizes} network")
    ax2.legend(fontsize=7)
    x1 = jnp.linspace(0, 1, 401)  # includes 0.5 exactly
    grid = jnp.stack([x1, jnp.full_like(x1, 0.5)], axis=1)
    for c in [1, 10, 100, 1000]:
        ax3.plot(x1, sigmoids(TIE, c, grid)[:, 0], label=f"sigmoid, c={c}")
    ax3.plot(x1, perceptrons(TIE, 1.0, grid)[:, 0], "k--", label="perceptrons")
    ax3.plot([0.5], [float(sigmoids(TIE, 1000.0, x_tie)[0, 0])], "ro", label="tie, c=1000")
    ax3.set(xlabel="x1 (x2 = 0.5)", ylabel="output", title="'x1 ≤ x2' network")
    ax3.legend(fontsize=7)
    _common.save_figure(fig, "ex_perceptrons", args)


if __name__ == "__main__":
    main()
