"""Regenerates python/chainrule/_core.pyi (type stubs for the compiled core) with pybind11-stubgen.

Run after changing python/bindings.cpp:  pip install pybind11-stubgen && python scripts/gen_stubs.py
tests/python/test_stubs.py fails when the stubs and the extension disagree on the public names.
"""
import pathlib
import re
import subprocess
import sys
import tempfile


def _builtin_annotations(line):
    """The module defines `bool`, `float`, ... as dtypes, so annotations must name the builtins;
    the method's own name (Tensor.bool, Tensor.float) stays as it is."""
    head, sep, rest = line.partition("(")
    return head + sep + re.sub(r"(?<![.\w'\"])(bool|float|int)(?![\w=])", r"builtins.\1", rest)


root = pathlib.Path(__file__).resolve().parents[1]
with tempfile.TemporaryDirectory() as out:
    subprocess.run([sys.executable, "-m", "pybind11_stubgen", "chainrule._core", "-o", out], check=True)
    text = (pathlib.Path(out) / "chainrule" / "_core.pyi").read_text()
# pybind11 names chainrule's dtype class like NumPy's; the stub must say which one it means.
text = text.replace("numpy.dtype[typing.Any]", "dtype")
# ShapeError is made with the C API (two bases), which stubgen only imports by name.
text = text.replace("from chainrule import ShapeError\n", "")
text = text.replace("\n__all__", "\nclass ShapeError(ValueError, RuntimeError):\n    ...\n\n__all__", 1)
text = "\n".join(_builtin_annotations(line) if line.lstrip().startswith("def ") else line
                 for line in text.split("\n"))
text = text.replace("import collections.abc", "import builtins\nimport collections.abc", 1)
(root / "python" / "chainrule" / "_core.pyi").write_text(text)
(root / "python" / "chainrule" / "py.typed").write_text("")
print("wrote python/chainrule/_core.pyi")
