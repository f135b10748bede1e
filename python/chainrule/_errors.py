"""One-line messages for calls that match none of a function's signatures.

pybind11 answers such a call with every overload and a printout of every argument (thousands of
characters when an argument is a tensor). Every public function and method of chainrule runs
behind a thin C++ guard (``_core._guard``) that, only in that case, asks ``explain`` for one line
in Python's own style: ``conv2d() got an unexpected keyword argument 'dilaton' (did you mean
'dilation'?)`` or ``sum(): argument 'keepdim' must be bool, not str``.
"""
from __future__ import annotations

import builtins
import difflib
import functools
import inspect
import os
import re
import sys
import types

from . import _core

_PYBIND_FN = type(_core.exp)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel():
    """warnings.warn's stacklevel that names the user's line: the first frame outside the chainrule
    package, however many of its wrappers (argument guards, Module.__call__) sit in between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level
_INSTANCEMETHOD = type(_core.Tensor.__dict__["exp"])


def _split(params: str) -> list[str]:
    """Splits a signature's parameter list at top-level commas."""
    out, depth, quote, cur = [], 0, None, ""
    for ch in params:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _signatures(fn) -> list[list[tuple[str, str, bool, bool]]]:
    """Each overload as [(name, annotation, has_default, keyword_only)], from pybind11's docstring."""
    name = fn.__name__
    sigs = []
    for line in (fn.__doc__ or "").splitlines():
        m = re.match(rf"^(?:\d+\. )?{re.escape(name)}\((.*)\) -> ", line)
        if not m or m.group(1) == "*args, **kwargs":
            continue
        params, kw_only = [], False
        for p in _split(m.group(1)):
            if p == "*":
                kw_only = True
                continue
            if p.startswith("*"):
                params.append((p.lstrip("*").split(":")[0], "*", True, kw_only))
                continue
            head, _, default = p.partition("=")
            pname, _, ann = head.partition(":")
            params.append((pname.strip(), ann.strip(), bool(default), kw_only))
        sigs.append(params)
    return sigs


_SIMPLE = {"bool": "bool", "int": "int", "float": "float", "str": "str", "chainrule._core.Tensor": "Tensor",
           "chainrule._core.dtype": "cr.dtype", "typing.SupportsInt | typing.SupportsIndex": "int",
           "typing.SupportsFloat | typing.SupportsIndex": "float"}


def _expected(ann: str) -> str:
    return " or ".join(_SIMPLE.get(a.strip(), a.strip().replace("chainrule._core.", "cr."))
                       for a in ann.split(" | ")).replace("None or None", "None")


def _fits(value, ann: str) -> bool:
    """Whether value plausibly converts to the annotation (unknown annotations: yes)."""
    for a in ann.split(" | "):
        a = a.strip()
        if a in ("object", "*", "") or a.startswith("typing.Any"):
            return True
        if a == "None" and value is None:
            return True
        if a == "bool" and isinstance(value, builtins.bool):
            return True
        if a in ("int", "typing.SupportsInt", "typing.SupportsIndex") and isinstance(value, int) \
                and not isinstance(value, builtins.bool):
            return True
        if a in ("float", "typing.SupportsFloat") and isinstance(value, (int, builtins.float)):
            return True
        if a == "str" and isinstance(value, str):
            return True
        if a.startswith("chainrule._core."):
            cls = getattr(_core, a.rsplit(".", 1)[1], None)
            if cls is None or isinstance(value, cls):
                return True
        elif a.startswith(("list[", "collections.abc.Sequence[", "tuple[", "collections.abc.Iterable[")) \
                and isinstance(value, (list, tuple)):
            return True
        elif a not in ("None", "bool", "int", "float", "str", "typing.SupportsInt", "typing.SupportsIndex",
                       "typing.SupportsFloat"):
            return True  # an annotation we don't model: don't blame this argument
    return False


