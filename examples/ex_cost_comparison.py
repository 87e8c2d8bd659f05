"""Quadratic, cross-entropy and softmax log-likelihood costs on MNIST, compared by test accuracy.

Run it as is::

    python examples/ex_cost_comparison.py            # [784, 30, 10], 5 epochs per cost
    python examples/ex_cost_comparison.py --quick    # 1 epoch on 10,000 images
    python examples/ex_cost_comparison.py --out DIR  # put the figure in DIR

One study note compares the three costs by plotting their training losses on one axis. The
three are different functions of the outputs, so their values do not compare: this script
trains one network per cost with jaxnn.sgd (N(0, 1/n_in) initial weights, m = 10,
η = 3.0 for the quadratic cost as in chapter 1, η = 0.5 for the other two, chapter 3's value
for the cross-entropy), reports each one's training cost and test accuracy per epoch, and then
evaluates all three costs on the same network's outputs.
"""

import _common
import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import plotting

RUNS = [("quadratic", "sigmoid", 3.0), ("cross-entropy", "sigmoid", 0.5), ("log-likelihood", "softmax", 0.5)]


def main():
    args = _common.parser(__doc__, "1 epoch on 10,000 training images").parse_args()
    data = jaxnn.load_mnist()
    n, epochs = (10_000, 1) if args.quick else (50_000, 5)
    train = (data.training.x[:n], data.training.y[:n])
    x_cost, y_cost = data.training.x[:10_000], data.training.y[:10_000]

    print(f"[784, 30, 10], sigmoid hidden layer, m = 10, {epochs} epoch(s) on {n:,} training images")
    print(
        f"  {'cost':<15} {'output':<8} {'η':>4}  training cost (its own, first 10,000 training images) / test accuracy, per epoch"
    )
    results = {}
    for cost, out, eta in RUNS:
        comps = dict(cost=cost, output_activation=out)
        losses = []
        mean_cost = jax.jit(lambda p, comps=comps: jaxnn.loss(p, x_cost, y_cost, **comps))
        params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "default")
        params, h = jaxnn.sgd(
            params,
            train,
            epochs,
            10,
            eta,
            key=jax.random.key(1),
            evaluation_data=data.test,
            callback=lambda e, p, hist: losses.append(float(mean_cost(p))),
            **comps,
        )
        results[cost] = (losses, h.evaluation_accuracy, params, out)
        print(
            f"  {cost:<15} {out:<8} {eta:>4g}  "
            + "  ".join(f"{l:.4f} / {a:.2%}" for l, a in zip(losses, h.evaluation_accuracy))
        )

    _, _, params, out = results["log-likelihood"]
    a = jaxnn.forward(params, x_cost, output_activation=out)
    y = jax.nn.one_hot(y_cost, 10)
    quadratic = float(jnp.mean(0.5 * jnp.sum((a - y) ** 2, axis=1)))
    a_c = jnp.clip(a, 1e-12, 1 - 1e-12)
    cross = float(jnp.mean(-jnp.sum(y * jnp.log(a_c) + (1 - y) * jnp.log(1 - a_c), axis=1)))
    ll = float(jnp.mean(-jnp.sum(y * jnp.log(a_c), axis=1)))
    print()
    print("the three costs of one and the same network (the softmax one), on its first 10,000 training images:")
    print(f"  quadratic {quadratic:.4f}, cross-entropy {cross:.4f}, log-likelihood {ll:.4f}")
    print(
        "  the same outputs give cost values that differ by a factor of "
        f"{max(quadratic, cross, ll) / min(quadratic, cross, ll):.1f}: loss curves of different costs do not say which learns faster"
    )
    best = max(results, key=lambda c: results[c][1][-1])
    print(
        f"after {epochs} epoch(s), test accuracy: "
        + ", ".join(f"{c} {results[c][1][-1]:.2%}" for c in results)
        + f" (highest: {best})"
    )

    if not _common.can_plot():
        return
    fig, (ax1, ax2) = plotting.subplots(1, 2, width=4.3, height=3.2)
    for cost, (losses, acc, _, _) in results.items():
        ax1.plot(np.arange(1, len(losses) + 1), losses, "o-", label=cost)
        ax2.plot(np.arange(1, len(acc) + 1), acc, "o-", label=cost)
    ax1.set(xlabel="epoch", ylabel="training cost (each its own)", title="not comparable across costs")
    ax2.set(xlabel="epoch", ylabel="test accuracy", title="comparable")
    ax1.legend(fontsize=8)
    _common.save_figure(fig, "ex_cost_comparison", args)


if __name__ == "__main__":
    main()
