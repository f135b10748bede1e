"""cr.viz's pictures: box sizes from their text, edge routes, the SVG and DOT texts, and Drawing,
the object ``draw`` returns (it renders itself in Jupyter).
"""
from __future__ import annotations

import os
import textwrap
from xml.sax.saxutils import escape

from .._files import write_atomically
from ._layout import Dummy, layered_layout

__all__ = ["Drawing"]

# A monospace font makes a box's width a fixed multiple of its text length, so that boxes fit their
# text without font metrics (DejaVu Sans Mono's glyphs are 0.602 em wide; a little spare covers
# Menlo and Consolas).
FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
TITLE_SIZE, TEXT_SIZE, LABEL_SIZE = 12.0, 11.0, 10.5
CHAR = 0.62
PAD_X, PAD_Y, TITLE_LINE, TEXT_LINE = 9.0, 6.0, 15.0, 14.0

# fill, stroke, dashed, corner radius: ops are rounded, tensors square (as in micrograd's pictures:
# values and gradients live in the tensors, ops in between).
STYLE = {
    "op": ("#e8f0fe", "#4a6fa5", False, 8),
    "param": ("#e6f4ea", "#2e7d32", False, 2),
    "leaf": ("#f1f8e9", "#558b2f", False, 2),
    "tensor": ("#ffffff", "#616161", False, 2),
    "constant": ("#f5f5f5", "#9e9e9e", True, 2),
    "module": ("#f3e5f5", "#7b1fa2", False, 8),
    "summary": ("#fff8e1", "#b08900", True, 8),
}
TEXT_COLOR = {"name": "#37474f", "shape": "#616161", "data": "#1a1a1a", "grad": "#b3261e", "info": "#555555"}
EDGE_COLOR, LABEL_COLOR = "#5f6368", "#b3261e"


def box_size(node):
    chars = max([len(node.title) * TITLE_SIZE] + [len(text) * TEXT_SIZE for text, _ in node.lines])
    return (max(chars * CHAR + 2 * PAD_X, 44.0),
            2 * PAD_Y + TITLE_LINE + TEXT_LINE * len(node.lines))


def _f(x):
    """Coordinates with one decimal: enough for a screen, and the same bytes on every run."""
    s = f"{x:.1f}"
    return "0.0" if s == "-0.0" else s


def _attr(text):
    return escape(str(text), {'"': "&quot;"})


