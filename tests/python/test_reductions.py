"""Reductions, scans and sorting vs torch 2.13: std/var(_mean), prod, cumsum, cumprod, all, any,
median, sort, argsort, topk and the axis= alias. Edge cases: 0-d and empty inputs, nan/inf,
lengths 1..33, ties, int64/bool dtypes, gradients at zeros, error classes and messages."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr

F64 = (cr.float64, torch.float64)


def pair(values, dtype="float64", requires_grad=False):
    a = np.asarray(values)
    cd = {"float64": cr.float64, "float32": cr.float32, "int64": cr.int64, "bool": cr.bool}[dtype]
    td = {"float64": torch.float64, "float32": torch.float32, "int64": torch.int64, "bool": torch.bool}[dtype]
    return (cr.tensor(a, dtype=cd, requires_grad=requires_grad),
            torch.tensor(a, dtype=td, requires_grad=requires_grad))


def same(ours, theirs, rtol=1e-12, atol=1e-12):
    """Equal values, shape and dtype (nan == nan); tuples compared element by element."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b, rtol, atol)
        return
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    a, b = np.asarray(ours.detach()), theirs.detach().numpy()
    if b.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------ std, var_mean
def test_std_positional_unbiased_and_keepdim():
    x, t = pair([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]])
    same(cr.std(x, False), torch.std(t, False))
    same(x.std(True), t.std(True))
    same(cr.std(x, 1, False, True), torch.std(t, 1, False, True))
    same(cr.std(x, dim=0, correction=0), torch.std(t, dim=0, correction=0))
    same(cr.std(x, dim=(0, 1), correction=2, keepdim=True), torch.std(t, dim=(0, 1), correction=2, keepdim=True))


def test_std_gradient_at_zero_variance_is_zero_like_torch():
    for shape in [(3,), (2, 4)]:
        x, t = pair(np.full(shape, 1.5), requires_grad=True)
        cr.std(x).backward()
        torch.std(t).backward()
        same(x.grad, t.grad)
        assert np.all(np.asarray(x.grad) == 0)


def test_std_single_element_is_nan_with_nan_gradient():
    x, t = pair([2.0], requires_grad=True)
    y = cr.std(x)
    with pytest.warns(UserWarning):
        yt = torch.std(t)
    assert math.isnan(y.item()) and math.isnan(yt.item())
    y.backward()
    yt.backward()
    same(x.grad, t.grad)
    x, t = pair([2.0], requires_grad=True)
    cr.std(x, correction=0).backward()
    torch.std(t, correction=0).backward()
    same(x.grad, t.grad)  # 0, not nan: the std is 0


def test_std_second_derivative_at_zero_variance_matches_torch():
    x, t = pair([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], requires_grad=True)
    (g,) = cr.autograd.grad(cr.std(x, 1).sum(), [x], create_graph=True)
    (gt,) = torch.autograd.grad(torch.std(t, 1).sum(), [t], create_graph=True)
    same(g, gt)
    w, wt = pair([[0.5, -1.0, 2.0], [1.0, 0.3, -0.7]])
    (h,) = cr.autograd.grad((g * w).sum(), [x])
    (ht,) = torch.autograd.grad((gt * wt).sum(), [t])
    same(h, ht)


@pytest.mark.parametrize("fn", ["std_mean", "var_mean"])
def test_std_mean_var_mean_are_plain_tuples(fn):
    x, t = pair([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]])
    r = getattr(cr, fn)(x, 1, keepdim=True)
    assert type(r) is tuple and len(r) == 2
    same(r, getattr(torch, fn)(t, 1, keepdim=True))
    same(getattr(cr, fn)(x, False), getattr(torch, fn)(t, False))


def test_std_rejects_integers_and_empty_is_nan():
    with pytest.raises(ValueError, match="std: expected a floating tensor"):
        cr.std(cr.tensor([1, 2, 3]))
    x, t = pair(np.zeros((0,)))
    with pytest.warns(UserWarning):
        expected = torch.std(t)
    same(cr.std(x), expected)


