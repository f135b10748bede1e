"""The numbers behind cr.doctor: forward hooks that record what each leaf module computes, and the
per-layer and per-parameter statistics (Karpathy's lecture-4 figures) computed from them.

Kept free of any judgement (that is _rules.py) so that a training-time watcher can reuse
``Recorder`` and ``layer_stats`` / ``param_stats`` step after step.
"""
from __future__ import annotations

import collections
import dataclasses
import math
from typing import Optional

import numpy as np

from .. import _core

# Activation modules, by the statistic that tells when they stop passing gradient.
DEAD_KINDS = ("ReLU", "ReLU6")                       # off = exactly 0, gradient 0
SATURATING_KINDS = ("Tanh", "Sigmoid")                # flat tails: |t| > 0.97 (Karpathy)
ACTIVATION_KINDS = DEAD_KINDS + SATURATING_KINDS + ("LeakyReLU", "GELU", "SiLU", "ELU", "Softplus",
                                                     "Softsign", "Hardtanh")
# Karpathy (makemore part 3): a tanh unit with |t| > 0.97 has local slope 1 - t^2 < 6% of its max; a
# sigmoid s(x) = (1 + tanh(x/2)) / 2 has the same relative slope as tanh at x/2: |2s - 1| > 0.97.
SATURATION_LEVEL = 0.97


def to_numpy(t):
    """A float64 NumPy copy of a chainrule tensor (statistics are computed in float64)."""
    return np.array(t.detach().numpy(), dtype=np.float64)


def as_numpy(a):
    """``a`` as a float64 array: a tensor is converted, an array or None passes through."""
    return to_numpy(a) if isinstance(a, _core.Tensor) else a


# numel, counts of nan and of ±inf, mean, unbiased std (nan below 2 values, as Tensor.std) and the sum
# of squares of a tensor's values, in float64 (C++ tensor_stats: one call, no copy, no graph)
Moments = collections.namedtuple("Moments", "numel nan inf mean std sumsq")


def moments(t, minus=None):
    """Moments of a tensor's values (of ``t - minus`` with ``minus``, subtracted in float64); a NumPy
    array is read without a copy; None, and a tensor of integers (a parameter may hold them without
    requires_grad), give None."""
    if t is None or (isinstance(t, _core.Tensor) and not t.is_floating_point()):
        return None
    if isinstance(t, np.ndarray):
        t = _core.from_numpy(np.ascontiguousarray(t, dtype=np.float64))
    return Moments(*_core._tensor_stats(t, minus))


def leaf_modules(model):
    """(dotted name, module) of the modules without children, in registration order."""
    return [(n, m) for n, m in model.named_modules() if not list(m.children())]


def _probe_kind(kind):
    """How nn::Probe reads a module of this class (see nn/probe.h)."""
    if kind in DEAD_KINDS:
        return 2
    if kind == "Tanh":
        return 3
    if kind == "Sigmoid":
        return 4
    return 1 if kind in ACTIVATION_KINDS else 0


def as_moments(t):
    """Moments of a _tensor_stats tuple (None passes through)."""
    return None if t is None else Moments(*t)


class Call:
    """One recorded call of a leaf module, measured in C++ when it ran (nn::Probe): the Moments of
    its output (``out``), of its input for an activation module (``pre``: the pre-activation) and of
    the gradient that reached its output (``out_grad``, once backward has run); which units of a ReLU
    are 0 for the whole batch (``dead``: bool per unit of dim 1), a Tanh's or Sigmoid's share of
    outputs beyond SATURATION_LEVEL (``saturated``). ``output`` is a copy
    of an activation module's output (for the histograms), ``output_tensor`` the output itself with
    ``Recorder(keep_graph=True)``."""

    def __init__(self, probe_call, module):
        pc = probe_call
        self.name, self.module, self.kind = pc.name, module, type(module).__name__
        self.shape, self.out, self.pre = pc.shape, as_moments(pc.out), as_moments(pc.pre)
        self.dead = None if pc.dead is None else np.asarray(pc.dead)
        self.saturated, self.output, self.output_tensor = pc.saturated, pc.values, pc.output
        self._pc = pc

    @property
    def out_grad(self):
        return as_moments(self._pc.out_grad)


