"""nnmod: the layer ops and modules tutorials use, against torch 2.13 — modules with torch's weights
(copied through state_dict) in float32 and float64 (forward, input and parameter gradients),
BatchNorm2d's running statistics over several steps, reprs and state_dict keys, Sequential as a
list, random_split and DataLoader's worker arguments, edge cases (empty batch, 1x1 input, special
values, int inputs) and error messages. The functional ops' values and derivatives are in the op
catalog (op_catalog.py, "nnmod" block).
"""
import re
import subprocess
import sys
import textwrap
import warnings
import zlib

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
import torch.nn.functional as TF

pytestmark = pytest.mark.usefixtures("torch_one_thread")
T = torch.nn
DTYPES = ["float32", "float64"]
CR = {"float32": cr.float32, "float64": cr.float64}
TH = {"float32": torch.float32, "float64": torch.float64}
TOL = {"float32": (2e-5, 2e-6), "float64": (1e-10, 1e-12)}
GTOL = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-11)}


def _np(t):
    return np.asarray(t.detach()) if isinstance(t, cr.Tensor) else t.detach().numpy()


def same(a, b, tol, what=""):
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != torch's {tuple(b.shape)}"
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"{what}: dtype {a.dtype} vs {b.dtype}"
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol[0], atol=tol[1], err_msg=what, equal_nan=True)


def pair(shape, dtype, seed, kind="float"):
    rs = np.random.default_rng(zlib.crc32(repr((shape, seed)).encode()))
    a = rs.uniform(-2, 2, size=shape)
    return (cr.tensor(a, dtype=CR[dtype], requires_grad=True), torch.tensor(a, dtype=TH[dtype], requires_grad=True))


# ------------------------------------------------------------------------------------------------
# modules with torch's weights: forward, input gradient, parameter gradients
# ------------------------------------------------------------------------------------------------
MODULES = {
    "SiLU": (lambda: nn.SiLU(), lambda: T.SiLU(), (3, 4)),
    "ELU": (lambda: nn.ELU(0.7), lambda: T.ELU(0.7), (3, 4)),
    "ReLU6": (lambda: nn.ReLU6(), lambda: T.ReLU6(), (3, 4)),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 1.5), lambda: T.Hardtanh(-0.5, 1.5), (3, 4)),
    "Softsign": (lambda: nn.Softsign(), lambda: T.Softsign(), (3, 4)),
    "Softmin": (lambda: nn.Softmin(dim=1), lambda: T.Softmin(dim=1), (3, 4)),
    "Conv2d": (lambda: nn.Conv2d(3, 4, 3), lambda: T.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    "Conv2d_all": (lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
                   lambda: T.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
                   (2, 4, 8, 7)),
    "Conv2d_same_even": (lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False),
                         lambda: T.Conv2d(2, 3, 4, padding="same", bias=False), (2, 2, 5, 6)),
    "Conv2d_reflect": (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                       lambda: T.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 5, 6)),
    "Conv2d_circular_same": (lambda: nn.Conv2d(2, 3, (2, 3), padding="same", padding_mode="circular"),
                             lambda: T.Conv2d(2, 3, (2, 3), padding="same", padding_mode="circular"), (1, 2, 5, 6)),
    "Conv2d_replicate": (lambda: nn.Conv2d(2, 2, 3, padding=(2, 1), padding_mode="replicate"),
                         lambda: T.Conv2d(2, 2, 3, padding=(2, 1), padding_mode="replicate"), (2, 5, 6)),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), lambda: T.MaxPool2d(3, 2, 1, ceil_mode=True),
                  (2, 3, 6, 7)),
    "MaxPool2d_dilation": (lambda: nn.MaxPool2d(2, 1, dilation=2), lambda: T.MaxPool2d(2, 1, dilation=2),
                           (2, 2, 5, 5)),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                  lambda: T.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 6, 7)),
    "AvgPool2d_divisor": (lambda: nn.AvgPool2d(2, divisor_override=3), lambda: T.AvgPool2d(2, divisor_override=3),
                          (1, 2, 4, 4)),
    "BatchNorm2d_eval": (lambda: nn.BatchNorm2d(3).eval(), lambda: T.BatchNorm2d(3).eval(), (4, 3, 2, 5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(MODULES))
def test_module_matches_torch(name, dtype):
    make, tmake, shape = MODULES[name]
    torch.manual_seed(0)
    theirs = tmake().to(TH[dtype])
    ours = make()
    if dtype == "float64" and any(True for _ in ours.parameters()):
        ours = _rebuild_f64(name)
    sd = theirs.state_dict()
    assert list(ours.state_dict().keys()) == list(sd.keys())
    ours.load_state_dict(sd)
    x, tx = pair(shape, dtype, name)
    y, ty = ours(x), theirs(tx)
    same(y, ty, TOL[dtype], f"{name} forward")
    rs = np.random.default_rng(1)
    v = rs.uniform(-1, 1, size=tuple(ty.shape))
    (y * cr.tensor(v, dtype=CR[dtype])).sum().backward()
    (ty * torch.tensor(v, dtype=TH[dtype])).sum().backward()
    same(x.grad, tx.grad, GTOL[dtype], f"{name} d/dx")
    named = dict(ours.named_parameters())
    for pname, tp in theirs.named_parameters():
        same(named[pname].grad, tp.grad, GTOL[dtype], f"{name} d/d{pname}")


def _rebuild_f64(name):
    """The module in float64 (dtype= at construction, as torch's factory kwargs)."""
    kw = dict(dtype=cr.float64)
    return {"Conv2d": lambda: nn.Conv2d(3, 4, 3, **kw),
            "Conv2d_all": lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2,
                                            **kw),
            "Conv2d_same_even": lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False, **kw),
            "Conv2d_reflect": lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", **kw),
            "Conv2d_circular_same": lambda: nn.Conv2d(2, 3, (2, 3), padding="same", padding_mode="circular", **kw),
            "Conv2d_replicate": lambda: nn.Conv2d(2, 2, 3, padding=(2, 1), padding_mode="replicate", **kw),
            "BatchNorm2d_eval": lambda: nn.BatchNorm2d(3, **kw).eval()}[name]()


