"""``cr.func``: function transforms with torch.func's names and signatures (grad, grad_and_value,
vjp, jvp, linearize, jacrev, jacfwd, hessian, and hvp), computed by chainrule::func in C++.

Derivatives of functions, not of tensors::

    f = lambda x: x ** 3
    cr.func.grad(f)(cr.tensor(2.0))               # 12 = 3x²
    cr.func.grad(cr.func.grad(f))(cr.tensor(2.0)) # 12 = 6x
    df = cr.func.grad(lambda x: f(x).sum())       # f' elementwise over a grid, in one pass
    df(cr.linspace(-2, 2, 101, dtype=cr.float64))

Arguments may be tensors or tuples, lists and dicts of tensors; ``argnums`` picks the ones to
differentiate. Transforms compose: ``hessian(f)`` is ``jacfwd(jacrev(f))``.
"""
from __future__ import annotations

import functools

from . import _core

Tensor = _core.Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "hvp"]


# ------------------------------------------------------------------ nested arguments (pytrees)
def _flatten(tree, what):
    """(tensors, spec): the tensors of a tensor or of tuples/lists/dicts of them, in order."""
    if isinstance(tree, Tensor):
        return [tree], None
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for t in tree:
            sub, spec = _flatten(t, what)
            leaves += sub
            specs.append((len(sub), spec))
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for k in tree:
            sub, spec = _flatten(tree[k], what)
            leaves += sub
            specs.append((len(sub), spec))
        return leaves, (dict, list(tree), specs)
    hint = f": write cr.tensor({tree!r})" if isinstance(tree, (int, float)) and not isinstance(tree, bool) else ""
    raise TypeError(f"{what} to be tensors (or tuples, lists or dicts of tensors), got "
                    f"{type(tree).__name__}{hint}")


def _unflatten(spec, leaves):
    if spec is None:
        return leaves[0]
    kind, keys, specs = spec
    parts, i = [], 0
    for n, s in specs:
        parts.append(_unflatten(s, leaves[i:i + n]))
        i += n
    return dict(zip(keys, parts)) if kind is dict else kind(parts)


class _Call:
    """func(*args) as a function of the flat tensors of args[argnums], the form chainrule::func
    differentiates; it keeps the output's structure and the aux of has_aux."""

    def __init__(self, func, args, kwargs, argnums, has_aux, caller):
        self.func, self.args, self.kwargs, self.has_aux, self.caller = func, args, kwargs, has_aux, caller
        self.single = isinstance(argnums, int)
        self.nums = (argnums,) if self.single else tuple(argnums)
        for i in self.nums:
            if not isinstance(i, int) or not -len(args) <= i < len(args):
                raise ValueError(f"{caller}: argnums {i!r} is out of range for a function called with "
                                 f"{len(args)} positional argument{'s' if len(args) != 1 else ''}")
        if len(set(i % len(args) for i in self.nums)) != len(self.nums):
            raise ValueError(f"{caller}: argnums {argnums!r} repeats an argument")
        self.primals, self.spec = _flatten(tuple(args[i] for i in self.nums), f"{caller}: expected the inputs")
        self.tracked = any(p.requires_grad for p in self.primals)
        self.out_spec, self.aux = None, None

    def __call__(self, xs):
        new = _unflatten(self.spec, xs)
        args = list(self.args)
        for i, v in zip(self.nums, new):
            args[i] = v
        out = self.func(*args, **self.kwargs)
        if self.has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise ValueError(f"{self.caller}(f, has_aux=True): expected f to return a pair (output, aux), "
                                 f"got {type(out).__name__}")
            out, self.aux = out
            _flatten(self.aux, f"{self.caller}(f, has_aux=True): expected aux")  # tensors only, as torch
        leaves, self.out_spec = _flatten(out, f"{self.caller}: expected f's outputs")
        return leaves

    def tangents(self, tangents, what="tangents"):
        """The flat tangents, which must have the primals' structure."""
        flat, spec = _flatten(tangents, f"{self.caller}: expected the {what}")
        if spec != self.spec:
            raise ValueError(f"{self.caller}: expected {what} with the structure of the primals "
                             f"({_describe(self.spec)}), got {_describe(spec)}")
        return flat

    def per_argnum(self, flat):
        """Flat per-primal results in the shape of args[argnums] (one tree, or a tuple of them)."""
        trees = _unflatten(self.spec, list(flat))
        return trees[0] if self.single else tuple(trees)

    def outputs(self, flat):
        return _unflatten(self.out_spec, list(flat))

    def with_aux(self, *result):
        if not self.has_aux:
            return result if len(result) > 1 else result[0]
        # the aux is data for the user, unless an outer transform differentiates through it
        return (*result, self.aux if self.tracked else _detached(self.aux))


def _detached(tree):
    leaves, spec = _flatten(tree, "")
    return _unflatten(spec, [t.detach() for t in leaves])


