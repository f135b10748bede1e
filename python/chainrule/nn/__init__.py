"""cr.nn: layers, losses and the Module base class, with PyTorch's names and defaults.

    model = cr.nn.Sequential(cr.nn.Linear(2, 100), cr.nn.ReLU(), cr.nn.Linear(100, 3))
    loss = cr.nn.functional.cross_entropy(model(x), y)
"""
from .. import _core
from .modules import Module, Parameter, install as _install

_install()

from .._core import (  # noqa: E402,F401  (the C++ layers)
    AvgPool2d,
    BatchNorm1d,
    Conv2d,
    Dropout,
    Flatten,
    GELU,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)

from . import functional, init, utils  # noqa: E402,F401

# ---- nnmod: Python layers composing nn.functional (Conv2d, MaxPool2d and AvgPool2d replace the C++
# layers of the same names here: they take torch's full argument lists) and Sequential slicing ----
from .modules import (  # noqa: E402,F401
    ELU,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout2d,
    Embedding,
    Hardtanh,
    MaxPool2d,
    ReLU6,
    SiLU,
    Softmin,
    Softsign,
    install_sequential as _install_sequential,
)

_install_sequential()
from .loss import (  # noqa: E402,F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)

__all__ = ["Module", "Parameter", "Linear", "Sequential", "ModuleList", "Identity", "Flatten",
           "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softplus", "Softmax", "LogSoftmax",
           "Dropout", "BatchNorm1d", "LayerNorm", "Conv2d", "MaxPool2d", "AvgPool2d",
           "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "KLDivLoss",
           # nnmod
           "SiLU", "ELU", "ReLU6", "Hardtanh", "Softsign", "Softmin", "Embedding", "BatchNorm2d", "Dropout2d"]
