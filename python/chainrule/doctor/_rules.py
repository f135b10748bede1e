"""The judgements of cr.doctor: each rule reads the statistics check() collected (a Context) and
returns Findings. Thresholds live in THRESHOLDS with where they come from; the ones no source gives
were calibrated on the fixtures of tests/python/test_doctor.py and say so."""
from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

from ._report import Finding

KARPATHY = "Karpathy, 'Building makemore part 3' (lecture 4)"
CS231N = "CS231n, 'Neural Networks Part 3: learning and evaluation'"
AUTOTRAINER = "Zhang et al., AUTOTRAINER (ICSE 2021)"
GLOROT = "Glorot & Bengio 2010, 'Understanding the difficulty of training deep feedforward networks'"
HE = "He et al. 2015 (Kaiming init)"
CALIBRATED = "calibrated on chainrule's fixtures"
PASCANU = "Pascanu, Mikolov & Bengio 2013, 'On the difficulty of training recurrent neural networks'"

# name: (value, source)
THRESHOLDS = {
    "loss_at_init_warning": (2.0, f"{CS231N} (expect ln C at init); factor 2 {CALIBRATED}"),
    "loss_at_init_error": (3.0, f"{CS231N} (expect ln C at init); factor 3 {CALIBRATED}"),
    "vanishing_ratio": (1e-3, f"{AUTOTRAINER}: |grad W_first| / |grad W_last| < 1e-3"),
    "vanishing_first_norm": (1e-4, f"{AUTOTRAINER}: and |grad W_first| < 1e-4 (error)"),
    "exploding_ratio": (70.0, f"{AUTOTRAINER}: |grad W_first| / |grad W_last| > 70"),
    "dead_warning": (0.10, CALIBRATED),
    "dead_error": (0.40, f"{CS231N} ('as much as 40% of your network can be dead')"),
    "saturation_level": (0.97, f"{KARPATHY}: |tanh| > 0.97"),
    "saturated_warning": (0.10, f"{CALIBRATED} ({KARPATHY}: a few percent with gain 5/3 is fine)"),
    "saturated_error": (0.30, CALIBRATED),
    "update_low_warning": (1e-4, f"{KARPATHY}, {CS231N}: update:data ~1e-3"),
    "update_high_warning": (1e-2, f"{KARPATHY}, {CS231N}: update:data ~1e-3"),
    "update_low_error": (1e-5, CALIBRATED),
    "update_high_error": (1e-1, CALIBRATED),
    "activation_scale": (10.0, f"{GLOROT} (keep the variance through depth); factor 10 {CALIBRATED}"),
    "grad_accumulating": (3.0, CALIBRATED),
    # over time (cr.doctor.watch)
    "exploding_growth": (100.0, f"{PASCANU} (gradient norms that grow by orders of magnitude); factor 100 "
                                f"{CALIBRATED}"),
    "loss_rising": (1.5, f"{CS231N} (loss curves: a loss that goes up means the learning rate is too high); "
                         f"factor 1.5 over its minimum {CALIBRATED}"),
    "loss_stalled": (0.05, f"{CS231N} (a flat loss curve: learning rate too low); less than 5% progress "
                           f"{CALIBRATED}"),
}


def _t(name):
    return THRESHOLDS[name][0]


def _src(*names):
    """The sources of these thresholds, each paper named once ('A: x; and y', not 'A: x; A: and y')."""
    seen, papers = [], set()
    for n in names:
        s = THRESHOLDS[n][1]
        paper = next((p for p in (AUTOTRAINER, KARPATHY, CS231N) if s.startswith(p + ": ")), None)
        if paper is not None and paper in papers:
            s = s[len(paper) + 2:]
        papers.add(paper)
        if s not in seen:
            seen.append(s)
    return "; ".join(seen)


@dataclasses.dataclass
class Context:
    """Everything a rule may read; built by check() (and by watch() for each sampled step)."""
    layers: list                     # LayerStats, forward order
    params: list                     # ParamStats, model.named_parameters() order
    param_order: list                # weight names (2+ dims, with a gradient) in forward order
    loss: Optional[float]
    classification: bool
    n_classes: Optional[int]
    has_optimizer: bool
    forward_nonfinite: Optional[tuple] = None      # (layer, description, nan, inf) of the first module
    loss_nonfinite: bool = False
    backward_nonfinite: Optional[dict] = None      # {"layer", "description", "anomaly", "params"}
    no_grad: list = dataclasses.field(default_factory=list)    # (param name, layer, desc, reason, message, fix)
    frozen: list = dataclasses.field(default_factory=list)     # (layer, desc, [param names])
    entry_grads: Optional[dict] = None             # {"ratio", "stepped"}
    mixing: Optional[dict] = None                  # {"layer", "description", "span", "i", "others", "n"}
    mixing_skipped: Optional[str] = None

    def layer(self, name):
        return next((r for r in self.layers if r.name == name), None)

    def description(self, name):
        r = self.layer(name)
        return r.description if r is not None else ""


