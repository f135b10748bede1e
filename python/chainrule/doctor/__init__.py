"""cr.doctor: why won't my model learn? ``check`` runs one forward, backward and dry optimizer step on
a batch, measures every layer (Karpathy's lecture-4 statistics) and lists what is wrong, with the
cause, the fix and where the rule comes from.

    report = cr.doctor.check(model, F.cross_entropy, (x, y), optimizer=opt)
    print(report)          # findings, worst first, then the per-layer table
    report.findings        # data: code, severity, layer, evidence, cause, fix, source
    report.layers          # LayerStats per leaf module: activation mean/std, dead, saturated, grads
    report.plot()          # a matplotlib Figure (activation and gradient histograms, update:data)

``watch`` measures the same statistics during training, on every N-th real optimizer step, and
finds what one batch cannot show (gradients growing over time, .grad growing without zero_grad,
units that never fire again, update:data of the real steps, a loss that goes nan or up):

    with cr.doctor.watch(model, opt, every=10) as doc:
        for x, y in loader:                     # the training loop, unchanged
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            doc.log_loss(loss)                  # optional, before the step: the loss curve
            opt.step()
    print(doc.report())    # the same Report: findings over time, then the latest sample's table
    doc.plot()             # curves over steps: grad norm, update:data, dead/saturated, loss
    doc.history            # Sample per sampled step: step, loss, layers, params, ...
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _core
from .._grad_mode import no_grad
from . import _rules
from ._report import Finding, Report
from ._rules import THRESHOLDS
from ._stats import (LayerStats, ParamStats, Recorder, backward_culprit, check_optimizer, histograms, layer_stats,
                     moments, param_stats, to_numpy)
from ._stats import finite as _finite, forward_weights as _forward_weights, owner as _owner

from ._watch import Sample, Watch, watch

__all__ = ["check", "watch", "Report", "Finding", "LayerStats", "ParamStats", "Sample", "Watch", "THRESHOLDS"]


def check(model, loss_fn, batch, optimizer=None, *, classification=None):
    """Diagnoses ``model`` on one batch and returns a Report; the model is not trained.

    ``loss_fn(model(x), y)`` must return a scalar loss; ``batch`` is the pair ``(x, y)``; with
    ``optimizer`` (over the model's parameters) a dry step measures update:data. ``classification``
    (default: guessed from a cross_entropy / nll_loss loss_fn and integer labels) enables the
    LOSS_AT_INIT check against ln C::

        model = cr.nn.Sequential(cr.nn.Linear(2, 64), cr.nn.ReLU(), cr.nn.Linear(64, 3))
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        report = cr.doctor.check(model, cr.nn.functional.cross_entropy, (x, y), optimizer=opt)
        print(report)
        report.ok            # True: nothing of error severity

    Everything is put back afterwards: parameter values (bit for bit, same objects), buffers
    (BatchNorm's running statistics), each parameter's ``.grad`` (the same tensor with the same
    values, or None), the optimizer's state, the random generator and train/eval modes. One side
    effect remains: backward's once-per-process "forgotten zero_grad" warning is re-armed when
    ``.grad`` was already filled on entry (check asks it whether a step used those gradients).
    """
    _validate(model, loss_fn, batch, optimizer)
    x, y = batch
    snap = _Snapshot(model, optimizer)
    try:
        return _check(model, loss_fn, x, y, optimizer, classification, snap)
    finally:
        snap.restore()


def _validate(model, loss_fn, batch, optimizer):
    if not isinstance(model, _core.Module):
        raise TypeError(f"check: expected a cr.nn.Module as model, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"check: loss_fn must be callable as loss_fn(model(x), y), got {type(loss_fn).__name__}")
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError("check: batch must be a pair (x, y), e.g. check(model, loss_fn, (x, y)); got "
                         + (f"a {type(batch).__name__} of length {len(batch)}" if isinstance(batch, (tuple, list))
                            else type(batch).__name__))
    if not isinstance(batch[0], _core.Tensor):
        raise TypeError(f"check: x (batch[0]) must be a tensor, got {type(batch[0]).__name__}")
    if optimizer is not None:
        check_optimizer("check", model, optimizer)


def _clone_tree(v):
    if isinstance(v, _core.Tensor):
        return v.detach().clone()
    if isinstance(v, dict):
        return type(v)((k, _clone_tree(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return type(v)(_clone_tree(x) for x in v)
    return v


class _Snapshot:
    """Everything check() may change, saved on entry and put back by restore()."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.params = list(model.named_parameters())
        self.values = [p.detach().clone() for _, p in self.params]
        self.grads = [p.grad for _, p in self.params]
        self.grad_values = [None if g is None else g.detach().clone() for g in self.grads]
        self.buffers = [(b, b.detach().clone()) for _, b in model.named_buffers() if b is not None]
        self.modes = [(m, m.training) for _, m in model.named_modules()]
        self.rng = _core.default_generator.get_state()
        self.opt_state = _clone_tree(optimizer.state_dict()) if optimizer is not None else None

    def restore(self):
        with no_grad():
            for (_, p), v in zip(self.params, self.values):
                p.copy_(v)
            for b, v in self.buffers:
                b.copy_(v)
        for (_, p), g, gv in zip(self.params, self.grads, self.grad_values):
            p.grad = g
            if g is not None:
                with no_grad():
                    g.copy_(gv)
        for m, mode in self.modes:
            m._set_training_flag(mode)
        _core.default_generator.set_state(self.rng)
        if self.optimizer is not None:
            self.optimizer.load_state_dict(self.opt_state)


_SKIP_MESSAGE = "module hooks run for modules called with one tensor"


def _forward_recorded(model, loss_fn, x, y, skip, keep_graph=False):
    """model(x) and the loss under a Recorder; modules called with several arguments (which chainrule
    cannot hook) are found by their NotImplementedError and left unhooked."""
    leaves = {n: type(m).__name__ for n, m in model.named_modules() if not list(m.children())}
    for _ in range(len(leaves) + 1):
        rec = Recorder(model, skip, keep_graph)
        try:
            with rec:
                out = model(x)
            return rec, out, loss_fn(out, y)
        except NotImplementedError as e:
            msg = str(e)
            if _SKIP_MESSAGE not in msg:
                raise
            kind = msg.split(":", 1)[0]
            new = {n for n, k in leaves.items() if k == kind} - set(skip)
            if not new:
                raise
            skip = set(skip) | new
    raise RuntimeError("check: could not run the model with hooks")


def _is_classification(loss_fn, out, y):
    from ..nn import CrossEntropyLoss, NLLLoss, functional as F
    if not (loss_fn in (F.cross_entropy, F.nll_loss) or isinstance(loss_fn, (CrossEntropyLoss, NLLLoss))):
        return False
    return isinstance(y, _core.Tensor) and not y.is_floating_point() and out.ndim == 2


def _check(model, loss_fn, x, y, optimizer, classification, snap):
    from ..autograd import detect_anomaly, why_no_grad, is_warn_forgotten_zero_grad_enabled, \
        set_warn_forgotten_zero_grad
    params = snap.params
    notes = []

    # 1. Gradients already there: did a step use them (backward's own forgotten-zero_grad check)?
    entry = [(p, g) for (_, p), g in zip(params, snap.grad_values) if g is not None]
    stepped = None
    if entry and any(bool((g != 0).any()) for _, g in entry):
        was = is_warn_forgotten_zero_grad_enabled()
        set_warn_forgotten_zero_grad(True)  # re-arms the once-per-process warning
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                loss_fn(model(x), y).backward()
        finally:
            set_warn_forgotten_zero_grad(was)
        stepped = any("optimizer step already used" in str(w.message) for w in caught)
        _core.default_generator.set_state(snap.rng)
    for _, p in params:
        p.grad = None

    # 2. One forward and backward with every leaf module recorded.
    rec, out, loss = _forward_recorded(model, loss_fn, x, y, set())
    if rec.skip:
        notes.append(f"not hooked (called with several arguments): {', '.join(sorted(rec.skip))}")
    if not isinstance(loss, _core.Tensor) or loss.numel() != 1:
        raise ValueError(f"check: loss_fn(model(x), y) must return a scalar tensor, got "
                         f"{type(loss).__name__}{tuple(loss.shape) if isinstance(loss, _core.Tensor) else ''}")
    loss_value = float(loss.item())
    calls = rec.first_calls()
    if loss.requires_grad:
        loss.backward(retain_graph=True)
    else:
        notes.append("the loss requires no grad: nothing in it depends on a parameter")
    grads = {name: (to_numpy(p.grad) if p.grad is not None else None) for name, p in params}
    fresh = {name: p.grad for name, p in params}

    forward_bad = next((c for c in calls if not _finite(c.out)), None)
    backward_bad = None
    if forward_bad is None and math.isfinite(loss_value) and not all(_finite(g) for g in grads.values()):
        backward_bad = _locate_backward_nan(model, loss_fn, x, y, calls, params, grads, detect_anomaly)

    # 3. Parameters that got no gradient, and frozen ones.
    no_grad_params, frozen = [], {}
    for name, p in params:
        if not p.requires_grad:
            frozen.setdefault(_owner(name), []).append(name)
        elif p.grad is None and loss.requires_grad:
            d = why_no_grad(p, loss, model=model)
            message = d.message.split("\nFix:")[0]  # the fix has its own field
            fix = getattr(d, "fix", None)
            if d.reason == "NOT_IN_GRAPH":  # for a parameter the place to look is the module's forward
                fix = (f"use the parameter itself in forward: no {name.rsplit('.', 1)[-1]}.detach(), .data, "
                       "clone() or no_grad around it, and no new tensor bound to its name after the loss")
            no_grad_params.append((name, _owner(name), None, d.reason, message, fix))

    # 4. A dry optimizer step: how far would each weight move?
    stepped_dry = optimizer is not None and forward_bad is None and backward_bad is None
    if stepped_dry:
        for name, p in params:
            p.grad = fresh[name]
        optimizer.step()
    pstats = [param_stats(name, _owner(name), p.shape, p.requires_grad, moments(old), moments(grads[name]),
                          moments(p, old) if stepped_dry else None)
              for (name, p), old in zip(params, snap.values)]
    layers = layer_stats(calls, pstats)

    # 5. The rules.
    desc = {r.name: r.description for r in layers}
    ctx = _rules.Context(
        layers, pstats, _forward_weights(calls, pstats), loss_value,
        _is_classification(loss_fn, out, y) if classification is None else bool(classification),
        int(out.shape[-1]) if isinstance(out, _core.Tensor) and out.ndim >= 1 else None,
        optimizer is not None)
    if forward_bad is not None:
        r = next(r for r in layers if r.name == forward_bad.name)
        ctx.forward_nonfinite = (r.name, r.description, r.nan, r.inf)
    elif not math.isfinite(loss_value):
        ctx.loss_nonfinite = True
    elif backward_bad is not None:
        backward_bad["description"] = desc.get(backward_bad["layer"], "")
        ctx.backward_nonfinite = backward_bad
    ctx.no_grad = [(n, lay, desc.get(lay, ""), *rest) for n, lay, _, *rest in no_grad_params]
    ctx.frozen = [(lay, desc.get(lay, ""), names) for lay, names in frozen.items()]
    if stepped is not None:
        ctx.entry_grads = {"ratio": _norm_ratio(snap, params, grads), "stepped": stepped}
    if forward_bad is None and math.isfinite(loss_value):
        ctx.mixing, skipped = _batch_mixing(model, x, rec.skip)
        if skipped:
            notes.append(f"BATCH_MIXING not checked: {skipped}")
        elif ctx.mixing is not None:
            ctx.mixing["description"] = desc.get(ctx.mixing["layer"], "")
    findings = _rules.run(ctx)

    hist = histograms(calls, layers, pstats, grads)
    return Report(findings, layers, pstats, loss_value, notes, hist)


def _norm_ratio(snap, params, grads):
    """|.grad on entry| / |gradient of this batch|, over the parameters that have both."""
    num = den = 0.0
    for (name, _), gv in zip(params, snap.grad_values):
        g = grads.get(name)
        if gv is not None and g is not None:
            num += float(np.sum(to_numpy(gv) ** 2))
            den += float(np.sum(g ** 2))
    return math.sqrt(num / den) if den > 0 else None


def _locate_backward_nan(model, loss_fn, x, y, calls, params, grads, detect_anomaly):
    """Where backward first made a nan/inf: walking the modules backward, the first whose output
    gradient is not finite was handed it by the module after it (or the loss); a module whose output
    gradient is finite but whose weights' gradient is not made it itself."""
    culprit = backward_culprit(calls, [n for n, _ in params], grads)
    anomaly = None
    for _, p in params:
        p.grad = None
    try:
        with detect_anomaly(check_forward=False):
            loss_fn(model(x), y).backward()
    except RuntimeError as e:
        anomaly = str(e).splitlines()[0]
    return {"layer": culprit, "anomaly": anomaly,
            "params": [n for n, g in grads.items() if not _finite(g)]}


def _batch_mixing(model, x, skip):
    """Does output i depend on input j != i? Checked in eval mode (BatchNorm's batch statistics mix
    examples by design); returns (info dict or None, reason it was skipped or None)."""
    n = x.shape[0] if x.ndim >= 1 else 0
    if n < 2:
        return None, "the batch has fewer than 2 examples"
    if not x.is_floating_point():
        return None, "x is not floating point (no gradient with respect to it)"
    for _, m in model.named_modules():
        m._set_training_flag(False)
    x2 = x.detach().clone().requires_grad_(True)
    rec = Recorder(model, skip, keep_graph=True)
    with rec:
        out = model(x2)
    if not isinstance(out, _core.Tensor) or out.ndim < 1 or out.shape[0] != n or not out.requires_grad:
        return None, "the output has no batch dim first"
    i = 0

    def others(t):
        g, = _grad(t[i].sum(), x2)
        if g is None:
            return 0
        rows = np.abs(to_numpy(g)).reshape(n, -1).max(axis=1)
        rows[i] = 0
        return int(np.count_nonzero(rows))

    total = others(out)
    if total == 0:
        return None, None
    span = []
    for c in rec.first_calls():
        t = c.output_tensor
        if t is None or not t.requires_grad:
            continue
        if t.ndim < 1 or t.shape[0] != n:
            span.append(c.name)  # no batch dim here: can't tell
            continue
        if others(t):
            span.append(c.name)
            return {"layer": span[0], "span": span, "i": i, "others": total, "n": n}, None
        span = []
    return {"layer": "", "span": [], "i": i, "others": total, "n": n}, None


def _grad(out, x):
    from ..autograd import grad
    return grad(out, [x], retain_graph=True, allow_unused=True)
