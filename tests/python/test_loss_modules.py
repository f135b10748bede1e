"""Loss modules (nn.MSELoss, nn.CrossEntropyLoss, ...) and F.kl_div against torch 2.13: values,
gradients and second derivatives, options, repr and state."""
import numpy as np
import pytest
import torch

import chainrule as cr

RNG = np.random.default_rng(7)
LOGITS = RNG.normal(size=(5, 4))
LABELS = np.array([0, 3, 1, 1, 2])
PRED, TARGET = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
PROBS = 1 / (1 + np.exp(-RNG.normal(size=(5, 3))))
BITS = (RNG.random((5, 3)) > 0.5).astype(np.float64)
DIST = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
W4 = np.array([0.5, 1.0, 2.0, 1.5])


def _t(lib, a, grad=False):
    if a.dtype.kind in "iu":
        return lib.tensor(a.tolist(), dtype=lib.int64)
    return lib.tensor(a.tolist(), dtype=lib.float64, requires_grad=grad)


def dense(lib, h):
    """torch hands back its lazy zero tensor for a zero second derivative: materialise it."""
    return lib.zeros(h.shape, dtype=h.dtype).add_(h)


# (name, make(lib, nn) -> criterion, input array, target array)
CASES = [
    ("mse", lambda lib, nn: nn.MSELoss(), PRED, TARGET),
    ("mse_sum", lambda lib, nn: nn.MSELoss(reduction="sum"), PRED, TARGET),
    ("l1_none", lambda lib, nn: nn.L1Loss(reduction="none"), PRED, TARGET),
    ("huber_delta", lambda lib, nn: nn.HuberLoss(delta=0.5), PRED, TARGET),
    ("smooth_l1_beta", lambda lib, nn: nn.SmoothL1Loss(beta=0.7), PRED, TARGET),
    ("ce", lambda lib, nn: nn.CrossEntropyLoss(), LOGITS, LABELS),
    ("ce_weight_smooth", lambda lib, nn: nn.CrossEntropyLoss(weight=_t(lib, W4), label_smoothing=0.1),
     LOGITS, LABELS),
    ("ce_ignore_sum", lambda lib, nn: nn.CrossEntropyLoss(ignore_index=1, reduction="sum"), LOGITS, LABELS),
    ("ce_probabilities", lambda lib, nn: nn.CrossEntropyLoss(), LOGITS, DIST),
    ("nll", lambda lib, nn: nn.NLLLoss(weight=_t(lib, W4)), np.log(DIST), LABELS),
    ("bce", lambda lib, nn: nn.BCELoss(), PROBS, BITS),
    ("bce_weight_none", lambda lib, nn: nn.BCELoss(weight=_t(lib, np.array([1.0, 2.0, 0.5])), reduction="none"),
     PROBS, BITS),
    ("bce_logits_pos_weight", lambda lib, nn: nn.BCEWithLogitsLoss(pos_weight=_t(lib, np.array([1.0, 3.0, 0.5]))),
     PRED, BITS),
    ("kl_batchmean", lambda lib, nn: nn.KLDivLoss(reduction="batchmean"), np.log(DIST), DIST[::-1].copy()),
    ("kl_log_target", lambda lib, nn: nn.KLDivLoss(reduction="sum", log_target=True), np.log(DIST),
     np.log(DIST[::-1].copy())),
    ("kl_mean_zero_target", lambda lib, nn: nn.KLDivLoss(), np.log(DIST), np.where(DIST > 0.3, DIST, 0.0)),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("name, make, x, y", CASES, ids=[c[0] for c in CASES])
def test_loss_module_value_gradient_and_curvature_match_torch(name, make, x, y):
    out = {}
    for lib in (cr, torch):
        crit = make(lib, lib.nn)
        inp, tgt = _t(lib, x, grad=True), _t(lib, y)
        loss = crit(inp, tgt)
        total = loss.sum() if loss.ndim else loss
        (g,) = lib.autograd.grad(total, inp, create_graph=True)
        h = None
        if g.requires_grad:  # a loss linear in its input has a constant gradient (no graph)
            (h,) = lib.autograd.grad((g * _t(lib, np.linspace(0.5, 1.5, x.size).reshape(x.shape))).sum(), inp,
                                     allow_unused=True)
        out[lib.__name__] = (np.array(loss.tolist()), np.array(g.tolist()),
                             np.zeros(x.shape) if h is None else np.array(dense(lib, h).tolist()))
    for what, ours, theirs, rtol in zip(("value", "gradient", "curvature"), out["chainrule"], out["torch"],
                                        (1e-12, 1e-12, 1e-9)):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-14, err_msg=what)


def test_loss_modules_print_and_keep_their_weights_as_torch():
    for lib in (cr, torch):
        assert repr(lib.nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
        crit = lib.nn.CrossEntropyLoss(weight=lib.ones(4))
        assert list(crit.state_dict().keys()) == ["weight"]
        assert lib.nn.MSELoss(reduction="sum").reduction == "sum"
        assert list(lib.nn.BCEWithLogitsLoss().state_dict().keys()) == []


def test_a_criterion_trains_a_classifier():
    cr.manual_seed(0)
    x = cr.randn(64, 2)
    y = (x[:, 0] > 0).long()
    model = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
    criterion = cr.nn.CrossEntropyLoss()
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    first = criterion(model(x), y).item()
    for _ in range(100):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.3 * first


def test_kl_div_function_matches_torch_and_rejects_unknown_reductions():
    for reduction in ("none", "sum", "batchmean"):
        ours = cr.nn.functional.kl_div(_t(cr, np.log(DIST)), _t(cr, DIST[::-1].copy()), reduction=reduction)
        theirs = torch.nn.functional.kl_div(_t(torch, np.log(DIST)), _t(torch, DIST[::-1].copy()),
                                            reduction=reduction)
        np.testing.assert_allclose(np.array(ours.tolist()), np.array(theirs.tolist()), rtol=1e-13)
    for lib in (cr, torch):  # 'mean' is not the KL divergence: both libraries say so
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            lib.nn.functional.kl_div(_t(lib, np.log(DIST)), _t(lib, DIST))
    with pytest.raises(ValueError, match="kl_div: expected reduction"):
        cr.nn.functional.kl_div(_t(cr, np.log(DIST)), _t(cr, DIST), reduction="avg")
