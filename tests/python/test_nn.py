"""cr.nn against torch.nn (torch==2.13.0): every layer's forward values and the gradients of its
input and of every parameter (from torch's own initial weights, loaded with load_state_dict) in
float32 and float64; default initialisation; the Module API (attribute registration, Python and
C++ modules nested in each other, names, traversal, train/eval, zero_grad, state dicts and their
errors, repr); a 20-step SGD training loop against torch; and memory use of many small models.
"""
import gc
import os
import subprocess
import sys
import textwrap
import weakref
import zlib

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

pytestmark = pytest.mark.usefixtures("torch_one_thread")

DTYPES = ["float32", "float64"]
NP = {"float32": np.float32, "float64": np.float64}
CR = {"float32": cr.float32, "float64": cr.float64}
TH = {"float32": torch.float32, "float64": torch.float64}
# (rtol, atol): float32 sums run in another order than torch's; float64 agrees to rounding.
TOL = {"float32": {"value": (2e-5, 2e-6), "grad": (1e-4, 5e-6)},
       "float64": {"value": (1e-10, 1e-12), "grad": (1e-9, 1e-12)}}


def _np(t):
    return np.asarray(t.detach()) if isinstance(t, cr.Tensor) else t.detach().numpy()


def same(ours, theirs, dtype, kind="value", what=""):
    assert ours is not None, f"{what}: chainrule gave None"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], f"{what}: dtype {ours.dtype}"
    rtol, atol = TOL[dtype][kind]
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol, err_msg=what)


def rng_for(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def from_torch(ours, theirs):
    """Loads torch's weights into ours through load_state_dict (torch tensors go in via DLPack)."""
    ours.load_state_dict(theirs.state_dict())
    return ours


# ------------------------------------------------------------------------------------------------
# every layer against torch: forward values, input gradient, every parameter's gradient
# ------------------------------------------------------------------------------------------------
T = torch.nn

# name: (chainrule factory taking a dtype, torch factory, input shape, input scale)
LAYERS = {
    "Linear": (lambda d: nn.Linear(5, 4, dtype=d), lambda: T.Linear(5, 4), (6, 5), 1.0),
    "Linear_nobias": (lambda d: nn.Linear(5, 4, bias=False, dtype=d), lambda: T.Linear(5, 4, bias=False), (6, 5), 1.0),
    "Linear_3d": (lambda d: nn.Linear(5, 4, dtype=d), lambda: T.Linear(5, 4), (2, 3, 5), 1.0),
    "Sequential": (lambda d: nn.Sequential(nn.Linear(5, 8, dtype=d), nn.Tanh(), nn.Linear(8, 3, dtype=d)),
                   lambda: T.Sequential(T.Linear(5, 8), T.Tanh(), T.Linear(8, 3)), (4, 5), 1.0),
    "Identity": (lambda d: nn.Identity(), lambda: T.Identity(), (3, 4), 1.0),
    "Flatten": (lambda d: nn.Flatten(), lambda: T.Flatten(), (2, 3, 4, 5), 1.0),
    "Flatten_0_2": (lambda d: nn.Flatten(0, 2), lambda: T.Flatten(0, 2), (2, 3, 4, 5), 1.0),
    "ReLU": (lambda d: nn.ReLU(), lambda: T.ReLU(), (4, 7), 1.0),
    "LeakyReLU": (lambda d: nn.LeakyReLU(0.2), lambda: T.LeakyReLU(0.2), (4, 7), 1.0),
    "LeakyReLU_default": (lambda d: nn.LeakyReLU(), lambda: T.LeakyReLU(), (4, 7), 1.0),
    "Sigmoid": (lambda d: nn.Sigmoid(), lambda: T.Sigmoid(), (4, 7), 3.0),
    "Tanh": (lambda d: nn.Tanh(), lambda: T.Tanh(), (4, 7), 3.0),
    "GELU": (lambda d: nn.GELU(), lambda: T.GELU(), (4, 7), 3.0),
    "GELU_tanh": (lambda d: nn.GELU("tanh"), lambda: T.GELU("tanh"), (4, 7), 3.0),
    "Softplus": (lambda d: nn.Softplus(), lambda: T.Softplus(), (4, 7), 5.0),
    "Softplus_beta_threshold": (lambda d: nn.Softplus(beta=2.0, threshold=3.0),
                                lambda: T.Softplus(beta=2.0, threshold=3.0), (4, 7), 3.0),
    "Softmax": (lambda d: nn.Softmax(dim=1), lambda: T.Softmax(dim=1), (3, 5, 2), 2.0),
    "Softmax_last": (lambda d: nn.Softmax(dim=-1), lambda: T.Softmax(dim=-1), (3, 5), 2.0),
    "LogSoftmax": (lambda d: nn.LogSoftmax(dim=0), lambda: T.LogSoftmax(dim=0), (3, 5, 2), 2.0),
    "LogSoftmax_last": (lambda d: nn.LogSoftmax(dim=-1), lambda: T.LogSoftmax(dim=-1), (3, 5), 2.0),
    "BatchNorm1d_2d": (lambda d: nn.BatchNorm1d(4, dtype=d), lambda: T.BatchNorm1d(4), (8, 4), 2.0),
    "BatchNorm1d_3d": (lambda d: nn.BatchNorm1d(3, dtype=d), lambda: T.BatchNorm1d(3), (4, 3, 5), 2.0),
    "BatchNorm1d_noaffine": (lambda d: nn.BatchNorm1d(4, affine=False, dtype=d),
                             lambda: T.BatchNorm1d(4, affine=False), (8, 4), 2.0),
    "BatchNorm1d_notrack": (lambda d: nn.BatchNorm1d(3, track_running_stats=False, dtype=d),
                            lambda: T.BatchNorm1d(3, track_running_stats=False), (4, 3, 5), 2.0),
    "LayerNorm": (lambda d: nn.LayerNorm(6, dtype=d), lambda: T.LayerNorm(6), (3, 4, 6), 2.0),
    "LayerNorm_2dshape": (lambda d: nn.LayerNorm((4, 6), eps=1e-3, dtype=d),
                          lambda: T.LayerNorm((4, 6), eps=1e-3), (3, 4, 6), 2.0),
    "LayerNorm_noaffine": (lambda d: nn.LayerNorm(6, elementwise_affine=False, dtype=d),
                           lambda: T.LayerNorm(6, elementwise_affine=False), (5, 6), 2.0),
    "Conv2d": (lambda d: nn.Conv2d(3, 4, 3, dtype=d), lambda: T.Conv2d(3, 4, 3), (2, 3, 7, 6), 1.0),
    "Conv2d_stride_padding": (lambda d: nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 2), dtype=d),
                              lambda: T.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 2)), (2, 3, 8, 7), 1.0),
    "Conv2d_nobias_stride2": (lambda d: nn.Conv2d(2, 3, 2, stride=2, bias=False, dtype=d),
                              lambda: T.Conv2d(2, 3, 2, stride=2, bias=False), (3, 2, 6, 5), 1.0),
    "MaxPool2d": (lambda d: nn.MaxPool2d(2), lambda: T.MaxPool2d(2), (2, 3, 6, 7), 1.0),
    "MaxPool2d_stride_padding": (lambda d: nn.MaxPool2d(3, stride=2, padding=1),
                                 lambda: T.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 8), 1.0),
    "AvgPool2d": (lambda d: nn.AvgPool2d(2), lambda: T.AvgPool2d(2), (2, 3, 6, 7), 1.0),
    "AvgPool2d_stride_padding": (lambda d: nn.AvgPool2d((3, 2), stride=(2, 1), padding=1),
                                 lambda: T.AvgPool2d((3, 2), stride=(2, 1), padding=1), (2, 2, 7, 8), 1.0),
    # nnmod (more cases, Embedding and Dropout2d in test_nn_parity.py)
    "SiLU": (lambda d: nn.SiLU(), lambda: T.SiLU(), (4, 7), 3.0),
    "ELU": (lambda d: nn.ELU(0.5), lambda: T.ELU(0.5), (4, 7), 3.0),
    "ReLU6": (lambda d: nn.ReLU6(), lambda: T.ReLU6(), (4, 7), 5.0),
    "Hardtanh": (lambda d: nn.Hardtanh(-0.5, 2.0), lambda: T.Hardtanh(-0.5, 2.0), (4, 7), 3.0),
    "Softsign": (lambda d: nn.Softsign(), lambda: T.Softsign(), (4, 7), 3.0),
    "Softmin": (lambda d: nn.Softmin(dim=1), lambda: T.Softmin(dim=1), (3, 5, 2), 2.0),
    "BatchNorm2d": (lambda d: nn.BatchNorm2d(3, dtype=d), lambda: T.BatchNorm2d(3), (4, 3, 2, 5), 2.0),
    "BatchNorm2d_noaffine_momentum_none": (lambda d: nn.BatchNorm2d(3, affine=False, momentum=None, dtype=d),
                                           lambda: T.BatchNorm2d(3, affine=False, momentum=None), (4, 3, 2, 5), 2.0),
    "Conv2d_groups_dilation_same": (lambda d: nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2, dtype=d),
                                    lambda: T.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2), (2, 4, 7, 6), 1.0),
    "MaxPool2d_ceil_dilation": (lambda d: nn.MaxPool2d(2, 2, 1, dilation=2, ceil_mode=True),
                                lambda: T.MaxPool2d(2, 2, 1, dilation=2, ceil_mode=True), (2, 2, 7, 8), 1.0),
    "AvgPool2d_ceil": (lambda d: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                       lambda: T.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 2, 7, 8), 1.0),
}


