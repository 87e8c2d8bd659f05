"""Files written atomically, and ``.npz`` archives read as if they were hostile.

Shared by the model files (`jaxnn.modelfile`), the checkpoints (`jaxnn.checkpoint`)
and the expanded-MNIST cache: a write goes to a temporary file in the same folder, is flushed
to disk, and is renamed over the target, so a crash mid-write never leaves a half-written file
where a good one stood. A read checks every array's header before any data is read.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import struct
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np

from jaxnn.errors import JaxnnError

MAX_METADATA_BYTES = 1 << 20


def write_target(path, what: str = "file") -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or, when ``path`` is a symbolic
    link, the file it points to (a write goes through the link and leaves the link in place).

    Refuses, before anything is written, a missing folder and anything that is not a regular
    file (a folder, a device, a FIFO, a socket): renaming over those would replace them.
    """
    path = Path(path)
    target = path
    if path.is_symlink():
        try:
            target = Path(os.path.realpath(path, strict=True))
        except FileNotFoundError:  # a dangling link: the write creates the file it names
            target = Path(os.path.realpath(path))
        except OSError as exc:
            raise JaxnnError(f"cannot write the {what} {path}: {exc.strerror} (a symbolic link loop?)") from None
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise JaxnnError(f"cannot write the {what} {path}: the folder {folder} does not exist; create it first")
    if target.is_dir():
        raise JaxnnError(f"cannot write the {what} {path}: it is a folder; give a file name inside it")
    if target.exists() and not target.is_file():
        kind = {
            stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device",
            stat.S_IFIFO: "a FIFO (named pipe)",
            stat.S_IFSOCK: "a socket",
        }.get(stat.S_IFMT(target.stat().st_mode), "not a regular file")
        shown = f"{path} (a link to {target})" if target != path else str(path)
        raise JaxnnError(f"cannot write the {what} {shown}: it is {kind}, not a regular file; give a file path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise JaxnnError(
            f"cannot write the {what} {path}: the folder {folder} is not writable by this user; pick another folder"
        )
    if target.exists() and not os.access(target, os.W_OK):  # a rename would replace it: refuse as open() would
        raise JaxnnError(
            f"cannot write the {what} {path}: the file is read-only for this user; make it writable "
            "(chmod u+w) or pick another path"
        )
    return target


