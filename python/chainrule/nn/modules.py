"""cr.nn.Module and cr.nn.Parameter: the PyTorch-style Python face of the C++ nn::Module.

Module is the compiled class itself (so C++ layers are Modules too); this file adds the parts
that are about Python objects: attribute registration, __call__ with any signature, dicts.
"""
import collections
import copy
import weakref

from .. import _core, _tensor_py

Tensor = _core.Tensor
Module = _core.Module


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned as an attribute.

    ``self.w = cr.nn.Parameter(cr.randn(3, 2))`` — it requires grad, and shows up in
    ``parameters()``, ``state_dict()`` and the optimizer's updates.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _core._empty([0], _core.float32)
        super().__init__(data.detach())
        if requires_grad:
            self.requires_grad_(True)
        _parameters[hash(self)] = self

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce__(self):
        data, requires_grad = Tensor.__reduce__(self)[1]
        return (Parameter, (_core.from_numpy(data), requires_grad))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = Parameter(self.detach().clone(), self.requires_grad)
        return memo[id(self)]


# The Parameter object of each live parameter, by tensor identity (hash is the C++ tensor's
# address): a parameter that a C++ layer holds (Linear.weight) is handed to Python as a Parameter,
# and as the same object each time while one is alive, as in PyTorch.
_parameters = weakref.WeakValueDictionary()


def _as_parameter(t):
    if t is None or isinstance(t, Parameter):
        return t
    p = _parameters.get(hash(t))
    if p is None:
        p = Parameter.__new__(Parameter)
        Tensor.__init__(p, t)  # shares t's C++ tensor: same data, grad and requires_grad
        _parameters[hash(p)] = p
    return p


def _check_ready(self, what):
    if not Module._ready(self):
        raise AttributeError(f"cannot assign {what} before Module.__init__() call "
                             f"(call super().__init__() first in {type(self).__name__}.__init__)")


def _setattr(self, name, value):
    if isinstance(value, Parameter):
        _check_ready(self, "parameters")
        if self._has_buffer(name) or self._has_module(name):
            self._remove(name)  # a name is one kind of thing at a time, as in PyTorch
        self._register_parameter(name, value)  # the very object, so its .grad is the trained one
    elif isinstance(value, Module):
        _check_ready(self, "modules")
        if self._has_parameter(name):  # PyTorch checks parameters first, so this is an error
            raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                            "(cr.nn.Parameter or None expected)")
        if self._has_buffer(name):
            self._remove(name)
        self._register_module(name, value)
    elif Module._ready(self) and self._has_parameter(name):
        if value is not None:
            raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                            "(cr.nn.Parameter or None expected)")
        self._register_parameter(name, None)
    elif Module._ready(self) and self._has_module(name):
        if value is not None:
            raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                            "(cr.nn.Module or None expected)")
        self._register_module(name, None)
    elif Module._ready(self) and self._has_buffer(name):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
        self._register_buffer(name, value)
    object.__setattr__(self, name, value)


def _getattr(self, name):
    # Only reached when normal lookup fails: C++ layers keep their tensors in C++.
    if name.startswith("__") or not Module._ready(self):
        raise AttributeError(name)
    if self._has_parameter(name):
        return _as_parameter(self._parameter(name))
    if self._has_buffer(name):
        return self._buffer(name)
    if self._has_module(name):
        return self._module(name)
    raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


def _call(self, *args, **kwargs):
    return self.forward(*args, **kwargs)


def register_parameter(self, name, param):
    """Registers ``param`` (a Parameter, or None) under ``name``."""
    setattr(self, name, param if param is None or isinstance(param, Parameter) else Parameter(param))


def register_buffer(self, name, tensor):
    """Registers a tensor that is state but not a parameter (e.g. BatchNorm's running mean)."""
    _check_ready(self, "buffers")
    self._register_buffer(name, tensor)
    object.__setattr__(self, name, tensor)


def add_module(self, name, module):
    """Registers a child module under ``name``."""
    setattr(self, name, module)


def parameters(self, recurse=True):
    """An iterator over the parameters (each shared parameter once); give it to an optimizer."""
    return iter([_as_parameter(p) for _, p in self._named_parameters(recurse)])


def named_parameters(self, prefix="", recurse=True):
    """(dotted name, parameter) pairs, e.g. ('0.weight', tensor)."""
    return iter([(prefix + ("." if prefix else "") + n, _as_parameter(p)) for n, p in self._named_parameters(recurse)])


def buffers(self, recurse=True):
    return iter([b for _, b in self._named_buffers(recurse)])


def named_buffers(self, prefix="", recurse=True):
    return iter([(prefix + ("." if prefix else "") + n, b) for n, b in self._named_buffers(recurse)])


def children(self):
    """The direct submodules."""
    return iter([m for _, m in self._named_children()])


def named_children(self):
    return iter(self._named_children())


def modules(self):
    """This module and every module inside it."""
    return iter([m for _, m in self._named_modules()])


def named_modules(self):
    return iter(self._named_modules())


def train(self, mode=True):
    """Training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
    self._train(bool(mode))
    return self


def eval(self):
    """Evaluation mode, the same as train(False); returns self."""
    return self.train(False)


def zero_grad(self, set_to_none=True):
    """Resets every parameter's gradient (to None, as PyTorch 2 does by default)."""
    if set_to_none:
        self._zero_grad()
    else:
        for p in self.parameters():
            if p.grad is not None:
                p.grad.zero_()


