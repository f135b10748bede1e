"""Tensor methods written in Python: NumPy conversion, indexing (reading and writing), max/min,
and devices (``cr.device``, ``.device``, ``.to(...)``, ``.cpu()``)."""
import re

import numpy as np

from . import _core

Tensor = _core.Tensor


def _numpy(self):
    """The tensor's data as a NumPy array that shares its memory (no copy)."""
    if self.requires_grad:
        raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; "
                           "use tensor.detach().numpy()")
    return np.asarray(self)


def _tolist(self):
    """The data as (nested lists of) Python numbers."""
    return np.asarray(self.detach()).tolist()


def _is_int(k):
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _as_index(k, op="index"):
    """An advanced index (list, array or tensor) as an int64 tensor, or None if it is a bool mask."""
    if isinstance(k, Tensor):
        if k.dtype == _core.bool:
            return None
        if k.dtype != _core.int64:
            raise IndexError(f"{op}: tensors used as indices must be int64 or bool, got {k.dtype}")
        return k
    a = np.asarray(k)
    if a.dtype == np.bool_:
        return None
    if a.dtype.kind not in "iu" and a.size:
        raise IndexError(f"{op}: only integers, slices, None, ..., and int64 or bool tensors are "
                         f"valid indices, got {a.dtype}")
    return _core.from_numpy(np.ascontiguousarray(a.astype(np.int64)))


def _mask_indices(k, shape, dim):
    """A bool mask as one int64 index tensor per dim it covers."""
    m = np.asarray(k.detach() if isinstance(k, Tensor) else k, dtype=np.bool_)
    covered = tuple(shape[dim:dim + m.ndim])
    if m.shape != covered:
        raise IndexError(f"index: the mask of shape {m.shape} does not match the indexed dims "
                         f"{covered} starting at dim {dim}")
    return [_core.from_numpy(np.ascontiguousarray(ix.astype(np.int64))) for ix in np.nonzero(m)]


def _getitem(self, key):
    """x[...] with ints, slices, None, ..., lists, and int64/bool tensors (gradients flow)."""
    if not isinstance(key, tuple):
        key = (key,)
    def ndims(k):  # how many dims of x an index entry consumes
        if k is None or k is Ellipsis or isinstance(k, (bool, np.bool_)):
            return 0
        if isinstance(k, (Tensor, np.ndarray, list)) and _as_index(k) is None:
            return np.asarray(k.detach() if isinstance(k, Tensor) else k).ndim
        return 1
    used = sum(ndims(k) for k in key)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("index: an index can only have a single ellipsis ('...')")
    if used > self.ndim:
        raise IndexError(f"index: too many indices for a tensor of dimension {self.ndim}")
    out, dim, adv = self, 0, []  # adv: (dim, int64 index tensor) applied after basic indexing
    for k in key:
        if k is None:
            out = _core.unsqueeze(out, dim)
            dim += 1
        elif k is Ellipsis:
            dim += self.ndim - used
        elif _is_int(k) or (isinstance(k, Tensor) and k.ndim == 0 and k.dtype == _core.int64):
            if not -2**63 <= int(k) < 2**63:  # beyond int64: out of range whatever the size
                raise IndexError(f"index: index {int(k)} is out of range for dim {dim} of size {out.shape[dim]}")
            out = _core.select(out, dim, int(k))
        elif isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if step <= 0:
                raise ValueError(f"index: slice step must be positive, got {step}")
            # bounds beyond int64 clamp like any bound beyond the size (Python's slicing rule)
            start = 0 if k.start is None else min(max(int(k.start), -2**63), 2**63 - 1)
            stop = out.shape[dim] if k.stop is None else min(max(int(k.stop), -2**63), 2**63 - 1)
            out = _core.narrow_slice(out, dim, start, stop, step)
            dim += 1
        elif isinstance(k, (bool, np.bool_)) or (isinstance(k, (Tensor, np.ndarray)) and k.ndim == 0
                                                  and k.dtype in (_core.bool, np.bool_)):
            # a 0-d mask (x[True], x[x > 0] for a 0-d x) adds a dim holding x once or not at all
            out = _core.unsqueeze(out, dim)
            adv.append((dim, _core.from_numpy(np.zeros(1 if bool(k) else 0, np.int64))))
            dim += 1
        elif isinstance(k, (Tensor, np.ndarray, list, tuple)):
            idx = _as_index(k)
            if idx is None:
                for ix in _mask_indices(k, out.shape, dim):
                    adv.append((dim, ix))
                    dim += 1
            else:
                adv.append((dim, idx))
                dim += 1
        else:
            raise TypeError(f"index: only integers, slices, None, ..., lists and int64/bool tensors "
                            f"are valid indices, got {type(k).__name__}")
    return _advanced(out, adv) if adv else out


