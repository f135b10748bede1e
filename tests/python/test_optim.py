"""cr.optim against torch.optim (torch==2.13.0): 30-step trajectories of every optimizer and option
set in float64 (relative error <= 1e-10), their state, param groups with their own lr, state-dict
round trips (also through a copy shaped as a checkpoint file gives it back), the dict-like param
groups and state, scheduler lr sequences, constraints
(projected gradient descent), and the errors for bad hyperparameters."""
import time
from collections.abc import Mapping, MutableMapping
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import lr_scheduler as sched

STEPS = 30
RTOL = 1e-10

# ------------------------------------------------------------------------------------------------
# the problem: least squares through a 3x4 matrix and a bias, plus a Rosenbrock valley
# ------------------------------------------------------------------------------------------------
_rng = np.random.default_rng(0)
X = _rng.normal(size=(8, 4))
Y = _rng.normal(size=(8, 3))
START = {"W": _rng.normal(size=(3, 4)), "b": _rng.normal(size=3), "v": np.array([-0.5, 0.8])}


def _loss(lib, W, b, v, X_, Y_):
    r = X_ @ W.T + b - Y_
    return (r * r).mean() + (1 - v[0]) ** 2 + 5 * (v[1] - v[0] ** 2) ** 2 + 0.1 * (lib.tanh(W) ** 2).sum()


class Problem:
    """The same parameters and loss in chainrule and torch."""

    def __init__(self, dtype="float64", sign=1.0):
        self.sign = sign  # -1 with maximize=True: ascending -f is descending f, which stays bounded
        npd = np.float64 if dtype == "float64" else np.float32
        self.cr = {k: cr.tensor(v.astype(npd), requires_grad=True) for k, v in START.items()}
        self.th = {k: torch.tensor(v.astype(npd), requires_grad=True) for k, v in START.items()}
        self.Xc, self.Yc = cr.tensor(X.astype(npd)), cr.tensor(Y.astype(npd))
        self.Xt, self.Yt = torch.tensor(X.astype(npd)), torch.tensor(Y.astype(npd))

    def loss_cr(self):
        return self.sign * _loss(cr, self.cr["W"], self.cr["b"], self.cr["v"], self.Xc, self.Yc)

    def loss_th(self):
        return self.sign * _loss(torch, self.th["W"], self.th["b"], self.th["v"], self.Xt, self.Yt)

    def params(self, which):
        d = self.cr if which == "cr" else self.th
        return [d["W"], d["b"], d["v"]]


def _step_both(pb, ocr, oth):
    ocr.zero_grad()
    pb.loss_cr().backward()
    ocr.step()
    oth.zero_grad()
    pb.loss_th().backward()
    oth.step()


def assert_close(ours, ref, rtol=RTOL, what=""):
    a = np.asarray(ours, dtype=np.float64)
    b = ref.detach().double().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref, dtype=np.float64)
    assert a.shape == b.shape, what
    scale = max(np.max(np.abs(b)), 1e-300) if b.size else 1.0
    err = np.max(np.abs(a - b)) / scale if b.size else 0.0
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol:g}"


def assert_params_equal(pb, rtol=RTOL):
    for k in pb.cr:
        assert_close(pb.cr[k], pb.th[k], rtol, k)
    moved = max(np.max(np.abs(np.asarray(pb.cr[k]) - START[k])) for k in START)
    assert moved > 1e-3  # the optimizer really moved the parameters


OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.9), maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, eps=1e-6)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, maximize=True)),
]


def _case_id(case):
    # A function shows as "fn", not its address: every pytest-xdist worker must collect the same ids.
    def show(v):
        if callable(v):
            return "fn"
        if isinstance(v, list) and any(callable(x) for x in v):
            return "[" + ", ".join(show(x) for x in v) + "]"
        return str(v)
    name, kw = case
    return name + "-" + "-".join(f"{k}={show(v)}" for k, v in kw.items())


@pytest.mark.parametrize("name, kwargs", OPTIMIZER_CASES, ids=[_case_id(c) for c in OPTIMIZER_CASES])
def test_30_steps_match_torch(name, kwargs):
    pb = Problem(sign=-1.0 if kwargs.get("maximize") else 1.0)
    ocr = getattr(optim, name)(pb.params("cr"), **kwargs)
    oth = getattr(torch.optim, name)(pb.params("th"), **kwargs)
    for _ in range(STEPS):
        _step_both(pb, ocr, oth)
    assert_params_equal(pb)
    # The state has torch's names and values (step counts included).
    ours, ref = ocr.state_dict(), oth.state_dict()
    assert sorted(ours["state"]) == sorted(ref["state"])
    for i, entries in ref["state"].items():
        assert list(ours["state"][i]) == list(entries), f"state keys of param {i}"
        for k, t in entries.items():
            assert_close(ours["state"][i][k], t, RTOL, f"state {i}.{k}")
    for g_ours, g_ref in zip(ours["param_groups"], ref["param_groups"]):
        for k, v in g_ours.items():
            assert g_ref[k] == v, k


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.05)),
                                          ("RMSprop", dict(lr=0.01, centered=True)), ("Adagrad", dict(lr=0.1))])
