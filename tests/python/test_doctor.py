"""cr.doctor.check against real broken models: one fixture per pathology must give exactly its code
at its layer (and no other error), healthy models no error, every statistic must match torch, and
check must leave the model, its grads and the optimizer exactly as it found them."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

F = cr.nn.functional
nn = cr.nn


# ---------------------------------------------------------------------------------------- fixtures
def spiral(n=64, classes=3, seed=0, dtype=np.float32):
    """CS231n's spiral: n points in the plane, `classes` interleaved arms."""
    rng = np.random.default_rng(seed)
    x, y = np.zeros((n, 2)), np.zeros(n, dtype=np.int64)
    per = n // classes
    for c in range(classes):
        lo, hi = per * c, (per * (c + 1) if c < classes - 1 else n)
        r = np.linspace(0.05, 1, hi - lo)
        t = np.linspace(c * 4, (c + 1) * 4, hi - lo) + rng.standard_normal(hi - lo) * 0.2
        x[lo:hi] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[lo:hi] = c
    return cr.tensor(x.astype(dtype)), cr.tensor(y)


X, Y = spiral()


def mlp(widths, act, init="default", gain=1.0):
    """Linear layers of the given widths with `act` between them; init "kaiming" (He, for ReLU),
    "small" (N(0, 0.01^2)), "gain" (N(0, gain^2 / fan_in)) or torch's default."""
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        lin = nn.Linear(a, b)
        if init == "kaiming":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
        elif init == "small":
            nn.init.normal_(lin.weight, std=0.01)
            nn.init.zeros_(lin.bias)
        elif init == "gain":
            nn.init.normal_(lin.weight, std=gain / math.sqrt(a))
            nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def errors(report):
    return sorted((f.code, f.layer) for f in report.findings if f.severity == "error")


def check(model, lr=0.1, batch=None, loss_fn=F.cross_entropy, opt=None):
    opt = opt or cr.optim.SGD(model.parameters(), lr=lr)
    return cr.doctor.check(model, loss_fn, batch or (X, Y), optimizer=opt)


def kaiming_relu():
    cr.manual_seed(0)
    return mlp([2, 64, 64, 3], nn.ReLU, "kaiming")


def vanishing_sigmoid():
    cr.manual_seed(0)
    return mlp([2] + [32] * 10 + [3], nn.Sigmoid, "small")


# ---------------------------------------------------------------------------------------- healthy
def test_a_kaiming_relu_spiral_mlp_is_healthy():
    report = check(kaiming_relu())
    assert errors(report) == [] and report.ok
    assert [r.name for r in report.layers] == ["0", "1", "2", "3", "4"]
    assert report.layers[1].description == "ReLU after Linear(2->64)"
    assert report.layers[3].frac_dead < 0.1
    assert abs(report.loss - math.log(3)) < 0.5


def test_a_lecture_4_tanh_mlp_with_gain_5_3_is_healthy_with_a_few_percent_saturated():
    cr.manual_seed(0)
    report = check(mlp([2, 64, 64, 64, 3], nn.Tanh, "gain", gain=5 / 3))
    assert errors(report) == []
    sat = [r.frac_saturated for r in report.layers if r.kind == "Tanh"]
    assert len(sat) == 3 and all(0 < s < 0.1 for s in sat)
    assert "SATURATED" not in report.codes()


# ---------------------------------------------------------------------------------------- pathologies
def test_a_deep_sigmoid_mlp_with_small_init_has_vanishing_gradients_at_its_first_layer():
    report = check(vanishing_sigmoid())
    assert errors(report) == [("VANISHING", "0")]
    f = report.findings[0]
    assert f.data["ratio"] < 1e-3 and f.data["first_norm"] < 1e-4
    assert "AUTOTRAINER" in f.source
    assert "LR_TOO_LOW" not in report.codes()  # the tiny updates are explained by depth, not by lr


def test_tanh_weights_times_5_saturate_both_hidden_layers():
    cr.manual_seed(0)
    model = mlp([2, 64, 64, 3], nn.Tanh, "gain", gain=5 / 3)
    with cr.no_grad():
        model[0].weight.mul_(5)
        model[2].weight.mul_(5)
    report = check(model)
    assert errors(report) == [("SATURATED", "1"), ("SATURATED", "3")]
    assert all(f.data["fraction"] >= 0.3 for f in report.findings if f.code == "SATURATED")
    assert "0.97" in report.findings[0].source or "Karpathy" in report.findings[0].source


