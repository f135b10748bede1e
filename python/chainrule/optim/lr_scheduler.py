"""cr.optim.lr_scheduler: learning-rate schedules with PyTorch's API and values.

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``::

    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)
        sched.step()

The schedules, their formulas and their state live in C++ (chainrule._core), computed in PyTorch's
order, so the lr sequences are equal to torch's, not just close. They write the optimizer's
``param_groups[i]["lr"]``; ``state_dict()`` has torch's keys.
"""
from __future__ import annotations

from .. import _core
from .._core import EPOCH_DEPRECATION_WARNING, CosineAnnealingLR, ExponentialLR, LRScheduler, MultiStepLR, ReduceLROnPlateau, StepLR

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
           "ReduceLROnPlateau"]


class LambdaLR(_core.LambdaLR):
    """lr_t = base_lr * lr_lambda(t): one function (of the epoch, returning a factor) for all
    groups, or a list with one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(getattr(optimizer, "param_groups", ()))
        fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(fns) != n:
            raise ValueError(f"Expected {n} lr_lambdas, but got {len(fns)}")
        for f in fns:
            if not callable(f):
                raise TypeError(f"LambdaLR: expected callables, got {type(f).__name__}")
        super().__init__(optimizer, fns, last_epoch)
        self.lr_lambdas = fns

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