def test_float32_trajectories_stay_close_to_torch(name, kwargs):
    pb = Problem("float32")
    ocr = getattr(optim, name)(pb.params("cr"), **kwargs)
    oth = getattr(torch.optim, name)(pb.params("th"), **kwargs)
    for _ in range(STEPS):
        _step_both(pb, ocr, oth)
    for k in pb.cr:
        assert pb.cr[k].dtype == cr.float32
        assert_close(pb.cr[k], pb.th[k], 1e-4, k)


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    pb = Problem()
    ocr = optim.SGD(pb.params("cr"), lr=0.05, momentum=0.9)
    oth = torch.optim.SGD(pb.params("th"), lr=0.05, momentum=0.9)

    def closure_cr():
        ocr.zero_grad()
        loss = pb.loss_cr()
        loss.backward()
        return loss

    def closure_th():
        oth.zero_grad()
        loss = pb.loss_th()
        loss.backward()
        return loss

    for _ in range(STEPS):
        with cr.no_grad():  # the closure turns grad mode back on
            lc = ocr.step(closure_cr)
        lt = oth.step(closure_th)
        assert abs(lc.item() - lt.item()) <= 1e-10 * abs(lt.item())
    assert_params_equal(pb)


def test_zero_grad_sets_to_none_or_zeros():
    pb = Problem()
    o = optim.SGD(pb.params("cr"), lr=0.1)
    pb.loss_cr().backward()
    o.zero_grad(set_to_none=False)
    assert all(np.all(np.asarray(p.grad) == 0) for p in pb.params("cr"))
    o.zero_grad()
    assert all(p.grad is None for p in pb.params("cr"))


def test_params_without_grad_are_skipped():
    pb = Problem()
    o = optim.Adam(pb.params("cr"), lr=0.1)
    pb.cr["W"].grad = cr.ones(3, 4, dtype=cr.float64)
    o.step()
    assert not np.allclose(np.asarray(pb.cr["W"]), START["W"])
    assert np.array_equal(np.asarray(pb.cr["b"]), START["b"])
    assert o.state[pb.cr["b"]] == {}
    assert set(o.state[pb.cr["W"]]) == {"step", "exp_avg", "exp_avg_sq"}


# ------------------------------------------------------------------------------------------------
# param groups
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_with_their_own_lr_and_lr_changes_match_torch(name):
    pb = Problem()
    kw = dict(momentum=0.9) if name != "Adam" else {}

    def groups(p):
        return [{"params": [p[0]], "lr": 0.01}, {"params": [p[1], p[2]], "weight_decay": 0.05}]

    ocr = getattr(optim, name)(groups(pb.params("cr")), lr=0.03, **kw)
    oth = getattr(torch.optim, name)(groups(pb.params("th")), lr=0.03, **kw)
    assert [g["lr"] for g in ocr.param_groups] == [0.01, 0.03]
    assert ocr.param_groups[0]["weight_decay"] == 0 and ocr.param_groups[1]["weight_decay"] == 0.05
    for i in range(STEPS):
        if i == 10:  # torch-style lr changes take effect at the next step
            for o in (ocr, oth):
                for g in o.param_groups:
                    g["lr"] *= 0.5
        _step_both(pb, ocr, oth)
    assert [g["lr"] for g in ocr.param_groups] == [g["lr"] for g in oth.param_groups]
    assert_params_equal(pb)


