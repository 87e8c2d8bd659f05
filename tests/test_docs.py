"""The documentation: the site builds without warnings, its navigation covers every page, the
code's "Derivation:" pointers lead to real headings, and every figure comes with its command."""

import importlib.util
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension gives a heading (its default slugify)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # no headings in code
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def test_nav_lists_every_page():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config[config.index("\nnav:") :]
    listed = re.findall(r":\s*(\S+\.md)\s*$", nav, re.M)
    assert len(listed) == len(set(listed)), "a page is listed twice in mkdocs.yml"
    assert set(PAGES) <= set(listed), f"pages missing from the nav: {sorted(set(PAGES) - set(listed))}"


def test_derivation_pointers_lead_to_headings():
    pointers = []
    for source in sorted((ROOT / "jaxnn").rglob("*.py")):
        for target in re.findall(
            r"Derivation: (docs/\S+?\.md(?:#[\w-]+)?)(?=[\s\"`]|$)", source.read_text(encoding="utf-8")
        ):
            pointers.append((source.name, target))
    assert len(pointers) >= 10  # backprop, costs, regularizers, layers
    for source, target in pointers:
        path, _, anchor = target.partition("#")
        page = ROOT / path
        assert page.is_file(), f"{source}: {target} names a missing page"
        if anchor:
            assert anchor in anchors(page), f"{source}: {target} has no such heading"


def test_every_figure_gives_the_command_that_made_it():
    shown = 0
    for name in PAGES:
        text = (DOCS / name).read_text(encoding="utf-8")
        figures = re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", text)
        scripts = set(re.findall(r"python (examples/[\w/.-]+\.py)", text))
        scripts |= set(re.findall(r"python -m pytest (tests/[\w/.-]+\.py)", text))  # screenshots taken by a test
        cli = re.findall(r"^jaxnn \w+ .*$", text, re.M)  # a command line that names the file it writes
        for figure in figures:
            shown += 1
            assert (DOCS / name).parent.joinpath(figure).resolve().is_file(), f"{name}: {figure} is missing"
            stem = Path(figure).stem
            makers = [s for s in scripts if (ROOT / s).is_file() and stem in (ROOT / s).read_text(encoding="utf-8")]
            makers += [c for c in cli if f"docs/figures/{stem}.png" in c]
            assert makers, f"{name} shows {figure} but gives no command that writes it"
    assert shown >= 10


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("mkdocs", "material", "mkdocstrings_handlers")),
    reason='the docs extra is not installed (pip install -e ".[docs]")',
)
def test_site_builds_strict(tmp_path):
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line]
    assert proc.returncode == 0 and not warnings, "\n".join(warnings) or proc.stderr[-2000:]
    derivations = (site / "derivations" / "index.html").read_text(encoding="utf-8")
    assert derivations.count('class="arithmatex"') > 20  # the maths went to MathJax, not through as text
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="jaxnn.training.sgd"' in api and 'id="jaxnn.backprop.backprop"' in api  # built from docstrings