def _e(x):
    """10^-1.2 style for ratios."""
    return f"10^{math.log10(x):.1f}" if x and x > 0 else str(x)


def _times(f):
    """A factor to one significant digit, at least 10: 41.3 -> '40', 2.1e5 -> '200000'."""
    f = max(10.0, f)
    e = 10 ** math.floor(math.log10(f))
    return f"{round(f / e) * e:.0f}"


def rule_nonfinite(ctx):
    out = []
    if ctx.forward_nonfinite is not None:
        layer, desc, nan, inf = ctx.forward_nonfinite
        out.append(Finding(
            "NONFINITE", "error", layer, desc,
            f"the forward output of this module holds {nan} nan and {inf} inf; every module before it "
            "is finite",
            "an op in this module made a value that is not a number: log or division by 0, sqrt of a "
            "negative, exp overflow; everything after it (loss, gradients) is nan too",
            "find the op with `with cr.autograd.detect_anomaly(): loss_fn(model(x), y)`; guard it "
            "(clamp the input of log: x.clamp(min=1e-12), or use log_softmax / cross_entropy on logits)",
            "finite-value check (as torch.autograd.detect_anomaly)",
            {"nan": nan, "inf": inf}))
    elif ctx.loss_nonfinite:
        out.append(Finding(
            "NONFINITE", "error", "loss", "",
            f"every module output is finite but the loss is {ctx.loss}",
            "the loss function makes the nan or inf: typically log(0) of a probability that "
            "underflowed (log(softmax(x))) or 0/0",
            "use F.cross_entropy on logits (or log_softmax), not log(softmax(x)); clamp before log",
            "finite-value check (as torch.autograd.detect_anomaly)"))
    elif ctx.backward_nonfinite is not None:
        b = ctx.backward_nonfinite
        anomaly = b.get("anomaly") or ""
        anomaly = "; detect_anomaly: " + anomaly.replace("detect_anomaly: ", "", 1) if anomaly else ""
        where = ("the gradient the loss function sends back to the model's output" if b["layer"] == "loss"
                 else "this module's backward turns a finite gradient into one that")
        out.append(Finding(
            "NONFINITE", "error", b["layer"], b["description"],
            (f"the forward and the loss ({ctx.loss:.4g}) are finite" if ctx.loss is not None else
             "the forward is finite") + f", but backward makes nan/inf: {where} is "
            f"not finite (parameters with non-finite grads: {', '.join(b['params'][:4])}){anomaly}",
            "a backward rule divided by 0 or multiplied 0 by inf, e.g. the derivative 1/x of log at an x "
            "that is exactly 0, or of sqrt at 0",
            "compute the loss from logits (F.cross_entropy, log_softmax) instead of log(softmax(x)); "
            "clamp inputs of log/sqrt away from 0",
            "cr.autograd.detect_anomaly(check_forward=False), as torch.autograd.detect_anomaly",
            {"params": b["params"], "anomaly": b.get("anomaly")}))
    return out


def rule_no_grad(ctx):
    out = []
    for name, layer, desc, reason, message, fix in ctx.no_grad:
        out.append(Finding(
            "NO_GRAD_PARAM", "error", layer, desc,
            f"parameter '{name}' requires grad but its .grad is None after backward (why_no_grad: {reason})",
            message, fix or "make the loss depend on it (no .detach() / .data / no_grad in forward)",
            "cr.autograd.why_no_grad", {"param": name, "reason": reason}))
    for layer, desc, names in ctx.frozen:
        out.append(Finding(
            "NO_GRAD_PARAM", "info", layer, desc,
            f"frozen: {', '.join(names)} (requires_grad=False) will not train",
            "requires_grad_(False) was set (fine-tuning?)",
            "nothing, if intended; else module.requires_grad_(True)",
            "cr.autograd.why_no_grad", {"params": names, "reason": "REQUIRES_GRAD_FALSE"}))
    return out


def rule_loss_at_init(ctx):
    if not ctx.classification or ctx.loss is None or not math.isfinite(ctx.loss) or not ctx.n_classes \
            or ctx.n_classes < 2:
        return []
    expected = math.log(ctx.n_classes)
    ratio = ctx.loss / expected
    if ratio <= _t("loss_at_init_warning"):
        return []
    sev = "error" if ratio > _t("loss_at_init_error") else "warning"
    return [Finding(
        "LOSS_AT_INIT", sev, "", "",
        f"loss {ctx.loss:.3g} is {ratio:.1f}x the chance level -ln(1/{ctx.n_classes}) = {expected:.3g}",
        "the model is confidently wrong: the logits are too large (the last layer's weights or "
        "biases too big), so much of the first steps goes into squashing them; after training, a loss "
        "this far above chance means training diverged",
        "scale the last Linear's weight down (e.g. *0.01) and zero its bias, so that the first loss is "
        "about ln C",
        _src("loss_at_init_warning", "loss_at_init_error"),
        {"loss": ctx.loss, "expected": expected, "ratio": ratio})]


