"""The built documentation site: it loads nothing from outside (MathJax is vendored), the API page has
mkdocstrings cross-references and no Sphinx roles, the notebooks are pages, and in a headless Chromium
with every request outside 127.0.0.1 blocked the formulas are typeset and the quick-start line is not
clipped in a 1280-pixel window."""

import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EXTERNAL = re.compile(r"^\s*['\"]?\s*(https?:)?//", re.I)

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("mkdocs", "material", "mkdocstrings_handlers", "mkdocs_jupyter")),
    reason='the docs extra is not installed (pip install -e ".[docs]")',
)
browser_only = pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not os.path.exists(CHROMIUM),
    reason="needs playwright (python) and Debian's chromium (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("JAXNN_DOCS_EXECUTE", None)  # render the notebooks without running them
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


class Loads(HTMLParser):
    """Collects what a page makes the browser fetch: script/img/iframe src, link href, inline style url()."""

    def __init__(self):
        super().__init__()
        self.urls, self._style = [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        if a.get("style"):
            self.urls += css_urls(a["style"])
        self._style = tag == "style"

    def handle_data(self, data):
        if self._style:
            self.urls += css_urls(data)


def css_urls(text):
    return re.findall(r"url\(\s*([^)]*?)\s*\)", text) + re.findall(r"@import\s+['\"]([^'\"]+)", text)


def test_no_external_script_link_or_font(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    external = []
    for page in pages:
        parser = Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        external += [(page.relative_to(site).as_posix(), u) for u in parser.urls if EXTERNAL.match(u)]
    for css in sorted(site.rglob("*.css")):
        external += [
            (css.relative_to(site).as_posix(), u) for u in css_urls(css.read_text("utf-8")) if EXTERNAL.match(u)
        ]
    assert not external, external[:20]
    assert "cdn.jsdelivr" not in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    # MathJax and its fonts are in the site
    assert (site / "javascripts/vendor/mathjax/es5/tex-mml-chtml.js").is_file()
    assert len(list((site / "javascripts/vendor/mathjax/es5/output/chtml/fonts/woff-v2").glob("*.woff"))) > 10


def test_api_page_uses_cross_references(site):
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for role in (":func:", ":class:", ":meth:", ":mod:", ":data:", ":attr:"):
        assert role not in api, f"a raw {role} role on the API page"
    for page in site.rglob("*.html"):
        assert not re.search(r":(func|class|meth|mod):`", page.read_text(encoding="utf-8")), page
    # the cross-references became links to the objects' anchors
    links = re.findall(r'<a class="autorefs autorefs-internal"[^>]*href="([^"]*)"', api)
    assert len(links) > 50
    assert "#jaxnn.training.sgd" in links and "#jaxnn.net.Network" in links
    # History's attributes: one row per name, none of them two names at once
    history = api[api.index('id="jaxnn.history.History"') :]
    history = history[: history.index("</table>")]
    names = re.findall(r'<span title="jaxnn\.history\.History\.(\w+)">', history)
    assert {"evaluation_cost", "training_cost", "evaluation_correct", "test_correct"} <= set(names)
    assert not any("," in n for n in names)


def test_notebooks_are_pages(site):
    for name in ("chapter1", "chapter2", "chapter3", "chapter5", "chapter6", "exercises"):
        html = (site / "notebooks" / name / "index.html").read_text(encoding="utf-8")
        assert "jp-Notebook" in html and "jaxnn[cuda]" in html, name
        assert "JAXNN_FULL" in html, name


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def open_page(browser, url):
    """A 1280×800 page on ``url`` with every request outside 127.0.0.1 aborted and recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    blocked = []

    def route(r):
        if re.match(r"^(https?://127\.0\.0\.1[:/]|data:|blob:|about:)", r.request.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    return page, blocked


def typeset(page, minimum):
    page.wait_for_function(f"document.querySelectorAll('mjx-container').length >= {minimum}", timeout=30_000)
    page.wait_for_timeout(300)  # the typesetting promise settles
    return page.evaluate("document.querySelector('article').innerText")


@browser_only
def test_backprop_formulas_render_offline(browser, served):
    page, blocked = open_page(browser, f"{served}/backprop/")
    text = typeset(page, 20)
    assert page.locator("mjx-container").count() >= 20
    assert "\\frac" not in text and "\\delta" not in text and "\\(" not in text, "raw TeX left on the page"
    # the glyphs came from the vendored fonts, not from a fallback
    fonts = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any(f.startswith("MJXTEX") or f.startswith("MJXZERO") for f in fonts), fonts
    assert not blocked, blocked
    page.close()


@browser_only
def test_notebook_maths_render_offline(browser, served):
    page, blocked = open_page(browser, f"{served}/notebooks/chapter2/")
    text = typeset(page, 5)
    assert "\\frac" not in text and "\\delta^L" not in text
    assert not blocked, blocked
    page.close()


@browser_only
def test_quick_start_line_is_not_clipped(browser, served):
    page, blocked = open_page(browser, f"{served}/")
    code = page.locator("h2#quick-start ~ div pre > code").first
    box = code.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1280
    scroll_width, client_width, white_space = code.evaluate(
        "e => [e.scrollWidth, e.clientWidth, getComputedStyle(e).whiteSpace]"
    )
    assert "jaxnn train" in code.inner_text()
    # the whole line is visible: it wraps inside the block, clear of the copy button, with nothing to scroll to
    assert white_space == "pre-wrap" and scroll_width <= client_width, (white_space, scroll_width, client_width)
    lines = code.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length }"
    )
    assert lines >= 2  # the 90-character line does not fit in one line of the content column
    assert not blocked, blocked
    page.close()
