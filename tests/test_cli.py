import json
import signal
import subprocess
import sys
import textwrap

import pytest

from jaxnn.cli import main

#: Runs ``python -m jaxnn ARGS`` with SIGINT as a terminal's foreground job has it, whatever this
#: test process inherited (a job started in the background ignores SIGINT, and its children too).
TERMINAL_JAXNN = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'jaxnn'; runpy.run_module('jaxnn', run_name='__main__', alter_sys=True)"
)


def test_train_save_evaluate(tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert (
        main(
            [
                "train",
                "--sizes",
                "784,16,10",
                "--epochs",
                "2",
                "--train-size",
                "3000",
                "--eta",
                "3.0",
                "--no-progress",
                "--save",
                str(model),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Epoch 0: ") and lines[0].endswith(" / 10000")
    assert lines[1].startswith("Epoch 1: ")
    assert "Best epoch" in out and "Saved the model" in out
    final = int(lines[1].split(":")[1].split("/")[0])
    assert final > 5000  # far above chance (1,000) after 2 short epochs
    assert main(["evaluate", str(model)]) == 0
    assert f"{final} / 10000 correct" in capsys.readouterr().out


def test_plugin_works_by_name_in_the_cli(capsys):
    assert (
        main(
            [
                "train",
                "--sizes",
                "784,8,10",
                "--epochs",
                "1",
                "--train-size",
                "500",
                "--activation",
                "softplus",
                "--output-activation",
                "sigmoid",
                "--init",
                "default",
                "--eta",
                "0.5",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "Epoch 0: " in capsys.readouterr().out
    assert main(["list"]) == 0
    assert "softplus (plugin: jaxnn_softplus:softplus)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--activation", "nope"], "unknown activation 'nope'"),
        (["train", "--sizes", "100,10"], "--sizes must start with 784"),
        (["train", "--eta", "-1"], "eta must be"),
        (["train", "--mini-batch-size", "60000", "--train-size", "100"], "larger than the 100"),
        (["evaluate", "missing.npz"], "no model file"),
        (["train", "--activation", "step"], "no useful derivative"),
    ],
)
def test_cli_errors_are_one_line(args, message, capsys):
    assert main(args + ["--no-progress"] if args[0] == "train" else args) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("jaxnn: error:") and "Traceback" not in err


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "jaxnn", "list"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "costs: cross-entropy, log-likelihood, quadratic" in out.stdout


def test_sweep_prints_a_table_and_writes_json_for_the_heat_map(capsys, tmp_path):
    assert (
        main(
            [
                "sweep",
                "--sizes",
                "784,8,10",
                "--epochs",
                "1",
                "--train-size",
                "1000",
                "--lmbda",
                "0,0.5",
                "--seeds",
                "0,1",
                "--no-progress",
                "--json",
                str(tmp_path / "sweep.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Trained 4 networks at once" in out
    rows = [l for l in out.splitlines() if l.startswith("| 0.5 |")]
    assert len(rows) == 2 and all(float(r.split("|")[4].split("%")[0]) > 20 for r in rows)
    body = json.loads((tmp_path / "sweep.json").read_text())
    assert [(c["seed"], c["lmbda"]) for c in body["configs"]] == [(0, 0.0), (0, 0.5), (1, 0.0), (1, 0.5)]
    assert body["evaluation_size"] == 10_000 and len(body["evaluation_correct"]) == 4
    # the table's per-seed percentages are the file's counts
    by_lmbda = {r.split("|")[2].strip(): r.split("|")[5] for r in rows}
    for c, (correct,) in zip(body["configs"], body["evaluation_correct"]):
        assert f"{100 * correct / 10_000:.2f}" in by_lmbda[f"{c['lmbda']:g}"]
    # and jaxnn explore draws it
    from jaxnn.explore import sweeps

    grid = sweeps.heat_map(body)
    assert grid  # one grid of η × λ


def test_sweep_json_path_is_checked_before_training(tmp_path, capsys):
    code = main(["sweep", "--epochs", "1", "--json", str(tmp_path / "missing" / "s.json"), "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0 and "--json" in err and "does not exist" in err and "Trained" not in err


def test_train_with_network2_options_prints_network2_lines(capsys):
    assert (
        main(
            [
                "train",
                "--sizes",
                "784,8,10",
                "--epochs",
                "1",
                "--train-size",
                "1000",
                "--cost",
                "cross-entropy",
                "--eta",
                "0.5",
                "--lmbda",
                "5",
                "--init",
                "default",
                "--monitor",
                "--no-progress",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 0 training complete"
    assert lines[1].startswith("Cost on training data: ") and float(lines[1].split(": ")[1]) > 0
    assert lines[2].startswith("Accuracy on training data: ") and lines[2].endswith(" / 1000")


def _png_size(path):
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_train_writes_curves_and_misclassified_grid(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    curves, grid = tmp_path / "figs" / "curves.png", tmp_path / "grid.png"
    assert (
        main(
            [
                "train",
                "--sizes",
                "784,8,10",
                "--epochs",
                "1",
                "--train-size",
                "500",
                "--eta",
                "3.0",
                "--monitor",
                "--no-progress",
                "--plot",
                str(curves),
                "--misclassified",
                str(grid),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Wrote the training curves to" in out and "Wrote misclassified digits to" in out
    for png in (curves, grid):
        width, height = _png_size(png)
        assert width > 100 and height > 100
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["figs/curves.png", "grid.png"]  # no temporary file left behind


def test_plot_without_matplotlib_names_the_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed: importing it fails
    assert main(["train", "--epochs", "1", "--no-progress", "--plot", str(tmp_path / "c.png")]) == 2
    captured = capsys.readouterr()
    assert 'pip install "jaxnn[plot]"' in captured.err and "Epoch 0" not in captured.out  # fails before training
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize("command", [[], ["train"], ["sweep"], ["evaluate"], ["list"]])
def test_every_help_shows_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(command + ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    examples = out.split("Examples:\n", 1)[1]
    assert examples.lstrip().startswith("jaxnn " + (command[0] if command else ""))


def test_plot_into_a_folder_fails_before_training(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["train", "--epochs", "1", "--no-progress", "--plot", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "--plot" in captured.err and "is a folder" in captured.err and "Epoch 0" not in captured.out


# -- issue 16: a CLI that feels finished; issue 19, defect 8: outputs checked before training


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [[], ["train"], ["sweep"], ["evaluate"], ["summary"], ["list"]])
def test_help_imports_neither_jax_nor_numpy(command):
    code = f"""
import sys
import jaxnn.cli as c
try:
    c.main({command + ["--help"]!r})
except SystemExit as e:
    assert e.code == 0, e.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jax", "jaxlib", "numpy"))
print("HEAVY", heavy)
"""
    out = _run_python(code)
    assert out.returncode == 0, out.stderr
    assert "usage: jaxnn" in out.stdout and "HEAVY []" in out.stdout


def test_import_jaxnn_is_lazy_and_every_public_name_resolves():
    code = """
import sys
import jaxnn
assert "jax" not in sys.modules, "import jaxnn imported jax"
import jaxnn.layers, jaxnn.sweep  # the submodules of the same names as a registry and a function
from jaxnn.registry import Registry
assert isinstance(jaxnn.layers, Registry) and jaxnn.layers.names() == ["conv_pool", "fully_connected", "softmax"]
assert callable(jaxnn.sweep) and jaxnn.sweep.__module__ == "jaxnn.sweep"
for name in ("activations", "costs", "initializers", "regularizers"):
    assert isinstance(getattr(jaxnn, name), Registry), name
missing = [n for n in jaxnn.__all__ if not hasattr(jaxnn, n)]
assert not missing, missing
from jaxnn import sgd, Network, load_network
assert jaxnn.modelfile.load_network2.__module__ == "jaxnn.modelfile" and jaxnn.data.load  # submodules as before
try:
    jaxnn.no_such_name
except AttributeError as e:
    assert "no attribute 'no_such_name'" in str(e)
else:
    raise AssertionError("no AttributeError")
assert set(jaxnn.__all__) <= set(dir(jaxnn))
print("OK")
"""
    out = _run_python(code)
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stderr


def test_version(capsys):
    import jaxnn

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"jaxnn {jaxnn.__version__}" == "jaxnn 0.1.0"


def _subparsers():
    from jaxnn.cli import _parser

    parser = _parser()
    (sub,) = [a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction)]
    return parser, sub.choices


def test_every_option_has_help_and_shows_its_default():
    parser, commands = _subparsers()
    assert set(commands) >= {"train", "sweep", "evaluate", "summary", "list"}
    for name, p in commands.items():
        text = p.format_help()
        for action in p._actions:
            if not action.option_strings or action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings[0]} has no help"
            if action.default not in (None, False):
                assert "default" in p._get_formatter()._get_help_string(action), (name, action.dest)
        if name in ("train", "sweep", "evaluate"):
            assert "default: " in text
    train, sweep = commands["train"].format_help(), commands["sweep"].format_help()
    # the differences between train's and sweep's defaults are explained in both
    assert "'jaxnn sweep' starts from chapter 3's" in train and "not\nfrom chapter 1 as 'jaxnn train' does" in sweep
    assert "(default: quadratic; log-likelihood with --layers)" in train.replace("\n                        ", " ")
    assert "(default: validation)" in sweep and "(default: 30)" in train and "(default: 10)" in sweep


def test_list_includes_layers(capsys):
    assert main(["list"]) == 0
    assert "layers: conv_pool, fully_connected, softmax" in capsys.readouterr().out


def test_parse_layers():
    from jaxnn.cli import parse_layers

    assert parse_layers("conv(20,5) fc(100, activation=relu) softmax(10)") == [
        ("conv_pool", {"filters": 20, "filter_size": 5}),
        ("fully_connected", {"n_out": 100, "activation": "relu"}),
        ("softmax", {"n_out": 10}),
    ]
    assert parse_layers("conv_pool(filters=4, filter_size=3, pool_size=1), softmax(n_out=10, p_dropout=0.5)") == [
        ("conv_pool", {"filters": 4, "filter_size": 3, "pool_size": 1}),
        ("softmax", {"n_out": 10, "p_dropout": 0.5}),
    ]
    from jaxnn import JaxnnError

    for text, message in [
        ("conv(20,5", "cannot read"),
        ("bogus(3)", "unknown layer 'bogus'"),
        ("softmax(10, 0.5, 1, 2)", "softmax takes at most"),
        ("", "--layers is empty"),
        ("conv(filters=20, 5) softmax(10)", "put positional arguments before key=value ones"),
    ]:
        with pytest.raises(JaxnnError, match=message):
            parse_layers(text)


def test_progress_off_a_terminal_writes_one_plain_line_per_epoch(monkeypatch):
    import io

    from jaxnn import progress

    err = io.StringIO()  # not a terminal
    monkeypatch.setattr(sys, "stderr", err)
    bar = progress.bar(3, "training")
    for k in range(3):
        bar.set_postfix_str(f"{90 + k}.00%")
        bar.update()
    bar.close()
    lines = err.getvalue().splitlines()
    assert [l.split(",")[0] for l in lines] == [
        "training: epoch 1/3 done",
        "training: epoch 2/3 done",
        "training: epoch 3/3 done",
    ]
    assert lines[2].endswith(" s 92.00%") and "\r" not in err.getvalue() and "\033" not in err.getvalue()


def _png_width(path):
    return _png_size(path)[0]


def test_training_curves_draw_only_what_was_measured(tmp_path):
    pytest.importorskip("matplotlib")
    from jaxnn import History, JaxnnError, plotting

    accuracy_only = History(epoch=[0, 1], evaluation_correct=[90, 95], evaluation_size=100)
    both = History(epoch=[0, 1], evaluation_correct=[90, 95], evaluation_size=100, training_cost=[0.5, 0.4])
    one, two = (
        plotting.training_curves(accuracy_only, tmp_path / "a.png"),
        plotting.training_curves(both, tmp_path / "b.png"),
    )
    assert _png_width(tmp_path / "a.png") == 360 and _png_width(tmp_path / "b.png") == 720  # 4.5 in per panel, 80 dpi
    assert one.name == "a.png" and two.name == "b.png"
    with pytest.raises(JaxnnError, match="nothing to plot"):
        plotting.training_curves(History(epoch=[0]), tmp_path / "c.png")


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--plot", "/dev/null/x.png"], "cannot write --plot /dev/null/x.png: /dev/null is not a folder"),
        (["--misclassified", "/dev/null/x.png"], "cannot write --misclassified /dev/null/x.png: /dev/null is not a"),
        (["--save", "/dev/null/m.npz"], "cannot write --save /dev/null/m.npz: /dev/null is not a folder"),
        (["--history", "/dev/null/h.csv"], "cannot write --history /dev/null/h.csv: /dev/null is not a folder"),
        (["--checkpoint", "/dev/null/c.ckpt"], "cannot write --checkpoint /dev/null/c.ckpt: /dev/null is not a"),
        (["--save", "/dev/null"], "--save /dev/null exists and is not a regular file"),
        (["--save", "{tmp}/no/such/m.npz"], "the folder {tmp}/no/such does not exist; create it first"),
        (["--history", "{tmp}/h.txt"], "--history writes .json or .csv files"),
        (["--save", "{tmp}/m.npz", "--checkpoint", "{tmp}/m.npz"], "--save and --checkpoint both write"),
        (["--resume"], "--resume goes on from a checkpoint: pass --checkpoint PATH too"),
        (["--plot", "{tmp}/p.png", "--evaluate-on", "none"], "--plot has nothing to draw"),
    ],
)
def test_every_output_path_is_checked_before_training(flags, message, tmp_path, capsys):
    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    assert main(["train", "--epochs", "1", "--no-progress", *flags]) == 2
    captured = capsys.readouterr()
    assert message.replace("{tmp}", str(tmp_path)) in captured.err and captured.err.startswith("jaxnn: error:")
    assert "Epoch 0" not in captured.out and list(tmp_path.iterdir()) == []


def test_history_export_and_dropout_model_round_trip(tmp_path, capsys):
    import csv
    import json

    base = ["train", "--sizes", "784,16,10", "--epochs", "2", "--train-size", "1000", "--eta", "0.5",
            "--cost", "cross-entropy", "--init", "default", "--p-dropout", "0.2", "--no-progress"]  # fmt: skip
    model = tmp_path / "m.npz"
    assert main(base + ["--monitor", "--history", str(tmp_path / "h.json"), "--save", str(model)]) == 0
    out = capsys.readouterr().out
    printed = [int(l.split(": ")[1].split(" /")[0]) for l in out.splitlines() if l.startswith("Accuracy on evaluation")]
    record = json.loads((tmp_path / "h.json").read_text())
    assert record["epoch"] == [0, 1] and record["evaluation_correct"] == printed and len(printed) == 2
    assert record["evaluation_size"] == 10000 and record["training_size"] == 1000
    assert record["evaluation_accuracy"] == [c / 10000 for c in printed]
    assert len(record["training_cost"]) == 2 and all(c > 0 for c in record["training_cost"])
    assert record["eta"] == [0.5, 0.5] and record["stopped"] is None
    # the saved network records its dropout rate, so evaluating the file gives the last epoch's count
    assert main(["evaluate", str(model)]) == 0
    assert f"{printed[-1]} / 10000 correct" in capsys.readouterr().out
    # the same run without --monitor, as CSV: one row per epoch, only the measured columns
    assert main(base + ["--history", str(tmp_path / "h.csv")]) == 0
    capsys.readouterr()
    with open(tmp_path / "h.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "eta", "seconds", "evaluation_correct", "evaluation_accuracy"]
    assert [int(r["evaluation_correct"]) for r in rows] == printed  # same seed, same numbers
    assert [float(r["evaluation_accuracy"]) for r in rows] == [c / 10000 for c in printed]


def test_a_figure_failure_never_loses_the_model(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    from jaxnn import plotting

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "p.png"))

    monkeypatch.setattr(plotting, "training_curves", fail)
    model = tmp_path / "m.npz"
    argv = ["train", "--sizes", "784,8,10", "--epochs", "1", "--train-size", "300", "--no-progress"]
    assert main(argv + ["--save", str(model), "--plot", str(tmp_path / "p.png")]) == 1
    err = capsys.readouterr().err
    assert f"the model was saved to {model} before the figures" in err and "free space or pick another path" in err
    import jaxnn

    net, params, meta = jaxnn.load_network(model)
    assert net.sizes == [784, 8, 10] and meta["train_size"] == 300 and meta["epochs"] == 1


def test_conv_net_from_the_command_line(tmp_path, capsys):
    model = tmp_path / "conv.npz"
    layers = "conv(4,5,activation=relu) softmax(10)"
    argv = ["train", "--layers", layers, "--epochs", "1", "--train-size", "1000", "--no-progress"]
    assert main(argv + ["--save", str(model)]) == 0
    out = capsys.readouterr().out
    best = [l for l in out.splitlines() if l.startswith("Best epoch 0: ")]
    assert best and "on validation data" in best[0] and "Test accuracy at the best validation epoch (0): " in out
    validation = float(best[0].split(": ")[1].split("%")[0])
    assert validation > 30  # one short epoch, far above chance (10%)
    assert main(["evaluate", str(model), "--on", "validation"]) == 0
    assert f"({validation:.2f}%)" in capsys.readouterr().out
    assert main(["summary", str(model)]) == 0
    summary = capsys.readouterr().out.splitlines()
    assert summary[0] == f"{model}: jaxnn model, format 2"
    assert summary[1] == "input (1, 28, 28), cost log-likelihood, regularizer l2"
    rows = [l.split() for l in summary[3:5]]
    assert rows[0][:3] == ["0", "conv_pool", "filters=4,"] and rows[0][-1] == "104"  # 4·5·5 + 4
    assert rows[1][:2] == ["1", "softmax"] and rows[1][-1] == "5,770"  # 4·12·12·10 + 10
    assert summary[5].startswith("parameters: 5,874 (")
    assert f"layers={layers}" in summary[6] and "train_size=1000" in summary[6] and "eta=0.1" in summary[6]
    # a sweep of the same conv net with the same seed trains the same network
    sweep = ["sweep", "--layers", layers, "--eta", "0.1", "--epochs", "1", "--train-size", "1000", "--no-progress"]
    assert main(sweep) == 0
    assert f"| 0.1 | 0 | — | {validation:.2f}% |" in capsys.readouterr().out


def test_summary_of_a_network2_file(tmp_path, capsys):
    import numpy as np

    from jaxnn.modelfile import save_network2

    rng = np.random.default_rng(0)
    params = [
        {"w": rng.normal(size=(5, 784)), "b": rng.normal(size=5)},
        {"w": rng.normal(size=(10, 5)), "b": np.zeros(10)},
    ]
    save_network2(tmp_path / "n2.json", params, "cross-entropy")
    assert main(["summary", str(tmp_path / "n2.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("network2.py JSON file") and out[1] == "input (784,), cost cross-entropy, regularizer none"
    assert out[-2] == "parameters: 3,985 (float64)" and "network2_cost=CrossEntropyCost" in out[-1]


def test_conv_flags_that_belong_to_layers_are_refused(capsys):
    assert main(["train", "--layers", "conv(4,5) softmax(10)", "--activation", "relu", "--no-progress"]) == 2
    assert "--activation: with --layers, set these per layer" in capsys.readouterr().err


def test_ctrl_c_keeps_the_checkpoint_says_how_to_resume_and_exits_130(tmp_path, capsys):
    import signal
    import time

    ckpt = tmp_path / "run.ckpt"
    argv = ["train", "--sizes", "784,10,10", "--train-size", "200", "--epochs", "10000", "--checkpoint", str(ckpt)]
    proc = subprocess.Popen(
        [sys.executable, "-c", TERMINAL_JAXNN, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ckpt.exists(), "no checkpoint was written"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "\r" not in err  # stderr is a pipe: plain progress lines, no redraws
    assert "training: epoch 1/10000 done" in err
    held = int(err.split("holds epoch ")[1].split(";")[0])
    assert err.startswith("training: epoch") and "jaxnn: interrupted; the checkpoint" in err
    command = err.split("go on with:\n  ")[1].strip()
    assert command == "jaxnn " + " ".join(argv) + " --resume"
    assert f"Epoch {held}: " in out and not list(tmp_path.glob(".*"))  # no temporary file left behind
    # the printed command goes on after the checkpoint's epoch (here with fewer epochs, to end now)
    resumed = command.split()[1:]
    resumed[resumed.index("--epochs") + 1] = str(held + 2)
    assert main(resumed + ["--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"Epoch {held + 1}: ") and lines[1].startswith("Trained [784,10,10] for ")


def test_progress_on_a_terminal_without_tqdm_redraws_one_line(monkeypatch, capsys):
    import io

    from jaxnn import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # as if tqdm were not installed
    bar = progress.bar(2, "training")
    bar.write("Epoch 0: 9000 / 10000")
    bar.update()
    bar.close()
    assert capsys.readouterr().out == "Epoch 0: 9000 / 10000\n"  # the epoch's line on stdout, as without a bar
    frames = err.getvalue()
    assert (
        frames.startswith("\rtraining [........................] 0/2")
        and "\rtraining [############............] 1/2" in frames
    )


def test_ctrl_c_in_a_sweep_keeps_its_checkpoint_and_the_printed_resume_ends_as_one_sweep(tmp_path, capsys):
    import signal
    import time

    ckpt = tmp_path / "sweep.ckpt"
    grid = ["--sizes", "784,10,10", "--train-size", "200", "--eta", "0.5,1", "--seeds", "0,1"]
    argv = ["sweep", *grid, "--epochs", "10000", "--checkpoint", str(ckpt)]
    proc = subprocess.Popen(
        [sys.executable, "-c", TERMINAL_JAXNN, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ckpt.exists(), "no checkpoint was written"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "jaxnn: interrupted; the checkpoint" in err
    held = int(err.split("holds epoch ")[1].split(";")[0])
    command = err.split("go on with:\n  ")[1].strip()
    assert command == "jaxnn " + " ".join(argv) + " --resume"
    resumed = command.split()[1:]
    resumed[resumed.index("--epochs") + 1] = str(held + 2)
    assert main(resumed + ["--no-progress"]) == 0
    table = capsys.readouterr().out.splitlines()[1:]
    # the same grid swept without a break gives the same table, to the last digit
    assert main(["sweep", *grid, "--epochs", str(held + 2), "--no-progress"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == table and len(table) == 4
    assert main(["sweep", *grid, "--resume"]) == 2
    assert "--resume goes on from a checkpoint: pass --checkpoint PATH too" in capsys.readouterr().err


def test_ctrl_c_ends_the_process_even_when_the_interrupt_is_swallowed(tmp_path):
    # A KeyboardInterrupt that lands in a __del__ or a callback is printed as "Exception ignored"
    # and lost; a long compiled epoch delays it. The command line's Ctrl-C watchdog ends the
    # process anyway, with the message, status 130 and no temporary file (a write in progress ends first).
    script = tmp_path / "swallow.py"
    script.write_text(
        textwrap.dedent(f"""
        import signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, whatever was inherited
        from jaxnn import cli  # as in the command line, before numpy or JAX start their threads
        ctrl_c = cli._CtrlC(lambda: "the checkpoint x holds epoch 3")
        assert ctrl_c.install()
        from jaxnn._files import atomic_write
        ready = False
        while True:
            try:
                if not ready:
                    ready = print("ready", flush=True) or True
                atomic_write({str(tmp_path / "out.bin")!r}, lambda f: (time.sleep(0.05), f.write(b"x" * 1000)))
            except KeyboardInterrupt:
                print("swallowed", flush=True)  # as if training went on
        """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "swallowed" in out and err.strip() == "jaxnn: interrupted; the checkpoint x holds epoch 3"
    assert (tmp_path / "out.bin").read_bytes() == b"x" * 1000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind
