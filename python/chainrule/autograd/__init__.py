"""``cr.autograd``: gradients without touching ``.grad`` (grad), gradient checks against finite
differences (gradcheck, gradgradcheck), your own derivatives (Function), and forward mode
(``cr.autograd.forward_ad``), and ways to see what backward does: anomaly mode (detect_anomaly)."""
from .. import _core
from . import forward_ad  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401
from .explain import explain_backward, why_no_grad  # noqa: F401

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


def set_warn_forgotten_zero_grad(enabled):
    """Turns off (or on again) the warning backward gives when it adds into a ``.grad`` that an
    optimizer step already used without a ``zero_grad()`` in between (on by default, shown once)."""
    _core._set_warn_forgotten_zero_grad(bool(enabled))


def is_warn_forgotten_zero_grad_enabled():
    """Whether backward warns about a forgotten ``zero_grad()``."""
    return _core._is_warn_forgotten_zero_grad_enabled()


def _check(which, fn, inputs, eps, atol, rtol, raise_exception):
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    ok, message = which(fn, ins, eps, atol, rtol)
    if not ok and raise_exception:
        report = gradcheck_report if which is _core._gradcheck else gradgradcheck_report
        try:  # the table of every derivative, worst first (when fn returns one tensor)
            message += "\n" + repr(report(fn, ins, eps))
        except Exception:  # noqa: BLE001 (the check's own message stands)
            pass
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


# ------------------------------------------------------------------ your own derivative
class FunctionCtx:
    """What forward leaves for backward (torch.autograd.function.FunctionCtx): tensors saved with
    ``save_for_backward``, read back as ``saved_tensors``; ``needs_input_grad`` says, per argument
    of forward, whether a gradient is wanted. Other attributes (ctx.k = 3) carry plain values."""

    def __init__(self):
        self._saved, self._output_at, self._output, self.needs_input_grad = (), (), None, ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward: expected tensors or None, got {type(t).__name__}; keep "
                                f"other values as attributes (ctx.name = value)")
        self._saved = tensors

    @property
    def saved_tensors(self):
        return tuple(self._output if i in self._output_at else t for i, t in enumerate(self._saved))


class Function:
    """A differentiable operation with your own derivative, with torch's API::

        class Sigmoid(cr.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = 1 / (1 + cr.exp(-x))
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad_output):       # dL/dx = dL/dy * y (1 - y)
                (y,) = ctx.saved_tensors
                return grad_output * y * (1 - y)

        y = Sigmoid.apply(x)

    forward runs without recording (its ops are not differentiated); backward returns one gradient
    (or None) per argument of forward. Written with cr ops, backward is itself differentiable:
    gradgradcheck and Hessians work through it. Check it with ``cr.autograd.gradcheck``. As in
    torch, forward may instead take only the inputs and a ``setup_context(ctx, inputs, output)``
    fill ctx."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function.forward: write a forward(ctx, *inputs) staticmethod")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function.backward: write a backward(ctx, grad_output) staticmethod")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @staticmethod
    def jvp(ctx, *tangents):
        """Forward mode: the output's tangent J·t from one tangent per argument of forward (zeros
        for a tensor without one, None for a non-tensor)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        from .._grad_mode import no_grad
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        separate = cls.setup_context is not Function.setup_context
        duals = [forward_ad.unpack_dual(a) if isinstance(a, Tensor) else None for a in args]
        dual = any(d is not None and d.tangent is not None for d in duals)
        # forward sees plain values: its ops are not differentiated, in either mode
        plain = tuple(d.primal if d is not None else a for a, d in zip(args, duals))
        if dual and cls.jvp is Function.jvp:
            raise NotImplementedError(f"{cls.__name__}: forward mode (make_dual, cr.func.jvp, jacfwd) needs a "
                                      f"jvp(ctx, *tangents) staticmethod returning the output's tangent")
        if dual and _core.is_grad_enabled() and any(ctx.needs_input_grad):
            # backward would run on saved tensors without their tangents: forward over reverse
            raise NotImplementedError(f"{cls.__name__}: forward mode through its backward (forward over "
                                      f"reverse, e.g. hessian) is not supported; cr.func takes the reverse route")
        with no_grad():
            out = cls.forward(*plain) if separate else cls.forward(ctx, *plain)
            if separate:
                cls.setup_context(ctx, plain, out)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward: expected it to return one tensor, got {type(out).__name__}")
        t = _tangent(cls, ctx, duals, out) if dual else None  # before _attach hands the output to the node
        out = _attach(cls, ctx, plain, out)
        return out if t is None else forward_ad.make_dual(out, t)


