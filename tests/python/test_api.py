"""The Python API surface of the package (issue 3): construction and dtype inference, factories,
Tensor attributes, autograd entry points, in-place updates under no_grad, operators, every op as a
method and a function, grad-mode switches, cr.autograd, docstrings, and the GIL during backward."""
import inspect
import math
import os
import pydoc
import re
import threading
import time
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr


# ------------------------------------------------------------------------------------------------
# cr.tensor
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype, shape", [
    (1.5, cr.float32, ()),
    (3, cr.int64, ()),
    (True, cr.bool, ()),
    ([1.0, 2.0], cr.float32, (2,)),
    ([1, 2, 3], cr.int64, (3,)),
    ([True, False], cr.bool, (2,)),
    ([1, 2.5], cr.float32, (2,)),
    ([[1, 2], [3, 4], [5, 6]], cr.int64, (3, 2)),
    ([[[1.0]], [[2.0]]], cr.float32, (2, 1, 1)),
    ([], cr.float32, (0,)),
    (np.zeros((2, 3)), cr.float64, (2, 3)),
    (np.zeros(2, dtype=np.float32), cr.float32, (2,)),
    (np.arange(4), cr.int64, (4,)),
    (np.array([True]), cr.bool, (1,)),
    (np.float64(2.0), cr.float64, ()),
    (np.array(7), cr.int64, ()),
], ids=lambda v: None)
def test_tensor_dtype_and_shape_inference_like_torch(data, dtype, shape):
    t = cr.tensor(data)
    assert t.dtype == dtype
    assert t.shape == shape
    ref = torch.tensor(data)
    assert str(ref.dtype).replace("torch.", "") == str(t.dtype).replace("chainrule.", "")
    assert tuple(ref.shape) == t.shape


def test_tensor_values_round_trip():
    data = [[1.5, -2.0], [0.25, 1e-3]]
    assert cr.tensor(data).tolist() == torch.tensor(data).tolist()
    assert cr.tensor(2.5).item() == 2.5


def test_tensor_dtype_argument():
    t = cr.tensor([1, 2], dtype=cr.float64)
    assert t.dtype == cr.float64 and t.tolist() == [1.0, 2.0]
    assert cr.tensor([1.7, -1.7], dtype=cr.int64).tolist() == [1, -1]  # truncation, as torch
    assert cr.tensor([0.0, 2.0], dtype=cr.bool).tolist() == [False, True]
    assert cr.tensor(np.zeros(2), dtype=cr.float32).dtype == cr.float32


def test_tensor_requires_grad_argument():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    assert not cr.tensor([1.0]).requires_grad


