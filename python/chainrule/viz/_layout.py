"""The layered ("Sugiyama") layout behind cr.viz: ranks, dummy nodes, crossing reduction, coordinates.

Pure Python and independent of tensors: ``layered_layout(nodes, edges)`` lays out any DAG.
"""
from __future__ import annotations

import bisect
import dataclasses

__all__ = ["Dummy", "Layout", "layered_layout"]

_RANKDIRS = ("LR", "BT")


@dataclasses.dataclass(frozen=True)
class Dummy:
    """A bend point of a long edge: edge ``edges[edge]`` as it passes through rank (tail's rank + step).

    A dataclass rather than a tuple so that it never compares equal to a caller's own node id.
    """
    edge: int
    step: int


@dataclasses.dataclass
class Layout:
    """Where ``layered_layout`` put everything. Coordinates are picture units, y growing downwards
    (as in SVG); ``pos`` gives centres. Ids are the caller's node ids plus ``Dummy`` bend points."""
    rankdir: str
    nodes: list
    edges: list          # the (tail, head) pairs, as given
    rank: dict           # id -> rank, 0 = the inputs' side (left for "LR", bottom for "BT")
    layers: list         # per rank, its ids in order along the cross axis (top to bottom / left to right)
    pos: dict            # id -> (x, y) centre
    size: dict           # id -> (width, height); (0, 0) for dummies
    routes: list         # per edge: [tail, Dummy(...), ..., head], one id per rank it spans
    width: float
    height: float

    def cross(self, v):
        """v's coordinate along its layer (y for "LR", x for "BT"): the order that crossings depend on."""
        x, y = self.pos[v]
        return y if self.rankdir == "LR" else x

    def crossings(self):
        """How many pairs of edge segments between adjacent ranks cross (dummy segments included)."""
        by_gap = {}
        for route in self.routes:
            for a, b in zip(route, route[1:]):
                by_gap.setdefault(self.rank[a], []).append((self.cross(a), self.cross(b)))
        return sum(_count_inversions(segs) for segs in by_gap.values())


