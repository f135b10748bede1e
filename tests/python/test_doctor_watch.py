"""cr.doctor.watch on real training runs: a healthy run gives no error, each broken run its code at
the step it happens, and watching neither changes the training (bit for bit) nor leaves anything
behind (opt.step, module hooks). No timing here: the overhead is benchmarks/bench_doctor_watch.py."""
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from test_doctor import X, Y, TwoArgumentNet, mlp

F = cr.nn.functional
nn = cr.nn


def kaiming(seed=0, widths=(2, 64, 64, 3)):
    cr.manual_seed(seed)
    return mlp(list(widths), nn.ReLU, "kaiming")


def train(model, opt, steps, doc=None, zero_grad=True, x=X, y=Y, loss_fn=F.cross_entropy):
    """The usual loop; the loss is logged before the step (it is the loss the step follows)."""
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # backward's own forgotten-zero_grad warning
        for _ in range(steps):
            if zero_grad:
                opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            losses.append(float(loss.item()))
            if doc is not None:
                doc.log_loss(loss)
            opt.step()
    return losses


def watched(model, opt, steps, every=10, **kw):
    with cr.doctor.watch(model, opt, every=every) as doc:
        train(model, opt, steps, doc, **kw)
    return doc


def errors(report):
    return sorted((f.code, f.layer) for f in report.findings if f.severity == "error")


def no_hooks_left(model):
    return not any(m._has_hooks() for m in model.modules())


# regression targets an MLP at lr=1 diverges on: the loss overflows to inf, then nan
_rng = np.random.default_rng(0)
XR = cr.tensor(_rng.standard_normal((64, 2)).astype(np.float32))
YR = cr.tensor(_rng.standard_normal((64, 1)).astype(np.float32))


def regression_mlp():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1))


# ---------------------------------------------------------------------------------------- healthy
def test_a_healthy_run_gives_10_samples_no_error_and_a_plot():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    doc = watched(model, opt, 100)
    assert doc.steps == 100 and [s.step for s in doc.history] == list(range(0, 100, 10))
    report = doc.report()
    assert isinstance(report, cr.doctor.Report) and report.ok and errors(report) == []
    assert [r.name for r in report.layers] == ["0", "1", "2", "3", "4"]
    assert all(s.stale == 0 for s in doc.history)                  # zero_grad every step
    assert all(s.loss is not None for s in doc.history)
    assert doc.history[-1].loss < doc.history[0].loss
    assert all(r.update_data > 0 for s in doc.history for r in s.layers if r.param)  # real steps moved them
    fig = doc.plot()
    grad, upd, act, loss = fig.axes[:4]
    assert len(grad.lines) == 3 and grad.get_yscale() == "log"
    assert len(grad.lines[0].get_xdata()) == 10
    assert any(line.get_linestyle() == "--" and line.get_ydata()[0] == -3 for line in upd.lines)
    assert len([line for line in act.lines if "dead" in line.get_label()]) == 2
    assert len(loss.lines[0].get_xdata()) == 100
    fig.savefig("/tmp/doctor_watch.png", dpi=70)
    report.plot()  # check's histograms, of the latest sample


def test_update_data_is_the_real_change_across_the_step():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with cr.doctor.watch(model, opt, every=3) as doc:
        train(model, opt, 3)                   # steps 0, 1, 2; the next sample is step 3
        before = model[2].weight.detach().numpy().astype(np.float64)
        train(model, opt, 1)
        after = model[2].weight.detach().numpy().astype(np.float64)
    s = doc.history[-1]
    assert s.step == 3
    row = next(r for r in s.layers if r.name == "2")
    assert row.update_data == pytest.approx(np.std(after - before, ddof=1) / np.std(before, ddof=1), rel=1e-9)


