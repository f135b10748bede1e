"""cr.nn.init against torch.nn.init's formulas (torch==2.13.0): calculate_gain for every
nonlinearity, fan_in / fan_out, exact bounds of the uniform schemes and sample statistics of the
normal ones on large tensors, in-place filling under no-grad, seeding, and the errors.
"""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.init as TI

import chainrule as cr
import chainrule.nn.init as init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def _np(t):
    return np.asarray(t.detach())


# ------------------------------------------------------------------ gain and fans
@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torchs(nonlinearity):
    assert init.calculate_gain(nonlinearity) == TI.calculate_gain(nonlinearity)


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3.5, -0.1])
def test_calculate_gain_of_leaky_relu_with_a_slope_equals_torchs(param):
    assert init.calculate_gain("leaky_relu", param) == pytest.approx(TI.calculate_gain("leaky_relu", param), rel=1e-15)


def test_calculate_gain_ignores_param_for_other_nonlinearities_like_torch():
    assert init.calculate_gain("tanh", 0.5) == TI.calculate_gain("tanh", 0.5)
    assert init.calculate_gain("relu", 3) == TI.calculate_gain("relu", 3)


def test_calculate_gain_errors_like_torch():
    for bad in [True, "0.1"]:
        with pytest.raises(ValueError, match="not a valid number"):
            TI.calculate_gain("leaky_relu", bad)
        with pytest.raises(ValueError, match="not a valid number"):
            init.calculate_gain("leaky_relu", bad)
    with pytest.raises(ValueError, match="swish"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (8, 4, 3, 3), (2, 3, 4), (6, 2, 1, 5, 2), (4, 0)], ids=str)
def test_fan_in_and_fan_out_equal_torchs(shape):
    assert init._calculate_fan_in_and_fan_out(cr.empty(*shape)) == TI._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="at least 2 dims"):
        init._calculate_fan_in_and_fan_out(cr.empty(4))
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(cr.empty(4))


# ------------------------------------------------------------------ bounds and statistics
# The uniform schemes' bound b and the normal schemes' std, by torch's own formulas.
def _xavier_std(shape, gain):
    fan_in, fan_out = TI._calculate_fan_in_and_fan_out(torch.empty(*shape))
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def _kaiming_std(shape, a, mode, nonlinearity):
    fan = TI._calculate_correct_fan(torch.empty(*shape), mode)
    return TI.calculate_gain(nonlinearity, a) / math.sqrt(fan)


SHAPES = [(512, 384), (64, 32, 3, 3)]
KAIMING = [dict(), dict(a=math.sqrt(5)), dict(mode="fan_out", nonlinearity="relu"),
           dict(nonlinearity="tanh"), dict(a=0.2, mode="fan_out"), dict(nonlinearity="selu"),
           dict(mode="FAN_IN", nonlinearity="linear")]


# Sample statistics within 5 standard errors (the seeds are fixed, so this never flakes; the
# margins only have to be wide enough to be honest about sampling error).
def _check_uniform(t, bound, what):
    a = _np(t).astype(np.float64).ravel()
    n = a.size
    assert np.abs(a).max() <= bound, f"{what}: max |w| {np.abs(a).max()} > bound {bound}"
    assert np.abs(a).max() > 0.999 * bound, f"{what}: the samples don't reach the bound"
    std = bound / math.sqrt(3)
    assert a.std() == pytest.approx(std, rel=5 * math.sqrt(0.2 / n)), what
    assert abs(a.mean()) < 5 * std / math.sqrt(n), what


def _check_normal(t, std, what, mean=0.0):
    a = _np(t).astype(np.float64).ravel()
    n = a.size
    assert a.std() == pytest.approx(std, rel=5 / math.sqrt(2 * n)), what
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n), what


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("gain", [1.0, 0.5, TI.calculate_gain("relu")])
def test_xavier_matches_torchs_formula(shape, gain, dtype):
    cr.manual_seed(1)
    std = _xavier_std(shape, gain)
    _check_uniform(init.xavier_uniform_(cr.empty(*shape, dtype=dtype), gain=gain), math.sqrt(3.0) * std, "xavier_uniform_")
    _check_normal(init.xavier_normal_(cr.empty(*shape, dtype=dtype), gain), std, "xavier_normal_")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", KAIMING, ids=str)
def test_kaiming_matches_torchs_formula(shape, kw):
    cr.manual_seed(2)
    std = _kaiming_std(shape, kw.get("a", 0), kw.get("mode", "fan_in").lower(), kw.get("nonlinearity", "leaky_relu"))
    _check_uniform(init.kaiming_uniform_(cr.empty(*shape), **kw), math.sqrt(3.0) * std, f"kaiming_uniform_ {kw}")
    _check_normal(init.kaiming_normal_(cr.empty(*shape), **kw), std, f"kaiming_normal_ {kw}")


def test_uniform_normal_constant_zeros_ones():
    cr.manual_seed(3)
    t = cr.empty(400, 500, dtype=cr.float64)
    a = _np(init.uniform_(t, -2.0, 3.0))
    assert a.min() >= -2.0 and a.max() < 3.0 and a.min() < -1.99 and a.max() > 2.99
    assert a.mean() == pytest.approx(0.5, abs=0.01)
    _check_normal(init.normal_(t, mean=1.5, std=0.3), 0.3, "normal_", mean=1.5)
    assert np.all(_np(init.constant_(t, 0.25)) == 0.25)
    assert np.all(_np(init.zeros_(t)) == 0)
    assert np.all(_np(init.ones_(t)) == 1)
    assert np.all(_np(init.uniform_(cr.empty(1000))) >= 0)  # defaults U(0, 1), as torch


# ------------------------------------------------------------------ in place, under no-grad, seeded
def test_init_fills_parameters_in_place_without_recording():
    layer = cr.nn.Linear(30, 20)
    w = layer.weight
    before = w.data_ptr()
    out = init.kaiming_uniform_(w, a=math.sqrt(5))
    assert out is w  # returns the same object, as torch
    assert w.data_ptr() == before and w.requires_grad and w.is_leaf and w.grad_fn is None
    for fn in [init.xavier_uniform_, init.xavier_normal_, init.kaiming_normal_, init.zeros_, init.ones_]:
        assert fn(w) is w
    assert init.normal_(w, 0, 0.01) is w and init.uniform_(w) is w and init.constant_(w, 2) is w
    assert np.all(_np(layer.weight) == 2)
    # the filled parameter trains: it is still the module's parameter
    layer(cr.ones(1, 30)).sum().backward()
    assert layer.weight.grad is not None


def test_same_seed_same_weights():
    cr.manual_seed(42)
    a = _np(init.kaiming_normal_(cr.empty(10, 10)))
    cr.manual_seed(42)
    np.testing.assert_array_equal(a, _np(init.kaiming_normal_(cr.empty(10, 10))))


def test_zero_element_tensors_are_a_no_op_with_torchs_warning():
    with pytest.warns(UserWarning, match="zero-element"):
        t = init.kaiming_uniform_(cr.empty(0, 3))
    assert t.shape == (0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_normal_(cr.empty(4, 0))


def test_errors():
    with pytest.raises(ValueError, match="fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform_(cr.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="swish"):
        init.kaiming_normal_(cr.empty(3, 3), nonlinearity="swish")
    with pytest.raises(TypeError, match="generator must be a cr.Generator or None"):
        init.uniform_(cr.empty(3), generator=object())
    with pytest.raises(ValueError, match="fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform_(cr.empty(3, 3), mode="fan_avg", generator=cr.Generator())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.kaiming_uniform_(cr.empty(3, 3))  # no spurious warnings
