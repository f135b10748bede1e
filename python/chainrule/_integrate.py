"""``trapezoid`` and ``cumulative_trapezoid``: the trapezoid rule over sampled data along one dimension,
with torch's names and semantics, composed of differentiable tensor ops so gradients of any order flow."""
from __future__ import annotations

import numbers

# Only the compiled core is needed (every op below is a Tensor method), so importing this module from
# the end of chainrule/__init__.py cannot loop back into a half-initialised package.
from ._core import Tensor, bool as _bool


def _check_args(name, y, x, dx):
    """Argument types as torch accepts them; torch's RuntimeError for a bool tensor becomes ValueError."""
    if not isinstance(y, Tensor):
        raise TypeError(f"{name}(): argument 'y' must be Tensor, not {type(y).__name__}")
    if x is not None and dx is not None:
        raise TypeError(f"{name}(): pass either x (sample points) or dx (constant spacing), not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__}")
    # bool is an int subclass, but a bool spacing is surely a mistake (torch rejects it too)
    if dx is not None and (not isinstance(dx, numbers.Real) or isinstance(dx, bool)):
        raise TypeError(f"{name}(): argument 'dx' must be a real number, not {type(dx).__name__}")
    if y.dtype == _bool or (x is not None and x.dtype == _bool):
        raise ValueError(f"{name}: received a bool tensor for `x` or `y`, but bool is not supported")


def _dim(name, y, dim):
    """dim as a non-negative axis of y, or IndexError as torch (checked here: size(d) of a 0-d tensor crashes)."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    nd = y.dim()
    if nd == 0:
        raise IndexError(f"{name}: dim {dim} is out of range: y is 0-d and has no dimension to integrate along")
    if not -nd <= dim < nd:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {nd} dims (expected {-nd} to {nd - 1})")
    return dim % nd


def _aligned(name, x, y, dim):
    """x viewed with y's number of dims: a 1-D x lies along dim, any other x gains leading 1s (as torch)."""
    if x.dim() == 1:
        shape = [1] * y.dim()
        shape[dim] = x.shape[0]
        xv = x.reshape(shape)
    else:
        xv = x.reshape((1,) * (y.dim() - x.dim()) + tuple(x.shape)) if x.dim() <= y.dim() else x
    # Stricter than torch, which silently returns zeros or garbage for some mismatched x (e.g. a
    # size-1 x along dim, or any x when y is empty along dim): one x per sample, other dims broadcast.
    ok = xv.dim() == y.dim() and xv.shape[dim] == y.shape[dim] and all(
        a == b or 1 in (a, b) for a, b in zip(xv.shape, y.shape))
    if not ok:
        raise ValueError(f"{name}: x must have one value per sample of y along dim {dim} and broadcast against y "
                         f"elsewhere, got x of shape {tuple(x.shape)} and y of shape {tuple(y.shape)}")
    return xv


def _ends(t, dim):
    """t without its last and without its first entry along dim (both empty when t is)."""
    n = t.shape[dim]
    m = max(n - 1, 0)  # n - 1 panels; 0 also for n == 0, where narrow(dim, 1, ...) would be out of range
    return t.narrow(dim, 0, m), t.narrow(dim, n - m, m)


def _panels(name, y, x, dx, dim):
    """The n - 1 trapezoid areas (x[i+1] - x[i])·(y[i] + y[i+1])/2 along dim, and dim made non-negative."""
    _check_args(name, y, x, dx)
    dim = _dim(name, y, dim)
    if x is None:
        h = 1 if dx is None else dx
    else:
        left, right = _ends(_aligned(name, x, y, dim), dim)
        h = right - left
    left, right = _ends(y, dim)
    # the division promotes integer y (and x) to the default float dtype, as torch's does
    return h * (left + right) / 2, dim


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """∫ y along dim by the trapezoid rule: Σᵢ (x[i+1] − x[i])·(y[i] + y[i+1])/2.

    x: sample points (1-D of length y.size(dim), or broadcastable against y with the same size
    along dim); otherwise the constant spacing dx (default 1). Fewer than two samples give zeros.
    """
    panels, dim = _panels("trapezoid", y, x, dx, dim)
    if y.shape[dim] == 0:  # no samples: zeros of y's shape and dtype without dim, as torch (whatever x is)
        return y.sum(dim) * 0
    return panels.sum(dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid integral along dim: out[k] = Σ_{i≤k} (x[i+1] − x[i])·(y[i] + y[i+1])/2.

    Same arguments as ``trapezoid``; n samples along dim give n − 1 values (0 for n ≤ 1).
    """
    panels, dim = _panels("cumulative_trapezoid", y, x, dx, dim)
    return panels.cumsum(dim)
