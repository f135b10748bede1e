"""``cr.calculus``: the calculus course's tools on top of ``cr.func`` — derivatives over a grid,
tangent lines and planes, directional derivatives, Taylor polynomials, Newton's method and gradient
descent with traces, numerical integration, and finite differences against autodiff.

Every object prints as mathematics (``y = 8.0 + 12.0·(x − 2.0)``) and keeps its numbers as data.
Inputs may be Python numbers, lists, NumPy arrays or tensors; computations run in float64.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _core, func
from ._integrate import trapezoid

Tensor = _core.Tensor

__all__ = ["derivative", "tangent_line", "tangent_plane", "directional_derivative", "gradient_field", "taylor",
           "newton", "gradient_descent", "integrate", "integral_derivative", "finite_difference", "step_sweep",
           "Trace", "TangentLine", "TangentPlane", "Taylor", "StepSweep"]


def _t(x):
    """x as a float64 tensor (a tensor keeps its graph; only its dtype may change)."""
    import chainrule as cr
    if isinstance(x, Tensor):
        return x if x.dtype == cr.float64 else x.double()
    return cr.tensor(np.asarray(x, dtype=np.float64))


def _num(v):
    v = float(v)
    return f"{v:.1f}" if v.is_integer() and abs(v) < 1e15 else f"{v:.6g}"


def _signed(v, first=False):
    """' + 3.0' / ' − 3.0' (or '3.0' / '−3.0' first in a sum)."""
    v = float(v)
    if first:
        return ("−" if v < 0 else "") + _num(abs(v))
    return (" − " if v < 0 else " + ") + _num(abs(v))


def _shift(name, x0):
    x0 = float(x0)
    return name if x0 == 0 else f"({name}{_signed(-x0)})"


# ------------------------------------------------------------------ derivatives
def derivative(f, order=1):
    """f⁽ⁿ⁾ as a function, elementwise over a grid in one pass: for an elementwise f,
    d/dx Σᵢ f(xᵢ) = f'(xᵢ) at every xᵢ at once. ``derivative(cr.sin)(xs)`` is cos(xs)."""
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"derivative: expected a non-negative integer order, got {order!r}")
    g = f
    for _ in range(order):
        g = func.grad(lambda x, g=g: g(x).sum())
    return lambda x: g(_t(x))


@dataclass
class TangentLine:
    """y = f(x0) + f'(x0)·(x − x0): the best linear approximation of f at x0."""
    x0: float
    value: float
    slope: float

    def __call__(self, x):
        return self.value + self.slope * (_t(x) - self.x0)

    def __repr__(self):
        return f"y = {_signed(self.value, True)}{_signed(self.slope)}·{_shift('x', self.x0)}"


def tangent_line(f, x0):
    """The tangent line of a scalar function f at x0 (``.slope``, ``.value``, callable)."""
    g, v = func.grad_and_value(f)(_t(float(x0)))
    return TangentLine(float(x0), v.item(), g.item())


@dataclass
class TangentPlane:
    """z = f(p0) + ∇f(p0)·(p − p0): the tangent (hyper)plane of f at p0."""
    p0: tuple
    value: float
    gradient: tuple

    def __call__(self, p):
        p = _t(p)
        return self.value + ((p - _t(self.p0)) * _t(self.gradient)).sum(-1)

    def __repr__(self):
        names = ["x", "y"] if len(self.p0) == 2 else [f"x{i + 1}" for i in range(len(self.p0))]
        terms = "".join(f"{_signed(g)}·{_shift(n, a)}" for g, a, n in zip(self.gradient, self.p0, names))
        return f"z = {_signed(self.value, True)}{terms}"


def tangent_plane(f, p0):
    """The tangent plane of f: Rⁿ → R at p0 (``.gradient``, ``.value``, callable on points (..., n))."""
    p = _t(p0)
    if p.dim() != 1:
        raise ValueError(f"tangent_plane: expected a point of shape (n,), got {tuple(p.shape)}")
    g, v = func.grad_and_value(f)(p)
    return TangentPlane(tuple(p.tolist()), v.item(), tuple(g.tolist()))


