"""Forward mode (cr.autograd.forward_ad; cr.func.jvp and jacfwd run on it), driven by the op catalog.

For every differentiable catalog entry, in float64: the tangent an op carries equals
torch.autograd.forward_ad's, and chainrule's own reverse-mode JVP (the double-vjp trick), and the
tangents pushed through a backward pass (forward over reverse: H·t) equal torch's second derivatives.
Ops without a tangent rule are listed in NO_TANGENT_RULE: forward mode must raise
NotImplementedError naming them (and must not for any other op).
"""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import chainrule as cr
import chainrule.autograd.forward_ad as fwAD
from op_catalog import (assert_same, cases, cotangents, is_float, make_inputs, outputs, seed_of, to_numpy,
                        weighted_sum)

pytestmark = pytest.mark.usefixtures("torch_one_thread")

GRAD, GRAD_IDS = cases(lambda o, s: o.differentiable and s.check in ("all", "grad"))
SECOND, SECOND_IDS = cases(lambda o, s: o.differentiable and o.second_order and s.check in ("all", "grad"))

# Catalog entries whose op has no tangent rule yet -> the op named in the NotImplementedError.
# cr.func.jvp / jacfwd / hessian still work through them (the reverse-mode route).
NO_TANGENT_RULE = {
}

# Where torch's forward-mode tangent disagrees with the derivative its own backward defines, the
# reference is the latter (torch's double-vjp J·t), which chainrule's reverse mode matches.
TORCH_FORWARD_DIFFERS = {
    "F_cosine_similarity_tiny": "torch's backward passes the clamped norm's gradient through; its forward does not",
    "F_embedding_padding": "torch's backward gives the padding row no gradient; its forward gives it a tangent",
    "F_embedding_padding_neg": "as F_embedding_padding",
    "linalg_cholesky_lower_only": "only a triangle is read: torch's backward gives the symmetric gradient, its "
                                  "forward the one-triangle derivative (chainrule's tangent is the symmetric one)",
    "clamp_tensor": "when min > max the output is max; torch's forward still passes x's tangent through",
    "median": "torch's forward gives a NaN median a NaN tangent; its backward routes the gradient to the NaN",
}


def _setup(op_, sample):
    rs = np.random.RandomState(seed_of("forward_ad", op_.name, sample.id))
    x = make_inputs(op_, sample, "float64", rs)
    ts = [rs.uniform(-1.0, 1.0, size=tuple(x.theirs[k].shape)) for k in x.diff]
    return rs, x, ts


def _dual_outputs(fw, fn, args, diff, tangents):
    """(primal, tangent or None) of every output of fn at args, args[diff[i]] carrying tangents[i]."""
    with fw.dual_level():
        a = list(args)
        for k, t in zip(diff, tangents):
            a[k] = fw.make_dual(a[k].detach(), t)
        return [tuple(fw.unpack_dual(o)) for o in outputs(fn(*a))]


def _reverse_jvp(lib, fn, args, diff, tangents):
    """J·t by reverse mode alone (lib is cr or torch): d/du of (uᵀJ)·t, which is linear in u."""
    ins = [args[k] for k in diff]
    outs = list(outputs(fn(*args)))
    us = [lib.zeros_like(o.detach()).requires_grad_(True) if is_float(o) else None for o in outs]
    zeros = [lib.zeros_like(o.detach()) for o in outs]
    loss = None
    for o, u in zip(outs, us):
        if u is not None and o.requires_grad:
            loss = (o * u).sum() if loss is None else loss + (o * u).sum()
    if loss is None:
        return zeros
    gs = lib.autograd.grad(loss, ins, create_graph=True, allow_unused=True)
    total = None
    for g, t in zip(gs, tangents):
        if g is not None and g.requires_grad:
            total = (g * t).sum() if total is None else total + (g * t).sum()
    if total is None:
        return zeros
    js = iter(lib.autograd.grad(total, [u for u in us if u is not None], allow_unused=True))
    out = []
    for u, z in zip(us, zeros):
        j = next(js) if u is not None else None
        out.append(z if j is None else j)
    return out


