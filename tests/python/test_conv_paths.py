"""conv2d as one GEMM over the whole batch (cols laid out (C*kh*kw, N*L)): values, gradients,
second derivatives and forward-mode tangents against torch, and finite differences in float64, on
shapes that hit every branch (N = 0 and 1, C = 1, groups, stride, dilation, 1x1 kernels, odd sizes,
unbatched input, bias or none)."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
import torch.nn.functional as TF

pytestmark = pytest.mark.usefixtures("torch_one_thread")
CR = {"float32": cr.float32, "float64": cr.float64}
TOL = {"float32": (2e-5, 2e-5), "float64": (1e-11, 1e-12)}
GTOL = {"float32": (1e-4, 1e-4), "float64": (1e-10, 1e-11)}

# (input shape, weight shape, bias?, stride, padding, dilation, groups)
CASES = [
    ((2, 1, 8, 8), (8, 1, 3, 3), True, 1, 1, 1, 1),       # the course CNN's first layer
    ((3, 8, 7, 7), (16, 8, 3, 3), True, 1, 1, 1, 1),      # its second, odd size
    ((1, 3, 5, 6), (4, 3, 3, 3), False, 1, 0, 1, 1),      # N = 1, no bias, non-square
    ((0, 3, 5, 5), (4, 3, 3, 3), True, 1, 1, 1, 1),       # empty batch
    ((2, 4, 9, 9), (6, 2, 3, 3), True, 2, 1, 1, 2),       # groups 2, stride 2
    ((2, 4, 6, 6), (4, 1, 3, 3), True, 1, 1, 1, 4),       # depthwise
    ((2, 3, 11, 10), (5, 3, 3, 3), True, (2, 1), 2, 2, 1),  # dilation 2, mixed stride
    ((3, 5, 4, 4), (7, 5, 1, 1), True, 1, 0, 1, 1),       # 1x1 kernel
    ((2, 2, 9, 9), (3, 2, 5, 5), True, 2, 2, 1, 1),       # 5x5, stride 2
    ((2, 3, 3, 3), (2, 3, 3, 3), False, 1, 0, 1, 1),      # one output pixel
    ((6, 5, 7), (4, 3, 3, 3), True, 1, 1, 1, 2),          # unbatched (C, H, W), groups
    ((2, 3, 7, 7), (4, 3, 3, 3), True, 1, 2, 2, 1),       # "same" size with dilation 2
    ((2, 2, 2, 3), (3, 2, 5, 5), True, 1, 2, 1, 1),       # "same" size, kernel past the input
    ((1, 2, 6, 5), (3, 2, 3, 3), True, (1, 2), 1, 1, 1),  # stride 1 down, 2 across
]
IDS = [f"x{c[0]}-w{c[1]}-s{c[3]}-p{c[4]}-d{c[5]}-g{c[6]}" for c in CASES]


def _data(case, dtype, seed=0):
    xs, ws, has_b, *_ = case
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if has_b:
        arrs.append(rng.standard_normal(ws[0]))
    return [a.astype(dtype) for a in arrs]


def _conv(lib, case):
    _, _, has_b, s, p, d, g = case
    fn = F.conv2d if lib is cr else TF.conv2d
    return lambda x, w, b=None: fn(x, w, b, s, p, d, g)


def _close(a, b, tol, what):
    a = np.asarray(a.detach()) if isinstance(a, cr.Tensor) else a.detach().numpy()
    b = b.detach().numpy()
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol[0], atol=tol[1], err_msg=what)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_and_gradients_match_torch(case, dtype):
    arrs = _data(case, dtype)
    xc = [cr.tensor(a, requires_grad=True) for a in arrs]
    xt = [torch.tensor(a, requires_grad=True) for a in arrs]
    yc, yt = _conv(cr, case)(*xc), _conv(torch, case)(*xt)
    _close(yc, yt, TOL[dtype], "value")
    assert yc.is_contiguous()
    gy = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    yc.backward(cr.tensor(gy))
    yt.backward(torch.tensor(gy))
    for i, (a, b) in enumerate(zip(xc, xt)):
        _close(a.grad, b.grad, GTOL[dtype], f"grad of input {i}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad_of_grad_matches_torch(case):
    # d/d(x, w, b) of <dL/dx, v> + <dL/dw, u>: the backward's own backward (fold, unfold, both GEMMs)
    arrs = _data(case, "float64", seed=2)
    rng = np.random.default_rng(3)
    out = {}
    for lib in (cr, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrs]
        y = _conv(lib, case)(*xs)
        gy = lib.tensor(rng.standard_normal(tuple(y.shape)) if lib is cr else out["gy"])
        out.setdefault("gy", np.asarray(gy.detach()))
        grads = (cr.autograd if lib is cr else torch.autograd).grad(y, xs, gy, create_graph=True)
        vs = [lib.tensor(np.cos(np.arange(a.size)).reshape(a.shape)) for a in arrs]
        s = sum((gi * vi).sum() for gi, vi in zip(grads, vs))
        if not s.requires_grad:  # every second derivative is 0 (conv is bilinear in (x, w))
            out[lib.__name__] = None
            continue
        out[lib.__name__] = (cr.autograd if lib is cr else torch.autograd).grad(
            s, xs, allow_unused=True)
    assert (out["chainrule"] is None) == (out["torch"] is None)
    if out["torch"] is None:
        return
    for i, (a, b) in enumerate(zip(out["chainrule"], out["torch"])):
        if b is None:
            assert a is None or not np.asarray(a).any(), f"input {i}: torch has no second derivative"
        else:
            _close(a, b, GTOL["float64"], f"second derivative of input {i}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_matches_torch_func(case):
    arrs = _data(case, "float64", seed=4)
    tans = [np.sin(np.arange(a.size) + 1.0).reshape(a.shape) for a in arrs]
    yc, tc = cr.func.jvp(_conv(cr, case), tuple(cr.tensor(a) for a in arrs), tuple(cr.tensor(t) for t in tans))
    yt, tt = torch.func.jvp(_conv(torch, case), tuple(torch.tensor(a) for a in arrs),
                            tuple(torch.tensor(t) for t in tans))
    _close(yc, yt, TOL["float64"], "jvp primal")
    _close(tc, tt, GTOL["float64"], "jvp tangent")


@pytest.mark.parametrize("case", [c for c in CASES if c[0][0] != 0], ids=[i for c, i in zip(CASES, IDS)
                                                                          if c[0][0] != 0])
def test_finite_differences_float64(case):
    arrs = _data(case, "float64", seed=5)
    xs = [cr.tensor(a, requires_grad=True) for a in arrs]
    assert cr.autograd.gradcheck(_conv(cr, case), xs)
    assert cr.autograd.gradgradcheck(_conv(cr, case), xs)


def test_strided_inputs_and_expanded_gradients():
    # x and w as transposed views, and y.sum()'s gradient an expanded scalar: the kernels must read
    # them through dense copies that stay alive
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    xc = cr.tensor(x.transpose(0, 1, 3, 2).copy(), requires_grad=True)
    wc = cr.tensor(w, requires_grad=True)
    xt = torch.tensor(x.transpose(0, 1, 3, 2).copy(), requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    yc = F.max_pool2d(F.conv2d(xc.transpose(2, 3), wc.transpose(2, 3), padding=1), 2)
    yt = TF.max_pool2d(TF.conv2d(xt.transpose(2, 3), wt.transpose(2, 3), padding=1), 2)
    _close(yc, yt, TOL["float64"], "value")
    yc.sum().backward()
    yt.sum().backward()
    _close(xc.grad, xt.grad, GTOL["float64"], "input gradient")
    _close(wc.grad, wt.grad, GTOL["float64"], "weight gradient")


def test_matches_the_per_image_definition():
    # independent of the batch-wide layout: each image alone through unfold + matmul
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((5, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    y = np.asarray(F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), 1, (1, 0)))
    for n in range(5):
        cols = np.asarray(F.unfold(cr.tensor(x[n:n + 1]), (3, 2), padding=(1, 0)))[0]
        want = (w.reshape(4, -1) @ cols + b[:, None]).reshape(4, *y.shape[2:])
        np.testing.assert_allclose(y[n], want, rtol=1e-12, atol=1e-12)


def test_special_values_stay_in_their_image():
    # a nan or inf in one image must not leak into another image's output or weight gradient rows
    x = np.zeros((3, 2, 5, 5))
    x[1, 0, 2, 2] = np.nan
    x[2, 1, 0, 0] = np.inf
    w = np.ones((3, 2, 3, 3))
    xc, xt = cr.tensor(x), torch.tensor(x)
    y = F.conv2d(xc, cr.tensor(w), padding=1)
    _close(y, TF.conv2d(xt, torch.tensor(w), padding=1), (0, 0), "special values")
    assert not np.isnan(np.asarray(y)[0]).any() and not np.isinf(np.asarray(y)[0]).any()


def test_conv_net_train_step_matches_torch():
    # the course CNN (conv-relu-pool twice, linear) for a few SGD steps, float64
    def make(T):
        nn = T.nn
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(16 * 2 * 2, 10))
    torch.manual_seed(0)
    mt = make(torch).double()
    mc = make(cr).double()
    mc.load_state_dict({k: cr.tensor(v.numpy()) for k, v in mt.state_dict().items()})
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((16, 1, 8, 8)), rng.integers(0, 10, 16)
    for lib, m in ((cr, mc), (torch, mt)):
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            lib.nn.functional.cross_entropy(m(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
    for (k, a), b in zip(mc.state_dict().items(), mt.state_dict().values()):
        _close(a, b, (1e-10, 1e-12), k)


# max_pool2d: the row-at-a-time kernel and its gather/scatter pair (each the other's backward)
POOLS = [  # (input shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 8, 8), 2, None, 0, 1, False),                 # the 2x2 fast path
    ((1, 2, 5, 7), 2, None, 0, 1, False),                 # ... with a row and a column left over
    ((1, 2, 5, 5), 2, None, 0, 1, True),                  # 2x2, ceil_mode: the general path
    ((2, 3, 7, 9), 3, 2, 1, 1, True),
    ((1, 2, 9, 9), (2, 3), (1, 2), (1, 1), 2, False),
    ((0, 2, 4, 4), 2, None, 0, 1, False),
    ((3, 5, 5), 3, 1, 1, 1, False),                       # unbatched, overlapping windows
    ((1, 1, 5, 5), 4, 3, 2, 1, True),                     # ceil_mode window hanging past the input
]
PIDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-c{c[5]}" for c in POOLS]


def _pool(lib, case):
    _, k, s, p, d, c = case
    fn = F.max_pool2d if lib is cr else TF.max_pool2d
    return lambda x: fn(x, k, s, p, d, c)


def _pool_input(shape, dtype, seed=8):
    x = np.random.default_rng(seed).integers(-3, 4, shape).astype(dtype)  # many ties
    if x.size > 8:
        x.flat[3], x.flat[5], x.flat[7] = np.nan, -np.inf, np.inf
    return x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", POOLS, ids=PIDS)
def test_max_pool_values_indices_and_gradients_match_torch(case, dtype):
    x = _pool_input(case[0], dtype)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = _pool(cr, case)(xc), _pool(torch, case)(xt)
    np.testing.assert_array_equal(np.asarray(yc.detach()), yt.detach().numpy())
    _, k, s, p, d, c = case
    ic = F.max_pool2d(cr.tensor(x), k, s, p, d, c, return_indices=True)[1]
    it = TF.max_pool2d(torch.tensor(x), k, s, p, d, c, return_indices=True)[1]
    np.testing.assert_array_equal(np.asarray(ic), it.numpy())
    g = np.random.default_rng(9).standard_normal(tuple(yt.shape)).astype(dtype)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xc.grad, xt.grad, GTOL[dtype], "max_pool2d gradient")


@pytest.mark.parametrize("case", POOLS, ids=PIDS)
def test_max_pool_second_derivatives_and_jvp(case):
    x = np.random.default_rng(10).standard_normal(case[0])  # distinct values: a differentiable max
    if x.size:
        assert cr.autograd.gradcheck(_pool(cr, case), [cr.tensor(x, requires_grad=True)])
        assert cr.autograd.gradgradcheck(_pool(cr, case), [cr.tensor(x, requires_grad=True)])
    t = np.cos(np.arange(x.size)).reshape(x.shape)
    yc, tc = cr.func.jvp(_pool(cr, case), (cr.tensor(x),), (cr.tensor(t),))
    yt, tt = torch.func.jvp(_pool(torch, case), (torch.tensor(x),), (torch.tensor(t),))
    _close(yc, yt, (0, 0), "jvp primal")
    _close(tc, tt, (0, 0), "jvp tangent")
    # grad of (grad . v) w.r.t. the output gradient: the backward's backward, a gather
    xs = cr.tensor(x, requires_grad=True)
    y = _pool(cr, case)(xs)
    gy = cr.tensor(np.ones(tuple(y.shape)), requires_grad=True)
    (gx,) = cr.autograd.grad(y, [xs], gy, create_graph=True)
    (ggy,) = cr.autograd.grad((gx * cr.tensor(t)).sum(), [gy])
    xt = torch.tensor(x, requires_grad=True)
    yt = _pool(torch, case)(xt)
    gyt = torch.ones(tuple(yt.shape), dtype=torch.float64, requires_grad=True)
    (gxt,) = torch.autograd.grad(yt, [xt], gyt, create_graph=True)
    (ggyt,) = torch.autograd.grad((gxt * torch.tensor(t)).sum(), [gyt])
    _close(ggy, ggyt, (0, 0), "double backward")