# ---------------------------------------------------------------------------------------- pathologies
def test_a_learning_rate_far_too_high_diverges_and_both_findings_name_the_step():
    model = regression_mlp()
    opt = cr.optim.SGD(model.parameters(), lr=1.0)
    doc = watched(model, opt, 40, every=5, x=XR, y=YR, loss_fn=F.mse_loss)
    report = doc.report()
    assert errors(report) == [("LR_TOO_HIGH", ""), ("NONFINITE", "loss")]

    replay = regression_mlp()  # the same run unwatched: the first non-finite loss is the step named
    losses = train(replay, cr.optim.SGD(replay.parameters(), lr=1.0), 40, x=XR, y=YR, loss_fn=F.mse_loss)
    k = next(i for i, v in enumerate(losses) if not math.isfinite(v))
    nonfinite = next(f for f in report.findings if f.code == "NONFINITE")
    assert nonfinite.data["step"] == k and nonfinite.data["diverged"]
    assert f"at step {k}" in nonfinite.evidence and "diverged" in nonfinite.cause
    lr = next(f for f in report.findings if f.code == "LR_TOO_HIGH")
    assert lr.data["first_step"] == 0 and lr.data["median"] > 0.1


def test_a_learning_rate_far_too_low_stalls_the_loss():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=1e-5)
    report = watched(model, opt, 60).report()
    assert errors(report) == [("LR_TOO_LOW", "")]
    assert "LOSS_STALLED" in report.codes("warning")


def test_a_missing_zero_grad_is_grad_accumulating_and_the_left_over_grows():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    doc = watched(model, opt, 50, zero_grad=False)
    report = doc.report()
    assert ("GRAD_ACCUMULATING", "") in errors(report)
    f = next(f for f in report.findings if f.code == "GRAD_ACCUMULATING")
    assert f.data["stepped"] is True and f.data["ratio"] > 3
    ratios = [s.stale for s in doc.history]
    assert ratios[0] == 0 and 7 < ratios[1] < 20  # the 10 earlier steps' gradients, each about as big
    assert ratios[-1] > ratios[1]  # growing (not strictly: the own gradient changes too)

    model = kaiming()  # accumulating two micro-batches per step on purpose is fine
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    with cr.doctor.watch(model, opt, every=5) as doc:
        for _ in range(20):
            opt.zero_grad()
            for half in (slice(0, 32), slice(32, 64)):
                (F.cross_entropy(model(X[half]), Y[half]) / 2).backward()
            opt.step()
    # .grad summed the halves in float32, the hooks in float64: equal up to rounding
    assert "GRAD_ACCUMULATING" not in doc.report().codes() and all(s.stale < 1e-6 for s in doc.history)


def test_relus_that_die_during_training_at_a_too_high_lr():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=3.0)
    doc = watched(model, opt, 100)
    report = doc.report()
    dead = [f for f in report.findings if f.code == "DEAD_RELU" and f.severity == "error"]
    assert [f.layer for f in dead] == ["3"]
    f = dead[0]
    assert f.data["fraction"] >= 0.4 and f.data["first_fraction"] < 0.1   # alive at step 0, dead later
    assert "the learning rate is too high" in f.cause and "in each of the last 5 samples" in f.evidence
    # dead in the window means 0 on every sample's batch: the per-sample flags agree
    masks = np.logical_and.reduce([s.dead["3"] for s in doc.history[-5:]])
    assert f.data["dead"] == int(masks.sum())
    # (whether LR_TOO_HIGH is reported too depends on the median weight's update over the last
    # window, which moves with rounding once the ReLUs are dead: reported with OpenBLAS's GEMM, not
    # with Eigen's under ASan; the dead layer's own update:data, checked above, is what blames lr)


def test_gradients_growing_over_time_are_exploding():
    model = regression_mlp()
    opt = cr.optim.SGD(model.parameters(), lr=1.0)
    with cr.doctor.watch(model, opt, every=1) as doc:
        train(model, opt, 5, x=XR, y=YR, loss_fn=F.mse_loss)  # stop before the loss overflows
    report = doc.report()
    f = next(f for f in report.findings if f.code == "EXPLODING")
    assert f.severity == "error" and f.data["growth"] > 100
    norms = list(f.data["norms"].values())
    assert norms[-1] > norms[-2]


