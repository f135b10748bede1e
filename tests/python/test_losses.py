"""cr.nn.functional against torch.nn.functional (torch==2.13.0): every loss for every reduction and
option (class weights, ignore_index, label smoothing, probability targets, logits of 1e4), in
float32 and float64, values and gradients (and second derivatives for a few); the penalties;
dropout's statistics; batch_norm / layer_norm in train and eval with their running stats; the
activations F re-exports; clip_grad_norm_ / clip_grad_value_; and the errors.
"""
import math
import warnings
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
import chainrule.nn.utils as U

pytestmark = pytest.mark.usefixtures("torch_one_thread")

DTYPES = ["float32", "float64"]
REDUCTIONS = ["mean", "sum", "none"]
NP = {"float32": np.float32, "float64": np.float64}
# (rtol, atol): float32 sums run in a different order than torch's; float64 agrees to rounding.
TOL = {"float32": {"value": (2e-5, 2e-6), "grad": (1e-4, 2e-6)},
       "float64": {"value": (1e-10, 1e-12), "grad": (1e-9, 1e-12)}}


def _np(t):
    return np.asarray(t.detach()) if isinstance(t, cr.Tensor) else t.detach().numpy()


def same(ours, theirs, dtype, kind="value", what=""):
    assert isinstance(ours, cr.Tensor), what
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], f"{what}: dtype"
    rtol, atol = TOL[dtype][kind]
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


class Pair:
    """The same arrays as chainrule and torch tensors; ``grad`` marks which ones require grad."""

    def __init__(self, arrays, grad):
        self.ours = [cr.tensor(a, requires_grad=g) if a is not None else None for a, g in zip(arrays, grad)]
        self.theirs = [torch.tensor(a, requires_grad=g) if a is not None else None for a, g in zip(arrays, grad)]
        self.grad = grad


def compare(ours_fn, theirs_fn, arrays, grad, dtype, rs, what, second=False):
    """Values, then the VJP with a random cotangent for every input that requires grad (and, with
    second=True, the gradient of <grads, u> for a random u: second derivatives)."""
    p = Pair(arrays, grad)
    o, t = ours_fn(*p.ours), theirs_fn(*p.theirs)
    same(o, t, dtype, "value", what + " value")
    v = rs.uniform(0.5, 1.5, size=tuple(t.shape)).astype(NP[dtype])
    lo, lt = (o * cr.tensor(v)).sum(), (t * torch.tensor(v)).sum()
    idx = [k for k, g in enumerate(grad) if g]
    go = cr.autograd.grad(lo, [p.ours[k] for k in idx], create_graph=second)
    gt = torch.autograd.grad(lt, [p.theirs[k] for k in idx], create_graph=second)
    for k, a, b in zip(idx, go, gt):
        same(a, b, dtype, "grad", f"{what} grad of input {k}")
    if second:
        us = [rs.uniform(-1, 1, size=tuple(b.shape)).astype(NP[dtype]) for b in gt]
        so = sum((a * cr.tensor(u)).sum() for a, u in zip(go, us))
        st = sum((b * torch.tensor(u)).sum() for b, u in zip(gt, us))
        g2o = cr.autograd.grad(so, [p.ours[k] for k in idx], allow_unused=True)
        g2t = torch.autograd.grad(st, [p.theirs[k] for k in idx], allow_unused=True)
        for k, a, b in zip(idx, g2o, g2t):
            b = torch.zeros_like(p.theirs[k]) if b is None else b
            a = cr.zeros_like(p.ours[k]) if a is None else a
            same(a, b, dtype, "grad", f"{what} second derivative of input {k}")
    return o


def rng(*key):
    """A generator seeded by the test's parameters (stable across runs, unlike hash())."""
    return np.random.RandomState(zlib.crc32(repr(key).encode()))


# ------------------------------------------------------------------ regression losses
REGRESSION = [
    ("mse_loss", {}), ("l1_loss", {}),
    ("huber_loss", {"delta": 0.5}), ("huber_loss", {"delta": 1.0}), ("huber_loss", {"delta": 2.0}),
    ("smooth_l1_loss", {"beta": 0.0}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 1.0}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", REGRESSION, ids=[f"{n}-{kw}" for n, kw in REGRESSION])
def test_regression_losses_match_torch(name, kw, reduction, dtype):
    rs = rng(name, str(kw), reduction, dtype)
    x, y = (rs.uniform(-3, 3, size=(4, 5)).astype(NP[dtype]) for _ in range(2))
    compare(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
            lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw),
            [x, y], [True, True], dtype, rs, f"{name}{kw} {reduction}", second=name == "mse_loss")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7})])
