"""Autograd and tensor semantics compared with PyTorch: gradient accumulation, retain_graph, grad mode,
detach, leaves and non-leaves, grad_fn names, integer-tensor rules, dtype promotion, a hand-written
SGD loop, and repr.

Most tests run the same code on both libraries (the module ``m`` is ``chainrule`` or ``torch``) and
compare the results.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

pytestmark = pytest.mark.usefixtures("torch_one_thread")

DTYPE_PAIRS = {"bool": (cr.bool, torch.bool, np.bool_), "int64": (cr.int64, torch.int64, np.int64),
               "float32": (cr.float32, torch.float32, np.float32),
               "float64": (cr.float64, torch.float64, np.float64)}


def values(t):
    return np.array(t.detach(), copy=True) if isinstance(t, cr.Tensor) else t.detach().numpy().copy()


def name(dt):
    return str(dt).split(".")[-1]


def assert_equal_tensors(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert name(ours.dtype) == name(theirs.dtype)
    np.testing.assert_allclose(values(ours), values(theirs), rtol=1e-6, atol=1e-7)


def leaf(m, data, dtype="float32", requires_grad=True):
    return m.tensor(np.asarray(data, dtype=DTYPE_PAIRS[dtype][2]),
                    dtype=DTYPE_PAIRS[dtype][0 if m is cr else 1], requires_grad=requires_grad)


BOTH = pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])


# ------------------------------------------------------------------------------ backward and .grad
def test_grad_accumulates_over_two_backward_calls():
    grads = []
    for m in (cr, torch):
        x = leaf(m, [1.0, -2.0, 3.0])
        (x * x).sum().backward()
        (x.exp() * 2).sum().backward()
        grads.append(x.grad)
    assert_equal_tensors(*grads)
    np.testing.assert_allclose(values(grads[0]), 2 * np.array([1.0, -2.0, 3.0]) + 2 * np.exp([1.0, -2.0, 3.0]),
                               rtol=1e-6)


@BOTH
def test_second_backward_without_retain_graph_raises(m):
    x = leaf(m, [1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as e:
        y.backward()
    if m is cr:
        assert "retain_graph" in str(e.value)


def test_retain_graph_allows_a_second_backward_that_accumulates():
    grads = []
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0, -0.5])
        y = (x.tanh() * x).sum()
        y.backward(retain_graph=True)
        first = values(x.grad)
        y.backward()
        np.testing.assert_allclose(values(x.grad), 2 * first, rtol=1e-6)
        grads.append(x.grad)
    assert_equal_tensors(*grads)


@BOTH
def test_create_graph_retains_the_graph_by_default(m):
    x = leaf(m, [1.5])
    y = (x ** 3).sum()
    (g,) = m.autograd.grad(y, x, create_graph=True)
    y.backward()  # still possible: retain_graph defaults to create_graph
    np.testing.assert_allclose(values(x.grad), [3 * 1.5 ** 2], rtol=1e-6)
    np.testing.assert_allclose(values(g), [3 * 1.5 ** 2], rtol=1e-6)


@BOTH
def test_backward_of_non_scalar_needs_a_gradient(m):
    x = leaf(m, [1.0, 2.0])
    with pytest.raises(RuntimeError):
        (x * 2).backward()


def test_backward_with_explicit_gradient():
    grads = []
    for m in (cr, torch):
        x = leaf(m, [[1.0, 2.0], [3.0, 4.0]])
        (x * x).backward(leaf(m, [[1.0, 0.5], [-1.0, 2.0]], requires_grad=False))
        grads.append(x.grad)
    assert_equal_tensors(*grads)


def test_autograd_grad_leaves_dot_grad_alone():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        (g,) = m.autograd.grad((x * x).sum(), x)
        assert x.grad is None
        np.testing.assert_allclose(values(g), [2.0, 4.0])


def test_grad_zero_resets_accumulation():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        (x * 3).sum().backward()
        x.grad.zero_()
        np.testing.assert_array_equal(values(x.grad), [0.0, 0.0])
        (x * x).sum().backward()
        np.testing.assert_allclose(values(x.grad), [2.0, 4.0])


def test_setting_grad_to_none_resets():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        (x * 3).sum().backward()
        x.grad = None
        assert x.grad is None
        (x * x).sum().backward()
        np.testing.assert_allclose(values(x.grad), [2.0, 4.0])


def test_grad_has_the_leafs_shape_and_dtype():
    for m in (cr, torch):
        x = leaf(m, [[1.0], [2.0]], dtype="float64")
        (x * leaf(m, [1.0, 2.0, 3.0], dtype="float64", requires_grad=False)).sum().backward()
        assert tuple(x.grad.shape) == (2, 1)
        assert name(x.grad.dtype) == "float64"
        np.testing.assert_allclose(values(x.grad), [[6.0], [6.0]])


def test_cube_at_two_first_and_second_derivative():
    x = cr.tensor([2.0], requires_grad=True)
    (x ** 3).backward()
    assert x.grad.tolist() == [12.0]
    x0 = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    (dy,) = cr.autograd.grad(x0 ** 3, x0, create_graph=True)
    assert dy.item() == pytest.approx(12.0)
    assert dy.requires_grad
    (d2y,) = cr.autograd.grad(dy, x0)
    assert d2y.item() == pytest.approx(12.0)


def test_tensor_from_a_python_number_is_0d():
    for m in (cr, torch):
        assert tuple(m.tensor(2.0).shape) == ()
        assert tuple(m.tensor(3).shape) == ()
        assert tuple(m.tensor(True).shape) == ()
        assert tuple(m.tensor(2.0, dtype=m.float64, requires_grad=True).shape) == ()


@BOTH
def test_modifying_a_saved_tensor_makes_backward_raise(m):
    x = leaf(m, [0.5, 1.0])
    y = x.exp()  # exp saves its output
    with m.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError):
        y.sum().backward()


@BOTH
def test_in_place_update_of_a_leaf_requiring_grad_raises_in_grad_mode(m):
    x = leaf(m, [1.0, 2.0])
    with pytest.raises(RuntimeError):
        x.add_(1.0)
    with m.no_grad():
        x.add_(1.0)
    np.testing.assert_array_equal(values(x), [2.0, 3.0])


# ------------------------------------------------------------------------------ grad mode
def test_no_grad_context():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        with m.no_grad():
            assert not m.is_grad_enabled()
            y = x * 2 + 1
        assert m.is_grad_enabled()
        assert y.requires_grad is False
        assert y.grad_fn is None
        assert y.is_leaf
        z = x * 2
        assert z.requires_grad and z.grad_fn is not None


def test_no_grad_decorator():
    for m in (cr, torch):
        @m.no_grad()
        def f(t):
            assert not m.is_grad_enabled()
            return t * t

        x = leaf(m, [1.0, 2.0])
        y = f(x)
        assert y.requires_grad is False and y.grad_fn is None
        assert m.is_grad_enabled()
        assert f.__name__ == "f"


def test_no_grad_restores_the_mode_after_an_exception():
    for m in (cr, torch):
        with pytest.raises(KeyError):
            with m.no_grad():
                raise KeyError("boom")
        assert m.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        with m.no_grad():
            with m.enable_grad():
                assert m.is_grad_enabled()
                y = x * x
            assert not m.is_grad_enabled()
            z = x * x
        assert y.requires_grad and y.grad_fn is not None
        assert not z.requires_grad
        y.sum().backward()
        np.testing.assert_allclose(values(x.grad), [2.0, 4.0])


def test_enable_grad_decorator_inside_no_grad():
    for m in (cr, torch):
        @m.enable_grad()
        def f(t):
            return t * 3

        x = leaf(m, [1.0])
        with m.no_grad():
            y = f(x)
        assert y.requires_grad


def test_set_grad_enabled():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        with m.set_grad_enabled(False):
            assert not m.is_grad_enabled()
            y = x * 2
        assert m.is_grad_enabled()
        assert not y.requires_grad
        with m.set_grad_enabled(True):
            assert (x * 2).requires_grad
        m.set_grad_enabled(False)  # as a plain call it switches the mode
        try:
            assert not m.is_grad_enabled()
            assert not (x * 2).requires_grad
        finally:
            m.set_grad_enabled(True)
        assert m.is_grad_enabled()

        @m.set_grad_enabled(False)
        def f(t):
            return t * 2

        assert m.is_grad_enabled()  # decorating doesn't change the mode
        assert not f(x).requires_grad
        assert m.is_grad_enabled()


# ------------------------------------------------------------------------------ detach, leaves
def test_detach_shares_memory_and_has_no_history():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        y = x * 2
        d = y.detach()
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
        d.add_(10.0)  # d shares y's memory
        np.testing.assert_array_equal(values(y), [12.0, 14.0])
        xd = x.detach()
        xd.mul_(0.5)
        np.testing.assert_array_equal(values(x), [0.5, 1.0])


def test_leaf_and_non_leaf_grad():
    results = []
    for m in (cr, torch):
        x = leaf(m, [1.0, -2.0])
        y = x * 3
        z = y * y
        s = z.sum()
        z.retain_grad()
        s.backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when reading .grad of a non-leaf
            assert y.grad is None
        assert z.grad is not None
        results.append((x.grad, z.grad))
    assert_equal_tensors(results[0][0], results[1][0])
    assert_equal_tensors(results[0][1], results[1][1])


def test_is_leaf():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        c = leaf(m, [1.0, 2.0], requires_grad=False)
        assert x.is_leaf and c.is_leaf
        assert not (x * 2).is_leaf
        assert (c * 2).is_leaf  # no history: a result of constants is a leaf
        assert x.detach().is_leaf
        with m.no_grad():
            assert (x * 2).is_leaf


def test_requires_grad_propagates():
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0])
        c = leaf(m, [3.0, 4.0], requires_grad=False)
        assert (x * c).requires_grad and (c + x).requires_grad
        assert not (c * c).requires_grad
        assert not (x > c).requires_grad


@BOTH
def test_requires_grad_can_only_be_changed_on_leaves(m):
    y = leaf(m, [1.0]) * 2
    with pytest.raises(RuntimeError):
        y.requires_grad = False


# ------------------------------------------------------------------------------ grad_fn names
# Only the ops whose node name already matches torch's (see the report for the others).
GRAD_FN_OPS = {
    "AddBackward0": lambda m, x, y: x + y,
    "SubBackward0": lambda m, x, y: x - y,
    "MulBackward0": lambda m, x, y: x * y,
    "DivBackward0": lambda m, x, y: x / y,
    "NegBackward0": lambda m, x, y: -x,
    "PowBackward0": lambda m, x, y: x ** 2,
    "ExpBackward0": lambda m, x, y: x.exp(),
    "LogBackward0": lambda m, x, y: x.log(),
    "SqrtBackward0": lambda m, x, y: x.sqrt(),
    "AbsBackward0": lambda m, x, y: x.abs(),
    "SinBackward0": lambda m, x, y: x.sin(),
    "CosBackward0": lambda m, x, y: x.cos(),
    "TanhBackward0": lambda m, x, y: x.tanh(),
    "SigmoidBackward0": lambda m, x, y: x.sigmoid(),
    "ReluBackward0": lambda m, x, y: x.relu(),
    "ReciprocalBackward0": lambda m, x, y: x.reciprocal(),
    "MaximumBackward0": lambda m, x, y: m.maximum(x, y),
    "WhereBackward0": lambda m, x, y: m.where(x > y, x, y),
    "SumBackward0": lambda m, x, y: x.sum(),
    "AmaxBackward0": lambda m, x, y: x.amax(1),
    "MmBackward0": lambda m, x, y: x @ y.T,
    "PermuteBackward0": lambda m, x, y: x.permute(1, 0),
    "ExpandBackward0": lambda m, x, y: x[None].expand(2, 3, 4),
    "CatBackward0": lambda m, x, y: m.cat([x, y]),
    "SliceBackward0": lambda m, x, y: x[1:],
    "IndexSelectBackward0": lambda m, x, y: x.index_select(0, m.tensor([0, 2])),
    "GatherBackward0": lambda m, x, y: x.gather(1, m.tensor([[0], [1], [2]])),
    "CloneBackward0": lambda m, x, y: x.clone(),
}


@pytest.mark.parametrize("expected", sorted(GRAD_FN_OPS))
def test_grad_fn_name_matches_torch(expected):
    rs = np.random.RandomState(0)
    a, b = rs.uniform(0.5, 2, (3, 4)), rs.uniform(0.5, 2, (3, 4))
    got = {}
    for m in (cr, torch):
        y = GRAD_FN_OPS[expected](m, leaf(m, a), leaf(m, b))
        got[m.__name__] = y.grad_fn.name()
    assert got == {"chainrule": expected, "torch": expected}


def test_grad_fn_next_functions_lead_to_the_inputs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp()
    ((mul, k),) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and k == 0
    ((acc, _), (const, _)) = (x * cr.tensor(2.0)).grad_fn.next_functions  # x, and a constant: as torch
    assert acc.name() == "AccumulateGrad" and acc.variable._cdata == x._cdata and const is None
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ((tmul, _),) = (tx * torch.tensor(2.0)).exp().grad_fn.next_functions
    assert [type(f).__name__ if f is not None else None for f, _ in tmul.next_functions] == ["AccumulateGrad", None]


# ------------------------------------------------------------------------------ integer tensors
def test_int64_plus_int_stays_int64():
    for m in (cr, torch):
        r = m.tensor([1, 2, 3]) + 2
        assert name(r.dtype) == "int64" and r.tolist() == [3, 4, 5]
        r = 5 - m.tensor([1, 2, 3]) * 2
        assert name(r.dtype) == "int64" and r.tolist() == [3, 1, -1]


def test_int64_times_float_is_float32():
    out = []
    for m in (cr, torch):
        r = m.tensor([1, 2, 3]) * 1.5
        assert name(r.dtype) == "float32"
        r2 = m.tensor([1, 2, 3]) * m.tensor([0.5, 0.25, 2.0])
        assert name(r2.dtype) == "float32"
        out.append((r, r2))
    assert_equal_tensors(out[0][0], out[1][0])
    assert_equal_tensors(out[0][1], out[1][1])


def test_int64_true_division_is_float32():
    out = []
    for m in (cr, torch):
        r = m.tensor([1, 2, 7]) / m.tensor([2, 4, 2])
        assert name(r.dtype) == "float32"
        r2 = m.tensor([1, 2, 7]) / 2
        assert name(r2.dtype) == "float32"
        out.append((r, r2))
    assert_equal_tensors(out[0][0], out[1][0])
    assert_equal_tensors(out[0][1], out[1][1])


def test_comparisons_give_bool():
    for m in (cr, torch):
        i = m.tensor([1, 2, 3])
        f = m.tensor([0.5, 2.0, 4.0])
        for r in (i == 2, i < f, f >= 2.0, m.eq(i, f), m.gt(f, i), i != i):
            assert name(r.dtype) == "bool"
        assert (i < f).tolist() == [False, False, True]


def test_int64_reductions_stay_int64():
    for m in (cr, torch):
        i = m.tensor([[1, 2], [3, 4]])
        assert name(i.sum().dtype) == "int64" and i.sum().item() == 10
        assert name(i.sum(dim=0).dtype) == "int64"
        assert name(i.amax().dtype) == "int64"
        assert name(i.argmax().dtype) == "int64"


@BOTH
def test_mean_of_int64_raises(m):
    with pytest.raises((RuntimeError, ValueError)):
        m.tensor([1, 2, 3]).mean()


@pytest.mark.parametrize("how", ["factory", "method", "attribute"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
@BOTH
def test_requires_grad_on_integer_tensors_raises(m, how, dtype):
    data = [1, 2] if dtype == "int64" else [True, False]
    dt = DTYPE_PAIRS[dtype][0 if m is cr else 1]
    with pytest.raises((RuntimeError, ValueError)):
        if how == "factory":
            m.tensor(data, dtype=dt, requires_grad=True)
        elif how == "method":
            m.tensor(data, dtype=dt).requires_grad_()
        else:
            m.tensor(data, dtype=dt).requires_grad = True


def test_gradient_flows_to_the_float_side_of_mixed_ops():
    grads = []
    for m in (cr, torch):
        x = leaf(m, [1.0, 2.0, 3.0])
        i = m.tensor([2, -1, 4])
        (x * i + i).sum().backward()
        grads.append(x.grad)
    assert_equal_tensors(*grads)


# ------------------------------------------------------------------------------ dtype promotion
def _operand(m, dtype, kind):
    """A tensor of dtype: 1-D, or 0-d (0-d tensors don't promote within their category)."""
    a = np.array([1, 0] if kind == "tensor" else 1, dtype=DTYPE_PAIRS[dtype][2])
    # from_numpy, not tensor(): this test is about promotion, not about tensor()'s handling of 0-d data
    return m.from_numpy(a)


PROMOTION_CASES = [(a, b, kind) for a in DTYPE_PAIRS for b in DTYPE_PAIRS for kind in ("tensor", "0d")]


@pytest.mark.parametrize("a,b,kind", PROMOTION_CASES, ids=[f"{a}-{b}-{k}" for a, b, k in PROMOTION_CASES])
def test_promotion_tensor_tensor(a, b, kind):
    expected = name(torch.result_type(_operand(torch, a, "tensor"), _operand(torch, b, kind)))
    x, y = _operand(cr, a, "tensor"), _operand(cr, b, kind)
    assert {"add": name((x + y).dtype), "mul": name((x * y).dtype), "reflected": name((y + x).dtype)} == \
        {"add": expected, "mul": expected, "reflected": expected}


SCALARS = [True, 2, 2.5]
SCALAR_CASES = [(a, s) for a in DTYPE_PAIRS for s in SCALARS]


@pytest.mark.parametrize("a,scalar", SCALAR_CASES, ids=[f"{a}-{type(s).__name__}" for a, s in SCALAR_CASES])
def test_promotion_tensor_python_scalar(a, scalar):
    expected = name(torch.result_type(_operand(torch, a, "tensor"), scalar))
    x = _operand(cr, a, "tensor")
    assert {"add": name((x + scalar).dtype), "radd": name((scalar + x).dtype), "mul": name((x * scalar).dtype)} == \
        {"add": expected, "radd": expected, "mul": expected}


# ------------------------------------------------------------------------------ a hand-written training loop
def test_hand_written_sgd_matches_torch_step_by_step():
    rs = np.random.RandomState(3)
    X, Y = rs.randn(16, 3), rs.randn(16, 1)
    W0, b0 = rs.randn(3, 1), rs.randn(1)
    lr = 0.1
    histories = {}
    for m in (cr, torch):
        Xm, Ym = m.tensor(X, dtype=m.float64), m.tensor(Y, dtype=m.float64)
        w = m.tensor(W0, dtype=m.float64, requires_grad=True)
        b = m.tensor(b0, dtype=m.float64, requires_grad=True)
        hist = []
        for _ in range(8):
            loss = ((Xm @ w + b - Ym) ** 2).mean()
            loss.backward()
            with m.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad = None
            b.grad = None
            hist.append((loss.item(), values(w), values(b)))
        assert w.is_leaf and w.requires_grad
        histories[m.__name__] = hist
    for (lo, wo, bo), (lt, wt, bt) in zip(histories["chainrule"], histories["torch"]):
        assert lo == pytest.approx(lt, rel=1e-12)
        np.testing.assert_allclose(wo, wt, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(bo, bt, rtol=1e-12, atol=1e-14)
    assert histories["chainrule"][-1][0] < histories["chainrule"][0][0]  # it did learn


def test_sgd_with_grad_zero_and_in_place_operators():
    rs = np.random.RandomState(4)
    X, W0 = rs.randn(8, 2), rs.randn(2)
    finals = []
    for m in (cr, torch):
        Xm = m.tensor(X, dtype=m.float64)
        w = m.tensor(W0, dtype=m.float64, requires_grad=True)
        for _ in range(5):
            loss = ((Xm @ w).tanh() ** 2).sum()
            loss.backward()
            with m.no_grad():
                step = w.grad * 0.05
                w -= step
                w *= 0.99
                w += 0.001
                w /= 1.01
            w.grad.zero_()
        finals.append(values(w))
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-12)


# ------------------------------------------------------------------------------ repr
REPR_CASES = {
    "float32_2d": lambda m: m.tensor([[1.0, 2.5], [3.0, -4.0]]),
    "float64_1d": lambda m: m.tensor([1.5, 2.0], dtype=m.float64),
    "int64": lambda m: m.tensor([1, -2, 300]),
    "bool": lambda m: m.tensor([True, False]),
    "large_values": lambda m: m.tensor([1e5, 2.0, 3.0]),
    "very_large_values": lambda m: m.tensor([1e10, 1.0]),
    "small_values": lambda m: m.tensor([1e-5, 1.0]),
    "integral_floats": lambda m: m.tensor([1.0, 2.0, 3.0]),
    "nan_inf": lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
    "3d": lambda m: m.arange(8).reshape(2, 2, 2),
    "requires_grad_leaf": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_float64": lambda m: m.tensor([[1.0, 2.0]], dtype=m.float64, requires_grad=True),
    "empty": lambda m: m.zeros(0),
    "zeros_float64": lambda m: m.zeros(2, 3, dtype=m.float64),
    "0d_float": lambda m: m.tensor([1.0, 2.0]).sum(),
    "0d_int": lambda m: m.tensor([1, 2]).sum(),
    "long_is_summarised": lambda m: m.arange(2000),
    "fractions": lambda m: m.arange(24, dtype=m.float32).reshape(4, 6) / 7,
}


@pytest.mark.parametrize("case", sorted(REPR_CASES))
def test_repr_matches_torch(case):
    ours = repr(REPR_CASES[case](cr))
    theirs = repr(REPR_CASES[case](torch)).replace("torch.", "chainrule.")
    assert ours == theirs


def test_repr_of_a_result_names_its_grad_fn():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