# ---------------------------------------------------------------------------------------- read only
def test_watching_does_not_change_training_bit_for_bit():
    def run(watch, every=10):
        model = kaiming()
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)
        if watch:
            watched(model, opt, 30, every=every)
        else:
            train(model, opt, 30)
        return [p.detach().numpy().copy() for p in model.parameters()]

    plain = run(False)
    for every in (10, 1):
        assert all(np.array_equal(a, b) for a, b in zip(plain, run(True, every)))


def test_the_with_block_puts_back_opt_step_and_leaves_no_hooks():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    step = opt.step
    with cr.doctor.watch(model, opt, every=2) as doc:
        assert opt.step != step
        train(model, opt, 4)                   # ends armed: step 4 would be sampled
        assert not no_hooks_left(model)
    assert opt.step == step and "step" not in vars(opt) and no_hooks_left(model)

    with pytest.raises(ZeroDivisionError):
        with cr.doctor.watch(model, opt, every=1):
            F.cross_entropy(model(X), Y).backward()
            1 / 0
    assert opt.step == step and no_hooks_left(model)
    doc.report()  # still usable after the block


def test_a_module_whose_forward_takes_two_arguments_is_not_hooked_and_training_runs():
    cr.manual_seed(0)
    model = TwoArgumentNet()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    doc = watched(model, opt, 3, every=1)
    assert [r.name for r in doc.report().layers] == ["lin", "out"] and doc.skipped == ["add"]
    assert any("add" in n for n in doc.report().notes)


# ---------------------------------------------------------------------------------------- edges
def test_every_1_samples_each_step_and_every_above_the_steps_samples_step_0_only():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    assert [s.step for s in watched(model, opt, 4, every=1).history] == [0, 1, 2, 3]
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    doc = watched(model, opt, 5, every=50)
    assert [s.step for s in doc.history] == [0] and doc.report().ok


def test_a_report_before_any_step_is_empty_and_steps_go_on_across_blocks():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    doc = cr.doctor.watch(model, opt, every=4)
    assert doc.report().findings == [] and doc.report().layers == []
    doc.plot()
    with doc:
        train(model, opt, 6)
    with doc:
        train(model, opt, 6)
    assert doc.steps == 12 and [s.step for s in doc.history] == [0, 4, 8]


def test_bad_arguments_raise_errors_that_name_watch():
    model = kaiming()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="watch: expected a cr.nn.Module"):
        cr.doctor.watch(lambda x: x, opt)
    with pytest.raises(TypeError, match="watch: optimizer must be"):
        cr.doctor.watch(model, object())
    with pytest.raises(ValueError, match="watch: the optimizer is not over this model's parameters"):
        cr.doctor.watch(model, cr.optim.SGD(kaiming().parameters(), lr=0.1))
    for bad in (1.5, "10", True):
        with pytest.raises(TypeError, match="watch: every must be an int"):
            cr.doctor.watch(model, opt, every=bad)
    with pytest.raises(ValueError, match="watch: every must be >= 1"):
        cr.doctor.watch(model, opt, every=0)
    with pytest.raises(ValueError, match="watch: window must be >= 1"):
        cr.doctor.watch(model, opt, window=0)
    doc = cr.doctor.watch(model, opt)
    with doc:
        with pytest.raises(RuntimeError, match="watch: this watch is already active"):
            doc.__enter__()


