"""cr.func against torch.func in float64 (tolerance 1e-10): every transform on the same functions,
written once for both libraries, with several argnums, has_aux, nested inputs and compositions;
closed forms; and the errors that teach."""
import math

import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule as cr

TOL = 1e-10


def same(c, t):
    if isinstance(t, (tuple, list)):
        assert isinstance(c, (tuple, list)) and len(c) == len(t), (c, t)
        for a, b in zip(c, t):
            same(a, b)
        return
    if isinstance(t, dict):
        assert set(c) == set(t)
        for k in t:
            same(c[k], t[k])
        return
    assert tuple(c.shape) == tuple(t.shape), (tuple(c.shape), tuple(t.shape))
    np.testing.assert_allclose(np.asarray(c.detach()), t.detach().numpy(), rtol=TOL, atol=TOL)


def pair(*shapes, seed=0):
    """The same random float64 inputs for both libraries."""
    rs = np.random.RandomState(seed)
    arrays = [rs.uniform(-1.5, 1.5, size=s) for s in shapes]
    return [cr.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


# Functions written once: L is the library (cr or torch), F its functional module.
def f_scalar(L, x):  # R^n -> R, smooth, with a reduction, a matmul and a nonlinearity
    return (L.tanh(x) * x.exp()).sum() + (x @ x) / 3 + L.log1p(x * x).mean()


def f_vector(L, x):  # R^n -> R^(n+1)
    return L.cat([L.sin(x) * x, (x * x).sum().reshape(1)])


def f_two(L, a, b):  # two inputs, one scalar output
    return (a @ b).tanh().sum() + (a * a).sum() * b.sum()


def f_matrix(L, w, x):  # a layer: W (3, 4), x (5, 4) -> (5, 3)
    return L.sigmoid(x @ w.T)


def f_softmax_ce(L, logits, target_probs):
    return -(target_probs * L.log_softmax(logits, -1)).sum()


FUNCS_SCALAR = {
    "scalar": (f_scalar, [(5,)]),
    "two": (f_two, [(3, 4), (4,)]),
    "softmax_ce": (f_softmax_ce, [(2, 5), (2, 5)]),
}


def lib(fn):
    return (lambda *a: fn(cr, *a)), (lambda *a: fn(torch, *a))


@pytest.mark.parametrize("name,argnums", [(n, a) for n, (_, shapes) in FUNCS_SCALAR.items()
                                           for a in ([0, 1, (0, 1), (1, 0), -1] if len(shapes) > 1 else [0, (0,)])])
def test_grad_and_grad_and_value_as_torch_func(name, argnums):
    fn, shapes = FUNCS_SCALAR[name]
    fc, ft = lib(fn)
    xc, xt = pair(*shapes)
    same(cr.func.grad(fc, argnums=argnums)(*xc), tf.grad(ft, argnums=argnums)(*xt))
    gc, vc = cr.func.grad_and_value(fc, argnums=argnums)(*xc)
    gt, vt = tf.grad_and_value(ft, argnums=argnums)(*xt)
    same(gc, gt)
    same(vc, vt)


@pytest.mark.parametrize("name", list(FUNCS_SCALAR))
def test_hessian_and_hvp_as_torch_func(name):
    fn, shapes = FUNCS_SCALAR[name]
    fc, ft = lib(fn)
    xc, xt = pair(*shapes, seed=1)
    argnums = tuple(range(len(shapes))) if len(shapes) > 1 else 0
    same(cr.func.hessian(fc, argnums=argnums)(*xc), tf.hessian(ft, argnums=argnums)(*xt))
    vc, vt = pair(*shapes, seed=2)
    # torch: H v as the JVP of the gradient (forward over reverse)
    _, hv_t = tf.jvp(tf.grad(ft, argnums=tuple(range(len(shapes)))), tuple(xt), tuple(vt))
    same(cr.func.hvp(fc, tuple(xc), tuple(vc)), hv_t)
    if len(shapes) == 1:
        same(cr.func.hvp(fc, xc[0], vc[0]), hv_t[0])


@pytest.mark.parametrize("name,fn,shapes", [("vector", f_vector, [(4,)]), ("matrix", f_matrix, [(3, 4), (5, 4)]),
                                            ("scalar", f_scalar, [(5,)])])
def test_jacrev_jacfwd_jvp_vjp_linearize_as_torch_func(name, fn, shapes):
    fc, ft = lib(fn)
    xc, xt = pair(*shapes, seed=3)
    nums = tuple(range(len(shapes)))
    for argnums in {0, nums}:
        same(cr.func.jacrev(fc, argnums=argnums)(*xc), tf.jacrev(ft, argnums=argnums)(*xt))
        same(cr.func.jacfwd(fc, argnums=argnums)(*xc), tf.jacfwd(ft, argnums=argnums)(*xt))
    tc, tt = pair(*shapes, seed=4)
    oc, jc = cr.func.jvp(fc, tuple(xc), tuple(tc))
    ot, jt = tf.jvp(ft, tuple(xt), tuple(tt))
    same(oc, ot)
    same(jc, jt)
    oc, vjp_c = cr.func.vjp(fc, *xc)
    ot, vjp_t = tf.vjp(ft, *xt)
    same(oc, ot)
    (vc,), (vt,) = pair(tuple(ot.shape), seed=5)
    same(vjp_c(vc), vjp_t(vt))
    oc, lin_c = cr.func.linearize(fc, *xc)
    ot, lin_t = tf.linearize(ft, *xt)
    same(oc, ot)
    same(lin_c(*tc), lin_t(*tt))
    same(lin_c(*[2 * t for t in tc]), lin_t(*[2 * t for t in tt]))  # reusable, and linear


def test_compositions_as_torch_func():
    fc, ft = lib(f_scalar)
    xc, xt = pair((4,), seed=6)
    same(cr.func.jacfwd(cr.func.jacrev(fc))(*xc), tf.jacfwd(tf.jacrev(ft))(*xt))
    same(cr.func.jacrev(cr.func.jacrev(fc))(*xc), tf.jacrev(tf.jacrev(ft))(*xt))
    same(cr.func.jacrev(cr.func.hessian(fc))(*xc), tf.jacrev(tf.hessian(ft))(*xt))  # third derivatives
    # grad of grad of a scalar function of a scalar: f'' and f'''
    gc = lambda x: (x.sin() * x ** 3).sum()  # noqa: E731
    gt = lambda x: (torch.sin(x) * x ** 3).sum()  # noqa: E731
    x0c, x0t = cr.tensor(0.7, dtype=cr.float64), torch.tensor(0.7, dtype=torch.float64)
    same(cr.func.grad(cr.func.grad(gc))(x0c), tf.grad(tf.grad(gt))(x0t))
    same(cr.func.grad(cr.func.grad(cr.func.grad(gc)))(x0c), tf.grad(tf.grad(tf.grad(gt)))(x0t))
    # vjp of a grad, jvp of a grad
    _, pull_c = cr.func.vjp(cr.func.grad(fc), *xc)
    _, pull_t = tf.vjp(tf.grad(ft), *xt)
    same(pull_c(xc[0] * 0 + 1), pull_t(xt[0] * 0 + 1))


def test_has_aux_and_nested_inputs_as_torch_func():
    def make(L):
        def f(params, x):
            y = L.tanh(x @ params["w"] + params["b"])
            return (y * y).sum(), {"y": y, "n": L.tensor(3)}
        return f
    (w, b, x), (wt, bt, xt) = pair((3, 2), (2,), (4, 3), seed=7)
    pc, pt = {"w": w, "b": b}, {"w": wt, "b": bt}
    gc, auxc = cr.func.grad(make(cr), has_aux=True)(pc, x)
    gt, auxt = tf.grad(make(torch), has_aux=True)(pt, xt)
    same(gc, gt)
    same(auxc["y"], auxt["y"])
    assert auxc["n"].item() == 3 and not auxc["y"].requires_grad
    with pytest.raises(RuntimeError, match="Expected tensors, got unsupported type"):
        tf.grad(lambda t: ((t * t).sum(), 3), has_aux=True)(xt)
    with pytest.raises(TypeError, match=r"grad\(f, has_aux=True\): expected aux to be tensors .*got int"):
        cr.func.grad(lambda t: ((t * t).sum(), 3), has_aux=True)(x)
    (gc, (vc, _)), (gt, (vt, _)) = (cr.func.grad_and_value(make(cr), has_aux=True)(pc, x),
                                    tf.grad_and_value(make(torch), has_aux=True)(pt, xt))
    same(gc, gt)
    same(vc, vt)
    jc, _ = cr.func.jacrev(make(cr), argnums=(0, 1), has_aux=True)(pc, x)
    jt, _ = tf.jacrev(make(torch), argnums=(0, 1), has_aux=True)(pt, xt)
    same(jc, jt)
    oc, vjp_c, _ = cr.func.vjp(make(cr), pc, x, has_aux=True)
    ot, vjp_t, _ = tf.vjp(make(torch), pt, xt, has_aux=True)
    same(vjp_c(cr.tensor(1.0, dtype=cr.float64)), vjp_t(torch.tensor(1.0, dtype=torch.float64)))


def test_closed_forms():
    x = cr.tensor(2.0, dtype=cr.float64)
    cube = lambda x: x ** 3  # noqa: E731
    assert cr.func.grad(cube)(x).item() == 12.0
    assert cr.func.grad(cr.func.grad(cube))(x).item() == 12.0
    assert cr.func.grad(cr.func.grad(cr.func.grad(cube)))(x).item() == 6.0
    grid = cr.linspace(-3, 3, 61, dtype=cr.float64)
    d = cr.func.grad(lambda t: cr.sin(t).sum())(grid)  # f' over a grid, one call
    np.testing.assert_allclose(np.asarray(d), np.cos(np.asarray(grid)), atol=1e-15)
    # directional derivative without forming the gradient: ∇f·v for f = x² + 3y, at (1, 2), v = (3, 4)/5
    p, v = cr.tensor([1.0, 2.0], dtype=cr.float64), cr.tensor([0.6, 0.8], dtype=cr.float64)
    _, dd = cr.func.jvp(lambda q: q[0] ** 2 + 3 * q[1], (p,), (v,))
    assert abs(dd.item() - (2 * 0.6 + 3 * 0.8)) < 1e-15


def test_constants_and_unused_inputs_have_zero_derivative_as_torch_func():
    xc, xt = pair((3,), seed=8)
    same(cr.func.grad(lambda x: cr.tensor(5.0, dtype=cr.float64))(xc[0]),
         tf.grad(lambda x: torch.tensor(5.0, dtype=torch.float64))(xt[0]))
    same(cr.func.grad(lambda a, b: (a * a).sum(), argnums=1)(xc[0], xc[0] + 1),
         tf.grad(lambda a, b: (a * a).sum(), argnums=1)(xt[0], xt[0] + 1))
    same(cr.func.jacrev(lambda x: x.detach() * 2)(xc[0]), tf.jacrev(lambda x: x.detach() * 2)(xt[0]))


def test_under_no_grad_and_with_the_users_graph():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    with cr.no_grad():
        g = cr.func.grad(lambda t: (t ** 3).sum())(x)
    np.testing.assert_allclose(np.asarray(g), [3.0, 12.0])
    assert not g.requires_grad
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    g = cr.func.grad(lambda t: (t ** 3).sum())(w)  # w is tracked: the gradient keeps its graph
    (h,) = cr.autograd.grad(g.sum(), w)
    np.testing.assert_allclose(np.asarray(h), [6.0, 12.0])


def test_errors_teach():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    with pytest.raises(ValueError, match=r"^grad: expected f to return a scalar \(a 0-d tensor\), got shape \(2,\); "
                                         r"differentiate f\(x\)\.sum\(\), or use jacrev\(f\) or vjp\(f, x\)"):
        cr.func.grad(lambda t: t * 2)(x)
    with pytest.raises(ValueError, match=r"^grad: expected floating inputs, argument 0 is int64 \(2,\); derivatives "
                                         r"need floats: write cr\.tensor\(2\.0\)"):
        cr.func.grad(lambda t: (t * 2).sum())(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"grad: expected the inputs to be tensors .*got float: write cr\.tensor\(2\.0\)"):
        cr.func.grad(lambda t: t ** 2)(2.0)
    with pytest.raises(TypeError, match=r"grad: expected f's outputs to be tensors .*got float"):
        cr.func.grad(lambda t: 3.0)(x)
    with pytest.raises(ValueError, match=r"grad: argnums 2 is out of range for a function called with 2 positional"):
        cr.func.grad(lambda a, b: (a * b).sum(), argnums=2)(x, x)
    with pytest.raises(ValueError, match=r"grad\(f, has_aux=True\): expected f to return a pair \(output, aux\)"):
        cr.func.grad(lambda t: (t * t).sum(), has_aux=True)(x)
    with pytest.raises(ValueError, match=r"^jvp: expected the tangent for primal 0 to have shape \(2,\) and dtype "
                                         r"float64, got \(3,\) float64"):
        cr.func.jvp(lambda t: t * 2, (x,), (cr.zeros(3, dtype=cr.float64),))
    _, pull = cr.func.vjp(lambda t: t * 2, x)
    with pytest.raises(ValueError, match=r"^vjp: expected the cotangent for output 0 to have shape \(2,\) and dtype "
                                         r"float64, got \(2,\) float32"):
        pull(cr.zeros(2))
    # hessian is jacfwd(jacrev(f)), as torch: for a vector-valued f, one Hessian per output
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64)
    same(cr.func.hessian(lambda t: t ** 3)(x), tf.hessian(lambda t: t ** 3)(xt))


