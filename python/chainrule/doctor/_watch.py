"""cr.doctor.watch: the statistics of check() measured on the real steps of a training loop, every
N-th optimizer step, and the findings only a timeline shows (growing gradients, .grad that keeps
growing, units that never fire again, a loss that goes nan or up)."""
from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Optional

import numpy as np

from .. import _core
from . import _rules
from ._report import Finding, Report
from ._stats import (DEAD_KINDS, SATURATION_LEVEL, LayerStats, ParamStats, Recorder, as_moments, backward_culprit,
                     check_optimizer, finite, forward_weights, histograms, last_calls, layer_stats, leaf_modules,
                     owner, param_stats)


@dataclasses.dataclass
class Sample:
    """What watch() measured on one sampled optimizer step (``doc.history`` is a list of these).

    ``step`` counts optimizer steps from 0 (the first step inside the first with-block); ``loss`` is
    the mean of what ``doc.log_loss`` got for that step (None if it was not called). ``layers`` and
    ``params`` are check()'s LayerStats / ParamStats of the forward just before the step, the .grad
    the step used and the change it made (update:data). ``dead`` holds each ReLU's per-unit "0 for the
    whole batch" flags; ``fresh_norm`` each parameter's norm of the gradient backward produced for
    this step (hooks on the parameters: not counting what .grad held before, measured as backward
    adds it, so before clipping; empty when no backward accumulated, e.g. gradients taken with
    autograd.grad); ``stale`` is |what .grad held before this step's backward| / |that fresh
    gradient| (0 with zero_grad; None when not measured); ``findings`` are check()'s rules on this
    step alone.
    """
    step: int
    loss: Optional[float]
    layers: list
    params: list
    dead: dict
    fresh_norm: dict
    stale: Optional[float]
    stepped: bool
    param_order: list
    nonfinite: bool
    params_nonfinite: bool
    findings: list


def _one_tensor_forward(module):
    """Can a forward hook go on this module? chainrule runs module hooks only for calls with one
    tensor and raises on others, which would break the user's loop (check() can retry without the
    module; watch() cannot), so hook only modules whose forward takes exactly one argument: the
    built-in (C++) modules and Python ones with forward(self, x)."""
    try:
        sig = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return True  # a C++ forward: forward(self, input: Tensor)
    params = list(sig.parameters.values())
    return len(params) == 1 and params[0].kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                   inspect.Parameter.POSITIONAL_OR_KEYWORD)