def test_inplace_modules_compute_out_of_place():
    x = cr.tensor([-2.0, 0.5, 8.0])
    for m, t in [(nn.ReLU6(inplace=True), T.ReLU6(inplace=True)), (nn.ELU(inplace=True), T.ELU(inplace=True)),
                 (nn.SiLU(inplace=True), T.SiLU(inplace=True)), (nn.Hardtanh(inplace=True), T.Hardtanh(inplace=True))]:
        assert repr(m) == repr(t)
        np.testing.assert_allclose(_np(m(x)), t(torch.tensor([-2.0, 0.5, 8.0])).numpy(), rtol=1e-6)
        assert _np(x).tolist() == [-2.0, 0.5, 8.0]
    with pytest.raises(NotImplementedError, match="inplace=True is not supported"):
        F.relu6(x, inplace=True)


def test_module_reprs_match_torch():
    pairs = [
        (nn.SiLU(), T.SiLU()), (nn.ELU(), T.ELU()), (nn.ELU(0.5), T.ELU(0.5)), (nn.ReLU6(), T.ReLU6()),
        (nn.Hardtanh(), T.Hardtanh()), (nn.Hardtanh(-2, 3), T.Hardtanh(-2, 3)), (nn.Softsign(), T.Softsign()),
        (nn.Softmin(), T.Softmin()), (nn.Softmin(1), T.Softmin(1)),
        (nn.Embedding(4, 3), T.Embedding(4, 3)), (nn.Embedding(4, 3, padding_idx=-1), T.Embedding(4, 3, padding_idx=-1)),
        (nn.BatchNorm2d(3), T.BatchNorm2d(3)), (nn.BatchNorm2d(3, affine=False, momentum=None),
                                                T.BatchNorm2d(3, affine=False, momentum=None)),
        (nn.BatchNorm2d(3, bias=False), T.BatchNorm2d(3, bias=False)),
        (nn.Dropout2d(), T.Dropout2d()), (nn.Dropout2d(0.2), T.Dropout2d(0.2)),
        (nn.Conv2d(2, 4, 3, groups=2, padding="same", dilation=2, bias=False),
         T.Conv2d(2, 4, 3, groups=2, padding="same", dilation=2, bias=False)),
        (nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect"), T.Conv2d(2, 4, 3, padding=1, padding_mode="reflect")),
        (nn.Conv2d(2, 4, (3, 1), stride=2), T.Conv2d(2, 4, (3, 1), stride=2)),
        (nn.MaxPool2d(2), T.MaxPool2d(2)), (nn.MaxPool2d(3, 1, 1, 2, True, True), T.MaxPool2d(3, 1, 1, 2, True, True)),
        (nn.AvgPool2d(2), T.AvgPool2d(2)), (nn.AvgPool2d((3, 2), 1, 1, True, False, 2),
                                            T.AvgPool2d((3, 2), 1, 1, True, False, 2)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_state_dict_keys_match_torch():
    for ours, theirs in [(nn.BatchNorm2d(3), T.BatchNorm2d(3)), (nn.BatchNorm2d(3, affine=False),
                                                                  T.BatchNorm2d(3, affine=False)),
                         (nn.BatchNorm2d(3, track_running_stats=False), T.BatchNorm2d(3, track_running_stats=False)),
                         (nn.Embedding(5, 2), T.Embedding(5, 2)), (nn.Conv2d(1, 2, 3, bias=False),
                                                                   T.Conv2d(1, 2, 3, bias=False)),
                         (nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU6()),
                          T.Sequential(T.Conv2d(1, 2, 3), T.BatchNorm2d(2), T.ReLU6()))]:
        assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys())


# ------------------------------------------------------------------------------------------------
# BatchNorm2d: running statistics step by step, as torch
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
def test_batchnorm2d_training_steps(dtype, momentum):
    ours, theirs = nn.BatchNorm2d(3, momentum=momentum, dtype=CR[dtype]), T.BatchNorm2d(3, momentum=momentum).to(TH[dtype])
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours.load_state_dict(theirs.state_dict())
    for step in range(3):
        x, tx = pair((4, 3, 2, 5), dtype, ("bn", step))
        y, ty = ours(x), theirs(tx)
        same(y, ty, TOL[dtype], f"step {step}")
        (y ** 2).sum().backward()
        (ty ** 2).sum().backward()
        same(x.grad, tx.grad, GTOL[dtype], f"step {step} d/dx")
        for k, v in theirs.state_dict().items():
            same(ours.state_dict()[k], v, TOL[dtype], f"step {step} {k}")
    same(ours.weight.grad, theirs.weight.grad, GTOL[dtype], "d/dweight")
    ours.eval(), theirs.eval()
    x, tx = pair((2, 3, 2, 2), dtype, "eval")
    same(ours(x), theirs(tx), TOL[dtype], "eval")
    assert int(ours.num_batches_tracked.item()) == 3


def test_batchnorm2d_no_running_stats_and_errors():
    ours, theirs = nn.BatchNorm2d(2, track_running_stats=False).eval(), T.BatchNorm2d(2, track_running_stats=False).eval()
    x, tx = pair((3, 2, 2, 2), "float64", "nostats")
    same(ours(x.float()), theirs(tx.float()), TOL["float32"], "batch stats in eval")
    with pytest.raises(ValueError, match=re.escape("expected 4D input (got 3D input)")):
        nn.BatchNorm2d(2)(cr.ones(2, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(2)(cr.ones(1, 2, 1, 1))


# ------------------------------------------------------------------------------------------------
# Embedding and Dropout2d
# ------------------------------------------------------------------------------------------------
def test_embedding_init_and_padding_gradient():
    cr.manual_seed(0)
    emb = nn.Embedding(1000, 16, padding_idx=3)
    w = _np(emb.weight)
    assert np.all(w[3] == 0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1) as torch
    idx = cr.tensor([[3, 1, 1], [0, 3, 1]])
    emb(idx).sum().backward()
    g = _np(emb.weight.grad)
    assert np.all(g[3] == 0) and np.all(g[1] == 3) and np.all(g[0] == 1)
    assert emb(idx).shape == (2, 3, 16)
    frozen = nn.Embedding.from_pretrained(cr.eye(3))
    assert not frozen.weight.requires_grad and tuple(frozen(cr.tensor([2])).shape) == (1, 3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_module_with_torch_weights(dtype):
    torch.manual_seed(0)
    theirs = T.Embedding(6, 3, padding_idx=2).to(TH[dtype])
    ours = nn.Embedding(6, 3, padding_idx=2, dtype=CR[dtype])
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours.load_state_dict(theirs.state_dict())
    idx = [[0, 2, 5, 5], [2, 1, 0, 3]]
    y, ty = ours(cr.tensor(idx)), theirs(torch.tensor(idx))
    same(y, ty, TOL[dtype], "Embedding forward")
    v = np.random.default_rng(0).normal(size=(2, 4, 3))
    (y * cr.tensor(v, dtype=CR[dtype])).sum().backward()
    (ty * torch.tensor(v, dtype=TH[dtype])).sum().backward()
    same(ours.weight.grad, theirs.weight.grad, GTOL[dtype], "Embedding d/dweight")


def test_embedding_errors():
    with pytest.raises(IndexError, match=re.escape("embedding: expected indices in [0, 3)")):
        F.embedding(cr.tensor([3]), cr.ones(3, 2))
    with pytest.raises(IndexError, match="got -1"):
        F.embedding(cr.tensor([-1]), cr.ones(3, 2))
    with pytest.raises(ValueError, match="expected int64 indices as input, got float32"):
        F.embedding(cr.tensor([1.0]), cr.ones(3, 2))
    with pytest.raises(ValueError, match=re.escape("expected weight (num_embeddings, embedding_dim), got (3,)")):
        F.embedding(cr.tensor([1]), cr.ones(3))
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(cr.tensor([1]), cr.ones(3, 2), padding_idx=3)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=-4)
    with pytest.raises(NotImplementedError, match="max_norm"):
        F.embedding(cr.tensor([1]), cr.ones(3, 2), max_norm=1.0)


def test_dropout2d_zeroes_whole_channels():
    cr.manual_seed(0)
    x = cr.ones(8, 16, 3, 3)
    m = nn.Dropout2d(0.25)
    y = _np(m(x))
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 1 / 0.75).all(-1))
    assert 0.1 < (per_channel[..., 0] == 0).mean() < 0.4
    assert np.array_equal(_np(m.eval()(x)), _np(x))
    assert np.array_equal(_np(F.dropout2d(x, 1.0)), np.zeros((8, 16, 3, 3), np.float32))
    xg = cr.ones(2, 4, 2, 2, requires_grad=True)
    cr.manual_seed(1)
    out = F.dropout2d(xg, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(_np(xg.grad), _np(out))  # d/dx = mask / (1 - p)
    with pytest.warns(UserWarning, match=re.escape("interpreted as shape (N, C, L)")):
        y3 = _np(F.dropout2d(cr.ones(4, 8, 5), 0.5))
    assert np.all((y3 == 0).all(-1) | (y3 == 2).all(-1))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


# ------------------------------------------------------------------------------------------------
# functional edge cases: special values, ints, shapes, errors
# ------------------------------------------------------------------------------------------------
SPECIAL = [0.0, -0.0, 1.0, -1.0, 6.0, -6.0, 7.5, float("inf"), float("-inf"), float("nan"), 1e-30, -88.0, 100.0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["silu", "elu", "relu6", "hardtanh", "softsign"])
def test_activation_special_values_and_lengths(fn, dtype):
    for n in list(range(1, 34)) + [0]:
        vals = (SPECIAL * 3)[:n]
        x = cr.tensor(vals, dtype=CR[dtype], requires_grad=True)
        tx = torch.tensor(vals, dtype=TH[dtype], requires_grad=True)
        y, ty = getattr(F, fn)(x), getattr(TF, fn)(tx)
        same(y, ty, TOL[dtype], f"{fn} n={n}")
        if n:
            y.sum().backward()
            ty.sum().backward()
            # torch's gradient at a NaN input depends on its code path (vectorised body vs scalar
            # tail: hardtanh/elu give 0, 1 or NaN by position), so only finite inputs are compared
            ok = ~np.isnan(np.array(vals))
            np.testing.assert_allclose(_np(x.grad)[ok], tx.grad.numpy()[ok], rtol=GTOL[dtype][0],
                                       atol=GTOL[dtype][1], err_msg=f"{fn} grad n={n}")
    # 0-d and signed zero
    z = getattr(F, fn)(cr.tensor(-0.0, dtype=CR[dtype]))
    tz = getattr(TF, fn)(torch.tensor(-0.0, dtype=TH[dtype]))
    assert z.shape == () and np.signbit(_np(z)) == np.signbit(tz.numpy())


def test_activation_int_inputs_follow_torch():
    i = cr.tensor([-3, 0, 2, 8])
    ti = torch.tensor([-3, 0, 2, 8])
    for fn in ["relu6", "hardtanh"]:
        y, ty = getattr(F, fn)(i), getattr(TF, fn)(ti)
        assert str(y.dtype).endswith("int64") and _np(y).tolist() == ty.tolist()
    y = F.softsign(i)
    assert str(y.dtype).endswith("float32")
    np.testing.assert_allclose(_np(y), TF.softsign(ti).numpy(), rtol=1e-6)
    for fn in ["relu6", "hardtanh", "softsign", "silu", "elu"]:  # torch refuses bool too
        with pytest.raises(ValueError, match=f"{fn if fn != 'relu6' else 'hardtanh'}: expected a"):
            getattr(F, fn)(cr.tensor([True, False]))
    with pytest.raises(ValueError, match="silu: expected a floating input"):
        F.silu(i)
    with pytest.raises(ValueError, match="elu: expected a floating input"):
        F.elu(i)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(cr.ones(2), 2.0, 1.0)


def test_second_derivatives_of_activations():
    for fn in ["silu", "elu", "softsign"]:
        x = cr.tensor([-2.0, -0.5, 0.3, 3.0], dtype=cr.float64, requires_grad=True)
        tx = torch.tensor([-2.0, -0.5, 0.3, 3.0], dtype=torch.float64, requires_grad=True)
        (g,) = cr.autograd.grad(getattr(F, fn)(x).sum(), [x], create_graph=True)
        (tg,) = torch.autograd.grad(getattr(TF, fn)(tx).sum(), [tx], create_graph=True)
        (h,) = cr.autograd.grad(g.sum(), [x])
        (th,) = torch.autograd.grad(tg.sum(), [tx])
        same(h, th, GTOL["float64"], f"{fn}''")
    # elu's second derivative stays finite where x is large (no 0 * inf)
    x = cr.tensor([200.0, -1.0], requires_grad=True)
    (g,) = cr.autograd.grad(F.elu(x).sum(), [x], create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), [x])
    assert np.all(np.isfinite(_np(h)))


def test_cosine_similarity_eps_semantics():
    # a vector shorter than eps: its norm is clamped in the value, the gradient is the unclamped one's
    for scale in [1e-10, 1e-7, 1.0, 0.0]:
        a = np.array([[3.0, 4.0], [1.0, -2.0]]) * scale
        b = np.array([[1.0, 2.0], [0.5, 0.5]])
        x, tx = cr.tensor(a, dtype=cr.float32, requires_grad=True), torch.tensor(a, dtype=torch.float32, requires_grad=True)
        y, ty = F.cosine_similarity(x, cr.tensor(b, dtype=cr.float32)), TF.cosine_similarity(tx, torch.tensor(b, dtype=torch.float32))
        same(y, ty, (1e-5, 1e-7), f"scale {scale}")
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(_np(x.grad), tx.grad.numpy(), rtol=1e-4)
    # broadcasting and dtype promotion
    y = F.cosine_similarity(cr.ones(3, 2), cr.ones(2, dtype=cr.float64))
    assert y.shape == (3,) and str(y.dtype).endswith("float64")
    with pytest.raises(ValueError, match="cosine_similarity"):
        F.cosine_similarity(cr.ones(3, 2), cr.ones(4, 2))
    with pytest.raises(IndexError):
        F.cosine_similarity(cr.ones(3), cr.ones(3))  # dim=1 of a 1-D input
    with pytest.raises(ValueError, match="floating"):
        F.cosine_similarity(cr.tensor([1, 2]), cr.tensor([1, 2]), dim=0)


def test_normalize_zero_vector_and_errors():
    x = cr.zeros(2, 3, requires_grad=True)
    tx = torch.zeros(2, 3, requires_grad=True)
    same(F.normalize(x), TF.normalize(tx), TOL["float32"])
    F.normalize(x).sum().backward()
    TF.normalize(tx).sum().backward()
    same(x.grad, tx.grad, GTOL["float32"], "zero vector grad")
    with pytest.raises(IndexError):
        F.normalize(cr.ones(3), dim=1)
    with pytest.raises(NotImplementedError, match="out="):
        F.normalize(cr.ones(2, 2), out=cr.ones(2, 2))


@pytest.mark.parametrize("widths", [(-5, 3), (3, -5), (-4, 0), (0, -4), (-2, -2), (6, -6), (2, -1, -3, 1)])
def test_pad_crops_past_the_input(widths):
    x, tx = pair((3, 4), "float64", widths)
    try:
        ty = TF.pad(tx, widths)
    except RuntimeError:  # torch refuses to crop more than the input holds: so do we
        with pytest.raises(ValueError, match="pad: expected negative widths to crop at most the size"):
            F.pad(x, widths)
        return
    y = F.pad(x, widths)
    same(y, ty, TOL["float64"], f"pad {widths}")
    if ty.numel():
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        same(x.grad, tx.grad, GTOL["float64"], f"pad {widths} grad")


def test_pad_errors_and_modes():
    x = cr.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match="pairs"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="at most 2 widths per dim"):
        F.pad(x, (1, 1) * 5)
    with pytest.raises(ValueError, match="non-negative output size"):
        F.pad(x, (-3, -2))
    with pytest.raises(ValueError, match="doesn't take in value"):
        F.pad(x, (1, 1, 1, 1), mode="reflect", value=1.0)
    with pytest.raises(ValueError, match="widths smaller than the size 4"):
        F.pad(x, (4, 1, 0, 0), mode="reflect")
    for mode in ["reflect", "replicate", "circular"]:
        with pytest.raises(NotImplementedError, match="padding size 2 is not supported for 4D input"):
            F.pad(x, (1, 1), mode=mode)
    with pytest.raises(NotImplementedError, match="mode 'foo' is not supported"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(TypeError, match="pad: expected pad to be a tuple of ints, got int"):
        F.pad(x, 1)
    # int input keeps its dtype; padding the batch dim; value fills
    y = F.pad(cr.tensor([[1, 2]]), (1, 0, 0, 1), value=7)
    assert _np(y).tolist() == TF.pad(torch.tensor([[1, 2]]), (1, 0, 0, 1), value=7).tolist()
    assert str(y.dtype).endswith("int64")


def test_conv2d_keywords_and_errors():
    x, w = cr.ones(1, 1, 4, 4), cr.ones(1, 1, 2, 2)
    assert F.conv2d(x, w, dilation=1).shape == (1, 1, 3, 3)
    with pytest.raises(TypeError) as e:
        F.conv2d(x, w, dilation=1, foo=3)
    assert "foo" in str(e.value) and "\n" not in str(e.value) and len(str(e.value)) < 200
    for kw, msg in [({"stride": "a"}, "conv2d: expected stride to be an int or a pair of ints, got str"),
                    ({"dilation": 1.5}, "conv2d: expected dilation to be an int or a pair of ints, got float"),
                    ({"groups": "2"}, "conv2d: expected groups to be an int, got str"),
                    ({"padding": 1.0}, "conv2d: expected padding to be an int, a pair of ints, 'same' or 'valid', "
                                       "got float"),
                    ({"bias": [1.0]}, "conv2d: expected bias to be a Tensor or None, got list")]:
        with pytest.raises(TypeError) as e:
            F.conv2d(x, w, **kw)
        assert str(e.value) == msg
    with pytest.raises(TypeError, match="conv2d: expected weight to be a Tensor, got list"):
        F.conv2d(x, [[1.0]])
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 2, padding="same", stride=2)
    with pytest.raises(ValueError, match="expected padding 'valid', 'same'"):
        F.conv2d(x, w, padding="full")
    # kernel larger than the input: torch's error class (RuntimeError)
    with pytest.raises(RuntimeError, match=re.escape("conv2d: expected a kernel no larger than the padded input (4, 4)")):
        F.conv2d(x, cr.ones(1, 1, 5, 5))
    with pytest.raises(RuntimeError, match="max_pool2d: expected a kernel no larger"):
        F.max_pool2d(x, 5)
    with pytest.raises(RuntimeError, match="avg_pool2d: expected a kernel no larger"):
        F.avg_pool2d(x, 5)
    with pytest.raises(ValueError, match=re.escape("expected input with 2 channels for weight (2, 1, 2, 2) and groups 2")):
        F.conv2d(x, cr.ones(2, 1, 2, 2), groups=2)
    with pytest.raises(ValueError, match="divisible by groups 2"):
        F.conv2d(cr.ones(1, 2, 4, 4), cr.ones(3, 1, 2, 2), groups=2)
    with pytest.raises(ValueError, match="positive groups"):
        F.conv2d(x, w, groups=0)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="zero")


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