def directional_derivative(f, x, v, normalize=True):
    """D_v f(x) = ∇f(x)·v, in one forward-mode pass (dual numbers) without forming ∇f. v is
    made a unit vector first (normalize=False keeps its length); a UserWarning says when it was not."""
    x, v = _t(x), _t(v)
    if normalize:
        n = float(v.norm())
        if n == 0:
            raise ValueError("directional_derivative: the direction v is the zero vector")
        if abs(n - 1) > 1e-12:
            warnings.warn(f"directional_derivative: v has length {n:.6g}; using the unit vector v/|v|", stacklevel=3)
            v = v / n
    return func.jvp(f, (x,), (v,))[1]


def gradient_field(f, X, Y):
    """(U, V) = ∇f at every point of a 2-D grid (X, Y from cr.meshgrid / np.meshgrid), for
    ``plt.quiver(X, Y, U, V)`` over ``plt.contour(X, Y, f)``."""
    import chainrule as cr
    X, Y = _t(X), _t(Y)
    if tuple(X.shape) != tuple(Y.shape):
        raise ValueError(f"gradient_field: expected X and Y of one shape, got {tuple(X.shape)} and {tuple(Y.shape)}")
    g = func.grad(f)
    pts = cr.stack([X.reshape(-1), Y.reshape(-1)], 1)
    G = cr.stack([g(p) for p in pts]) if pts.shape[0] else cr.zeros(0, 2, dtype=cr.float64)
    return G[:, 0].reshape(tuple(X.shape)), G[:, 1].reshape(tuple(X.shape))


# ------------------------------------------------------------------ Taylor
@dataclass
class Taylor:
    """A Taylor polynomial at x0: in 1-D p(x) = Σₖ cₖ (x − x0)ᵏ with cₖ = f⁽ᵏ⁾(x0)/k!; in n-D
    (order ≤ 2) p(x) = f(x0) + ∇f·d + ½ dᵀ H d with d = x − x0. ``coefficients`` are the cₖ
    (n-D: (f, ∇f, H/2) up to the order)."""
    f: object = field(repr=False)
    x0: object
    order: int
    coefficients: list

    def __call__(self, x):
        d = _t(x) - _t(self.x0)
        if _t(self.x0).dim() == 0:
            return sum(c * d ** k for k, c in enumerate(self.coefficients))
        out = self.coefficients[0] + (d * self.coefficients[1]).sum(-1) if self.order >= 1 else \
            self.coefficients[0] + 0 * d.sum(-1)
        if self.order >= 2:
            out = out + ((d @ self.coefficients[2]) * d).sum(-1)
        return out

    def error(self, x):
        """|f(x) − p(x)|: the actual error of the approximation at x."""
        x = _t(x)
        return (self.f(x) - self(x)).abs()

    def __repr__(self):
        if _t(self.x0).dim() != 0:  # p(x) = f + ∇f·d + ½ dᵀHd, d = x − x0, with the numbers
            num = lambda v: f"{v:.6g}"
            vec = lambda v: "(" + ", ".join(num(a) for a in v) + ")"
            text = "p(x) = " + num(float(self.coefficients[0]))
            if self.order >= 1:
                text += " + " + vec(self.coefficients[1].tolist()) + "·d"
            if self.order >= 2:
                rows = (2 * self.coefficients[2]).tolist()  # the coefficient is H/2
                text += " + ½ dᵀ[" + ", ".join("[" + ", ".join(num(a) for a in r) + "]" for r in rows) + "]d"
            return text + (",  d = x − " + vec(_t(self.x0).tolist()) if self.order >= 1 else "")
        x0, text = float(self.x0), ""
        for k, c in enumerate(self.coefficients):
            c = float(c)
            if c == 0 and (k > 0 or len(self.coefficients) > 1):
                continue
            power = "" if k == 0 else _shift("x", x0) + ("" if k == 1 else str(k).translate(_SUPERSCRIPT))
            text += (_signed(c, not text) + ("·" + power if power else ""))
        return "p(x) = " + (text or "0.0")


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def taylor(f, x0, order):
    """The Taylor polynomial of f at x0: any order for f: R → R, order ≤ 2 for f: Rⁿ → R."""
    x = _t(x0)
    if x.dim() == 0:
        coeffs, g = [], f
        for k in range(order + 1):
            coeffs.append(float(g(x)) / math.factorial(k))
            g = func.grad(g)
        return Taylor(f, float(x0), order, coeffs)
    if order > 2:
        raise ValueError(f"taylor: in {x.shape[0]} variables only order <= 2 (value, gradient, Hessian), got {order}")
    coeffs = [f(x).detach()]
    if order >= 1:
        coeffs.append(func.grad(f)(x))
    if order >= 2:
        coeffs.append(func.hessian(f)(x) / 2)
    return Taylor(f, x.detach(), order, coeffs)