def test_biases_of_minus_10_kill_every_relu_after_them():
    model = kaiming_relu()
    with cr.no_grad():
        model[2].bias.fill_(-10.0)
    report = check(model)
    assert errors(report) == [("DEAD_RELU", "3")]
    f = report.findings[0]
    assert f.evidence.startswith("64/64 units output 0 for every example")
    assert f.description == "ReLU after Linear(64->64)"
    assert "pre-activations mean -10" in f.cause and "kaiming_normal_" in f.fix


def test_training_at_a_too_high_lr_kills_relus_and_the_finding_blames_the_learning_rate():
    cr.manual_seed(0)
    model = mlp([2, 64, 64, 3], nn.ReLU, "kaiming")
    opt = cr.optim.SGD(model.parameters(), lr=3.0)
    _train(model, opt, 5)
    report = check(model, opt=opt)
    assert errors(report) == [("DEAD_RELU", "3")]
    dead = report.findings[0]
    assert dead.data["fraction"] >= 0.4
    assert "the learning rate is too high" in dead.cause and "lower lr" in dead.fix
    assert [(f.code, f.severity) for f in report.findings if f.code == "LR_TOO_HIGH"] == [("LR_TOO_HIGH", "warning")]


def test_a_learning_rate_far_too_high():
    report = check(kaiming_relu(), lr=10.0)
    assert errors(report) == [("LR_TOO_HIGH", "")]
    f = report.findings[0]
    assert f.data["median"] > 1e-1 and "lower the learning rate" in f.fix


def test_a_learning_rate_far_too_low():
    report = check(kaiming_relu(), lr=1e-6)
    assert errors(report) == [("LR_TOO_LOW", "")]
    assert report.findings[0].data["median"] < 1e-5


def test_a_detached_parameter_gets_no_grad_and_why_no_grad_says_why():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 64)
            self.scale = nn.Parameter(cr.ones(64))

        def forward(self, x):
            return self.lin(x) * self.scale.detach()  # the bug: scale never trains

    cr.manual_seed(0)
    model = nn.Sequential(Scaled(), nn.ReLU(), nn.Linear(64, 3))
    report = check(model)
    assert errors(report) == [("NO_GRAD_PARAM", "0")]
    f = report.findings[0]
    assert f.data == {"param": "0.scale", "reason": "NOT_IN_GRAPH"}
    assert "0.scale" in f.cause and "Fix:" not in f.cause
    assert "no scale.detach(), .data" in f.fix  # where to look: the module's forward


def test_frozen_parameters_are_only_info():
    model = kaiming_relu()
    model[0].requires_grad_(False)
    report = check(model)
    assert errors(report) == []
    assert [(f.code, f.severity, f.layer) for f in report.findings if f.code == "NO_GRAD_PARAM"] == \
        [("NO_GRAD_PARAM", "info", "0")]


def _train(model, opt, steps, zero_grad=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # backward's own forgotten-zero_grad warning
        for _ in range(steps):
            if zero_grad:
                opt.zero_grad()
            F.cross_entropy(model(X), Y).backward()
            opt.step()


def test_a_missing_zero_grad_is_found_and_a_normal_loop_is_not():
    model = kaiming_relu()
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    _train(model, opt, 30, zero_grad=False)
    report = check(model, opt=opt)
    assert errors(report) == [("GRAD_ACCUMULATING", "")]
    assert report.findings[0].data["stepped"] is True and report.findings[0].data["ratio"] > 3

    model = kaiming_relu()
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    _train(model, opt, 30)
    assert "GRAD_ACCUMULATING" not in check(model, opt=opt).codes()


def test_accumulating_on_purpose_before_a_step_is_only_info():
    model = kaiming_relu()
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(4):
        F.cross_entropy(model(X), Y).backward()
    report = check(model, opt=opt)
    assert errors(report) == []
    f = next(f for f in report.findings if f.code == "GRAD_ACCUMULATING")
    assert f.severity == "info" and f.data["ratio"] == pytest.approx(4.0, rel=1e-4)


class TimeMajor(nn.Module):
    """(N, T, D) -> (T, N, D) for a time-major layer; the bug: view keeps memory order."""

    def __init__(self, fixed=False):
        super().__init__()
        self.fixed = fixed

    def forward(self, h):
        return h.transpose(0, 1) if self.fixed else h.view(h.shape[1], h.shape[0], h.shape[2])


class MeanOverTime(nn.Module):
    def forward(self, h):
        return h.mean(0)


def test_view_instead_of_transpose_mixes_the_batch():
    cr.manual_seed(0)
    xs, ys = cr.randn(16, 5, 4), cr.randint(0, 3, (16,))
    model = nn.Sequential(TimeMajor(), MeanOverTime(), nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    report = check(model, batch=(xs, ys))
    assert errors(report) == [("BATCH_MIXING", "0")]
    f = report.findings[0]
    assert f.data["others"] == 4 and f.data["span"] == ["0", "1"] and "transpose" in f.fix

    model[0].fixed = True
    assert "BATCH_MIXING" not in check(model, batch=(xs, ys)).codes()


def test_batchnorm_mixes_by_design_and_is_not_flagged():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 3))
    report = check(model)
    assert errors(report) == [] and "BATCH_MIXING" not in report.codes()
    assert model.training  # probed in eval mode, put back


