"""Modules as PyTorch users know them: parameters are nn.Parameter objects with a stable identity,
model.double()/.float()/.to(dtype) cast in place, copy.deepcopy(model), model.requires_grad_()."""
import copy

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(cr.ones(3))
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3))
        self.norm = nn.BatchNorm1d(3)
        self.head = nn.Linear(3, 1)
        self.note = {"epochs": 3}

    def forward(self, x):
        return self.head(self.norm(self.body(x) * self.scale))


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.body = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3))
        self.norm = torch.nn.BatchNorm1d(3)
        self.head = torch.nn.Linear(3, 1)

    def forward(self, x):
        return self.head(self.norm(self.body(x) * self.scale))


def _twins():
    cr.manual_seed(0)
    m, t = Net(), TNet()
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    return m, t


# ---------------------------------------------------------------------------------- Parameter
def test_builtin_layer_parameters_are_parameters():
    lin = nn.Linear(2, 3)
    assert isinstance(lin.weight, nn.Parameter) and isinstance(lin.bias, nn.Parameter)
    assert lin.weight is lin.weight  # one Python object per parameter, as torch
    assert all(isinstance(p, nn.Parameter) for p in nn.Conv2d(1, 2, 3).parameters())
    assert "Parameter containing" in repr(lin.weight)


def test_parameters_yields_the_registered_objects():
    m = Net()
    params = list(m.parameters())
    assert params[0] is m.scale
    assert params[1] is m.body[0].weight and params[-1] is m.head.bias
    assert dict(m.named_parameters())["body.2.weight"] is m.body[2].weight
    assert all(type(p) is nn.Parameter for p in params)
    # a parameter object stays the tensor the layer trains: its grad is the layer's grad
    m(cr.randn(4, 2)).sum().backward()
    assert m.head.weight.grad is not None and params[-2].grad.tolist() == m.head.weight.grad.tolist()


def test_ops_on_parameters_return_plain_tensors():
    w = nn.Linear(2, 2).weight
    assert type(w * 2) is cr.Tensor and type(w.detach()) is cr.Tensor
    assert type(nn.Linear(2, 2).state_dict()["weight"]) is cr.Tensor  # as torch: detached tensors


# ---------------------------------------------------------------------------------- dtype casts
@pytest.mark.parametrize("cast", ["double", "to"])
def test_double_matches_torch_and_keeps_identity(cast):
    m, t = _twins()
    before = list(m.parameters())
    opt = cr.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    assert (m.double() if cast == "double" else m.to(cr.float64)) is m
    t.double()
    assert [p is q for p, q in zip(before, m.parameters())] == [True] * len(before)
    assert all(p.dtype == cr.float64 for p in m.parameters())
    assert m.norm.running_var.dtype == cr.float64 and m.norm.num_batches_tracked.dtype == cr.int64
    x = np.random.default_rng(0).standard_normal((5, 2))
    for _ in range(3):  # the optimizer built before the cast still trains the model
        opt.zero_grad(), topt.zero_grad()
        m(cr.tensor(x)).pow(2).mean().backward()
        t(torch.tensor(x)).pow(2).mean().backward()
        opt.step(), topt.step()
    for (k, a), (k2, b) in zip(m.state_dict().items(), t.state_dict().items()):
        assert k == k2 and a.dtype == getattr(cr, str(b.dtype).split(".")[1])
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def test_float_casts_back_with_grads():
    m = nn.Linear(2, 1, dtype=cr.float64)
    m(cr.randn(3, 2, dtype=cr.float64)).sum().backward()
    assert m.float() is m
    assert m.weight.dtype == cr.float32 and m.weight.grad.dtype == cr.float32
    m(cr.randn(3, 2)).sum().backward()  # accumulates into the cast grad
    assert m.weight.grad.dtype == cr.float32


def test_to_integer_dtype_is_refused_like_torch():
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(2, 2).to(cr.int64)
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).to(torch.int64)


def test_tensor_data_assignment_keeps_identity():
    p = nn.Parameter(cr.zeros(2))
    p.data = cr.ones(3, dtype=cr.float64)
    assert p.shape == (3,) and p.dtype == cr.float64 and p.requires_grad and isinstance(p, nn.Parameter)
    t = torch.nn.Parameter(torch.zeros(2))
    t.data = torch.ones(3, dtype=torch.float64)
    assert tuple(t.shape) == p.shape and t.requires_grad
    src = cr.arange(4.)
    x = cr.zeros(4)
    x.data = src
    src[0] = 7.0  # x now shares src's memory, as in torch
    assert x[0].item() == 7.0
    with pytest.raises(ValueError, match="floating-point"):
        p.data = cr.tensor([1, 2])


# ---------------------------------------------------------------------------------- deepcopy
def test_deepcopy_copies_values_not_memory():
    m, _ = _twins()
    m.eval()
    c = copy.deepcopy(m)
    assert type(c) is Net and not c.training and c.note == {"epochs": 3} and c.note is not m.note
    x = cr.randn(4, 2)
    assert (c(x) - m(x)).abs().max().item() == 0.0
    assert [k for k in c.state_dict()] == [k for k in m.state_dict()]
    for a, b in zip(c.parameters(), m.parameters()):
        assert a is not b and a.data_ptr() != b.data_ptr() and a.requires_grad == b.requires_grad
    c.head.weight.data.fill_(0.0)
    assert m.head.weight.abs().sum().item() > 0


