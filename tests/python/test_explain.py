"""Tests of cr.autograd.explain_backward (backprop as the chain rule, with the engine's numbers) and
cr.autograd.why_no_grad (why a .grad is None), each why_no_grad scenario mirrored in torch."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

explain_backward = cr.autograd.explain_backward
why_no_grad = cr.autograd.why_no_grad

B = 6.8813735870195432  # micrograd's bias: n = 0.8814, tanh(n) = 0.7071, 1 - tanh² = 0.5


def _np(t):
    return np.asarray(t.detach(), dtype=np.float64)


def _same(a, b):
    """Exactly equal values and shapes (a chainrule tensor against a chainrule or torch tensor)."""
    a = _np(a)
    b = b.detach().numpy().astype(np.float64) if isinstance(b, torch.Tensor) else _np(b)
    return a.shape == b.shape and np.array_equal(a, b)


def _neuron(dtype):
    """micrograd's neuron, with its variable names (explain_backward reads them from this frame)."""
    x1 = cr.tensor(2.0, dtype=dtype, requires_grad=True)
    x2 = cr.tensor(0.0, dtype=dtype, requires_grad=True)
    w1 = cr.tensor(-3.0, dtype=dtype, requires_grad=True)
    w2 = cr.tensor(1.0, dtype=dtype, requires_grad=True)
    b = cr.tensor(B, dtype=dtype, requires_grad=True)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = cr.tanh(n)
    e = explain_backward(o)
    return e, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


def _mlp(relu, dead=False):
    """Linear(3, 4) -> relu -> Linear(4, 1) and an MSE loss, in chainrule and torch with equal weights."""
    cr.manual_seed(0)
    m = cr.nn.Sequential(cr.nn.Linear(3, 4), relu(), cr.nn.Linear(4, 1))
    if dead:  # every unit of the first layer off for every sample
        with cr.no_grad():
            m[0].bias.fill_(-100.0)
    X, target = cr.randn(5, 3), cr.randn(5, 1)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU() if relu is cr.nn.ReLU else torch.nn.LeakyReLU(),
                             torch.nn.Linear(4, 1))
    with torch.no_grad():
        for (_, p), tp in zip(m.named_parameters(), tm.parameters()):
            tp.copy_(torch.from_numpy(_np(p).astype(np.float32)))
    loss = ((m(X) - target) ** 2).mean()
    tloss = ((tm(torch.from_numpy(_np(X).astype(np.float32))) - torch.from_numpy(_np(target).astype(np.float32)))
             ** 2).mean()
    return m, loss, tm, tloss


# ------------------------------------------------------------------ explain_backward
@pytest.mark.parametrize("dtype", [cr.float64, cr.float32])
def test_neuron_final_gradients_equal_backward_exactly(dtype):
    e, v = _neuron(dtype)
    assert all(v[k].grad is None for k in ("x1", "x2", "w1", "w2", "b"))  # explain touched no .grad
    v["o"].backward()  # still possible: explain kept the graph
    assert list(e.grads) == ["x1", "w1", "x2", "w2", "b"]
    for k in e.grads:
        assert e.grads[k].item() == v[k].grad.item(), k
        assert e.grad(v[k]).item() == v[k].grad.item(), k
    assert e.grads["x1"].item() == pytest.approx(-1.5, rel=1e-6)
    assert e.grads["w1"].item() == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("dtype, rel", [(cr.float64, 1e-15), (cr.float32, 1e-6)])
