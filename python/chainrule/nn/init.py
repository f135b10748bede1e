"""cr.nn.init: fill parameters in place with PyTorch's initialisation schemes.

    cr.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))   # what nn.Linear does by default
    cr.nn.init.zeros_(layer.bias)

Each function runs without recording gradients, returns the tensor it was given, and draws from
the generator that ``cr.manual_seed`` seeds, or from ``generator=`` (a ``cr.Generator``). fan_in / fan_out follow torch: for a weight of shape
(out, in, *kernel), fan_in = in * prod(kernel) and fan_out = out * prod(kernel).
"""
from __future__ import annotations

import math as _math
import numbers as _numbers
import warnings as _warnings

from .. import _core
from .._core.nn import init as _C

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]


def _no_generator(generator, op):
    """True when the draws come from the global generator; a cr.Generator is checked and used by
    the callers (through Tensor.uniform_/normal_ with generator=, the same draws as the C++ path)."""
    if generator is None:
        return True
    if not isinstance(generator, _core.Generator):
        raise TypeError(f"{op}: generator must be a cr.Generator or None, got {type(generator).__name__}")
    return False


def _fill(tensor, kind, a, b, generator):
    """tensor.uniform_(a, b) or normal_(a, b) from generator, without recording gradients."""
    from .. import no_grad
    with no_grad():
        getattr(tensor, kind)(float(a), float(b), generator=generator)
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (to scale the std of the initial weights):

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);  leaky_relu: sqrt(2 / (1 + slope^2))
    (param = negative slope, default 0.01);  selu: 3/4.
    """
    if nonlinearity == "leaky_relu" and param is not None:
        if isinstance(param, bool) or not isinstance(param, _numbers.Real):
            raise ValueError(f"negative_slope {param} not a valid number")
        param = float(param)
    elif nonlinearity != "leaky_relu":
        param = None
    return _C.calculate_gain(str(nonlinearity), param)


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as torch computes them."""
    return tuple(_C._calculate_fan_in_and_fan_out(tensor))


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills tensor with samples of U(a, b)."""
    if not _no_generator(generator, "uniform_"):
        return _fill(tensor, "uniform_", a, b, generator)
    _C.uniform_(tensor, float(a), float(b))
    return tensor


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills tensor with samples of N(mean, std^2)."""
    if not _no_generator(generator, "normal_"):
        return _fill(tensor, "normal_", mean, std, generator)
    _C.normal_(tensor, float(mean), float(std))
    return tensor


def constant_(tensor, val):
    """Fills tensor with val."""
    _C.constant_(tensor, float(val))
    return tensor


def zeros_(tensor):
    """Fills tensor with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fills tensor with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    if not _no_generator(generator, "xavier_uniform_"):
        fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
        bound = float(gain) * _math.sqrt(6.0 / (fan_in + fan_out))
        return _fill(tensor, "uniform_", -bound, bound, generator)
    _C.xavier_uniform_(tensor, float(gain))
    return tensor


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    if not _no_generator(generator, "xavier_normal_"):
        fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
        return _fill(tensor, "normal_", 0.0, float(gain) * _math.sqrt(2.0 / (fan_in + fan_out)), generator)
    _C.xavier_normal_(tensor, float(gain))
    return tensor


def _kaiming(fill, tensor, a, mode, nonlinearity, generator, op):
    use_global = _no_generator(generator, op)
    if 0 in tuple(tensor.shape):
        _warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    gain = calculate_gain(nonlinearity, a)  # torch's checks of a
    if not use_global:
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(f"kaiming: expected mode 'fan_in' or 'fan_out', got '{mode}'")
        fan = _calculate_fan_in_and_fan_out(tensor)[0 if mode == "fan_in" else 1]
        if "uniform" in op:
            bound = gain * _math.sqrt(3.0 / fan)
            return _fill(tensor, "uniform_", -bound, bound, generator)
        return _fill(tensor, "normal_", 0.0, gain / _math.sqrt(fan), generator)
    fill(tensor, float(a), str(mode), str(nonlinearity))
    return tensor


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a),
    fan = fan_in (keeps the forward pass's variance) or fan_out (the backward pass's)."""
    return _kaiming(_C.kaiming_uniform_, tensor, a, mode, nonlinearity, generator,
                    "kaiming_uniform_")


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    return _kaiming(_C.kaiming_normal_, tensor, a, mode, nonlinearity, generator,
                    "kaiming_normal_")
