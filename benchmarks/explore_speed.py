#!/usr/bin/env python
"""How fast ``jaxnn explore`` answers a drawn digit: the page's predict request (a 70×70 drawing,
preprocessed as MNIST, then every layer's activations and the first layer's contributions).

Two measurements of the same request:

  http        a real ``jaxnn explore MODEL --no-browser`` server in a subprocess, and a real
              HTTP client (httpx, one kept-alive connection): latency p50/p99 of sequential
              requests, and requests per second, sequential and from 4 client threads at once.
  in-process  the same work without HTTP: parse the JSON body, check it, preprocess, run the
              cached compiled forward, write the JSON answer.

Usage, from the repository root::

    python benchmarks/explore_speed.py                  # the book's [784, 30, 10]; about a minute
    python benchmarks/explore_speed.py --sizes 784,100,10 --requests 500
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

import jaxnn
from jaxnn.explore import inference, server


def drawing() -> dict:
    """A "1" as the page sends it: a vertical stroke on 70×70 grey levels (4×4 blocks of the canvas)."""
    img = np.zeros((70, 70))
    img[10:60, 33:37] = 1.0
    return {"drawing": {"width": 70, "height": 70, "pixels": img.ravel().round(3).tolist()}}


def percentile(values, q) -> float:
    return float(np.percentile(np.asarray(values), q))


def in_process(model, body: bytes, n: int) -> list:
    def once():
        x = server._input(server._object(json.loads(body)))
        return inference.dumps({"input": inference._round(x), **model.predict(x)})

    for _ in range(20):
        once()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def over_http(path: Path, body: bytes, n: int, threads: int):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "jaxnn", "explore", str(path), "--no-browser", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    headers = {"content-type": "application/json"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/api/info", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.2)
        with httpx.Client(base_url=url) as client:
            for _ in range(20):
                client.post("/api/predict", content=body, headers=headers).raise_for_status()
            times = []
            start = time.perf_counter()
            for _ in range(n):
                t = time.perf_counter()
                r = client.post("/api/predict", content=body, headers=headers)
                times.append(time.perf_counter() - t)
                r.raise_for_status()
            sequential_rps = n / (time.perf_counter() - start)

        def worker(count):
            with httpx.Client(base_url=url) as c:
                for _ in range(count):
                    c.post("/api/predict", content=body, headers=headers).raise_for_status()

        per = max(1, n // threads)
        pool = [threading.Thread(target=worker, args=(per,)) for _ in range(threads)]
        start = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        concurrent_rps = per * threads / (time.perf_counter() - start)
        return times, sequential_rps, concurrent_rps
    finally:
        proc.terminate()
        proc.wait(30)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes", default="784,30,10", help="the MLP's sizes (random weights: the time does not depend on them)"
    )
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--threads", type=int, default=4, help="client threads for the concurrent requests/s")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    net = jaxnn.mlp(sizes, cost="cross-entropy")
    params = jaxnn.init_network(0, net)
    body = json.dumps(drawing()).encode()
    with tempfile.TemporaryDirectory() as d:
        path = jaxnn.save_model(Path(d) / "model.npz", params, cost="cross-entropy", activation="sigmoid")
        model = inference.LoadedModel.make(net, params, {}, "bench")
        local = in_process(model, body, args.requests)
        remote, rps, crps = over_http(path, body, args.requests, args.threads)
    ms = lambda s: f"{1000 * s:.1f}"  # noqa: E731
    print(f"predict of a drawn digit, [{args.sizes}], {args.requests} requests, body {len(body):,} bytes")
    print(
        "| path | p50 ms | p99 ms | requests/s (sequential) | requests/s (4 clients) |".replace("4", str(args.threads))
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| in-process | {ms(percentile(local, 50))} | {ms(percentile(local, 99))} | {1 / statistics.mean(local):.0f} | — |"
    )
    print(
        f"| HTTP (uvicorn, httpx) | {ms(percentile(remote, 50))} | {ms(percentile(remote, 99))} | {rps:.0f} | {crps:.0f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
