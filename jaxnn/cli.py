"""The command line: ``jaxnn train``, ``jaxnn sweep``, ``jaxnn evaluate``, ``jaxnn summary`` and ``jaxnn list``.

``jaxnn train`` with no flags trains the book's chapter 1 network ([784, 30, 10], sigmoid,
quadratic cost, N(0, 1) init, 30 epochs, mini-batch 10, η 3.0) on the shipped MNIST and
prints network.py's per-epoch lines and a summary. ``--layers`` trains any stack of layers,
conv nets included, with network3's conventions.

This module imports JAX (and the rest of jaxnn) only when a command runs, so ``--help``
answers at once.
"""

from __future__ import annotations

import _thread
import argparse
import os
import re
import shlex
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from jaxnn import __version__
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


#: Short names for ``--layers``: ``conv(20,5) fc(100) softmax(10)``. Any registered layer name works too.
LAYER_ALIASES = {"conv": "conv_pool", "fc": "fully_connected"}
_LAYER = re.compile(r"\s*([A-Za-z_][\w-]*)\s*(?:\(([^()]*)\))?\s*,?")


def parse_layers(text: str) -> list:
    """Parses ``--layers`` into layer specs ``[(registry name, settings), ...]``.

    Each layer is ``name(arguments)``: positional arguments in the order of the layer's
    constructor, then ``key=value`` ones, e.g. ``conv(20, 5, activation=relu)`` is
    ``ConvPool(20, 5, activation="relu")``; ``conv`` and ``fc`` are short for ``conv_pool`` and
    ``fully_connected``. Layers are separated by spaces (or commas).
    """
    import inspect

    from jaxnn.layers import get as layer_type

    specs, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _LAYER.match(text, pos)
        if not m or m.end() == pos:
            raise JaxnnError(
                f"--layers: cannot read {text[pos:]!r}; write layers as name(arguments) separated by spaces, "
                'e.g. --layers "conv(20,5) fc(100) softmax(10)"'
            )
        pos = m.end()
        name = LAYER_ALIASES.get(m.group(1), m.group(1))
        kind = layer_type(name)
        params = [p for p in inspect.signature(kind.make).parameters]
        settings: dict = {}
        args = [a.strip() for a in (m.group(2) or "").split(",") if a.strip()]
        for i, arg in enumerate(args):
            key, eq, value = arg.partition("=")
            if not eq:
                if any("=" in a for a in args[:i]):
                    raise JaxnnError(
                        f"--layers: in {m.group(0).strip()}, put positional arguments before key=value ones"
                    )
                if i >= len(params):
                    raise JaxnnError(f"--layers: {name} takes at most {len(params)} arguments ({', '.join(params)})")
                key, value = params[i], arg
            settings[key.strip()] = _value(value.strip())
        specs.append((name, settings))
    if not specs:
        raise JaxnnError('--layers is empty: give layers such as "conv(20,5) fc(100) softmax(10)"')
    return specs


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


_EXAMPLES = {
    "jaxnn": """Examples:
  jaxnn train                                   # the book's chapter 1 run: [784, 30, 10], 30 epochs, η = 3.0
  jaxnn train --help                            # every option of one subcommand, with examples
  jaxnn summary model.npz                       # the layers, shapes and training settings of a saved model
  jaxnn list                                    # the registered components, plugins included""",
    "train": """Examples:
  jaxnn train                                   # the book's chapter 1 run (about 95% after 30 epochs)
  jaxnn train --sizes 784,100,10 --epochs 10 --save model.npz --history history.csv
  jaxnn train --cost cross-entropy --init default --eta 0.5 --lmbda 5 --monitor --plot curves.png
  jaxnn train --layers "conv(20,5) fc(100) softmax(10)" --epochs 1 --train-size 5000 --save conv.npz
  jaxnn train --epochs 5 --misclassified grid.png     # a grid of misclassified test digits
  jaxnn train --checkpoint run.ckpt --resume    # go on where an interrupted run (Ctrl-C) stopped
""",
    "sweep": """Examples:
  jaxnn sweep --cost cross-entropy --eta 0.5 --lmbda 0,1e-4,1e-3,0.1 --seeds 0,1,2 --epochs 10
  jaxnn sweep --eta 0.1,0.5,2.5 --p-dropout 0,0.2 --train-size 10000 --epochs 3
  jaxnn sweep --layers "conv(20,5) softmax(10)" --eta 0.03,0.1 --train-size 5000 --epochs 1
  jaxnn sweep --seeds 0,1,2 --epochs 30 --checkpoint sweep.ckpt --resume   # go on after an interruption
  jaxnn sweep --seeds 0,1,2,3 --distributed --coordinator 10.0.0.1:1234 --num-processes 2 --process-id 0""",
    "evaluate": """Examples:
  jaxnn evaluate model.npz                      # on the test data of the dataset it was trained on
  jaxnn evaluate model.npz --on validation
  jaxnn evaluate network2.json                  # a network saved by the book's network2.py""",
    "summary": """Examples:
  jaxnn summary model.npz
  jaxnn summary network2.json""",
    "list": """Examples:
  jaxnn list""",
    "explore": """Examples:
  jaxnn explore model.npz                       # draw digits, see every layer; train live; the book's figures
  jaxnn explore --no-browser --port 8000""",
}

