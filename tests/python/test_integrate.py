"""trapezoid and cumulative_trapezoid vs torch in float64: values, gradients wrt y and x, second
derivatives, edge sizes (0 and 1 samples), dtype promotion, errors (class and message), and the
trapezoid rule's O(h²) convergence measured on sin over [0, π]."""
import math
import zlib

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import cumulative_trapezoid, trapezoid

FNS = [(trapezoid, torch.trapezoid), (cumulative_trapezoid, torch.cumulative_trapezoid)]
FN_IDS = ["trapezoid", "cumulative"]

# (y shape, dim); sizes 0 and 1 along dim are the degenerate cases torch answers with zeros
SHAPES = [((n,), -1) for n in (0, 1, 2, 3, 17)] + [
    ((4, 5), d) for d in (0, 1, -1)] + [((3, 4, 5), d) for d in (0, 1, -1)] + [
    ((3, 0, 2), 1), ((3, 1, 2), 1), ((3, 0, 2), 0)]


def _x_shape(kind, shape, dim):
    """The shape of x for each way of passing it: 1-D along dim, y's full shape, or broadcastable
    ("bcast": 1 in the other dims, the last dim also kept in 3-D, leading 1s dropped down to 2-D)."""
    if kind == "1d":
        return (shape[dim],)
    if kind == "full":
        return shape
    keep = {dim % len(shape)} | ({len(shape) - 1} if len(shape) > 2 else set())
    xs = tuple(s if i in keep else 1 for i, s in enumerate(shape))
    while len(xs) > 2 and xs[0] == 1:
        xs = xs[1:]
    return xs


def _pair(a):
    """The same float64 data as a chainrule and a torch leaf."""
    return (cr.tensor(a, dtype=cr.float64, requires_grad=True),
            torch.tensor(a, dtype=torch.float64, requires_grad=True))


def _np(t):
    if t is None:
        return None
    return np.asarray(t.detach()) if isinstance(t, cr.Tensor) else t.detach().numpy()


def _grad_np(t):
    # .grad stays None when the output does not depend on a leaf at all (x when y is empty along dim)
    g = _np(t.grad)
    return np.zeros(tuple(t.shape)) if g is None else g


def _inputs(rng, shape, dim, kind):
    """(ours, theirs) y, and x or dx kwargs for one case; x increases along dim, as sample points do."""
    y, ty = _pair(rng.standard_normal(shape))
    if kind is None:
        return y, ty, {}, {}
    if kind == "dx":
        return y, ty, {"dx": 0.37}, {"dx": 0.37}
    xs = _x_shape(kind, shape, dim)
    axis = 0 if kind == "1d" else dim % len(shape) - (len(shape) - len(xs))
    a = np.cumsum(rng.uniform(0.1, 1.0, xs), axis=axis)
    x, tx = _pair(a)
    return y, ty, {"x": x}, {"x": tx}


CASES = [(s, d, k) for s, d in SHAPES for k in (None, "dx", "1d", "full", "bcast")]