def state_dict(self):
    """An OrderedDict name -> tensor of every parameter and buffer (sharing their memory)."""
    return collections.OrderedDict(self._state_dict())


def load_state_dict(self, state_dict, strict=True):
    """Copies values from a state dict into this module's parameters and buffers, in place.

    Values may be chainrule tensors, NumPy arrays or anything with __dlpack__ (torch tensors).
    With strict=True (default) missing or unexpected keys are an error; shapes must match.
    """
    from .. import as_tensor, from_dlpack
    items = []
    for k, v in state_dict.items():
        if not isinstance(v, Tensor):
            v = from_dlpack(v) if hasattr(v, "__dlpack__") and not hasattr(v, "__array_interface__") \
                else as_tensor(v)
        items.append((k, v))
    self._load_state_dict(items, bool(strict))
    return None


def apply(self, fn):
    """Calls fn on every submodule (children first) and on self, as PyTorch; returns self."""
    for m in self.children():
        m.apply(fn)
    fn(self)
    return self


def to(self, *args, **kwargs):
    """Moves and/or casts the parameters and buffers, as ``torch.nn.Module.to``; returns self.

    ``model.to(device)`` with ``device = 'cuda' if cr.cuda.is_available() else 'cpu'`` is accepted
    and changes nothing: chainrule runs on the CPU only, and any other device raises. Also
    ``model.to(dtype)``, ``model.to(device, dtype)``, ``model.to(tensor)`` and ``non_blocking=``.
    """
    dev, dtype, _ = _tensor_py._parse_to(args, kwargs, "Module.to()", ("non_blocking",))
    _tensor_py._device(dev, "remove .to(device) or use 'cpu'", "Module.to()")
    if dtype is not None:
        if dtype not in (_core.float32, _core.float64):
            raise TypeError(f"nn.Module.to only accepts floating point dtypes (cr.float32, cr.float64), "
                            f"but got desired dtype={dtype}")
        _cast_floats(self, dtype)
    return self


def _cast_floats(module, dtype):
    """Casts every floating-point parameter (and its grad) and buffer in place; integer buffers
    stay. Parameters keep their identity, so an optimizer made before still updates them."""
    module._to_dtype(dtype)


def double(self):
    """Casts floating-point parameters and buffers to float64 (as ``torch.nn.Module.double``); returns self."""
    _cast_floats(self, _core.float64)
    return self


def _float(self):
    """Casts floating-point parameters and buffers to float32 (as ``torch.nn.Module.float``); returns self."""
    _cast_floats(self, _core.float32)
    return self


def requires_grad_(self, requires_grad=True):
    """Sets requires_grad of every parameter (False freezes the module, as in fine-tuning); returns self."""
    for p in self.parameters():
        p.requires_grad_(requires_grad)
    return self


def cpu(self):
    """Returns self: a chainrule module always lives on the CPU (as ``torch.nn.Module.cpu``)."""
    return self


def cuda(self, device=None):
    """Always raises: chainrule runs on the CPU only (write ``model.to(device)`` with
    ``device = 'cuda' if cr.cuda.is_available() else 'cpu'`` for code that runs on both)."""
    _tensor_py._refuse_cuda(device)


def _deepcopy(self, memo):
    """copy.deepcopy(model): new parameters and buffers with the same values (no grads, as torch),
    children copied, sharing within the model kept (tied weights stay tied), train/eval kept."""
    cls = type(self)
    native = next(c for c in cls.__mro__ if c.__module__ == _core.__name__)  # the C++ class
    if native is Module:  # a Python subclass of Module: its C++ part is a plain Module
        new = cls.__new__(cls)
        Module.__init__(new)
        new._set_training_flag(self.training)
    else:  # a C++ layer (or a Python subclass of one): copy its settings in C++
        new = self._copy_self()
        if cls is not native:
            new.__class__ = cls
    memo[id(self)] = new
    for name, p in self._own_parameters():
        new._register_parameter(name, copy.deepcopy(_as_parameter(p), memo))
    for name, b in self._own_buffers():
        new._register_buffer(name, copy.deepcopy(b, memo))
    for name, child in self._own_children():
        new._register_module(name, copy.deepcopy(child, memo))
    for name, value in self.__dict__.items():  # Python attributes; registered ones are in memo
        object.__setattr__(new, name, copy.deepcopy(value, memo))
    return new


def _repr(self):
    return self._repr()


def _dir(self):
    names = set(object.__dir__(self))
    names.update(n for n, _ in self._named_parameters(False))
    names.update(n for n, _ in self._named_children())
    return sorted(names)


def install():
    for fn in [register_parameter, register_buffer, add_module, parameters, named_parameters,
               buffers, named_buffers, children, named_children, modules, named_modules, train,
               eval, zero_grad, state_dict, load_state_dict, apply, to, cpu, cuda, double,
               requires_grad_]:
        setattr(Module, fn.__name__, fn)
    Module.__setattr__ = _setattr
    Module.__getattr__ = _getattr
    Module.__call__ = _call
    Module.__repr__ = _repr
    Module.__dir__ = _dir
    Module.__deepcopy__ = _deepcopy
    Module.float = _float