def _pre_cause(row, ctx, prev_weight):
    parts = []
    if row.pre_mean is not None:
        parts.append(f"pre-activations mean {row.pre_mean:.2g}, std {row.pre_std:.2g}")
    if prev_weight is not None and prev_weight.update_data:
        parts.append(f"update:data of {prev_weight.name} {_e(prev_weight.update_data)}")
    return parts


def _weight_before(ctx, name):
    """The ParamStats of the weight of the last layer before ``name`` (forward order) that has one."""
    best = None
    for r in ctx.layers:
        if r.name == name:
            break
        if r.param is not None:
            best = r.param
    return next((p for p in ctx.params if p.name == best), None)


def rule_dead_relu(ctx):
    out = []
    for r in ctx.layers:
        if r.frac_dead is None or r.frac_dead < _t("dead_warning"):
            continue
        sev = "error" if r.frac_dead >= _t("dead_error") else "warning"
        units = r.shape[1]
        dead = round(r.frac_dead * units)
        w = _weight_before(ctx, r.name)
        cause = _pre_cause(r, ctx, w)
        lr_high = w is not None and w.update_data is not None and w.update_data > _t("update_high_warning")
        why = (f"-> the learning rate is too high (a step changes {w.name} by 10^{math.log10(w.update_data):.1f} "
               "of its size): big steps push the pre-activations below 0 for every input" if lr_high else
               "-> the pre-activations start (or were pushed) below 0 for every input: biases too "
               "negative or the weights' scale wrong")
        out.append(Finding(
            "DEAD_RELU", sev, r.name, r.description,
            f"{dead}/{units} units output 0 for every example",
            "; ".join(cause) + f" {why}; a dead unit has gradient 0, so it never recovers",
            ("lower lr ~10x (aim for update:data ~1e-3), or LeakyReLU" if lr_high else
             "zero the biases and re-init the weights with cr.nn.init.kaiming_normal_ (or use LeakyReLU)"),
            _src("dead_warning", "dead_error"),
            {"dead": dead, "units": units, "fraction": r.frac_dead, "pre_mean": r.pre_mean}))
    return out


def rule_saturated(ctx):
    out = []
    for r in ctx.layers:
        if r.frac_saturated is None or r.frac_saturated < _t("saturated_warning"):
            continue
        sev = "error" if r.frac_saturated >= _t("saturated_error") else "warning"
        out.append(Finding(
            "SATURATED", sev, r.name, r.description,
            f"{100 * r.frac_saturated:.0f}% of the outputs are in the flat tails (|t| > 0.97, local slope "
            f"< 6% of its max); pre-activations std {r.pre_std:.3g}",
            "the pre-activations are too large, so the unit passes almost no gradient back (the slope "
            f"{'1 - t^2' if r.kind == 'Tanh' else 's(1 - s)'} is ~0)",
            "scale the previous layer's weights down: init with gain 5/3 / sqrt(fan_in) (kaiming_normal_ with "
            "nonlinearity='tanh'), or put a BatchNorm1d before the activation",
            _src("saturation_level", "saturated_warning", "saturated_error"),
            {"fraction": r.frac_saturated, "pre_std": r.pre_std}))
    return out


def _weight_norms(ctx):
    by = {p.name: p for p in ctx.params}
    return [(n, by[n].grad_norm) for n in ctx.param_order
            if by[n].grad_norm is not None and math.isfinite(by[n].grad_norm) and by[n].grad_norm > 0]


