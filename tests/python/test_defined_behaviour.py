"""Regressions for undefined behaviour and silent garbage reachable from Python (issue 10): int64
overflow wraps as in torch, values without an int64 raise, and NumPy/DLPack memory that chainrule
can't read as it is (big-endian, bool bytes other than 0 and 1) is converted or refused."""
import numpy as np
import pytest
import torch

import chainrule as cr

BIG = 2**62
MIN = -2**63


# ---------------------------------------------------------------- int64 arithmetic wraps (mod 2^64)
WRAPS = {  # name: the same expression over the module `m` (cr or torch)
    "mul_scalar": lambda m: m.tensor([BIG, -BIG, 3]) * 4,
    "mul_tensor": lambda m: m.tensor([BIG, 2**40]) * m.tensor([4, 2**40]),
    "add_tensor": lambda m: m.tensor([2**63 - 1, MIN]) + m.tensor([1, -1]),
    "add_scalar": lambda m: m.tensor([2**63 - 1]) + 1,
    "sub_tensor": lambda m: m.tensor([MIN]) - m.tensor([1]),
    "rsub_scalar": lambda m: -2 - m.tensor([2**63 - 1]),
    "neg": lambda m: -m.tensor([MIN, 5]),
    "abs": lambda m: m.tensor([MIN, -5]).abs(),
    "square": lambda m: m.tensor([2**32, 3]) ** 2,
    "cube": lambda m: m.tensor([2**22, -3]) ** 3,
    "pow_5": lambda m: m.tensor([2**13, -3]) ** 5,
    "sum": lambda m: m.tensor([BIG] * 3).sum(),
    "sum_long": lambda m: m.full((1000,), BIG).sum(),
    "sum_dim0": lambda m: m.tensor([[BIG] * 3] * 2).sum(0),
    "sum_dim1": lambda m: m.tensor([[BIG] * 3] * 2).sum(1),
    "prod": lambda m: m.tensor([BIG, 4, 3]).prod(),
    "cumsum": lambda m: m.tensor([BIG] * 3).cumsum(0),
    "cumprod": lambda m: m.tensor([BIG, 2, 3]).cumprod(0),
    "matmul": lambda m: m.tensor([[BIG, 1]]) @ m.tensor([[4], [3]]),
    "bmm": lambda m: m.tensor([[[BIG, BIG]]]) @ m.tensor([[[2], [2]]]),
    "floordiv_min": lambda m: m.tensor([MIN]) // -1,
}


@pytest.mark.parametrize("name", sorted(WRAPS))
def test_int64_overflow_wraps_as_torch(name):
    got, want = WRAPS[name](cr), WRAPS[name](torch)
    assert got.dtype == cr.int64
    assert got.tolist() == want.tolist()


def test_inplace_int64_ops_wrap_and_stay_exact():
    # add_ went through a double (alpha * y): 2**62 + 1 lost its last bit
    a, b = cr.tensor([0, 2**63 - 1]), torch.tensor([0, 2**63 - 1])
    a.add_(cr.tensor([BIG + 1, 1])), b.add_(torch.tensor([BIG + 1, 1]))
    assert a.tolist() == b.tolist() == [BIG + 1, MIN]
    a.sub_(cr.tensor([1, 1]), alpha=3), b.sub_(torch.tensor([1, 1]), alpha=3)
    assert a.tolist() == b.tolist()
    a.mul_(cr.tensor([4, 4])), b.mul_(torch.tensor([4, 4]))
    assert a.tolist() == b.tolist()


ODD = 2**53 + 1  # the first integer a double can't hold: Python ints must not pass through one
EXACT = {
    "add": lambda m: m.tensor([0, BIG]) + ODD,
    "radd": lambda m: (BIG + 1) + m.tensor([0]),
    "sub": lambda m: m.tensor([0]) - ODD,
    "rsub": lambda m: ODD - m.tensor([0]),
    "mul": lambda m: m.tensor([1, 3]) * ODD,
    "add_alpha": lambda m: m.add(m.tensor([0]), ODD, alpha=3),
    "eq": lambda m: m.tensor([ODD, ODD - 1]) == ODD,
    "lt": lambda m: m.tensor([ODD, ODD - 1]) < ODD,
    "full": lambda m: m.full((2,), ODD),
    "where": lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), ODD),
    "and": lambda m: m.tensor([-1]) & ODD,
    "remainder": lambda m: m.tensor([ODD + 4]) % ODD,
    "floor_divide": lambda m: m.tensor([3 * ODD]) // ODD,
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_python_ints_stay_exact(name):
    got, want = EXACT[name](cr), EXACT[name](torch)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.tolist() == want.tolist()