def test_pool_keywords_and_errors():
    x = cr.ones(1, 1, 4, 4)
    with pytest.raises(TypeError, match="max_pool2d: expected kernel_size to be an int or a pair of ints, got str"):
        F.max_pool2d(x, "2")
    with pytest.raises(TypeError, match="unexpected keyword argument 'dilations'"):
        F.max_pool2d(x, 2, dilations=2)
    with pytest.raises(TypeError, match="avg_pool2d: expected divisor_override to be an int, got float"):
        F.avg_pool2d(x, 2, divisor_override=2.0)
    with pytest.raises(ValueError, match="padding at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="non-zero divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == (1, 1, 2, 2) and str(idx.dtype).endswith("int64")


@pytest.mark.parametrize("H", list(range(1, 12)))
def test_pool_ceil_mode_output_sizes_match_torch(H):
    for k in (1, 2, 3):
        for s in (1, 2, 3):
            for p in range(0, k // 2 + 1):
                if H + 2 * p < k:
                    continue
                tx = torch.arange(float(H * (H + 1))).reshape(1, 1, H, H + 1)
                x = cr.tensor(tx.numpy())
                for ceil in (False, True):
                    t = TF.max_pool2d(tx, k, s, p, ceil_mode=ceil)
                    assert tuple(F.max_pool2d(x, k, s, p, ceil_mode=ceil).shape) == tuple(t.shape)
                    for cip in (True, False):
                        ta = TF.avg_pool2d(tx, k, s, p, ceil, cip)
                        same(F.avg_pool2d(x, k, s, p, ceil, cip), ta, TOL["float32"], f"avg {H} {k} {s} {p} {ceil} {cip}")


def test_conv_and_pool_special_values():
    a = np.array([[[[1.0, np.nan, 2.0], [np.inf, 0.0, -1.0], [3.0, -np.inf, 4.0]]]])
    x, tx = cr.tensor(a, dtype=cr.float32), torch.tensor(a, dtype=torch.float32)
    same(F.max_pool2d(x, 2, 1), TF.max_pool2d(tx, 2, 1), TOL["float32"], "max nan")
    same(F.avg_pool2d(x, 2, 1), TF.avg_pool2d(tx, 2, 1), TOL["float32"], "avg inf")
    w = torch.ones(1, 1, 2, 2)
    same(F.conv2d(x, cr.tensor(w.numpy())), TF.conv2d(tx, w), TOL["float32"], "conv nan")


# ------------------------------------------------------------------------------------------------
# Sequential as a list
# ------------------------------------------------------------------------------------------------
def test_sequential_slicing_indexing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b, c)
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2 and tail[0] is b and tail[-1] is c
    t = T.Sequential(T.Linear(2, 3), T.ReLU(), T.Linear(3, 1))
    assert list(model[1:].state_dict().keys()) == list(t[1:].state_dict().keys())  # keys kept, as torch
    assert list(model[::2].state_dict().keys()) == list(t[::2].state_dict().keys())
    assert model[-1] is c and model[-3] is a and len(model) == 3
    assert [m for m in model] == [a, b, c]
    x = cr.ones(4, 2)
    np.testing.assert_array_equal(_np(model[1:](model[0](x))), _np(model(x)))
    with pytest.raises(IndexError):
        model[3]
    with pytest.raises(TypeError, match="indices must be integers or slices"):
        model["0"]
    d = nn.Tanh()
    model.insert(1, d)
    assert [m for m in model] == [a, d, b, c] and [n for n, _ in model.named_children()] == ["0", "1", "2", "3"]
    model.insert(-1, nn.Identity())
    assert len(model) == 5 and isinstance(model[3], nn.Identity)
    del model[3]
    assert [m for m in model] == [a, d, b, c]
    model.extend([nn.Sigmoid()])
    assert len(model) == 5 and isinstance(model[4], nn.Sigmoid)
    both = nn.Sequential(a) + nn.Sequential(b)
    assert [m for m in both] == [a, b]
    assert model.append(nn.ReLU()) is model
    assert len(model[10:]) == 0


def test_sequential_from_ordered_dict_like_torch():
    import collections
    ours = nn.Sequential(collections.OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU6())]))
    theirs = T.Sequential(collections.OrderedDict([("conv", T.Conv2d(1, 2, 3)), ("act", T.ReLU6())]))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["conv.weight", "conv.bias"]
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).normal(size=(2, 1, 5, 5)).astype(np.float32)
    same(ours(cr.tensor(x)), theirs(torch.tensor(x)), TOL["float32"], "OrderedDict Sequential")
    assert isinstance(ours.conv, nn.Conv2d) and ours[1] is ours.act
    with pytest.raises(TypeError, match="expected modules, got int for 'bad'"):
        nn.Sequential(collections.OrderedDict([("bad", 3)]))


