"""cr.save / cr.load: state dicts (a model's, an optimizer's) in the safetensors format, written
atomically and read without ever executing code.

The file layout (https://huggingface.co/docs/safetensors) -- readable by the ``safetensors`` package and
so by torch, and written here with nothing but NumPy and json:

    8 bytes       N, the header's length (unsigned little-endian)
    N bytes       UTF-8 JSON: {name: {"dtype": "F32"|"F64"|"I64"|"BOOL", "shape": [...],
                               "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
                  (padded with spaces so the data starts 8-byte aligned)
    the rest      every tensor's bytes, little-endian, row-major; offsets count from the data's start

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
import math
import os
import secrets

import numpy as np

from . import _core

__all__ = ["save", "load"]

_STRUCTURE_KEY = "chainrule.structure"
_FORMAT_VERSION = 1
_MAX_HEADER = 100_000_000  # as the safetensors package: a larger header is a corrupt length

# safetensors dtype name <-> (chainrule dtype, little-endian NumPy dtype)
_DTYPES = {
    "F32": (_core.float32, np.dtype("<f4")),
    "F64": (_core.float64, np.dtype("<f8")),
    "I64": (_core.int64, np.dtype("<i8")),
    "BOOL": (_core.bool, np.dtype("?")),
}
_NAME_OF = {cr: name for name, (cr, _) in _DTYPES.items()}


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


def _prepare(obj):
    """(header bytes padded to a multiple of 8, [little-endian contiguous arrays]) for obj."""
    pairs = _flat_pairs(obj)
    metadata = None
    if pairs is None:
        if not isinstance(obj, _abc.Mapping):
            raise TypeError(f"save: expected a state dict (a dict, or a list of (name, tensor) pairs), "
                            f"got {type(obj).__name__}")
        pairs = []
        root = _encode(obj, [], pairs)
        metadata = {_STRUCTURE_KEY: json.dumps({"version": _FORMAT_VERSION, "root": root},
                                               separators=(",", ":"))}
    header, arrays, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in pairs:
        if name == "__metadata__":
            raise ValueError("save: the name '__metadata__' is reserved by the safetensors format")
        if name in header:
            raise ValueError(f"save: two tensors would be stored under the name '{name}'"
                             + ("" if metadata is None else
                                " (nested keys are joined with dots: rename one of them)"))
        kind = _NAME_OF.get(t.dtype)
        if kind is None:
            raise TypeError(f"save: tensor '{name}' has unsupported dtype {t.dtype}")
        a = np.asarray(np.asarray(t.detach()), dtype=_DTYPES[kind][1], order="C")  # keeps 0-d as 0-d
        header[name] = {"dtype": kind, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        arrays.append(a)
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # the data then starts 8-byte aligned, as safetensors does
    return text, arrays


def _write_chunks(f, chunks):
    """Writes each buffer in turn (a seam for the crash-in-the-middle tests)."""
    for c in chunks:
        f.write(c)


def _fsync_dir(directory):
    """Makes a rename durable: the directory entry is on disk once its directory is synced."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms that can't open a directory (Windows) have nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(obj, path):
    """Saves a state dict to ``path`` in the safetensors format, atomically.

    ``obj`` is ``model.state_dict()``, ``optimizer.state_dict()``, or any dict (or list of
    (name, tensor) pairs) of tensors and, nested, of numbers, strings, bools, None, lists, tuples and
    dicts. The file is first written to a temporary file beside ``path``, flushed and fsynced, then
    renamed over ``path``: a crash leaves either the old file or the new one, never half of one.
    """
    header, arrays = _prepare(obj)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    while True:  # O_EXCL on a fresh random name, so the umask sets its permissions as open() would
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            _write_chunks(f, [len(header).to_bytes(8, "little"), header]
                          + [memoryview(a).cast("B") for a in arrays if a.nbytes])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


# ---------------------------------------------------------------- loading
def _bad(path, msg):
    return ValueError(f"load: {path}: {msg}")


