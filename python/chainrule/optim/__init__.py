"""cr.optim: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's signatures and update rules.

Use them as in PyTorch::

    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

The optimizers, their param groups and the updates live in C++ (``chainrule._core``); a step runs
without the GIL. ``opt.param_groups`` is a list of dicts over the C++ groups, so
``group["lr"] = 0.01`` takes effect at the next step (a bad value raises at once) and the
schedulers' changes show up in it; ``opt.state[p]`` is the parameter's state tensors by name.

Your own optimizer, as in torch: subclass ``cr.optim.Optimizer``, call
``super().__init__(params, dict(lr=lr, ...))`` and write ``step()`` over ``self.param_groups``
(``group["lr"]``, ``group["params"]``) under ``cr.no_grad()``, keeping what it needs in
``self.state[p]`` (a dict per parameter). Schedulers, ``zero_grad`` and ``state_dict`` work on it.

Constraints (projected gradient descent): pass ``constraint=cr.optim.Box(0, 1)`` (or
``NonNegative()``, ``MaxNorm(c)``, or any function that changes a parameter in place) to keep the
parameters in a closed convex set C: after every step each parameter p of the group is replaced by
its projection P_C(p), the nearest point of C. With plain SGD that is projected gradient descent,
x <- P_C(x - lr * grad f(x)), which for convex f converges to the minimum over C as gradient
descent does without constraints. With momentum or adaptive methods it is the usual "update, then
project" heuristic: it keeps the iterates in C, but the projection is Euclidean while the step is
not, so it is not the exact projected version of those methods.
"""
from __future__ import annotations

from .._core import Box, Constraint, MaxNorm, NonNegative, Optimizer
from . import lr_scheduler  # noqa: F401  (cr.optim.lr_scheduler)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Constraint", "Box",
           "NonNegative", "MaxNorm", "lr_scheduler"]


def _no(name, **flags):
    for flag, value in flags.items():
        if value:
            raise ValueError(f"{name}: {flag}=True is not supported (chainrule steps on the CPU, "
                             "under no-grad)")


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (PyTorch's rule).

    g = grad (+ weight_decay * p), negated if maximize; with momentum, buf = g on the first step
    and buf = momentum * buf + (1 - dampening) * g after; the step direction is
    g + momentum * buf (nesterov) or buf; p <- p - lr * direction.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None, constraint=None):
        _no("SGD", differentiable=differentiable, fused=fused)
        super().__init__("SGD", params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                             weight_decay=weight_decay, nesterov=nesterov, maximize=maximize),
                         constraint)


class Adam(Optimizer):
    r"""Adam (PyTorch's rule, with amsgrad and bias corrections).

    g = grad (+ weight_decay * p, or p <- p (1 - lr weight_decay) if decoupled); m <- beta1 m +
    (1 - beta1) g; v <- beta2 v + (1 - beta2) g^2 (amsgrad: the running max of v is used);
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False, constraint=None):
        name = "AdamW" if isinstance(self, AdamW) else "Adam"
        _no(name, capturable=capturable, differentiable=differentiable, fused=fused)
        super().__init__(name, params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                            amsgrad=amsgrad, maximize=maximize,
                                            decoupled_weight_decay=decoupled_weight_decay), constraint)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, p <- p (1 - lr weight_decay) before the Adam step
    (the decay doesn't pass through m and v). PyTorch's default weight_decay=1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None,
                 constraint=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True, constraint=constraint)


class RMSprop(Optimizer):
    r"""RMSprop (PyTorch's rule).

    v <- alpha v + (1 - alpha) g^2; centered: gbar <- alpha gbar + (1 - alpha) g and the scale is
    sqrt(v - gbar^2) + eps, else sqrt(v) + eps; with momentum buf <- momentum buf + g / scale and
    p <- p - lr buf, else p <- p - lr g / scale.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False, *, constraint=None):
        _no("RMSprop", capturable=capturable, differentiable=differentiable)
        super().__init__("RMSprop", params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                                 momentum=momentum, centered=centered, maximize=maximize),
                         constraint)


class Adagrad(Optimizer):
    r"""Adagrad (PyTorch's rule): sum <- sum + g^2 (starting at initial_accumulator_value),
    p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None, constraint=None):
        _no("Adagrad", differentiable=differentiable, fused=fused)
        super().__init__("Adagrad", params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                                 initial_accumulator_value=initial_accumulator_value, eps=eps,
                                                 maximize=maximize), constraint)