def test_add_param_group_and_group_dict_behaviour():
    pb = Problem()
    ocr = optim.SGD([pb.cr["W"]], lr=0.05, momentum=0.9)
    oth = torch.optim.SGD([pb.th["W"]], lr=0.05, momentum=0.9)
    ocr.add_param_group({"params": [pb.cr["b"], pb.cr["v"]], "lr": 0.01})
    oth.add_param_group({"params": [pb.th["b"], pb.th["v"]], "lr": 0.01})
    for _ in range(STEPS):
        _step_both(pb, ocr, oth)
    assert_params_equal(pb)
    g = ocr.param_groups[1]
    assert g["params"][0] is pb.cr["b"]
    assert g["momentum"] == 0.9 and g["nesterov"] is False
    assert set(g) >= {"params", "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"}
    g["my_note"] = "kept"  # extra keys are allowed, as in torch
    assert g["my_note"] == "kept" and ocr.state_dict()["param_groups"][1]["my_note"] == "kept"
    with pytest.raises(TypeError):
        g["params"] = []


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adam"])
def test_param_groups_can_be_replaced_as_in_torch(name):
    """opt.param_groups = [...] (torch's plain attribute): the kept parameters keep their state, the
    new groups' options take effect, and the trajectory stays torch's."""
    pb = Problem()
    kw = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
    ocr, oth = getattr(optim, name)(pb.params("cr"), **kw), getattr(torch.optim, name)(pb.params("th"), **kw)
    for _ in range(3):
        _step_both(pb, ocr, oth)
    for o, d in ((ocr, pb.cr), (oth, pb.th)):
        o.param_groups = [{**o.param_groups[0], "params": [d["W"], d["b"]]}, {**o.defaults, "params": [d["v"]], "lr": 0.01}]
    assert [g["lr"] for g in ocr.param_groups] == [0.05, 0.01] and ocr.param_groups[1]["params"][0] is pb.cr["v"]
    for _ in range(5):
        _step_both(pb, ocr, oth)
    for k in START:
        np.testing.assert_allclose(pb.cr[k].detach().numpy(), pb.th[k].detach().numpy(), rtol=RTOL, atol=1e-12)
    before = list(ocr.param_groups)
    with pytest.raises(ValueError, match="each parameter in one param group"):
        ocr.param_groups = [{"params": [pb.cr["W"]]}, {"params": [pb.cr["W"]]}]
    assert [g["params"] for g in ocr.param_groups] == [g["params"] for g in before]  # left as it was
    with pytest.raises(TypeError, match="param_groups to be a list"):
        ocr.param_groups = {"params": [pb.cr["W"]]}


def test_param_groups_and_state_are_dicts_like_torchs():
    pb = Problem()
    ocr = optim.SGD(pb.params("cr"), lr=0.05, momentum=0.9)
    oth = torch.optim.SGD(pb.params("th"), lr=0.05, momentum=0.9)
    g = ocr.param_groups[0]
    assert isinstance(g, MutableMapping) and isinstance(ocr.state, Mapping)
    assert list(g) == ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize",
                       "constraint"]
    assert dict(g)["lr"] == 0.05 and g.get("nope", 1) == 1 and "lr" in g and "nope" not in g
    assert {k: v for k, v in g.items() if k != "params"} == \
        {k: oth.param_groups[0][k] for k in g if k not in ("params", "constraint")} | {"constraint": None}
    assert repr(g) == repr(dict(g))
    g.update(lr=0.1, note="x")
    assert ocr.param_groups[0]["lr"] == 0.1 and g.pop("note") == "x" and "note" not in g
    with pytest.raises(KeyError):
        g["nope"]
    with pytest.raises(TypeError, match="can't be deleted"):
        del g["lr"]
    assert len(ocr.state) == 0 and pb.cr["W"] not in ocr.state and ocr.state[pb.cr["W"]] == {}
    _step_both(pb, ocr, oth)
    assert len(ocr.state) == 3 and pb.cr["W"] in ocr.state and list(ocr.state)[0] is pb.cr["W"]
    assert list(ocr.state[pb.cr["W"]]) == list(oth.state[pb.th["W"]])
    assert ocr.defaults["lr"] == 0.05 and ocr.defaults["constraint"] is None
    assert repr(ocr).startswith("SGD (\nParameter Group 0\n    constraint: None\n    dampening: 0.0")


def test_named_parameters_give_param_names_like_torch():
    pb = Problem()
    ocr = optim.SGD(list(pb.cr.items()), lr=0.1)
    oth = torch.optim.SGD(list(pb.th.items()), lr=0.1)
    assert ocr.state_dict()["param_groups"][0]["param_names"] == oth.state_dict()["param_groups"][0]["param_names"]
    _step_both(pb, ocr, oth)
    for k in pb.cr:
        assert_close(pb.cr[k], pb.th[k], RTOL, k)