def test_vanishing_gradients_stay_the_diagnosis_after_the_network_stops_learning():
    # A 4-layer sigmoid net with weights 0.01 N(0, 1) (examples/fix_a_model.py): after ~10 steps it
    # predicts a constant and every gradient is ~1e-6, so the first/last ratio no longer holds. The
    # diagnosis must stay VANISHING (still an error), not "raise the learning rate 2000x".
    cr.manual_seed(0)
    model = mlp([2, 64, 64, 64, 3], nn.Sigmoid, "small")
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    doc = watched(model, opt, 100)
    report = doc.report()
    assert errors(report) == [("VANISHING", "0")]
    van = next(f for f in report.findings if f.code == "VANISHING")
    assert "every gradient is tiny" in van.evidence and "did not recover" in van.evidence
    low = [f for f in report.findings if f.code == "LR_TOO_LOW"]
    assert all(f.severity == "warning" and "VANISHING" in f.cause for f in low)
    first = doc.history[-1].params[0]
    assert first.name == "0.weight" and first.grad_norm < 1e-4  # the premise: still tiny at the end
    # a healthy ReLU net at the same lr: no VANISHING, and its steps are judged on their own
    cr.manual_seed(0)
    healthy = mlp([2, 64, 64, 64, 3], nn.ReLU, "kaiming")
    hopt = cr.optim.SGD(healthy.parameters(), lr=0.1)
    assert "VANISHING" not in watched(healthy, hopt, 100).report().codes()


