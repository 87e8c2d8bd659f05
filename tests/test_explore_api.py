"""jaxnn explore's HTTP API, through Starlette's test client: every endpoint, and every kind of
bad request getting a 4xx with a message."""

import json
import socket
import warnings

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # Starlette 1.x would rather have httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

import jaxnn  # noqa: E402
from jaxnn.explore import inference, server, sweeps  # noqa: E402

CLIENT_A, CLIENT_B = "tab-aaaaaaaa", "tab-bbbbbbbb"


@pytest.fixture(scope="module")
def app(explore_model):
    return server.create_app(explore_model, allowed_hosts=["testserver"])


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


def stroke_one():
    """A vertical stroke on a 70×70 black drawing: a "1"."""
    img = np.zeros((70, 70))
    img[10:60, 33:37] = 1.0
    return {"width": 70, "height": 70, "pixels": img.ravel().tolist()}


def error(r, status):
    assert r.status_code == status, r.text
    message = r.json()["error"]
    assert isinstance(message, str) and message
    return message


def test_page_and_static_files(client):
    r = client.get("/")
    assert r.status_code == 200 and 'type="module"' in r.text
    for name in ("app.js", "plot.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


def test_info_describes_the_model(client):
    info = client.get("/api/info").json()
    (model,) = info["models"]
    assert info["default"] == model["id"]
    assert model["sizes"] == [784, 30, 10] and model["kind"] == "mlp" and model["cost"] == "cross-entropy"


def test_predict_a_drawn_one(client):
    r = client.post("/api/predict", json={"drawing": stroke_one()}).json()
    assert r["predicted"] == 1
    assert len(r["input"]) == 784 and max(r["input"]) == 1.0
    assert [layer["shape"] for layer in r["activations"]] == [[30]]
    assert len(r["contributions"]) == 30 and len(r["output"]) == 10


def test_predict_an_image_as_is(client):
    x = jaxnn.load_mnist().test.x[0]
    r = client.post("/api/predict", json={"image": x.tolist()}).json()
    assert r["predicted"] == 7 and np.allclose(r["input"], x, atol=1e-4)


def test_preprocessing_centres_and_scales_as_mnist():
    img = np.zeros((100, 100))
    img[5:45, 60:70] = 1.0  # a bar in the top right corner
    x = inference.preprocess(img).reshape(28, 28)
    rows, cols = np.nonzero(x > 0.5)
    assert rows.max() - rows.min() + 1 == 20  # the long side fills the 20-pixel box
    ys, xs = np.indices(x.shape)
    assert abs((ys * x).sum() / x.sum() - 13.5) <= 0.5 and abs((xs * x).sum() / x.sum() - 13.5) <= 0.5
    assert not inference.preprocess(np.zeros((30, 30))).any()


def test_test_image_by_index(client):
    r = client.get("/api/test?index=0").json()
    assert r["label"] == 7 and r["index"] == 0 and len(r["input"]) == 784


def test_misclassified_and_confusion_agree(client):
    conf = client.get("/api/confusion").json()
    m = np.array(conf["matrix"])
    assert m.shape == (10, 10) and m.sum() == conf["total"] == 10_000 and np.trace(m) == conf["correct"]
    mis = client.get("/api/misclassified?offset=0&limit=5").json()
    assert mis["total"] == 10_000 - conf["correct"] and len(mis["items"]) == 5
    for it in mis["items"]:
        assert it["label"] != it["predicted"] and len(it["input"]) == 784


def test_weights_are_one_image_per_hidden_neuron(client):
    w = client.get("/api/weights").json()
    assert w["count"] == 30 and w["shape"] == [28, 28] and len(w["values"]) == 30 * 784


def test_upload_a_network2_file_and_predict_with_it(client, explore_model, tmp_path):
    params, _ = jaxnn.load_model(explore_model)
    path = jaxnn.modelfile.save_network2(tmp_path / "net.json", params, "cross-entropy")
    r = client.post("/api/upload", files={"file": ("net.json", path.read_bytes())})
    assert r.status_code == 200, r.text
    model_id = r.json()["id"]
    assert client.post("/api/predict", json={"model": model_id, "drawing": stroke_one()}).json()["predicted"] == 1
    assert model_id in [m["id"] for m in client.get("/api/info").json()["models"]]


def test_bad_uploads(client, monkeypatch):
    assert "not a readable" in error(client.post("/api/upload", files={"file": ("x.npz", b"PK junk")}), 400)
    assert "not valid JSON" in error(client.post("/api/upload", files={"file": ("x.json", b"{oops")}), 400)
    assert "named 'file'" in error(client.post("/api/upload", files={"other": ("x.json", b"{}")}), 400)
    monkeypatch.setattr(server, "MAX_UPLOAD_BYTES", 1000)
    assert "limit" in error(client.post("/api/upload", files={"file": ("big.npz", b"0" * 5000)}), 413)


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"image": [0.5] * 783}).encode(), 400, "784"),
        (json.dumps({"image": [2.0] * 784}).encode(), 400, "[0, 1]"),
        (json.dumps({"image": ["a"] * 784}).encode(), 400, "numbers"),
        (json.dumps({"drawing": {"width": 4, "height": 70, "pixels": []}}).encode(), 400, "width"),
        (json.dumps({"drawing": {"width": 10, "height": 10, "pixels": [0] * 99}}).encode(), 400, "100"),
        (json.dumps({}).encode(), 400, "drawing"),
        (json.dumps({"model": "m999", "image": [0] * 784}).encode(), 404, "unknown model"),
    ],
)
def test_bad_predict_requests(client, body, status, words):
    r = client.post("/api/predict", content=body, headers={"content-type": "application/json"})
    assert words in error(r, status)