# ------------------------------------------------------------------------------------------------
# state dicts
# ------------------------------------------------------------------------------------------------
def _fresh(which, values):
    lib = cr if which == "cr" else torch
    return [lib.tensor(np.array(v), requires_grad=True) for v in values]


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2)),
])
@pytest.mark.parametrize("via", ["dict", "copy"])
def test_state_dict_round_trip_continues_like_20_straight_steps(name, kwargs, via):
    straight = Problem()
    o = getattr(optim, name)(straight.params("cr"), **kwargs)
    for _ in range(20):
        o.zero_grad()
        straight.loss_cr().backward()
        o.step()

    first = Problem()
    o1 = getattr(optim, name)(first.params("cr"), **kwargs)
    for _ in range(10):
        o1.zero_grad()
        first.loss_cr().backward()
        o1.step()
    sd = o1.state_dict()
    if via == "copy":  # as a checkpoint file gives it back: new tensors, pairs as lists
        sd = {"state": {i: {k: v.clone() for k, v in st.items()} for i, st in sd["state"].items()},
              "param_groups": [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
                               for g in sd["param_groups"]]}
    # continue in a fresh optimizer (other hyperparameters: the state dict brings them back)
    resumed = Problem()
    params = _fresh("cr", [np.asarray(p) for p in first.params("cr")])
    for k, p in zip(["W", "b", "v"], params):
        resumed.cr[k] = p
    o2 = getattr(optim, name)(params, lr=0.5)
    o2.load_state_dict(sd)
    assert o2.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(10):
        o2.zero_grad()
        resumed.loss_cr().backward()
        o2.step()
    for k in START:
        assert_close(resumed.cr[k], torch.tensor(np.asarray(straight.cr[k])), 1e-14, k)


def test_state_dict_is_a_snapshot():
    pb = Problem()
    o = optim.Adam(pb.params("cr"), lr=0.1)
    pb.loss_cr().backward()
    o.step()
    sd = o.state_dict()
    before = np.asarray(sd["state"][0]["exp_avg"]).copy()
    o.step()
    assert np.array_equal(np.asarray(sd["state"][0]["exp_avg"]), before)
    assert sd["state"][0]["step"].item() == 1.0 and o.state[pb.cr["W"]]["step"].item() == 2.0


def test_state_dict_layout_is_torchs():
    pb = Problem()
    o = optim.Adam(pb.params("cr"), lr=0.1, amsgrad=True)
    pb.loss_cr().backward()
    o.step()
    sd = o.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2]
    for st in sd["state"].values():
        assert list(st) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert sd["state"][0]["step"].shape == () and sd["state"][0]["step"].dtype == cr.float32
    g = sd["param_groups"][0]
    assert list(g)[-1] == "params" and g["params"] == [0, 1, 2]
    assert g["betas"] == (0.9, 0.999) and g["amsgrad"] is True and g["lr"] == 0.1


def test_bad_state_dicts_raise_value_errors():
    pb = Problem()
    o = optim.SGD(pb.params("cr"), lr=0.1, momentum=0.9)
    pb.loss_cr().backward()
    o.step()
    sd = o.state_dict()
    two = {"state": sd["state"], "param_groups": sd["param_groups"] * 2}
    with pytest.raises(ValueError, match="param groups"):
        o.load_state_dict(two)
    wrong = {"state": {0: {"momentum_buffer": cr.zeros(5, dtype=cr.float64)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        o.load_state_dict(wrong)
    with pytest.raises(ValueError, match="Adam.*momentum_buffer"):
        optim.Adam(pb.params("cr")).load_state_dict(sd)
    with pytest.raises(ValueError, match="state names among momentum_buffer, got 'weights'"):
        o.load_state_dict({"state": {0: {"weights": cr.zeros(1)}}, "param_groups": sd["param_groups"]})
    with pytest.raises(ValueError, match="expected a list 'param_groups'"):
        o.load_state_dict({"state": {}, "param_groups": "{not a list"})
    with pytest.raises(TypeError, match="expected tensors in the state"):
        o.load_state_dict({"state": {0: {"momentum_buffer": 1.0}}, "param_groups": sd["param_groups"]})
    with pytest.raises(TypeError, match="expected a dict"):
        o.load_state_dict([sd])


# ------------------------------------------------------------------------------------------------
# schedulers
# ------------------------------------------------------------------------------------------------
def _two_group_optimizers():
    pc, pt = [cr.zeros(2, requires_grad=True), cr.zeros(1, requires_grad=True)], \
             [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    ocr = optim.SGD([{"params": [pc[0]]}, {"params": [pc[1]], "lr": 0.02}], lr=0.1)
    oth = torch.optim.SGD([{"params": [pt[0]]}, {"params": [pt[1]], "lr": 0.02}], lr=0.1)
    return ocr, oth


SCHEDULER_CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 10, 10, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (1 + e), lambda e: max(0.0, 1 - e / 25)])),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULER_CASES, ids=[_case_id(c) for c in SCHEDULER_CASES])
def test_scheduler_lr_sequences_equal_torch(name, kwargs):
    ocr, oth = _two_group_optimizers()
    scr = getattr(sched, name)(ocr, **kwargs)
    sth = getattr(torch.optim.lr_scheduler, name)(oth, **kwargs)
    seq_cr, seq_th = [], []
    for _ in range(45):
        ocr.step()
        oth.step()
        scr.step()
        sth.step()
        seq_cr.append(scr.get_last_lr())
        seq_th.append(sth.get_last_lr())
        assert [g["lr"] for g in ocr.param_groups] == seq_cr[-1]
    # Equal up to the last bits: libm's cos and the compiler's use of FMA (the pip build targets
    # the local CPU) may round a cosine schedule one ulp differently from Python's math.cos.
    assert np.allclose(seq_cr, seq_th, rtol=1e-14, atol=0)
    assert scr.last_epoch == sth.last_epoch == 45
    assert scr.base_lrs == sth.base_lrs == [0.1, 0.02]
    assert ocr.param_groups[0]["initial_lr"] == oth.param_groups[0]["initial_lr"]