def _no_rule_raised(op_, e):
    assert op_.name in NO_TANGENT_RULE, f"{op_.name}: forward mode raised {e!r}; give its op a tangent rule"
    assert NO_TANGENT_RULE[op_.name] in str(e), f"{op_.name}: the message should name the op: {e}"


@pytest.mark.parametrize("op_,sample", GRAD, ids=GRAD_IDS)
def test_tangent_matches_torch_and_reverse_mode(op_, sample):
    rs, x, ts = _setup(op_, sample)
    ours_t = [cr.tensor(t, dtype=cr.float64) for t in ts]
    torch_t = [torch.tensor(t) for t in ts]
    try:
        ours = _dual_outputs(fwAD, op_.ours, x.ours, x.diff, ours_t)
    except NotImplementedError as e:
        _no_rule_raised(op_, e)
        return
    assert op_.name not in NO_TANGENT_RULE, f"{op_.name} has a tangent rule now: remove it from NO_TANGENT_RULE"
    theirs = None
    if op_.name not in TORCH_FORWARD_DIFFERS:
        try:
            theirs = [t for _, t in _dual_outputs(tfw, op_.theirs, x.theirs, x.diff, torch_t)]
        except (NotImplementedError, RuntimeError):  # no forward-mode formula in torch
            pass
    if theirs is None:  # torch's J·t as the derivative its backward defines
        theirs = _reverse_jvp(torch, op_.theirs, x.theirs, x.diff, torch_t)
    reverse = _reverse_jvp(cr, op_.ours, x.ours, x.diff, ours_t)
    for i, (p, t) in enumerate(ours):
        if not is_float(p):
            assert t is None, f"{op_.name}: an integer output carries a tangent"
            continue
        t = cr.zeros_like(p) if t is None else t
        ref = torch.zeros_like(theirs[i]) if theirs[i] is None else theirs[i]
        assert_same(t, ref, "float64", "grad", f"{op_.name} output {i}: tangent vs torch")
        # chainrule's reverse-mode J·t agrees, except where differentiating a backward rule through
        # where() meets 0·inf (the double-vjp NaN trap; the tangent rule has none, as torch's)
        rev = np.asarray(reverse[i].detach()).copy()
        trap = np.isnan(rev) & ~np.isnan(to_numpy(ref))
        rev[trap] = np.asarray(t)[trap]
        assert_same(t, torch.tensor(rev), "float64", "grad", f"{op_.name} output {i}: tangent vs reverse mode")


def _forward_over_reverse(lib, fw, fn, args, diff, tangents, vs, pick):
    """d/dε ∇f(x + εt) = H t for f = Σ out·v: tangents pushed through a backward pass."""
    with fw.dual_level():
        a, duals = list(args), []
        for k, t in zip(diff, tangents):
            a[k] = fw.make_dual(a[k].detach().requires_grad_(True), t)
            duals.append(a[k])
        loss = weighted_sum(outputs(fn(*a)), vs, pick)
        gs = lib.autograd.grad(loss, duals, allow_unused=True)
        hs = [None if g is None else fw.unpack_dual(g).tangent for g in gs]
    return [lib.zeros_like(args[k].detach()) if h is None else h for k, h in zip(diff, hs)]


def _reverse_over_reverse(lib, fn, args, diff, tangents, vs, pick):
    ins = [args[k] for k in diff]
    gs = lib.autograd.grad(weighted_sum(outputs(fn(*args)), vs, pick), ins, create_graph=True, allow_unused=True)
    dot = sum((g * t).sum() for g, t in zip(gs, tangents) if g is not None and g.requires_grad)
    if not isinstance(dot, (cr.Tensor, torch.Tensor)):
        return [lib.zeros_like(i.detach()) for i in ins]
    hs = lib.autograd.grad(dot, ins, allow_unused=True)
    return [lib.zeros_like(i.detach()) if h is None else h for i, h in zip(ins, hs)]


