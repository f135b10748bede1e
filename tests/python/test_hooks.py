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
    with pytest.raises(NotImplementedError, match="MSELoss: forward hooks run for modules called with one tensor"):
        loss(cr.zeros(2), cr.ones(2))
