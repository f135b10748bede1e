"""Grad-mode switches: ``with cr.no_grad():``, ``@cr.no_grad()`` and bare ``@cr.no_grad``, and
``cr.inference_mode()``, as in PyTorch."""
import functools

from . import _core


class _GradMode:
    """Context manager and decorator that sets grad mode on entry and restores it on exit."""

    _enabled = True

    def __new__(cls, *args, **kwargs):
        # A bare decorator (@cr.no_grad, without parentheses) passes the function itself.
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Turns graph recording off: ops inside build no graph and results don't require grad.

    Use it for parameter updates (``with cr.no_grad(): w -= lr * w.grad``) and for evaluation.
    """

    _enabled = False


class enable_grad(_GradMode):
    """Turns graph recording back on (inside a ``no_grad`` block)."""

    _enabled = True


class inference_mode(_GradMode):
    """``with cr.inference_mode():`` — for evaluation, like ``no_grad`` (chainrule has no separate
    inference tensors, so the two are the same); ``inference_mode(False)`` changes nothing."""

    def __init__(self, mode=True):
        self._enabled = _core.is_grad_enabled() if not mode else False

    def __call__(self, fn):
        mode = not self._enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` works like ``no_grad()``; as a plain call it sets the mode."""

    def __init__(self, mode):
        self._enabled = bool(mode)
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _core._set_grad_enabled(self._prev)
        mode = self._enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper
