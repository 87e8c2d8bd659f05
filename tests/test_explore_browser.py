"""jaxnn explore in a real headless Chromium (Debian's, driven by Playwright), against a real
uvicorn server on a free 127.0.0.1 port.

With ``JAXNN_SCREENSHOTS=1`` the tests also write docs/figures/explore-*.png, one per view.
"""

import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

import jaxnn  # noqa: E402
from jaxnn.explore import server as explore_server  # noqa: E402
from jaxnn.explore import sweeps  # noqa: E402

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "figures" if os.environ.get("JAXNN_SCREENSHOTS") else None
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT = 120_000  # ms: the first training epoch compiles on a busy 2-core machine
sync_api.expect.set_options(timeout=30_000)  # a figure's first request compiles it


@pytest.fixture(scope="module")
def served(explore_model):
    """``(base url, app)``: uvicorn serving the app in a thread."""
    app = explore_server.create_app(explore_model)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/", app
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.goto(served[0])
    pg.wait_for_selector("body[data-ready='1']")
    yield pg
    context.close()


def shot(page, name, full_page=False):
    if SHOTS is not None:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_draw_a_one_and_see_it_predicted_with_the_activations(page):
    box = page.locator("#draw").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 40)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x, box["y"] + 40 + i * 10)
    page.mouse.up()
    sync_api.expect(page.locator("#predicted")).to_have_text("Predicted: 1")
    sync_api.expect(page.locator("#activations .activation")).to_have_count(30)
    sync_api.expect(page.locator("#weights canvas")).to_have_count(30)
    assert page.locator("#output rect.bar[data-class='1']").get_attribute("fill") == "#e53935"
    sync_api.expect(page.locator("#confusion td")).to_have_count(100)
    assert page.locator("#misclassified .misclassified").count() == 24
    shot(page, "explore-inside")


def test_open_a_test_image_by_index(page):
    page.fill("#test-index", "1")
    page.click("#test-go")
    sync_api.expect(page.locator("#true-label")).to_contain_text("true label: 2")
    page.locator("#misclassified .misclassified").first.click()
    sync_api.expect(page.locator("#true-label")).to_contain_text("true label")


def test_train_see_the_curve_gain_a_point_and_stop(page):
    page.click("nav .tab[data-view='train']")
    page.fill("#train-form [name=epochs]", "20")
    page.fill("#train-form [name=train_size]", "1000")
    page.click("#train-start")
    sync_api.expect(page.locator("#curve-accuracy circle.point")).not_to_have_count(0, timeout=TIMEOUT)
    page.click("#runs .run button.stop")
    sync_api.expect(page.locator("#runs .run .state")).to_have_text("stopped", timeout=TIMEOUT)
    assert 1 <= page.locator("#curve-accuracy circle.point").count() < 20
    shot(page, "explore-train")
    page.click("#runs .run button.open")  # the stopped run's network, opened in view 1
    sync_api.expect(page.locator("#model-select option")).to_have_count(2)
    sync_api.expect(page.locator("#view-inside")).to_be_visible()


def test_closing_the_tab_stops_its_run(browser, served):
    base, app = served
    context = browser.new_context()
    pg = context.new_page()
    pg.goto(base)
    pg.wait_for_selector("body[data-ready='1']")
    pg.click("nav .tab[data-view='train']")
    pg.fill("#train-form [name=epochs]", "100")
    pg.fill("#train-form [name=train_size]", "1000")
    pg.click("#train-start")
    sync_api.expect(pg.locator("#runs .run .state")).to_have_text("running", timeout=TIMEOUT)
    run_id = pg.locator("#runs .run").get_attribute("data-run")
    context.close()
    run = app.state.explore.runs[run_id]
    run.thread.join(60)
    assert run.state == "stopped"


def test_a_universality_slider_changes_the_plotted_function(page):
    page.click("nav .tab[data-view='book']")
    line = page.locator("#uni-plot path.output")
    sync_api.expect(line).to_have_count(1)
    before = line.get_attribute("d")
    error_before = page.locator("#uni-error").text_content()
    page.locator("#uni-h2").fill("1.2")
    sync_api.expect(line).not_to_have_attribute("d", before)
    sync_api.expect(page.locator("#uni-error")).not_to_have_text(error_before)
    sync_api.expect(page.locator("#neuron-plot path.line")).to_have_count(2)
    sync_api.expect(page.locator("#slow-plot path.line")).to_have_count(2)
    if SHOTS is not None:
        page.click("#speed-go")
        sync_api.expect(page.locator("#speed-plot path.line")).to_have_count(2, timeout=TIMEOUT)
    shot(page, "explore-book", full_page=True)


def test_sweep_heat_map(page, tmp_path):
    configs = [{"seed": 0, "eta": e, "lmbda": lm, "p_dropout": 0.0} for e in (0.1, 0.5, 2.5) for lm in (0.0, 1.0, 5.0)]
    correct = [[9000 + 37 * i, 9300 + 41 * i] for i in range(len(configs))]
    result = jaxnn.SweepResult(configs, [], np.array(correct), 10_000, None, [1.0])
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(sweeps.sweep_json(result)))
    page.click("nav .tab[data-view='sweep']")
    page.set_input_files("#sweep-file", str(path))
    sync_api.expect(page.locator("#sweep-map rect.hm-cell")).to_have_count(9)
    sync_api.expect(page.locator("#sweep-map")).to_contain_text("96.28%")  # the last config's best: 9628
    shot(page, "explore-sweep")


def test_a_bad_request_shows_its_message(page):
    page.click("nav .tab[data-view='train']")
    page.fill("#train-form [name=eta]", "-1")
    page.click("#train-start")
    sync_api.expect(page.locator("#error")).to_contain_text("eta must be")


def test_nothing_is_fetched_from_outside(browser, served):
    base = served[0]
    context = browser.new_context()
    requested, blocked = [], []

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith("data:") or host == "127.0.0.1":
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("request", lambda req: requested.append(req.url))
    pg.goto(base)
    pg.wait_for_selector("body[data-ready='1']")
    for view in ("train", "book", "sweep", "inside"):
        pg.click(f"nav .tab[data-view='{view}']")
    sync_api.expect(pg.locator("#uni-plot path.output")).to_have_count(1)
    context.close()
    assert not blocked
    assert requested and all(u.startswith(base) or u.startswith("data:") for u in requested)


def test_screenshots_land_in_the_docs():
    if SHOTS is None:
        pytest.skip("JAXNN_SCREENSHOTS is not set")
    for name in ("explore-inside", "explore-train", "explore-book", "explore-sweep"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000
