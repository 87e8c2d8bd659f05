"""The explore web app: a Starlette application, served by uvicorn.

Every endpoint takes and returns JSON (errors: a 4xx status and ``{"error": message}``),
except the page and its static files, the model download, and the server-sent event stream
of each tab (``/api/events``), which carries its training runs' progress.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import re
import secrets
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from jaxnn.errors import JaxnnError
from jaxnn.explore import figures, inference, jobs, sweeps

STATIC = Path(__file__).parent / "static"
#: The largest model file the page may upload, and the largest JSON request.
MAX_UPLOAD_BYTES = 64 * 2**20
MAX_JSON_BYTES = 4 * 2**20
#: The largest drawing the page may send (pixels per side).
MAX_DRAWING_SIDE = 1024
#: Training runs at once: per tab, and in all.
MAX_RUNS_PER_CLIENT, MAX_RUNS = 2, 4
#: Finished runs a tab keeps (with their parameters); older ones are forgotten.
MAX_KEPT_RUNS = 20
#: Seconds between keep-alive comments on an idle event stream.
PING_SECONDS = 15.0
TOKEN_HEADER = "x-jaxnn-token"
TOKEN_COOKIE = "jaxnn_token"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class HTTPError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Client:
    """One browser tab: its pending events (appended by worker threads) and its runs."""

    def __init__(self):
        self.pending: collections.deque = collections.deque()
        self.waker: Optional[Tuple[asyncio.AbstractEventLoop, asyncio.Event]] = None
        self.runs: List[jobs.Run] = []
        self.streams = 0

    def emit(self, event: dict) -> None:
        self.pending.append(event)
        waker = self.waker
        if waker is not None:
            try:
                waker[0].call_soon_threadsafe(waker[1].set)
            except RuntimeError:  # that stream's loop has closed
                pass

    def active(self) -> List[jobs.Run]:
        return [r for r in self.runs if r.state in ("queued", "running")]


class State:
    """Everything the server holds: models by id, the data, the tabs and their runs."""

    def __init__(self, model_path=None, data=None):
        self.models: Dict[str, inference.LoadedModel] = {}
        self.default: Optional[str] = None
        self._data = data
        self._lock = threading.Lock()
        self.clients: Dict[str, Client] = {}
        self.runs: Dict[str, jobs.Run] = {}
        self._ids = itertools.count(1)
        if model_path is not None:
            net, params, meta = inference.load_network(model_path)
            self.default = self.add_model(inference.LoadedModel.make(net, params, meta, Path(model_path).name))

    @property
    def data(self):
        with self._lock:
            if self._data is None:
                import jaxnn

                self._data = jaxnn.load_mnist()
            return self._data

    def add_model(self, model: inference.LoadedModel) -> str:
        model_id = f"m{next(self._ids)}"
        self.models[model_id] = model
        return model_id

    def model(self, model_id: Optional[str]) -> inference.LoadedModel:
        model_id = model_id or self.default
        if model_id is None:
            raise HTTPError(404, "no model is open: start jaxnn explore with a model file, upload one, or train one")
        if model_id not in self.models:
            raise HTTPError(404, f"unknown model {model_id!r}")
        return self.models[model_id]

    def client(self, client_id: Any) -> Client:
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            raise HTTPError(400, "client must be the tab's id: 8 to 64 letters, digits, '-' or '_'")
        if client_id not in self.clients:
            self.clients[client_id] = Client()
        return self.clients[client_id]

    def run(self, run_id: str, client_id: Any) -> jobs.Run:
        run = self.runs.get(run_id)
        if run is None or run.client != client_id:  # another tab's runs are not visible
            raise HTTPError(404, f"unknown run {run_id!r} for this tab")
        return run

    def cancel(self, client_id: str) -> None:
        """Stops the tab's runs: it has closed."""
        client = self.clients.pop(client_id, None)
        if client is not None:
            for run in client.runs:
                run.stop()


# -- helpers


