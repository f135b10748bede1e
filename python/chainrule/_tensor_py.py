"""Tensor methods written in Python: NumPy conversion, indexing (reading and writing), max/min."""
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
        if k is None or k is Ellipsis:
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
            out = _core.select(out, dim, int(k))
        elif isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if step <= 0:
                raise ValueError(f"index: slice step must be positive, got {step}")
            start = 0 if k.start is None else int(k.start)
            stop = out.shape[dim] if k.stop is None else int(k.stop)
            out = _core.narrow_slice(out, dim, start, stop, step)
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
