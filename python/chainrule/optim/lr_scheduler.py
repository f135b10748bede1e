"""cr.optim.lr_scheduler: learning-rate schedules with PyTorch's API and values.

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``::

    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)
        sched.step()

The schedules run in C++ (chainrule._core) with PyTorch's formulas in PyTorch's order, so the lr
sequences are equal to torch's, not just close. They write the optimizer's ``param_groups[i]["lr"]``.
"""
from __future__ import annotations

import warnings

from .. import _core

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
           "ReduceLROnPlateau"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch "
    "is different from None, the closed form is used instead of the new chainable form, where available."
)


def _core_optimizer(optimizer):
    from . import Optimizer  # the package imports this module first
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    return optimizer._core


class LRScheduler:
    """The base of the epoch-based schedulers: ``step()``, ``get_last_lr()``, ``last_epoch``,
    ``base_lrs`` (each group's ``"initial_lr"``) and ``state_dict()``/``load_state_dict()``."""

    _config = ()  # constructor arguments listed in state_dict()

    def _attach(self, optimizer, make):
        self.optimizer = optimizer
        self._core = make(_core_optimizer(optimizer))

    def step(self, epoch=None):
        """Moves to the next epoch and sets each group's lr. ``epoch`` (deprecated in PyTorch)
        jumps to that epoch using the closed form."""
        if epoch is None:
            self._core.step()
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            self._core.step_to(int(epoch))

    def get_last_lr(self):
        """The lrs the last step set, one per param group."""
        return list(self._core.get_last_lr())

    @property
    def last_epoch(self):
        return self._core.last_epoch

    @last_epoch.setter
    def last_epoch(self, value):
        self._core.last_epoch = int(value)

    @property
    def base_lrs(self):
        return list(self._core.base_lrs)

    @base_lrs.setter
    def base_lrs(self, value):
        self._core.base_lrs = [float(v) for v in value]

    def state_dict(self):
        """The scheduler's state (PyTorch's keys: last_epoch, base_lrs, _last_lr, _step_count and
        the constructor's settings); the optimizer is not part of it."""
        sd = {k: getattr(self, k) for k in self._config}
        sd.update(base_lrs=self.base_lrs, last_epoch=self.last_epoch, _step_count=self._core.step_count,
                  _last_lr=self.get_last_lr())
        return sd

    def load_state_dict(self, state_dict):
        """Restores the state saved by :meth:`state_dict` (the settings are the constructor's)."""
        self.last_epoch = state_dict["last_epoch"]
        self.base_lrs = state_dict["base_lrs"]
        self._core.step_count = int(state_dict.get("_step_count", self._core.step_count))
        self._core.last_lr = [float(v) for v in state_dict.get("_last_lr", self.get_last_lr())]

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._config)
        return f"{type(self).__name__}({args}, last_epoch={self.last_epoch})"


class StepLR(LRScheduler):
    """Multiplies each group's lr by ``gamma`` every ``step_size`` epochs."""

    _config = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self._attach(optimizer, lambda o: _core.StepLR(o, int(step_size), float(gamma), int(last_epoch)))

    step_size = property(lambda self: self._core.step_size)
    gamma = property(lambda self: self._core.gamma)


class MultiStepLR(LRScheduler):
    """Multiplies each group's lr by ``gamma`` at each milestone epoch (``gamma**k`` for a
    milestone listed k times)."""

    _config = ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        ms = [int(m) for m in milestones]
        self._attach(optimizer, lambda o: _core.MultiStepLR(o, ms, float(gamma), int(last_epoch)))

    milestones = property(lambda self: list(self._core.milestones))
    gamma = property(lambda self: self._core.gamma)


class ExponentialLR(LRScheduler):
    """Multiplies each group's lr by ``gamma`` every epoch."""

    _config = ("gamma",)

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self._attach(optimizer, lambda o: _core.ExponentialLR(o, float(gamma), int(last_epoch)))

    gamma = property(lambda self: self._core.gamma)


