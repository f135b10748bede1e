"""cr.save / cr.load: state dicts (a model's, an optimizer's) in the safetensors format, written
atomically and read without ever executing code.

The file format, its validation and the atomic write live in C++ (io/safetensors.h, shared with
C++'s ``chainrule::save`` / ``chainrule::load``); this module only turns Python objects into
(name, tensor) pairs plus a JSON structure, and back.

A flat state dict ``{name: tensor}`` (or a list of (name, tensor) pairs) is stored as exactly that, so
``model.load_state_dict(safetensors.torch.load_file(path))`` works in torch. Anything else -- an
optimizer's ``{"state": {0: {"exp_avg": t, "step": 3}}, "param_groups": [{"lr": 0.1, ...}]}`` -- is
flattened: each tensor is stored under its path joined with dots ("state.0.exp_avg"), and the rest of
the structure goes, as a JSON string, into ``__metadata__["chainrule.structure"]``:

    {"version": 1, "root": <node>}     where a <node> is
        null, true/false, a number or a string     that value (ints stay ints, floats floats)
        [<node>, ...]                              a list
        {"tuple": [<node>, ...]}                   a tuple
        {"dict": [[<key>, <node>], ...]}           a dict, in order; keys are str, int, float, bool or null
        {"tensor": "<stored name>"}                the tensor stored under that name

``load`` rebuilds the same nested object (int keys stay ints, tuples stay tuples).
"""
from __future__ import annotations

import collections.abc as _abc
import json
import os
import reprlib

import numpy as np

from . import _core

__all__ = ["save", "load"]

_STRUCTURE_KEY = _core._STRUCTURE_KEY  # "chainrule.structure", defined in io/checkpoint.h
_FORMAT_VERSION = _core._STRUCTURE_VERSION


# ---------------------------------------------------------------- saving
def _flat_pairs(obj):
    """obj's (name, tensor) pairs if it is a flat state dict, else None."""
    if isinstance(obj, _abc.Mapping):
        items = list(obj.items())
    elif isinstance(obj, (list, tuple)) and all(isinstance(p, tuple) and len(p) == 2 for p in obj):
        items = list(obj)
        if not items:
            return None  # an empty list is a list, not a state dict
    else:
        return None
    if all(isinstance(k, str) and isinstance(v, _core.Tensor) for k, v in items):
        return items
    return None


def _encode(obj, path, tensors):
    """The JSON skeleton of obj; its tensors are appended to ``tensors`` as (dotted name, tensor)."""
    if isinstance(obj, _core.Tensor):
        name = ".".join(path)
        tensors.append((name, obj))
        return {"tensor": name}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, _abc.Mapping):
        pairs = []
        for k, v in obj.items():
            if isinstance(k, (np.integer, np.floating)):
                k = k.item()
            if not (k is None or isinstance(k, (str, int, float))):
                raise TypeError(f"save: dict keys must be str, int, float, bool or None, got "
                                f"{type(k).__name__} at '{'.'.join(path)}'")
            pairs.append([k, _encode(v, path + [str(k)], tensors)])
        return {"dict": pairs}
    if isinstance(obj, tuple):
        return {"tuple": [_encode(v, path + [str(i)], tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, path + [str(i)], tensors) for i, v in enumerate(obj)]
    raise TypeError(f"save: can't store a value of type {type(obj).__name__} at '{'.'.join(path)}'; "
                    "expected tensors, numbers, strings, bools, None, and lists, tuples and dicts of them")


def save(obj, path):
    """Saves a state dict to ``path`` in the safetensors format, atomically.

    ``obj`` is ``model.state_dict()``, ``optimizer.state_dict()``, or any dict (or list of
    (name, tensor) pairs) of tensors and, nested, of numbers, strings, bools, None, lists, tuples and
    dicts. The file is first written to a temporary file beside ``path``, flushed and fsynced, then
    renamed over ``path``: a crash leaves either the old file or the new one, never half of one.
    """
    pairs = _flat_pairs(obj)
    metadata = {}
    if pairs is None:
        if not isinstance(obj, _abc.Mapping):
            raise TypeError(f"save: expected a state dict (a dict, or a list of (name, tensor) pairs), "
                            f"got {type(obj).__name__}")
        pairs = []
        root = _encode(obj, [], pairs)
        metadata = {_STRUCTURE_KEY: json.dumps({"version": _FORMAT_VERSION, "root": root},
                                               separators=(",", ":"))}
    try:
        _core._save_safetensors(pairs, metadata, os.fspath(path))
    except ValueError as e:
        if metadata and "two tensors would be stored under" in str(e):  # the names came from nesting
            raise type(e)(f"{e} (nested keys are joined with dots: rename one of them)") from None
        raise


# ---------------------------------------------------------------- loading
def _bad(path, msg):
    return ValueError(f"load: {path}: {msg}")


_short = reprlib.Repr()  # a hostile node is quoted in a message only this far (and never recursed deeply)
_short.maxlevel, _short.maxstring, _short.maxother = 3, 60, 60


def _decode(path, node, tensors, used):
    """Rebuilds an object from its JSON skeleton (see the module docstring)."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(path, v, tensors, used) for v in node]
    if isinstance(node, dict) and len(node) == 1:
        (tag, value), = node.items()
        if tag == "tensor" and isinstance(value, str):
            if value not in tensors:
                raise _bad(path, f"the structure refers to a tensor '{value}' that the file does not hold")
            used.add(value)
            return tensors[value]
        if tag == "tuple" and isinstance(value, list):
            return tuple(_decode(path, v, tensors, used) for v in value)
        if tag == "dict" and isinstance(value, list):
            out = {}
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2
                        and (pair[0] is None or isinstance(pair[0], (str, int, float)))):
                    raise _bad(path, f"malformed dict entry {_short.repr(pair)} in the chainrule structure")
                out[pair[0]] = _decode(path, pair[1], tensors, used)
            return out
    raise _bad(path, f"malformed node {_short.repr(node)} in the chainrule structure")


def load(path):
    """Loads a state dict saved by ``cr.save`` -- or any safetensors file of F32/F64/I64/BOOL tensors,
    such as ``safetensors.torch.save_file(model.state_dict(), path)`` writes.

    Returns a dict of name -> tensor (in file order), or the nested object ``save`` was given. The
    tensors own their memory. Nothing in the file is ever executed; a malformed file raises
    ValueError saying what is wrong and for which key.
    """
    name = os.fspath(path)
    pairs, metadata = _core._load_safetensors(name)
    tensors = dict(pairs)
    if _STRUCTURE_KEY not in metadata:
        return tensors
    # Nesting deeper than Python's recursion limit is a hostile file, not a checkpoint: cr.save itself
    # could not have written it.
    too_deep = _bad(name, f"__metadata__['{_STRUCTURE_KEY}'] is nested too deeply")
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except ValueError as e:  # JSONDecodeError, or an int longer than Python converts
        why = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
        raise _bad(name, f"__metadata__['{_STRUCTURE_KEY}'] is not valid JSON ({why})") from None
    except RecursionError:
        raise too_deep from None
    if not isinstance(structure, dict) or structure.get("version") != _FORMAT_VERSION or "root" not in structure:
        raise _bad(name, f"__metadata__['{_STRUCTURE_KEY}'] is not a version-{_FORMAT_VERSION} "
                         "chainrule structure")
    used = set()
    try:
        obj = _decode(name, structure["root"], tensors, used)
    except RecursionError:
        raise too_deep from None
    unused = [k for k in tensors if k not in used]
    if unused:
        raise _bad(name, f"tensor '{unused[0]}' is not referenced by the chainrule structure")
    return obj
