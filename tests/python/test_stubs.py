"""The shipped type stubs (python/chainrule/_core/**.pyi) list exactly the extension's public names,
for _core and each of its submodules (_core.nn.functional, ...), and are valid Python."""
import ast
import pathlib
import types

import pytest

import chainrule
from chainrule import _core

STUBS = pathlib.Path(chainrule.__file__).with_name("_core")


def _submodules(module, prefix=()):
    """(path inside _core, module) for _core and every submodule under it."""
    yield prefix, module
    for name, value in vars(module).items():
        if isinstance(value, types.ModuleType) and value.__name__ == f"{module.__name__}.{name}":
            yield from _submodules(value, prefix + (name,))


MODULES = list(_submodules(_core))


def _stub_file(path):
    package = STUBS.joinpath(*path, "__init__.pyi")
    return package if package.is_file() else STUBS.joinpath(*path[:-1], path[-1] + ".pyi")


def _stub_names(path):
    tree = ast.parse(_stub_file(path).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom) and node.module is None and node.level == 1:  # from . import nn
            names.update(a.asname or a.name for a in node.names)
    return names


def test_stub_file_ships_with_the_package():
    assert STUBS.joinpath("__init__.pyi").is_file()
    assert STUBS.with_name("py.typed").is_file()
    assert not STUBS.with_name("_core.pyi").exists()  # the stubs are a package now, one home


def test_core_has_the_nn_submodules():
    assert {"nn", "nn.functional", "nn.init", "nn.utils"} <= {".".join(p) for p, _ in MODULES}


@pytest.mark.parametrize("path,module", MODULES, ids=[".".join(p) or "_core" for p, _ in MODULES])
def test_stubs_name_every_public_function_and_class_of_the_extension(path, module):
    public = {n for n in dir(module) if not n.startswith("__")}
    missing = public - _stub_names(path)
    assert not missing, f"regenerate with scripts/gen_stubs.py; missing from {_stub_file(path)}: {sorted(missing)}"


@pytest.mark.parametrize("path,module", MODULES, ids=[".".join(p) or "_core" for p, _ in MODULES])
def test_stubs_name_nothing_the_extension_lacks(path, module):
    extra = {n for n in _stub_names(path) if not n.startswith("__")} - set(dir(module)) - {"annotations"}
    assert not extra, f"regenerate with scripts/gen_stubs.py; stale names in {_stub_file(path)}: {sorted(extra)}"


def test_tensor_methods_are_in_the_stub():
    tree = ast.parse(STUBS.joinpath("__init__.pyi").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    for name in ["backward", "detach", "exp", "sum", "matmul", "reshape", "zero_", "add_", "__matmul__"]:
        assert name in methods