# ------------------------------------------------------------------------------------------------
# data: random_split and DataLoader's worker arguments
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,lengths", [(10, [0.7, 0.3]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.3, 0.4]), (5, [3, 2]),
                                       (3, [0.2, 0.2, 0.6]), (100, [1 / 3] * 3)])
def test_random_split_sizes_match_torch(n, lengths):
    ds = cr.data.TensorDataset(cr.arange(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = cr.data.random_split(ds, lengths, generator=0)
        theirs = torch.utils.data.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    got = sorted(int(s[i][0].item()) for s in ours for i in range(len(s)))
    assert got == list(range(n))  # a partition
    assert all(isinstance(s, cr.data.Subset) for s in ours)
    again = cr.data.random_split(ds, lengths, generator=0) if lengths != [0.2, 0.2, 0.6] else ours
    assert [list(s.indices) for s in again] == [list(s.indices) for s in ours]


def test_random_split_errors_and_loader():
    ds = cr.data.TensorDataset(cr.arange(10.0), cr.arange(10))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        cr.data.random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        cr.data.random_split(ds, [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        cr.data.random_split(cr.data.TensorDataset(cr.arange(2.0)), [0.9, 0.05, 0.05])
    train, val = cr.data.random_split(ds, [0.8, 0.2], generator=1)
    xs = [xb for xb, _ in cr.data.DataLoader(train, batch_size=3)]
    assert [tuple(x.shape) for x in xs] == [(3,), (3,), (2,)]
    # the Subset fast path gives what collating sample by sample gives
    for shuffle in (False, True):
        fast = list(cr.data.DataLoader(train, batch_size=3, shuffle=shuffle, seed=5))
        slow = list(cr.data.DataLoader(train, batch_size=3, shuffle=shuffle, seed=5,
                                       collate_fn=cr.data.default_collate))
        for (a, b), (c, d) in zip(fast, slow):
            assert _np(a).tolist() == _np(c).tolist() and _np(b).tolist() == _np(d).tolist()
            assert a.dtype == c.dtype and b.dtype == d.dtype
    assert [int(v) for v in _np(xs[0])] == [int(train[i][0].item()) for i in range(3)]


def test_dataloader_num_workers_and_torch_keywords():
    ds = cr.data.TensorDataset(cr.arange(10.0), cr.arange(10))
    base = [(_np(x), _np(y)) for x, y in cr.data.DataLoader(ds, batch_size=4, shuffle=True, seed=3)]
    with pytest.warns(UserWarning, match="loads batches in the main process; num_workers=2"):
        loader = cr.data.DataLoader(ds, batch_size=4, shuffle=True, seed=3, num_workers=2, pin_memory=True,
                                    persistent_workers=True, prefetch_factor=2, timeout=0)
    got = [(_np(x), _np(y)) for x, y in loader]
    assert len(got) == len(base) and all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                                         for a, b in zip(got, base))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.data.DataLoader(ds, num_workers=0, pin_memory=True, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        cr.data.DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        cr.data.DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        cr.data.DataLoader(ds, prefetch_factor=2)
    with pytest.raises(NotImplementedError, match="sampler"):
        cr.data.DataLoader(ds, sampler=[0, 1])
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        cr.data.DataLoader(ds, num_worker=2)


# ------------------------------------------------------------------------------------------------
# random window configurations against torch (float64): values, input/weight/bias gradients, and
# the same refusals (torch's RuntimeError: ours RuntimeError or ValueError)
# ------------------------------------------------------------------------------------------------
def _compare_or_both_refuse(ours_fn, theirs_fn, inputs, what):
    rs = np.random.default_rng(zlib.crc32(what.encode()))
    tx = [torch.tensor(a, requires_grad=True) for a in inputs]
    cx = [cr.tensor(a, requires_grad=True) for a in inputs]
    try:
        ty = theirs_fn(*tx)
    except RuntimeError:
        with pytest.raises((RuntimeError, ValueError)):
            ours_fn(*cx)
        return
    try:
        cy = ours_fn(*cx)
    except ValueError as e:  # chainrule refuses windows that lie in the padding only (torch gives -inf)
        assert "every window to overlap the input" in str(e), what
        return
    v = rs.normal(size=tuple(ty.shape))
    (ty * torch.tensor(v)).sum().backward()
    (cy * cr.tensor(v)).sum().backward()
    same(cy, ty, (1e-12, 1e-12), what)
    for a, b in zip(cx, tx):
        if a.grad is None:
            assert not b.grad.abs().sum().item(), what
        else:
            same(a.grad, b.grad, (1e-10, 1e-11), what + " grad")


@pytest.mark.parametrize("seed", range(8))
def test_conv2d_random_configurations(seed):
    rs = np.random.default_rng(seed)
    for _ in range(15):
        G = int(rs.integers(1, 3))
        C, O = G * int(rs.integers(1, 3)), G * int(rs.integers(1, 3))
        N, H, W, kh, kw = (int(v) for v in (rs.integers(0, 3), rs.integers(1, 8), rs.integers(1, 8),
                                            rs.integers(1, 4), rs.integers(1, 4)))
        s, d = tuple(int(v) for v in rs.integers(1, 3, size=2)), tuple(int(v) for v in rs.integers(1, 3, size=2))
        pad = ["same", "valid", tuple(int(v) for v in rs.integers(0, 3, size=2))][int(rs.integers(0, 3))]
        s = (1, 1) if pad == "same" else s
        x, w, b = rs.normal(size=(N, C, H, W)), rs.normal(size=(O, C // G, kh, kw)), rs.normal(size=(O,))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _compare_or_both_refuse(lambda *a: F.conv2d(*a, s, pad, d, G), lambda *a: TF.conv2d(*a, s, pad, d, G),
                                    [x, w, b], f"conv2d {x.shape} {w.shape} s={s} p={pad} d={d} g={G}")


@pytest.mark.parametrize("seed", range(8))
def test_pools_random_configurations(seed):
    rs = np.random.default_rng(100 + seed)
    for _ in range(25):
        N, C, H, W = (int(v) for v in (rs.integers(0, 3), rs.integers(1, 3), rs.integers(1, 9), rs.integers(1, 9)))
        k, s = tuple(int(v) for v in rs.integers(1, 4, size=2)), tuple(int(v) for v in rs.integers(1, 4, size=2))
        p, d = tuple(int(v) for v in rs.integers(0, 2, size=2)), tuple(int(v) for v in rs.integers(1, 3, size=2))
        ceil, cip = bool(rs.integers(0, 2)), bool(rs.integers(0, 2))
        x = rs.normal(size=(N, C, H, W))
        what = f"{x.shape} k={k} s={s} p={p} d={d} ceil={ceil} cip={cip}"
        _compare_or_both_refuse(lambda a: F.max_pool2d(a, k, s, p, d, ceil), lambda a: TF.max_pool2d(a, k, s, p, d, ceil),
                                [x], "max_pool2d " + what)
        _compare_or_both_refuse(lambda a: F.avg_pool2d(a, k, s, p, ceil, cip), lambda a: TF.avg_pool2d(a, k, s, p, ceil, cip),
                                [x], "avg_pool2d " + what)