def _run_both(ours, theirs, xn, gn=None):
    """Forward both on the same input; backward the same upstream gradient; returns both outputs
    and both inputs (with their grads)."""
    x = cr.tensor(xn, requires_grad=True)
    xt = torch.tensor(xn, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    if gn is None:
        gn = rng_for("upstream", xn.shape).normal(size=tuple(yt.shape)).astype(xn.dtype)
    y.backward(cr.tensor(gn))
    yt.backward(torch.tensor(gn))
    return y, yt, x, xt


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, mode, dtype):
    make_ours, make_torch, shape, scale = LAYERS[name]
    torch.manual_seed(zlib.crc32(name.encode()))
    theirs = make_torch().to(TH[dtype])
    ours = make_ours(CR[dtype])
    # torch's (random) initial weights -> ours; buffers too, which are given random values here so
    # that eval-mode BatchNorm is not the identity
    with torch.no_grad():
        for n, b in theirs.named_buffers():
            if b.is_floating_point():
                b.copy_(torch.rand_like(b) + 0.5 if "var" in n else torch.randn_like(b))
    from_torch(ours, theirs)
    assert ours.train() is ours and theirs.train() is theirs
    if mode == "eval":
        ours.eval(), theirs.eval()
    xn = (rng_for(name, "x").normal(size=shape) * scale).astype(NP[dtype])
    y, yt, x, xt = _run_both(ours, theirs, xn)
    same(y, yt, dtype, "value", f"{name} forward")
    same(x.grad, xt.grad, dtype, "grad", f"{name} input grad")
    ours_p, theirs_p = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours_p) == list(theirs_p)
    for n in theirs_p:
        same(ours_p[n].grad, theirs_p[n].grad, dtype, "grad", f"{name} {n}.grad")
    ours_b, theirs_b = dict(ours.named_buffers()), dict(theirs.named_buffers())
    assert list(ours_b) == list(theirs_b)
    for n in theirs_b:  # running statistics after the step (train) / unchanged (eval)
        assert np.array_equal(_np(ours_b[n]).shape, _np(theirs_b[n]).shape)
        np.testing.assert_allclose(_np(ours_b[n]), _np(theirs_b[n]), rtol=TOL[dtype]["value"][0], atol=1e-6,
                                   err_msg=f"{name} buffer {n}")