@pytest.mark.parametrize("fn,tfn", FNS, ids=FN_IDS)
@pytest.mark.parametrize("shape,dim,kind", CASES)
def test_values_and_gradients_match_torch(fn, tfn, shape, dim, kind):
    rng = np.random.default_rng(zlib.crc32(repr((shape, dim, kind)).encode()))  # same data every run
    y, ty, kw, tkw = _inputs(rng, shape, dim, kind)
    out, tout = fn(y, dim=dim, **kw), tfn(ty, dim=dim, **tkw)
    assert out.shape == tuple(tout.shape) and out.dtype == cr.float64
    np.testing.assert_allclose(_np(out), _np(tout), rtol=1e-12, atol=1e-12)

    w = rng.standard_normal(tuple(tout.shape))  # random cotangent: checks every output's gradient
    (out * cr.tensor(w, dtype=cr.float64)).sum().backward()
    if tout.requires_grad:  # torch.trapezoid answers an empty y with fresh zeros, outside the graph
        (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_grad_np(y), _grad_np(ty), rtol=1e-10, atol=1e-10)
    if "x" in kw:
        np.testing.assert_allclose(_grad_np(kw["x"]), _grad_np(tkw["x"]), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fn,tfn", FNS, ids=FN_IDS)
@pytest.mark.parametrize("shape,dim,kind", [((17,), -1, "1d"), ((4, 5), 0, "full"), ((3, 4, 5), 1, "1d"),
                                            ((3, 4, 5), -1, "bcast"), ((4, 5), 1, "dx")])
def test_second_derivatives_match_torch(fn, tfn, shape, dim, kind):
    """d/dy and d/dx of ⟨v, ∂L/∂y⟩ for L = Σ w·out²: the rule is bilinear in (x, y), so squaring makes
    the y–y block non-zero and the y–x block tests the mixed second derivative."""
    rng = np.random.default_rng(7)
    y, ty, kw, tkw = _inputs(rng, shape, dim, kind)
    out, tout = fn(y, dim=dim, **kw), tfn(ty, dim=dim, **tkw)
    w, v = rng.standard_normal(tuple(tout.shape)), rng.standard_normal(shape)
    (g,) = cr.autograd.grad((out ** 2 * cr.tensor(w, dtype=cr.float64)).sum(), [y], create_graph=True)
    (tg,) = torch.autograd.grad((tout ** 2 * torch.tensor(w)).sum(), [ty], create_graph=True)
    np.testing.assert_allclose(_np(g), _np(tg), rtol=1e-10, atol=1e-10)
    (g * cr.tensor(v, dtype=cr.float64)).sum().backward()
    (tg * torch.tensor(v)).sum().backward()
    assert np.abs(_np(y.grad)).max() > 0  # the second derivative really is exercised
    np.testing.assert_allclose(_np(y.grad), _np(ty.grad), rtol=1e-10, atol=1e-10)
    if "x" in kw:
        np.testing.assert_allclose(_np(kw["x"].grad), _np(tkw["x"].grad), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fn,tfn", FNS, ids=FN_IDS)
@pytest.mark.parametrize("y,kw", [
    ([0, 1, 5, 2], {}), ([0, 1, 5, 2], {"dx": 2}), ([0, 1, 5, 2], {"dx": -0.5}),
    ([0, 1, 5, 2], {"x": [0, 2, 3, 7]}), ([0, 1, 5, 2], {"x": [0.0, 0.5, 3.0, 7.0]}),
    ([0.0, 1.0, 5.0], {"x": [0, 2, 3]}), ([1.5, 2.5], {"dx": 3})])
def test_integer_inputs_promote_as_torch(fn, tfn, y, kw):
    """Integer y (and x) integrate to the default float dtype, never to a truncated integer."""
    ours = fn(cr.tensor(y), **{k: cr.tensor(v) if k == "x" else v for k, v in kw.items()})
    theirs = tfn(torch.tensor(y), **{k: torch.tensor(v) if k == "x" else v for k, v in kw.items()})
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-6)


def test_mixed_float_dtypes_promote_as_torch():
    y32, x64 = [1.0, 2.0, 4.0], [0.0, 1.0, 3.0]
    assert trapezoid(cr.tensor(y32), cr.tensor(x64, dtype=cr.float64)).dtype == cr.float64
    assert torch.trapezoid(torch.tensor(y32), torch.tensor(x64, dtype=torch.float64)).dtype == torch.float64
    assert trapezoid(cr.tensor(y32), dx=0.5).dtype == cr.float32


def test_x_may_broadcast_y_up_as_in_torch():
    """A (1, 3) y against a (2, 3) x integrates once per row of x."""
    y, x = np.array([[1.0, 4.0, 2.0]]), np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 5.0]])
    ours = trapezoid(cr.tensor(y, dtype=cr.float64), cr.tensor(x, dtype=cr.float64))
    theirs = torch.trapezoid(torch.tensor(y), torch.tensor(x))
    assert ours.shape == (2,)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-12)