def test_too_large_json_is_refused(client, monkeypatch):
    monkeypatch.setattr(server, "MAX_JSON_BYTES", 100)
    assert "larger" in error(client.post("/api/predict", json={"image": [0.0] * 784}), 413)


def test_bad_query_parameters(client):
    assert "between 0 and 9999" in error(client.get("/api/test?index=10000"), 400)
    assert "integer" in error(client.get("/api/test?index=x"), 400)
    assert "required" in error(client.get("/api/test"), 400)
    assert "between 1 and 200" in error(client.get("/api/misclassified?limit=0"), 400)
    assert "unknown model" in error(client.get("/api/confusion?model=nope"), 404)
    assert error(client.get("/api/no-such-endpoint"), 404)
    assert error(client.get("/api/predict"), 405)


def test_no_model_open_says_how_to_open_one():
    with TestClient(server.create_app(allowed_hosts=["testserver"])) as c:
        assert c.get("/api/info").json()["models"] == []
        assert "no model is open" in error(c.get("/api/weights"), 404)


def read_events(client, tab):
    events = []
    with client.stream("GET", f"/api/events?client={tab}&close_when_idle=1") as s:
        for line in s.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def test_two_tabs_train_at_once_without_mixing_runs(client):
    settings = {"epochs": 2, "train_size": 1000}  # the shape of the other tests' runs: compiled once
    a = client.post("/api/train", json={"client": CLIENT_A, **settings}).json()["run"]
    b = client.post("/api/train", json={"client": CLIENT_B, **settings, "eta": 0.1}).json()["run"]
    ev_a, ev_b = read_events(client, CLIENT_A), read_events(client, CLIENT_B)
    assert {e["run"] for e in ev_a} == {a} and {e["run"] for e in ev_b} == {b}
    for events in (ev_a, ev_b):
        epochs = [e for e in events if e["type"] == "epoch"]
        assert [e["epoch"] for e in epochs] == [0, 1] and 0.3 < epochs[-1]["accuracy"] <= 1
        assert [e["done"] for e in events if e["type"] == "progress"][:3] == [0.1, 0.2, 0.3]  # inside the epoch
        assert events[-1] == {"type": "state", "run": events[-1]["run"], "state": "finished", "message": ""}
    runs_a = client.get(f"/api/runs?client={CLIENT_A}").json()["runs"]
    assert [r["run"] for r in runs_a] == [a] and len(runs_a[0]["points"]) == 2
    # another tab's run is not visible, stoppable nor savable
    assert "unknown run" in error(client.post(f"/api/runs/{a}/stop", json={"client": CLIENT_B}), 404)
    assert "unknown run" in error(client.post(f"/api/runs/{a}/save", json={"client": CLIENT_B}), 404)
    # a finished run opens in view 1, and downloads as a model file that jaxnn loads
    opened = client.post(f"/api/runs/{a}/save", json={"client": CLIENT_A}).json()
    assert opened["sizes"] == [784, 30, 10]
    assert client.post("/api/predict", json={"model": opened["id"], "drawing": stroke_one()}).status_code == 200
    r = client.get(f"/api/runs/{a}/download?client={CLIENT_A}")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.content[:2] == b"PK"
    # the saved file opens in view 1 again, as an upload
    again = client.post("/api/upload", files={"file": ("run.npz", r.content)}).json()
    assert again["sizes"] == [784, 30, 10] and again["cost"] == "cross-entropy"


