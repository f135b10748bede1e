"""Tensor hooks against torch 2.13: register_hook (leaves and non-leaves, replacement gradients, the
sum over a tensor's uses, order with retain_grad), register_post_accumulate_grad_hook, removable
handles; and the engine's order of nodes (torch's: the ready node created last runs first)."""
import numpy as np
import pytest
import torch

import chainrule as cr


def _log_of(L, build):
    """Runs build(L, log) (which registers hooks and calls backward) and returns the log, with every
    tensor turned into a list so the two libraries' logs compare equal."""
    log = []
    build(L, log)
    return [tuple(x.tolist() if hasattr(x, "tolist") else x for x in entry) for entry in log]


def _same_log(build):
    ours, theirs = _log_of(cr, build), _log_of(torch, build)
    assert ours == theirs
    assert ours  # the scenario logged something


def test_hooks_see_the_sum_over_uses_and_replace_gradients_as_torch():
    def build(L, log):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        w = L.tensor([0.5, -1.0], requires_grad=True)
        x.register_hook(lambda g: log.append(("x", g)))
        w.register_hook(lambda g: (log.append(("w", g)), g * 2)[1])  # replaces w's gradient
        w.register_post_accumulate_grad_hook(lambda t: log.append(("w post", t.grad)))
        y = x * w
        y.register_hook(lambda g: log.append(("y", g)))
        z = y * x  # x is used twice: its hook sees the sum, once
        z.retain_grad()
        z.register_hook(lambda g: g + 1)  # retain_grad keeps the hooked value (it runs last, as torch)
        z.sum().backward()
        log += [("z.grad", z.grad), ("x.grad", x.grad), ("w.grad", w.grad)]
    _same_log(build)


def test_handles_remove_hooks_also_as_context_managers():
    def build(L, log):
        x = L.tensor([1.0, -1.0], requires_grad=True)
        h = x.register_hook(lambda g: log.append(("first", g)))
        with x.register_hook(lambda g: log.append(("scoped", g))):
            (x * 3).sum().backward()
        (x * 5).sum().backward()  # the scoped hook is gone
        h.remove()
        h.remove()  # twice: nothing
        (x * 7).sum().backward()
        log.append(("grad", x.grad))
    _same_log(build)


def test_hooks_chain_in_registration_order():
    def build(L, log):
        x = L.tensor([2.0], requires_grad=True)
        y = x * x
        y.register_hook(lambda g: (log.append(("a", g)), g * 10)[1])
        y.register_hook(lambda g: (log.append(("b", g)), g + 1)[1])
        y.register_hook(lambda g: log.append(("c", g)))
        y.backward()
        log.append(("x.grad", x.grad))
    _same_log(build)


def test_hooks_fire_for_autograd_grad_but_post_accumulate_hooks_do_not():
    def build(L, log):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: (log.append(("x", g)), g * 3)[1])
        x.register_post_accumulate_grad_hook(lambda t: log.append(("post", t.grad)))
        (g,) = L.autograd.grad((x * x).sum(), x)
        log.append(("grad", g))
        log.append(("x.grad is None", x.grad is None))
    _same_log(build)


def test_the_engine_runs_nodes_in_torchs_order_on_a_diamond_and_a_residual_block():
    def build(L, log):
        x = L.tensor([0.5, -1.5, 2.0], requires_grad=True)
        a = x.exp()
        b = x.sin()
        c = a * b
        d = c + a  # a residual-like reuse
        e = d.tanh() + b
        for name, t in (("a", a), ("b", b), ("c", c), ("d", d), ("e", e)):
            t.register_hook(lambda g, name=name: log.append((name, g)))
        e.sum().backward()
        log.append(("x.grad", x.grad))
    ours, theirs = _log_of(cr, build), _log_of(torch, build)
    assert [e[0] for e in ours] == [e[0] for e in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)


def test_hook_errors_are_clear():
    x = cr.tensor([1.0])
    with pytest.raises(RuntimeError, match="register_hook: cannot register a hook on a tensor that doesn't require gradient"):
        x.register_hook(lambda g: None)
    y = cr.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        y.register_post_accumulate_grad_hook(lambda t: None)
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    w.register_hook(lambda g: cr.zeros(3))
    with pytest.raises(RuntimeError, match=r"hook: a hook returned a gradient of shape \(3,\) for a tensor whose gradient has shape \(2,\)"):
        (w * 2).sum().backward()
    v = cr.tensor([1.0], requires_grad=True)
    v.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # the hook's own exception, unchanged
        (v * 2).sum().backward()
    u = cr.tensor([1.0], requires_grad=True)
    u.register_post_accumulate_grad_hook(lambda t: 5)
    with pytest.raises(TypeError, match="the hook must return None"):
        (u * 2).sum().backward()


def test_a_post_accumulate_hook_can_step_an_optimizer_per_parameter():
    # the pattern torch documents for optimizer-in-backward: update each weight as its grad lands
    for L in (cr, torch):
        w = L.tensor([1.0, 2.0], requires_grad=True)

        def step(p):
            with L.no_grad():
                p -= 0.1 * p.grad
            p.grad = None
        w.register_post_accumulate_grad_hook(step)
        (w * w).sum().backward()
        assert w.grad is None
        np.testing.assert_allclose(np.asarray(w.detach()), [0.8, 1.6], rtol=1e-6)


