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
            data = _core._empty([0], _core.get_default_dtype())
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor as data, got {type(data).__name__} "
                            "(wrap it: cr.nn.Parameter(cr.tensor(...)))")
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
    if not self._has_hooks():
        return self.forward(*args, **kwargs)
    if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
        return self._call_with_hooks(args[0])  # forward between the forward hooks (C++, as containers call)
    raise NotImplementedError(f"{type(self).__name__}: module hooks run for modules called with one tensor; "
                              f"this call has {len(args)} positional and {len(kwargs)} keyword arguments")


def register_parameter(self, name, param):
    """Registers ``param`` (a Parameter, or None) under ``name``."""
    if param is not None and not isinstance(param, Tensor):
        raise TypeError(f"register_parameter: cannot assign '{type(param).__name__}' object to parameter "
                        f"'{name}' (cr.nn.Parameter or None required)")
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
        # register_buffer keeps the same tensor in __dict__ as another Python object: copy that one,
        # so that the attribute and the registered buffer of the copy stay one tensor
        alias = self.__dict__.get(name)
        if isinstance(alias, Tensor) and b is not None and hash(alias) == hash(b):
            b = alias
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


# ====================================================================== nnmod: layers written in Python
# Activations, Embedding, BatchNorm2d, Dropout2d, Conv2d, MaxPool2d and AvgPool2d with torch's
# constructor arguments, attribute names (so state_dict keys match torch's) and extra_repr. Each
# composes cr.nn.functional; the C++ layers of the same names stay in _core for C++ users.
# inplace=True (as in tutorials' nn.ReLU6(inplace=True)) is accepted and shown in repr, but the
# layer computes out of place: the output is the same, the input is left unchanged (an in-place
# change would break autograd).
import math as _math

from . import functional as _F
from . import init as _init


def _dtype_device(dtype, device, what):
    if device is not None and str(device) != "cpu":
        _tensor_py._device(device, "use device='cpu'", what)
    return _core.get_default_dtype() if dtype is None else dtype