class Drawing:
    """A laid-out graph picture: ``_repr_svg_`` shows it in Jupyter; ``.svg`` is the SVG text,
    ``.to_dot()`` the same graph for Graphviz, ``.save(path)`` writes either (by the suffix).

    ``nodes`` and ``edges`` are lists of VizNode and VizEdge (ids index ``nodes``); ``layout`` is the
    Layout they were placed by; ``notes`` are the remarks printed under the picture."""

    def __init__(self, nodes, edges, *, rankdir="LR", notes=(), rank_sep=None):
        self.nodes, self.edges, self.rankdir, self.notes = list(nodes), list(edges), rankdir, list(notes)
        sizes = {n.id: box_size(n) for n in self.nodes}
        if rank_sep is None:
            labels = [len(e.label) for e in self.edges if e.label]
            rank_sep = max(44.0, (max(labels) * LABEL_SIZE * CHAR + 24) if labels else 0.0)
            rank_sep = rank_sep if rankdir == "LR" else max(30.0, rank_sep / 2)
        self.layout = layered_layout([n.id for n in self.nodes], [(e.src, e.dst) for e in self.edges],
                                     sizes, rankdir=rankdir, rank_sep=rank_sep, node_sep=14.0, margin=12.0)
        for n in self.nodes:
            n.x, n.y = self.layout.pos[n.id]
            n.width, n.height = sizes[n.id]
        self._route_edges()
        self._svg = None

    def __repr__(self):
        return f"<cr.viz.Drawing: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    # ---- routes -----------------------------------------------------------------------------
    def _uv(self, x, y):
        # (u, v): u runs along the ranks from inputs to outputs, v along a layer.
        return (x, y) if self.rankdir == "LR" else (-y, x)

    def _xy(self, u, v):
        return (u, v) if self.rankdir == "LR" else (v, -u)

    def _extent(self, node_id):
        w, h = self.layout.size[node_id]
        return (w, h) if self.rankdir == "LR" else (h, w)

    def _route_edges(self):
        """Each edge leaves its tail's output side and enters its head's input side, at ports spread
        along the side in the order of where the edges come from (so that they do not cross at the
        box), and runs straight through the ranks it skips."""
        lay = self.layout
        thick = [max((self._extent(v)[0] for v in layer if not isinstance(v, Dummy)), default=0.0)
                 for layer in lay.layers]
        uv = {v: self._uv(*p) for v, p in lay.pos.items()}
        outs, ins = {}, {}
        for i, route in enumerate(lay.routes):
            outs.setdefault(route[0], []).append((uv[route[1]][1], i))
            ins.setdefault(route[-1], []).append((uv[route[-2]][1], i))
        port_out, port_in = {}, {}
        for ports, table in ((outs, port_out), (ins, port_in)):
            for v, items in ports.items():
                items.sort()
                ext = self._extent(v)[1]
                k = len(items)
                step = min(10.0, ext * 0.6 / (k - 1)) if k > 1 else 0.0
                for j, (_, i) in enumerate(items):
                    table[i] = uv[v][1] + (j - (k - 1) / 2) * step
        for i, (edge, route) in enumerate(zip(self.edges, lay.routes)):
            # Straight within a rank (from the box's side to the rank's edge, or right through it at a
            # dummy), curved only in the gaps between ranks, where no box stands.
            tail, head = route[0], route[-1]
            ut, uh = uv[tail][0], uv[head][0]
            pts = [(ut + self._extent(tail)[0] / 2, port_out[i]), (ut + thick[lay.rank[tail]] / 2, port_out[i])]
            for d in route[1:-1]:
                half = thick[lay.rank[d]] / 2
                pts += [(uv[d][0] - half, uv[d][1]), (uv[d][0] + half, uv[d][1])]
            pts += [(uh - thick[lay.rank[head]] / 2, port_in[i]), (uh - self._extent(head)[0] / 2, port_in[i])]
            pts = [p for j, p in enumerate(pts) if j == 0 or abs(p[0] - pts[j - 1][0]) > 1e-6]
            edge.points = [self._xy(u, v) for u, v in pts]

    def _label_spot(self, label, u, v, placed):
        """Where a label goes: at (u, v), or moved along the layer until it clears the labels
        placed so far (x * x has two arrows side by side, each with its label)."""
        w, h = len(label) * LABEL_SIZE * CHAR + 4, LABEL_SIZE + 3
        for k in (0, 1, -1, 2, -2, 3, -3):
            x, y = self._xy(u, v + k * (h if self.rankdir == "LR" else w))
            if all(abs(x - px) >= (w + pw) / 2 or abs(y - py) >= (h + ph) / 2 for px, py, pw, ph in placed):
                break
        placed.append((x, y, w, h))
        return x, y

    def _last_gap(self, points):
        uvs = [self._uv(*p) for p in points]
        for p, q in reversed(list(zip(uvs, uvs[1:]))):
            if abs(q[1] - p[1]) > 1e-9:
                return p, q
        return uvs[-2], uvs[-1]    # a straight edge: the last stretch is as good as any

    def _path(self, points):
        uvs = [self._uv(*p) for p in points]
        d = [f"M{_f(points[0][0])},{_f(points[0][1])}"]
        for (pu, pv), (qu, qv) in zip(uvs, uvs[1:]):
            if abs(qv - pv) < 1e-9:
                x, y = self._xy(qu, qv)
                d.append(f"L{_f(x)},{_f(y)}")
            else:
                m = (qu - pu) / 2
                (ax, ay), (bx, by), (x, y) = self._xy(pu + m, pv), self._xy(qu - m, qv), self._xy(qu, qv)
                d.append(f"C{_f(ax)},{_f(ay)} {_f(bx)},{_f(by)} {_f(x)},{_f(y)}")
        return " ".join(d)

    # ---- SVG --------------------------------------------------------------------------------
    @property
    def svg(self):
        """The picture as a self-contained SVG document (text)."""
        if self._svg is None:
            self._svg = self._make_svg()
        return self._svg

    def _repr_svg_(self):
        return self.svg

    def _make_svg(self):
        chars = max(40, int((self.layout.width - 24) / (TEXT_SIZE * CHAR)))   # notes as wide as the graph
        note_lines = [line for note in self.notes for line in textwrap.wrap(note, chars)]
        width = max(self.layout.width, max((len(s) for s in note_lines), default=0) * TEXT_SIZE * CHAR + 24)
        height = self.layout.height + (len(note_lines) * TEXT_LINE + 6 if note_lines else 0)
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
               f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="{FONT}">',
               '<defs><marker id="cr-viz-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
               'markerUnits="userSpaceOnUse" markerWidth="8" markerHeight="8" orient="auto">'
               f'<path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOR}"/></marker></defs>',
               f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" fill="#ffffff"/>']
        placed = []
        for i, e in enumerate(self.edges):
            tip = f"{self.nodes[e.src].title} → {self.nodes[e.dst].title}"
            if e.slot is not None:
                tip += f" (input {e.slot})"
            if e.derivative is not None:
                tip += f"; local derivative {e.label}"
            out.append(f'<g class="edge" id="edge{i}" data-src="{e.src}" data-dst="{e.dst}">'
                       f'<title>{_attr(tip)}</title>'
                       f'<path d="{self._path(e.points)}" fill="none" stroke="{EDGE_COLOR}" '
                       f'stroke-width="1.2" marker-end="url(#cr-viz-arrow)"/>')
            if e.label:
                # in the last gap, where the edge's own port keeps it apart from its neighbours; a
                # white backing rather than a halo stroke, which some SVG renderers paint on top
                (pu, pv), (qu, qv) = self._last_gap(e.points)
                x, y = self._label_spot(e.label, (pu + qu) / 2, (pv + qv) / 2, placed)
                w, h = len(e.label) * LABEL_SIZE * CHAR + 4, LABEL_SIZE + 3
                out.append(f'<rect x="{_f(x - w / 2)}" y="{_f(y - h / 2)}" width="{_f(w)}" height="{_f(h)}" '
                           f'fill="#ffffff" fill-opacity="0.9"/>'
                           f'<text class="edge-label" x="{_f(x)}" y="{_f(y + LABEL_SIZE * 0.35)}" '
                           f'text-anchor="middle" font-size="{LABEL_SIZE}" fill="{LABEL_COLOR}">'
                           f'{_attr(e.label)}</text>')
            out.append('</g>')
        for n in self.nodes:
            fill, stroke, dashed, radius = STYLE[n.kind]
            left, top = n.x - n.width / 2, n.y - n.height / 2
            out.append(f'<g class="node" id="node{n.id}" data-kind="{n.kind}">'
                       f'<title>{_attr(n.tooltip or n.title)}</title>'
                       f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(n.width)}" height="{_f(n.height)}" '
                       f'rx="{radius}" fill="{fill}" stroke="{stroke}" '
                       f'stroke-width="{2.4 if n.is_output else 1.2}"'
                       + (' stroke-dasharray="4 3"' if dashed else '') + '/>')
            y = top + PAD_Y + TITLE_SIZE
            out.append(f'<text class="title" x="{_f(n.x)}" y="{_f(y)}" text-anchor="middle" '
                       f'font-size="{TITLE_SIZE}" font-weight="bold" fill="#1a1a1a">{_attr(n.title)}</text>')
            y += TITLE_LINE - TITLE_SIZE + TEXT_SIZE + 1
            for text, role in n.lines:
                style = ' font-style="italic"' if role == "name" else ""
                out.append(f'<text class="{role}" x="{_f(n.x)}" y="{_f(y)}" text-anchor="middle" '
                           f'font-size="{TEXT_SIZE}" fill="{TEXT_COLOR[role]}"{style}>{_attr(text)}</text>')
                y += TEXT_LINE
            out.append('</g>')
        y = self.layout.height + TEXT_SIZE
        for line in note_lines:
            out.append(f'<text class="note" x="12" y="{_f(y)}" font-size="{TEXT_SIZE}" '
                       f'fill="#555555">{_attr(line)}</text>')
            y += TEXT_LINE
        out.append('</svg>')
        return "\n".join(out) + "\n"

    # ---- DOT and files ----------------------------------------------------------------------
    def to_dot(self):
        """The graph in Graphviz's DOT language (``dot -Tsvg``), for those who have Graphviz."""
        def q(text):
            return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

        lines = ["digraph chainrule {",
                 f"  graph [rankdir={'LR' if self.rankdir == 'LR' else 'BT'}];",
                 f'  node [shape=box, style="rounded,filled", fontname={q(FONT.split(",")[0])}, fontsize=10];',
                 f"  edge [color={q(EDGE_COLOR)}, fontsize=9, fontcolor={q(LABEL_COLOR)}];"]
        for n in self.nodes:
            fill, stroke, dashed, radius = STYLE[n.kind]
            style = ("rounded," if radius > 4 else "") + "filled" + (",dashed" if dashed else "")
            label = "\n".join([n.title] + [text for text, _ in n.lines])
            lines.append(f"  n{n.id} [label={q(label)}, style={q(style)}, fillcolor={q(fill)}, "
                         f"color={q(stroke)}" + (", penwidth=2" if n.is_output else "") + "];")
        for e in self.edges:
            lines.append(f"  n{e.src} -> n{e.dst}" + (f" [label={q(e.label)}]" if e.label else "") + ";")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def save(self, path):
        """Writes the SVG (or the DOT text, for a path ending in .dot or .gv) to ``path`` atomically:
        a temporary file beside it, then renamed over it. Returns the path."""
        path = os.fspath(path)
        text = self.to_dot() if path.lower().endswith((".dot", ".gv")) else self.svg
        write_atomically(path, text)
        return path
