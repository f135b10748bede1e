"""cr.viz: graph pictures without Graphviz. The SVG is parsed with xml.etree and checked against
the graph walked here from grad_fn; the layout's crossings are compared with grandalf's."""
import math
import os
import random
import re
import xml.etree.ElementTree as ET

import pytest

import chainrule as cr
import chainrule.viz as viz
from chainrule.viz import layered_layout

SVG = "{http://www.w3.org/2000/svg}"


# ---- helpers ------------------------------------------------------------------------------------
def walk(*outputs):
    """(number of boxes, number of arrows) the graph behind ``outputs`` has: one box per op, per
    distinct leaf and per constant input (next_functions entry None), one arrow per input."""
    ops, leaves, constants, edges = set(), set(), 0, 0
    stack = []
    for t in outputs:
        if t.grad_fn is None:
            leaves.add(t._cdata)
        else:
            stack.append(t.grad_fn)
    while stack:
        fn = stack.pop()
        if fn._seq in ops:
            continue
        ops.add(fn._seq)
        for child, _ in fn.next_functions:
            edges += 1
            if child is None:
                constants += 1
            elif child.name() == "AccumulateGrad":
                leaves.add(child.variable._cdata)
            else:
                stack.append(child)
    return len(ops) + len(leaves) + constants, edges


def parse(drawing):
    root = ET.fromstring(drawing.svg)
    assert root.tag == SVG + "svg"
    nodes = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") == "node":
            texts = {t.get("class"): t.text for t in g.iter(SVG + "text")}
            rect = g.find(SVG + "rect")
            box = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
            nodes[int(g.get("id")[len("node"):])] = dict(kind=g.get("data-kind"), box=box, **texts)
    edges = []
    for g in root.iter(SVG + "g"):
        if g.get("class") == "edge":
            label = g.find(SVG + "text")
            edges.append(dict(src=int(g.get("data-src")), dst=int(g.get("data-dst")),
                              label=None if label is None else label.text,
                              path=g.find(SVG + "path").get("d")))
    return root, nodes, edges


def by_title(nodes, title):
    found = [i for i, n in nodes.items() if n["title"] == title]
    assert len(found) == 1, (title, found)
    return found[0]


def neuron():
    """micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b), named as in the lecture."""
    x1 = cr.tensor(2.0, requires_grad=True)
    x2 = cr.tensor(0.0, requires_grad=True)
    w1 = cr.tensor(-3.0, requires_grad=True)
    w2 = cr.tensor(1.0, requires_grad=True)
    b = cr.tensor(6.8813735870195432, requires_grad=True)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    return dict(locals())


def mlp_loss(seed=0):
    cr.manual_seed(seed)
    model = cr.nn.Sequential(cr.nn.Linear(2, 4), cr.nn.ReLU(), cr.nn.Linear(4, 1))
    x, y = cr.randn(5, 2), cr.randn(5, 1)
    with viz.trace(model) as tr:
        loss = cr.nn.functional.mse_loss(model(x), y)
    return model, tr, loss


