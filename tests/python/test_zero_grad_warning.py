"""The forgotten zero_grad(): backward adding into a .grad that an optimizer step already used warns
once, with the fix; intentional accumulation, zero_grad in any form, and manual loops do not."""
import warnings

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _armed():
    cr.autograd.set_warn_forgotten_zero_grad(True)  # re-arms the once-per-process warning
    yield
    cr.autograd.set_warn_forgotten_zero_grad(True)


def _setup(opt_cls=cr.optim.SGD, **kw):
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 1))
    return net, opt_cls(net.parameters(), lr=0.1, **kw), cr.randn(8, 3)


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [str(x.message) for x in w if "optimizer step already used" in str(x.message)]


@pytest.mark.parametrize("opt_cls", [cr.optim.SGD, cr.optim.Adam])
def test_a_forgotten_zero_grad_warns_once_naming_the_fix(opt_cls):
    net, opt, x = _setup(opt_cls)

    def train():
        for _ in range(4):
            net(x).pow(2).mean().backward()
            opt.step()
    msgs = _warnings_of(train)
    assert len(msgs) == 1
    assert "backward: adding to the .grad of a parameter of shape (1, 4)" in msgs[0]
    assert "Call optimizer.zero_grad() (or model.zero_grad()) before each backward()" in msgs[0]
    assert "cr.autograd.set_warn_forgotten_zero_grad(False)" in msgs[0]


def test_the_warning_is_a_userwarning_that_filters_can_turn_into_errors():
    net, opt, x = _setup()
    net(x).sum().backward()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="optimizer step already used"):
            net(x).sum().backward()


def test_accumulating_before_one_step_and_every_way_of_zeroing_do_not_warn():
    net, opt, x = _setup()
    zeroings = [lambda: opt.zero_grad(), lambda: opt.zero_grad(set_to_none=False), lambda: net.zero_grad(),
                lambda: [setattr(p, "grad", None) for p in net.parameters()],
                lambda: [p.grad.zero_() for p in net.parameters()]]  # by hand, in place

    def train():
        for zero in zeroings * 2:
            for _ in range(3):  # gradient accumulation over 3 micro-batches
                net(x).pow(2).mean().backward()
            opt.step()
            zero()
    assert _warnings_of(train) == []


def test_a_manual_training_loop_without_an_optimizer_does_not_warn_and_off_means_off():
    w = cr.tensor([1.0, -2.0], requires_grad=True)

    def manual():
        for _ in range(3):
            (w * w).sum().backward()
            with cr.no_grad():
                w.sub_(0.1 * w.grad)
    assert _warnings_of(manual) == []  # accumulating by hand is the student's own business
    # .grad kept accumulating (2w0, then + 2w1, + 2w2), as in torch: w3 = -0.008 w0
    np.testing.assert_allclose(np.asarray(w.detach()), [-0.008, 0.016], rtol=1e-5)
    net, opt, x = _setup()
    cr.autograd.set_warn_forgotten_zero_grad(False)
    assert not cr.autograd.is_warn_forgotten_zero_grad_enabled()

    def train():
        for _ in range(3):
            net(x).sum().backward()
            opt.step()
    assert _warnings_of(train) == []


def test_a_warning_turned_into_an_error_does_not_stop_backward_halfway():
    a, b = cr.ones(3, requires_grad=True), cr.ones(3, requires_grad=True)
    opt = cr.optim.SGD([a], lr=0.0)  # b is not stepped: only a's .grad is "used"
    ((a * 2).sum() + (b * 3).sum()).backward()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="optimizer step already used"):
            ((a * 2).sum() + (b * 3).sum()).backward()
    assert a.grad.tolist() == [4.0, 4.0, 4.0] and b.grad.tolist() == [6.0, 6.0, 6.0]  # the pass finished