def test_known_integrals_by_hand():
    y = cr.tensor([1.0, 3.0, 2.0], dtype=cr.float64)
    assert trapezoid(y).item() == 4.5                      # (1+3)/2 + (3+2)/2
    assert cumulative_trapezoid(y, dx=2).tolist() == [4.0, 9.0]
    assert trapezoid(y, cr.tensor([0.0, 1.0, 4.0], dtype=cr.float64)).item() == 9.5  # 2 + 3·2.5


Y = cr.ones(2, 3)
ERRORS = [  # (call, torch call, exception, message regex); torch_call None where torch doesn't raise
    (lambda f: f(Y, cr.ones(4)), lambda f: f(torch.ones(2, 3), torch.ones(4)), ValueError,
     r"x must have one value per sample of y along dim 1 .*x of shape \(4,\) and y of shape \(2, 3\)"),
    (lambda f: f(Y, cr.ones(3), dim=0), lambda f: f(torch.ones(2, 3), torch.ones(3), dim=0), ValueError,
     r"x of shape \(3,\) and y of shape \(2, 3\)"),
    (lambda f: f(Y, cr.ones(3, 3)), lambda f: f(torch.ones(2, 3), torch.ones(3, 3)), ValueError,
     r"x of shape \(3, 3\) and y of shape \(2, 3\)"),
    (lambda f: f(Y, cr.ones(2, 1)), lambda f: f(torch.ones(2, 3), torch.ones(2, 1)), ValueError,
     r"x of shape \(2, 1\) and y of shape \(2, 3\)"),
    (lambda f: f(Y, cr.ones(1, 2, 3)), lambda f: f(torch.ones(2, 3), torch.ones(1, 2, 3)), ValueError,
     r"x of shape \(1, 2, 3\) and y of shape \(2, 3\)"),
    (lambda f: f(cr.zeros(2, 0), cr.ones(3)), None, ValueError, r"x of shape \(3,\) and y of shape \(2, 0\)"),
    (lambda f: f(cr.tensor([True, False])), lambda f: f(torch.tensor([True, False])), ValueError,
     "bool is not supported"),
    (lambda f: f(Y, dim=2), lambda f: f(torch.ones(2, 3), dim=2), IndexError,
     r"dim 2 is out of range for a tensor with 2 dims \(expected -2 to 1\)"),
    (lambda f: f(Y, dim=-3), lambda f: f(torch.ones(2, 3), dim=-3), IndexError, "dim -3 is out of range"),
    (lambda f: f(cr.tensor(1.0)), lambda f: f(torch.tensor(1.0)), IndexError, "y is 0-d"),
    (lambda f: f(Y, cr.ones(3), dx=1.0), lambda f: f(torch.ones(2, 3), torch.ones(3), dx=1.0), TypeError,
     "either x .* or dx .*, not both"),
    (lambda f: f(Y, [0.0, 1.0, 2.0]), lambda f: f(torch.ones(2, 3), [0.0, 1.0, 2.0]), TypeError,
     "argument 'x' must be Tensor, not list"),
    (lambda f: f([1.0, 2.0]), lambda f: f([1.0, 2.0]), TypeError, "argument 'y' must be Tensor, not list"),
    (lambda f: f(Y, dx="a"), lambda f: f(torch.ones(2, 3), dx="a"), TypeError, "'dx' must be a real number"),
    (lambda f: f(Y, dim=1.0), lambda f: f(torch.ones(2, 3), dim=1.0), TypeError, "'dim' must be int, not float"),
]