def _advanced(x, adv):
    """Applies integer-array indices (NumPy rules): their broadcast shape replaces the indexed
    dims, in place if those dims are adjacent, else at the front."""
    dims = [d for d, _ in adv]
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    if not adjacent:  # move the indexed dims to the front, as NumPy does
        rest = [d for d in range(x.ndim) if d not in dims]
        x = _core.permute(x, dims + rest)
        adv = [(i, ix) for i, (_, ix) in enumerate(adv)]
        dims = list(range(len(dims)))
    d0 = dims[0]
    sizes = [x.shape[d] for d in dims]
    shapes = [tuple(ix.shape) for _, ix in adv]
    bshape = np.broadcast_shapes(*shapes)
    linear = None
    stride = 1
    for (d, ix), n in reversed(list(zip(adv, sizes))):
        a = np.asarray(ix)
        if a.size and (a.min() < -n or a.max() >= n):
            bad = a.min() if a.min() < -n else a.max()
            raise IndexError(f"index: index {bad} is out of range for dim {d} of size {n}")
        ix = _core.from_numpy(np.ascontiguousarray(np.where(a < 0, a + n, a)))
        term = ix * stride if stride != 1 else ix
        linear = term if linear is None else term + linear
        stride *= n
    linear = _core.expand(linear, list(bshape)) if tuple(linear.shape) != bshape else linear
    flat = _core.flatten(x, d0, d0 + len(dims) - 1) if len(dims) > 1 else x
    picked = _core.index_select(flat, d0, _core.reshape(linear, [-1]))
    shape = list(x.shape[:d0]) + list(bshape) + list(x.shape[d0 + len(dims):])
    return _core.reshape(picked, shape)


def _setitem(self, key, value):
    """x[...] = value for data updates (init, masking) outside the graph: refused on tensors that
    require grad while grad mode is on, exactly like the in-place ops."""
    self._mark_written("setitem")
    if isinstance(value, Tensor) and _core._unpack_dual(value)[1] is not None:
        raise NotImplementedError("setitem: writing a dual tensor (one carrying a tangent) in place is not "
                                  "supported in forward mode (its tangent would be lost); use cr.where or cr.cat")
    base = self.detach()  # writable through NumPy even for a leaf that requires grad (checked above)
    keys = key if isinstance(key, tuple) else (key,)
    if all(k is None or k is Ellipsis or isinstance(k, slice) or _is_int(k) for k in keys):
        # Basic indexing writes into a view; as in PyTorch, not into one whose elements share memory
        target = _getitem(base, key)
        if target.numel() and any(s == 0 and n > 1 for s, n in zip(target.stride(), target.shape)):
            raise RuntimeError("setitem: unsupported operation: more than one element of the "
                               f"written-to tensor refers to a single memory location (shape "
                               f"{tuple(target.shape)}, strides {target.stride()}); clone() it first")
    view = np.asarray(base)
    if isinstance(key, Tensor):
        key = np.asarray(key.detach())
    elif isinstance(key, tuple):
        key = tuple(np.asarray(k.detach()) if isinstance(k, Tensor) else k for k in key)
    if isinstance(value, Tensor):
        value = np.asarray(value.detach())
    view[key] = value