def rule_vanishing_exploding(ctx):
    norms = _weight_norms(ctx)
    if len(norms) < 2:
        return []
    (first, g1), (last, gl) = norms[0], norms[-1]
    ratio = g1 / gl
    steps = len(norms) - 1
    decay = ratio ** (1.0 / steps)
    layer = first.rsplit(".", 1)[0] if "." in first else ""
    listing = ", ".join(f"{n} {g:.2g}" for n, g in norms)
    if ratio < _t("vanishing_ratio"):
        sev = "error" if g1 < _t("vanishing_first_norm") else "warning"
        return [Finding(
            "VANISHING", sev, layer, ctx.description(layer),
            f"|grad {first}| / |grad {last}| = {ratio:.2g} (x{decay:.2g} per layer across {len(norms)} weights; "
            f"|grad {first}| = {g1:.2g}); grad norms: {listing}",
            "each layer multiplies the gradient by (weights) x (activation slope) < 1: small init, sigmoid "
            "(slope <= 1/4) or saturated units, so the first layers barely learn",
            "use ReLU with cr.nn.init.kaiming_normal_ (He init), or put BatchNorm1d before each activation; "
            "avoid deep sigmoid stacks",
            _src("vanishing_ratio", "vanishing_first_norm") + f"; {GLOROT}; {HE}",
            {"ratio": ratio, "per_layer": decay, "first_norm": g1, "norms": dict(norms)})]
    if ratio > _t("exploding_ratio"):
        return [Finding(
            "EXPLODING", "error", layer, ctx.description(layer),
            f"|grad {first}| / |grad {last}| = {ratio:.3g} (x{decay:.2g} per layer across {len(norms)} weights); "
            f"grad norms: {listing}",
            "each layer multiplies the gradient by more than 1 (weights too large for the depth, or "
            "unnormalised inputs), so the first layers take huge steps",
            "re-init with kaiming_normal_ / xavier_normal_ (variance 1/fan_in), normalise the inputs, add "
            "BatchNorm1d, or clip: cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
            _src("exploding_ratio") + f"; {GLOROT}",
            {"ratio": ratio, "per_layer": decay, "norms": dict(norms)})]
    return []