# ------------------------------------------------------------- what .grad held, and what backward added
def test_gradients_taken_with_autograd_grad_are_not_mistaken_for_a_forgotten_zero_grad():
    # autograd.grad runs the parameters' hooks but adds nothing to .grad: only an accumulation counts
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = cr.optim.SGD(m.parameters(), lr=0.5)
    x, y = cr.randn(64, 4), cr.randint(0, 3, (64,))
    with cr.doctor.watch(m, opt, every=5) as doc:
        for _ in range(30):
            xr = x.clone().requires_grad_(True)
            out = m(xr)
            gx, = cr.autograd.grad(out.sum(), xr, create_graph=True)  # an input-gradient penalty
            loss = F.cross_entropy(out, y) + 1e-3 * (gx ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert all(s.stale == 0 for s in doc.history)
    for s in doc.history:  # with zero_grad, what backward added is all of .grad
        grad = {p.name: p.grad_norm for p in s.params}
        assert all(abs(s.fresh_norm[n] - grad[n]) <= 1e-6 * grad[n] for n in grad)
    assert "GRAD_ACCUMULATING" not in doc.report().codes()
    # a functional loop (autograd.grad, then .grad assigned): backward never accumulates, so what
    # it added is not measured, and nothing is blamed on zero_grad
    params = list(m.parameters())
    with cr.doctor.watch(m, opt, every=5) as doc2:
        for _ in range(20):
            grads = cr.autograd.grad(F.cross_entropy(m(x), y), params)
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
    assert all(s.stale is None and s.fresh_norm == {} for s in doc2.history)
    assert "GRAD_ACCUMULATING" not in doc2.report().codes()


def test_the_fresh_gradient_is_measured_before_clipping_and_a_forgotten_zero_grad_still_shows():
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = cr.optim.SGD(m.parameters(), lr=0.01)
    x, y = cr.randn(64, 4), cr.randint(0, 3, (64,))
    unclipped = []
    with cr.doctor.watch(m, opt, every=2) as doc:
        for t in range(6):
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            unclipped.append(float(m[2].weight.grad.norm()))
            cr.nn.utils.clip_grad_norm_(m.parameters(), 1e-3)
            opt.step()
    for s in doc.history:
        assert s.fresh_norm["2.weight"] == pytest.approx(unclipped[s.step], rel=1e-6)  # not the clipped 1e-3
        assert next(p for p in s.params if p.name == "2.weight").grad_norm <= 1e-3 * (1 + 1e-6)
    with cr.doctor.watch(m, opt, every=2) as doc:  # the same, zero_grad forgotten after the first step
        for t in range(6):
            if t == 0:
                opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            cr.nn.utils.clip_grad_norm_(m.parameters(), 1e-3)
            opt.step()
    assert doc.history[0].stale == 0 and all(0 < s.stale < 0.1 for s in doc.history[1:])  # 1e-3 left over


def test_a_layer_swapped_between_two_blocks_is_watched_in_the_second():
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = cr.optim.SGD(m.parameters(), lr=0.1)
    x, y = cr.randn(16, 4), cr.randint(0, 3, (16,))
    doc = cr.doctor.watch(m, opt, every=1)
    with doc:
        train(m, opt, 1, doc, x=x, y=y)
    setattr(m, "1", nn.Tanh())
    with doc:
        train(m, opt, 1, doc, x=x, y=y)
    # the first block's sample, read only now, is described by the modules it ran
    assert [(r.name, r.kind) for r in doc.history[0].layers] == [("0", "Linear"), ("1", "ReLU"), ("2", "Linear")]
    assert doc.history[0].layers[1].frac_dead is not None
    assert [(r.name, r.kind) for r in doc.history[-1].layers] == [("0", "Linear"), ("1", "Tanh"), ("2", "Linear")]
    assert doc.history[-1].layers[1].frac_saturated is not None


def test_a_step_with_a_closure_is_described_by_what_came_before_it():
    # opt.step(closure) runs forward and backward inside the step: watch describes the state the
    # step started from (no .grad at step 0: no gradient measured, and no false NO_GRAD_PARAM)
    m = kaiming()
    opt = cr.optim.SGD(m.parameters(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(m(X), Y)
        loss.backward()
        return loss

    with cr.doctor.watch(m, opt, every=5) as doc:
        for _ in range(10):
            opt.step(closure)
    first = doc.history[0]
    assert first.step == 0 and first.fresh_norm == {} and first.stale is None
    assert all(p.grad_norm is None for p in first.params)
    assert not [f for f in first.findings if f.code == "NO_GRAD_PARAM"], first.findings
    assert all(p.grad_norm is not None for p in doc.history[1].params)  # step 5: the closure of step 4
    assert no_hooks_left(m)


def test_an_integer_parameter_is_not_measured_and_training_goes_on():
    m = kaiming()
    m.register_parameter("tag", cr.nn.Parameter(cr.zeros(3), requires_grad=False))
    m.tag.data = cr.tensor([1, 2, 3])  # allowed without requires_grad (as in PyTorch)
    opt = cr.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1)
    doc = watched(m, opt, 20, every=10)
    assert doc.steps == 20 and len(doc.history) == 2
    tag = next(p for p in doc.history[-1].params if p.name == "tag")
    assert math.isnan(tag.data_std) and tag.update_data is None
    assert all(p.update_data is not None for p in doc.history[-1].params if p.name != "tag")
    report = cr.doctor.check(m, F.cross_entropy, (X, Y), optimizer=opt)  # check() reads it the same way
    tag = next(p for p in report.params if p.name == "tag")
    assert math.isnan(tag.data_std) and tag.grad_norm is None
    assert m.tag.tolist() == [1, 2, 3]


def test_a_sampled_step_that_raises_is_kept_without_its_update_and_keeps_the_histograms():
    m = kaiming()
    opt = cr.optim.SGD(m.parameters(), lr=0.1)
    doc = cr.doctor.watch(m, opt, every=2)
    with doc:
        train(m, opt, 4, doc)
    calls = []

    class Boom(Exception):
        pass

    def failing_step(*a, **k):
        calls.append(1)
        raise Boom("optimizer failed")

    with doc:
        doc._orig_step = failing_step  # the optimizer's own step raises
        opt.zero_grad()
        F.cross_entropy(m(X), Y).backward()
        with pytest.raises(Boom):
            opt.step()
    assert calls == [1] and doc.steps == 5
    assert [s.step for s in doc.history] == [0, 2, 4]
    assert all(p.update_data is None for p in doc.history[-1].params)
    assert all(p.grad_norm is not None for p in doc.history[-1].params)
    hist = doc.report()._hist
    assert hist["gradients"] and hist["activations"]
    assert no_hooks_left(m)


def test_the_probe_refuses_a_missing_module():
    with pytest.raises(TypeError, match="_Probe: target 'a': expected a cr.nn.Module, got None"):
        cr._core._Probe([("a", None, 0)])