def test_stop_a_run(client):
    run = client.post("/api/train", json={"client": CLIENT_A, "epochs": 100, "train_size": 1000}).json()["run"]
    assert client.post(f"/api/runs/{run}/stop", json={"client": CLIENT_A}).status_code == 200
    events = read_events(client, CLIENT_A)
    assert events[-1]["state"] == "stopped" and len([e for e in events if e["type"] == "epoch"]) < 100


def test_a_diverging_run_is_reported_and_the_server_stays_up(client):
    settings = {"client": CLIENT_A, "epochs": 1, "train_size": 100, "eta": 100, "mini_batch_size": 1}
    settings.update(activation="relu", hidden=[100, 100])
    run = client.post("/api/train", json=settings).json()["run"]
    events = read_events(client, CLIENT_A)
    last = events[-1]
    assert last["run"] == run and last["state"] == "diverged" and "lower" in last["message"]
    assert client.get("/api/info").status_code == 200


def test_a_failing_run_is_reported(client, monkeypatch):
    def broken(self):
        raise RuntimeError("out of memory (simulated)")

    monkeypatch.setattr(server.jobs.Settings, "network", broken)
    client.post("/api/train", json={"client": CLIENT_A, "epochs": 1, "train_size": 1000})
    last = read_events(client, CLIENT_A)[-1]
    assert last["state"] == "failed" and "out of memory (simulated)" in last["message"]


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"cost": "nope"}, "unknown cost"),
        ({"activation": "swish"}, "unknown activation"),
        ({"eta": -1}, "eta"),
        ({"eta": "fast"}, "eta"),
        ({"epochs": 1000}, "epochs"),
        ({"epochs": 1.5}, "integer"),
        ({"train_size": 10**9}, "train_size"),
        ({"hidden": [0]}, "hidden"),
        ({"hidden": "30"}, "hidden"),
        ({"p_dropout": 1.0}, "p_dropout"),
        ({"preset": "resnet"}, "unknown preset"),
        ({"colour": "red"}, "unknown training setting"),
        ({"cost": "log-likelihood"}, "softmax"),
    ],
)
def test_bad_training_settings(client, settings, words):
    assert words in error(client.post("/api/train", json={"client": CLIENT_A, **settings}), 400)


def test_bad_run_requests(client):
    assert "client" in error(client.post("/api/train", json={"client": "x"}), 400)
    assert "client" in error(client.get("/api/events?client=../../etc"), 400)
    assert "unknown run" in error(client.post("/api/runs/r999/stop", json={"client": CLIENT_A}), 404)


def test_running_run_cannot_be_saved_and_limits_per_tab(client):
    tab = "tab-limits-1"
    first = client.post("/api/train", json={"client": tab, "epochs": 100, "train_size": 1000}).json()["run"]
    assert "no trained parameters" in error(client.post(f"/api/runs/{first}/save", json={"client": tab}), 409)
    second = client.post("/api/train", json={"client": tab, "epochs": 100, "train_size": 1000}).json()["run"]
    assert "already trains" in error(client.post("/api/train", json={"client": tab, "epochs": 1}), 429)
    for run in (first, second):
        client.post(f"/api/runs/{run}/stop", json={"client": tab})
    assert {e["state"] for e in read_events(client, tab) if e["type"] == "state"} >= {"stopped"}