def test_inplace_with_python_ints_stays_exact():
    a, b = cr.tensor([0, 1]), torch.tensor([0, 1])
    a += ODD
    b += ODD
    assert a.tolist() == b.tolist()
    a.fill_(ODD), b.fill_(ODD)
    assert a.tolist() == b.tolist()
    a.mul_(3), b.mul_(3)
    assert a.tolist() == b.tolist()
    assert cr.tensor([5]).add(1, alpha=cr.tensor(ODD)).tolist() == [ODD + 5]


def test_randint_over_the_whole_int64_range():
    cr.manual_seed(0)
    t = cr.randint(MIN, 2**63 - 1, (2000,))
    v = np.asarray(t)
    assert t.dtype == cr.int64
    # high - low overflowed int64: values must spread over the range, both signs, about evenly
    assert (v < 0).sum() > 800 and (v > 0).sum() > 800
    assert v.max() > 2**62 and v.min() < -2**62


# ---------------------------------------------------------------- values that have no int64
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e30])
def test_full_with_no_int64_raises(value):
    with pytest.raises(RuntimeError, match=r"cannot be converted to type int64"):
        torch.full((2,), value, dtype=torch.int64)
    with pytest.raises(RuntimeError, match=r"full: value (nan|inf|-inf|1e\+30) cannot be converted to int64"):
        cr.full((2,), value, dtype=cr.int64)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2.0**63])
def test_tensor_and_fill_with_no_int64_raise(value):
    with pytest.raises(RuntimeError, match=r"tensor: value .* cannot be converted to int64 without overflow"):
        cr.tensor([1.0, value], dtype=cr.int64)
    with pytest.raises(RuntimeError, match=r"fill_: value .* cannot be converted to int64"):
        cr.zeros(2, dtype=cr.int64).fill_(value)
    assert cr.tensor([-2.0**63, 2.5], dtype=cr.int64).tolist() == [MIN, 2]  # the edges that fit


def test_int_of_nan_and_inf_raise_as_python():
    with pytest.raises(ValueError, match="cannot convert float NaN to integer"):
        int(cr.tensor(float("nan")))
    with pytest.raises(OverflowError, match="cannot convert float infinity to integer"):
        int(cr.tensor(float("-inf")))
    assert int(cr.tensor(-2.7)) == int(torch.tensor(-2.7)) == -2
    assert int(cr.tensor(2.0**70, dtype=cr.float64)) == 2**70  # Python ints are unbounded
    assert int(cr.tensor([[MIN]])) == MIN


def test_float_and_int_of_many_elements_name_the_shape():
    with pytest.raises(ValueError, match=r"float: only one element tensors .* got shape \(2, 3\)"):
        float(cr.ones(2, 3))
    with pytest.raises(ValueError, match=r"int: only one element tensors .* got shape \(0,\)"):
        int(cr.zeros(0))


def test_conversion_of_nan_to_int64_is_defined_as_torch():
    # .long() doesn't raise in torch: NaN, ±inf and out-of-range values become INT64_MIN (x86)
    x = [float("nan"), float("inf"), -float("inf"), 1e30, -1e30, -2.5, 2.5, 2.0**62]
    for dt in (torch.float32, torch.float64):
        want = torch.tensor(x, dtype=dt).long().tolist()
        assert cr.tensor(x, dtype=cr.float32 if dt == torch.float32 else cr.float64).long().tolist() == want


@pytest.mark.parametrize("data", [[2**63], [2**64 - 1], [-2**63 - 1], [2**70, 1], [[1], [2**80]]])
def test_tensor_of_ints_beyond_int64_raises(data):
    with pytest.raises(ValueError, match=r"tensor: value -?\d+ .*overflows int64"):
        cr.tensor(data)
    with pytest.raises((ValueError, OverflowError, RuntimeError)):
        torch.tensor(data)


def test_tensor_of_uint64_array():
    with pytest.raises(ValueError, match=r"tensor: value 18446744073709551615 \(uint64\) overflows int64"):
        cr.tensor(np.array([1, 2**64 - 1], dtype=np.uint64))
    t = cr.tensor(np.array([1, 2**63 - 1], dtype=np.uint64))  # values that fit keep their value
    assert t.dtype == cr.int64 and t.tolist() == [1, 2**63 - 1]
    assert cr.tensor([2**63 - 1, MIN]).tolist() == [2**63 - 1, MIN]


