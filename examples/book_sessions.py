"""The book's shell sessions of chapters 1 and 3, run unchanged on ``jaxnn.book``; reproduces docs/book.md.

Each session is the book's code, executed as written after ``from jaxnn.book import
mnist_loader, network, network2``; the script prints it, its output, its wall time (including
compilation) and its best accuracy beside the book's. NumPy's global generator is seeded before
each session (``np.random.seed``), which fixes jaxnn.book's initial weights and shuffles.

    python examples/book_sessions.py                      # every session, full length (several minutes)
    python examples/book_sessions.py --only ch1-30 ch3-overfit
    python examples/book_sessions.py --list
"""

import argparse
import io
import re
import sys
import textwrap
import time

import numpy as np

#: (name, the book's figure, the session's code as the book prints it, less the imports)
SESSIONS = [
    ("ch1-30", "95.42% (best epoch)", """
        net = network.Network([784, 30, 10])
        net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    """),
    ("ch1-100", "96.59%", """
        net = network.Network([784, 100, 10])
        net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    """),
    ("ch1-eta0.001", "21.42%", """
        net = network.Network([784, 100, 10])
        net.SGD(training_data, 30, 10, 0.001, test_data=test_data)
    """),
    ("ch1-eta100", "9.82%", """
        net = network.Network([784, 30, 10])
        net.SGD(training_data, 30, 10, 100.0, test_data=test_data)
    """),
    ("ch1-no-hidden", "exercise: no figure", """
        net = network.Network([784, 10])
        net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    """),
    ("ch3-ce30", "95.49%", """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data,
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-ce100", "96.82%", """
        net = network2.Network([784, 100, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data,
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-overfit", "82.27%", """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data[:1000], 400, 10, 0.5, evaluation_data=test_data,
            monitor_evaluation_accuracy=True, monitor_training_cost=True)
    """),
    ("ch3-l2-1000", "87.1%", """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data[:1000], 400, 10, 0.5,
            evaluation_data=test_data, lmbda = 0.1,
            monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
            monitor_training_cost=True, monitor_training_accuracy=True)
    """),
    ("ch3-l2-30", "96.49%", """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5,
            evaluation_data=test_data, lmbda = 5.0,
            monitor_evaluation_accuracy=True, monitor_training_accuracy=True)
    """),
    ("ch3-l2-100", "97.92% (validation)", """
        net = network2.Network([784, 100, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.5, lmbda=5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-l2-100-60", "98.04% (validation)", """
        net = network2.Network([784, 100, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 60, 10, 0.1, lmbda=5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-init-old", "86.43% -> 96.37% (validation, epoch 0 -> 29)", """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.large_weight_initializer()
        net.SGD(training_data, 30, 10, 0.1, lmbda = 5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-init-new", "92.70% -> 96.50% (validation, epoch 0 -> 29)", """
        net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
        net.SGD(training_data, 30, 10, 0.1, lmbda = 5.0,
            evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-hyper-lmbda1000", "pure noise, 10 / 100", """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 10.0, lmbda = 1000.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-hyper-lmbda20", "a faint signal", """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 10.0, lmbda = 20.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-hyper-eta100", "noise again", """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 100.0, lmbda = 20.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """),
    ("ch3-hyper-eta1", "a clear signal, about 60 / 100", """
        net = network2.Network([784, 10])
        net.SGD(training_data[:1000], 30, 10, 1.0, lmbda = 20.0, \\
            evaluation_data=validation_data[:100], \\
            monitor_evaluation_accuracy=True)
    """),
]

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


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these sessions (see --list)")
    p.add_argument("--list", action="store_true", help="list the sessions and exit")
    p.add_argument("--seed", type=int, default=0, help="np.random.seed before each session (default 0)")
    args = p.parse_args()
    if args.list:
        print("\n".join(name for name, _, _ in SESSIONS))
        return
    chosen = [s for s in SESSIONS if not args.only or s[0] in args.only]
    unknown = set(args.only or ()) - {s[0] for s in SESSIONS}
    if unknown:
        p.error(f"unknown session(s) {', '.join(sorted(unknown))}; see --list")

    start = time.perf_counter()
    from jaxnn.book import mnist_loader, network, network2

    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    print(f"[imports and mnist_loader.load_data_wrapper(): {time.perf_counter() - start:.1f} s]")
    summary = []
    for name, book, code in chosen:
        code = textwrap.dedent(code).strip()
        print(f"\n## {name}\n")
        print("\n".join((">>> " if not line.startswith(" ") else "... ") + line.strip()
                        for line in code.replace("\\\n", "\n").splitlines()))
        np.random.seed(args.seed)
        namespace = dict(mnist_loader=mnist_loader, network=network, network2=network2,
                         training_data=training_data, validation_data=validation_data, test_data=test_data)
        tee = _Tee(sys.stdout)
        sys.stdout = tee
        t = time.perf_counter()
        try:
            exec(compile(code, name, "exec"), namespace)
        finally:
            sys.stdout = tee.out
        seconds = time.perf_counter() - t
        counts = [(int(m[1]), int(m[2])) for m in map(_COUNT.match, tee.copy.getvalue().splitlines()) if m]
        print(f"[{name}: {seconds:.1f} s wall, including compilation]")
        summary.append((name, book, counts, seconds))

    print("\n| session | book | jaxnn.book: epoch 0, best, last | wall time |")
    print("| --- | --- | --- | --- |")
    for name, book, counts, seconds in summary:
        def fmt(c):
            return f"{100 * c[0] / c[1]:.2f}%" if c[1] >= 1000 else f"{c[0]} / {c[1]}"

        figures = ", ".join(fmt(c) for c in (counts[0], max(counts), counts[-1])) if counts else "–"
        print(f"| {name} | {book} | {figures} | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
