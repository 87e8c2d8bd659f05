"""The chapter scripts and the reference scripts run in their quick modes, as a user types them.

examples/chapter5.py and chapter6.py are run by tests/test_convnet.py and the exercise scripts by
tests/test_examples.py; these are the rest. Each test runs its script in a subprocess and reads
numbers from what it printed; pytest-xdist spreads the four over the workers.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {
    "chapter1": ["examples/chapter1.py", "--quick"],
    "chapter3": ["examples/chapter3.py", "all", "--quick", "--out", "{out}"],
    "book_sessions": ["examples/book_sessions.py", "--quick"],
    "numpy_network2": ["examples/numpy_network2.py", "--quick"],
}


def _run(args):
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _ok(name, out=None):
    proc = _run([a.format(out=out) for a in SCRIPTS[name]])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_chapter1_quick():
    out = _ok("chapter1")
    # three epochs of the book's network: well above chance, and the summary table is printed
    best = float(re.search(r"\[784, 30, 10\] seed 0: best ([\d.]+)%", out).group(1))
    assert 85.0 < best < 97.0
    assert re.search(r"\| \[784, 30, 10\] \| 95\.42% \| [\d.]+% \|", out)


def test_chapter3_quick_prints_every_table_and_writes_the_figures(tmp_path):
    out = _ok("chapter3", tmp_path)
    for section in ("cross-entropy", "l2", "overfitting", "init", "costs", "l1-l2", "dropout"):
        assert f"## {section}" in out
    row = re.search(
        r"\| \[784,30,10\] cross-entropy, large init, η 0\.5, \d+ epochs, best test \| 95\.49% \| ([\d.]+)%", out
    )
    assert 80.0 < float(row.group(1)) < 97.0
    # the notes' L1 table: λ = 0.1 per step kills an L1 network (chance level), λ = 0 does not
    l1 = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| ([\d.e-]+) \| [\d.]+% \| ([\d.]+)%", out, re.M)}
    assert l1["0"] > 80.0 and l1["0.1"] < 20.0
    for name in ("ch3_overfitting.png", "ch3_init.png", "ch3_costs.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_book_sessions_quick():
    out = _ok("book_sessions")
    names = re.findall(r"^\| (ch\d[\w-]*) \|", out, re.M)
    assert {"ch6-fc100", "ch6-conv", "ch6-dropout", "ch5-4hidden"} <= set(names)
    fc = re.search(r"^\| ch6-fc100 \| 97\.80% \| ([\d.]+)% val", out, re.M)
    assert float(fc.group(1)) > 30.0  # one epoch on a slice: learning, well above 10% chance


def test_numpy_network2_reference_quick():
    out = _ok("numpy_network2")
    best, final = map(float, re.search(r"seed 0: best ([\d.]+)% final ([\d.]+)%", out).groups())
    assert 50.0 < final <= best < 95.0