class CosineAnnealingLR(LRScheduler):
    r"""Anneals each lr along a half cosine from its initial value to ``eta_min`` at ``T_max``:
    lr_t = eta_min + (base_lr - eta_min)(1 + cos(pi t / T_max)) / 2 (in PyTorch's recursive form,
    so a manual change of lr carries on; after T_max the cosine goes back up)."""

    _config = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self._attach(optimizer, lambda o: _core.CosineAnnealingLR(o, int(T_max), float(eta_min), int(last_epoch)))

    T_max = property(lambda self: self._core.T_max)
    eta_min = property(lambda self: self._core.eta_min)


class LambdaLR(LRScheduler):
    """lr_t = base_lr * lr_lambda(t): one function (of the epoch, returning a factor) for all
    groups, or a list with one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _core_optimizer(optimizer)  # TypeError for anything else
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            fns = list(lr_lambda)
        else:
            fns = [lr_lambda] * n
        for f in fns:
            if not callable(f):
                raise TypeError(f"LambdaLR: expected callables, got {type(f).__name__}")
        self.lr_lambdas = fns
        self._attach(optimizer, lambda o: _core.LambdaLR(o, [lambda e, f=f: float(f(e)) for f in fns],
                                                          int(last_epoch)))

    def state_dict(self):
        sd = super().state_dict()
        # As PyTorch: functions aren't saved, callable objects' attributes are.
        sd["lr_lambdas"] = [None if isinstance(f, type(lambda: 0)) else dict(vars(f)) for f in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for f, saved in zip(self.lr_lambdas, state_dict.get("lr_lambdas", [])):
            if saved is not None:
                vars(f).update(saved)


class ReduceLROnPlateau:
    """Multiplies each group's lr by ``factor`` when a metric stops improving.

    Call ``step(metric)`` once per epoch. The metric improved if it is below
    ``best * (1 - threshold)`` (mode "min", threshold_mode "rel"), below ``best - threshold``
    ("abs"), or above ``best * (1 + threshold)`` / ``best + threshold`` in mode "max". After more
    than ``patience`` epochs without improvement the lrs are cut (not below ``min_lr``, a number or
    one per group; cuts smaller than ``eps`` are skipped) and ``cooldown`` epochs are ignored.
    """

    _config = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps")
    _state = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        self.optimizer = optimizer
        self._core = _core.ReduceLROnPlateau(_core_optimizer(optimizer), mode, float(factor), int(patience),
                                             float(threshold), threshold_mode, int(cooldown), min_lr,
                                             float(eps))

    def step(self, metrics, epoch=None):
        """Records this epoch's metric (a number or a one-element tensor) and cuts the lrs if it
        has stopped improving."""
        current = float(metrics)
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            self._core.last_epoch = int(epoch) - 1
        self._core.step(current)

    def get_last_lr(self):
        return list(self._core.get_last_lr())

    @property
    def in_cooldown(self):
        return self._core.in_cooldown

    @property
    def min_lrs(self):
        return list(self._core.min_lrs)

    def state_dict(self):
        sd = {k: getattr(self._core, k) for k in self._config + self._state}
        sd.update(min_lrs=self.min_lrs, _last_lr=self.get_last_lr())
        return sd

    def load_state_dict(self, state_dict):
        for k in self._state:
            if k in state_dict:
                setattr(self._core, k, state_dict[k])
        if "_last_lr" in state_dict:
            self._core.last_lr = [float(v) for v in state_dict["_last_lr"]]

    def __setattr__(self, name, value):
        if name in ReduceLROnPlateau._state:
            setattr(self._core, name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):  # mode, factor, best, num_bad_epochs, ... as attributes
        if name in ReduceLROnPlateau._config + ReduceLROnPlateau._state:
            return getattr(self.__dict__["_core"], name)
        raise AttributeError(f"'ReduceLROnPlateau' object has no attribute '{name}'")
