"""NumPy and DLPack interop: zero-copy views in both directions, lifetimes (whoever is deleted
first, the memory stays valid for the other), dtype coverage, 0-d and empty tensors, tolist()."""
import gc

import numpy as np
import pytest
import torch

import chainrule as cr

DTYPES = [  # (chainrule dtype, numpy dtype, torch dtype, a sample value to write)
    (cr.float32, np.float32, torch.float32, 7.5),
    (cr.float64, np.float64, torch.float64, -2.25),
    (cr.int64, np.int64, torch.int64, 42),
    (cr.bool, np.bool_, torch.bool, True),
]
IDS = ["float32", "float64", "int64", "bool"]


def ptr(a):
    return a.__array_interface__["data"][0]


def first(t):
    """t's first element as a Python value, read through a fresh NumPy view."""
    return np.asarray(t).reshape(-1)[0].item()


# ------------------------------------------------------------------------------------------------
# np.asarray(t): buffer protocol
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cdt, ndt, tdt, v", DTYPES, ids=IDS)
def test_asarray_is_zero_copy(cdt, ndt, tdt, v):
    t = cr.zeros(2, 3, dtype=cdt)
    a = np.asarray(t)
    assert a.dtype == ndt and a.shape == (2, 3)
    assert ptr(a) == t.data_ptr()
    a[1, 2] = v
    assert t.tolist()[1][2] == v  # a write through NumPy is seen by the tensor
    t.fill_(v)
    assert a[0, 0] == v  # and a write to the tensor is seen by NumPy


def test_asarray_of_result_of_op_shares_with_that_result():
    t = cr.arange(6).reshape(2, 3)
    a = np.asarray(t)
    assert ptr(a) == t.data_ptr()
    assert a.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_asarray_keeps_storage_alive_after_tensor_is_deleted():
    t = cr.arange(100000, dtype=cr.float64)
    a = np.asarray(t)
    del t
    gc.collect()
    junk = [cr.full((100000,), -1.0, dtype=cr.float64) for _ in range(5)]  # reuse freed memory
    assert a[0] == 0.0 and a[-1] == 99999.0 and a.sum() == 99999 * 100000 / 2
    del junk


def test_numpy_method_shares_memory():
    t = cr.zeros(4)
    a = t.numpy()
    assert ptr(a) == t.data_ptr()
    a[0] = 3.0
    assert first(t) == 3.0
    t.add_(1.0)
    assert a.tolist() == [4.0, 1.0, 1.0, 1.0]


def test_numpy_of_detached_tensor_shares_with_the_original():
    w = cr.zeros(3, requires_grad=True)
    a = w.detach().numpy()
    assert ptr(a) == w.data_ptr()
    a[1] = 5.0
    assert w.tolist() == [0.0, 5.0, 0.0]


def test_numpy_docstring_says_whether_it_shares():
    doc = (cr.Tensor.numpy.__doc__ or "").lower()
    assert "share" in doc or "copy" in doc


# ------------------------------------------------------------------------------------------------
# cr.from_numpy(a)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cdt, ndt, tdt, v", DTYPES, ids=IDS)
def test_from_numpy_shares_memory_both_ways(cdt, ndt, tdt, v):
    a = np.zeros((3, 2), dtype=ndt)
    t = cr.from_numpy(a)
    assert t.dtype == cdt and t.shape == (3, 2)
    assert t.data_ptr() == ptr(a)
    a[2, 1] = v
    assert t.tolist()[2][1] == v
    t.fill_(v)
    assert bool(np.all(a == v))


def test_from_numpy_keeps_array_alive():
    a = np.arange(1000, dtype=np.int64)
    t = cr.from_numpy(a)
    del a
    gc.collect()
    assert t.sum().item() == 999 * 1000 // 2


def test_from_numpy_then_asarray_round_trips_to_same_memory():
    a = np.linspace(0, 1, 7)
    b = np.asarray(cr.from_numpy(a))
    assert ptr(b) == ptr(a)
    assert np.shares_memory(a, b)


def test_from_numpy_0d_and_empty():
    t = cr.from_numpy(np.array(2.5))
    assert t.shape == () and t.item() == 2.5
    e = cr.from_numpy(np.zeros((0, 3), dtype=np.float32))
    assert e.shape == (0, 3) and e.numel() == 0
    assert np.asarray(e).shape == (0, 3)


def test_ops_on_from_numpy_tensors_do_not_touch_the_array():
    a = np.ones(3)
    t = cr.from_numpy(a)
    (t * 2 + 1).sum()
    assert a.tolist() == [1.0, 1.0, 1.0]