def test_tensor_copies_its_input():
    a = np.zeros(3)
    t = cr.tensor(a)
    a[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    u = cr.tensor(t)
    t.fill_(1.0)
    assert u.tolist() == [0.0, 0.0, 0.0]


def test_tensor_from_tensor_drops_history():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor(x * 2)
    assert y.is_leaf and not y.requires_grad and y.tolist() == [2.0, 4.0]


def test_dtype_aliases():
    assert cr.float is cr.float32 or cr.float == cr.float32
    assert cr.double == cr.float64 and cr.long == cr.int64
    assert cr.float32.is_floating_point and not cr.int64.is_floating_point
    assert cr.float32.itemsize == 4 and cr.float64.itemsize == 8
    assert str(cr.float64) == "chainrule.float64"


def test_dtype_repr_like_torch():
    """``x.dtype`` as the last line of a notebook cell shows repr: torch shows ``torch.float64``."""
    assert repr(cr.float64) == "chainrule.float64"
    assert repr(cr.tensor([1]).dtype) == "chainrule.int64"


# ------------------------------------------------------------------------------------------------
# Factories
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factory_size_forms(name):
    f = getattr(cr, name)
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = f(*args)
        assert t.shape == (2, 3) and t.dtype == cr.float32
    assert f(()).shape == ()
    assert f(4).shape == (4,)
    assert f(2, dtype=cr.float64).dtype == cr.float64
    t = f(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_factory_values():
    assert cr.zeros(2, 2).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert cr.ones(3, dtype=cr.int64).tolist() == [1, 1, 1]
    assert cr.full((2,), 3.5).tolist() == [3.5, 3.5]
    assert cr.full((2,), 7).dtype == cr.int64  # as torch: the fill value decides
    assert cr.full((1,), True).dtype == cr.bool
    assert cr.full((2,), 1, dtype=cr.float64).dtype == cr.float64
    assert cr.arange(5).tolist() == [0, 1, 2, 3, 4] and cr.arange(5).dtype == cr.int64
    assert cr.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert cr.arange(1, 2, 0.25).dtype == cr.float32
    assert cr.arange(5, 0, -2).tolist() == [5, 3, 1]
    np.testing.assert_allclose(cr.linspace(0, 1, 5).tolist(), [0, 0.25, 0.5, 0.75, 1.0])
    assert cr.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert cr.eye(2, 3).shape == (2, 3)
    r = cr.randint(0, 10, (1000,))
    assert r.dtype == cr.int64 and 0 <= r.amin().item() and r.amax().item() < 10
    u = cr.rand(10000)
    assert 0.0 <= u.amin().item() and u.amax().item() < 1.0
    n = cr.randn(20000, dtype=cr.float64)
    assert abs(n.mean().item()) < 0.05 and abs(n.var().item() - 1) < 0.05


def test_like_factories():
    src = cr.ones(2, 3, dtype=cr.float64)
    for name in ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"]:
        t = getattr(cr, name)(src)
        assert t.shape == (2, 3) and t.dtype == cr.float64, name
    assert cr.zeros_like(src).tolist() == [[0.0] * 3] * 2
    assert cr.full_like(src, 7).tolist() == [[7.0] * 3] * 2
    assert cr.ones_like(cr.tensor([1, 2])).dtype == cr.int64
    assert cr.zeros_like(src, dtype=cr.float32).dtype == cr.float32
    assert cr.zeros_like(src, requires_grad=True).requires_grad


def test_manual_seed_reproducibility():
    cr.manual_seed(123)
    a, b, c = cr.randn(5).tolist(), cr.rand(3).tolist(), cr.randint(0, 100, (4,)).tolist()
    cr.manual_seed(123)
    assert cr.randn(5).tolist() == a
    assert cr.rand(3).tolist() == b
    assert cr.randint(0, 100, (4,)).tolist() == c
    cr.manual_seed(124)
    assert cr.randn(5).tolist() != a
    d = cr.randn(5).tolist()
    assert d != cr.randn(5).tolist()  # the stream advances


# ------------------------------------------------------------------------------------------------
# Tensor attributes
# ------------------------------------------------------------------------------------------------
def test_shape_dtype_ndim_len_size():
    x = cr.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and type(x.shape) is tuple
    assert x.dtype == cr.float32 and x.ndim == 3 and x.dim() == 3 and len(x) == 2
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and cr.numel(x) == 24
    assert cr.zeros(()).shape == () and cr.zeros(()).ndim == 0


def test_item_returns_python_types():
    for t, typ, v in [(cr.tensor(1.5), float, 1.5), (cr.tensor([2]), int, 2),
                      (cr.tensor(True), bool, True), (cr.tensor([[0.25]], dtype=cr.float64), float, 0.25)]:
        assert type(t.item()) is typ and t.item() == v
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(3)) == 3
    assert bool(cr.tensor([1])) is True and bool(cr.tensor(0.0)) is False


def test_int64_item_and_int_are_exact_beyond_2_pow_53():
    t = cr.tensor([2 ** 53 + 1])
    assert t.item() == int(t) == 2 ** 53 + 1


def test_T_and_t():
    x = cr.arange(6).reshape(2, 3)
    assert x.T.shape == (3, 2) and x.T.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert x.t().tolist() == x.T.tolist()
    assert cr.zeros(2, 3, 4).T.shape == (4, 3, 2)


def test_requires_grad_get_set_on_leaf():
    x = cr.ones(3)
    assert x.requires_grad is False
    x.requires_grad = True
    assert x.requires_grad is True and x.is_leaf
    assert x.requires_grad_(False) is not None and x.requires_grad is False
    y = x.requires_grad_()
    assert y.requires_grad and x.requires_grad


def test_grad_fn_is_leaf_and_names():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    z = y.sum()
    assert x.grad_fn is None and x.is_leaf
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert z.grad_fn.name() == "SumBackward0"
    assert [f.name() for f, _ in z.grad_fn.next_functions] == ["MulBackward0"]
    assert "MulBackward0" in repr(y)
    with cr.no_grad():
        w = x * 2
    assert w.grad_fn is None and w.is_leaf and not w.requires_grad
    assert (cr.ones(2) * 2).is_leaf  # no input requires grad: no graph


def test_detach():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 3).detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    e = x.detach()
    assert e.data_ptr() == x.data_ptr()
    e.fill_(5.0)
    assert x.tolist() == [5.0, 5.0]  # shares memory