def test_deepcopy_keeps_sharing_inside_the_model():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a              # a module under two names
            self.c = nn.Linear(2, 2)
            self.c.weight = self.a.weight  # a tied weight
    m = Tied()
    c = copy.deepcopy(m)
    assert c.b is c.a and c.c.weight is c.a.weight and c.a.weight is not m.a.weight
    assert len(list(c.parameters())) == len(list(m.parameters())) == 3


def test_deepcopy_snapshot_survives_training():
    """The habit deepcopy exists for: keep the best model while training goes on."""
    m = nn.Sequential(nn.Linear(2, 1))
    best = copy.deepcopy(m)
    opt = cr.optim.SGD(m.parameters(), lr=0.5)
    m(cr.randn(8, 2)).sum().backward()
    opt.step()
    assert (best[0].weight - m[0].weight).abs().sum().item() > 0
    assert best[0].weight.grad is None  # like torch, grads aren't copied


def test_deepcopy_of_frozen_and_biasless_layers():
    lin = nn.Linear(2, 2, bias=False).requires_grad_(False)
    c = copy.deepcopy(lin)
    assert c.bias is None and not c.weight.requires_grad and "bias=False" in repr(c)


def test_deepcopy_of_parameter_and_shared_tensors():
    p = nn.Parameter(cr.randn(2))
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == p.tolist()
    t = cr.randn(3)
    a, b = copy.deepcopy([t, t])
    assert a is b and a is not t


def test_deepcopy_keeps_a_registered_buffer_one_tensor():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("cnt", cr.zeros(2))

        def forward(self, x):
            self.cnt.add_(1)
            return x
    c = copy.deepcopy(Counter())
    c(cr.ones(1)), c(cr.ones(1))
    assert c.cnt.tolist() == [2.0, 2.0] and c.state_dict()["cnt"].tolist() == [2.0, 2.0]
    bn, tbn = copy.deepcopy(nn.BatchNorm2d(2)), torch.nn.BatchNorm2d(2)
    state = {"weight": torch.ones(2), "bias": torch.zeros(2), "running_mean": torch.full((2,), 5.0),
             "running_var": torch.full((2,), 4.0), "num_batches_tracked": torch.tensor(0)}
    bn.load_state_dict(state), tbn.load_state_dict(state)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn(cr.zeros(1, 2, 1, 1)).detach().numpy(),
                               tbn(torch.zeros(1, 2, 1, 1)).detach().numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------- requires_grad_
def test_requires_grad_freezes_like_torch():
    m, t = _twins()
    assert m.body.requires_grad_(False) is m.body
    t.body.requires_grad_(False)
    assert [p.requires_grad for p in m.parameters()] == [p.requires_grad for p in t.parameters()]
    m(cr.randn(4, 2)).sum().backward()
    assert m.body[0].weight.grad is None and m.head.weight.grad is not None


# ---------------------------------------------------------------------------------- tutorial keywords
@pytest.mark.parametrize("make", [
    lambda L: L.nn.ReLU(inplace=True), lambda L: L.nn.LeakyReLU(0.1, inplace=True),
    lambda L: L.nn.Dropout(0.5, inplace=True), lambda L: L.nn.Linear(2, 3, device="cpu"),
    lambda L: L.nn.BatchNorm1d(3, device="cpu"), lambda L: L.nn.LayerNorm(3, device="cpu"),
], ids=range(6))
def test_layers_take_the_keywords_tutorials_pass(make):
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    ours, theirs = make(cr), make(torch)
    if hasattr(theirs, "weight") and theirs.weight is not None:
        theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    ours.eval(), theirs.eval()
    xin = x[:, :2] if isinstance(theirs, torch.nn.Linear) else x
    np.testing.assert_allclose(ours(cr.tensor(xin)).detach().numpy(), theirs(torch.tensor(xin)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


def test_a_layer_on_another_device_is_refused():
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 3, device="cuda")
    with pytest.raises(TypeError, match="unexpected keyword argument 'inplace' \\(it takes no arguments\\)"):
        nn.Sigmoid(inplace=True)


@pytest.mark.parametrize("make,attrs", [
    (lambda m: m.Flatten(2, 3), ["start_dim", "end_dim"]),
    (lambda m: m.LeakyReLU(0.3), ["negative_slope"]),
    (lambda m: m.Softplus(beta=2.0, threshold=5.0), ["beta", "threshold"]),
    (lambda m: m.Softmax(dim=0), ["dim"]),
    (lambda m: m.LogSoftmax(dim=-2), ["dim"]),
    (lambda m: m.GELU(approximate="tanh"), ["approximate"]),
    (lambda m: m.LayerNorm((2, 3), eps=1e-3, elementwise_affine=False), ["normalized_shape", "eps",
                                                                       "elementwise_affine"]),
    (lambda m: m.Dropout(0.25), ["p"]),
])
def test_layer_settings_read_back_as_in_torch(make, attrs):
    ours, theirs = make(nn), make(torch.nn)
    for a in attrs:
        assert getattr(ours, a) == getattr(theirs, a), a
