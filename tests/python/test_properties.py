"""Property tests (hypothesis) against PyTorch: random shapes, broadcastable pairs, reductions over
random dims, and random small expression graphs, compared end to end (values and gradients).

Hypothesis draws the structure (shapes, dims, ops, a seed); the numbers come from
numpy.random.RandomState(seed), so a failure is reproduced exactly by the printed example.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from op_catalog import DTYPES, assert_same, draw

pytestmark = pytest.mark.usefixtures("torch_one_thread")

EXAMPLES = settings(max_examples=40, deadline=None)
dtypes = st.sampled_from(["float32", "float64"])
seeds = st.integers(0, 2**31 - 1)


# ------------------------------------------------------------------------------ strategies
@st.composite
def broadcastable_pair(draw_, max_dims=4):
    """Two shapes that broadcast: each is a suffix of a common shape with some sizes set to 1."""
    full = draw_(st.lists(st.integers(1, 4), min_size=0, max_size=max_dims))
    shapes = []
    for _ in range(2):
        n = draw_(st.integers(0, len(full)))
        suffix = full[len(full) - n:]
        ones = draw_(st.lists(st.booleans(), min_size=n, max_size=n))
        shapes.append(tuple(1 if o else s for s, o in zip(suffix, ones)))
    return tuple(shapes)


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)
nonscalar_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


def pair(arrays, dtype, grad=True):
    """The same arrays as chainrule and torch leaves."""
    cr_dt, th_dt, np_dt = DTYPES[dtype]
    ours = [cr.tensor(a.astype(np_dt), dtype=cr_dt, requires_grad=grad) for a in arrays]
    theirs = [torch.tensor(a.astype(np_dt), dtype=th_dt, requires_grad=grad) for a in arrays]
    return ours, theirs


def compare_with_grads(f_ours, f_theirs, arrays, dtype, rs, what):
    """Forward values, then gradients of sum(out * v) for a random v, for every input."""
    ours, theirs = pair(arrays, dtype)
    out_t = f_theirs(*theirs)
    out_o = f_ours(*ours)
    assert_same(out_o, out_t, dtype, "forward", what)
    cr_dt, th_dt, np_dt = DTYPES[dtype]
    v = rs.uniform(-1, 1, size=tuple(out_t.shape)).astype(np_dt)
    (out_t * torch.tensor(v)).sum().backward()
    (out_o * cr.tensor(v, dtype=cr_dt)).sum().backward()
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert_same(a.grad, b.grad, dtype, "grad", f"{what}: grad of input {k}")


# ------------------------------------------------------------------------------ elementwise binary
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, "any"),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, "any"),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, "any"),
    "div": (lambda a, b: a / b, lambda a, b: a / b, "nonzero"),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, "any"),  # base drawn positive below
    "maximum": (cr.maximum, torch.maximum, "any"),
    "minimum": (cr.minimum, torch.minimum, "any"),
}


@EXAMPLES
@given(name=st.sampled_from(sorted(BINARY)), shapes_=broadcastable_pair(), dtype=dtypes, seed=seeds)
def test_binary_broadcasting(name, shapes_, dtype, seed):
    f_ours, f_theirs, domain_b = BINARY[name]
    rs = np.random.RandomState(seed)
    a = draw(rs, shapes_[0], "positive" if name == "pow" else "any")
    b = draw(rs, shapes_[1], domain_b)
    compare_with_grads(f_ours, f_theirs, [a, b], dtype, rs, f"{name}{shapes_}")


CMP = {"eq": (cr.eq, torch.eq), "ne": (cr.ne, torch.ne), "lt": (cr.lt, torch.lt),
       "le": (cr.le, torch.le), "gt": (cr.gt, torch.gt), "ge": (cr.ge, torch.ge)}


@EXAMPLES
@given(name=st.sampled_from(sorted(CMP)), shapes_=broadcastable_pair(), dtype=dtypes, seed=seeds)
def test_comparison_broadcasting(name, shapes_, dtype, seed):
    rs = np.random.RandomState(seed)
    arrays = [draw(rs, s, "int_valued") for s in shapes_]  # small ints: plenty of equal pairs
    ours, theirs = pair(arrays, dtype, grad=False)
    assert_same(CMP[name][0](*ours), CMP[name][1](*theirs), dtype, "forward", f"{name}{shapes_}")


@EXAMPLES
@given(shapes_=broadcastable_pair(max_dims=3), cond_shape=st.integers(0, 2), dtype=dtypes, seed=seeds)
def test_where_broadcasting(shapes_, cond_shape, dtype, seed):
    rs = np.random.RandomState(seed)
    a, b = (draw(rs, s, "any") for s in shapes_)
    cshape = [shapes_[0], shapes_[1], ()][cond_shape]
    c = rs.rand(*cshape) < 0.5
    cr_c, th_c = cr.tensor(np.asarray(c)), torch.tensor(np.asarray(c))
    compare_with_grads(lambda x, y: cr.where(cr_c, x, y), lambda x, y: torch.where(th_c, x, y),
                       [a, b], dtype, rs, f"where{cshape}{shapes_}")


# ------------------------------------------------------------------------------ unary
UNARY = {
    "exp": (cr.exp, torch.exp, "any"), "log": (cr.log, torch.log, "positive"),
    "sqrt": (cr.sqrt, torch.sqrt, "positive"), "abs": (cr.abs, torch.abs, "away_from_zero"),
    "sin": (cr.sin, torch.sin, "any"), "cos": (cr.cos, torch.cos, "any"),
    "tanh": (cr.tanh, torch.tanh, "any"), "sigmoid": (cr.sigmoid, torch.sigmoid, "any"),
    "relu": (cr.relu, torch.relu, "away_from_zero"), "neg": (cr.neg, torch.neg, "any"),
    "reciprocal": (cr.reciprocal, torch.reciprocal, "nonzero"),
    "softplus": (cr.softplus, torch.nn.functional.softplus, "any"),
    "leaky_relu": (lambda x: cr.leaky_relu(x, 0.1), lambda x: torch.nn.functional.leaky_relu(x, 0.1),
                   "away_from_zero"),
    "clamp": (lambda x: cr.clamp(x, -0.7, 1.1), lambda x: torch.clamp(x, -0.7, 1.1), "any"),
    "square": (lambda x: x ** 2, lambda x: x ** 2, "any"),
}


@EXAMPLES
@given(name=st.sampled_from(sorted(UNARY)), shape=shapes, dtype=dtypes, seed=seeds)
def test_unary_random_shapes(name, shape, dtype, seed):
    f_ours, f_theirs, domain = UNARY[name]
    rs = np.random.RandomState(seed)
    compare_with_grads(f_ours, f_theirs, [draw(rs, shape, domain)], dtype, rs, f"{name}{shape}")


# ------------------------------------------------------------------------------ reductions
@st.composite
def shape_and_dims(draw_):
    """A non-scalar shape, a non-empty set of its dims (some written negative) and keepdim."""
    shape = draw_(nonscalar_shapes)
    n = len(shape)
    dims = draw_(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    dims = tuple(d - n if draw_(st.booleans()) else d for d in dims)
    return shape, dims, draw_(st.booleans())


REDUCTIONS = {
    "sum": (lambda x, d, k: cr.sum(x, dim=d, keepdim=k), lambda x, d, k: torch.sum(x, dim=d, keepdim=k)),
    "mean": (lambda x, d, k: cr.mean(x, dim=d, keepdim=k), lambda x, d, k: torch.mean(x, dim=d, keepdim=k)),
    "amax": (lambda x, d, k: cr.amax(x, dim=d, keepdim=k), lambda x, d, k: torch.amax(x, dim=d, keepdim=k)),
    "amin": (lambda x, d, k: cr.amin(x, dim=d, keepdim=k), lambda x, d, k: torch.amin(x, dim=d, keepdim=k)),
    "logsumexp": (lambda x, d, k: cr.logsumexp(x, dim=d, keepdim=k),
                  lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k)),
    "var0": (lambda x, d, k: cr.var(x, dim=d, correction=0, keepdim=k),
             lambda x, d, k: torch.var(x, dim=d, correction=0, keepdim=k)),
}


@EXAMPLES
@given(name=st.sampled_from(sorted(REDUCTIONS)), sdk=shape_and_dims(), dtype=dtypes, seed=seeds)
def test_reduction_random_dims(name, sdk, dtype, seed):
    shape, dims, keepdim = sdk
    f_ours, f_theirs = REDUCTIONS[name]
    rs = np.random.RandomState(seed)
    compare_with_grads(lambda x: f_ours(x, dims, keepdim), lambda x: f_theirs(x, dims, keepdim),
                       [draw(rs, shape, "any")], dtype, rs, f"{name}(dim={dims}, keepdim={keepdim}){shape}")


@EXAMPLES
@given(sdk=shape_and_dims(), correction=st.sampled_from([0, 1]), dtype=dtypes, seed=seeds)
def test_var_random_dims(sdk, correction, dtype, seed):
    shape, dims, keepdim = sdk
    if correction and np.prod([shape[d] for d in dims]) < 2:
        dims = tuple(range(len(shape)))  # var with N - 1 = 0 is nan; use every dim instead
        shape = shape if np.prod(shape) >= 2 else shape[:-1] + (2,)
    rs = np.random.RandomState(seed)
    compare_with_grads(lambda x: cr.var(x, dim=dims, correction=correction, keepdim=keepdim),
                       lambda x: torch.var(x, dim=dims, correction=correction, keepdim=keepdim),
                       [draw(rs, shape, "any")], dtype, rs, f"var(dim={dims}, correction={correction}){shape}")


SINGLE_DIM = {
    "softmax": (lambda x, d, k: cr.softmax(x, d), lambda x, d, k: torch.softmax(x, d)),
    "log_softmax": (lambda x, d, k: cr.log_softmax(x, d), lambda x, d, k: torch.log_softmax(x, d)),
    "max_values": (lambda x, d, k: cr.max(x, d, keepdim=k).values, lambda x, d, k: torch.max(x, d, keepdim=k).values),
    "min_values": (lambda x, d, k: cr.min(x, d, keepdim=k).values, lambda x, d, k: torch.min(x, d, keepdim=k).values),
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda x, d, k: x.sum(d, keepdim=k)),
}


@EXAMPLES
@given(name=st.sampled_from(sorted(SINGLE_DIM)), sdk=shape_and_dims(), dtype=dtypes, seed=seeds)
def test_single_dim_ops(name, sdk, dtype, seed):
    shape, dims, keepdim = sdk
    d = dims[0]
    f_ours, f_theirs = SINGLE_DIM[name]
    rs = np.random.RandomState(seed)
    compare_with_grads(lambda x: f_ours(x, d, keepdim), lambda x: f_theirs(x, d, keepdim),
                       [draw(rs, shape, "any")], dtype, rs, f"{name}(dim={d}, keepdim={keepdim}){shape}")


@EXAMPLES
@given(sdk=shape_and_dims(), dtype=dtypes, seed=seeds, which=st.sampled_from(["argmax", "argmin"]))
def test_argmax_argmin(sdk, dtype, seed, which):
    shape, dims, keepdim = sdk
    rs = np.random.RandomState(seed)
    ours, theirs = pair([draw(rs, shape, "any")], dtype, grad=False)
    f_o, f_t = getattr(cr, which), getattr(torch, which)
    assert_same(f_o(ours[0], dim=dims[0], keepdim=keepdim), f_t(theirs[0], dim=dims[0], keepdim=keepdim),
                dtype, "forward", f"{which}(dim={dims[0]}){shape}")
    assert_same(f_o(ours[0]), f_t(theirs[0]), dtype, "forward", f"{which}(){shape}")


# ------------------------------------------------------------------------------ matmul
@st.composite
def matmul_shapes(draw_):
    """Operand shapes for every matmul case: 1-D/2-D mixes and batched with broadcast batch dims."""
    n, k, m = (draw_(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw_(broadcastable_pair(max_dims=2))
    a = (k,) if draw_(st.booleans()) and not batch_a else batch_a + (n, k)
    b = (k,) if draw_(st.booleans()) and not batch_b else batch_b + (k, m)
    return a, b


@EXAMPLES
@given(shapes_=matmul_shapes(), dtype=dtypes, seed=seeds)
def test_matmul_random_shapes(shapes_, dtype, seed):
    rs = np.random.RandomState(seed)
    compare_with_grads(cr.matmul, torch.matmul, [draw(rs, s, "any") for s in shapes_], dtype, rs,
                       f"matmul{shapes_}")


# ------------------------------------------------------------------------------ random expression graphs
# Each op maps a framework namespace `F` and operand tensors to a result; every op is smooth and
# defined on all of R, so the graphs can be combined freely.
UNARY_SAFE = {
    "tanh": lambda F, x: F.tanh(x),
    "sigmoid": lambda F, x: F.sigmoid(x),
    "sin": lambda F, x: F.sin(x),
    "cos": lambda F, x: F.cos(x),
    "square": lambda F, x: x * x,
    "cube": lambda F, x: x ** 3,
    "neg": lambda F, x: -x,
    "exp_tanh": lambda F, x: F.exp(F.tanh(x)),
    "log1p_sq": lambda F, x: F.log(1 + x * x),
    "sqrt1p_sq": lambda F, x: F.sqrt(1 + x * x),
    "softplus": lambda F, x: F.softplus(x),
    "affine": lambda F, x: 0.5 * x - 1,
    "sum_last": lambda F, x: x.sum(dim=-1, keepdim=True) if x.ndim else x,
    "mean_first": lambda F, x: x.mean(dim=0, keepdim=True) if x.ndim else x,
    "softmax_last": lambda F, x: F.softmax(x, -1) if x.ndim else x,
    "logsumexp_last": lambda F, x: F.logsumexp(x, -1, keepdim=True) if x.ndim else x,
}
BINARY_SAFE = {
    "add": lambda F, x, y: x + y,
    "sub": lambda F, x, y: x - y,
    "mul": lambda F, x, y: x * y,
    "safe_div": lambda F, x, y: x / (1 + y * y),
    "rsub_mul": lambda F, x, y: 1 - x * y,
    "where_pos": lambda F, x, y: F.where(x > y, x * y, x + y),
}


class _Torch:
    """torch functions under the names chainrule uses (softplus lives in nn.functional)."""
    tanh, sigmoid, sin, cos, exp, log, sqrt = torch.tanh, torch.sigmoid, torch.sin, torch.cos, torch.exp, \
        torch.log, torch.sqrt
    softplus = staticmethod(torch.nn.functional.softplus)
    softmax, logsumexp, where = torch.softmax, torch.logsumexp, torch.where


@st.composite
def expression_graph(draw_):
    """2-3 leaf shapes (mutually broadcastable) and 5-10 ops, each naming operands among earlier nodes."""
    full = draw_(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    n_leaves = draw_(st.integers(2, 3))
    leaves = []
    for _ in range(n_leaves):
        n = draw_(st.integers(0, len(full)))
        suffix = full[len(full) - n:]
        leaves.append(tuple(1 if draw_(st.booleans()) else s for s in suffix))
    steps = []
    for i in range(draw_(st.integers(5, 10))):
        n_nodes = n_leaves + i
        if draw_(st.booleans()):
            steps.append((draw_(st.sampled_from(sorted(UNARY_SAFE))), (draw_(st.integers(0, n_nodes - 1)),)))
        else:
            steps.append((draw_(st.sampled_from(sorted(BINARY_SAFE))),
                          (draw_(st.integers(0, n_nodes - 1)), draw_(st.integers(0, n_nodes - 1)))))
    return leaves, steps


def run_graph(F, leaves, steps):
    """Evaluates the graph; the output combines the last node with every node (so all are used)."""
    nodes = list(leaves)
    for name, args in steps:
        fn = UNARY_SAFE.get(name) or BINARY_SAFE[name]
        nodes.append(fn(F, *(nodes[a] for a in args)))
    out = nodes[-1]
    for n in nodes[len(leaves):-1]:
        out = out + 0.1 * n.sum()
    return out


@settings(max_examples=60, deadline=None)
@given(graph=expression_graph(), dtype=dtypes, seed=seeds)
def test_random_expression_graphs(graph, dtype, seed):
    leaf_shapes, steps = graph
    rs = np.random.RandomState(seed)
    arrays = [draw(rs, s, "any") for s in leaf_shapes]
    ours, theirs = pair(arrays, dtype)
    out_t = run_graph(_Torch, theirs, steps)
    out_o = run_graph(cr, ours, steps)
    what = f"graph {steps} on leaves {leaf_shapes}"
    assert_same(out_o, out_t, dtype, "forward", what)
    cr_dt, th_dt, np_dt = DTYPES[dtype]
    v = rs.uniform(-1, 1, size=tuple(out_t.shape)).astype(np_dt)
    loss_t = (out_t * torch.tensor(v)).sum()
    loss_o = (out_o * cr.tensor(v, dtype=cr_dt)).sum()
    g_t = torch.autograd.grad(loss_t, theirs, create_graph=True, allow_unused=True)
    g_o = cr.autograd.grad(loss_o, ours, create_graph=True, allow_unused=True)
    for k, (a, b) in enumerate(zip(g_o, g_t)):
        if b is None:
            assert a is None or not np.any(np.asarray(a.detach())), f"{what}: leaf {k} is unused in torch"
            continue
        assert_same(a, b, dtype, "grad", f"{what}: grad of leaf {k}")
    # a Hessian-vector product through the whole graph: d/dleaves of sum(grad * u)
    us = [rs.uniform(-1, 1, size=s).astype(np_dt) for s in leaf_shapes]
    hv_t = sum((g * torch.tensor(u)).sum() for g, u in zip(g_t, us) if g is not None and g.requires_grad)
    hv_o = sum((g * cr.tensor(u, dtype=cr_dt)).sum() for g, u in zip(g_o, us) if g is not None and g.requires_grad)
    if isinstance(hv_t, torch.Tensor):
        h_t = torch.autograd.grad(hv_t, theirs, allow_unused=True)
        h_o = cr.autograd.grad(hv_o, ours, allow_unused=True)
        for k, (a, b) in enumerate(zip(h_o, h_t)):
            if b is None:
                assert a is None or not np.any(np.asarray(a.detach())), f"{what}: HVP of leaf {k}"
                continue
            assert_same(a, b, dtype, "grad2", f"{what}: Hessian-vector product at leaf {k}")