def test_backward_accumulates_into_grad_and_grad_none_resets():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]
    (w * w).sum().backward()
    assert w.grad.tolist() == [4.0, 8.0]  # += across backward calls
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
    (3 * w).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    w.grad = None
    assert w.grad is None
    (3 * w).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_grad_can_be_assigned():
    w = cr.zeros(2, requires_grad=True)
    w.grad = cr.ones(2)
    assert w.grad.tolist() == [1.0, 1.0]


def test_non_leaf_grad_is_none_unless_retained():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h2 = x * 4
    h.retain_grad()
    (h * h + h2).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    with pytest.warns(UserWarning, match=r"grad: this tensor is not a leaf \(it was computed by MulBackward0\), so "
                      r"backward does not keep its .grad .* call .retain_grad\(\)"):
        assert h2.grad is None  # and it says why, as torch warns
    assert x.grad.tolist() == [18.0 + 4.0, 36.0 + 4.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert h.grad is not None and x.grad is not None  # retained and leaf: no warning


def test_backward_with_gradient_argument():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=cr.tensor([1.0, 0.0, 2.0]))
    assert x.grad.tolist() == [2.0, 0.0, 12.0]


def test_backward_retain_graph_allows_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.tolist()
    y.backward()
    np.testing.assert_allclose(x.grad.tolist(), [2 * g for g in g1], rtol=1e-6)


def test_backward_create_graph_gives_differentiable_grad():
    x = cr.tensor([2.0], dtype=cr.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.tolist() == [12.0] and g.requires_grad and g.grad_fn is not None
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [12.0]  # d/dx 3x^2 = 6x


def test_done_criterion_from_the_issue():
    x = cr.tensor([2.0], requires_grad=True)
    (x ** 3).backward()
    assert x.grad.tolist() == [12.0]


def test_repr_matches_torch_format():
    for data in [[[1.0, 2, 3], [4, 5, 6]], [1, 2, 3], [True, False], 2.5, [0.001, 1000.0], []]:
        assert repr(cr.tensor(data)) == repr(torch.tensor(data))
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(cr.tensor([1.0], dtype=cr.float64)) == "tensor([1.], dtype=chainrule.float64)"
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"


def test_format_spec_on_one_element_tensor():
    """``print(f"loss {loss:.4f}")`` is what students write; torch supports it for 0-d tensors."""
    loss = cr.tensor(0.123456)
    assert f"{loss:.4f}" == f"{torch.tensor(0.123456):.4f}" == "0.1235"
    assert f"{cr.tensor(3)}" == f"{torch.tensor(3)}" == "3"  # 0-d formats its item, as torch
    assert f"{cr.tensor([3])}" == f"{torch.tensor([3])}" == "tensor([3])"


def test_dtype_conversions():
    x = cr.tensor([1.5, -2.0])
    assert x.to(cr.float64).dtype == cr.float64 and x.double().dtype == cr.float64
    assert x.float().dtype == cr.float32
    assert x.long().tolist() == [1, -2] and x.bool().tolist() == [True, True]
    assert cr.tensor([1, 0]).float().tolist() == [1.0, 0.0]
    assert x.clone().data_ptr() != x.data_ptr() and x.contiguous() is not None
    assert x.is_floating_point() and not cr.tensor([1]).is_floating_point()


def test_iteration_and_hash():
    rows = list(cr.arange(6).reshape(3, 2))
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    a, b = cr.ones(1), cr.ones(1)
    assert {a: 1, b: 2}[a] == 1  # hashable by identity, like torch


def test_max_min_forms():
    x = cr.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert cr.max(x).item() == 7.0 and x.max().item() == 7.0 and cr.min(x).item() == 1.0
    v, i = cr.max(x, dim=1)
    assert v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]
    r = x.min(dim=0, keepdim=True)
    assert r.values.tolist() == [[1.0, 2.0]] and r.indices.tolist() == [[0, 1]]
    assert cr.max(x, cr.full((2, 2), 3.0)).tolist() == [[3.0, 5.0], [7.0, 3.0]]


