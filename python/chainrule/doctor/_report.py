"""What cr.doctor.check returns: Finding (one diagnosis, with its evidence, cause, fix and source)
and Report (the findings worst first, the per-layer table, and Karpathy-style figures)."""
from __future__ import annotations

import dataclasses
import html
import math
from typing import Optional

SEVERITIES = ("error", "warning", "info")


@dataclasses.dataclass
class Finding:
    """One diagnosis. ``code`` names it (e.g. "DEAD_RELU"); ``severity`` is "error", "warning" or
    "info"; ``layer`` the module's dotted name ('' for the whole model, 'loss' for the loss
    function); ``evidence`` a sentence with the numbers and ``data`` the same numbers as a dict;
    ``cause`` why it happens, ``fix`` what to change, ``source`` where the rule and its thresholds
    come from (a paper or lecture, or "calibrated on chainrule's fixtures")."""
    code: str
    severity: str
    layer: str
    description: str
    evidence: str
    cause: str
    fix: str
    source: str
    data: dict = dataclasses.field(default_factory=dict)

    def where(self):
        if self.layer == "":
            return "the model"
        if self.layer == "loss":
            return "the loss function"
        return f"'{self.layer}' ({self.description})" if self.description else f"'{self.layer}'"

    def __str__(self):
        return (f"[{self.severity}] {self.code} at {self.where()}: {self.evidence}\n"
                f"  cause: {self.cause}\n  fix:   {self.fix}\n  source: {self.source}")


def _fmt(v, kind="g"):
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if kind == "log":
        return f"{math.log10(v):.1f}" if v > 0 else "-inf"
    if kind == "pct":
        return f"{100 * v:.0f}%"
    return f"{v:.3g}"


_COLUMNS = [("layer", lambda r: r.name or "(model)"), ("module", lambda r: r.description),
            ("act mean", lambda r: _fmt(r.act_mean)), ("act std", lambda r: _fmt(r.act_std)),
            ("dead", lambda r: _fmt(r.frac_dead, "pct")), ("satur.", lambda r: _fmt(r.frac_saturated, "pct")),
            ("grad norm", lambda r: _fmt(r.grad_norm)), ("grad std", lambda r: _fmt(r.grad_std)),
            ("log10 grad:data", lambda r: _fmt(r.grad_data, "log")),
            ("log10 upd:data", lambda r: _fmt(r.update_data, "log")),
            ("nan/inf", lambda r: f"{r.nan + r.grad_nan}/{r.inf + r.grad_inf}" if r.nan + r.inf + r.grad_nan
             + r.grad_inf else "")]