def test_closing_the_tab_stops_its_runs(app, client):
    tab = "tab-closing-1"
    run = client.post("/api/train", json={"client": tab, "epochs": 100, "train_size": 1000}).json()["run"]
    state = app.state.explore
    state.cancel(tab)  # what the event stream's end does when the tab closes (the browser test closes a real tab)
    state.runs[run].thread.join(60)
    assert state.runs[run].state == "stopped"


def test_figures(client):
    n = client.post("/api/figures/neuron", json={"w": 2, "b": -1}).json()
    i, j = n["x"].index(1.0), n["x"].index(0.0)  # z = 1 and z = -1
    assert n["perceptron"][i] == 1.0 and n["perceptron"][j] == 0.0
    assert n["sigmoid"][i] == pytest.approx(0.73106, abs=1e-4) and n["sigmoid"][j] == pytest.approx(0.26894, abs=1e-4)
    u = client.post("/api/figures/universality", json={"heights": [0.3, 0.5]}).json()
    assert abs(u["output"][50] - 0.3) < 1e-3 and abs(u["output"][150] - 0.5) < 1e-3 and u["error"] > 0
    u = client.post("/api/figures/universality", json={"heights": [0.3, 0.5], "steps": [0.1, 0.2, 0.9]}).json()
    assert u["output"][10] == pytest.approx(0.0, abs=1e-3) and u["output"][30] == pytest.approx(0.3, abs=1e-3)
    assert u["output"][150] == pytest.approx(0.5, abs=1e-3) and u["output"][190] == pytest.approx(0.0, abs=1e-3)
    s = client.post("/api/figures/slowdown", json={"start": "b", "epochs": 50}).json()
    # from w = b = 2, the quadratic cost learns slowly at first, cross-entropy fast
    assert s["quadratic"]["output"][50] > 0.8 > 0.2 > s["cross-entropy"]["output"][50]
    sp = client.post("/api/figures/speed", json={"hidden": 2, "epochs": 1}).json()
    assert len(sp["speed"]) == 2 and len(sp["speed"][0]) == 2
    assert sp["speed"][0][0] < sp["speed"][1][0]  # the earlier layer learns more slowly


@pytest.mark.parametrize(
    "path, body, words",
    [
        ("neuron", {"w": 1000, "b": 0}, "w must be"),
        ("neuron", {"b": 0}, "w is required"),
        ("universality", {"heights": []}, "heights"),
        ("universality", {"heights": [float("nan")]}, "h must be"),
        ("universality", {"heights": [1, 2], "steps": [0, 1]}, "3 step positions"),
        ("universality", {"heights": [1, 2], "steps": [0, 0.8, 0.5]}, "increasing"),
        ("universality", {"heights": [1], "steps": [0, 2]}, "step must be"),
        ("slowdown", {"start": "c"}, "unknown start"),
        ("speed", {"hidden": 5}, "hidden"),
    ],
)
def test_bad_figure_requests(client, path, body, words):
    r = client.post(f"/api/figures/{path}", content=json.dumps(body), headers={"content-type": "application/json"})
    assert words in error(r, 400)


def fake_sweep():
    configs = [
        {"seed": s, "eta": e, "lmbda": lm, "p_dropout": 0.0} for e in (0.1, 0.5) for lm in (0.0, 1.0) for s in (0, 1)
    ]
    correct = [[80 + i, 90 + i] for i in range(len(configs))]
    return jaxnn.SweepResult(configs, [], np.array(correct), 100, None, [1.0, 1.0])