def test_neuron_each_contribution_is_upstream_times_local(dtype, rel):
    e, _ = _neuron(dtype)
    assert [s.node for s in e.steps] == ["TanhBackward0", "AddBackward0", "AddBackward0", "MulBackward0",
                                         "MulBackward0"]
    checked = 0
    for s in e.steps:
        for term in s.terms:
            expected = s.upstream.item() * term.local
            assert term.value == pytest.approx(expected, rel=rel, abs=1e-300), (s.output, term.input)
            checked += 1
    assert checked == 9
    tanh = e.steps[0]
    assert (tanh.output, tanh.terms[0].input) == ("o", "n")
    assert tanh.terms[0].local == pytest.approx(0.5, rel=1e-6)        # 1 - tanh(n)²
    mul = {s.output: s for s in e.steps}["x1w1"]
    assert {t.input: t.local for t in mul.terms} == {"x1": -3.0, "w1": 2.0}  # d(x1·w1)/dx1 = w1


def test_neuron_matches_torch_float64():
    e, _ = _neuron(cr.float64)
    t = {k: torch.tensor(val, dtype=torch.float64, requires_grad=True)
         for k, val in dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=B).items()}
    x1w1x2w2 = t["x1"] * t["w1"] + t["x2"] * t["w2"]
    n = x1w1x2w2 + t["b"]
    for h in (x1w1x2w2, n):
        h.retain_grad()
    torch.tanh(n).backward()
    for k in t:
        assert abs(e.grads[k].item() - t[k].grad.item()) <= 1e-12, k
    steps = {s.output: s for s in e.steps}  # the gradient arriving at each intermediate: dL/dn ...
    assert abs(steps["n"].upstream.item() - n.grad.item()) <= 1e-12
    assert abs(steps["x1w1x2w2"].upstream.item() - x1w1x2w2.grad.item()) <= 1e-12


def test_neuron_text_reads_as_the_chain_rule(capsys):
    e, _ = _neuron(cr.float64)
    text = str(e)
    assert "dL/dn = dL/do · do/dn = 1.0000 × 0.5000 = 0.5000" in text
    assert "dL/dw1 = dL/dx1w1 · dx1w1/dw1 = 0.5000 × 2.0000 = 1.0000" in text
    assert "dL/dx1 = dL/dx1w1 · dx1w1/dx1 = 0.5000 × -3.0000 = -1.5000" in text
    assert "dL/do = 1.0000  (the start: o is L)" in text
    # reverse order: the loss's op first, the first op made last
    assert text.index("o = tanh(n)") < text.index("n = add(x1w1x2w2, b)") < text.index("x1w1 = mul(x1, w1)")
    assert repr(e) == text and e._repr_html_().startswith("<pre>")
    assert capsys.readouterr().out == ""          # returned, not printed: Jupyter shows it once
    o = cr.tanh(cr.tensor(0.5, requires_grad=True))
    explain_backward(o, print=True)
    assert capsys.readouterr().out.count("the start") == 1


def test_names_given_and_automatic():
    a = cr.tensor(2.0, requires_grad=True)
    e = explain_backward(cr.exp(a * 3.0) + a, names={"alpha": a})
    assert list(e.grads) == ["alpha"]
    assert [s.output for s in e.steps] == ["y", "exp1", "mul1"]   # unnamed: after the op that made them
    assert "dL/dalpha += dL/dmul1 · dmul1/dalpha = " in str(e)
    with pytest.raises(TypeError, match="names"):
        explain_backward(a * a, names={"a": 3.0})


def test_fan_out_a_times_a_sums_two_terms():
    a = cr.tensor(3.0, requires_grad=True)
    y = a * a
    e = explain_backward(y)
    (fan,) = e.fan_outs
    assert fan.name == "a" and [g.item() for _, g in fan.terms] == [3.0, 3.0]
    y.backward()
    assert fan.total.item() == a.grad.item() == 6.0
    assert "dL/da = 3.0000 + 3.0000 = 6.0000" in str(e)
    assert str(e).count("dL/da += dL/dy · dy/da = 1.0000 × 3.0000 = 3.0000") == 2
    assert "back to 1 leaf," in str(e)  # not "1 leaves"