@pytest.mark.parametrize("n", list(range(0, 34)))
def test_grad_over_grids_of_every_length_as_torch_func(n):
    # lengths 0..33 reach the vectorized kernels and their scalar tails; values include ±0
    a = np.linspace(-2, 2, n) if n else np.zeros(0)
    if n > 2:
        a[1], a[2] = 0.0, -0.0
    xc, xt = cr.tensor(a), torch.tensor(a)
    f = lambda L: (lambda x: (L.tanh(x) * x).sum())  # noqa: E731
    same(cr.func.grad(f(cr))(xc), tf.grad(f(torch))(xt))
    same(cr.func.jacrev(lambda x: L_sin(cr, x))(xc), tf.jacrev(lambda x: L_sin(torch, x))(xt))
    same(cr.func.jacfwd(lambda x: L_sin(cr, x))(xc), tf.jacfwd(lambda x: L_sin(torch, x))(xt))


def L_sin(L, x):
    return L.sin(x) * 2


def test_zero_d_empty_and_nonfinite_inputs_as_torch_func():
    f = lambda L: (lambda x: (x * x * L.exp(x)).sum())  # noqa: E731
    for a in (np.float64(0.5), np.zeros((0, 3)), np.array([np.inf, -np.inf, np.nan, 1.0])):
        xc, xt = cr.tensor(a), torch.tensor(a)
        gc, gt = cr.func.grad(f(cr))(xc), tf.grad(f(torch))(xt)
        np.testing.assert_array_equal(np.isnan(np.asarray(gc)), np.isnan(gt.numpy()))
        np.testing.assert_allclose(np.asarray(gc), gt.numpy(), rtol=1e-12, equal_nan=True)
        assert tuple(cr.func.hessian(f(cr))(xc).shape) == tuple(tf.hessian(f(torch))(xt).shape)
    x0 = cr.tensor(0.3, dtype=cr.float64)
    same(cr.func.hessian(f(cr))(x0), tf.hessian(f(torch))(torch.tensor(0.3, dtype=torch.float64)))
    _, jt = cr.func.jvp(lambda x: x * 2, (cr.zeros(0, dtype=cr.float64),), (cr.zeros(0, dtype=cr.float64),))
    assert tuple(jt.shape) == (0,)