def _new_file_mode(target: Path) -> int:
    """The mode a plain ``open(path, "w")`` would give: the existing file's mode when it is
    replaced, otherwise 0o666 less the umask (so 0o644 under umask 022, not mkstemp's 0o600)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        pass
    umask = None
    try:
        with open("/proc/self/status") as f:  # reads the umask without changing it (Linux ≥ 4.7)
            for line in f:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    if umask is None:
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


#: Held while `atomic_write` writes: the command line's Ctrl-C watchdog takes it before it ends the
#: process, so that an exit never leaves a temporary file behind.
WRITING = threading.RLock()
#: Set by that watchdog when it ends the process: a write not yet started waits for the end.
EXITING = threading.Event()


def atomic_write(path, write, what: str = "file") -> Path:
    """Calls ``write(file_object)`` on a temporary file, fsyncs it, then renames it to ``path``.

    The file gets the mode a plain write would give (see `_new_file_mode`). A symbolic
    link is written through: the file it points to is replaced and the link kept. Anything that
    is not a regular file (a device, a FIFO, a folder) is refused (`write_target`).
    """
    if EXITING.is_set():  # the process is being ended: start nothing that the exit would cut short
        threading.Event().wait()
    with WRITING:
        return _atomic_write(path, write, what)


def _atomic_write(path, write, what: str) -> Path:
    path = Path(path)
    target = write_target(path, what)
    folder = target.parent if str(target.parent) else Path(".")
    mode = _new_file_mode(target)
    # The temporary file's name is chosen before the file is made, so that an exception landing
    # anywhere after it is made (a KeyboardInterrupt even before its descriptor is stored) removes it.
    tmp = folder / f".{target.name}.{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as error:
        # a file of that name made by another writer (one chance in 2**64) is not ours to remove
        if not (isinstance(error, FileExistsError) and error.filename == os.fspath(tmp)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    try:  # make the rename itself durable where the platform allows
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


# -- reading .npz files that may be hostile: shared by load_model and jaxnn.checkpoint.load_checkpoint

#: Files larger than this are refused before they are opened.
MAX_FILE_BYTES = 1 << 34
_DEFLATE_MAX_RATIO = 1100  # deflate cannot expand data by more than about 1032:1
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    UnicodeDecodeError,
    RecursionError,
    struct.error,
    OverflowError,
)


class NpzArchive:
    """An open ``.npz`` archive whose arrays are checked (header, dtype, shape, size on disk, finite
    values) before they are read, so a hostile file cannot make numpy allocate what it declares."""

    def __init__(self, zf: zipfile.ZipFile, bad: str):
        self.zf, self.bad = zf, bad
        listed = zf.namelist()
        twice = sorted({n for n in listed if listed.count(n) > 1}) if len(set(listed)) != len(listed) else []
        if twice:
            raise JaxnnError(f"{bad}: it holds two members named {twice[0]} (forged or corrupt; only one can be read)")
        self.names = {n[:-4] for n in listed if n.endswith(".npy")}
        others = [n for n in zf.namelist() if not n.endswith(".npy")]
        if others:
            raise JaxnnError(f"{bad}: it holds members that are not arrays ({', '.join(sorted(others)[:3])})")

    def only(self, allowed) -> None:
        """Refuses arrays the format does not have (and reports missing ones first)."""
        missing = sorted(set(allowed) - self.names)
        if missing:
            raise JaxnnError(f"{self.bad}: array {missing[0]} is missing (file truncated?)")
        extra = sorted(self.names - set(allowed))
        if extra:
            raise JaxnnError(f"{self.bad}: it holds arrays this format does not have ({', '.join(extra[:3])})")

    def header(self, name):
        """``(shape, dtype)`` as the array's header declares them, read without reading the data."""
        if name not in self.names:
            raise JaxnnError(f"{self.bad}: array {name} is missing (file truncated?)")
        info = self.zf.getinfo(name + ".npy")
        with self.zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise JaxnnError(
                    f"{self.bad}: array {name} uses .npy format version {version}, which jaxnn does not read"
                )
            offset = f.tell()
        if dtype.hasobject:
            raise JaxnnError(f"{self.bad}: array {name} holds Python objects, which jaxnn never unpickles")
        count = 1
        for d in shape:
            count *= int(d)
        need = offset + count * dtype.itemsize
        stored = info.compress_type == zipfile.ZIP_STORED
        if (
            info.file_size != need
            or (stored and info.compress_size != need)
            or (not stored and need > _DEFLATE_MAX_RATIO * max(info.compress_size, 1))
        ):
            raise JaxnnError(
                f"{self.bad}: array {name} declares shape {shape} of {dtype} ({need:,} bytes) but the "
                f"file holds {info.file_size:,} (truncated, corrupt or forged)"
            )
        return tuple(int(d) for d in shape), dtype

    def array(self, name, shape=None, kinds="f", dtype=None, finite=True) -> np.ndarray:
        """Reads one array after checking its declared ``shape``, dtype kind (``"f"`` float,
        ``"u"`` unsigned, ...) or exact ``dtype``, and, for floats, that its values are finite."""
        got_shape, got_dtype = self.header(name)
        got_dtype = got_dtype.newbyteorder("=")  # big-endian arrays are read into native order below
        if (
            (shape is not None and got_shape != tuple(shape))
            or got_dtype.kind not in kinds
            or (dtype is not None and got_dtype != np.dtype(dtype))
        ):
            kind = str(np.dtype(dtype)) if dtype is not None else {"f": "float", "u": "unsigned"}.get(kinds, kinds)
            raise JaxnnError(
                f"{self.bad}: {name} has shape {got_shape} and dtype {got_dtype}, expected {kind} "
                f"{tuple(shape) if shape is not None else 'array'}"
            )
        with self.zf.open(name + ".npy") as f:
            a = np.lib.format.read_array(f, allow_pickle=False)
        if not a.dtype.isnative:  # e.g. saved on a big-endian machine: JAX computes in native order only
            a = a.astype(a.dtype.newbyteorder("="))
        if finite and a.dtype.kind == "f" and not np.isfinite(a).all():
            raise JaxnnError(f"{self.bad}: {name} holds NaN or infinite values")
        return a

    def metadata(self) -> dict:
        """The ``__jaxnn__`` block: UTF-8 JSON of at most ``MAX_METADATA_BYTES``, holding an object."""
        shape, dtype = self.header("__jaxnn__")
        if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_METADATA_BYTES:
            raise JaxnnError(
                f"{self.bad}: its metadata block is malformed (expected at most "
                f"{MAX_METADATA_BYTES:,} bytes of JSON as uint8)"
            )
        raw = self.array("__jaxnn__", kinds="u")
        try:
            meta = json.loads(raw.tobytes().decode())
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise JaxnnError(f"{self.bad}: its metadata is not valid JSON") from None
        if not isinstance(meta, dict):
            raise JaxnnError(f"{self.bad}: its metadata is a JSON {type(meta).__name__}, not an object")
        return meta


@contextlib.contextmanager
def open_npz(path, bad: str, repair: str):
    """Opens ``path`` as an `NpzArchive`; any read failure inside the ``with`` block becomes
    one JaxnnError that starts with ``bad`` and ends with ``repair``."""
    path = Path(path)
    if not path.is_file():
        raise JaxnnError(f"{bad}: there is no file at {path}")
    if not os.access(path, os.R_OK):
        raise JaxnnError(f"{bad}: this user may not read it (permission denied); check its permissions")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise JaxnnError(f"{bad}: it has {size:,} bytes, more than the {MAX_FILE_BYTES:,} jaxnn reads")
    try:
        with zipfile.ZipFile(path) as zf:
            yield NpzArchive(zf, bad)
    except JaxnnError:
        raise
    except MemoryError:
        raise JaxnnError(f"{bad}: it declares more data than fits in memory (forged?)") from None
    except _READ_ERRORS as exc:
        raise JaxnnError(f"{bad}: {type(exc).__name__}: {exc} (truncated or corrupt? {repair})") from None


__all__ = [
    "MAX_FILE_BYTES",
    "MAX_METADATA_BYTES",
    "EXITING",
    "WRITING",
    "NpzArchive",
    "atomic_write",
    "open_npz",
    "write_target",
]