class Recorder:
    """Forward hooks (C++: nn::Probe) on every leaf module (a module with no children), measuring
    each call in the order the forward ran it::

        rec = Recorder(model)
        with rec:
            loss = loss_fn(model(x), y)
        loss.backward()
        rec.calls[0].name, rec.calls[0].out.std, rec.calls[0].out_grad.std

    chainrule runs module hooks only for modules called with one tensor; ``skip`` names leaf modules
    not to hook (check() retries without a module that was called with several arguments).
    ``leaves``: leaf_modules(model), when the caller has them. ``targets`` and ``wrap`` serve
    cr.doctor.watch, which hooks the same modules with its own C++ sampler.
    """

    def __init__(self, model, skip=(), keep_graph=False, leaves=None):
        self.model = model
        self.skip = set(skip)
        self.keep_graph = keep_graph
        self.leaves = leaves if leaves is not None else leaf_modules(model)
        self._probe = None
        hooked = [(n, m) for n, m in self.leaves if n not in self.skip]
        self._modules = dict(hooked)
        self.targets = [(n, m, _probe_kind(type(m).__name__)) for n, m in hooked]

    def __enter__(self):
        self._probe = _core._Probe(self.targets, True, self.keep_graph, SATURATION_LEVEL)
        return self

    def __exit__(self, *exc):
        self._probe.remove()
        return False

    def wrap(self, probe_calls):
        """A Call per nn::Probe call (of these modules), in forward order."""
        return [Call(pc, self._modules[pc.name]) for pc in probe_calls]

    @property
    def calls(self):
        return [] if self._probe is None else self.wrap(self._probe.calls())

    def first_calls(self):
        """The first call of each module (a module used twice is described by its first use)."""
        seen, out = set(), []
        for c in self.calls:
            if c.name not in seen:
                seen.add(c.name)
                out.append(c)
        return out


def last_calls(calls):
    """The last call of each module, in forward order: watch() describes a step by the forward just
    before it (not, say, an evaluation forward that ran first)."""
    seen, out = set(), []
    for c in reversed(calls):
        if c.name not in seen:
            seen.add(c.name)
            out.append(c)
    return out[::-1]


def describe(module):
    """'Linear(100->100)', 'Conv2d(3->16, 3x3)', or the class name."""
    kind = type(module).__name__
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return f"{kind}({module.in_features}->{module.out_features})"
    if hasattr(module, "in_channels") and hasattr(module, "out_channels"):
        k = getattr(module, "kernel_size", None)
        k = f", {k[0]}x{k[1]}" if isinstance(k, tuple) and len(k) == 2 else ""
        return f"{kind}({module.in_channels}->{module.out_channels}{k})"
    if hasattr(module, "num_features"):
        return f"{kind}({module.num_features})"
    return kind


@dataclasses.dataclass
class ParamStats:
    """Statistics of one parameter after a backward (and a dry optimizer step).

    grad_data = std(grad) / std(data) and update_data = std(new - old) / std(old), Karpathy's
    ratios; ``update_data`` is None without an optimizer, ``grad_*`` None when .grad is None.
    """
    name: str
    layer: str
    shape: tuple
    requires_grad: bool
    has_grad: bool
    data_std: float
    grad_norm: Optional[float] = None
    grad_std: Optional[float] = None
    grad_data: Optional[float] = None
    update_data: Optional[float] = None
    grad_nan: int = 0
    grad_inf: int = 0


def param_stats(name, layer, shape, requires_grad, data, grad=None, update=None):
    """ParamStats of parameter ``name`` (its module: ``layer``) from the Moments of its values before
    the step (None: not measured, e.g. integers), of its gradient (or None) and of the step's change
    (new - old, or None)."""
    s = ParamStats(name, layer, tuple(shape), bool(requires_grad), grad is not None,
                   data.std if data is not None else math.nan)
    if grad is not None:
        s.grad_nan, s.grad_inf = grad.nan, grad.inf
        s.grad_norm = math.sqrt(grad.sumsq)
        s.grad_std = grad.std
        s.grad_data = _ratio(s.grad_std, s.data_std)
        if update is not None:
            s.update_data = _ratio(update.std, s.data_std)
    return s


def _ratio(a, b):
    if not math.isfinite(a) or not math.isfinite(b) or b == 0:
        return None
    return a / b


@dataclasses.dataclass
class LayerStats:
    """One row of ``report.layers``: a leaf module's first call in the forward.

    act_* describe its output (``pre_*`` its input: the pre-activation, for an activation module);
    out_grad_std is the spread of the gradient reaching that output. frac_dead (ReLU, ReLU6: units 0
    for every example) and frac_saturated (Tanh, Sigmoid: outputs with |t| > 0.97) are None for other
    kinds. The gradient columns are those of the module's weight (``param``: the parameter named
    'weight', else its first parameter with 2+ dims, else its first parameter).
    nan/inf count non-finite outputs; grad_nan/grad_inf non-finite gradients of all its parameters.
    """
    name: str
    kind: str
    description: str
    shape: tuple
    act_mean: Optional[float] = None
    act_std: Optional[float] = None
    pre_mean: Optional[float] = None
    pre_std: Optional[float] = None
    frac_dead: Optional[float] = None
    frac_saturated: Optional[float] = None
    out_grad_std: Optional[float] = None
    param: Optional[str] = None
    grad_norm: Optional[float] = None
    grad_std: Optional[float] = None
    grad_data: Optional[float] = None
    update_data: Optional[float] = None
    nan: int = 0
    inf: int = 0
    grad_nan: int = 0
    grad_inf: int = 0