@pytest.mark.parametrize("op_,sample", SECOND, ids=SECOND_IDS)
def test_forward_over_reverse_gives_torchs_hessian_vector_product(op_, sample):
    rs, x, ts = _setup(op_, sample)
    vs = cotangents(rs, outputs(op_.theirs(*x.theirs)), "float64")
    t_theirs = [torch.tensor(t) for t in ts]
    # torch's reverse over reverse (checked against finite differences by test_conformance); where
    # that meets the double-backward NaN trap (a norm at 0), torch.func.hvp's forward over reverse
    expected = _reverse_over_reverse(torch, op_.theirs, x.theirs, x.diff, t_theirs, vs, lambda v: v[1])
    if any(torch.isnan(h).any() for h in expected):
        fwd = _forward_over_reverse(torch, tfw, op_.theirs, x.theirs, x.diff, t_theirs, vs, lambda v: v[1])
        expected = [torch.where(torch.isnan(h) & ~torch.isnan(f), f, h) for h, f in zip(expected, fwd)]
    try:
        got = _forward_over_reverse(cr, fwAD, op_.ours, x.ours, x.diff,
                                    [cr.tensor(t, dtype=cr.float64) for t in ts], vs, lambda v: v[0])
    except NotImplementedError as e:
        _no_rule_raised(op_, e)
        return
    for k, g, h in zip(x.diff, got, expected):
        assert_same(g, h, "float64", "grad2", f"{op_.name}: H·t wrt input {k}")


# ------------------------------------------------------------------------------ the API, as torch's
def test_dual_numbers_give_the_directional_derivative_without_the_gradient():
    f = lambda x: (x ** 3).sum() + x[0] * x[1]  # noqa: E731
    x, v = cr.tensor([1.0, 2.0], dtype=cr.float64), cr.tensor([0.6, 0.8], dtype=cr.float64)
    with fwAD.dual_level():
        value, slope = fwAD.unpack_dual(f(fwAD.make_dual(x, v)))
    g = cr.func.grad(f)(x)
    assert value.item() == pytest.approx(11.0)
    assert slope.item() == pytest.approx((g * v).sum().item(), rel=1e-14)
    assert slope.item() == pytest.approx((3 * 1 + 2) * 0.6 + (12 + 1) * 0.8, rel=1e-14)


def test_unpack_dual_names_its_fields_as_torch():
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([1.0]), cr.tensor([2.0]))
        u = fwAD.unpack_dual(cr.sin(d))
        assert u.primal.tolist() == pytest.approx([np.sin(1.0)])
        assert u.tangent.tolist() == pytest.approx([2 * np.cos(1.0)])
        assert fwAD.unpack_dual(cr.tensor([3.0])).tangent is None  # a tensor that carries none
        assert fwAD.unpack_dual(u.primal).tangent is None          # the primal is a plain view


def test_tangents_end_with_their_level():
    with fwAD.dual_level():
        y = cr.exp(fwAD.make_dual(cr.tensor([0.0]), cr.tensor([1.0])))
        assert fwAD.unpack_dual(y).tangent is not None
    assert fwAD.unpack_dual(y).tangent is None
    with fwAD.dual_level():  # a new level does not revive the old tangents
        assert fwAD.unpack_dual(y).tangent is None


def test_a_constant_has_zero_tangent_and_costs_nothing():
    w = cr.randn(3, 4, dtype=cr.float64)
    x, t = cr.randn(5, 4, dtype=cr.float64), cr.randn(5, 4, dtype=cr.float64)
    with fwAD.dual_level():
        y = cr.nn.functional.linear(fwAD.make_dual(x, t), w)
        assert np.allclose(np.asarray(fwAD.unpack_dual(y).tangent), np.asarray(t) @ np.asarray(w).T, atol=1e-14)


def test_broadcast_tangent_takes_the_output_shape():
    with fwAD.dual_level():
        y = fwAD.make_dual(cr.ones(3, dtype=cr.float64), cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)) \
            + cr.zeros(2, 3, dtype=cr.float64)
        t = fwAD.unpack_dual(y).tangent
    assert tuple(t.shape) == (2, 3) and t.tolist() == [[1.0, 2.0, 3.0]] * 2


@pytest.mark.parametrize("shape", [(), (0,), (2, 0), (1,), (7,), (33,)])
def test_zero_d_empty_and_odd_lengths(shape):
    x = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    t = np.cos(np.arange(x.size)).reshape(shape)
    with fwAD.dual_level():
        y = cr.tanh(fwAD.make_dual(cr.tensor(x, dtype=cr.float64), cr.tensor(t, dtype=cr.float64)))
        got = np.asarray(fwAD.unpack_dual(y).tangent)
    assert got.shape == shape
    np.testing.assert_allclose(got, t * (1 - np.tanh(x) ** 2), rtol=1e-14, atol=1e-15)


