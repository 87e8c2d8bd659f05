"""JAX's persistent compilation cache, on by default for jaxnn's programs.

A new process compiles every epoch program again (about a second for the book's MLP, more for
conv nets). With the cache on, XLA's compiled programs are stored on disk and reused by the next
process that compiles the same program with the same JAX version, on the same kind of machine.

`enable` runs when `jaxnn.net` (which every training and prediction function imports) is first imported. It points ``jax_compilation_cache_dir`` at
``$JAXNN_CACHE/xla``, else ``$XDG_CACHE_HOME/jaxnn/xla``, else ``~/.cache/jaxnn/xla``, and lowers
``jax_persistent_cache_min_compile_time_secs`` to `MIN_COMPILE_SECONDS` so that the small
epoch programs are kept too, and caps the folder at `MAX_BYTES` (least recently used
programs go first). It changes nothing when:

- ``JAXNN_NO_COMPILATION_CACHE`` is set to anything but ``""`` or ``"0"`` (the opt-out);
- the user already chose a cache folder (``JAX_COMPILATION_CACHE_DIR`` or
  ``jax.config.update("jax_compilation_cache_dir", ...)`` before importing jaxnn);
- the folder cannot be created (a read-only home, say): jaxnn then runs without the cache;
- the ``filelock`` package (a dependency of jaxnn, which JAX needs to cap the cache's size) cannot
  be imported: without it JAX refuses every cache entry with a warning, so jaxnn leaves the cache off
  rather than let it grow without a limit.

With the size cap, JAX keeps an access-time file beside each program and fails every later write
with a warning when one is missing. One goes missing when a process is killed between writing the
two, or when the folder was filled by a run without the cap (an older jaxnn, or
``JAX_COMPILATION_CACHE_MAX_SIZE=-1``). `enable` removes such programs (`repair`) under JAX's own
lock, so the cache heals; each costs one compilation.

A compile-time threshold or size limit set by the user (``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS``,
``JAX_COMPILATION_CACHE_MAX_SIZE``) is kept.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Optional

import jax

#: Programs that took at least this long to compile are cached. JAX's own default is 1 s, which
#: leaves out the MLP's epoch programs; 0 keeps every program, the small ones a training run starts
#: with too (drawing the weights, the optimizer's state: about 20 for one `sgd` run), since reading
#: one back costs less than compiling it.
MIN_COMPILE_SECONDS = 0.0
#: The cache's size limit in bytes; JAX evicts the least recently used programs beyond it.
MAX_BYTES = 2**30
#: The opt-out: set it to 1 to leave JAX's compilation cache as JAX configures it.
OPT_OUT = "JAXNN_NO_COMPILATION_CACHE"


def cache_dir() -> Path:
    """The folder jaxnn uses for compiled programs (whether or not the cache is on)."""
    if os.environ.get("JAXNN_CACHE"):
        return Path(os.environ["JAXNN_CACHE"]).expanduser() / "xla"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxnn" / "xla"


def opted_out() -> bool:
    return os.environ.get(OPT_OUT, "") not in ("", "0")


def repair(folder: Path) -> int:
    """Removes the cached programs in ``folder`` that have no access-time file (see above), holding
    the lock JAX takes for the folder; returns how many were removed (0 when the lock is busy)."""
    import filelock

    try:
        with filelock.FileLock(str(folder / ".lockfile"), timeout=5):
            removed = 0
            for entry in folder.glob("*-cache"):
                if not entry.with_name(entry.name[: -len("-cache")] + "-atime").exists():
                    try:
                        entry.unlink()
                        removed += 1
                    except FileNotFoundError:
                        pass
            return removed
    except (filelock.Timeout, OSError):
        return 0


def enable() -> Optional[Path]:
    """Turns the persistent compilation cache on in `cache_dir` unless the user opted out
    or chose a folder; returns the folder in use by jaxnn's choice, or ``None``."""
    if opted_out() or getattr(jax.config, "jax_compilation_cache_dir") is not None:
        return None
    if importlib.util.find_spec("filelock") is None:
        return None
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    repair(folder)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    if "JAX_COMPILATION_CACHE_MAX_SIZE" not in os.environ:
        jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return folder
