"""chainrule: a tiny, readable reverse-mode autodiff and neural-network framework.

Use it like PyTorch::

    import chainrule as cr
    x = cr.tensor([2.0], requires_grad=True)
    (x ** 3).backward()
    x.grad          # tensor([12.])

The C++ core lives in ``chainrule._core``; this package adds the pure-Python conveniences
(``tensor()`` from nested lists and arrays, size arguments as varargs, indexing, ``no_grad``,
devices: ``device=``, ``.to('cpu')``, ``cr.cuda.is_available()``; chainrule runs on the CPU only).
"""
from __future__ import annotations

import builtins as _builtins
import math as _math
import collections as _collections
import sys as _sys
import types as _types

import numpy as _np

from . import _core
# (all, any, max, min, round and sum shadow the builtins in this file: use _builtins.*)
from ._core import (  # noqa: F401  (re-exported)
    Generator,
    Node,
    ShapeError,
    Tensor,
    abs,
    acos,
    acosh,
    add,
    all,
    allclose,
    amax,
    amin,
    any,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    argsort,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    bmm,
    bool,
    broadcast_to,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    copysign,
    cos,
    cosh,
    cumprod,
    cumsum,
    default_generator,
    det,
    diag,
    diag_embed,
    diagonal,
    div,
    dot,
    double,
    dtype,
    einsum,
    eq,
    erf,
    exp,
    exp2,
    expand,
    expm1,
    fix,
    flatten,
    flip,
    fliplr,
    flipud,
    float,
    float32,
    float64,
    floor,
    floor_divide,
    fmod,
    frac,
    from_dlpack,
    from_numpy,
    gather,
    ge,
    get_default_dtype,
    get_num_threads,
    gt,
    index_add,
    index_select,
    initial_seed,
    int64,
    inverse,
    is_grad_enabled,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    le,
    leaky_relu,
    lerp,
    linear,
    log,
    log10,
    log1p,
    log2,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logsumexp,
    long,
    lt,
    manual_seed,
    masked_fill,
    matmul,
    maximum,
    mean,
    median,
    minimum,
    mm,
    mul,
    mv,
    narrow,
    ne,
    neg,
    norm,
    one_hot,
    outer,
    permute,
    pow,
    prod,
    reciprocal,
    relu,
    remainder,
    reshape,
    roll,
    round,
    rsqrt,
    scatter_add,
    seed,
    select,
    set_default_dtype,
    set_num_threads,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    softplus,
    sort,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    std_mean,
    sub,
    sum,
    sum_to,
    tan,
    tanh,
    tile,
    topk,
    trace,
    transpose,
    tril,
    triu,
    trunc,
    unsqueeze,
    var,
    var_mean,
    where,
)
from ._grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: E402
from ._tensor_py import install as _install  # noqa: E402
from ._tensor_py import device, _device  # noqa: E402,F401
from . import autograd  # noqa: E402,F401
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled  # noqa: E402,F401
from . import viz  # noqa: E402,F401
from . import doctor  # noqa: E402,F401
from . import data, nn, optim  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
# linear algebra: cr.linalg (solve, inv, det, eigh, ...) and meshgrid
from . import linalg  # noqa: E402,F401
from . import func  # noqa: E402,F401
from . import calculus  # noqa: E402,F401
from . import onnx  # noqa: E402,F401  (cr.onnx.export; the onnx package itself only when called)
from ._integrate import cumulative_trapezoid, trapezoid  # noqa: E402,F401
from .linalg import meshgrid  # noqa: E402,F401

__version__ = "0.1.0"


def show_config(mode="stdout"):
    """How this chainrule was built, as ``numpy.show_config()``: the GEMM backend (OpenBLAS, or
    Eigen when the build found no BLAS), the SIMD instruction sets its kernels use, OpenMP, threads,
    Eigen and the compiler. ``mode="stdout"`` prints it; ``mode="dicts"`` returns it as a dict."""
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"show_config: expected mode 'stdout' or 'dicts', got {mode!r}")
    config = {"chainrule": __version__, **dict(_core._build_config())}
    if mode == "dicts":
        return config
    width = _builtins.max(len(k) for k in config)
    print("\n".join(f"{k:<{width}} : {v}" for k, v in config.items()))