def test_chained_schedulers_and_manual_lr_changes_equal_torch():
    ocr, oth = _two_group_optimizers()
    pairs = [(sched.StepLR(ocr, 4, 0.5), torch.optim.lr_scheduler.StepLR(oth, 4, 0.5)),
             (sched.CosineAnnealingLR(ocr, 12), torch.optim.lr_scheduler.CosineAnnealingLR(oth, 12))]
    for epoch in range(30):
        ocr.step()
        oth.step()
        if epoch == 7:
            ocr.param_groups[1]["lr"] = oth.param_groups[1]["lr"] = 0.05
        for a, b in pairs:
            a.step()
            b.step()
        assert [g["lr"] for g in ocr.param_groups] == [g["lr"] for g in oth.param_groups]


@pytest.mark.parametrize("name, kwargs", SCHEDULER_CASES[:4], ids=[_case_id(c) for c in SCHEDULER_CASES[:4]])
def test_step_with_an_epoch_uses_the_closed_form_like_torch(name, kwargs):
    ocr, oth = _two_group_optimizers()
    scr = getattr(sched, name)(ocr, **kwargs)
    sth = getattr(torch.optim.lr_scheduler, name)(oth, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 11, 25, 6]:
            scr.step(epoch)
            sth.step(epoch)
            assert scr.get_last_lr() == sth.get_last_lr()


