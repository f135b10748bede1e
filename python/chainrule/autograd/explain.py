"""Two teaching tools read from the autograd graph: ``explain_backward`` (backprop written out as the
chain rule, step by step, with the engine's own numbers) and ``why_no_grad`` (why a .grad is None)."""
from __future__ import annotations

import builtins
import dataclasses
import html
import sys

import numpy as np

from .. import _core
from .._grad_mode import no_grad as _no_grad

__all__ = ["explain_backward", "why_no_grad", "Explanation", "Step", "Term", "FanOut", "GradDiagnosis"]

Tensor = _core.Tensor


# ------------------------------------------------------------------ small helpers
def _is_tensor(t):
    return isinstance(t, Tensor)


def _shape(t):
    return tuple(t.shape)


def _numpy(t):
    return np.asarray(t.detach(), dtype=np.float64)


def _norm(t):
    """‖t‖ (the Frobenius norm) in float64, so that equal tensors give equal norms."""
    return float(np.linalg.norm(_numpy(t).ravel())) if t.numel() else 0.0


def _all_zero(t):
    return t.numel() == 0 or not np.any(_numpy(t))  # (nan counts as nonzero)


def _num(v):
    """A scalar the way the lines print it: 4 decimals, or 4 significant digits when tiny or huge."""
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return f"{v:.4f}"
    return f"{v:.4e}"


def _describe(t):
    """A gradient in one phrase: its value when it has one element, else its shape and norm."""
    if t is None:
        return "None"
    if t.numel() == 1:
        return _num(float(t.item()))
    if t.numel() == 0:
        return f"{_shape(t)} (empty)"
    return f"{_shape(t)} ‖·‖={_num(_norm(t))}"


