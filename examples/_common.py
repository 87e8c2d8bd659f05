"""What the example scripts share: their command line, where figures go, and saving figures.

Every example is run as ``python examples/NAME.py [--quick] [--out DIR]``. ``parser`` builds
that command line from the script's docstring (its first line is the description, its
``python examples/...`` lines are the ``--help`` examples); ``can_plot`` says whether
matplotlib is there (and, when it is not, prints how to install it, so the script still
prints its answer); ``save_figure`` writes ``NAME.png`` into the ``--out`` folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jaxnn import JaxnnError, plotting

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"


def parser(doc: str, quick: str | None = None, *, figure: bool = True) -> argparse.ArgumentParser:
    """An argument parser for an example script.

    Args:
      doc: the script's ``__doc__``: its first line is the description, and its lines that
        start with ``python examples/`` are shown under "Examples" in ``--help``.
      quick: the help text of ``--quick`` (what the quick mode does); no ``--quick`` when None.
      figure: whether the script draws a figure (then it takes ``--out DIR``).
    """
    usage = [line.strip() for line in doc.splitlines() if line.strip().startswith("python examples/")]
    p = argparse.ArgumentParser(
        description=doc.strip().splitlines()[0],
        epilog="Examples:\n" + "\n".join(f"  {line}" for line in usage) if usage else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if quick is not None:
        p.add_argument("--quick", action="store_true", help=quick)
    if figure:
        p.add_argument("--out", type=Path, default=FIGURES, help="folder for the figure (default: docs/figures)")
    return p


def out_dir(args: argparse.Namespace) -> Path:
    """The folder the figure goes to: ``--out``, docs/figures by default."""
    return Path(getattr(args, "out", FIGURES))


def can_plot() -> bool:
    """Whether matplotlib is installed; when it is not, prints why the figure is skipped and how to fix it."""
    try:
        plotting.pyplot()
    except JaxnnError as e:
        print(f"\nfigure skipped: {e}")
        return False
    return True


def save_figure(fig, name: str, args: argparse.Namespace) -> Path:
    """Saves ``fig`` as ``NAME.png`` in the ``--out`` folder and prints where it went."""
    path = plotting.save(fig, out_dir(args) / f"{name}.png")
    print(f"\nfigure: {path}")
    return path
