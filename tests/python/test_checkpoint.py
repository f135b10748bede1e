"""cr.save / cr.load (chainrule.serialization): the safetensors layout, interop with the safetensors
package and torch in both directions, nested (optimizer) state, atomic writes, strict validation
of corrupt files (all done in C++, io/, and also tested in tests/cpp/checkpoint_test.cpp), files of
the earlier Python implementation, and checkpoints moving between C++ (examples/checkpoint.cpp) and Python."""
import contextlib
import errno
import json
import math
import os
import pathlib
import pickle
import re
import resource
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn as crnn
from chainrule.serialization import load, save


def as_np(t):
    return np.asarray(t.detach())


def assert_same_tensor(a, b):
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(as_np(a), as_np(b))


def sample_state():
    cr.manual_seed(0)
    return {
        "layer.weight": cr.randn(3, 4),
        "layer.bias": cr.randn(4, dtype=cr.float64),
        "steps": cr.tensor([1, -2, 3]),
        "mask": cr.tensor([[True, False], [False, True]]),
        "scalar": cr.tensor(2.5),
        "empty": cr.zeros(0, 5),
    }


def raw_file(header, data=b"", length=None):
    """A safetensors file from a header (an object, or bytes taken as is) and data bytes."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


# ---------------------------------------------------------------- round trips and layout
def test_flat_round_trip_keeps_dtypes_shapes_values_and_order(tmp_path):
    sd = sample_state()
    save(sd, tmp_path / "m.safetensors")
    back = load(tmp_path / "m.safetensors")
    assert list(back) == list(sd)
    for k in sd:
        assert_same_tensor(back[k], sd[k])
    assert back["scalar"].ndim == 0


def test_list_of_pairs_and_tensors_that_require_grad(tmp_path):
    w = cr.randn(2, 2, requires_grad=True)
    save([("b", cr.ones(1)), ("w", w)], str(tmp_path / "p.safetensors"))
    back = load(str(tmp_path / "p.safetensors"))
    assert list(back) == ["b", "w"]
    assert_same_tensor(back["w"], w.detach())
    assert not back["w"].requires_grad


def test_file_layout_is_safetensors(tmp_path):
    save({"a": cr.tensor([1.0, 2.0]), "b": cr.tensor([7], dtype=cr.int64)}, tmp_path / "f")
    data = (tmp_path / "f").read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    assert (8 + n) % 8 == 0  # data 8-byte aligned, as the safetensors package writes it
    header = json.loads(data[8:8 + n])
    assert header == {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                      "b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}}
    assert data[8 + n:] == struct.pack("<2f", 1.0, 2.0) + struct.pack("<q", 7)


def test_loaded_tensors_own_their_memory(tmp_path):
    path = tmp_path / "own.safetensors"
    save({"x": cr.arange(6, dtype=cr.float32)}, path)
    x = load(path)["x"]
    save({"x": cr.zeros(6)}, path)  # overwrite the file: the loaded tensor must not change
    assert x.tolist() == [0, 1, 2, 3, 4, 5]
    x.add_(1.0)  # and it is writable memory of its own
    assert x.tolist() == [1, 2, 3, 4, 5, 6]
    assert load(path)["x"].tolist() == [0] * 6


@given(st.lists(st.tuples(st.sampled_from(["F32", "F64", "I64", "BOOL"]),
                          st.lists(st.integers(0, 3), max_size=3)), max_size=5))
def test_round_trip_any_shapes_and_dtypes(tmp_path_factory, specs):
    dtypes = {"F32": cr.float32, "F64": cr.float64, "I64": cr.int64, "BOOL": cr.bool}
    rng = np.random.default_rng(len(specs))
    sd = {}
    for i, (kind, shape) in enumerate(specs):
        a = rng.normal(size=shape) * 10
        sd[f"t{i}"] = cr.tensor(a > 0 if kind == "BOOL" else a, dtype=dtypes[kind])
    path = tmp_path_factory.mktemp("h") / "x.safetensors"
    save(sd, path)
    back = load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert_same_tensor(back[k], sd[k])
    np_back = safetensors.numpy.load_file(str(path))
    for k in sd:
        np.testing.assert_array_equal(np_back[k], as_np(sd[k]))


# ---------------------------------------------------------------- interop with safetensors and torch
def test_chainrule_file_loads_with_safetensors_numpy_and_torch(tmp_path):
    sd = sample_state()
    path = str(tmp_path / "cr.safetensors")
    save(sd, path)
    np_sd = safetensors.numpy.load_file(path)
    torch_sd = safetensors.torch.load_file(path)
    assert set(np_sd) == set(torch_sd) == set(sd)
    to_torch = {cr.float32: torch.float32, cr.float64: torch.float64, cr.int64: torch.int64, cr.bool: torch.bool}
    for k, t in sd.items():
        np.testing.assert_array_equal(np_sd[k], as_np(t))
        assert np_sd[k].dtype == as_np(t).dtype
        assert torch_sd[k].dtype == to_torch[t.dtype]
        assert tuple(torch_sd[k].shape) == tuple(t.shape)
        np.testing.assert_array_equal(torch_sd[k].numpy(), as_np(t))


def test_hand_built_state_dict_loads_into_torch_linear(tmp_path):
    cr.manual_seed(1)
    w, b = cr.randn(3, 5), cr.randn(3)
    path = str(tmp_path / "linear.safetensors")
    save({"weight": w, "bias": b}, path)
    lin = torch.nn.Linear(5, 3)
    lin.load_state_dict(safetensors.torch.load_file(path))  # strict: exactly these keys and shapes
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    want = as_np(cr.linear(cr.tensor(x), w, b))
    np.testing.assert_allclose(lin(torch.from_numpy(x)).detach().numpy(), want, rtol=1e-6, atol=1e-6)


def test_chainrule_model_state_dict_loads_into_torch_model(tmp_path):
    cr.manual_seed(2)
    model = crnn.Sequential(crnn.Linear(4, 8), crnn.ReLU(), crnn.Linear(8, 2))
    path = str(tmp_path / "mlp.safetensors")
    save(model.state_dict(), path)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    tmodel.load_state_dict(safetensors.torch.load_file(path))
    x = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_allclose(tmodel(torch.from_numpy(x)).detach().numpy(), as_np(model(cr.tensor(x))),
                               rtol=1e-5, atol=1e-6)


def test_torch_saved_state_dict_loads_into_chainrule(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    path = str(tmp_path / "torch.safetensors")
    safetensors.torch.save_file(tmodel.state_dict(), path)
    sd = load(path)
    assert set(sd) == set(tmodel.state_dict())
    for k, v in tmodel.state_dict().items():
        assert sd[k].dtype == cr.float32
        np.testing.assert_array_equal(as_np(sd[k]), v.numpy())
    model = crnn.Sequential(crnn.Linear(3, 6), crnn.Tanh(), crnn.Linear(6, 2))
    model.load_state_dict(sd)
    x = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(as_np(model(cr.tensor(x))), tmodel(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    # and a single torch Linear into chainrule's
    lin = torch.nn.Linear(2, 3)
    safetensors.torch.save_file(lin.state_dict(), path)
    ours = crnn.Linear(2, 3)
    ours.load_state_dict(load(path))
    np.testing.assert_array_equal(as_np(ours.weight), lin.weight.detach().numpy())


def test_safetensors_written_files_of_every_supported_dtype_and_with_metadata(tmp_path):
    arrays = {"f64": np.linspace(0, 1, 6).reshape(2, 3), "i64": np.array([-5, 2**40], dtype=np.int64),
              "b": np.array([True, False, True]), "f32": np.float32(3.5) * np.ones((1, 1, 2), np.float32),
              "zero_d": np.array(1.25, dtype=np.float64)}
    path = str(tmp_path / "st.safetensors")
    safetensors.numpy.save_file(arrays, path, metadata={"format": "np", "note": "hello"})
    back = load(path)
    assert set(back) == set(arrays)
    for k, a in arrays.items():
        np.testing.assert_array_equal(as_np(back[k]), a)
        assert as_np(back[k]).dtype == a.dtype and as_np(back[k]).shape == a.shape


@pytest.mark.parametrize("tdtype,name", [(torch.float16, "F16"), (torch.int32, "I32"), (torch.bfloat16, "BF16"),
                                         (torch.uint8, "U8")])
def test_torch_dtypes_chainrule_lacks_are_a_clear_error(tmp_path, tdtype, name):
    path = str(tmp_path / "h.safetensors")
    safetensors.torch.save_file({"w": torch.ones(2, dtype=tdtype)}, path)
    with pytest.raises(ValueError, match=f"unknown dtype '{name}' for 'w'"):
        load(path)


# ---------------------------------------------------------------- nested (optimizer) state
def torch_adam_state():
    """A real torch Adam state_dict after two steps, with chainrule tensors in place of torch's."""
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(3, 2)), torch.nn.Parameter(torch.randn(2))]
    opt = torch.optim.Adam(params, lr=0.01, betas=(0.8, 0.99), amsgrad=True)
    for _ in range(2):
        opt.zero_grad()
        sum((p ** 2).sum() for p in params).backward()
        opt.step()

    def convert(o):
        if isinstance(o, torch.Tensor):
            return cr.tensor(o.detach().numpy())
        if isinstance(o, dict):
            return {k: convert(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return type(o)(convert(v) for v in o)
        return o
    return convert(opt.state_dict())


def assert_same_structure(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, cr.Tensor):
        assert_same_tensor(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        assert [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            assert_same_structure(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_structure(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_optimizer_state_round_trips_exactly(tmp_path):
    state = torch_adam_state()
    assert isinstance(state["param_groups"][0]["betas"], tuple) and 0 in state["state"]
    path = tmp_path / "opt.safetensors"
    save(state, path)
    back = load(path)
    assert_same_structure(state, back)
    # the tensors are ordinary safetensors entries under dotted names
    np_sd = safetensors.numpy.load_file(str(path))
    assert set(np_sd) == {f"state.{i}.{k}" for i in (0, 1) for k in ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")}
    np.testing.assert_array_equal(np_sd["state.0.exp_avg"], as_np(state["state"][0]["exp_avg"]))


def test_nested_structure_keeps_every_python_type(tmp_path):
    obj = {"model": {"w": cr.ones(2)}, "epoch": 3, "lr": 0.1, "best": float("inf"), "worst": float("-inf"),
           "nan": float("nan"), "name": "run-1", "flags": [True, False, None], "pair": (1, (2.0, "x")),
           "keys": {0: "int", 1.5: "float", True: "bool", None: "none", "s": "str"},
           "tensors_in_lists": [cr.zeros(1), (cr.tensor([1, 2]),)], "empty": {}, "empty_list": [],
           "np": {"i": np.int64(4), "f": np.float32(0.5)}}
    save(obj, tmp_path / "n")
    back = load(tmp_path / "n")
    assert back["np"] == {"i": 4, "f": 0.5}
    obj["np"] = {"i": 4, "f": 0.5}
    assert_same_structure(obj, back)


def test_nested_save_errors(tmp_path):
    with pytest.raises(ValueError, match=r"two tensors would be stored under the name 'a.b' \(nested keys are "
                                         r"joined with dots: rename one of them\)"):
        save({"a.b": cr.ones(1), "a": {"b": cr.ones(1)}}, tmp_path / "x")
    with pytest.raises(TypeError, match="can't store a value of type object at 'a.0'"):
        save({"a": [object()]}, tmp_path / "x")
    with pytest.raises(TypeError, match="dict keys must be"):
        save({"a": {(1, 2): 3}}, tmp_path / "x")
    with pytest.raises(ValueError, match="'__metadata__' is reserved"):
        save({"__metadata__": cr.ones(1)}, tmp_path / "x")
    with pytest.raises(TypeError, match="expected a state dict"):
        save([cr.ones(1)], tmp_path / "x")
    assert not any(tmp_path.iterdir())  # nothing written on a refused save


# ---------------------------------------------------------------- atomic writes
# The write itself is C++ (io/safetensors.cpp); tests/cpp/checkpoint_test.cpp also checks the order
# fsync(file), rename beside the target, fsync(directory), and a failing fsync. Here a real failure:
# a file size limit makes write() fail with EFBIG part way, like a full disk.
@contextlib.contextmanager
def disk_full_after(nbytes):
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, old_limit[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)


def test_crash_mid_save_keeps_the_old_file_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"w": cr.ones(1000)}, path)
    before = path.read_bytes()
    with disk_full_after(4096), pytest.raises(OSError, match="File too large") as info:
        save({"w": cr.zeros(100_000), "v": cr.zeros(1000)}, path)
    assert info.value.errno == errno.EFBIG and info.value.filename == str(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]
    assert_same_tensor(load(path)["w"], cr.ones(1000))


def test_failed_first_save_leaves_nothing(tmp_path):
    with disk_full_after(4096), pytest.raises(OSError):
        save({"w": cr.ones(100_000)}, tmp_path / "new.safetensors")
    assert list(tmp_path.iterdir()) == []  # no half file under the target name, no temp file


def test_save_and_load_raise_the_os_errors_open_raises(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load(tmp_path / "missing.safetensors")
    assert info.value.filename == str(tmp_path / "missing.safetensors")
    with pytest.raises(IsADirectoryError):
        load(tmp_path)
    with pytest.raises(FileNotFoundError):
        save({"w": cr.ones(1)}, tmp_path / "no" / "such" / "dir.safetensors")


def test_saved_file_has_ordinary_permissions(tmp_path):
    save({"w": cr.ones(1)}, tmp_path / "perm")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "perm").stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------- corrupt files
GOOD = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}}
GOOD_DATA = bytes(16)


def with_entry(key, **changes):
    h = json.loads(json.dumps(GOOD))
    h[key].update(changes)
    return h


CORRUPT = [
    ("empty file", b"", "file too short .*0 bytes"),
    ("7 bytes", b"\x01" * 7, "file too short .*7 bytes"),
    ("header length past the end", raw_file(GOOD, GOOD_DATA, length=10_000), "header length 10000 is larger than the file"),
    ("huge header length", b"\xff" * 8 + b"{}", "header length 18446744073709551615 is larger than the file"),
    ("non-UTF-8 header", raw_file(b'{"\xff\xfe": 1}'), "header is not valid UTF-8"),
    ("invalid JSON", raw_file(b'{"a": {'), "header is not valid JSON"),
    ("NaN in the header", raw_file(b'{"a": NaN}'), "header is not valid JSON .*NaN"),
    ("header not an object", raw_file(b"[1, 2]"), "header is not a JSON object .*list"),
    ("duplicate key", raw_file(b'{"a": 1, "a": 2}'), "key 'a' twice"),
    ("entry not an object", raw_file({"a": [1]}), "entry for 'a' is not an object"),
    ("missing field", raw_file({"a": {"dtype": "F32", "shape": [0]}}), "entry for 'a' lacks data_offsets"),
    ("unknown field", raw_file(with_entry("a", extra=1), GOOD_DATA), "entry for 'a' has unknown fields extra"),
    ("unknown dtype", raw_file(with_entry("b", dtype="Q8"), GOOD_DATA), "unknown dtype 'Q8' for 'b'"),
    ("negative dim", raw_file(with_entry("a", shape=[-2]), GOOD_DATA), "shape of 'a' must be a list of non-negative ints"),
    ("float dim", raw_file(with_entry("a", shape=[2.0]), GOOD_DATA), "shape of 'a' must be"),
    ("bad offsets", raw_file(with_entry("a", data_offsets=[0]), GOOD_DATA), "data_offsets of 'a' must be"),
    ("reversed offsets", raw_file(with_entry("a", data_offsets=[8, 0]), GOOD_DATA), "data_offsets \\[8, 0\\] of 'a' are out of order"),
    ("offsets past the end", raw_file(GOOD, GOOD_DATA[:12]), "data_offsets \\[8, 16\\] of 'b' run past the end of the data \\(12 bytes\\)"),
    ("shape/offset mismatch", raw_file(with_entry("a", shape=[3]), GOOD_DATA),
     "'a' has shape \\(3,\\) of F32 \\(12 bytes\\) but data_offsets \\[0, 8\\] span 8 bytes"),
    ("overlap", raw_file({"a": GOOD["a"], "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)),
     "the data of 'b' \\[4, 12\\] overlaps that of 'a'"),
    ("same range twice", raw_file({"a": GOOD["a"], "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
     "overlaps"),
    ("gap", raw_file({"a": GOOD["a"], "b": {"dtype": "I64", "shape": [1], "data_offsets": [12, 20]}}, bytes(20)),
     "gap of 4 bytes before the data of 'b'"),
    ("unused tail", raw_file(GOOD, GOOD_DATA + b"junk"), "4 bytes after the last tensor belong to no tensor"),
    ("first range not at 0", raw_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)),
     "gap of 4 bytes before the data of 'a'"),
    ("metadata not str->str", raw_file({"__metadata__": {"k": 1}}), "__metadata__ must be an object mapping strings to strings"),
    ("empty but huge", raw_file({"e": {"dtype": "F32", "shape": [0, 2**62, 2**62], "data_offsets": [0, 0]}}),
     r"'e' has shape \(0, 4611686018427387904, 4611686018427387904\), too large for a tensor"),
    ("dtype not a string", raw_file(with_entry("a", dtype=5), GOOD_DATA), "unknown dtype 5 for 'a'"),
    ("bool bytes", raw_file({"m": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x02"),
     "BOOL tensor 'm' holds bytes other than 0 and 1"),
    ("structure not JSON", raw_file({"__metadata__": {"chainrule.structure": "{"}}), "chainrule.structure'\\] is not valid JSON"),
    ("structure of another version", raw_file({"__metadata__": {"chainrule.structure": '{"version": 9, "root": {}}'}}),
     "not a version-1 chainrule structure"),
    ("structure names a missing tensor",
     raw_file({"__metadata__": {"chainrule.structure": '{"version": 1, "root": {"dict": [["w", {"tensor": "w"}]]}}'}}),
     "refers to a tensor 'w' that the file does not hold"),
    ("structure leaves a tensor out",
     raw_file({"__metadata__": {"chainrule.structure": '{"version": 1, "root": {"dict": []}}'}, **GOOD}, GOOD_DATA),
     "tensor 'a' is not referenced"),
    ("malformed structure node",
     raw_file({"__metadata__": {"chainrule.structure": '{"version": 1, "root": {"set": [1]}}'}}), "malformed node"),
]


@pytest.mark.parametrize("case,data,message", CORRUPT, ids=[c[0] for c in CORRUPT])
def test_corrupt_files_raise_a_clear_value_error(tmp_path, case, data, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        load(path)
    assert str(path) in str(info.value)


def test_the_valid_base_file_of_the_corrupt_cases_loads(tmp_path):
    (tmp_path / "ok").write_bytes(raw_file(GOOD, GOOD_DATA))
    back = load(tmp_path / "ok")
    assert back["a"].tolist() == [0.0, 0.0] and back["b"].tolist() == [0]
    # the order of the keys in the header does not matter, only that the ranges tile the data
    (tmp_path / "swapped").write_bytes(raw_file({"b": GOOD["b"], "a": GOOD["a"]}, GOOD_DATA))
    assert list(load(tmp_path / "swapped")) == ["b", "a"]
    # several empty tensors can share an offset
    empty = {"e1": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
             "e2": {"dtype": "I64", "shape": [0, 3], "data_offsets": [0, 0]}}
    (tmp_path / "empty").write_bytes(raw_file(empty))
    assert load(tmp_path / "empty")["e2"].shape == (0, 3)


def test_truncated_copies_of_a_real_file_all_raise_value_error(tmp_path):
    save(sample_state(), tmp_path / "full")
    data = (tmp_path / "full").read_bytes()
    for cut in range(0, len(data), 7):
        (tmp_path / "cut").write_bytes(data[:cut])
        with pytest.raises(ValueError):
            load(tmp_path / "cut")


def test_a_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"w": Evil()}))
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    for name in ("evil.pt", "model.pt"):
        with pytest.raises(ValueError):
            load(tmp_path / name)
    assert not marker.exists()


# ---------------------------------------------------------------- files of the earlier Python cr.save
DATA = pathlib.Path(__file__).resolve().parents[1] / "data"  # written by tests/data/make_old_fixtures.py


@pytest.mark.parametrize("name", ["old_flat", "old_nested", "old_adam_model", "old_adam_optimizer",
                                  "old_torch_sgd_optimizer"])
def test_files_of_the_earlier_python_save_load_and_are_written_again_byte_for_byte(tmp_path, name):
    path = DATA / f"{name}.safetensors"
    obj = load(path)
    independent = safetensors.numpy.load_file(str(path))

    def tensors(o, out):
        if isinstance(o, cr.Tensor):
            out.append(o)
        elif isinstance(o, dict):
            for v in o.values():
                tensors(v, out)
        elif isinstance(o, (list, tuple)):
            for v in o:
                tensors(v, out)
        return out
    assert len(tensors(obj, [])) == len(independent)
    if name in ("old_flat", "old_adam_model"):
        for k, a in independent.items():
            np.testing.assert_array_equal(as_np(obj[k]), a)
            assert as_np(obj[k]).dtype == a.dtype
    save(obj, tmp_path / "again")
    assert (tmp_path / "again").read_bytes() == path.read_bytes()


def test_earlier_nested_file_keeps_every_python_type():
    back = load(DATA / "old_nested.safetensors")
    assert back["pair"] == (1, (2.0, "x")) and back["flags"] == [True, False, None]
    assert list(back["keys"]) == [0, 1.5, True, None, "s"]
    assert back["best"] == float("inf") and math.isnan(back["nan"]) and back["name"] == "run-1 é"
    assert back["small"] == 1e-08 and back["big"] == 1e16 and back["third"] == 1 / 3
    assert back["tensors_in_lists"][1][0].tolist() == [1, 2]


def test_earlier_optimizer_files_load_into_chainrule_optimizers():
    cr.manual_seed(1)
    model = crnn.Sequential(crnn.Linear(3, 4), crnn.Tanh(), crnn.Linear(4, 2))
    opt = cr.optim.Adam([{"params": list(model[0].parameters())}, {"params": list(model[2].parameters())}])
    model.load_state_dict(load(DATA / "old_adam_model.safetensors"))
    opt.load_state_dict(load(DATA / "old_adam_optimizer.safetensors"))
    file = safetensors.numpy.load_file(str(DATA / "old_adam_optimizer.safetensors"))
    sd = opt.state_dict()
    assert [g["lr"] for g in sd["param_groups"]] == [0.0015, 0.005]
    assert sd["param_groups"][0]["betas"] == (0.8, 0.99) and sd["param_groups"][0]["name"] == "first"
    for i, st in sd["state"].items():
        for k, t in st.items():
            np.testing.assert_array_equal(as_np(t), file[f"state.{i}.{k}"])
    w, b = cr.zeros(3, 2, requires_grad=True), cr.zeros(2, requires_grad=True)
    sgd = cr.optim.SGD([w, b], lr=0.1, momentum=0.5)
    sgd.load_state_dict(load(DATA / "old_torch_sgd_optimizer.safetensors"))
    assert sgd.param_groups[0]["momentum"] == 0.9 and sgd.param_groups[0]["nesterov"]


# ---------------------------------------------------------------- C++ <-> Python (examples/checkpoint.cpp)
REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkpoint_example():
    """The C++ example binary, built (incrementally) in build/release as scripts/test.sh builds the C++
    side, or in $CHAINRULE_CPP_BUILD_DIR."""
    build = pathlib.Path(os.environ.get("CHAINRULE_CPP_BUILD_DIR", REPO / "build" / "release"))
    steps = [["cmake", "--build", str(build), "--target", "checkpoint", "-j2"]]
    if not (build / "CMakeCache.txt").exists():
        steps.insert(0, ["cmake", "-S", str(REPO), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                         "-DCHAINRULE_BUILD_TESTS=OFF"])
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return build / "checkpoint"


def run_example(binary, *args):
    done = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def example_run():
    """The example's network and optimizer, in Python."""
    cr.manual_seed(0)
    model = crnn.Sequential(crnn.Linear(3, 8), crnn.Tanh(), crnn.Linear(8, 2))
    return model, cr.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99), amsgrad=True)


def example_train(model, opt, steps):
    X, Y = cr.linspace(-1, 1, 30).reshape(10, 3), cr.linspace(0, 1, 20).reshape(10, 2)
    for _ in range(steps):
        loss = crnn.functional.mse_loss(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def assert_params_close(model, path):
    want = safetensors.numpy.load_file(str(path))
    for k, t in model.state_dict().items():
        np.testing.assert_allclose(as_np(t), want[k], rtol=1e-5, atol=1e-7)


def test_cpp_checkpoint_loads_into_python_model_and_optimizer(tmp_path, checkpoint_example):
    run_example(checkpoint_example, "train", tmp_path / "cpp", 5)
    model, opt = example_run()
    model.load_state_dict(load(tmp_path / "cpp" / "model.safetensors"))
    opt.load_state_dict(load(tmp_path / "cpp" / "optimizer.safetensors"))
    # exactly the values in the files (read independently by the safetensors package)
    file_model = safetensors.numpy.load_file(str(tmp_path / "cpp" / "model.safetensors"))
    file_opt = safetensors.numpy.load_file(str(tmp_path / "cpp" / "optimizer.safetensors"))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"] == list(file_model)
    for k, t in model.state_dict().items():
        np.testing.assert_array_equal(as_np(t), file_model[k])
    sd = opt.state_dict()
    assert len(file_opt) == 4 * 4 and sorted(sd["state"]) == [0, 1, 2, 3]
    for i, st in sd["state"].items():
        assert list(st) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        for k, t in st.items():
            np.testing.assert_array_equal(as_np(t), file_opt[f"state.{i}.{k}"])
    assert sd["state"][0]["step"].item() == 5
    g = sd["param_groups"][0]
    assert (g["lr"], g["betas"], g["amsgrad"], g["params"]) == (0.01, (0.8, 0.99), True, [0, 1, 2, 3])
    # and training goes on as it does in C++
    run_example(checkpoint_example, "resume", tmp_path / "cpp", tmp_path / "cpp_more", 3)
    example_train(model, opt, 3)
    assert_params_close(model, tmp_path / "cpp_more" / "model.safetensors")


def test_python_checkpoint_loads_into_the_cpp_example(tmp_path, checkpoint_example):
    model, opt = example_run()
    example_train(model, opt, 4)
    (tmp_path / "py").mkdir()
    save(model.state_dict(), tmp_path / "py" / "model.safetensors")
    save(opt.state_dict(), tmp_path / "py" / "optimizer.safetensors")
    # C++ loads both into its model and optimizer and saves them again: the same bytes come back
    out = run_example(checkpoint_example, "resume", tmp_path / "py", tmp_path / "cpp", 0)
    assert "Adam at step 4" in out
    for name in ("model.safetensors", "optimizer.safetensors"):
        assert (tmp_path / "cpp" / name).read_bytes() == (tmp_path / "py" / name).read_bytes()
    run_example(checkpoint_example, "resume", tmp_path / "py", tmp_path / "cpp_more", 3)
    example_train(model, opt, 3)
    assert_params_close(model, tmp_path / "cpp_more" / "model.safetensors")


# ---------------------------------------------------------------- hostile files and paths
def run_child(code, timeout=60):
    """Runs Python code in a child process (memory capped at 4 GiB, so a regression that reads
    forever fails instead of swapping); a hang is a test failure, not a stuck suite."""
    def limit():
        if "libasan" in os.environ.get("LD_PRELOAD", ""):
            return  # ASan reserves terabytes of shadow address space; its max_allocation_size_mb caps instead
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(pathlib.Path(cr.__file__).parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              env=env, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child hung for {timeout} s running:\n{code}")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


LOAD_AND_REPORT = """
import chainrule as cr
try:
    cr.load({path!r})
    print("loaded")
except ValueError as e:
    print("ValueError", e)
"""


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    out = run_child(LOAD_AND_REPORT.format(path=str(fifo)), timeout=30)  # no writer ever opens it
    assert out.strip() == f"ValueError load: {fifo}: expected a checkpoint file, got a FIFO"


def test_dev_zero_is_refused_without_reading_it():
    out = run_child(LOAD_AND_REPORT.format(path="/dev/zero"), timeout=30)
    assert out.strip() == "ValueError load: /dev/zero: expected a checkpoint file, got a character device"


def test_a_directory_is_an_is_a_directory_error_saying_load(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        load(tmp_path)
    assert str(info.value) == f"load: {tmp_path}: Is a directory" and info.value.errno == errno.EISDIR


@pytest.mark.parametrize("case,header,message", [
    ("deep list", b"[" * 100_000 + b"]" * 100_000, r"header is not valid JSON \(Nesting deeper than 512 levels"),
    ("deep object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, r"header is not valid JSON \(Nesting deeper than 512"),
    ("deep in an entry", b'{"a": {"dtype": ' + b"[" * 600 + b"]" * 600 + b"}}", r"header is not valid JSON \(Nesting"),
    ("long list", b'{"a": {"dtype": "F32", "shape": [' + b"0," * 1_000_000 + b'0], "data_offsets": [0, 0]}}',
     r"header has a list of more than 64 items \(a shape has at most 64 dimensions"),
    ("65 dims", json.dumps({"a": {"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]}}).encode(),
     r"header has a list of more than 64 items"),
])
def test_deep_or_huge_json_in_the_header_is_a_value_error(tmp_path, case, header, message):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(raw_file(header))
    with pytest.raises(ValueError, match=f"^load: {re.escape(str(path))}: {message}"):
        load(path)


def test_64_dims_still_load(tmp_path):
    path = tmp_path / "d64"
    path.write_bytes(raw_file({"a": {"dtype": "F32", "shape": [1] * 64, "data_offsets": [0, 4]}}, bytes(4)))
    assert load(path)["a"].shape == (1,) * 64


@pytest.mark.parametrize("root", ["[" * 100_000 + "]" * 100_000,
                                  '{"dict": [["a", ' * 20_000 + "1" + "]]}" * 20_000,
                                  '{"tuple": [' * 20_000 + "]}" * 20_000])
def test_deep_structure_metadata_is_a_value_error(tmp_path, root):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(raw_file({"__metadata__": {"chainrule.structure": '{"version": 1, "root": ' + root + "}"}}))
    with pytest.raises(ValueError, match=r"chainrule.structure'\] is nested too deeply"):
        load(path)


def test_nesting_cr_save_writes_loads_back(tmp_path):
    obj = leaf = {}
    for i in range(150):
        leaf["x"] = [{}, (i,)]
        leaf = leaf["x"][0]
    save({"deep": obj, "w": cr.ones(1)}, tmp_path / "nested")
    assert load(tmp_path / "nested")["deep"] == obj


@pytest.mark.parametrize("dtype", ["5", "[\"F32\"]", "{\"F32\": 1}", "null", "true", "4.5"])
def test_a_dtype_that_is_not_a_string_is_a_value_error(tmp_path, dtype):
    path = tmp_path / "dt.safetensors"
    path.write_bytes(raw_file(f'{{"a": {{"dtype": {dtype}, "shape": [1], "data_offsets": [0, 4]}}}}'.encode(),
                              bytes(4)))
    with pytest.raises(ValueError, match=r"unknown dtype .* for 'a' \(chainrule reads F32, F64, I64, BOOL\)"):
        load(path)


def test_messages_quote_hostile_values_only_so_far(tmp_path):
    cases = [raw_file({"a" * 1_000_000: [1]}),
             raw_file({"a": {"dtype": "x" * 1_000_000, "shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
             raw_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "z" * 1_000_000: 1}}, bytes(4)),
             raw_file({"__metadata__": {"chainrule.structure": '{"version": 1, "root": {"set": "' + "s" * 10**6 + '"}}'}})]
    for data in cases:
        (tmp_path / "long").write_bytes(data)
        with pytest.raises(ValueError) as info:
            load(tmp_path / "long")
        assert len(str(info.value)) < 1000 and "..." in str(info.value), str(info.value)[:300]


@pytest.mark.parametrize("structure", [
    '{"version": 1, "root": 1' + "0" * 5000 + "}",  # an int longer than Python's int-parsing limit
    '{"version": 1, "root": {"dict": [[[1], 2]]}}',  # an unhashable key
])
def test_other_bad_structures_are_value_errors(tmp_path, structure):
    (tmp_path / "s").write_bytes(raw_file({"__metadata__": {"chainrule.structure": structure}}))
    with pytest.raises(ValueError, match=r"^load: .*chainrule.structure|^load: .*malformed"):
        load(tmp_path / "s")


# Peak memory: a loaded checkpoint costs its tensors (read straight into place), not the file twice.
def test_peak_memory_of_a_load_is_about_the_file_size(tmp_path):
    path = tmp_path / "big.safetensors"
    save({"a": cr.zeros(10_000_000), "b": cr.ones(2_500_000, 2, dtype=cr.float64)}, path)  # 80 MB
    size_mb = path.stat().st_size / 2**20
    # VmHWM is this process's own peak (ru_maxrss would carry the parent's over fork and exec)
    out = run_child(f"""
import chainrule as cr
def peak_mb():
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
before = peak_mb()
sd = cr.load({str(path)!r})
print(peak_mb() - before)
""")
    assert size_mb * 0.9 < float(out) < size_mb * 1.25 + 16, (float(out), size_mb)


# ---------------------------------------------------------------- leftovers of killed saves
def temp_files(directory):
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_a_save_removes_the_temporaries_dead_saves_of_the_same_target_left(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        old = time.time() - 2 * 3600
        stale = [f".ckpt.tmp.{dead_pid()}.a1b2c3d4e5f6", ".ckpt.0123456789ab.tmp"]  # dead pid; old unnamed
        kept = [f".ckpt.tmp.{sleeper.pid}.0123456789ab",  # a live save
                ".ckpt.fedcba987654.tmp",                 # unnamed but recent
                f".other.tmp.{dead_pid()}.a1b2c3d4e5f6",  # another target's
                ".ckpt.tmp.notapid.abc", "ckpt.tmp", "notes.txt"]
        for name in stale + kept:
            (tmp_path / name).write_bytes(b"x" * 1000)
        os.utime(tmp_path / stale[1], (old, old))
        save({"w": cr.ones(3)}, tmp_path / "ckpt")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept + ["ckpt"])
        # after an hour without a write, even a temporary with a live pid is stale (the pid was reused)
        os.utime(tmp_path / kept[0], (old, old))
        save({"w": cr.ones(3)}, tmp_path / "ckpt")
        assert kept[0] not in os.listdir(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_sigkilled_saves_leave_nothing_after_the_next_save(tmp_path):
    path = tmp_path / "big.safetensors"
    code = f"""
import chainrule as cr, sys
sd = {{"w": cr.zeros(8_000_000)}}
print("ready", flush=True)
while True:
    cr.save(sd, {str(path)!r})
"""
    left, pids = 0, []
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                 env=dict(os.environ, PYTHONPATH=str(pathlib.Path(cr.__file__).parents[1])))
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        names = temp_files(tmp_path)
        # named after the target and the process that wrote them, so later saves know them
        pids.append(str(child.pid))
        assert all(re.fullmatch(rf"\.big\.safetensors\.tmp\.({'|'.join(pids)})\.[0-9a-f]{{12}}", n) for n in names), names
        left = max(left, len(names))
    assert left >= 1  # the kills did land mid-save
    save({"w": cr.ones(2)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["big.safetensors"]
    assert load(path)["w"].tolist() == [1.0, 1.0]


def test_a_path_with_a_null_byte_is_refused_not_cut_short(tmp_path):
    save({"w": cr.ones(1)}, tmp_path / "a")
    with pytest.raises(ValueError, match=r"^load: embedded null byte in the path '.*a\\x00b'"):
        load(str(tmp_path / "a") + "\0b")
    with pytest.raises(ValueError, match=r"^save: embedded null byte in the path"):
        save({"w": cr.zeros(1)}, str(tmp_path / "a") + "\0b")
    assert load(tmp_path / "a")["w"].tolist() == [1.0]