def _ntuple2(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class SiLU(Module):
    """x * sigmoid(x), elementwise (F.silu)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return _F.silu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """x where x > 0, else alpha (e^x - 1) (F.elu)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return _F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (F.hardtanh)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None or max_value is not None:
            import warnings
            warnings.warn("keyword argument `min_value`/`max_value` is deprecated and will be removed in future "
                          "releases, please use `min_val`/`max_val` instead.", FutureWarning, stacklevel=2)
            min_val = min_val if min_value is None else min_value
            max_val = max_val if max_value is None else max_value
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: expected max_val > min_val, got min_val={min_val}, max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return _F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6) (F.relu6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softsign(Module):
    """x / (1 + |x|) (F.softsign)."""

    def forward(self, input):
        return _F.softsign(input)


class Softmin(Module):
    """softmax(-x) along dim (F.softmin)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return _F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Dropout2d(Module):
    """Channel-wise dropout (F.dropout2d): in training whole channels of (N, C, H, W) are zeroed with
    probability p and the rest scaled by 1/(1 - p); identity in eval()."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return _F.dropout2d(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Embedding(Module):
    """A lookup table: row i of ``weight`` (num_embeddings, embedding_dim) for every index i of an int64
    input, so (N, L) indices give (N, L, embedding_dim). weight starts N(0, 1), as torch; the
    ``padding_idx`` row starts at 0 and gets no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        dtype = _dtype_device(dtype, device, "Embedding")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings [{-num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx = padding_idx + num_embeddings if padding_idx < 0 else padding_idx
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are not supported")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(_core._empty([num_embeddings, embedding_dim], dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        _init.normal_(self.weight)
        if self.padding_idx is not None:
            from .._grad_mode import no_grad
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return _F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += ", scale_grad_by_freq=True"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (2-D); frozen (no gradient) unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class BatchNorm2d(Module):
    """Batch normalisation of (N, C, H, W) per channel over (N, H, W), as torch.nn.BatchNorm2d.

    train(): normalises with the batch's mean and biased variance, and updates running_mean and
    running_var (unbiased) with ``momentum`` (None: a cumulative average) and counts
    num_batches_tracked; eval(): normalises with the running statistics. Built on
    F.batch_norm, the kernel BatchNorm1d uses.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        dtype = _dtype_device(dtype, device, "BatchNorm2d")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(_core._ones([num_features], dtype))
            if bias:
                self.bias = Parameter(_init.zeros_(_core._empty([num_features], dtype)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _init.zeros_(_core._empty([num_features], dtype)))
            self.register_buffer("running_var", _init.ones_(_core._empty([num_features], dtype)))
            self.register_buffer("num_batches_tracked", _core._empty([], _core.int64).zero_())
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            from .._grad_mode import no_grad
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def forward(self, input):
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            from .._grad_mode import no_grad
            with no_grad():
                self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        bn_training = True if self.training else (self.running_mean is None and self.running_var is None)
        use_stats = not self.training or self.track_running_stats
        return _F.batch_norm(input, self.running_mean if use_stats else None,
                             self.running_var if use_stats else None, self.weight, self.bias,
                             bn_training, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={getattr(self, 'bias', None) is not None}, "
                f"track_running_stats={self.track_running_stats}")


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) with weight
    (C_out, C_in / groups, kh, kw) and bias (C_out,), as torch.nn.Conv2d: stride, padding (an int,
    a pair, 'valid' or 'same'), dilation, groups, padding_mode ('zeros', 'reflect', 'replicate',
    'circular'). Weight and bias start U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups*kh*kw."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        dtype = _dtype_device(dtype, device, "Conv2d")
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size, stride, dilation = _ntuple2(kernel_size), _ntuple2(stride), _ntuple2(dilation)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple2(padding)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.padding_mode, self.output_padding, self.transposed = padding_mode, (0, 0), False
        if isinstance(padding, str):  # F.pad order: last dim first, (left, right) each
            self._reversed_padding_repeated_twice = [0, 0] * 2
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(1, -1, -1)):
                    total = d * (k - 1)
                    self._reversed_padding_repeated_twice[2 * i] = total // 2
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - total // 2
        else:
            self._reversed_padding_repeated_twice = [padding[1], padding[1], padding[0], padding[0]]
        self.weight = Parameter(_core._empty([out_channels, in_channels // groups, *kernel_size], dtype))
        if bias:
            self.bias = Parameter(_core._empty([out_channels], dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # torch: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias too
        fan_in = (self.in_channels // self.groups) * self.kernel_size[0] * self.kernel_size[1]
        bound = 1 / _math.sqrt(fan_in) if fan_in > 0 else 0.0
        _init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            _init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if self.padding_mode != "zeros":
            return _F.conv2d(_F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode),
                             self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return _F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class MaxPool2d(Module):
    """Max over each kernel_size window (F.max_pool2d); stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return _F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over each kernel_size window (F.avg_pool2d); stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return _F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# ---------------------------------------------------------------------- nnmod: Sequential as a list
def install_sequential():
    """Adds torch's list behaviour to the C++ Sequential: Sequential(OrderedDict(name=module)),
    slicing (a new Sequential holding the same modules under their original keys, as torch),
    iteration, insert, extend, del, + and +=."""
    import collections
    Seq = _core.Sequential
    get_one = Seq.__getitem__
    if getattr(get_one, "_nnmod", False):
        return
    init = Seq.__init__

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            init(self)
            for name, module in args[0].items():
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: expected modules, got {type(module).__name__} for '{name}'")
                self._register_module(name, module)
        else:
            init(self, *args)

    def _rebuild(self, mods):
        for name, _ in list(self._named_children()):
            self._remove(name)
        for i, m in enumerate(mods):
            self._register_module(str(i), m)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = Seq()
            for name, m in list(self._named_children())[idx]:
                out._register_module(name, m)
            return out
        if isinstance(idx, bool) or not isinstance(idx, int):
            try:
                import operator
                idx = operator.index(idx)
            except TypeError:
                raise TypeError(f"Sequential indices must be integers or slices, not {type(idx).__name__}") from None
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return get_one(self, idx)

    __getitem__._nnmod = True

    def __iter__(self):
        return iter([m for _, m in self._named_children()])

    def __delitem__(self, idx):
        mods = [m for _, m in self._named_children()]
        del mods[idx]
        _rebuild(self, mods)

    def insert(self, index, module):
        """Inserts ``module`` before position ``index`` (keys renumbered 0, 1, ...); returns self."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        mods = [m for _, m in self._named_children()]
        n = len(mods)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        mods.insert(index + n if index < 0 else index, module)
        _rebuild(self, mods)
        return self

    def extend(self, sequential):
        """Appends every module of ``sequential`` (any iterable of modules); returns self."""
        for m in sequential:
            self.append(m)
        return self

    def __iadd__(self, other):
        return self.extend(other)

    def __add__(self, other):
        if not isinstance(other, Seq):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        out = Seq()
        for m in list(self) + list(other):
            out.append(m)
        return out

    for fn in (__init__, __getitem__, __iter__, __delitem__, insert, extend, __iadd__, __add__):
        setattr(Seq, fn.__name__, fn)