_Py_bool, _Py_float, _Py_int = _builtins.bool, _builtins.float, _builtins.int
_NUMPY_DTYPES = {float32: _np.float32, float64: _np.float64, int64: _np.int64, bool: _np.bool_}


def _sizes(size, op):
    """f(2, 3), f((2, 3)) and f([2, 3]) all mean the shape (2, 3) (converted in C++: shape_arg)."""
    return _core._sizes(op, *size)


# Constants, as torch.pi, torch.e, torch.inf, torch.nan.
pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False, *, device=None):
    """A new tensor holding a copy of ``data`` (a number, nested lists, a NumPy array or a tensor).

    The dtype is inferred as PyTorch does: Python floats give the default dtype (float32 unless
    ``cr.set_default_dtype``), ints int64, bools bool;
    NumPy arrays keep float64/float32/int64/bool. Example: ``cr.tensor([[1., 2.], [3., 4.]])``.
    ``device`` may be None or 'cpu' (chainrule runs on the CPU only; other devices raise).
    """
    _device(device, _FACTORY_HINT)
    if isinstance(data, Tensor):
        t = data.detach().clone()
        return _finish(t if dtype is None else t.to(dtype), requires_grad)
    from_numpy_input = isinstance(data, (_np.ndarray, _np.generic))
    try:
        arr = _np.array(data)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"tensor: expected a rectangular nested list, got {e}") from None
    if dtype is None:
        kind = arr.dtype.kind
        if kind == "b":
            dtype = bool
        elif kind in "iu":
            dtype = int64
        elif kind == "f":
            # NumPy float32/float64 data keep their dtype (as torch); Python floats take the default
            dtype = {_np.dtype(_np.float32): float32, _np.dtype(_np.float64): float64}.get(arr.dtype) \
                if from_numpy_input else None
            dtype = get_default_dtype() if dtype is None else dtype
        else:
            _check_int64(arr)
            name = {"U": f"str ({arr.dtype})", "S": f"bytes ({arr.dtype})"}.get(kind, arr.dtype)
            raise TypeError(f"tensor: can't make a tensor from data of type {name} "
                            "(expected numbers, bools, nested lists or a numeric NumPy array)")
    if not isinstance(dtype, _core.dtype):
        raise TypeError(f"tensor: dtype must be a chainrule dtype (cr.float32, ...), got {dtype!r}")
    if dtype == int64:
        _check_int64(arr)
    arr = _np.array(arr, dtype=_NUMPY_DTYPES[dtype], order="C", copy=True)  # keeps 0-d as 0-d
    return _finish(from_numpy(arr), requires_grad)


