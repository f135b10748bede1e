"""Conformance with PyTorch, driven by the op catalog (op_catalog.py).

For every catalog entry and sample, in float32 and float64:
- forward: values, shape and dtype equal torch's;
- first derivatives: backward of sum(out * v) for a random v gives torch's .grad for every input;
- second derivatives: the gradient of sum(grad * u) (grad from create_graph=True) equals torch's;
and, in float64, chainrule's own gradcheck and gradgradcheck pass (finite differences).
Tolerances live in op_catalog.TOLERANCES.
"""
import numpy as np
import pytest
import torch

import chainrule as cr
from op_catalog import (GRADCHECK, assert_same, cases, cotangents, is_float, make_inputs, outputs, seed_of,
                        weighted_sum)

pytestmark = pytest.mark.usefixtures("torch_one_thread")

DTYPES = ["float32", "float64"]

FORWARD, FORWARD_IDS = cases()
GRAD, GRAD_IDS = cases(lambda o, s: o.differentiable and s.check in ("all", "grad"))
FD, FD_IDS = cases(lambda o, s: o.differentiable and s.check == "all")


def _setup(op_, sample, dtype):
    rs = np.random.RandomState(seed_of(op_.name, sample.id))
    return rs, make_inputs(op_, sample, dtype, rs)


def _zeros_like_torch(t):
    return torch.zeros_like(t.detach())


# ------------------------------------------------------------------------------ forward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op_,sample", FORWARD, ids=FORWARD_IDS)
def test_forward(op_, sample, dtype):
    _, x = _setup(op_, sample, dtype)
    theirs = outputs(op_.theirs(*x.theirs))
    ours = outputs(op_.ours(*x.ours))
    assert len(ours) == len(theirs), f"{len(ours)} outputs, torch gives {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert_same(a, b, dtype, "forward", f"{op_.name} output {k}")


# ------------------------------------------------------------------------------ first derivatives
def _first_grads_torch(op_, x, vs):
    outs = outputs(op_.theirs(*x.theirs))
    loss = weighted_sum(outs, vs, lambda v: v[1])
    if loss is not None and loss.requires_grad:
        loss.backward()
    return [x.theirs[k].grad if x.theirs[k].grad is not None else _zeros_like_torch(x.theirs[k])
            for k in x.diff]


def _first_grads_ours(op_, x, vs):
    outs = outputs(op_.ours(*x.ours))
    loss = weighted_sum(outs, vs, lambda v: v[0])
    if loss is not None and loss.requires_grad:
        loss.backward()
    return [x.ours[k].grad for k in x.diff]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op_,sample", GRAD, ids=GRAD_IDS)
def test_first_derivative(op_, sample, dtype):
    rs, x = _setup(op_, sample, dtype)
    vs = cotangents(rs, outputs(op_.theirs(*x.theirs)), dtype)
    theirs = _first_grads_torch(op_, x, vs)
    ours = _first_grads_ours(op_, x, vs)
    for k, a, b in zip(x.diff, ours, theirs):
        if a is None:  # torch's grad is zero where ours is None (nothing flowed back)
            assert not torch.any(b != 0), f"{op_.name}: input {k} got no gradient, torch's is {b}"
            continue
        assert_same(a, b, dtype, "grad", f"{op_.name} d/d(input {k})")


# ------------------------------------------------------------------------------ second derivatives
def _second_grads(grad_fn, outs, ins, vs, us, pick, zeros):
    """d/d(ins) of sum_k sum(g_k * u_k), where g = d sum(outs * v) / d ins with create_graph."""
    loss = weighted_sum(outs, vs, pick)
    if loss is None or not loss.requires_grad:
        return [zeros(t) for t in ins]
    gs = grad_fn(loss, ins, create_graph=True, allow_unused=True)
    total = None
    for g, u in zip(gs, us):
        if g is None or not g.requires_grad:
            continue  # this part of the first derivative is constant in the inputs
        term = (g * pick(u)).sum()
        total = term if total is None else total + term
    if total is None:
        return [zeros(t) for t in ins]
    hs = grad_fn(total, ins, allow_unused=True)
    return [zeros(t) if h is None else h for t, h in zip(ins, hs)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op_,sample", GRAD, ids=GRAD_IDS)
def test_second_derivative(op_, sample, dtype):
    rs, x = _setup(op_, sample, dtype)
    vs = cotangents(rs, outputs(op_.theirs(*x.theirs)), dtype)
    us = cotangents(rs, [x.theirs[k] for k in x.diff], dtype)
    theirs = _second_grads(torch.autograd.grad, outputs(op_.theirs(*x.theirs)), [x.theirs[k] for k in x.diff],
                           vs, us, lambda v: v[1], _zeros_like_torch)
    ours = _second_grads(cr.autograd.grad, outputs(op_.ours(*x.ours)), [x.ours[k] for k in x.diff],
                         vs, us, lambda v: v[0], lambda t: cr.zeros_like(t.detach()))
    for k, a, b in zip(x.diff, ours, theirs):
        assert_same(a, b, dtype, "grad2", f"{op_.name} second derivative wrt input {k}")
    if op_.second_order:  # the catalog says this op's second derivative is not identically zero
        assert any(torch.any(b != 0) for b in theirs), \
            f"catalog: {op_.name} is marked second_order but torch's second derivative is zero"


# ------------------------------------------------------------------------------ finite differences (float64)
def _scalarised(op_):
    """op_.ours with its floating outputs flattened into one tensor (gradcheck takes one output)."""
    def fn(*args):
        outs = [o for o in outputs(op_.ours(*args)) if is_float(o)]
        return outs[0] if len(outs) == 1 else cr.cat([o.reshape(-1) for o in outs])
    return fn


@pytest.mark.parametrize("op_,sample", FD, ids=FD_IDS)
def test_gradcheck(op_, sample):
    _, x = _setup(op_, sample, "float64")
    assert cr.autograd.gradcheck(_scalarised(op_), x.ours, **GRADCHECK)


@pytest.mark.parametrize("op_,sample", FD, ids=FD_IDS)
def test_gradgradcheck(op_, sample):
    _, x = _setup(op_, sample, "float64")
    assert cr.autograd.gradgradcheck(_scalarised(op_), x.ours, **GRADCHECK)


# ------------------------------------------------------------------------------ the catalog itself
def test_catalog_covers_every_core_function():
    """Every public op function of chainrule appears in some catalog entry (by its name)."""
    import op_catalog
    import inspect
    src = inspect.getsource(op_catalog)
    not_ops = {"Node", "Tensor", "device", "bool", "double", "dtype", "float", "float32", "float64", "int64", "long",
               "from_dlpack", "from_numpy", "is_grad_enabled", "manual_seed", "set_num_threads", "get_num_threads", "show_config", "inference_mode", "tensor", "as_tensor", "empty", "zeros", "ones", "full", "arange", "linspace",
               "eye", "rand", "randn", "randint", "empty_like", "zeros_like", "ones_like", "full_like",
               "rand_like", "randn_like", "numel", "no_grad", "enable_grad", "set_grad_enabled", "autograd",
               "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
                   "save", "load", "randperm", "ShapeError",
               "Generator", "set_default_dtype", "get_default_dtype", "initial_seed", "seed"}
    public = [n for n in dir(cr) if not n.startswith("_") and callable(getattr(cr, n)) and n not in not_ops]
    missing = [n for n in public if f"cr.{n}(" not in src and f"cr.{n}," not in src]
    assert not missing, f"ops without a catalog entry: {missing}"