# ------------------------------------------------------------------ optimization
@dataclass
class Trace:
    """What an optimizer did, one row per iterate: x, f(x), ‖∇f(x)‖ and the step taken from it.
    ``trace.x`` is the final iterate; ``trace.notes`` what went wrong (a diverging run, a Hessian
    that is not positive definite); prints as a table, ``plot()`` draws f and ‖∇f‖ per step."""
    method: str
    xs: list = field(default_factory=list)
    fs: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def x(self):
        return self.xs[-1]

    def __len__(self):
        return len(self.xs)

    def __repr__(self):
        head = f"{self.method}: {len(self.xs) - 1} steps, f = {self.fs[-1]:.6g} at x = {_fmt(self.x)}"
        rows = [f"{'k':>4}  {'x':>24}  {'f(x)':>13}  {'|grad f|':>10}  {'|step|':>10}"]
        for k, (x, fv, g) in enumerate(zip(self.xs, self.fs, self.grad_norms)):
            s = f"{self.steps[k]:>10.3g}" if k < len(self.steps) else ""
            rows.append(f"{k:>4}  {_fmt(x):>24}  {fv:>13.6g}  {g:>10.3g}  {s}".rstrip())
        return "\n".join([head] + rows + self.notes)

    def plot(self, ax=None):
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        # exact zeros (a minimum hit exactly) are left out: log 0 would stretch the axis over 300 decades
        positive = lambda v: np.where(np.asarray(v, dtype=np.float64) > 0, np.abs(v), np.nan)  # noqa: E731
        ax.semilogy(range(len(self.fs)), positive(np.abs(self.fs)), "o-", label="|f(x)|")
        ax.semilogy(range(len(self.grad_norms)), positive(self.grad_norms), "s--", label="‖∇f(x)‖")
        ax.set_xlabel("step")
        ax.set_title(self.method)
        ax.legend()
        return ax


def _fmt(x):
    a = np.asarray(x, dtype=np.float64)
    return f"{float(a):.6g}" if a.ndim == 0 else "(" + ", ".join(f"{v:.4g}" for v in a.ravel()) + ")"


def _value_grad(f, x):
    g, v = func.grad_and_value(f)(x)
    return v.item(), g


def _record(trace, x, fv, g):
    trace.xs.append(x.numpy().copy() if x.dim() else x.item())
    trace.fs.append(fv)
    trace.grad_norms.append(float(g.norm()))