def test_gradients_flow_into_from_numpy_leaf():
    a = np.array([1.0, 2.0])
    w = cr.from_numpy(a).requires_grad_()
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]
    with cr.no_grad():
        w -= 0.25 * w.grad
    assert a.tolist() == [0.5, 1.0]  # the update is visible in the NumPy array it shares


# ------------------------------------------------------------------------------------------------
# DLPack: chainrule -> torch / NumPy
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cdt, ndt, tdt, v", DTYPES, ids=IDS)
def test_torch_from_dlpack_shares_memory(cdt, ndt, tdt, v):
    t = cr.zeros(2, 3, dtype=cdt)
    tt = torch.from_dlpack(t)
    assert tt.dtype == tdt and tuple(tt.shape) == (2, 3)
    assert tt.data_ptr() == t.data_ptr()
    tt[1, 1] = v
    assert t.tolist()[1][1] == v  # write through torch, see it in ours
    t.fill_(v)
    assert bool((tt == v).all())


@pytest.mark.parametrize("cdt, ndt, tdt, v", DTYPES, ids=IDS)
def test_numpy_from_dlpack_shares_memory(cdt, ndt, tdt, v):
    t = cr.zeros(4, dtype=cdt)
    a = np.from_dlpack(t)
    assert a.dtype == ndt and a.shape == (4,)
    assert ptr(a) == t.data_ptr()
    t.fill_(v)
    assert bool(np.all(a == v))


def test_torch_tensor_stays_valid_after_ours_is_deleted():
    t = cr.arange(50000, dtype=cr.float64)
    tt = torch.from_dlpack(t)
    del t
    gc.collect()
    junk = [cr.full((50000,), -1.0, dtype=cr.float64) for _ in range(5)]
    assert tt[0].item() == 0.0 and tt[-1].item() == 49999.0
    assert tt.sum().item() == 49999 * 50000 / 2
    del junk


def test_torch_from_dlpack_of_op_result_and_of_0d_and_empty():
    tt = torch.from_dlpack(cr.tensor([[1.0, 2.0], [3.0, 4.0]]) @ cr.eye(2))
    assert tt.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    z = torch.from_dlpack(cr.full((), 3.0))
    assert z.shape == torch.Size([]) and z.item() == 3.0
    e = torch.from_dlpack(cr.zeros(0, 3))
    assert tuple(e.shape) == (0, 3)
    assert np.from_dlpack(cr.zeros(())).shape == ()
    assert np.from_dlpack(cr.zeros(2, 0)).shape == (2, 0)


def test_dlpack_device_is_cpu():
    assert tuple(cr.zeros(1).__dlpack_device__()) == (1, 0)


# ------------------------------------------------------------------------------------------------
# DLPack: torch / NumPy -> chainrule
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cdt, ndt, tdt, v", DTYPES, ids=IDS)
def test_from_dlpack_of_torch_tensor_shares_memory(cdt, ndt, tdt, v):
    tt = torch.zeros(3, 2, dtype=tdt)
    t = cr.from_dlpack(tt)
    assert t.dtype == cdt and t.shape == (3, 2)
    assert t.data_ptr() == tt.data_ptr()
    tt[0, 1] = v
    assert t.tolist()[0][1] == v
    t.fill_(v)
    assert bool((tt == v).all())


@pytest.mark.parametrize("cdt, ndt, tdt, v", DTYPES, ids=IDS)
def test_from_dlpack_of_numpy_array_shares_memory(cdt, ndt, tdt, v):
    a = np.zeros((2, 2), dtype=ndt)
    t = cr.from_dlpack(a)
    assert t.dtype == cdt and t.shape == (2, 2)
    assert t.data_ptr() == ptr(a)
    a[1, 0] = v
    assert t.tolist()[1][0] == v


def test_ours_stays_valid_after_torch_tensor_is_deleted():
    tt = torch.arange(50000, dtype=torch.float64)
    t = cr.from_dlpack(tt)
    del tt
    gc.collect()
    junk = [torch.full((50000,), -1.0, dtype=torch.float64) for _ in range(5)]
    assert t.sum().item() == 49999 * 50000 / 2
    assert first(t) == 0.0
    del junk


def test_ours_stays_valid_after_numpy_array_is_deleted():
    a = np.arange(1000.0)
    t = cr.from_dlpack(a)
    del a
    gc.collect()
    assert t.sum().item() == 999 * 1000 / 2


