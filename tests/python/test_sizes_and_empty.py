"""Sizes computed from user numbers and empty inputs: huge, negative and overflowing sizes raise a
ValueError/MemoryError naming the op the user called (never a crash or a wrapped size), and empty
inputs give torch's values and gradients (never uninitialised memory)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

BIG = 2**31 - 1


def close(c, t, **kw):
    np.testing.assert_allclose(np.asarray(c.detach()), t.detach().numpy(), **kw)


# ------------------------------------------------------------------ geometry: no heap overflow
def test_conv2d_huge_padding_raises_instead_of_overflowing():
    with pytest.raises(ValueError, match=r"conv2d: number of blocks 4294967296 \* 4294967296 is too large"):
        F.conv2d(cr.randn(1, 1, 2, 2), cr.randn(1, 1, 1, 1), padding=BIG)


def test_Conv2d_huge_padding_raises():
    with pytest.raises(ValueError, match=r"conv2d: "):
        nn.Conv2d(1, 1, 1, padding=BIG)(cr.randn(1, 1, 2, 2))


def test_unfold_and_fold_huge_padding_raise():
    with pytest.raises(ValueError, match=r"unfold: number of blocks"):
        F.unfold(cr.randn(1, 1, 2, 2), 1, padding=BIG)
    with pytest.raises(ValueError, match=r"fold: number of blocks"):
        F.fold(cr.randn(1, 1, 0), (2, 2), 1, padding=BIG)


def test_huge_dilation_and_padding_near_int64_raise():
    with pytest.raises(ValueError, match=r"unfold: dilated kernel size"):
        F.unfold(cr.randn(1, 1, 2, 2), (3, 1), dilation=(2**63 - 1, 1))
    with pytest.raises(ValueError, match=r"unfold: padding 2 \* 9223372036854775807"):
        F.unfold(cr.randn(1, 1, 2, 2), 1, padding=(2**63 - 1, 0))
    with pytest.raises(ValueError, match=r"max_pool2d: "):
        F.max_pool2d(cr.ones(1, 2, 5, 5), 2**31 - 1, padding=2**30)


def test_max_pool_with_a_huge_kernel_visits_only_the_taps_inside():
    # the window loops once walked all 2**31 - 1 taps per row (seconds per window)
    x = cr.tensor(np.random.RandomState(4).randn(1, 2, 5, 5), requires_grad=True)
    y = F.max_pool2d(x, 2**31 - 1, padding=2**30 - 1)
    assert y.shape == (1, 2, 1, 1)
    np.testing.assert_array_equal(np.asarray(y.detach()).ravel(), np.asarray(x.detach()).reshape(2, -1).max(1))
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad).reshape(2, -1).sum(1), [1, 1])


def test_moderate_padding_still_matches_torch():
    x, w = np.random.RandomState(0).randn(1, 2, 3, 3), np.random.RandomState(1).randn(2, 2, 2, 2)
    xc, wc = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yc, yt = F.conv2d(xc, wc, padding=5), TF.conv2d(xt, wt, padding=5)
    close(yc, yt, rtol=1e-12)
    (yc * yc).sum().backward()
    (yt * yt).sum().backward()
    close(xc.grad, xt.grad, rtol=1e-10)
    close(wc.grad, wt.grad, rtol=1e-10)


def test_kernel_larger_than_input_is_a_shape_error():
    img = cr.ones(1, 2, 5, 5)
    with pytest.raises(ValueError, match=r"conv2d: .*\(1, 2, 5, 5\)"):
        F.conv2d(img, cr.ones(3, 2, 7, 7))
    with pytest.raises(RuntimeError, match=r"max_pool2d: .*\(1, 2, 5, 5\)"):  # torch's class too
        F.max_pool2d(img, 7)


def test_conv2d_unbatched_input_as_torch():
    x, w = np.random.RandomState(2).randn(2, 5, 5), np.random.RandomState(3).randn(3, 2, 3, 3)
    close(F.conv2d(cr.tensor(x), cr.tensor(w)), TF.conv2d(torch.tensor(x), torch.tensor(w)), rtol=1e-12)


# ------------------------------------------------------------------ creation ops
@pytest.mark.parametrize("src, pattern", [
    ("cr.zeros(2**62)", r"zeros: can't allocate shape \(4611686018427387904,\) \(float32\): more than 2\*\*63 bytes"),
    ("cr.zeros(10**12)", r"zeros: can't allocate shape \(1000000000000,\) \(float32\): 4000000000000 bytes, more than the memory"),
    ("cr.ones(2**62)", r"ones: can't allocate"),
    ("cr.randn(2**62)", r"randn: can't allocate"),
    ("cr.rand(2**62)", r"rand: can't allocate"),
    ("cr.full((2**62,), 1.0)", r"full: can't allocate"),
    ("cr.linspace(0, 1, 2**62)", r"linspace: can't allocate"),
    ("cr.arange(2**62)", r"arange: can't allocate"),
    ("cr.randperm(2**62)", r"randperm: can't allocate"),
    ("cr.empty(2**62)", r"empty: can't allocate"),
    ("F.one_hot(cr.tensor([1]), 2**62)", r"one_hot: can't allocate"),
    ("F.pad(cr.zeros(2), (2**62, 0))", r"pad: can't allocate"),
    ("cr.zeros(2).repeat(2**40)", r"repeat: can't allocate"),
    ("F.conv2d(cr.ones(1, 1, 2, 2), cr.ones(1, 1, 1, 1), padding=2**20)", r"conv2d: can't allocate shape \(1, 1, 4398054899716\)"),
    ("F.avg_pool2d(cr.ones(1, 1, 2, 2), 2**22, stride=1, padding=2**21)", r"avg_pool2d: can't allocate"),
])
def test_too_big_allocations_say_op_shape_and_bytes(src, pattern):
    with pytest.raises(MemoryError, match=pattern):
        eval(src)


@pytest.mark.parametrize("src, pattern", [
    ("cr.zeros(2**40, 2**40)", r"zeros: shape \(1099511627776, 1099511627776\) has more elements than an int64"),
    ("cr.eye(2**32)", r"eye: shape \(4294967296, 4294967296\)"),
    ("cr.zeros(-5)", r"zeros: expected non-negative sizes, got \(-5,\)"),
    ("cr.ones(2, -1)", r"ones: expected non-negative sizes, got \(2, -1\)"),
    ("cr.zeros(2**64)", r"zeros: expected sizes that fit in int64, got 18446744073709551616"),
    ("cr.arange(0, 1e19)", r"arange: expected at most 2\*\*63 - 1 values"),
    ("cr.arange(0, 10, -1)", r"arange: expected a step with the sign of end - start"),
    ("cr.arange(0, 1, float('nan'))", r"arange: expected finite start, end and step"),
    ("F.one_hot(cr.tensor([1]), -5)", r"one_hot: expected num_classes >= 0 .*got -5"),
    ("cr.zeros(2).repeat(2**62)", r"repeat: repeated size 4611686018427387904 \* 2"),
    ("cr.zeros(1, 1).expand(2**40, 2**40)", r"expand: shape \(1099511627776, 1099511627776\)"),
    ("F.pad(cr.zeros(2), (2**63 - 1, 0))", r"pad: padded size 2 \+ 9223372036854775807"),
])
def test_bad_sizes_are_value_errors_naming_the_op(src, pattern):
    with pytest.raises(ValueError, match=pattern):
        eval(src)


def test_torch_raises_for_the_same_calls():
    for src in ("torch.zeros(-5)", "torch.arange(0, 10, -1)", "torch.eye(2**32)",
                "torch.nn.functional.one_hot(torch.tensor([1]), -5)", "torch.zeros(1, 1).expand(2**40, 2**40)"):
        with pytest.raises(RuntimeError):
            eval(src)


@pytest.mark.parametrize("src, pattern", [
    ("cr.zeros(2.5)", r"zeros\(\): expected sizes as ints, got float"),
    ("cr.zeros('3')", r"zeros\(\): expected sizes as ints, got str"),
    ("cr.ones(2, None)", r"ones\(\): expected sizes as ints, got NoneType"),
    ("cr.ones(2, 3).reshape(1.5, 4)", r"reshape\(\): expected sizes as ints, got float"),
    ("cr.ones(2, 3).reshape(None)", r"reshape\(\): expected sizes as ints, got NoneType"),
    ("cr.ones(2, 3).sum(dim='a')", r"sum\(\): argument 'dim': expected None, an int or a tuple of ints, got str"),
    ("cr.ones(2, 3).mean(dim=1.5)", r"mean\(\): argument 'dim': expected .*got float"),
    ("cr.eye(2.5)", r"eye\(\): expected sizes as ints, got float"),
    ("cr.linspace(0, 1, 2.5)", r"linspace\(\): expected sizes as ints, got float"),
    ("cr.randperm(2.5)", r"randperm\(\): expected sizes as ints, got float"),
])
def test_sizes_of_the_wrong_type_are_type_errors_naming_the_op(src, pattern):
    with pytest.raises(TypeError, match=pattern):
        eval(src)


def test_huge_views_need_no_memory_and_print_like_torch():
    y, yt = cr.zeros(1).expand(2**62), torch.zeros(1).expand(2**62)
    assert y.shape == (2**62,)
    assert repr(y) == repr(yt)


def test_summarised_repr_matches_torch():
    x = np.arange(2000.0).reshape(40, 50) / 7
    assert repr(cr.tensor(x, dtype=cr.float32)) == repr(torch.tensor(x, dtype=torch.float32))


def test_valid_sizes_still_work():
    assert cr.arange(5, 5, -1).shape == (0,)
    np.testing.assert_array_equal(np.asarray(cr.arange(10, 0, -3)), torch.arange(10, 0, -3).numpy())
    assert cr.zeros(np.int64(3), 2).shape == (3, 2)
    assert cr.eye(2, 3).shape == (2, 3)
    assert F.one_hot(cr.tensor([0, 2])).shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(F.pad(cr.ones(1, 2), (1, 2), mode="replicate")), [[1, 1, 1, 1, 1]])


# ------------------------------------------------------------------ empty inputs
def test_linear_with_no_in_features_is_the_bias():
    garbage = cr.full((1000,), 7.0)  # freed memory a wrong kernel handed back
    del garbage
    y = F.linear(cr.zeros(500, 0), cr.zeros(2, 0), cr.ones(2))
    np.testing.assert_array_equal(np.asarray(y), np.ones((500, 2), np.float32))


def test_Linear_0_in_features_gives_the_bias_and_torch_gradients():
    m = nn.Linear(0, 3)
    x = cr.zeros(4, 0, requires_grad=True)
    y = m(x)
    np.testing.assert_array_equal(np.asarray(y.detach()), np.broadcast_to(np.asarray(m.bias.detach()), (4, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(m.bias.grad), [4, 4, 4])
    assert m.weight.grad.shape == (3, 0) and x.grad.shape == (4, 0)


def test_linear_of_an_empty_vector_is_the_bias():
    ct = [cr.zeros(0, requires_grad=True), cr.zeros(3, 0, requires_grad=True), cr.ones(3, requires_grad=True)]
    tt = [torch.zeros(0, requires_grad=True), torch.zeros(3, 0, requires_grad=True), torch.ones(3, requires_grad=True)]
    yc, yt = F.linear(*ct), TF.linear(*tt)
    close(yc, yt)
    yc.sum().backward()
    yt.sum().backward()
    for c, t in zip(ct, tt):
        close(c.grad, t.grad)


def test_linear_with_no_rows():
    ct = [cr.zeros(0, 4, requires_grad=True), cr.ones(3, 4, requires_grad=True), cr.ones(3, requires_grad=True)]
    y = F.linear(*ct)
    assert y.shape == (0, 3)
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(ct[1].grad), np.zeros((3, 4)))
    np.testing.assert_array_equal(np.asarray(ct[2].grad), np.zeros(3))


@pytest.mark.parametrize("a, b", [((1, 0, 2, 0), (0, 3)), ((2, 0), (0, 3)), ((0, 2), (2, 3)), ((3, 0, 4), (3, 4, 2)),
                                  ((0,), (0,)), ((0,), (0, 2)), ((2, 0), (0,))])
def test_matmul_with_zero_sizes_as_torch(a, b):
    ac, bc = cr.ones(*a, requires_grad=True), cr.ones(*b, requires_grad=True)
    at, bt = torch.ones(*a, requires_grad=True), torch.ones(*b, requires_grad=True)
    yc, yt = ac @ bc, at @ bt
    close(yc, yt)
    yc.sum().backward()
    yt.sum().backward()
    close(ac.grad, at.grad)
    close(bc.grad, bt.grad)


@pytest.mark.parametrize("n", [2, 4])
def test_second_derivative_through_an_empty_strided_slice(n):
    # slice's backward of an empty slice once sliced its gradient back with stop = start - step + 1,
    # i.e. -1: "sum_to: can't reduce shape (2,) to (0,)"
    for lib in (cr, torch):
        x = lib.ones(n, dtype=lib.float64, requires_grad=True)
        y = (x[0:0:2] ** 3).sum() + (x ** 2).sum()
        (g,) = lib.autograd.grad(y, [x], create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), [x])
        if lib is cr:
            hc = h
    np.testing.assert_array_equal(np.asarray(hc), h.numpy())


def test_batch_norm_on_an_empty_batch_as_torch():
    rm, rv = cr.zeros(4), cr.ones(4)
    w, b = cr.ones(4, requires_grad=True), cr.zeros(4, requires_grad=True)
    x = cr.zeros(2, 4, 0, requires_grad=True)
    y = F.batch_norm(x, rm, rv, w, b, training=True)
    assert y.shape == (2, 4, 0)
    y.sum().backward()
    assert x.grad.shape == (2, 4, 0)
    np.testing.assert_array_equal(np.asarray(w.grad), np.zeros(4))
    np.testing.assert_array_equal(np.asarray(rm), np.zeros(4))  # running stats untouched, as torch
    np.testing.assert_array_equal(np.asarray(rv), np.ones(4))
    assert F.batch_norm(cr.zeros(0, 4), None, None, training=True).shape == (0, 4)
    assert nn.BatchNorm1d(4)(cr.zeros(0, 4)).shape == (0, 4)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "prod", "logsumexp", "std", "var", "norm"])
def test_reductions_of_empty_tensors_as_torch(op):
    def run(lib):
        x = lib.zeros(0, 3, dtype=lib.float64)
        try:
            return getattr(x, op)(0) if op != "norm" else x.norm()
        except Exception as e:  # noqa: BLE001  a raise is compared too
            return type(e)
    c, t = run(cr), run(torch)
    if isinstance(t, type):
        assert isinstance(c, type) and issubclass(c, RuntimeError)
    else:
        np.testing.assert_array_equal(np.asarray(c), t.numpy())


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy"])
def test_losses_of_empty_inputs_as_torch(name):
    vals = []
    for lib, Fn in ((cr, F), (torch, TF)):
        a = lib.zeros(0, dtype=lib.float64, requires_grad=True)
        loss = getattr(Fn, name)(a, lib.zeros(0, dtype=lib.float64))
        vals.append(float(loss))
    np.testing.assert_array_equal(vals[0], vals[1])  # nan for mean reductions, as torch


def test_cross_entropy_of_an_empty_batch_as_torch():
    yc = F.cross_entropy(cr.zeros(0, 3), cr.zeros(0, dtype=cr.int64))
    yt = TF.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64))
    np.testing.assert_array_equal(float(yc), float(yt))


def test_conv2d_with_zero_batch_as_torch():
    xc, wc = cr.zeros(0, 2, 5, 5, requires_grad=True), cr.ones(3, 2, 3, 3, requires_grad=True)
    xt, wt = torch.zeros(0, 2, 5, 5, requires_grad=True), torch.ones(3, 2, 3, 3, requires_grad=True)
    yc, yt = F.conv2d(xc, wc, cr.ones(3)), TF.conv2d(xt, wt, torch.ones(3))
    assert yc.shape == tuple(yt.shape)
    yc.sum().backward()
    yt.sum().backward()
    close(wc.grad, wt.grad)


# ------------------------------------------------------------------ matmul messages and dtypes
def test_matmul_batch_broadcast_error_names_both_operands():
    with pytest.raises(ValueError, match=r"matmul: cannot broadcast the batch dims \(2,\) and \(3,\) of "
                                         r"\(2, 2, 3\) @ \(3, 3, 4\)"):
        cr.ones(2, 2, 3) @ cr.ones(3, 3, 4)


def test_int_at_float_matmul_raises_as_torch():
    with pytest.raises(RuntimeError):
        torch.tensor([[1]]) @ torch.ones(1, 1)
    with pytest.raises(ValueError, match=r"matmul: expected operands of one dtype, got int64 \(1, 1\) and float32"):
        cr.tensor([[1]]) @ cr.ones(1, 1)
    np.testing.assert_array_equal(np.asarray(cr.tensor([[2]]) @ cr.tensor([[3]])), [[6]])


_EMPTY_DIM_OPS = {
    "max_pool2d": (2, lambda F, x: F.max_pool2d(x, 1)),
    "avg_pool2d": (2, lambda F, x: F.avg_pool2d(x, 1)),
    "unfold": (2, lambda F, x: F.unfold(x, 1)),
    "pad reflect 2d": (2, lambda F, x: F.pad(x, (1, 1, 1, 1), mode="reflect")),
    "pad replicate 2d": (2, lambda F, x: F.pad(x, (1, 1, 1, 1), mode="replicate")),
    "pad reflect 1d": (1, lambda F, x: F.pad(x, (1, 1), mode="reflect")),
    "pad replicate 1d": (1, lambda F, x: F.pad(x, (1, 1), mode="replicate")),
    "pad circular 2d": (2, lambda F, x: F.pad(x, (1, 1, 1, 1), mode="circular")),
}


@pytest.mark.parametrize("name", list(_EMPTY_DIM_OPS))
def test_which_dims_may_be_empty_as_torch(name):
    # chainrule accepted an empty channel dim (1, 0, 4, 4) where torch refuses: of (N, C, *spatial)
    # only N may be 0. Every single-zero shape of rank 2..4 gets torch's verdict and shape.
    spatial, call = _EMPTY_DIM_OPS[name]
    for nd in (spatial + 1, spatial + 2):
        for z in range(nd):
            shape = [3] * nd
            shape[z] = 0
            try:
                want = tuple(call(TF, torch.ones(shape)).shape)
            except RuntimeError:
                want = None
            if want is None:
                with pytest.raises(ValueError, match=r"^(max_pool2d|avg_pool2d|unfold|pad( \(mode '\w+'\))?):( mode '\w+')? expected (a )?non-empty"):
                    call(F, cr.ones(*shape))
            else:
                assert tuple(call(F, cr.ones(*shape)).shape) == want, shape


def test_conv2d_with_no_out_channels_raises_as_torch():
    with pytest.raises(RuntimeError, match="expected weight to be at least 1 at dimension 0"):
        TF.conv2d(torch.ones(1, 1, 4, 4), torch.ones(0, 1, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: expected at least 1 out_channel \(weight.size\(0\)\), got weight \(0, 1, 3, 3\)"):
        F.conv2d(cr.ones(1, 1, 4, 4), cr.ones(0, 1, 3, 3))