def test_weighted_regression_losses_match_torch(name, kw, reduction, dtype):
    # torch 2.13's weight=: mse/l1 divide by sum(w) under "mean", huber takes the plain mean
    rs = rng(name, "weighted", reduction, dtype)
    x, y = (rs.uniform(-2, 2, size=(3, 4)).astype(NP[dtype]) for _ in range(2))
    w = rs.uniform(0.1, 2, size=(3, 4)).astype(NP[dtype])
    compare(lambda a, b, c: getattr(F, name)(a, b, reduction=reduction, weight=c, **kw),
            lambda a, b, c: getattr(TF, name)(a, b, reduction=reduction, weight=c, **kw),
            [x, y, w], [True, True, True], dtype, rs, f"{name} weighted {reduction}")


def test_regression_losses_at_ties_and_kinks_match_torch():
    # d = 0 (|d|'s kink) and |d| = delta (huber's joint): torch's conventions
    x = np.array([0.0, 1.0, -1.0, 2.0, 0.5])
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.5])
    for name, kw in REGRESSION:
        compare(lambda a, b: getattr(F, name)(a, b, reduction="sum", **kw),
                lambda a, b: getattr(TF, name)(a, b, reduction="sum", **kw),
                [x, y], [True, True], "float64", rng(name), f"{name}{kw} at kinks")


def test_mismatched_shapes_broadcast_with_torchs_warning():
    x, y = cr.zeros(3, 1), cr.ones(3)
    with pytest.warns(UserWarning, match="different to the input size"):
        loss = F.mse_loss(x, y, reduction="none")
    assert loss.shape == (3, 3)


# ------------------------------------------------------------------ cross entropy
# (input shape, target shape): batched, unbatched (C,) with a 0-d target, and spatial
CE_SHAPES = [((6, 5), (6,)), ((5,), ()), ((3, 4, 5), (3, 5)), ((2, 3, 2, 2), (2, 2, 2))]
CE_OPTIONS = [
    dict(),
    dict(weight=True),
    dict(ignore=True),
    dict(weight=True, ignore=True),
    dict(ignore_index=1),
    dict(label_smoothing=0.25),
    dict(label_smoothing=0.1, weight=True, ignore=True),
    dict(label_smoothing=1.0),
]


def _ce_case(rs, shape, tshape, opts, dtype, scale=3.0):
    classes = shape[0] if len(shape) == 1 else shape[1]
    x = (rs.randn(*shape) * scale).astype(NP[dtype])
    t = rs.randint(0, classes, size=tshape).astype(np.int64)
    if opts.get("ignore") and t.ndim:
        t.flat[::3] = -100
    w = rs.uniform(0.2, 2.0, size=classes).astype(NP[dtype]) if opts.get("weight") else None
    kw = {k: v for k, v in opts.items() if k in ("ignore_index", "label_smoothing")}
    return x, t, w, kw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=[str(o) for o in CE_OPTIONS])
@pytest.mark.parametrize("shape,tshape", CE_SHAPES, ids=[str(s) for s, _ in CE_SHAPES])
def test_cross_entropy_class_indices_match_torch(shape, tshape, opts, reduction, dtype):
    rs = rng("ce", shape, str(opts), reduction, dtype)
    x, t, w, kw = _ce_case(rs, shape, tshape, opts, dtype)
    compare(lambda a, b, c: F.cross_entropy(a, b, weight=c, reduction=reduction, **kw),
            lambda a, b, c: TF.cross_entropy(a, b, weight=c, reduction=reduction, **kw),
            [x, t, w], [True, False, False], dtype, rs, f"cross_entropy {opts} {reduction}")