def test_fan_out_of_a_leaf_and_of_an_intermediate():
    x = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    w = cr.tensor(-0.7, dtype=cr.float64, requires_grad=True)
    h = x * w
    L = h * h + h + x                       # h used three times (twice by one mul), x twice
    e = explain_backward(L)
    fans = {f.name: f for f in e.fan_outs}
    assert set(fans) == {"h", "x"}
    assert len(fans["h"].terms) == 3 and len(fans["x"].terms) == 2
    h_step = next(s for s in e.steps if s.output == "h")
    assert h_step.fan_out is fans["h"]                 # shown where h's gradient is complete
    assert sum(g.item() for _, g in fans["h"].terms) == pytest.approx(fans["h"].total.item(), rel=1e-15)
    h.retain_grad()
    L.backward()
    assert fans["h"].total.item() == h.grad.item() == 2 * h.item() + 1
    assert fans["x"].total.item() == x.grad.item()
    assert sum(g.item() for _, g in fans["x"].terms) == pytest.approx(x.grad.item(), rel=1e-15)
    tx = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    th = tx * -0.7
    (th * th + th + tx).backward()
    assert abs(x.grad.item() - tx.grad.item()) <= 1e-12


def test_mlp_norms_equal_the_true_gradients():
    m, loss, tm, tloss = _mlp(cr.nn.ReLU)
    e = explain_backward(loss, model=m)
    loss.backward()
    tloss.backward()
    names = [n for n, _ in m.named_parameters()]
    assert list(e.grads) == names
    terms = {t.input: t for s in e.steps for t in s.terms}
    for (name, p), tp in zip(m.named_parameters(), tm.parameters()):
        assert _same(e.grads[name], p.grad), name
        assert terms[name].norm == float(np.linalg.norm(_np(p.grad).ravel())), name
        np.testing.assert_allclose(_np(p.grad), tp.grad.numpy(), rtol=1e-5, atol=1e-6)
    text = str(e)
    assert "0.weight" in text and "(4, 3) ‖·‖=" in text and "relu1 = relu(linear1)" in text


def test_focus_on_x_keeps_only_its_paths():
    e, v = _neuron(cr.float64)
    focused = explain_backward(v["o"], x=v["w1"], names=v)
    assert list(focused.grads) == ["w1"]
    assert [s.output for s in focused.steps] == ["o", "n", "x1w1x2w2", "x1w1"]   # not x2w2
    assert [t.input for s in focused.steps for t in s.terms] == ["n", "x1w1x2w2", "x1w1", "w1"]
    assert focused.grads["w1"].item() == e.grads["w1"].item()
    inner = explain_backward(v["o"], x=[v["n"]], names=v)                  # a non-leaf: what retain_grad would give
    assert [s.output for s in inner.steps] == ["o"] and inner.grads["n"].item() == pytest.approx(0.5)