class Watch:
    """The context manager ``cr.doctor.watch`` returns (see there). ``history`` (Sample per sampled
    step), ``losses`` ((step, loss) per ``log_loss`` call) and ``steps`` (optimizer steps seen) are
    the data; ``report()`` and ``plot()`` can be called at any time, inside or after the block."""

    def __init__(self, model, optimizer, every=10, window=5):
        self.model, self.optimizer, self.every, self.window = model, optimizer, every, window
        self._history = []
        # (step, stepped, _core._StepRecord, the Recorder naming its modules) of the sampled steps the
        # rules have not judged yet
        self._pending = []
        self.losses = []
        self.steps = 0
        self._params = list(model.named_parameters())
        self._scan()
        self._active = False
        self._entered_at = None  # the first step of the current block: .grad before it is of unknown origin
        self._armed = False
        self._hist = {"activations": [], "gradients": []}

    def _scan(self):
        """The leaf modules to hook, found again for each with-block (a layer may have been swapped).
        The sampler (C++: nn::StepSampler) hooks them and measures around a sampled step."""
        leaves = leaf_modules(self.model)
        self.skipped = sorted(n for n, m in leaves if not _one_tensor_forward(m))
        self._modules = Recorder(self.model, self.skipped, leaves=leaves)
        self._sampler = _core._StepSampler(self._modules.targets, [p for _, p in self._params], SATURATION_LEVEL)

    # ---------------------------------------------------------------------------- the with-block
    def __enter__(self):
        if self._active:
            raise RuntimeError("watch: this watch is already active (one with-block at a time)")
        opt = self.optimizer
        # an instance attribute shadows the class's step for this optimizer only; a step the user
        # set on the instance before is kept and put back
        self._own_step = opt.__dict__.get("step", _MISSING)
        self._orig_step = opt.step
        opt.step = self._step
        self._active = True
        self._entered_at = self.steps
        self._scan()
        if self.steps % self.every == 0:
            self._arm()
        return self

    def __exit__(self, *exc):
        self._disarm()
        opt = self.optimizer
        if self._own_step is _MISSING:
            opt.__dict__.pop("step", None)
        else:
            opt.step = self._own_step
        self._active = False
        return False

    def _step(self, *args, **kwargs):
        # the unsampled path: one call, one add, one modulo; no tensor is touched
        t = self.steps
        if not self._armed:
            out = self._orig_step(*args, **kwargs)
            self.steps = t + 1
            if (t + 1) % self.every == 0:
                self._arm()
            return out
        # the sampled path is two C++ calls: before the step (hooks off; stats of .grad and of the
        # weights, and copies), after it (stats of the change); the rules run later, when history /
        # report() / plot() ask
        sampler = self._sampler
        self._armed = False
        record = None
        try:
            record = sampler.before()
            out = self._orig_step(*args, **kwargs)
        except BaseException:
            self._disarm()
            self.steps = t + 1
            if record is not None:  # what was measured before the step stands (no update: it raised)
                self._pending.append((t, t > self._entered_at, record, self._modules))
            raise
        self.steps = t + 1
        sampler.after(record)
        if (t + 1) % self.every == 0:
            self._arm()
        self._pending.append((t, t > self._entered_at, record, self._modules))
        return out

    def _arm(self):
        """Hooks for the next step only (C++, nn::StepSampler): forward hooks on the leaf modules and
        gradient hooks on each parameter (what .grad held before backward reached it)."""
        self._sampler.arm()
        self._armed = True

    def _disarm(self):
        self._sampler.disarm()
        self._armed = False

    # ---------------------------------------------------------------------------- measuring
    def log_loss(self, loss):
        """Records the loss of the coming optimizer step (a scalar tensor or a number), for the loss
        curve and the LOSS_RISING / LOSS_STALLED / NONFINITE-at-step-k findings. Optional; call it
        before ``opt.step()`` (after it, the value counts for the next step: watch sees the steps,
        not the loss's backward). Several calls in one step (micro-batches) are averaged. A tensor
        costs one ``.item()``."""
        value = float(loss.item()) if isinstance(loss, _core.Tensor) else float(loss)
        self.losses.append((self.steps, value))

    def _loss_of(self, step):
        vals = []
        for t, v in reversed(self.losses):  # newest first: stop at the step before
            if t < step:
                break
            if t == step:
                vals.append(v)
        return sum(vals) / len(vals) if vals else None

    @property
    def history(self):
        """A Sample per sampled step, in step order (computing the statistics of the steps not yet
        described)."""
        self._flush()
        return self._history

    def _flush(self):
        pending, self._pending = self._pending, []
        for raw in pending:
            self._record(raw)

    def _record(self, pending):
        t, stepped, record, modules = pending  # the modules of its with-block (a layer may be swapped since)
        calls = last_calls(modules.wrap(record.calls()))
        held = record.held()
        names = [n for n, _ in self._params]
        params = [(n, _Param(tuple(p.shape), rg)) for (n, p), rg in zip(self._params, record.requires_grad)]
        grad_moments = [as_moments(g) for g in record.grads]
        grads = dict(zip(names, grad_moments))
        data = [as_moments(d) for d in record.values]
        update = record.update or [None] * len(params)  # none when the step raised
        pstats = [param_stats(n, owner(n), p.shape, p.requires_grad, d, g, as_moments(u))
                  for (n, p), d, g, u in zip(params, data, grad_moments, update)]
        fresh_norm, stale = _fresh_and_stale(names, held)
        layers = layer_stats(calls, pstats)
        dead = {c.name: c.dead for c in calls if c.kind in DEAD_KINDS and c.dead is not None}
        loss = self._loss_of(t)
        desc = {r.name: r.description for r in layers}
        ctx = _rules.Context(layers, pstats, forward_weights(calls, pstats), loss, False, None, True)
        forward_bad = next((c for c in calls if not finite(c.out)), None)
        if forward_bad is not None:
            r = next(r for r in layers if r.name == forward_bad.name)
            ctx.forward_nonfinite = (r.name, r.description, r.nan, r.inf)
        elif loss is not None and not math.isfinite(loss):
            ctx.loss_nonfinite = True
        elif not all(finite(g) for g in grads.values()):
            layer = backward_culprit(calls, names, grads)
            ctx.backward_nonfinite = {"layer": layer, "description": desc.get(layer, ""), "anomaly": None,
                                      "params": [n for n, g in grads.items() if not finite(g)]}
        ctx.no_grad = [(n, owner(n), desc.get(owner(n), ""), "GRAD_NONE_AT_STEP",
                        f"'{n}' requires grad but its .grad was None when optimizer.step() ran: the loss does "
                        "not depend on it (cr.autograd.why_no_grad(param, loss) says why)", None)
                       for n, p in params if p.requires_grad and grads[n] is None and held]
        frozen = {}
        for n, p in params:
            if not p.requires_grad:
                frozen.setdefault(owner(n), []).append(n)
        ctx.frozen = [(lay, desc.get(lay, ""), names) for lay, names in frozen.items()]
        findings = _rules.run(ctx)
        self._history.append(Sample(
            t, loss, layers, pstats, dead, fresh_norm, stale, stepped, ctx.param_order,
            any(f.code == "NONFINITE" for f in findings), not all(finite(d) for d in data), findings))
        if record.latest:  # a later sample took the copies and activations of this one
            self._hist = histograms(calls, layers, pstats, {names[i]: g for i, g in record.grad_copies.items()})

    # ---------------------------------------------------------------------------- results
    def report(self):
        """A Report as check() returns: the findings over time (worst first) and the per-layer table
        of the latest sample; ``report.plot()`` draws that sample's histograms."""
        findings = _rules.run_over_time(self.history, self._step_losses(), self.window)
        notes = [f"watched {self.steps} optimizer step(s), sampled every {self.every}: "
                 f"{len(self.history)} sample(s)"
                 + (f" (steps {self.history[0].step}..{self.history[-1].step})" if self.history else "")]
        if not self.losses:
            notes.append("no loss logged: call doc.log_loss(loss) in the loop for the loss curve findings")
        if self.skipped:
            notes.append(f"not hooked (forward takes several arguments): {', '.join(self.skipped)}")
        latest = self.history[-1] if self.history else None
        loss = latest.loss if latest is not None and latest.loss is not None else \
            (self.losses[-1][1] if self.losses else None)
        return Report(findings, latest.layers if latest else [], latest.params if latest else [], loss, notes,
                      self._hist)

    def _step_losses(self):
        """(step, mean loss of that step) in step order."""
        by = {}
        for t, v in self.losses:
            by.setdefault(t, []).append(v)
        return [(t, sum(v) / len(v)) for t, v in sorted(by.items())]

    def plot(self):
        """A matplotlib Figure with the curves over the sampled steps: each weight's gradient norm
        (log scale), log10(update:data) per weight (dashed line at -3, the aim), the fraction of dead
        (ReLU) or saturated (Tanh, Sigmoid) units per activation layer, and the logged loss."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(13, 8), layout="constrained")
        (ax_g, ax_u), (ax_a, ax_l) = fig.subplots(2, 2)
        steps = [s.step for s in self.history]
        latest = self.history[-1] if self.history else None
        rows = [r for r in latest.layers if r.param is not None] if latest else []
        for r in rows:
            ys = [_col(s, r.name, "grad_norm") for s in self.history]
            ax_g.plot(steps, [y if y and y > 0 else np.nan for y in ys], marker=".", label=f"{r.param}")
            us = [_col(s, r.name, "update_data") for s in self.history]
            ax_u.plot(steps, [math.log10(u) if u and u > 0 and math.isfinite(u) else np.nan for u in us],
                      marker=".", label=r.param)
        ax_g.set_yscale("log")
        ax_g.set_title("gradient norm per weight (.grad at the step)")
        ax_u.axhline(-3, color="k", linestyle="--", linewidth=1, label="aim: 1e-3")
        ax_u.axhspan(-4, -2, color="#8c8", alpha=0.15)
        ax_u.set_title("log10(update:data) per weight, measured on the real step")
        acts = [r for r in latest.layers if r.frac_dead is not None or r.frac_saturated is not None] \
            if latest else []
        for r in acts:
            what = "frac_dead" if r.frac_dead is not None else "frac_saturated"
            ax_a.plot(steps, [_col(s, r.name, what) for s in self.history], marker=".",
                      label=f"{r.name} ({r.kind}) {'dead' if what == 'frac_dead' else 'saturated'}")
        ax_a.set_ylim(-0.02, 1.02)
        ax_a.set_title("fraction of dead / saturated units per activation layer")
        losses = self._step_losses()
        if losses:
            ts = [t for t, _ in losses]
            ax_l.plot(ts, [v if math.isfinite(v) else np.nan for _, v in losses], linewidth=1, label="loss")
            bad = next((t for t, v in losses if not math.isfinite(v)), None)
            if bad is not None:
                ax_l.axvline(bad, color="#c44", linestyle=":", label=f"non-finite from step {bad}")
            ax_l.set_title("loss (doc.log_loss)")
            ax_l.ticklabel_format(axis="y", useOffset=False)  # a flat loss must not read as a steep one
        else:
            ax_l.text(0.5, 0.5, "no loss logged\n(call doc.log_loss(loss) in the loop)", ha="center",
                      va="center", transform=ax_l.transAxes)
            ax_l.set_title("loss")
        for ax in (ax_g, ax_u, ax_a, ax_l):
            ax.set_xlabel("optimizer step")
            if ax.lines:
                ax.legend(fontsize=7)
        return fig


_MISSING = object()


@dataclasses.dataclass
class _Param:
    """A parameter as it was at a sampled step (what param_stats reads besides the moments)."""
    shape: tuple
    requires_grad: bool


def _fresh_and_stale(names, held):
    """Each parameter's norm of the gradient its backward(s) produced this step (measured as they
    added it: before clipping), and |what .grad held before them| / |what they produced| over the
    parameters: 0 after zero_grad, about k after k steps without it (None when not measured).
    ``held``: _StepRecord.held()."""
    norms, num, den = {}, 0.0, 0.0
    for i, (old_sq, fresh) in held.items():
        if fresh is None:
            continue
        sq = fresh[5]  # _tensor_stats tuple: sum of squares last
        norms[names[i]] = math.sqrt(sq)
        num += old_sq
        den += sq
    return norms, (math.sqrt(num / den) if den > 0 and math.isfinite(num) else None)


def _col(sample, layer, attr):
    r = next((r for r in sample.layers if r.name == layer), None)
    return getattr(r, attr) if r is not None else None


def watch(model, optimizer, every=10, *, window=5):
    """Watches a training loop: on every ``every``-th optimizer step (steps 0, every, 2*every, ...)
    it measures what check() measures, on the real step, and ``doc.report()`` judges the timeline::

        model = cr.nn.Sequential(cr.nn.Linear(2, 64), cr.nn.ReLU(), cr.nn.Linear(64, 3))
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        with cr.doctor.watch(model, opt, every=10) as doc:
            for x, y in loader:                      # the loop is unchanged
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                doc.log_loss(loss)                   # optional, before the step: the loss curve
                opt.step()
        print(doc.report())                          # findings over time + the latest per-layer table
        doc.plot().savefig("watch.png")              # curves over the sampled steps
        doc.history[-1].layers                       # the numbers, per sampled step

    How: ``opt.step`` is replaced by a wrapper for the duration of the block (put back on exit, also
    after an exception). An unsampled step costs a Python call; for a sampled step the wrapper arms
    hooks when the step before it ends (forward hooks on the leaf modules, a gradient hook on each
    parameter), measures .grad and the parameters before the step and the change the step made (so
    update:data is the real change), and removes the hooks. Each measurement is one C++ pass over a
    tensor; the rules run when ``history``, ``report()`` or ``plot()`` ask (benchmarks/
    bench_doctor_watch.py measures the cost). watch only reads: training gives the same
    numbers bit for bit. ``window`` samples (the latest) are the window for DEAD_RELU (units 0 for
    every example of every sample) and LR_TOO_HIGH / LR_TOO_LOW (median update:data).

    The forward described is the last one before the step (a module called twice: its last call).
    Leaf modules whose forward takes several arguments are not hooked (chainrule runs module hooks
    only for calls with one tensor); a module called with a keyword argument (``lin(input=x)``)
    would raise on a sampled step.
    """
    if not isinstance(model, _core.Module):
        raise TypeError(f"watch: expected a cr.nn.Module as model, got {type(model).__name__}")
    check_optimizer("watch", model, optimizer)
    for name, v in (("every", every), ("window", window)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"watch: {name} must be an int, got {type(v).__name__}")
        if v < 1:
            raise ValueError(f"watch: {name} must be >= 1, got {v}")
    return Watch(model, optimizer, int(every), int(window))


__all__ = ["watch", "Watch", "Sample", "Finding", "LayerStats", "ParamStats"]