PROB_OPTIONS = [dict(), dict(weight=True), dict(label_smoothing=0.2), dict(weight=True, label_smoothing=0.3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", PROB_OPTIONS, ids=[str(o) for o in PROB_OPTIONS])
@pytest.mark.parametrize("shape", [(6, 5), (5,), (3, 4, 5)], ids=str)
def test_cross_entropy_probability_targets_match_torch(shape, opts, reduction, dtype):
    rs = rng("ce-prob", shape, str(opts), reduction, dtype)
    classes = shape[0] if len(shape) == 1 else shape[1]
    cdim = 0 if len(shape) == 1 else 1
    x = (rs.randn(*shape) * 2).astype(NP[dtype])
    q = rs.uniform(0.0, 1.0, size=shape)
    q = (q / q.sum(axis=cdim, keepdims=True)).astype(NP[dtype])
    w = rs.uniform(0.2, 2.0, size=classes).astype(NP[dtype]) if opts.get("weight") else None
    ls = opts.get("label_smoothing", 0.0)
    # soft targets are differentiable too (both frameworks)
    compare(lambda a, b, c: F.cross_entropy(a, b, weight=c, reduction=reduction, label_smoothing=ls),
            lambda a, b, c: TF.cross_entropy(a, b, weight=c, reduction=reduction, label_smoothing=ls),
            [x, q, w], [True, True, False], dtype, rs, f"cross_entropy probs {opts} {reduction}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(weight=True, ignore=True, label_smoothing=0.1)], ids=["plain", "all"])
def test_cross_entropy_is_stable_at_logits_of_1e4(opts, reduction, dtype):
    rs = rng("ce-1e4", str(opts), reduction, dtype)
    x, t, w, kw = _ce_case(rs, (8, 4), (8,), opts, dtype)
    x = np.sign(x).astype(NP[dtype]) * NP[dtype](1e4)  # logits of ±1e4, ties included
    out = compare(lambda a, b, c: F.cross_entropy(a, b, weight=c, reduction=reduction, **kw),
                  lambda a, b, c: TF.cross_entropy(a, b, weight=c, reduction=reduction, **kw),
                  [x, t, w], [True, False, False], dtype, rs, f"cross_entropy 1e4 {reduction}")
    assert np.all(np.isfinite(_np(out)))
    # probability targets too
    q = np.full((8, 4), 0.25, dtype=NP[dtype])
    compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
            lambda a, b: TF.cross_entropy(a, b, reduction=reduction),
            [x, q], [True, True], dtype, rs, f"cross_entropy probs 1e4 {reduction}")


@pytest.mark.parametrize("opts", [dict(), dict(weight=True, ignore=True, label_smoothing=0.2)], ids=["plain", "all"])
def test_cross_entropy_second_derivatives_match_torch(opts):
    rs = rng("ce-2nd", str(opts))
    x, t, w, kw = _ce_case(rs, (5, 4), (5,), opts, "float64")
    compare(lambda a, b, c: F.cross_entropy(a, b, weight=c, **kw),
            lambda a, b, c: TF.cross_entropy(a, b, weight=c, **kw),
            [x, t, w], [True, False, False], "float64", rs, "cross_entropy 2nd", second=True)


def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    x = np.zeros((2, 3), dtype=np.float32)
    t = np.array([-100, -100])
    assert math.isnan(F.cross_entropy(cr.tensor(x), cr.tensor(t)).item())
    assert math.isnan(TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item())


def test_cross_entropy_docstring_example():
    assert abs(F.cross_entropy(cr.tensor([[2., 0.]]), cr.tensor([0])).item() - 0.1269) < 1e-4


# ------------------------------------------------------------------ nll_loss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(weight=True), dict(weight=True, ignore=True), dict(ignore_index=0)], ids=str)
@pytest.mark.parametrize("shape,tshape", CE_SHAPES[:3], ids=[str(s) for s, _ in CE_SHAPES[:3]])
def test_nll_loss_matches_torch(shape, tshape, opts, reduction, dtype):
    rs = rng("nll", shape, str(opts), reduction, dtype)
    x, t, w, kw = _ce_case(rs, shape, tshape, opts, dtype)
    cdim = 0 if len(shape) == 1 else 1
    compare(lambda a, b, c: F.nll_loss(F.log_softmax(a, cdim), b, weight=c, reduction=reduction, **kw),
            lambda a, b, c: TF.nll_loss(TF.log_softmax(a, cdim), b, weight=c, reduction=reduction, **kw),
            [x, t, w], [True, False, False], dtype, rs, f"nll_loss {opts} {reduction}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["inf_off_target", "ignored_reads_nothing", "zero_weight_at_inf", "all_ignored",
                                  "nan_upstream"])
def test_nll_loss_special_values_match_torch(case, reduction):
    """nll_loss reads only the kept targets' log-probabilities, and its gradient is exactly 0 off the
    targets, whatever the other entries or the upstream gradient hold (torch's kernel, not 0 * inf)."""
    inf, nan = float("inf"), float("nan")
    x = np.log(np.full((4, 3), 1 / 3))
    t, w, g = np.array([0, 1, 2, 1]), None, 1.0
    if case == "inf_off_target":
        x[0, 1], x[1, 2], x[2, 0] = -inf, nan, inf
    elif case == "ignored_reads_nothing":
        t[1], x[1] = -100, [-inf, nan, inf]
    elif case == "zero_weight_at_inf":
        w, x[1, 1] = np.array([1.0, 0.0, 2.0]), -inf
    elif case == "all_ignored":
        t[:] = -100
    else:
        g = nan
    outs = []
    for lib in (cr, torch):
        a = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.nll_loss(a, lib.tensor(t), weight=None if w is None else lib.tensor(w),
                                          reduction=reduction)
        gl = np.full(tuple(loss.shape), g) if reduction == "none" else np.array(g)
        loss.backward(lib.tensor(gl))
        outs.append((loss.detach().numpy(), a.grad.numpy()))
    (v, gx), (tv, tgx) = outs
    np.testing.assert_array_equal(v, tv)
    np.testing.assert_array_equal(gx, tgx)


# ------------------------------------------------------------------ binary cross entropy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "full", "per_column"])
def test_binary_cross_entropy_matches_torch(weight, reduction, dtype):
    rs = rng("bce", str(weight), reduction, dtype)
    x = rs.uniform(0.02, 0.98, size=(4, 3)).astype(NP[dtype])
    y = rs.uniform(0, 1, size=(4, 3)).astype(NP[dtype])
    w = {None: None, "full": rs.uniform(0.5, 2, size=(4, 3)), "per_column": rs.uniform(0.5, 2, size=(3,))}[weight]
    w = None if w is None else w.astype(NP[dtype])
    compare(lambda a, b, c: F.binary_cross_entropy(a, b, weight=c, reduction=reduction),
            lambda a, b, c: TF.binary_cross_entropy(a, b, weight=c, reduction=reduction),
            [x, y, w], [True, True, False], dtype, rs, f"binary_cross_entropy {weight} {reduction}",
            second=dtype == "float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_saturated_probabilities_matches_torch(dtype):
    # x = 0 or 1 exactly: torch clamps the logs at -100 and keeps the gradient finite
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30], dtype=NP[dtype])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=NP[dtype])
    out = compare(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                  lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"),
                  [x, y], [True, False], dtype, rng("bce-sat"), "binary_cross_entropy saturated")
    assert np.all(np.isfinite(_np(out)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(weight=True), dict(pos_weight=True), dict(weight=True, pos_weight=True)], ids=str)