# ------------------------------------------------------------------------------ prod
@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0], [0.0],
                                    [1.5, -2.0, 0.5], [0.0, 0.0, 0.0, 2.0]])
def test_prod_gradient_and_hessian_with_zeros(values):
    x, t = pair(values, requires_grad=True)
    (g,) = cr.autograd.grad(cr.prod(x), [x], create_graph=True)
    (gt,) = torch.autograd.grad(torch.prod(t), [t], create_graph=True)
    same(g, gt)
    n = len(values)
    # a 1-element product's gradient is the constant 1: torch builds no graph for it
    for i in range(n if gt.requires_grad else 0):  # the Hessian row by row
        (h,) = cr.autograd.grad(g[i], [x], retain_graph=True)
        (ht,) = torch.autograd.grad(gt[i], [t], retain_graph=True)
        same(h, ht)
    assert not np.any(np.isnan(np.asarray(g.detach())))


def test_prod_dim_with_zero_rows_matches_torch():
    v = [[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [2.0, -3.0, 0.5]]
    for dim in (0, 1, -1):
        x, t = pair(v, requires_grad=True)
        w = np.arange(3.0) + 1
        (cr.prod(x, dim) * cr.tensor(w, dtype=cr.float64)).sum().backward()
        (torch.prod(t, dim) * torch.tensor(w)).sum().backward()
        same(x.grad, t.grad)


def test_prod_dtypes_and_special_values():
    for v, d in [([[3, -2], [1, 4]], "int64"), ([True, False], "bool"), ([True, True], "bool")]:
        x, t = pair(v, d)
        same(cr.prod(x), torch.prod(t))
        same(cr.prod(x, 0), torch.prod(t, 0))
    x, t = pair([math.inf, 0.0, 2.0])
    same(cr.prod(x), torch.prod(t))  # inf * 0 = nan
    x, t = pair([math.inf, -2.0, math.nan])
    same(cr.prod(x), torch.prod(t))
    x, t = pair([3, 4], "int64")
    same(cr.prod(x, dtype=cr.float32), torch.prod(t, dtype=torch.float32))


def test_prod_empty_and_0d():
    x, t = pair(np.zeros((0,)))
    same(cr.prod(x), torch.prod(t))  # 1
    x, t = pair(np.zeros((0, 3)))
    same(cr.prod(x, 0), torch.prod(t, 0))
    same(cr.prod(x, 1, keepdim=True), torch.prod(t, 1, keepdim=True))
    x, t = pair(2.5, requires_grad=True)
    same(cr.prod(x, 0), torch.prod(t, 0))
    same(cr.prod(x, -1), torch.prod(t, -1))
    cr.prod(x).backward()
    torch.prod(t).backward()
    same(x.grad, t.grad)


def test_prod_takes_one_dim_only():
    with pytest.raises(TypeError, match="prod"):
        cr.prod(cr.ones(2, 3), (0, 1))
    with pytest.raises(TypeError):
        torch.prod(torch.ones(2, 3), (0, 1))


# ------------------------------------------------------------------------------ cumsum, cumprod
@pytest.mark.parametrize("n", range(1, 34))
def test_scans_all_lengths(n):
    rs = np.random.RandomState(n)
    v = rs.uniform(-2, 2, size=(2, n))
    v[0, rs.randint(n)] = 0.0
    for fn in ("cumsum", "cumprod", "prod"):
        x, t = pair(v, requires_grad=True)
        y, yt = getattr(cr, fn)(x, 1), getattr(torch, fn)(t, 1)
        if fn == "prod":
            y, yt = y.unsqueeze(1).expand(2, n), yt.unsqueeze(1).expand(2, n)
        same(y, yt, rtol=1e-10)
        w = rs.uniform(-1, 1, size=(2, n))
        (y * cr.tensor(w, dtype=cr.float64)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        same(x.grad, t.grad, rtol=1e-10, atol=1e-12)
        x32, t32 = pair(v, "float32")
        same(getattr(cr, fn)(x32, 1), getattr(torch, fn)(t32, 1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, -1.5], [1.5, 0.0, 2.0, 0.0, 3.0], [0.0, 0.0], [0.0, 2.0, 3.0],
                                    [2.0, 3.0, 0.0], [1.0, -2.0, 0.5]])
def test_cumprod_hessian_with_zeros(values):
    x, t = pair(values, requires_grad=True)
    w = np.linspace(-1, 1, len(values))
    (g,) = cr.autograd.grad((cr.cumprod(x, 0) * cr.tensor(w, dtype=cr.float64)).sum(), [x], create_graph=True)
    (gt,) = torch.autograd.grad((torch.cumprod(t, 0) * torch.tensor(w)).sum(), [t], create_graph=True)
    same(g, gt)
    for i in range(len(values)):
        (h,) = cr.autograd.grad(g[i], [x], retain_graph=True)
        (ht,) = torch.autograd.grad(gt[i], [t], retain_graph=True)
        same(h, ht)


def test_scans_dtypes_0d_empty_and_special_values():
    for v, d in [([3, -2, 5], "int64"), ([True, False, True], "bool")]:
        x, t = pair(v, d)
        same(cr.cumsum(x, 0), torch.cumsum(t, 0))
        same(cr.cumprod(x, 0), torch.cumprod(t, 0))
    x, t = pair([1, 2], "int64")
    same(cr.cumsum(x, 0, dtype=cr.float64), torch.cumsum(t, 0, dtype=torch.float64))
    x, t = pair(3.0)
    same(cr.cumsum(x, 0), torch.cumsum(t, 0))
    same(cr.cumprod(x, -1), torch.cumprod(t, -1))
    x, t = pair(np.zeros((2, 0)))
    same(cr.cumsum(x, 1), torch.cumsum(t, 1))
    same(cr.cumprod(x, 0), torch.cumprod(t, 0))
    x, t = pair([1.0, math.inf, -math.inf, 2.0, math.nan, 1.0])
    same(cr.cumsum(x, 0), torch.cumsum(t, 0))
    same(cr.cumprod(x, 0), torch.cumprod(t, 0))


def test_scans_need_a_dim():
    with pytest.raises(TypeError, match="dim"):
        cr.cumsum(cr.ones(3))
    with pytest.raises(TypeError):
        torch.cumsum(torch.ones(3))


# ------------------------------------------------------------------------------ all, any
def test_all_any_values_and_dtypes():
    cases = [([[1.0, 0.0, 2.0], [3.0, -1.0, math.nan]], "float64"), ([[1, 0], [2, 3]], "int64"),
             ([[True, False], [True, True]], "bool"), ([[-0.0, 0.0]], "float32")]
    for v, d in cases:
        x, t = pair(v, d)
        for fn in ("all", "any"):
            same(getattr(cr, fn)(x), getattr(torch, fn)(t))
            same(getattr(x, fn)(1), getattr(t, fn)(1))
            same(getattr(cr, fn)(x, 0, keepdim=True), getattr(torch, fn)(t, 0, keepdim=True))
            same(getattr(cr, fn)(x, dim=(0, 1)), getattr(torch, fn)(t, dim=(0, 1)))


def test_all_any_empty_and_0d():
    for shape in [(0,), (2, 0)]:
        x, t = pair(np.zeros(shape))
        for fn in ("all", "any"):
            same(getattr(cr, fn)(x), getattr(torch, fn)(t))
            same(getattr(cr, fn)(x, -1), getattr(torch, fn)(t, -1))
    for v in (0.0, 2.0, math.nan):
        x, t = pair(v)
        same(cr.all(x), torch.all(t))
        same(cr.any(x, 0), torch.any(t, 0))


# ------------------------------------------------------------------------------ median
@pytest.mark.parametrize("n", range(1, 34))
def test_median_all_lengths_with_ties(n):
    rs = np.random.RandomState(100 + n)
    v = rs.randint(-2, 3, size=(3, n)).astype(np.float64)
    x, t = pair(v, requires_grad=True)
    same(cr.median(x), torch.median(t))
    r, rt = cr.median(x, 1), torch.median(t, 1)
    same(tuple(r), tuple(rt))  # tied medians: the same index as torch
    w = rs.uniform(-1, 1, size=3)
    (r.values * cr.tensor(w, dtype=cr.float64)).sum().backward()
    (rt.values * torch.tensor(w)).sum().backward()
    same(x.grad, t.grad)
    x, t = pair(v, requires_grad=True)
    cr.median(x).backward()
    torch.median(t).backward()
    same(x.grad, t.grad)  # tied medians of the whole tensor share the gradient


def test_median_nan_empty_0d_int():
    x, t = pair([[1.0, math.nan, 3.0, math.nan], [2.0, 0.0, -1.0, 5.0]], requires_grad=True)
    same(cr.median(x), torch.median(t))
    same(tuple(cr.median(x, 1)), tuple(torch.median(t, 1)))
    cr.median(x).backward()
    torch.median(t).backward()
    same(x.grad, t.grad)
    x, t = pair(np.zeros((0,)))
    same(cr.median(x), torch.median(t))
    x, t = pair(np.zeros((3, 0)))
    same(tuple(cr.median(x, 0)), tuple(torch.median(t, 0)))
    with pytest.raises(IndexError, match="median: expected a non-empty dim 1"):
        cr.median(x, 1)
    with pytest.raises(IndexError):
        torch.median(t, 1)
    x, t = pair(4.0)
    same(cr.median(x), torch.median(t))
    same(tuple(cr.median(x, 0)), tuple(torch.median(t, 0)))
    x, t = pair([[4, 1], [2, 2], [3, 9]], "int64")
    same(cr.median(x), torch.median(t))
    same(tuple(cr.median(x, 0, keepdim=True)), tuple(torch.median(t, 0, keepdim=True)))


# ------------------------------------------------------------------------------ sort, argsort, topk
@pytest.mark.parametrize("n", range(1, 34))
def test_sort_stable_all_lengths_with_ties(n):
    rs = np.random.RandomState(200 + n)
    v = rs.randint(-2, 3, size=(2, n)).astype(np.float64)
    v[1, rs.randint(n)] = math.nan
    for d in ("float64", "float32", "int64"):
        vv = v if d != "int64" else np.nan_to_num(v, nan=7).astype(np.int64)
        x, t = pair(vv, d)
        for desc in (False, True):
            same(tuple(cr.sort(x, descending=desc, stable=True)), tuple(torch.sort(t, descending=desc, stable=True)))
            same(cr.argsort(x, descending=desc, stable=True), torch.argsort(t, descending=desc, stable=True))
            same(tuple(x.sort(0, desc)), tuple(t.sort(0, desc)))


def test_sort_unstable_ties_are_stable_here():
    """stable=False: ours is stable; torch's may order ties differently in lines longer than 16
    (values always agree)."""
    v = np.tile([1.0, 0.0, 1.0], 11)
    x, t = pair(v)
    r, rt = cr.sort(x), torch.sort(t)
    same(r.values, rt.values)
    same(r.indices, torch.sort(t, stable=True).indices)
    x, t = pair(v[:16])
    same(tuple(cr.sort(x)), tuple(torch.sort(t)))


def test_sort_gradient_scatters_back():
    x, t = pair([[2.0, math.nan, -math.inf, 1.0, math.inf], [0.0, -0.0, 3.0, 3.0, 1.0]], requires_grad=True)
    w = np.arange(10.0).reshape(2, 5)
    (cr.sort(x, descending=True).values * cr.tensor(w, dtype=cr.float64)).sum().backward()
    (torch.sort(t, descending=True).values * torch.tensor(w)).sum().backward()
    same(x.grad, t.grad)


def test_sort_bool_0d_empty():
    x, t = pair([True, False, True], "bool")
    same(tuple(cr.sort(x, stable=True)), tuple(torch.sort(t, stable=True)))
    x, t = pair(5.0)
    same(tuple(cr.sort(x)), tuple(torch.sort(t)))
    same(cr.argsort(x), torch.argsort(t))
    x, t = pair(np.zeros((0,)))
    same(tuple(cr.sort(x)), tuple(torch.sort(t)))
    x, t = pair(np.zeros((2, 0)))
    same(tuple(cr.sort(x, 0)), tuple(torch.sort(t, 0)))


@pytest.mark.parametrize("n", [1, 2, 5, 16, 17, 33, 64, 65, 128, 130, 200])
def test_topk_ties_match_torch(n):
    rs = np.random.RandomState(300 + n)
    v = rs.randint(0, 4, size=(3, n)).astype(np.float64)
    v[2, rs.randint(n)] = math.nan
    for k in sorted({0, 1, min(2, n), min(3, n), n // 2, n}):
        for largest in (True, False):
            for srt in (True, False):
                x, t = pair(v)
                same(tuple(cr.topk(x, k, largest=largest, sorted=srt)),
                     tuple(torch.topk(t, k, largest=largest, sorted=srt)))


def test_topk_gradient_and_0d_and_errors():
    x, t = pair([[1.0, 5.0, 3.0, 5.0], [0.0, -1.0, 2.0, 2.0]], requires_grad=True)
    (cr.topk(x, 2).values * 3).sum().backward()
    (torch.topk(t, 2).values * 3).sum().backward()
    same(x.grad, t.grad)
    x, t = pair(5.0)
    same(tuple(cr.topk(x, 1)), tuple(torch.topk(t, 1)))
    same(tuple(cr.topk(x, 0)), tuple(torch.topk(t, 0)))
    for k in (3, -1):
        with pytest.raises(RuntimeError, match="k out of range"):
            torch.topk(torch.ones(2), k)
        with pytest.raises(RuntimeError, match=r"topk: expected k in \[0, 2\]"):
            cr.topk(cr.ones(2), k)


def test_return_types_behave_like_torchs():
    x = cr.tensor([[3.0, 1.0, 2.0]])
    for r, name in [(cr.sort(x), "sort"), (cr.topk(x, 2), "topk"), (cr.median(x, 1), "median"),
                    (cr.max(x, 1), "max"), (cr.min(x, axis=1), "min")]:
        assert type(r).__name__ == name and type(r) is getattr(cr.return_types, name)
        assert isinstance(r, tuple) and len(r) == 2
        v, i = r
        assert v is r.values or np.array_equal(np.asarray(v), np.asarray(r.values))
        assert r[1] is r.indices
        assert i.dtype == cr.int64


# ------------------------------------------------------------------------------ axis= and dims
AXIS_CALLS = [("sum", (), {}), ("mean", (), {}), ("var", (), {}), ("std", (), {}), ("prod", (), {}),
              ("amax", (), {}), ("amin", (), {}), ("argmax", (), {}), ("argmin", (), {}), ("all", (), {}),
              ("any", (), {}), ("cumsum", (), {}), ("cumprod", (), {}), ("logsumexp", (), {}),
              ("softmax", (), {}), ("log_softmax", (), {}), ("median", (), {}), ("sort", (), {}),
              ("argsort", (), {}), ("topk", (2,), {}), ("max", (), {}), ("min", (), {}),
              ("std_mean", (), {}), ("var_mean", (), {})]


@pytest.mark.parametrize("name,args,kw", AXIS_CALLS, ids=[c[0] for c in AXIS_CALLS])
def test_axis_is_an_alias_of_dim(name, args, kw):
    v = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    x, t = pair(v)
    for axis in (0, 1, -1):
        r, rt = getattr(cr, name)(x, *args, axis=axis), getattr(torch, name)(t, *args, axis=axis)
        same(tuple(r) if isinstance(rt, tuple) else r, tuple(rt) if isinstance(rt, tuple) else rt)
        if hasattr(t, name):
            rm, rmt = getattr(x, name)(*args, axis=axis), getattr(t, name)(*args, axis=axis)
            same(tuple(rm) if isinstance(rmt, tuple) else rm, tuple(rmt) if isinstance(rmt, tuple) else rmt)
    with pytest.raises(TypeError):
        getattr(torch, name)(t, *args, dim=0, axis=0)
    with pytest.raises(TypeError, match="both dim and axis"):
        getattr(cr, name)(x, *args, dim=0, axis=0)
    if hasattr(t, name):
        with pytest.raises(TypeError, match="both dim and axis"):
            getattr(x, name)(*args, dim=0, axis=0)


@pytest.mark.parametrize("name,args", [("sum", ()), ("prod", ()), ("cumsum", ()), ("cumprod", ()), ("all", ()),
                                        ("any", ()), ("std", ()), ("median", ()), ("sort", ()), ("argsort", ()),
                                        ("topk", (1,)), ("amax", ())])
def test_dim_out_of_range_is_index_error(name, args):
    x, t = pair([1.0, 2.0])
    with pytest.raises(IndexError):
        getattr(torch, name)(t, *args, dim=2)
    with pytest.raises(IndexError, match=r"dim 2 is out of range for a tensor with 1 dims \(expected -1 to 0\)"):
        getattr(cr, name)(x, *args, dim=2)
    with pytest.raises(IndexError, match="out of range"):
        getattr(cr, name)(cr.tensor(1.0), *args, dim=1)


def test_amax_of_empty_raises_like_torch():
    with pytest.raises(RuntimeError):
        torch.amax(torch.zeros(0))
    with pytest.raises((ValueError, RuntimeError), match="amax: expected a non-empty reduction"):
        cr.amax(cr.zeros(0))
    same(cr.sum(cr.zeros(0, 3), 0), torch.sum(torch.zeros(0, 3), 0))


def test_sum_and_mean_take_dtype():
    x, t = pair([[1, 2], [3, 4]], "int64")
    same(cr.sum(x, 0, dtype=cr.float64), torch.sum(t, 0, dtype=torch.float64))
    same(x.mean(dtype=cr.float32), t.mean(dtype=torch.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sum_does_not_depend_on_where_the_values_are(dtype):
    # Eigen's vectorised sum began at the first aligned element: the same values at another address
    # (a view and its clone, one row and the next) summed to another last bit (62% of float rows of 5..200)
    dt = getattr(cr, dtype)
    rng = np.random.default_rng(3)
    for n in list(range(1, 70)) + [127, 256, 1000, 1025]:
        values = cr.tensor(rng.standard_normal(n), dtype=dt)
        at = [cr.cat([cr.zeros(pad, dtype=dt), values])[pad:] for pad in range(17)]  # 17 addresses
        bits = {v.sum().numpy().tobytes() for v in at} | {values.clone().sum().numpy().tobytes()}
        assert len(bits) == 1, (dtype, n)
        eps = 2e-7 if dtype == "float32" else 3e-16  # orders differ: a bound on the terms, not the sum
        same(at[5].sum(), torch.tensor(values.numpy()).sum(), rtol=0, atol=n * eps * float(values.abs().sum()))
    rows = cr.tensor(np.tile(rng.standard_normal(12), (9, 1)), dtype=dt)  # rows 48 or 96 bytes apart
    for m in (rows, rows.t().contiguous().t()):
        assert len(set(m.sum(1).tolist())) == 1 and len(set(m.mean(1).tolist())) == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sum_special_values_in_the_vector_part_and_the_tail(dtype):
    # lengths 1..33 reach the packets and the scalar tail; a nan, an inf or both at each position
    for n in range(1, 34):
        for pos in range(n):
            for bad in ([np.nan], [np.inf], [-np.inf], [np.inf, -np.inf]):
                v = np.linspace(-1, 1, n)
                v[pos] = bad[0]
                if len(bad) == 2:
                    v[(pos + n // 2) % n] = bad[1] if n > 1 else bad[0]
                x, t = pair(v, dtype)
                same(x.sum(), t.sum(), rtol=1e-6, atol=1e-6)
    x, t = pair(np.array(2.5), dtype)
    same(x.sum(), t.sum())  # 0-d
    x, t = pair(np.zeros(0), dtype)
    same(x.sum(), t.sum())  # empty: 0

@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_keepdim_without_dim_keeps_every_dim(name):
    a = np.arange(6.0).reshape(2, 3)
    ours, theirs = getattr(cr, name)(cr.tensor(a), keepdim=True), getattr(torch, name)(torch.tensor(a), keepdim=True)
    assert ours.shape == tuple(theirs.shape) == (1, 1) and ours.tolist() == theirs.tolist()


# ------------------------------------------------------------------------------ layouts and big inputs
def test_strided_inputs_and_threaded_sizes():
    rs = np.random.RandomState(7)
    for shape in [(5, 7), (300, 400)]:  # the second one runs the kernels on several threads
        v = rs.randint(-3, 4, size=shape).astype(np.float64)
        x, t = pair(v)
        x, t = x.t(), t.t()  # non-contiguous views
        for dim in (0, 1):
            same(tuple(cr.sort(x, dim, stable=True)), tuple(torch.sort(t, dim=dim, stable=True)))
            same(tuple(cr.topk(x, 3, dim)), tuple(torch.topk(t, 3, dim)))
            same(tuple(cr.median(x, dim)), tuple(torch.median(t, dim)))
            same(cr.cumsum(x, dim), torch.cumsum(t, dim))
            same(cr.cumprod(x * 0.5, dim), torch.cumprod(t * 0.5, dim), rtol=1e-10, atol=1e-300)
            same(cr.prod(x * 0.5, dim), torch.prod(t * 0.5, dim), rtol=1e-10, atol=1e-300)
            same(cr.all(x, dim), torch.all(t, dim))
            same(cr.std(x, dim), torch.std(t, dim))
        same(cr.median(x), torch.median(t))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_kernels_match_torch_at_every_length_and_layout(op, dtype):
    """Lines of 1..33 (the vectorized exp and its scalar tail), along the last dim (contiguous lines)
    and dim 0 (strided lines), values and gradients, with ties and a -inf logit in every line."""
    rs = np.random.default_rng(7)
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == "float32" else dict(rtol=1e-13, atol=1e-13)
    for n in range(1, 34):
        x = (rs.standard_normal((3, n)) * 4).astype(dtype)
        x[:, 0] = x[:, -1]
        if n > 2:
            x[1, 1] = -np.inf
        g = rs.standard_normal((3, n)).astype(dtype)
        for dim, (xx, gg) in ((-1, (x, g)), (0, (x.T.copy(), g.T.copy()))):
            got = []
            for lib in (cr, torch):
                a = lib.tensor(xx, requires_grad=True)
                y = getattr(lib, op)(a, dim)
                y.backward(lib.tensor(gg))
                got.append((y.detach().numpy(), a.grad.numpy()))
            np.testing.assert_allclose(got[0][0], got[1][0], err_msg=f"{op} n={n} dim={dim}", **tol)
            np.testing.assert_allclose(got[0][1], got[1][1], err_msg=f"{op} grad n={n} dim={dim}", **tol)
