"""The hand-out version of the course labs: each notebook without its solution cells (cells tagged
"solution"), so that students get the exercises and the check cells tell them when they got it right.

    python scripts/make_handouts.py                 # notebooks/*.ipynb -> handouts/
    python scripts/make_handouts.py --out DIR notebooks/06_gradient_descent.ipynb
"""
import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def handout(nb):
    """A copy of a notebook (its JSON as a dict) without the cells tagged "solution" and without outputs."""
    out = dict(nb)
    out["cells"] = []
    for cell in nb["cells"]:
        if "solution" in tags(cell):
            continue
        cell = dict(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        out["cells"].append(cell)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=pathlib.Path,
                    help="the notebooks (default: every notebooks/*.ipynb)")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "handouts", help="where to write them")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        removed = sum("solution" in tags(c) for c in nb["cells"])
        target = args.out / path.name
        target.write_text(json.dumps(handout(nb), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{target}: {removed} solution cell(s) removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