# ------------------------------------------------------------------------------------------------
# In-place updates (gradient descent as students write it)
# ------------------------------------------------------------------------------------------------
def test_in_place_operators_under_no_grad_keep_the_same_leaf():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    ident, ptr = id(w), w.data_ptr()
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.5 * w.grad
    assert id(w) == ident and w.data_ptr() == ptr
    assert w.tolist() == [0.0, 0.0] and w.is_leaf and w.requires_grad
    with cr.no_grad():
        w += 3
        w *= 2
        w /= 4
    assert w.tolist() == [1.5, 1.5] and id(w) == ident and w.grad_fn is None


def test_in_place_methods_under_no_grad():
    w = cr.zeros(3, requires_grad=True)
    with cr.no_grad():
        assert w.add_(1) is not None
        w.mul_(3).sub_(1)
        w.div_(2)
        w.add_(cr.ones(3), alpha=2)
        w.sub_(cr.ones(3), alpha=0.5)
    assert w.tolist() == [2.5, 2.5, 2.5]
    with cr.no_grad():
        w.zero_()
        w.fill_(4.0)
        w.copy_(cr.tensor([1.0, 2.0, 3.0]))
        w[0] = 9.0
    assert w.tolist() == [9.0, 2.0, 3.0]
    with cr.no_grad():
        w.uniform_(0, 1)
        w.normal_(0, 1)
    assert w.requires_grad and w.is_leaf


def test_in_place_ops_on_plain_tensors_need_no_no_grad():
    t = cr.zeros(2)
    t += 1
    t.mul_(4)
    t[1] = 0.5
    assert t.tolist() == [4.0, 0.5]


def test_sgd_loop_converges():
    cr.manual_seed(0)
    w = cr.zeros(3, requires_grad=True)
    target = cr.tensor([1.0, -2.0, 0.5])
    for _ in range(100):
        loss = ((w - target) ** 2).sum()
        w.grad = None
        loss.backward()
        with cr.no_grad():
            w -= 0.1 * w.grad
    np.testing.assert_allclose(w.tolist(), target.tolist(), atol=1e-4)


# ------------------------------------------------------------------------------------------------
# Operators
# ------------------------------------------------------------------------------------------------
def test_operators_and_reflected_scalars():
    x = cr.tensor([1.0, -2.0, 4.0])
    tx = torch.tensor([1.0, -2.0, 4.0])
    exprs = ["x + 2", "2 + x", "x - 1", "1 - x", "x * 3", "3 * x", "x / 2", "2 / x", "x ** 2",
             "2 ** x", "-x", "abs(x)", "x + x", "x * x", "x / x", "x - x", "x @ x", "x ** x.abs()",
             "x + np.float64(1.5)", "np.float32(2) * x", "x + True"]
    for e in exprs:
        ours = eval(e, {"x": x, "np": np})
        ref = eval(e, {"x": tx, "np": np})
        np.testing.assert_allclose(np.asarray(ours), ref.numpy(), rtol=1e-6, err_msg=e)
        assert isinstance(ours, cr.Tensor), e


