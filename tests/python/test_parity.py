"""Places where chainrule silently differed from PyTorch (issue 8), each pinned against torch 2.13."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr

SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-40, -1e-40, 5e-324, 1.0, -1.0, 100.0, -100.0,
           1e30, -1e30, 88.5, -88.5, 710.0, -710.0, 3.0]
UNARY = ["exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "neg", "reciprocal"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_ops_on_special_values_match_torch_on_every_length(name, dtype):
    """Lengths 1..33 reach both the vectorised body and the scalar tail of each kernel."""
    for n in range(1, 34):
        vals = (SPECIAL * 2)[:n]
        ours = getattr(cr, name)(cr.tensor(vals, dtype=getattr(cr, dtype))).tolist()
        theirs = getattr(torch, name)(torch.tensor(vals, dtype=getattr(torch, dtype))).tolist()
        np.testing.assert_allclose(ours, theirs, rtol=2e-6 if dtype == "float32" else 1e-13, atol=0,
                                   equal_nan=True, err_msg=f"{name} {dtype} length {n}: inputs {vals}")


def test_exp_of_minus_inf_is_zero_so_masked_softmax_has_exact_zeros():
    x = cr.tensor([0.0, -math.inf] * 8, dtype=cr.float64)
    assert cr.exp(x).tolist()[1::2] == [0.0] * 8
    assert cr.softmax(x.reshape(8, 2), dim=1)[:, 1].tolist() == [0.0] * 8


def test_linspace_with_one_step_is_start():
    assert cr.linspace(1.0, 3.0, 1).tolist() == torch.linspace(1.0, 3.0, 1).tolist() == [1.0]


def test_var_takes_a_positional_bool_as_unbiased():
    data = [[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]]
    x, t = cr.tensor(data, dtype=cr.float64), torch.tensor(data, dtype=torch.float64)
    assert cr.var(x, False).item() == pytest.approx(torch.var(t, False).item(), rel=1e-14)
    assert x.var(True).item() == pytest.approx(t.var(True).item(), rel=1e-14)
    assert x.var(1).tolist() == pytest.approx(t.var(1).tolist(), rel=1e-14)


def test_logsigmoid_keeps_its_curvature_at_zero():
    F = cr.nn.functional
    x = cr.tensor([0.0, 2.0, -3.0], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(F.logsigmoid(x).sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    xt = torch.tensor([0.0, 2.0, -3.0], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.logsigmoid(xt).sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    assert h.tolist()[0] == pytest.approx(-0.25, rel=1e-15)
    np.testing.assert_allclose(h.tolist(), ht.tolist(), rtol=1e-14)


def test_newton_hessian_of_logistic_loss_at_zero_weights_matches_torch():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), (rng.random(20) > 0.5).astype(np.float64)
    hs = []
    for lib, F in ((cr, cr.nn.functional), (torch, torch.nn.functional)):
        w = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        Xl, yl = lib.tensor(X, dtype=lib.float64), lib.tensor(y, dtype=lib.float64)
        loss = F.binary_cross_entropy_with_logits(Xl @ w, yl)
        (g,) = lib.autograd.grad(loss, w, create_graph=True)
        hs.append([lib.autograd.grad(g[i], w, retain_graph=True)[0].tolist() for i in range(3)])
    np.testing.assert_allclose(hs[0], hs[1], rtol=1e-13)
    assert np.linalg.eigvalsh(np.array(hs[0])).min() > 0  # the loss is strictly convex there


@pytest.mark.parametrize("op", ["__and__", "__or__", "__xor__"])
def test_bitwise_operators_on_integers_and_bools_match_torch(op):
    for a, b in [([5, 3, -1, 12], [6, 1, 7, 10]), ([True, False, True], [True, True, False])]:
        ours = getattr(cr.tensor(a), op)(cr.tensor(b))
        theirs = getattr(torch.tensor(a), op)(torch.tensor(b))
        assert ours.tolist() == theirs.tolist() and str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert getattr(cr.tensor([5, 6]), op)(3).tolist() == getattr(torch.tensor([5, 6]), op)(3).tolist()
    with pytest.raises(ValueError, match="bitwise_.*not implemented for float32"):
        getattr(cr.tensor([1.0]), op)(cr.tensor([1.0]))


def test_bitwise_not_matches_torch():
    assert (~cr.tensor([5, 0, -3])).tolist() == (~torch.tensor([5, 0, -3])).tolist() == [-6, -1, 2]
    assert (~cr.tensor([True, False])).tolist() == [False, True]


def test_gather_and_scatter_add_on_zero_d_inputs_match_torch():
    assert cr.gather(cr.tensor(5.0), 0, cr.tensor([0, 0])).tolist() == [5.0, 5.0]
    assert cr.gather(cr.tensor(5.0), 0, cr.tensor(0)).shape == ()
    out = cr.scatter_add(cr.tensor(1.0), 0, cr.tensor(0), cr.tensor(2.0))
    assert out.shape == () and out.item() == torch.scatter_add(torch.tensor(1.0), 0, torch.tensor(0), torch.tensor(2.0)).item()
    with pytest.raises(IndexError):
        cr.gather(cr.tensor(5.0), 0, cr.tensor([1]))


def test_relu_passes_the_gradient_of_nan_as_torch():
    x = cr.tensor([math.nan, 1.0, -1.0], requires_grad=True)
    cr.relu(x).sum().backward()
    xt = torch.tensor([math.nan, 1.0, -1.0], requires_grad=True)
    torch.relu(xt).sum().backward()
    assert x.grad.tolist() == xt.grad.tolist() == [1.0, 1.0, 0.0]


def test_eye_with_negative_columns_and_bool_linspace_are_refused():
    with pytest.raises(ValueError, match="eye: expected n >= 0 and m >= 0"):
        cr.eye(3, -3)
    with pytest.raises(ValueError, match="linspace: not implemented for bool"):
        cr.linspace(0, 1, 3, dtype=cr.bool)


def test_float32_sums_grow_their_error_slowly():
    x = cr.full((10_000_000,), 0.1)
    t = torch.full((10_000_000,), 0.1)
    exact = 10_000_000 * float(np.float32(0.1))
    assert abs(x.sum().item() - exact) / exact < 1e-6
    assert abs(x.sum().item() - t.sum().item()) / exact < 1e-6
    assert abs(x.mean().item() - float(np.float32(0.1))) < 1e-7
    cols = cr.full((1_000_000, 3), 0.1).sum(0).tolist()
    np.testing.assert_allclose(cols, [exact / 10] * 3, rtol=1e-6)


def test_a_constraint_function_may_return_the_projection():
    w = cr.tensor([-1.0, 0.5, 3.0], requires_grad=True)
    w.grad = cr.zeros(3)
    cr.optim.SGD([w], lr=0.1, constraint=lambda p: p.clamp(0, 1)).step()
    assert w.tolist() == [0.0, 0.5, 1.0]
    w.grad = cr.zeros(3)
    with pytest.raises(TypeError, match="constraint function must change the parameter in place and return None"):
        cr.optim.SGD([w], lr=0.1, constraint=lambda p: 1).step()


@pytest.mark.parametrize("p", [3, -1, 0.5, -2, -0.5, 2, 1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fast_powers_give_torch_values_and_derivatives(p, dtype):
    vals = [-0.0, 0.0, -4.0, math.inf, -math.inf, math.nan, 2.0, 1e-40, 0.3, -1.5, 7.0] * 3
    for n in (1, 7, 8, 9, 17, 33):
        v = vals[:n]
        ours = (cr.tensor(v, dtype=getattr(cr, dtype)) ** p).tolist()
        theirs = (torch.tensor(v, dtype=getattr(torch, dtype)) ** p).tolist()
        np.testing.assert_allclose(ours, theirs, rtol=2e-6 if dtype == "float32" else 1e-14, equal_nan=True)
        assert [math.copysign(1, a) for a in ours if a == 0] == [math.copysign(1, b) for b in theirs if b == 0]
    x = cr.tensor([0.7, 1.3, 2.0], dtype=cr.float64, requires_grad=True)
    xt = torch.tensor([0.7, 1.3, 2.0], dtype=torch.float64, requires_grad=True)
    (g,) = cr.autograd.grad((x ** p).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad((xt ** p).sum(), xt, create_graph=True)
    np.testing.assert_allclose(g.tolist(), gt.tolist(), rtol=1e-14)
    if p not in (1,):
        np.testing.assert_allclose(cr.autograd.grad(g.sum(), x)[0].tolist(),
                                   torch.autograd.grad(gt.sum(), xt)[0].tolist(), rtol=1e-14)


def test_pow_gradient_at_zero_to_the_zero_is_zero_like_torch():
    a = cr.tensor([0.0, 2.0], requires_grad=True)
    b = cr.tensor([0.0, 0.0], requires_grad=True)
    (a ** b).sum().backward()
    at = torch.tensor([0.0, 2.0], requires_grad=True)
    bt = torch.tensor([0.0, 0.0], requires_grad=True)
    (at ** bt).sum().backward()
    assert a.grad.tolist() == at.grad.tolist() == [0.0, 0.0]
    assert b.grad.tolist() == bt.grad.tolist()


def test_tensor_conveniences_from_tutorials_match_torch():
    for lib in (cr, torch):
        x = lib.arange(6.0).reshape(2, 3)
        assert tuple(lib.ones(3).expand_as(x).shape) == (2, 3) and lib.ones(3).expand_as(x).stride() == (0, 1)
        assert lib.arange(6.0).view_as(x).tolist() == x.tolist()
        assert tuple(x.t().reshape_as(lib.zeros(6)).shape) == (6,)
        z = x.new_zeros(2, 2)
        assert z.dtype == x.dtype and z.tolist() == [[0.0, 0.0], [0.0, 0.0]]
        assert x.new_ones((3,)).tolist() == [1.0] * 3
        assert x.new_full((2,), 7.0).tolist() == [7.0, 7.0]
        assert x.new_tensor([1, 2]).dtype == x.dtype
        assert x.double().new_zeros(1).dtype == x.double().dtype
        assert x.type(lib.float64).dtype == lib.float64
        w = lib.ones(3, requires_grad=True)
        d = w.data
        assert not d.requires_grad and d.data_ptr() == w.data_ptr()
        w.data.mul_(2)  # the tutorials' update through .data
        assert w.tolist() == [2.0, 2.0, 2.0]
        assert (lib.pi, lib.e, lib.inf) == (math.pi, math.e, math.inf) and math.isnan(lib.nan)
    assert cr.zeros(2).type() == "chainrule.FloatTensor" and torch.zeros(2).type() == "torch.FloatTensor"


def test_bare_no_grad_decorator_and_inference_mode_as_torch():
    for lib in (cr, torch):
        @lib.no_grad
        def f(x):
            return x * 2

        @lib.inference_mode()
        def g(x):
            return x * 2

        x = lib.ones(2, requires_grad=True)
        assert not f(x).requires_grad and not g(x).requires_grad
        with lib.inference_mode():
            assert not (x * 2).requires_grad
        with lib.inference_mode(False):
            assert (x * 2).requires_grad
        with lib.no_grad():
            with lib.enable_grad():
                assert (x * 2).requires_grad


def test_num_threads_can_be_set_from_a_notebook():
    n = cr.get_num_threads()
    assert n >= 1
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        a = cr.randn(300, 300)
        np.testing.assert_allclose((a @ a).tolist(), (np.array(a.tolist()) @ np.array(a.tolist())), rtol=1e-4, atol=1e-4)
    finally:
        cr.set_num_threads(n)
    assert cr.get_num_threads() == n
    with pytest.raises(ValueError, match="set_num_threads: expected a number of threads >= 1, got 0"):
        cr.set_num_threads(0)


ZERO_D_AND_EMPTY = {
    "and_0d": lambda L: L.tensor(5) & L.tensor(3),
    "xor_empty": lambda L: L.zeros(0, dtype=L.int64) ^ L.zeros(0, dtype=L.int64),
    "not_0d": lambda L: ~L.tensor(7),
    "pow3_0d": lambda L: L.tensor(-2.0) ** 3,
    "pow_half_empty": lambda L: L.zeros(0) ** 0.5,
    "pow_minus_one_0d_inf": lambda L: L.tensor(math.inf) ** -1,
    "kl_div_empty": lambda L: L.nn.functional.kl_div(L.zeros(0, 3), L.zeros(0, 3), reduction="none"),
    "mse_loss_module_0d": lambda L: L.nn.MSELoss()(L.tensor(2.0), L.tensor(0.5)),
    "logsigmoid_special": lambda L: L.nn.functional.logsigmoid(
        L.tensor([math.inf, -math.inf, 0.0, -800.0, 800.0, math.nan], dtype=L.float64)),
    "sum_empty_columns": lambda L: L.zeros(0, 3).sum(0),
    "sum_0d": lambda L: L.tensor(3.0).sum(),
}


@pytest.mark.parametrize("name", sorted(ZERO_D_AND_EMPTY))
def test_new_and_changed_ops_on_0d_empty_and_special_inputs_match_torch(name):
    ours, theirs = ZERO_D_AND_EMPTY[name](cr), ZERO_D_AND_EMPTY[name](torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(np.array(ours.tolist()), np.array(theirs.tolist()))


# ---------------------------------------------------------------------------------- index ops on 0-d and empty
@pytest.mark.parametrize("case", [
    lambda L: L.index_select(L.tensor(5.), 0, L.tensor(0)),
    lambda L: L.index_select(L.ones(2, 3), 1, L.tensor([], dtype=L.int64)),
    lambda L: L.index_select(L.ones(0, 3), 1, L.tensor([1])),
    lambda L: L.index_add(L.tensor(1.), 0, L.tensor(0), L.tensor(2.)),
    lambda L: L.index_add(L.ones(0, 3), 0, L.tensor([], dtype=L.int64), L.ones(0, 3)),
    lambda L: L.gather(L.ones(2, 3), 1, L.ones(2, 0, dtype=L.int64)),
    lambda L: L.scatter_add(L.ones(2, 3), 1, L.ones(2, 0, dtype=L.int64), L.ones(2, 0)),
    lambda L: _F(L).one_hot(L.tensor(2), 4),
    lambda L: _F(L).one_hot(L.tensor([], dtype=L.int64), 4),
], ids=range(9))
def test_index_ops_on_0d_and_empty_match_torch(case):
    ours, theirs = case(cr), case(torch)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _F(lib):
    return torch.nn.functional if lib is torch else cr.nn.functional


@pytest.mark.parametrize("case, match", [
    (lambda L: L.index_select(L.tensor(5.), 0, L.tensor([0, 0])), "0-d input takes exactly one index"),
    (lambda L: _F(L).one_hot(L.tensor([], dtype=L.int64)), "empty tensor"),
], ids=range(2))
def test_index_ops_refuse_what_torch_refuses(case, match):
    with pytest.raises(RuntimeError):
        case(torch)
    with pytest.raises(ValueError, match=match):
        case(cr)


# ---------------------------------------------------------------------------------- curvature at kinks and ties
_KINKS = {
    "huber": lambda FF, L, x: FF.huber_loss(x, L.zeros_like(x), reduction="sum"),
    "smooth_l1": lambda FF, L, x: FF.smooth_l1_loss(x, L.zeros_like(x), reduction="sum"),
    "bce_with_logits": lambda FF, L, x: FF.binary_cross_entropy_with_logits(x, L.full_like(x, 0.3), reduction="sum"),
    "logsigmoid": lambda FF, L, x: FF.logsigmoid(x).sum(),
    "softplus": lambda FF, L, x: FF.softplus(x).sum(),
    "elu": lambda FF, L, x: FF.elu(x).sum(),
    "silu": lambda FF, L, x: FF.silu(x).sum(),
    "gelu": lambda FF, L, x: FF.gelu(x).sum(),
    "abs_cubed": lambda FF, L, x: (x.abs() ** 3).sum(),
    "maximum_tie": lambda FF, L, x: L.maximum(x * x, x * 0).sum(),
    "mse": lambda FF, L, x: FF.mse_loss(x, L.zeros_like(x), reduction="sum"),
}


@pytest.mark.parametrize("name", sorted(_KINKS))
def test_second_derivatives_at_kinks_and_ties_match_torch(name):
    """Composite ops with abs/min/max inside must not lose curvature at 0 (Newton's method needs it)."""
    def grads(L, FF):
        x = L.tensor([0.0, 1.0, -1.0, 0.5], dtype=L.float64, requires_grad=True)
        (g,) = L.autograd.grad(_KINKS[name](FF, L, x), x, create_graph=True)
        (gg,) = L.autograd.grad(g.sum(), x)
        return np.asarray(g.detach().tolist()), np.asarray(gg.tolist())
    (g, gg), (tg, tgg) = grads(cr, cr.nn.functional), grads(torch, torch.nn.functional)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gg, tgg, rtol=1e-12, atol=1e-12)


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
