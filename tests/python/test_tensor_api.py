"""Tensor API habits of PyTorch tutorials, edge cases vs torch 2.13: masked_fill, repeat/tile,
flip/fliplr/flipud, roll, squeeze with a tuple of dims, .int()/.long()/.float()/.double()/.bool(),
softmax(dtype=), set_default_dtype, cr.Generator and requires_grad_. Values, gradients and second
derivatives of the ops are in the op catalog (op_catalog.py); here: special values, dtypes,
views vs copies, in-place forms and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn


@pytest.fixture(autouse=True)
def _default_dtype_restored():
    """Every test starts and ends with chainrule's and torch's default dtype float32."""
    cr.set_default_dtype(cr.float32)
    torch.set_default_dtype(torch.float32)
    yield
    cr.set_default_dtype(cr.float32)
    torch.set_default_dtype(torch.float32)


def same(ours, theirs, exact=True):
    """Values, shape and dtype equal torch's (nan where torch has nan)."""
    theirs = theirs.detach()
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    a, b = np.asarray(ours.detach()), theirs.numpy()
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def both(values, dtype=None):
    a = np.asarray(values)
    return cr.tensor(a, dtype=dtype), torch.tensor(a, dtype=getattr(torch, str(dtype).split(".")[1]) if dtype else None)


# ------------------------------------------------------------------------------ masked_fill
SPECIAL = [0.0, -0.0, 1.5, float("inf"), float("-inf"), float("nan")]


@pytest.mark.parametrize("n", list(range(1, 34)))
def test_masked_fill_lengths(n):
    rs = np.random.RandomState(n)
    x, m = rs.randn(n).astype(np.float32), rs.rand(n) > 0.5
    same(cr.tensor(x).masked_fill(cr.tensor(m), -2.5), torch.tensor(x).masked_fill(torch.tensor(m), -2.5))


@pytest.mark.parametrize("value", SPECIAL)
def test_masked_fill_special_values(value):
    x = [1.0, float("nan"), -0.0, float("inf")]
    m = [True, False, True, False]
    same(cr.tensor(x).masked_fill(cr.tensor(m), value), torch.tensor(x).masked_fill(torch.tensor(m), value))


@pytest.mark.parametrize("value", [2.7, -2.7, 3, True, 0.5])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_masked_fill_keeps_input_dtype(dtype, value):
    x = [[0, 1, 2], [3, 0, 5]]
    m = [[True, False, True], [False, True, False]]
    cx, tx = cr.tensor(x, dtype=getattr(cr, dtype)), torch.tensor(x, dtype=getattr(torch, dtype))
    same(cx.masked_fill(cr.tensor(m), value), tx.masked_fill(torch.tensor(m), value))


def test_masked_fill_0d_and_empty():
    same(cr.tensor(1.0).masked_fill(cr.tensor(True), 3.0), torch.tensor(1.0).masked_fill(torch.tensor(True), 3.0))
    same(cr.zeros(0, 3).masked_fill(cr.zeros(0, 3, dtype=cr.bool), 1.0),
         torch.zeros(0, 3).masked_fill(torch.zeros(0, 3, dtype=torch.bool), 1.0))
    # a 0-d mask broadcasts to the input
    same(cr.ones(2, 3).masked_fill(cr.tensor(True), 0.5), torch.ones(2, 3).masked_fill(torch.tensor(True), 0.5))


def test_masked_fill_broadcasts_input_like_torch():
    m = np.array([[True, False, True], [False, False, True]])
    same(cr.zeros(3).masked_fill(cr.tensor(m), 1.0), torch.zeros(3).masked_fill(torch.tensor(m), 1.0))