class Log(nn.Module):
    def forward(self, h):
        return cr.log(h)


def test_log_of_zero_in_a_module_is_nonfinite_at_that_module():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), Log(), nn.Linear(32, 3))
    report = check(model)
    assert errors(report) == [("NONFINITE", "2")]
    assert report.findings == [f for f in report.findings if f.code == "NONFINITE"]  # nothing after a nan
    assert report.findings[0].data["inf"] > 0 and report.layers[1].inf == 0


def _softmax_model():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3), nn.Softmax(dim=1))
    with cr.no_grad():
        model[2].weight.mul_(1000.0)  # probabilities of the other classes underflow to exactly 0
    return model


def nll_of_probs(p, y):
    return F.nll_loss(cr.log(p), y)  # the bug: log(softmax) instead of log_softmax / cross_entropy


def test_log_of_a_zero_probability_in_the_loss_gives_an_inf_loss():
    model = _softmax_model()
    report = check(model, loss_fn=nll_of_probs, batch=(X, (model(X).argmax(1) + 1) % 3))
    assert errors(report) == [("NONFINITE", "loss")] and math.isinf(report.loss)


def test_log_of_a_zero_probability_in_backward_names_the_op():
    model = _softmax_model()
    report = check(model, loss_fn=nll_of_probs, batch=(X, model(X).argmax(1)))  # finite loss
    assert errors(report) == [("NONFINITE", "loss")] and math.isfinite(report.loss)
    f = report.findings[0]
    assert "the backward of 'log'" in f.data["anomaly"] and "returned nan" in f.data["anomaly"]
    assert "0.weight" in f.data["params"]


def test_loss_at_init_far_above_ln_c():
    model = kaiming_relu()
    with cr.no_grad():
        model[4].weight.mul_(20.0)
    report = check(model, lr=0.01)
    assert ("LOSS_AT_INIT", "") in errors(report)
    f = next(f for f in report.findings if f.code == "LOSS_AT_INIT")
    assert f.data["expected"] == pytest.approx(math.log(3)) and f.data["ratio"] > 3


# ---------------------------------------------------------------------------------------- the fix works
def test_the_suggested_fix_for_vanishing_gradients_makes_training_work():
    def train(model, steps=150, lr=0.1):
        opt = cr.optim.SGD(model.parameters(), lr=lr)
        _train(model, opt, steps)
        return float(F.cross_entropy(model(X), Y).item()), opt

    sick = vanishing_sigmoid()
    fix = next(f.fix for f in check(sick).findings if f.code == "VANISHING")
    assert "ReLU" in fix and "kaiming_normal_" in fix
    sick_loss, _ = train(sick)
    cr.manual_seed(0)
    cured = mlp([2] + [32] * 10 + [3], nn.ReLU, "kaiming")  # the fix: ReLU + Kaiming init
    cured_loss, opt = train(cured, lr=0.05)
    assert sick_loss > 1.05 and cured_loss < 0.7 * sick_loss
    assert errors(check(cured, opt=opt)) == []


