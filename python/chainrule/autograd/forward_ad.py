"""``cr.autograd.forward_ad``: forward mode with torch.autograd.forward_ad's API — dual numbers.

A dual number is ``x + t·ε`` with ``ε² = 0``: then ``f(x + t·ε) = f(x) + f'(x)·t·ε``, so carrying the
tangent ``t`` beside the value through every op yields the directional derivative ``J·t`` in one
forward pass, without forming ``J``::

    import chainrule.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0]))   # x + (1, 0)·ε
        y = (x ** 2).sum()
        value, slope = fwAD.unpack_dual(y)                                 # 5, ∂y/∂x₀ = 2

Each op carries its own tangent rule (C++: beside its backward). An op without one raises
NotImplementedError naming it; cr.func.jvp then computes the same J·t in reverse mode.
"""
from __future__ import annotations

from collections import namedtuple

from .. import _core

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "(primal, tangent) of a dual tensor; tangent is None when it carries none."


def enter_dual_level():
    """Starts a dual level and returns its id (one level at a time, as in torch)."""
    return _core._enter_dual_level()


def exit_dual_level(*, level=None):
    """Ends the dual level (the active one by default); its tangents are gone."""
    _core._exit_dual_level(_core._current_dual_level() if level is None else level)


class dual_level:
    """``with dual_level():`` — the scope in which make_dual tensors carry tangents."""

    def __enter__(self):
        self.level = enter_dual_level()
        return self.level

    def __exit__(self, *exc):
        exit_dual_level(level=self.level)
        return False


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` carrying ``tangent`` (same shape and floating dtype) at the active level.
    Gradients (reverse mode) flow through it to ``tensor``."""
    _check_level(level, "make_dual")
    return _core._make_dual(tensor, tangent)


def unpack_dual(tensor, *, level=None):
    """``UnpackedDualTensor(primal, tangent)``: a view of the value without its tangent, and the
    tangent (None for a tensor that carries none, e.g. one that does not depend on a dual)."""
    _check_level(level, "unpack_dual")
    return UnpackedDualTensor(*_core._unpack_dual(tensor))


def _check_level(level, op):
    if level is not None and level != _core._current_dual_level():
        raise RuntimeError(f"{op}: level {level} is not the active dual level ({_core._current_dual_level()})")
