"""Where the test suite's time goes: every XLA compilation, by program, by test file and by process.

    python benchmarks/suite_compiles.py                       # the README's test command, logged
    python benchmarks/suite_compiles.py tests/test_book.py    # any pytest arguments instead

The suite spends most of its CPU time compiling: each test builds networks of its own sizes,
and each process (the pytest-xdist workers, and the scripts, notebooks and command lines the
tests start) compiles what it runs. This runs pytest with a listener on JAX's public
``jax.monitoring`` events in every Python process (through a ``sitecustomize`` module on
``PYTHONPATH``, which replaces any other ``sitecustomize`` for the run), then prints tables:
the compilations' CPU seconds and counts, with the persistent-cache hits apart, by program
name, by test file, and by kind of process. The figures are wall seconds of each compilation,
so they grow when both cores are busy; compare runs made on the same quiet machine.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SITECUSTOMIZE = textwrap.dedent(
    """
    # Written by benchmarks/suite_compiles.py: logs every XLA compilation of this process.
    import builtins, json, os, sys

    _log = os.environ["JAXNN_COMPILE_LOG"]
    _import = builtins.__import__
    _state = {"installed": False, "hit": False, "file": None}


    def _write(record):
        if _state["file"] is None:
            _state["file"] = open(os.path.join(_log, f"{os.getpid()}.jsonl"), "a")
        _state["file"].write(json.dumps(record) + "\\n")
        _state["file"].flush()


    def _on_event(name, **kw):
        if name == "/jax/compilation_cache/cache_hits":
            _state["hit"] = True


    def _on_duration(name, secs, **kw):
        if name != "/jax/core/compile/backend_compile_duration":
            return
        hit, _state["hit"] = _state["hit"], False
        _write({
            "program": kw.get("fun_name", "?"),
            "secs": secs,
            "hit": hit,
            "test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0],
            "process": os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "?",
        })


    def _hooked_import(name, *args, **kwargs):
        module = _import(name, *args, **kwargs)
        if not _state["installed"] and hasattr(sys.modules.get("jax"), "monitoring"):
            _state["installed"] = True
            sys.modules["jax"].monitoring.register_event_listener(_on_event)
            sys.modules["jax"].monitoring.register_event_duration_secs_listener(_on_duration)
        return module


    builtins.__import__ = _hooked_import
    """
)


def _table(title, rows, key, top):
    groups = collections.defaultdict(lambda: [0, 0.0, 0])
    for r in rows:
        g = groups[key(r)]
        if r["hit"]:
            g[2] += 1
        else:
            g[0] += 1
            g[1] += r["secs"]
    print(f"\n| {title} | compilations | seconds | cache hits |\n|---|---:|---:|---:|")
    for name, (n, secs, hits) in sorted(groups.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"| {name} | {n} | {secs:.1f} | {hits} |")


def _process_kind(r):
    """pytest-xdist's workers run as ``python -c``; the CLI as ``python -m jaxnn`` (__main__.py)."""
    return "pytest-xdist worker" if r["process"] == "-c" else r["process"]


def main(argv):
    args = argv or ["-q", "-n", "auto"]
    with tempfile.TemporaryDirectory(prefix="jaxnn-compile-log-") as folder:
        hook = Path(folder) / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
        logs = Path(folder) / "log"
        logs.mkdir()
        env = dict(os.environ, JAXNN_COMPILE_LOG=str(logs))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(hook), env.get("PYTHONPATH", "")) if p)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=ROOT, env=env)
        wall = time.perf_counter() - start
        rows = [json.loads(line) for f in glob.glob(str(logs / "*.jsonl")) for line in open(f)]
        n_processes = len(glob.glob(str(logs / "*.jsonl")))
    compiled = [r for r in rows if not r["hit"]]
    print(
        f"\npytest {' '.join(args)}: exit {proc.returncode}, {wall:.0f} s wall; {len(compiled)} compilations, "
        f"{sum(r['secs'] for r in compiled):.0f} s, and {len(rows) - len(compiled)} persistent-cache hits "
        f"({sum(r['secs'] for r in rows if r['hit']):.0f} s), in {n_processes} processes"
    )
    _table("program", rows, lambda r: r["program"], 20)
    _table("test file", rows, lambda r: r["test"].split("::")[0] or "(outside a test)", 25)
    _table("process", rows, _process_kind, 15)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
