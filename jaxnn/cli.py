"""The command line: ``jaxnn train``, ``jaxnn sweep``, ``jaxnn evaluate`` and ``jaxnn list``.

``jaxnn train`` with no flags trains the book's chapter 1 network ([784, 30, 10], sigmoid,
quadratic cost, N(0, 1) init, 30 epochs, mini-batch 10, η 3.0) on the shipped MNIST and
prints network.py's per-epoch lines and a summary.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jaxnn import validation
from jaxnn.errors import JaxnnError


def _sizes(text: str):
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated integers such as 784,30,10, got {text!r}")
    return sizes


def _floats(text: str):
    try:
        return [float(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0,1e-4,0.1, got {text!r}")


_EXAMPLES = {
    "jaxnn": """Examples:
  jaxnn train                                   # the book's chapter 1 run: [784, 30, 10], 30 epochs, η = 3.0
  jaxnn train --help                            # every option of one subcommand, with examples
  jaxnn list                                    # the registered components, plugins included""",
    "train": """Examples:
  jaxnn train                                   # the book's chapter 1 run (about 95% after 30 epochs)
  jaxnn train --sizes 784,100,10 --epochs 10 --save model.npz
  jaxnn train --cost cross-entropy --init default --eta 0.5 --lmbda 5 --monitor --plot curves.png
  jaxnn train --epochs 5 --misclassified grid.png     # a grid of misclassified test digits
  jaxnn train --train-size 1000 --epochs 1 --no-progress""",
    "sweep": """Examples:
  jaxnn sweep --cost cross-entropy --eta 0.5 --lmbda 0,1e-4,1e-3,0.1 --seeds 0,1,2 --epochs 10
  jaxnn sweep --eta 0.1,0.5,2.5 --p-dropout 0,0.2 --train-size 10000 --epochs 3
  jaxnn sweep --seeds 0,1,2,3 --distributed --coordinator 10.0.0.1:1234 --num-processes 2 --process-id 0""",
    "evaluate": """Examples:
  jaxnn evaluate model.npz                      # on the test data of the dataset it was trained on
  jaxnn evaluate model.npz --on validation""",
    "list": """Examples:
  jaxnn list""",
}