def rule_learning_rate(ctx, explained=(), last_only=False):
    """Judged on the median weight; with vanishing or exploding gradients only the last weight (next
    to the loss) says what the learning rate does, the others move little or much because of depth."""
    if not ctx.has_optimizer:
        return []
    ups = [(p.name, p.update_data) for p in ctx.params
           if len(p.shape) >= 2 and p.update_data is not None and p.update_data > 0
           and math.isfinite(p.update_data) and p.layer not in explained]
    if last_only and ctx.param_order:
        ups = [(n, u) for n, u in ups if n == ctx.param_order[-1]]
    if not ups:
        return []
    logs = sorted(math.log10(u) for _, u in ups)
    mid = logs[len(logs) // 2] if len(logs) % 2 else (logs[len(logs) // 2 - 1] + logs[len(logs) // 2]) / 2
    med = 10 ** mid
    listing = ", ".join(f"{n} {_e(u)}" for n, u in ups)
    src = _src("update_low_warning", "update_low_error", "update_high_error")
    if med > _t("update_high_warning"):
        sev = "error" if med > _t("update_high_error") else "warning"
        return [Finding(
            "LR_TOO_HIGH", sev, "", "",
            f"median update:data {_e(med)} (aim 10^-3); per weight: {listing}",
            "one step changes the weights by more than 1% of their size: training will be noisy, "
            "diverge, or kill ReLUs",
            f"lower the learning rate ~{_times(med / 1e-3)}x (aim for update:data ~1e-3)",
            src, {"median": med, "per_weight": dict(ups)})]
    if med < _t("update_low_warning"):
        sev = "error" if med < _t("update_low_error") else "warning"
        return [Finding(
            "LR_TOO_LOW", sev, "", "",
            f"median update:data {_e(med)} (aim 10^-3); per weight: {listing}",
            "one step changes the weights by less than 0.01% of their size: the loss will barely move",
            f"raise the learning rate ~{_times(1e-3 / med)}x (aim for update:data ~1e-3)",
            src, {"median": med, "per_weight": dict(ups)})]
    return []


def rule_activation_scale(ctx):
    pre = [(r.name, r.description, r.pre_std) for r in ctx.layers
           if r.pre_std is not None and math.isfinite(r.pre_std) and r.pre_std > 0]
    if len(pre) < 3:
        return []
    k = _t("activation_scale")
    base = pre[0][2]
    for name, desc, s in pre[1:]:
        if s < base / k or s > base * k:
            grow = s > base
            return [Finding(
                "ACTIVATION_SCALE", "warning", name, desc,
                f"pre-activation std {s:.3g} here vs {base:.3g} at the first activation "
                f"({'grew' if grow else 'shrank'} {max(s / base, base / s):.0f}x); through depth: "
                + ", ".join(f"{n} {v:.2g}" for n, _, v in pre),
                "the init does not preserve the variance of the signal through the layers: each layer "
                f"{'multiplies' if grow else 'divides'} it, so deep layers see {'huge' if grow else 'tiny'} inputs",
                "init weights with std gain/sqrt(fan_in) (kaiming_normal_ for ReLU, gain 5/3 for tanh, "
                "xavier for sigmoid) or add BatchNorm1d",
                _src("activation_scale"), {"stds": {n: v for n, _, v in pre}})]
    return []


def rule_grad_accumulating(ctx):
    e = ctx.entry_grads
    if e is None or e["ratio"] is None or e["ratio"] < _t("grad_accumulating"):
        return []
    if e["stepped"]:
        return [Finding(
            "GRAD_ACCUMULATING", "error", "", "",
            f"the .grad found on entry is {e['ratio']:.1f}x the gradient of this batch, and an optimizer "
            "step already used it (backward warns: 'an optimizer step already used')",
            "zero_grad() is missing: backward adds into .grad, so every step follows the sum of all "
            "the gradients so far",
            "call optimizer.zero_grad() before each loss.backward()",
            f"{CALIBRATED} (ratio {_t('grad_accumulating'):g}); chainrule's forgotten-zero_grad check",
            dict(e))]
    return [Finding(
        "GRAD_ACCUMULATING", "info", "", "",
        f"the .grad found on entry is {e['ratio']:.1f}x the gradient of this batch (no optimizer step "
        "has used it yet)",
        "several backward() calls added up without a step: gradient accumulation",
        "nothing, if you accumulate on purpose (then divide the loss by the number of micro-batches); "
        "else call optimizer.zero_grad() before each backward",
        f"{CALIBRATED} (ratio {_t('grad_accumulating'):g})", dict(e))]


def rule_batch_mixing(ctx):
    if ctx.mixing_skipped:
        return [Finding("BATCH_MIXING", "info", "", "", f"not checked: {ctx.mixing_skipped}", "", "",
                        "per-example Jacobian check")]
    m = ctx.mixing
    if m is None:
        return []
    span = (f" (the first output with the batch dim first that mixes examples is that of '{m['span'][-1]}'; "
            f"before it {', '.join(repr(s) for s in m['span'][:-1])} output(s) without the batch dim first, so "
            f"the mixing happens in one of {', '.join(repr(s) for s in m['span'])})" if len(m["span"]) > 1 else "")
    return [Finding(
        "BATCH_MIXING", "error", m["layer"], m["description"],
        f"output {m['i']} depends on {m['others']}/{m['n'] - 1} other examples of the batch (d out[{m['i']}] / "
        f"d x[j] != 0 for j != {m['i']}){span}",
        "a view/reshape moved data across the batch dim, e.g. h.view(h.shape[1], h.shape[0]) where "
        "h.t() (or .transpose) was meant: view keeps memory order, transpose swaps axes",
        "use .transpose(0, 1) / .t() / .permute(...) to swap axes; use view/reshape only to split or merge "
        "neighbouring dims",
        "per-example Jacobian check: d out[i] / d x[j] must be 0 for i != j (model in eval mode)",
        dict(m))]


def run(ctx):
    """All rules, in the order they print within a severity."""
    findings = rule_nonfinite(ctx)
    if findings:
        return findings  # the statistics after a nan are noise
    findings += rule_no_grad(ctx)
    findings += rule_batch_mixing(ctx)
    findings += rule_grad_accumulating(ctx)
    findings += rule_loss_at_init(ctx)
    depth = rule_vanishing_exploding(ctx)
    findings += depth
    dead = rule_dead_relu(ctx)
    findings += dead
    findings += rule_saturated(ctx)
    findings += rule_activation_scale(ctx)
    # layers whose weights get no gradient because the ReLU after them is dead say nothing about lr
    explained = {p.layer for p in ctx.params if p.grad_norm == 0}
    findings += rule_learning_rate(ctx, explained, last_only=bool(depth))
    return findings


# ------------------------------------------------------------------------------------- over time
# watch() runs ``run`` on every sampled step (a Context of that real step) and ``run_over_time`` on
# the whole history: the same rules, fed statistics over a window, plus what only a timeline shows.
# A sample is any object with: step, loss, layers, params, dead ({layer: bool array per unit}),
# fresh_norm ({weight: norm of the step's own gradient}), stale (|.grad left from earlier steps| /
# |the step's own gradient|, None when unknown), stepped (a step already used that stale part),
# param_order, nonfinite, params_nonfinite and findings (``run`` on it).

WINDOW_CODES = ("DEAD_RELU", "LR_TOO_HIGH", "LR_TOO_LOW", "NONFINITE")  # judged over the window instead


def _steps(steps):
    """'steps 0..90 (10 samples)' or 'steps 10, 30'."""
    if len(steps) > 3:
        return f"steps {steps[0]}..{steps[-1]} ({len(steps)} samples)"
    return ("step " if len(steps) == 1 else "steps ") + ", ".join(str(s) for s in steps)


def _series(pairs, fmt="{:.2g}", n=6):
    """'0: 1.2, 10: 3.4, ..., 90: 7' (the first and last ones when there are many)."""
    items = [f"{s}: {fmt.format(v)}" for s, v in pairs]
    return ", ".join(items if len(items) <= n else items[:2] + ["..."] + items[-(n - 3):])


def _median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def run_over_time(samples, losses, window):
    """Findings over a training run: ``samples`` (sampled steps, in order) and ``losses`` (step,
    value) pairs from doc.log_loss. Statistics after the first nan/inf are noise, so everything but
    NONFINITE is judged on the samples before it; findings of ``run`` that no longer hold at the
    latest good sample become info ('seen at ..., not since')."""
    first_bad = next((s for s in samples if s.nonfinite), None)
    bad_loss = next(((t, v) for t, v in losses if not math.isfinite(v)), None)
    limit = min([s for s in (first_bad.step if first_bad else None, bad_loss[0] if bad_loss else None)
                 if s is not None], default=None)
    good = [s for s in samples if limit is None or s.step < limit]
    good_losses = [(t, v) for t, v in losses if limit is None or t < limit]
    findings = []
    if limit is not None:
        findings += rule_nonfinite_over_time(first_bad, bad_loss, limit, good, good_losses)
    if good:
        findings += _persisting(good)
        win = good[-window:]
        findings += rule_dead_over_window(good, win)
        findings += rule_learning_rate_over_window(good, 1 if limit is not None else window, limit is not None)
        findings += rule_exploding_over_time(good)
        findings += rule_grad_accumulating_over_time(good)
    findings += rule_loss_curve(good_losses)
    return findings


def _persisting(good):
    latest = good[-1]
    groups = {}
    for s in good:
        for f in s.findings:
            if f.code not in WINDOW_CODES:
                groups.setdefault((f.code, f.layer), []).append((s.step, f))
    out = []
    for seen in groups.values():
        steps = [t for t, _ in seen]
        f = seen[-1][1]
        data = dict(f.data, steps=steps, first_step=steps[0])
        if steps[-1] == latest.step:
            out.append(dataclasses.replace(f, evidence=f"{f.evidence} (at {_steps(steps)})", data=data))
        elif f.code == "VANISHING" and f.severity == "error" and _still_tiny(latest, f):
            # the ratio recovered only because every gradient died (a net stuck at a constant output)
            first, g = _still_tiny(latest, f)
            out.append(dataclasses.replace(
                f, data=data, evidence=f"seen at {_steps(steps)}; at step {latest.step} every gradient is "
                f"tiny (|grad {first}| = {g:.2g}): the network stopped learning, it did not recover. "
                f"At step {steps[-1]}: {f.evidence}"))
        else:
            out.append(dataclasses.replace(
                f, severity="info", data=data,
                evidence=f"seen at {_steps(steps)}, not since (latest sample: step {latest.step}): {f.evidence}"))
    return out


def _still_tiny(latest, f):
    """(first weight, its gradient norm) if that norm is still below the VANISHING error threshold."""
    first = next(iter(f.data.get("norms", {})), None)
    g = next((q.grad_norm for q in latest.params if q.name == first), None)
    return (first, g) if g is not None and g < _t("vanishing_first_norm") else None


def _first_step(good, code, layer=None):
    return next((s.step for s in good for f in s.findings
                 if f.code == code and (layer is None or f.layer == layer)), None)


def _window_context(latest, layers=None, params=None):
    return Context(layers if layers is not None else latest.layers,
                   params if params is not None else latest.params, latest.param_order, None, False,
                   None, True)


def _moved(good, window, earliest=False):
    """Per weight, the update:data of its last ``window`` real steps that moved it (finite, > 0): a
    network that died stops moving, and its last moving steps are what to judge (of a run that
    diverged, the ``earliest``: later steps measure the blow-up, not the learning rate)."""
    out = {}
    for s in (good if earliest else reversed(good)):
        for q in s.params:
            u = q.update_data
            if u is not None and math.isfinite(u) and u > 0 and len(out.setdefault(q.name, [])) < window:
                out[q.name].append((s.step, u))
    return out


def rule_dead_over_window(good, win):
    """DEAD_RELU for units that output 0 for every example of every sample in the window: rule_dead_relu
    fed the window's fraction (a unit dead on one batch may fire on the next), and each weight's
    largest update:data so far (the step that may have killed them)."""
    latest = good[-1]
    layers = []
    for r in latest.layers:
        masks = [s.dead.get(r.name) for s in win]
        if r.frac_dead is not None and all(m is not None and m.shape == masks[-1].shape for m in masks):
            r = dataclasses.replace(r, frac_dead=float(np.mean(np.logical_and.reduce(masks))))
        layers.append(r)
    moved = _moved(good, len(good))
    params = [dataclasses.replace(p, update_data=max((u for _, u in moved.get(p.name, [])), default=None))
              for p in latest.params]
    out = []
    for f in rule_dead_relu(_window_context(latest, layers, params)):
        first = good[0].dead.get(f.layer)
        start = (f"; at step {good[0].step}: {int(first.sum())}/{first.size} dead" if first is not None else "")
        steps = [s.step for s in win]
        out.append(dataclasses.replace(
            f, evidence=f"{f.evidence} in each of the last {len(win)} samples ({_steps(steps)}){start}",
            data=dict(f.data, steps=steps, first_fraction=(float(first.mean()) if first is not None else None),
                      first_step=_first_step(good, "DEAD_RELU", f.layer))))
    return out


def rule_learning_rate_over_window(good, window, earliest=False):
    """LR_TOO_HIGH / LOW from update:data measured on real steps: rule_learning_rate fed, per weight,
    the median over its last (``earliest``: first) ``window`` sampled steps that moved it."""
    latest = good[-1]
    moved = _moved(good, window, earliest)
    params = [dataclasses.replace(p, update_data=_median([u for _, u in moved[p.name]])
                                  if moved.get(p.name) else None) for p in latest.params]
    ctx = _window_context(latest, params=params)
    explained = {p.layer for p in latest.params if p.grad_norm == 0 and not moved.get(p.name)}
    vanished = _first_step(good, "VANISHING")
    depth = vanished is not None or any(f.code == "EXPLODING" for f in latest.findings)
    out = []
    for f in rule_learning_rate(ctx, explained, last_only=depth):
        steps = sorted({t for name in f.data["per_weight"] for t, _ in moved[name]})
        first = _first_step(good, f.code)
        since = f"; first seen at step {first}" if first is not None else ""
        f = dataclasses.replace(f, evidence=f"{f.evidence} (median over the real {_steps(steps)}{since})",
                                data=dict(f.data, steps=steps, first_step=first))
        if f.code == "LR_TOO_LOW" and vanished is not None:
            # small steps because the gradients vanished: a larger learning rate would not reach the
            # first layers (and would shake the last ones)
            f = dataclasses.replace(
                f, severity="warning",
                cause=f"the gradients vanished (VANISHING from step {vanished}): the steps are small because "
                      "the gradients are, not because of the learning rate",
                fix="fix the vanishing gradients first (see VANISHING), then look at the learning rate again")
        out.append(f)
    return out


def rule_exploding_over_time(good):
    """EXPLODING as growth over time: a weight's gradient (its step's own, not an accumulated .grad)
    whose norm grew more than 100x since the first sample and is still growing."""
    if len(good) < 3:
        return []
    best = None
    for name in good[-1].param_order:
        norms = [(s.step, s.fresh_norm.get(name)) for s in good]
        norms = [(t, g) for t, g in norms if g is not None and math.isfinite(g) and g > 0]
        if len(norms) < 3 or norms[-1][0] != good[-1].step or norms[-1][1] <= norms[-2][1]:
            continue
        growth = norms[-1][1] / norms[0][1]
        if best is None or growth > best[0]:
            best = (growth, name, norms)
    if best is None or best[0] <= _t("exploding_growth"):
        return []
    growth, name, norms = best
    layer = name.rsplit(".", 1)[0] if "." in name else ""
    return [Finding(
        "EXPLODING", "error", layer, next((r.description for r in good[-1].layers if r.name == layer), ""),
        f"the gradient norm of {name} grew {growth:.3g}x from step {norms[0][0]} to step {norms[-1][0]} and is "
        f"still growing: {_series(norms)}",
        "each step makes the next gradient bigger: the steps are too big for the curvature (learning rate "
        "too high) or the weights grow, and training is about to diverge",
        "lower the learning rate, or clip: cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0) before "
        "optimizer.step()",
        _src("exploding_growth"), {"growth": growth, "param": name, "norms": dict(norms)})]


def rule_grad_accumulating_over_time(good):
    """GRAD_ACCUMULATING: .grad at a step holds gradient an earlier step already used (it is more than
    3x the step's own gradient, measured by hooks on the parameters): rule_grad_accumulating's verdict,
    with the ratio at every sample as evidence."""
    ratios = [(s.step, s.stale, s.stepped) for s in good if s.stale is not None]
    if not ratios:
        return []
    step, ratio, stepped = ratios[-1]
    ctx = _window_context(good[-1])
    ctx.entry_grads = {"ratio": ratio, "stepped": stepped}
    out = []
    for f in rule_grad_accumulating(ctx):
        grows = len(ratios) > 1 and ratios[-1][1] > ratios[0][1]
        out.append(dataclasses.replace(
            f, evidence=(f"at step {step} .grad holds, on top of the gradient of that step's own batch, "
                         f"{ratio:.1f}x as much left over from earlier backward calls "
                         f"({'that an optimizer step already used' if stepped else 'no step has used it yet'}); "
                         f"left-over / own at each sample{' (growing)' if grows else ''}: "
                         f"{_series([(t, r) for t, r, _ in ratios], '{:.1f}')}"),
            data={"ratio": ratio, "stepped": stepped, "ratios": {t: r for t, r, _ in ratios}}))
    return out


def _smooth(losses):
    k = max(1, len(losses) // 10)
    v = [x for _, x in losses]
    avg = [sum(v[i:i + k]) / k for i in range(len(v) - k + 1)]
    return k, avg


def rule_loss_curve(losses):
    """LOSS_RISING and LOSS_STALLED from the logged losses (moving averages over a tenth of them)."""
    if len(losses) < 10:
        return []
    k, avg = _smooth(losses)
    first, start, end = losses[0][1], avg[0], avg[-1]
    i_best = min(range(len(avg)), key=avg.__getitem__)
    best = avg[i_best]
    last = losses[-1][0]
    if end > _t("loss_rising") * min(best, first) and end - min(best, first) > 1e-12:
        sev = "error" if end > first else "warning"
        low = (f"fell to {best:.4g} by step {losses[i_best + k - 1][0]} and rose" if best < first else "rose")
        return [Finding(
            "LOSS_RISING", sev, "loss", "",
            f"the loss (mean over {k} steps) {low} to {end:.4g} by step {last}; it was {first:.4g} at step "
            f"{losses[0][0]}",
            "the steps overshoot: the learning rate is too high for where training is now (or a "
            "schedule raised it); next come nan losses",
            "lower the learning rate ~3-10x or decay it (cr.optim.lr_scheduler); clip gradients with "
            "cr.nn.utils.clip_grad_norm_",
            _src("loss_rising"), {"first": first, "best": best, "end": end, "window": k})]
    if len(losses) >= 20 and end > (1 - _t("loss_stalled")) * start:
        return [Finding(
            "LOSS_STALLED", "warning", "loss", "",
            f"the loss (mean over {k} steps) went from {start:.4g} to {end:.4g} over steps "
            f"{losses[0][0]}..{last}: less than {100 * _t('loss_stalled'):.0f}% progress",
            "the weights barely move (learning rate too low) or the gradient does not reach them "
            "(vanishing gradients, dead ReLUs, a detached parameter)",
            "see the LR_TOO_LOW / VANISHING / DEAD_RELU findings; else raise the learning rate ~10x",
            _src("loss_stalled"), {"start": start, "end": end, "window": k})]
    return []


def rule_nonfinite_over_time(first_bad, bad_loss, limit, good, good_losses):
    """NONFINITE at the first step where the loss or a sampled statistic is nan/inf. After finite steps
    that overshot (loss rising, update:data too high, gradients growing, or weights already nan when
    the step began) the cause is divergence, not an op."""
    at_loss = bad_loss is not None and bad_loss[0] == limit
    f = next((f for f in first_bad.findings if f.code == "NONFINITE"), None) \
        if first_bad is not None and first_bad.step == limit else None
    what = (f"the loss is {bad_loss[1]} at step {limit}" if at_loss else
            f"at step {limit}: {f.evidence}" if f is not None else f"non-finite statistics at step {limit}")
    hints = []
    if good_losses:
        lo = min(v for _, v in good_losses)
        hints.append(f"loss {good_losses[0][1]:.3g} at step {good_losses[0][0]}, lowest {lo:.3g}, "
                     f"{good_losses[-1][1]:.3g} at step {good_losses[-1][0]}")
        rose = good_losses[-1][1] > _t("loss_rising") * lo
    else:
        rose = False
    lr = next((g for g in (good[-1].findings if good else []) if g.code == "LR_TOO_HIGH"), None)
    if lr is not None:
        hints.append(f"update:data at step {good[-1].step}: {lr.evidence.split(';')[0].replace('median update:data ', '')}")
    weights_bad = first_bad is not None and first_bad.step == limit and first_bad.params_nonfinite
    if weights_bad:
        hints.append("the weights were already nan/inf when that step began")
    diverged = bool(good) and (rose or lr is not None or weights_bad or bool(rule_exploding_over_time(good)))
    src = "finite-value check (as torch.autograd.detect_anomaly)"
    data = {"step": limit, "diverged": diverged, "loss": bad_loss[1] if at_loss else None,
            "layer": f.layer if f is not None else None}
    evidence = what + (f" (finite before: {'; '.join(hints)})" if hints else "")
    if diverged:
        return [Finding(
            "NONFINITE", "error", "loss" if at_loss or f is None else f.layer,
            "" if at_loss or f is None else f.description, evidence,
            "training diverged: the steps were too big, each one made the loss and the gradients bigger "
            "until the values overflowed to inf and then nan",
            "lower the learning rate ~10x (aim for update:data ~1e-3), or clip: "
            "cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0) before optimizer.step()",
            f"{src}; {_src('update_high_error')}", data)]
    if f is not None:
        return [dataclasses.replace(f, evidence=evidence, data=dict(f.data, **data))]
    return [Finding(
        "NONFINITE", "error", "loss", "", evidence,
        "the loss function makes the nan or inf: typically log(0) of a probability that underflowed "
        "(log(softmax(x))) or 0/0",
        "use F.cross_entropy on logits (or log_softmax), not log(softmax(x)); clamp before log", src, data)]