def test_comparisons_give_bool_tensors():
    x = cr.tensor([1.0, 2.0, 3.0])
    for e, want in [("x > 2", [False, False, True]), ("x >= 2", [False, True, True]),
                    ("x < 2", [True, False, False]), ("x <= 2", [True, True, False]),
                    ("x == 2", [False, True, False]), ("x != 2", [True, False, True]),
                    ("2 < x", [False, False, True]), ("x == x", [True, True, True]),
                    ("(x > 1) & (x < 3)", [False, True, False]), ("(x < 2) | (x > 2)", [True, False, True]),
                    ("~(x > 1)", [True, False, False])]:
        r = eval(e)
        assert r.dtype == cr.bool and r.tolist() == want, e


def test_int_tensor_arithmetic_keeps_torch_dtypes():
    i = cr.tensor([1, 2])
    assert (i + 1).dtype == cr.int64 and (i * 2).dtype == cr.int64
    assert (i + 1.5).dtype == cr.float32 and (i / 2).dtype == cr.float32
    assert (i + cr.tensor([0.5, 0.5])).dtype == cr.float32


def test_numpy_array_on_the_left_defers_to_tensor():
    r = np.float64(2.0) * cr.ones(2)
    assert isinstance(r, cr.Tensor)


# ------------------------------------------------------------------------------------------------
# Every op as a method and as a function
# ------------------------------------------------------------------------------------------------
_X = cr.tensor([[0.5, 1.5, 2.0], [1.0, 0.25, 3.0]], dtype=cr.float64)
_Y = cr.tensor([[1.0, 2.0, 0.5], [2.0, 1.0, 1.5]], dtype=cr.float64)
_IDX = cr.tensor([[0, 2], [1, 0]])

METHOD_AND_FUNCTION = [  # (name, args after the tensor, kwargs)
    ("exp", (), {}), ("log", (), {}), ("sqrt", (), {}), ("abs", (), {}), ("sin", (), {}),
    ("cos", (), {}), ("tanh", (), {}), ("sigmoid", (), {}), ("relu", (), {}), ("sign", (), {}),
    ("neg", (), {}), ("reciprocal", (), {}), ("logical_not", (), {}),
    ("leaky_relu", (0.1,), {}), ("softplus", (), {"beta": 2.0}), ("clamp", (), {"min": 0.6, "max": 2.0}),
    ("add", (_Y,), {}), ("sub", (2.0,), {}), ("mul", (_Y,), {}), ("div", (_Y,), {}),
    ("pow", (2.0,), {}), ("maximum", (_Y,), {}), ("minimum", (_Y,), {}),
    ("eq", (_Y,), {}), ("ne", (_Y,), {}), ("lt", (_Y,), {}), ("le", (1.0,), {}),
    ("gt", (_Y,), {}), ("ge", (_Y,), {}), ("logical_and", (_Y > 1,), {}), ("logical_or", (_Y > 1,), {}),
    ("sum", (), {"dim": 1, "keepdim": True}), ("mean", (), {"dim": 0}), ("amax", (), {"dim": 1}),
    ("amin", (), {}), ("argmax", (), {"dim": 1}), ("argmin", (), {}), ("var", (), {"dim": 1}),
    ("logsumexp", (), {"dim": 1}), ("softmax", (), {"dim": -1}), ("log_softmax", (), {"dim": 0}),
    ("matmul", (_Y.T,), {}), ("mm", (_Y.T,), {}), ("linear", (_Y,), {}),
    ("reshape", ((3, 2),), {}), ("flatten", (), {}), ("transpose", (0, 1), {}),
    ("permute", ((1, 0),), {}), ("squeeze", (), {}), ("unsqueeze", (1,), {}),
    ("expand", ((2, 2, 3),), {}), ("broadcast_to", ((2, 2, 3),), {}), ("sum_to", ((1, 3),), {}),
    ("split", (1,), {"dim": 0}), ("chunk", (3,), {"dim": 1}), ("select", (1, 2), {}),
    ("index_select", (1, cr.tensor([2, 0])), {}), ("gather", (1, _IDX), {}),
    ("scatter_add", (1, _IDX, _Y[:, :2]), {}), ("index_add", (0, cr.tensor([1]), _Y[:1]), {}),
    ("max", (), {"dim": 1}), ("min", (), {}),
]