def _subparser(sub, name: str, help: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=_EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxnn",
        description=__doc__.split("\n\n")[0],
        epilog=_EXAMPLES["jaxnn"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    t = _subparser(sub, "train", "train a network by mini-batch SGD (default: the book's chapter 1 run)")
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
    t.add_argument(
        "--evaluate-on",
        choices=["test", "validation", "none"],
        default="test",
        help="the data scored each epoch (network.py scores test_data)",
    )
    t.add_argument("--lmbda", type=float, default=0.0, help="regularization parameter λ (network2)")
    t.add_argument("--regularizer", default="l2", help="l2 or l1 (used when --lmbda > 0)")
    t.add_argument("--p-dropout", type=float, default=0.0, help="dropout rate of hidden units")
    t.add_argument("--momentum", type=float, default=0.0, help="momentum coefficient μ")
    t.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        metavar="N",
        help="stop after N epochs without a better evaluation accuracy",
    )
    t.add_argument(
        "--halve-eta-after",
        type=int,
        default=None,
        metavar="N",
        help="halve η after N epochs without improvement; stop at η/128",
    )
    t.add_argument("--monitor", action="store_true", help="also print network2's training cost and accuracy per epoch")
    t.add_argument("--train-size", type=int, default=None, help="train on the first N training images only")
    t.add_argument("--save", default=None, metavar="PATH", help="save the trained model (.npz)")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument(
        "--plot",
        default=None,
        metavar="PNG",
        help="write the accuracy (and, with --monitor, cost) per epoch as a PNG; needs matplotlib",
    )
    t.add_argument(
        "--misclassified",
        default=None,
        metavar="PNG",
        help="write a grid of misclassified evaluation (or test) digits as a PNG; needs matplotlib",
    )

    w = _subparser(sub, "sweep", "train a grid of seeds × η × λ × dropout at once (one compiled program)")
    w.add_argument("--dataset", default="mnist")
    w.add_argument("--sizes", type=_sizes, default=[784, 30, 10])
    w.add_argument("--epochs", type=int, default=10)
    w.add_argument("--mini-batch-size", type=int, default=10)
    w.add_argument("--eta", type=_floats, default=[0.5], help="one or more learning rates, comma-separated")
    w.add_argument("--lmbda", type=_floats, default=[0.0], help="one or more λ values")
    w.add_argument("--p-dropout", type=_floats, default=[0.0], help="one or more dropout rates")
    w.add_argument("--seeds", type=_sizes, default=[0], help="comma-separated seeds")
    w.add_argument("--cost", default="cross-entropy")
    w.add_argument("--activation", default="sigmoid")
    w.add_argument("--output-activation", default=None)
    w.add_argument("--regularizer", default="l2")
    w.add_argument("--init", default="default")
    w.add_argument("--train-size", type=int, default=None)
    w.add_argument("--evaluate-on", choices=["test", "validation"], default="validation")
    w.add_argument("--no-progress", action="store_true")
    w.add_argument("--save", default=None, metavar="PATH", help="write the result (.npz); process 0 writes it")
    w.add_argument(
        "--distributed",
        action="store_true",
        help="run as one of several processes (jax.distributed); see docs/distributed.md",
    )
    w.add_argument("--coordinator", default=None, metavar="HOST:PORT", help="process 0's address (JAXNN_COORDINATOR)")
    w.add_argument("--num-processes", type=int, default=None, help="number of processes (JAXNN_NUM_PROCESSES)")
    w.add_argument("--process-id", type=int, default=None, help="this process's number (JAXNN_PROCESS_ID)")

    e = _subparser(sub, "evaluate", "score a saved model")
    e.add_argument("model", help="a model saved with 'jaxnn train --save'")
    e.add_argument("--dataset", default=None, help="default: the dataset it was trained on")
    e.add_argument("--on", choices=["test", "validation", "training"], default="test")

    _subparser(sub, "list", "list the registered components, plugins included")
    return p


def _train(args) -> int:
    import jax

    import jaxnn
    from jaxnn import data as datasets

    if args.plot or args.misclassified:
        from jaxnn import plotting

        plotting.pyplot()  # no matplotlib: stop now, with the install command, not after training
        for flag, path in (("--plot", args.plot), ("--misclassified", args.misclassified)):
            if path and Path(path).is_dir():
                raise JaxnnError(f"{flag} {path} is a folder: give a file name such as {Path(path) / 'figure.png'}")
    data = datasets.load(args.dataset)
    training = _training_split(args, data)
    evaluation = None if args.evaluate_on == "none" else getattr(data, args.evaluate_on)
    args.sizes = validation.check_sizes(args.sizes)
    if args.sizes[0] != training.x.shape[1]:
        raise JaxnnError(
            f"--sizes must start with {training.x.shape[1]}, the number of pixels per image; got {args.sizes[0]}"
        )
    if args.save:
        validation.writable_file(args.save, "model file")  # a bad --save path fails now, not after training
    components = dict(cost=args.cost, activation=args.activation, output_activation=args.output_activation)
    jaxnn.make_model(**components)  # unknown names fail here, before anything is compiled
    for name, value in (("eta", args.eta), ("lmbda", args.lmbda)):  # and bad numbers before the initial draw
        validation.positive_float(value, name, allow_zero=name == "lmbda")
    validation.fraction(args.p_dropout, "p_dropout", "the probability of dropping a unit")
    validation.fraction(args.momentum, "momentum", "the momentum coefficient μ")
    key_init, key_sgd = jax.random.split(validation.prng_key(validation.seed(args.seed, "--seed")))
    params = jaxnn.init_params(key_init, args.sizes, args.init)
    start = time.perf_counter()
    params, history = jaxnn.sgd(
        params,
        training,
        args.epochs,
        args.mini_batch_size,
        args.eta,
        key=key_sgd,
        evaluation_data=evaluation,
        gradient=args.gradient,
        verbose=True,
        show_progress=not args.no_progress,
        lmbda=args.lmbda,
        regularizer=args.regularizer,
        p_dropout=args.p_dropout,
        momentum=args.momentum,
        early_stopping=args.early_stopping,
        halve_eta_after=args.halve_eta_after,
        monitor_training_cost=args.monitor,
        monitor_training_accuracy=args.monitor,
        monitor_evaluation_cost=args.monitor and evaluation is not None,
        **components,
    )
    if history.stopped:
        print(f"Stopped: {history.stopped}")
    total = time.perf_counter() - start
    sizes = ",".join(map(str, args.sizes))
    print(
        f"Trained [{sizes}] for {args.epochs} epochs in {total:.1f} s "
        f"({args.gradient}; first epoch with compilation {history.seconds[0]:.2f} s)"
        if args.epochs
        else "No epochs run."
    )
    if evaluation is not None and history.evaluation_correct:
        best_epoch, best = history.best()
        last = history.evaluation_accuracy[-1]
        print(f"Best epoch {best_epoch}: {best:.2%} on {args.evaluate_on} data; last epoch: {last:.2%}")
    if args.save:
        path = jaxnn.save_model(
            args.save,
            params,
            dataset=args.dataset,
            init=args.init,
            seed=args.seed,
            epochs=args.epochs,
            mini_batch_size=args.mini_batch_size,
            eta=args.eta,
            gradient=args.gradient,
            **components,
        )
        print(f"Saved the model to {path}")
    _figures(args, params, history, evaluation if evaluation is not None else data.test, components)
    return 0


def _figures(args, params, history, split, components) -> None:
    """Writes the --plot and --misclassified PNGs."""
    import jaxnn
    from jaxnn import plotting

    sizes = ",".join(map(str, args.sizes))
    if args.plot:
        path = plotting.training_curves(history, args.plot, title=f"[{sizes}], {args.cost}, η = {args.eta:g}")
        print(f"Wrote the training curves to {path}")
    if args.misclassified:
        predicted = jaxnn.predict(params, split.x, **components)
        path = plotting.misclassified_grid(split.x, split.y, predicted, args.misclassified)
        print(f"Wrote misclassified digits to {path}")


def _training_split(args, data):
    import jaxnn

    training = data.training
    if args.train_size is not None:
        if not 0 < args.train_size <= len(training):
            raise JaxnnError(f"--train-size must be between 1 and {len(training)}, got {args.train_size}")
        training = jaxnn.Split(training.x[: args.train_size], training.y[: args.train_size])
    return training


def _sweep(args) -> int:
    import jaxnn
    from jaxnn import data as datasets
    from jaxnn import distributed

    if args.epochs < 1:
        raise JaxnnError(f"--epochs must be at least 1 for a sweep, got {args.epochs}")
    if args.distributed:  # first, before anything touches a device
        distributed.init(args.coordinator, args.num_processes, args.process_id)
    elif args.coordinator or args.num_processes is not None or args.process_id is not None:
        raise JaxnnError("--coordinator, --num-processes and --process-id go with --distributed: add it")
    writer = distributed.is_writer()
    if args.save and writer:
        validation.writable_file(args.save, "result file")
    data = datasets.load(args.dataset)
    result = jaxnn.sweep(
        args.sizes,
        _training_split(args, data),
        args.epochs,
        args.mini_batch_size,
        args.eta,
        seeds=args.seeds,
        lmbda=args.lmbda,
        p_dropout=args.p_dropout,
        evaluation_data=getattr(data, args.evaluate_on),
        init=args.init,
        cost=args.cost,
        activation=args.activation,
        output_activation=args.output_activation,
        regularizer=args.regularizer,
        show_progress=not args.no_progress and writer,
    )
    if not writer:  # process 0 reports for all
        return 0
    print(
        f"Trained {len(result.configs)} networks at once in {sum(result.seconds):.1f} s "
        f"(first epoch with compilation {result.seconds[0]:.2f} s); accuracy on {args.evaluate_on} data:"
    )
    print(result.table())
    if args.save:
        print(f"Saved the result to {result.save(args.save)}")
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

    for title, reg in (
        ("activations", jaxnn.activations),
        ("costs", jaxnn.costs),
        ("initializers", jaxnn.initializers),
        ("regularizers", jaxnn.regularizers),
        ("layers", jaxnn.layers),
    ):
        plugins = reg.plugins()
        names = [f"{n} (plugin: {plugins[n]})" if n in plugins else n for n in reg.names()]
        names += [f"{n}({', '.join(f'{k}=...' for k in ex)})" for n, ex in sorted(reg.families().items())]
        print(f"{title}: {', '.join(names)}")
    print(f"gradients: {', '.join(jaxnn.GRADIENTS)}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"train": _train, "sweep": _sweep, "evaluate": _evaluate, "list": _list}[args.command](args)
    except JaxnnError as exc:
        print(f"jaxnn: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk or a read-only folder: say so in one line, not a traceback
        print(
            f"jaxnn: error: {exc.strerror or exc} ({exc.filename or 'file system'}): free space or pick another path",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("jaxnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
