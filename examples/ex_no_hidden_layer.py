"""A network with no hidden layer, [784, 10], trained on MNIST with the book's settings.

Run it as is::

    python examples/ex_no_hidden_layer.py            # 30 epochs for each of 5 runs (about a minute)
    python examples/ex_no_hidden_layer.py --quick    # 3 epochs on 10,000 images
    python examples/ex_no_hidden_layer.py --out DIR  # put the figure in DIR

The book's last chapter 1 exercise: "Try creating a network with just two layers – an input and
an output layer, no hidden layer – with 784 and 10 neurons, respectively. Train the network
using stochastic gradient descent. What classification accuracy can you achieve?" The runs use
network.py's settings (sigmoid, quadratic cost, m = 10, η = 3.0) with network.py's N(0, 1)
initial weights for three seeds, then N(0, 1/784) weights ("default"), then the cross-entropy.
"""

import _common
import jax
import numpy as np

import jaxnn
from jaxnn import plotting


def main():
    args = _common.parser(__doc__, "3 epochs on 10,000 training images").parse_args()
    data = jaxnn.load_mnist()
    n, epochs = (10_000, 3) if args.quick else (50_000, 30)
    train = (data.training.x[:n], data.training.y[:n])

    runs = [
        ("large", 0, "quadratic", 3.0),
        ("large", 1, "quadratic", 3.0),
        ("large", 2, "quadratic", 3.0),
        ("default", 0, "quadratic", 3.0),
        ("default", 0, "cross-entropy", 0.5),
    ]
    print(
        f"[784, 10], sigmoid output, m = 10, {epochs} epochs on {n:,} training images, scored on the 10,000 test images"
    )
    print(
        f"  {'initial weights':<22} {'seed':>4} {'cost':<14} {'η':>4} {'|z| > 7 at start':>16} {'final':>7} {'best (epoch)':>14}  worst digits (recall)"
    )
    curves = {}
    for init, seed, cost, eta in runs:
        params = jaxnn.init_params(jax.random.key(seed), [784, 10], init)
        z0 = data.test.x @ np.asarray(params[0]["w"]).T + np.asarray(params[0]["b"])
        saturated = float(np.mean(np.abs(z0) > 7))  # σ'(z) < 1e-3
        params, h = jaxnn.sgd(
            params, train, epochs, 10, eta, key=jax.random.key(1), evaluation_data=data.test, cost=cost
        )
        predicted = np.asarray(jaxnn.predict(params, data.test.x))
        recall = [np.mean(predicted[data.test.y == d] == d) for d in range(10)]
        worst = np.argsort(recall)[:2]
        best_epoch, best = h.best()
        label = f"{init} (N(0, {'1' if init == 'large' else '1/784'}))"
        curves[(init, seed, cost)] = h.evaluation_accuracy
        print(
            f"  {label:<22} {seed:>4} {cost:<14} {eta:>4g} {saturated:>16.1%} {h.evaluation_accuracy[-1]:>7.2%} "
            f"{f'{best:.2%} ({best_epoch})':>14}  {', '.join(f'{d} ({recall[d]:.0%})' for d in worst)}"
        )
    large = [curves[("large", s, "quadratic")][-1] for s in (0, 1, 2)]
    print("|z| > 7 at start: share of the initial output neurons' z on the test images with σ'(z) < 1e-3 (saturated)")
    print(
        f"network.py's settings: final accuracy {min(large):.2%} to {max(large):.2%} over three seeds; "
        f"with N(0, 1/784) weights {curves[('default', 0, 'quadratic')][-1]:.2%}"
    )

    if not _common.can_plot():
        return
    fig, ax = plotting.subplots(1, 1, width=5.5, height=3.4)
    for (init, seed, cost), acc in curves.items():
        ax.plot(range(len(acc)), acc, ".-", label=f"{init}, seed {seed}, {cost}")
    ax.set(xlabel="epoch", ylabel="test accuracy", title="[784, 10], no hidden layer")
    ax.legend(fontsize=7)
    _common.save_figure(fig, "ex_no_hidden_layer", args)


if __name__ == "__main__":
    main()