async def _json(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_JSON_BYTES):
        raise HTTPError(413, f"the request is larger than {MAX_JSON_BYTES:,} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise HTTPError(413, f"the request is larger than {MAX_JSON_BYTES:,} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HTTPError(400, f"the request body is not valid JSON: {exc}") from None


def _object(body: Any) -> Dict[str, Any]:
    if not isinstance(body, dict):
        raise HTTPError(400, "the request body must be a JSON object")
    return body


def _ok(obj: Any) -> Response:
    return Response(inference.dumps(obj), media_type="application/json")


def _state(request: Request) -> State:
    return request.app.state.explore


def _pixels(values: Any, count: int, what: str) -> np.ndarray:
    if not isinstance(values, list) or len(values) != count:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise HTTPError(400, f"{what} must be a list of {count} grey levels, got {got}")
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise HTTPError(400, f"{what} must hold numbers only") from None
    if a.shape != (count,) or not np.isfinite(a).all() or a.min(initial=0) < 0 or a.max(initial=0) > 1:
        raise HTTPError(400, f"{what}: grey levels must be numbers in [0, 1]")
    return a


def _input(body: Dict[str, Any]) -> np.ndarray:
    """The 784 pixels the network sees: ``image`` as is, or ``drawing`` preprocessed as MNIST."""
    if "image" in body:
        return _pixels(body["image"], inference.SIDE**2, "image").astype(np.float32)
    drawing = body.get("drawing")
    if not isinstance(drawing, dict):
        raise HTTPError(400, "send 'image' (784 grey levels) or 'drawing' ({width, height, pixels})")
    sides = []
    for name in ("width", "height"):
        side = drawing.get(name)
        if isinstance(side, bool) or not isinstance(side, int) or not 8 <= side <= MAX_DRAWING_SIDE:
            raise HTTPError(400, f"drawing {name} must be an integer between 8 and {MAX_DRAWING_SIDE}, got {side!r}")
        sides.append(side)
    w, h = sides
    pixels = _pixels(drawing.get("pixels"), w * h, "drawing pixels")
    return inference.preprocess(pixels.reshape(h, w))


def _int_param(request: Request, name: str, lo: int, hi: int, default: Optional[int] = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise HTTPError(400, f"{name} is required: an integer between {lo} and {hi}")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPError(400, f"{name} must be an integer between {lo} and {hi}, got {raw!r}") from None
    if not lo <= value <= hi:
        raise HTTPError(400, f"{name} must be between {lo} and {hi}, got {value}")
    return value


# -- endpoints


async def page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def info(request: Request) -> Response:
    st = _state(request)
    return _ok(
        {
            "models": [{"id": k, **m.describe()} for k, m in st.models.items()],
            "default": st.default,
            "limits": {
                "upload_bytes": MAX_UPLOAD_BYTES,
                "epochs": jobs.MAX_EPOCHS,
                "hidden_layers": jobs.MAX_HIDDEN,
                "width": jobs.MAX_WIDTH,
                "runs_per_tab": MAX_RUNS_PER_CLIENT,
            },
            "costs": list(jobs.COSTS),
            "activations": list(jobs.ACTIVATIONS),
            "target": figures.TARGET,
        }
    )


async def predict(request: Request) -> Response:
    st = _state(request)
    body = _object(await _json(request))
    model = st.model(body.get("model"))
    x = _input(body)
    return _ok({"input": inference._round(x), **model.predict(x)})


async def test_image(request: Request) -> Response:
    st = _state(request)
    model = st.model(request.query_params.get("model"))
    test = st.data.test
    index = _int_param(request, "index", 0, len(test) - 1)
    x = np.asarray(test.x[index], np.float32)
    return _ok({"index": index, "label": int(test.y[index]), "input": inference._round(x), **model.predict(x)})


def _test_results(st: State, request: Request):
    model = st.model(request.query_params.get("model"))
    test = st.data.test
    return model.test_results(test.x, test.y)


async def misclassified(request: Request) -> Response:
    st = _state(request)
    predicted, labels = await run_in_threadpool(_test_results, st, request)
    wrong = np.nonzero(predicted != labels)[0]
    offset = _int_param(request, "offset", 0, max(len(wrong), 0), 0)
    limit = _int_param(request, "limit", 1, 200, 40)
    items = [
        {
            "index": int(i),
            "label": int(labels[i]),
            "predicted": int(predicted[i]),
            "input": inference._round(st.data.test.x[i]),
        }
        for i in wrong[offset : offset + limit]
    ]
    return _ok({"total": int(len(wrong)), "offset": offset, "items": items})


async def confusion(request: Request) -> Response:
    st = _state(request)
    predicted, labels = await run_in_threadpool(_test_results, st, request)
    return _ok(
        {
            "matrix": inference.confusion(predicted, labels),
            "correct": int((predicted == labels).sum()),
            "total": int(len(labels)),
        }
    )


async def weights(request: Request) -> Response:
    st = _state(request)
    return _ok(st.model(request.query_params.get("model")).first_weights())


async def upload(request: Request) -> Response:
    st = _state(request)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPError(411, "an upload must say its size (Content-Length)")
    if int(length) > MAX_UPLOAD_BYTES:
        raise HTTPError(413, f"the model file is larger than the limit of {MAX_UPLOAD_BYTES:,} bytes")
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception as exc:
        raise HTTPError(400, f"the upload is not a multipart form with one file: {exc}") from None
    file = form.get("file")
    if file is None or isinstance(file, str):
        raise HTTPError(400, "the upload must have one file in a field named 'file'")
    blob = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(blob) > MAX_UPLOAD_BYTES:
        raise HTTPError(413, f"the model file is larger than the limit of {MAX_UPLOAD_BYTES:,} bytes")
    name = Path(file.filename or "upload").name[:100]

    def load():
        net, params, meta = inference.load_bytes(blob, name)
        return inference.LoadedModel.make(net, params, meta, name)

    model = await run_in_threadpool(load)
    model_id = st.add_model(model)
    return _ok({"id": model_id, **model.describe()})


async def train(request: Request) -> Response:
    st = _state(request)
    body = _object(await _json(request))
    client = st.client(body.get("client"))
    settings = jobs.Settings.parse(body, len(st.data.training))
    if len(client.active()) >= MAX_RUNS_PER_CLIENT:
        raise HTTPError(429, f"this tab already trains {MAX_RUNS_PER_CLIENT} networks: stop one first")
    if sum(len(c.active()) for c in st.clients.values()) >= MAX_RUNS:
        raise HTTPError(429, f"the server already trains {MAX_RUNS} networks: wait or stop one")
    finished = [r for r in client.runs if r.state not in ("queued", "running")]
    for old in finished[: max(0, len(finished) - MAX_KEPT_RUNS + 1)]:  # keep the tab's latest runs only
        client.runs.remove(old)
        st.runs.pop(old.id, None)
    run_id = f"r{next(st._ids)}"
    run = jobs.Run(run_id, body["client"], settings, client.emit)
    client.runs.append(run)
    st.runs[run_id] = run
    run.start(st.data)
    return _ok(run.summary())


async def runs(request: Request) -> Response:
    st = _state(request)
    client_id = request.query_params.get("client")
    return _ok({"runs": [r.summary() for r in st.runs.values() if r.client == client_id]})


async def stop(request: Request) -> Response:
    st = _state(request)
    body = _object(await _json(request))
    run = st.run(request.path_params["run"], body.get("client"))
    run.stop()
    return _ok({"run": run.id, "state": run.state})


def _finished(run: jobs.Run) -> None:
    if run.state in ("queued", "running") or run.params is None:
        raise HTTPError(409, f"run {run.id} has no trained parameters to save yet ({run.state}): wait for an epoch")


async def save(request: Request) -> Response:
    """Opens a run's trained network in view 1."""
    st = _state(request)
    body = _object(await _json(request))
    run = st.run(request.path_params["run"], body.get("client"))
    _finished(run)
    meta = {"source": "explore", "settings": run.summary()["settings"]}
    name = f"run {run.id}: {run.settings.label()}"
    model = await run_in_threadpool(inference.LoadedModel.make, run.net, run.params, meta, name)
    return _ok({"id": st.add_model(model), **model.describe()})


async def download(request: Request) -> Response:
    """The run's trained network as a jaxnn model file."""
    import tempfile

    import jaxnn

    st = _state(request)
    run = st.run(request.path_params["run"], request.query_params.get("client"))
    _finished(run)
    s = run.settings
    with tempfile.TemporaryDirectory(prefix="jaxnn-explore-") as d:
        path = Path(d) / "model.npz"
        meta = dict(dataset="mnist", epochs=s.epochs, eta=s.eta, lmbda=s.lmbda, seed=s.seed)
        jaxnn.save_model(path, run.params, net=run.net, **meta)
        blob = path.read_bytes()
    name = f"jaxnn-{run.id}.npz"
    return Response(
        blob, media_type="application/octet-stream", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


async def events(request: Request) -> Response:
    """The tab's server-sent events. When the tab closes, the stream ends and its runs stop.
    ``close_when_idle=1`` ends the stream once no run of the tab is running (for scripts)."""
    st = _state(request)
    client_id = request.query_params.get("client")
    client = st.client(client_id)
    until_idle = request.query_params.get("close_when_idle") == "1"
    client.streams += 1

    async def stream():
        closed_by_client = True
        wake = asyncio.Event()
        client.waker = (asyncio.get_running_loop(), wake)
        try:
            yield "retry: 2000\n\n"
            while True:
                while client.pending:
                    event = client.pending.popleft()
                    yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
                if until_idle and not client.active():
                    closed_by_client = False
                    return
                wake.clear()
                if client.pending:
                    continue
                try:
                    await asyncio.wait_for(wake.wait(), timeout=0.5 if until_idle else PING_SECONDS)
                except asyncio.TimeoutError:
                    if not until_idle:
                        yield ": ping\n\n"
        finally:
            client.streams -= 1
            if closed_by_client and client.streams == 0:
                st.cancel(client_id)  # the tab has gone: stop its runs

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


def _figure(fn):
    async def endpoint(request: Request) -> Response:
        body = _object(await _json(request))
        return _ok(await run_in_threadpool(fn, body))

    return endpoint


async def speed_figure(request: Request) -> Response:
    st = _state(request)
    body = _object(await _json(request))
    return _ok(await run_in_threadpool(figures.speed, body, st.data))


async def sweep(request: Request) -> Response:
    return _ok(sweeps.heat_map(await _json(request)))


# -- errors, the token, the app


async def _http_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    if isinstance(exc, JaxnnError):
        return JSONResponse({"error": str(exc)}, status_code=400)
    status = getattr(exc, "status_code", 500)
    return JSONResponse({"error": getattr(exc, "detail", None) or "error"}, status_code=status)


class TokenMiddleware:
    """Every request must carry the token: the ``X-Jaxnn-Token`` header, ``?token=`` (which
    also sets a same-site cookie, so the page's own module and stream requests carry it), or
    that cookie."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.query_params.get("token")
        candidates = [request.headers.get(TOKEN_HEADER), given, request.cookies.get(TOKEN_COOKIE)]
        if not any(c is not None and secrets.compare_digest(c.encode(), self.token.encode()) for c in candidates):
            response = JSONResponse({"error": "this server needs its token: open the address it printed"}, 401)
            return await response(scope, receive, send)
        if given is None:
            return await self.app(scope, receive, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        return await self.app(scope, receive, send_with_cookie)


def create_app(
    model_path=None, *, token: Optional[str] = None, allowed_hosts: Optional[List[str]] = None, data=None
) -> Starlette:
    """The explore app.

    Args:
      model_path: the model file to open in view 1 (a jaxnn ``.npz`` or a network2 JSON file).
      token: when given, every request must carry it (see `TokenMiddleware`).
      allowed_hosts: the ``Host`` headers accepted (default: loopback names only, which stops
        other web sites from reaching the server through DNS rebinding); ``["*"]`` for any.
      data: the MNIST `jaxnn.Dataset` (default: loaded on first use).
    """
    routes = [
        Route("/", page),
        Route("/api/info", info),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/test", test_image),
        Route("/api/misclassified", misclassified),
        Route("/api/confusion", confusion),
        Route("/api/weights", weights),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/train", train, methods=["POST"]),
        Route("/api/runs", runs),
        Route("/api/runs/{run}/stop", stop, methods=["POST"]),
        Route("/api/runs/{run}/save", save, methods=["POST"]),
        Route("/api/runs/{run}/download", download),
        Route("/api/events", events),
        Route("/api/figures/neuron", _figure(figures.neuron), methods=["POST"]),
        Route("/api/figures/universality", _figure(figures.universality), methods=["POST"]),
        Route("/api/figures/slowdown", _figure(figures.slowdown), methods=["POST"]),
        Route("/api/figures/speed", speed_figure, methods=["POST"]),
        Route("/api/sweep", sweep, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or ["127.0.0.1", "localhost", "[::1]"])]
    if token:
        middleware.append(Middleware(TokenMiddleware, token=token))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPError: _http_error, JaxnnError: _http_error, 404: _http_error, 405: _http_error},
    )
    app.state.explore = State(model_path, data)
    return app