def _as_lists(r):
    if isinstance(r, cr.Tensor):
        return ("T", r.dtype, r.shape, r.tolist())
    return tuple(_as_lists(v) for v in r)


@pytest.mark.parametrize("name, args, kwargs", METHOD_AND_FUNCTION, ids=[m[0] for m in METHOD_AND_FUNCTION])
def test_op_is_both_method_and_function(name, args, kwargs):
    f = getattr(cr, name)
    m = getattr(_X, name)
    assert _as_lists(f(_X, *args, **kwargs)) == _as_lists(m(*args, **kwargs))


def test_method_varargs_forms_like_torch():
    x = cr.arange(6)
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == (2, 3)
    assert x.view(3, -1).shape == (3, 2)
    assert x.reshape(2, 3).permute(1, 0).shape == (3, 2)
    assert x.reshape(1, 6).expand(2, -1).shape == (2, 6)


def test_function_names_cover_the_core():
    for name in ["tensor", "zeros", "ones", "full", "arange", "linspace", "eye", "rand", "randn",
                 "randint", "zeros_like", "ones_like", "full_like", "manual_seed", "from_numpy",
                 "from_dlpack", "cat", "stack", "where", "one_hot", "no_grad", "enable_grad",
                 "is_grad_enabled", "set_grad_enabled", "float32", "float64", "int64", "bool",
                 "Tensor", "autograd"]:
        assert hasattr(cr, name), name


def test_ops_on_empty_tensors_match_torch():
    for name, ours, ref in [
        ("softmax", lambda t: cr.softmax(t, dim=1), lambda t: torch.softmax(t, dim=1)),
        ("log_softmax", lambda t: cr.log_softmax(t, dim=0), lambda t: torch.log_softmax(t, dim=0)),
        ("sum", lambda t: t.sum(dim=0), lambda t: t.sum(dim=0)),
        ("exp", lambda t: t.exp(), lambda t: t.exp()),
        ("matmul", lambda t: t.T @ t, lambda t: t.T @ t),
    ]:
        r, want = ours(cr.zeros(0, 3)), ref(torch.zeros(0, 3))
        assert r.shape == tuple(want.shape) and r.tolist() == want.tolist(), name


def test_cat_stack_where_one_hot():
    a, b = cr.ones(2, 2), cr.zeros(2, 2)
    assert cr.cat([a, b]).shape == (4, 2) and cr.cat([a, b], dim=1).shape == (2, 4)
    assert cr.stack([a, b]).shape == (2, 2, 2) and cr.stack([a, b], dim=2).shape == (2, 2, 2)
    assert cr.where(cr.tensor([True, False]), 1.0, 2.0).tolist() == [1.0, 2.0]
    assert cr.where(cr.tensor([True, False]), cr.ones(2), 0.0).tolist() == [1.0, 0.0]
    assert cr.one_hot(cr.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert cr.one_hot(cr.tensor([1, 0])).shape == (2, 2)


def test_indexing_reads_and_gradients_flow():
    x = cr.arange(12, dtype=cr.float64).reshape(3, 4).requires_grad_()
    tx = torch.arange(12, dtype=torch.float64).reshape(3, 4).requires_grad_()
    for key in [1, -1, (1, 2), slice(1, None), (slice(None), slice(None, None, 2)), (None, 0),
                (Ellipsis, 1), [0, 2], ([0, 2], [1, 3])]:
        ours, ref = x[key], tx[key]
        assert ours.shape == tuple(ref.shape) and ours.tolist() == ref.tolist(), key
    idx = cr.tensor([2, 0, 2])
    x[idx].sum().backward()
    tx[torch.tensor([2, 0, 2])].sum().backward()
    assert x.grad.tolist() == tx.grad.tolist()
    m = cr.tensor([True, False, True])
    assert x[m].tolist() == tx[torch.tensor([True, False, True])].tolist()


# ------------------------------------------------------------------------------------------------
# Grad mode
# ------------------------------------------------------------------------------------------------
def test_no_grad_context_manager():
    x = cr.ones(2, requires_grad=True)
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_as_decorator():
    x = cr.ones(2, requires_grad=True)

    @cr.no_grad()
    def f(t):
        """docstring kept"""
        return t * 2, cr.is_grad_enabled()

    y, enabled = f(x)
    assert not enabled and not y.requires_grad and cr.is_grad_enabled()
    assert f.__doc__ == "docstring kept" and f.__name__ == "f"


def test_enable_grad_inside_no_grad_and_nesting():
    x = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            y = x * 2
        assert not cr.is_grad_enabled()
        with cr.no_grad():
            pass
        assert not cr.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None

    @cr.enable_grad()
    def g():
        return cr.is_grad_enabled()

    with cr.no_grad():
        assert g() is True


def test_set_grad_enabled():
    with cr.set_grad_enabled(False):
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    try:
        assert not cr.is_grad_enabled()
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with cr.no_grad():
        t = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


# ------------------------------------------------------------------------------------------------
# cr.autograd
# ------------------------------------------------------------------------------------------------
def test_autograd_grad_does_not_touch_dot_grad():
    x = cr.tensor(2.0, requires_grad=True)
    (dy,) = cr.autograd.grad(x ** 3, x, create_graph=True)
    assert dy.item() == 12.0 and dy.requires_grad and x.grad is None
    (d2y,) = cr.autograd.grad(dy, x)
    assert d2y.item() == 12.0 and x.grad is None
    assert isinstance(cr.autograd.grad((x * x), [x]), tuple)


def test_autograd_grad_with_grad_outputs_and_several_inputs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = cr.autograd.grad(x * w, [x, w], grad_outputs=cr.tensor([1.0, 10.0]))
    assert gx.tolist() == [3.0, 40.0] and gw.tolist() == [1.0, 20.0]


def test_autograd_grad_allow_unused():
    x, z = cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)
    gx, gz = cr.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gz is None