@pytest.mark.parametrize("scale", [3.0, 1e4], ids=["logits", "logits_1e4"])
def test_binary_cross_entropy_with_logits_matches_torch(scale, opts, reduction, dtype):
    rs = rng("bcel", scale, str(opts), reduction, dtype)
    x = (rs.randn(4, 3) * scale).astype(NP[dtype])
    y = rs.uniform(0, 1, size=(4, 3)).astype(NP[dtype])
    w = rs.uniform(0.5, 2, size=(4, 3)).astype(NP[dtype]) if opts.get("weight") else None
    pw = rs.uniform(0.5, 3, size=(3,)).astype(NP[dtype]) if opts.get("pos_weight") else None
    out = compare(lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, weight=c, reduction=reduction, pos_weight=d),
                  lambda a, b, c, d: TF.binary_cross_entropy_with_logits(a, b, weight=c, reduction=reduction, pos_weight=d),
                  [x, y, w, pw], [True, True, False, False], dtype, rs,
                  f"bce_with_logits {opts} {reduction}", second=dtype == "float64" and scale == 3.0)
    assert np.all(np.isfinite(_np(out)))


def test_logsigmoid_matches_torch_everywhere():
    x = np.array([-1e4, -50.0, -20.0, -1.0, 0.0, 1e-8, 1.0, 20.0, 50.0, 1e4])
    for dtype in DTYPES:
        compare(F.logsigmoid, TF.logsigmoid, [x.astype(NP[dtype])], [True], dtype, rng("ls"), f"logsigmoid {dtype}")


