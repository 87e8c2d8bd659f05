"""The book's shell sessions of chapters 1, 3, 5 and 6, run unchanged on ``jaxnn.book``; reproduces docs/book.md.

Each session is the book's code, executed as written after ``from jaxnn.book import
mnist_loader, network, network2, network3`` (and, for chapter 6, ``from jaxnn.book.network3
import Network, ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer, ReLU``); the script prints
it, its output, its wall time (including compilation) and its accuracies beside the book's.
NumPy's global generator is seeded before each session (``np.random.seed``), which fixes
jaxnn.book's initial weights, shuffles and dropout masks. The data are loaded once and shared by
the sessions, as in one interactive session.

    python examples/book_sessions.py                      # every session, full length (hours on 2 CPU cores)
    python examples/book_sessions.py --only ch1-30 ch6-fc100
    python examples/book_sessions.py --quick              # every session in short form: 1 epoch on a slice
    python examples/book_sessions.py --list
"""

import argparse
import functools
import io
import re
import sys
import textwrap
import time
import types

import numpy as np

#: (name, the book's figure, the session's code as the book prints it, less the imports)
SESSIONS = [
    (
        "ch1-30",
        "95.42% (best epoch)",
        """
        net = network.Network([784, 30, 10])
        net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    """,
    ),
    (
        "ch1-100",
        "96.59%",
        """
        net = network.Network([784, 100, 10])
        net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    """,
    ),
    (
        "ch1-eta0.001",
        "21.42%",
        """
        net = network.Network([784, 100, 10])
        net.SGD(training_data, 30, 10, 0.001, test_data=test_data)
    """,
    ),
    (
        "ch1-eta100",
        "9.82%",
        """
        net = network.Network([784, 30, 10])
        net.SGD(training_data, 30, 10, 100.0, test_data=test_data)
    """,
    ),
    (
        "ch1-no-hidden",
        "exercise: no figure",
        """
        net = network.Network([784, 10])
        net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    """,
    ),
    (
        "ch3-ce30",
        "95.49%",
        """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data,
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-ce100",
        "96.82%",
        """
        net = network2.Network([784, 100, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data,
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-overfit",
        "82.27%",
        """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data[:1000], 400, 10, 0.5, evaluation_data=test_data,
            monitor_evaluation_accuracy=True, monitor_training_cost=True)
    """,
    ),
    (
        "ch3-l2-1000",
        "87.1%",
        """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data[:1000], 400, 10, 0.5,
            evaluation_data=test_data, lmbda = 0.1,
            monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
            monitor_training_cost=True, monitor_training_accuracy=True)
    """,
    ),
    (
        "ch3-l2-30",
        "96.49%",
        """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5,
            evaluation_data=test_data, lmbda = 5.0,
            monitor_evaluation_accuracy=True, monitor_training_accuracy=True)
    """,
    ),
    (
        "ch3-l2-100",
        "97.92% (validation)",
        """
        net = network2.Network([784, 100, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5, lmbda=5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-l2-100-60",
        "98.04% (validation)",
        """
        net = network2.Network([784, 100, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 60, 10, 0.1, lmbda=5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-init-old",
        "86.43% -> 96.37% (validation, epoch 0 -> 29)",
        """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.1, lmbda = 5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-init-new",
        "92.70% -> 96.50% (validation, epoch 0 -> 29)",
        """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.SGD(training_data, 30, 10, 0.1, lmbda = 5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-hyper-lmbda1000",
        "pure noise, 10 / 100",
        """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 10.0, lmbda = 1000.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-hyper-lmbda20",
        "a faint signal",
        """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 10.0, lmbda = 20.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-hyper-eta100",
        "noise again",
        """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 100.0, lmbda = 20.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch3-hyper-eta1",
        "a clear signal, about 60 / 100",
        """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 1.0, lmbda = 20.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """,
    ),
    # chapter 5: deeper networks learn no better (validation accuracy after 30 epochs)
    (
        "ch5-1hidden",
        "96.48% (validation)",
        """
        net = network2.Network([784, 30, 10])
        net.SGD(training_data, 30, 10, 0.1, lmbda=5.0,
            evaluation_data=validation_data, monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch5-2hidden",
        "96.90% (validation)",
        """
        net = network2.Network([784, 30, 30, 10])
        net.SGD(training_data, 30, 10, 0.1, lmbda=5.0,
            evaluation_data=validation_data, monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch5-3hidden",
        "96.57% (validation)",
        """
        net = network2.Network([784, 30, 30, 30, 10])
        net.SGD(training_data, 30, 10, 0.1, lmbda=5.0,
            evaluation_data=validation_data, monitor_evaluation_accuracy=True)
    """,
    ),
    (
        "ch5-4hidden",
        "96.53% (validation)",
        """
        net = network2.Network([784, 30, 30, 30, 30, 10])
        net.SGD(training_data, 30, 10, 0.1, lmbda=5.0,
            evaluation_data=validation_data, monitor_evaluation_accuracy=True)
    """,
    ),
    # chapter 6: network3 (its data come from network3.load_data_shared(); mini_batch_size = 10)
    (
        "ch6-fc100",
        "97.80%",
        """
        net = Network([
            FullyConnectedLayer(n_in=784, n_out=100),
            SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
        net.SGD(training_data, 60, mini_batch_size, 0.1,
            validation_data, test_data)
    """,
    ),
    (
        "ch6-conv",
        "98.78%",
        """
        net = Network([
            ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                          filter_shape=(20, 1, 5, 5),
                          poolsize=(2, 2)),
            FullyConnectedLayer(n_in=20*12*12, n_out=100),
            SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
        net.SGD(training_data, 60, mini_batch_size, 0.1,
            validation_data, test_data)
    """,
    ),
    (
        "ch6-conv2",
        "99.06%",
        """
        net = Network([
            ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                          filter_shape=(20, 1, 5, 5),
                          poolsize=(2, 2)),
            ConvPoolLayer(image_shape=(mini_batch_size, 20, 12, 12),
                          filter_shape=(40, 20, 5, 5),
                          poolsize=(2, 2)),
            FullyConnectedLayer(n_in=40*4*4, n_out=100),
            SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
        net.SGD(training_data, 60, mini_batch_size, 0.1,
            validation_data, test_data)
    """,
    ),
    (
        "ch6-relu",
        "99.23%",
        """
        net = Network([
            ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                          filter_shape=(20, 1, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            ConvPoolLayer(image_shape=(mini_batch_size, 20, 12, 12),
                          filter_shape=(40, 20, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            FullyConnectedLayer(n_in=40*4*4, n_out=100, activation_fn=ReLU),
            SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
        net.SGD(training_data, 60, mini_batch_size, 0.03,
            validation_data, test_data, lmbda=0.1)
    """,
    ),
    (
        "ch6-expanded",
        "99.37%",
        """
        expanded_training_data, _, _ = network3.load_data_shared(
            "../data/mnist_expanded.pkl.gz")
        net = Network([
            ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                          filter_shape=(20, 1, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            ConvPoolLayer(image_shape=(mini_batch_size, 20, 12, 12),
                          filter_shape=(40, 20, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            FullyConnectedLayer(n_in=40*4*4, n_out=100, activation_fn=ReLU),
            SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
        net.SGD(expanded_training_data, 60, mini_batch_size, 0.03,
            validation_data, test_data, lmbda=0.1)
    """,
    ),
    (
        "ch6-expanded-fc2",
        "99.43%",
        """
        expanded_training_data, _, _ = network3.load_data_shared(
            "../data/mnist_expanded.pkl.gz")
        net = Network([
            ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                          filter_shape=(20, 1, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            ConvPoolLayer(image_shape=(mini_batch_size, 20, 12, 12),
                          filter_shape=(40, 20, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            FullyConnectedLayer(n_in=40*4*4, n_out=100, activation_fn=ReLU),
            FullyConnectedLayer(n_in=100, n_out=100, activation_fn=ReLU),
            SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
        net.SGD(expanded_training_data, 60, mini_batch_size, 0.03,
            validation_data, test_data, lmbda=0.1)
    """,
    ),
    (
        "ch6-dropout",
        "99.60%",
        """
        expanded_training_data, _, _ = network3.load_data_shared(
            "../data/mnist_expanded.pkl.gz")
        net = Network([
            ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28),
                          filter_shape=(20, 1, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            ConvPoolLayer(image_shape=(mini_batch_size, 20, 12, 12),
                          filter_shape=(40, 20, 5, 5),
                          poolsize=(2, 2),
                          activation_fn=ReLU),
            FullyConnectedLayer(
                n_in=40*4*4, n_out=1000, activation_fn=ReLU, p_dropout=0.5),
            FullyConnectedLayer(
                n_in=1000, n_out=1000, activation_fn=ReLU, p_dropout=0.5),
            SoftmaxLayer(n_in=1000, n_out=10, p_dropout=0.5)],
            mini_batch_size)
        net.SGD(expanded_training_data, 40, mini_batch_size, 0.03,
            validation_data, test_data)
    """,
    ),
]

#: --quick: this many training examples, this many validation / test examples, one epoch.
QUICK_N, QUICK_EVAL = 1000, 500
_SGD_DATA_EPOCHS = re.compile(r"(\.SGD\(\s*)(\w+)(\[:\d+\])?(,\s*)\d+")
_PERCENT = re.compile(r"(?:Epoch \d+: validation accuracy|Corresponding test accuracy of) ([\d.]+)%$")

_COUNT = re.compile(r"(?:Epoch \d+|Accuracy on evaluation data): (\d+) / (\d+)$")


class _Tee(io.TextIOBase):
    """Writes to stdout and keeps a copy, to read the accuracies back."""

    def __init__(self, out):
        self.out, self.copy = out, io.StringIO()

    def write(self, s):
        self.copy.write(s)
        return self.out.write(s)

    def flush(self):
        self.out.flush()


def _quick(code):
    """The session in short form: one epoch on the first QUICK_N training examples."""
    return _SGD_DATA_EPOCHS.sub(lambda m: f"{m[1]}{m[2]}{m[3] or f'[:{QUICK_N}]'}{m[4]}1", code)


def _figures(output):
    """'epoch 0, best, last' accuracies (chapters 1-5), or 'epoch-0 validation, best validation,
    test at the best' (chapter 6), read back from what the session printed."""
    lines = output.splitlines()
    counts = [(int(m[1]), int(m[2])) for m in map(_COUNT.match, lines) if m]
    if counts:

        def fmt(c):
            return f"{100 * c[0] / c[1]:.2f}%" if c[1] >= 1000 else f"{c[0]} / {c[1]}"

        return ", ".join(fmt(c) for c in (counts[0], max(counts), counts[-1]))
    percents = [(line.startswith("Epoch"), m[1]) for line, m in zip(lines, map(_PERCENT.match, lines)) if m]
    validation = [float(v) for is_epoch, v in percents if is_epoch]
    test = [v for is_epoch, v in percents if not is_epoch]
    if validation and test:
        return f"{validation[0]:.2f}% val, {max(validation):.2f}% val, {test[-1]}% test"
    return "–"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these sessions (see --list)")
    p.add_argument("--list", action="store_true", help="list the sessions and exit")
    p.add_argument("--seed", type=int, default=0, help="np.random.seed before each session (default 0)")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"short form: 1 epoch on {QUICK_N} training and {QUICK_EVAL} validation / test examples",
    )
    args = p.parse_args()
    if args.list:
        print("\n".join(name for name, _, _ in SESSIONS))
        return
    chosen = [s for s in SESSIONS if not args.only or s[0] in args.only]
    unknown = set(args.only or ()) - {s[0] for s in SESSIONS}
    if unknown:
        p.error(f"unknown session(s) {', '.join(sorted(unknown))}; see --list")

    start = time.perf_counter()
    from jaxnn.book import mnist_loader, network, network2, network3
    from jaxnn.book.network3 import ConvPoolLayer, FullyConnectedLayer, Network, ReLU, SoftmaxLayer

    data = {"network": mnist_loader.load_data_wrapper()}
    if any(name.startswith("ch6") for name, _, _ in chosen):
        data["network3"] = network3.load_data_shared()
    # The sessions share their data, as in one interactive session: the splits above, and the
    # expanded set loaded the first time a session asks for it (250,000 images, 784 MB of floats).
    loaded = functools.lru_cache(maxsize=None)(network3.load_data_shared)
    network3_once = types.SimpleNamespace(**vars(network3))
    network3_once.load_data_shared = lambda filename="../data/mnist.pkl.gz": list(loaded(filename))
    print(f"[imports and data ({', '.join(f'{k} data' for k in data)}): {time.perf_counter() - start:.1f} s]")
    summary = []
    for name, book, code in chosen:
        code = textwrap.dedent(code).strip()
        if args.quick:
            code = _quick(code)
        print(f"\n## {name}\n")
        print(
            "\n".join(
                (">>> " if not line.startswith(" ") else "... ") + line.strip()
                for line in code.replace("\\\n", "\n").splitlines()
            )
        )
        np.random.seed(args.seed)
        training_data, validation_data, test_data = data["network3" if name.startswith("ch6") else "network"]
        if args.quick:
            validation_data, test_data = validation_data[:QUICK_EVAL], test_data[:QUICK_EVAL]
        namespace = dict(
            mnist_loader=mnist_loader,
            network=network,
            network2=network2,
            network3=network3_once,
            Network=Network,
            ConvPoolLayer=ConvPoolLayer,
            FullyConnectedLayer=FullyConnectedLayer,
            SoftmaxLayer=SoftmaxLayer,
            ReLU=ReLU,
            mini_batch_size=10,
            training_data=training_data,
            validation_data=validation_data,
            test_data=test_data,
        )
        tee = _Tee(sys.stdout)
        sys.stdout = tee
        t = time.perf_counter()
        try:
            exec(compile(code, name, "exec"), namespace)
        finally:
            sys.stdout = tee.out
        seconds = time.perf_counter() - t
        print(f"[{name}: {seconds:.1f} s wall, including compilation]")
        summary.append((name, book, _figures(tee.copy.getvalue()), seconds))

    print(
        "\n| session | book | jaxnn.book: epoch 0, best, last (ch. 6: epoch-0 and best validation, test at best) "
        "| wall time |"
    )
    print("| --- | --- | --- | --- |")
    for name, book, figures, seconds in summary:
        print(f"| {name} | {book} | {figures} | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
