import subprocess
import sys

import pytest

from jaxnn.cli import main


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


def test_sweep_prints_a_table(capsys):
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
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Trained 4 networks at once" in out
    rows = [l for l in out.splitlines() if l.startswith("| 0.5 |")]
    assert len(rows) == 2 and all(float(r.split("|")[4].split("%")[0]) > 20 for r in rows)


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
    assert not list(tmp_path.rglob(".*.png"))  # no temporary file left behind


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
