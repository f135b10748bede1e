"""cr.viz: pictures of autograd graphs, laid out in pure Python (no Graphviz): ``cr.viz.draw(loss)``.

Layered layout in _layout.py, reading the graph in _graph.py, SVG and DOT in _render.py.
"""
from __future__ import annotations

import collections.abc

from .. import _core
from ._graph import (GraphReader, ModuleCall, VizEdge, VizNode, collapse_modules, innermost_module,
                     summarize, tensor_id, _num)
from ._graph import trace
from ._layout import Dummy, Layout, layered_layout
from ._render import Drawing

__all__ = ["draw", "trace", "Drawing", "layered_layout", "Layout", "Dummy", "VizNode", "VizEdge",
           "ModuleCall"]

_Trace = trace


def draw(output, *, params=None, model=None, trace=None, collapse=None, derivatives=False,
         max_nodes=60, max_values=4, rankdir="LR"):
    """Draws the autograd graph that produced ``output`` (a tensor, or a list of them).

    Boxes: ops (rounded, blue) with their output's shape; leaves (square, green) with shape, and
    for tensors of at most ``max_values`` elements their data and grad, as micrograd's draw_dot;
    "constant" boxes for inputs that need no gradient. Arrows run as the data flowed, inputs on the
    left (``rankdir="LR"``) or at the bottom (``"BT"``), the output last.

    - ``params``: names for tensors, torchviz-style ``dict(model.named_parameters())``; any
      name -> tensor mapping works, even ``locals()`` (entries that are not tensors, or whose name
      starts with "_", are skipped). Intermediate tensors named here label their op.
    - ``model``: names its parameters ("0.weight", "fc1.bias").
    - ``trace``: a ``cr.viz.trace(model)`` recorded around the forward pass; it names parameters
      and knows which ops each module made, so ``collapse`` can draw a module as one box:
      ``collapse=["fc1"]``, or ``True`` for every top-level submodule.
    - ``derivatives``: label each arrow between scalars with the local derivative d(op)/d(input)
      (needs the graph: after ``backward()``, only if it was called with ``retain_graph=True``).
    - ``max_nodes``: a bigger graph is summarized: modules collapse (deepest first) when a trace
      is given, then only the ops nearest the output are kept, plus one "… N more nodes" box.

    Returns a Drawing: Jupyter shows it (``_repr_svg_``); ``.save("g.svg")``, ``.to_dot()``, and the
    data behind the picture in ``.nodes`` / ``.edges``. Example::

        x, w, b = (cr.tensor(v, requires_grad=True) for v in (2.0, -3.0, 6.88))
        o = (x * w + b).tanh()
        o.backward(retain_graph=True)       # keep the graph: the derivatives are read from it
        cr.viz.draw(o, params=locals(), derivatives=True)
    """
    outputs = _outputs(output)
    if not isinstance(derivatives, bool):
        raise TypeError(f"draw: derivatives must be True or False, got {derivatives!r}")
    _check_int("max_nodes", max_nodes, 2)
    _check_int("max_values", max_values, 0)
    if rankdir not in ("LR", "BT"):
        raise ValueError(f"draw: rankdir must be 'LR' (inputs left) or 'BT' (inputs at the bottom), got {rankdir!r}")
    if trace is not None and not isinstance(trace, _Trace):
        raise TypeError(f"draw: trace must come from `with cr.viz.trace(model) as tr:`, got {type(trace).__name__}")
    if model is not None and not isinstance(model, _core.Module):
        raise TypeError(f"draw: model must be a cr.nn.Module, got {type(model).__name__}")
    collapse = _collapse_names(collapse, trace)

    reader = GraphReader(_names(params, model, trace), max_values, derivatives)
    reader.read(outputs)
    nodes, edges, notes = reader.nodes, reader.edges, list(reader.notes)
    if trace is not None:
        for node in nodes.values():
            if node.kind == "op" and node.seq is not None:
                node.module = innermost_module(node.seq, trace.calls)
                if node.module is not None:
                    node.tooltip += f", in {node.module or type(trace.model).__name__}"
    if collapse:
        nodes, edges = collapse_modules(nodes, edges, trace.calls, collapse)
    if len(nodes) > max_nodes and trace is not None:
        # Collapse the innermost modules first: that keeps the most structure that still fits.
        depth = {c.name: (c.name.count(".") + 1 if c.name else 0) for c in trace.calls}
        for d in range(max(depth.values(), default=-1), -1, -1):
            nodes, edges = collapse_modules(nodes, edges, trace.calls, {n for n in depth if depth[n] == d})
            if len(nodes) <= max_nodes:
                break
        notes.append(f"modules collapsed to fit max_nodes={max_nodes}")
    if len(nodes) > max_nodes:
        roots = [key for key, node in nodes.items() if node.is_output]   # some may be module boxes now
        nodes, edges = summarize(nodes, edges, roots, max_nodes)
        notes.append(f"{nodes[('summary',)].members} earlier nodes are summarized in one box "
                     f"(max_nodes={max_nodes})")

    ids = {key: i for i, key in enumerate(nodes)}
    viz_nodes = []
    for key, node in nodes.items():
        node.id = ids[key]
        viz_nodes.append(node)
    viz_edges = [VizEdge(src=ids[s], dst=ids[d], slot=slot, derivative=deriv,
                         label=None if deriv is None else _num(deriv))
                 for s, d, slot, deriv in edges]
    return Drawing(viz_nodes, viz_edges, rankdir=rankdir, notes=notes)