# ------------------------------------------------------------------------------ module forward hooks
def _model(L, kind):
    L.manual_seed(0)
    if kind == "mlp":
        return L.nn.Sequential(L.nn.Linear(3, 4), L.nn.ReLU(), L.nn.Linear(4, 2)), L.ones(5, 3)
    if kind == "cnn":
        return L.nn.Sequential(L.nn.Conv2d(1, 2, 3), L.nn.ReLU(), L.nn.MaxPool2d(2), L.nn.Flatten(),
                               L.nn.Linear(8, 3)), L.ones(2, 1, 6, 6)

    class Block(L.nn.Module):  # a Python module calling its children itself
        def __init__(self):
            super().__init__()
            self.inner = L.nn.Linear(3, 3)
            self.act = L.nn.Tanh()

        def forward(self, x):
            return self.act(self.inner(x)) + x
    return L.nn.Sequential(Block(), L.nn.Linear(3, 1)), L.ones(4, 3)


@pytest.mark.parametrize("kind", ["mlp", "cnn", "python_block"])
def test_forward_hooks_run_in_torchs_order_with_torchs_arguments(kind):
    def run(L):
        log = []
        net, x = _model(L, kind)
        for name, m in net.named_modules():
            m.register_forward_pre_hook(
                lambda mod, args, name=name: log.append(("pre", name, type(mod).__name__, tuple(args[0].shape))))
            m.register_forward_hook(
                lambda mod, args, out, name=name: log.append(("fwd", name, tuple(args[0].shape), tuple(out.shape))))
        net(x)
        return log
    ours, theirs = run(cr), run(torch)
    assert ours == theirs and len(ours) >= 6


def test_forward_hooks_replace_inputs_and_outputs_and_handles_remove_them():
    for L in (cr, torch):
        net, x = _model(L, "mlp")
        h1 = net[1].register_forward_hook(lambda mod, args, out: out * 0 + 1)  # ReLU's output becomes ones
        with net[0].register_forward_pre_hook(lambda mod, args: (args[0] * 2,)):  # Linear sees 2x
            y = net(x)
        expected = (net[2].weight.sum(1) + net[2].bias).detach()
        np.testing.assert_allclose(np.asarray(y.detach()), np.broadcast_to(np.asarray(expected), (5, 2)), rtol=1e-6)
        h1.remove()
        h1.remove()
        y2 = net(x)
        direct = net[2](net[1](net[0](x)))
        np.testing.assert_allclose(np.asarray(y2.detach()), np.asarray(direct.detach()), rtol=1e-6)


def test_forward_hooks_on_a_module_called_with_several_arguments_refuse():
    loss = cr.nn.MSELoss()
    loss.register_forward_hook(lambda mod, args, out: None)
    with pytest.raises(NotImplementedError, match="MSELoss: module hooks run for modules called with one tensor"):
        loss(cr.zeros(2), cr.ones(2))


# ------------------------------------------------------------------------------ module backward hooks
def _shapes_and_values(gs):
    return tuple(None if g is None else (tuple(g.shape), np.asarray(g.detach()).copy()) for g in gs)


def _same_models(kind):
    """The torch model and the chainrule one, with torch's weights (their seeds draw differently)."""
    (tnet, tx), (net, x) = _model(torch, kind), _model(cr, kind)
    with cr.no_grad():
        for p, tp in zip(net.parameters(), tnet.parameters()):
            p.copy_(cr.tensor(tp.detach().numpy()))
    return {cr: (net, x), torch: (tnet, tx)}