@pytest.mark.parametrize("fn,tfn", FNS, ids=FN_IDS)
@pytest.mark.parametrize("call,tcall,exc,msg", ERRORS)
def test_errors_class_and_message(fn, tfn, call, tcall, exc, msg):
    prefix = "trapezoid" if fn is trapezoid else "cumulative_trapezoid"
    with pytest.raises(exc, match=rf"^{prefix}(: |\(\): ).*{msg}") as info:
        call(fn)
    if exc is ValueError:
        assert info.value.args[0].startswith(prefix + ": ")
    if tcall is not None:  # torch rejects it too, with the class our mapping says (RuntimeError -> ValueError)
        with pytest.raises({ValueError: RuntimeError}.get(exc, exc)):
            tcall(tfn)


def _sin_error(n):
    """|trapezoid(sin) − 2| over [0, π] with n panels (n + 1 samples)."""
    x = cr.tensor(np.linspace(0.0, math.pi, n + 1), dtype=cr.float64)
    return abs(trapezoid(cr.sin(x), x).item() - 2.0)


@pytest.mark.parametrize("n", [8, 16, 64, 256])
def test_error_on_sin_falls_as_n_to_the_minus_2(n):
    ratio = _sin_error(n) / _sin_error(2 * n)
    assert ratio == pytest.approx(4.0, rel=0.02)
    # and its size: T − I ≈ h²/12·(f'(π) − f'(0)) = −h²/6 with h = π/n (Euler–Maclaurin)
    y = cr.sin(cr.tensor(np.linspace(0.0, math.pi, n + 1), dtype=cr.float64))
    assert 2.0 - trapezoid(y, dx=math.pi / n).item() == pytest.approx(math.pi ** 2 / (6 * n ** 2), rel=0.02)


def test_cumulative_tracks_the_antiderivative_and_ends_at_the_total():
    n = 200
    xs = np.linspace(0.0, math.pi, n + 1)
    x = cr.tensor(xs, dtype=cr.float64)
    run = cumulative_trapezoid(cr.sin(x), x)
    assert run.shape == (n,)
    np.testing.assert_allclose(_np(run), 1.0 - np.cos(xs[1:]), atol=math.pi ** 2 / (6 * n ** 2))
    assert run[-1].item() == pytest.approx(trapezoid(cr.sin(x), x).item(), abs=1e-14)


@pytest.mark.parametrize("n", list(range(1, 34)))
def test_lengths_1_to_33_and_nonfinite_values_as_torch(n):
    # lengths reach the vectorized kernels and their scalar tails; ±inf and nan propagate as in torch
    a = np.random.RandomState(n).randn(2, n)
    if n > 3:
        a[0, 1], a[0, 2], a[1, 3] = np.inf, -np.inf, np.nan
    yc, yt = cr.tensor(a), torch.tensor(a)
    for fc, ft in ((cr.trapezoid, torch.trapezoid), (cr.cumulative_trapezoid, torch.cumulative_trapezoid)):
        np.testing.assert_allclose(np.asarray(fc(yc)), ft(yt).numpy(), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(np.asarray(fc(yc, dx=0.5)), ft(yt, dx=0.5).numpy(), rtol=1e-12, equal_nan=True)
    zc = cr.tensor(np.float64(2.0))
    with pytest.raises(IndexError):
        cr.trapezoid(zc)


def test_no_samples_give_ys_shape_without_dim_as_torch_whatever_x_broadcasts_to():
    # found by the op fuzzer: x of shape (0, 4) broadcasts y (0, 1) to (0, 4), but torch answers
    # an empty y with zeros of y's own shape and dtype, (1,)
    for yd, xd in ((cr.float32, cr.float32), (cr.int64, cr.int64)):
        ours = cr.trapezoid(cr.zeros(0, 1, dtype=yd), cr.zeros(0, 4, dtype=xd), dim=0)
        theirs = torch.trapezoid(torch.zeros(0, 1, dtype=getattr(torch, str(yd).split(".")[-1])),
                                 torch.zeros(0, 4, dtype=getattr(torch, str(xd).split(".")[-1])), dim=0)
        assert tuple(ours.shape) == tuple(theirs.shape) == (1,)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert ours.tolist() == [0]