def layer_stats(calls, params):
    """LayerStats of each recorded call (first call per module), with the gradient columns taken
    from ``params`` (a list of ParamStats)."""
    by_layer = {}
    for ps in params:
        by_layer.setdefault(ps.layer, []).append(ps)
    rows, previous = [], None
    for c in calls:
        desc = describe(c.module)
        if c.kind in ACTIVATION_KINDS and previous is not None:
            desc = f"{c.kind} after {describe(previous.module)}"
        out = c.out
        row = LayerStats(c.name, c.kind, desc, c.shape)
        if out is not None and out.numel:
            row.nan, row.inf = out.nan, out.inf
            row.act_mean, row.act_std = out.mean, out.std
            if c.pre is not None and c.pre.numel:
                row.pre_mean, row.pre_std = c.pre.mean, c.pre.std
            if c.kind in DEAD_KINDS and c.dead is not None:
                row.frac_dead = float(np.mean(c.dead))
            row.frac_saturated = c.saturated
        if c.out_grad is not None:
            row.out_grad_std = c.out_grad.std
        mine = by_layer.get(c.name, [])
        if mine:
            w = (next((p for p in mine if p.name.rsplit(".", 1)[-1] == "weight"), None)
                 or next((p for p in mine if len(p.shape) >= 2), None) or mine[0])
            row.param = w.name
            row.grad_norm, row.grad_std, row.grad_data, row.update_data = \
                w.grad_norm, w.grad_std, w.grad_data, w.update_data
            row.grad_nan = sum(p.grad_nan for p in mine)
            row.grad_inf = sum(p.grad_inf for p in mine)
        rows.append(row)
        previous = c
    return rows


def finite(a):
    """True for None, Moments without nan/inf, or an array with no nan/inf."""
    if a is None:
        return True
    if isinstance(a, Moments):
        return a.nan == 0 and a.inf == 0
    return bool(np.isfinite(a).all())


def owner(name):
    """The module of a parameter: '0' for '0.weight', '' for a parameter of the root module."""
    return name.rsplit(".", 1)[0] if "." in name else ""


def forward_weights(calls, pstats):
    """Names of the weights (2+ dims) in the order their modules ran in the forward."""
    by_layer = {}
    for ps in pstats:
        if len(ps.shape) >= 2:
            by_layer.setdefault(ps.layer, []).append(ps.name)
    return [n for c in calls for n in by_layer.get(c.name, [])]


def backward_culprit(calls, param_names, grads):
    """Where backward first made a nan/inf: walking the modules backward, the first whose output
    gradient is not finite was handed it by the module after it (or the loss); a module whose output
    gradient is finite but whose weights' gradient is not made it itself. ``grads``: name -> array."""
    culprit = "loss"
    for c in reversed(calls):
        if not finite(c.out_grad):
            return culprit
        own = [n for n in param_names if owner(n) == c.name]
        if any(not finite(grads.get(n)) for n in own):
            return c.name
        culprit = c.name
    return calls[0].name if calls else "loss"


def act_label(r):
    """'3 (Tanh): 4% saturated' for the legend of the activation histograms."""
    extra = (f": {100 * r.frac_saturated:.0f}% saturated" if r.frac_saturated is not None else
             f": {100 * r.frac_dead:.0f}% dead" if r.frac_dead is not None else "")
    return f"{r.name} ({r.kind}){extra}"


def histograms(calls, layers, pstats, grads):
    """The raw values Report.plot() draws: activation layers' outputs and weights' gradients."""
    return {"activations": [(r.name, act_label(r), as_numpy(c.output).ravel()) for c, r in zip(calls, layers)
                            if c.kind in ACTIVATION_KINDS and c.output is not None],
            "gradients": [(ps.name, f"{ps.name} {ps.shape}", as_numpy(grads[ps.name]).ravel()) for ps in pstats
                          if len(ps.shape) >= 2 and grads.get(ps.name) is not None]}


def check_optimizer(who, model, optimizer):
    """The argument check check() and watch() share: ``optimizer`` is an optimizer over ``model``'s
    parameters (errors name ``who``)."""
    if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
        raise TypeError(f"{who}: optimizer must be a cr.optim optimizer, got {type(optimizer).__name__}")
    mine = {hash(p) for p in model.parameters()}
    theirs = [p for g in optimizer.param_groups for p in g["params"]]
    foreign = [p for p in theirs if hash(p) not in mine]
    if foreign or not theirs:
        raise ValueError(f"{who}: the optimizer is not over this model's parameters ({len(foreign)} of its "
                         f"{len(theirs)} parameters are not the model's): build it with "
                         "optimizer = cr.optim.SGD(model.parameters(), ...)")
