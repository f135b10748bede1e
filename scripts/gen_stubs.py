"""Regenerates the type stubs of the compiled core with pybind11-stubgen: python/chainrule/_core/
(__init__.pyi for _core itself, nn/functional.pyi, nn/init.pyi, nn/utils.pyi for its submodules).

Run after changing python/*.cpp:  pip install pybind11-stubgen && python scripts/gen_stubs.py
tests/python/test_stubs.py fails when the stubs and the extension disagree on the public names.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile


def _builtin_annotations(line):
    """The module defines `bool`, `float`, ... as dtypes, so annotations must name the builtins;
    the method's own name (Tensor.bool, Tensor.float) stays as it is."""
    head, sep, rest = line.partition("(")
    return head + sep + re.sub(r"(?<![.\w'\"])(bool|float|int)(?![\w=])", r"builtins.\1", rest)


def _fix_core(text):
    # pybind11 names chainrule's dtype class like NumPy's; the stub must say which one it means.
    text = text.replace("numpy.dtype[typing.Any]", "dtype")
    # ShapeError is made with the C API (two bases), which stubgen only imports by name.
    text = text.replace("from chainrule import ShapeError\n", "")
    text = text.replace("\n__all__", "\nclass ShapeError(ValueError, RuntimeError):\n    ...\n\n__all__", 1)
    text = "\n".join(_builtin_annotations(line) if line.lstrip().startswith("def ") else line
                     for line in text.split("\n"))
    return text.replace("import collections.abc", "import builtins\nimport collections.abc", 1)


root = pathlib.Path(__file__).resolve().parents[1]
dest = root / "python" / "chainrule" / "_core"
with tempfile.TemporaryDirectory() as out:
    subprocess.run([sys.executable, "-m", "pybind11_stubgen", "chainrule._core", "-o", out], check=True)
    generated = pathlib.Path(out) / "chainrule" / "_core"
    init = generated / "__init__.pyi"
    init.write_text(_fix_core(init.read_text()))
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(generated, dest)
(root / "python" / "chainrule" / "_core.pyi").unlink(missing_ok=True)  # the single-file stubs of before
(root / "python" / "chainrule" / "py.typed").write_text("")
print("wrote", *sorted(str(p.relative_to(root)) for p in dest.rglob("*.pyi")))
