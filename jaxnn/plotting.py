"""Small plotting helpers for the examples; matplotlib is optional.

matplotlib is not a dependency of jaxnn. Install it with ``pip install "jaxnn[plot]"``. The
helpers import it lazily, always select the non-interactive Agg backend (so they work on a
machine without a display), and raise a [`jaxnn.JaxnnError`][jaxnn.errors.JaxnnError] that names the install
command when it is missing::

    from jaxnn import plotting

    if plotting.available():
        fig, ax = plotting.subplots()
        ax.plot([0, 1], [0, 1])
        plotting.save(fig, "docs/figures/line.png")
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Sequence, Tuple

import numpy as np

from jaxnn import _files
from jaxnn.errors import JaxnnError

INSTALL_HINT = 'pip install "jaxnn[plot]"'


def pyplot():
    """Returns ``matplotlib.pyplot`` with the Agg backend selected.

    Raises:
      JaxnnError: when matplotlib is not installed; the message names ``pip install "jaxnn[plot]"``.
    """
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        raise JaxnnError(f"plotting needs matplotlib, which is not installed: {INSTALL_HINT}") from None
    matplotlib.use("Agg", force=True)
    return importlib.import_module("matplotlib.pyplot")


def available() -> bool:
    """Whether matplotlib can be imported (the examples skip their figures when it cannot)."""
    try:
        pyplot()
    except JaxnnError:
        return False
    return True


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 4.0, height: float = 3.0, **kwargs) -> Tuple[Any, Any]:
    """``plt.subplots`` with a figure size of ``width`` × ``height`` inches per panel."""
    plt = pyplot()
    kwargs.setdefault("figsize", (width * ncols, height * nrows))
    kwargs.setdefault("constrained_layout", True)
    return plt.subplots(nrows, ncols, **kwargs)


def save(fig, path, *, dpi: int = 80) -> Path:
    """Writes ``fig`` as a PNG to ``path`` (creating its folder) and closes it.

    The file is written to a temporary name beside ``path`` and then renamed, so a reader
    never sees half a PNG.

    Returns:
      The path written, relative to the current directory when it lies below it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _files.atomic_write(path, lambda f: fig.savefig(f, dpi=dpi, format="png"), "figure")
    finally:
        pyplot().close(fig)
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def training_curves(history, path, *, title: str = "") -> Path:
    """Plots a [`jaxnn.History`][jaxnn.history.History] per epoch and writes it as a PNG.

    One panel shows the accuracy of every measured split (evaluation and, when monitored,
    training), another the cost of every measured split. Only what was measured is drawn: a
    run that recorded no cost gets the accuracy panel alone.

    Args:
      history: what [`jaxnn.sgd`][jaxnn.training.sgd] returned.
      path: the PNG to write.
      title: a title over the panels.

    Returns:
      The path written (see [`save`][jaxnn.plotting.save]).

    Raises:
      JaxnnError: when the history holds no accuracy and no cost (nothing was measured).
    """
    epochs = list(history.epoch)
    panels = [
        (
            "accuracy (%)",
            [
                (label, [100 * v for v in values])
                for label, values in (
                    ("evaluation", history.evaluation_accuracy),
                    ("training", history.training_accuracy),
                )
                if values
            ],
        ),
        (
            "cost",
            [
                (label, values)
                for label, values in (("evaluation", history.evaluation_cost), ("training", history.training_cost))
                if values
            ],
        ),
    ]
    panels = [(name, curves) for name, curves in panels if curves]
    if not panels:
        raise JaxnnError("nothing to plot: the history has no accuracy and no cost; pass evaluation_data or monitor")
    fig, axes = subplots(1, len(panels), width=4.5, height=3.2, squeeze=False)
    ticker = importlib.import_module("matplotlib.ticker")
    for ax, (name, curves) in zip(axes.flat, panels):
        for label, values in curves:
            ax.plot(epochs[: len(values)], values, marker="o", ms=3, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.set_ylabel(name)
        ax.legend()
    if title:
        fig.suptitle(title)
    return save(fig, path)


def misclassified_grid(
    images,
    labels: Sequence[int],
    predicted: Sequence[int],
    path,
    *,
    max_images: int = 36,
    columns: int = 6,
    title: str = "",
) -> Path:
    """Draws the misclassified images in a grid, each captioned with its true and predicted label.

    Args:
      images: rows of 784 pixels (or ``(n, 28, 28)`` images).
      labels: the true labels.
      predicted: the network's predictions, one per image.
      path: the PNG to write.
      max_images: how many misclassified images to show at most (the first ones, in order).
      columns: images per row of the grid.
      title: a title over the grid; by default it counts the errors.

    Returns:
      The path written (see [`save`][jaxnn.plotting.save]).
    """
    images = np.asarray(images)
    truth, guess = np.asarray(labels).reshape(-1), np.asarray(predicted).reshape(-1)
    wrong = np.flatnonzero(truth != guess)
    shown = wrong[:max_images]
    n = max(len(shown), 1)
    cols = min(columns, n)
    rows = -(-n // cols)
    fig, axes = subplots(rows, cols, width=1.3, height=1.5, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < len(shown):
            i = shown[k]
            ax.imshow(images[i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"true {truth[i]}, got {guess[i]}", fontsize=8)
    if not len(shown):
        axes.flat[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    fig.suptitle(title or f"{len(shown)} of {len(wrong)} misclassified (of {len(labels)})", fontsize=9)
    return save(fig, path)


__all__ = ["INSTALL_HINT", "available", "misclassified_grid", "pyplot", "save", "subplots", "training_curves"]
