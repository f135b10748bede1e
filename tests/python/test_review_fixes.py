"""Regression tests for bugs found in review: each asserts PyTorch's behaviour."""
import copy
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn


def test_pow_gradient_at_zero_to_the_zero_is_zero_like_torch():
    a = cr.tensor([0.0, 2.0], requires_grad=True)
    b = cr.tensor([0.0, 0.0], requires_grad=True)
    (a ** b).sum().backward()
    at = torch.tensor([0.0, 2.0], requires_grad=True)
    bt = torch.tensor([0.0, 0.0], requires_grad=True)
    (at ** bt).sum().backward()
    assert a.grad.tolist() == at.grad.tolist() == [0.0, 0.0]
    assert b.grad.tolist() == bt.grad.tolist()


def test_inplace_add_and_sub_of_ints_keep_int64():
    x = cr.tensor([1, 2])
    x.add_(1)
    x.sub_(3, alpha=2)
    assert x.dtype == cr.int64 and x.tolist() == [-4, -3]


def test_int64_item_and_int_are_exact_beyond_2_pow_53():
    t = cr.tensor([2 ** 53 + 1])
    assert t.item() == int(t) == 2 ** 53 + 1


def test_integer_conversion_of_a_tensor_that_requires_grad():
    x = cr.tensor([1.5, -2.5], requires_grad=True)
    assert x.long().tolist() == torch.tensor([1.5, -2.5], requires_grad=True).long().tolist()
    assert not x.long().requires_grad and x.bool().dtype == cr.bool


