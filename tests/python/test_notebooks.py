"""The course labs' shape (scripts/test.sh executes them with nbmake): twelve numbered notebooks stored
without outputs, each with a slider, exercises followed by their solutions and check cells that
assert (one per exercise among them); both READMEs list every one; the hand-out script takes the
solutions out."""
import importlib.util
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def source(cell):
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def make_handouts():
    spec = importlib.util.spec_from_file_location("make_handouts", ROOT / "scripts" / "make_handouts.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_twelve_numbered_labs():
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert numbers == [f"{i:02d}" for i in range(1, 13)], [p.name for p in NOTEBOOKS]
    for p in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name), p.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_lab_is_stored_clean_and_has_its_parts(path):
    nb = load(path)
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    cells = nb["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    for c in code:  # stored without outputs: git holds the lab, not one run of it
        assert c["outputs"] == [] and c["execution_count"] is None, f"{path.name}: a code cell has outputs"
    assert source(cells[0]).startswith(f"# Lab {path.name[:2]}"), f"{path.name}: first cell is not its title"
    text = "\n".join(source(c) for c in code)
    assert "import chainrule as cr" in text
    assert "widgets." in text, f"{path.name}: no ipywidgets control"
    # exercises: each followed at once by its solution
    exercises = [i for i, c in enumerate(cells) if "exercise" in tags(c)]
    assert len(exercises) >= 2, f"{path.name}: fewer than two exercises"
    for i in exercises:
        assert i + 1 < len(cells) and "solution" in tags(cells[i + 1]), \
            f"{path.name}: exercise cell {i} is not followed by a solution cell"
    assert sum("solution" in tags(c) for c in cells) == len(exercises)
    # check cells: the last code cells, each asserting
    checks = [c for c in code if "check" in tags(c)]
    assert checks, f"{path.name}: no check cell"
    assert code[-len(checks):] == checks, f"{path.name}: check cells must come last"
    for c in checks:
        assert source(c).startswith("# Check:") and "assert " in source(c), source(c)[:80]
    # every exercise is checked too (in the hand-out version its check fails until it is solved)
    exercise_checks = [c for c in checks if source(c).startswith("# Check: Exercise")]
    assert len(exercise_checks) == len(exercises), f"{path.name}: an exercise has no check cell"


def test_both_readmes_list_every_lab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    instructors = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    for p in NOTEBOOKS:
        assert f"notebooks/{p.name}" in readme, f"README.md's Labs table lacks {p.name}"
        assert p.name in instructors, f"notebooks/README.md lacks {p.name}"


def test_the_handout_has_no_solutions_and_keeps_the_rest(tmp_path):
    mod = make_handouts()
    assert mod.main(["--out", str(tmp_path)] + [str(p) for p in NOTEBOOKS]) == 0
    for p in NOTEBOOKS:
        nb, out = load(p), load(tmp_path / p.name)
        kept = [c for c in nb["cells"] if "solution" not in tags(c)]
        assert [source(c) for c in out["cells"]] == [source(c) for c in kept]
        assert not any("solution" in tags(c) for c in out["cells"])
        assert any("exercise" in tags(c) for c in out["cells"])
        assert out["metadata"] == nb["metadata"]


def test_handout_drops_outputs_of_an_executed_notebook():
    mod = make_handouts()
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {"tags": ["exercise"]}, "source": "x = None",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi"}], "execution_count": 3},
        {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "# Solution\nx = 1",
         "outputs": [], "execution_count": 4}]}
    out = mod.handout(nb)
    assert [source(c) for c in out["cells"]] == ["x = None"]
    assert out["cells"][0]["outputs"] == [] and out["cells"][0]["execution_count"] is None
    assert nb["cells"][0]["execution_count"] == 3  # the original is left alone