def layered_layout(nodes, edges, sizes=None, *, rankdir="LR", rank_sep=40.0, node_sep=16.0, margin=8.0):
    """Lays out a DAG in layers so that every edge points from a lower rank to a higher one.

    ``nodes``: hashable ids; ``edges``: (tail, head) pairs (repeats allowed: they get one route each);
    ``sizes``: id -> (width, height), default 40 x 24; ``rankdir``: "LR" (tails left, heads right)
    or "BT" (tails at the bottom). Steps: longest-path ranks, balanced to shorten edges; a dummy per
    rank an edge skips; median and barycenter sweeps plus adjacent swaps, keeping the order with
    the fewest crossings; then positions along each layer pulled towards the neighbours' (a least
    squares fit that keeps the order and the gaps), with long edges weighted to run straight.
    Deterministic: the same input gives the same Layout.
    """
    nodes, edges = list(nodes), [tuple(e) for e in edges]
    if rankdir not in _RANKDIRS:
        raise ValueError(f"layered_layout: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    index = {}
    for v in nodes:
        if v in index:
            raise ValueError(f"layered_layout: node {v!r} is listed twice")
        index[v] = len(index)
    for e in edges:
        if len(e) != 2 or e[0] not in index or e[1] not in index:
            raise ValueError(f"layered_layout: edge {e!r} must be a (tail, head) pair of listed nodes")
        if e[0] == e[1]:
            raise ValueError(f"layered_layout: edge {e!r} is a self-loop; a layered layout needs a DAG")
    sizes = {} if sizes is None else sizes
    size = {v: tuple(map(float, sizes.get(v, (40.0, 24.0)))) for v in nodes}

    n = len(nodes)
    succ = [[] for _ in range(n)]
    pred = [[] for _ in range(n)]
    for t, h in edges:
        succ[index[t]].append(index[h])
        pred[index[h]].append(index[t])
    rank = _ranks(n, succ, pred)

    # Long edges become chains through one dummy per rank they skip, so that every segment joins
    # adjacent ranks: the crossing counts and the coordinates below only look at adjacent ranks.
    ids = list(nodes)               # internal int -> id
    vrank = list(rank)
    up = [[] for _ in range(n)]     # neighbours one rank lower, one entry per segment
    down = [[] for _ in range(n)]
    routes = []
    for i, (t, h) in enumerate(edges):
        chain = [index[t]]
        for step in range(1, rank[index[h]] - rank[index[t]]):
            ids.append(Dummy(i, step))
            vrank.append(rank[index[t]] + step)
            up.append([])
            down.append([])
            chain.append(len(ids) - 1)
        chain.append(index[h])
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        routes.append(chain)
    is_dummy = [i >= n for i in range(len(ids))]

    # Each weakly connected component is ordered and placed on its own, then they stand side by
    # side: edges of different components then never cross.
    comps = _components(len(ids), up, down)
    nranks = max(vrank, default=-1) + 1
    cross_ext = [0.0 if d else (size[v][1] if rankdir == "LR" else size[v][0]) for v, d in zip(ids, is_dummy)]
    rank_ext = [0.0 if d else (size[v][0] if rankdir == "LR" else size[v][1]) for v, d in zip(ids, is_dummy)]
    layers = [[] for _ in range(nranks)]
    coord = [0.0] * len(ids)
    offset = 0.0
    for comp in comps:
        clayers = _order(comp, vrank, up, down)
        ccoord = _coordinates(clayers, up, down, is_dummy, cross_ext, node_sep)
        lo = min(ccoord[v] - cross_ext[v] / 2 for layer in clayers for v in layer)
        hi = max(ccoord[v] + cross_ext[v] / 2 for layer in clayers for v in layer)
        for r, layer in enumerate(clayers):
            layers[r].extend(layer)
            for v in layer:
                coord[v] = ccoord[v] - lo + offset
        offset += hi - lo + node_sep * 2

    # Ranks: each as thick as its thickest node, the nodes centred in it.
    thick = [max((rank_ext[v] for v in layer), default=0.0) for layer in layers]
    centre, u = [], 0.0
    for t in thick:
        centre.append(u + t / 2)
        u += t + rank_sep
    span = max(u - rank_sep, 0.0)
    extent = max(offset - node_sep * 2, 0.0)
    pos = {}
    for v, vid in enumerate(ids):
        a, b = centre[vrank[v]], coord[v]
        pos[vid] = (margin + a, margin + b) if rankdir == "LR" else (margin + b, margin + span - a)
    width, height = (span, extent) if rankdir == "LR" else (extent, span)
    return Layout(
        rankdir=rankdir, nodes=nodes, edges=edges,
        rank={vid: vrank[v] for v, vid in enumerate(ids)},
        layers=[[ids[v] for v in layer] for layer in layers],
        pos=pos,
        size={vid: (size[vid] if not is_dummy[v] else (0.0, 0.0)) for v, vid in enumerate(ids)},
        routes=[[ids[v] for v in chain] for chain in routes],
        width=width + 2 * margin, height=height + 2 * margin)


# ---------------------------------------------------------------------------------------------
# Ranks
# ---------------------------------------------------------------------------------------------
def _ranks(n, succ, pred):
    """Longest path measured from the sinks, so that inputs sit right next to their first use
    (a weight beside its matmul, not far back with the data); then nodes with more edges on
    one side slide towards it while that shortens the edges (the gist of network simplex)."""
    topo, indeg = [], [len(p) for p in pred]
    ready = [v for v in range(n) if indeg[v] == 0]
    while ready:
        v = ready.pop()
        topo.append(v)
        for s in succ[v]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if len(topo) != n:
        raise ValueError("layered_layout: the graph has a cycle; a layered layout needs a DAG")
    height = [0] * n
    for v in reversed(topo):
        height[v] = max((height[s] + 1 for s in succ[v]), default=0)
    comp_height = {}
    for comp in _components(n, pred, succ):
        h = max(height[v] for v in comp)
        for v in comp:
            comp_height[v] = h
    rank = [comp_height[v] - height[v] for v in range(n)]
    # Moving v by one rank changes the total edge length by (len(pred) - len(succ)) per rank, so
    # each move below strictly shortens it: the loop ends.
    for _ in range(4 * n + 4):
        moved = False
        for v in topo:
            ins, outs = len(pred[v]), len(succ[v])
            if ins > outs:
                target = max(rank[p] for p in pred[v]) + 1
            elif outs > ins:
                target = min(rank[s] for s in succ[v]) - 1
            else:
                continue
            if target != rank[v]:
                rank[v], moved = target, True
        if not moved:
            break
    for comp in _components(n, pred, succ):
        low = min(rank[v] for v in comp)
        for v in comp:
            rank[v] -= low
    return rank


def _components(n, up, down):
    """Weakly connected components, each sorted, in order of their smallest member."""
    seen, comps = [False] * n, []
    for start in range(n):
        if seen[start]:
            continue
        seen[start], stack, comp = True, [start], []
        while stack:
            v = stack.pop()
            comp.append(v)
            for w in up[v] + down[v]:
                if not seen[w]:
                    seen[w] = True
                    stack.append(w)
        comps.append(sorted(comp))
    return comps


# ---------------------------------------------------------------------------------------------
# Crossing reduction
# ---------------------------------------------------------------------------------------------
def _count_inversions(segments):
    """Crossings among segments (a, b) between two layers: pairs with a1 < a2 but b1 > b2."""
    segments = sorted(segments)
    seen, count = [], 0
    for _, b in segments:
        # segments sharing an end do not cross: count only strictly greater b's seen so far
        count += len(seen) - bisect.bisect_right(seen, b)
        bisect.insort(seen, b)
    return count


def _crossings(layers, pos, down):
    total = 0
    for layer in layers[:-1]:
        total += _count_inversions([(pos[v], pos[w]) for v in layer for w in down[v]])
    return total


def _order(comp, vrank, up, down):
    """Orders each layer of one component to reduce crossings; returns the layers.

    Two starting orders (depth-first from the outputs through the inputs in argument order, as a
    reader follows a formula; and breadth-first from the inputs) each go through 24 sweeps of the
    median and of the barycenter heuristic, with adjacent swaps after each sweep; the order with
    the fewest crossings seen wins (the first found, on ties)."""
    nranks = max(vrank[v] for v in comp) + 1
    best, best_c = None, None
    for start in (_dfs_from_sinks(comp, vrank, up, down, nranks), _bfs_from_sources(comp, vrank, down, nranks)):
        for key in (_median, _barycenter):
            layers, c = _sweeps([list(layer) for layer in start], up, down, key)
            if best_c is None or c < best_c:
                best, best_c = layers, c
            if best_c == 0:
                return best
    return best


def _dfs_from_sinks(comp, vrank, up, down, nranks):
    layers, seen = [[] for _ in range(nranks)], set()
    for root in comp:
        if root in seen or down[root]:
            continue
        stack = [root]
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            layers[vrank[v]].append(v)
            stack.extend(reversed(up[v]))   # first input visited first
    return layers


def _bfs_from_sources(comp, vrank, down, nranks):
    layers, seen = [[] for _ in range(nranks)], set()
    queue = [v for v in comp if vrank[v] == 0]
    seen.update(queue)
    i = 0
    while i < len(queue):
        v = queue[i]
        i += 1
        layers[vrank[v]].append(v)
        for w in down[v]:
            if w not in seen:
                seen.add(w)
                queue.append(w)
    for v in comp:
        if v not in seen:
            layers[vrank[v]].append(v)
    return layers


def _median(positions):
    """Weighted median (as in Graphviz's dot): between the two middle values, leaning towards the
    side whose values are packed closer."""
    p, m = sorted(positions), len(positions)
    if m % 2 == 1:
        return float(p[m // 2])
    if m == 2:
        return (p[0] + p[1]) / 2
    left, right = p[m // 2 - 1] - p[0], p[-1] - p[m // 2]
    if left + right == 0:
        return (p[m // 2 - 1] + p[m // 2]) / 2
    return (p[m // 2 - 1] * right + p[m // 2] * left) / (left + right)


def _barycenter(positions):
    return sum(positions) / len(positions)


def _sweeps(layers, up, down, key, max_iter=24):
    pos = {v: i for layer in layers for i, v in enumerate(layer)}
    _transpose(layers, pos, up, down)
    best = [list(layer) for layer in layers]
    best_c = _crossings(layers, pos, down)
    for it in range(max_iter):
        if best_c == 0:
            break
        if it % 2 == 0:
            for r in range(1, len(layers)):
                _reorder(layers[r], pos, up, key)
        else:
            for r in range(len(layers) - 2, -1, -1):
                _reorder(layers[r], pos, down, key)
        # Every other pair of sweeps also swaps neighbours that tie: it costs nothing and moves
        # the search off a plateau (Graphviz does the same); the best order seen is kept anyway.
        _transpose(layers, pos, up, down, swap_ties=it % 4 >= 2)
        c = _crossings(layers, pos, down)
        if c < best_c:
            best, best_c = [list(layer) for layer in layers], c
    return best, best_c


def _reorder(layer, pos, nbrs, key):
    """Sorts a layer by the key of its neighbours' positions in the layer swept from; nodes without
    such neighbours keep their place (moving them would only be a guess)."""
    keyed = [(key([pos[w] for w in nbrs[v]]), pos[v], v) for v in layer if nbrs[v]]
    keyed.sort()
    movable = iter(v for _, _, v in keyed)
    new = [next(movable) if nbrs[v] else v for v in layer]
    layer[:] = new
    for i, v in enumerate(layer):
        pos[v] = i


def _pair_crossings(v, w, pos, up, down):
    """Crossings among the edges of v and w if v stands just before w."""
    c = 0
    for nbrs in (up, down):
        pw = sorted(pos[b] for b in nbrs[w])
        for a in nbrs[v]:
            c += bisect.bisect_left(pw, pos[a])   # neighbours of w placed before a's: crossings
    return c


def _transpose(layers, pos, up, down, swap_ties=False):
    """Swaps neighbours in a layer while a swap removes crossings (or, with swap_ties, keeps as many)."""
    for _ in range(8):
        improved = False
        for layer in layers:
            for i in range(len(layer) - 1):
                v, w = layer[i], layer[i + 1]
                after, before = _pair_crossings(w, v, pos, up, down), _pair_crossings(v, w, pos, up, down)
                if after < before or (swap_ties and after == before > 0):
                    layer[i], layer[i + 1] = w, v
                    pos[v], pos[w] = i + 1, i
                    improved = improved or after < before
        if not improved:
            break


# ---------------------------------------------------------------------------------------------
# Coordinates along the layers
# ---------------------------------------------------------------------------------------------
def _edge_weight(a, b, is_dummy):
    # Graphviz's weights: a long edge's inner segments pull hardest, so that it runs straight.
    return 8.0 if is_dummy[a] and is_dummy[b] else 2.0 if is_dummy[a] or is_dummy[b] else 1.0


def _coordinates(layers, up, down, is_dummy, ext, node_sep):
    """Each node's coordinate along its layer: sweeps that set every layer to the positions closest
    (least squares) to the weighted mean of its neighbours', keeping the order and the gaps."""
    x = {}
    for layer in layers:
        _place(layer, {v: 0.0 for v in layer}, {v: 1.0 for v in layer}, x, ext, is_dummy, node_sep)

    def sweep(layer, sides):
        target, weight = {}, {}
        for v in layer:
            tw = sw = 0.0
            for nbrs in sides:
                for w in nbrs[v]:
                    ew = _edge_weight(v, w, is_dummy)
                    tw += ew * x[w]
                    sw += ew
            target[v], weight[v] = (tw / sw, sw) if sw else (x[v], 1e-3)
        _place(layer, target, weight, x, ext, is_dummy, node_sep)

    for _ in range(8):
        for layer in layers[1:]:
            sweep(layer, (up,))
        for layer in reversed(layers[:-1]):
            sweep(layer, (down,))
    for _ in range(2):
        for layer in layers:
            sweep(layer, (up, down))
    return x


def _place(layer, target, weight, x, ext, is_dummy, node_sep):
    """Positions for one layer's nodes, in order, at least their half-widths plus a gap apart, as
    close as possible to ``target`` in the weighted least-squares sense.

    With y_i = x_i - (sum of the minimum gaps before i) the gaps become y_1 <= y_2 <= ..., and the
    best y is the weighted isotonic regression of the shifted targets: pool-adjacent-violators."""
    off, gaps = [], 0.0
    for i, v in enumerate(layer):
        if i:
            u = layer[i - 1]
            sep = node_sep if not (is_dummy[u] or is_dummy[v]) else node_sep / 2
            gaps += (ext[u] + ext[v]) / 2 + sep
        off.append(gaps)
    blocks = []  # [weight sum, weighted target sum, count]
    for i, v in enumerate(layer):
        w = weight[v]
        blocks.append([w, w * (target[v] - off[i]), 1])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][0] > blocks[-1][1] / blocks[-1][0]:
            w2, s2, c2 = blocks.pop()
            blocks[-1][0] += w2
            blocks[-1][1] += s2
            blocks[-1][2] += c2
    i = 0
    for w, s, c in blocks:
        for _ in range(c):
            x[layer[i]] = s / w + off[i]
            i += 1