# ------------------------------------------------------------------ errors
def test_errors_are_clear():
    x, t = cr.zeros(2, 3), cr.tensor([0, 1])
    with pytest.raises(ValueError, match="expected reduction 'mean', 'sum' or 'none', got 'avg'"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, x, reduction="average")
    with pytest.raises(IndexError, match="got target 3"):
        F.cross_entropy(x, cr.tensor([0, 3]))
    with pytest.raises(IndexError, match="got target -1"):
        F.nll_loss(x, cr.tensor([-1, 0]))
    with pytest.raises(ValueError, match="expected target batch size 2"):
        F.cross_entropy(x, cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="int64 class indices"):
        F.cross_entropy(x, cr.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="label_smoothing in \\[0, 1\\], got 1.5"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, cr.zeros(2, 3), ignore_index=0)
    with pytest.raises(ValueError, match="weight of shape \\(C,\\) = \\(3,\\)"):
        F.cross_entropy(x, t, weight=cr.ones(4))
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\], got 1.5"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(cr.tensor([0.5]), cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="huber_loss: expected delta > 0"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(x, p=1.5)
    with pytest.raises(NotImplementedError, match="inplace"):
        F.relu(x, inplace=True)
    with pytest.raises(TypeError, match="l2_penalty: expected tensors"):
        F.l2_penalty([x, 3.0])


def test_legacy_size_average_and_reduce_map_like_torch():
    x, t = cr.tensor([[1.0, 2.0], [0.5, 0.1]]), cr.tensor([0, 1])
    for sa, red, want in [(False, None, "sum"), (None, False, "none"), (True, True, "mean")]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = F.cross_entropy(x, t, size_average=sa, reduce=red)
        assert any("deprecated" in str(c.message) for c in caught)
        np.testing.assert_allclose(_np(got), _np(F.cross_entropy(x, t, reduction=want)), rtol=1e-6)


# ------------------------------------------------------------------ penalties
@pytest.mark.parametrize("dtype", DTYPES)
def test_penalties_match_their_definition_in_torch(dtype):
    rs = rng("pen", dtype)
    arrays = [rs.randn(3, 4).astype(NP[dtype]), rs.randn(4).astype(NP[dtype]), rs.randn(2, 2, 2).astype(NP[dtype])]
    compare(lambda *ps: F.l1_penalty(ps), lambda *ps: sum(p.abs().sum() for p in ps),
            arrays, [True] * 3, dtype, rs, "l1_penalty")
    compare(lambda *ps: F.l2_penalty(p for p in ps), lambda *ps: sum((p * p).sum() for p in ps),
            arrays, [True] * 3, dtype, rs, "l2_penalty (generator)", second=True)


def test_penalties_take_model_parameters_and_empty_lists():
    model = cr.nn.Linear(3, 2)
    want = sum(float((np.asarray(p.detach()) ** 2).sum()) for p in model.parameters())
    assert F.l2_penalty(model.parameters()).item() == pytest.approx(want, rel=1e-6)
    assert F.l1_penalty([]).item() == 0.0
    # as a regulariser: d/dw [lam * sum w^2] = 2 lam w
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    (0.5 * F.l2_penalty([w])).backward()
    np.testing.assert_allclose(_np(w.grad), [1.0, -2.0])


# ------------------------------------------------------------------ dropout
def test_dropout_statistics_and_eval_identity():
    cr.manual_seed(0)
    x = cr.ones(400, 500, dtype=cr.float64, requires_grad=True)
    for p in [0.1, 0.5, 0.8]:
        y = F.dropout(x, p=p)
        a = _np(y)
        kept = a != 0
        assert abs(1 - kept.mean() - p) < 0.005, f"p={p}: dropped {1 - kept.mean()}"
        np.testing.assert_allclose(a[kept], 1 / (1 - p), rtol=1e-12)
        assert abs(a.mean() - 1.0) < 0.01  # the mean is preserved
        g, = cr.autograd.grad(y.sum(), [x])
        np.testing.assert_allclose(_np(g), a, rtol=1e-12)  # the gradient is the scaled mask
    e = F.dropout(x, p=0.5, training=False)
    assert e.data_ptr() == x.data_ptr()  # eval: the input itself
    assert np.all(_np(F.dropout(x, p=1.0)) == 0)
    cr.manual_seed(5)
    a = _np(F.dropout(x, 0.5))
    cr.manual_seed(5)
    np.testing.assert_array_equal(a, _np(F.dropout(x, 0.5)))