class Report:
    """What ``cr.doctor.check`` found. ``print(report)`` lists the findings worst first, then the
    per-layer table; ``report.findings`` (Finding), ``report.layers`` (LayerStats, one per leaf
    module in forward order) and ``report.params`` (ParamStats) are the data; ``report.loss`` is the
    loss on the batch; ``report.notes`` says what could not be checked; ``report.plot()`` draws the
    figures.

        report = cr.doctor.check(model, F.cross_entropy, (x, y), optimizer=opt)
        [f.code for f in report.findings if f.severity == "error"]     # [] for a healthy model
    """

    def __init__(self, findings, layers, params, loss, notes, hist):
        order = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings = sorted(findings, key=lambda f: order[f.severity])  # stable: rule order within
        self.layers = layers
        self.params = params
        self.loss = loss
        self.notes = notes
        self._hist = hist

    def codes(self, severity=None):
        """The findings' codes (of one severity, if given), worst first."""
        return [f.code for f in self.findings if severity is None or f.severity == severity]

    @property
    def ok(self):
        """True when nothing of error severity was found."""
        return not any(f.severity == "error" for f in self.findings)

    def table(self):
        """The per-layer table as text."""
        rows = [[name for name, _ in _COLUMNS]] + [[get(r) for _, get in _COLUMNS] for r in self.layers]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)

    def __str__(self):
        n = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        head = (f"cr.doctor: loss {self.loss:.4g}; {n['error']} error(s), {n['warning']} warning(s), "
                f"{n['info']} note(s)" if self.loss is not None else "cr.doctor: no loss")
        parts = [head] + [str(f) for f in self.findings] + [f"note: {s}" for s in self.notes]
        return "\n".join(parts + ["", self.table()])

    __repr__ = __str__

    def _repr_html_(self):
        colour = {"error": "#b00020", "warning": "#b26a00", "info": "#555"}
        items = "".join(
            f"<li><b style='color:{colour[f.severity]}'>[{f.severity}] {f.code}</b> at "
            f"{html.escape(f.where())}: {html.escape(f.evidence)}<br><i>cause:</i> {html.escape(f.cause)}"
            f"<br><i>fix:</i> {html.escape(f.fix)}<br><small>source: {html.escape(f.source)}</small></li>"
            for f in self.findings)
        head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in _COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(get(r))}</td>" for _, get in _COLUMNS) + "</tr>"
                       for r in self.layers)
        return (f"<div><p>cr.doctor: loss {self.loss if self.loss is None else f'{self.loss:.4g}'}</p>"
                f"<ul>{items or '<li>no findings</li>'}</ul><table>{head}{body}</table></div>")

    def plot(self, bins=50):
        """A matplotlib Figure with three panels, as in Karpathy's "Building makemore part 3":
        histograms of each activation layer's outputs, histograms of each weight's gradient
        magnitudes (log10 |grad|: vanishing and exploding gradients are orders of magnitude apart,
        which a linear axis squeezes into one spike at 0), and log10(update:data) per weight with a
        dashed line at -3 (the aim). Returns the Figure
        (nothing is shown: in a notebook it displays itself; elsewhere ``fig.savefig(path)``)."""
        import numpy as np
        from matplotlib.figure import Figure

        fig = Figure(figsize=(15, 4.2), layout="constrained")
        ax_act, ax_grad, ax_upd = fig.subplots(1, 3)
        for name, label, values in self._hist["activations"]:
            _histline(ax_act, values, bins, label)
        ax_act.set_title("activation distribution (outputs of activation layers)")
        ax_act.set_xlabel("value")
        for name, label, values in self._hist["gradients"]:
            mags = np.abs(values[np.isfinite(values)])
            _histline(ax_grad, np.log10(mags[mags > 0]), bins, label)
        if not ax_grad.lines:  # say why the panel is empty (a dead network's gradients are all 0)
            ax_grad.text(0.5, 0.5, "every weight's gradient is 0" if self._hist["gradients"] else "no gradients",
                         ha="center", va="center", transform=ax_grad.transAxes)
        ax_grad.set_title("weight gradient magnitudes")
        ax_grad.set_xlabel("log10 |gradient|")
        for ax in (ax_act, ax_grad):
            if ax.lines:
                ax.legend(fontsize=7, loc="upper right")
            ax.set_ylabel("density")
        measured = [p for p in self.params if len(p.shape) >= 2 and p.update_data is not None]
        if measured:
            vals = [math.log10(p.update_data) if p.update_data > 0 else None for p in measured]  # None: 0
            logs = [v for v in vals if v is not None]
            floor = min([-5.0] + [math.floor(v) - 0.5 for v in logs])  # bars rise from the floor: taller = bigger
            ax_upd.bar(range(len(vals)), [0.0 if v is None else v - floor for v in vals], bottom=floor,
                       color=["#c44" if v is None or v > -2 or v < -4 else "#48a" for v in vals])
            for i, v in enumerate(vals):
                if v is None:
                    ax_upd.text(i, floor + 0.1, "0: did not move", rotation=90, ha="center", va="bottom",
                                fontsize=8, color="#c44")
            ax_upd.set_ylim(floor, max([0.0] + [v + 0.5 for v in logs]))
            ax_upd.set_xticks(range(len(vals)), [p.name for p in measured], rotation=45, ha="right", fontsize=8)
            ax_upd.axhline(-3, color="k", linestyle="--", linewidth=1, label="aim: 1e-3")
            ax_upd.axhspan(-4, -2, color="#8c8", alpha=0.15, label="fine: 1e-4 .. 1e-2")
            ax_upd.legend(fontsize=7)
        else:
            ax_upd.text(0.5, 0.5, "no optimizer step\n(pass optimizer= to check)", ha="center", va="center",
                        transform=ax_upd.transAxes)
        ax_upd.set_title("log10(update:data) per weight")
        ax_upd.set_ylabel("log10(std(lr*update) / std(weight))")
        return fig


def _histline(ax, values, bins, label):
    import numpy as np
    values = values[np.isfinite(values)]
    if values.size == 0:
        return
    bins = max(10, min(bins, values.size // 10))  # a small weight gets few bins, not a comb
    hy, edges = np.histogram(values, bins=bins, density=True)
    ax.plot((edges[:-1] + edges[1:]) / 2, hy, label=label)
