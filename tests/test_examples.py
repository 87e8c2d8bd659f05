"""The exercise examples run as a user runs them, and print the right answers.

Each script in examples/ex_*.py is run in --quick mode in a subprocess (with --out pointing at a
temporary folder), and the test parses numbers from what it printed. The scripts run two at a
time: while a test waits for its script, the next test's script is already running.
"""

import concurrent.futures
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jaxnn import JaxnnError, plotting

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = [
    "ex_perceptrons",
    "ex_bitwise_output",
    "ex_gradient_descent",
    "ex_linear_neurons",
    "ex_learning_slowdown",
    "ex_cross_entropy",
    "ex_softmax",
    "ex_universality",
    "ex_gradient_check",
    "ex_no_hidden_layer",
    "ex_cost_comparison",
]
TIMEOUT = 300


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run(args, cwd):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)


class Runner:
    """Runs the example scripts two at a time, starting the next one while a test waits."""

    def __init__(self, out):
        self.out = out
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self.futures = {}

    def _submit(self, name):
        if name not in self.futures:
            folder = self.out / name
            folder.mkdir()
            args = [str(EXAMPLES / f"{name}.py"), "--quick", "--out", str(folder)]
            self.futures[name] = self.pool.submit(_run, args, folder)

    def result(self, name):
        self._submit(name)
        i = SCRIPTS.index(name)
        if i + 1 < len(SCRIPTS):
            self._submit(SCRIPTS[i + 1])
        proc = self.futures[name].result()
        assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout, self.out / name

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    r = Runner(tmp_path_factory.mktemp("examples"))
    yield r
    r.close()


def number(pattern, text, group=1):
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return float(match.group(group).replace(",", "").rstrip("%"))


def percent(pattern, text):
    return number(pattern, text) / 100