def _same_entries(a, b):
    """Equal logs: names and shapes exactly, gradients to float32 rounding."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-7)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(map(_same_entries, a, b))
    return a == b


@pytest.mark.parametrize("kind", ["mlp", "cnn", "python_block"])
@pytest.mark.parametrize("input_requires_grad", [False, True])
def test_full_backward_hooks_run_in_torchs_order_with_torchs_gradients(kind, input_requires_grad):
    models = _same_models(kind)

    def run(L):
        log = []
        net, x = models[L]
        x = x.clone().requires_grad_(input_requires_grad)
        for name, m in net.named_modules():
            m.register_full_backward_pre_hook(
                lambda mod, go, name=name: log.append(("pre", name, _shapes_and_values(go))))
            m.register_full_backward_hook(
                lambda mod, gi, go, name=name: log.append(("bwd", name, type(mod).__name__, _shapes_and_values(gi),
                                                           _shapes_and_values(go))))
        net(x).sum().backward()
        return log, (None if x.grad is None else np.asarray(x.grad).tolist())
    (ours, ours_grad), (theirs, theirs_grad) = run(cr), run(torch)
    assert [e[:2] for e in ours] == [e[:2] for e in theirs] and len(ours) >= 6
    assert _same_entries(ours, theirs)
    assert (ours_grad is None) == (theirs_grad is None)
    if ours_grad is not None:
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-5, atol=1e-7)


def test_full_backward_hooks_replace_gradients_and_handles_remove_them():
    results = []
    models = _same_models("mlp")
    for L in (cr, torch):
        net, x = models[L]
        x = x.clone().requires_grad_(True)
        h = net[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 3,))  # ReLU passes 3x back
        with net[2].register_full_backward_pre_hook(lambda mod, go: (go[0] * 0 + 1,)):  # ones reach Linear 2
            net(x).pow(2).sum().backward()
        g1 = np.asarray(x.grad).copy()
        h.remove()
        h.remove()
        x.grad = None
        net.zero_grad()
        net(x).pow(2).sum().backward()
        results.append((g1, np.asarray(x.grad).copy()))
    (a1, a2), (b1, b2) = results
    np.testing.assert_allclose(a1, b1, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a2, b2, rtol=1e-5, atol=1e-7)
    assert not np.allclose(a1, a2)  # the hooks changed the gradient


def test_full_backward_hook_errors_are_clear():
    net, x = _model(cr, "mlp")
    net[0].register_full_backward_hook(lambda mod, gi, go: (cr.ones(7),))
    with pytest.raises(RuntimeError, match=r"Linear: a full backward hook returned a grad_input of shape \(7,\) "
                                           r"for an input of shape \(5, 3\)"):
        net(x.clone().requires_grad_(True)).sum().backward()
    loss = cr.nn.MSELoss()
    loss.register_full_backward_hook(lambda mod, gi, go: None)
    with pytest.raises(NotImplementedError, match="MSELoss: module hooks run for modules called with one tensor"):
        loss(cr.zeros(2), cr.ones(2))


def test_backward_hooks_leave_no_trace_under_no_grad_and_on_0d_and_empty_inputs():
    calls = []
    lin = cr.nn.Linear(0, 2)
    lin.register_full_backward_hook(lambda mod, gi, go: calls.append(tuple(go[0].shape)))
    with cr.no_grad():
        y = lin(cr.zeros(3, 0))
    assert y.grad_fn is None and calls == []
    lin(cr.zeros(3, 0)).sum().backward()  # an empty input: the hook still sees grad_output
    assert calls == [(3, 2)]
    t = cr.nn.Tanh()
    t.register_full_backward_hook(lambda mod, gi, go: calls.append((tuple(gi[0].shape), gi[0].item())))
    x = cr.tensor(0.5, requires_grad=True)
    t(x).backward()
    assert calls[-1] == ((), pytest.approx(1 - np.tanh(0.5) ** 2))


def test_tensor_hooks_on_0d_and_empty_tensors_as_torch():
    def run(L):
        log = []
        a = L.tensor(3.0, requires_grad=True)
        e = L.zeros(0, 2, requires_grad=True)
        a.register_hook(lambda g: log.append(("a", tuple(g.shape), g.item())) or g * 2)
        e.register_hook(lambda g: log.append(("e", tuple(g.shape))))
        h = a * 4
        h.register_hook(lambda g: log.append(("h", g.item())))
        (h + (e * a).sum()).backward()
        return log, a.grad.item(), tuple(e.grad.shape)
    assert run(cr) == run(torch)


def test_a_model_deleted_before_backward_still_runs_its_hooks_as_torch():
    # the graph keeps a hooked module alive (torch's BackwardHook holds it): no crash, same calls
    def run(L):
        calls = []

        class Block(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = L.nn.Linear(3, 3)

            def forward(self, x):
                return self.lin(x).relu()
        m, lin = Block(), L.nn.Linear(3, 3)
        m.register_full_backward_hook(lambda mod, gi, go: calls.append(type(mod).__name__))
        lin.register_full_backward_hook(lambda mod, gi, go: calls.append(type(mod).__name__))
        x = L.ones(2, 3, requires_grad=True)
        y = lin(m(x))
        del m, lin
        import gc
        gc.collect()
        y.sum().backward()
        return calls
    assert run(cr) == run(torch) == ["Linear", "Block"]


def test_module_pre_hooks_run_after_the_output_tensors_own_hooks_as_torch():
    def run(L):
        log = []
        L.manual_seed(0)
        lin = L.nn.Linear(2, 1)
        lin.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", go[0].item())) or (go[0] * 2,))
        lin.register_full_backward_hook(lambda mod, gi, go: log.append(("hook", go[0].item())))
        y = lin(L.ones(1, 2, requires_grad=True))
        y.register_hook(lambda g: log.append(("tensor", g.item())) or g * 10)
        (y * 8).sum().backward()
        return log
    assert run(cr) == run(torch) == [("tensor", 8.0), ("pre", 80.0), ("hook", 160.0)]


def test_a_leaf_used_twice_is_one_accumulate_grad_node_as_torch():
    def count(L):
        x = L.ones(2, requires_grad=True)
        y = (x * x + x).sum()
        seen, stack = set(), [y.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            stack.extend(f for f, _ in fn.next_functions)
        return len(seen), sum(type(f).__name__ == "AccumulateGrad" for f in seen)
    assert count(cr) == count(torch) == (4, 1)
