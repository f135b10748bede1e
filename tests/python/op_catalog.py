"""The op catalog: every op of chainrule's core next to its PyTorch counterpart, with sample inputs.

One entry per op variant (extra arguments such as dims, keepdim or a slope are baked into the two
functions, so each variant is its own entry). Each entry holds

- ``ours(*cr_tensors)`` and ``theirs(*torch_tensors)``: the same computation in both frameworks;
- ``samples``: argument specs, one per positional argument (see ``F``/``V``/``I``/``B``); plain
  tuples are shorthand for ``F(shape)``, a float input drawn from the entry's domain;
- ``domain``: where random float inputs are drawn from: "any" [-2, 2], "positive" [0.5, 2],
  "away_from_zero" |x| in [0.25, 2] (kinks of abs/relu), "nonzero" |x| in [0.5, 2] (divisors),
  "int_valued" integers -2..2 stored as floats (ties for comparisons, max, ...);
- ``differentiable``: whether gradients are compared at all;
- ``second_order``: True when second derivatives are non-trivial (not identically zero). Second
  derivatives are compared for every differentiable entry; for linear ops both sides must agree
  that they vanish.

A sample's ``check`` is "all" (forward, first and second derivatives vs torch, and gradcheck /
gradgradcheck in float64), "grad" (torch comparisons only: at kinks or ties the derivative is a
convention, so finite differences can't judge it) or "forward" (values only).

The helpers at the bottom (inputs, output normalisation, comparison, tolerances) are shared by
test_conformance.py and test_properties.py.
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr

# ------------------------------------------------------------------------------ tolerances
# The one place tolerances are stated: (rtol, atol) per dtype and per order of derivative.
TOLERANCES = {
    "float32": {"forward": (1e-5, 1e-6), "grad": (1e-5, 1e-5), "grad2": (1e-4, 1e-4)},
    "float64": {"forward": (1e-12, 1e-12), "grad": (1e-11, 1e-12), "grad2": (1e-10, 1e-11)},
}
GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)

DTYPES = {"float32": (cr.float32, torch.float32, np.float32),
          "float64": (cr.float64, torch.float64, np.float64)}


# ------------------------------------------------------------------------------ argument specs
@dataclasses.dataclass(frozen=True)
class F:
    """A random float input of ``shape`` (requires grad unless ``grad=False``)."""
    shape: tuple
    domain: str | None = None
    grad: bool = True


@dataclasses.dataclass(frozen=True)
class V:
    """A float input with exactly these values (edge values: ties, zeros, boundaries, large logits)."""
    values: Any
    grad: bool = True


@dataclasses.dataclass(frozen=True)
class I:
    """An int64 input with these values (indices, labels)."""
    values: Any


@dataclasses.dataclass(frozen=True)
class B:
    """A bool input: fixed ``values``, or random of ``shape``."""
    values: Any = None
    shape: tuple | None = None


@dataclasses.dataclass
class Sample:
    args: tuple
    id: str
    check: str = "all"  # "all" | "grad" | "forward"


@dataclasses.dataclass
class Op:
    name: str
    ours: Callable
    theirs: Callable
    samples: list
    domain: str = "any"
    differentiable: bool = True
    second_order: bool = True


def _shape_id(spec):
    if isinstance(spec, tuple):
        return "x".join(map(str, spec)) if spec else "0d"
    if isinstance(spec, F):
        return _shape_id(spec.shape) + (f"~{spec.domain}" if spec.domain else "")
    if isinstance(spec, V):
        return "v" + _shape_id(np.asarray(spec.values).shape)
    if isinstance(spec, I):
        return "i" + _shape_id(np.asarray(spec.values).shape)
    if isinstance(spec, B):
        return "b" + _shape_id(spec.shape if spec.shape is not None else np.asarray(spec.values).shape)
    raise TypeError(spec)


def S(*args, id=None, check="all"):
    """A sample: positional argument specs (a tuple is a float input of that shape)."""
    args = tuple(F(a) if isinstance(a, tuple) else a for a in args)
    return Sample(args, id or ",".join(_shape_id(a) for a in args), check)


CATALOG: list[Op] = []


def op(name, ours, theirs, samples, **kw):
    assert all(o.name != name for o in CATALOG), f"duplicate catalog name {name}"
    CATALOG.append(Op(name, ours, theirs, list(samples), **kw))


# ------------------------------------------------------------------------------ sample sets
BROADCAST_PAIRS = [
    S((3, 4), (3, 4)),
    S((3, 1), (1, 4)),
    S((4,), (2, 3, 4)),
    S((2, 1, 4), (3, 1)),
    S((), (3,)),
    S((2, 3), ()),
    S((), ()),
]
UNARY_SHAPES = [S((3, 4)), S((5,)), S((2, 3, 2)), S(())]
MATRIX = [S((3, 4))]
TENSOR3 = [S((2, 3, 4))]


def _pairs_with_domain(domain_b):
    """BROADCAST_PAIRS with the second argument drawn from domain_b (divisors, exponents)."""
    out = []
    for s in BROADCAST_PAIRS:
        a, b = s.args
        out.append(S(a, F(b.shape, domain_b), id=s.id))
    return out


# ------------------------------------------------------------------------------ arithmetic
op("add", cr.add, torch.add, BROADCAST_PAIRS, second_order=False)
op("sub", cr.sub, torch.sub, BROADCAST_PAIRS, second_order=False)
op("mul", cr.mul, torch.mul, BROADCAST_PAIRS)
op("div", cr.div, torch.div, _pairs_with_domain("nonzero"))
op("add_scalar", lambda x: cr.add(x, 2.5), lambda x: torch.add(x, 2.5), UNARY_SHAPES, second_order=False)
op("sub_scalar", lambda x: cr.sub(x, 2.5), lambda x: torch.sub(x, 2.5), UNARY_SHAPES, second_order=False)
op("mul_scalar", lambda x: cr.mul(x, -1.5), lambda x: torch.mul(x, -1.5), UNARY_SHAPES, second_order=False)
op("div_scalar", lambda x: cr.div(x, 4.0), lambda x: torch.div(x, 4.0), UNARY_SHAPES, second_order=False)
op("mul_int_scalar", lambda x: cr.mul(x, 3), lambda x: torch.mul(x, 3), UNARY_SHAPES, second_order=False)
op("pow_tensor", cr.pow, torch.pow,
   [S(F((3, 4), "positive"), (3, 4)), S(F((3, 1), "positive"), (1, 4)),
    S(F((4,), "positive"), (2, 3, 4)), S(F((), "positive"), (3,)), S(F((2, 3), "positive"), ())])
op("pow_scalar_2", lambda x: cr.pow(x, 2), lambda x: torch.pow(x, 2), UNARY_SHAPES)
op("pow_scalar_3", lambda x: cr.pow(x, 3.0), lambda x: torch.pow(x, 3.0), UNARY_SHAPES)
op("pow_scalar_half", lambda x: cr.pow(x, 0.5), lambda x: torch.pow(x, 0.5), UNARY_SHAPES, domain="positive")
op("pow_scalar_2.5", lambda x: cr.pow(x, 2.5), lambda x: torch.pow(x, 2.5), UNARY_SHAPES, domain="positive")
op("pow_scalar_neg1", lambda x: cr.pow(x, -1), lambda x: torch.pow(x, -1), UNARY_SHAPES, domain="nonzero")
op("pow_scalar_0", lambda x: cr.pow(x, 0), lambda x: torch.pow(x, 0), UNARY_SHAPES, second_order=False)
op("pow_scalar_1", lambda x: cr.pow(x, 1.0), lambda x: torch.pow(x, 1.0), UNARY_SHAPES, second_order=False)
op("pow_scalar_base", lambda x: cr.pow(2.0, x), lambda x: torch.pow(2.0, x), UNARY_SHAPES)
op("pow_scalar_base_half", lambda x: cr.pow(0.5, x), lambda x: torch.pow(0.5, x), UNARY_SHAPES)
op("neg", cr.neg, torch.neg, UNARY_SHAPES, second_order=False)
op("reciprocal", cr.reciprocal, torch.reciprocal, UNARY_SHAPES, domain="nonzero")

# ------------------------------------------------------------------------------ operators
op("op_add", lambda a, b: a + b, lambda a, b: a + b, BROADCAST_PAIRS, second_order=False)
op("op_sub", lambda a, b: a - b, lambda a, b: a - b, BROADCAST_PAIRS, second_order=False)
op("op_mul", lambda a, b: a * b, lambda a, b: a * b, BROADCAST_PAIRS)
op("op_div", lambda a, b: a / b, lambda a, b: a / b, _pairs_with_domain("nonzero"))
op("op_pow", lambda a, b: a ** b, lambda a, b: a ** b,
   [S(F((3, 4), "positive"), (3, 4)), S(F((3, 1), "positive"), (1, 4))])
op("op_pow_scalar", lambda x: x ** 3, lambda x: x ** 3, UNARY_SHAPES)
op("op_pow_float_scalar", lambda x: x ** 1.5, lambda x: x ** 1.5, UNARY_SHAPES, domain="positive")
op("op_matmul", lambda a, b: a @ b, lambda a, b: a @ b, [S((3, 4), (4, 2)), S((4,), (4,)), S((2, 3, 4), (4,))])
op("op_neg", lambda x: -x, lambda x: -x, UNARY_SHAPES, second_order=False)
op("op_abs", lambda x: abs(x), lambda x: abs(x), UNARY_SHAPES, domain="away_from_zero", second_order=False)
op("op_add_scalar", lambda x: x + 1, lambda x: x + 1, UNARY_SHAPES, second_order=False)
op("op_sub_scalar", lambda x: x - 0.5, lambda x: x - 0.5, UNARY_SHAPES, second_order=False)
op("op_div_scalar", lambda x: x / 3, lambda x: x / 3, UNARY_SHAPES, second_order=False)
op("op_radd", lambda x: 2 + x, lambda x: 2 + x, UNARY_SHAPES, second_order=False)
op("op_rmul", lambda x: 2 * x, lambda x: 2 * x, UNARY_SHAPES, second_order=False)
op("op_rmul_float", lambda x: 0.5 * x, lambda x: 0.5 * x, UNARY_SHAPES, second_order=False)
op("op_rsub", lambda x: 1 - x, lambda x: 1 - x, UNARY_SHAPES, second_order=False)
op("op_rdiv", lambda x: 2 / x, lambda x: 2 / x, UNARY_SHAPES, domain="nonzero")
op("op_rpow", lambda x: 2 ** x, lambda x: 2 ** x, UNARY_SHAPES)
op("op_rpow_float", lambda x: 1.5 ** x, lambda x: 1.5 ** x, UNARY_SHAPES)
op("op_polynomial", lambda x: 3 * x ** 2 - 2 * x + 1, lambda x: 3 * x ** 2 - 2 * x + 1, UNARY_SHAPES)

# ------------------------------------------------------------------------------ unary
op("exp", cr.exp, torch.exp, UNARY_SHAPES)
op("log", cr.log, torch.log, UNARY_SHAPES, domain="positive")
op("sqrt", cr.sqrt, torch.sqrt, UNARY_SHAPES, domain="positive")
op("abs", cr.abs, torch.abs, UNARY_SHAPES + [S(V([-1.0, 0.0, 2.0]), check="grad")],
   domain="away_from_zero", second_order=False)
op("sin", cr.sin, torch.sin, UNARY_SHAPES)
op("erf", cr.erf, torch.erf, UNARY_SHAPES)
op("cos", cr.cos, torch.cos, UNARY_SHAPES)
op("tanh", cr.tanh, torch.tanh, UNARY_SHAPES + [S(V([-30.0, -5.0, 0.0, 5.0, 30.0]), id="saturated")])
op("sigmoid", cr.sigmoid, torch.sigmoid, UNARY_SHAPES + [S(V([-40.0, -5.0, 0.0, 5.0, 40.0]), id="saturated")])
op("relu", cr.relu, torch.relu, UNARY_SHAPES + [S(V([-1.0, 0.0, 2.0]), check="grad")],
   domain="away_from_zero", second_order=False)
op("leaky_relu", cr.leaky_relu, TF.leaky_relu, UNARY_SHAPES + [S(V([-1.0, 0.0, 2.0]), check="grad")],
   domain="away_from_zero", second_order=False)
op("leaky_relu_0.2", lambda x: cr.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), UNARY_SHAPES,
   domain="away_from_zero", second_order=False)
op("leaky_relu_kw", lambda x: cr.leaky_relu(x, negative_slope=0.5),
   lambda x: TF.leaky_relu(x, negative_slope=0.5), MATRIX, domain="away_from_zero", second_order=False)
op("softplus", cr.softplus, TF.softplus, UNARY_SHAPES + [S(V([-30.0, -1.0, 0.0, 15.0, 19.5]), id="wide")])
op("softplus_beta2", lambda x: cr.softplus(x, beta=2.0), lambda x: TF.softplus(x, beta=2.0), UNARY_SHAPES)
op("softplus_threshold", lambda x: cr.softplus(x, beta=2.0, threshold=1.0),
   lambda x: TF.softplus(x, beta=2.0, threshold=1.0),
   [S((3, 4)), S((5,)), S((2, 3, 2)), S(V(0.1)), S(V([-1.0, 0.2, 0.45, 0.55, 1.5]), id="both_sides")])
op("clamp_both", lambda x: cr.clamp(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5),
   UNARY_SHAPES + [S(V([-1.0, -0.5, 0.0, 0.5, 1.0]), id="at_bounds", check="grad")], second_order=False)
op("clamp_min", lambda x: cr.clamp(x, min=0.3), lambda x: torch.clamp(x, min=0.3), UNARY_SHAPES,
   second_order=False)
op("clamp_max", lambda x: cr.clamp(x, max=-0.2), lambda x: torch.clamp(x, max=-0.2), UNARY_SHAPES,
   second_order=False)
op("clamp_method", lambda x: x.clamp(min=-1, max=1), lambda x: x.clamp(min=-1, max=1), MATRIX,
   second_order=False)
op("sign", cr.sign, torch.sign, UNARY_SHAPES + [S(V([-2.0, 0.0, 3.0]))], differentiable=False)

# ------------------------------------------------------------------------------ binary: max/min, comparisons, logic
TIES = S(V([[1.0, 2.0, 2.0], [0.0, -1.0, 3.0]]), V([[1.0, 1.0, 2.0], [0.0, 0.0, 3.0]]), id="ties", check="grad")
op("maximum", cr.maximum, torch.maximum, BROADCAST_PAIRS + [TIES], second_order=False)
op("minimum", cr.minimum, torch.minimum, BROADCAST_PAIRS + [TIES], second_order=False)
op("maximum_method", lambda a, b: a.maximum(b), lambda a, b: a.maximum(b), [S((3, 1), (1, 4))], second_order=False)
CMP_PAIRS = [S(F((3, 4), "int_valued"), F((3, 4), "int_valued")),
             S(F((3, 1), "int_valued"), F((1, 4), "int_valued")),
             S(F((4,), "int_valued"), F((2, 3, 4), "int_valued")),
             S(F((), "int_valued"), F((3,), "int_valued"))]
for _n, _ours, _theirs in [
    ("eq", cr.eq, torch.eq), ("ne", cr.ne, torch.ne), ("lt", cr.lt, torch.lt),
    ("le", cr.le, torch.le), ("gt", cr.gt, torch.gt), ("ge", cr.ge, torch.ge),
]:
    op(_n, _ours, _theirs, CMP_PAIRS, differentiable=False)
    op(_n + "_scalar", lambda x, _f=_ours: _f(x, 1.0), lambda x, _f=_theirs: _f(x, 1.0),
       [S(F((3, 4), "int_valued"))], differentiable=False)
for _n, _f in [("op_eq", lambda a, b: a == b), ("op_ne", lambda a, b: a != b), ("op_lt", lambda a, b: a < b),
               ("op_le", lambda a, b: a <= b), ("op_gt", lambda a, b: a > b), ("op_ge", lambda a, b: a >= b)]:
    op(_n, _f, _f, CMP_PAIRS[:2], differentiable=False)
op("op_lt_scalar", lambda x: x < 0, lambda x: x < 0, [S(F((3, 4), "int_valued"))], differentiable=False)
op("op_rgt_scalar", lambda x: 0 > x, lambda x: 0 > x, [S(F((3, 4), "int_valued"))], differentiable=False)
BOOL_PAIRS = [S(B(shape=(3, 4)), B(shape=(3, 4))), S(B(shape=(3, 1)), B(shape=(1, 4))),
              S(B(shape=(4,)), B(shape=(2, 3, 4)))]
op("logical_and", cr.logical_and, torch.logical_and,
   BOOL_PAIRS + [S(F((3, 4), "int_valued"), F((3, 4), "int_valued"), id="floats")], differentiable=False)
op("logical_or", cr.logical_or, torch.logical_or,
   BOOL_PAIRS + [S(F((3, 4), "int_valued"), F((3, 4), "int_valued"), id="floats")], differentiable=False)
op("logical_not", cr.logical_not, torch.logical_not,
   [S(B(shape=(3, 4))), S(B(shape=())), S(F((3, 4), "int_valued"), id="floats")], differentiable=False)
op("op_and", lambda a, b: a & b, lambda a, b: a & b, BOOL_PAIRS[:2], differentiable=False)
op("op_or", lambda a, b: a | b, lambda a, b: a | b, BOOL_PAIRS[:2], differentiable=False)
op("op_invert", lambda a: ~a, lambda a: ~a, [S(B(shape=(3, 4)))], differentiable=False)
INT_PAIRS = [S(I([[5, 3, -1], [12, 0, 7]]), I([[6, 1, 7], [10, -8, 7]])), S(I([[5], [-2]]), I([3, 6, -9]))]
op("bitwise_and", cr.bitwise_and, torch.bitwise_and, BOOL_PAIRS[:2] + INT_PAIRS, differentiable=False)
op("bitwise_or", cr.bitwise_or, torch.bitwise_or, BOOL_PAIRS[:2] + INT_PAIRS, differentiable=False)
op("bitwise_xor", cr.bitwise_xor, torch.bitwise_xor, BOOL_PAIRS[:2] + INT_PAIRS, differentiable=False)
op("bitwise_not", cr.bitwise_not, torch.bitwise_not, [S(B(shape=(3, 4))), S(I([[5, 0, -3]]))],
   differentiable=False)
op("op_xor_int", lambda a, b: a ^ b, lambda a, b: a ^ b, INT_PAIRS, differentiable=False)
op("op_and_int", lambda a, b: a & b, lambda a, b: a & b, INT_PAIRS, differentiable=False)
op("op_invert_int", lambda a: ~a, lambda a: ~a, [S(I([[5, 0, -3], [1, 2, 3]]))], differentiable=False)
op("where", cr.where, torch.where,
   [S(B(shape=(3, 4)), (3, 4), (3, 4)), S(B(shape=(3, 1)), (1, 4), (4,)),
    S(B(shape=(3, 4)), (), (3, 1)), S(B(shape=()), (2, 3), (2, 3))], second_order=False)
op("where_scalar_other", lambda c, x: cr.where(c, x, 0.0), lambda c, x: torch.where(c, x, 0.0),
   [S(B(shape=(3, 4)), (3, 4)), S(B(shape=(3, 1)), (4,))], second_order=False)
op("where_scalar_input", lambda c, x: cr.where(c, -1.5, x), lambda c, x: torch.where(c, -1.5, x),
   [S(B(shape=(3, 4)), (3, 4))], second_order=False)
op("where_scalars", lambda c: cr.where(c, 1.0, 0.0), lambda c: torch.where(c, 1.0, 0.0),
   [S(B(shape=(3, 4)))], differentiable=False)
op("where_from_comparison", lambda x, y: cr.where(x > 0, x, y * 2), lambda x, y: torch.where(x > 0, x, y * 2),
   [S((3, 4), (3, 4))], domain="away_from_zero", second_order=False)

# ------------------------------------------------------------------------------ reductions
RED3 = [S((2, 3, 4))]
op("sum", cr.sum, torch.sum, UNARY_SHAPES, second_order=False)
op("sum_dim0", lambda x: cr.sum(x, 0), lambda x: torch.sum(x, 0), [S((3, 4)), S((2, 3, 4)), S((5,))],
   second_order=False)
op("sum_dim_neg1_keepdim", lambda x: cr.sum(x, dim=-1, keepdim=True),
   lambda x: torch.sum(x, dim=-1, keepdim=True), [S((3, 4)), S((2, 3, 4))], second_order=False)
op("sum_dims_0_2", lambda x: cr.sum(x, dim=(0, 2)), lambda x: torch.sum(x, dim=(0, 2)), RED3,
   second_order=False)
op("sum_dims_keepdim", lambda x: x.sum(dim=(0, -1), keepdim=True),
   lambda x: x.sum(dim=(0, -1), keepdim=True), RED3, second_order=False)
op("sum_0d_dim0", lambda x: cr.sum(x, 0), lambda x: torch.sum(x, 0), [S(())], second_order=False)
op("mean", cr.mean, torch.mean, UNARY_SHAPES, second_order=False)
op("mean_dim1", lambda x: cr.mean(x, 1), lambda x: torch.mean(x, 1), [S((3, 4)), S((2, 3, 4))],
   second_order=False)
op("mean_dims_keepdim", lambda x: x.mean(dim=(1, 2), keepdim=True),
   lambda x: x.mean(dim=(1, 2), keepdim=True), RED3, second_order=False)
op("mean_dim_neg1", lambda x: x.mean(-1), lambda x: x.mean(-1), RED3, second_order=False)
AMAX_TIES = S(V([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), id="ties", check="grad")
op("amax", cr.amax, torch.amax, UNARY_SHAPES + [AMAX_TIES], second_order=False)
op("amax_dim1", lambda x: cr.amax(x, 1), lambda x: torch.amax(x, 1), [S((3, 4)), S((2, 3, 4)), AMAX_TIES],
   second_order=False)
op("amax_dims_keepdim", lambda x: cr.amax(x, dim=(0, 2), keepdim=True),
   lambda x: torch.amax(x, dim=(0, 2), keepdim=True), RED3, second_order=False)
op("amin", cr.amin, torch.amin, UNARY_SHAPES + [AMAX_TIES], second_order=False)
op("amin_dim0_keepdim", lambda x: cr.amin(x, 0, keepdim=True), lambda x: torch.amin(x, 0, keepdim=True),
   [S((3, 4)), S((2, 3, 4)), AMAX_TIES], second_order=False)
op("amin_dims", lambda x: x.amin(dim=(-1, 0)), lambda x: x.amin(dim=(-1, 0)), RED3, second_order=False)
op("max_full", cr.max, torch.max, UNARY_SHAPES + [AMAX_TIES], second_order=False)
op("max_method", lambda x: x.max(), lambda x: x.max(), MATRIX, second_order=False)
op("max_dim", lambda x: cr.max(x, 1), lambda x: torch.max(x, 1), [S((3, 4)), S((2, 3, 4))],
   second_order=False)
op("max_dim0_keepdim", lambda x: cr.max(x, dim=0, keepdim=True), lambda x: torch.max(x, dim=0, keepdim=True),
   [S((3, 4)), S((2, 3, 4)), S((5,))], second_order=False)
op("max_dim_method", lambda x: x.max(dim=-1).values, lambda x: x.max(dim=-1).values, MATRIX,
   second_order=False)
op("max_dim_indices", lambda x: x.max(dim=-1).indices, lambda x: x.max(dim=-1).indices, MATRIX,
   differentiable=False)
op("max_elementwise", lambda a, b: cr.max(a, b), lambda a, b: torch.max(a, b), [S((3, 1), (1, 4))], second_order=False)
op("min_full", cr.min, torch.min, UNARY_SHAPES + [AMAX_TIES], second_order=False)
op("min_dim", lambda x: cr.min(x, 1), lambda x: torch.min(x, 1), [S((3, 4)), S((2, 3, 4))],
   second_order=False)
op("min_dim_neg1_keepdim", lambda x: cr.min(x, dim=-1, keepdim=True),
   lambda x: torch.min(x, dim=-1, keepdim=True), [S((3, 4)), S((2, 3, 4))], second_order=False)
op("min_elementwise", lambda a, b: cr.min(a, b), lambda a, b: torch.min(a, b), [S((3, 1), (1, 4))], second_order=False)
ARG_TIES = S(V([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [5.0, 5.0, 5.0]]), id="ties")
op("argmax", cr.argmax, torch.argmax, UNARY_SHAPES + [ARG_TIES], differentiable=False)
op("argmax_dim1", lambda x: cr.argmax(x, 1), lambda x: torch.argmax(x, 1), [S((3, 4)), S((2, 3, 4)), ARG_TIES],
   differentiable=False)
op("argmax_dim0_keepdim", lambda x: cr.argmax(x, dim=0, keepdim=True),
   lambda x: torch.argmax(x, dim=0, keepdim=True), [S((3, 4)), S((2, 3, 4))], differentiable=False)
op("argmin", cr.argmin, torch.argmin, UNARY_SHAPES + [ARG_TIES], differentiable=False)
op("argmin_dim_neg1", lambda x: x.argmin(dim=-1), lambda x: x.argmin(dim=-1), [S((3, 4)), S((2, 3, 4)), ARG_TIES],
   differentiable=False)
VAR_SHAPES = [S((3, 4)), S((6,)), S((2, 3, 4))]
op("var", cr.var, torch.var, VAR_SHAPES)
op("var_correction0", lambda x: cr.var(x, correction=0), lambda x: torch.var(x, correction=0), VAR_SHAPES)
op("var_unbiased_false", lambda x: cr.var(x, unbiased=False), lambda x: torch.var(x, unbiased=False), VAR_SHAPES)
op("var_dim1", lambda x: cr.var(x, 1), lambda x: torch.var(x, 1), [S((3, 4)), S((2, 3, 4))])
op("var_dim0_c0_keepdim", lambda x: cr.var(x, dim=0, correction=0, keepdim=True),
   lambda x: torch.var(x, dim=0, correction=0, keepdim=True), [S((3, 4)), S((2, 3, 4))])
op("var_dims", lambda x: x.var(dim=(0, 2)), lambda x: x.var(dim=(0, 2)), RED3)
op("var_dims_c0", lambda x: x.var(dim=(1, 2), correction=0, keepdim=True),
   lambda x: x.var(dim=(1, 2), correction=0, keepdim=True), RED3)
op("logsumexp_dim1", lambda x: cr.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1),
   [S((3, 4)), S((2, 3, 4)), S(V([[1000.0, 1000.5, 999.0], [-1000.0, 0.0, 1.0]]), id="large")])
op("logsumexp_dim0_keepdim", lambda x: cr.logsumexp(x, 0, keepdim=True),
   lambda x: torch.logsumexp(x, 0, keepdim=True), [S((3, 4)), S((5,))])
op("logsumexp_dims", lambda x: x.logsumexp(dim=(0, 2)), lambda x: x.logsumexp(dim=(0, 2)), RED3)
op("logsumexp_neg1", lambda x: cr.logsumexp(x, -1), lambda x: torch.logsumexp(x, -1), [S((5,)), S((2, 3, 4))])
LOGITS = [S((3, 4)), S((5,)), S((2, 3, 4)),
          S(V([[1000.0, 1001.0, 999.0], [-1000.0, 0.0, 1000.0]]), id="large_logits")]
op("softmax_neg1", lambda x: cr.softmax(x, -1), lambda x: torch.softmax(x, -1), LOGITS)
op("softmax_dim0", lambda x: cr.softmax(x, dim=0), lambda x: torch.softmax(x, dim=0), [S((3, 4)), S((2, 3, 4))])
op("softmax_dim1_3d", lambda x: x.softmax(1), lambda x: x.softmax(1), RED3)
op("log_softmax_neg1", lambda x: cr.log_softmax(x, -1), lambda x: torch.log_softmax(x, -1), LOGITS)
op("log_softmax_dim0", lambda x: cr.log_softmax(x, dim=0), lambda x: torch.log_softmax(x, dim=0),
   [S((3, 4)), S((2, 3, 4))])
op("log_softmax_dim1_3d", lambda x: x.log_softmax(1), lambda x: x.log_softmax(1), RED3)

# ------------------------------------------------------------------------------ linear algebra
op("matmul", cr.matmul, torch.matmul,
   [S((4,), (4,), id="1d.1d"), S((3, 4), (4,), id="2d@1d"), S((4,), (4, 5), id="1d@2d"),
    S((3, 4), (4, 5), id="2d@2d"), S((2, 3, 4), (2, 4, 5), id="batched"),
    S((2, 3, 4), (4, 5), id="3d@2d"), S((3, 4), (2, 4, 5), id="2d@3d"),
    S((2, 1, 3, 4), (5, 4, 2), id="broadcast_batch"), S((2, 3, 4), (4,), id="3d@1d"),
    S((4,), (2, 4, 3), id="1d@3d")])
op("matmul_method", lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), [S((3, 4), (4, 2))])
op("mm", cr.mm, torch.mm, [S((3, 4), (4, 5)), S((1, 3), (3, 1)), S((5, 1), (1, 2))])
op("mm_method", lambda a, b: a.mm(b), lambda a, b: a.mm(b), [S((2, 3), (3, 4))])
op("linear", cr.linear, TF.linear,
   [S((5, 4), (3, 4), (3,), id="bias"), S((2, 5, 4), (3, 4), (3,), id="3d_bias"),
    S((4,), (3, 4), (3,), id="1d_bias")])
op("linear_nobias", lambda x, w: cr.linear(x, w), lambda x, w: TF.linear(x, w),
   [S((5, 4), (3, 4)), S((2, 5, 4), (3, 4), id="3d")])
op("linear_kw_bias", lambda x, w, b: cr.linear(x, weight=w, bias=b), lambda x, w, b: TF.linear(x, weight=w, bias=b),
   [S((2, 4), (3, 4), (3,))])

# ------------------------------------------------------------------------------ shape ops
SHAPE_Z = dict(second_order=False)
op("reshape", lambda x: cr.reshape(x, (4, 3)), lambda x: torch.reshape(x, (4, 3)), MATRIX, **SHAPE_Z)
op("reshape_neg1", lambda x: cr.reshape(x, (-1,)), lambda x: torch.reshape(x, (-1,)), MATRIX + TENSOR3, **SHAPE_Z)
op("reshape_3d", lambda x: x.reshape(2, -1, 2), lambda x: x.reshape(2, -1, 2), MATRIX, **SHAPE_Z)
op("reshape_tuple_method", lambda x: x.reshape((6, 2)), lambda x: x.reshape((6, 2)), MATRIX, **SHAPE_Z)
op("reshape_0d", lambda x: x.reshape(1, 1), lambda x: x.reshape(1, 1), [S(())], **SHAPE_Z)
op("reshape_to_0d", lambda x: x.reshape(()), lambda x: x.reshape(()), [S((1,)), S((1, 1))], **SHAPE_Z)
op("view", lambda x: x.view(-1), lambda x: x.view(-1), MATRIX, **SHAPE_Z)
op("flatten", cr.flatten, torch.flatten, MATRIX + TENSOR3 + [S(())], **SHAPE_Z)
op("flatten_start1", lambda x: cr.flatten(x, 1), lambda x: torch.flatten(x, 1), TENSOR3 + [S((2, 3, 2, 2))],
   **SHAPE_Z)
op("flatten_1_2", lambda x: x.flatten(1, 2), lambda x: x.flatten(1, 2), [S((2, 3, 2, 2))], **SHAPE_Z)
op("transpose", lambda x: cr.transpose(x, 0, 1), lambda x: torch.transpose(x, 0, 1), MATRIX + TENSOR3, **SHAPE_Z)
op("transpose_neg", lambda x: x.transpose(-1, 0), lambda x: x.transpose(-1, 0), TENSOR3, **SHAPE_Z)
op("t", lambda x: x.t(), lambda x: x.t(), MATRIX, **SHAPE_Z)
op("T", lambda x: x.T, lambda x: x.T, MATRIX, **SHAPE_Z)
op("permute", lambda x: cr.permute(x, (2, 0, 1)), lambda x: torch.permute(x, (2, 0, 1)), TENSOR3, **SHAPE_Z)
op("permute_method", lambda x: x.permute(1, 0), lambda x: x.permute(1, 0), MATRIX, **SHAPE_Z)
op("permute_neg", lambda x: x.permute(-1, 0, 1), lambda x: x.permute(-1, 0, 1), TENSOR3, **SHAPE_Z)
SQ = [S((3, 1, 4, 1)), S((1,)), S((1, 1))]
op("squeeze", cr.squeeze, torch.squeeze, SQ, **SHAPE_Z)
op("squeeze_dim", lambda x: cr.squeeze(x, 1), lambda x: torch.squeeze(x, 1), [S((3, 1, 4, 1))], **SHAPE_Z)
op("squeeze_dim_neg", lambda x: x.squeeze(-1), lambda x: x.squeeze(-1), [S((3, 1, 4, 1))], **SHAPE_Z)
op("squeeze_dim_not1", lambda x: x.squeeze(0), lambda x: x.squeeze(0), [S((3, 1, 4, 1))], **SHAPE_Z)
op("unsqueeze0", lambda x: cr.unsqueeze(x, 0), lambda x: torch.unsqueeze(x, 0), UNARY_SHAPES, **SHAPE_Z)
op("unsqueeze_neg1", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), UNARY_SHAPES, **SHAPE_Z)
op("unsqueeze1", lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1), MATRIX, **SHAPE_Z)
op("expand", lambda x: cr.expand(x, (3, 4)), lambda x: x.expand(3, 4), [S((3, 1)), S((4,)), S((1, 4)), S(())],
   **SHAPE_Z)
op("expand_method", lambda x: x.expand(2, 3, 4), lambda x: x.expand(2, 3, 4), [S((4,)), S((3, 1))], **SHAPE_Z)
op("expand_neg1", lambda x: x.expand(2, -1, 4), lambda x: x.expand(2, -1, 4), [S((3, 1))], **SHAPE_Z)
op("broadcast_to", lambda x: cr.broadcast_to(x, (2, 3, 4)), lambda x: torch.broadcast_to(x, (2, 3, 4)),
   [S((3, 1)), S((4,)), S(()), S((2, 1, 4))], **SHAPE_Z)
op("cat0", lambda a, b: cr.cat([a, b]), lambda a, b: torch.cat([a, b]), [S((2, 3), (4, 3)), S((3,), (2,))],
   **SHAPE_Z)
op("cat1", lambda a, b, c: cr.cat([a, b, c], dim=1), lambda a, b, c: torch.cat([a, b, c], dim=1),
   [S((2, 3), (2, 1), (2, 2))], **SHAPE_Z)
op("cat_neg", lambda a, b: cr.cat((a, b), -1), lambda a, b: torch.cat((a, b), -1), [S((2, 3, 1), (2, 3, 2))],
   **SHAPE_Z)
op("cat_single", lambda a: cr.cat([a]), lambda a: torch.cat([a]), MATRIX, **SHAPE_Z)
op("stack0", lambda a, b: cr.stack([a, b]), lambda a, b: torch.stack([a, b]), [S((2, 3), (2, 3)), S((), ())],
   **SHAPE_Z)
op("stack1", lambda a, b, c: cr.stack([a, b, c], dim=1), lambda a, b, c: torch.stack([a, b, c], dim=1),
   [S((2, 3), (2, 3), (2, 3))], **SHAPE_Z)
op("stack_neg", lambda a, b: cr.stack((a, b), -1), lambda a, b: torch.stack((a, b), -1), [S((2, 3), (2, 3))],
   **SHAPE_Z)
op("split_size", lambda x: cr.split(x, 2), lambda x: torch.split(x, 2), [S((5, 3)), S((4,))], **SHAPE_Z)
op("split_sections_dim1", lambda x: cr.split(x, [1, 3, 1], dim=1), lambda x: torch.split(x, [1, 3, 1], dim=1),
   [S((2, 5))], **SHAPE_Z)
op("split_method", lambda x: x.split(3, -1), lambda x: x.split(3, -1), [S((2, 7))], **SHAPE_Z)
op("chunk", lambda x: cr.chunk(x, 3), lambda x: torch.chunk(x, 3), [S((7, 2)), S((6,)), S((2,))], **SHAPE_Z)
op("chunk_uneven_count", lambda x: x.chunk(4), lambda x: x.chunk(4), [S((6,))], **SHAPE_Z)
op("chunk_dim1", lambda x: x.chunk(2, dim=1), lambda x: x.chunk(2, dim=1), [S((3, 5))], **SHAPE_Z)

op("select", lambda x: cr.select(x, 1, 2), lambda x: torch.select(x, 1, 2), [S((3, 4)), S((2, 4, 3))], **SHAPE_Z)
op("select_neg", lambda x: x.select(0, -1), lambda x: x.select(0, -1), [S((3, 4)), S((5,))], **SHAPE_Z)
op("narrow_slice", lambda x: x.narrow_slice(1, 1, 4, 2), lambda x: x[:, 1:4:2], [S((3, 5)), S((2, 6, 2))],
   **SHAPE_Z)
op("narrow", lambda x: cr.narrow(x, 1, 1, 2), lambda x: torch.narrow(x, 1, 1, 2), [S((3, 5)), S((2, 4, 2))],
   **SHAPE_Z)
op("narrow_method_neg_start", lambda x: x.narrow(0, -2, 2), lambda x: x.narrow(0, -2, 2), [S((3, 4)), S((5,))],
   **SHAPE_Z)
op("diagonal", lambda x: cr.diagonal(x), lambda x: torch.diagonal(x), [S((3, 4)), S((4, 3)), S((3, 3))], **SHAPE_Z)
op("diagonal_offset_dims", lambda x: x.diagonal(-1, 2, 0), lambda x: x.diagonal(-1, 2, 0), [S((3, 2, 4))],
   **SHAPE_Z)
op("unfold_windows", lambda x: x.unfold(1, 3, 2), lambda x: x.unfold(1, 3, 2), [S((2, 7)), S((3, 6, 2))],
   **SHAPE_Z)
op("unfold_overlapping", lambda x: x.unfold(0, 3, 1), lambda x: x.unfold(0, 3, 1), [S((5,)), S((4, 2))],
   **SHAPE_Z)
op("mT", lambda x: x.mT, lambda x: x.mT, [S((3, 4)), S((2, 3, 4))], **SHAPE_Z)
op("transpose_then_matmul", lambda x: x.t() @ x[:, 1:3], lambda x: x.t() @ x[:, 1:3], [S((4, 3))])
op("view_of_view_inplace_free", lambda x: x.t()[1:, ::2].unsqueeze(0).exp(),
   lambda x: x.t()[1:, ::2].unsqueeze(0).exp(), [S((5, 4))])
op("sum_to", lambda x: cr.sum_to(x, (3, 1)), lambda x: x.sum_to_size(3, 1), [S((2, 3, 4)), S((3, 4)), S((3, 1))],
   **SHAPE_Z)
op("sum_to_method", lambda x: x.sum_to((1, 4)), lambda x: x.sum_to_size(1, 4), [S((3, 4)), S((2, 3, 4))], **SHAPE_Z)
op("to_float64", lambda x: x.to(cr.float64), lambda x: x.to(torch.float64), UNARY_SHAPES, **SHAPE_Z)
# float32 outputs: finite differences in float32 can't judge these, so no gradcheck ("grad")
op("to_float32", lambda x: x.to(cr.float32), lambda x: x.to(torch.float32),
   [S(s_.args[0], check="grad") for s_ in UNARY_SHAPES], **SHAPE_Z)
op("double", lambda x: x.double(), lambda x: x.double(), MATRIX, **SHAPE_Z)
op("float", lambda x: x.float(), lambda x: x.float(), [S((3, 4), check="grad")], **SHAPE_Z)
op("to_int64", lambda x: x.long(), lambda x: x.long(), [S(V([[-1.7, -0.2, 0.0], [0.5, 1.5, 2.9]]))],
   differentiable=False)
op("to_bool", lambda x: x.bool(), lambda x: x.bool(), [S(F((3, 4), "int_valued"))], differentiable=False)
op("clone", lambda x: x.clone(), lambda x: x.clone(), UNARY_SHAPES, **SHAPE_Z)
op("contiguous_after_transpose", lambda x: x.t().contiguous(), lambda x: x.t().contiguous(), MATRIX, **SHAPE_Z)

# ------------------------------------------------------------------------------ indexing
op("idx_slice_step", lambda x: x[1:, ::2], lambda x: x[1:, ::2], [S((4, 5)), S((3, 4, 2))], **SHAPE_Z)
op("idx_col", lambda x: x[:, 0], lambda x: x[:, 0], [S((4, 5)), S((3, 4, 2))], **SHAPE_Z)
op("idx_none", lambda x: x[None], lambda x: x[None], [S((4, 5)), S(())], **SHAPE_Z)
op("idx_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], [S((4, 5)), S((3, 4, 2))], **SHAPE_Z)
op("idx_int", lambda x: x[-1], lambda x: x[-1], [S((4, 5)), S((5,))], **SHAPE_Z)
op("idx_int_int", lambda x: x[1, 2], lambda x: x[1, 2], [S((4, 5))], **SHAPE_Z)
op("idx_slice_neg", lambda x: x[-2:], lambda x: x[-2:], [S((4, 5)), S((5,))], **SHAPE_Z)
op("idx_slice_clamped", lambda x: x[1:10], lambda x: x[1:10], [S((4, 5))], **SHAPE_Z)
op("idx_slice_stop_neg", lambda x: x[:, 1:-1], lambda x: x[:, 1:-1], [S((4, 5))], **SHAPE_Z)
op("idx_mixed", lambda x: x[1:3, None, ::2], lambda x: x[1:3, None, ::2], [S((4, 5))], **SHAPE_Z)
op("idx_ellipsis_none", lambda x: x[..., None], lambda x: x[..., None], [S((4, 5))], **SHAPE_Z)
op("idx_step3", lambda x: x[::3, 1::2], lambda x: x[::3, 1::2], [S((7, 5))], **SHAPE_Z)
op("idx_empty_slice", lambda x: x[3:1], lambda x: x[3:1], [S((4, 5))], **SHAPE_Z)
op("idx_tensor", lambda x, i: x[i], lambda x, i: x[i],
   [S((4, 3), I([2, 0, 2])), S((5,), I([4, 4, 1, 0])), S((4, 3), I([-1, 0]), id="negative"),
    S((4, 3), I([[0, 1], [2, 2]]), id="2d_index")], **SHAPE_Z)
op("idx_tensor_dim1", lambda x, i: x[:, i], lambda x, i: x[:, i], [S((4, 3), I([2, 0, 2]))], **SHAPE_Z)
op("idx_pair", lambda x, a, l: x[a, l], lambda x, a, l: x[a, l],
   [S((4, 3), I([0, 1, 2, 3]), I([2, 0, 1, 2]), id="arange_labels"),
    S((4, 3), I([0, 0, 3]), I([1, 1, 2]), id="repeated")], **SHAPE_Z)
op("idx_pair_arange", lambda x, l: x[cr.arange(4), l], lambda x, l: x[torch.arange(4), l],
   [S((4, 3), I([2, 0, 1, 2]))], **SHAPE_Z)
op("idx_nonadjacent", lambda x, a, b: x[a, :, b], lambda x, a, b: x[a, :, b],
   [S((3, 4, 5), I([0, 2]), I([1, 4]))], **SHAPE_Z)
op("idx_list", lambda x: x[[0, 2]], lambda x: x[[0, 2]], [S((4, 3))], **SHAPE_Z)
op("idx_mask", lambda x, m: x[m], lambda x, m: x[m],
   [S((3, 4), B(shape=(3, 4))), S((3, 4), B(shape=(3,)), id="row_mask"),
    S((3, 4), B(values=[False, False, False]), id="empty_mask")], **SHAPE_Z)
op("idx_mask_from_cmp", lambda x: x[x > 0], lambda x: x[x > 0], [S((3, 4))], **SHAPE_Z)
op("index_select0", lambda x, i: cr.index_select(x, 0, i), lambda x, i: torch.index_select(x, 0, i),
   [S((4, 3), I([3, 0, 3])), S((5,), I([1, 1]))], **SHAPE_Z)
op("index_select1", lambda x, i: x.index_select(1, i), lambda x, i: x.index_select(1, i),
   [S((4, 3), I([2, 0])), S((2, 3, 4), I([0, 2, 1, 0]))], **SHAPE_Z)
op("index_select_neg", lambda x, i: cr.index_select(x, -1, i), lambda x, i: torch.index_select(x, -1, i),
   [S((2, 3, 4), I([3, 3, 0]))], **SHAPE_Z)
op("gather1", lambda x, i: cr.gather(x, 1, i), lambda x, i: torch.gather(x, 1, i),
   [S((3, 4), I([[0, 1], [3, 3], [2, 0]])), S((3, 4), I([[1], [0], [3]]), id="labels")], **SHAPE_Z)
op("gather0", lambda x, i: x.gather(0, i), lambda x, i: x.gather(0, i),
   [S((3, 4), I([[0, 1, 2, 0], [2, 2, 1, 1]]))], **SHAPE_Z)
op("scatter_add1", lambda x, i, s: cr.scatter_add(x, 1, i, s), lambda x, i, s: torch.scatter_add(x, 1, i, s),
   [S((3, 4), I([[0, 1], [3, 3], [2, 0]]), (3, 2))], **SHAPE_Z)
op("scatter_add0", lambda x, i, s: x.scatter_add(0, i, s), lambda x, i, s: x.scatter_add(0, i, s),
   [S((3, 4), I([[0, 1, 2, 0], [2, 2, 1, 0]]), (2, 4))], **SHAPE_Z)
op("index_add0", lambda x, i, s: cr.index_add(x, 0, i, s), lambda x, i, s: torch.index_add(x, 0, i, s),
   [S((5, 3), I([0, 2, 0]), (3, 3)), S((4,), I([3, 3]), (2,))], **SHAPE_Z)
op("index_add1", lambda x, i, s: x.index_add(1, i, s), lambda x, i, s: x.index_add(1, i, s),
   [S((3, 5), I([4, 1]), (3, 2))], **SHAPE_Z)
op("one_hot", lambda l: cr.one_hot(l, 4), lambda l: TF.one_hot(l, 4),
   [S(I([0, 2, 1, 3])), S(I([[0, 1], [3, 3]])), S(I(2), id="0d")], differentiable=False)
op("one_hot_inferred", cr.one_hot, TF.one_hot, [S(I([0, 2, 1, 2])), S(I([[4, 0]]))], differentiable=False)


# ------------------------------------------------------------------------------ elementwise math (math helper)
# Inputs are scaled into each function's domain inside the lambdas (asin(0.45 x) keeps |arg| < 1).
INF, NAN = float("inf"), float("nan")
for _n, _ours, _theirs, _s, _d in [
    ("tan", cr.tan, torch.tan, 0.7, "any"), ("asin", cr.asin, torch.asin, 0.45, "any"),
    ("acos", cr.acos, torch.acos, 0.45, "any"), ("atan", cr.atan, torch.atan, 1.0, "any"),
    ("arcsin", cr.arcsin, torch.arcsin, 0.45, "any"), ("arccos", cr.arccos, torch.arccos, 0.45, "any"),
    ("arctan", cr.arctan, torch.arctan, 1.0, "any"), ("sinh", cr.sinh, torch.sinh, 1.0, "any"),
    ("cosh", cr.cosh, torch.cosh, 1.0, "any"), ("asinh", cr.asinh, torch.asinh, 1.0, "any"),
    ("atanh", cr.atanh, torch.atanh, 0.45, "any"), ("arcsinh", cr.arcsinh, torch.arcsinh, 1.0, "any"),
    ("arctanh", cr.arctanh, torch.arctanh, 0.45, "any"), ("expm1", cr.expm1, torch.expm1, 1.0, "any"),
    ("exp2", cr.exp2, torch.exp2, 1.0, "any"), ("square", cr.square, torch.square, 1.0, "any"),
    ("log1p", cr.log1p, torch.log1p, 1.0, "positive"), ("log2", cr.log2, torch.log2, 1.0, "positive"),
    ("log10", cr.log10, torch.log10, 1.0, "positive"), ("rsqrt", cr.rsqrt, torch.rsqrt, 1.0, "positive"),
]:
    op(_n, lambda x, _f=_ours, _s=_s: _f(x * _s), lambda x, _f=_theirs, _s=_s: _f(x * _s), UNARY_SHAPES, domain=_d)
op("acosh", lambda x: cr.acosh(x + 1), lambda x: torch.acosh(x + 1), UNARY_SHAPES, domain="positive")
op("arccosh", lambda x: cr.arccosh(x + 1), lambda x: torch.arccosh(x + 1), UNARY_SHAPES, domain="positive")
op("tan_method", lambda x: (x * 0.7).tan(), lambda x: (x * 0.7).tan(), MATRIX)
op("square_int", cr.square, torch.square, [S(I([[3, -2, 0]])), S(B(values=[True, False]), id="bool")],
   differentiable=False)
op("log1p_edges", cr.log1p, torch.log1p, [S(V([-1.0, -0.5, 0.0, -0.0, 1e-10, 1e30, INF]), check="forward")])
op("atan2", cr.atan2, torch.atan2, _pairs_with_domain("nonzero"))
op("arctan2", cr.arctan2, torch.arctan2, [S((3, 4), F((3, 4), "nonzero"))])
op("atan2_method", lambda a, b: a.atan2(b), lambda a, b: a.atan2(b), [S((3, 1), F((1, 4), "nonzero"))])
op("atan2_signed_zeros", cr.atan2, torch.atan2,
   [S(V([0.0, -0.0, 0.0, -0.0, 1.0, -1.0, INF, -INF]), V([0.0, 0.0, -0.0, -0.0, INF, -INF, INF, 1.0]), check="forward")])
ROUND_V = V([[-2.5, -1.5, -0.5, -0.2, -0.0], [0.0, 0.3, 0.5, 1.5, 2.5]])
for _n, _ours, _theirs in [("floor", cr.floor, torch.floor), ("ceil", cr.ceil, torch.ceil),
                           ("trunc", cr.trunc, torch.trunc), ("round", cr.round, torch.round), ("fix", cr.fix, torch.fix)]:
    op(_n, _ours, _theirs, UNARY_SHAPES + [S(ROUND_V, id="halves", check="grad")], second_order=False)
    op(_n + "_int", _ours, _theirs, [S(I([[5, -3, 0]]))], differentiable=False)
op("round_decimals2", lambda x: cr.round(x, decimals=2), lambda x: torch.round(x, decimals=2), UNARY_SHAPES,
   second_order=False)
op("round_decimals_neg1", lambda x: (x * 100).round(decimals=-1), lambda x: (x * 100).round(decimals=-1), MATRIX,
   second_order=False)
op("frac", cr.frac, torch.frac, UNARY_SHAPES + [S(V([-2.5, -0.0, 0.0, 1.75, INF, -INF, NAN]), id="edges", check="forward")],
   second_order=False)
DIV_INT = [S(I([[7, -7, 7, -7, 0, 5]]), I([[2, 2, -2, -2, 3, 1]]), id="int_signs"),
           S(I([[7, -7, 9]]), I(4), id="int_0d")]
DIV_FLOAT_EDGE = S(V([7.0, -7.0, 7.0, -7.0, -0.0, 0.0, INF, 1.0, 2.5, NAN]),
                   V([2.0, 2.0, -2.0, -2.0, 3.0, -3.0, 2.0, INF, 0.0, 1.0]), id="float_edges", check="forward")
for _n, _ours, _theirs in [("fmod", cr.fmod, torch.fmod), ("remainder", cr.remainder, torch.remainder)]:
    op(_n, _ours, _theirs, _pairs_with_domain("nonzero"), second_order=False)
    op(_n + "_edges", _ours, _theirs, DIV_INT + [DIV_FLOAT_EDGE], differentiable=False)
    op(_n + "_scalar", lambda x, _f=_ours: _f(x, -1.5), lambda x, _f=_theirs: _f(x, -1.5), UNARY_SHAPES,
       second_order=False)
    op(_n + "_int_scalar", lambda x, _f=_ours: _f(x, -3), lambda x, _f=_theirs: _f(x, -3), [S(I([[7, -7, 0, 5]]))],
       differentiable=False)
op("remainder_scalar_first", lambda x: cr.remainder(5.5, x), lambda x: torch.remainder(5.5, x), UNARY_SHAPES,
   domain="nonzero", differentiable=False)  # torch has no derivative here (backward raises)
op("op_mod", lambda a, b: a % b, lambda a, b: a % b,
   _pairs_with_domain("nonzero")[:2] + [S(*s_.args, id=s_.id, check="forward") for s_ in DIV_INT], second_order=False)
op("op_mod_scalar", lambda x: x % 0.75, lambda x: x % 0.75, UNARY_SHAPES, second_order=False)
op("op_rmod", lambda x: 3 % x, lambda x: 3 % x, UNARY_SHAPES + [S(I([[2, -2, 5]]))], domain="nonzero",
   differentiable=False)
op("floor_divide", cr.floor_divide, torch.floor_divide, _pairs_with_domain("nonzero") + DIV_INT + [DIV_FLOAT_EDGE],
   differentiable=False)
op("floor_divide_scalar", lambda x: cr.floor_divide(x, 0.7), lambda x: torch.floor_divide(x, 0.7), UNARY_SHAPES,
   differentiable=False)
op("op_floordiv", lambda a, b: a // b, lambda a, b: a // b, _pairs_with_domain("nonzero")[:2] + DIV_INT,
   differentiable=False)
op("op_rfloordiv", lambda x: 7 // x, lambda x: 7 // x, [S(F((3, 4), "nonzero")), S(I([[2, -2, 3]]))],
   differentiable=False)
for _m in ["trunc", "floor"]:
    op("div_" + _m, lambda a, b, _m=_m: cr.div(a, b, rounding_mode=_m),
       lambda a, b, _m=_m: torch.div(a, b, rounding_mode=_m), _pairs_with_domain("nonzero"), second_order=False)
    op("div_" + _m + "_edges", lambda a, b, _m=_m: cr.div(a, b, rounding_mode=_m),
       lambda a, b, _m=_m: torch.div(a, b, rounding_mode=_m), DIV_INT + [DIV_FLOAT_EDGE], differentiable=False)
    op("div_" + _m + "_scalar_method", lambda x, _m=_m: x.div(-2, rounding_mode=_m),
       lambda x, _m=_m: x.div(-2, rounding_mode=_m), UNARY_SHAPES + [S(I([[7, -7, 0]]), check="forward")], second_order=False)
op("div_none", lambda a, b: cr.div(a, b, rounding_mode=None), lambda a, b: torch.div(a, b, rounding_mode=None),
   [S((3, 4), F((3, 4), "nonzero"))])
op("add_alpha", lambda a, b: cr.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5), BROADCAST_PAIRS,
   second_order=False)
op("sub_alpha", lambda a, b: cr.sub(a, b, alpha=-3), lambda a, b: torch.sub(a, b, alpha=-3), BROADCAST_PAIRS,
   second_order=False)
op("add_alpha_method_scalar", lambda x: x.add(2, alpha=3), lambda x: x.add(2, alpha=3), UNARY_SHAPES,
   second_order=False)
op("add_alpha_int", lambda a, b: cr.add(a, b, alpha=3), lambda a, b: torch.add(a, b, alpha=3), INT_PAIRS,
   differentiable=False)
PRED_V = S(V([[0.0, -0.0, 1.5, -INF], [INF, NAN, 1e-40, -3.0]]), id="specials")
for _n, _ours, _theirs in [("isnan", cr.isnan, torch.isnan), ("isinf", cr.isinf, torch.isinf),
                           ("isfinite", cr.isfinite, torch.isfinite), ("isposinf", cr.isposinf, torch.isposinf),
                           ("isneginf", cr.isneginf, torch.isneginf)]:
    op(_n, _ours, _theirs, [PRED_V, S((3,)), S(I([[1, -2]])), S(B(values=[True, False]))], differentiable=False)
CLOSE_A = V([1.0, 1.0, INF, INF, -INF, NAN, NAN, 0.0, 1e-9, 100.0])
CLOSE_B = V([1.0, 1.000001, INF, -INF, -INF, NAN, 1.0, 1e-8, 0.0, 100.001])
op("isclose", cr.isclose, torch.isclose, [S(CLOSE_A, CLOSE_B, id="specials"), S((3, 1), (1, 4))],
   differentiable=False)
op("isclose_tols", lambda a, b: cr.isclose(a, b, rtol=0.1, atol=0.5, equal_nan=True),
   lambda a, b: torch.isclose(a, b, rtol=0.1, atol=0.5, equal_nan=True),
   [S(CLOSE_A, CLOSE_B, id="specials"), S((3, 4), (3, 4)), S(I([[1, 2, 9]]), I([[1, 3, 3]]), id="int")],
   differentiable=False)
op("isclose_zero_tols", lambda a, b: a.isclose(b, rtol=0, atol=0), lambda a, b: a.isclose(b, rtol=0, atol=0),
   [S(CLOSE_A, CLOSE_B, id="specials")], differentiable=False)
op("allclose", lambda a, b: cr.tensor(cr.allclose(a, b)), lambda a, b: torch.tensor(torch.allclose(a, b)),
   [S(CLOSE_A, CLOSE_B, id="specials"), S(V([1.0, 2.0]), V([1.0, 2.0 + 1e-6]), id="close")], differentiable=False)
op("allclose_equal_nan", lambda a, b: cr.tensor(a.allclose(b, equal_nan=True)),
   lambda a, b: torch.tensor(a.allclose(b, equal_nan=True)), [S(V([NAN, 1.0]), V([NAN, 1.0]))], differentiable=False)
CLAMP_TIES = S(V([0.5, 1.0, 2.0, 3.0, 1.0, NAN]), V([1.0, 1.0, 1.0, 3.0, 2.0, 0.0]), V([2.0, 2.0, 2.0, 3.0, 1.0, 1.0]),
               id="ties_and_min_gt_max", check="grad")
op("clamp_tensor", lambda x, lo, hi: cr.clamp(x, lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi),
   [S((3, 4), (3, 4), (3, 4)), S((3, 4), (1, 4), (3, 1)), S((2, 4), (), (4,)), CLAMP_TIES], second_order=False)
op("clamp_tensor_min", lambda x, lo: cr.clamp(x, min=lo), lambda x, lo: torch.clamp(x, min=lo),
   [S((3, 4), (3, 4)), S((3, 1), (4,))], second_order=False)
op("clamp_tensor_max_method", lambda x, hi: x.clamp(max=hi), lambda x, hi: x.clamp(max=hi),
   [S((3, 4), (3, 4)), S((3, 4), (3, 1))], second_order=False)
op("clamp_int_float_bound", lambda x: cr.clamp(x, min=1.5), lambda x: torch.clamp(x, min=1.5),
   [S(I([[5, -3, 0, 2]]))], differentiable=False)
op("clip", lambda x: cr.clip(x, -0.5, 0.5), lambda x: torch.clip(x, -0.5, 0.5), UNARY_SHAPES, second_order=False)
op("clip_tensor_method", lambda x, lo: x.clip(min=lo), lambda x, lo: x.clip(min=lo), [S((3, 4), (4,))],
   second_order=False)
op("lerp", cr.lerp, torch.lerp,
   [S((3, 4), (3, 4), (3, 4)), S((3, 1), (1, 4), (4,)), S((), (3,), ()),
    S(V([0.0, 1.0, -2.0, 5.0]), V([10.0, -1.0, 2.0, 5.0]), V([0.3, 0.5, 0.7, 2.0]), id="both_formulas")])
op("lerp_scalar_weight", lambda a, b: cr.lerp(a, b, 0.75), lambda a, b: torch.lerp(a, b, 0.75),
   [S((3, 4), (3, 4)), S((3, 1), (4,))], second_order=False)
op("lerp_method", lambda a, b: a.lerp(b, 0.25), lambda a, b: a.lerp(b, 0.25), [S((3, 4), (3, 4))],
   second_order=False)
op("copysign", cr.copysign, torch.copysign,
   [S(F((3, 4), "away_from_zero"), F((3, 4), "nonzero")), S(F((3, 1), "away_from_zero"), F((4,), "nonzero")),
    S(V([0.0, -0.0, 2.0, -1.0, 0.0]), V([-1.0, 1.0, -0.0, 0.0, NAN]), id="zeros", check="grad")],
   second_order=False)
op("copysign_scalar", lambda x: cr.copysign(x, -1.0), lambda x: torch.copysign(x, -1.0), UNARY_SHAPES,
   domain="away_from_zero", second_order=False)
op("copysign_int", cr.copysign, torch.copysign, [S(I([[5, -3, 0]]), I([[-1, 1, -1]]))], differentiable=False)
# ------------------------------------------------------------------------------ nnmod: layer ops (nn.functional)
import chainrule.nn.functional as CF  # noqa: E402

_ACT = [S((3, 4)), S((5,)), S((2, 3, 2)), S(())]
_EMPTY = [S((0, 3), check="grad")]  # finite differences need elements; torch comparisons only
op("F_activations_empty", lambda x: CF.silu(x) + CF.elu(x) + CF.relu6(x) + CF.hardtanh(x) + CF.softsign(x),
   lambda x: TF.silu(x) + TF.elu(x) + TF.relu6(x) + TF.hardtanh(x) + TF.softsign(x), _EMPTY, second_order=False)
op("F_silu", CF.silu, TF.silu, _ACT + [S(V([-30.0, -1.0, 0.0, 1.0, 30.0]), id="wide")])
op("F_elu", CF.elu, TF.elu, _ACT[:3] + [S(V(-0.5), id="0d_neg")], domain="away_from_zero")
op("F_elu_kink", CF.elu, TF.elu, [S(V([-1.0, 0.0, 2.0, -0.0]), check="grad"),
                                  S(V([-90.0, -20.0, 50.0, 100.0]), id="wide")])
op("F_elu_alpha", lambda x: CF.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5), _ACT[:2], domain="away_from_zero")
op("F_relu6", CF.relu6, TF.relu6, _ACT + [S(V([-1.0, 0.0, 3.0, 6.0, 7.0]), check="grad", id="bounds")],
   domain="away_from_zero", second_order=False)
op("F_relu6_wide", lambda x: CF.relu6(x * 4), lambda x: TF.relu6(x * 4), [S(F((4, 5), "away_from_zero"))],
   second_order=False)
op("F_hardtanh", CF.hardtanh, TF.hardtanh, _ACT + [S(V([-2.0, -1.0, 0.0, 1.0, 3.0]), check="grad", id="bounds")],
   domain="away_from_zero", second_order=False)
op("F_hardtanh_bounds", lambda x: CF.hardtanh(x, min_val=-0.5, max_val=1.5),
   lambda x: TF.hardtanh(x, min_val=-0.5, max_val=1.5), [S((3, 4))], second_order=False)
op("F_softsign", CF.softsign, TF.softsign, _ACT[:4], domain="away_from_zero")
op("F_softmin", lambda x: CF.softmin(x, dim=1), lambda x: TF.softmin(x, dim=1), [S((3, 4)), S((2, 3, 2))])
# (a zero vector's first derivatives are in test_nn_parity.py: torch's second derivative there is NaN)
op("F_normalize", CF.normalize, TF.normalize, [S((3, 4)), S((2, 3, 2))])
op("F_normalize_p1_dim0", lambda x: CF.normalize(x, p=1.0, dim=0), lambda x: TF.normalize(x, p=1.0, dim=0),
   [S((3, 4)), S((5,))], domain="away_from_zero")
op("F_normalize_p3", lambda x: CF.normalize(x, p=3, dim=-1), lambda x: TF.normalize(x, p=3, dim=-1), [S((3, 4))],
   domain="away_from_zero")
op("F_normalize_eps", lambda x: CF.normalize(x, eps=10.0), lambda x: TF.normalize(x, eps=10.0), [S((3, 4))],
   second_order=False)  # every norm is below eps: x / eps
op("F_cosine_similarity", CF.cosine_similarity, TF.cosine_similarity,
   [S((3, 4), (3, 4)), S((3, 4), (4,)), S((2, 3, 2), (2, 3, 2)), S((1, 4), (3, 4))])
op("F_cosine_similarity_dim0", lambda a, b: CF.cosine_similarity(a, b, dim=0),
   lambda a, b: TF.cosine_similarity(a, b, dim=0), [S((5,), (5,)), S((3, 4), (3, 1))])
op("F_cosine_similarity_tiny", lambda a, b: CF.cosine_similarity(a * 1e-9, b), lambda a, b:
   TF.cosine_similarity(a * 1e-9, b), [S((3, 4), (3, 4), check="grad")])
op("F_embedding", lambda i, w: CF.embedding(i, w), lambda i, w: TF.embedding(i, w),
   [S(I([[0, 2, 2], [1, 0, 2]]), (3, 4)), S(I([1, 1, 1]), (2, 3), id="repeated"), S(I(2), (3, 2), id="0d"),
    S(I(np.zeros((0,), dtype=np.int64)), (3, 2), id="empty")], second_order=False)
# padding_idx: the forward reads the padding row but sends it no gradient (torch's convention), so
# finite differences can't judge it: torch comparisons only
op("F_embedding_padding", lambda i, w: CF.embedding(i, w, padding_idx=1),
   lambda i, w: TF.embedding(i, w, padding_idx=1), [S(I([[0, 1, 2], [1, 1, 0]]), (3, 4), check="grad")],
   second_order=False)
op("F_embedding_padding_neg", lambda i, w: CF.embedding(i, w, padding_idx=-1),
   lambda i, w: TF.embedding(i, w, padding_idx=-1), [S(I([0, 2, 2, 1]), (3, 2), check="grad")], second_order=False)
op("F_embedding_times_x", lambda i, w: CF.embedding(i, w) ** 2, lambda i, w: TF.embedding(i, w) ** 2,
   [S(I([0, 2, 0]), (3, 2))])
_PADS = {"last": (1, 2), "two": (2, 0, 1, 1), "neg": (-1, 2), "neg2": (1, -1, -1, 0), "three": (1, 0, 0, 1, 1, 1)}
for _name, _p in _PADS.items():
    op(f"F_pad_{_name}", lambda x, _p=_p: CF.pad(x, _p), lambda x, _p=_p: TF.pad(x, _p),
       [S((2, 3, 4)), S((1, 2, 3, 4))], second_order=False)
op("F_pad_value", lambda x: CF.pad(x, (1, 1), value=-2.5), lambda x: TF.pad(x, (1, 1), value=-2.5),
   [S((3, 4)), S((0, 2), check="grad")], second_order=False)
op("F_pad_times_x", lambda x: CF.pad(x, (1, 1)) ** 2, lambda x: TF.pad(x, (1, 1)) ** 2, [S((3, 4))])
for _mode in ("reflect", "replicate", "circular"):
    op(f"F_pad_{_mode}_1d", lambda x, m=_mode: CF.pad(x, (2, 1), mode=m), lambda x, m=_mode: TF.pad(x, (2, 1), mode=m),
       [S((2, 4)), S((2, 3, 4))], second_order=False)
    op(f"F_pad_{_mode}_2d", lambda x, m=_mode: CF.pad(x, (1, 2, 2, 1), mode=m),
       lambda x, m=_mode: TF.pad(x, (1, 2, 2, 1), mode=m), [S((2, 3, 4)), S((1, 2, 3, 4))], second_order=False)
op("F_pad_reflect_3d", lambda x: CF.pad(x, (1, 1, 0, 1, 1, 0), mode="reflect"),
   lambda x: TF.pad(x, (1, 1, 0, 1, 1, 0), mode="reflect"), [S((1, 2, 3, 3, 3))], second_order=False)
op("F_pad_replicate_neg", lambda x: CF.pad(x, (-1, 2), mode="replicate"),
   lambda x: TF.pad(x, (-1, 2), mode="replicate"), [S((2, 4))], second_order=False)

_CONV = [S((2, 3, 7, 6), (4, 3, 3, 2), (4,)), S((3, 5, 5), (2, 3, 2, 2), (2,), id="unbatched"),
         S((1, 1, 1, 1), (2, 1, 1, 1), (2,), id="1x1")]
op("F_conv2d_empty_batch", lambda x, w, b: CF.conv2d(x, w, b), lambda x, w, b: TF.conv2d(x, w, b),
   [S((0, 3, 5, 5), (2, 3, 3, 3), (2,), check="grad")], second_order=False)
op("F_conv2d", lambda x, w, b: CF.conv2d(x, w, b), lambda x, w, b: TF.conv2d(x, w, b), _CONV)
op("F_conv2d_dilation", lambda x, w, b: CF.conv2d(x, w, b, dilation=2, padding=1),
   lambda x, w, b: TF.conv2d(x, w, b, dilation=2, padding=1), _CONV[:1])
op("F_conv2d_dilation_stride", lambda x, w: CF.conv2d(x, w, stride=(2, 1), dilation=(1, 2), padding=(0, 2)),
   lambda x, w: TF.conv2d(x, w, stride=(2, 1), dilation=(1, 2), padding=(0, 2)), [S((2, 3, 8, 7), (4, 3, 3, 3))])
op("F_conv2d_groups", lambda x, w, b: CF.conv2d(x, w, b, groups=2), lambda x, w, b: TF.conv2d(x, w, b, groups=2),
   [S((2, 4, 5, 6), (6, 2, 3, 3), (6,)), S((4, 5, 5), (2, 2, 2, 2), (2,), id="unbatched")])
op("F_conv2d_depthwise", lambda x, w: CF.conv2d(x, w, groups=3, padding=1),
   lambda x, w: TF.conv2d(x, w, groups=3, padding=1), [S((2, 3, 5, 5), (3, 1, 3, 3))])
op("F_conv2d_same", lambda x, w: CF.conv2d(x, w, padding="same"), lambda x, w: TF.conv2d(x, w, padding="same"),
   [S((2, 3, 6, 5), (4, 3, 3, 3)), S((2, 3, 6, 5), (4, 3, 2, 4), id="even"), S((1, 2, 3, 3), (2, 2, 5, 4), id="big")])
op("F_conv2d_same_dilated", lambda x, w: CF.conv2d(x, w, padding="same", dilation=(3, 2)),
   lambda x, w: TF.conv2d(x, w, padding="same", dilation=(3, 2)), [S((2, 3, 6, 5), (4, 3, 2, 3))])
op("F_conv2d_valid", lambda x, w: CF.conv2d(x, w, padding="valid"), lambda x, w: TF.conv2d(x, w, padding="valid"),
   [S((2, 3, 6, 5), (4, 3, 3, 3))])

_POOL = [S((2, 3, 7, 6)), S((3, 5, 5), id="unbatched"), S((0, 2, 4, 4), id="empty_batch", check="grad")]
op("F_max_pool2d", lambda x: CF.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), _POOL, second_order=False)
op("F_max_pool2d_1x1", lambda x: CF.max_pool2d(x, 1), lambda x: TF.max_pool2d(x, 1), [S((1, 1, 1, 1))],
   second_order=False)
op("F_max_pool2d_ceil", lambda x: CF.max_pool2d(x, 3, stride=2, ceil_mode=True),
   lambda x: TF.max_pool2d(x, 3, stride=2, ceil_mode=True), [S((2, 2, 6, 7)), S((1, 1, 4, 4))], second_order=False)
op("F_max_pool2d_ceil_pad", lambda x: CF.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
   lambda x: TF.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [S((2, 2, 5, 6)), S((1, 1, 4, 4))],
   second_order=False)
op("F_max_pool2d_dilation", lambda x: CF.max_pool2d(x, 2, stride=1, dilation=2, padding=1),
   lambda x: TF.max_pool2d(x, 2, stride=1, dilation=2, padding=1), [S((2, 2, 5, 6))], second_order=False)
op("F_max_pool2d_indices", lambda x: CF.max_pool2d(x, 2, return_indices=True),
   lambda x: TF.max_pool2d(x, 2, return_indices=True), [S((2, 2, 4, 5))], second_order=False)
op("F_max_pool2d_ties", lambda x: CF.max_pool2d(x, 2, stride=1), lambda x: TF.max_pool2d(x, 2, stride=1),
   [S(F((1, 2, 4, 4), "int_valued"), check="grad")], second_order=False)
op("F_avg_pool2d", lambda x: CF.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2), _POOL, second_order=False)
op("F_avg_pool2d_ceil", lambda x: CF.avg_pool2d(x, 3, stride=2, ceil_mode=True),
   lambda x: TF.avg_pool2d(x, 3, stride=2, ceil_mode=True), [S((2, 2, 6, 7)), S((1, 1, 4, 4))], second_order=False)
op("F_avg_pool2d_ceil_pad", lambda x: CF.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
   lambda x: TF.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [S((2, 2, 5, 6)), S((1, 1, 4, 4))],
   second_order=False)
op("F_avg_pool2d_ceil_nopad_count", lambda x: CF.avg_pool2d(x, 3, 2, 1, True, False),
   lambda x: TF.avg_pool2d(x, 3, 2, 1, True, False), [S((2, 2, 5, 6)), S((1, 1, 4, 4))], second_order=False)
op("F_avg_pool2d_divisor", lambda x: CF.avg_pool2d(x, (2, 3), stride=1, padding=1, divisor_override=5),
   lambda x: TF.avg_pool2d(x, (2, 3), stride=1, padding=1, divisor_override=5), [S((2, 2, 4, 5))],
   second_order=False)
op("F_avg_pool2d_times_x", lambda x: CF.avg_pool2d(x * x, 2, ceil_mode=True),
   lambda x: TF.avg_pool2d(x * x, 2, ceil_mode=True), [S((1, 2, 5, 5))])
# ------------------------------------------------------------------------------ reductions, scans, sorting (reduce helper)
# std: at zero variance the gradient is 0 by PyTorch's convention (finite differences can't see it)
STD_ZERO_VAR = S(V([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]), id="zero_var", check="grad")
op("std", cr.std, torch.std, VAR_SHAPES)
op("std_dim1", lambda x: cr.std(x, 1), lambda x: torch.std(x, 1), [S((3, 4)), S((2, 3, 4)), STD_ZERO_VAR])
op("std_unbiased_false", lambda x: cr.std(x, False), lambda x: torch.std(x, False), VAR_SHAPES)
op("std_method_c0_keepdim", lambda x: x.std(dim=(0, 2), correction=0, keepdim=True),
   lambda x: x.std(dim=(0, 2), correction=0, keepdim=True), RED3)
op("std_positional_keepdim", lambda x: cr.std(x, 0, False, True), lambda x: torch.std(x, 0, False, True),
   [S((3, 4)), STD_ZERO_VAR])
op("std_axis", lambda x: cr.std(x, axis=-1), lambda x: torch.std(x, axis=-1), [S((3, 4)), STD_ZERO_VAR])
op("std_mean", lambda x: cr.std_mean(x, 1), lambda x: torch.std_mean(x, 1), [S((3, 4)), S((2, 3, 4))])
op("std_mean_all_c0", lambda x: cr.std_mean(x, correction=0), lambda x: torch.std_mean(x, correction=0),
   VAR_SHAPES)
op("var_mean", lambda x: cr.var_mean(x, 0, keepdim=True), lambda x: torch.var_mean(x, 0, keepdim=True),
   [S((3, 4)), S((2, 3, 4))])
op("var_mean_unbiased_false", lambda x: cr.var_mean(x, False), lambda x: torch.var_mean(x, False), VAR_SHAPES)
op("var_axis", lambda x: cr.var(x, axis=1), lambda x: torch.var(x, axis=1), [S((3, 4))])

# prod: zeros (one, several) have exact gradients and second derivatives (prod is a polynomial)
PROD_ZEROS = [S(V([2.0, 0.0, 3.0, -1.5]), id="one_zero"), S(V([0.0, 2.0, 0.0, 3.0]), id="two_zeros"),
              S(V([0.0, 0.0]), id="all_zeros")]
PROD_ROWS = [S(V([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [2.0, -3.0, 0.5]]), id="zero_rows")]
op("prod", cr.prod, torch.prod, UNARY_SHAPES[:3] + PROD_ZEROS)
op("prod_method", lambda x: x.prod(), lambda x: x.prod(), MATRIX + PROD_ZEROS)
op("prod_dim1", lambda x: cr.prod(x, 1), lambda x: torch.prod(x, 1), [S((3, 4)), S((2, 3, 4))] + PROD_ROWS)
op("prod_dim0_keepdim", lambda x: x.prod(0, keepdim=True), lambda x: x.prod(0, keepdim=True),
   [S((3, 4)), S((5,))] + PROD_ROWS)
op("prod_axis_neg1", lambda x: cr.prod(x, axis=-1), lambda x: torch.prod(x, axis=-1), [S((2, 3, 4))] + PROD_ROWS)
op("prod_0d", lambda x: cr.prod(x, 0), lambda x: torch.prod(x, 0), [S(())], second_order=False)
op("prod_0d_all", cr.prod, torch.prod, [S(())], second_order=False)
op("prod_int", cr.prod, torch.prod, [S(I([[3, -2], [1, 4]])), S(I([]), id="empty")], differentiable=False)
op("prod_bool_dim", lambda x: cr.prod(x, 0), lambda x: torch.prod(x, 0),
   [S(B([[True, False], [True, True]]))], differentiable=False)
op("prod_dtype", lambda x: cr.prod(x, 1, dtype=cr.float64), lambda x: torch.prod(x, 1, dtype=torch.float64),
   [S(I([[3, -2], [1, 4]]))], differentiable=False)

# cumsum / cumprod
SCAN_ZEROS = [S(V([2.0, 0.0, 3.0, -1.5, 0.5]), id="one_zero"), S(V([1.5, 0.0, 2.0, 0.0, 3.0]), id="two_zeros"),
              S(V([0.0, 2.0, 3.0]), id="zero_first"), S(V([2.0, 3.0, 0.0]), id="zero_last")]
op("cumsum_dim1", lambda x: cr.cumsum(x, 1), lambda x: torch.cumsum(x, 1), [S((3, 4)), S((2, 3, 4))],
   second_order=False)
op("cumsum_neg1", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), [S((5,)), S((2, 3, 4)), S(())],
   second_order=False)
op("cumsum_axis0", lambda x: cr.cumsum(x, axis=0), lambda x: torch.cumsum(x, axis=0), [S((3, 4))],
   second_order=False)
op("trapezoid", lambda y: cr.trapezoid(y), lambda y: torch.trapezoid(y), [S((5,)), S((3, 4)), S((2, 3, 4))],
   second_order=False)  # (linear in y; with x, bilinear: the entries below have second derivatives)
op("trapezoid_x_dim0", lambda y, x: cr.trapezoid(y, x, dim=0), lambda y, x: torch.trapezoid(y, x, dim=0),
   [S((4, 3), (4,)), S((4, 3), (4, 3))])
op("trapezoid_dx", lambda y: cr.trapezoid(y, dx=0.25), lambda y: torch.trapezoid(y, dx=0.25), [S((6,))],
   second_order=False)
op("cumulative_trapezoid", lambda y: cr.cumulative_trapezoid(y), lambda y: torch.cumulative_trapezoid(y),
   [S((5,)), S((3, 4))], second_order=False)
op("cumulative_trapezoid_x", lambda y, x: cr.cumulative_trapezoid(y, x, dim=-1),
   lambda y, x: torch.cumulative_trapezoid(y, x, dim=-1), [S((2, 5), (5,))])
op("cumsum_int", lambda x: cr.cumsum(x, 0), lambda x: torch.cumsum(x, 0),
   [S(I([3, -2, 5])), S(I([[1, 2], [3, 4]]))], differentiable=False)
op("cumsum_bool", lambda x: cr.cumsum(x, -1), lambda x: torch.cumsum(x, -1),
   [S(B([[True, False, True]]))], differentiable=False)
op("cumsum_dtype", lambda x: cr.cumsum(x, 0, dtype=cr.float32), lambda x: torch.cumsum(x, 0, dtype=torch.float32),
   [S(I([3, -2, 5]))], differentiable=False)
op("cumprod", lambda x: cr.cumprod(x, -1), lambda x: torch.cumprod(x, -1), [S((5,)), S((3, 4))] + SCAN_ZEROS)
op("cumprod_0d", lambda x: cr.cumprod(x, 0), lambda x: torch.cumprod(x, 0), [S(())], second_order=False)
op("cumprod_dim0", lambda x: x.cumprod(0), lambda x: x.cumprod(0),
   [S((3, 4)), S((2, 3, 4)), S(V([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [2.0, 1.5]]), id="zeros")])
op("cumprod_axis1", lambda x: cr.cumprod(x, axis=1), lambda x: torch.cumprod(x, axis=1), [S((2, 3, 4))] + PROD_ROWS)
op("cumprod_int", lambda x: cr.cumprod(x, 0), lambda x: torch.cumprod(x, 0),
   [S(I([3, -2, 5])), S(B([True, True, False]))], differentiable=False)

# all / any: bool results (float inputs: 0 is false, nan is true)
BOOLISH = [S(V([[1.0, 0.0, 2.0], [3.0, -1.0, float("nan")]]), id="zeros_nan"), S((3, 4)), S(())]
op("all", cr.all, torch.all, BOOLISH + [S(B([True, False])), S(I([1, 2, 3])), S(V([]), id="empty")],
   differentiable=False)
op("any", cr.any, torch.any, BOOLISH + [S(B([False, False])), S(I([0, 0, 3])), S(V([]), id="empty")],
   differentiable=False)
op("all_dim1", lambda x: x.all(1), lambda x: x.all(1), BOOLISH[:1], differentiable=False)
op("any_dims_keepdim", lambda x: cr.any(x, dim=(0, 2), keepdim=True),
   lambda x: torch.any(x, dim=(0, 2), keepdim=True), [S(B(shape=(2, 3, 4)))], differentiable=False)
op("all_axis0", lambda x: cr.all(x, axis=0), lambda x: torch.all(x, axis=0), [S(I([[1, 0], [2, 3]]))],
   differentiable=False)
op("any_axis0", lambda x: x.any(axis=0), lambda x: x.any(axis=0), [S(I([[1, 0], [0, 0]]))],
   differentiable=False)

# median (ties: PyTorch's convention, checked against torch only)
MED_TIES = S(V([[1.0, 3.0, 3.0, 3.0], [2.0, 2.0, 0.0, 2.0]]), id="ties", check="grad")
MED_NAN = S(V([[1.0, float("nan"), 3.0], [2.0, 0.0, -1.0]]), id="nan", check="grad")
op("median", cr.median, torch.median, UNARY_SHAPES + [S((4,)), MED_TIES, MED_NAN], second_order=False)
op("median_dim1", lambda x: cr.median(x, 1), lambda x: torch.median(x, 1),
   [S((3, 4)), S((3, 5)), S((2, 3, 4)), MED_TIES, MED_NAN], second_order=False)
op("median_dim0_keepdim", lambda x: x.median(0, keepdim=True), lambda x: x.median(0, keepdim=True),
   [S((4, 3)), S(()), MED_TIES], second_order=False)
op("median_axis", lambda x: cr.median(x, axis=-1).values, lambda x: torch.median(x, axis=-1).values,
   [S((3, 4))], second_order=False)
op("median_int", lambda x: cr.median(x, 0), lambda x: torch.median(x, 0), [S(I([[4, 1], [2, 2], [3, 9]]))],
   differentiable=False)

# sort / argsort / topk: values are x gathered at the indices (the gradient scatters back)
SORT_TIES = S(V([[2.0, 1.0, 2.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0]]), id="ties", check="grad")
SORT_SPECIAL = S(V([[2.0, float("nan"), -float("inf"), 1.0, float("inf")], [0.0, -0.0, 3.0, float("nan"), 1.0]]),
                 id="nan_inf", check="grad")
op("sort", cr.sort, torch.sort, [S((3, 5)), S((7,)), S(()), SORT_SPECIAL], second_order=False)
op("sort_stable_ties", lambda x: cr.sort(x, stable=True), lambda x: torch.sort(x, stable=True),
   [SORT_TIES, S(V(np.tile([1.0, 0.0, 1.0], 11)), id="ties33", check="grad")], second_order=False)
op("sort_desc_stable_ties", lambda x: cr.sort(x, descending=True, stable=True),
   lambda x: torch.sort(x, descending=True, stable=True), [SORT_TIES, SORT_SPECIAL], second_order=False)
op("sort_dim0_desc", lambda x: x.sort(0, True), lambda x: x.sort(0, True), [S((4, 3)), S((2, 3, 4))],
   second_order=False)
op("sort_axis", lambda x: cr.sort(x, axis=0).values, lambda x: torch.sort(x, axis=0).values, [S((4, 3))],
   second_order=False)
op("sort_int", lambda x: cr.sort(x, stable=True), lambda x: torch.sort(x, stable=True),
   [S(I([[3, 1, 3, 2], [0, 0, -1, 5]])), S(B([True, False, True]))], differentiable=False)
op("argsort", cr.argsort, torch.argsort, [S((3, 5)), S((7,)), S(())], differentiable=False)
op("argsort_stable_desc", lambda x: cr.argsort(x, dim=0, descending=True, stable=True),
   lambda x: torch.argsort(x, dim=0, descending=True, stable=True),
   [S(V([[1.0, 2.0], [1.0, float("nan")], [3.0, 2.0], [1.0, 2.0]]), id="ties_nan")], differentiable=False)
op("topk2", lambda x: cr.topk(x, 2), lambda x: torch.topk(x, 2), [S((3, 5)), S((7,)), SORT_TIES, SORT_SPECIAL],
   second_order=False)
op("topk_smallest_dim0", lambda x: x.topk(3, dim=0, largest=False), lambda x: x.topk(3, dim=0, largest=False),
   [S((4, 3)), S((5, 2, 3))], second_order=False)
op("topk_unsorted", lambda x: cr.topk(x, 3, sorted=False), lambda x: torch.topk(x, 3, sorted=False),
   [S((6,)), S((2, 9))], second_order=False)
op("topk_partial_sort", lambda x: cr.topk(x, 2), lambda x: torch.topk(x, 2),
   [S((130,)), S(V(np.tile([1.0, 3.0, 3.0, 2.0], 40)), id="ties160", check="grad")], second_order=False)
op("topk_k_all_axis", lambda x: cr.topk(x, 4, axis=1).values, lambda x: torch.topk(x, 4, axis=1).values,
   [S((3, 4))], second_order=False)
op("topk_k0", lambda x: cr.topk(x, 0), lambda x: torch.topk(x, 0), [S((3, 4))], second_order=False)
op("topk_0d", lambda x: cr.topk(x, 1), lambda x: torch.topk(x, 1), [S(())], second_order=False)

# axis= as an alias of dim= in the reductions that had dim= already
op("sum_axis", lambda x: cr.sum(x, axis=(0, 2)), lambda x: torch.sum(x, axis=(0, 2)), RED3, second_order=False)
op("sum_dtype", lambda x: x.sum(0, dtype=cr.float64), lambda x: x.sum(0, dtype=torch.float64),
   [S(I([[1, 2], [3, 4]]))], differentiable=False)
op("mean_axis", lambda x: x.mean(axis=1, keepdim=True), lambda x: x.mean(axis=1, keepdim=True), RED3,
   second_order=False)
op("amax_axis", lambda x: cr.amax(x, axis=1), lambda x: torch.amax(x, axis=1), [S((3, 4)), AMAX_TIES],
   second_order=False)
op("amin_axis", lambda x: x.amin(axis=0), lambda x: x.amin(axis=0), [S((3, 4))], second_order=False)
op("max_axis", lambda x: cr.max(x, axis=1), lambda x: torch.max(x, axis=1), [S((3, 4))], second_order=False)
op("min_axis_method", lambda x: x.min(axis=0, keepdim=True), lambda x: x.min(axis=0, keepdim=True),
   [S((3, 4))], second_order=False)
op("argmax_axis", lambda x: cr.argmax(x, axis=1), lambda x: torch.argmax(x, axis=1), [S((3, 4)), ARG_TIES],
   differentiable=False)
op("argmin_axis", lambda x: x.argmin(axis=0), lambda x: x.argmin(axis=0), [S((3, 4))], differentiable=False)
op("logsumexp_axis", lambda x: cr.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, axis=1), [S((3, 4))])
op("softmax_axis", lambda x: cr.softmax(x, axis=0), lambda x: torch.softmax(x, axis=0), [S((3, 4))])
op("log_softmax_axis", lambda x: x.log_softmax(axis=-1), lambda x: x.log_softmax(axis=-1), [S((3, 4))])
# ------------------------------------------------------------------------------ linalg area
# Products, einsum, norms and torch.linalg. Decompositions get well-conditioned inputs built inside
# both functions from a random F: general A = F + n I, symmetric positive-definite F F^T + n I
# (cholesky, eigh), symmetric F + F^T (eigh with distinct eigenvalues almost surely).
def _spd(f, lib):
    # (m, m) for any f of (.., m, k): an f taken as it is (not fitted to the sample) may be
    # non-square, and eye(k) would broadcast into a singular matrix
    return f @ f.mT + f.shape[-2] * lib.eye(f.shape[-2], dtype=f.dtype)


def _gen(f, lib):
    return f + f.shape[-1] * lib.eye(f.shape[-1], dtype=f.dtype)


def _eigvec_signs(v):
    """Each eigenvector (column) with its first entry made positive: eigenvectors are unique only
    up to sign, so both frameworks are compared after the same normalisation."""
    return v * v[..., :1, :].sign()


LINALG_Z = dict(second_order=False)
op("dot", cr.dot, torch.dot, [S((5,), (5,)), S((1,), (1,)), S((33,), (33,))])
op("dot_method", lambda a, b: a.dot(b), lambda a, b: a.dot(b), [S((4,), (4,))])
op("outer", cr.outer, torch.outer, [S((3,), (4,)), S((1,), (2,))])
op("mv", cr.mv, torch.mv, [S((3, 4), (4,)), S((1, 1), (1,))])
op("bmm", cr.bmm, torch.bmm, [S((2, 3, 4), (2, 4, 5)), S((1, 1, 3), (1, 3, 1))])
op("trace", cr.trace, torch.trace, [S((3, 3)), S((2, 4)), S((4, 1))], **LINALG_Z)
op("diag", cr.diag, torch.diag, [S((3,)), S((3, 3)), S((2, 4))], **LINALG_Z)
op("diag_k1", lambda x: cr.diag(x, 1), lambda x: torch.diag(x, 1), [S((3,)), S((3, 4))], **LINALG_Z)
op("diag_km2", lambda x: x.diag(-2), lambda x: x.diag(-2), [S((2,)), S((4, 3))], **LINALG_Z)
op("diag_embed", cr.diag_embed, torch.diag_embed, [S((3,)), S((2, 3))], **LINALG_Z)
op("tril", cr.tril, torch.tril, [S((4, 4)), S((2, 3, 4)), S((3, 1))], **LINALG_Z)
op("tril_k", lambda x: cr.tril(x, 1), lambda x: torch.tril(x, 1), [S((4, 4)), S((2, 3, 5))], **LINALG_Z)
op("triu", cr.triu, torch.triu, [S((4, 4)), S((2, 3, 4))], **LINALG_Z)
op("triu_k", lambda x: x.triu(-1), lambda x: x.triu(-1), [S((4, 4)), S((2, 5, 3))], **LINALG_Z)
op("meshgrid_ij", lambda a, b: cr.meshgrid(a, b, indexing="ij"), lambda a, b: torch.meshgrid(a, b, indexing="ij"),
   [S((3,), (4,)), S((), (2,))], **LINALG_Z)
op("meshgrid_xy", lambda a, b, c: cr.meshgrid(a, b, c, indexing="xy"),
   lambda a, b, c: torch.meshgrid(a, b, c, indexing="xy"), [S((3,), (4,), (2,))], **LINALG_Z)
_EINSUM = {
    "matmul": ("ij,jk->ik", [S((3, 4), (4, 2))]),
    "dot": ("i,i->", [S((5,), (5,))]),
    "transpose": ("ij->ji", [S((3, 4))]),
    "diagonal": ("ii->i", [S((3, 3))]),
    "trace": ("ii->", [S((3, 3))]),
    "bmm": ("bij,bjk->bik", [S((2, 3, 4), (2, 4, 5))]),
    "outer": ("i,j->ij", [S((3,), (4,))]),
    "mv": ("ij,j->i", [S((3, 4), (4,))]),
    "implicit": ("ij,jk", [S((3, 4), (4, 2))]),
    "implicit_sorted": ("ba", [S((3, 4))]),
    "ellipsis": ("...ij,...jk->...ik", [S((2, 3, 4), (2, 4, 5)), S((3, 4), (4, 2)), S((2, 1, 3, 4), (5, 4, 2))]),
    "sum_all": ("ij->", [S((3, 4))]),
    "bilinear": ("i,ij,j->", [S((3,), (3, 4), (4,))]),
    "chain3": ("ij,jk,kl->il", [S((2, 3), (3, 4), (4, 2))]),
    "hadamard": ("ij,ij->ij", [S((3, 4), (3, 4))]),
    "batch_diag": ("bii->bi", [S((2, 3, 3))]),
    "broadcast1": ("i,i->i", [S((1,), (3,))]),
    "spaces": ("ij , jk -> ik", [S((2, 3), (3, 2))]),
}
for _name, (_eq, _samples) in _EINSUM.items():
    op(f"einsum_{_name}", lambda *xs, _eq=_eq: cr.einsum(_eq, *xs), lambda *xs, _eq=_eq: torch.einsum(_eq, *xs),
       _samples, second_order=len(_samples[0].args) > 1)  # products of 2+ operands have cross terms
op("einsum_list", lambda a, b: cr.einsum("ij,jk->ik", [a, b]), lambda a, b: torch.einsum("ij,jk->ik", [a, b]),
   [S((2, 3), (3, 2))])

# norms: at x = 0 the gradient is torch's 0 (a convention there, so check="grad")
_ZEROS3 = S(V([0.0, 0.0, 0.0]), id="zeros", check="grad")
op("norm", cr.norm, torch.norm, [S((3, 4)), S((5,)), S((2, 3, 2))])
op("norm_0d", cr.norm, torch.norm, [S(())], domain="away_from_zero", **LINALG_Z)  # |x|
op("norm_p1", lambda x: cr.norm(x, 1), lambda x: torch.norm(x, 1), [S((3, 4))], domain="away_from_zero", **LINALG_Z)
op("norm_p3_dim", lambda x: x.norm(3, dim=1), lambda x: x.norm(3, dim=1), [S((3, 4))])
op("norm_fro_dims", lambda x: cr.norm(x, "fro", dim=(0, 1), keepdim=True),
   lambda x: torch.norm(x, "fro", dim=(0, 1), keepdim=True), [S((3, 4)), S((3, 4, 2))])
op("norm_inf", lambda x: cr.norm(x, float("inf")), lambda x: torch.norm(x, float("inf")), [S((3, 4))],
   domain="away_from_zero", **LINALG_Z)
op("norm_at_zero", cr.norm, torch.norm, [_ZEROS3])
for _ord, _kw in [(2, {}), (1, LINALG_Z), (3, {}), (1.5, {}), (0.5, {}), (-1, {}), (float("inf"), LINALG_Z),
                  (float("-inf"), LINALG_Z), (0, LINALG_Z)]:
    _dom = "away_from_zero" if _ord in (1, float("inf"), float("-inf"), 0.5, -1) else "any"
    op(f"vector_norm_{_ord}", lambda x, _o=_ord: cr.linalg.vector_norm(x, _o),
       lambda x, _o=_ord: torch.linalg.vector_norm(x, _o), [S((3, 4)), S((7,))], domain=_dom, **_kw)
    op(f"vector_norm_{_ord}_0d", lambda x, _o=_ord: cr.linalg.vector_norm(x, _o),
       lambda x, _o=_ord: torch.linalg.vector_norm(x, _o), [S(())], domain="away_from_zero", **LINALG_Z)
    op(f"vector_norm_{_ord}_dim", lambda x, _o=_ord: cr.linalg.vector_norm(x, _o, dim=(0, 2), keepdim=True),
       lambda x, _o=_ord: torch.linalg.vector_norm(x, _o, dim=(0, 2), keepdim=True), [S((2, 3, 4))],
       domain=_dom, **_kw)
for _ord in [2, 1, float("inf"), 3]:
    op(f"vector_norm_{_ord}_at_zero", lambda x, _o=_ord: cr.linalg.vector_norm(x, _o),
       lambda x, _o=_ord: torch.linalg.vector_norm(x, _o), [_ZEROS3, S(V([[0.0, 0.0], [1.0, -2.0]]),
                                                                      id="zero_row", check="grad")], **LINALG_Z)
op("vector_norm_2_rows_at_zero", lambda x: cr.linalg.vector_norm(x, dim=1),
   lambda x: torch.linalg.vector_norm(x, dim=1), [S(V([[0.0, 0.0], [3.0, -4.0]]), check="grad")])
for _ord in ["fro", 1, -1, float("inf"), float("-inf")]:
    _kw = {} if _ord == "fro" else LINALG_Z
    op(f"matrix_norm_{_ord}", lambda a, _o=_ord: cr.linalg.matrix_norm(a, _o),
       lambda a, _o=_ord: torch.linalg.matrix_norm(a, _o), [S((3, 4)), S((2, 3, 3))],
       domain="away_from_zero", **_kw)
    op(f"matrix_norm_{_ord}_1x1", lambda a, _o=_ord: cr.linalg.matrix_norm(a, _o),
       lambda a, _o=_ord: torch.linalg.matrix_norm(a, _o), [S((1, 1))], domain="away_from_zero", **LINALG_Z)
    op(f"matrix_norm_{_ord}_dims", lambda a, _o=_ord: cr.linalg.matrix_norm(a, _o, dim=(2, 0), keepdim=True),
       lambda a, _o=_ord: torch.linalg.matrix_norm(a, _o, dim=(2, 0), keepdim=True), [S((3, 2, 4))],
       domain="away_from_zero", **_kw)
# singular values: eigenvalues of [[0, A], [A^T, 0]] (distinct for random A, so second derivatives exist)
for _ord in ["nuc", 2, -2]:
    op(f"matrix_norm_{_ord}", lambda a, _o=_ord: cr.linalg.matrix_norm(a, _o),
       lambda a, _o=_ord: torch.linalg.matrix_norm(a, _o), [S((3, 3)), S((3, 4)), S((4, 2)), S((2, 3, 3))])
    op(f"matrix_norm_{_ord}_dims", lambda a, _o=_ord: cr.linalg.matrix_norm(a, _o, dim=(2, 0), keepdim=True),
       lambda a, _o=_ord: torch.linalg.matrix_norm(a, _o, dim=(2, 0), keepdim=True), [S((3, 2, 4))])
    op(f"matrix_norm_{_ord}_1x1", lambda a, _o=_ord: cr.linalg.matrix_norm(a, _o),
       lambda a, _o=_ord: torch.linalg.matrix_norm(a, _o), [S((1, 1))], domain="away_from_zero", **LINALG_Z)
op("linalg_svdvals", lambda a: cr.linalg.svdvals(a), lambda a: torch.linalg.svdvals(a),
   [S((3, 3)), S((2, 4)), S((4, 3)), S((2, 3, 2))])
op("norm_nuc", lambda a: cr.norm(a, "nuc"), lambda a: torch.norm(a, "nuc"), [S((3, 4))])
op("linalg_norm", lambda a: cr.linalg.norm(a), lambda a: torch.linalg.norm(a), [S((3, 4)), S((5,))])
op("linalg_norm_ord1", lambda a: cr.linalg.norm(a, 1), lambda a: torch.linalg.norm(a, 1), [S((3, 4)), S((5,))],
   domain="away_from_zero", **LINALG_Z)

# torch.linalg decompositions
op("linalg_solve", lambda f, b: cr.linalg.solve(_gen(f, cr), b), lambda f, b: torch.linalg.solve(_gen(f, torch), b),
   [S((3, 3), (3, 2)), S((3, 3), (3,), id="vector"), S((2, 3, 3), (2, 3, 1)), S((2, 3, 3), (3, 2), id="bcast_b"),
    S((3, 3), (2, 3, 2), id="bcast_a"), S((2, 3, 3), (2, 3), id="batched_vector"), S((1, 1), (1, 1))])
op("linalg_solve_right", lambda f, b: cr.linalg.solve(_gen(f, cr), b, left=False),
   lambda f, b: torch.linalg.solve(_gen(f, torch), b, left=False), [S((3, 3), (2, 3)), S((2, 3, 3), (3,  3))])
op("linalg_inv", lambda f: cr.linalg.inv(_gen(f, cr)), lambda f: torch.linalg.inv(_gen(f, torch)),
   [S((3, 3)), S((2, 4, 4)), S((1, 1))])
op("inverse", lambda f: cr.inverse(_gen(f, cr)), lambda f: torch.inverse(_gen(f, torch)), [S((3, 3))])
op("linalg_det", lambda f: cr.linalg.det(_gen(f, cr)), lambda f: torch.linalg.det(_gen(f, torch)),
   [S((3, 3)), S((2, 3, 3)), S((4, 4))])
op("linalg_det_1x1", cr.linalg.det, torch.linalg.det, [S((1, 1)), S((3, 1, 1))], **LINALG_Z)  # linear
op("linalg_det_raw", cr.linalg.det, torch.linalg.det, [S((3, 3)), S((2, 2, 2))])
op("det", lambda f: cr.det(f), lambda f: torch.det(f), [S((3, 3))])
op("det_method", lambda f: f.det(), lambda f: f.det(), [S((2, 2))])
op("linalg_slogdet", lambda f: cr.linalg.slogdet(f), lambda f: torch.linalg.slogdet(f), [S((3, 3)), S((2, 3, 3))])
op("linalg_cholesky", lambda f: cr.linalg.cholesky(_spd(f, cr)), lambda f: torch.linalg.cholesky(_spd(f, torch)),
   [S((3, 3)), S((2, 4, 4)), S((1, 1))])
op("linalg_cholesky_upper", lambda f: cr.linalg.cholesky(_spd(f, cr), upper=True),
   lambda f: torch.linalg.cholesky(_spd(f, torch), upper=True), [S((3, 3))])
op("linalg_cholesky_lower_only", lambda f: cr.linalg.cholesky(cr.tril(_spd(f, cr))),
   lambda f: torch.linalg.cholesky(torch.tril(_spd(f, torch))), [S((3, 3), check="grad")])
# (only one triangle is read: the gradient is torch's symmetric one, not the finite-difference one)
op("linalg_eigvalsh", lambda f: cr.linalg.eigvalsh(_spd(f, cr)), lambda f: torch.linalg.eigvalsh(_spd(f, torch)),
   [S((3, 3)), S((2, 4, 4)), S((1, 1))])
op("linalg_eigvalsh_sym", lambda f: cr.linalg.eigvalsh(f + f.mT), lambda f: torch.linalg.eigvalsh(f + f.mT),
   [S((3, 3))])
op("linalg_eigvalsh_upper", lambda f: cr.linalg.eigvalsh(f, UPLO="U"), lambda f: torch.linalg.eigvalsh(f, UPLO="U"),
   [S((3, 3), check="grad")])
op("linalg_eigh", lambda f: (lambda r: (r[0], _eigvec_signs(r[1])))(cr.linalg.eigh(_spd(f, cr))),
   lambda f: (lambda r: (r[0], _eigvec_signs(r[1])))(torch.linalg.eigh(_spd(f, torch))),
   [S((3, 3)), S((2, 4, 4)), S((1, 1))])
op("linalg_eigh_upper", lambda f: (lambda r: (r[0], _eigvec_signs(r[1])))(cr.linalg.eigh(f + f.mT, UPLO="U")),
   lambda f: (lambda r: (r[0], _eigvec_signs(r[1])))(torch.linalg.eigh(f + f.mT, UPLO="U")), [S((3, 3))])
op("linalg_eigh_reconstruct", lambda f: (lambda r: r[1] @ cr.diag_embed(r[0]) @ r[1].mT)(cr.linalg.eigh(f + f.mT)),
   lambda f: (lambda r: r[1] @ torch.diag_embed(r[0]) @ r[1].mT)(torch.linalg.eigh(f + f.mT)), [S((3, 3))])
# ------------------------------------------------------------------------------ Tensor API habits (tapi)
# masked_fill, repeat/tile, flip/fliplr/flipud, roll, squeeze with a tuple of dims, softmax(dtype=)
_MASK34 = B(values=[[False, True, False, True], [True, False, False, False], [False, False, False, False]])
op("masked_fill", lambda x, m: cr.masked_fill(x, m, -1.5), lambda x, m: torch.masked_fill(x, m, -1.5),
   [S((3, 4), B(shape=(3, 4))), S((3, 4), B(shape=(4,)), id="mask_broadcast"),
    S((4,), B(shape=(3, 4)), id="input_broadcast"), S((), B(values=True), id="0d"),
    S((0, 3), B(shape=(0, 3)), id="empty", check="grad")], **SHAPE_Z)
op("masked_fill_tensor_value", lambda x, m, v: x.masked_fill(m, v), lambda x, m, v: x.masked_fill(m, v),
   [S((3, 4), _MASK34, ()), S((2, 3, 4), B(shape=(3, 4)), (), id="broadcast_mask")], **SHAPE_Z)
op("masked_fill_softmax", lambda x: cr.softmax(x.masked_fill(cr.tensor([[False, True, False, True], [True, False, False, False], [False, False, False, False]]), float("-inf")), -1),
   lambda x: torch.softmax(x.masked_fill(torch.tensor([[False, True, False, True], [True, False, False, False], [False, False, False, False]]), float("-inf")), -1),
   [S((3, 4))])
op("masked_fill_int", lambda x, m: x.masked_fill(m, 2.7), lambda x, m: x.masked_fill(m, 2.7),
   [S(I([[1, -2, 3], [4, 5, -6]]), B(shape=(2, 3)))], differentiable=False)
op("repeat", lambda x: x.repeat(2, 1), lambda x: x.repeat(2, 1), [S((3, 4)), S((1, 5))], **SHAPE_Z)
op("repeat_more_dims", lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [S((3, 4)), S((4,)), S(())], **SHAPE_Z)
op("repeat_zero", lambda x: x.repeat((0, 2)), lambda x: x.repeat((0, 2)), [S((3, 4))], **SHAPE_Z)
op("repeat_ones", lambda x: x.repeat([1, 1]), lambda x: x.repeat([1, 1]), [S((3, 4))], **SHAPE_Z)
op("tile", lambda x: cr.tile(x, (2,)), lambda x: torch.tile(x, (2,)), [S((3, 4)), S((5,)), S(())], **SHAPE_Z)
op("tile_method", lambda x: x.tile(2, 1, 2), lambda x: x.tile(2, 1, 2), [S((3, 4))], **SHAPE_Z)
op("flip", lambda x: cr.flip(x, (0,)), lambda x: torch.flip(x, (0,)), [S((3, 4)), S((5,)), S((2, 3, 4)), S((0, 2), check="grad")], **SHAPE_Z)
op("flip_two_dims", lambda x: x.flip(0, -1), lambda x: x.flip(0, -1), [S((3, 4)), S((2, 3, 4))], **SHAPE_Z)
op("flip_0d", lambda x: cr.flip(x, [0]), lambda x: torch.flip(x, [0]), [S(())], **SHAPE_Z)
op("flip_none", lambda x: x.flip(()), lambda x: x.flip(()), [S((3, 4))], **SHAPE_Z)
op("flip_of_view", lambda x: cr.flip(x.t()[1:], (1,)), lambda x: torch.flip(x.t()[1:], (1,)), [S((3, 4))], **SHAPE_Z)
op("flip_int", lambda x: x.flip(0), lambda x: x.flip(0), [S(I([[1, 2], [3, 4], [5, 6]]))], differentiable=False)
op("fliplr", cr.fliplr, torch.fliplr, [S((3, 4)), S((2, 3, 4))], **SHAPE_Z)
op("flipud", cr.flipud, torch.flipud, [S((3, 4)), S((5,))], **SHAPE_Z)
op("flipud_method", lambda x: x.flipud(), lambda x: x.flipud(), [S((2, 3))], **SHAPE_Z)
op("roll", lambda x: cr.roll(x, 1), lambda x: torch.roll(x, 1), [S((3, 4)), S((5,)), S(()), S((0, 3), check="grad")], **SHAPE_Z)
op("roll_dim", lambda x: x.roll(-7, 1), lambda x: x.roll(-7, 1), [S((3, 4)), S((2, 3, 4))], **SHAPE_Z)
op("roll_dims", lambda x: cr.roll(x, (1, 2), (0, -1)), lambda x: torch.roll(x, (1, 2), (0, -1)), [S((3, 4))], **SHAPE_Z)
op("roll_large", lambda x: cr.roll(x, shifts=100, dims=0), lambda x: torch.roll(x, shifts=100, dims=0), [S((3, 4))], **SHAPE_Z)
op("roll_same_dim_twice", lambda x: x.roll((1, 1), (1, 1)), lambda x: x.roll((1, 1), (1, 1)), [S((3, 4))], **SHAPE_Z)
op("roll_zero", lambda x: cr.roll(x, 4, 1), lambda x: torch.roll(x, 4, 1), [S((3, 4))], **SHAPE_Z)
op("squeeze_tuple", lambda x: x.squeeze((0, 1)), lambda x: x.squeeze((0, 1)), [S((1, 3, 1)), S((1, 1, 2))], **SHAPE_Z)
op("squeeze_tuple_fn", lambda x: cr.squeeze(x, (0, -1)), lambda x: torch.squeeze(x, (0, -1)), [S((1, 3, 1)), S((1, 1))], **SHAPE_Z)
op("softmax_dtype", lambda x: cr.softmax(x, -1, dtype=cr.float64), lambda x: torch.softmax(x, -1, dtype=torch.float64),
   [S((3, 4)), S((5,))])
op("log_softmax_dtype", lambda x: x.log_softmax(0, dtype=cr.float64), lambda x: x.log_softmax(0, dtype=torch.float64),
   [S((3, 4))])


# ------------------------------------------------------------------------------ case helpers
def cases(predicate=lambda op, sample: True):
    """(op, sample) pairs with pytest ids, filtered (filtering, never skipping, selects cases)."""
    out, ids = [], []
    for o in CATALOG:
        for s in o.samples:
            if predicate(o, s):
                out.append((o, s))
                ids.append(f"{o.name}[{s.id}]")
    assert len(set(ids)) == len(ids), "duplicate case ids in the catalog"
    return out, ids


def seed_of(*parts):
    """A stable per-case seed (the same for every dtype, so both dtypes see the same numbers)."""
    return zlib.crc32("|".join(map(str, parts)).encode())


def draw(rs, shape, domain):
    """Float64 values of ``shape`` from ``domain`` (see the module docstring)."""
    if domain == "any":
        return rs.uniform(-2.0, 2.0, size=shape)
    if domain == "positive":
        return rs.uniform(0.5, 2.0, size=shape)
    if domain in ("away_from_zero", "nonzero"):
        lo = 0.25 if domain == "away_from_zero" else 0.5
        return rs.uniform(lo, 2.0, size=shape) * rs.choice([-1.0, 1.0], size=shape)
    if domain == "int_valued":
        return rs.randint(-2, 3, size=shape).astype(np.float64)
    raise ValueError(f"unknown domain {domain}")


@dataclasses.dataclass
class Inputs:
    ours: list   # chainrule tensors, one per argument
    theirs: list  # torch tensors
    diff: list   # positions of the inputs that require grad


def make_inputs(op_, sample, dtype, rs):
    """The sample's arguments as chainrule and torch tensors holding the same values."""
    cr_dt, th_dt, np_dt = DTYPES[dtype]
    ours, theirs, diff = [], [], []
    for k, spec in enumerate(sample.args):
        if isinstance(spec, (F, V)):
            a = draw(rs, spec.shape, spec.domain or op_.domain) if isinstance(spec, F) \
                else np.asarray(spec.values, dtype=np.float64)
            a = a.astype(np_dt)
            grad = spec.grad and op_.differentiable
            ours.append(cr.tensor(a, dtype=cr_dt, requires_grad=grad))
            theirs.append(torch.tensor(a, dtype=th_dt, requires_grad=grad))
            if grad:
                diff.append(k)
        elif isinstance(spec, I):
            a = np.asarray(spec.values, dtype=np.int64)
            ours.append(cr.tensor(a, dtype=cr.int64))
            theirs.append(torch.tensor(a, dtype=torch.int64))
        elif isinstance(spec, B):
            a = rs.rand(*spec.shape) < 0.5 if spec.values is None else np.asarray(spec.values, dtype=bool)
            a = np.asarray(a, dtype=bool)
            ours.append(cr.tensor(a, dtype=cr.bool))
            theirs.append(torch.tensor(a, dtype=torch.bool))
        else:
            raise TypeError(spec)
    return Inputs(ours, theirs, diff)