def test_scheduler_state_dict_resumes():
    ocr, _ = _two_group_optimizers()
    s = sched.StepLR(ocr, 3, 0.5)
    for _ in range(7):
        s.step()
    sd = s.state_dict()
    assert sd["last_epoch"] == 7 and sd["base_lrs"] == [0.1, 0.02] and sd["step_size"] == 3
    o2, _ = _two_group_optimizers()
    o2.load_state_dict(ocr.state_dict())  # brings lr and initial_lr
    s2 = sched.StepLR(o2, 3, 0.5, last_epoch=7)
    s2.load_state_dict(sd)
    for _ in range(5):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=2, min_lr=0.004),
    dict(mode="max", factor=0.3, patience=1, threshold_mode="abs", threshold=0.05),
    dict(mode="min", threshold_mode="abs", patience=0, min_lr=[0.05, 0.001], eps=1e-3),
    dict(mode="max", threshold_mode="rel", patience=3, cooldown=1),
], ids=["defaults", "min-rel-cooldown", "max-abs", "min-abs-list", "max-rel"])
def test_reduce_lr_on_plateau_equals_torch_on_a_metric_sequence(kwargs):
    metrics = [1.0, 0.9, 0.85, 0.86, 0.84, 0.845, 0.85, 0.9, 0.83, 0.83, 0.83, 0.82, 0.84, 0.95, 0.7, 0.71,
               0.72, 0.71, 0.7, 0.7, 0.69, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    metrics = metrics + [-m for m in metrics]
    ocr, oth = _two_group_optimizers()
    scr = sched.ReduceLROnPlateau(ocr, **kwargs)
    sth = torch.optim.lr_scheduler.ReduceLROnPlateau(oth, **kwargs)
    cuts = 0
    for m in metrics:
        before = scr.get_last_lr()
        scr.step(cr.tensor(m, dtype=cr.float64))  # a 0-d tensor works, as in torch
        sth.step(m)
        cuts += scr.get_last_lr() != before
        assert scr.get_last_lr() == sth.get_last_lr()
        assert (scr.best, scr.num_bad_epochs, scr.cooldown_counter) == \
               (sth.best, sth.num_bad_epochs, sth.cooldown_counter)
    assert cuts > 0  # the sequence exercises the reductions
    assert scr.state_dict()["best"] == sth.state_dict()["best"]


def test_schedulers_keep_their_optimizer_and_take_attributes_like_torchs():
    ocr, _ = _two_group_optimizers()
    for s in (sched.StepLR(ocr, 3), sched.LambdaLR(ocr, lambda e: 1.0), sched.ReduceLROnPlateau(ocr)):
        assert s.optimizer is ocr
        s.note = "kept"
        assert s.note == "kept"
    assert repr(sched.StepLR(ocr, 3, 0.5)) == "StepLR(step_size=3, gamma=0.5, last_epoch=0)"


def test_lambda_lr_state_dict_keeps_callable_objects_attributes():
    class Warmup:
        def __init__(self):
            self.n = 5

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    ocr, _ = _two_group_optimizers()
    s = sched.LambdaLR(ocr, [Warmup(), lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"n": 5}, None]
    sd["lr_lambdas"][0]["n"] = 10
    s.load_state_dict(sd)
    assert s.lr_lambdas[0].n == 10


# ------------------------------------------------------------------------------------------------
# constraints: projected gradient descent
# ------------------------------------------------------------------------------------------------
def test_box_constraint_is_projected_gradient_descent():
    """SGD + Box equals torch SGD followed by clamp_ (the projection) after every step."""
    pb = Problem()
    ocr = optim.SGD(pb.params("cr"), lr=0.05, constraint=optim.Box(-0.5, 0.5))
    oth = torch.optim.SGD(pb.params("th"), lr=0.05)
    for _ in range(STEPS):
        _step_both(pb, ocr, oth)
        with torch.no_grad():
            for p in pb.params("th"):
                p.clamp_(-0.5, 0.5)
        for p in pb.params("cr"):
            a = np.asarray(p)
            assert a.min() >= -0.5 and a.max() <= 0.5
    assert_params_equal(pb)
    assert any(np.any(np.abs(np.asarray(p)) == 0.5) for p in pb.params("cr"))  # the box was active


def test_non_negative_and_max_norm_per_group_with_adam():
    pb = Problem()
    groups_cr = [{"params": [pb.cr["W"]], "constraint": optim.MaxNorm(1.0)},
                 {"params": [pb.cr["b"], pb.cr["v"]], "constraint": optim.NonNegative()}]
    ocr = optim.Adam(groups_cr, lr=0.05)
    oth = torch.optim.Adam([pb.th["W"], pb.th["b"], pb.th["v"]], lr=0.05)
    for _ in range(STEPS):
        _step_both(pb, ocr, oth)
        with torch.no_grad():
            W = pb.th["W"]
            norms = W.norm(dim=1, keepdim=True)
            W.mul_(torch.where(norms > 1.0, 1.0 / norms, torch.ones_like(norms)))
            pb.th["b"].clamp_(min=0)
            pb.th["v"].clamp_(min=0)
    assert_params_equal(pb)
    assert np.all(np.linalg.norm(np.asarray(pb.cr["W"]), axis=1) <= 1.0 + 1e-12)
    assert np.asarray(pb.cr["b"]).min() >= 0
    assert repr(ocr.param_groups[0]["constraint"]) == "MaxNorm(max_norm=1)"


def test_python_function_as_constraint():
    def unit_interval(p):
        p.copy_(cr.clamp(p, 0.0, 1.0))

    pb = Problem()
    o = optim.RMSprop(pb.params("cr"), lr=0.05, constraint=unit_interval)
    assert o.param_groups[0]["constraint"] is unit_interval
    for _ in range(10):
        o.zero_grad()
        pb.loss_cr().backward()
        o.step()
    for p in pb.params("cr"):
        a = np.asarray(p)
        assert a.min() >= 0 and a.max() <= 1
    o.param_groups[0]["constraint"] = None  # switched off
    o.zero_grad()
    pb.loss_cr().backward()
    o.step()
    assert min(np.asarray(p).min() for p in pb.params("cr")) < 0


def test_a_python_constraint_runs_inside_the_step_and_its_errors_propagate():
    """The step runs in C++ without the GIL; a Python constraint takes it for its call."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    w.grad = cr.ones(2)
    seen = []
    o = optim.Adam([w], lr=0.1, constraint=lambda p: seen.append(p.tolist()))
    o.step()
    assert seen == [w.tolist()]

    def failing(p):
        raise ValueError("outside the set")

    o.param_groups[0]["constraint"] = failing
    with pytest.raises(ValueError, match="outside the set"):
        o.step()
    assert o.param_groups[0]["constraint"] is failing and o.state[w]["step"].item() == 2.0


def test_constraint_objects_project_in_place():
    t = cr.tensor([[3.0, 4.0], [0.3, 0.4]], requires_grad=True)
    optim.MaxNorm(1.0)(t)
    assert np.allclose(np.asarray(t), [[0.6, 0.8], [0.3, 0.4]])
    with pytest.raises(ValueError, match="lo <= hi"):
        optim.Box(1.0, 0.0)
    with pytest.raises(TypeError, match="constraint"):
        optim.SGD([t], lr=0.1, constraint="box")


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------
BAD = [
    ("SGD", dict(lr=-0.1), ["SGD", "lr", "-0.1"]),
    ("SGD", dict(lr=0.1, momentum=-0.5), ["SGD", "momentum", "-0.5"]),
    ("SGD", dict(lr=0.1, weight_decay=-1.0), ["SGD", "weight_decay"]),
    ("SGD", dict(lr=0.1, nesterov=True), ["SGD", "nesterov"]),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ["SGD", "nesterov", "dampening"]),
    ("Adam", dict(lr=-1.0), ["Adam", "lr", "-1"]),
    ("Adam", dict(betas=(1.0, 0.999)), ["Adam", r"betas\[0\]", r"\[0, 1\)", "1"]),
    ("Adam", dict(betas=(0.9, 1.5)), ["Adam", r"betas\[1\]", "1.5"]),
    ("Adam", dict(betas=(-0.1, 0.9)), ["Adam", r"betas\[0\]", "-0.1"]),
    ("Adam", dict(eps=-1e-8), ["Adam", "eps"]),
    ("AdamW", dict(weight_decay=-0.01), ["AdamW", "weight_decay"]),
    ("AdamW", dict(betas=(0.9, 1.0)), ["AdamW", r"betas\[1\]"]),
    ("RMSprop", dict(alpha=-0.5), ["RMSprop", "alpha", "-0.5"]),
    ("RMSprop", dict(momentum=-0.5), ["RMSprop", "momentum"]),
    ("RMSprop", dict(eps=-1.0), ["RMSprop", "eps"]),
    ("Adagrad", dict(lr_decay=-0.1), ["Adagrad", "lr_decay"]),
    ("Adagrad", dict(initial_accumulator_value=-1.0), ["Adagrad", "initial_accumulator_value"]),
    ("Adagrad", dict(eps=-1.0), ["Adagrad", "eps"]),
]


@pytest.mark.parametrize("name, kwargs, parts", BAD, ids=[f"{n}-{kw}" for n, kw, _ in BAD])
def test_bad_hyperparameters_raise_value_error_naming_optimizer_and_value(name, kwargs, parts):
    with pytest.raises(ValueError) as e:
        getattr(optim, name)([cr.zeros(2, requires_grad=True)], **kwargs)
    for p in parts:
        assert __import__("re").search(p, str(e.value)), (p, str(e.value))
    with pytest.raises(ValueError):  # torch refuses them too
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


def test_bad_values_set_through_param_groups_are_refused():
    o = optim.Adam([cr.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="Adam.*lr"):
        o.param_groups[0]["lr"] = -0.1
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        o.param_groups[0]["betas"] = (1.2, 0.9)
    with pytest.raises(TypeError, match="pair"):
        o.param_groups[0]["betas"] = 0.9
    assert o.param_groups[0]["lr"] == 0.1 and o.param_groups[0]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="Adam"):
        optim.Adam([{"params": [cr.zeros(1, requires_grad=True)], "eps": -1}])


def test_bad_params_raise_like_torch():
    p = cr.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([p, "w"], lr=0.1)
    with pytest.raises(ValueError, match="leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="once"):
        optim.SGD([p, p], lr=0.1)
    o = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="group"):
        o.add_param_group({"params": [p]})
    with pytest.raises(ValueError, match="differentiable"):
        optim.SGD([p], lr=0.1, differentiable=True)


def test_bad_scheduler_arguments():
    o, _ = _two_group_optimizers()
    with pytest.raises(TypeError, match="not an Optimizer"):
        sched.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)]), 3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        sched.LambdaLR(o, [lambda e: 1.0])
    with pytest.raises(ValueError, match="factor"):
        sched.ReduceLROnPlateau(o, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        sched.ReduceLROnPlateau(o, mode="lowest")
    with pytest.raises(ValueError, match="min_lrs"):
        sched.ReduceLROnPlateau(o, min_lr=[0.1])
    with pytest.raises(ValueError, match="initial_lr"):
        sched.ExponentialLR(optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1), 0.9, last_epoch=3)


from gil_probe import main_thread_rate_while as _main_thread_rate_while  # noqa: E402


def test_step_releases_the_gil():
    """A big step runs in C++ without the GIL: the main thread keeps running meanwhile."""
    w = cr.zeros(2_000_000, dtype=cr.float64, requires_grad=True)
    w.grad = cr.ones(2_000_000, dtype=cr.float64)
    o = optim.Adam([w], lr=0.1, amsgrad=True)
    base = _main_thread_rate_while(lambda: time.sleep(0.1))[1]
    count, rate = _main_thread_rate_while(lambda: [o.step() for _ in range(10)])
    assert count > 1000 and rate > 0.2 * base, (count, rate, base)
    assert o.state[w]["step"].item() == 10.0


def test_changing_defaults_applies_to_groups_added_later_as_torch():
    """opt.defaults is torch's dict: a change (a hyperparameter, the constraint, or a key of one's
    own) reaches the groups added afterwards, not the existing ones; a bad value raises at once."""
    def run(lib):
        w, v = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        o = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        o.defaults["lr"] = 0.5
        o.defaults["momentum"] = 0.0
        o.defaults["tag"] = "late"
        o.add_param_group({"params": [v], "tag": "mine"})
        o.add_param_group({"params": [lib.ones(1, requires_grad=True)]})
        return ([(g["lr"], g["momentum"], g.get("tag")) for g in o.param_groups], o.defaults["lr"])
    assert run(cr) == run(torch)
    o = cr.optim.Adam([cr.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match=r"Adam: expected lr >= 0, got -1"):
        o.defaults["lr"] = -1
    with pytest.raises(TypeError):
        o.defaults["constraint"] = 5
    assert o.defaults["lr"] == 1e-3 and o.defaults["constraint"] is None
    o.defaults["constraint"] = cr.optim.Box(0, 1)
    o.add_param_group({"params": [cr.full((2,), 5.0, requires_grad=True)]})
    assert isinstance(o.param_groups[1]["constraint"], cr.optim.Box)
    assert dict(o.defaults) == o.defaults and "betas" in o.defaults


def test_epoch_deprecation_warning_is_the_module_constant():
    """scheduler.step(epoch) warns with lr_scheduler.EPOCH_DEPRECATION_WARNING, as torch's module has it."""
    text = cr.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING
    assert text.startswith(torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING[:60])
    sched = cr.optim.lr_scheduler.StepLR(cr.optim.SGD([cr.ones(1, requires_grad=True)], lr=0.1), 2)
    with pytest.warns(UserWarning) as record:
        sched.step(3)
    assert str(record[0].message) == text