@pytest.mark.parametrize("data, name", [("abc", "str"), (["a", "b"], "str"), (b"ab", "bytes")])
def test_tensor_of_strings_is_a_type_error(data, name):
    with pytest.raises(TypeError, match=f"tensor: can't make a tensor from data of type {name}"):
        cr.tensor(data)


# ---------------------------------------------------------------- dtypes
@pytest.mark.parametrize("value", [99, 4, -1, 255])
def test_dtype_from_an_invalid_int_raises(value):
    with pytest.raises(ValueError, match=rf"dtype: expected 0 \(bool\), .* got {value}"):
        cr.dtype(value)


def test_dtype_from_a_valid_int():
    assert [cr.dtype(i) for i in range(4)] == [cr.bool, cr.int64, cr.float32, cr.float64]


@pytest.mark.parametrize("name", ["float16", "bfloat16", "int32", "uint8", "half"])
def test_to_a_dtype_chainrule_lacks_names_it(name):
    with pytest.raises(TypeError, match=rf"to\(\): '{name}' is a dtype name, not a device, and chainrule has no"):
        cr.ones(2, 3).to(name)


# ---------------------------------------------------------------- NumPy and DLPack
def test_from_numpy_big_endian_raises_and_tensor_converts():
    a = np.arange(3, dtype=">f8")
    with pytest.raises(ValueError, match=r"from_numpy: expected an array in the machine's byte order, "
                                         r"got dtype >f8"):
        cr.from_numpy(a)
    with pytest.raises(ValueError, match="byte order"):
        torch.from_numpy(a)
    assert cr.tensor(a).tolist() == [0.0, 1.0, 2.0]
    assert cr.from_numpy(np.arange(3, dtype="<i8")).tolist() == [0, 1, 2]  # native: shared as before


def bool_array_with_byte_2():
    a = np.array([True, False, True, True])
    a.view(np.uint8)[0] = 2
    a.view(np.uint8)[3] = 255
    return a


def test_from_numpy_normalizes_non_canonical_bools():
    a = bool_array_with_byte_2()
    t = cr.from_numpy(a)
    assert t.long().tolist() == [1, 0, 1, 1]
    assert t.sum().item() == 3
    assert (t == cr.tensor([True, False, True, True])).all().item()
    assert t.tolist() == [True, False, True, True]
    # a strided view of such bytes too
    t2 = cr.from_numpy(np.stack([a, a], 1)[:, 0])
    assert t2.long().tolist() == [1, 0, 1, 1]


def test_from_numpy_shares_canonical_bools():
    a = np.array([True, False])
    t = cr.from_numpy(a)
    a[1] = True
    assert t.tolist() == [True, True]


def test_from_dlpack_normalizes_non_canonical_bools():
    t = cr.from_dlpack(bool_array_with_byte_2())
    assert t.long().tolist() == [1, 0, 1, 1] and t.sum().item() == 3


@pytest.mark.parametrize("obj, name", [(123, "int"), (None, "NoneType"), ("x", "str")])
def test_from_dlpack_of_a_non_tensor_is_a_type_error(obj, name):
    with pytest.raises(TypeError, match=rf"from_dlpack: expected an object with __dlpack__ .* got {name}"):
        cr.from_dlpack(obj)


# ---------------------------------------------------------------- found by the sanitized run
@pytest.mark.parametrize("shape", [(2**32, 2**32), (2**62, 4, 0), (2**40, 2**40, 0)])
def test_reshape_to_more_elements_than_int64_counts_raises(shape):
    # the element count overflowed int64 (UBSan: signed integer overflow in reshape's size check)
    with pytest.raises(ValueError, match=r"reshape: can't reshape \(4,\) to \(.*\), which has more elements "
                                         r"than an int64 can count"):
        cr.zeros(4).reshape(*shape)
    with pytest.raises(RuntimeError):
        torch.zeros(4).reshape(*shape)


def test_expand_to_more_elements_than_int64_counts_raises():
    with pytest.raises(ValueError, match=r"has more elements than an int64 can count"):
        cr.zeros(1, 1).expand(2**40, 2**40)
    with pytest.raises(RuntimeError, match="overflow"):
        torch.zeros(1, 1).expand(2**40, 2**40)