def test_nonfinite_tangents_and_kinks_follow_torch():
    vals = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 5e-324]
    tans = [1.0, 1.0, np.inf, np.nan, 1.0, 1.0, 1.0, 1.0]
    for name in ["relu", "abs", "exp", "sqrt", "tanh", "sigmoid"]:
        with fwAD.dual_level():
            d = fwAD.make_dual(cr.tensor(vals, dtype=cr.float64), cr.tensor(tans, dtype=cr.float64))
            ours = np.asarray(fwAD.unpack_dual(getattr(cr, name)(d)).tangent)
        with tfw.dual_level():
            d = tfw.make_dual(torch.tensor(vals, dtype=torch.float64), torch.tensor(tans, dtype=torch.float64))
            theirs = tfw.unpack_dual(getattr(torch, name)(d)).tangent.numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=name)


def test_errors_say_what_to_do():
    with pytest.raises(RuntimeError, match="make_dual: no dual level is active"):
        fwAD.make_dual(cr.tensor([1.0]), cr.tensor([1.0]))
    with fwAD.dual_level():
        with pytest.raises(ValueError, match=r"make_dual: expected the tangent to have the primal's shape \(2,\), got \(3,\)"):
            fwAD.make_dual(cr.zeros(2), cr.zeros(3))
        with pytest.raises(ValueError, match="make_dual: expected the tangent to have the primal's dtype float32, got float64"):
            fwAD.make_dual(cr.zeros(2), cr.zeros(2, dtype=cr.float64))
        with pytest.raises(ValueError, match="make_dual: expected a floating primal, got int64"):
            fwAD.make_dual(cr.tensor([1]), cr.tensor([1]))
        with pytest.raises(RuntimeError, match="a dual level is already active"):
            fwAD.enter_dual_level()
        d = fwAD.make_dual(cr.zeros(2), cr.ones(2))
        with pytest.raises(NotImplementedError, match="add_: in-place ops on a dual tensor"):
            d.add_(1.0)
        plain = cr.zeros(2)
        with pytest.raises(NotImplementedError, match="in-place ops with a dual tensor"):
            plain.copy_(d)


def test_an_op_without_a_rule_names_itself():
    # floor_divide has no derivative (as in torch): forward mode says so instead of a zero tangent
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([3.0, -7.5]), cr.ones(2))
        with pytest.raises(NotImplementedError, match="floor_divide: forward mode .* no tangent rule for 'floor_divide'"):
            cr.floor_divide(d, 2.0)


def test_det_tangent_is_jacobis_formula_also_at_a_singular_matrix():
    for a in ([[2.0, 1.0], [0.5, 3.0]], [[1.0, 2.0], [2.0, 4.0]]):
        a = cr.tensor(a, dtype=cr.float64)
        t = cr.tensor([[0.1, -0.2], [0.3, 0.4]], dtype=cr.float64)
        value, slope = cr.func.jvp(cr.linalg.det, (a,), (t,))
        A, T = np.asarray(a), np.asarray(t)
        adj = np.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]])  # det(A) A^-1, defined when singular
        assert value.item() == pytest.approx(np.linalg.det(A), abs=1e-14)
        assert slope.item() == pytest.approx(np.trace(adj @ T), rel=1e-13)