def test_sweep_heat_map(client):
    body = sweeps.sweep_json(fake_sweep())
    r = client.post("/api/sweep", json=body).json()
    assert r["etas"] == [0.1, 0.5] and r["lmbdas"] == [0.0, 1.0]
    (grid,) = r["grids"]
    # eta 0.1, lmbda 0: configs 0 and 1, best 90 and 91 of 100
    assert grid["accuracy"][0][0] == pytest.approx(0.905) and grid["seeds"][0][0] == 2
    assert grid["accuracy"][1][1] == pytest.approx(0.965)


@pytest.mark.parametrize(
    "body, words",
    [
        ({}, "configs"),
        ({"configs": [{"eta": 1, "lmbda": 0}]}, "evaluation_correct"),
        ({"configs": [{"eta": 1}], "best_accuracy": [0.5]}, "'eta' and 'lmbda'"),
        ({"configs": [{"eta": 1, "lmbda": 0}], "best_accuracy": [1.5]}, "fractions"),
        ({"configs": [{"eta": 1, "lmbda": 0}], "evaluation_correct": [[1]], "evaluation_size": 0}, "positive"),
    ],
)
def test_bad_sweep_files(client, body, words):
    assert words in error(client.post("/api/sweep", json=body), 400)


def test_token_is_required_on_every_request(explore_model):
    app = server.create_app(explore_model, token="s3cret", allowed_hosts=["testserver"])
    with TestClient(app) as c:
        assert error(c.get("/"), 401)
        assert error(c.get("/api/info", headers={"X-Jaxnn-Token": "wrong"}), 401)
        assert c.get("/api/info", headers={"X-Jaxnn-Token": "s3cret"}).status_code == 200
        r = c.get("/?token=s3cret")
        assert r.status_code == 200 and "jaxnn_token=s3cret" in r.headers["set-cookie"]
        assert c.get("/static/app.js").status_code == 200  # the cookie carries it now


def test_other_host_names_are_refused(explore_model):
    with TestClient(server.create_app(explore_model)) as c:  # Host: testserver is not a loopback name
        assert c.get("/api/info").status_code == 400


def test_cli_needs_a_token_off_loopback(capsys):
    from jaxnn import cli, explore

    assert explore.is_loopback("127.0.0.1") and explore.is_loopback("::1") and explore.is_loopback("localhost")
    assert not explore.is_loopback("0.0.0.0") and not explore.is_loopback("192.168.1.5")
    assert cli.main(["explore", "--host", "0.0.0.0", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "warning" in err and "--token" in err
    assert cli.main(["explore", "/no/such/model.npz", "--no-browser", "--port", "0"]) == 2
    assert "no model file" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert cli.main(["explore", "--no-browser", "--port", str(busy.getsockname()[1])]) == 2
    assert "pick another with --port" in capsys.readouterr().err


def test_a_conv_net_shows_its_feature_maps(client, tmp_path):
    net = jaxnn.conv_net([jaxnn.ConvPool(4, 5), jaxnn.FullyConnected(8), jaxnn.Softmax(10)], (1, 28, 28))
    path = jaxnn.save_model(tmp_path / "conv.npz", jaxnn.init_network(0, net), net=net)
    model = client.post("/api/upload", files={"file": ("conv.npz", path.read_bytes())}).json()
    assert model["kind"] == "conv" and model["sizes"] is None
    r = client.post("/api/predict", json={"model": model["id"], "drawing": stroke_one()}).json()
    assert [layer["shape"] for layer in r["activations"]] == [[4, 12, 12], [8]]
    assert len(r["contributions"]) == 4 and len(r["output"]) == 10
    w = client.get(f"/api/weights?model={model['id']}").json()
    assert w["count"] == 4 and w["shape"] == [5, 5]


def test_a_tab_keeps_its_latest_runs_only(client, monkeypatch):
    monkeypatch.setattr(server, "MAX_KEPT_RUNS", 2)
    tab = "tab-keeping-1"
    ids = []
    for _ in range(3):
        ids.append(client.post("/api/train", json={"client": tab, "epochs": 1, "train_size": 1000}).json()["run"])
        read_events(client, tab)
    assert [r["run"] for r in client.get(f"/api/runs?client={tab}").json()["runs"]] == ids[1:]
