"""examples/fix_a_model.py, the README's cr.doctor story: the broken model is diagnosed VANISHING, the fix
checks clean and learns, and the report and figures in README.md / docs/ are what the example makes today."""
import pathlib
import runpy
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _main(name):  # as in test_examples.py
    sys.path.insert(0, str(EXAMPLES))
    try:
        return runpy.run_path(str(EXAMPLES / name))["main"]
    finally:
        sys.path.remove(str(EXAMPLES))


def test_the_doctor_finds_vanishing_gradients_and_its_fix_learns(tmp_path, capsys):
    out = _main("fix_a_model.py")(["--steps", "100", "--docs", str(tmp_path)])
    report, fixed = out["report"], out["fixed_report"]
    assert [(f.code, f.layer) for f in report.findings if f.severity == "error"] == [("VANISHING", "0")]
    assert not report.ok and report.findings[0].data["ratio"] < 1e-3
    assert "kaiming_normal_" in report.findings[0].fix  # the fix the example applies
    assert fixed.ok and fixed.codes("error") == [] and fixed.codes("warning") == []
    assert out["watch"].report().codes("error") == [] and len(out["watch"].history) == 10
    # chance is 1/3; the broken model stays there, the fixed one learns (96.7% at 100 steps, 99.3% at 300)
    assert out["broken_acc"] <= 0.45
    assert out["fixed_acc"] >= 0.9 and out["fixed_acc"] - out["broken_acc"] >= 0.4
    printed = capsys.readouterr().out
    assert str(report) in printed and "training accuracy after 100 steps" in printed
    for name in ("doctor_layers.png", "doctor_watch.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # check() trains nothing, so the report does not depend on --steps: docs/ and README show it as is
    text = (tmp_path / "doctor_report.txt").read_text()
    assert text == f"{report}\n"
    assert (ROOT / "docs" / "doctor_report.txt").read_text() == text
    readme = (ROOT / "README.md").read_text()
    assert text.rstrip("\n") in readme
    assert "docs/doctor_layers.png" in readme and "docs/doctor_watch.png" in readme
