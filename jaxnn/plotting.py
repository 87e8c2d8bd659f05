"""Small plotting helpers for the examples; matplotlib is optional.

matplotlib is not a dependency of jaxnn. Install it with ``pip install jaxnn[plot]``. The
helpers import it lazily, always select the non-interactive Agg backend (so they work on a
machine without a display), and raise a :class:`jaxnn.JaxnnError` that names the install
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
from typing import Any, Tuple

from jaxnn.errors import JaxnnError

INSTALL_HINT = "pip install jaxnn[plot]"


def pyplot():
    """Returns ``matplotlib.pyplot`` with the Agg backend selected.

    Raises:
      JaxnnError: when matplotlib is not installed; the message names ``pip install jaxnn[plot]``.
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

    Returns:
      The path written, relative to the current directory when it lies below it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


__all__ = ["INSTALL_HINT", "available", "pyplot", "save", "subplots"]