def _problem(name: str, params, args: tuple, kwargs: dict) -> tuple[int, str] | None:
    """(severity, message) of the first mismatch between a call and one overload; None if it fits."""
    shown = name
    names = [p[0] for p in params]
    star = any(p[1] == "*" for p in params)
    positional = [p for p in params if not p[3] and p[1] != "*"]
    for k in kwargs:
        if k not in names and not star:
            close = difflib.get_close_matches(k, names, n=1)
            takes = ", ".join(n for n in names if n != "self")
            hint = f" (did you mean '{close[0]}'?)" if close else \
                f" (it takes {takes})" if takes else " (it takes no arguments)"
            return 3, f"{shown}() got an unexpected keyword argument '{k}'{hint}"
    if len(args) > len(positional) and not star:
        return 2, f"{shown}() takes {len(positional)} positional argument{'s' * (len(positional) != 1)} " \
                  f"but {len(args)} were given"
    bound = {}
    for p, v in zip(positional, args):
        if p[0] in kwargs:
            return 2, f"{shown}() got multiple values for argument '{p[0]}'"
        bound[p[0]] = v
    bound.update(kwargs)
    for p in params:
        if p[1] != "*" and p[0] not in bound and not p[2]:
            return 2, f"{shown}() missing required argument '{p[0]}'"
    for p in params:
        if p[0] in bound and not _fits(bound[p[0]], p[1]):
            v = bound[p[0]]
            return 1, f"{shown}(): argument '{p[0]}' must be {_expected(p[1])}, not {type(v).__name__}"
    return None


def explain(fn, args: tuple, kwargs: dict) -> str:
    name = getattr(fn, "__name__", "function")
    if name == "__init__":
        name = type(args[0]).__name__ if args else name
    sigs = _signatures(fn)
    problems = [q for q in (_problem(name, s, args, kwargs) for s in sigs) if q is not None]
    if sigs and len(problems) == len(sigs):
        # the overload that got furthest: a type mismatch beats a wrong count beats a wrong keyword
        return min(problems, key=lambda q: q[0])[1]
    types_ = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
    return f"{name}(): unsupported argument types ({types_}); see help({name})"


def _suggesting(fn):
    """A Python function whose misspelled keyword gets Python's message plus a suggestion
    (Python 3.11 gives none): ``conv2d() got an unexpected keyword argument 'dilaton' (did you
    mean 'dilation'?)``. Only the call's own binding error is rewritten, not TypeErrors from inside."""
    names = list(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError as e:
            m = re.fullmatch(r"(\w+)\(\) got an unexpected keyword argument '(\w+)'", str(e))
            if m is None or e.__traceback__.tb_next is not None:  # raised inside fn: not a binding error
                raise
            close = difflib.get_close_matches(m.group(2), names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (it takes {', '.join(names)})"
            raise TypeError(str(e) + hint) from None
    return call


def guard_module(module: types.ModuleType) -> None:
    """Puts every pybind11 function of ``module``'s namespace behind a guard, and gives its Python
    functions keyword suggestions."""
    for k, v in list(vars(module).items()):
        if type(v) is _PYBIND_FN:
            setattr(module, k, _core._guard(v))
        elif isinstance(v, types.FunctionType) and v.__module__ == module.__name__ and not k.startswith("_"):
            params = inspect.signature(v).parameters.values()
            # only functions with options to misspell (conv2d's dilation, cross_entropy's reduction): the
            # wrapper's call costs ~0.3 us, too much for relu or linear, called per layer per step
            if len(params) >= 4 and not any(p.kind == p.VAR_KEYWORD for p in params):
                setattr(module, k, _suggesting(v))


# Methods C++ calls back through Python (the Module trampoline's PYBIND11_OVERRIDE): pybind11 takes
# any other object under these names for a Python override, so they must stay pybind11's own.
_OVERRIDABLE = {"forward", "extra_repr", "train"}


def guard_class(cls: type) -> None:
    """Puts the class's pybind11 methods (and constructor) behind guards."""
    for k, v in list(vars(cls).items()):
        if type(v) is _INSTANCEMETHOD and (not k.startswith("__") or k == "__init__") and k not in _OVERRIDABLE:
            setattr(cls, k, _core._guard(v.__func__))


def install() -> None:
    """Guards chainrule's functions, methods and constructors (every module imported so far)."""
    _core._set_explain(explain)
    for cls in vars(_core).values():
        if isinstance(cls, type) and cls.__module__ == _core.__name__ and cls not in (_core.dtype, _core.Node):
            guard_class(cls)
    for mod_name, mod in list(sys.modules.items()):  # _core itself stays as built (stubs read it)
        if (mod_name == "chainrule" or mod_name.startswith("chainrule.")) and mod is not None \
                and mod is not _core and not mod_name.startswith("chainrule._core."):
            guard_module(mod)
