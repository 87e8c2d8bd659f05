"""A plain NumPy transcription of network2.py's training loop, as an independent reference.

    python examples/numpy_network2.py --lmbda 0.1 --seeds 0 1 2 3 4 5 6 7 8 9
    python examples/numpy_network2.py --lmbda 0.0 --seeds 0 1 2 3 4 5 6 7 8 9
    python examples/numpy_network2.py --quick

Chapter 3's overfitting experiment: [784, 30, 10], sigmoid, cross-entropy cost, network2's
`large_weight_initializer` (N(0, 1) weights and biases), the first 1,000 training images,
400 epochs, mini-batch 10, η 0.5, and network2's L2 update
w ← (1 − ηλ/n)w − (η/m)Σ∇w with n = 1,000. Random numbers come from NumPy's
`np.random.seed(s)`, `randn` and `shuffle`, in the order network2.py draws them.

It uses no jaxnn code except the loader of the shipped MNIST, so its spread over seeds shows
how far one run of the original program can land from another, which is the yardstick for
the book's single-run figures (docs/results.md, "Overfitting on 1,000 images").
"""

import argparse
import time

import numpy as np

import jaxnn


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def run(seed, x, y, x_test, y_test, epochs, lmbda, eta=0.5, m=10):
    """Train one network as network2.py does; return the test accuracy after each epoch."""
    np.random.seed(seed)
    sizes = [784, 30, 10]
    biases = [np.random.randn(n, 1) for n in sizes[1:]]
    weights = [np.random.randn(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    n = len(x)
    targets = np.eye(10)[y].T
    accuracies = []
    for _ in range(epochs):
        order = np.arange(n)
        np.random.shuffle(order)
        for k in range(0, n, m):
            batch = order[k : k + m]
            a0 = x[batch].T
            a1 = sigmoid(weights[0] @ a0 + biases[0])
            a2 = sigmoid(weights[1] @ a1 + biases[1])
            d2 = a2 - targets[:, batch]  # cross-entropy: δ^L = a − y
            d1 = (weights[1].T @ d2) * a1 * (1 - a1)  # BP2
            decay = 1 - eta * lmbda / n
            weights[1] = decay * weights[1] - eta / len(batch) * (d2 @ a1.T)
            biases[1] -= eta / len(batch) * d2.sum(axis=1, keepdims=True)
            weights[0] = decay * weights[0] - eta / len(batch) * (d1 @ a0.T)
            biases[0] -= eta / len(batch) * d1.sum(axis=1, keepdims=True)
        out = sigmoid(weights[1] @ sigmoid(weights[0] @ x_test.T + biases[0]) + biases[1])
        accuracies.append(float((out.argmax(axis=0) == y_test).mean()))
    return accuracies


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    p.add_argument("--lmbda", type=float, default=0.1, help="L2 strength λ (default 0.1)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--quick", action="store_true", help="5 epochs, seed 0 (as the tests run it)")
    a = p.parse_args()
    if a.quick:
        a.epochs, a.seeds = 5, [0]
    data = jaxnn.load_mnist()
    x = np.asarray(data.training.x[:1000], np.float64)
    y = np.asarray(data.training.y[:1000])
    x_test, y_test = np.asarray(data.test.x, np.float64), np.asarray(data.test.y)
    bests = []
    for s in a.seeds:
        start = time.perf_counter()
        acc = run(s, x, y, x_test, y_test, a.epochs, a.lmbda)
        bests.append(100 * max(acc))
        print(
            f"NumPy network2 λ {a.lmbda:g} seed {s}: best {100 * max(acc):.2f}% final {100 * acc[-1]:.2f}% "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    if len(bests) > 1:
        print(
            f"best over {len(bests)} seeds: {np.mean(bests):.2f}% ± {np.std(bests, ddof=1):.2f} "
            f"(min {min(bests):.2f}, max {max(bests):.2f})"
        )


if __name__ == "__main__":
    main()
