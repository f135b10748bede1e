"""Anomaly mode (cr.autograd.detect_anomaly): the first op whose forward output or backward
gradient holds a nan or inf stops the program, naming the op, the line of the user's code and the
values; against torch's detect_anomaly where torch has the same check (backward)."""
import math
import warnings

import pytest
import torch

import chainrule as cr


def _line_of(marker):
    """The line number in this file of the line containing marker (so the tests survive edits)."""
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return i
    raise AssertionError(marker)


def test_forward_names_the_op_the_line_and_the_denominator():
    x = cr.tensor([1.0, 2.0, 0.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as e:
            cr.div(x.sum(), x)  # MARK-DIV
    msg = str(e.value)
    assert msg.startswith("detect_anomaly: 'div' (called at test_anomaly.py, line ")
    assert f"line {_line_of('MARK-DIV')}: cr.div(x.sum(), x)" in msg
    assert "produced inf at [2] of its output (shape (4,))" in msg
    assert "numerator[] = 7.0, denominator[2] = 0.0" in msg


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 31, 32, 33])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_finds_the_first_bad_element_in_the_vector_body_and_the_tail(n, dtype):
    x = cr.ones(n, dtype=getattr(cr, dtype))
    x[n - 1] = 0.0
    with cr.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=rf"'log' .* produced -inf at \[{n - 1}\] .*input\[{n - 1}\] = 0\.0"):
            cr.log(x)


def test_forward_checks_inf_from_overflow_nan_from_inputs_and_non_elementwise_ops():
    with cr.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"'exp' .* produced inf at \[\] of its output \(shape \(\)\): input\[\] = 1000\.0"):
            cr.exp(cr.tensor(1000.0))
        a = cr.ones(2, 3)
        a[1, 2] = float("nan")
        assert math.isnan((a @ cr.ones(3, 2))[1, 0].item())  # data that needs no gradient: carried along
        a.requires_grad_(True)  # a leaf of the user's: the first op that reads it is named
        with pytest.raises(RuntimeError, match=r"'mm' .* produced nan at \[1, 0\] .*input 0 \(shape \(2, 3\)\) already "
                                               r"holds a nan or inf at \[1, 2\], input 1 \(shape \(3, 2\)\) is finite"):
            a @ cr.ones(3, 2)
        # no false alarm on finite and empty results, or on a clean training step
        assert cr.log(cr.zeros(0)).shape == (0,)
        net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
        loss = cr.nn.functional.cross_entropy(net(cr.randn(5, 4)), cr.tensor([0, 1, 2, 0, 1]))
        loss.backward()
        assert math.isfinite(loss.item())


def test_backward_names_the_op_where_it_was_made_and_the_values_as_torch_finds_it():
    x = cr.tensor([1.0, 4.0, 0.0])
    x.requires_grad_(True)
    with cr.autograd.detect_anomaly(check_forward=False):
        y = x.sqrt()  # MARK-SQRT
        z = (y * 0).sum()
        with pytest.raises(RuntimeError) as e:
            z.backward()
    msg = str(e.value)
    assert f"the backward of 'sqrt' (SqrtBackward0) made at test_anomaly.py, line {_line_of('MARK-SQRT')}: y = x.sqrt()" in msg
    assert "returned nan in the gradient of its input at [2], where output[2] = 0.0, incoming gradient[2] = 0.0" in msg
    assert "the incoming gradient was finite, so the rule made it" in msg
    # torch stops at the same node (its message names it too)
    tx = torch.tensor([1.0, 4.0, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="SqrtBackward0"):
                (tx.sqrt() * 0).sum().backward()


def test_check_forward_off_lets_the_forward_run_and_check_nan_off_checks_nothing():
    x = cr.tensor([0.0], requires_grad=True)
    with cr.autograd.detect_anomaly(check_forward=False):
        y = cr.log(x)  # -inf, allowed: only backward is checked (as torch)
        assert y.item() == -math.inf
        with pytest.raises(RuntimeError, match="the backward of 'log'"):
            y.sum().backward()
    with cr.autograd.detect_anomaly(check_nan=False):
        y = cr.log(x)  # MARK-NOCHECK
        y.sum().backward()
        assert x.grad.item() == math.inf
        assert y.grad_fn._context.endswith(f"line {_line_of('MARK-NOCHECK')}: y = cr.log(x)  # MARK-NOCHECK")


def test_off_by_default_restored_after_errors_and_settable_like_torch():
    assert not cr.is_anomaly_enabled() and not cr.is_anomaly_check_nan_enabled()
    with pytest.raises(RuntimeError):
        with cr.autograd.detect_anomaly():
            assert cr.is_anomaly_enabled()
            cr.log(cr.zeros(1))
    assert not cr.is_anomaly_enabled()
    y = cr.log(cr.zeros(1, requires_grad=True))  # off: no check, no context kept
    assert y.grad_fn._context is None
    with cr.autograd.set_detect_anomaly(True):
        assert cr.is_anomaly_enabled()
    assert not cr.is_anomaly_enabled()
    cr.autograd.set_detect_anomaly(True)
    cr.autograd.set_detect_anomaly(False)
    assert not cr.is_anomaly_enabled()

    @cr.autograd.detect_anomaly()
    def f(x):
        return cr.log(x)
    with pytest.raises(RuntimeError, match="'log'"):
        f(cr.zeros(2))
    assert not cr.is_anomaly_enabled()


def test_ops_that_release_the_gil_report_the_line_too():
    x = cr.ones(1, 1, 4, 4)
    x[0, 0, 3, 3] = float("inf")
    x.requires_grad_(True)
    with cr.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"'.*' \(called at test_anomaly.py, line \d+: cr.nn.functional.conv2d"):
            cr.nn.functional.conv2d(x, cr.ones(1, 1, 2, 2))