_LAYERS_HELP = """Layers (--layers): name(arguments) separated by spaces; positional arguments in the order of
the layer's constructor, then key=value ones:
  conv(filters, filter_size, pool_size=2, activation=sigmoid)   network3's ConvPoolLayer
  fc(n_out, activation=sigmoid, p_dropout=0)                    network3's FullyConnectedLayer
  softmax(n_out, p_dropout=0)                                   network3's SoftmaxLayer
Other registered layers (see 'jaxnn list') by name with key=value settings. With --layers,
training follows network3: the data in order, the incomplete mini-batch dropped, L2 scaled by
λ/(n // m), log-likelihood cost, η = 0.1 unless given, validation data scored each epoch and
the test accuracy reported at the best validation epoch."""
_EXAMPLES["train"] += "\n\n" + _LAYERS_HELP
_EXAMPLES["sweep"] += "\n\n" + _LAYERS_HELP

_TRAIN_DEFAULTS = """Defaults: those of the book's chapter 1 (network.py): quadratic cost, N(0, 1) weights
(--init large), η = 3.0, the test data scored each epoch. 'jaxnn sweep' starts from chapter 3's
network2 instead (see its --help)."""

_SWEEP_DEFAULTS = """Defaults: a sweep searches hyper-parameters, so it starts from chapter 3's network2, not
from chapter 1 as 'jaxnn train' does: cross-entropy cost, N(0, 1/n_in) weights (--init
default), η = 0.5, 10 epochs, and it scores the validation data (choosing η or λ on the test
data would overfit the test data)."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the descriptions' and examples' layout, and appends each option's default."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (
            "(default" in text
            or not action.option_strings
            or any(action.default is v for v in (None, False, argparse.SUPPRESS))
            or isinstance(action, argparse._VersionAction)
        ):
            return text
        return text + " (default: %(default)s)"


def _subparser(sub, name: str, help: str, defaults: str = "") -> argparse.ArgumentParser:
    description = help[0].upper() + help[1:] + "."
    return sub.add_parser(
        name,
        help=help,
        description=description + ("\n\n" + defaults if defaults else ""),
        epilog=_EXAMPLES[name],
        formatter_class=_Formatter,
    )


def _add_network_options(p: argparse.ArgumentParser, *, sweep: bool) -> None:
    """The options that ``train`` and ``sweep`` share; their defaults differ as each description says."""
    p.add_argument("--dataset", default="mnist", help="mnist (shipped) or fashion-mnist (Debian's package)")
    p.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="layer widths of a fully connected network, input first (default: 784,30,10)",
    )
    p.add_argument(
        "--layers",
        default=None,
        metavar="SPEC",
        help='any stack of layers instead of --sizes, e.g. "conv(20,5) fc(100) softmax(10)" (see Layers below)',
    )
    p.add_argument("--mini-batch-size", type=int, default=10, help="examples per gradient step (the book's m)")
    p.add_argument(
        "--cost",
        default=None,
        help="cost by registry name (see 'jaxnn list') "
        + (
            "(default: cross-entropy; log-likelihood with --layers)"
            if sweep
            else "(default: quadratic; log-likelihood with --layers)"
        ),
    )
    p.add_argument("--activation", default=None, help="hidden activation by registry name (default: sigmoid)")
    p.add_argument("--output-activation", default=None, help="output layer's activation (default: the --activation)")
    p.add_argument(
        "--init",
        default=None,
        help="initializer: large (network.py's N(0,1)) or default (network2's N(0,1/n_in)) "
        + ("(default: default)" if sweep else "(default: large)"),
    )
    p.add_argument("--regularizer", default="l2", help="weight penalty l2 or l1 (used when λ > 0)")
    p.add_argument("--gradient", default="backprop", help="backprop, autodiff or backprop-per-example")
    p.add_argument("--momentum", type=float, default=0.0, help="momentum coefficient μ (0: plain SGD)")
    p.add_argument(
        "--train-size",
        type=int,
        default=None,
        metavar="N",
        help="train on the first N training images only (default: all)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxnn",
        description=__doc__.split("\n\n")[0].replace("``", ""),
        epilog=_EXAMPLES["jaxnn"],
        formatter_class=_Formatter,
    )
    p.add_argument("--version", action="version", version=f"jaxnn {__version__}", help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = _subparser(
        sub, "train", "train a network by mini-batch SGD (default: the book's chapter 1 run)", _TRAIN_DEFAULTS
    )
    _add_network_options(t, sweep=False)
    t.add_argument("--epochs", type=int, default=30, help="the most passes over the training data")
    t.add_argument("--eta", type=float, default=None, help="learning rate η (default: 3.0; 0.1 with --layers)")
    t.add_argument("--seed", type=int, default=0, help="seed of the PRNG key for init and shuffles")
    t.add_argument(
        "--evaluate-on",
        choices=["test", "validation", "none"],
        default=None,
        help="the data scored each epoch (default: test, as network.py; validation with --layers, as network3)",
    )
    t.add_argument("--lmbda", type=float, default=0.0, help="regularization parameter λ (network2)")
    t.add_argument(
        "--p-dropout",
        type=float,
        default=None,
        help="dropout rate of hidden units (default: 0; per layer with --layers)",
    )
    t.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        metavar="N",
        help="stop after N epochs without a better evaluation accuracy (default: never)",
    )
    t.add_argument(
        "--halve-eta-after",
        type=int,
        default=None,
        metavar="N",
        help="halve η after N epochs without improvement; stop at η/128 (default: never)",
    )
    t.add_argument("--monitor", action="store_true", help="also print network2's training cost and accuracy per epoch")
    t.add_argument("--save", default=None, metavar="PATH", help="save the trained model (.npz); see 'jaxnn summary'")
    t.add_argument(
        "--history",
        default=None,
        metavar="FILE",
        help="write the per-epoch history as FILE.json (every list) or FILE.csv (one row per epoch)",
    )
    t.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="write a checkpoint after every epoch, so that an interrupted run can go on with --resume",
    )
    t.add_argument("--resume", action="store_true", help="go on from --checkpoint if it exists, bit for bit")
    t.add_argument(
        "--plot",
        default=None,
        metavar="PNG",
        help="write the accuracy per epoch (and, with --monitor, the cost) as a PNG; needs matplotlib",
    )
    t.add_argument(
        "--misclassified",
        default=None,
        metavar="PNG",
        help="write a grid of misclassified evaluation (or test) digits as a PNG; needs matplotlib",
    )

    w = _subparser(
        sub, "sweep", "train a grid of seeds × η × λ × dropout at once (one compiled program)", _SWEEP_DEFAULTS
    )
    _add_network_options(w, sweep=True)
    w.add_argument("--epochs", type=int, default=10, help="passes over the training data")
    w.add_argument("--eta", type=_floats, default="0.5", help="one or more learning rates η, comma-separated")
    w.add_argument("--lmbda", type=_floats, default="0", help="one or more regularization parameters λ")
    w.add_argument(
        "--p-dropout",
        type=_floats,
        default=None,
        help="one or more dropout rates of hidden units (default: 0; with --layers, the layers' own)",
    )
    w.add_argument("--seeds", type=_sizes, default="0", help="one or more seeds, comma-separated: one network each")
    w.add_argument(
        "--evaluate-on", choices=["test", "validation"], default="validation", help="the data scored each epoch"
    )
    w.add_argument("--save", default=None, metavar="PATH", help="write the result (.npz); process 0 writes it")
    w.add_argument(
        "--json",
        default=None,
        metavar="PATH",
        help="write the accuracies per network and epoch as JSON, which 'jaxnn explore' draws as a heat map",
    )
    w.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="write every network's state after every epoch (process 0), so that an interrupted sweep can go on with --resume",
    )
    w.add_argument("--resume", action="store_true", help="go on from --checkpoint if it exists, bit for bit")
    w.add_argument(
        "--distributed",
        action="store_true",
        help="run as one of several processes (jax.distributed); see docs/distributed.md",
    )
    w.add_argument("--coordinator", default=None, metavar="HOST:PORT", help="process 0's address (JAXNN_COORDINATOR)")
    w.add_argument("--num-processes", type=int, default=None, help="number of processes (JAXNN_NUM_PROCESSES)")
    w.add_argument("--process-id", type=int, default=None, help="this process's number (JAXNN_PROCESS_ID)")

    e = _subparser(sub, "evaluate", "score a saved model")
    e.add_argument("model", help="a model saved with 'jaxnn train --save' (.npz) or by network2.py (.json)")
    e.add_argument("--dataset", default=None, help="default: the dataset it was trained on (else mnist)")
    e.add_argument("--on", choices=["test", "validation", "training"], default="test", help="the split to score")

    s = _subparser(sub, "summary", "show a saved model's layers, shapes, parameter count and training settings")
    s.add_argument("model", help="a model saved with 'jaxnn train --save' (.npz) or by network2.py (.json)")

    _subparser(sub, "list", "list the registered components, plugins included")

    x = _subparser(
        sub, "explore", "open a local web app to look inside a network, train live, and see the book's figures"
    )
    x.add_argument("model", nargs="?", default=None, help="a jaxnn .npz or network2 JSON model file (optional)")
    x.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    x.add_argument("--port", type=int, default=8765, help="the port (0: any free one)")
    x.add_argument("--host", default="127.0.0.1", help="the address to bind; a non-loopback one needs --token")
    x.add_argument("--token", default=None, help="a secret every request must carry")
    return p


# -- train


def _check_output(flag: str, path, make_folder: bool) -> Path:
    """Fails at once, before any training, when ``path`` cannot be written."""
    p = Path(path)
    if not str(path) or p.is_dir():
        raise JaxnnError(f"{flag} {path} is a folder: give a file name such as {p / 'out'}")
    if p.exists() and not p.is_file():
        raise JaxnnError(f"{flag} {path} exists and is not a regular file: pick another path")
    folder = p.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise JaxnnError(f"cannot write {flag} {path}: {existing} is not a folder; pick another path")
    if existing != folder and not make_folder:
        raise JaxnnError(f"cannot write {flag} {path}: the folder {folder} does not exist; create it first")
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        raise JaxnnError(
            f"cannot write {flag} {path}: {existing} is not writable ({exc.strerror}); pick another folder"
        ) from None
    return p


def _check_outputs(args) -> None:
    """Every file the run will write, checked before it starts: a bad path fails now, not after training."""
    if args.history and Path(args.history).suffix.lower() not in (".json", ".csv"):
        raise JaxnnError(f"--history writes .json or .csv files, got {args.history}: name it history.json or .csv")
    outputs = [
        ("--save", args.save, False),
        ("--checkpoint", args.checkpoint, False),
        ("--history", args.history, False),
        ("--plot", args.plot, True),
        ("--misclassified", args.misclassified, True),
    ]
    seen: dict = {}
    for flag, path, make_folder in outputs:
        if path is None:
            continue
        resolved = _check_output(flag, path, make_folder).resolve()
        if resolved in seen:
            raise JaxnnError(f"{seen[resolved]} and {flag} both write {path}: give each its own file")
        seen[resolved] = flag
    if args.resume and not args.checkpoint:
        raise JaxnnError("--resume goes on from a checkpoint: pass --checkpoint PATH too")
    if args.plot and args.evaluate_on == "none" and not args.monitor:
        raise JaxnnError("--plot has nothing to draw with --evaluate-on none: add --monitor or score some data")


def _train_settings(args) -> None:
    """Fills the defaults that depend on --layers (see the help)."""
    conv = args.layers is not None
    if conv:
        given = [
            f
            for f, v in (
                ("--sizes", args.sizes),
                ("--activation", args.activation),
                ("--output-activation", args.output_activation),
                ("--init", args.init),
            )
            if v is not None
        ]
        if given:
            raise JaxnnError(f"{', '.join(given)}: with --layers, set these per layer, e.g. fc(100, activation=relu)")
    args.sizes = args.sizes if args.sizes is not None else [784, 30, 10]
    args.activation = args.activation or "sigmoid"
    args.cost = args.cost or ("log-likelihood" if conv else "cross-entropy" if args.command == "sweep" else "quadratic")
    if args.command == "train":
        args.init = args.init or "large"
        args.eta = args.eta if args.eta is not None else (0.1 if conv else 3.0)
        args.evaluate_on = args.evaluate_on or ("validation" if conv else "test")
    else:
        args.init = args.init or "default"


def _conv_network(args, n_inputs: int):
    """The network of --layers: images of side √n_inputs for a first layer that takes images."""
    import math

    import jaxnn
    from jaxnn.layers import get as layer_type

    specs = parse_layers(args.layers)
    if len(layer_type(specs[0][0]).example_in_shape) == 3:
        side = math.isqrt(n_inputs)
        if side * side != n_inputs:
            raise JaxnnError(f"--layers starts with {specs[0][0]}, which takes square images; got {n_inputs} pixels")
        in_shape: tuple = (1, side, side)
    else:
        in_shape = (n_inputs,)
    return jaxnn.network(specs, in_shape, cost=args.cost, regularizer=args.regularizer)


def _train(args) -> int:
    _train_settings(args)
    _check_outputs(args)
    if args.plot or args.misclassified:
        from jaxnn import plotting

        plotting.pyplot()  # no matplotlib: stop now, with the install command, not after training

    import jax

    import jaxnn
    from jaxnn import data as datasets
    from jaxnn import validation

    data = datasets.load(args.dataset)
    training = _training_split(args, data)
    evaluation = None if args.evaluate_on == "none" else getattr(data, args.evaluate_on)
    n_inputs = int(training.x.shape[1])
    for name, value in (("eta", args.eta), ("lmbda", args.lmbda)):  # bad numbers before the initial draw
        validation.positive_float(value, name, allow_zero=name == "lmbda")
    if args.p_dropout is not None:
        validation.fraction(args.p_dropout, "p_dropout", "the probability of dropping a unit")
    validation.fraction(args.momentum, "momentum", "the momentum coefficient μ")
    key_init, key_sgd = jax.random.split(validation.prng_key(validation.seed(args.seed, "--seed")))
    if args.layers is not None:
        net = _conv_network(args, n_inputs)
        params = jaxnn.init_network(key_init, net)
        options: dict = dict(net=net, p_dropout=args.p_dropout, **jaxnn.NETWORK3)
        if evaluation is not None and args.evaluate_on == "validation":
            options["test_data"] = data.test  # network3's report: the test accuracy at the best validation epoch
        described = args.layers
    else:
        args.sizes = validation.check_sizes(args.sizes)
        if args.sizes[0] != n_inputs:
            raise JaxnnError(f"--sizes must start with {n_inputs}, the number of pixels per image; got {args.sizes[0]}")
        components = dict(cost=args.cost, activation=args.activation, output_activation=args.output_activation)
        p_dropout = args.p_dropout or 0.0
        # the network as a record, for the model file: it rebuilds the same predictions, dropout's scaling included
        net = jaxnn.mlp(
            args.sizes,
            init=args.init,
            p_dropout=p_dropout,
            dropout="book" if p_dropout else None,
            regularizer=args.regularizer,
            **components,
        )
        params = jaxnn.init_params(key_init, args.sizes, args.init)
        options = dict(regularizer=args.regularizer, p_dropout=p_dropout, **components)
        described = "[" + ",".join(map(str, args.sizes)) + "]"
    start = time.perf_counter()
    try:
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
            momentum=args.momentum,
            early_stopping=args.early_stopping,
            halve_eta_after=args.halve_eta_after,
            monitor_training_cost=args.monitor,
            monitor_training_accuracy=args.monitor,
            monitor_evaluation_cost=args.monitor and evaluation is not None,
            checkpoint=args.checkpoint,
            resume=args.resume,
            **options,
        )
    except KeyboardInterrupt:
        raise _Interrupted(_resume_hint(args)) from None
    if history.stopped:
        print(f"Stopped: {history.stopped}")
    total = time.perf_counter() - start
    print(
        f"Trained {described} for {len(history.epoch)} epochs in {total:.1f} s "
        f"({args.gradient}; first epoch with compilation {history.seconds[0]:.2f} s)"
        if history.seconds
        else "No epochs run."
    )
    if evaluation is not None and history.evaluation_correct:
        best_epoch, best = history.best()
        last = history.evaluation_accuracy[-1]
        print(f"Best epoch {best_epoch}: {best:.2%} on {args.evaluate_on} data; last epoch: {last:.2%}")
        if "test_data" in options:
            epoch, _, test = history.best_validation()
            if test is not None:
                print(f"Test accuracy at the best validation epoch ({epoch}): {test:.2%}")
    # the files that cannot fail for a figure's reason first: a figure failure never loses the model
    if args.save:
        meta = dict(
            dataset=args.dataset,
            seed=args.seed,
            epochs=len(history.epoch),
            mini_batch_size=args.mini_batch_size,
            eta=args.eta,
            lmbda=args.lmbda,
            momentum=args.momentum,
            gradient=args.gradient,
            train_size=len(training),
        )
        if args.layers is not None:
            meta["layers"] = args.layers
        else:
            meta["init"] = args.init
        if history.evaluation_correct:
            meta[f"{args.evaluate_on}_accuracy"] = history.evaluation_accuracy[-1]
        path = jaxnn.save_model(args.save, params, net=net, **meta)
        print(f"Saved the model to {path}")
    if args.history:
        print(f"Wrote the history to {write_history(history, args.history)}")
    try:
        _figures(args, net, params, history, evaluation if evaluation is not None else data.test, described)
    except (JaxnnError, OSError):
        if args.save:
            print(f"jaxnn: the model was saved to {args.save} before the figures", file=sys.stderr)
        raise
    return 0


def _checkpoint_epoch(path):
    """The last epoch a checkpoint holds, or None when there is none (or it cannot be read)."""
    import json

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            return int(json.loads(z["__jaxnn__"].tobytes().decode())["epoch"])
    except Exception:  # noqa: BLE001 - only for the message
        return None


def _resume_hint(args, verb: str = "train") -> str:
    argv = list(args.argv)
    if not args.checkpoint:
        return f"nothing was saved; to be able to go on after an interruption, {verb} with --checkpoint PATH"
    epoch = _checkpoint_epoch(args.checkpoint)
    if epoch is None:
        return f"no epoch had finished, so {args.checkpoint} holds nothing to resume; start again"
    command = "jaxnn " + shlex.join(argv + ([] if "--resume" in argv else ["--resume"]))
    return f"the checkpoint {args.checkpoint} holds epoch {epoch}; go on with:\n  {command}"


def write_history(history, path) -> Path:
    """Writes a `jaxnn.History` as JSON (every field, plus the accuracies) or CSV (one row per epoch)."""
    import csv
    import io
    import json
    import math

    from jaxnn._files import atomic_write

    path = Path(path)
    n = len(history.epoch)
    columns = {
        "epoch": history.epoch,
        "eta": history.eta,
        "seconds": history.seconds[:n],
        "evaluation_correct": history.evaluation_correct,
        "evaluation_accuracy": history.evaluation_accuracy,
        "evaluation_cost": history.evaluation_cost,
        "training_correct": history.training_correct,
        "training_accuracy": history.training_accuracy,
        "training_cost": history.training_cost,
        "test_correct": history.test_correct,
        "test_accuracy": history.test_accuracy,
    }

    def finite(v):
        return None if isinstance(v, float) and not math.isfinite(v) else v

    if path.suffix.lower() == ".csv":
        measured = {k: v for k, v in columns.items() if len(v) == n}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(measured)
        for i in range(n):
            writer.writerow(
                ["" if v[i] is None else repr(v[i]) if isinstance(v[i], float) else v[i] for v in measured.values()]
            )
        text = out.getvalue()
    else:
        record = {
            **history.as_dict(),
            **{k: columns[k] for k in ("evaluation_accuracy", "training_accuracy", "test_accuracy")},
        }
        record = {k: [finite(x) for x in v] if isinstance(v, list) else finite(v) for k, v in record.items()}
        text = json.dumps(record, indent=1, allow_nan=False) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()))


def _figures(args, net, params, history, split, described: str) -> None:
    """Writes the --plot and --misclassified PNGs."""
    import jaxnn
    from jaxnn import plotting

    if args.plot:
        path = plotting.training_curves(history, args.plot, title=f"{described}, {args.cost}, η = {args.eta:g}")
        print(f"Wrote the training curves to {path}")
    if args.misclassified:
        predicted = jaxnn.predict(params, split.x, net=net)
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


# -- sweep, evaluate, summary, list


def _sweep(args) -> int:
    _train_settings(args)
    import jaxnn
    from jaxnn import data as datasets
    from jaxnn import distributed

    if args.epochs < 1:
        raise JaxnnError(f"--epochs must be at least 1 for a sweep, got {args.epochs}")
    if args.distributed:  # first, before anything touches a device
        distributed.init(args.coordinator, args.num_processes, args.process_id)
    elif args.coordinator or args.num_processes is not None or args.process_id is not None:
        raise JaxnnError("--coordinator, --num-processes and --process-id go with --distributed: add it")
    if args.resume and not args.checkpoint:
        raise JaxnnError("--resume goes on from a checkpoint: pass --checkpoint PATH too")
    writer = distributed.is_writer()
    if writer:
        outputs = [
            (f, p) for f, p in (("--save", args.save), ("--json", args.json), ("--checkpoint", args.checkpoint)) if p
        ]
        seen: dict = {}
        for flag, path in outputs:
            resolved = _check_output(flag, path, False).resolve()
            if resolved in seen:
                raise JaxnnError(f"{seen[resolved]} and {flag} both write {path}: give each its own file")
            seen[resolved] = flag
    data = datasets.load(args.dataset)
    training = _training_split(args, data)
    if args.layers is not None:
        model = _conv_network(args, int(training.x.shape[1]))
        options: dict = dict(jaxnn.NETWORK3)
    else:
        model = args.sizes
        options = dict(
            init=args.init,
            cost=args.cost,
            activation=args.activation,
            output_activation=args.output_activation,
            regularizer=args.regularizer,
        )
    try:
        result = jaxnn.sweep(
            model,
            training,
            args.epochs,
            args.mini_batch_size,
            args.eta,
            seeds=args.seeds,
            lmbda=args.lmbda,
            p_dropout=args.p_dropout,
            evaluation_data=getattr(data, args.evaluate_on),
            gradient=args.gradient,
            momentum=args.momentum,
            show_progress=not args.no_progress and writer,
            checkpoint=args.checkpoint,
            resume=args.resume,
            **options,
        )
    except KeyboardInterrupt:
        raise _Interrupted(_resume_hint(args, "sweep")) from None
    if not writer:  # process 0 reports for all
        return 0
    print(
        f"Trained {len(result.configs)} networks at once in {sum(result.seconds):.1f} s "
        f"(first epoch with compilation {result.seconds[0]:.2f} s); accuracy on {args.evaluate_on} data:"
    )
    print(result.table())
    if args.save:
        print(f"Saved the result to {result.save(args.save)}")
    if args.json:
        print(f"Wrote the accuracies to {result.save_json(args.json)} (open it in 'jaxnn explore', view 4)")
    return 0


def _evaluate(args) -> int:
    import jaxnn
    from jaxnn import data as datasets

    net, params, meta = jaxnn.load_network(args.model)
    dataset = args.dataset or meta.get("dataset", "mnist")
    split = getattr(datasets.load(dataset), args.on)
    correct = jaxnn.evaluate(params, split.x, split.y, net=net)
    print(f"{args.model}: {correct} / {len(split)} correct on {dataset} {args.on} data ({correct / len(split):.2%})")
    return 0


def _summary(args) -> int:
    import jax
    import numpy as np

    import jaxnn

    net, params, meta = jaxnn.load_network(args.model)
    kind = "network2.py JSON file" if meta.get("format") == "network2" else f"jaxnn model, format {meta.get('version')}"
    print(f"{args.model}: {kind}")
    print(f"input {tuple(net.in_shape)}, cost {net.cost.name}, regularizer {net.regularizer.name}")
    rows = [("#", "layer", "settings", "output", "parameters", "count")]
    total = 0
    for l, (layer, layer_params) in enumerate(zip(net.layers, params)):
        settings = ", ".join(f"{k}={getattr(v, 'name', v)}" for k, v in layer.config)
        shapes = ", ".join(f"{k} {tuple(np.shape(a))}" for k, a in sorted(layer_params.items()))
        count = sum(int(np.size(a)) for a in layer_params.values())
        total += count
        rows.append((str(l), layer.name, settings, str(tuple(net.shapes[l + 1])), shapes, f"{count:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) if i < len(r) - 1 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    dtypes = sorted({str(np.asarray(a).dtype) for a in jax.tree_util.tree_leaves(params)})
    print(f"parameters: {total:,} ({', '.join(dtypes)})")
    rest = {k: v for k, v in meta.items() if k not in ("format", "version", "network", "sizes")}
    if rest:
        print("training: " + ", ".join(f"{k}={v}" for k, v in sorted(rest.items())))
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


def _explore(args) -> int:
    from jaxnn import explore

    return explore.serve(args.model, host=args.host, port=args.port, token=args.token, open_browser=not args.no_browser)


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what was kept and how to go on."""