def _check_int64(arr):
    """Raises for values that have no int64, as torch does; NumPy's cast would silently make nan
    -2**63 and 2**64 - 1 become -1."""
    if arr.size == 0:
        return
    if arr.dtype.kind == "f":
        bad = ~((arr >= -2.0**63) & (arr < 2.0**63))  # nan and ±inf too
        if bad.any():
            raise RuntimeError(f"tensor: value {arr[bad].flat[0]} cannot be converted to int64 without "
                               "overflow")
    elif arr.dtype.kind in "uO":
        for v in (arr.flat if arr.dtype.kind == "O" else (arr.max(),)):
            if isinstance(v, (_Py_int, _np.integer)) and not -2**63 <= _Py_int(v) < 2**63:
                src = f" ({arr.dtype})" if arr.dtype.kind == "u" else ""
                raise ValueError(f"tensor: value {v}{src} overflows int64, whose range is -2**63 to "
                                 "2**63 - 1 (chainrule has no uint64)")


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but without a copy when ``data`` is already a suitable tensor or array.

    ``device`` may be None or 'cpu' (chainrule runs on the CPU only)."""
    _device(device, _FACTORY_HINT)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, _np.ndarray) and data.flags.c_contiguous and data.flags.writeable and \
            data.dtype in (_np.float32, _np.float64, _np.int64, _np.bool_) and dtype is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def _dtype(dtype):
    """dtype, or the default floating dtype (cr.get_default_dtype(), float32 unless set)."""
    return get_default_dtype() if dtype is None else dtype


_FACTORY_HINT = "remove device= or use device='cpu'"


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size."""
    _device(device, _FACTORY_HINT)
    return _finish(_core._empty(_sizes(size, "empty"), _dtype(dtype)), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros: ``cr.zeros(2, 3)`` or ``cr.zeros((2, 3), dtype=cr.float64)``."""
    _device(device, _FACTORY_HINT)
    return _finish(_core._zeros(_sizes(size, "zeros"), _dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones: ``cr.ones(2, 3)``."""
    _device(device, _FACTORY_HINT)
    return _finish(_core._ones(_sizes(size, "ones"), _dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, *, device=None):
    """A tensor filled with ``fill_value``; the dtype follows the value (int -> int64, float -> the
    default dtype, float32 unless ``cr.set_default_dtype``)."""
    _device(device, _FACTORY_HINT)
    if dtype is None:
        dtype = bool if isinstance(fill_value, _Py_bool) else \
            int64 if isinstance(fill_value, (_Py_int, _np.integer)) else get_default_dtype()
    return _finish(_core._full(_sizes((size,), "full"), fill_value, dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, *, device=None):
    """Values from start (default 0) up to but not including end: ``cr.arange(5)`` -> [0, 1, 2, 3, 4].

    int64 when start, end and step are all ints, else the default dtype (float32), as PyTorch.
    """
    _device(device, _FACTORY_HINT)
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = _builtins.all(isinstance(v, (_Py_int, _np.integer)) for v in (start, end, step))
        dtype = int64 if ints else get_default_dtype()
    return _finish(_core._arange(_Py_float(start), _Py_float(end), _Py_float(step), dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, *, device=None):
    """``steps`` evenly spaced values from start to end, both included."""
    _device(device, _FACTORY_HINT)
    steps, = _sizes((steps,), "linspace")
    return _finish(_core._linspace(_Py_float(start), _Py_float(end), steps, _dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, *, device=None):
    """The n x m (default n x n) identity matrix."""
    _device(device, _FACTORY_HINT)
    n, m = _sizes((n, n if m is None else m), "eye")
    return _finish(_core._eye(n, m, _dtype(dtype)), requires_grad)


def _generator(generator, op):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a cr.Generator or None, got {type(generator).__name__}")
    return generator


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples from [0, 1). Seed with ``cr.manual_seed``, or pass ``generator=``."""
    _device(device, _FACTORY_HINT)
    return _finish(_core._rand_g(_sizes(size, "rand"), _dtype(dtype), _generator(generator, "rand")),
                   requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples. Seed with ``cr.manual_seed``, or pass ``generator=``."""
    _device(device, _FACTORY_HINT)
    return _finish(_core._randn_g(_sizes(size, "randn"), _dtype(dtype), _generator(generator, "randn")),
                   requires_grad)


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None):
    """Random int64 values in [low, high): ``cr.randint(0, 10, (3,))`` (or ``randint(high, size)``).

    ``generator=`` (a ``cr.Generator``) draws from it instead of the global generator."""
    _device(device, _FACTORY_HINT)
    if high is None:
        raise TypeError("randint: expected randint(low, high, size) or randint(high, size=...)")
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    t = _core._randint_g(_Py_int(low), _Py_int(high), _sizes((size,), "randint"),
                         _generator(generator, "randint"))
    return t if dtype is None else t.to(dtype)


def empty_like(t, dtype=None, requires_grad=False, *, device=None):
    """An uninitialised tensor with the shape (and dtype) of t."""
    return empty(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, *, device=None):
    """Zeros with the shape (and dtype) of t."""
    return zeros(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False, *, device=None):
    """Ones with the shape (and dtype) of t."""
    return ones(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, *, device=None):
    """``fill_value`` with the shape (and dtype) of t."""
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device)


def rand_like(t, dtype=None, requires_grad=False, *, device=None):
    """Uniform samples from [0, 1) with the shape (and dtype) of t."""
    return rand(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False, *, device=None):
    """Standard normal samples with the shape (and dtype) of t."""
    return randn(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, **kwargs):
    """A random permutation of 0..n-1 (int64, or ``dtype``): ``cr.randperm(5)``.

    ``generator=`` (a ``cr.Generator``) draws from it; ``seed=`` gives its own reproducible order
    (the same as ``generator=cr.Generator().manual_seed(seed)``). ``device`` may be None or 'cpu'.
    """
    _device(device, _FACTORY_HINT)
    n, = _sizes((n,), "randperm")
    if generator is not None:
        if kwargs:
            raise TypeError("randperm: pass either generator= or seed=, not both")
        t = _core._randperm_g(n, _generator(generator, "randperm"))
    else:
        t = _core.randperm(n, **kwargs)
    return t if dtype is None else t.to(dtype)


# ------------------------------------------------------------------------------------------------
# cr.cuda and cr.backends: what portable code asks before choosing a device, e.g.
#     device = "cuda" if cr.cuda.is_available() else "cpu"
# chainrule has no GPU, so every "is there one?" answers no, as on PyTorch's CPU-only build.
# ------------------------------------------------------------------------------------------------
def _namespace(name, doc, **members):
    mod = _types.ModuleType(f"{__name__}.{name}", doc)
    for key, value in members.items():
        setattr(mod, key, value)
    _sys.modules[mod.__name__] = mod  # so `import chainrule.cuda` works too
    return mod


def _false():
    """False: chainrule runs on the CPU only."""
    return False


def _device_count():
    """0: chainrule has no GPUs."""
    return 0


def _cuda_manual_seed(seed):
    """Does nothing (there is no GPU generator to seed); seed the CPU with ``cr.manual_seed``."""
    return None


cuda = _namespace(
    "cuda", "No GPUs: ``cr.cuda.is_available()`` is False, so "
    "``device = 'cuda' if cr.cuda.is_available() else 'cpu'`` picks the CPU.",
    is_available=_false, device_count=_device_count, manual_seed=_cuda_manual_seed,
    manual_seed_all=_cuda_manual_seed)
backends = _namespace(
    "backends", "Accelerator back ends, all absent: ``cr.backends.mps.is_available()`` is False.",
    mps=_namespace("backends.mps", "Apple's Metal (MPS): not available in chainrule.",
                   is_available=_false, is_built=_false),
    cuda=_namespace("backends.cuda", "CUDA: not built into chainrule.", is_built=_false),
    cudnn=_namespace("backends.cudnn", "cuDNN: not available; ``deterministic`` and ``benchmark`` "
                     "may be set (as seeding code does) and change nothing.",
                     is_available=_false, deterministic=False, benchmark=False, enabled=False))


def numel(input):
    """The number of elements of a tensor."""
    return input.numel()


return_types = _namespace("return_types", "Named (values, indices) results of max/min/median/sort/topk "
                          "along a dim, as torch.return_types: r.values, r.indices, v, i = r.",
                          **_core._return_types())


def _dim_or_axis(dim, axis, op):
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}(): got both dim and axis (axis is an alias of dim); pass one of them")
    return axis


def max(input, dim=None, keepdim=False, *, axis=None):
    """The largest element; or, with ``dim`` (``axis`` is an alias), a named tuple
    ``(values, indices)`` along it (``cr.return_types.max``); or, with a tensor as second argument,
    the elementwise maximum. The gradient goes to the chosen elements (nan counts as the largest).

    Example: ``v, i = cr.max(x, dim=1)``."""
    dim = _dim_or_axis(dim, axis, "max")
    if dim is None:
        return amax(input)
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    return return_types.max(*_core._max_dim(input, dim, keepdim))


def min(input, dim=None, keepdim=False, *, axis=None):
    """The smallest element; or, with ``dim`` (``axis`` is an alias), a named tuple
    ``(values, indices)`` (``cr.return_types.min``); or the elementwise minimum with a tensor."""
    dim = _dim_or_axis(dim, axis, "min")
    if dim is None:
        return amin(input)
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    return return_types.min(*_core._min_dim(input, dim, keepdim))


_install(Tensor, max=max, min=min)

# Last, once every submodule is imported: calls that match no signature raise one-line TypeErrors.
from . import _errors  # noqa: E402
_errors.install()