# ---------------------------------------------------------------------------------------- restoring
def test_check_puts_back_parameters_buffers_grads_optimizer_state_rng_and_modes():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(X), Y).backward()
        opt.step()
    opt.zero_grad()
    F.cross_entropy(model(X), Y).backward()  # between backward and step, as in a training loop
    model[4].bias.grad = None                # and one parameter without a grad
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    grads = [(p.grad, None if p.grad is None else p.grad.numpy().copy()) for p in model.parameters()]
    opt_state = opt.state_dict()
    opt_state = {i: {k: np.array(v.numpy()) for k, v in s.items()} for i, s in opt_state["state"].items()}
    rng = cr.default_generator.get_state().numpy().copy()

    report = cr.doctor.check(model, F.cross_entropy, (X, Y), optimizer=opt)
    assert report.layers[0].update_data > 0  # the dry step did move the weights

    for k, v in model.state_dict().items():
        assert np.array_equal(v.detach().numpy(), state[k]), k  # bit for bit, running stats too
    for p, (g, values) in zip(model.parameters(), grads):
        if g is None:
            assert p.grad is None
        else:
            assert hash(p.grad) == hash(g) and np.array_equal(p.grad.numpy(), values)
    after = {i: {k: v.numpy() for k, v in s.items()} for i, s in opt.state_dict()["state"].items()}
    assert after.keys() == opt_state.keys()
    for i in after:
        for k in after[i]:
            assert np.array_equal(after[i][k], opt_state[i][k]), (i, k)
    assert np.array_equal(cr.default_generator.get_state().numpy(), rng)
    assert all(m.training for m in model.modules())


def test_check_on_a_fresh_model_leaves_no_grads_and_no_optimizer_state():
    model = kaiming_relu()
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    check(model, opt=opt)
    assert all(p.grad is None for p in model.parameters())
    assert opt.state_dict()["state"] == {}


# ---------------------------------------------------------------------------------------- torch agrees
def test_every_statistic_agrees_with_torch_hooks_in_float64():
    cr.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 3)).double()
    with cr.no_grad():
        model[0].bias.sub_(0.6)      # some dead ReLUs
        model[2].weight.mul_(15.0)   # some saturated tanh
        model[4].weight.mul_(30.0)   # and sigmoid
    x, y = spiral(dtype=np.float64)
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    report = cr.doctor.check(model, F.cross_entropy, (x, y), optimizer=opt)

    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                 torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Sigmoid(),
                                 torch.nn.Linear(16, 3)).double()
    tmodel.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in model.state_dict().items()})
    seen = {}

    def hook(name):
        def fn(module, args, out):
            out.retain_grad()
            seen[name] = (module, args[0].detach(), out)
        return fn
    for name, m in tmodel.named_children():
        m.register_forward_hook(hook(name))
    tx, ty = torch.from_numpy(x.numpy().copy()), torch.from_numpy(y.numpy().copy())
    torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
    before = {n: p.detach().clone() for n, p in tmodel.named_parameters()}
    torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9).step()

    close = dict(rel=1e-6, abs=1e-12)
    checked = 0
    for row in report.layers:
        module, inp, out = seen[row.name]
        o = out.detach()
        assert row.act_mean == pytest.approx(o.mean().item(), **close)
        assert row.act_std == pytest.approx(o.std().item(), **close)
        assert row.out_grad_std == pytest.approx(out.grad.std().item(), **close)
        assert (row.nan, row.inf) == (int(o.isnan().sum()), int(o.isinf().sum()))
        if isinstance(module, (torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid)):
            assert row.pre_mean == pytest.approx(inp.mean().item(), **close)
            assert row.pre_std == pytest.approx(inp.std().item(), **close)
        if isinstance(module, torch.nn.ReLU):
            assert row.frac_dead == pytest.approx((o == 0).all(dim=0).double().mean().item(), **close)
            assert 0 < row.frac_dead < 1
        t = {torch.nn.Tanh: lambda o: o, torch.nn.Sigmoid: lambda o: 2 * o - 1}.get(type(module))
        if t is not None:
            assert row.frac_saturated == pytest.approx((t(o).abs() > 0.97).double().mean().item(), **close)
            assert 0 < row.frac_saturated < 1
        if isinstance(module, torch.nn.Linear):
            w, w0 = module.weight, before[f"{row.name}.weight"]
            assert row.param == f"{row.name}.weight"
            assert row.grad_norm == pytest.approx(w.grad.norm().item(), **close)
            assert row.grad_std == pytest.approx(w.grad.std().item(), **close)
            assert row.grad_data == pytest.approx((w.grad.std() / w0.std()).item(), **close)
            assert row.update_data == pytest.approx(((w.detach() - w0).std() / w0.std()).item(), **close)
        checked += 1
    assert checked == 7
    by_name = {p.name: p for p in report.params}
    for n, p in tmodel.named_parameters():
        assert by_name[n].grad_norm == pytest.approx(p.grad.norm().item(), **close)


