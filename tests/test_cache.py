"""The persistent compilation cache: on by default in jaxnn's cache folder, off with the opt-out."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from jaxnn import _cache

ROOT = Path(__file__).resolve().parents[1]

TRAIN = """
import jax, numpy as np, jaxnn
from jaxnn import _cache
x = np.random.default_rng(0).random((40, 6), dtype=np.float32); y = np.arange(40) % 3
params = jaxnn.init_params(jax.random.key(0), [6, 5, 3])
jaxnn.sgd(params, (x, y), 1, 10, 0.5, key=1, monitor_evaluation_accuracy=False)
print(jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs,
      jax.config.jax_compilation_cache_max_size)
"""


def _run(tmp_path, **env):
    drop = ("JAXNN_NO_COMPILATION_CACHE", "JAXNN_CACHE", "JAX_COMPILATION_CACHE_DIR")
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), PYTHONPATH=str(ROOT), **env)
    out = subprocess.run([sys.executable, "-c", TRAIN], env=full, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    # JAX warns (and writes nothing) when an entry cannot be read or written, e.g. when the size cap
    # is set without the filelock package
    assert "compilation cache" not in out.stderr, out.stderr
    return out.stdout.split()


def test_compiled_programs_are_cached_in_the_user_cache_folder(tmp_path):
    folder = tmp_path / "xdg" / "jaxnn" / "xla"
    assert _run(tmp_path) == [str(folder), "0.0", str(2**30)]
    # every program is kept, however quick its compilation (a cache hit still saves its compile time)
    assert len(list(folder.glob("*-cache"))) >= 3, "the compiled programs were not written to the cache"
    # the user's own threshold is kept: none of these tiny programs takes 60 s to compile
    own = tmp_path / "own"
    assert _run(own, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="60") == [
        str(own / "xdg" / "jaxnn" / "xla"),
        "60.0",
        str(2**30),
    ]
    assert not list((own / "xdg" / "jaxnn" / "xla").glob("*-cache"))
    # A program without its access-time file (a process killed between the two writes, or a run
    # without the size cap) made JAX warn at every later write; jaxnn removes it when it starts.
    programs = sorted(folder.glob("*-cache"))
    assert programs and all(p.with_name(p.name[:-6] + "-atime").exists() for p in programs)
    programs[0].with_name(programs[0].name[:-6] + "-atime").unlink()
    (folder / "jit_orphan-0123-cache").write_bytes(b"truncated")
    assert _run(tmp_path)[0] == str(folder)  # no warning: see _run
    assert not (folder / "jit_orphan-0123-cache").exists()
    again = sorted(folder.glob("*-cache"))
    assert again == programs and all(p.with_name(p.name[:-6] + "-atime").exists() for p in again)  # rewritten


@pytest.fixture
def no_folder_chosen():
    """As in a process where nothing chose a cache folder yet (the test run shares one: conftest.py)."""
    before = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", None)
    yield
    jax.config.update("jax_compilation_cache_dir", before)


def test_repair_removes_only_programs_without_their_access_time(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"jit_{name}-cache").write_bytes(b"program")
    (tmp_path / "jit_a-atime").write_bytes(b"12345678")
    (tmp_path / "jit_d-atime").write_bytes(
        b"12345678"
    )  # an access time alone is harmless: JAX reads it only for a program
    assert _cache.repair(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".lockfile") == [
        "jit_a-atime",
        "jit_a-cache",
        "jit_d-atime",
    ]
    assert _cache.repair(tmp_path) == 0


def test_the_opt_out_changes_nothing(monkeypatch, tmp_path, no_folder_chosen):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for value in ("1", "yes"):
        monkeypatch.setenv(_cache.OPT_OUT, value)
        assert _cache.enable() is None
    assert jax.config.jax_compilation_cache_dir is None
    assert not (tmp_path / "jaxnn").exists()


def test_without_filelock_the_cache_stays_off(monkeypatch, tmp_path, no_folder_chosen):
    # JAX needs filelock for the size cap and refuses every entry without it; jaxnn leaves the cache
    # off rather than run it unbounded or warn at every compile
    monkeypatch.delenv(_cache.OPT_OUT, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "filelock", None)
    assert jax.config.jax_compilation_cache_dir is None
    assert _cache.enable() is None
    assert jax.config.jax_compilation_cache_dir is None
    assert not (tmp_path / "jaxnn").exists()


def test_the_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("JAXNN_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.cache_dir() == tmp_path / "xdg" / "jaxnn" / "xla"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _cache.cache_dir() == Path.home() / ".cache" / "jaxnn" / "xla"
    monkeypatch.setenv("JAXNN_CACHE", str(tmp_path / "mine"))
    assert _cache.cache_dir() == tmp_path / "mine" / "xla"
