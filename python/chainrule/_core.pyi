"""
chainrule's C++ core: tensors, ops and reverse-mode autograd.
"""
from __future__ import annotations
import builtins
import collections.abc
import numpy
import typing
import typing_extensions
__all__: list[str] = ['Node', 'Tensor', 'abs', 'add', 'amax', 'amin', 'argmax', 'argmin', 'bool', 'broadcast_to', 'cat', 'chunk', 'clamp', 'cos', 'div', 'double', 'dtype', 'eq', 'exp', 'expand', 'flatten', 'float', 'float32', 'float64', 'from_dlpack', 'from_numpy', 'gather', 'ge', 'gt', 'index_add', 'index_select', 'int64', 'is_grad_enabled', 'le', 'leaky_relu', 'linear', 'log', 'log_softmax', 'logical_and', 'logical_not', 'logical_or', 'logsumexp', 'long', 'lt', 'manual_seed', 'matmul', 'maximum', 'mean', 'minimum', 'mm', 'mul', 'narrow_slice', 'ne', 'neg', 'one_hot', 'permute', 'pow', 'randperm', 'reciprocal', 'relu', 'reshape', 'scatter_add', 'select', 'sigmoid', 'sign', 'sin', 'softmax', 'softplus', 'split', 'sqrt', 'squeeze', 'stack', 'sub', 'sum', 'sum_to', 'tanh', 'transpose', 'unsqueeze', 'var', 'where']
class dtype:
    """
    A tensor's element type: float32 (default), float64, int64, bool.
    
    Members:
    
      bool
    
      int64
    
      float32
    
      float64
    """
    __members__: typing.ClassVar[dict[str, dtype]]
    bool: typing.ClassVar[dtype]
    float32: typing.ClassVar[dtype]
    float64: typing.ClassVar[dtype]
    int64: typing.ClassVar[dtype]
    @typing.overload
    def __eq__(self: dtype, other: dtype) -> builtins.bool:
        ...
    @typing.overload
    def __eq__(self: dtype, other: typing.Any) -> builtins.bool:
        ...
    def __getstate__(self) -> builtins.int:
        ...
    def __hash__(self) -> builtins.int:
        ...
    def __index__(self: dtype) -> builtins.int:
        ...
    def __init__(self: dtype, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self: dtype) -> builtins.int:
        ...
    @typing.overload
    def __ne__(self: dtype, other: dtype) -> builtins.bool:
        ...
    @typing.overload
    def __ne__(self: dtype, other: typing.Any) -> builtins.bool:
        ...
    @typing.overload
    def __repr__(self: dtype) -> str:
        ...
    @typing.overload
    def __repr__(self) -> str:
        ...
    def __setstate__(self: dtype, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @typing.overload
    def __str__(self: dtype) -> str:
        ...
    @typing.overload
    def __str__(self) -> str:
        ...
    @property
    def is_floating_point(self) -> builtins.bool:
        ...
    @property
    def itemsize(self) -> builtins.int:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> builtins.int:
        ...
class Node:
    """
    A node of the autograd graph (a tensor's grad_fn).
    """
    def __repr__(self) -> str:
        ...
    def name(self) -> str:
        """
        The node's name, e.g. 'MulBackward0'.
        """
    @property
    def next_functions(self) -> tuple:
        """
        The nodes that produced this node's inputs (None for leaves and constants).
        """
class Tensor:
    """
    An n-dimensional array that records the operations applied to it, so that gradients can be
    computed by reverse-mode differentiation (``backward``). Create tensors with ``chainrule.tensor``,
    ``zeros``, ``randn`` ...; NumPy sees a tensor's memory without copying (``np.asarray(t)``).
    """
    __array_priority__: typing.ClassVar[int] = 1000
    @staticmethod
    def max(input, dim = None, keepdim = False):
        """
        The largest element; or, with ``dim``, a (values, indices) pair along it; or, with a tensor
            as second argument, the elementwise maximum. The gradient goes to the chosen elements.
        """
    @staticmethod
    def min(input, dim = None, keepdim = False):
        """
        The smallest element; or, with ``dim``, a (values, indices) pair; or the elementwise minimum.
        """
    def __abs__(self) -> Tensor:
        ...
    def __add__(self, arg0: typing.Any) -> Tensor:
        ...
    def __and__(self, arg0: Tensor) -> Tensor:
        ...
    def __bool__(self) -> builtins.bool:
        ...
    def __deepcopy__(self, memo):
        ...
    def __dlpack__(self, *, stream: typing.Any = None, max_version: typing.Any = None, dl_device: typing.Any = None, copy: typing.Any = None) -> typing_extensions.CapsuleType:
        """
        Exports the tensor's memory as a DLPack capsule (no copy unless copy=True).
        """
    def __dlpack_device__(self) -> tuple[builtins.int, builtins.int]:
        ...
    def __eq__(self, arg0: typing.Any) -> Tensor:
        ...
    def __float__(self) -> builtins.float:
        ...
    def __format__(self, spec):
        """
        f"{loss:.4f}" works on 0-d tensors, as in PyTorch.
        """
    def __ge__(self, arg0: typing.Any) -> Tensor:
        ...
    def __getitem__(self, key):
        """
        x[...] with ints, slices, None, ..., lists, and int64/bool tensors (gradients flow).
        """
    def __gt__(self, arg0: typing.Any) -> Tensor:
        ...
    def __hash__(self) -> builtins.int:
        ...
    def __iadd__(self, arg0: typing.Any) -> Tensor:
        ...
    def __imul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __index__(self) -> builtins.int:
        ...
    def __int__(self) -> builtins.int:
        ...
    def __invert__(self) -> Tensor:
        ...
    def __isub__(self, arg0: typing.Any) -> Tensor:
        ...
    def __iter__(self):
        ...
    def __itruediv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __le__(self, arg0: typing.Any) -> Tensor:
        ...
    def __len__(self) -> builtins.int:
        ...
    def __lt__(self, arg0: typing.Any) -> Tensor:
        ...
    def __matmul__(self, arg0: Tensor) -> Tensor:
        ...
    def __mul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __ne__(self, arg0: typing.Any) -> Tensor:
        ...
    def __neg__(self) -> Tensor:
        ...
    def __or__(self, arg0: Tensor) -> Tensor:
        ...
    def __pow__(self, arg0: typing.Any) -> Tensor:
        ...
    def __radd__(self, arg0: typing.Any) -> Tensor:
        ...
    def __reduce__(self):
        """
        Pickling (and copy.deepcopy) go through a NumPy copy of the data: a leaf's value and its
            requires_grad flag, never its graph.
        """
    def __repr__(self) -> str:
        ...
    def __rmul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rpow__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rsub__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rtruediv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __setitem__(self, key, value):
        """
        x[...] = value for data updates (init, masking) outside the graph: refused on tensors that
            require grad while grad mode is on, exactly like the in-place ops.
        """
    def __sub__(self, arg0: typing.Any) -> Tensor:
        ...
    def __truediv__(self, arg0: typing.Any) -> Tensor:
        ...
    def _mark_written(self, arg0: str) -> None:
        ...
    def abs(self) -> Tensor:
        """
        |x| elementwise. Its derivative is sign(x) (0 at 0).
        """
    def add(self, other: typing.Any) -> Tensor:
        """
        input + other, broadcasting. Example: cr.add(x, 1).
        """
    def add_(self, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
        """
        self += alpha * other, in place.
        """
    def amax(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        Max over dims; tied maxima share the gradient evenly.
        """
    def amin(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        Min over dims; tied minima share the gradient evenly.
        """
    def argmax(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        Index of the max (int64): of the flattened tensor, or along dim. The first one wins ties.
        """
    def argmin(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        Index of the min (int64): of the flattened tensor, or along dim. The first one wins ties.
        """
    def backward(self, gradient: typing.Any = None, retain_graph: typing.Any = None, create_graph: builtins.bool = False) -> None:
        """
        Computes the gradient of this tensor with respect to every leaf that requires grad, accumulating
        (+=) into their ``.grad``. A scalar tensor needs no ``gradient``; otherwise pass one of its shape.
        ``retain_graph=True`` keeps the graph for a second backward; ``create_graph=True`` records the
        backward itself, so gradients can be differentiated again (second derivatives, Hessians).
        """
    def bool(self) -> Tensor:
        """
        Converts to bool.
        """
    def broadcast_to(self, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Broadcasts to shape (the gradient is summed back).
        """
    def chunk(self, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        Splits into `chunks` nearly equal pieces.
        """
    def clamp(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        Limits values to [min, max]. The gradient is 1 inside, 0 outside.
        """
    def clone(self) -> Tensor:
        """
        A differentiable copy with its own memory.
        """
    def contiguous(self) -> Tensor:
        """
        Returns self: chainrule tensors are always contiguous.
        """
    def copy_(self, arg0: Tensor) -> Tensor:
        """
        Copies src (broadcast to this shape) into this tensor, in place.
        """
    def cos(self) -> Tensor:
        """
        cos x elementwise. d/dx cos x = -sin x.
        """
    def data_ptr(self) -> builtins.int:
        """
        The address of the first element (shared with NumPy / DLPack views).
        """
    def detach(self) -> Tensor:
        """
        A tensor sharing this one's memory, without history.
        """
    def dim(self) -> builtins.int:
        """
        The number of dims.
        """
    def div(self, other: typing.Any) -> Tensor:
        """
        input / other (true division), broadcasting.
        """
    def div_(self, arg0: typing.Any) -> Tensor:
        """
        self /= other, in place.
        """
    def double(self) -> Tensor:
        """
        Converts to float64.
        """
    def eq(self, other: typing.Any) -> Tensor:
        """
        input == other elementwise -> bool tensor.
        """
    def exp(self) -> Tensor:
        """
        e^x elementwise. d/dx e^x = e^x. Example: cr.exp(cr.tensor([0., 1.])) -> [1.0000, 2.7183].
        """
    @typing.overload
    def expand(self, size: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Broadcasts to size (-1 keeps a dim, new dims may be prepended); the gradient is summed back.
        """
    @typing.overload
    def expand(self, *args) -> Tensor:
        """
        Broadcasts to the given sizes (-1 keeps a dim).
        """
    def fill_(self, arg0: typing.Any) -> Tensor:
        """
        Fills with a value, in place.
        """
    def flatten(self, start_dim: typing.SupportsInt | typing.SupportsIndex = 0, end_dim: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
        """
        Merges dims start_dim..end_dim into one.
        """
    def float(self) -> Tensor:
        """
        Converts to float32.
        """
    def gather(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
        """
        out[i][j] = input[i][index[i][j]] (dim=1); e.g. the score of each sample's class.
        """
    def ge(self, other: typing.Any) -> Tensor:
        """
        input >= other elementwise -> bool tensor.
        """
    def gt(self, other: typing.Any) -> Tensor:
        """
        input > other elementwise -> bool tensor.
        """
    def index_add(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, source: Tensor) -> Tensor:
        """
        A copy of input with source's slices added at the indices along dim.
        """
    def index_select(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
        """
        Picks the entries of a 1-D int64 index along dim.
        """
    def is_floating_point(self) -> builtins.bool:
        """
        True for float32 and float64 tensors.
        """
    def item(self) -> typing.Any:
        """
        The value of a one-element tensor as a Python number.
        """
    def le(self, other: typing.Any) -> Tensor:
        """
        input <= other elementwise -> bool tensor.
        """
    def leaky_relu(self, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01) -> Tensor:
        """
        x where x > 0, else negative_slope * x.
        """
    def linear(self, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        """
        x @ weight.T + bias; x (..., in), weight (out, in), bias (out,).
        """
    def log(self) -> Tensor:
        """
        Natural log elementwise. d/dx ln x = 1/x.
        """
    def log_softmax(self, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        x - logsumexp(x) along dim, computed stably.
        """
    def logical_and(self, other: Tensor) -> Tensor:
        """
        Elementwise and -> bool tensor.
        """
    def logical_not(self) -> Tensor:
        """
        Elementwise not; returns a bool tensor.
        """
    def logical_or(self, other: Tensor) -> Tensor:
        """
        Elementwise or -> bool tensor.
        """
    def logsumexp(self, dim: typing.Any, keepdim: builtins.bool = False) -> Tensor:
        """
        log(sum(exp(x))) over dim, computed stably (logits of 1e4 are fine).
        """
    def long(self) -> Tensor:
        """
        Converts to int64.
        """
    def lt(self, other: typing.Any) -> Tensor:
        """
        input < other elementwise -> bool tensor.
        """
    def matmul(self, other: Tensor) -> Tensor:
        """
        Matrix product with PyTorch's rules: (k,)@(k,) -> (), (n,k)@(k,) -> (n,), (n,k)@(k,m) -> (n,m),
        and batched (..., n, k) @ (..., k, m) with broadcast batch dims. Same as ``a @ b``.
        """
    def maximum(self, other: Tensor) -> Tensor:
        """
        Elementwise max of two tensors (ties split the gradient evenly).
        """
    def mean(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        Mean over dim (int, tuple, or None for all). Floating tensors only.
        """
    def minimum(self, other: Tensor) -> Tensor:
        """
        Elementwise min of two tensors (ties split the gradient evenly).
        """
    def mm(self, mat2: Tensor) -> Tensor:
        """
        (n,k) @ (k,m) -> (n,m), 2-D only.
        """
    def mul(self, other: typing.Any) -> Tensor:
        """
        input * other (elementwise), broadcasting.
        """
    def mul_(self, arg0: typing.Any) -> Tensor:
        """
        self *= other, in place.
        """
    def narrow_slice(self, dim: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, stop: typing.SupportsInt | typing.SupportsIndex, step: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
        """
        x[start:stop:step] along dim (Python slice semantics).
        """
    def ne(self, other: typing.Any) -> Tensor:
        """
        input != other elementwise -> bool tensor.
        """
    def neg(self) -> Tensor:
        """
        -input.
        """
    def normal_(self, mean: typing.SupportsFloat | typing.SupportsIndex = 0.0, std: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        Fills with samples of N(mean, std^2), in place.
        """
    def numel(self) -> builtins.int:
        """
        The number of elements.
        """
    def numpy(self):
        """
        The tensor's data as a NumPy array that shares its memory (no copy).
        """
    @typing.overload
    def permute(self, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Reorders the dims: permute(x, (2, 0, 1)).
        """
    @typing.overload
    def permute(self, *args) -> Tensor:
        """
        Reorders the dims: x.permute(2, 0, 1).
        """
    def pow(self, exponent: typing.Any) -> Tensor:
        """
        input ** exponent elementwise; either may be a number. d/dx x^p = p x^(p-1).
        """
    def reciprocal(self) -> Tensor:
        """
        1 / input. d/dx = -1/x^2.
        """
    def relu(self) -> Tensor:
        """
        max(x, 0) elementwise. Its derivative is 1 where x > 0, else 0.
        """
    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        """
        Sets requires_grad in place and returns the tensor.
        """
    @typing.overload
    def reshape(self, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Same data with a new shape (one dim may be -1). Shares memory.
        """
    @typing.overload
    def reshape(self, *args) -> Tensor:
        """
        Same data with a new shape, given as ints or a tuple (one may be -1). Shares memory.
        """
    def retain_grad(self) -> None:
        """
        Keep .grad for this non-leaf tensor on backward.
        """
    def scatter_add(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> Tensor:
        """
        A copy of input with src added at the positions index gives along dim (the inverse of gather).
        """
    def select(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        x[index] along dim (removes dim).
        """
    def sigmoid(self) -> Tensor:
        """
        1 / (1 + e^-x) elementwise. d/dx = s(x)(1 - s(x)).
        """
    def sign(self) -> Tensor:
        """
        -1, 0 or 1 elementwise (not differentiable: no gradient flows).
        """
    def sin(self) -> Tensor:
        """
        sin x elementwise. d/dx sin x = cos x.
        """
    def size(self, dim: typing.Any = None) -> typing.Any:
        """
        The shape (a tuple), or the size of one dim.
        """
    def softmax(self, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        exp(x) / sum(exp(x)) along dim, computed stably. Example: cr.softmax(logits, dim=-1).
        """
    def softplus(self, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
        """
        log(1 + e^(beta x)) / beta (x itself where beta x > threshold). Its derivative is sigmoid(beta x).
        """
    def split(self, split_size_or_sections: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        Splits into chunks of a given size (the last may be smaller) or of the given sizes.
        """
    def sqrt(self) -> Tensor:
        """
        Square root elementwise. d/dx sqrt(x) = 1/(2 sqrt(x)).
        """
    def squeeze(self, dim: typing.Any = None) -> Tensor:
        """
        Removes dims of size 1 (all, or just dim).
        """
    def sub(self, other: typing.Any) -> Tensor:
        """
        input - other, broadcasting.
        """
    def sub_(self, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
        """
        self -= alpha * other, in place.
        """
    def sum(self, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        Sum over dim (int, tuple, or None for all). Example: x.sum(dim=1, keepdim=True).
        """
    def sum_to(self, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Sums a broadcast tensor back down to shape.
        """
    def t(self) -> Tensor:
        """
        Transpose of a 2-D tensor.
        """
    def tanh(self) -> Tensor:
        """
        tanh x elementwise. d/dx tanh x = 1 - tanh(x)^2.
        """
    def to(self, dtype: dtype) -> Tensor:
        """
        This tensor converted to dtype (differentiable between float dtypes).
        """
    def tolist(self):
        """
        The data as (nested lists of) Python numbers.
        """
    def transpose(self, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        Swaps two dims.
        """
    def uniform_(self, a: typing.SupportsFloat | typing.SupportsIndex = 0.0, b: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
        """
        Fills with samples of U[a, b), in place.
        """
    def unsqueeze(self, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        Inserts a dim of size 1 at dim.
        """
    def var(self, dim: typing.Any = None, unbiased: typing.Any = None, *, correction: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        Variance: sum((x - mean)^2) / (N - correction); correction=1 (default) is the unbiased estimate.
        """
    def view(self, *args) -> Tensor:
        """
        Same as reshape (chainrule tensors are always contiguous).
        """
    def zero_(self) -> Tensor:
        """
        Fills with zeros, in place.
        """
    @property
    def T(self) -> Tensor:
        """
        The tensor with its dims reversed (the transpose, for a matrix).
        """
    @property
    def _version(self) -> builtins.int:
        ...
    @property
    def dtype(self) -> dtype:
        """
        The element type.
        """
    @property
    def grad(self) -> typing.Any:
        """
        The accumulated gradient (None until a backward reaches this tensor). Set to None to reset.
        """
    @grad.setter
    def grad(self, arg1: typing.Any) -> None:
        ...
    @property
    def grad_fn(self) -> typing.Any:
        """
        The autograd node that produced this tensor (None for leaves).
        """
    @property
    def is_leaf(self) -> builtins.bool:
        """
        True for tensors created by the user (not by an op that tracked grad).
        """
    @property
    def ndim(self) -> builtins.int:
        """
        The number of dims.
        """
    @property
    def requires_grad(self) -> builtins.bool:
        """
        Whether gradients are computed for this tensor (settable on leaves).
        """
    @requires_grad.setter
    def requires_grad(self, arg1: builtins.bool) -> None:
        ...
    @property
    def shape(self) -> tuple:
        """
        The size of each dim, as a tuple.
        """
def _arange(arg0: typing.SupportsFloat | typing.SupportsIndex, arg1: typing.SupportsFloat | typing.SupportsIndex, arg2: typing.SupportsFloat | typing.SupportsIndex, arg3: dtype) -> Tensor:
    ...
def _autograd_backward(arg0: collections.abc.Sequence[Tensor], arg1: collections.abc.Sequence[Tensor | None], arg2: builtins.bool, arg3: builtins.bool) -> None:
    ...
def _autograd_grad(arg0: collections.abc.Sequence[Tensor], arg1: collections.abc.Sequence[Tensor], arg2: collections.abc.Sequence[Tensor | None], arg3: builtins.bool, arg4: builtins.bool, arg5: builtins.bool) -> tuple:
    ...
def _empty(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _eye(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: dtype) -> Tensor:
    ...
def _full(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: typing.Any, arg2: dtype) -> Tensor:
    ...
def _gradcheck(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: typing.SupportsFloat | typing.SupportsIndex, arg3: typing.SupportsFloat | typing.SupportsIndex, arg4: typing.SupportsFloat | typing.SupportsIndex) -> tuple[builtins.bool, str]:
    ...
def _gradgradcheck(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: typing.SupportsFloat | typing.SupportsIndex, arg3: typing.SupportsFloat | typing.SupportsIndex, arg4: typing.SupportsFloat | typing.SupportsIndex) -> tuple[builtins.bool, str]:
    ...
def _linspace(arg0: typing.SupportsFloat | typing.SupportsIndex, arg1: typing.SupportsFloat | typing.SupportsIndex, arg2: typing.SupportsInt | typing.SupportsIndex, arg3: dtype) -> Tensor:
    ...
def _max_dim(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: builtins.bool) -> tuple[Tensor, Tensor]:
    ...
def _min_dim(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: builtins.bool) -> tuple[Tensor, Tensor]:
    ...
def _ones(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _rand(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _randint(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def _randn(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _set_grad_enabled(arg0: builtins.bool) -> None:
    ...
def _shape_helper(*args) -> list[builtins.int]:
    ...
def _zeros(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def abs(input: Tensor) -> Tensor:
    """
    |x| elementwise. Its derivative is sign(x) (0 at 0).
    """
def add(input: Tensor, other: typing.Any) -> Tensor:
    """
    input + other, broadcasting. Example: cr.add(x, 1).
    """
def amax(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    Max over dims; tied maxima share the gradient evenly.
    """
def amin(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    Min over dims; tied minima share the gradient evenly.
    """
def argmax(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    Index of the max (int64): of the flattened tensor, or along dim. The first one wins ties.
    """
def argmin(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    Index of the min (int64): of the flattened tensor, or along dim. The first one wins ties.
    """
def broadcast_to(input: Tensor, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Broadcasts to shape (the gradient is summed back).
    """
def cat(tensors: collections.abc.Sequence[Tensor], dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Concatenates tensors along an existing dim.
    """
def chunk(input: Tensor, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    Splits into `chunks` nearly equal pieces.
    """
def clamp(input: Tensor, min: typing.Any = None, max: typing.Any = None) -> Tensor:
    """
    Limits values to [min, max]. The gradient is 1 inside, 0 outside.
    """
def cos(input: Tensor) -> Tensor:
    """
    cos x elementwise. d/dx cos x = -sin x.
    """
def div(input: Tensor, other: typing.Any) -> Tensor:
    """
    input / other (true division), broadcasting.
    """
def eq(input: Tensor, other: typing.Any) -> Tensor:
    """
    input == other elementwise -> bool tensor.
    """
def exp(input: Tensor) -> Tensor:
    """
    e^x elementwise. d/dx e^x = e^x. Example: cr.exp(cr.tensor([0., 1.])) -> [1.0000, 2.7183].
    """
def expand(input: Tensor, size: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Broadcasts to size (-1 keeps a dim, new dims may be prepended); the gradient is summed back.
    """
def flatten(input: Tensor, start_dim: typing.SupportsInt | typing.SupportsIndex = 0, end_dim: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
    """
    Merges dims start_dim..end_dim into one.
    """
def from_dlpack(ext_tensor: typing.Any) -> Tensor:
    """
    A tensor sharing memory with any CPU object that supports DLPack (torch tensors, NumPy arrays).
    """
def from_numpy(array: numpy.ndarray) -> Tensor:
    """
    A tensor sharing memory with a C-contiguous float32/float64/int64/bool NumPy array.
    """
def gather(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
    """
    out[i][j] = input[i][index[i][j]] (dim=1); e.g. the score of each sample's class.
    """
def ge(input: Tensor, other: typing.Any) -> Tensor:
    """
    input >= other elementwise -> bool tensor.
    """
def gt(input: Tensor, other: typing.Any) -> Tensor:
    """
    input > other elementwise -> bool tensor.
    """
def index_add(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, source: Tensor) -> Tensor:
    """
    A copy of input with source's slices added at the indices along dim.
    """
def index_select(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
    """
    Picks the entries of a 1-D int64 index along dim.
    """
def is_grad_enabled() -> builtins.bool:
    """
    Whether ops record the graph (False inside no_grad).
    """
def le(input: Tensor, other: typing.Any) -> Tensor:
    """
    input <= other elementwise -> bool tensor.
    """
def leaky_relu(input: Tensor, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01) -> Tensor:
    """
    x where x > 0, else negative_slope * x.
    """
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """
    x @ weight.T + bias; x (..., in), weight (out, in), bias (out,).
    """
def log(input: Tensor) -> Tensor:
    """
    Natural log elementwise. d/dx ln x = 1/x.
    """
def log_softmax(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    x - logsumexp(x) along dim, computed stably.
    """
def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """
    Elementwise and -> bool tensor.
    """
def logical_not(input: Tensor) -> Tensor:
    """
    Elementwise not; returns a bool tensor.
    """
def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """
    Elementwise or -> bool tensor.
    """
def logsumexp(input: Tensor, dim: typing.Any, keepdim: builtins.bool = False) -> Tensor:
    """
    log(sum(exp(x))) over dim, computed stably (logits of 1e4 are fine).
    """
def lt(input: Tensor, other: typing.Any) -> Tensor:
    """
    input < other elementwise -> bool tensor.
    """
def manual_seed(seed: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Seeds the random number generator: the same seed gives the same numbers on every machine.
    """
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """
    Matrix product with PyTorch's rules: (k,)@(k,) -> (), (n,k)@(k,) -> (n,), (n,k)@(k,m) -> (n,m),
    and batched (..., n, k) @ (..., k, m) with broadcast batch dims. Same as ``a @ b``.
    """
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """
    Elementwise max of two tensors (ties split the gradient evenly).
    """
def mean(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    Mean over dim (int, tuple, or None for all). Floating tensors only.
    """
def minimum(input: Tensor, other: Tensor) -> Tensor:
    """
    Elementwise min of two tensors (ties split the gradient evenly).
    """
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """
    (n,k) @ (k,m) -> (n,m), 2-D only.
    """
def mul(input: Tensor, other: typing.Any) -> Tensor:
    """
    input * other (elementwise), broadcasting.
    """
def narrow_slice(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, stop: typing.SupportsInt | typing.SupportsIndex, step: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
    """
    x[start:stop:step] along dim (Python slice semantics).
    """
def ne(input: Tensor, other: typing.Any) -> Tensor:
    """
    input != other elementwise -> bool tensor.
    """
def neg(input: Tensor) -> Tensor:
    """
    -input.
    """
def one_hot(tensor: Tensor, num_classes: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
    """
    int64 labels (...) -> int64 (..., num_classes) with a 1 at each label.
    """
def permute(input: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Reorders the dims: permute(x, (2, 0, 1)).
    """
def pow(input: typing.Any, exponent: typing.Any) -> Tensor:
    """
    input ** exponent elementwise; either may be a number. d/dx x^p = p x^(p-1).
    """
def randperm(n: typing.SupportsInt | typing.SupportsIndex, *, seed: typing.Any = None) -> Tensor:
    """
    A random permutation of 0..n-1 (int64). A seed gives its own reproducible order.
    """
def reciprocal(input: Tensor) -> Tensor:
    """
    1 / input. d/dx = -1/x^2.
    """
def relu(input: Tensor) -> Tensor:
    """
    max(x, 0) elementwise. Its derivative is 1 where x > 0, else 0.
    """
def reshape(input: Tensor, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Same data with a new shape (one dim may be -1). Shares memory.
    """
def scatter_add(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> Tensor:
    """
    A copy of input with src added at the positions index gives along dim (the inverse of gather).
    """
def select(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    x[index] along dim (removes dim).
    """
def sigmoid(input: Tensor) -> Tensor:
    """
    1 / (1 + e^-x) elementwise. d/dx = s(x)(1 - s(x)).
    """
def sign(input: Tensor) -> Tensor:
    """
    -1, 0 or 1 elementwise (not differentiable: no gradient flows).
    """
def sin(input: Tensor) -> Tensor:
    """
    sin x elementwise. d/dx sin x = cos x.
    """
def softmax(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    exp(x) / sum(exp(x)) along dim, computed stably. Example: cr.softmax(logits, dim=-1).
    """
def softplus(input: Tensor, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
    """
    log(1 + e^(beta x)) / beta (x itself where beta x > threshold). Its derivative is sigmoid(beta x).
    """
def split(input: Tensor, split_size_or_sections: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    Splits into chunks of a given size (the last may be smaller) or of the given sizes.
    """
def sqrt(input: Tensor) -> Tensor:
    """
    Square root elementwise. d/dx sqrt(x) = 1/(2 sqrt(x)).
    """
def squeeze(input: Tensor, dim: typing.Any = None) -> Tensor:
    """
    Removes dims of size 1 (all, or just dim).
    """
def stack(tensors: collections.abc.Sequence[Tensor], dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Stacks same-shaped tensors along a new dim.
    """
def sub(input: Tensor, other: typing.Any) -> Tensor:
    """
    input - other, broadcasting.
    """
def sum(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    Sum over dim (int, tuple, or None for all). Example: x.sum(dim=1, keepdim=True).
    """
def sum_to(input: Tensor, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Sums a broadcast tensor back down to shape.
    """
def tanh(input: Tensor) -> Tensor:
    """
    tanh x elementwise. d/dx tanh x = 1 - tanh(x)^2.
    """
def transpose(input: Tensor, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    Swaps two dims.
    """
def unsqueeze(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    Inserts a dim of size 1 at dim.
    """
def var(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, *, correction: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    Variance: sum((x - mean)^2) / (N - correction); correction=1 (default) is the unbiased estimate.
    """
def where(condition: Tensor, input: typing.Any, other: typing.Any) -> Tensor:
    """
    input where condition is true, else other (all broadcast). The gradient flows to the chosen side.
    """
bool: dtype
double: dtype
float: dtype
float32: dtype
float64: dtype
int64: dtype
long: dtype