# ---------------------------------------------------------------------------------------- the report
def test_the_printed_report_lists_errors_first_then_the_table():
    model = kaiming_relu()
    with cr.no_grad():
        model[2].bias.fill_(-10.0)
    text = str(check(model, lr=0.3))
    lines = text.splitlines()
    assert lines[1].startswith("[error] DEAD_RELU at '3' (ReLU after Linear(64->64)): 64/64 units output 0")
    assert lines[2].startswith("  cause: pre-activations mean -10")
    assert lines[3].startswith("  fix:")
    assert "layer  module" in text and "ReLU after Linear(64->64)" in text.split("layer  module")[1]


def test_plot_draws_activation_and_gradient_histograms_and_update_bars(tmp_path):
    cr.manual_seed(0)
    report = check(mlp([2, 64, 64, 64, 3], nn.Tanh, "gain", gain=5 / 3))
    fig = report.plot()
    act, grad, upd = fig.axes[:3]
    assert len(act.lines) == 3 and len(grad.lines) == 4   # 3 tanh layers, 4 weights
    assert len(upd.patches) >= 4
    assert any(line.get_linestyle() == "--" and line.get_ydata()[0] == -3 for line in upd.lines)
    fig.savefig("/tmp/doctor_plot.png", dpi=80)
    fig.savefig(tmp_path / "doctor.png", dpi=60)


def test_the_plot_of_a_dead_network_says_its_weights_did_not_move():
    # every weight's gradient is 0: the step ran (update:data 0.0), it is not a missing optimizer
    model = kaiming_relu()
    with cr.no_grad():
        model[2].bias.fill_(-10.0)
    report = check(model)
    weights = [p for p in report.params if len(p.shape) >= 2]
    assert weights and all(p.update_data == 0.0 for p in weights)
    _, grad, upd = report.plot().axes[:3]
    assert [t.get_text() for t in grad.texts] == ["every weight's gradient is 0"]
    assert [t.get_text() for t in upd.texts] == ["0: did not move"] * len(weights)
    assert [t.get_text() for t in upd.get_xticklabels()] == [p.name for p in weights]


class _Add(nn.Module):
    def forward(self, a, b):
        return a + b


class TwoArgumentNet(nn.Module):
    """A model with a submodule called with two tensors (module hooks can't run on that call)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 16)
        self.add = _Add()
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        h = self.lin(x)
        return self.out(self.add(h, h))


def test_a_module_called_with_two_tensors_is_skipped_and_said_so():
    cr.manual_seed(0)
    report = check(TwoArgumentNet())
    assert [r.name for r in report.layers] == ["lin", "out"]
    assert any("add" in n and "several arguments" in n for n in report.notes)


# ---------------------------------------------------------------------------------------- bad input
def test_bad_arguments_raise_errors_that_name_check():
    model = kaiming_relu()
    with pytest.raises(TypeError, match="check: expected a cr.nn.Module"):
        cr.doctor.check(lambda x: x, F.cross_entropy, (X, Y))
    with pytest.raises(ValueError, match=r"check: batch must be a pair \(x, y\)"):
        cr.doctor.check(model, F.cross_entropy, X)
    with pytest.raises(ValueError, match=r"check: batch must be a pair"):
        cr.doctor.check(model, F.cross_entropy, (X, Y, Y))
    other = kaiming_relu()
    with pytest.raises(ValueError, match="check: the optimizer is not over this model's parameters"):
        cr.doctor.check(model, F.cross_entropy, (X, Y), optimizer=cr.optim.SGD(other.parameters(), lr=0.1))


class _SwapsData(nn.Module):
    """Its forward replaces h's storage (h.data = ...) before the activation: same tensor, new values."""
    def __init__(self):
        super().__init__()
        self.lin, self.act = nn.Linear(5, 7), nn.Tanh()

    def forward(self, x):
        h = self.lin(x)
        h.data = h.detach() * 3
        return self.act(h)


def test_a_pre_activation_whose_storage_was_replaced_is_measured_again():
    cr.manual_seed(0)
    model = _SwapsData()
    seen = {}
    def pre(module, args):
        seen["x"] = args[0].detach().numpy().copy()

    handle = model.act.register_forward_pre_hook(pre)
    report = cr.doctor.check(model, F.cross_entropy, (cr.randn(9, 5), cr.randint(0, 7, (9,))))
    handle.remove()
    row = next(r for r in report.layers if r.name == "act")
    truth = seen["x"].astype(np.float64)
    assert row.pre_mean == pytest.approx(truth.mean(), rel=1e-9) and row.pre_std == pytest.approx(truth.std(ddof=1), rel=1e-9)