@pytest.mark.parametrize("op", ["relu", "abs", "leaky_relu", "clamp", "maximum", "amax"])
def test_second_derivative_through_piecewise_linear_ops_is_zero(op):
    """Away from the kinks these ops are linear, so the second derivative is exactly 0 (PyTorch
    returns zeros for relu and leaky_relu; for the others it returns an unallocated tensor or no
    graph at all, where we return the zeros)."""
    f = {"relu": cr.relu, "abs": cr.abs, "leaky_relu": cr.leaky_relu, "clamp": lambda x: cr.clamp(x, -1, 1),
         "maximum": lambda x: cr.maximum(x, x * 0.5), "amax": lambda x: cr.amax(x)}[op]
    x = cr.tensor([0.7, -1.6, 2.5], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(f(x).sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    assert h.tolist() == [0.0, 0.0, 0.0]


def test_second_derivative_of_relu_matches_torch():
    vals = [0.7, -1.6, 2.5]
    x = cr.tensor(vals, dtype=cr.float64, requires_grad=True)
    xt = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    (g,) = cr.autograd.grad(cr.relu(x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(torch.relu(xt).sum(), xt, create_graph=True)
    assert cr.autograd.grad(g.sum(), x)[0].tolist() == torch.autograd.grad(gt.sum(), xt)[0].tolist()


def test_hessian_of_a_relu_network_wrt_its_input_matches_torch():
    cr.manual_seed(0)
    W = cr.randn(4, 3, dtype=cr.float64)
    x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    Wt, xt = torch.tensor(W.tolist(), dtype=torch.float64), torch.tensor(x.tolist(), dtype=torch.float64, requires_grad=True)
    (g,) = cr.autograd.grad((cr.relu(W @ x) ** 2).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad((torch.relu(Wt @ xt) ** 2).sum(), xt, create_graph=True)
    H = [cr.autograd.grad(g[i], x, retain_graph=True)[0].tolist() for i in range(3)]
    Ht = [torch.autograd.grad(gt[i], xt, retain_graph=True)[0].tolist() for i in range(3)]
    np.testing.assert_allclose(H, Ht, rtol=1e-12)


def test_conv2d_is_safe_while_other_threads_run_python():
    code = textwrap.dedent("""
        import threading, chainrule as cr
        stop = False
        def churn():
            while not stop:
                [dict(a=i) for i in range(100)]
        ts = [threading.Thread(target=churn) for _ in range(2)]
        [t.start() for t in ts]
        x, w = cr.randn(2, 1, 8, 8), cr.randn(4, 1, 3, 3)
        for _ in range(3000):
            cr.nn.functional.conv2d(x, w, None, [1, 1], [1, 1])
        stop = True
        [t.join() for t in ts]
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_deepcopy_of_parameter_and_shared_tensors():
    p = nn.Parameter(cr.randn(2))
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == p.tolist()
    t = cr.randn(3)
    a, b = copy.deepcopy([t, t])
    assert a is b and a is not t


class _Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("b", cr.zeros(2))
        self.fc = nn.Linear(2, 2)


def test_a_parameter_replaces_a_buffer_of_the_same_name():
    m = _Holder()
    m.b = nn.Parameter(cr.ones(2))
    sd = m.state_dict()
    assert list(sd).count("b") == 1 and sd["b"].tolist() == [1.0, 1.0]
    assert "b" in dict(m.named_parameters())


def test_setting_a_child_module_to_none_like_torch():
    m = _Holder()
    m.fc = None
    assert m.fc is None and list(m.named_children()) == [] and "fc.weight" not in m.state_dict()


# ---------------------------------------------------------------------------------- review of the issue-8 ops
@pytest.mark.parametrize("call", [
    lambda L, x: L.norm(x, dim=(2, 0)),
    lambda L, x: L.linalg.vector_norm(x, ord=3, dim=(-2, 0)),
    lambda L, x: L.linalg.matrix_norm(x, dim=(-1, -2)),
    lambda L, x: L.linalg.vector_norm(x, dim=(-1, 0)),
], ids=range(4))
def test_norm_gradients_with_dims_in_any_order(call):
    a = np.random.RandomState(0).randn(2, 3, 4, 4)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    call(cr, x).sum().backward()
    call(torch, t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_deepcopy_keeps_a_registered_buffer_one_tensor():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("cnt", cr.zeros(2))

        def forward(self, x):
            self.cnt.add_(1)
            return x
    c = copy.deepcopy(Counter())
    c(cr.ones(1)), c(cr.ones(1))
    assert c.cnt.tolist() == [2.0, 2.0] and c.state_dict()["cnt"].tolist() == [2.0, 2.0]
    bn, tbn = copy.deepcopy(nn.BatchNorm2d(2)), torch.nn.BatchNorm2d(2)
    state = {"weight": torch.ones(2), "bias": torch.zeros(2), "running_mean": torch.full((2,), 5.0),
             "running_var": torch.full((2,), 4.0), "num_batches_tracked": torch.tensor(0)}
    bn.load_state_dict(state), tbn.load_state_dict(state)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn(cr.zeros(1, 2, 1, 1)).detach().numpy(),
                               tbn(torch.zeros(1, 2, 1, 1)).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_keepdim_without_dim_keeps_every_dim(name):
    a = np.arange(6.0).reshape(2, 3)
    ours, theirs = getattr(cr, name)(cr.tensor(a), keepdim=True), getattr(torch, name)(torch.tensor(a), keepdim=True)
    assert ours.shape == tuple(theirs.shape) == (1, 1) and ours.tolist() == theirs.tolist()


def test_atan2_gradient_at_the_origin_is_zero_as_torch():
    v = [[0.0, -0.0, 1.0]]
    x, t = cr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    cr.atan2(x, x * 0).sum().backward()
    torch.atan2(t, t * 0).sum().backward()
    assert x.grad.tolist() == t.grad.tolist()


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


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30])
def test_masked_fill_refuses_numbers_int64_cannot_hold(value):
    mask = cr.tensor([True, False])
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).masked_fill(torch.tensor([True, False]), value)
    with pytest.raises(RuntimeError, match="masked_fill: value cannot be converted to type int64"):
        cr.tensor([1, 2]).masked_fill(mask, value)
    with pytest.raises(RuntimeError, match="masked_fill_"):
        cr.tensor([1, 2]).masked_fill_(mask, value)