def _format(self, spec):
    """f"{loss:.4f}" works on 0-d tensors, as in PyTorch."""
    if self.ndim == 0:
        return format(self.item(), spec)
    return object.__format__(self, spec)


def _rebuild(array, requires_grad):
    t = _core.from_numpy(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce(self):
    """Pickling (and copy.deepcopy) go through a NumPy copy of the data: a leaf's value and its
    requires_grad flag, never its graph."""
    return (_rebuild, (np.array(self.detach(), copy=True), self.requires_grad and self.is_leaf))


def _deepcopy(self, memo):
    if not self.is_leaf:
        raise RuntimeError("deepcopy: only leaf tensors (created by the user) can be deep-copied, "
                           "as in PyTorch; use .detach().clone()")
    if id(self) not in memo:  # a tensor shared inside a structure stays shared in the copy
        memo[id(self)] = _rebuild(*_reduce(self)[1])
    return memo[id(self)]


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iter: iteration over a 0-d tensor")
    return (_core.select(self, 0, i) for i in range(self.shape[0]))


# ------------------------------------------------------------------------------------------------
# Devices. chainrule has one device, the CPU; ``device=`` arguments, ``.to(device)`` and ``.cpu()``
# exist so that code written for PyTorch (``device = 'cuda' if torch.cuda.is_available() else
# 'cpu'``) runs unchanged. Any other device is refused where it is used, with one message.
# ------------------------------------------------------------------------------------------------
# The device types torch.device knows: "cuda:0" is a valid *name* (so code can build it), only
# creating or moving a tensor there fails. Anything else is an invalid device string, as in torch.
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
_DEVICE_RE = re.compile(r"([a-z]+)(?::(0|[1-9][0-9]*))?")


class DeviceError(RuntimeError, AssertionError):
    """A tensor or module asked for a device other than the CPU.

    A RuntimeError (chainrule's choice) and an AssertionError (what PyTorch's CPU-only build raises
    for 'cuda'), so code written for either catches it.
    """


def _is_torch_like_device(d):
    return hasattr(d, "type") and hasattr(d, "index") and not isinstance(d, (str, device))


class device:
    """Where a tensor lives, as ``torch.device``: ``cr.device("cpu")``, ``cr.device("cpu", 0)``.

    chainrule computes on the CPU only. Other device names (``"cuda"``, ``"cuda:0"``, ``"mps"``)
    can be written down, so portable code keeps working, but creating a tensor there or moving one
    there raises a RuntimeError. ``.type`` is the kind ("cpu"), ``.index`` the number or None.
    As in PyTorch, a device equals another device (``x.device == cr.device("cpu")``), never a
    string: compare ``x.device.type == "cpu"``.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):
        if isinstance(type, device) or _is_torch_like_device(type):
            if index is not None:
                raise TypeError(f"device(): argument 'type' must be str when an index is given, "
                                f"got {_builtin_type(type).__name__}")
            type = str(type)
        elif isinstance(type, (int, np.integer)) and not isinstance(type, (bool, np.bool_)):
            raise DeviceError(f"chainrule runs on the CPU only; got device {int(type)} (a bare index "
                              f"means an accelerator, as in 'cuda:{int(type)}'; use 'cpu')")
        elif not isinstance(type, str):
            raise TypeError(f"device(): expected a device string such as 'cpu', got "
                            f"{_builtin_type(type).__name__}")
        if index is not None and (not isinstance(index, (int, np.integer)) or
                                  isinstance(index, (bool, np.bool_))):
            raise TypeError(f"device(): argument 'index' must be int, not {_builtin_type(index).__name__}")
        if not type:
            raise RuntimeError("device(): the device string must not be empty (use 'cpu')")
        m = _DEVICE_RE.fullmatch(type)
        if m is None or m.group(1) not in _DEVICE_TYPES:
            kind = re.match(r"[a-z]*", type).group(0)
            if kind in _DEVICE_TYPES:
                raise RuntimeError(f"device(): invalid device string {type!r} (expected 'type' or "
                                   "'type:index', e.g. 'cpu' or 'cuda:0')")
            raise RuntimeError(f"device(): unknown device type in {type!r}; expected one of "
                               f"{', '.join(_DEVICE_TYPES)} (chainrule itself runs on 'cpu')")
        kind, parsed = m.group(1), m.group(2)
        if parsed is not None and index is not None:
            raise RuntimeError(f"device(): the type string {type!r} must not include an index "
                               "because index was passed explicitly")
        if index is not None and index < 0:
            raise RuntimeError(f"device(): device index must not be negative, got {index}")
        self._type = kind
        self._index = int(parsed) if parsed is not None else None if index is None else int(index)

    @property
    def type(self):
        """The device kind: 'cpu' (or 'cuda', 'mps', ... for names chainrule cannot use)."""
        return self._type

    @property
    def index(self):
        """The device number, or None when not given (``cr.device("cpu").index is None``)."""
        return self._index

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented  # as torch: device("cpu") == "cpu" is False
        return self._type == other._type and self._index == other._index

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))


_builtin_type = type  # `type` is a parameter name of device.__init__, as in torch.device
_CPU = device("cpu")


# torch's dtype names that chainrule lacks: x.to('float16') is a dtype mistake, not a device one.
_OTHER_DTYPE_NAMES = {"float16", "half", "bfloat16", "float8", "complex64", "complex128", "cfloat",
                      "cdouble", "int8", "int16", "int32", "int", "short", "uint8", "uint16", "uint32",
                      "uint64"}


def _device(d, hint="use 'cpu'", op="device"):
    """The one check behind every ``device=`` argument and ``.to(device)``: None (meaning "don't
    care") stays None, any spelling of the CPU gives that cr.device ('cpu' or 'cpu:0'), anything
    else raises."""
    if d is None:
        return None
    if _builtin_type(d) is device:
        dev = d
    elif isinstance(d, str) and isinstance(getattr(_core, d, None), _core.dtype):
        raise TypeError(f"{op}: '{d}' is a dtype name, not a device; pass the dtype itself, "
                        f"cr.{d}")
    elif isinstance(d, str) and d.lower() in _OTHER_DTYPE_NAMES:
        raise TypeError(f"{op}: '{d}' is a dtype name, not a device, and chainrule has no {d}: its "
                        "dtypes are cr.float32, cr.float64, cr.int64 and cr.bool")
    elif isinstance(d, str) or isinstance(d, device) or _is_torch_like_device(d):
        dev = device(str(d))  # torch.device objects too, duck-typed through their name
    elif isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)):
        raise DeviceError(f"chainrule runs on the CPU only; got device {int(d)} (a bare index means "
                          f"an accelerator, as in 'cuda:{int(d)}'; {hint})")
    else:
        raise TypeError(f"device: expected a device such as 'cpu' or cr.device('cpu'), got "
                        f"{_builtin_type(d).__name__}")
    if dev._type != "cpu":
        raise DeviceError(f"chainrule runs on the CPU only; got device '{dev}' ({hint})")
    return dev


_cpp_to = _core.Tensor.to  # dtype conversion, in C++ (differentiable between float dtypes)


def _flags(rest, kwargs, names, op):
    """Positional flags after the device/dtype/tensor argument, then keyword ones, as bools."""
    if len(rest) > len(names):
        raise TypeError(f"{op}: takes at most {len(names)} flag(s) ({', '.join(names)}) after the "
                        f"device/dtype, got {len(rest)} more positional arguments")
    values = dict(zip(names, rest))
    for name in names:
        if name in kwargs:
            if name in values:
                raise TypeError(f"{op}: got multiple values for argument '{name}'")
            values[name] = kwargs.pop(name)
    for name, v in values.items():
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{op}: argument '{name}' must be bool, not {_builtin_type(v).__name__}")
    return [bool(values.get(name, False)) for name in names]


def _parse_to(args, kwargs, op, flags):
    """torch's .to() overloads: (device=None, dtype=None, *flags), (dtype, *flags) or
    (tensor, *flags), with device=, dtype= and the flags as keywords. Returns
    (device or None, dtype or None, flag values)."""
    kwargs = dict(kwargs)
    unknown = set(kwargs) - {"device", "dtype", *flags}
    if unknown:
        raise TypeError(f"{op}: unexpected keyword argument '{sorted(unknown)[0]}' (expected device=, "
                        f"dtype={''.join(', ' + f + '=' for f in flags)})")
    given = {k: kwargs.pop(k) for k in ("device", "dtype") if k in kwargs}
    dev, dtype, rest = given.get("device"), given.get("dtype"), args
    if args and isinstance(args[0], (Tensor, _core.dtype)):
        if given:
            raise TypeError(f"{op}: with a {'tensor' if isinstance(args[0], Tensor) else 'dtype'} as "
                            f"first argument, don't also pass {' or '.join(k + '=' for k in given)} "
                            f"(write {op[:-2]}(device, dtype))")
        if isinstance(args[0], Tensor):
            dev, dtype = _CPU, args[0].dtype
        else:
            dtype = args[0]
        rest = args[1:]
    elif args:
        d = args[0]
        if not (d is None or isinstance(d, (str, device, int, np.integer)) or _is_torch_like_device(d)) \
                or isinstance(d, (bool, np.bool_)):
            raise TypeError(f"{op}: expected a device ('cpu'), a dtype (cr.float64) or a tensor as "
                            f"first argument, got {_builtin_type(d).__name__}")
        if "device" in given:
            raise TypeError(f"{op}: got multiple values for argument 'device'")
        dev, rest = d, args[1:]
        if rest:
            if rest[0] is not None and not isinstance(rest[0], _core.dtype):
                raise TypeError(f"{op}: the argument after the device must be a dtype (cr.float64) "
                                f"or None, got {_builtin_type(rest[0]).__name__}")
            if "dtype" in given:
                raise TypeError(f"{op}: got multiple values for argument 'dtype'")
            dtype, rest = rest[0], rest[1:]
    if dtype is not None and not isinstance(dtype, _core.dtype):
        raise TypeError(f"{op}: dtype must be a chainrule dtype (cr.float32, ...), got {dtype!r}")
    return dev, dtype, _flags(rest, kwargs, flags, op)


def _to(self, *args, **kwargs):
    """This tensor on a device and/or with a dtype, as ``torch.Tensor.to``.

    ``x.to('cpu')``, ``x.to(device)``, ``x.to(cr.float64)``, ``x.to('cpu', cr.float64)``,
    ``x.to(other)`` (other's dtype), keywords ``device=``, ``dtype=``, ``non_blocking=``, ``copy=``.
    Returns ``self`` when nothing changes (unless ``copy=True``); dtype conversions are
    differentiable between float dtypes. chainrule runs on the CPU only: any other device raises.
    """
    dev, dtype, (_non_blocking, copy) = _parse_to(args, kwargs, "to()", ("non_blocking", "copy"))
    dev = _device(dev, "remove .to(device) or use 'cpu'", "to()")
    if dtype is not None and dtype != self.dtype:
        return _cpp_to(self, dtype)
    # torch compares devices literally: 'cpu:0' is not the tensor's device(type='cpu'), so it copies
    return self.clone() if copy or (dev is not None and dev.index is not None) else self


def _cpu(self):
    """This tensor on the CPU: chainrule's tensors always are, so this returns ``self``, as
    PyTorch does for a tensor already on the CPU."""
    return self


def _cuda(self, device=None, non_blocking=False):
    """Always raises: chainrule runs on the CPU only (write ``.to(device)`` with
    ``device = 'cuda' if cr.cuda.is_available() else 'cpu'`` for code that runs on both)."""
    _refuse_cuda(device)


def _refuse_cuda(index):
    """The error of ``tensor.cuda()`` and ``model.cuda()``, naming the device asked for."""
    name = "cuda" if index is None else f"cuda:{index}" if isinstance(index, int) else str(index)
    raise DeviceError(f"chainrule runs on the CPU only; got device '{name}' (remove .cuda() or use "
                      ".cpu())")


def _get_device(self):
    """-1, PyTorch's device ordinal for a CPU tensor."""
    return -1


# ------------------------------------------------------------------------------------------------
# Tensor conveniences from PyTorch tutorials: shapes and dtypes taken from another tensor.
# ------------------------------------------------------------------------------------------------
def _expand_as(self, other):
    """self broadcast to other's shape (a view, as torch's expand_as)."""
    return _core.expand(self, list(other.shape))


def _view_as(self, other):
    """self viewed with other's shape (raises where view() would)."""
    return self.view(*other.shape)


def _reshape_as(self, other):
    """self reshaped to other's shape (a view when possible)."""
    return self.reshape(*other.shape)


def _new(fill):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        import chainrule as cr
        return getattr(cr, fill)(*size, dtype=self.dtype if dtype is None else dtype, device=device,
                                 requires_grad=requires_grad)
    new.__name__ = f"new_{fill}"
    new.__doc__ = f"A new tensor of {fill} with the given size, in this tensor's dtype (unless dtype=)."
    return new


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """A new tensor of the given size filled with fill_value, in this tensor's dtype (unless dtype=)."""
    import chainrule as cr
    return cr.full(size, fill_value, dtype=self.dtype if dtype is None else dtype, device=device,
                   requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new tensor (a copy) of data, in this tensor's dtype (unless dtype=)."""
    import chainrule as cr
    return cr.tensor(data, dtype=self.dtype if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)


def _type(self, dtype=None):
    """Without an argument, the type's name ('torch.FloatTensor' style: 'chainrule.FloatTensor');
    with a dtype, the tensor converted to it (as .to(dtype))."""
    if dtype is None:
        return {"float32": "chainrule.FloatTensor", "float64": "chainrule.DoubleTensor",
                "int64": "chainrule.LongTensor", "bool": "chainrule.BoolTensor"}[str(self.dtype).split(".")[1]]
    return self.to(dtype)


def _get_data(self):
    """The tensor's data without its history: shares memory, requires_grad False (as torch's .data;
    prefer .detach() in new code, and updates under ``with cr.no_grad():``)."""
    return self.detach()


def _set_data(self, value):
    """``x.data = y``: x now shows y's data (shared, any shape or dtype) and keeps its identity,
    requires_grad and grad, as in torch."""
    if not isinstance(value, Tensor):
        raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
    self._set_data(value)


def _int(self, memory_format=None):
    """Converts to chainrule's integer dtype, int64 (truncating toward zero), like ``.long()``.

    torch's ``.int()`` gives int32, which chainrule doesn't have: the values are the same (for
    values that fit in int32; beyond that torch wraps around and chainrule doesn't), only
    ``.dtype`` says cr.int64. ``(pred == y).int().sum()`` counts as in torch.
    """
    return self.long()


def install(cls, max, min):
    cls.numpy = _numpy
    cls.tolist = _tolist
    cls.__getitem__ = _getitem
    cls.__setitem__ = _setitem
    cls.__iter__ = _iter
    cls.__format__ = _format
    cls.__reduce__ = _reduce
    cls.__deepcopy__ = _deepcopy
    cls.__array_priority__ = 1000  # NumPy defers to our reflected operators
    cls.max = max
    cls.min = min
    cls.to = _to
    cls.expand_as, cls.view_as, cls.reshape_as = _expand_as, _view_as, _reshape_as
    cls.new_zeros, cls.new_ones, cls.new_empty = _new("zeros"), _new("ones"), _new("empty")
    cls.new_full, cls.new_tensor, cls.type = _new_full, _new_tensor, _type
    cls.data = property(_get_data, _set_data)
    cls.cpu = _cpu
    cls.cuda = _cuda
    cls.get_device = _get_device
    cls.device = property(lambda self: _CPU, doc="Where the tensor lives: always cr.device('cpu').")
    cls.is_cpu = property(lambda self: True, doc="True: chainrule's tensors live on the CPU.")
    cls.is_cuda = property(lambda self: False, doc="False: chainrule has no GPU support.")
    cls.int = _int  # tapi: refuses (no int32), see _int