def no_overlaps(nodes):
    boxes = [n["box"] for n in nodes.values()]
    for i, (x, y, w, h) in enumerate(boxes):
        for (x2, y2, w2, h2) in boxes[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, "boxes overlap"


# ---- what the pictures show -----------------------------------------------------------------------
def test_neuron_shows_values_grads_and_local_derivatives():
    v = neuron()
    v["o"].backward(retain_graph=True)
    d = viz.draw(v["o"], params=v, derivatives=True)
    root, nodes, edges = parse(d)
    assert (len(nodes), len(edges)) == walk(v["o"]) == (10, 9)
    for name in ("x1", "x2", "w1", "w2", "b"):
        box = nodes[by_title(nodes, name)]
        assert box["kind"] == "param"
        assert float(box["data"].split()[1]) == pytest.approx(v[name].item(), abs=1e-3)
        assert float(box["grad"].split()[1]) == pytest.approx(v[name].grad.item(), abs=1e-3)
    # intermediate values (their tensors are alive under these names), op names, the output
    tanh = by_title(nodes, "tanh")
    assert nodes[tanh]["name"] == "o" and float(nodes[tanh]["data"].split()[1]) == pytest.approx(0.7071, abs=1e-4)
    assert {nodes[i]["title"] for i in nodes if nodes[i]["kind"] == "op"} == {"mul", "add", "tanh"}
    # the arrow into tanh carries d tanh(n)/dn = 1 - tanh(n)^2 = 0.5; the one from w1 into x1*w1, x1
    (into_tanh,) = [e for e in edges if e["dst"] == tanh]
    assert float(into_tanh["label"]) == pytest.approx(1 - math.tanh(v["n"].item()) ** 2, abs=1e-3)
    x1w1 = [i for i in nodes if nodes[i].get("name") == "x1w1"][0]
    (from_w1,) = [e for e in edges if e["dst"] == x1w1 and nodes[e["src"]]["title"] == "w1"]
    assert float(from_w1["label"]) == pytest.approx(v["x1"].item())
    assert all(e["label"] is not None for e in edges)   # all scalars: every arrow has its derivative
    assert d.edges[[e.dst for e in d.edges].index(tanh)].derivative == pytest.approx(0.5, abs=1e-3)
    no_overlaps(nodes)
    # leaves on the left, the output on the right
    assert max(n["box"][0] for n in nodes.values()) == nodes[tanh]["box"][0]


def test_freed_graph_omits_derivatives_and_says_why():
    v = neuron()
    v["o"].backward()                     # frees the graph
    d = viz.draw(v["o"], params=v, derivatives=True)
    _, nodes, edges = parse(d)
    assert all(e["label"] is None for e in edges)
    assert any("retain_graph=True" in note for note in d.notes)
    assert len(nodes) == 10


def test_two_layer_mlp_names_parameters_by_module():
    model, tr, loss = mlp_loss()
    loss.backward()
    for d in (viz.draw(loss, model=model), viz.draw(loss, params=dict(model.named_parameters())),
              viz.draw(loss, trace=tr)):
        _, nodes, edges = parse(d)
        assert (len(nodes), len(edges)) == walk(loss)
        params = {n["title"] for n in nodes.values() if n["kind"] == "param"}
        assert params == {"0.weight", "0.bias", "2.weight", "2.bias"}
        assert [n["kind"] for n in nodes.values()].count("constant") == 2      # x and the target y
        # the small tensors show value and grad (2.bias has one element), big ones only the shape
        bias = nodes[by_title(nodes, "2.bias")]
        assert float(bias["grad"].strip("grad []")) == pytest.approx(model[2].bias.grad.item(), abs=1e-3)
        assert "data" not in nodes[by_title(nodes, "0.weight")] and \
            nodes[by_title(nodes, "0.weight")]["shape"] == "shape (4, 2)"
        no_overlaps(nodes)
    # every edge joins drawn boxes, and the output box is drawn heavier
    assert all(e["src"] in nodes and e["dst"] in nodes for e in edges)
    assert [n.is_output for n in d.nodes].count(True) == 1


def test_collapse_draws_a_module_as_one_box():
    model, tr, loss = mlp_loss()
    full = viz.draw(loss, trace=tr)
    one = viz.draw(loss, trace=tr, collapse=["0"])
    _, nodes, edges = parse(one)
    box = nodes[by_title(nodes, "0")]
    assert box["kind"] == "module" and box["name"] == "Linear" and "2 params" in box["info"]
    titles = {n["title"] for n in nodes.values()}
    assert "0.weight" not in titles and "0.bias" not in titles and "2.weight" in titles
    ops_in_0 = sum(1 for n in full.nodes if n.kind == "op" and n.module == "0")
    assert ops_in_0 >= 1
    assert len(nodes) == len(full.nodes) - ops_in_0 - 2 + 1
    assert all(e["src"] in nodes and e["dst"] in nodes for e in edges)
    # the input x feeds the box, and the box feeds relu
    assert any(nodes[e["src"]]["kind"] == "constant" and e["dst"] == by_title(nodes, "0") for e in edges)
    assert any(e["src"] == by_title(nodes, "0") and nodes[e["dst"]]["title"] == "relu" for e in edges)

    _, nodes, _ = parse(viz.draw(loss, trace=tr, collapse=True))
    assert sorted(n["title"] for n in nodes.values() if n["kind"] == "module") == ["0", "1", "2"]
    assert not any(n["kind"] == "param" for n in nodes.values())

    with pytest.raises(ValueError, match=r"draw: collapse .*'fc9'"):
        viz.draw(loss, trace=tr, collapse=["fc9"])
    with pytest.raises(ValueError, match="draw: collapse= needs trace="):
        viz.draw(loss, collapse=["0"])


def test_collapse_in_a_python_module_that_calls_a_layer_twice():
    class Net(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = cr.nn.Linear(2, 3)
            self.fc2 = cr.nn.Linear(3, 3)

        def forward(self, x):
            h = self.fc1(x).relu()
            return self.fc2(self.fc2(h).tanh())       # fc2 runs twice, sharing its parameters

    cr.manual_seed(0)
    net = Net()
    with viz.trace(net) as tr:
        loss = net(cr.randn(4, 2)).sum()
    full = viz.draw(loss, trace=tr)
    assert {n.module for n in full.nodes if n.kind == "op"} == {"fc1", "fc2", "", None}   # sum: outside
    d = viz.draw(loss, trace=tr, collapse=["fc1", "fc2"])
    _, nodes, edges = parse(d)
    titles = sorted(n["title"] for n in nodes.values() if n["kind"] == "module")
    assert titles == ["fc1", "fc2 #1", "fc2 #2"]          # one box per call: no cycle through relu/tanh
    # fc2's parameters feed both calls, so they stay outside; fc1's fold into its box
    weight = by_title(nodes, "fc2.weight")
    assert sorted(nodes[e["dst"]]["title"] for e in edges if e["src"] == weight) == ["fc2 #1", "fc2 #2"]
    assert "fc1.weight" not in {n["title"] for n in nodes.values()}
    assert (len(nodes), len(edges)) == (len(d.nodes), len(d.edges))


def test_max_nodes_summarizes_a_long_chain():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor(0.5, requires_grad=True)
    y = x
    for i in range(200):
        y = (y * w).tanh() if i % 2 else y + 1.0
    y = y.sum()
    total, _ = walk(y)
    assert total > 300
    for max_nodes in (60, 25):
        d = viz.draw(y, max_nodes=max_nodes) if max_nodes != 60 else viz.draw(y)
        _, nodes, edges = parse(d)
        assert len(nodes) <= max_nodes
        (summary,) = [i for i, n in nodes.items() if n["kind"] == "summary"]
        hidden = int(re.search(r"(\d+) more", nodes[summary]["title"]).group(1))
        assert hidden + len(nodes) - 1 == total            # every node is drawn or counted
        assert nodes[0]["title"] == "sum"                   # the output is kept, ops nearest to it
        assert all(e["src"] in nodes and e["dst"] in nodes for e in edges)
        assert any(e["src"] == summary for e in edges)


def test_max_nodes_with_a_trace_collapses_modules_first():
    cr.manual_seed(1)
    layers = []
    for _ in range(12):
        layers += [cr.nn.Linear(3, 3), cr.nn.Tanh()]
    model = cr.nn.Sequential(*layers)
    with viz.trace(model) as tr:
        out = model(cr.randn(2, 3)).sum()
    assert walk(out)[0] > 40
    _, nodes, _ = parse(viz.draw(out, trace=tr, max_nodes=40))
    assert len(nodes) <= 40
    assert sum(n["kind"] == "module" for n in nodes.values()) == 24
    assert not any(n["kind"] == "summary" for n in nodes.values())


def test_same_graph_gives_the_same_svg_bytes():
    model, tr, loss = mlp_loss(seed=3)
    a = viz.draw(loss, model=model, derivatives=True).svg
    assert a == viz.draw(loss, model=model, derivatives=True).svg
    model, tr, loss = mlp_loss(seed=3)              # rebuilt: new nodes, same graph
    assert a == viz.draw(loss, model=model, derivatives=True).svg


def test_leaves_scalars_and_empty_tensors():
    t = cr.tensor([1.0, 2.0])
    _, nodes, edges = parse(viz.draw(t))
    assert len(nodes) == 1 and not edges and nodes[0]["kind"] == "tensor" and nodes[0]["data"] == "data [1.0, 2.0]"
    p = cr.tensor(3.0, requires_grad=True)
    _, nodes, _ = parse(viz.draw(p, params={"p": p}))
    assert nodes[0]["title"] == "p" and nodes[0]["shape"] == "shape ()"
    e = cr.zeros(0, requires_grad=True)
    for out in ((e * 2).sum(), e * 2, cr.tensor(2.0, requires_grad=True) * 3):
        _, nodes, edges = parse(viz.draw(out, derivatives=True))
        assert (len(nodes), len(edges)) == walk(out)
    # one picture of several outputs sharing inputs
    a = p * 2
    b = p.exp()
    _, nodes, edges = parse(viz.draw([a, b]))
    assert (len(nodes), len(edges)) == walk(a, b) == (3, 2)


def test_bad_arguments_name_draw():
    t = cr.tensor(1.0, requires_grad=True) * 2
    with pytest.raises(TypeError, match="draw: expected a chainrule Tensor"):
        viz.draw("t")
    with pytest.raises(TypeError, match="draw: expected a chainrule Tensor"):
        viz.draw([])
    with pytest.raises(ValueError, match="draw: max_nodes"):
        viz.draw(t, max_nodes=1)
    with pytest.raises(TypeError, match="draw: max_nodes"):
        viz.draw(t, max_nodes=2.5)
    with pytest.raises(ValueError, match="draw: rankdir"):
        viz.draw(t, rankdir="TB")
    with pytest.raises(TypeError, match="draw: params"):
        viz.draw(t, params=5)
    with pytest.raises(TypeError, match="draw: model"):
        viz.draw(t, model="net")
    with pytest.raises(TypeError, match="draw: trace"):
        viz.draw(t, trace=object())
    with pytest.raises(TypeError, match="trace: expected a cr.nn.Module"):
        viz.trace(3)


# ---- output formats -------------------------------------------------------------------------------
def test_svg_escapes_text_and_saves_atomically(tmp_path):
    x = cr.tensor(1.0, requires_grad=True)
    y = x * 2
    d = viz.draw(y, params={'a<b & "c"': x})
    _, nodes, _ = parse(d)                         # parses: the name was escaped
    assert nodes[by_title(nodes, 'a<b & "c"')]["kind"] == "param"
    assert d._repr_svg_() == d.svg
    path = d.save(tmp_path / "g.svg")
    assert open(path, encoding="utf-8").read() == d.svg
    d.save(tmp_path / "g.dot")
    assert open(tmp_path / "g.dot", encoding="utf-8").read() == d.to_dot()
    assert sorted(os.listdir(tmp_path)) == ["g.dot", "g.svg"]    # no temporary file left behind


def test_dot_text_is_well_formed():
    v = neuron()
    v["o"].backward(retain_graph=True)
    names = dict(v, **{'odd"name\\': v["b"]})
    names.pop("b")
    d = viz.draw(v["o"], params=names, derivatives=True)
    dot = d.to_dot()
    lines = dot.strip().splitlines()
    assert lines[0] == "digraph chainrule {" and lines[-1] == "}"
    assert dot.count("{") == dot.count("}") == 1
    body = lines[1:-1]
    assert all(line.endswith(";") for line in body)
    quoted = r'"(?:[^"\\]|\\.)*"'
    attrs = rf"\[(?:\w+=(?:{quoted}|[\w.]+)(?:, )?)+\]"
    node_stmts = [line for line in body if re.fullmatch(rf"\s*n\d+ {attrs};", line)]
    edge_stmts = [line for line in body if re.fullmatch(rf"\s*n\d+ -> n\d+(?: {attrs})?;", line)]
    assert len(node_stmts) == len(d.nodes) and len(edge_stmts) == len(d.edges)
    assert len(node_stmts) + len(edge_stmts) + 3 == len(body)     # plus graph/node/edge defaults
    assert r'odd\"name\\' in dot
    assert sum('label="0.5"' in line for line in edge_stmts) == 1    # tanh'(n)
    assert sum('label="-3.0"' in line for line in edge_stmts) == 1   # d(x1*w1)/dx1 = w1


def test_bottom_to_top_puts_inputs_below():
    v = neuron()
    _, nodes, _ = parse(viz.draw(v["o"], params=v, rankdir="BT"))
    tanh = nodes[by_title(nodes, "tanh")]["box"]
    assert all(n["box"][1] > tanh[1] for i, n in nodes.items() if n["kind"] == "param")
    no_overlaps(nodes)


# ---- the layout engine on plain DAGs --------------------------------------------------------------
def random_dag(seed):
    """10 to 40 nodes with n to 2n edges i -> j, i < j (possibly several components)."""
    rng = random.Random(seed)
    n = rng.randint(10, 40)
    m = rng.randint(n, 2 * n)
    pairs = set()
    while len(pairs) < m:
        i, j = sorted(rng.sample(range(n), 2))
        pairs.add((i, j))
    return list(range(n)), sorted(pairs)


def crossings(segments_by_gap):
    """Pairs of segments between the same two layers whose ends are in opposite orders."""
    total = 0
    for segs in segments_by_gap.values():
        for i, (a1, b1) in enumerate(segs):
            for a2, b2 in segs[i + 1:]:
                total += (a1 - a2) * (b1 - b2) < 0
    return total


def our_crossings(nodes, edges):
    lay = layered_layout(nodes, edges, rankdir="LR")
    gaps = {}
    for route in lay.routes:                     # dummies included: one segment per rank step
        for a, b in zip(route, route[1:]):
            assert lay.rank[b] == lay.rank[a] + 1
            gaps.setdefault(lay.rank[a], []).append((lay.pos[a][1], lay.pos[b][1]))
    return crossings(gaps)


def grandalf_crossings(nodes, edges):
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        w, h = 40, 24

    vs = {v: Vertex(v) for v in nodes}
    graph = Graph(list(vs.values()), [Edge(vs[a], vs[b]) for a, b in edges])
    for v in vs.values():
        v.view = View()
    total = 0
    for comp in graph.C:
        sug = SugiyamaLayout(comp)
        sug.init_all()
        sug.draw()
        gaps = {}
        for e in comp.sE:
            chain = [e.v[0], e.v[1]]
            if e in sug.ctrls:
                chain = [sug.ctrls[e][r] for r in sorted(sug.ctrls[e])]
            for a, b in zip(chain, chain[1:]):
                gaps.setdefault(sug.grx[a].rank, []).append((a.view.xy[0], b.view.xy[0]))
        total += crossings(gaps)
    return total


def test_crossings_no_worse_than_grandalf():
    """On 30 seeded random DAGs our crossings are at most 1.1x grandalf's SugiyamaLayout's, DAG by
    DAG, plus 2. Why the 2: the engines rank differently (we put a node next to its consumers,
    grandalf next to its producers), so on a small graph the two solve different problems, and one
    edge placed differently is worth a couple of crossings; on the corpus as a whole there is no
    slack. grandalf's result varies from run to run (it iterates over sets), so it gets its best of
    three runs."""
    ours_total = theirs_total = 0
    for seed in range(30):
        nodes, edges = random_dag(seed)
        ours = our_crossings(nodes, edges)
        theirs = min(grandalf_crossings(nodes, edges) for _ in range(3))
        assert ours <= 1.1 * theirs + 2, (seed, ours, theirs)
        ours_total += ours
        theirs_total += theirs
    assert ours_total <= 1.1 * theirs_total, (ours_total, theirs_total)


def test_layout_of_a_plain_dag():
    nodes, edges = random_dag(7)
    sizes = {v: (30 + 3 * v, 20 + v % 3 * 8) for v in nodes}
    lay = layered_layout(nodes, edges, sizes, rankdir="LR")
    assert lay == layered_layout(nodes, edges, sizes, rankdir="LR")        # deterministic
    assert all(lay.rank[b] > lay.rank[a] for a, b in edges)
    assert [r[0] for r in lay.routes] == [a for a, _ in edges] and [r[-1] for r in lay.routes] == [b for _, b in edges]
    for layer in lay.layers:                     # in order along the layer, boxes apart
        ys = [lay.pos[v][1] for v in layer]
        assert ys == sorted(ys)
        for u, v in zip(layer, layer[1:]):
            assert lay.pos[v][1] - lay.pos[u][1] >= (lay.size[u][1] + lay.size[v][1]) / 2
    assert lay.crossings() == our_crossings(nodes, edges)
    with pytest.raises(ValueError, match="cycle"):
        layered_layout([1, 2, 3], [(1, 2), (2, 3), (3, 1)])
    with pytest.raises(ValueError, match="edge"):
        layered_layout([1, 2], [(1, 5)])


def test_the_readme_picture_is_what_the_example_draws_today(tmp_path):
    """README.md shows docs/neuron_graph.svg; examples/see_the_graph.py must still produce it."""
    import importlib.util
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("see_the_graph", root / "examples" / "see_the_graph.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = tmp_path / "neuron.svg"
    example.main(str(out))
    assert out.read_bytes() == (root / "docs" / "neuron_graph.svg").read_bytes()
    assert "docs/neuron_graph.svg" in (root / "README.md").read_text()