def outputs(result):
    """An op's result as a tuple of tensors (split/chunk/max(dim) return several)."""
    if isinstance(result, (tuple, list)):
        return tuple(result)
    return (result,)


def dtype_name(dt):
    return str(dt).split(".")[-1]


def is_float(t):
    return dtype_name(t.dtype) in ("float32", "float64")


def to_numpy(t):
    """A chainrule or torch tensor's values as a NumPy array (a copy)."""
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True).copy()  # force: torch may return a ZeroTensor
    return np.array(t.detach(), copy=True)


def assert_same(ours, theirs, dtype, kind, what=""):
    """Same shape, same dtype, and values equal (exactly for int/bool, within TOLERANCES otherwise)."""
    assert isinstance(ours, cr.Tensor), f"{what}: expected a chainrule Tensor, got {type(ours).__name__}"
    assert tuple(ours.shape) == tuple(theirs.shape), \
        f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), \
        f"{what}: dtype {dtype_name(ours.dtype)} != torch's {dtype_name(theirs.dtype)}"
    a, b = to_numpy(ours), to_numpy(theirs)
    if is_float(theirs):
        rtol, atol = TOLERANCES[dtype][kind]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def cotangents(rs, torch_outs, dtype):
    """A random upstream gradient per floating output, as (ours, torch) pairs (None for int/bool)."""
    cr_dt, th_dt, np_dt = DTYPES[dtype]
    vs = []
    for o in torch_outs:
        if o.dtype.is_floating_point:
            a = rs.uniform(-1.0, 1.0, size=tuple(o.shape)).astype(np_dt)
            vs.append((cr.tensor(a, dtype=cr_dt), torch.tensor(a, dtype=th_dt)))
        else:
            vs.append(None)
    return vs


def weighted_sum(outs, vs, pick):
    """sum over the float outputs of sum(out * v): the scalar whose gradient is the VJP with v."""
    total = None
    for o, v in zip(outs, vs):
        if v is None:
            continue
        term = (o * pick(v)).sum()
        total = term if total is None else total + term
    return total
