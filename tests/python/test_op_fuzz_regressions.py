"""Disagreements with torch found by the op fuzzer (test_op_fuzz.py), each as a minimal reproducer
asserting torch's answer. They fail until chainrule is fixed."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as CF


# ------------------------------------------------------------------------------ crashes
@pytest.mark.parametrize("call", ["cr.tensor(1.0).chunk(2)", "cr.chunk(cr.tensor(1.0), 1)",
                                  "cr.split(cr.tensor(1.0), 2)", "cr.tensor(1.0).split([1], 0)"])
def test_split_and_chunk_of_a_0d_tensor_raise_instead_of_crashing(call):
    # torch: RuntimeError "chunk expects at least a 1-dimensional tensor"; chainrule segfaulted
    code = f"import chainrule as cr\ntry:\n    {call}\nexcept (RuntimeError, ValueError, IndexError):\n    pass\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"{call}: exit code {r.returncode}\n{r.stderr}"
    with pytest.raises(RuntimeError):
        torch.tensor(1.0).chunk(2)


# ------------------------------------------------------------------------------ empty tensors
@pytest.mark.parametrize("shape,ord_", [((2, 0), 1), ((0, 1, 0), 1), ((0, 0, 0), 1), ((2, 0), 2), ((0, 3), 2),
                                        ((0, 1, 0), 2), ((0, 0, 0), 2), ((0, 0, 0), float("inf"))])
def test_matrix_norm_of_an_empty_matrix_is_zero(shape, ord_):
    # torch: tensor(0.) (an empty batch: tensor([])); chainrule raised "amax: expected a non-empty
    # reduction" (ord=inf only for the empty batch of 0x0 matrices)
    expected = torch.linalg.matrix_norm(torch.zeros(shape), ord_)
    got = cr.linalg.matrix_norm(cr.zeros(shape), ord_)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(np.asarray(got), expected.numpy())


# ------------------------------------------------------------------------------ reductions
@pytest.mark.parametrize("dtype,n", [("float64", 6), ("float64", 7), ("float32", 3), ("float32", 7)])
def test_std_of_a_constant_is_zero_with_zero_gradient(dtype, n):
    # torch: std of equal values is exactly 0 (its mean of equal values is exact) and the gradient
    # there is 0 (PyTorch's convention; central differences agree: std(c + h d) = |h| std(d)).
    # chainrule: std 2.4e-16 (1.3e-7 in float32) from a rounded mean, so the gradient
    # (x - mean) / ((n - 1) std) is +-1/sqrt(n) instead of 0
    xt = torch.full((n,), -1.2345, dtype=getattr(torch, dtype), requires_grad=True)
    xc = cr.full((n,), -1.2345, dtype=getattr(cr, dtype), requires_grad=True)
    st, sc = xt.std(), xc.std()
    st.backward()
    sc.backward()
    assert st.item() == 0.0
    assert sc.item() == 0.0
    np.testing.assert_array_equal(np.asarray(xc.grad), xt.grad.numpy())


# ------------------------------------------------------------------------------ 0-d tensors
@pytest.mark.parametrize("value,mask", [(0.5, True), (0.5, False)])
def test_boolean_mask_indexing_of_a_0d_tensor(value, mask):
    # torch: x[x > 0] of a 0-d x is a (1,) or (0,) tensor; chainrule raised NumPy's
    # "Calling nonzero on 0d arrays is not allowed"
    expected = torch.tensor(value)[torch.tensor(mask)]
    got = cr.tensor(value)[cr.tensor(mask)]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(np.asarray(got), expected.numpy())


def test_boolean_0d_mask_on_a_vector_adds_a_dim():
    expected = torch.zeros(2)[torch.tensor(False)]  # shape (0, 2)
    got = cr.zeros(2)[cr.tensor(False)]
    assert tuple(got.shape) == tuple(expected.shape)


def test_boolean_mask_from_a_comparison_of_a_0d_tensor_has_gradients():
    x_t = torch.tensor(0.5, requires_grad=True)
    x_c = cr.tensor(0.5, requires_grad=True)
    (x_t[x_t > 0] * 3).sum().backward()
    (x_c[x_c > 0] * 3).sum().backward()
    assert float(x_c.grad) == float(x_t.grad) == 3.0


@pytest.mark.parametrize("args", [(1,), (0, 1), (-2,), (1, 2)])
def test_flatten_of_a_0d_tensor_checks_its_dims(args):
    # torch: IndexError "Dimension out of range (expected to be in range of [-1, 0], but got 1)";
    # chainrule returned a (1,) tensor
    with pytest.raises(IndexError):
        torch.tensor(0.5).flatten(*args)
    with pytest.raises(IndexError, match="flatten"):
        cr.tensor(0.5).flatten(*args)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
def test_repeated_dims_of_a_0d_tensor_are_rejected(op):
    # torch: RuntimeError "dim 0 appears multiple times in the list of dims" (0 and -1 are the same
    # dim of a 0-d tensor); chainrule returned the tensor (as it already rejects (1, -1) on 2-d ones)
    with pytest.raises(RuntimeError, match="multiple times"):
        getattr(torch.tensor(0.5), op)(dim=(0, -1))
    with pytest.raises(ValueError, match=f"{op}: dim 0 appears more than once"):
        getattr(cr.tensor(0.5), op)(dim=(0, -1))


# ------------------------------------------------------------------------------ functional
@pytest.mark.parametrize("x_shape", [(4,), (2, 4), (3, 2, 4)])
def test_linear_with_a_1d_weight_is_a_dot_product(x_shape):
    # torch: F.linear(x, w) with w of shape (in_features,) gives x @ w (the last dim dropped);
    # chainrule raised "linear: expected ... weight (out_features, in_features)"
    rs = np.random.RandomState(0)
    x, w = rs.randn(*x_shape), rs.randn(4)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    xc, wc = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    yt, yc = TF.linear(xt, wt), CF.linear(xc, wc)
    assert tuple(yc.shape) == tuple(yt.shape)
    np.testing.assert_allclose(np.asarray(yc.detach()), yt.detach().numpy(), rtol=1e-12)
    yt.sum().backward()
    yc.sum().backward()
    np.testing.assert_allclose(np.asarray(wc.grad), wt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(xc.grad), xt.grad.numpy(), rtol=1e-12)


def test_linear_with_a_1d_weight_takes_a_0d_bias_as_documented():
    # found by fuzz campaigns: chainrule added a (3,) bias, torch refuses (so a student's code that
    # runs here would fail there); then chainrule refused the 0-d bias torch's docs give for a 1-D
    # weight ("weight (in_features) -> bias ()"), which torch accepts for 1-D and 3-D inputs
    with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
        TF.linear(torch.ones(3, 2), torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match=r"linear: a 1-D weight \(2,\) takes a 0-d bias or none, got bias \(3,\)"):
        CF.linear(cr.ones(3, 2), cr.ones(2), cr.ones(3))
    rs = np.random.RandomState(3)
    for shape in [(4,), (1, 2, 4)]:
        x, w, b = rs.randn(*shape), rs.randn(4), np.asarray(rs.randn())
        tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
        cx, cw, cb = (cr.tensor(v, requires_grad=True) for v in (x, w, b))
        yt, yc = TF.linear(tx, tw, tb), CF.linear(cx, cw, cb)
        assert tuple(yc.shape) == tuple(yt.shape)
        np.testing.assert_allclose(np.asarray(yc.detach()), yt.detach().numpy(), rtol=1e-12)
        (yt * yt).sum().backward()
        (yc * yc).sum().backward()
        for c, t in ((cx, tx), (cw, tw), (cb, tb)):
            np.testing.assert_allclose(np.asarray(c.grad), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda L, F: L.ones(2, 3) @ L.ones(3, 2, dtype=L.float64),
    lambda L, F: L.mm(L.ones(2, 3, dtype=L.float64), L.ones(3, 2)),
    lambda L, F: F.linear(L.ones(2, 3, dtype=L.float64), L.ones(4, 3)),
    lambda L, F: F.linear(L.ones(2, 3), L.ones(4, 3), L.ones(4, dtype=L.float64)),
    lambda L, F: F.layer_norm(L.ones(2, 3), (3,), L.ones(3, dtype=L.float64)),
    lambda L, F: F.batch_norm(L.ones(2, 3), L.zeros(3, dtype=L.float64), L.ones(3, dtype=L.float64)),
    lambda L, F: F.cross_entropy(L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(3, dtype=L.float64)),
])
def test_products_and_layer_parameters_never_promote_as_in_torch(call):
    # chainrule promoted float32 with float64 where torch raises: code that ran here (a float64
    # NumPy batch into a float32 model) failed in torch. The message says how to fix it.
    with pytest.raises(RuntimeError):
        call(torch, TF)
    with pytest.raises(ValueError, match=r"^(matmul|mm|linear|layer_norm|batch_norm|cross_entropy): expected .*"
                                         r"(of one dtype, got float(32|64) \(2, 3\) and float(32|64) \(|"
                                         r"of dtype float32 as the input.*, got float64).*convert"):
        call(cr, CF)


@pytest.mark.parametrize("bias_shape", [(), (2, 3), (1, 3)])
def test_linear_bias_broadcasts(bias_shape):
    # torch: the bias is added with broadcasting (x @ w.T + b); chainrule raised
    # "linear: expected bias of shape (3,), got ()"
    rs = np.random.RandomState(1)
    x, w, b = rs.randn(2, 4), rs.randn(3, 4), np.asarray(rs.randn(*bias_shape))  # () is a float64 array
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    cs = [cr.tensor(a, requires_grad=True) for a in (x, w, b)]
    yt, yc = TF.linear(*ts), CF.linear(*cs)
    np.testing.assert_allclose(np.asarray(yc.detach()), yt.detach().numpy(), rtol=1e-12)
    yt.sum().backward()
    yc.sum().backward()
    np.testing.assert_allclose(np.asarray(cs[2].grad), ts[2].grad.numpy(), rtol=1e-12)


def test_scatter_add_reads_only_the_index_shaped_part_of_src():
    # torch: src may be larger than index in every dim (only src[:3, :2] is read here);
    # chainrule raised "scatter_add: expected src of the index's shape (3, 2), got (3, 4)"
    idx = [[0, 1], [3, 3], [2, 0]]
    src = np.arange(12.0).reshape(3, 4)
    st = torch.tensor(src, requires_grad=True)
    sc = cr.tensor(src, requires_grad=True)
    yt = torch.scatter_add(torch.zeros(3, 4, dtype=torch.float64), 1, torch.tensor(idx), st)
    yc = cr.scatter_add(cr.zeros(3, 4, dtype=cr.float64), 1, cr.tensor(idx), sc)
    np.testing.assert_array_equal(np.asarray(yc.detach()), yt.detach().numpy())
    # torch 2.13's backward fails here ("ScatterAddBackward0 returned an invalid gradient ... [3, 2]
    # but expected shape compatible with [3, 4]"); the derivative is 1 where src is read, else 0
    with pytest.raises(RuntimeError, match="invalid gradient"):
        yt.sum().backward()
    yc.sum().backward()
    expected = np.zeros((3, 4))
    expected[:, :2] = 1
    np.testing.assert_array_equal(np.asarray(sc.grad), expected)


def test_solve_with_left_false_rejects_a_vector_right_hand_side():
    # torch: RuntimeError "linalg.solve: Vector broadcasting of the left hand side is not supported
    # for left=False"; chainrule returned a (2, 2, 1) tensor (B taken as a matrix)
    with pytest.raises(RuntimeError, match="left=False"):
        torch.linalg.solve(torch.ones(2, 1, 1) * 2, torch.ones(2, 1), left=False)
    with pytest.raises(ValueError, match="linalg.solve"):
        cr.linalg.solve(cr.ones(2, 1, 1) * 2, cr.ones(2, 1), left=False)


# ------------------------------------------------------------------------------ second derivatives
def test_hvp_of_a_norm_of_a_product_of_zeros_at_the_kink_is_nan_not_a_convention():
    # y = |(x0 - c0)(x1 - c1)| at x = c (the fuzzer met it as the norm of a product of variances).
    # y has no Hessian there: central differences of the gradient along (1, 1, 1) give (1, 1, 0),
    # torch gives (0, 0, 0) (its first-order prod backward returns zeros for two zeros, dropping the
    # norm's nan second derivative at 0), chainrule gives nan there: the norm's second derivative
    # at 0 is nan in both libraries (test_conformance checks it), and nan says "undefined" where a
    # 0 would be a silently wrong number.
    def hvp(lib):
        x = lib.tensor([0.8, 0.3, -0.2], dtype=lib.float64, requires_grad=True)
        v = x[:2] - x[:2].detach()
        y = lib.linalg.norm(lib.prod(v).reshape(1))
        (g,) = lib.autograd.grad(y, [x], create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), [x])
        return np.asarray(h.detach()) if lib is cr else h.numpy()

    def grad_at(x):  # the gradient of y in float64, by hand: sign(p) * (x1 - c1, x0 - c0, 0)
        p = (x[0] - 0.8) * (x[1] - 0.3)
        return np.sign(p) * np.array([x[1] - 0.3, x[0] - 0.8, 0.0])
    c, h = np.array([0.8, 0.3, -0.2]), 1e-4
    fd = (grad_at(c + h) - grad_at(c - h)) / (2 * h)
    np.testing.assert_allclose(fd, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(hvp(torch), [0.0, 0.0, 0.0])
    got = hvp(cr)
    assert np.isnan(got[:2]).all() and got[2] == 0.0


def test_solve_of_a_1x1_batch_and_a_vector_keeps_the_batch_dim():
    # torch: solve(A of shape (1, 1, 1), b of shape (1,)) is (1, 1) (b is a vector, broadcast over
    # A's batch); chainrule returned (1,) (only for this shape: (3, 1, 1), (1, 2, 2), (1, 1, 1, 1)
    # are right)
    expected = torch.linalg.solve(torch.full((1, 1, 1), 2.0), torch.ones(1))
    got = cr.linalg.solve(cr.full((1, 1, 1), 2.0), cr.ones(1))
    assert tuple(expected.shape) == (1, 1)
    assert tuple(got.shape) == (1, 1)
    np.testing.assert_allclose(np.asarray(got), expected.numpy())