# ------------------------------------------------------------------------------------------------
# your own optimizer, torch-style: subclass Optimizer, write step()
# ------------------------------------------------------------------------------------------------
def _heavy_ball(base, no_grad, zeros_like):
    """The same class source for both libraries: SGD with momentum written as a course lab would."""
    class HeavyBall(base):
        def __init__(self, params, lr=0.1, momentum=0.9, note=None):
            super().__init__(params, dict(lr=lr, momentum=momentum, note=note))

        def step(self, closure=None):
            with no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        if len(state) == 0:
                            state["step"] = 0
                            state["buf"] = zeros_like(p)
                        state["step"] += 1
                        buf = state["buf"]
                        buf.mul_(group["momentum"]).add_(p.grad)
                        p.sub_(group["lr"] * buf)
    return HeavyBall


def test_a_torch_style_subclass_with_its_own_step_matches_torch():
    pb = Problem()
    Ocr = _heavy_ball(optim.Optimizer, cr.no_grad, cr.zeros_like)
    Oth = _heavy_ball(torch.optim.Optimizer, torch.no_grad, torch.zeros_like)
    ocr, oth = Ocr(pb.params("cr"), lr=0.02), Oth(pb.params("th"), lr=0.02)
    scr, sth = sched.StepLR(ocr, 5, 0.5), torch.optim.lr_scheduler.StepLR(oth, 5, 0.5)  # schedulers drive it
    for _ in range(12):
        _step_both(pb, ocr, oth)
        scr.step()
        sth.step()
    for k in START:
        np.testing.assert_allclose(pb.cr[k].detach().numpy(), pb.th[k].detach().numpy(), rtol=RTOL, atol=1e-12)
    assert isinstance(ocr, optim.Optimizer) and type(ocr).__name__ in repr(ocr)
    assert ocr.param_groups[0]["lr"] == oth.param_groups[0]["lr"] == 0.02 * 0.5 ** 2
    assert ocr.param_groups[0]["note"] is None and ocr.defaults["momentum"] == 0.9
    assert ocr.state[pb.cr["W"]]["step"] == 12
    # state_dict: torch's layout; a fresh optimizer continues the same trajectory after loading it
    sd = ocr.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2] and sd["state"][0]["step"] == 12
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in oth.state_dict()["param_groups"]]
    again = Ocr(pb.params("cr"), lr=1.0)
    again.load_state_dict(sd)
    assert again.param_groups[0]["lr"] == ocr.param_groups[0]["lr"]
    assert again.state[pb.cr["W"]]["buf"] is not ocr.state[pb.cr["W"]]["buf"]  # copied in
    np.testing.assert_array_equal(again.state[pb.cr["W"]]["buf"].numpy(), ocr.state[pb.cr["W"]]["buf"].numpy())


def test_the_base_class_step_says_to_write_one():
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="defines step"):
        optim.Optimizer([w], {"lr": 0.1}).step()
    with pytest.raises(ValueError, match="leaf"):
        optim.Optimizer([w * 2], {"lr": 0.1})