def test_masked_fill_value_tensor_gradient_like_torch():
    m = [[True, False, True], [False, True, True]]
    for vdtype in ("float32", "float64"):
        x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        v = cr.tensor(2.0, dtype=getattr(cr, vdtype), requires_grad=True)
        tx = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        tv = torch.tensor(2.0, dtype=getattr(torch, vdtype), requires_grad=True)
        y, ty = x.masked_fill(cr.tensor(m), v), tx.masked_fill(torch.tensor(m), tv)
        same(y, ty)
        w = np.arange(6.0, dtype=np.float32).reshape(2, 3)
        (y * cr.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        same(x.grad, tx.grad)
        same(v.grad, tv.grad)


def test_masked_fill_function_form():
    x = cr.tensor([1.0, 2.0])
    same(cr.masked_fill(x, cr.tensor([False, True]), 0.0), torch.masked_fill(torch.tensor([1.0, 2.0]), torch.tensor([False, True]), 0.0))


@pytest.mark.parametrize("mask_dtype", ["float32", "int64", "float64"])
def test_masked_fill_non_bool_mask_is_torchs_error(mask_dtype):
    with pytest.raises(RuntimeError, match="boolean masks"):
        torch.zeros(3).masked_fill(torch.ones(3, dtype=getattr(torch, mask_dtype)), 1.0)
    with pytest.raises(RuntimeError, match="masked_fill: only supports boolean masks, but got mask with dtype " + mask_dtype):
        cr.zeros(3).masked_fill(cr.ones(3, dtype=getattr(cr, mask_dtype)), 1.0)
    with pytest.raises(RuntimeError, match="masked_fill_: only supports boolean masks"):
        cr.zeros(3).masked_fill_(cr.ones(3, dtype=getattr(cr, mask_dtype)), 1.0)


def test_masked_fill_value_with_dims_is_an_error():
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        cr.zeros(3).masked_fill(cr.tensor([True, False, True]), cr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        cr.zeros(3).masked_fill(cr.tensor([True, False, True]), cr.tensor([2.5]))


def test_masked_fill_bad_shapes_and_types():
    with pytest.raises(ValueError, match=r"masked_fill: cannot broadcast shapes \(2, 3\) and \(3, 3\)"):
        cr.zeros(2, 3).masked_fill(cr.ones(3, 3, dtype=cr.bool), 1.0)
    with pytest.raises(TypeError, match="masked_fill: expected a Tensor or a number, got str"):
        cr.zeros(2).masked_fill(cr.ones(2, dtype=cr.bool), "a")


def test_masked_fill_inplace_writes_through_views():
    base = cr.zeros(2, 3)
    row = base[1]
    out = row.masked_fill_(cr.tensor([True, False, True]), 7.0)
    assert out is row
    np.testing.assert_array_equal(np.asarray(base), [[0, 0, 0], [7, 0, 7]])
    t = torch.zeros(2, 3)
    t[1].masked_fill_(torch.tensor([True, False, True]), 7.0)
    same(base, t)


def test_masked_fill_inplace_mask_must_broadcast_to_self():
    with pytest.raises(RuntimeError):
        torch.zeros(3).masked_fill_(torch.ones(2, 3, dtype=torch.bool), 1.0)
    with pytest.raises(ValueError, match=r"masked_fill_: expected a mask broadcastable to \(3,\), got \(2, 3\)"):
        cr.zeros(3).masked_fill_(cr.ones(2, 3, dtype=cr.bool), 1.0)


def test_masked_fill_inplace_value_tensor_and_dtype():
    x = cr.zeros(3, dtype=cr.int64)
    x.masked_fill_(cr.tensor([True, False, True]), cr.tensor(2.9))
    t = torch.zeros(3, dtype=torch.int64)
    t.masked_fill_(torch.tensor([True, False, True]), torch.tensor(2.9))
    same(x, t)


def test_masked_fill_inplace_refused_on_leaf_that_requires_grad():
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_fill_"):
        w.masked_fill_(cr.tensor([True, False, True]), 0.0)
    with cr.no_grad():
        w.masked_fill_(cr.tensor([True, False, True]), 0.0)
    np.testing.assert_array_equal(np.asarray(w.detach()), [0, 1, 0])


def test_masked_fill_inplace_on_expanded_is_refused():
    x = cr.zeros(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        x.masked_fill_(cr.ones(2, 3, dtype=cr.bool), 1.0)


def test_masked_fill_inplace_bumps_version():
    x = cr.ones(3, requires_grad=True)
    y = x * 1.0
    z = y.exp()  # saves its output
    with cr.no_grad():
        z.masked_fill_(cr.tensor([True, False, False]), 0.0)
    with pytest.raises(RuntimeError):
        z.sum().backward()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30])
def test_masked_fill_refuses_numbers_int64_cannot_hold(value):
    mask = cr.tensor([True, False])
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).masked_fill(torch.tensor([True, False]), value)
    with pytest.raises(RuntimeError, match="masked_fill: value cannot be converted to type int64"):
        cr.tensor([1, 2]).masked_fill(mask, value)
    with pytest.raises(RuntimeError, match="masked_fill_"):
        cr.tensor([1, 2]).masked_fill_(mask, value)