def test_autograd_grad_retain_graph():
    x = cr.tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    cr.autograd.grad(y, x, retain_graph=True)
    (g,) = cr.autograd.grad(y, x)
    assert math.isclose(g.item(), 2 * math.e, rel_tol=1e-6)
    with pytest.raises(RuntimeError, match="retain_graph"):
        cr.autograd.grad(y, x)


def test_autograd_backward_function():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    cr.autograd.backward([(x * x).sum(), (3 * x).sum()])
    assert x.grad.tolist() == [5.0, 7.0]


def test_gradcheck_passes_on_correct_functions():
    x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    y = cr.randn(3, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda a: (a * a).sum(), [x]) is True
    assert cr.autograd.gradcheck(lambda a, b: (a.tanh() * b.exp()), (x, y)) is True
    assert cr.autograd.gradcheck(lambda a: cr.softmax(a, dim=0), x) is True
    assert cr.autograd.gradgradcheck(lambda a: (a * a * a).sum(), [x]) is True
    assert cr.autograd.gradgradcheck(lambda a, b: (a.sigmoid() * b), [x, y]) is True


def test_gradcheck_raises_gradcheck_error_naming_input_and_values():
    x = cr.tensor([0.5, -1.25, 2.0], dtype=cr.float64, requires_grad=True)
    wrong = lambda a: a.detach() * a  # noqa: E731  half the true gradient of a*a
    with pytest.raises(cr.autograd.GradcheckError) as e:
        cr.autograd.gradcheck(wrong, [x])
    msg = str(e.value)
    assert isinstance(e.value, RuntimeError)
    assert "gradcheck" in msg and "input 0" in msg and "(3,)" in msg
    assert re.search(r"analytic\s+-?\d", msg) and re.search(r"numeric\s+-?\d", msg)
    # the values reported are the element's: analytic a, numeric 2a for one of the elements
    nums = [float(v) for v in re.findall(r"(?:analytic|numeric)\s+(-?[\d.e+-]+)", msg)]
    assert len(nums) == 2 and math.isclose(nums[1], 2 * nums[0], rel_tol=1e-4)
    assert cr.autograd.gradcheck(wrong, [x], raise_exception=False) is False


