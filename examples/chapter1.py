"""Chapter 1's results: network.py's sigmoid MLP on MNIST, over several seeds.

Reproduces the book's [784, 30, 10] run (30 epochs, mini-batch 10, η = 3.0, quadratic cost,
N(0, 1) init; the book reports 95.42% at the best epoch) and [784, 100, 10] (96.59%), and
prints per-epoch test accuracy and a markdown table for docs/results.md.

    python examples/chapter1.py                 # both networks, seeds 0 1 2
    python examples/chapter1.py --quick         # 3 epochs, one seed
"""

import statistics
import time

import _common
import jax

import jaxnn

BOOK = {(784, 30, 10): 95.42, (784, 100, 10): 96.59}


def run(sizes, seed, epochs, eta=3.0, gradient="backprop"):
    data = jaxnn.load_mnist()
    key_init, key_sgd = jax.random.split(jax.random.key(seed))
    params = jaxnn.init_params(key_init, sizes, "large")
    start = time.perf_counter()
    _, history = jaxnn.sgd(
        params, data.training, epochs, 10, eta, key=key_sgd, evaluation_data=data.test, gradient=gradient
    )
    return history, time.perf_counter() - start


def main():
    p = _common.parser(__doc__, "3 epochs, one seed", figure=False)
    p.add_argument("--epochs", type=int, default=30, help="epochs per run (default: the book's 30)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds to run (default: 0 1 2)")
    p.add_argument("--hidden", type=int, nargs="+", default=[30, 100], help="hidden-layer widths (default: 30 100)")
    args = p.parse_args()
    if args.quick:
        args.epochs, args.seeds = 3, args.seeds[:1]
    rows = []
    for hidden in args.hidden:
        sizes = (784, hidden, 10)
        bests = []
        for seed in args.seeds:
            history, seconds = run(list(sizes), seed, args.epochs)
            epoch, best = history.best()
            bests.append(100 * best)
            per_epoch = " ".join(f"{c / 100:.2f}" for c in history.evaluation_correct)
            print(
                f"{list(sizes)} seed {seed}: best {100 * best:.2f}% at epoch {epoch} "
                f"({seconds:.1f} s); per epoch: {per_epoch}"
            )
        book = BOOK.get(sizes)
        spread = f" ± {statistics.stdev(bests):.2f}" if len(bests) > 1 else ""
        rows.append(
            f"| {list(sizes)} | {book if book else '–'}% | {statistics.mean(bests):.2f}%{spread} | "
            f"{', '.join(f'{b:.2f}' for b in bests)} | {min(bests):.2f}% |"
        )
    print()
    print("| network | book (best epoch) | jaxnn mean ± sd | per seed | worst seed |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