def test_every_exported_layer_is_compared():
    # A layer added to cr.nn.__all__ should get a row in LAYERS (Dropout and ModuleList have their own tests,
    # the loss modules theirs in test_loss_modules.py).
    from chainrule.nn import loss
    compared = {k.split("_")[0] for k in LAYERS} | {"Dropout", "ModuleList", "Module", "Parameter"} | set(loss.__all__)
    compared |= {"Embedding", "Dropout2d"}  # nnmod: int input / random masks, in test_nn_parity.py
    assert set(nn.__all__) <= compared, set(nn.__all__) - compared


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)])
def test_batchnorm_running_stats_over_steps(shape, dtype):
    torch.manual_seed(1)
    theirs = T.BatchNorm1d(4, momentum=0.3, eps=1e-3).to(TH[dtype])
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5), theirs.bias.uniform_(-1, 1)
    ours = from_torch(nn.BatchNorm1d(4, eps=1e-3, momentum=0.3, dtype=CR[dtype]), theirs)
    rng = rng_for("bn-steps", shape, dtype)
    for step in range(4):
        xn = (rng.normal(size=shape) * (step + 1) + step).astype(NP[dtype])
        y, yt, x, xt = _run_both(ours, theirs, xn)
        same(y, yt, dtype, "value", f"step {step} forward")
        same(x.grad, xt.grad, dtype, "grad", f"step {step} input grad")
        same(ours.weight.grad, theirs.weight.grad, dtype, "grad", f"step {step} weight grad")
        same(ours.bias.grad, theirs.bias.grad, dtype, "grad", f"step {step} bias grad")
        ours.zero_grad(), theirs.zero_grad()
    # running_var uses the unbiased batch variance, running_mean the mean, momentum 0.3
    same(ours.running_mean, theirs.running_mean, dtype, "value", "running_mean")
    same(ours.running_var, theirs.running_var, dtype, "value", "running_var")
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 4
    assert str(ours.num_batches_tracked.dtype) == "chainrule.int64"
    assert tuple(ours.num_batches_tracked.shape) == ()
    # eval: the running statistics normalise, they don't change, and the counter stays
    ours.eval(), theirs.eval()
    xn = rng.normal(size=shape).astype(NP[dtype])
    y, yt, x, xt = _run_both(ours, theirs, xn)
    same(y, yt, dtype, "value", "eval forward")
    same(x.grad, xt.grad, dtype, "grad", "eval input grad")
    same(ours.weight.grad, theirs.weight.grad, dtype, "grad", "eval weight grad")
    same(ours.running_mean, theirs.running_mean, dtype, "value", "running_mean after eval")
    assert ours.num_batches_tracked.item() == 4


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    ours = nn.BatchNorm1d(3, track_running_stats=False)
    theirs = T.BatchNorm1d(3, track_running_stats=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    ours.eval(), theirs.eval()
    xn = rng_for("bn-notrack").normal(size=(6, 3)).astype(np.float32) * 3 + 2
    y, yt, _, _ = _run_both(ours, theirs, xn)
    same(y, yt, "float32")
    assert abs(_np(y).mean()) < 1e-5  # normalised by the batch, not the identity


def test_batchnorm_noaffine_has_no_parameters_but_buffers():
    ours, theirs = nn.BatchNorm1d(3, affine=False), T.BatchNorm1d(3, affine=False)
    assert list(ours.parameters()) == []
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]


def test_batchnorm_rejects_wrong_input():
    bn = nn.BatchNorm1d(3)
    for shape in [(4, 2), (4,), (2, 3, 4, 5)]:
        with pytest.raises(ValueError, match="BatchNorm1d"):
            bn(cr.randn(*shape))


# ------------------------------------------------------------------------------------------------
# Dropout: training statistics, eval identity
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_statistics(p):
    cr.manual_seed(3)
    d = nn.Dropout(p)
    assert d.training and d.p == p
    n = 200_000
    x = cr.ones(n, requires_grad=True)
    y = d(x)
    yn = _np(y)
    kept = yn != 0
    # each element is dropped independently with probability p: the fraction dropped is within
    # 5 standard deviations of p; the rest are scaled by 1 / (1 - p) so the mean stays 1
    sd = (p * (1 - p) / n) ** 0.5
    assert abs((1 - kept.mean()) - p) < 5 * sd
    np.testing.assert_allclose(yn[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(yn.mean() - 1) < 5 * sd / (1 - p)
    # the gradient is the same mask and scale
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), yn)
    # a new call draws a new mask
    assert not np.array_equal(_np(d(cr.ones(n))) != 0, kept)


def test_dropout_eval_is_identity_and_edges():
    d = nn.Dropout(0.5).eval()
    xn = rng_for("dropout-eval").normal(size=(50, 20)).astype(np.float32)
    x = cr.tensor(xn, requires_grad=True)
    y = d(x)
    np.testing.assert_array_equal(_np(y), xn)
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.ones_like(xn))
    np.testing.assert_array_equal(_np(nn.Dropout(0.0)(cr.tensor(xn))), xn)
    np.testing.assert_array_equal(_np(nn.Dropout(1.0)(cr.tensor(xn))), np.zeros_like(xn))
    assert _np(T.Dropout(1.0)(torch.tensor(xn))).sum() == 0
    for bad in [-0.1, 1.5]:
        with pytest.raises(ValueError, match="Dropout"):
            nn.Dropout(bad)
    assert repr(nn.Dropout(0.25)) == repr(T.Dropout(0.25))


def test_dropout_in_sequential_follows_train_eval():
    model = nn.Sequential(nn.Linear(4, 50), nn.Dropout(0.5))
    x = cr.randn(8, 4)
    model.eval()
    a, b = _np(model(x)), _np(model(x))
    np.testing.assert_array_equal(a, b)
    model.train()
    c = _np(model(x))
    assert (c == 0).mean() > 0.3  # dropout active again