# ------------------------------------------------------------------------------ repeat, tile
def test_repeat_is_a_copy():
    x = cr.tensor([[1.0, 2.0]])
    for y in (x.repeat(1, 1), x.repeat(3, 1), x.repeat(1, 1, 1), cr.tensor([5.0]).repeat(3)):
        assert y.data_ptr() != x.data_ptr()
    y = x.repeat(1, 1)
    y[0, 0] = 9.0
    assert x[0, 0].item() == 1.0


@pytest.mark.parametrize("sizes", [(2,), (1, 3), (2, 2, 2), (0, 1, 4), (3, 0), (1, 1, 1, 1)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_repeat_shapes_and_dtypes(sizes, dtype):
    base = np.array([1, 0, 3]) if dtype != "bool" else np.array([True, False, True])
    cx, tx = cr.tensor(base, dtype=getattr(cr, dtype)), torch.tensor(base, dtype=getattr(torch, dtype))
    same(cx.repeat(*sizes), tx.repeat(*sizes))
    same(cx.repeat(sizes), tx.repeat(sizes))
    same(cx.repeat(list(sizes)), tx.repeat(list(sizes)))


def test_repeat_0d_and_empty():
    same(cr.tensor(2.0).repeat(3, 2), torch.tensor(2.0).repeat(3, 2))
    same(cr.tensor(2.0).repeat(()), torch.tensor(2.0).repeat(()))
    same(cr.zeros(0, 2).repeat(2, 3), torch.zeros(0, 2).repeat(2, 3))


def test_repeat_of_a_view():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    same(cr.tensor(x).t()[1:].repeat(2, 1), torch.tensor(x).t()[1:].repeat(2, 1))


def test_repeat_errors():
    with pytest.raises(RuntimeError, match="can not be smaller"):
        torch.zeros(2, 3).repeat(2)
    with pytest.raises(ValueError, match="repeat: number of dimensions of repeat dims can not be smaller"):
        cr.zeros(2, 3).repeat(2)
    with pytest.raises(ValueError, match=r"repeat: expected repeats >= 0, got \(-1, 2\)"):
        cr.zeros(2, 3).repeat(-1, 2)
    with pytest.raises(TypeError, match="repeat: missing"):
        cr.zeros(2).repeat()
    with pytest.raises(TypeError, match="repeat: expected repeats as ints, got float"):
        cr.zeros(2).repeat(2.0)


@pytest.mark.parametrize("dims", [(2,), (), (2, 1), (1, 2, 2), [3]])
def test_tile(dims):
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    same(cr.tile(cr.tensor(x), dims), torch.tile(torch.tensor(x), dims))
    same(cr.tensor(x).tile(dims), torch.tensor(x).tile(dims))
    assert cr.tile(cr.tensor(x), dims).data_ptr() != 0


def test_tile_is_a_copy_and_errors():
    x = cr.ones(2, 3)
    assert x.tile(()).data_ptr() != x.data_ptr()
    with pytest.raises(ValueError, match="tile: expected reps >= 0"):
        x.tile(-1)


# ------------------------------------------------------------------------------ flip
@pytest.mark.parametrize("n", list(range(1, 34)))
def test_flip_lengths(n):
    x = np.random.RandomState(n).randn(n).astype(np.float32)
    same(cr.flip(cr.tensor(x), (0,)), torch.flip(torch.tensor(x), (0,)))


def test_flip_is_a_copy_with_dense_strides():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.flip(0)
    assert y.is_contiguous() and y.stride() == (2, 1)
    y[0, 0] = 9.0
    assert x[1, 0].item() == 3.0


def test_flip_special_values_dtypes_and_views():
    v = [0.0, -0.0, float("inf"), float("nan"), -1.0]
    same(cr.tensor(v).flip(0), torch.tensor(v).flip(0))
    same(cr.tensor([True, False, False]).flip(0), torch.tensor([True, False, False]).flip(0))
    x = np.arange(24).reshape(2, 3, 4)
    same(cr.tensor(x).permute(2, 0, 1)[::2].flip(0, 2), torch.tensor(x).permute(2, 0, 1)[::2].flip(0, 2))
    same(cr.tensor(x).flip([-1, 0]), torch.tensor(x).flip([-1, 0]))
    same(cr.tensor(2.0).flip(0), torch.tensor(2.0).flip(0))
    same(cr.tensor(2.0).flip(-1), torch.tensor(2.0).flip(-1))
    same(cr.zeros(0, 3).flip(1), torch.zeros(0, 3).flip(1))


def test_flip_errors():
    x = cr.zeros(2, 3)
    with pytest.raises(ValueError, match="flip: dim 0 appears multiple times in the list of dims"):
        x.flip(0, -2)
    with pytest.raises(IndexError, match=r"flip: dim 2 is out of range for a tensor with 2 dims \(expected -2 to 1\)"):
        x.flip(2)
    with pytest.raises(IndexError):
        cr.flip(x, (-3,))
    with pytest.raises(TypeError, match="flip: expected dims as ints"):
        cr.flip(x, (0.5,))


def test_fliplr_flipud():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    same(cr.fliplr(cr.tensor(x)), torch.fliplr(torch.tensor(x)))
    same(cr.tensor(x).flipud(), torch.tensor(x).flipud())
    same(cr.flipud(cr.tensor([1, 2, 3])), torch.flipud(torch.tensor([1, 2, 3])))
    with pytest.raises(ValueError, match=r"fliplr: expected a tensor with >= 2 dims, got shape \(3,\)"):
        cr.ones(3).fliplr()
    with pytest.raises(ValueError, match=r"flipud: expected a tensor with >= 1 dim, got shape \(\)"):
        cr.tensor(1.0).flipud()


# ------------------------------------------------------------------------------ roll
@pytest.mark.parametrize("n", list(range(1, 34)))
def test_roll_lengths_and_shifts(n):
    x = np.arange(n, dtype=np.float32)
    for s in (1, -1, n, n + 3, -5 * n - 2, 10**12):
        same(cr.roll(cr.tensor(x), s), torch.roll(torch.tensor(x), s))


@pytest.mark.parametrize("shifts,dims", [(1, None), (-7, None), (1, 0), (-1, 1), ((1, 2), (0, 1)),
                                         ((2, -1), (-1, -2)), ((1, 1), (1, 1)), (5, -1), ((3,), (0,))])
def test_roll_shifts_and_dims(shifts, dims):
    x = np.arange(24).reshape(2, 3, 4)
    same(cr.roll(cr.tensor(x), shifts, dims), torch.roll(torch.tensor(x), shifts, dims))
    same(cr.tensor(x).roll(shifts, dims), torch.tensor(x).roll(shifts, dims))


def test_roll_views_0d_empty_bool():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    same(cr.tensor(x).t().roll(1, 0), torch.tensor(x).t().roll(1, 0))
    same(cr.tensor(x).t().roll(2), torch.tensor(x).t().roll(2))
    same(cr.tensor(2.0).roll(3), torch.tensor(2.0).roll(3))
    same(cr.zeros(0, 3).roll(1, 0), torch.zeros(0, 3).roll(1, 0))
    same(cr.tensor([True, False]).roll(1), torch.tensor([True, False]).roll(1))


def test_roll_is_a_copy():
    x = cr.tensor([1.0, 2.0, 3.0])
    for y in (x.roll(0), x.roll(3), x.roll(1)):
        assert y.data_ptr() != x.data_ptr()


def test_roll_errors():
    x = cr.zeros(2, 3)
    with pytest.raises(ValueError, match="roll: shifts and dimensions must align. shifts: 2, dims: 1"):
        x.roll((1, 2), (0,))
    with pytest.raises(ValueError, match="roll: `shifts` required"):
        x.roll((), ())
    with pytest.raises(IndexError, match="roll: dim 5 is out of range"):
        x.roll(1, 5)
    with pytest.raises(IndexError, match="roll: dim 0 is out of range: a 0-d tensor has no dims"):
        cr.tensor(1.0).roll(1, 0)
    with pytest.raises(ValueError, match="roll: shifts and dimensions must align"):
        x.roll((1, 2))


# ------------------------------------------------------------------------------ squeeze with a tuple
@pytest.mark.parametrize("dims", [(0, 1), (0, 2), (1,), (), (-1, 0), [0, 2], (0, 1, 2)])
def test_squeeze_tuple(dims):
    x = np.zeros((1, 2, 1), dtype=np.float32)
    same(cr.tensor(x).squeeze(dims), torch.tensor(x).squeeze(dims))
    same(cr.squeeze(cr.tensor(x), dims), torch.squeeze(torch.tensor(x), dims))


def test_squeeze_tuple_0d_and_views():
    same(cr.tensor(1.0).squeeze((0,)), torch.tensor(1.0).squeeze((0,)))
    same(cr.tensor(1.0).squeeze((-1,)), torch.tensor(1.0).squeeze((-1,)))
    base = cr.zeros(1, 3, 1)
    v = base.squeeze((0, 2))
    v[1] = 5.0  # a view: the write lands in base
    assert base[0, 1, 0].item() == 5.0
    # the int and no-argument forms still work
    same(cr.zeros(1, 3, 1).squeeze(), torch.zeros(1, 3, 1).squeeze())
    same(cr.zeros(1, 3, 1).squeeze(-1), torch.zeros(1, 3, 1).squeeze(-1))
    same(cr.zeros(1, 3, 1).squeeze(dim=0), torch.zeros(1, 3, 1).squeeze(dim=0))


def test_squeeze_tuple_errors():
    x = cr.zeros(1, 2, 1)
    with pytest.raises(ValueError, match="squeeze: dim 0 appears multiple times in the list of dims"):
        x.squeeze((0, 0))
    with pytest.raises(IndexError, match="squeeze: dim 3 is out of range"):
        x.squeeze((0, 3))
    with pytest.raises(IndexError, match="squeeze: dim 1 is out of range"):
        cr.tensor(1.0).squeeze((0, 1))
    with pytest.raises(ValueError, match="appears multiple times"):
        cr.tensor(1.0).squeeze((0, -1))
    with pytest.raises(TypeError, match="squeeze: expected dim as ints"):
        x.squeeze(0.5)


# ------------------------------------------------------------------------------ conversions
def test_int_gives_int64_with_torchs_values():
    vals = [-2.7, -0.5, 0.0, 1.5, 3.99]
    ours, theirs = cr.tensor(vals).int(), torch.tensor(vals).int()
    assert ours.dtype == cr.int64 and ours.tolist() == theirs.tolist()
    pred, y = cr.tensor([1, 2, 3]), cr.tensor([1, 0, 3])
    assert (pred == y).int().sum().item() == 2


@pytest.mark.parametrize("name", ["float", "double", "long", "bool"])
@pytest.mark.parametrize("src", ["float32", "float64", "int64", "bool"])
def test_conversions_match_torch(name, src):
    vals = [[-1.7, 0.0, 2.5], [-0.0, 3.0, 1.0]] if src.startswith("float") else [[-1, 0, 2], [0, 3, 1]]
    if src == "bool":
        vals = [[True, False, True], [False, False, True]]
    cx, tx = cr.tensor(vals, dtype=getattr(cr, src)), torch.tensor(vals, dtype=getattr(torch, src))
    same(getattr(cx, name)(), getattr(tx, name)())


@pytest.mark.parametrize("name", ["float", "double", "long", "bool"])
def test_conversions_requires_grad_like_torch(name):
    x = cr.tensor([1.5, -2.0], requires_grad=True)
    tx = torch.tensor([1.5, -2.0], requires_grad=True)
    y, ty = getattr(x, name)(), getattr(tx, name)()
    assert y.requires_grad == ty.requires_grad
    assert (y.grad_fn is None) == (ty.grad_fn is None) or name == "float"
    if name == "float":  # same dtype: torch returns the tensor itself
        assert ty is tx and y is x
    if name == "double":
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        same(x.grad, tx.grad)


def test_integer_conversion_of_a_tensor_that_requires_grad():
    x = cr.tensor([1.5, -2.5], requires_grad=True)
    assert x.long().tolist() == torch.tensor([1.5, -2.5], requires_grad=True).long().tolist()
    assert not x.long().requires_grad and x.bool().dtype == cr.bool


# ------------------------------------------------------------------------------ softmax(dtype=)
def test_softmax_dtype_function_method_functional():
    x = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    cx, tx = cr.tensor(x), torch.tensor(x)
    same(cr.softmax(cx, -1, dtype=cr.float64), torch.softmax(tx, -1, dtype=torch.float64), exact=False)
    same(cx.softmax(0, dtype=cr.float64), tx.softmax(0, dtype=torch.float64), exact=False)
    same(cr.log_softmax(cx, 1, dtype=cr.float64), torch.log_softmax(tx, 1, dtype=torch.float64), exact=False)
    same(cx.log_softmax(-1, cr.float64), tx.log_softmax(-1, torch.float64), exact=False)
    same(cr.nn.functional.softmax(cx, dim=-1, dtype=cr.float64), torch.nn.functional.softmax(tx, dim=-1, dtype=torch.float64), exact=False)
    same(cr.softmax(cx, -1, dtype=None), torch.softmax(tx, -1, dtype=None), exact=False)


def test_softmax_dtype_of_int_input_and_gradient_dtype():
    same(cr.softmax(cr.tensor([1, 2, 3]), 0, dtype=cr.float32), torch.softmax(torch.tensor([1, 2, 3]), 0, dtype=torch.float32), exact=False)
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = cr.softmax(x, 0, dtype=cr.float64)
    assert y.dtype == cr.float64
    (y * cr.tensor([1.0, 0.0, 0.0], dtype=cr.float64)).sum().backward()
    assert x.grad.dtype == cr.float32
    with pytest.raises(TypeError, match=r"^softmax\(\): argument 'dtype' must be cr.dtype or None, not str$"):
        cr.softmax(x, 0, dtype="float64")


# ------------------------------------------------------------------------------ default dtype
def test_default_dtype_float64_factories():
    cr.set_default_dtype(cr.float64)
    torch.set_default_dtype(torch.float64)
    assert cr.get_default_dtype() == cr.float64
    pairs = [
        (cr.tensor(1.5), torch.tensor(1.5)), (cr.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])),
        (cr.tensor([1, 2]), torch.tensor([1, 2])), (cr.tensor([True]), torch.tensor([True])),
        (cr.zeros(2), torch.zeros(2)), (cr.ones(2), torch.ones(2)), (cr.empty(2), torch.empty(2)),
        (cr.full((2,), 1.5), torch.full((2,), 1.5)), (cr.full((2,), 1), torch.full((2,), 1)),
        (cr.rand(2), torch.rand(2)), (cr.randn(2), torch.randn(2)),
        (cr.arange(0, 1, 0.5), torch.arange(0, 1, 0.5)), (cr.arange(3), torch.arange(3)),
        (cr.linspace(0, 1, 3), torch.linspace(0, 1, 3)), (cr.eye(2), torch.eye(2)),
        (cr.randint(0, 3, (2,)), torch.randint(0, 3, (2,))),
        (cr.tensor(np.zeros(2, np.float32)), torch.tensor(np.zeros(2, np.float32))),
        (cr.arange(3) / 2, torch.arange(3) / 2), (cr.arange(3) * 0.5, torch.arange(3) * 0.5),
        (cr.exp(cr.arange(3)), torch.exp(torch.arange(3))),
        (cr.where(cr.tensor([True, False]), 1.0, 0.0), torch.where(torch.tensor([True, False]), 1.0, 0.0)),
        (cr.where(cr.tensor([True, False]), 1, 0), torch.where(torch.tensor([True, False]), 1, 0)),
        (cr.arange(3).float(), torch.arange(3).float()),
        (cr.zeros_like(cr.zeros(2, dtype=cr.float32)), torch.zeros_like(torch.zeros(2, dtype=torch.float32))),
    ]
    for ours, theirs in pairs:
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1], (ours, theirs)
    assert cr.nn.Linear(2, 3).weight.dtype == cr.float64
    assert cr.nn.Linear(2, 3, dtype=cr.float32).weight.dtype == cr.float32
    cr.set_default_dtype(cr.float32)
    assert cr.zeros(2).dtype == cr.float32 and cr.tensor(1.5).dtype == cr.float32
    assert cr.nn.Linear(2, 3).weight.dtype == cr.float32


