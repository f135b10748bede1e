"""cr.autograd.Function: the same class source, written once for both libraries, gives torch's
values and gradients (and second derivatives through a differentiable backward); gradcheck passes a
right backward and names the element of a wrong one; no reference cycle keeps a graph alive."""
import gc
import weakref

import numpy as np
import pytest
import torch

import chainrule as cr


def make_sigmoid(L):
    class Sigmoid(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = 1 / (1 + L.exp(-x))
            ctx.save_for_backward(y)  # the output itself: re-attached, so backward is differentiable
            return y

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            return grad_output * y * (1 - y)
    return Sigmoid


def make_scaled_softplus(L):
    class ScaledSoftplus(L.autograd.Function):  # a non-tensor argument, an input saved, setup_context
        @staticmethod
        def forward(x, beta):
            return L.log1p(L.exp(beta * x)) / beta

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, beta = inputs
            ctx.save_for_backward(x)
            ctx.beta = beta

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * L.sigmoid(ctx.beta * x), None
    return ScaledSoftplus


def make_mul(L):
    class Mul(L.autograd.Function):  # two tensor inputs, needs_input_grad
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return (g * b if ctx.needs_input_grad[0] else None), (g * a if ctx.needs_input_grad[1] else None)
    return Mul


class Bad(cr.autograd.Function):
    """x² with a wrong backward."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # forgot the 2


def both(shape, seed):
    a = np.random.RandomState(seed).uniform(-2, 2, size=shape)
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def close(c, t):
    np.testing.assert_allclose(np.asarray(c.detach()), t.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make,extra", [(make_sigmoid, ()), (make_scaled_softplus, (1.7,))])
def test_values_gradients_and_second_derivatives_as_torch(make, extra):
    xc, xt = both((3, 4), 0)
    yc, yt = make(cr).apply(xc, *extra), make(torch).apply(xt, *extra)
    close(yc, yt)
    w = np.random.RandomState(1).randn(3, 4)
    (gc,) = cr.autograd.grad((yc * yc * cr.tensor(w)).sum(), xc, create_graph=True)
    (gt,) = torch.autograd.grad((yt * yt * torch.tensor(w)).sum(), xt, create_graph=True)
    close(gc, gt)
    (hc,) = cr.autograd.grad(gc.sum(), xc)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    close(hc, ht)
    assert cr.autograd.gradcheck(lambda x: make(cr).apply(x, *extra), [xc])
    assert cr.autograd.gradgradcheck(lambda x: make(cr).apply(x, *extra), [xc])


def test_two_inputs_and_needs_input_grad_as_torch():
    (ac, at), (bc, bt) = both((2, 3), 2), both((2, 3), 3)
    bc2, bt2 = bc.detach(), bt.detach()  # only a needs a gradient
    for (x, y), L in (((ac, bc2), cr), ((at, bt2), torch)):
        make_mul(L).apply(x, y).sum().backward()
    close(ac.grad, at.grad)
    yc = make_mul(cr).apply(ac, bc)
    assert yc.grad_fn is not None and "MulBackward" in yc.grad_fn.name()


def test_no_graph_without_grad_and_inputs_are_never_the_output():
    Sig = make_sigmoid(cr)
    x = cr.tensor([1.0, 2.0])
    assert Sig.apply(x).grad_fn is None  # nothing requires grad
    with cr.no_grad():
        assert Sig.apply(cr.ones(2, requires_grad=True)).grad_fn is None

    class Identity(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g
    leaf = cr.ones(2, requires_grad=True)
    y = Identity.apply(leaf)
    assert leaf.is_leaf and leaf.grad_fn is None and y.grad_fn is not None
    (y * 3).sum().backward()
    assert leaf.grad.tolist() == [3.0, 3.0]


def test_a_wrong_backward_fails_gradcheck_naming_the_element():
    x = cr.tensor([0.5, -1.5], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.autograd.GradcheckError, match=r"input 0"):
        cr.autograd.gradcheck(Bad.apply, [x])
    assert not cr.autograd.gradcheck(Bad.apply, [x], raise_exception=False)


def test_backward_mistakes_are_clear_errors():
    class TooMany(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g
    x = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"TooMany\.backward: expected 1 gradients \(one per argument of forward"):
        TooMany.apply(x).sum().backward()

    class WrongShape(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(RuntimeError, match=r"WrongShape\.backward: the gradient for argument 0 has shape \(\), "
                                           r"expected \(3,\)"):
        WrongShape.apply(x).backward()

    class NotATensor(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(TypeError, match=r"NotATensor\.forward: expected it to return one tensor, got float"):
        NotATensor.apply(x)
    with pytest.raises(TypeError, match=r"save_for_backward: expected tensors or None, got int"):
        cr.autograd.FunctionCtx().save_for_backward(3)


def test_no_reference_cycle_keeps_the_graph_alive():
    # the node owns ctx; a saved output held by ctx would own the node back (a cycle that only
    # the garbage collector could free, and not through C++): the node keeps the output instead
    refs = []

    class Sig(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            refs.append(weakref.ref(ctx))
            y = 1 / (1 + cr.exp(-x))
            ctx.save_for_backward(y, x)
            return y

        @staticmethod
        def backward(ctx, g):
            y, _ = ctx.saved_tensors
            return g * y * (1 - y)
    x = cr.ones(1000, requires_grad=True)
    gc.disable()  # reference counting alone must free it
    try:
        y = Sig.apply(x)
        assert refs[0]() is not None
        del y
        assert refs[0]() is None
        y = Sig.apply(x)  # and after a backward, too
        y.sum().backward()
        del y
        assert refs[1]() is None
    finally:
        gc.enable()


def test_gradcheck_report_reads_like_cs231n():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64)
    good = cr.autograd.gradcheck_report(lambda t: cr.tanh(t) * t.sum(), [x])
    assert good.ok and len(good.rows) == 9 and all(r["verdict"] == "good" for r in good.rows)
    # against closed forms: d/dt_j [tanh(t_i) S] = δij (1 - tanh² t_i) S + tanh(t_i)
    t, S = np.array([0.5, -1.0, 2.0]), 1.5
    for r in good.rows:
        i, j = r["output"], r["element"][0]
        want = (i == j) * (1 - np.tanh(t[i]) ** 2) * S + np.tanh(t[i])
        assert abs(r["analytic"] - want) < 1e-14 and abs(r["numeric"] - want) < 1e-8

    bad = cr.autograd.gradcheck_report(Bad.apply, [cr.tensor([0.5, -1.5], dtype=cr.float64)])
    assert not bad.ok and bad.worst["verdict"] == "wrong" and bad.worst["element"] in ((0,), (1,))
    assert abs(bad.worst["rel_error"] - 0.5) < 1e-8  # analytic x, numeric 2x
    text = repr(bad)
    assert text.startswith("gradcheck: 4 derivatives, worst relative error 5.0e-01 (wrong)") and "analytic" in text
    with pytest.raises(cr.autograd.GradcheckError, match=r"(?s)input 0.*gradcheck: 4 derivatives.*wrong"):
        cr.autograd.gradcheck(Bad.apply, [cr.tensor([0.5, -1.5], dtype=cr.float64, requires_grad=True)])


def test_gradcheck_report_marks_kinks_and_gradgradcheck_report_second_derivatives():
    x = cr.tensor([0.5, 0.0, -1.0], dtype=cr.float64)
    r = cr.autograd.gradcheck_report(lambda t: cr.relu(t) * t.sum(), [x])
    kinks = [row for row in r.rows if row["verdict"] == "kink"]
    assert [(k["element"], k["output"]) for k in kinks] == [((1,), 1)] and r.ok
    assert any("input 0 element (1,) sits on a kink of output 1" in n for n in r.notes)

    class DetachedBackward(cr.autograd.Function):  # right gradient, not differentiable again
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x.detach() ** 2
    y = cr.tensor([0.5, -1.5], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck_report(DetachedBackward.apply, [y]).ok
    rep = cr.autograd.gradgradcheck_report(DetachedBackward.apply, [y])
    assert not rep.ok and rep.worst["analytic"] == 0.0 and abs(rep.worst["numeric"]) > 0.1
    with pytest.raises(cr.autograd.GradcheckError, match=r"(?s)gradgradcheck \(derivatives of the gradient"):
        cr.autograd.gradgradcheck(DetachedBackward.apply, [y])