def _outputs(output):
    if isinstance(output, _core.Tensor):
        return [output]
    if isinstance(output, (list, tuple)) and output and all(isinstance(t, _core.Tensor) for t in output):
        return list(output)
    raise TypeError(f"draw: expected a chainrule Tensor (or a non-empty list of them) to draw, "
                    f"got {type(output).__name__}")


def _check_int(name, value, lowest):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"draw: {name} must be an int, got {type(value).__name__}")
    if value < lowest:
        raise ValueError(f"draw: {name} must be at least {lowest}, got {value}")


def _collapse_names(collapse, trace):
    if collapse is None or collapse is False:
        return set()
    if trace is None:
        raise ValueError("draw: collapse= needs trace=, recorded around the forward pass: "
                         "`with cr.viz.trace(model) as tr: loss = ...`, then draw(loss, trace=tr, collapse=...)")
    known = [name for name, _ in trace.modules()]
    if collapse is True:
        return {name for name in known if name and "." not in name}
    names = [collapse] if isinstance(collapse, str) else collapse
    try:
        names = list(names)
    except TypeError:
        raise TypeError("draw: collapse must be True or a list of module names, "
                        f"got {type(collapse).__name__}") from None
    unknown = [n for n in names if n not in known]
    if unknown:
        shown = ", ".join(repr(n) for n in known if n)
        raise ValueError(f"draw: collapse names modules the traced model does not have: "
                         f"{', '.join(map(repr, unknown))} (it has: {shown})")
    return set(names)


def _names(params, model, trace):
    """tensor id -> name for leaves, ("op", seq) -> name for named intermediate tensors."""
    names = {}
    if params is not None:
        if isinstance(params, collections.abc.Mapping):
            items = list(params.items())
        else:
            try:
                items = [tuple(item) for item in params]
                if any(len(item) != 2 for item in items):
                    raise TypeError
            except TypeError:
                raise TypeError("draw: params must map names to tensors, e.g. "
                                f"dict(model.named_parameters()), got {type(params).__name__}") from None
        for name, t in items:
            if not isinstance(name, str) or name.startswith("_") or not isinstance(t, _core.Tensor):
                continue
            fn = t.grad_fn
            key = tensor_id(t) if fn is None else ("op", getattr(fn, "_seq", id(fn)))
            names.setdefault(key, name)
    for m in (model, trace.model if trace is not None else None):
        if m is not None:
            for name, p in m.named_parameters():
                names.setdefault(tensor_id(p), name)
    return names