# ------------------------------------------------------------------------------------------------
# default initialisation
# ------------------------------------------------------------------------------------------------
def _check_uniform(values, bound, what):
    v = np.asarray(values, dtype=np.float64).ravel()
    assert np.all(np.abs(v) <= bound * (1 + 1e-6)), f"{what}: outside +-{bound}"
    n = v.size
    # U(-b, b): mean 0 (sd b/sqrt(3n)), variance b^2/3, and it reaches both ends
    assert abs(v.mean()) < 5 * bound / np.sqrt(3 * n), f"{what}: mean {v.mean()}"
    assert abs(v.var() / (bound ** 2 / 3) - 1) < 0.1, f"{what}: variance {v.var()} vs {bound ** 2 / 3}"
    assert v.max() > 0.9 * bound and v.min() < -0.9 * bound, what
    hist, _ = np.histogram(v, bins=10, range=(-bound, bound))
    assert hist.min() > 0.7 * n / 10, f"{what}: not flat {hist}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_default_init(dtype):
    cr.manual_seed(0)
    lin = nn.Linear(400, 300, dtype=CR[dtype])
    assert str(lin.weight.dtype) == f"chainrule.{dtype}" and str(lin.bias.dtype) == f"chainrule.{dtype}"
    assert lin.weight.requires_grad and lin.bias.requires_grad and lin.weight.is_leaf
    assert lin.in_features == 400 and lin.out_features == 300
    b = 1 / np.sqrt(400)
    _check_uniform(_np(lin.weight), b, "Linear.weight")
    _check_uniform(np.concatenate([_np(nn.Linear(400, 300).bias) for _ in range(10)]), b, "Linear.bias")
    # two layers differ; the same seed gives the same layer
    cr.manual_seed(0)
    again = nn.Linear(400, 300, dtype=CR[dtype])
    np.testing.assert_array_equal(_np(again.weight), _np(lin.weight))
    assert not np.array_equal(_np(nn.Linear(400, 300).weight), _np(lin.weight).astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_default_init(dtype):
    cr.manual_seed(1)
    conv = nn.Conv2d(8, 64, (3, 5), dtype=CR[dtype])
    assert tuple(conv.weight.shape) == tuple(T.Conv2d(8, 64, (3, 5)).weight.shape) == (64, 8, 3, 5)
    assert str(conv.weight.dtype) == f"chainrule.{dtype}"
    b = 1 / np.sqrt(8 * 3 * 5)
    _check_uniform(_np(conv.weight), b, "Conv2d.weight")
    _check_uniform(np.concatenate([_np(nn.Conv2d(8, 64, (3, 5)).bias) for _ in range(40)]), b, "Conv2d.bias")


@pytest.mark.parametrize("dtype", DTYPES)
def test_norm_layers_default_init(dtype):
    bn = nn.BatchNorm1d(5, dtype=CR[dtype])
    ln = nn.LayerNorm((2, 3), dtype=CR[dtype])
    for layer, shape in [(bn, (5,)), (ln, (2, 3))]:
        np.testing.assert_array_equal(_np(layer.weight), np.ones(shape))
        np.testing.assert_array_equal(_np(layer.bias), np.zeros(shape))
        assert str(layer.weight.dtype) == f"chainrule.{dtype}"
        assert layer.weight.requires_grad and layer.bias.requires_grad
    np.testing.assert_array_equal(_np(bn.running_mean), np.zeros(5))
    np.testing.assert_array_equal(_np(bn.running_var), np.ones(5))
    assert not bn.running_mean.requires_grad
    assert bn.num_batches_tracked.item() == 0
    assert bn.num_features == 5 and bn.eps == 1e-5 and bn.momentum == 0.1


# ------------------------------------------------------------------------------------------------
# the Module API
# ------------------------------------------------------------------------------------------------
class Net(nn.Module):
    """A Python model holding C++ layers, a Python submodule, a Parameter and a plain tensor."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(cr.ones(3))
        self.body = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.BatchNorm1d(6))
        self.head = Head()
        self.not_registered = cr.ones(2)  # a plain tensor is not a parameter

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 3)
        self.offset = nn.Parameter(cr.zeros(3))

    def forward(self, x):
        return self.fc(x) + self.offset


class TNet(T.Module):
    def __init__(self):
        super().__init__()
        self.scale = T.Parameter(torch.ones(3))
        self.body = T.Sequential(T.Linear(4, 6), T.ReLU(), T.BatchNorm1d(6))
        self.head = THead()
        self.not_registered = torch.ones(2)

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


class THead(T.Module):
    def __init__(self):
        super().__init__()
        self.fc = T.Linear(6, 3)
        self.offset = T.Parameter(torch.zeros(3))

    def forward(self, x):
        return self.fc(x) + self.offset


def test_python_subclass_registers_parameters_and_modules():
    net, tnet = Net(), TNet()
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()] == [
        "scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "head.offset",
        "head.fc.weight", "head.fc.bias"]
    assert len(list(net.parameters())) == len(list(tnet.parameters())) == 8
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert "not_registered" not in dict(net.named_parameters()) and "not_registered" not in net.state_dict()
    assert isinstance(net.not_registered, cr.Tensor)
    assert isinstance(net.scale, nn.Parameter) and net.scale.requires_grad
    assert isinstance(net.head, Head) and isinstance(net.body, nn.Sequential)
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="m")][:2] == ["m.scale", "m.body.0.weight"]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]


def test_children_and_modules_match_torch():
    net, tnet = Net(), TNet()
    assert [type(c).__name__ for c in net.children()] == ["Sequential", "Head"]
    assert [type(c).__name__ for c in tnet.children()] == ["Sequential", "THead"]
    assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()] == ["body", "head"]
    assert net.body[2] is not None and isinstance(net.body[-1], nn.BatchNorm1d)
    # modules()/named_modules() of a Python model (the root is a Python object)
    assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Sequential", "Linear", "ReLU", "BatchNorm1d",
                                                       "Head", "Linear"]
    assert next(iter(net.modules())) is net


def test_named_modules_of_cpp_root():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Tanh()))
    tseq = T.Sequential(T.Linear(2, 3), T.ReLU(), T.Sequential(T.Tanh()))
    assert [n for n, _ in seq.named_modules()] == [n for n, _ in tseq.named_modules()] == ["", "0", "1", "2", "2.0"]
    assert [type(m).__name__ for m in seq.modules()] == [type(m).__name__ for m in tseq.modules()]


def test_python_module_inside_cpp_sequential_and_back():
    torch.manual_seed(5)
    tnet = T.Sequential(THead(), T.Tanh(), T.Sequential(T.Linear(3, 2)))
    net = nn.Sequential(Head(), nn.Tanh(), nn.Sequential(nn.Linear(3, 2)))
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    from_torch(net, tnet)
    gc.collect()  # the Python Head lives on inside the C++ Sequential with its forward
    xn = rng_for("nested").normal(size=(5, 6)).astype(np.float32)
    y, yt, x, xt = _run_both(net, tnet, xn)
    same(y, yt, "float32")
    same(x.grad, xt.grad, "float32", "grad")
    for (n, p), (_, pt) in zip(net.named_parameters(), tnet.named_parameters()):
        same(p.grad, pt.grad, "float32", "grad", n)
    assert isinstance(net[0], Head) and type(net[0]).forward is Head.forward
    assert net[0].offset.shape == (3,)


def test_python_module_created_inline_survives_in_sequential():
    def build():
        return nn.Sequential(Head(), nn.ReLU())  # no Python reference to Head is kept

    seq = build()
    gc.collect()
    y = seq(cr.ones(2, 6))
    assert tuple(y.shape) == (2, 3)
    assert type(seq[0]) is Head and "Head(" in repr(seq)


def test_train_eval_propagate_and_return_self():
    calls = []

    class Watch(nn.Module):
        def forward(self, x):
            return x

        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    net = Net()
    net.body.append(Watch())
    assert net.training and all(m.training for m in net.body.children())
    assert net.eval() is net
    assert not net.training and not net.body.training and not net.body[2].training and not net.head.fc.training
    assert calls[-1] is False  # a Python override of train() is called from the C++ container
    assert net.train() is net
    assert net.training and net.head.fc.training and net.body[3].training and calls[-1] is True
    assert net.train(False) is net and not net.head.training
    assert nn.Linear(2, 2).eval().training is False


def test_zero_grad_sets_grads_to_none():
    class Wrap(nn.Module):  # C++ layers inside a Python module (own Parameters: see the next test)
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.BatchNorm1d(6), nn.Linear(6, 2))

        def forward(self, x):
            return self.inner(x)

    net = Wrap()
    net(cr.randn(5, 4)).sum().backward()
    assert len(list(net.parameters())) == 6
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.inner[0].weight.grad is None
    lin = nn.Linear(3, 2)
    lin(cr.randn(4, 3)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert all(p.grad is not None and float(p.grad.abs().sum()) == 0 for p in lin.parameters())


def test_python_parameter_gets_grads_and_optimizer_updates():
    # the Parameter stored as an attribute must be the very tensor that parameters() hands out
    head = Head()
    with cr.no_grad():
        head.offset.copy_(cr.tensor([1.0, 2.0, 3.0]))
    head(cr.ones(2, 6)).sum().backward()
    params = dict(head.named_parameters())
    assert params["offset"].grad is not None, "grad went to a different tensor than parameters() returns"
    np.testing.assert_allclose(_np(params["offset"].grad), [2, 2, 2])
    opt = cr.optim.SGD(head.parameters(), lr=0.5)
    opt.step()
    np.testing.assert_allclose(_np(head.offset), [0.0, 1.0, 2.0])
    head.zero_grad()
    assert head.offset.grad is None


def test_state_dict_keys_match_torch_including_buffers():
    assert list(Net().state_dict()) == list(TNet().state_dict())
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 4), nn.BatchNorm1d(4), nn.LayerNorm(4))
    tmodel = T.Sequential(T.Conv2d(1, 2, 3), T.Flatten(), T.Linear(8, 4), T.BatchNorm1d(4), T.LayerNorm(4))
    assert list(model.state_dict()) == list(tmodel.state_dict())
    assert "3.num_batches_tracked" in model.state_dict()
    # the state dict shares memory with the model (torch's does too)
    sd = model.state_dict()
    assert sd["2.weight"].data_ptr() == model[2].weight.data_ptr()
    assert not sd["2.weight"].requires_grad


def test_shared_submodule_counted_once_like_torch():
    shared, tshared = nn.Linear(2, 2), T.Linear(2, 2)

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = shared, shared

    class TTwo(T.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = tshared, tshared

    m, tm = nn.Sequential(Two()), T.Sequential(TTwo())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()] == ["0.a.weight", "0.a.bias"]
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_modules()] == [n for n, _ in tm.named_modules()]
    # torch's state_dict lists a shared module under each of its names (and load_state_dict expects
    # both); its children() lists the shared child once
    assert (list(m.state_dict()), len(list(m[0].children()))) == (list(tm.state_dict()), len(list(tm[0].children())))


def test_load_state_dict_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    tmodel = T.Sequential(T.Linear(2, 3), T.BatchNorm1d(3))
    sd = dict(tmodel.state_dict())
    del sd["0.bias"]
    sd["extra.weight"] = torch.zeros(1)
    before = {k: _np(v).copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as e:
        model.load_state_dict(sd)
    msg = str(e.value)
    assert "0.bias" in msg and "extra.weight" in msg and "missing" in msg and "unexpected" in msg
    for k, v in model.state_dict().items():  # nothing was loaded
        np.testing.assert_array_equal(_np(v), before[k])
    with pytest.raises(ValueError, match="1.running_var"):
        model.load_state_dict({k: v for k, v in tmodel.state_dict().items() if k != "1.running_var"})
    # strict=False loads the keys that match and leaves the rest
    model.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(_np(model[0].weight), _np(tmodel[0].weight))
    np.testing.assert_array_equal(_np(model[0].bias), before["0.bias"])


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = {k: _np(v).copy() for k, v in model.state_dict().items()}
    sd = {k: np.ones(tuple(v.shape), np.float32) for k, v in model.state_dict().items()}
    sd["1.weight"] = np.ones((2, 3), np.float32)
    for strict in (True, False):
        with pytest.raises(ValueError) as e:
            model.load_state_dict(sd, strict=strict)
        msg = str(e.value)
        assert "1.weight" in msg and "(2, 3)" in msg and "(1, 3)" in msg, msg
        for k, v in model.state_dict().items():  # checked before anything is copied
            np.testing.assert_array_equal(_np(v), before[k], err_msg=k)


def test_load_state_dict_accepts_numpy_torch_and_own_and_converts_dtype():
    model = nn.Linear(2, 2)
    model.load_state_dict({"weight": np.full((2, 2), 2.0), "bias": torch.tensor([1.0, -1.0], dtype=torch.float64)})
    assert str(model.weight.dtype) == "chainrule.float32"
    np.testing.assert_array_equal(_np(model.weight), np.full((2, 2), 2.0))
    np.testing.assert_array_equal(_np(model.bias), [1.0, -1.0])
    other = nn.Linear(2, 2)
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(_np(other.weight), _np(model.weight))
    assert other.weight.data_ptr() != model.weight.data_ptr()  # copied, not shared


def test_load_state_dict_keeps_parameter_identity():
    model = nn.Sequential(nn.Linear(3, 2))
    net = Head()
    w = model[0].weight
    ptrs = {n: p.data_ptr() for n, p in model.named_parameters()}
    opt = cr.optim.SGD(list(model.parameters()) + list(net.parameters()), lr=1.0)
    tmodel = T.Sequential(T.Linear(3, 2))
    model.load_state_dict(tmodel.state_dict())
    net.load_state_dict({"fc.weight": np.zeros((3, 6)), "fc.bias": np.zeros(3), "offset": np.ones(3)})
    assert {n: p.data_ptr() for n, p in model.named_parameters()} == ptrs
    np.testing.assert_array_equal(_np(w), _np(tmodel[0].weight))  # the tensor held before sees the values
    np.testing.assert_array_equal(_np(net.offset), np.ones(3))
    # the optimizer built before the load still updates the model's tensors
    x = cr.ones(1, 3)
    model(x).sum().backward()
    opt.step()
    np.testing.assert_allclose(_np(model[0].weight), _np(tmodel[0].weight) - 1.0, rtol=1e-6)
    np.testing.assert_allclose(_np(w), _np(tmodel[0].weight) - 1.0, rtol=1e-6)


def test_repr_matches_torch():
    pairs = [
        (nn.Linear(3, 4), T.Linear(3, 4)),
        (nn.Linear(3, 4, bias=False), T.Linear(3, 4, bias=False)),
        (nn.ReLU(), T.ReLU()), (nn.Tanh(), T.Tanh()), (nn.Sigmoid(), T.Sigmoid()), (nn.Identity(), T.Identity()),
        (nn.LeakyReLU(), T.LeakyReLU()), (nn.LeakyReLU(0.2), T.LeakyReLU(0.2)),
        (nn.GELU("tanh"), T.GELU("tanh")),
        (nn.Softmax(1), T.Softmax(1)), (nn.LogSoftmax(-1), T.LogSoftmax(-1)),
        (nn.Flatten(), T.Flatten()), (nn.Flatten(0, 2), T.Flatten(0, 2)),
        (nn.Dropout(), T.Dropout()), (nn.Dropout(0.1), T.Dropout(0.1)),
        (nn.Conv2d(3, 8, 3), T.Conv2d(3, 8, 3)),
        (nn.Conv2d(3, 8, (3, 2), stride=2, padding=(1, 0), bias=False),
         T.Conv2d(3, 8, (3, 2), stride=2, padding=(1, 0), bias=False)),
        (nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Sequential(nn.Linear(16, 16), nn.Tanh()), nn.Linear(16, 3)),
         T.Sequential(T.Linear(2, 16), T.ReLU(), T.Sequential(T.Linear(16, 16), T.Tanh()), T.Linear(16, 3))),
        (nn.Sequential(), T.Sequential()),
        (nn.ModuleList([nn.Linear(2, 2), nn.ReLU()]), T.ModuleList([T.Linear(2, 2), T.ReLU()])),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
    # Python subclasses (their class name), nested both ways; plain tensors don't show
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(cr.ones(2))
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.blocks = nn.Sequential(Head(), nn.Sequential(nn.Flatten(), nn.Dropout(0.2)))
            self.plain = cr.ones(3)

    class TModel(T.Module):
        def __init__(self):
            super().__init__()
            self.w = T.Parameter(torch.ones(2))
            self.conv = T.Conv2d(1, 2, 3, padding=1)
            self.blocks = T.Sequential(THead(), T.Sequential(T.Flatten(), T.Dropout(0.2)))
            self.plain = torch.ones(3)

    assert repr(Model()) == repr(TModel()).replace("TModel", "Model").replace("THead", "Head")
    assert repr(nn.Sequential(Head())) == repr(T.Sequential(THead())).replace("THead", "Head")


def test_repr_python_extra_repr_like_torch():
    class E(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def extra_repr(self):
            return "k=3"

    class TE(T.Module):
        def __init__(self):
            super().__init__()
            self.fc = T.Linear(1, 1)

        def extra_repr(self):
            return "k=3"

    class Leaf(nn.Module):
        def extra_repr(self):
            return "k=3"

    assert repr(Leaf()) == "Leaf(k=3)"
    # with children, torch prints the extra_repr on its own indented line
    assert repr(E()) == repr(TE()).replace("TE(", "E(")


def test_repr_gelu_default_like_torch():
    assert repr(nn.GELU()) == repr(T.GELU())  # GELU(approximate='none')


def test_repr_softplus_floats_like_torch():
    assert repr(nn.Softplus()) == repr(T.Softplus())  # Softplus(beta=1.0, threshold=20.0)
    assert repr(nn.LeakyReLU(1.0)) == repr(T.LeakyReLU(1.0))


def test_repr_deliberate_differences():
    # These differ from torch on purpose (chainrule's C++ norm layers have no bias option); asserted
    # so a change is noticed. (The pools, now Python layers with torch's arguments, print as torch's.)
    assert repr(nn.MaxPool2d(2)) == repr(T.MaxPool2d(2))
    assert repr(nn.AvgPool2d(3, stride=1, padding=1)) == repr(T.AvgPool2d(3, stride=1, padding=1))
    assert repr(nn.BatchNorm1d(3)) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert repr(T.BatchNorm1d(3)) == ("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                                      "track_running_stats=True)")
    assert repr(nn.LayerNorm((2, 3))) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True)"
    assert repr(T.LayerNorm((2, 3))) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)"
    # torch folds repeated modules of a ModuleList: "(0-2): 3 x Linear(...)"; chainrule lists them
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert repr(ml).count("Linear(") == 3
    assert "(0-2): 3 x Linear" in repr(T.ModuleList([T.Linear(2, 2) for _ in range(3)]))


def test_reassigning_attributes_replaces_registration():
    net = Head()
    net.fc = nn.Linear(6, 5)
    net.offset = nn.Parameter(cr.zeros(5))
    assert [(n, tuple(p.shape)) for n, p in net.named_parameters()] == [
        ("offset", (5,)), ("fc.weight", (5, 6)), ("fc.bias", (5,))]
    assert tuple(net(cr.ones(2, 6)).shape) == (2, 5)
    net.fc = nn.Tanh()  # a parameterless module replaces the Linear
    assert [n for n, _ in net.named_parameters()] == ["offset"]
    assert [n for n, _ in net.named_children()] == ["fc"]


def test_reassigning_parameter_of_cpp_layer_is_used_by_forward():
    lin = nn.Linear(2, 3)
    new_w = nn.Parameter(cr.zeros(3, 2))
    lin.weight = new_w
    assert [tuple(p.shape) for p in lin.parameters()] == [(3, 2), (3,)]
    np.testing.assert_array_equal(_np(lin.weight), np.zeros((3, 2)))
    # forward must use the new weight (zeros): the output is the bias
    np.testing.assert_allclose(_np(lin(cr.ones(1, 2))), _np(lin.bias)[None], rtol=1e-6)


def test_assigning_plain_tensor_to_parameter_raises():
    net, lin = Head(), nn.Linear(2, 2)
    with pytest.raises(TypeError, match="offset"):
        net.offset = cr.zeros(3)
    with pytest.raises(TypeError, match="weight"):
        lin.weight = cr.zeros(2, 2)
    assert isinstance(net.offset, nn.Parameter)
    assert [n for n, _ in net.named_parameters()] == ["offset", "fc.weight", "fc.bias"]


def test_assigning_other_kinds_over_registered_names_raises_like_torch():
    net = Head()
    with pytest.raises(TypeError):  # torch: cannot assign 'Linear' as parameter 'offset'
        net.offset = nn.Linear(1, 1)
    assert [n for n, _ in net.named_parameters()] == ["offset", "fc.weight", "fc.bias"]
    with pytest.raises(TypeError):  # torch: cannot assign 'Tensor' as child module 'fc'
        net.fc = cr.zeros(3)
    assert [n for n, _ in net.named_parameters()] == ["offset", "fc.weight", "fc.bias"]
    assert isinstance(net.fc, nn.Linear)


def test_parameter_set_to_none_unregisters_like_torch():
    net, tnet = Head(), THead()
    tnet.offset = None
    net.offset = None
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert net.offset is None
    net.register_parameter("extra", None)
    assert "extra" not in net.state_dict()


class _Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("b", cr.zeros(2))
        self.fc = nn.Linear(2, 2)


def test_a_parameter_replaces_a_buffer_of_the_same_name():
    m = _Holder()
    m.b = nn.Parameter(cr.ones(2))
    sd = m.state_dict()
    assert list(sd).count("b") == 1 and sd["b"].tolist() == [1.0, 1.0]
    assert "b" in dict(m.named_parameters())


def test_setting_a_child_module_to_none_like_torch():
    m = _Holder()
    m.fc = None
    assert m.fc is None and list(m.named_children()) == [] and "fc.weight" not in m.state_dict()


def test_module_without_forward_raises_clear_error():
    class NoForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    m = NoForward()
    with pytest.raises(RuntimeError, match="NoForward.*forward"):
        m(cr.ones(1, 2))
    with pytest.raises(RuntimeError, match="NoForward.*forward"):
        nn.Sequential(m)(cr.ones(1, 2))  # also when called from C++
    with pytest.raises(RuntimeError, match="forward"):
        nn.ModuleList([nn.ReLU()])(cr.ones(1))


def test_skipping_super_init_raises():
    class NoSuper(nn.Module):
        def __init__(self):
            self.x = 3

    with pytest.raises(TypeError, match="__init__"):
        NoSuper()


_BEFORE_INIT = textwrap.dedent("""
    import gc, chainrule as cr
    nn = cr.nn
    class M(nn.Module):
        def __init__(self):
            {stmt}
            super().__init__()
    try:
        m = M()
        print("constructed", repr(m), sorted(m.state_dict()))
        del m; gc.collect()
    except (AttributeError, TypeError, RuntimeError) as e:
        print("error", type(e).__name__, e)
""")


@pytest.mark.parametrize("stmt", ["self.fc = nn.Linear(2, 2)", "self.w = nn.Parameter(cr.ones(2))",
                                  "self.register_buffer('b', cr.ones(2))"])
def test_registering_before_super_init_does_not_crash(stmt):
    # torch raises AttributeError("cannot assign module before Module.__init__() call"); chainrule
    # must at least not touch an unconstructed C++ object. Run in a child: a crash kills only it.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", _BEFORE_INIT.format(stmt=stmt)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, f"interpreter died (rc {r.returncode}): {r.stdout} {r.stderr[-500:]}"
    assert r.stdout.startswith("error") and "__init__" in r.stdout, r.stdout


def test_module_list():
    ml = nn.ModuleList([nn.Linear(2, 3), nn.ReLU()])
    ml.append(nn.Linear(3, 1))
    tml = T.ModuleList([T.Linear(2, 3), T.ReLU()])
    tml.append(T.Linear(3, 1))
    assert len(ml) == 3 and isinstance(ml[-1], nn.Linear) and isinstance(ml[1], nn.ReLU)
    assert [n for n, _ in ml.named_parameters()] == [n for n, _ in tml.named_parameters()]
    with pytest.raises(IndexError):
        ml[3]
    holder = Head()
    holder.layers = nn.ModuleList([nn.Linear(1, 1)])
    assert "layers.0.weight" in holder.state_dict()
    x = cr.ones(4, 2)
    for layer in ml:
        x = layer(x)
    assert tuple(x.shape) == (4, 1)


def test_sequential_indexing_and_errors():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert len(seq) == 2 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.ReLU)
    with pytest.raises(IndexError):
        seq[2]
    with pytest.raises((TypeError, ValueError)):
        nn.Sequential(nn.Linear(2, 2), 3)
    with pytest.raises(ValueError, match="Linear"):
        seq(cr.ones(2, 5))
    assert seq.append(nn.Tanh()) is seq and len(seq) == 3


# ------------------------------------------------------------------------------------------------
# end to end: the same model trained in torch and chainrule with SGD + momentum
# ------------------------------------------------------------------------------------------------
class Scaled(nn.Module):
    """A Python model with its own Parameter around C++ layers."""

    def __init__(self, dtype):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16, dtype=dtype), nn.Tanh(), nn.Linear(16, 3, dtype=dtype))
        self.gain = nn.Parameter(cr.ones(3, dtype=dtype))

    def forward(self, x):
        return self.net(x) * self.gain


class TScaled(T.Module):
    def __init__(self):
        super().__init__()
        self.net = T.Sequential(T.Linear(4, 16), T.Tanh(), T.Linear(16, 3))
        self.gain = T.Parameter(torch.ones(3))

    def forward(self, x):
        return self.net(x) * self.gain


MODELS = {
    "Sequential": (lambda d: nn.Sequential(nn.Linear(4, 16, dtype=d), nn.ReLU(), nn.BatchNorm1d(16, dtype=d),
                                          nn.Linear(16, 3, dtype=d)),
                   lambda: T.Sequential(T.Linear(4, 16), T.ReLU(), T.BatchNorm1d(16), T.Linear(16, 3))),
    "PythonModel": (Scaled, TScaled),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("model", list(MODELS))
def test_training_loop_matches_torch(model, dtype):
    make_ours, make_torch = MODELS[model]
    torch.manual_seed(7)
    theirs = make_torch().to(TH[dtype])
    ours = from_torch(make_ours(CR[dtype]), theirs)
    start = {k: _np(v).copy() for k, v in ours.state_dict().items()}
    opt = cr.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = rng_for("train", model, dtype)
    losses = []
    for step in range(20):
        xn = rng.normal(size=(16, 4)).astype(NP[dtype])
        yn = rng.integers(0, 3, size=16)
        opt.zero_grad(), topt.zero_grad()
        loss = F.cross_entropy(ours(cr.tensor(xn)), cr.tensor(yn))
        tloss = T.functional.cross_entropy(theirs(torch.tensor(xn)), torch.tensor(yn))
        loss.backward(), tloss.backward()
        opt.step(), topt.step()
        losses.append((loss.item(), tloss.item()))
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose([a for a, _ in losses], [b for _, b in losses], rtol=tol, atol=tol)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k in theirs_sd:
        np.testing.assert_allclose(_np(ours_sd[k]).astype(np.float64), _np(theirs_sd[k]).astype(np.float64),
                                   rtol=tol, atol=tol, err_msg=k)
    # every parameter moved
    for k, _ in ours.named_parameters():
        assert not np.allclose(_np(ours_sd[k]), start[k]), k


# ------------------------------------------------------------------------------------------------
# memory: many small models created and dropped
# ------------------------------------------------------------------------------------------------
def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 64)  # 16 KB of weights (and as much of grads) per model
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(64, 4)
        self.w = nn.Parameter(cr.ones(4))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.w


def _py_holding_cpp():
    m = Small()
    m(cr.ones(2, 64)).sum().backward()
    return m


def _cpp_holding_py():
    m = nn.Sequential(Small(), nn.ReLU(), nn.Sequential(nn.Linear(4, 4)))
    m(cr.ones(2, 64)).sum().backward()
    return m


def _py_cpp_py():
    outer = Small()
    outer.inner = nn.Sequential(Small(), nn.Linear(4, 4))
    outer.inner(cr.ones(2, 64)).sum().backward()
    return outer


def _descendants(m):
    # children() recursively (named_modules() is tested above; this stays independent of it)
    for c in m.children():
        yield c
        yield from _descendants(c)


MEM_MB = 8.0  # RSS growth allowed for 1,000 models after a warm-up (each holds >= 32 KB: a leak is >= 32 MB)


@pytest.mark.parametrize("make", [_py_holding_cpp, _cpp_holding_py, _py_cpp_py])
def test_many_models_do_not_leak(make):
    for _ in range(200):  # warm-up: allocator pools, pybind11 type caches
        make()
    gc.collect()
    start = _rss_mb()
    refs = []
    for _ in range(1000):
        m = make()
        refs.append(weakref.ref(m))
        refs += [weakref.ref(sub) for sub in _descendants(m) if isinstance(sub, Small)]
        del m
    gc.collect()
    growth = _rss_mb() - start
    print(f"{make.__name__}: RSS growth over 1000 models {growth:.2f} MB")
    assert growth < MEM_MB, f"{make.__name__}: RSS grew {growth:.1f} MB"
    assert len(refs) >= 1000
    alive = sum(r() is not None for r in refs)
    assert alive == 0, f"{alive} of {len(refs)} dropped models (or their Python submodules) are still alive"
