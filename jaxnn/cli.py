"""The command line: ``jaxnn train``, ``jaxnn evaluate`` and ``jaxnn list``.

``jaxnn train`` with no flags trains the book's chapter 1 network ([784, 30, 10], sigmoid,
quadratic cost, N(0, 1) init, 30 epochs, mini-batch 10, η 3.0) on the shipped MNIST and
prints network.py's per-epoch lines and a summary.
"""

from __future__ import annotations

import argparse
import sys
import time

from jaxnn.errors import JaxnnError


def _sizes(text: str):
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated integers such as 784,30,10, got {text!r}")
    return sizes


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxnn", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a network by mini-batch SGD (default: the book's chapter 1 run)")
    t.add_argument("--dataset", default="mnist", help="mnist (shipped) or fashion-mnist (Debian's package)")
    t.add_argument("--sizes", type=_sizes, default=[784, 30, 10], help="layer widths, e.g. 784,30,10")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--mini-batch-size", type=int, default=10)
    t.add_argument("--eta", type=float, default=3.0, help="learning rate η")
    t.add_argument("--cost", default="quadratic", help="cost by registry name (see 'jaxnn list')")
    t.add_argument("--activation", default="sigmoid", help="hidden activation by registry name")
    t.add_argument("--output-activation", default=None, help="output activation (default: --activation)")
    t.add_argument("--init", default="large", help="initializer: large (network.py's N(0,1)) or default (N(0,1/√n_in))")
    t.add_argument("--seed", type=int, default=0, help="seed of the PRNG key for init and shuffles")
    t.add_argument("--gradient", default="backprop", help="backprop, autodiff or backprop-per-example")
    t.add_argument("--evaluate-on", choices=["test", "validation", "none"], default="test",
                   help="the data scored each epoch (network.py scores test_data)")
    t.add_argument("--train-size", type=int, default=None, help="train on the first N training images only")
    t.add_argument("--save", default=None, metavar="PATH", help="save the trained model (.npz)")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    e = sub.add_parser("evaluate", help="score a saved model")
    e.add_argument("model", help="a model saved with 'jaxnn train --save'")
    e.add_argument("--dataset", default=None, help="default: the dataset it was trained on")
    e.add_argument("--on", choices=["test", "validation", "training"], default="test")

    sub.add_parser("list", help="list the registered components, plugins included")
    return p


def _train(args) -> int:
    import jax

    import jaxnn
    from jaxnn import data as datasets

    data = datasets.load(args.dataset)
    training = data.training
    if args.train_size is not None:
        if not 0 < args.train_size <= len(training):
            raise JaxnnError(f"--train-size must be between 1 and {len(training)}, got {args.train_size}")
        training = jaxnn.Split(training.x[: args.train_size], training.y[: args.train_size])
    evaluation = None if args.evaluate_on == "none" else getattr(data, args.evaluate_on)
    if args.sizes[0] != training.x.shape[1]:
        raise JaxnnError(f"--sizes must start with {training.x.shape[1]}, the number of pixels per image; got {args.sizes[0]}")
    key_init, key_sgd = jax.random.split(jax.random.key(args.seed))
    params = jaxnn.init_params(key_init, args.sizes, args.init)
    components = dict(cost=args.cost, activation=args.activation, output_activation=args.output_activation)
    jaxnn.make_model(**components)  # unknown names fail here, before anything is compiled
    start = time.perf_counter()
    params, history = jaxnn.sgd(
        params, training, args.epochs, args.mini_batch_size, args.eta, key=key_sgd,
        evaluation_data=evaluation, gradient=args.gradient, verbose=True,
        show_progress=not args.no_progress, **components,
    )
    total = time.perf_counter() - start
    sizes = ",".join(map(str, args.sizes))
    print(f"Trained [{sizes}] for {args.epochs} epochs in {total:.1f} s "
          f"({args.gradient}; first epoch with compilation {history.seconds[0]:.2f} s)" if args.epochs else "No epochs run.")
    if evaluation is not None and args.epochs:
        best_epoch, best = history.best()
        last = history.evaluation_accuracy[-1]
        print(f"Best epoch {best_epoch}: {best:.2%} on {args.evaluate_on} data; last epoch: {last:.2%}")
    if args.save:
        path = jaxnn.save_model(
            args.save, params, dataset=args.dataset, init=args.init, seed=args.seed, epochs=args.epochs,
            mini_batch_size=args.mini_batch_size, eta=args.eta, gradient=args.gradient, **components,
        )
        print(f"Saved the model to {path}")
    return 0


def _evaluate(args) -> int:
    import jaxnn
    from jaxnn import data as datasets

    params, meta = jaxnn.load_model(args.model)
    dataset = args.dataset or meta.get("dataset", "mnist")
    split = getattr(datasets.load(dataset), args.on)
    components = {k: meta[k] for k in ("cost", "activation", "output_activation") if meta.get(k) is not None}
    correct = jaxnn.evaluate(params, split.x, split.y, **components)
    print(f"{args.model}: {correct} / {len(split)} correct on {dataset} {args.on} data ({correct / len(split):.2%})")
    return 0


def _list(args) -> int:
    import jaxnn
    from jaxnn.training import GRADIENTS

    for title, reg in (("activations", jaxnn.activations), ("costs", jaxnn.costs), ("initializers", jaxnn.initializers)):
        plugins = reg.plugins()
        names = [f"{n} (plugin: {plugins[n]})" if n in plugins else n for n in reg.names()]
        print(f"{title}: {', '.join(names)}")
    print(f"gradients: {', '.join(GRADIENTS)}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"train": _train, "evaluate": _evaluate, "list": _list}[args.command](args)
    except JaxnnError as exc:
        print(f"jaxnn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jaxnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