# ------------------------------------------------------------------ the transforms
def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (∇func, func) at its arguments (torch.func.grad_and_value). func must
    return a 0-d floating tensor (with has_aux: a pair (that, aux); then ``(grad, (value, aux))``)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        c = _Call(func, args, kwargs, argnums, has_aux, "grad_and_value")
        g, value = _core._func_grad_and_value(c, c.primals, "grad_and_value")
        if has_aux:
            return c.per_argnum(g), c.with_aux(value)
        return c.per_argnum(g), value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of func as a function (torch.func.grad): ``grad(f)(x)`` is ∇f(x), of x's shape.
    func must return a 0-d floating tensor: for a vector-valued f differentiate ``f(x).sum()`` (the
    derivative over a grid), or use jacrev / vjp. With ``argnums=(0, 1)``, a tuple of gradients;
    with has_aux, ``(grad, aux)``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        c = _Call(func, args, kwargs, argnums, has_aux, "grad")
        g, _ = _core._func_grad_and_value(c, c.primals, "grad")
        return c.with_aux(c.per_argnum(g))
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)`` (torch.func.vjp); ``vjp_fn(v)`` is vᵀJ, a tuple with one entry
    per primal, for a cotangent v shaped like the output. With has_aux, ``(output, vjp_fn, aux)``."""
    c = _Call(func, primals, {}, tuple(range(len(primals))), has_aux, "vjp")
    outs, pullback = _core._func_vjp(c, c.primals, "vjp")

    def vjp_fn(*cotangents):
        v = cotangents[0] if len(cotangents) == 1 else cotangents
        flat, spec = _flatten(v, "vjp: expected the cotangents")
        if spec != c.out_spec:
            raise ValueError("vjp: expected cotangents with the structure of the output "
                             f"({_describe(c.out_spec)}), got {_describe(spec)}")
        return tuple(c.per_argnum(pullback(flat)))
    return c.with_aux(c.outputs(outs), vjp_fn)


def jvp(func, primals, tangents, has_aux=False):
    """``(func(*primals), J·tangents)`` (torch.func.jvp): the directional derivative along the
    tangents, without forming J, in one forward-mode pass (dual numbers: cr.autograd.forward_ad).
    primals and tangents are tuples of the same structure."""
    primals, tangents = _tuple(primals, "primals"), _tuple(tangents, "tangents")
    c = _Call(func, primals, {}, tuple(range(len(primals))), has_aux, "jvp")
    outs, jt = _core._func_jvp(c, c.primals, c.tangents(tangents), "jvp")
    return c.with_aux(c.outputs(outs), c.outputs(jt))


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)`` (torch.func.linearize): ``jvp_fn(*tangents)`` is J·tangents at
    the fixed primals (the tangent-plane map), reusable for many tangents."""
    c = _Call(func, primals, {}, tuple(range(len(primals))), False, "linearize")
    outs, push = _core._func_linearize(c, c.primals)

    def jvp_fn(*tangents):
        return c.outputs(push(c.tangents(tangents)))
    return c.outputs(outs), jvp_fn


def _jacobian(kind, func, argnums, has_aux):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        c = _Call(func, args, kwargs, argnums, has_aux, kind)
        rows = getattr(_core, "_func_" + kind)(c, c.primals, kind)  # [output][primal]
        return c.with_aux(c.outputs([c.per_argnum(r) for r in rows]))
    return wrapper


def jacrev(func, argnums=0, has_aux=False):
    """The Jacobian of func as a function, by reverse mode (torch.func.jacrev): ``jacrev(f)(x)`` has
    shape ``f(x).shape + x.shape``; one backward pass per output element."""
    return _jacobian("jacrev", func, argnums, has_aux)


def jacfwd(func, argnums=0, has_aux=False):
    """The Jacobian of func as a function, column by column (torch.func.jacfwd): the same result as
    jacrev, one forward-mode pass per input element (cheaper when outputs outnumber inputs)."""
    return _jacobian("jacfwd", func, argnums, has_aux)


def hessian(func, argnums=0):
    """The Hessian of a scalar func as a function (torch.func.hessian = jacfwd(jacrev(func))):
    ``hessian(f)(x)`` has shape ``x.shape + x.shape``."""
    return jacfwd(jacrev(func, argnums), argnums)


def hvp(func, primals, tangents):
    """H·v of a scalar func at primals along tangents, without forming H (H v = ∇(∇f · v)).
    primals and tangents are tensors or tuples of the same structure; the result has that structure.
    (torch.func has no hvp; torch.autograd.functional.hvp returns (func(x), H v).)"""
    single = isinstance(primals, Tensor)
    primals, tangents = _tuple(primals, "primals"), _tuple(tangents, "tangents")
    c = _Call(func, primals, {}, tuple(range(len(primals))), False, "hvp")
    h = c.per_argnum(_core._func_hvp(c, c.primals, c.tangents(tangents)))
    return h[0] if single else h


def _tuple(x, what):
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (tuple, list)):
        return tuple(x)
    raise TypeError(f"expected {what} to be a tensor or a tuple of tensors, got {type(x).__name__}")


def _describe(spec):
    if spec is None:
        return "a tensor"
    kind, keys, specs = spec
    inner = ", ".join(_describe(s) for _, s in specs)
    return f"{kind.__name__} of ({inner})"