def test_scalar_loss_required_as_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2,\).*sum\(\)"):
        explain_backward(x * 2)
    with pytest.raises(RuntimeError):                      # torch refuses the same, with the same type
        (torch.tensor([1.0, 2.0], requires_grad=True) * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain_backward(cr.tensor(1.0) * 2)
    with pytest.raises(TypeError, match="explain_backward"):
        explain_backward(1.0)
    with pytest.raises(RuntimeError, match="x\\[0\\] does not require grad"):
        explain_backward((x * 2).sum(), x=[cr.tensor(1.0)])


def test_freed_graph_is_explained():
    x = cr.tensor(0.3, requires_grad=True)
    y = cr.tanh(x)                         # tanh saves its output: backward frees it
    y.backward()
    with pytest.raises(RuntimeError, match="freed.*retain_graph"):
        explain_backward(y)


def test_a_deep_chain_is_fast_and_its_text_is_cut():
    x = cr.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(1000):
        y = y * 1.0
    e = explain_backward(y)
    assert len(e.steps) == 1000 and e.grads["x"].item() == 1.0
    assert str(e).count("step ") == 200 and "... 800 more steps" in str(e)


def test_zero_dim_and_empty_tensors():
    e0 = cr.zeros(0, 3, requires_grad=True)
    e = explain_backward((e0 * 2).sum())
    assert e.grads["e0"].shape == (0, 3) and "(0, 3) (empty)" in str(e)
    s = cr.tensor(2.0, requires_grad=True)
    e = explain_backward(s)                                   # a leaf loss: dL/ds = 1, no op to run
    assert e.steps == [] and e.grads["s"].item() == 1.0


# ------------------------------------------------------------------ why_no_grad, mirrored in torch
def _grad_quietly(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.grad


def test_not_leaf():
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    th = tx * 2
    (th * th).sum().backward()
    with pytest.warns(UserWarning):
        assert th.grad is None
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    loss = (h * h).sum()
    loss.backward(retain_graph=True)
    with pytest.warns(UserWarning):
        assert h.grad is None
    d = why_no_grad(h, loss)
    assert d.reason == "NOT_LEAF" and not d.ok
    assert "h.retain_grad()" in d.message and "'mul'" in d.message
    assert str(d).startswith("why_no_grad(h): NOT_LEAF")
    assert _same(d.grad, 2 * th.detach())                     # what retain_grad would have kept
    th2 = tx * 2
    th2.retain_grad()
    (th2 * th2).sum().backward()
    h.retain_grad()
    loss = (h * h).sum()
    assert why_no_grad(h, loss).reason == "OK"                 # retained, backward not yet run
    loss.backward()
    d = why_no_grad(h, loss)
    assert d.reason == "HAS_GRAD" and _same(h.grad, th2.grad)


def test_requires_grad_false():
    tc, tw = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0], requires_grad=True)
    (tc * tw).sum().backward()
    c, w = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0], requires_grad=True)
    loss = (c * w).sum()
    loss.backward()
    assert tc.grad is None and c.grad is None
    d = why_no_grad(c, loss)
    assert d.reason == "REQUIRES_GRAD_FALSE" and "c.requires_grad_()" in d.message
    m, loss, tm, tloss = _mlp(cr.nn.ReLU)               # a frozen parameter
    m[0].weight.requires_grad_(False)
    tm[0].weight.requires_grad_(False)
    loss = ((m(cr.randn(5, 3))) ** 2).mean()
    loss.backward()
    tm(torch.randn(5, 3)).pow(2).mean().backward()
    assert m[0].weight.grad is None and tm[0].weight.grad is None
    d = why_no_grad(m[0].weight, loss, model=m)
    assert d.reason == "REQUIRES_GRAD_FALSE" and d.name == "0.weight"


def _line_of(marker):
    """The line number of the line of this file holding marker (the tests survive edits)."""
    with open(__file__) as f:
        return next(i for i, line in enumerate(f, 1) if marker in line and "_line_of" not in line)


def test_detached_tensor_and_detached_loss():
    tw = torch.tensor([3.0, 4.0], requires_grad=True)
    td = (tw * 2).detach()
    (td * tw).sum().backward()
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    d = (w * 2).detach()  # LINE-DETACH
    loss = (d * w).sum()
    loss.backward()
    assert td.grad is None and d.grad is None and td.requires_grad is d.requires_grad is False
    r = why_no_grad(d, loss)
    assert r.reason == "DETACHED" and ".detach()" in r.message and r.ops == ["detach"]
    assert f"d came from .detach() at test_explain.py, line {_line_of('LINE-DETACH')} (or .data)" in r.message
    ld = (w * 2).sum().detach()
    with pytest.raises(RuntimeError):
        (tw * 2).sum().detach().backward()
    with pytest.raises(RuntimeError):
        ld.backward()
    r = why_no_grad(w, ld)
    assert r.reason == "DETACHED" and "ld came from .detach()" in r.message