def _stored_grad(t):
    """t.grad without the warning a non-leaf gives (it says .grad is None for a non-leaf)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.grad


def _retains_grad(t):
    """Whether backward keeps t's .grad: leaves that require grad always do (torch's retains_grad is
    False for them, but their .grad is filled); non-leaves only after retain_grad()."""
    flag = getattr(t, "retains_grad", None)
    if flag is not None:
        return bool(flag)
    if t.is_leaf:
        return False
    # Without the property, the core's own rule shows itself: reading .grad of a non-leaf that does
    # not retain it warns.
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t.grad  # noqa: B018
    return not caught


def _key(t):
    """Identifies t in a graph: ("node", seq of its grad_fn) or ("leaf", its tensor id)."""
    fn = t.grad_fn
    return ("node", fn._seq) if fn is not None else ("leaf", t._cdata)


def _edge_key(fn):
    if fn is None:
        return None  # a constant input: no gradient goes there
    var = getattr(fn, "variable", None)
    if var is not None:
        return ("leaf", var._cdata)
    return ("node", fn._seq)


def _freed(err):
    text = str(err)
    return "second time" in text or "freed" in text


def _caller_tensors(frame):
    """tensor id -> (variable name, tensor), from a frame's locals and then its globals: how a
    notebook cell or a test names its tensors. Names starting with "_" (IPython's _, _1, Out ...)
    are skipped."""
    found = {}
    if frame is None:
        return found
    scopes = [frame.f_locals]
    if frame.f_globals is not frame.f_locals:
        scopes.append(frame.f_globals)
    for scope in scopes:
        for name, value in list(scope.items()):
            if isinstance(value, Tensor) and not name.startswith("_"):
                found.setdefault(value._cdata, (name, value))
    return found


def _given_names(names, what):
    """tensor id -> name from ``names``: a dict {"w": w} or (name, tensor) pairs (named_parameters())."""
    pairs = names.items() if hasattr(names, "items") else names
    out = {}
    for pair in pairs:
        try:
            name, t = pair
        except (TypeError, ValueError):
            raise TypeError(f"{what}: names should be a dict {{'w': w}} or (name, tensor) pairs, "
                            f"got an item {pair!r}") from None
        if not _is_tensor(t):
            raise TypeError(f"{what}: names[{name!r}] should be a tensor, got {type(t).__name__}")
        out[t._cdata] = str(name)
    return out


class _Graph:
    """The graph behind a tensor, read once: nodes by seq, each node's inputs as keys (None for a
    constant), leaves in the order a depth-first walk meets them (inputs left to right)."""

    def __init__(self, root):
        self.nodes, self.edges, self.leaves = {}, {}, {}
        stack = [root] if root is not None else []
        while stack:  # iterative: graphs can be a million nodes deep
            fn = stack.pop()
            var = getattr(fn, "variable", None)
            if var is not None:
                self.leaves.setdefault(var._cdata, var)
                continue
            if fn._seq in self.nodes:
                continue
            self.nodes[fn._seq] = fn
            nexts = [f for f, _ in fn.next_functions]
            self.edges[fn._seq] = [_edge_key(f) for f in nexts]
            stack.extend(f for f in reversed(nexts) if f is not None)

    def reaching(self, targets, cut=()):
        """The nodes from which some key in ``targets`` is reached through the graph's edges,
        leaving out the edges (seq, slot) in ``cut``. Inputs are made before the op that uses them
        (smaller seq), so one pass in seq order settles every node."""
        found = set()
        for s in sorted(self.nodes):
            for i, k in enumerate(self.edges[s]):
                if k is None or (s, i) in cut:
                    continue
                if k in targets or (k[0] == "node" and k[1] in found):
                    found.add(s)
                    break
        return found


# ------------------------------------------------------------------ explain_backward
@dataclasses.dataclass
class Term:
    """What one input of an op receives in backward: ``contribution`` is the gradient the engine sent
    along this edge (dL/d input through this op only); for scalars, ``local`` is d output / d input and
    contribution = upstream × local."""
    input: str
    shape: tuple
    contribution: object = None   # Tensor, or None when the engine sent nothing
    local: float | None = None
    adds: bool = False            # the input has other uses too: this is one term of its sum (+=)

    @property
    def norm(self):
        return None if self.contribution is None else _norm(self.contribution)

    @property
    def value(self):
        c = self.contribution
        return float(c.item()) if c is not None and c.numel() == 1 else None


@dataclasses.dataclass
class FanOut:
    """A tensor used by several ops: its gradient is the sum of what each use sends back. ``terms`` is
    (the op that used it, its contribution); ``total`` is the engine's sum (for a leaf: what backward
    adds to .grad)."""
    name: str
    terms: list
    total: object

    def __str__(self):
        users = ", ".join(u for u, _ in self.terms)
        if all(g.numel() == 1 for _, g in self.terms) and self.total.numel() == 1:
            parts = " + ".join(_num(float(g.item())) for _, g in self.terms)
            return f"dL/d{self.name} = {parts} = {_num(float(self.total.item()))}  ({self.name} is used " \
                   f"{len(self.terms)} times: by {users}; the chain rule adds the paths)"
        parts = " + ".join(f"‖·‖={_num(_norm(g))}" for _, g in self.terms)
        return f"dL/d{self.name} = sum of {len(self.terms)} terms ({parts}) = {_describe(self.total)}  " \
               f"({self.name} is used {len(self.terms)} times: by {users})"


@dataclasses.dataclass
class Step:
    """One op of backward, in the order the engine ran it: ``output = op(inputs)``; ``upstream`` is
    dL/d output (summed over its uses, see ``fan_out``), ``terms`` what each input on the path gets."""
    index: int
    node: str                   # "MulBackward0"
    op: str                     # "mul"
    seq: int                    # creation order of the op
    output: str
    inputs: list                # every input's name ("const" for constants)
    upstream: object            # Tensor: dL/d output as the engine summed it
    terms: list                 # [Term] for the inputs on the path
    fan_out: FanOut | None = None
    fn: object = dataclasses.field(default=None, repr=False)   # the Node itself

    def lines(self):
        head = f"step {self.index}  {self.output} = {self.op}({', '.join(self.inputs)})"
        out = [f"{head:<44} {self.node}"]
        if self.index == 1:
            who = "" if self.output == "L" else f": {self.output} is L"
            out.append(f"    dL/d{self.output} = {_describe(self.upstream)}  (the start{who})")
        elif self.fan_out is not None:
            out.append(f"    {self.fan_out}")
        z = self.output
        for t in self.terms:
            # "+=": one use of a tensor used several times adds its term, as micrograd's backward does
            d = "∂" if z == "L" else "d"  # a loss named L: dL/dL · ∂L/∂a keeps the local factor apart
            chain = f"dL/d{t.input} {'+=' if t.adds else '='} dL/d{z} · {d}{z}/{d}{t.input}"
            if t.contribution is None:
                out.append(f"    {chain} = nothing (the op sent no gradient)")
            elif t.local is not None and self.upstream.numel() == 1 and t.contribution.numel() == 1:
                out.append(f"    {chain} = {_num(float(self.upstream.item()))} × {_num(t.local)} = "
                           f"{_num(float(t.contribution.item()))}")
            else:
                out.append(f"    {chain} :  {_describe(self.upstream)}  →  {_describe(t.contribution)}")
        return out


@dataclasses.dataclass
class Explanation:
    """What explain_backward returns: the steps of backward in the engine's order (``steps``), the
    tensors whose gradient is a sum over several uses (``fan_outs``), and the final gradients
    (``grads``: name -> tensor, exactly what backward would add to .grad). Prints as the chain rule."""
    loss: str
    dtype: str
    steps: list
    fan_outs: list
    grads: dict                 # name -> Tensor (None: not reached)
    focused: bool = False
    max_steps: int = 200        # how many steps the text shows
    _by_id: dict = dataclasses.field(default_factory=dict, repr=False)   # tensor id -> name

    def grad(self, t):
        """The explained gradient of tensor t (one of the leaves or of x)."""
        name = self._by_id.get(t._cdata) if _is_tensor(t) else None
        if name is None:
            raise KeyError("explain_backward: this tensor is not one of the explained ones (pass it as x)")
        return self.grads[name]

    def __str__(self):
        n = len(self.grads)
        what = "the tensors in x" if self.focused else f"{n} leaf" if n == 1 else f"{n} leaves"
        out = [f"backward of L = {self.loss} ({self.dtype}): the chain rule from L back to {what}, "
               f"one op at a time, in the order backward runs"]
        for s in self.steps[:self.max_steps]:
            out += s.lines()
        if len(self.steps) > self.max_steps:  # (a deep net's text would bury the notebook)
            out.append(f"... {len(self.steps) - self.max_steps} more steps (.steps has them all)")
        out.append("gradients (what backward() adds to .grad):")
        fans = {f.name: f for f in self.fan_outs}
        for name, g in self.grads.items():
            if g is None:
                out.append(f"    dL/d{name} = None  (no path from L: why_no_grad says why)")
            elif name in fans:
                out.append(f"    {fans[name]}")
            else:
                out.append(f"    dL/d{name} = {_describe(g)}")
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self):
        return f"<pre>{html.escape(str(self))}</pre>"


def _targets(x, y):
    if x is None:
        return None
    xs = [x] if _is_tensor(x) else list(x)
    for i, t in enumerate(xs):
        if not _is_tensor(t):
            raise TypeError(f"explain_backward: x should be a tensor or a list of tensors, got "
                            f"{type(t).__name__} at position {i}")
        if not t.requires_grad:
            raise RuntimeError(f"explain_backward: x[{i}] does not require grad, so it has no gradient to "
                               f"explain; cr.autograd.why_no_grad(x[{i}], y) says why")
    return xs


def explain_backward(y, x=None, *, names=None, model=None, print=False):  # noqa: A002 (print=, as asked)
    """Backprop written out as the chain rule: every op backward runs, in its order, with the
    gradient that arrives (dL/d output), what it sends to each input (dL/d input = dL/d output ·
    d output/d input) and, where a tensor is used twice, the sum of its paths. The numbers are the
    engine's own (read while it runs ``cr.autograd.grad(y, ..., retain_graph=True)``), so the final
    gradients equal what ``y.backward()`` puts in ``.grad``; no ``.grad`` is touched and y can still
    be backpropagated afterwards.

    y must be a scalar (one element), as for ``y.backward()``. ``x``: a tensor or a list of tensors to
    focus on (only the ops on paths to them); by default every leaf. Names come from ``names`` (a
    dict ``{"w": w}`` or (name, tensor) pairs), then ``model.named_parameters()``; without ``names``
    the caller's variables name the tensors they hold; the rest get names like ``mul1`` or
    ``leaf2``. Returns an Explanation whose repr is the text (Jupyter shows it once); ``print=True``
    also prints it::

        x1, w1 = cr.tensor(2.0, requires_grad=True), cr.tensor(-0.5, requires_grad=True)
        z = x1 * w1
        o = cr.tanh(z)
        cr.autograd.explain_backward(o)
        # step 1  o = tanh(z)                          TanhBackward0
        #     dL/do = 1.0000  (the start: o is L)
        #     dL/dz = dL/do · do/dz = 1.0000 × 0.4200 = 0.4200
        # step 2  z = mul(x1, w1)                      MulBackward0
        #     dL/dx1 = dL/dz · dz/dx1 = 0.4200 × -0.5000 = -0.2100
        #     dL/dw1 = dL/dz · dz/dw1 = 0.4200 × 2.0000 = 0.8399
        # gradients (what backward() adds to .grad):
        #     dL/dx1 = -0.2100
        #     dL/dw1 = 0.8399

    A tensor used several times gets one "+=" line per use and its sum (the chain rule over paths:
    dL/da = 3.0000 + 3.0000 = 6.0000 for a * a). For tensors, a line gives shapes and norms (the
    Jacobian itself is not shown): ``dL/dW = dL/dh · dh/dW :  (5, 4) ‖·‖=0.2861  →  (4, 3) ‖·‖=0.5024``.
    Printed values are rounded to 4 decimals; the tensors in the result are exact.
    """
    if not _is_tensor(y):
        raise TypeError(f"explain_backward: expected a tensor y (the loss), got {type(y).__name__}")
    if y.numel() != 1:
        raise RuntimeError(f"explain_backward: expected a scalar y (one element, as y.backward() needs), got "
                           f"shape {_shape(y)}; explain y.sum() or y.mean() instead")
    if not y.requires_grad:
        raise RuntimeError("explain_backward: y does not require grad, so backward has no graph to run "
                           "(y.backward() raises); cr.autograd.why_no_grad(w, y) says why, for a tensor w "
                           "you expected a gradient for")
    xs = _targets(x, y)
    given = {}
    if model is not None:
        given.update({p._cdata: n for n, p in model.named_parameters()})
    if names is not None:
        given.update(_given_names(names, "explain_backward"))
    else:
        local = {cd: name for cd, (name, _) in _caller_tensors(sys._getframe(1)).items()}
        given = {**local, **given}

    graph = _Graph(y.grad_fn)
    if xs is None:
        xs = list(graph.leaves.values()) if y.grad_fn is not None else [y]
    target_keys = {_key(t) for t in xs}

    # Names: the given ones; the others after the op that made them, counted in creation order.
    used = set(given.values())

    counters = {}

    def fresh(base):
        k = counters.get(base, 0) + 1
        while f"{base}{k}" in used:
            k += 1
        counters[base] = k
        used.add(f"{base}{k}")
        return f"{base}{k}"

    label = {}
    for cd in graph.leaves:
        label[("leaf", cd)] = given.get(cd) or fresh("leaf")
    for s in sorted(graph.nodes):
        fn = graph.nodes[s]
        out = fn._output
        name = given.get(out._cdata) if out is not None else None
        if name is None and out is not None and out._cdata == y._cdata:
            # (not "L": "dL/dL · dL/da" would blur the loss with its op's local derivative)
            name = "y" if "y" not in used else fresh("y")
            used.add(name)
        label[("node", s)] = name or fresh(fn._op)
    for t in xs:
        k = _key(t)
        if k not in label:
            label[k] = given.get(t._cdata) or ("y" if t._cdata == y._cdata and "y" not in used else fresh("x"))
    loss_name = label[_key(y)]

    from . import grad as _autograd_grad  # (the package's grad: defined after this module is imported)
    records, order = {}, []

    def observe(node, grad_output, grads):
        records[node._seq] = (node, grad_output, grads)
        order.append(node._seq)
    try:
        results = _core._observe_backward(
            observe, lambda: _autograd_grad(y, xs, retain_graph=True, allow_unused=True))
    except RuntimeError as e:
        if _freed(e):
            raise RuntimeError("explain_backward: the graph behind y was freed by an earlier backward() (it "
                               "frees what ops saved unless retain_graph=True); run the forward again, or "
                               "call backward(retain_graph=True) the first time") from e
        raise

    on_path = graph.reaching(target_keys)

    def wanted(k):  # an input on a path to x (constants and other branches are left out)
        return k is not None and (k in target_keys or (k[0] == "node" and k[1] in on_path))
    contributions = {}  # key -> [(user name, tensor)], in backward's order
    steps, keyed = [], []
    for s in order:
        if s not in on_path:
            continue
        fn, upstream, grads = records[s]
        edges = graph.edges[s]
        locals_ = None
        terms = []
        for i, k in enumerate(edges):
            if not wanted(k):
                continue
            g = grads[i] if i < len(grads) else None
            shape = tuple(fn._input_shapes[i])
            local = None
            if g is not None and upstream.numel() == 1 and g.numel() == 1:
                if locals_ is None:
                    locals_ = _local_derivatives(fn, upstream)
                local = locals_[i] if i < len(locals_) else None
            terms.append(Term(label[k], shape, g, local))
            keyed.append((terms[-1], k))
            if g is not None:
                contributions.setdefault(k, []).append((label[("node", s)], g))
        inputs = ["const" if k is None else label[k] for k in edges]
        steps.append(Step(len(steps) + 1, fn.name(), fn._op, s, label[("node", s)], inputs, upstream, terms,
                          fn=fn))

    for term, k in keyed:
        term.adds = len(contributions[k]) > 1 if term.contribution is not None else False
    by_key = {}
    for step in steps:  # a node's upstream is the engine's sum of what its users sent
        terms = contributions.get(("node", step.seq), [])
        if len(terms) > 1:
            by_key[("node", step.seq)] = step.fan_out = FanOut(step.output, terms, step.upstream)
    grads_out, by_id = {}, {}
    for t, g in zip(xs, results):
        k = _key(t)
        name = label[k]
        grads_out[name], by_id[t._cdata] = g, name
        terms = contributions.get(k, [])
        if len(terms) > 1 and g is not None and k not in by_key:
            by_key[k] = FanOut(name, terms, g)
    fan_outs = list(by_key.values())
    result = Explanation(loss_name, str(y.dtype).replace("chainrule.", ""), steps, fan_outs, grads_out,
                         focused=x is not None, _by_id=by_id)
    if print:
        builtins.print(result)
    return result


def _local_derivatives(fn, upstream):
    """d output / d input of a scalar op: its own backward given a gradient of one."""
    try:
        with _no_grad():
            grads = fn._local_grads(_core._ones(list(upstream.shape), upstream.dtype))
    except (RuntimeError, TypeError, ValueError):  # freed, or an op that cannot say
        return []
    return [float(g.item()) if g is not None and g.numel() == 1 else None for g in grads]


# ------------------------------------------------------------------ why_no_grad
REASONS = ("NOT_LEAF", "REQUIRES_GRAD_FALSE", "DETACHED", "NO_GRAD", "NOT_IN_GRAPH", "INTEGER_DTYPE",
           "DEAD_PATH", "GRAPH_FREED", "HAS_GRAD", "OK")


@dataclasses.dataclass
class GradDiagnosis:
    """What why_no_grad found: ``reason`` (a code, one of REASONS), ``message`` (why, then the fix),
    ``fix`` (the fix alone), ``grad`` (the gradient loss gives t, computed without touching .grad,
    when it could be), ``ops`` (the ops the message points at, e.g. the ReLUs of a dead path)."""
    reason: str
    message: str
    fix: str = ""
    name: str = "t"
    grad: object = None
    ops: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        return self.reason in ("HAS_GRAD", "OK")

    def __str__(self):
        return f"why_no_grad({self.name}): {self.reason}\n{self.message}"

    __repr__ = __str__

    def _repr_html_(self):
        return f"<pre>{html.escape(str(self))}</pre>"


def _diag(reason, why, fix, name, **kw):
    return GradDiagnosis(reason, f"{why}\nFix: {fix}" if fix else why, fix, name, **kw)


def _at(t, what):
    """' at lab.py, line 12', after `what`, when the place t was cut from the graph is known."""
    where = t._untracked_at
    return f" {what}at {where}" if where else ""


def _suspects(variables, skip):
    """The caller's variables that lost their history: a hint for where the chain was cut (the last
    three defined: a notebook keeps old ones around)."""
    out = []
    for cd, (name, t) in variables.items():
        how = t._untracked_by if cd not in skip else None
        if how == "detach":
            out.append(f"{name} came from .detach(){_at(t, '')}")
        elif how:
            out.append(f"{name} was computed by '{how}'{_at(t, '')} under no_grad")
    return out[-3:]


def why_no_grad(t, loss, *, model=None):
    """Why ``t.grad`` is None (or zero) after ``loss.backward()``, with the fix. Returns a
    GradDiagnosis: ``.reason`` is one of

    - "INTEGER_DTYPE": t is an integer tensor; only floats have derivatives.
    - "REQUIRES_GRAD_FALSE": t is a leaf made without requires_grad=True (or frozen).
    - "DETACHED": t (or the loss) came from ``.detach()`` / ``.data``: the history was cut.
    - "NO_GRAD": t (or the loss) was computed under ``no_grad``, by the op named in the message.
    - "NOT_IN_GRAPH": loss was not computed from t (or loss has no graph at all).
    - "NOT_LEAF": t is computed by an op: backward keeps .grad only for leaves (use retain_grad()).
    - "DEAD_PATH": t gets a gradient, but it is exactly zero because every path from loss back to t
      goes through a ReLU that is off (the ReLUs are named).
    - "GRAPH_FREED": t is in the graph, but a backward already freed it and t.grad is empty.
    - "HAS_GRAD": t.grad holds a gradient; "OK": t will get one when loss.backward() runs.

    Nothing is changed: the gradient is computed with ``cr.autograd.grad(loss, [t],
    retain_graph=True, allow_unused=True)``. Tensors are called by the caller's variable names (or,
    with ``model=``, by parameter names). Op names are given, with the line of a ``.detach()``; the
    line of an op run under no_grad (or of any recorded op) is known when it ran under
    ``cr.autograd.detect_anomaly()``::

        x = cr.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        loss = h.sum()
        loss.backward()
        h.grad                                 # None (and a warning)
        cr.autograd.why_no_grad(h, loss)       # NOT_LEAF ... call h.retain_grad() before backward
    """
    if not _is_tensor(t):
        raise TypeError(f"why_no_grad: expected a tensor as t (the tensor whose .grad you ask about), got "
                        f"{type(t).__name__}")
    if not _is_tensor(loss):
        raise TypeError(f"why_no_grad: expected a tensor as loss (what you call backward on), got "
                        f"{type(loss).__name__}")
    variables = _caller_tensors(sys._getframe(1))
    if model is not None:  # parameters by their dotted names ("0.weight")
        variables.update({p._cdata: (name, p) for name, p in model.named_parameters()})
    n = variables.get(t._cdata, ("t",))[0]
    ln = variables.get(loss._cdata, ("loss",))[0]
    return _why(t, loss, n, ln, variables)


def _why(t, loss, n, ln, variables):
    # 1. t itself cannot carry a gradient.
    if not t.is_floating_point():
        return _diag("INTEGER_DTYPE",
                     f"{n} has dtype {str(t.dtype).replace('chainrule.', '')}: only floating-point tensors "
                     f"(float32, float64) carry gradients — an integer has no small steps to differentiate "
                     f"along, so {n}.requires_grad_() raises RuntimeError (as in torch) and {n}.grad stays None.",
                     f"make it a float before computing {ln}: {n} = {n}.float().requires_grad_() — or, if it "
                     f"holds indices or labels, it needs no gradient.", n)
    if not t.requires_grad:
        how = t._untracked_by
        if how == "detach":
            return _diag("DETACHED",
                         f"{n} came from .detach(){_at(t, '')} (or .data) of a tensor that requires grad: the same values "
                         f"with the history cut, so {n} requires no grad, backward stops there and {n}.grad "
                         f"stays None (as in torch).",
                         f"use the tensor before .detach() so gradients flow through it; or, to make {n} a "
                         f"new leaf of its own, {n} = {n}.detach().requires_grad_() before computing {ln}.", n,
                         ops=["detach"])
        if how:
            return _diag("NO_GRAD",
                         f"{n} was computed by '{how}'{_at(t, '')} while gradient recording was off (inside `with "
                         f"cr.no_grad():`, a function decorated with it, or after "
                         f"cr.set_grad_enabled(False)) from a tensor that requires grad: no graph was "
                         f"recorded, so {n} requires no grad and {n}.grad stays None (as in torch).",
                         f"compute {n} outside the no_grad block (keep no_grad for parameter updates and "
                         f"evaluation).", n, ops=[how])
        return _diag("REQUIRES_GRAD_FALSE",
                     f"{n} is a leaf with requires_grad=False: backward fills .grad only for tensors "
                     f"created with requires_grad=True (a frozen parameter has requires_grad_(False)), so "
                     f"{n}.grad stays None (as in torch).",
                     f"create it with cr.tensor(..., requires_grad=True), or call {n}.requires_grad_() "
                     f"before computing {ln}.", n)

    # 2. the loss has no graph: backward raises before anything is filled.
    if not loss.requires_grad:
        how = loss._untracked_by
        raises = (f"{ln}.backward() raises RuntimeError ('element 0 of tensors does not require grad and "
                  f"does not have a grad_fn', as in torch) and no .grad is filled")
        if how == "detach":
            return _diag("DETACHED", f"{ln} came from .detach(){_at(loss, '')}, which cut it from the graph: {raises}.",
                         f"compute {ln} without .detach() (detach or .item() only a copy you log).", n,
                         ops=["detach"])
        if how:
            return _diag("NO_GRAD", f"{ln} was computed by '{how}'{_at(loss, '')} under no_grad, so it has no graph: "
                                    f"{raises}.",
                         f"compute {ln} outside the no_grad block.", n, ops=[how])
        hint = _suspects(variables, {t._cdata, loss._cdata})
        return _diag("NOT_IN_GRAPH",
                     f"{ln} does not require grad: nothing it was computed from required grad at the time "
                     f"(no history reaches {n}), so {raises}."
                     + (f" Among your variables, {'; '.join(hint)} — the chain may be cut there." if hint else ""),
                     f"compute {ln} from {n} with grad enabled and without .detach() or .data on the way.", n)

    if t._cdata == loss._cdata and t.is_leaf:
        return _diag("HAS_GRAD" if _stored_grad(t) is not None else "OK",
                     f"{n} is the loss itself, a leaf: its gradient is 1.", "", n)

    # 3. is t in the loss's graph at all?
    graph = _Graph(loss.grad_fn)
    tk = _key(t)
    root = loss.grad_fn._seq if loss.grad_fn is not None else None
    in_graph = t._cdata == loss._cdata or (root is not None and root in graph.reaching({tk}))
    if not in_graph:
        later = ""
        if t.grad_fn is not None and root is not None and t.grad_fn._seq > root:
            later = f" {n} was computed after {ln}."
        hint = _suspects(variables, {t._cdata, loss._cdata})
        leaves = [variables.get(cd, ("?",))[0] for cd in graph.leaves]
        shown = ", ".join(leaves[:6]) + (" ..." if len(leaves) > 6 else "")
        return _diag("NOT_IN_GRAPH",
                     f"{ln}'s graph ({len(graph.nodes)} ops; leaves: {shown}) never uses {n}, so backward "
                     f"never reaches it and {n}.grad stays None (as in torch). Usually {ln} was computed from "
                     f"another tensor with the same values: a copy (clone(), .detach(), .data), or the name "
                     f"{n} was bound to a new tensor after {ln} was computed.{later}"
                     + (f" Among your variables, {'; '.join(hint)}." if hint else ""),
                     f"compute {ln} again from {n}.", n)

    # 4. the gradient itself, as backward would compute it (and what each op did with it).
    records = {}
    from . import grad as _autograd_grad
    seed = None if loss.numel() == 1 else _core._ones(list(loss.shape), loss.dtype)
    note = "" if loss.numel() == 1 else (f" ({ln} has shape {_shape(loss)}: backward() needs a scalar, so "
                                         f"this is the gradient of {ln}.sum())")
    g, freed = None, None
    try:
        (g,) = _core._observe_backward(
            lambda node, go, gs: records.__setitem__(node._seq, (go, gs)),
            lambda: _autograd_grad(loss, [t], grad_outputs=seed, retain_graph=True, allow_unused=True))
    except RuntimeError as e:
        if not _freed(e):
            raise
        freed = e
    zero = g is not None and t.numel() > 0 and _all_zero(g)
    dead = _dead_path(graph, tk, records, root) if zero else None

    if not t.is_leaf and not _retains_grad(t):
        fn = t.grad_fn
        extra = ""
        if g is not None:
            extra = f" Its gradient here is {_describe(g)}."
            if dead is not None and dead[0]:
                extra += f" Even kept, it would be all zeros: {dead[1]}"
        return _diag("NOT_LEAF",
                     f"{n} is not a leaf: it was computed by '{fn._op}' ({fn.name()}). backward passes "
                     f"gradients through it but keeps .grad only for leaves (the tensors you created with "
                     f"requires_grad=True), so {n}.grad is None — with a warning, as in torch.{extra}",
                     f"call {n}.retain_grad() before {ln}.backward(), or ask for it directly: "
                     f"cr.autograd.grad({ln}, {n}, retain_graph=True).", n, grad=g, ops=[fn.name()])

    stored = _stored_grad(t)
    if freed is not None:
        if stored is not None:
            hint = ""
            relus = _relus_on_every_path(graph, tk, root) if t.numel() and _all_zero(stored) else []
            if relus:
                hint = (f" It is all zeros, and every path from {ln} back to {n} goes through a ReLU "
                        f"({', '.join(relus)}): a dead ReLU would explain it. To check, run the forward again "
                        f"and call why_no_grad before {ln}.backward() (or use backward(retain_graph=True)).")
            return _diag("HAS_GRAD", f"{n}.grad holds a gradient ({_describe(stored)}); {ln}'s graph was "
                                     f"freed by a backward, so it could not be checked again.{hint}", "", n,
                         ops=relus)
        return _diag("GRAPH_FREED",
                     f"{n} is in {ln}'s graph, but a backward() already ran and freed it (backward frees "
                     f"what ops saved unless retain_graph=True), and {n}.grad is None now (cleared by "
                     f"zero_grad(set_to_none=True) or .grad = None?). The gradient cannot be computed again.",
                     f"run the forward again to get a new {ln}, then {ln}.backward(); use "
                     f"backward(retain_graph=True) if you need to go backward twice through one graph.", n)

    if dead is not None and dead[0]:
        return _diag("DEAD_PATH",
                     f"{n} gets a gradient, but it is exactly zero{note}: {dead[1]} A ReLU passes gradient "
                     f"only where its input is > 0; a unit that is off for every sample is 'dead' and stops "
                     f"learning.",
                     "use LeakyReLU (or GELU/ELU), which keeps a small slope below 0; re-initialize the layer "
                     "before the ReLU (e.g. a bias that is very negative); lower the learning rate if a big "
                     "step pushed the units off.", n, grad=g, ops=dead[2])

    zero_note = ""
    if zero:
        zero_note = f" Its gradient is exactly zero, though not because of a ReLU: {dead[1]}" if dead else ""
    if stored is not None:
        differs = ""
        if g is not None and _shape(stored) == _shape(g) and not np.array_equal(_numpy(stored), _numpy(g)):
            differs = (f" It differs from the gradient of this {ln} alone ({_describe(g)}): gradients add up "
                       f"over backward calls — call optimizer.zero_grad() (or {n}.grad = None) between steps.")
        return _diag("HAS_GRAD", f"{n}.grad holds a gradient: {_describe(stored)}.{differs}{zero_note}", "", n,
                     grad=g)
    what = "a leaf" if t.is_leaf else "a non-leaf that retains its gradient,"
    return _diag("OK",
                 f"Nothing is wrong: {n} is {what} in {ln}'s graph and gets a gradient ({_describe(g)}){note}; "
                 f"{n}.grad is None only because {ln}.backward() has not run yet (or zero_grad(set_to_none=True) "
                 f"cleared it).{zero_note}",
                 f"call {ln}.backward().", n, grad=g)


def _relus_on_every_path(graph, tk, root):
    """The ReLU nodes, when every path from the loss to t goes through one (or through an op that
    multiplies by a ReLU's output): read from the graph's shape alone, for a graph already freed."""
    def relu(k):
        return k is not None and k[0] == "node" and graph.nodes[k[1]]._op == "relu"
    cut, found = set(), []
    for s, edges in graph.edges.items():
        for i, k in enumerate(edges):
            if graph.nodes[s]._op == "relu" or any(relu(o) for j, o in enumerate(edges) if j != i):
                cut.add((s, i))
                found += [graph.nodes[s].name()] if graph.nodes[s]._op == "relu" else []
    if not found or root in graph.reaching({tk}, cut=cut):
        return []
    return sorted(set(found))


def _relu_phrase(fn):
    out = fn._output
    where = f", made at {fn._context}" if fn._context else ""
    off = ""
    if out is not None and out.numel():
        zeros = int(np.sum(_numpy(out) == 0))
        off = f", all {zeros} outputs are 0" if zeros == out.numel() else f", {zeros} of {out.numel()} outputs are 0"
    return f"'relu' ({fn.name()}, input shape {tuple(fn._input_shapes[0])}{off}{where})"


def _dead_path(graph, tk, records, root):
    """Whether t's zero gradient comes from ReLUs. A "cut" is an edge toward t where a nonzero
    gradient arrives at an op and zero leaves along that edge. Without cancellation, every path from
    the loss to t has one (the seed is nonzero, t's gradient is zero); if t is still reachable with
    the cuts removed, paths cancelled instead. Returns (is_dead_path, sentence, ops) or None."""
    toward = graph.reaching({tk})
    cuts = []
    for s in toward:
        if s not in records:
            continue
        go, grads = records[s]
        if _all_zero(go):
            continue
        for i, k in enumerate(graph.edges[s]):
            if k is None or not (k == tk or (k[0] == "node" and k[1] in toward)):
                continue
            g = grads[i] if i < len(grads) else None
            if g is None or _all_zero(g):
                cuts.append((s, i))
    if root in graph.reaching({tk}, cut=set(cuts)):
        return False, "the paths from the loss to it cancel (their contributions sum to zero).", []
    phrases, ops, all_relu = [], [], True
    for s, i in sorted(set(cuts), reverse=True):
        fn = graph.nodes[s]
        if fn._op == "relu":
            phrases.append(f"{_relu_phrase(fn)} is off wherever the gradient arriving at it is nonzero")
            ops.append(fn.name())
            continue
        # An op such as linear or mul sends zero to one input when its other input is the output of
        # a ReLU that is off: a dead ReLU also freezes the weights of the next layer.
        relus = [graph.nodes[k[1]] for j, k in enumerate(graph.edges[s])
                 if j != i and k is not None and k[0] == "node" and graph.nodes[k[1]]._op == "relu"]
        if relus:
            phrases.append(f"'{fn._op}' ({fn.name()}) multiplies by the output of {_relu_phrase(relus[0])}")
            ops.append(relus[0].name())
        else:
            all_relu = False
            phrases.append(f"'{fn._op}' ({fn.name()}) receives a nonzero gradient and sends zero "
                           f"toward it (a factor that is zero there)")
    return all_relu, "; ".join(phrases) + ".", ops