@pytest.mark.parametrize("bad", [cr.int64, cr.bool])
def test_set_default_dtype_refuses_non_float(bad):
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        torch.set_default_dtype(torch.int64)
    with pytest.raises(TypeError, match="set_default_dtype: only floating-point types are supported as the default type"):
        cr.set_default_dtype(bad)
    with pytest.raises(TypeError, match="set_default_dtype: expected a chainrule dtype"):
        cr.set_default_dtype("float64")
    assert cr.get_default_dtype() == cr.float32


def test_layers_and_int_promotions_follow_the_default_dtype():
    cr.set_default_dtype(cr.float64)
    try:
        assert nn.Conv2d(1, 2, 2)(cr.randn(1, 1, 3, 3)).dtype == cr.float64
        assert nn.BatchNorm2d(2).running_mean.dtype == cr.float64
        assert nn.Embedding(3, 2)(cr.tensor([0, 2])).dtype == cr.float64
        assert cr.atan2(cr.tensor([1]), cr.tensor([2])).dtype == cr.float64
        assert cr.copysign(cr.tensor([1]), -1.0).dtype == cr.float64
        assert nn.Parameter().dtype == cr.float64
    finally:
        cr.set_default_dtype(cr.float32)


# ------------------------------------------------------------------------------ Generator
def test_generator_manual_seed_returns_it_and_matches_global_stream():
    g = cr.Generator()
    assert g.manual_seed(0) is g
    assert g.initial_seed() == 0
    cr.manual_seed(0)
    a = cr.rand(5)
    b = cr.rand(5, generator=cr.Generator().manual_seed(0))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    cr.manual_seed(3)
    a = [cr.randn(4), cr.randint(0, 100, (6,)), cr.randperm(7), cr.empty(3).uniform_(-1, 2), cr.empty(3).normal_(1, 2)]
    g = cr.Generator().manual_seed(3)
    b = [cr.randn(4, generator=g), cr.randint(0, 100, (6,), generator=g), cr.randperm(7, generator=g),
         cr.empty(3).uniform_(-1, 2, generator=g), cr.empty(3).normal_(1, 2, generator=g)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_generator_is_independent_of_the_global_one():
    cr.manual_seed(1)
    expected = cr.rand(4)
    cr.manual_seed(1)
    g = cr.Generator().manual_seed(99)
    cr.rand(10, generator=g)
    np.testing.assert_array_equal(np.asarray(cr.rand(4)), np.asarray(expected))


def test_generator_state_round_trip_and_seed():
    g = cr.Generator().manual_seed(5)
    cr.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype == cr.int64
    x = cr.rand(4, generator=g)
    assert g.set_state(state) is g
    np.testing.assert_array_equal(np.asarray(cr.rand(4, generator=g)), np.asarray(x))
    assert g.initial_seed() == 5
    s = g.seed()
    assert isinstance(s, int) and s >= 0 and g.initial_seed() == s
    with pytest.raises(ValueError, match="set_state"):
        g.set_state(cr.zeros(3, dtype=cr.int64))
    assert cr.Generator().initial_seed() == torch.Generator().initial_seed()
    assert cr.Generator(device="cpu").device == cr.device("cpu")


def test_manual_seed_returns_the_default_generator():
    g = cr.manual_seed(7)
    assert isinstance(g, cr.Generator) and g.initial_seed() == 7 == cr.initial_seed()
    assert cr.default_generator.initial_seed() == 7


def test_generator_in_nn_init_and_dataloader():
    w1, w2 = cr.empty(3, 4), cr.empty(3, 4)
    for fn in (cr.nn.init.uniform_, cr.nn.init.normal_, cr.nn.init.xavier_uniform_, cr.nn.init.xavier_normal_,
               cr.nn.init.kaiming_uniform_, cr.nn.init.kaiming_normal_):
        fn(w1, generator=cr.Generator().manual_seed(2))
        fn(w2, generator=cr.Generator().manual_seed(2))
        np.testing.assert_array_equal(np.asarray(w1), np.asarray(w2))
    # the generator path draws what the global path draws for the same seed
    cr.manual_seed(2)
    cr.nn.init.kaiming_uniform_(w1, a=5 ** 0.5)
    cr.nn.init.kaiming_uniform_(w2, a=5 ** 0.5, generator=cr.Generator().manual_seed(2))
    np.testing.assert_allclose(np.asarray(w1), np.asarray(w2), rtol=1e-6)
    ds = cr.data.TensorDataset(cr.arange(10))
    order = lambda g: [int(b[0][0]) for b in cr.data.DataLoader(ds, batch_size=1, shuffle=True, generator=g)]
    assert order(cr.Generator().manual_seed(4)) == order(cr.Generator().manual_seed(4))
    assert sorted(order(cr.Generator().manual_seed(4))) == list(range(10))


def test_generator_type_errors():
    with pytest.raises(TypeError, match="rand: generator must be a cr.Generator"):
        cr.rand(2, generator=torch.Generator())
    with pytest.raises(TypeError, match="uniform_: expected generator to be a chainrule Generator"):
        cr.empty(2).uniform_(generator=1)
    with pytest.raises(TypeError, match="generator must be a cr.Generator"):
        cr.nn.init.normal_(cr.empty(2), generator=3)
    with pytest.raises(ValueError, match="CPU only"):
        cr.Generator(device="cuda")


# ------------------------------------------------------------------------------ requires_grad_
def test_requires_grad_like_torch():
    y = cr.ones(2, requires_grad=True) * 2
    ty = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        ty.requires_grad_(False)
    with pytest.raises(RuntimeError, match="requires_grad: can only change requires_grad of leaf tensors"):
        y.requires_grad_(False)
    assert ty.requires_grad_(True) is ty
    assert y.requires_grad_(True) is y and y.grad_fn is not None  # a no-op on a non-leaf, as torch
    y.requires_grad = True
    # torch raises RuntimeError here; chainrule's dtype errors are ValueError (project convention)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.ones(2, dtype=torch.int64).requires_grad_()
    with pytest.raises(ValueError, match="only floating-point tensors"):
        cr.ones(2, dtype=cr.int64).requires_grad_()
    with pytest.raises(ValueError, match="only floating-point tensors"):
        cr.ones(2, dtype=cr.bool).requires_grad = True
    assert cr.ones(2, dtype=cr.int64).requires_grad_(False).requires_grad is False
    x = cr.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad


# ------------------------------------------------------------------------------ squeeze_ / unsqueeze_
def test_squeeze_inplace_like_torch():
    for args in [(), (0,), ((0, 2),), (1,), (-1,)]:
        x, t = cr.zeros(1, 3, 1), torch.zeros(1, 3, 1)
        assert x.squeeze_(*args) is x
        t.squeeze_(*args)
        same(x, t)
    x, t = cr.zeros(3), torch.zeros(3)
    assert x.unsqueeze_(-1) is x
    same(x, t.unsqueeze_(-1))
    # a view squeezed in place leaves its base alone, and still writes into it
    base = cr.zeros(1, 3)
    v = base[0:1]
    v.squeeze_()
    assert tuple(base.shape) == (1, 3) and tuple(v.shape) == (3,)
    v[1] = 4.0
    assert base[0, 1].item() == 4.0


def test_squeeze_inplace_autograd_like_torch():
    with pytest.raises(RuntimeError, match="leaf Variable"):
        torch.ones(1, 3, requires_grad=True).squeeze_()
    with pytest.raises(RuntimeError, match="squeeze_: a leaf tensor that requires grad can't be changed in place"):
        cr.ones(1, 3, requires_grad=True).squeeze_()
    x = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    tx = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y, ty = x * 2, tx * 2
    y.squeeze_(0)
    ty.squeeze_(0)
    same(y, ty)
    (y * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    (ty * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    same(x.grad, tx.grad)
    with pytest.raises(IndexError):
        cr.zeros(1, 3).squeeze_(2)