def _parse_header(path, data):
    """The header as a dict of (name -> entry) and the metadata, both validated; the data's offset."""
    if len(data) < 8:
        raise _bad(path, f"file too short for a safetensors file ({len(data)} bytes; the header length "
                         "alone takes 8)")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise _bad(path, f"header length {n} is larger than the file ({len(data) - 8} bytes after the "
                         "length): truncated or not a safetensors file")
    if n > _MAX_HEADER:
        raise _bad(path, f"header length {n} exceeds the limit of {_MAX_HEADER} bytes")
    try:
        text = data[8:8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad(path, f"header is not valid UTF-8 ({e.reason} at byte {e.start})") from None

    def no_duplicates(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise _bad(path, f"header has the key '{k}' twice")
            seen[k] = v
        return seen

    def no_constants(name):  # NaN / Infinity are not JSON
        raise _bad(path, f"header is not valid JSON (it contains {name})")

    try:
        header = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as e:
        raise _bad(path, f"header is not valid JSON ({e.msg} at position {e.pos})") from None
    if not isinstance(header, dict):
        raise _bad(path, f"header is not a JSON object (got a JSON {type(header).__name__})")
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise _bad(path, "__metadata__ must be an object mapping strings to strings")
    return header, metadata or {}, 8 + n


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_entries(path, header, size):
    """Checks every entry's fields, then that the ranges tile the data exactly: no overlap, no gap,
    nothing unused at the end (the order of the keys in the header does not matter)."""
    for key, e in header.items():
        if not isinstance(e, dict):
            raise _bad(path, f"entry for '{key}' is not an object")
        missing = {"dtype", "shape", "data_offsets"} - e.keys()
        extra = e.keys() - {"dtype", "shape", "data_offsets"}
        if missing:
            raise _bad(path, f"entry for '{key}' lacks {', '.join(sorted(missing))}")
        if extra:
            raise _bad(path, f"entry for '{key}' has unknown fields {', '.join(sorted(extra))}")
        if e["dtype"] not in _DTYPES:
            raise _bad(path, f"unknown dtype {e['dtype']!r} for '{key}' (chainrule reads "
                             f"{', '.join(_DTYPES)})")
        shape, offsets = e["shape"], e["data_offsets"]
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise _bad(path, f"shape of '{key}' must be a list of non-negative ints, got {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
            raise _bad(path, f"data_offsets of '{key}' must be [begin, end] with non-negative ints, "
                             f"got {offsets!r}")
        begin, end = offsets
        if begin > end:
            raise _bad(path, f"data_offsets {offsets} of '{key}' are out of order (begin > end)")
        if end > size:
            raise _bad(path, f"data_offsets {offsets} of '{key}' run past the end of the data "
                             f"({size} bytes): the file is truncated")
        need = math.prod(shape) * _DTYPES[e["dtype"]][1].itemsize
        if end - begin != need:
            raise _bad(path, f"'{key}' has shape {tuple(shape)} of {e['dtype']} ({need} bytes) but "
                             f"data_offsets {offsets} span {end - begin} bytes")
    pos, prev = 0, None
    for key, e in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = e["data_offsets"]
        if begin < pos:
            raise _bad(path, f"the data of '{key}' {[begin, end]} overlaps that of '{prev}'")
        if begin > pos:
            raise _bad(path, f"gap of {begin - pos} bytes before the data of '{key}' {[begin, end]}")
        pos, prev = end, key
    if pos != size:
        raise _bad(path, f"{size - pos} bytes after the last tensor belong to no tensor")


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
                    raise _bad(path, f"malformed dict entry {pair!r} in the chainrule structure")
                out[pair[0]] = _decode(path, pair[1], tensors, used)
            return out
    raise _bad(path, f"malformed node {node!r} in the chainrule structure")


def load(path):
    """Loads a state dict saved by ``cr.save`` -- or any safetensors file of F32/F64/I64/BOOL tensors,
    such as ``safetensors.torch.save_file(model.state_dict(), path)`` writes.

    Returns a dict of name -> tensor (in file order), or the nested object ``save`` was given. The
    tensors own their memory. Nothing in the file is ever executed; a malformed file raises
    ValueError saying what is wrong and for which key.
    """
    name = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    header, metadata, start = _parse_header(name, data)
    size = len(data) - start
    _check_entries(name, header, size)
    tensors = {}
    for key, e in header.items():
        begin, end = e["data_offsets"]
        cr_dtype, np_dtype = _DTYPES[e["dtype"]]
        a = np.frombuffer(data, dtype=np_dtype, count=(end - begin) // np_dtype.itemsize,
                          offset=start + begin)
        if e["dtype"] == "BOOL" and a.size and a.view(np.uint8).max() > 1:
            raise _bad(name, f"BOOL tensor '{key}' holds bytes other than 0 and 1")
        # a copy in native byte order: the tensor owns its memory, not the file's buffer
        a = np.array(a.reshape(e["shape"]), dtype=np_dtype.newbyteorder("="), order="C", copy=True)
        tensors[key] = _core.from_numpy(a)
    if _STRUCTURE_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except json.JSONDecodeError as e:
        raise _bad(name, f"__metadata__['{_STRUCTURE_KEY}'] is not valid JSON ({e.msg})") from None
    if not isinstance(structure, dict) or structure.get("version") != _FORMAT_VERSION or "root" not in structure:
        raise _bad(name, f"__metadata__['{_STRUCTURE_KEY}'] is not a version-{_FORMAT_VERSION} "
                         "chainrule structure")
    used = set()
    obj = _decode(name, structure["root"], tensors, used)
    unused = [k for k in tensors if k not in used]
    if unused:
        raise _bad(name, f"tensor '{unused[0]}' is not referenced by the chainrule structure")
    return obj