def test_computed_under_no_grad():
    tw = torch.tensor([3.0, 4.0], requires_grad=True)
    with torch.no_grad():
        tq = tw * 3
    (tq * tw).sum().backward()
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    with cr.no_grad():
        q = w * 3
    loss = (q * w).sum()
    loss.backward()
    assert tq.grad is None and q.grad is None
    r = why_no_grad(q, loss)
    assert r.reason == "NO_GRAD" and "'mul'" in r.message and "no_grad" in r.message
    assert "'mul' while" in r.message  # no line: none is kept for no_grad ops (it would cost every block)
    assert w.detach()._untracked_at is not None and cr.tensor(1.0).detach()._untracked_at is None
    with cr.autograd.detect_anomaly():  # in anomaly mode the line of a no_grad op is kept too
        with cr.no_grad():
            q2 = w * 3  # LINE-NOGRAD-ANOMALY
    r = why_no_grad(q2, (q2 * w).sum())
    assert r.reason == "NO_GRAD"
    assert f"'mul' at test_explain.py, line {_line_of('LINE-NOGRAD-ANOMALY')}: q2 = w * 3" in r.message
    assert (w * 1)._untracked_at is None  # recorded: tracked
    with torch.no_grad():
        tl = tw.sum()
    with cr.no_grad():
        lossng = w.sum()
    with pytest.raises(RuntimeError):
        tl.backward()
    with pytest.raises(RuntimeError):
        lossng.backward()
    r = why_no_grad(w, lossng)
    assert r.reason == "NO_GRAD" and "'sum'" in r.message


def test_not_in_graph():
    tw, tv = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    (tw * 2).sum().backward()
    w, v = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * 2).sum()
    loss.backward(retain_graph=True)
    assert tv.grad is None and v.grad is None
    r = why_no_grad(v, loss)
    assert r.reason == "NOT_IN_GRAPH" and "never uses v" in r.message and "leaves: w" in r.message
    assert cr.autograd.grad(loss, [v], allow_unused=True, retain_graph=True) == (None,)
    # a loss with no graph at all: torch's backward raises; the reason names the loss
    plain = cr.tensor(3.0) * 2
    with pytest.raises(RuntimeError):
        (torch.tensor(3.0) * 2).backward()
    with pytest.raises(RuntimeError):
        plain.backward()
    r = why_no_grad(w, plain)
    assert r.reason == "NOT_IN_GRAPH" and "plain does not require grad" in r.message


def test_integer_dtype():
    tw, tidx = torch.tensor([1.0, 2.0], requires_grad=True), torch.arange(2)
    (tw * tidx).sum().backward()
    w, idx = cr.tensor([1.0, 2.0], requires_grad=True), cr.arange(2)
    loss = (w * idx).sum()
    loss.backward()
    assert tidx.grad is None and idx.grad is None
    with pytest.raises(RuntimeError):
        tidx.requires_grad_()
    with pytest.raises(RuntimeError):
        idx.requires_grad_()
    r = why_no_grad(idx, loss)
    assert r.reason == "INTEGER_DTYPE" and "int64" in r.message and "idx.float()" in r.message


