"""Writes the seed corpus of the loader's fuzz target (fuzz/corpus/): files cr.save writes (several
dtypes, shapes, nesting, optimizer states) and hostile ones (truncated, huge lengths, deep nesting,
bad dtypes, overlapping offsets, ...). Run from the repository root with chainrule importable:
    PYTHONPATH=python python fuzz/make_corpus.py
The files are checked in; the fuzzer's regression findings are added beside them by hand."""
import json
import os
import struct
import tempfile

import chainrule as cr

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def raw(header, data=b"", length=None):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def saved(obj):
    with tempfile.TemporaryDirectory() as d:
        cr.save(obj, os.path.join(d, "f"))
        with open(os.path.join(d, "f"), "rb") as f:
            return f.read()


def structure(root, header=None, data=b""):
    meta = {"chainrule.structure": json.dumps({"version": 1, "root": root})}
    return raw({"__metadata__": meta, **(header or {})}, data)


def main():
    os.makedirs(OUT, exist_ok=True)
    cr.manual_seed(0)
    files = {}
    # ---- valid files, as cr.save writes them
    files["valid_flat"] = saved({"w": cr.randn(3, 4), "b": cr.randn(4, dtype=cr.float64),
                                 "i": cr.tensor([1, -2, 3]), "m": cr.tensor([[True, False]]),
                                 "s": cr.tensor(2.5), "e": cr.zeros(0, 5)})
    files["valid_empty"] = saved({})
    files["valid_high_rank"] = saved({"x": cr.ones(1, 2, 1, 2, 1, 2, 1, 2), "z": cr.zeros(2, 0, 3)})
    files["valid_nested"] = saved({"model": {"w": cr.ones(2)}, "epoch": 3, "lr": 0.1, "best": float("inf"),
                                   "nan": float("nan"), "pair": (1, (2.0, "x")), "keys": {0: "a", 1.5: "b", None: "c"},
                                   "lists": [cr.zeros(1), (cr.tensor([1, 2]),)], "empty": {}, "name": "run é"})
    w = cr.randn(3, 2, requires_grad=True)
    for name, opt in [("adam", cr.optim.Adam([w], lr=0.01, betas=(0.8, 0.99), amsgrad=True)),
                      ("sgd", cr.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True))]:
        for _ in range(2):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        files[f"valid_optimizer_{name}"] = saved(opt.state_dict())
    files["valid_metadata"] = raw({"__metadata__": {"format": "pt", "note": "é"},
                                   "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8))
    # ---- hostile files
    flat = files["valid_flat"]
    for cut in (0, 7, 8, 20, len(flat) // 2, len(flat) - 1):
        files[f"truncated_{cut}"] = flat[:cut]
    files["huge_header_length"] = b"\xff" * 8 + b"{}"
    files["header_length_past_end"] = struct.pack("<Q", 1 << 40) + b"{}"
    files["deep_header"] = raw(b"[" * 5000 + b"]" * 5000)
    files["deep_header_object"] = raw(b'{"a":' * 2000 + b"1" + b"}" * 2000)
    files["deep_structure"] = raw({"__metadata__": {"chainrule.structure":
                                                    '{"version": 1, "root": ' + "[" * 5000 + "]" * 5000 + "}"}})
    files["dtype_not_string"] = raw({"a": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}}, bytes(4))
    files["dtype_list"] = raw({"a": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, bytes(4))
    files["dtype_unknown"] = raw({"a": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}, bytes(2))
    files["overlapping_offsets"] = raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12))
    files["offsets_reversed"] = raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, bytes(8))
    files["offsets_past_end"] = raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(4))
    files["offsets_huge"] = raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [2**63 - 8, 2**63]}}, bytes(8))
    files["gap_and_tail"] = raw({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(12))
    files["shape_overflow"] = raw({"a": {"dtype": "F64", "shape": [2**32, 2**32, 2], "data_offsets": [0, 8]}}, bytes(8))
    files["shape_huge"] = raw({"a": {"dtype": "F32", "shape": [2**62, 4], "data_offsets": [0, 4]}}, bytes(4))
    files["shape_empty_but_huge"] = raw({"a": {"dtype": "F32", "shape": [0, 2**62, 2**62], "data_offsets": [0, 0]}})
    files["shape_negative"] = raw({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4))
    files["shape_too_many_dims"] = raw({"a": {"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]}}, bytes(4))
    files["bool_byte_2"] = raw({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x02")
    files["not_utf8"] = raw(b'{"\xff\xfe": 1}')
    files["duplicate_key"] = raw(b'{"a": 1, "a": 2}')
    files["nan"] = raw(b'{"a": NaN}')
    files["metadata_not_strings"] = raw({"__metadata__": {"k": [1, 2]}})
    files["structure_bad_node"] = structure({"set": [1]})
    files["structure_missing_tensor"] = structure({"dict": [["state", {"dict": [[0, {"dict": [["step", {"tensor": "w"}]]}]]}],
                                                   ["param_groups", []]]})
    files["structure_bad_state_key"] = structure({"dict": [["state", {"dict": [["x9", {"dict": []}]]}],
                                                  ["param_groups", [{"dict": [["lr", 0.1], ["params", [0]]]}]]]})
    files["structure_params_not_list"] = structure({"dict": [["state", {"dict": []}],
                                                    ["param_groups", [{"dict": [["lr", 0.1], ["params", 3]]}]]]})
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(files)} files in {OUT}")


if __name__ == "__main__":
    main()