# ------------------------------------------------------------------ normalisation
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)], ids=str)
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_train_and_eval_match_torch(shape, affine, dtype):
    rs = rng("bn", shape, affine, dtype)
    C = shape[1]
    rm0, rv0 = rs.randn(C).astype(NP[dtype]), rs.uniform(0.5, 2, size=C).astype(NP[dtype])
    ours_rm, ours_rv = cr.tensor(rm0), cr.tensor(rv0)
    their_rm, their_rv = torch.tensor(rm0), torch.tensor(rv0)
    w = rs.uniform(0.5, 2, size=C).astype(NP[dtype]) if affine else None
    b = rs.randn(C).astype(NP[dtype]) if affine else None
    for step, momentum in enumerate([0.1, 0.3, 0.1]):
        x = (rs.randn(*shape) * 2 + 1).astype(NP[dtype])
        compare(lambda a, c, d: F.batch_norm(a, ours_rm, ours_rv, c, d, training=True, momentum=momentum),
                lambda a, c, d: TF.batch_norm(a, their_rm, their_rv, c, d, training=True, momentum=momentum),
                [x, w, b], [True, affine, affine], dtype, rs, f"batch_norm train step {step}",
                second=dtype == "float64" and step == 0)
        same(ours_rm, their_rm, dtype, "value", f"running_mean after step {step}")
        same(ours_rv, their_rv, dtype, "value", f"running_var after step {step}")
    x = rs.randn(*shape).astype(NP[dtype])
    compare(lambda a, c, d: F.batch_norm(a, ours_rm, ours_rv, c, d, training=False),
            lambda a, c, d: TF.batch_norm(a, their_rm, their_rv, c, d, training=False),
            [x, w, b], [True, affine, affine], dtype, rs, "batch_norm eval")
    same(ours_rm, their_rm, dtype, "value", "eval leaves running_mean alone")


def test_batch_norm_without_running_stats_and_errors():
    x = np.random.RandomState(0).randn(6, 2)
    compare(lambda a: F.batch_norm(a, None, None, training=True),
            lambda a: TF.batch_norm(a, None, None, training=True),
            [x], [True], "float64", rng("bn-none"), "batch_norm no running stats")
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(cr.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean and running_var in evaluation mode"):
        F.batch_norm(cr.zeros(4, 3), None, None, training=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))], ids=str)
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm_matches_torch(shape, norm, affine, dtype):
    rs = rng("ln", shape, norm, affine, dtype)
    x = (rs.randn(*shape) * 3 - 1).astype(NP[dtype])
    w = rs.uniform(0.5, 2, size=norm).astype(NP[dtype]) if affine else None
    b = rs.randn(*norm).astype(NP[dtype]) if affine else None
    compare(lambda a, c, d: F.layer_norm(a, norm, c, d, eps=1e-5),
            lambda a, c, d: TF.layer_norm(a, norm, c, d, eps=1e-5),
            [x, w, b], [True, affine, affine], dtype, rs, f"layer_norm {norm}", second=dtype == "float64")
    if len(norm) == 1:  # an int normalized_shape, as torch accepts
        same(F.layer_norm(cr.tensor(x), norm[0]), TF.layer_norm(torch.tensor(x), norm), dtype)


# ------------------------------------------------------------------ activations re-exported by F
@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_match_torch(dtype):
    rs = rng("act", dtype)
    x = (rs.randn(3, 4) * 3).astype(NP[dtype])
    cases = [
        (F.relu, TF.relu), (lambda a: F.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2)),
        (F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh),
        (lambda a: F.softplus(a, beta=2.0, threshold=5.0), lambda a: TF.softplus(a, beta=2.0, threshold=5.0)),
        (lambda a: F.softmax(a, dim=1), lambda a: TF.softmax(a, dim=1)),
        (lambda a: F.log_softmax(a, dim=0), lambda a: TF.log_softmax(a, dim=0)),
    ]
    for k, (ours, theirs) in enumerate(cases):
        compare(ours, theirs, [x], [True], dtype, rs, f"activation {k}")
    w, b = rs.randn(5, 4).astype(NP[dtype]), rs.randn(5).astype(NP[dtype])
    compare(F.linear, TF.linear, [x, w, b], [True, True, True], dtype, rs, "linear")
    # gelu is the core's (F re-exports it); checked here where float32's tails don't underflow
    xg = rs.uniform(-3, 3, size=(3, 4)).astype(NP[dtype])
    for approximate in ["none", "tanh"]:
        compare(lambda a: F.gelu(a, approximate=approximate), lambda a: TF.gelu(a, approximate=approximate),
                [xg], [True], dtype, rs, f"gelu {approximate}")
    labels = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(_np(F.one_hot(cr.tensor(labels), 4)), TF.one_hot(torch.tensor(labels), 4).numpy())