def check_figure(folder, name):
    png = folder / f"{name}.png"
    assert png.is_file(), f"{name} saved no figure"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_perceptrons(runner):
    out, folder = runner.result("ex_perceptrons")
    changes = re.findall(r"outputs that change: (\d+) / ", out)
    assert len(changes) == 4 and set(changes) == {"0"}  # scaling by c > 0 changes no perceptron output
    gaps = re.findall(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+\S+%$", out, re.M)
    by_c = {int(c): (float(safe), float(every)) for c, safe, every in gaps}
    assert by_c[1][0] > 0.1 and by_c[1000][0] < 1e-3 and by_c[10000][0] < 1e-6  # converges where |w·x + b| ≥ 0.01
    assert number(r"perceptron network output = (\S+)", out) == 1
    assert number(r"c = 1000\s+sigmoid network: hidden = (\S+),", out) == 0.5
    assert number(r"c = 1000\s+sigmoid network: hidden = \S+, output = (\S+)", out) < 1e-6  # wrong at the tie
    check_figure(folder, "ex_perceptrons")


def test_bitwise_output(runner):
    out, folder = runner.result("ex_bitwise_output")
    argmax = percent(r"argmax of the 10 outputs .*: (\S+) of test", out)
    assert 0.5 < argmax < 1
    assert "it decodes 10 / 10 digits" in out
    bit_codes = [float(v) / 100 for v in re.findall(r"bit-code accuracy on the test set: (\S+)%", out)]
    assert len(bit_codes) == 2
    assert abs(bit_codes[0] - argmax) < 0.05  # the ±K layer reads the argmax digit's code almost always
    assert percent(r"bit code equals the argmax digit's code: (\S+)", out) > 0.85
    assert number(r"codes that are not a digit \(10-15\): (\d+)", out) == 0
    assert "the ideal 9 decodes as 11 (binary 1011)" in out
    check_figure(folder, "ex_bitwise_output")


def test_gradient_descent(runner):
    out, folder = runner.result("ex_gradient_descent")
    best = number(r"best of 3,600 directions: .*∇C·Δv = (\S+)", out)
    rule = number(r"−ε ∇C/‖∇C‖: .*∇C·Δv = (\S+) =", out)
    assert rule == pytest.approx(-0.1 * (2**2 + 10**2) ** 0.5, abs=1e-4)
    assert best == pytest.approx(rule, abs=1e-4)
    assert number(r"C rises in (\d+) of 12 steps", out) > 0  # a fixed step can overshoot
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+((?:\S+%\s+)+)(\S+)\s+\S+\s+\S+$", out, re.M)
    runs = {int(m): (float(acc.split()[-1].rstrip("%")) / 100, float(t)) for m, _, acc, t in rows}
    assert set(runs) == {1, 20}
    assert runs[1][0] > 0.6 and runs[20][0] > 0.6
    assert runs[20][1] < runs[1][1]  # an m = 20 epoch is faster than an m = 1 epoch
    check_figure(folder, "ex_gradient_descent")


def test_linear_neurons(runner):
    out, folder = runner.result("ex_linear_neurons")
    assert number(r"max \|network\(x\) − \(W x \+ b\)\| = (\S+)", out) < 1e-12
    assert number(r"vs jaxnn.backprop: (\S+);", out) < 1e-12
    assert number(r"vs jaxnn.backprop: \S+; vs jax.grad: (\S+)", out) < 1e-12
    assert number(r"from \(w2\)ᵀ∇_a C alone by (\S+)", out) > 0.1
    assert number(r"at that neuron: jaxnn.backprop vs jax.grad max diff (\S+)", out) < 1e-12
    assert re.search(r"w2 .*rows \(neurons\) affected: \[2\]", out)
    assert re.search(r"w1 .*rows \(neurons\) affected: \[0, 1, 2, 3, 4, 5\]", out)
    assert re.search(r"w3 .*rows \(neurons\) affected: none", out)
    assert number(r"max diff from jaxnn.backprop (\S+),", out) < 1e-12
    assert number(r"against jaxnn.backprop's ∂C/∂b\^1: max diff (\S+)", out) < 1e-12
    check_figure(folder, "ex_linear_neurons")


def test_learning_slowdown(runner):
    out, folder = runner.result("ex_learning_slowdown")
    table = {}
    for line in out.splitlines():
        m = re.match(r"^\s+\((\S+), (\S+)\)\s+(quadratic|cross-entropy)\s+(.*)$", line)
        if m:
            cols = m.group(4).split()
            table[(float(m.group(1)), float(m.group(2)), m.group(3))] = (float(cols[-3]), float(cols[-1]))
    assert len(table) == 4
    assert all(diff < 1e-12 for _, diff in table.values())  # jaxnn.sgd equals the closed-form updates
    assert table[(2.0, 2.0, "quadratic")][0] > 0.9  # still saturated after 100 epochs: the slowdown
    assert table[(2.0, 2.0, "cross-entropy")][0] < 0.1
    assert table[(0.6, 0.9, "quadratic")][0] > table[(0.6, 0.9, "cross-entropy")][0]
    check_figure(folder, "ex_learning_slowdown")


def test_cross_entropy(runner):
    out, folder = runner.result("ex_cross_entropy")
    rows = re.findall(r"^\s+(0\.\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)\s+(\S+)$", out, re.M)
    assert len(rows) == 4
    for y, _, a, c, h, d2, prime in rows:
        assert float(a) == pytest.approx(float(y), abs=1e-6)  # σ(z*) = y
        assert float(c) == pytest.approx(float(h), abs=1e-6)  # min C = H(y)
        assert float(d2) == pytest.approx(float(prime), abs=1e-5) and float(d2) > 0
    assert number(r"∂²C/∂w1∂w2 = (\S+) ", out) < 0
    assert number(r"max \|σ\(z\) − y\| = (\S+)", out) < 1e-3
    cost = number(r"mean cost (\S+);", out)
    assert cost == pytest.approx(number(r"mean H\(y\) = (\S+)", out), abs=1e-4)
    assert number(r"its minimum is at a = (\S+), not at a = y", out) < 0.01
    assert re.search(r"evaluated naively is nan; jaxnn, from z, gives \d", out)
    check_figure(folder, "ex_cross_entropy")


def test_softmax(runner):
    out, folder = runner.result("ex_softmax")
    assert number(r"∂a_j/∂z_j = (\S+) \(> 0\)", out) > 0
    assert number(r"∂a_j/∂z_k = (\S+) \(< 0\)", out) < 0
    assert number(r"max \|J − \(diag\(a\) − aaᵀ\)\| = (\S+);", out) < 1e-12
    assert number(r"a\^L − y:\s+max diff (\S+)", out) < 1e-12
    assert number(r"registered delta \(BP1\):\s+max diff (\S+)", out) < 1e-12
    assert number(r"a_r − y_j .*median (\S+)", out) > 0.1
    assert number(r"softmax output, log-likelihood: jaxnn.backprop vs jax.grad (\S+)", out) < 1e-12
    assert number(r"c = 1000 .*one_hot\(argmax\)\| = (\S+)", out) < 1e-10
    assert "c = 1000 gives (0.0000, 0.5000, 0.0000, 0.5000, 0.0000)" in out
    check_figure(folder, "ex_softmax")


def test_universality(runner):
    out, folder = runner.result("ex_universality")
    hand = re.findall(r"^\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)$", out, re.M)
    means = [float(m) for *_, m in hand]
    assert len(means) == 6 and means == sorted(means, reverse=True)  # more bumps, smaller error
    hb_max = number(r"hand-built, 25 bumps \(50 hidden\)\s+(\S+)", out)
    tr_max = number(r"trained, 50 hidden\s+(\S+)", out)
    tr_mean = number(r"trained, 50 hidden\s+\S+\s+(\S+)", out)
    assert hb_max < 0.2 and tr_max < 0.1 and tr_mean < 0.03
    check_figure(folder, "ex_universality")


def test_gradient_check(runner):
    out, folder = runner.result("ex_gradient_check")
    table = out.split("the same check in float32")[0]
    norms = [
        float(v) for v in re.findall(r"^\s+[wb]\d \(.*?\)\s+\d+\s+.*?\s+\S+\s+\S+\s+(\S+)\s+\S+\s+\S+$", table, re.M)
    ]
    assert len(norms) == 4 and max(norms) < 1e-6  # float64 finite differences agree with backprop
    assert number(r"loop over examples: max diff (\S+);", out) < 1e-12
    check_figure(folder, "ex_gradient_check")


def test_no_hidden_layer(runner):
    out, folder = runner.result("ex_no_hidden_layer")
    ce = re.search(r"cross-entropy\s+0.5\s+\S+\s+(\S+)%", out)
    assert ce and float(ce.group(1)) > 80
    assert len(re.findall(r"^\s+large \(N\(0, 1\)\)", out, re.M)) == 3
    check_figure(folder, "ex_no_hidden_layer")


def test_cost_comparison(runner):
    out, folder = runner.result("ex_cost_comparison")
    accuracies = re.findall(r"^\s+(quadratic|cross-entropy|log-likelihood)\s+\w+\s+\S+\s+\S+ / (\S+)%$", out, re.M)
    assert len(accuracies) == 3 and all(float(a) > 80 for _, a in accuracies)
    values = [number(rf"{name} (\S+)[,\n]", out) for name in ("quadratic", "cross-entropy", "log-likelihood")]
    assert max(values) / min(values) > 2  # one network, three very different cost values
    check_figure(folder, "ex_cost_comparison")


def test_example_without_matplotlib(tmp_path):
    """With matplotlib missing, an example still prints its answer and says how to get the figure."""
    script = EXAMPLES / "ex_learning_slowdown.py"
    code = (
        "import runpy, sys; sys.modules['matplotlib'] = None; "
        f"sys.argv = [{str(script)!r}, '--quick', '--out', {str(tmp_path)!r}]; "
        f"sys.path.insert(0, {str(EXAMPLES)!r}); "  # as `python examples/NAME.py` puts the script's folder first
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    proc = _run(["-c", code], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "quadratic cost, final output" in proc.stdout
    assert "figure skipped" in proc.stdout and 'pip install "jaxnn[plot]"' in proc.stdout
    assert not list(tmp_path.glob("*.png"))


def test_plotting_error_without_matplotlib(monkeypatch):
    real_import = plotting.importlib.import_module

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(plotting.importlib, "import_module", no_matplotlib)
    with pytest.raises(JaxnnError, match=re.escape('pip install "jaxnn[plot]"')):
        plotting.pyplot()
    with pytest.raises(JaxnnError, match="matplotlib"):
        plotting.subplots()
    assert plotting.available() is False


def test_plotting_saves_png(tmp_path):
    pytest.importorskip("matplotlib")
    fig, ax = plotting.subplots(1, 2)
    ax[0].plot([0, 1], [1, 0])
    path = plotting.save(fig, tmp_path / "sub" / "line.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plotting.pyplot().get_backend().lower() == "agg"