def newton(f, x0, steps=20, damping=1.0, tol=1e-12):
    """Newton's method for a minimum (or any stationary point) of f: x ← x − damping·H⁻¹∇f,
    stopping when ‖∇f‖ < tol. Warns when the Hessian is not positive definite at an iterate (the
    step then heads to a saddle or a maximum)."""
    import chainrule as cr
    x, trace = _t(x0).detach(), Trace("Newton" + (f" (damping {damping:g})" if damping != 1 else ""))
    for k in range(steps + 1):
        fv, g = _value_grad(f, x)
        _record(trace, x, fv, g)
        if k == steps or float(g.norm()) < tol or not math.isfinite(fv):
            break
        H = func.hessian(f)(x)
        Hm = H.reshape(1, 1) if x.dim() == 0 else H
        if float(cr.linalg.eigvalsh(Hm).min()) <= 0:
            note = f"step {k}: the Hessian is not positive definite at x = {_fmt(x)}: Newton heads to a saddle or a maximum"
            if not trace.notes:  # one warning per run (trace.notes lists every such step)
                warnings.warn("newton: " + note, stacklevel=3)
            trace.notes.append(note)
        step = damping * (g / H if x.dim() == 0 else cr.linalg.solve(H, g))
        trace.steps.append(float(step.norm()))
        x = (x - step).detach()
    return trace


def gradient_descent(f, x0, lr=0.1, steps=100, momentum=0.0, tol=0.0):
    """Gradient descent x ← x − lr·v with v ← momentum·v + ∇f (torch.optim.SGD's momentum). Stops
    early when ‖∇f‖ < tol, or when f becomes inf/nan (noted: the learning rate is too large); a run
    whose f ends above where it started is noted as diverging."""
    x, v = _t(x0).detach(), None
    trace = Trace(f"gradient descent (lr {lr:g}" + (f", momentum {momentum:g})" if momentum else ")"))
    for k in range(steps + 1):
        fv, g = _value_grad(f, x)
        _record(trace, x, fv, g)
        if not (math.isfinite(fv) and math.isfinite(trace.grad_norms[-1])):
            trace.notes.append(f"diverged at step {k}: f = {fv}; the learning rate {lr:g} is too large")
            break
        if k == steps or trace.grad_norms[-1] < tol:
            break
        v = g if v is None or not momentum else momentum * v + g
        trace.steps.append(float((lr * v).norm()))
        x = (x - lr * v).detach()
    if not trace.notes and len(trace.fs) > 1 and trace.fs[-1] > trace.fs[0]:  # finite, but going up
        trace.notes.append(f"diverging: f rose from {trace.fs[0]:.6g} to {trace.fs[-1]:.6g} in {len(trace.fs) - 1} "
                           f"steps; the learning rate {lr:g} is too large")
    return trace


# ------------------------------------------------------------------ integrals
# error of each rule on a smooth f with n intervals of width h = (b − a)/n
_RULES = {"left": "O(h)", "right": "O(h)", "midpoint": "O(h²)", "trapezoid": "O(h²)", "simpson": "O(h⁴)"}


def integrate(f, a, b, method="simpson", n=100):
    """∫ₐᵇ f(x) dx by a rule on n intervals; f is called once on the whole grid. Errors on a smooth
    f: left and right O(h), midpoint and trapezoid O(h²), Simpson O(h⁴) (n even). a and b may be
    tensors that require grad: the result is differentiable in them (see integral_derivative)."""
    import chainrule as cr
    if method not in _RULES:
        raise ValueError(f"integrate: expected method in {sorted(_RULES)}, got {method!r}")
    if not isinstance(n, int) or n < 1 or (method == "simpson" and n % 2):
        raise ValueError(f"integrate: expected a positive{' even' if method == 'simpson' else ''} number of "
                         f"intervals n, got {n!r}")
    a, b = _t(a), _t(b)
    if a.dim() or b.dim():
        raise ValueError(f"integrate: expected numbers (0-d) as limits a and b, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    s = cr.linspace(0.0, 1.0, n + 1, dtype=cr.float64)
    h = (b - a) / n
    if method == "midpoint":
        return h * _on_grid(f, a + (b - a) * (s[:-1] + 0.5 / n)).sum()
    y = _on_grid(f, a + (b - a) * s)
    if method == "left":
        return h * y[:-1].sum()
    if method == "right":
        return h * y[1:].sum()
    if method == "trapezoid":
        return h * trapezoid(y)  # (unit spacing, then h: h may carry a graph, dx must be a number)
    return h / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum())