def _tangent(cls, ctx, duals, out):
    """The output's tangent from cls.jvp: one tangent per argument of forward (zeros for a tensor
    without one, None for a non-tensor)."""
    from .. import no_grad, zeros_like
    tangents = [None if d is None else d.tangent if d.tangent is not None else zeros_like(d.primal) for d in duals]
    with no_grad():
        t = cls.jvp(ctx, *tangents)
    if not isinstance(t, Tensor) or tuple(t.shape) != tuple(out.shape):
        got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
        raise RuntimeError(f"{cls.__name__}.jvp: expected a tangent of shape {tuple(out.shape)} (the output's), "
                           f"got {got}")
    return t.to(out.dtype)


def _attach(cls, ctx, args, out):
    """The node of cls on out: backward's results are checked (count, shapes) and mapped to the
    tensor arguments."""
    where = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if not any(ctx.needs_input_grad) or not _core.is_grad_enabled():
        return out
    ctx._output_at = tuple(i for i, t in enumerate(ctx._saved) if t is out)
    ctx._saved = tuple(None if t is out else t for t in ctx._saved)  # the node keeps the output

    def backward(grad_output, saved_output):
        ctx._output = saved_output
        grads = cls.backward(ctx, grad_output)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(args):
            raise RuntimeError(f"{cls.__name__}.backward: expected {len(args)} gradients (one per argument of "
                               f"forward, None for those without), got {len(grads)}")
        for i in where:
            g = grads[i]
            if g is not None and tuple(g.shape) != tuple(args[i].shape):
                raise RuntimeError(f"{cls.__name__}.backward: the gradient for argument {i} has shape "
                                   f"{tuple(g.shape)}, expected {tuple(args[i].shape)} (the argument's)")
        return [grads[i] for i in where]
    # (a new handle: forward may return an input itself, which must not become the node's output)
    return _core._record_function(cls.__name__, out.detach(), [args[i] for i in where], bool(ctx._output_at),
                                  backward)


# ------------------------------------------------------------------ a gradient check that teaches
def _verdict(rel):
    """CS231n's reading of a relative error between analytic and numeric derivatives."""
    if rel > 1e-2:
        return "wrong"
    if rel > 1e-4:
        return "uneasy"
    if rel > 1e-7:
        return "ok if kinked"
    return "good"


