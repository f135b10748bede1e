"""What cr.viz draws: the autograd graph behind a tensor read into boxes and arrows, module traces
(which ops ran inside which module), collapsing modules into one box, summarizing big graphs.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

from .. import _core
from .._grad_mode import no_grad as _no_grad

__all__ = ["VizNode", "VizEdge", "trace", "ModuleCall"]


@dataclasses.dataclass
class VizNode:
    """One box of a drawing. ``kind`` is "op" (a recorded operation), "param" (a named leaf that
    requires grad), "leaf" (an unnamed one), "tensor" (a drawn tensor that requires no grad),
    "constant" (an op's input that needs no gradient), "module" (a collapsed module call) or
    "summary" (the nodes left out beyond max_nodes)."""
    id: int
    kind: str
    title: str
    lines: list = dataclasses.field(default_factory=list)   # (text, role): role "name", "shape", "data", "grad", "info"
    tooltip: str = ""
    shape: tuple | None = None
    op: str | None = None              # the op's short name, "mul"
    name: str | None = None            # "fc1.weight", or a name given through params=
    value: object = None               # tolist() of small tensors
    grad: object = None
    seq: int | None = None             # creation order of an op (largest in a module box)
    module: str | None = None          # innermost traced module an op ran in
    members: int = 1                   # how many graph nodes the box stands for
    params: list = dataclasses.field(default_factory=list)   # parameters folded into a module box
    is_output: bool = False
    x: float = 0.0                     # centre and size, once laid out
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclasses.dataclass
class VizEdge:
    """An arrow from an input (``src``) to the op that used it (``dst``), as data flows forward;
    backward sends gradients against it. ``derivative`` is the local derivative d(dst)/d(src) when
    asked for and both are scalars."""
    src: int
    dst: int
    slot: int | None = None            # which input of dst
    derivative: float | None = None
    label: str | None = None
    points: list = dataclasses.field(default_factory=list)   # the route, once laid out


@dataclasses.dataclass(frozen=True)
class ModuleCall:
    """One call of a module's forward: the ops it created have _seq in [start, stop)."""
    name: str
    type: str
    start: int
    stop: int
    index: int          # 0 for the module's first call, 1 for its second, ...


class trace:
    """Records which ops each module's forward created, so that ``draw`` can name parameters and
    collapse a module into one box::

        with cr.viz.trace(model) as tr:
            loss = loss_fn(model(x), y)
        cr.viz.draw(loss, trace=tr, collapse=["fc1"])

    Forward pre- and post-hooks read the autograd graph's node counter before and after each
    module's forward; ``calls`` lists the ModuleCall records, in the order the calls finished.
    """

    def __init__(self, model):
        if not isinstance(model, _core.Module):
            raise TypeError(f"trace: expected a cr.nn.Module, got {type(model).__name__}")
        self.model = model
        self.calls = []
        self._handles = []
        self._open = {}

    def modules(self):
        """(name, type name) of every module inside the traced one, as named_modules() gives them."""
        return [(name, type(m).__name__) for name, m in self.model.named_modules()]

    def __enter__(self):
        for name, module in self.model.named_modules():
            self._handles.append(module.register_forward_pre_hook(self._before(name)))
            self._handles.append(module.register_forward_hook(self._after(name, type(module).__name__)))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False

    def _before(self, name):
        def hook(module, args):
            self._open.setdefault(name, []).append(_core._next_node_seq())
        return hook

    def _after(self, name, type_name):
        def hook(module, args, output):
            start = self._open[name].pop()
            index = sum(call.name == name for call in self.calls)
            self.calls.append(ModuleCall(name, type_name, start, _core._next_node_seq(), index))
        return hook

    def __repr__(self):
        return f"<cr.viz.trace of {type(self.model).__name__}: {len(self.calls)} module calls>"


# ---------------------------------------------------------------------------------------------
# Reading the graph
# ---------------------------------------------------------------------------------------------
def tensor_id(t):
    """The identity of a tensor's underlying object: the same for a Parameter and any other wrapper
    of it (``hash`` of a tensor is its C++ address on cores without ``_cdata``)."""
    cdata = getattr(t, "_cdata", None)
    return cdata if cdata is not None else hash(t)


def _op_name(fn):
    op = getattr(fn, "_op", None)
    if op:
        return op
    name = fn.name()
    return name[:-len("Backward0")].lower() if name.endswith("Backward0") else name


def _num(x):
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    s = f"{x:.4g}"
    # keep floats looking like floats ("2.0", not "2"): the tensor is float, not int
    return s if any(c in s for c in ".en") else s + ".0"


def format_values(v):
    """A tolist() result printed compactly: 4 significant digits, nested brackets."""
    if isinstance(v, list):
        return "[" + ", ".join(format_values(e) for e in v) + "]"
    return _num(v)


def format_shape(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _small_values(t, max_values):
    if t is None or t.numel() > max_values:
        return None
    with _no_grad():
        return t.detach().tolist()


def _stored_grad(t):
    """The .grad a tensor holds, read without the warning a non-leaf gives (backward keeps only
    leaves' gradients unless retain_grad() was called)."""
    if t is None:
        return None
    if not (getattr(t, "is_leaf", True) or getattr(t, "retains_grad", False)):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.grad


class GraphReader:
    """Walks grad_fn / next_functions from the drawn tensors and makes one VizNode per op, leaf and
    constant input, one VizEdge per input of every op. Keys: ("op", seq), ("leaf", tensor id),
    ("const", consumer key, slot)."""

    def __init__(self, names, max_values, derivatives):
        self.names = names                  # tensor id -> name (leaves), ("op", seq) -> name
        self.max_values = max_values
        self.derivatives = derivatives
        self.nodes = {}                     # key -> VizNode (id set later), in the order found
        self.edges = []                     # [src key, dst key, slot, derivative]
        self.notes = []
        self._fns = {}                      # key -> Node, kept alive while reading

    def read(self, outputs):
        roots = []
        for t in outputs:
            fn = t.grad_fn
            if fn is None:
                key = ("leaf", tensor_id(t))
                if key not in self.nodes:
                    self.nodes[key] = self._leaf(t)
            else:
                key = self._op_key(fn)
                if key not in self.nodes:       # not already drawn as part of an earlier output
                    self._walk(fn, key, t)
            self.nodes[key].is_output = True
            roots.append(key)
        return roots

    def _op_key(self, fn):
        seq = getattr(fn, "_seq", None)
        return ("op", seq if seq is not None else id(fn))

    def _walk(self, root_fn, root_key, root_tensor):
        # Depth first, inputs in argument order, with an explicit stack: graphs can be thousands
        # of ops deep (a training loop's running sum), deeper than Python's recursion limit.
        self.nodes[root_key] = None
        self._fns[root_key] = root_fn
        out_shape = {root_key: tuple(root_tensor.shape)}
        out_tensor = {root_key: root_tensor}
        order = [root_key]
        stack = [root_key]
        while stack:
            key = stack.pop()
            fn = self._fns[key]
            pending = []
            in_shapes = tuple(getattr(fn, "_input_shapes", ()) or ())
            for slot, entry in enumerate(fn.next_functions):
                child = entry[0] if isinstance(entry, tuple) else entry
                shape = tuple(in_shapes[slot]) if slot < len(in_shapes) else None
                if child is None:
                    ckey = ("const", key, slot)
                    self.nodes[ckey] = VizNode(
                        id=-1, kind="constant", title="constant", shape=shape,
                        lines=[(f"shape {format_shape(shape)}", "shape")] if shape is not None else [],
                        tooltip="an input that needs no gradient (a constant, or data)")
                elif hasattr(child, "variable"):
                    leaf = child.variable
                    ckey = ("leaf", tensor_id(leaf))
                    if ckey not in self.nodes:
                        self.nodes[ckey] = self._leaf(leaf)
                else:
                    ckey = self._op_key(child)
                    if ckey not in self.nodes:
                        self.nodes[ckey] = None      # reserved: keeps first-found order
                        self._fns[ckey] = child
                        order.append(ckey)
                        pending.append(ckey)
                    if shape is not None:
                        out_shape.setdefault(ckey, shape)
                self.edges.append([ckey, key, slot, None])
            stack.extend(reversed(pending))
        for key in order:
            fn = self._fns[key]
            out = out_tensor.get(key)
            if out is None:
                out = getattr(fn, "_output", None)
            shape = tuple(out.shape) if out is not None else out_shape.get(key)
            self.nodes[key] = self._op(fn, key, out, shape)
        if self.derivatives:
            self._local_derivatives(order, out_tensor, out_shape)

    def _leaf(self, t):
        name = self.names.get(tensor_id(t))
        kind = ("param" if name is not None else "leaf") if t.requires_grad else "tensor"
        title = name if name is not None else ("leaf" if t.requires_grad else "tensor")
        shape = tuple(t.shape)
        node = VizNode(id=-1, kind=kind, title=title, shape=shape, name=name,
                       value=_small_values(t, self.max_values),
                       grad=_small_values(_stored_grad(t), self.max_values))
        node.lines = [(f"shape {format_shape(shape)}", "shape")] + self._value_lines(node)
        what = {"param": "parameter", "leaf": "leaf tensor that requires grad", "tensor": "tensor"}[kind]
        node.tooltip = f"{title}: {what}, shape {format_shape(shape)}"
        return node

    def _op(self, fn, key, out, shape):
        op = _op_name(fn)
        name = self.names.get(key)
        node = VizNode(id=-1, kind="op", title=op, op=op, shape=shape, name=name,
                       seq=getattr(fn, "_seq", None),
                       value=_small_values(out, self.max_values),
                       grad=_small_values(_stored_grad(out), self.max_values))
        node.lines = ([(name, "name")] if name else []) + \
            ([(f"shape {format_shape(shape)}", "shape")] if shape is not None else []) + \
            self._value_lines(node)
        node.tooltip = fn.name()
        return node

    def _value_lines(self, node):
        lines = []
        if node.value is not None:
            lines.append((f"data {format_values(node.value)}", "data"))
        if node.grad is not None:
            lines.append((f"grad {format_values(node.grad)}", "grad"))
        return lines

    def _local_derivatives(self, order, out_tensor, out_shape):
        """d(output)/d(input) of every scalar op, from the op's own backward with a gradient of one:
        the number that backprop multiplies the incoming gradient by along that edge."""
        freed = None
        derivs = {}
        for key in order:
            shape = self.nodes[key].shape
            if shape is None or math.prod(shape) != 1:
                continue
            fn = self._fns[key]
            out = out_tensor.get(key)
            if out is None:
                out = getattr(fn, "_output", None)
            dtypes = [out.dtype] if out is not None else []
            dtypes += [_core.get_default_dtype(), _core.float64, _core.float32]
            grads, error = None, None
            for dt in dict.fromkeys(dtypes):
                try:
                    with _no_grad():
                        grads = fn._local_grads(_core._ones(list(shape), dt))
                    break
                except (RuntimeError, TypeError, ValueError) as e:
                    error = e
            if grads is None:
                # Freed by a backward (the usual reason): ops that saved nothing (add) could still
                # answer, but a picture with some derivatives missing would look like those were
                # zero or absent.
                freed = error
                break
            for slot, g in enumerate(grads):
                if g is not None and g.numel() == 1:
                    derivs[(key, slot)] = float(g.item())
        if freed is not None:
            message = str(freed).strip().splitlines()[0] if str(freed).strip() else type(freed).__name__
            self.notes.append(f"local derivatives not shown: {message}")
            return
        for edge in self.edges:
            edge[3] = derivs.get((edge[1], edge[2]))
        if derivs:
            self.notes.append("numbers on arrows: local derivatives d(op)/d(input), what backprop "
                              "multiplies the incoming gradient by")


# ---------------------------------------------------------------------------------------------
# Modules: which module call each op belongs to; collapsing calls into one box
# ---------------------------------------------------------------------------------------------
def innermost_module(seq, calls):
    inside = [c for c in calls if c.start <= seq < c.stop]
    return min(inside, key=lambda c: (c.stop - c.start, -c.start)).name if inside else None


def collapse_modules(nodes, edges, calls, names):
    """Replaces the ops of every call of a module in ``names`` (and parameters named under it that
    only that call uses) by one "module" box. The outermost listed module wins. Since a call's ops
    are exactly those created between its start and stop, no path leaves a call and comes back,
    so the graph stays acyclic; each call of a module that runs twice gets its own box."""
    chosen = sorted((c for c in calls if c.name in names), key=lambda c: (c.start, -c.stop))
    group_of = {}
    for key, node in nodes.items():
        if node.seq is None or node.kind not in ("op", "module"):
            continue
        for call in chosen:
            if call.start <= node.seq < call.stop:
                group_of[key] = call
                break
    if not group_of:
        return nodes, edges
    consumers = {}
    for src, dst, _, _ in edges:
        consumers.setdefault(src, set()).add(dst)
    for key, node in nodes.items():
        if node.kind != "param" or key in group_of:
            continue
        groups = {group_of.get(c) for c in consumers.get(key, ())}
        if len(groups) == 1:
            call = next(iter(groups))
            if call is not None and (call.name == "" or node.name.startswith(call.name + ".")):
                group_of[key] = call
    new_nodes, made = {}, {}
    for key, node in nodes.items():
        call = group_of.get(key)
        if call is None:
            new_nodes[key] = node
            continue
        gkey = ("module", call.name, call.index)
        if gkey not in made:
            made[gkey] = []
            new_nodes[gkey] = None
        made[gkey].append(node)
    calls_per_name = {}      # calls drawn per module: "#2" only where a module ran twice in this graph
    for _, name, _ in made:
        calls_per_name[name] = calls_per_name.get(name, 0) + 1
    new_edges, seen = [], set()
    for src, dst, slot, deriv in edges:
        gs, gd = group_of.get(src), group_of.get(dst)
        s = ("module", gs.name, gs.index) if gs else src
        d = ("module", gd.name, gd.index) if gd else dst
        if s == d:
            continue
        if gs or gd:
            if (s, d) in seen:
                continue
            seen.add((s, d))
            slot, deriv = (slot if not gd else None), None
        new_edges.append([s, d, slot, deriv])
    leaving = {}
    for src, dst, _, _ in edges:
        gs = group_of.get(src)
        if gs is not None and group_of.get(dst) is not gs:
            leaving.setdefault(("module", gs.name, gs.index), {})[src] = nodes[src].shape
    by_key = {("module", c.name, c.index): c for c in chosen}
    for gkey, members in made.items():
        call = by_key[gkey]
        ops = sum(1 if m.kind == "op" else m.members - len(m.params) for m in members if m.kind != "param")
        params = [m.name for m in members if m.kind == "param"] + [p for m in members for p in m.params]
        outs = list(leaving.get(gkey, {}).values())
        shape = outs[0] if len(outs) == 1 else None
        label = call.name or call.type
        if calls_per_name.get(call.name, 1) > 1:
            label += f" #{call.index + 1}"
        lines = [(call.type if call.name else "module", "name"),
                 (f"{ops} op{'s' * (ops != 1)}" + (f" · {len(params)} param{'s' * (len(params) != 1)}"
                                                    if params else ""), "info")]
        if shape is not None:
            lines.append((f"shape {format_shape(shape)}", "shape"))
        value = next((m.value for m in members if m.is_output), None)   # the drawn output's data
        if value is not None:
            lines.append((f"data {format_values(value)}", "data"))
        new_nodes[gkey] = VizNode(
            id=-1, kind="module", title=label, lines=lines, shape=shape, name=call.name, params=params,
            seq=max(m.seq for m in members if m.seq is not None),
            members=sum(m.members for m in members),
            is_output=any(m.is_output for m in members),
            tooltip=f"{label} ({call.type}), collapsed: " + ", ".join(
                [m.op or m.title for m in members if m.kind != "param"] + params))
    return new_nodes, new_edges


def summarize(nodes, edges, roots, max_nodes):
    """Keeps the ops created last (those nearest the output: every consumer of a kept op is kept,
    as it was created later) with their leaf and constant inputs, while they fit in max_nodes - 1
    boxes; one "summary" box stands for the rest and feeds the kept ops that used them."""
    inputs = {}
    for src, dst, _, _ in edges:
        inputs.setdefault(dst, []).append(src)
    kept, budget = [], max_nodes - 1

    def keep(key):
        if key not in kept_set and len(kept) < budget:
            kept.append(key)
            kept_set.add(key)
            return True
        return key in kept_set

    kept_set = set()
    ops = sorted((k for k, n in nodes.items() if n.seq is not None), key=lambda k: -nodes[k].seq)
    for key in list(roots) + ops:
        if not keep(key):
            break
        for src in inputs.get(key, ()):
            if nodes[src].seq is None:
                keep(src)
    dropped = [k for k in nodes if k not in kept_set]
    if not dropped:
        return nodes, edges
    new_nodes = {k: nodes[k] for k in nodes if k in kept_set}
    skey = ("summary",)
    new_nodes[skey] = VizNode(
        id=-1, kind="summary", title=f"… {len(dropped)} more nodes",
        lines=[("earlier ops and their inputs", "info")], members=len(dropped),
        tooltip=f"{len(dropped)} nodes not drawn (max_nodes={max_nodes}); they feed the boxes this points to")
    new_edges, fed = [], set()
    for src, dst, slot, deriv in edges:
        if src in kept_set and dst in kept_set:
            new_edges.append([src, dst, slot, deriv])
        elif dst in kept_set and dst not in fed:
            fed.add(dst)
            new_edges.append([skey, dst, None, None])
    return new_nodes, new_edges