# ------------------------------------------------------------------------------ cr.autograd.Function.jvp
class _Sigmoid(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + cr.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return t * y * (1 - y)


class _NoJvp(_Sigmoid):
    jvp = cr.autograd.Function.jvp


def test_a_function_with_jvp_matches_torchs():
    class TorchSigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = 1 / (1 + torch.exp(-x))
            ctx.save_for_backward(y)
            ctx.save_for_forward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y * (1 - y)

        @staticmethod
        def jvp(ctx, t):
            (y,) = ctx.saved_tensors
            return t * y * (1 - y)

    x, t = np.array([-1.0, 0.0, 2.5]), np.array([0.5, -1.0, 2.0])
    ours = _dual_outputs(fwAD, _Sigmoid.apply, [cr.tensor(x, dtype=cr.float64)], [0], [cr.tensor(t, dtype=cr.float64)])
    theirs = _dual_outputs(tfw, TorchSigmoid.apply, [torch.tensor(x)], [0], [torch.tensor(t)])
    np.testing.assert_allclose(np.asarray(ours[0][1]), theirs[0][1].numpy(), rtol=1e-15)
    np.testing.assert_allclose(np.asarray(ours[0][0]), theirs[0][0].numpy(), rtol=1e-15)


def test_a_function_without_jvp_refuses_forward_mode_and_func_jvp_takes_the_reverse_route():
    with fwAD.dual_level():
        with pytest.raises(NotImplementedError, match="_NoJvp: forward mode .* needs a jvp"):
            _NoJvp.apply(fwAD.make_dual(cr.zeros(2), cr.ones(2)))
    x, t = cr.tensor([-1.0, 0.5], dtype=cr.float64), cr.tensor([2.0, 3.0], dtype=cr.float64)
    y, jt = cr.func.jvp(_NoJvp.apply, (x,), (t,))
    s = 1 / (1 + np.exp(-np.asarray(x)))
    np.testing.assert_allclose(np.asarray(jt), np.asarray(t) * s * (1 - s), rtol=1e-14)


# ------------------------------------------------------------------------------ cr.func on forward mode
def test_func_jvp_and_jacfwd_match_torch_func():
    def f(x, y):
        return cr.softmax(x * y.sum(), 0) * cr.log1p(x ** 2)

    def g(x, y):
        return torch.softmax(x * y.sum(), 0) * torch.log1p(x ** 2)

    rs = np.random.RandomState(0)
    x, y, tx, ty = (rs.randn(4) for _ in range(4))
    C = lambda a: cr.tensor(a, dtype=cr.float64)  # noqa: E731
    T = torch.tensor
    o, jt = cr.func.jvp(f, (C(x), C(y)), (C(tx), C(ty)))
    to, tjt = torch.func.jvp(g, (T(x), T(y)), (T(tx), T(ty)))
    np.testing.assert_allclose(np.asarray(o), to.numpy(), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(jt), tjt.numpy(), rtol=1e-10, atol=1e-13)
    for argnums in (0, 1, (0, 1)):
        ours = cr.func.jacfwd(f, argnums=argnums)(C(x), C(y))
        theirs = torch.func.jacfwd(g, argnums=argnums)(T(x), T(y))
        for a, b in zip(ours if isinstance(ours, tuple) else (ours,), theirs if isinstance(theirs, tuple) else (theirs,)):
            np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-10, atol=1e-13)


def test_hessian_is_forward_over_reverse_and_matches_torch():
    def f(x):
        return cr.logsumexp(x, 0) + (x[1:] * cr.tanh(x[:-1])).sum()

    def g(x):
        return torch.logsumexp(x, 0) + (x[1:] * torch.tanh(x[:-1])).sum()

    x = np.random.RandomState(1).randn(5)
    ours = cr.func.hessian(f)(cr.tensor(x, dtype=cr.float64))
    np.testing.assert_allclose(np.asarray(ours), torch.func.hessian(g)(torch.tensor(x)).numpy(), rtol=1e-10, atol=1e-13)
    rev = cr.func.jacrev(cr.func.jacrev(f))(cr.tensor(x, dtype=cr.float64))  # reverse over reverse
    np.testing.assert_allclose(np.asarray(ours), np.asarray(rev), rtol=1e-12, atol=1e-14)
    rof = cr.func.jacrev(cr.func.jacfwd(f))(cr.tensor(x, dtype=cr.float64))  # reverse over forward
    np.testing.assert_allclose(np.asarray(ours), np.asarray(rof), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------ found in review
class _Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 3 * x ** 2


class _Exp(cr.autograd.Function):  # torch's docs' pattern: save the output, forward and setup_context apart
    @staticmethod
    def forward(x):
        return x.exp()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return t * y


def test_a_functions_hessian_is_right_though_its_backward_has_no_tangents():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64)
    f = lambda z: _Cube.apply(z).sum()  # noqa: E731
    np.testing.assert_allclose(np.asarray(cr.func.hessian(f)(x)), np.diag(6 * np.asarray(x)), rtol=1e-14)
    hv = cr.func.jvp(cr.func.grad(f), (x,), (cr.ones(3, dtype=cr.float64),))[1]
    np.testing.assert_allclose(np.asarray(hv), 6 * np.asarray(x), rtol=1e-14)