class GradcheckReport:
    """Every derivative d out[o] / d input[i][j], analytic (backward) next to numeric (central
    differences in float64), with the absolute and relative errors and CS231n's reading of the
    relative error |a − n| / max(|a|, |n|, 1e-3): > 1e-2 wrong, 1e-4..1e-2 uneasy, 1e-7..1e-4 ok
    only where the function has kinks, < 1e-7 good. ``rows`` is the data (worst first); rows and
    ``notes`` mark inputs that sit on a kink (relu at 0, a tie in max), where no derivative exists
    and a mismatch says nothing."""

    def __init__(self, rows, notes, what="gradcheck"):
        self.rows, self.notes, self.what = sorted(rows, key=lambda r: -r["rel_error"]), notes, what

    @property
    def ok(self):
        return all(r["verdict"] not in ("wrong", "uneasy") for r in self.rows)

    @property
    def worst(self):
        return self.rows[0] if self.rows else None

    def __repr__(self, limit=12):
        head = (f"{self.what}: {len(self.rows)} derivatives, worst relative error "
                f"{self.worst['rel_error']:.1e} ({self.worst['verdict']})" if self.rows else f"{self.what}: nothing")
        lines = [head, f"{'input':>5} {'element':>10} {'output':>8} {'analytic':>13} {'numeric':>13} "
                       f"{'abs err':>9} {'rel err':>9}  verdict"]
        for r in self.rows[:limit]:
            lines.append(f"{r['input']:>5} {str(r['element']):>10} {str(r['output']):>8} {r['analytic']:>13.6g} "
                         f"{r['numeric']:>13.6g} {r['abs_error']:>9.1e} {r['rel_error']:>9.1e}  {r['verdict']}")
        if len(self.rows) > limit:
            lines.append(f"... {len(self.rows) - limit} more (report.rows has them all)")
        return "\n".join(lines + self.notes)


def gradcheck_report(fn, inputs, eps=1e-6):
    """gradcheck as a table a student can read (see GradcheckReport): float64 inputs; fn returns
    one tensor. ``print(cr.autograd.gradcheck_report(f, [x]))``."""
    import numpy as np
    from .. import func
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    out = fn(*ins)
    jac = func.jacrev(fn, argnums=tuple(range(len(ins))))(*ins)
    rows, notes = [], []
    for i, x in enumerate(ins):
        a = np.asarray(jac[i].detach()).reshape(max(out.numel(), 1) if out.dim() else 1, -1)
        base = np.asarray(x.detach(), dtype=np.float64)
        for j in np.ndindex(*base.shape):
            f = lambda h: np.asarray(fn(*[_moved(x, j, h) if k == i else y for k, y in enumerate(ins)]).detach(),  # noqa: E731
                                     dtype=np.float64).reshape(-1)
            plus, minus, mid = f(eps), f(-eps), f(0.0)
            num = (plus - minus) / (2 * eps)
            right, left = (plus - mid) / eps, (mid - minus) / eps
            kink = np.abs(right - left) > 1e-3 * np.maximum(1.0, np.abs(num))
            if kink.any():
                o = int(np.argmax(np.abs(right - left)))
                notes.append(f"note: input {i} element {j} sits on a kink of output {o} (one-sided slopes "
                             f"{left[o]:.4g} and {right[o]:.4g}): no derivative there; move the point")
            flat = int(np.ravel_multi_index(j, base.shape)) if base.shape else 0
            for o in range(num.size):
                an, nu = float(a[o, flat]), float(num[o])
                rel = abs(an - nu) / max(abs(an), abs(nu), 1e-3)  # (central differences are noise below)
                rows.append(dict(input=i, element=j, output=o, analytic=an, numeric=nu, abs_error=abs(an - nu),
                                 rel_error=rel, verdict="kink" if kink[o] else _verdict(rel)))
    return GradcheckReport(rows, notes)


def _moved(x, j, h):
    y = x.detach().clone()
    if h:
        flat = y.reshape(-1)
        import numpy as np
        k = int(np.ravel_multi_index(j, tuple(x.shape))) if x.dim() else 0
        flat[k] = flat[k] + h
    return y


def gradgradcheck_report(fn, inputs, eps=1e-6):
    """The same table for second derivatives: the derivatives of the gradient vᵀJ (a fixed random
    cotangent v) checked against central differences of it."""
    import numpy as np
    import chainrule as cr
    from .. import func
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    out = fn(*ins)
    v = cr.tensor(np.random.RandomState(0).uniform(-1, 1, size=tuple(out.shape)), dtype=out.dtype)

    def pulled(*xs):
        return cr.cat([g.reshape(-1) for g in func.vjp(fn, *xs)[1](v)])
    report = gradcheck_report(pulled, ins, eps)
    report.what = "gradgradcheck (derivatives of the gradient vᵀJ)"
    return report