class _CtrlC:
    """Ctrl-C for a training command run as the process's own command: it stops at once.

    Python runs its SIGINT handler (which raises KeyboardInterrupt) only between bytecodes of the
    main thread, so on its own a Ctrl-C waits for the compiled epoch in flight to end, and one that
    lands in a ``__del__`` or a callback is printed as "Exception ignored" and lost, while
    training goes on. Here SIGINT is blocked in the main thread before JAX starts its threads, so
    that every thread started later leaves it to one waiting thread, which raises
    KeyboardInterrupt in the main thread: the usual path (a message naming the checkpoint and how
    to resume, exit status 130) runs. A watchdog started at the first Ctrl-C ends the process
    itself, with the same message, if it is still running `GRACE` seconds later or at a second
    Ctrl-C, after any file being written is complete (`_files.WRITING`).
    """

    GRACE = 3.0

    def __init__(self, message):
        self.message = message
        self.lock = threading.Lock()
        self.started = False
        self.simulated = 0
        self.again = threading.Event()
        self.said = False

    def install(self) -> bool:
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
            return False
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return False  # ignored (a background job) or handled by the caller: leave it so
        # a thread started before this one (none in the command line) may still take a SIGINT:
        # then Python runs this handler in the main thread
        signal.signal(signal.SIGINT, self._handler)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        threading.Thread(target=self._wait, name="jaxnn-ctrl-c", daemon=True).start()
        return True

    def _handler(self, signum, frame):
        with self.lock:
            simulated = self.simulated > 0
            self.simulated -= simulated
        if not simulated:
            self._interrupted()
        raise KeyboardInterrupt

    def _wait(self) -> None:
        while True:
            signal.sigwait({signal.SIGINT})
            if self._interrupted():
                with self.lock:
                    self.simulated += 1
                _thread.interrupt_main(signal.SIGINT)

    def _interrupted(self) -> bool:
        """Counts a Ctrl-C: the first starts the watchdog (True), a second ends the process now."""
        with self.lock:
            first, self.started = not self.started, True
        if first:
            threading.Thread(target=self._watchdog, name="jaxnn-ctrl-c-watchdog", daemon=True).start()
        else:
            self.again.set()
        return first

    def _watchdog(self) -> None:
        self.again.wait(self.GRACE)
        files = sys.modules.get("jaxnn._files")
        if files is not None:
            files.EXITING.set()
            files.WRITING.acquire(timeout=60)  # a file being written is finished (or given up) first
        self.exit()

    def exit(self) -> None:
        with self.lock:
            if not self.said:
                self.said = True
                try:
                    text = self.message()
                except Exception:  # noqa: BLE001 - the exit must not fail on the message
                    text = ""
                print(f"jaxnn: interrupted{'; ' + text if text else ''}", file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    ctrl_c = None
    if argv is None and args.command in ("train", "sweep"):  # the process's own training command
        ctrl_c = _CtrlC(lambda: _resume_hint(args, args.command))
        ctrl_c.install()
    try:
        commands = {"train": _train, "sweep": _sweep, "evaluate": _evaluate, "summary": _summary, "list": _list}
        commands["explore"] = _explore
        return commands[args.command](args)
    except JaxnnError as exc:
        print(f"jaxnn: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk or a read-only folder: say so in one line, not a traceback
        import errno

        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        print(
            f"jaxnn: error: {exc.strerror or exc} ({exc.filename or 'file system'}): "
            + ("free space or pick another path" if full else "pick another path"),
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt as exc:
        hint = str(exc) if isinstance(exc, _Interrupted) else ""
        if ctrl_c is not None:
            ctrl_c.message = lambda: hint
            ctrl_c.exit()
        print(f"jaxnn: interrupted{'; ' + hint if hint else ''}", file=sys.stderr)
        if argv is None:  # the process's own command: exit now, not after the computation in flight ends
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        return 130


if __name__ == "__main__":
    sys.exit(main())