def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = np.random.RandomState(1).randn(2, 3).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ours = F.softmax(cr.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TF.softmax(torch.tensor(x))
    same(ours, theirs, "float32")
    same(F.log_softmax(cr.tensor(x), dim=-1, dtype=cr.float64), TF.log_softmax(torch.tensor(x), dim=-1, dtype=torch.float64), "float64")


# ------------------------------------------------------------------ gradient clipping
def _params_with_grads(rs, dtype, scale):
    shapes = [(3, 4), (4,), (2, 2, 2)]
    values = [rs.randn(*s).astype(NP[dtype]) for s in shapes]
    grads = [(rs.randn(*s) * scale).astype(NP[dtype]) for s in shapes]
    ours = [cr.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = cr.tensor(g), torch.tensor(g)
    # a parameter without a gradient is skipped by both
    ours.append(cr.zeros(2, dtype=getattr(cr, dtype), requires_grad=True))
    theirs.append(torch.zeros(2, dtype=getattr(torch, dtype), requires_grad=True))
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"], ids=str)
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, dtype):
    rs = rng("clip", max_norm, str(norm_type), dtype)
    ours, theirs = _params_with_grads(rs, dtype, 3.0)
    to = U.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    tt = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    same(to, tt, dtype, "value", "returned total norm")
    assert to.shape == ()
    for k, (o, t) in enumerate(zip(ours[:-1], theirs[:-1])):
        same(o.grad, t.grad, dtype, "value", f"clipped grad {k}")
    assert ours[-1].grad is None
    if max_norm < 1:  # really clipped: the new total is max_norm
        assert U.get_total_norm([p.grad for p in ours[:-1]], norm_type).item() == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_single_tensor_generator_and_errors():
    rs = rng("clip-misc")
    ours, theirs = _params_with_grads(rs, "float64", 1.0)
    same(U.clip_grad_norm_(ours[0], 0.1), torch.nn.utils.clip_grad_norm_(theirs[0], 0.1), "float64")
    same(U.clip_grad_norm_((p for p in ours[1:]), 0.2), torch.nn.utils.clip_grad_norm_((p for p in theirs[1:]), 0.2), "float64")
    for o, t in zip(ours[:-1], theirs[:-1]):
        same(o.grad, t.grad, "float64")
    assert U.clip_grad_norm_([cr.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    ours[0].grad = cr.full((3, 4), float("nan"), dtype=cr.float64)
    with pytest.raises(RuntimeError, match="total norm of order 2"):
        U.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_value_matches_torch(dtype):
    rs = rng("clipv", dtype)
    ours, theirs = _params_with_grads(rs, dtype, 3.0)
    assert U.clip_grad_value_(ours, 1.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for o, t in zip(ours[:-1], theirs[:-1]):
        same(o.grad, t.grad, dtype)


def test_parameters_to_vector_and_back_match_torch():
    rs = rng("p2v")
    ours, theirs = _params_with_grads(rs, "float64", 1.0)
    same(U.parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs), "float64")
    v = rs.randn(sum(p.numel() for p in theirs))
    U.vector_to_parameters(cr.tensor(v), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(v), theirs)
    for o, t in zip(ours, theirs):
        same(o, t, "float64")
        assert o.requires_grad and o.is_leaf


def test_a_loss_warning_names_the_callers_line_not_chainrules():
    # the warning is raised behind argument guards and Module.__call__: it must still point here
    x, t = cr.zeros(3, 1), cr.zeros(3)
    for call in (lambda: F.mse_loss(x, t), lambda: cr.nn.MSELoss()(x, t), lambda: F.softmax(cr.zeros(2, 3))):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            call()
        assert len(got) == 1 and got[0].filename == __file__, [(g.filename, str(g.message)[:40]) for g in got]
