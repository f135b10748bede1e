"""The training examples run end to end and reach the accuracies the course promises."""
import pathlib
import runpy
import sys

import chainrule as cr

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _main(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return runpy.run_path(str(EXAMPLES / name))["main"]
    finally:
        sys.path.remove(str(EXAMPLES))


def test_spiral_linear_and_two_layer_accuracies(tmp_path):
    plot = tmp_path / "boundary.png"
    linear_acc, net_acc = _main("train_spiral.py")(["--plot", str(plot)])
    # CS231n: ~49% for the linear classifier on its draw of the data; ours lands at 51-54%.
    assert 0.45 <= linear_acc <= 0.60
    assert net_acc >= 0.97
    assert plot.stat().st_size > 10_000  # a real PNG was written
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_digits_mlp_and_cnn_accuracies():
    mlp_acc, cnn_acc = _main("train_digits.py")([])
    assert mlp_acc >= 0.96
    assert cnn_acc >= 0.97


def test_quickstart_runs(capsys):
    runpy.run_path(str(EXAMPLES / "quickstart.py"))
    out = capsys.readouterr().out
    assert "f'(2)  = 12" in out and "f''(2) = 12" in out


def test_examples_leave_grad_mode_on():
    assert cr.is_grad_enabled()