def test_dead_path_through_relus():
    m, loss, tm, tloss = _mlp(cr.nn.ReLU, dead=True)
    first = why_no_grad(m[0].weight, loss, model=m)                # before backward: nothing touched
    assert m[0].weight.grad is None
    loss.backward(retain_graph=True)
    tloss.backward()
    for p, tp in zip(m.parameters(), tm.parameters()):
        assert _same(p.grad, tp.grad)
    assert not np.any(_np(m[0].weight.grad)) and not np.any(tm[0].weight.grad.numpy())
    for r in (first, why_no_grad(m[0].weight, loss, model=m), why_no_grad(m[0].bias, loss, model=m)):
        assert r.reason == "DEAD_PATH", r
        assert r.ops == ["ReluBackward0"] and "LeakyReLU" in r.message and "all 20 outputs are 0" in r.message
    assert _same(first.grad, m[0].weight.grad)
    # the next layer's weight multiplies by the dead ReLU's zeros: zero too, and for the same reason
    r = why_no_grad(m[2].weight, loss, model=m)
    assert r.reason == "DEAD_PATH" and "'linear'" in r.message and np.all(tm[2].weight.grad.numpy() == 0)
    assert why_no_grad(m[2].bias, loss, model=m).reason == "HAS_GRAD"    # the bias still learns
    # after a plain backward the graph is freed: the ReLU's output is gone, so it is only a hint
    loss = ((m(cr.randn(5, 3))) ** 2).mean()
    m.zero_grad()
    loss.backward()
    r = why_no_grad(m[0].weight, loss, model=m)
    assert r.reason == "HAS_GRAD" and "dead ReLU would explain it" in r.message and r.ops == ["ReluBackward0"]
    # the same net with LeakyReLU: the first layer gets a (small) gradient, in both libraries
    m, loss, tm, tloss = _mlp(cr.nn.LeakyReLU, dead=True)
    loss.backward()
    tloss.backward()
    assert np.any(_np(m[0].weight.grad)) and np.any(tm[0].weight.grad.numpy())
    assert why_no_grad(m[0].weight, loss).reason == "HAS_GRAD"


def test_zero_gradient_without_relu_is_not_a_dead_path():
    z = cr.tensor(2.0, requires_grad=True)
    r = why_no_grad(z, z * 0)
    assert r.reason == "OK" and r.grad.item() == 0.0 and "not because of a ReLU" in r.message
    r = why_no_grad(z, z - z)
    assert r.reason == "OK" and "cancel" in r.message
    x = cr.tensor(-1.0, requires_grad=True)
    with cr.autograd.detect_anomaly(check_nan=False):
        loss = cr.relu(x) * 3
    r = why_no_grad(x, loss)                         # anomaly mode recorded where the ReLU was made
    assert r.reason == "DEAD_PATH" and "test_explain.py, line" in r.message


def test_ok_has_grad_and_accumulation():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    loss = (x * x).sum()
    r = why_no_grad(x, loss)
    assert r.reason == "OK" and r.ok and "has not run yet" in r.message and x.grad is None
    loss.backward(retain_graph=True)
    assert _same(r.grad, x.grad)
    assert why_no_grad(x, loss).reason == "HAS_GRAD"
    loss.backward(retain_graph=True)                  # .grad now holds twice this loss's gradient
    r = why_no_grad(x, loss)
    assert r.reason == "HAS_GRAD" and "zero_grad" in r.message


def test_graph_freed():
    tx = torch.tensor(0.5, requires_grad=True)
    ty = torch.tanh(tx)
    ty.backward()
    tx.grad = None
    with pytest.raises(RuntimeError):
        ty.backward()
    x = cr.tensor(0.5, requires_grad=True)
    y = cr.tanh(x)
    y.backward()
    x.grad = None
    with pytest.raises(RuntimeError):
        y.backward()
    r = why_no_grad(x, y)
    assert r.reason == "GRAPH_FREED" and "retain_graph=True" in r.message


def test_arguments_and_edge_cases():
    x = cr.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="why_no_grad"):
        why_no_grad(3.0, x * 2)
    with pytest.raises(TypeError, match="why_no_grad"):
        why_no_grad(x, 2.0)
    empty = cr.zeros(0, 3, requires_grad=True)
    r = why_no_grad(empty, (empty * 2).sum())
    assert r.reason == "OK" and r.grad.shape == (0, 3)
    v = cr.tensor([1.0, 2.0], requires_grad=True)
    r = why_no_grad(v, v * 3)                      # a non-scalar loss: backward needs .sum(), say so
    assert r.reason == "OK" and ".sum()" in r.message and _same(r.grad, cr.tensor([3.0, 3.0]))
    r = why_no_grad(x, x)
    assert r.reason == "OK" and "the loss itself" in r.message
    assert math.isclose(explain_backward(x * x).grads["x"].item(), 2.0)
