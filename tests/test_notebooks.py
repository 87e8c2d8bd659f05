"""The notebooks (notebooks/*.py, jupytext percent format): each one runs from top to bottom in a
fresh kernel in its short form, draws its figures, and its hand-written gradients match jax.grad."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
#: notebook -> the figures it draws
FIGURES = {"chapter1": 4, "chapter2": 1, "chapter3": 3, "chapter5": 2, "chapter6": 3, "exercises": 2}
CHAPTERS = list(FIGURES)

needs_jupyter = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("jupytext", "nbclient", "ipykernel", "matplotlib")),
    reason='the notebooks extra is not installed (pip install -e ".[plot,notebooks]")',
)


def test_every_chapter_has_a_notebook_and_no_outputs_are_committed():
    assert [p.stem for p in NOTEBOOKS] == sorted(CHAPTERS)
    assert not list((ROOT / "notebooks").glob("*.ipynb")), "notebooks are kept as .py files (jupytext) only"
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# ---\n# jupyter:\n#   jupytext:"), f"{path.name}: no jupytext header"
        head = text[: text.index("# %%\n")]  # the first markdown cell
        assert 'pip install -e ".[plot,notebooks]"' in head, f"{path.name}: no install line"
        assert 'pip install "jaxnn[cuda]"' in head, f"{path.name}: no GPU note"
        assert 'FULL = os.environ.get("JAXNN_FULL") == "1"' in text, f"{path.name}: no switch to the full length"


def outputs(nb):
    """Every code cell's text output and the number of images drawn."""
    text, images = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text.append(out["text"])
            elif "data" in out:
                images += "image/png" in out["data"]
                text.append(out["data"].get("text/plain", ""))
    return "".join(text), images


@needs_jupyter
@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_runs_in_its_short_form(name, tmp_path, monkeypatch):
    import jupytext
    from nbclient import NotebookClient

    monkeypatch.delenv("JAXNN_FULL", raising=False)
    nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text, images = outputs(nb)
    assert images == FIGURES[name], f"{name}: {images} figures drawn"
    assert "Traceback" not in text
    # the hand-written gradients beside jax.grad: every printed difference is rounding
    diffs = [float(v) for v in re.findall(r"\|backprop - jax\.grad\|[^\n]*?(\d\.\d+e[-+]\d+)", text)]
    diffs += [float(v) for v in re.findall(r"vs jax\.grad:\s+(\d\.\d+e[-+]\d+)", text)]
    if name != "exercises":
        assert diffs, f"{name}: no backprop vs jax.grad comparison printed"
    assert all(d < 1e-6 for d in diffs), diffs
    if name == "chapter1":
        best = float(re.search(r"best: ([\d.]+)% at epoch", text).group(1))
        assert best > 80.0  # 3 epochs of [784, 30, 10] on all 50,000 images
    if name == "chapter5":  # the earlier layer learns more slowly, as the book shows
        first, second = map(float, re.search(r"2 hidden layer\(s\): ‖δ\^l‖ = \[([\d.]+) ([\d.]+)\]", text).groups())
        assert first < second / 2