def test_gradgradcheck_raises_on_wrong_second_derivative():
    x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.autograd.GradcheckError, match="gradgradcheck.*input 0"):
        cr.autograd.gradgradcheck(lambda a: a.detach() * a * a, [x])
    assert cr.autograd.gradgradcheck(lambda a: a.detach() * a * a, [x], raise_exception=False) is False


# ------------------------------------------------------------------------------------------------
# Docstrings and stubs
# ------------------------------------------------------------------------------------------------
def _doc_body(name, obj):
    """The docstring without pybind11's generated signature lines."""
    lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    sig = re.compile(r"^\s*(\d+\.\s*)?" + re.escape(name) + r"\(.*\)( -> .*)?$")
    return "\n".join(ln for ln in lines if not sig.match(ln) and ln.strip() != "Overloaded function.").strip()


def _missing_docs(namespace, names):
    return sorted(n for n in names if callable(getattr(namespace, n)) and
                  not isinstance(getattr(namespace, n), cr.dtype) and
                  not _doc_body(n, getattr(namespace, n)))


def test_every_public_function_has_a_docstring():
    missing = _missing_docs(cr, [n for n in dir(cr) if not n.startswith("_")])
    assert missing == [], f"public names of chainrule without a docstring: {missing}"


def test_every_public_tensor_method_has_a_docstring():
    missing = _missing_docs(cr.Tensor, [n for n in dir(cr.Tensor) if not n.startswith("_")])
    assert missing == [], f"Tensor methods without a docstring: {missing}"


def test_every_autograd_function_has_a_docstring():
    missing = _missing_docs(cr.autograd, [n for n in dir(cr.autograd) if not n.startswith("_")])
    assert missing == []


def test_help_of_softmax_says_what_it_computes():
    text = pydoc.render_doc(cr.softmax, renderer=pydoc.plaintext)
    assert "dim" in text and "exp" in text and "softmax(" in text
    assert "Example" in text or "example" in text


def test_package_ships_type_stubs():
    pkg = os.path.dirname(cr.__file__)
    stubs = [f for _, _, files in os.walk(pkg) for f in files if f.endswith(".pyi")]  # _core/**.pyi
    assert stubs, f"no .pyi stubs in {pkg}"


def test_signatures_are_introspectable():
    assert list(inspect.signature(cr.tensor).parameters) == ["data", "dtype", "requires_grad", "device"]
    assert "allow_unused" in inspect.signature(cr.autograd.grad).parameters
    assert re.search(r"softmax\(input: .*dim", cr.softmax.__doc__)  # pybind11's text signature


# ------------------------------------------------------------------------------------------------
# The GIL is released during backward
# ------------------------------------------------------------------------------------------------
from gil_probe import main_thread_rate_while as _main_thread_rate_while  # noqa: E402


def _baseline_rate():
    """The main loop's rate while the other thread sleeps (no GIL contention at all)."""
    return _main_thread_rate_while(lambda: time.sleep(0.1))[1]


def test_gil_measure_detects_a_gil_holding_call():
    """Control for the two tests below: a long C call that holds the GIL (builtin sum over a
    range) starves the main loop, so the measure can tell the difference."""
    base = _baseline_rate()
    _, rate = _main_thread_rate_while(lambda: sum(range(30_000_000)))
    assert rate < 0.2 * base, (rate, base)


def test_gil_is_released_during_long_chain_backward():
    x = cr.randn(4, requires_grad=True)
    y = x
    for _ in range(300_000):
        y = y * 1.0
    y = y.sum()
    base = _baseline_rate()
    count, rate = _main_thread_rate_while(y.backward)
    assert x.grad is not None and x.grad.tolist() == [1.0] * 4
    assert count > 1000 and rate > 0.2 * base, (count, rate, base)


def test_gil_is_released_during_matmul_backward():
    a = cr.randn(1024, 1024, requires_grad=True)
    b = cr.randn(1024, 1024, requires_grad=True)
    loss = (a @ b @ b @ b).sum()
    base = _baseline_rate()
    count, rate = _main_thread_rate_while(loss.backward)
    assert a.grad is not None and b.grad is not None
    assert count > 1000 and rate > 0.2 * base, (count, rate, base)
