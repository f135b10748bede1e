"""cr.nn: layers, losses and the Module base class, with PyTorch's names and defaults.

    model = cr.nn.Sequential(cr.nn.Linear(2, 100), cr.nn.ReLU(), cr.nn.Linear(100, 3))
    loss = cr.nn.functional.cross_entropy(model(x), y)
"""
from .. import _core
from .modules import Module, Parameter, install as _install

_install()

from .._core import (  # noqa: E402,F401  (the C++ layers)
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)

__all__ = ["Module", "Parameter", "Linear", "Sequential", "ModuleList", "Identity", "Flatten",
           "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax"]
