"""``cr.autograd``: gradients without touching ``.grad`` (grad), and gradient checks against
finite differences (gradcheck, gradgradcheck)."""
from . import _core

Tensor = _core.Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when analytic and numeric derivatives disagree."""


def _seq(x):
    return [x] if isinstance(x, Tensor) else list(x)


def _grads(grad_outputs, n):
    if grad_outputs is None:
        return [None] * n
    return _seq(grad_outputs) if not isinstance(grad_outputs, Tensor) else [grad_outputs]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple, without changing any
    ``.grad``. With ``create_graph=True`` the result can be differentiated again::

        x = cr.tensor(2.0, requires_grad=True)
        (dy,) = cr.autograd.grad(x ** 3, x, create_graph=True)   # 12
        (d2y,) = cr.autograd.grad(dy, x)                          # 12
    """
    outs, ins = _seq(outputs), _seq(inputs)
    retain = None if retain_graph is None else bool(retain_graph)  # None: the C++ default
    return _core._autograd_grad(outs, ins, _grads(grad_outputs, len(outs)), retain, create_graph, allow_unused)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulates into ``.grad`` the gradients of ``tensors`` (the sum of their backwards)."""
    outs = _seq(tensors)
    retain = None if retain_graph is None else bool(retain_graph)  # None: the C++ default
    _core._autograd_backward(outs, _grads(grad_tensors, len(outs)), retain, create_graph)


def _check(which, fn, inputs, eps, atol, rtol, raise_exception):
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    ok, message = which(fn, ins, eps, atol, rtol)
    if not ok and raise_exception:
        raise GradcheckError(message)
    return ok


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares the Jacobian from backward with central finite differences (float64 inputs).

    Returns True, or raises GradcheckError naming the input, the element, both values and the
    error (returns False instead with ``raise_exception=False``).
    """
    return _check(_core._gradcheck, fn, inputs, eps, atol, rtol, raise_exception)


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Like gradcheck, for second derivatives (the backward of the backward)."""
    return _check(_core._gradgradcheck, fn, inputs, eps, atol, rtol, raise_exception)
