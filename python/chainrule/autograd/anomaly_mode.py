"""Anomaly mode (torch.autograd.detect_anomaly): stop at the first op whose backward — and, with
``check_forward``, whose forward — produces a nan or inf, naming the op, the line and the values."""
from .. import _core


class detect_anomaly:
    """Inside, a backward rule that returns a nan or inf raises a RuntimeError naming the op, the
    line of your code that made it and the values at the first bad element; with
    ``check_forward=True`` (torch has no such check) so does every op whose output holds a nan or
    inf, as it is computed::

        with cr.autograd.detect_anomaly():
            y = 1 / x          # RuntimeError: detect_anomaly: 'reciprocal' (called at lab.py, line 4:
                               # y = 1 / x) produced inf at [3] ...: input[3] = 0.0

    Slow (every result is scanned): for finding a bug, not for training. Usable as a decorator.
    ``check_nan=False`` only records where each op was made (as torch)."""

    def __init__(self, check_nan=True, check_forward=True):
        self.check_nan, self.check_forward = bool(check_nan), bool(check_forward)

    def __enter__(self):
        self._prev = (_core._is_anomaly_enabled(), _core._is_anomaly_check_nan_enabled(),
                      _core._is_anomaly_check_forward_enabled())
        _core._set_anomaly_enabled(True, self.check_nan, self.check_forward)
        return self

    def __exit__(self, *exc):
        _core._set_anomaly_enabled(*self._prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan, self.check_forward):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turns anomaly mode on or off (torch.autograd.set_detect_anomaly); also a context manager
    that restores the previous mode."""

    def __init__(self, mode, check_nan=True, check_forward=True):
        self._prev = (_core._is_anomaly_enabled(), _core._is_anomaly_check_nan_enabled(),
                      _core._is_anomaly_check_forward_enabled())
        _core._set_anomaly_enabled(bool(mode), bool(check_nan), bool(check_forward))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _core._set_anomaly_enabled(*self._prev)
        return False


def is_anomaly_enabled():
    """Whether anomaly mode is on (on this thread)."""
    return _core._is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    """Whether anomaly mode checks for nan and inf (on this thread)."""
    return _core._is_anomaly_check_nan_enabled()
