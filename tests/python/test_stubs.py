"""The shipped type stubs (_core.pyi) list exactly the extension's public names, and are valid Python."""
import ast
import pathlib

import chainrule
from chainrule import _core

STUB = pathlib.Path(chainrule.__file__).with_name("_core.pyi")


def _stub_names():
    tree = ast.parse(STUB.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_stub_file_ships_with_the_package():
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()


def test_stubs_name_every_public_function_and_class_of_the_extension():
    public = {n for n in dir(_core) if not n.startswith("__")}
    missing = public - _stub_names()
    assert not missing, f"regenerate with scripts/gen_stubs.py; missing from _core.pyi: {sorted(missing)}"


def test_stubs_name_nothing_the_extension_lacks():
    extra = {n for n in _stub_names() if not n.startswith("__")} - set(dir(_core)) - {"annotations"}
    assert not extra, f"regenerate with scripts/gen_stubs.py; stale names in _core.pyi: {sorted(extra)}"


def test_tensor_methods_are_in_the_stub():
    tree = ast.parse(STUB.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    for name in ["backward", "detach", "exp", "sum", "matmul", "reshape", "zero_", "add_", "__matmul__"]:
        assert name in methods
