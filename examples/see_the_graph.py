"""micrograd's neuron, seen three ways: its graph as a picture (cr.viz, no Graphviz), the chain rule
step by step (explain_backward), and anomaly mode catching a NaN at the line that made it.
Run: python examples/see_the_graph.py [out.svg]   (writes docs/neuron_graph.svg by default)"""
import os
import sys

import chainrule as cr


def neuron():
    """o = tanh(x1·w1 + x2·w2 + b), with micrograd's numbers, after backward."""
    x1, x2 = cr.tensor(2.0, requires_grad=True), cr.tensor(0.0, requires_grad=True)
    w1, w2 = cr.tensor(-3.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    b = cr.tensor(6.8813735870195432, requires_grad=True)
    x1w1, x2w2 = x1 * w1, x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    o.backward(retain_graph=True)  # keep the graph: the picture reads the local derivatives from it
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, n=n, o=o)


def main(path):
    o, names = neuron()
    drawing = cr.viz.draw(o, params=names, derivatives=True)
    drawing.save(path)
    print(f"wrote {path}: {len(drawing.nodes)} boxes, {len(drawing.edges)} arrows")
    print(cr.autograd.explain_backward(o, names=names))
    x = cr.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        try:
            (x.log() * x).sum().backward()
        except RuntimeError as e:
            print(e)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "docs", "neuron_graph.svg"))