def test_a_function_saving_its_output_with_setup_context_has_a_tangent():
    x = cr.tensor([0.0, 1.0], dtype=cr.float64, requires_grad=True)
    with cr.no_grad(), fwAD.dual_level():  # no reverse graph: forward mode alone
        y = _Exp.apply(fwAD.make_dual(x.detach(), cr.tensor([1.0, 2.0], dtype=cr.float64)))
        t = fwAD.unpack_dual(y).tangent
    np.testing.assert_allclose(np.asarray(t), [1.0, 2 * np.e], rtol=1e-15)
    with fwAD.dual_level():
        y = _Exp.apply(fwAD.make_dual(x.detach(), cr.tensor([1.0, 2.0], dtype=cr.float64)))
        assert fwAD.unpack_dual(y).tangent.tolist() == pytest.approx([1.0, 2 * np.e])


def test_in_place_reshapes_keep_the_tangent_in_step():
    for L, fw in ((cr, fwAD), (torch, tfw)):
        with fw.dual_level():
            d = fw.make_dual(L.tensor([1.0, 2.0, 3.0]), L.tensor([10.0, 20.0, 30.0])) * 1.0
            d.unsqueeze_(1)
            t = fw.unpack_dual(d * L.ones(3, 3)).tangent
        assert t.tolist() == [[10.0] * 3, [20.0] * 3, [30.0] * 3], L.__name__


def test_writing_a_dual_into_a_tensor_refuses_instead_of_dropping_the_tangent():
    y = cr.zeros(2)
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([1.0, 2.0]), cr.tensor([0.0, 1.0]))
        with pytest.raises(NotImplementedError, match="setitem: writing a dual tensor"):
            y[0] = d[1]


def test_jacfwd_refuses_a_function_that_draws_random_numbers():
    x = cr.ones(3, dtype=cr.float64)
    with pytest.raises(ValueError, match="jacfwd: f draws random numbers"):
        cr.func.jacfwd(lambda z: z * cr.randn(3, dtype=cr.float64))(x)
    calls = []
    cr.func.jacfwd(lambda z: (calls.append(1), z * 2)[1])(x)
    assert len(calls) == 3  # once per input element, no extra evaluation


def test_pow_of_an_integer_base_has_a_float64_tangent():
    a, b, t = [3, 7, 11], [1.3, 2.1, 0.7], [1.0, 1.0, 1.0]
    with fwAD.dual_level():
        ours = fwAD.unpack_dual(cr.pow(cr.tensor(a), fwAD.make_dual(cr.tensor(b, dtype=cr.float64),
                                                                    cr.tensor(t, dtype=cr.float64)))).tangent
    np.testing.assert_allclose(np.asarray(ours), np.power(a, b) * np.log(a), rtol=1e-15)


def test_backward_twice_under_a_dual_level_accumulates_value_and_tangent():
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([3.0, 4.0], dtype=cr.float64), cr.tensor([1.0, 0.0], dtype=cr.float64))
        (w * d).sum().backward()
        (w * d).sum().backward()
        g, tg = fwAD.unpack_dual(w.grad)
    # w.grad = 2d, so its tangent is 2t (torch 2.13 keeps only the first backward's tangent, [1, 0])
    assert g.tolist() == [6.0, 8.0] and tg.tolist() == [2.0, 0.0]


def test_func_jvp_keeps_grad_mode_and_survives_a_level_exited_inside():
    seen = []
    cr.func.jvp(lambda z: (seen.append(cr.is_grad_enabled()), z * 2)[1], (cr.ones(2),), (cr.ones(2),))
    assert seen == [True]

    def rude(z):
        fwAD.exit_dual_level()
        return z * 2
    with pytest.raises(RuntimeError):  # its own level is gone: an error, not an abort
        cr.func.jvp(rude, (cr.ones(2),), (cr.ones(2),))
    with fwAD.dual_level():  # and a new level can start afterwards
        pass