def _on_grid(f, grid):
    """f's values on the grid, as a tensor of its shape: a constant f may return a number."""
    y = f(grid)
    if not isinstance(y, _core.Tensor):
        try:
            y = float(y)
        except (TypeError, ValueError):
            raise TypeError(f"integrate: f must return a tensor of its values on the grid (or a number), got "
                            f"{type(y).__name__}") from None
        return grid * 0 + y
    if y.dim() == 0:
        return grid * 0 + y
    if tuple(y.shape) != tuple(grid.shape):
        raise ValueError(f"integrate: f must return one value per grid point: called on shape "
                         f"{tuple(grid.shape)}, it returned shape {tuple(y.shape)}")
    return y


def integral_derivative(f, a, x, method="simpson", n=100):
    """The fundamental theorem of calculus, checked with autograd: returns (d/dx ∫ₐˣ f, f(x)), the
    derivative of the (numerical) integral with respect to its upper limit x (a number), and f there."""
    x = _t(x).detach()
    if x.dim():
        raise ValueError(f"integral_derivative: expected a number as the upper limit x, got shape {tuple(x.shape)} "
                         "(loop over the points)")
    d = func.grad(lambda u: integrate(f, a, u, method, n))(x)
    return d, f(x)


# ------------------------------------------------------------------ finite differences
def finite_difference(f, x, h=1e-6, scheme="central"):
    """f'(x) ≈ (f(x + h) − f(x − h)) / 2h (central, error O(h²)) or (f(x + h) − f(x)) / h
    (forward, O(h)); elementwise for an elementwise f."""
    x = _t(x)
    if scheme == "central":
        return (f(x + h) - f(x - h)) / (2 * h)
    if scheme == "forward":
        return (f(x + h) - f(x)) / h
    raise ValueError(f"finite_difference: expected scheme 'central' or 'forward', got {scheme!r}")


@dataclass
class StepSweep:
    """Finite differences over many step sizes h against autodiff's exact f'(x): the error first
    falls with h (truncation, h or h²) and then rises (round-off, ε/h): the U-curve."""
    x: float
    scheme: str
    hs: np.ndarray
    errors: np.ndarray
    exact: float

    @property
    def best_h(self):
        return float(self.hs[int(np.argmin(self.errors))])

    def __repr__(self):
        return (f"StepSweep({self.scheme} differences at x = {self.x:g}: best h = {self.best_h:.1e}, error "
                f"{float(np.min(self.errors)):.1e}; f'(x) = {self.exact:.12g} by autodiff)")

    def plot(self, ax=None):
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        (line,) = ax.loglog(self.hs, np.maximum(self.errors, 1e-18), "o-", label=f"{self.scheme} difference")
        ax.set_xlabel("step h")
        ax.set_ylabel("|error| vs autodiff")
        # in the curve's colour and named by its scheme: two sweeps on one axes stay apart
        ax.axvline(self.best_h, color=line.get_color(), ls=":", label=f"best h ({self.scheme}) = {self.best_h:.1e}")
        ax.set_title(f"truncation vs round-off: f'({self.x:g}) by finite differences")
        ax.legend()
        return ax


def step_sweep(f, x, hs=None, scheme="central"):
    """The error of finite differences of a scalar f at x for h = 10⁰ … 10⁻¹⁶ against autodiff."""
    hs = np.logspace(0, -16, 33) if hs is None else np.asarray(hs, dtype=np.float64)
    exact = func.grad(f)(_t(float(x))).item()
    errs = np.array([abs(finite_difference(f, float(x), float(h), scheme).item() - exact) for h in hs])
    return StepSweep(float(x), scheme, hs, errs, exact)
