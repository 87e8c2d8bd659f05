"""A progress bar over epochs: tqdm when it is installed (``pip install jaxnn[progress]``),
else a plain one-line bar on stderr.

When stderr is not a terminal (a log file, a pipe, CI), no bar is drawn: each epoch writes one
plain line instead, so logs hold no redraw frames (carriage returns or escape codes).
"""

from __future__ import annotations

import sys
import time


class _PlainBar:
    def __init__(self, total, desc, file):
        self.total, self.desc, self.file, self.n = total, desc, file, 0
        self.start = time.perf_counter()
        self.postfix = ""
        self._draw()

    def _draw(self):
        width = 24
        done = int(width * self.n / self.total) if self.total else width
        elapsed = time.perf_counter() - self.start
        self.file.write(
            f"\r{self.desc} [{'#' * done}{'.' * (width - done)}] {self.n}/{self.total} {elapsed:5.1f}s {self.postfix}"
        )
        self.file.flush()

    def update(self, n=1):
        self.n += n
        self._draw()

    def set_postfix_str(self, s):
        self.postfix = s
        self._draw()

    def write(self, line):
        self.file.write("\r\033[K")  # clear the bar; the line goes to stdout, as without a bar
        self.file.flush()
        print(line, flush=True)
        self._draw()

    def close(self):
        self.file.write("\n")
        self.file.flush()


class _LineBar:
    """One plain line per epoch, for output that is not a terminal."""

    def __init__(self, total, desc, file):
        self.total, self.desc, self.file, self.n = total, desc, file, 0
        self.start = time.perf_counter()
        self.postfix = ""

    def update(self, n=1):
        self.n += n
        elapsed = time.perf_counter() - self.start
        postfix = f" {self.postfix}" if self.postfix else ""
        self.file.write(f"{self.desc}: epoch {self.n}/{self.total} done, {elapsed:.1f} s{postfix}\n")
        self.file.flush()

    def set_postfix_str(self, s):
        self.postfix = s

    def write(self, line):
        print(line, flush=True)

    def close(self):
        pass


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass

    def write(self, line):
        print(line, flush=True)

    def close(self):
        pass


def _is_terminal(file) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def bar(total: int, desc: str = "training", enabled: bool = True):
    """Returns an object with ``update``, ``set_postfix_str``, ``write`` and ``close``: a bar on a
    terminal, one line per epoch on stderr otherwise, nothing when not ``enabled``. ``write``
    prints a line to stdout."""
    if not enabled:
        return _NoBar()
    if not _is_terminal(sys.stderr) and "ipykernel" not in sys.modules:  # notebooks keep tqdm's widget
        return _LineBar(total, desc, sys.stderr)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PlainBar(total, desc, sys.stderr)

    class _Tqdm(tqdm):
        def write(self, line):  # tqdm.write keeps the bar below the printed lines
            tqdm.write(line, file=sys.stdout)

    return _Tqdm(total=total, desc=desc, unit="epoch", file=sys.stderr, leave=False, dynamic_ncols=True)