def test_round_trip_cr_torch_cr_is_the_same_memory():
    t = cr.zeros(5)
    back = cr.from_dlpack(torch.from_dlpack(t))
    assert back.data_ptr() == t.data_ptr()
    back.fill_(2.0)
    assert t.tolist() == [2.0] * 5


def test_from_dlpack_0d_and_empty_torch_tensors():
    z = cr.from_dlpack(torch.tensor(3.5))
    assert z.shape == () and z.item() == 3.5
    e = cr.from_dlpack(torch.zeros(0, 4))
    assert e.shape == (0, 4) and e.numel() == 0


def test_from_dlpack_of_non_contiguous_torch_tensor_is_a_strided_view():
    src = torch.arange(12.0).reshape(3, 4)
    t = cr.from_dlpack(src.t())
    assert t.shape == (4, 3) and t.stride() == (1, 4) and not t.is_contiguous()
    t[1, 2] = 100.0
    assert src[2, 1].item() == 100.0


def test_from_dlpack_of_negative_strides_is_refused():
    with pytest.raises(ValueError, match="from_numpy|from_dlpack.*negative"):
        cr.from_dlpack(np.arange(6.0)[::-1])


def test_from_dlpack_of_unsupported_dtype_is_refused():
    with pytest.raises(ValueError, match="from_dlpack.*dtype"):
        cr.from_dlpack(torch.zeros(3, dtype=torch.float16))


def test_from_dlpack_of_torch_slice_with_offset():
    tt = torch.arange(10.0)
    t = cr.from_dlpack(tt[4:])
    assert t.tolist() == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert t.data_ptr() == tt[4:].data_ptr()


def test_capsule_can_be_consumed_only_once():
    t = cr.arange(3, dtype=cr.float32)
    cap = t.__dlpack__()
    once = cr.from_dlpack(cap)
    assert once.tolist() == [0.0, 1.0, 2.0] and once.data_ptr() == t.data_ptr()
    with pytest.raises((ValueError, RuntimeError), match="from_dlpack"):
        cr.from_dlpack(cap)
    assert once.tolist() == [0.0, 1.0, 2.0]  # the first consumer still works


def test_capsule_consumed_by_torch_cannot_be_consumed_by_us():
    cap = cr.ones(2).__dlpack__()
    torch.from_dlpack(cap)
    with pytest.raises((ValueError, RuntimeError), match="from_dlpack"):
        cr.from_dlpack(cap)


def test_unconsumed_capsule_is_freed_without_crash():
    for _ in range(200):
        cr.ones(1000).__dlpack__()
    gc.collect()


# ------------------------------------------------------------------------------------------------
# tolist()
# ------------------------------------------------------------------------------------------------
TOLIST_CASES = [
    [[1.5, 2.0], [3.0, 4.25]],
    [[[1, 2, 3]], [[4, 5, 6]]],
    [[True, False], [False, True]],
    [1.0, 2.0, 3.0],
    [],
]


@pytest.mark.parametrize("data", TOLIST_CASES, ids=["float2d", "int3d", "bool2d", "float1d", "empty"])
def test_tolist_matches_torch(data):
    ours, theirs = cr.tensor(data).tolist(), torch.tensor(data).tolist()
    assert ours == theirs
    assert repr(ours) == repr(theirs)  # same Python types: ints stay ints, bools bools


@pytest.mark.parametrize("value", [2.5, 7, True], ids=["float", "int", "bool"])
def test_tolist_of_0d_is_a_python_scalar_like_torch(value):
    ours, theirs = cr.tensor(value).tolist(), torch.tensor(value).tolist()
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("cdt, tdt", [(cr.float64, torch.float64), (cr.int64, torch.int64),
                                       (cr.bool, torch.bool)], ids=["float64", "int64", "bool"])
def test_tolist_types_per_dtype(cdt, tdt):
    ours = cr.ones(2, 1, dtype=cdt).tolist()
    theirs = torch.ones(2, 1, dtype=tdt).tolist()
    assert ours == theirs
    assert type(ours[0][0]) is type(theirs[0][0])


def test_tolist_of_requires_grad_tensor_works_like_torch():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    assert w.tolist() == [1.0, 2.0]


def test_tolist_of_empty_2d():
    assert cr.zeros(2, 0).tolist() == torch.zeros(2, 0).tolist() == [[], []]
    assert cr.zeros(0, 2).tolist() == torch.zeros(0, 2).tolist() == []
