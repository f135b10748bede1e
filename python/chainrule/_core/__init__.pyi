"""
chainrule's C++ core: tensors, ops and reverse-mode autograd.
"""
from __future__ import annotations
import builtins
import collections.abc
import numpy
import typing
import typing_extensions
from . import nn
class ShapeError(ValueError, RuntimeError):
    ...

__all__: list[str] = ['AccumulateGrad', 'AvgPool2d', 'BatchNorm1d', 'Box', 'Constraint', 'Conv2d', 'CosineAnnealingLR', 'Dropout', 'EPOCH_DEPRECATION_WARNING', 'ExponentialLR', 'Flatten', 'GELU', 'Generator', 'Identity', 'LRScheduler', 'LambdaLR', 'LayerNorm', 'LeakyReLU', 'LinAlgError', 'Linear', 'LogSoftmax', 'MaxNorm', 'MaxPool2d', 'Module', 'ModuleList', 'MultiStepLR', 'Node', 'NonNegative', 'Optimizer', 'OptimizerDefaults', 'OptimizerStateView', 'ParamGroup', 'ReLU', 'ReduceLROnPlateau', 'RemovableHandle', 'Sequential', 'ShapeError', 'Sigmoid', 'Softmax', 'Softplus', 'StepLR', 'Tanh', 'Tensor', 'abs', 'acos', 'acosh', 'add', 'all', 'allclose', 'amax', 'amin', 'any', 'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh', 'argmax', 'argmin', 'argsort', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'bitwise_and', 'bitwise_not', 'bitwise_or', 'bitwise_xor', 'bmm', 'bool', 'broadcast_to', 'cat', 'ceil', 'chunk', 'clamp', 'clip', 'copysign', 'cos', 'cosh', 'cumprod', 'cumsum', 'default_generator', 'det', 'diag', 'diag_embed', 'diagonal', 'div', 'dot', 'double', 'dtype', 'einsum', 'eq', 'erf', 'exp', 'exp2', 'expand', 'expm1', 'fix', 'flatten', 'flip', 'fliplr', 'flipud', 'float', 'float32', 'float64', 'floor', 'floor_divide', 'fmod', 'frac', 'from_dlpack', 'from_numpy', 'gather', 'ge', 'get_default_dtype', 'get_num_threads', 'gt', 'index_add', 'index_select', 'initial_seed', 'int64', 'inverse', 'is_grad_enabled', 'isclose', 'isfinite', 'isinf', 'isnan', 'isneginf', 'isposinf', 'le', 'leaky_relu', 'lerp', 'linear', 'log', 'log10', 'log1p', 'log2', 'log_softmax', 'logical_and', 'logical_not', 'logical_or', 'logsumexp', 'long', 'lt', 'manual_seed', 'masked_fill', 'matmul', 'maximum', 'mean', 'median', 'minimum', 'mm', 'mul', 'mv', 'narrow', 'narrow_slice', 'ne', 'neg', 'nn', 'norm', 'one_hot', 'outer', 'permute', 'pow', 'prod', 'randperm', 'reciprocal', 'relu', 'remainder', 'reshape', 'roll', 'round', 'rsqrt', 'scatter_add', 'seed', 'select', 'set_default_dtype', 'set_num_threads', 'sigmoid', 'sign', 'sin', 'sinh', 'softmax', 'softplus', 'sort', 'split', 'sqrt', 'square', 'squeeze', 'stack', 'std', 'std_mean', 'sub', 'sum', 'sum_to', 'tan', 'tanh', 'tile', 'topk', 'trace', 'transpose', 'tril', 'triu', 'trunc', 'unsqueeze', 'var', 'var_mean', 'where']
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
    @typing.overload
    def __init__(self: dtype, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @typing.overload
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
class RemovableHandle:
    """
    What register_hook returns: remove() takes the hook off.
    """
    def __enter__(self) -> RemovableHandle:
        ...
    def __exit__(self, *args) -> None:
        ...
    def remove(self) -> None:
        """
        Removes the hook (again: nothing).
        """
    @property
    def id(self) -> builtins.int:
        ...
class AccumulateGrad:
    """
    The end of a path in the graph: a leaf's .grad.
    """
    def __eq__(self, arg0: AccumulateGrad) -> builtins.bool:
        ...
    def __hash__(self) -> builtins.int:
        ...
    def __repr__(self) -> str:
        ...
    def name(self) -> str:
        ...
    @property
    def next_functions(self) -> tuple:
        ...
    @property
    def variable(self) -> typing.Any:
        """
        The leaf whose gradient is accumulated here.
        """
class Node:
    """
    A node of the autograd graph (a tensor's grad_fn).
    """
    def __repr__(self) -> str:
        ...
    def _local_grads(self, grad_output: typing.Any) -> tuple:
        ...
    def name(self) -> str:
        """
        The node's name, e.g. 'MulBackward0'.
        """
    @property
    def _context(self) -> typing.Any:
        ...
    @property
    def _input_shapes(self) -> tuple:
        ...
    @property
    def _op(self) -> str:
        ...
    @property
    def _output(self) -> typing.Any:
        ...
    @property
    def _seq(self) -> builtins.int:
        ...
    @property
    def next_functions(self) -> tuple:
        """
        One (node, 0) pair per input, as torch: the node that made the input, AccumulateGrad for a leaf that requires grad, or None for a constant.
        """
class Tensor:
    """
    An n-dimensional array that records the operations applied to it, so that gradients can be
    computed by reverse-mode differentiation (``backward``). Create tensors with ``chainrule.tensor``,
    ``zeros``, ``randn`` ...; NumPy sees a tensor's memory without copying (``np.asarray(t)``).
    """
    __array_priority__: typing.ClassVar[int] = 1000
    @staticmethod
    def max(input, dim = None, keepdim = False, *, axis = None):
        """
        The largest element; or, with ``dim`` (``axis`` is an alias), a named tuple
            ``(values, indices)`` along it (``cr.return_types.max``); or, with a tensor as second argument,
            the elementwise maximum. The gradient goes to the chosen elements (nan counts as the largest).
        
            Example: ``v, i = cr.max(x, dim=1)``.
        """
    @staticmethod
    def min(input, dim = None, keepdim = False, *, axis = None):
        """
        The smallest element; or, with ``dim`` (``axis`` is an alias), a named tuple
            ``(values, indices)`` (``cr.return_types.min``); or the elementwise minimum with a tensor.
        """
    def __abs__(self) -> Tensor:
        ...
    def __add__(self, arg0: typing.Any) -> Tensor:
        ...
    def __and__(self, arg0: typing.Any) -> Tensor:
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
    def __floordiv__(self, arg0: typing.Any) -> Tensor:
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
    def __ifloordiv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __imod__(self, arg0: typing.Any) -> Tensor:
        ...
    def __imul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __index__(self) -> builtins.int:
        ...
    def __init__(self, data: Tensor) -> None:
        """
        A tensor sharing data's memory (used by subclasses such as nn.Parameter).
        """
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
    def __mod__(self, arg0: typing.Any) -> Tensor:
        ...
    def __mul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __ne__(self, arg0: typing.Any) -> Tensor:
        ...
    def __neg__(self) -> Tensor:
        ...
    def __or__(self, arg0: typing.Any) -> Tensor:
        ...
    def __pow__(self, arg0: typing.Any) -> Tensor:
        ...
    def __radd__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rand__(self, arg0: typing.Any) -> Tensor:
        ...
    def __reduce__(self):
        """
        Pickling (and copy.deepcopy) go through a NumPy copy of the data: a leaf's value and its
            requires_grad flag, never its graph.
        """
    def __repr__(self) -> str:
        ...
    def __rfloordiv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rmod__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rmul__(self, arg0: typing.Any) -> Tensor:
        ...
    def __ror__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rpow__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rsub__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rtruediv__(self, arg0: typing.Any) -> Tensor:
        ...
    def __rxor__(self, arg0: typing.Any) -> Tensor:
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
    def __xor__(self, arg0: typing.Any) -> Tensor:
        ...
    def _mark_written(self, arg0: str) -> None:
        ...
    def _set_data(self, arg0: Tensor) -> None:
        ...
    def abs(self) -> Tensor:
        """
        |x| elementwise. Its derivative is sign(x) (0 at 0).
        """
    def abs_(self) -> Tensor:
        """
        self = |self|, in place.
        """
    def acos(self) -> Tensor:
        """
        arccos x (nan outside [-1, 1]). d/dx = -1/sqrt(1 - x^2). Example: cr.acos(cr.tensor([1.])) -> [0.].
        """
    def acosh(self) -> Tensor:
        """
        arcosh x (nan below 1). d/dx = 1/sqrt(x^2 - 1). Example: cr.acosh(cr.tensor([1.])) -> [0.].
        """
    def add(self, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
        """
        input + alpha * other, broadcasting. Example: cr.add(x, y, alpha=2).
        """
    def add_(self, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
        """
        self += alpha * other, in place.
        """
    def all(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
        """
        True where every element (over dim, or all; axis= is an alias) is nonzero; a bool tensor (nan counts as nonzero, an empty tensor gives True). Example: cr.all(cr.tensor([1, 0])) -> False.
        """
    def allclose(self, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: builtins.bool = False) -> builtins.bool:
        """
        True if isclose holds everywhere (a Python bool). Example: cr.allclose(x, x + 1e-9) -> True.
        """
    def amax(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
        """
        Max over dims (axis= is an alias); tied maxima share the gradient evenly. Example: cr.amax(x, dim=(0, 1)).
        """
    def amin(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
        """
        Min over dims (axis= is an alias); tied minima share the gradient evenly.
        """
    def any(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
        """
        True where some element (over dim, or all; axis= is an alias) is nonzero; a bool tensor (an empty tensor gives False). Example: cr.any(cr.tensor([0., 2.])) -> True.
        """
    def arccos(self) -> Tensor:
        """
        Alias of acos.
        """
    def arccosh(self) -> Tensor:
        """
        Alias of acosh.
        """
    def arcsin(self) -> Tensor:
        """
        Alias of asin.
        """
    def arcsinh(self) -> Tensor:
        """
        Alias of asinh.
        """
    def arctan(self) -> Tensor:
        """
        Alias of atan.
        """
    def arctan2(self, other: Tensor) -> Tensor:
        """
        Alias of atan2.
        """
    def arctanh(self) -> Tensor:
        """
        Alias of atanh.
        """
    def argmax(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
        """
        Index of the max (int64): of the flattened tensor, or along dim (axis= is an alias). The first one wins ties; nan counts as the largest.
        """
    def argmin(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
        """
        Index of the min (int64): of the flattened tensor, or along dim (axis= is an alias). The first one wins ties.
        """
    def argsort(self, dim: typing.Any = None, descending: builtins.bool = False, *, stable: builtins.bool = False, axis: typing.Any = None) -> Tensor:
        """
        The indices that sort input along dim (sort(...).indices; int64, not differentiable). Example: cr.argsort(cr.tensor([3., 1., 2.])) -> [1, 2, 0].
        """
    def asin(self) -> Tensor:
        """
        arcsin x (nan outside [-1, 1]). d/dx = 1/sqrt(1 - x^2) (inf at ±1). Example: cr.asin(cr.tensor([1.])) -> [1.5708].
        """
    def asinh(self) -> Tensor:
        """
        arsinh x. d/dx = 1/sqrt(x^2 + 1). Example: cr.asinh(cr.tensor([0.])) -> [0.].
        """
    def atan(self) -> Tensor:
        """
        arctan x. d/dx = 1/(1 + x^2). Example: cr.atan(cr.tensor([1.])) -> [0.7854].
        """
    def atan2(self, other: Tensor) -> Tensor:
        """
        The angle of the point (other, input) in (-pi, pi], broadcasting. d/dinput = other/(input^2 + other^2), d/dother = -input/(input^2 + other^2). Example: cr.atan2(cr.tensor([1.]), cr.tensor([-1.])) -> [2.3562].
        """
    def atanh(self) -> Tensor:
        """
        artanh x (±inf at ±1, nan outside). d/dx = 1/(1 - x^2). Example: cr.atanh(cr.tensor([0.5])) -> [0.5493].
        """
    def backward(self, gradient: typing.Any = None, retain_graph: typing.Any = None, create_graph: builtins.bool = False) -> None:
        """
        Computes the gradient of this tensor with respect to every leaf that requires grad, accumulating
        (+=) into their ``.grad``. A scalar tensor needs no ``gradient``; otherwise pass one of its shape.
        ``retain_graph=True`` keeps the graph for a second backward; ``create_graph=True`` records the
        backward itself, so gradients can be differentiated again (second derivatives, Hessians).
        """
    def bitwise_and(self, other: Tensor) -> Tensor:
        """
        Bitwise and of int64 tensors, logical and of bool tensors (a & b).
        """
    def bitwise_not(self) -> Tensor:
        """
        Bitwise not of an int64 tensor (~a = -a - 1), logical not of a bool tensor.
        """
    def bitwise_or(self, other: Tensor) -> Tensor:
        """
        Bitwise or of int64 tensors, logical or of bool tensors (a | b).
        """
    def bitwise_xor(self, other: Tensor) -> Tensor:
        """
        Bitwise xor of int64 tensors, logical xor of bool tensors (a ^ b).
        """
    def bmm(self, mat2: Tensor) -> Tensor:
        """
        Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m); 3-D only, no broadcasting (matmul broadcasts).
        dA = G @ B^T, dB = A^T @ G per batch. Example: cr.bmm(cr.ones(2, 3, 4), cr.ones(2, 4, 5)).shape -> (2, 3, 5)
        """
    def bool(self) -> typing.Any:
        """
        Converts to bool: nonzero -> True (self if it already is).
        """
    def broadcast_to(self, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Broadcasts to shape (the gradient is summed back).
        """
    def ceil(self) -> Tensor:
        """
        Smallest integer >= x (int64 stays int64). Its derivative is 0. Example: cr.ceil(cr.tensor([-1.5])) -> [-1.].
        """
    def ceil_(self) -> Tensor:
        """
        self = ceil(self), in place.
        """
    def chunk(self, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        Splits into `chunks` nearly equal pieces.
        """
    def clamp(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        Limits values to [min, max]; min and max may be numbers or tensors (broadcast), either may be None; where min > max the result is max. The gradient is 1 inside [min, max], 0 outside; a tensor bound gets the gradient where it is the result. Example: cr.clamp(x, min=0.0).
        """
    def clamp_(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        Clamps every element into [min, max], in place.
        """
    def clamp_max_(self, max: typing.Any) -> Tensor:
        """
        self = min(self, max), in place.
        """
    def clamp_min_(self, min: typing.Any) -> Tensor:
        """
        self = max(self, min), in place.
        """
    def clip(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        Alias of clamp.
        """
    def clone(self) -> Tensor:
        """
        A differentiable copy with its own memory.
        """
    def contiguous(self) -> Tensor:
        """
        Self if its elements are dense in row-major order, else a (differentiable) dense copy.
        """
    def copy_(self, arg0: Tensor) -> Tensor:
        """
        Copies src (broadcast to this shape) into this tensor, in place.
        """
    def copysign(self, other: typing.Any) -> Tensor:
        """
        |input| with the sign of other (float result; -0.0 counts as negative). d/dinput = ±1 (0 at input = 0), d/dother = 0. Example: cr.copysign(cr.tensor([2.]), -1.) -> [-2.].
        """
    def cos(self) -> Tensor:
        """
        cos x elementwise. d/dx cos x = -sin x.
        """
    def cos_(self) -> Tensor:
        """
        self = cos(self), in place (float tensors).
        """
    def cosh(self) -> Tensor:
        """
        cosh x elementwise. d/dx cosh x = sinh x. Example: cr.cosh(cr.tensor([0.])) -> [1.].
        """
    def cpu(self):
        """
        This tensor on the CPU: chainrule's tensors always are, so this returns ``self``, as
            PyTorch does for a tensor already on the CPU.
        """
    def cuda(self, device = None, non_blocking = False):
        """
        Always raises: chainrule runs on the CPU only (write ``.to(device)`` with
            ``device = 'cuda' if cr.cuda.is_available() else 'cpu'`` for code that runs on both).
        """
    def cumprod(self, dim: typing.Any = None, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
        """
        Running products along dim (axis= is an alias): y_i = x_0 * ... * x_i. bool/int64 -> int64. d y_k / d x_i = prod_{j <= k, j != i} x_j (exact with zeros in x, also the second derivative). Example: cr.cumprod(cr.tensor([1., 2., 3.]), 0) -> [1., 2., 6.].
        """
    def cumsum(self, dim: typing.Any = None, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
        """
        Running sums along dim (axis= is an alias): y_i = x_0 + ... + x_i. bool/int64 -> int64. The gradient is the running sum of the output gradient from the other end. Example: cr.cumsum(cr.tensor([1, 2, 3]), 0) -> [1, 3, 6].
        """
    def data_ptr(self) -> builtins.int:
        """
        The address of the first element (a view's: storage start + storage_offset * itemsize).
        """
    def det(self) -> Tensor:
        """
        Determinant of each (..., n, n) matrix (torch.det = torch.linalg.det). d det(A)/dA = det(A) A^-T.
        """
    def detach(self) -> Tensor:
        """
        A tensor sharing this one's memory, without history.
        """
    def diag(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        1-D v -> the square matrix with v on diagonal `diagonal` (> 0 above, < 0 below the main one);
        2-D A -> a copy of A's diagonal `diagonal`. Linear, so its gradient is diag again.
        Example: cr.diag(cr.tensor([1., 2.])) -> tensor([[1., 0.], [0., 2.]])
        """
    def diag_embed(self) -> Tensor:
        """
        (..., n) -> (..., n, n) with the last dim on the diagonal (torch.diag_embed with default arguments).
        Example: cr.diag_embed(cr.ones(2, 3)).shape -> (2, 3, 3)
        """
    def diagonal(self, offset: typing.SupportsInt | typing.SupportsIndex = 0, dim1: typing.SupportsInt | typing.SupportsIndex = 0, dim2: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
        """
        The diagonal of each (dim1, dim2) plane as a new last dim (offset > 0: above it). A view.
        """
    def dim(self) -> builtins.int:
        """
        The number of dims.
        """
    def div(self, other: typing.Any, *, rounding_mode: typing.Any = None) -> Tensor:
        """
        input / other, broadcasting: true division (int64 -> float32), or rounded with rounding_mode='trunc' (toward zero) or 'floor' (down; int64 stays int64, derivative 0). Example: cr.div(x, 2, rounding_mode='floor').
        """
    def div_(self, arg0: typing.Any) -> Tensor:
        """
        self /= other, in place.
        """
    def dot(self, tensor: Tensor) -> Tensor:
        """
        Dot product of two 1-D tensors of the same size and dtype: sum(a * b).
        d/da = g * b, d/db = g * a. Example: cr.dot(cr.tensor([1., 2.]), cr.tensor([3., 4.])) -> tensor(11.)
        """
    def double(self) -> typing.Any:
        """
        Converts to float64 (self if it already is).
        """
    def eq(self, other: typing.Any) -> Tensor:
        """
        input == other elementwise -> bool tensor.
        """
    def exp(self) -> Tensor:
        """
        e^x elementwise. d/dx e^x = e^x. Example: cr.exp(cr.tensor([0., 1.])) -> [1.0000, 2.7183].
        """
    def exp2(self) -> Tensor:
        """
        2^x elementwise. d/dx = 2^x ln 2. Example: cr.exp2(cr.tensor([3.])) -> [8.].
        """
    def exp_(self) -> Tensor:
        """
        self = e^self, in place (float tensors).
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
    def expand_as(self, other):
        """
        self broadcast to other's shape (a view, as torch's expand_as).
        """
    def expm1(self) -> Tensor:
        """
        e^x - 1, accurate for small x. d/dx = e^x. Example: cr.expm1(cr.tensor([1e-10])) -> [1e-10].
        """
    def fill_(self, arg0: typing.Any) -> Tensor:
        """
        Fills with a value, in place.
        """
    def fix(self) -> Tensor:
        """
        Alias of trunc.
        """
    def flatten(self, start_dim: typing.SupportsInt | typing.SupportsIndex = 0, end_dim: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
        """
        Merges dims start_dim..end_dim into one.
        """
    def flip(self, *args) -> Tensor:
        """
        x.flip(0), x.flip(0, 1) or x.flip((0, 1)): reversed along those dims (a copy).
        """
    def fliplr(self) -> Tensor:
        """
        Reversed along dim 1 (left/right), for tensors with >= 2 dims. A copy.
        """
    def flipud(self) -> Tensor:
        """
        Reversed along dim 0 (up/down), for tensors with >= 1 dim. A copy.
        """
    def float(self) -> typing.Any:
        """
        Converts to float32 (self if it already is).
        """
    def floor(self) -> Tensor:
        """
        Largest integer <= x (int64 stays int64). Its derivative is 0. Example: cr.floor(cr.tensor([-1.5])) -> [-2.].
        """
    def floor_(self) -> Tensor:
        """
        self = floor(self), in place.
        """
    def floor_divide(self, other: typing.Any) -> Tensor:
        """
        floor(input / other) (Python's //); int64 stays int64, integer division by zero raises. Not differentiable (backward raises, as in torch; div(..., rounding_mode='floor') has derivative 0). Example: cr.tensor([-3]) // 2 -> [-2].
        """
    def floor_divide_(self, other: typing.Any) -> Tensor:
        """
        self = floor_divide(self, other) (Python's //), in place.
        """
    def fmod(self, other: typing.Any) -> Tensor:
        """
        Remainder of input / other with the sign of input (C's fmod): fmod(-3, 2) = -1. Integer division by zero raises. d/dinput = 1, d/dother = -trunc(input/other). Example: cr.fmod(cr.tensor([-3.]), 2) -> [-1.].
        """
    def frac(self) -> Tensor:
        """
        x - trunc(x) (sign of x). d/dx = 1. Example: cr.frac(cr.tensor([-1.25])) -> [-0.25].
        """
    def gather(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
        """
        out[i][j] = input[i][index[i][j]] (dim=1); e.g. the score of each sample's class.
        """
    def ge(self, other: typing.Any) -> Tensor:
        """
        input >= other elementwise -> bool tensor.
        """
    def get_device(self):
        """
        -1, PyTorch's device ordinal for a CPU tensor.
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
    def int(self, memory_format = None):
        """
        Converts to chainrule's integer dtype, int64 (truncating toward zero), like ``.long()``.
        
            torch's ``.int()`` gives int32, which chainrule doesn't have: the values are the same (for
            values that fit in int32; beyond that torch wraps around and chainrule doesn't), only
            ``.dtype`` says cr.int64. ``(pred == y).int().sum()`` counts as in torch.
            
        """
    def inverse(self) -> Tensor:
        """
        Inverse of each (..., n, n) matrix (torch.inverse = torch.linalg.inv); a singular matrix raises
        cr.linalg.LinAlgError. dA = -A^-T G A^-T.
        """
    def is_contiguous(self) -> builtins.bool:
        """
        True if the elements are dense in row-major order (views such as x.t() are not).
        """
    def is_floating_point(self) -> builtins.bool:
        """
        True for float32 and float64 tensors.
        """
    def isclose(self, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: builtins.bool = False) -> Tensor:
        """
        |input - other| <= atol + rtol * |other| elementwise (bool tensor); equal infinities are close, nan only with equal_nan=True. Same dtypes required, as torch.
        """
    def isfinite(self) -> Tensor:
        """
        True where x is neither inf nor nan (bool tensor).
        """
    def isinf(self) -> Tensor:
        """
        True where x is +inf or -inf (bool tensor).
        """
    def isnan(self) -> Tensor:
        """
        True where x is nan (bool tensor; int64 and bool are never nan).
        """
    def isneginf(self) -> Tensor:
        """
        True where x is -inf (bool tensor).
        """
    def isposinf(self) -> Tensor:
        """
        True where x is +inf (bool tensor).
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
    def lerp(self, end: Tensor, weight: typing.Any) -> Tensor:
        """
        input + weight * (end - input), weight a number or a tensor (broadcast). d/dinput = 1 - weight, d/dend = weight, d/dweight = end - input. Example: cr.lerp(cr.tensor([0.]), cr.tensor([10.]), 0.3) -> [3.].
        """
    def linear(self, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        """
        x @ weight.T + bias; x (..., in), weight (out, in), bias (out,).
        """
    def log(self) -> Tensor:
        """
        Natural log elementwise. d/dx ln x = 1/x.
        """
    def log10(self) -> Tensor:
        """
        Base-10 log. d/dx = 1/(x ln 10). Example: cr.log10(cr.tensor([100.])) -> [2.].
        """
    def log1p(self) -> Tensor:
        """
        ln(1 + x), accurate for small x (log1p(-1) = -inf). d/dx = 1/(1 + x). Example: cr.log1p(cr.tensor([1e-10])) -> [1e-10].
        """
    def log2(self) -> Tensor:
        """
        Base-2 log. d/dx = 1/(x ln 2). Example: cr.log2(cr.tensor([8.])) -> [3.].
        """
    def log_(self) -> Tensor:
        """
        self = ln(self), in place (float tensors).
        """
    def log_softmax(self, dim: typing.Any = None, dtype: dtype | None = None, *, axis: typing.Any = None) -> Tensor:
        """
        x - logsumexp(x) along dim (axis= is an alias), computed stably; with dtype the input is converted first. d/dx_j = δ_ij - softmax(x)_j.
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
    def logsumexp(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
        """
        log(sum(exp(x))) over dim (axis= is an alias), computed stably (logits of 1e4 are fine). Its gradient is softmax(x).
        """
    def long(self) -> typing.Any:
        """
        Converts to int64, truncating toward zero (self if it already is).
        """
    def lt(self, other: typing.Any) -> Tensor:
        """
        input < other elementwise -> bool tensor.
        """
    def masked_fill(self, mask: Tensor, value: typing.Any) -> Tensor:
        """
        A copy of input with ``value`` where ``mask`` is True (mask: a bool tensor broadcast with input).
        
        The result keeps input's dtype (an int64 input truncates a float value); ``value`` is a number or
        a 0-d tensor. Derivatives: d/dinput is 1 where the mask is False, 0 where it is True; a 0-d value
        tensor that requires grad gets the sum of the gradient over the masked positions.
        Example: ``scores.masked_fill(~causal, float('-inf'))`` before a softmax.
        """
    def masked_fill_(self, mask: Tensor, value: typing.Any) -> Tensor:
        """
        Sets the elements where mask (bool, broadcastable to self) is True to value, in place.
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
    def mean(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
        """
        Mean over dim (int, tuple, or None for all; axis= is an alias). Floating tensors only (or give dtype=). d/dx = 1/N. Example: x.mean(0).
        """
    def median(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> typing.Any:
        """
        Median: of all elements, the lower median (the element of rank (N - 1) // 2) as a 0-d tensor, nan if
        any element is nan; with dim (axis= is an alias), a named tuple (values, indices) along it.
        The gradient goes to the selected element (tied medians of the whole tensor share it evenly).
        Example: cr.median(cr.tensor([3., 1., 2., 4.])) -> 2.
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
    def mv(self, vec: Tensor) -> Tensor:
        """
        Matrix-vector product: (n, m) @ (m,) -> (n,). dA = outer(g, x), dx = A.T @ g.
        Example: cr.mv(cr.eye(2), cr.tensor([1., 2.])) -> tensor([1., 2.])
        """
    def narrow(self, dim: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, length: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        x[start:start+length] along dim. A view.
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
    def neg_(self) -> Tensor:
        """
        self = -self, in place.
        """
    def new_empty(self, *size, dtype = None, device = None, requires_grad = False):
        """
        A new tensor of empty with the given size, in this tensor's dtype (unless dtype=).
        """
    def new_full(self, size, fill_value, dtype = None, device = None, requires_grad = False):
        """
        A new tensor of the given size filled with fill_value, in this tensor's dtype (unless dtype=).
        """
    def new_ones(self, *size, dtype = None, device = None, requires_grad = False):
        """
        A new tensor of ones with the given size, in this tensor's dtype (unless dtype=).
        """
    def new_tensor(self, data, dtype = None, device = None, requires_grad = False):
        """
        A new tensor (a copy) of data, in this tensor's dtype (unless dtype=).
        """
    def new_zeros(self, *size, dtype = None, device = None, requires_grad = False):
        """
        A new tensor of zeros with the given size, in this tensor's dtype (unless dtype=).
        """
    def norm(self, p: typing.Any = 'fro', dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
        """
        torch.norm: p='fro' (default) or a number gives the vector p-norm over dim (all elements when dim is
        None): (sum |x|^p)^(1/p); p=inf: max |x|; p=0: the count of nonzeros; p='nuc' the nuclear norm of a
        matrix (sum of singular values). Its gradient at x = 0 is 0 (not nan), as torch's.
        Example: cr.norm(cr.tensor([3., 4.])) -> tensor(5.)
        """
    def normal_(self, mean: typing.SupportsFloat | typing.SupportsIndex = 0.0, std: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, generator: typing.Any = None) -> Tensor:
        """
        Fills with samples of N(mean, std^2), in place (from generator, else the global generator).
        """
    def numel(self) -> builtins.int:
        """
        The number of elements.
        """
    def numpy(self):
        """
        The tensor's data as a NumPy array that shares its memory (no copy).
        """
    def outer(self, vec2: Tensor) -> Tensor:
        """
        Outer product of 1-D tensors: out[i, j] = a[i] * b[j], shape (n, m).
        d/da = G @ b, d/db = G.T @ a. Example: cr.outer(cr.tensor([1., 2.]), cr.tensor([1., 0., -1.])).shape -> (2, 3)
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
    def prod(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
        """
        Product of all elements, or along one dim (axis= is an alias). bool/int64 -> int64; an empty product is 1.
        d/dx_i = prod_{j != i} x_j, computed without division, so inputs with one or several zeros get
        exact first and second derivatives. Example: cr.prod(cr.tensor([2., 3., 4.])) -> 24.
        """
    def reciprocal(self) -> Tensor:
        """
        1 / input. d/dx = -1/x^2.
        """
    def register_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        hook(grad) runs when this tensor's gradient is computed, before it is accumulated or passed on; returning a tensor replaces the gradient. Returns a handle: handle.remove().
        """
    def register_post_accumulate_grad_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        hook(tensor) runs after backward accumulated this leaf's .grad (e.g. an optimizer step).
        """
    def relu(self) -> Tensor:
        """
        max(x, 0) elementwise. Its derivative is 1 where x > 0, else 0.
        """
    def relu_(self) -> Tensor:
        """
        self = max(self, 0), in place.
        """
    def remainder(self, other: typing.Any) -> Tensor:
        """
        Remainder with the sign of other (Python's %): remainder(-3, 2) = 1. Integer division by zero raises. d/dinput = 1, d/dother = -floor(input/other). Example: cr.tensor([-3.]) % 2 -> [1.].
        """
    def remainder_(self, other: typing.Any) -> Tensor:
        """
        self = remainder(self, other) (Python's %), in place.
        """
    def repeat(self, *args) -> Tensor:
        """
        A copy of the tensor tiled ``repeats[i]`` times along dim i: ``x.repeat(2, 1)`` stacks x twice
        along dim 0. Give at least x.dim() repeats; extra ones add leading dims; 0 gives an empty dim.
        Always a copy (unlike expand). The gradient sums the gradient of every tile.
        """
    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        """
        Sets requires_grad in place and returns this tensor (x = cr.zeros(3).requires_grad_()). Leaves only (a non-leaf already requires grad: requires_grad_(True) is a no-op); floating dtypes only.
        """
    @typing.overload
    def reshape(self, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Same data with a new shape (one dim may be -1): a view when the strides allow, else a copy.
        """
    @typing.overload
    def reshape(self, *args) -> Tensor:
        """
        Same data with a new shape, given as ints or a tuple (one may be -1): a view when the strides allow, else a copy.
        """
    def reshape_as(self, other):
        """
        self reshaped to other's shape (a view when possible).
        """
    def retain_grad(self) -> None:
        """
        Keep .grad for this non-leaf tensor on backward.
        """
    def roll(self, shifts: typing.Any, dims: typing.Any = None) -> Tensor:
        """
        A copy with the elements shifted by ``shifts`` along ``dims`` (ints or tuples of equal length),
        wrapping around: cr.roll(cr.arange(4), 1) -> tensor([3, 0, 1, 2]). Shifts may be negative or larger
        than the dim. With dims=None the tensor is rolled flattened, then given its shape back. The
        gradient is rolled back by -shifts.
        """
    def round(self, *, decimals: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        Rounds half to even (2.5 -> 2, as torch and NumPy); decimals=d rounds to d digits after the point (negative: before it). Its derivative is 0. Example: cr.round(cr.tensor([1.2345]), decimals=2) -> [1.23].
        """
    def round_(self, *, decimals: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        self = round(self, decimals), in place (half to even).
        """
    def rsqrt(self) -> Tensor:
        """
        1 / sqrt(x) (inf at 0, nan below). d/dx = -x^(-3/2) / 2. Example: cr.rsqrt(cr.tensor([4.])) -> [0.5].
        """
    def scatter_add(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> Tensor:
        """
        A copy of input with src added at the positions index gives along dim (the inverse of gather).
        """
    def select(self, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        x[index] along dim (removes dim). A view.
        """
    def sigmoid(self) -> Tensor:
        """
        1 / (1 + e^-x) elementwise. d/dx = s(x)(1 - s(x)).
        """
    def sigmoid_(self) -> Tensor:
        """
        self = sigmoid(self), in place (float tensors).
        """
    def sign(self) -> Tensor:
        """
        -1, 0 or 1 elementwise (not differentiable: no gradient flows).
        """
    def sin(self) -> Tensor:
        """
        sin x elementwise. d/dx sin x = cos x.
        """
    def sin_(self) -> Tensor:
        """
        self = sin(self), in place (float tensors).
        """
    def sinh(self) -> Tensor:
        """
        sinh x elementwise. d/dx sinh x = cosh x. Example: cr.sinh(cr.tensor([0.])) -> [0.].
        """
    def size(self, dim: typing.Any = None) -> typing.Any:
        """
        The shape (a tuple), or the size of one dim.
        """
    def softmax(self, dim: typing.Any = None, dtype: dtype | None = None, *, axis: typing.Any = None) -> Tensor:
        """
        exp(x) / sum(exp(x)) along dim (axis= is an alias), computed stably; with dtype the input is converted first (cr.softmax(x, -1, dtype=cr.float64)). d s_i/dx_j = s_i (δ_ij - s_j). Example: cr.softmax(logits, dim=-1).
        """
    def softplus(self, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
        """
        log(1 + e^(beta x)) / beta (x itself where beta x > threshold). Its derivative is sigmoid(beta x).
        """
    def sort(self, dim: typing.Any = None, descending: builtins.bool = False, *, stable: builtins.bool = False, axis: typing.Any = None) -> typing.Any:
        """
        Sorts along dim (default -1; axis= is an alias): a named tuple (values, indices) with
        values == x.gather(dim, indices). nan sorts as the largest value. Ties keep their input order
        (always stable; torch's stable=False may order ties differently in lines longer than 16).
        The gradient goes back to each value's original position.
        Example: cr.sort(cr.tensor([3., 1., 2.])).indices -> [1, 2, 0].
        """
    def split(self, split_size_or_sections: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
        """
        Splits into chunks of a given size (the last may be smaller) or of the given sizes.
        """
    def sqrt(self) -> Tensor:
        """
        Square root elementwise. d/dx sqrt(x) = 1/(2 sqrt(x)).
        """
    def sqrt_(self) -> Tensor:
        """
        self = sqrt(self), in place (float tensors).
        """
    def square(self) -> Tensor:
        """
        x * x (int64 stays int64). d/dx = 2x. Example: cr.square(cr.tensor([3])) -> [9].
        """
    def square_(self) -> Tensor:
        """
        self = self * self, in place.
        """
    def squeeze(self, dim: typing.Any = None) -> Tensor:
        """
        Removes dims of size 1: all of them, or only dim (an int or a tuple of ints). Dims named that do
        not have size 1 are left alone (torch 2.x): cr.zeros(1, 2, 1).squeeze((0, 1)).shape == (2, 1).
        A view; the gradient is reshaped back.
        """
    def squeeze_(self, dim: typing.Any = None) -> Tensor:
        """
        squeeze in place: this tensor loses its size-1 dims (all, or those among dim) and is returned.
        """
    def std(self, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None, axis: typing.Any = None) -> Tensor:
        """
        Standard deviation sqrt(sum((x - mean)^2) / (N - correction)) over dim (axis= is an alias).
        correction=1 (the default; unbiased=True) or x.std(False) for the biased estimate.
        d/dx = (x - mean) / ((N - correction) std), and 0 where std = 0 (as PyTorch); nan when N <= correction.
        Example: cr.std(cr.tensor([1., 2., 3., 4.])) -> 1.2910.
        """
    def storage_offset(self) -> builtins.int:
        """
        Where this view's first element sits in the shared storage, in elements.
        """
    def stride(self, dim: typing.Any = None) -> typing.Any:
        """
        Elements to step in memory for each dim (a tuple), or for one dim.
        """
    def sub(self, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
        """
        input - alpha * other, broadcasting.
        """
    def sub_(self, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
        """
        self -= alpha * other, in place.
        """
    def sum(self, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
        """
        Sum over dim (int, tuple, or None for all; axis= is an alias). bool/int64 sum to int64; dtype= converts first. d/dx = 1. Example: x.sum(dim=1, keepdim=True).
        """
    def sum_to(self, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
        """
        Sums a broadcast tensor back down to shape.
        """
    def t(self) -> Tensor:
        """
        Transpose of a 2-D tensor.
        """
    def tan(self) -> Tensor:
        """
        tan x elementwise. d/dx tan x = 1 + tan(x)^2. Example: cr.tan(cr.tensor([0.])) -> [0.].
        """
    def tanh(self) -> Tensor:
        """
        tanh x elementwise. d/dx tanh x = 1 - tanh(x)^2.
        """
    def tanh_(self) -> Tensor:
        """
        self = tanh(self), in place (float tensors).
        """
    def tile(self, *args) -> Tensor:
        """
        x.tile(2, 1) or x.tile((2, 1)): repeat, padding missing leading dims with 1.
        """
    def to(self, *args, **kwargs):
        """
        This tensor on a device and/or with a dtype, as ``torch.Tensor.to``.
        
            ``x.to('cpu')``, ``x.to(device)``, ``x.to(cr.float64)``, ``x.to('cpu', cr.float64)``,
            ``x.to(other)`` (other's dtype), keywords ``device=``, ``dtype=``, ``non_blocking=``, ``copy=``.
            Returns ``self`` when nothing changes (unless ``copy=True``); dtype conversions are
            differentiable between float dtypes. chainrule runs on the CPU only: any other device raises.
            
        """
    def tolist(self):
        """
        The data as (nested lists of) Python numbers.
        """
    def topk(self, k: typing.SupportsInt | typing.SupportsIndex, dim: typing.Any = None, largest: builtins.bool = True, sorted: builtins.bool = True, *, axis: typing.Any = None) -> typing.Any:
        """
        The k largest (largest=False: smallest) elements along dim (default -1; axis= is an alias), as a
        named tuple (values, indices); nan counts as the largest. k outside [0, size] raises RuntimeError.
        The gradient goes to the selected positions. Example: cr.topk(cr.tensor([1., 5., 3.]), 2) ->
        values [5., 3.], indices [1, 2].
        """
    def trace(self) -> Tensor:
        """
        Sum of the diagonal of a 2-D tensor. d/dA trace(A) = I.
        Example: cr.trace(cr.tensor([[1., 2.], [3., 4.]])) -> tensor(5.)
        """
    def transpose(self, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        Swaps two dims.
        """
    def tril(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        The lower triangle of the last two dims (entries above diagonal `diagonal` set to 0); batched.
        Its gradient is the upstream gradient masked the same way. Example: cr.tril(cr.ones(3, 3))
        """
    def triu(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        The upper triangle of the last two dims (entries below diagonal `diagonal` set to 0); batched.
        Its gradient is the upstream gradient masked the same way. Example: cr.triu(cr.ones(3, 3), 1)
        """
    def trunc(self) -> Tensor:
        """
        x rounded toward zero (int64 stays int64). Its derivative is 0. Example: cr.trunc(cr.tensor([-1.5])) -> [-1.].
        """
    def trunc_(self) -> Tensor:
        """
        self = trunc(self), in place.
        """
    def type(self, dtype = None):
        """
        Without an argument, the type's name ('torch.FloatTensor' style: 'chainrule.FloatTensor');
            with a dtype, the tensor converted to it (as .to(dtype)).
        """
    def unfold(self, dimension: typing.SupportsInt | typing.SupportsIndex, size: typing.SupportsInt | typing.SupportsIndex, step: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        Windows of `size` every `step` along dimension, as a new last dim (a view: windows may overlap).
        """
    def uniform_(self, a: typing.SupportsFloat | typing.SupportsIndex = 0.0, b: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, generator: typing.Any = None) -> Tensor:
        """
        Fills with samples of U[a, b), in place (from generator, else the global generator).
        """
    def unsqueeze(self, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        Inserts a dim of size 1 at dim.
        """
    def unsqueeze_(self, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
        """
        unsqueeze in place: a size-1 dim is inserted at dim.
        """
    def var(self, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None, axis: typing.Any = None) -> Tensor:
        """
        Variance: sum((x - mean)^2) / (N - correction); correction=1 (default, or unbiased=True) is the unbiased estimate, x.var(False) the biased one. d/dx = 2 (x - mean) / (N - correction).
        """
    def view(self, *args) -> Tensor:
        """
        Same data with a new shape, always a view; raises if the strides allow none (use reshape).
        """
    def view_as(self, other):
        """
        self viewed with other's shape (raises where view() would).
        """
    def zero_(self) -> Tensor:
        """
        Fills with zeros, in place.
        """
    @property
    def T(self) -> Tensor:
        """
        The tensor with its dims reversed (the transpose, for a matrix). A view.
        """
    @property
    def _cdata(self) -> builtins.int:
        """
        Identifies the tensor object (the same for every Python wrapper of it, e.g. a Parameter).
        """
    @property
    def _untracked_at(self) -> typing.Any:
        ...
    @property
    def _untracked_by(self) -> typing.Any:
        ...
    @property
    def _version(self) -> builtins.int:
        ...
    @property
    def data(self):
        """
        The tensor's data without its history: shares memory, requires_grad False (as torch's .data;
            prefer .detach() in new code, and updates under ``with cr.no_grad():``).
        """
    @data.setter
    def data(self, value):
        """
        ``x.data = y``: x now shows y's data (shared, any shape or dtype) and keeps its identity,
            requires_grad and grad, as in torch.
        """
    @property
    def device(self):
        """
        Where the tensor lives: always cr.device('cpu').
        """
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
    def is_cpu(self):
        """
        True: chainrule's tensors live on the CPU.
        """
    @property
    def is_cuda(self):
        """
        False: chainrule has no GPU support.
        """
    @property
    def is_leaf(self) -> builtins.bool:
        """
        True for tensors created by the user (not by an op that tracked grad).
        """
    @property
    def mT(self) -> Tensor:
        """
        The last two dims swapped (batched transpose). A view.
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
    def requires_grad(self, arg1: typing.Any) -> None:
        ...
    @property
    def retains_grad(self) -> builtins.bool:
        """
        Whether backward keeps this non-leaf's .grad (retain_grad() was called).
        """
    @property
    def shape(self) -> tuple:
        """
        The size of each dim, as a tuple.
        """
class Module:
    """
    Base class of every layer and model. Subclass it as in PyTorch: assign Parameters and Modules as
    attributes in __init__ (they register themselves) and write forward(); call the model as model(x).
    """
    @staticmethod
    def _ready(arg0: typing.Any) -> builtins.bool:
        ...
    def __call__(self, *args, **kwargs):
        ...
    def __deepcopy__(self, memo):
        """
        copy.deepcopy(model): new parameters and buffers with the same values (no grads, as torch),
            children copied, sharing within the model kept (tied weights stay tied), train/eval kept.
        """
    def __getattr__(self, name):
        ...
    def __init__(self) -> None:
        ...
    def __repr__(self):
        ...
    def __setattr__(self, name, value):
        ...
    def _buffer(self, arg0: str) -> typing.Any:
        ...
    def _call_with_hooks(self, input: Tensor) -> Tensor:
        ...
    def _copy_self(self) -> Module:
        ...
    def _has_buffer(self, arg0: str) -> builtins.bool:
        ...
    def _has_hooks(self) -> builtins.bool:
        ...
    def _has_module(self, arg0: str) -> builtins.bool:
        ...
    def _has_parameter(self, arg0: str) -> builtins.bool:
        ...
    def _load_state_dict(self, arg0: collections.abc.Sequence[tuple[str, Tensor]], arg1: builtins.bool) -> None:
        ...
    def _module(self, arg0: str) -> Module:
        ...
    def _named_buffers(self, arg0: builtins.bool) -> list:
        ...
    def _named_children(self) -> list[tuple[str, Module]]:
        ...
    def _named_modules(self) -> list:
        ...
    def _named_parameters(self, arg0: builtins.bool) -> list:
        ...
    def _own_buffers(self) -> list:
        ...
    def _own_children(self) -> list[tuple[str, Module]]:
        ...
    def _own_parameters(self) -> list:
        ...
    def _parameter(self, arg0: str) -> typing.Any:
        ...
    def _register_buffer(self, arg0: str, arg1: Tensor | None) -> Tensor:
        ...
    def _register_module(self, arg0: str, arg1: Module) -> None:
        ...
    def _register_parameter(self, arg0: str, arg1: Tensor | None) -> Tensor:
        ...
    def _remove(self, arg0: str) -> None:
        ...
    def _repr(self) -> str:
        ...
    def _set_training_flag(self, arg0: builtins.bool) -> None:
        ...
    def _state_dict(self) -> list:
        ...
    def _to_dtype(self, arg0: dtype) -> None:
        ...
    def _train(self, arg0: builtins.bool) -> None:
        ...
    def _zero_grad(self) -> None:
        ...
    def add_module(self, name, module):
        """
        Registers a child module under ``name``.
        """
    def apply(self, fn):
        """
        Calls fn on every submodule (children first) and on self, as PyTorch; returns self.
        """
    def buffers(self, recurse = True):
        ...
    def children(self):
        """
        The direct submodules.
        """
    def cpu(self):
        """
        Returns self: a chainrule module always lives on the CPU (as ``torch.nn.Module.cpu``).
        """
    def cuda(self, device = None):
        """
        Always raises: chainrule runs on the CPU only (write ``model.to(device)`` with
            ``device = 'cuda' if cr.cuda.is_available() else 'cpu'`` for code that runs on both).
        """
    def double(self):
        """
        Casts floating-point parameters and buffers to float64 (as ``torch.nn.Module.double``); returns self.
        """
    def eval(self):
        """
        Evaluation mode, the same as train(False); returns self.
        """
    def extra_repr(self) -> str:
        """
        The text shown inside the parentheses of repr().
        """
    def float(self):
        """
        Casts floating-point parameters and buffers to float32 (as ``torch.nn.Module.float``); returns self.
        """
    def forward(self, input: Tensor) -> Tensor:
        """
        Computes the module's output; override it.
        """
    def load_state_dict(self, state_dict, strict = True):
        """
        Copies values from a state dict into this module's parameters and buffers, in place.
        
            Values may be chainrule tensors, NumPy arrays or anything with __dlpack__ (torch tensors).
            With strict=True (default) missing or unexpected keys are an error; shapes must match.
            
        """
    def modules(self):
        """
        This module and every module inside it.
        """
    def named_buffers(self, prefix = '', recurse = True):
        ...
    def named_children(self):
        ...
    def named_modules(self):
        ...
    def named_parameters(self, prefix = '', recurse = True):
        """
        (dotted name, parameter) pairs, e.g. ('0.weight', tensor).
        """
    def parameters(self, recurse = True):
        """
        An iterator over the parameters (each shared parameter once); give it to an optimizer.
        """
    def register_buffer(self, name, tensor):
        """
        Registers a tensor that is state but not a parameter (e.g. BatchNorm's running mean).
        """
    def register_forward_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        hook(module, args, output) runs after forward; returning a tensor replaces the output. Returns a handle: handle.remove().
        """
    def register_forward_pre_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        hook(module, args) runs before forward; returning a value (or a 1-tuple) replaces the input. Returns a handle: handle.remove().
        """
    def register_full_backward_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        hook(module, grad_input, grad_output) runs in backward when the gradient with respect to the input is known (grad_input is (None,) when the input needs none); returning a 1-tuple replaces grad_input. Returns a handle: handle.remove().
        """
    def register_full_backward_pre_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        hook(module, grad_output) runs in backward when the gradient with respect to the output is known; returning a 1-tuple replaces it. Returns a handle: handle.remove().
        """
    def register_parameter(self, name, param):
        """
        Registers ``param`` (a Parameter, or None) under ``name``.
        """
    def requires_grad_(self, requires_grad = True):
        """
        Sets requires_grad of every parameter (False freezes the module, as in fine-tuning); returns self.
        """
    def state_dict(self):
        """
        An OrderedDict name -> tensor of every parameter and buffer (sharing their memory).
        """
    def to(self, *args, **kwargs):
        """
        Moves and/or casts the parameters and buffers, as ``torch.nn.Module.to``; returns self.
        
            ``model.to(device)`` with ``device = 'cuda' if cr.cuda.is_available() else 'cpu'`` is accepted
            and changes nothing: chainrule runs on the CPU only, and any other device raises. Also
            ``model.to(dtype)``, ``model.to(device, dtype)``, ``model.to(tensor)`` and ``non_blocking=``.
            
        """
    def train(self, mode = True):
        """
        Training mode (Dropout drops, BatchNorm uses batch statistics); returns self.
        """
    def zero_grad(self, set_to_none = True):
        """
        Resets every parameter's gradient (to None, as PyTorch 2 does by default).
        """
    @property
    def training(self) -> builtins.bool:
        """
        True in training mode (see train()/eval()).
        """
class Linear(Module):
    """
    y = x W^T + b, with W of shape (out_features, in_features).
    """
    def __init__(self, in_features: typing.SupportsInt | typing.SupportsIndex, out_features: typing.SupportsInt | typing.SupportsIndex, bias: builtins.bool = True, *, device: typing.Any = None, dtype: dtype | None = None) -> None:
        ...
    @property
    def in_features(self) -> builtins.int:
        ...
    @property
    def out_features(self) -> builtins.int:
        ...
class Sequential(Module):
    """
    Runs its modules in order: Sequential(Linear(2, 16), ReLU(), Linear(16, 3)).
    """
    def __add__(self, other):
        ...
    def __delitem__(self, idx):
        ...
    def __getitem__(self, idx):
        ...
    def __iadd__(self, other):
        ...
    def __init__(self, *args):
        ...
    def __iter__(self):
        ...
    def __len__(self) -> builtins.int:
        ...
    def append(self, arg0: Module) -> Sequential:
        """
        Adds a module at the end.
        """
    def extend(self, sequential):
        """
        Appends every module of ``sequential`` (any iterable of modules); returns self.
        """
    def insert(self, index, module):
        """
        Inserts ``module`` before position ``index`` (keys renumbered 0, 1, ...); returns self.
        """
class ModuleList(Module):
    """
    A list of modules whose parameters are registered.
    """
    def __getitem__(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> Module:
        ...
    def __init__(self, modules: typing.Any = None) -> None:
        ...
    def __len__(self) -> builtins.int:
        ...
    def append(self, arg0: Module) -> ModuleList:
        """
        Adds a module at the end.
        """
class Identity(Module):
    """
    Returns its input.
    """
    def __init__(self) -> None:
        ...
class Flatten(Module):
    """
    Flattens dims start_dim..end_dim (default: all but the batch dim).
    """
    def __init__(self, start_dim: typing.SupportsInt | typing.SupportsIndex = 1, end_dim: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def end_dim(self) -> builtins.int:
        ...
    @property
    def start_dim(self) -> builtins.int:
        ...
class ReLU(Module):
    """
    max(x, 0).
    """
    def __init__(self, inplace: builtins.bool = False) -> None:
        ...
class LeakyReLU(Module):
    """
    x if x > 0 else negative_slope * x.
    """
    def __init__(self, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01, inplace: builtins.bool = False) -> None:
        ...
    @property
    def negative_slope(self) -> builtins.float:
        ...
class Sigmoid(Module):
    """
    1 / (1 + e^-x).
    """
    def __init__(self) -> None:
        ...
class Tanh(Module):
    """
    tanh x.
    """
    def __init__(self) -> None:
        ...
class Softplus(Module):
    """
    log(1 + e^(beta x)) / beta.
    """
    def __init__(self, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> None:
        ...
    @property
    def beta(self) -> builtins.float:
        ...
    @property
    def threshold(self) -> builtins.float:
        ...
class Softmax(Module):
    """
    softmax along dim.
    """
    def __init__(self, dim: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def dim(self) -> builtins.int:
        ...
class LogSoftmax(Module):
    """
    log_softmax along dim.
    """
    def __init__(self, dim: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def dim(self) -> builtins.int:
        ...
class GELU(Module):
    """
    x * Phi(x) (approximate='tanh' for the tanh formula).
    """
    def __init__(self, approximate: str = 'none') -> None:
        ...
    @property
    def approximate(self) -> str:
        ...
class Dropout(Module):
    """
    In training, zeroes each element with probability p and scales the rest by 1/(1-p); identity in eval().
    """
    def __init__(self, p: typing.SupportsFloat | typing.SupportsIndex = 0.5, inplace: builtins.bool = False) -> None:
        ...
    @property
    def p(self) -> builtins.float:
        ...
class BatchNorm1d(Module):
    """
    Normalises each feature of (N, C) or (N, C, L) over the batch; keeps running statistics for eval().
    """
    def __init__(self, num_features: typing.SupportsInt | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-05, momentum: typing.SupportsFloat | typing.SupportsIndex = 0.1, affine: builtins.bool = True, track_running_stats: builtins.bool = True, *, device: typing.Any = None, dtype: dtype | None = None) -> None:
        ...
    @property
    def eps(self) -> builtins.float:
        ...
    @property
    def momentum(self) -> builtins.float:
        ...
    @property
    def num_features(self) -> builtins.int:
        ...
class LayerNorm(Module):
    """
    Normalises over the trailing dims normalized_shape.
    """
    def __init__(self, normalized_shape: typing.Any, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-05, elementwise_affine: builtins.bool = True, *, device: typing.Any = None, dtype: dtype | None = None) -> None:
        ...
    @property
    def elementwise_affine(self) -> builtins.bool:
        ...
    @property
    def eps(self) -> builtins.float:
        ...
    @property
    def normalized_shape(self) -> tuple:
        ...
class Conv2d(Module):
    """
    2-D convolution (cross-correlation) of (N, C, H, W) with weight (O, C, kh, kw) and bias (O,).
    """
    def __init__(self, in_channels: typing.SupportsInt | typing.SupportsIndex, out_channels: typing.SupportsInt | typing.SupportsIndex, kernel_size: typing.Any, stride: typing.Any = 1, padding: typing.Any = 0, bias: builtins.bool = True, *, dtype: dtype | None = None) -> None:
        ...
    @property
    def in_channels(self) -> builtins.int:
        ...
    @property
    def out_channels(self) -> builtins.int:
        ...
class MaxPool2d(Module):
    """
    Max over each kernel_size window (stride defaults to kernel_size).
    """
    def __init__(self, kernel_size: typing.Any, stride: typing.Any = None, padding: typing.Any = 0) -> None:
        ...
class AvgPool2d(Module):
    """
    Mean over each kernel_size window (stride defaults to kernel_size).
    """
    def __init__(self, kernel_size: typing.Any, stride: typing.Any = None, padding: typing.Any = 0) -> None:
        ...
class Constraint:
    """
    A projection onto a closed convex set, applied to parameters after every optimizer step.
    """
    def __call__(self, param: Tensor) -> Tensor:
        """
        Projects param in place (under no-grad) and returns it.
        """
    def __repr__(self) -> str:
        ...
class Box(Constraint):
    """
    Clamps every element to [lo, hi].
    """
    def __init__(self, lo: typing.SupportsFloat | typing.SupportsIndex, hi: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def hi(self) -> builtins.float:
        ...
    @property
    def lo(self) -> builtins.float:
        ...
class NonNegative(Constraint):
    """
    Sets negative elements to 0.
    """
    def __init__(self) -> None:
        ...
class MaxNorm(Constraint):
    """
    Scales each row p[i] (the whole tensor if 0-d/1-d) down to L2 norm <= max_norm.
    """
    def __init__(self, max_norm: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def max_norm(self) -> builtins.float:
        ...
class OptimizerDefaults:
    """
    An optimizer's defaults, a dict as in torch (changes apply to groups added later).
    """
    def __contains__(self, key):
        ...
    def __eq__(self, other):
        ...
    def __getitem__(self, arg0: typing.Any) -> typing.Any:
        ...
    def __iter__(self) -> collections.abc.Iterator:
        ...
    def __len__(self) -> builtins.int:
        ...
    def __ne__(self, value):
        """
        Return self!=value.
        """
    def __repr__(self) -> str:
        ...
    def __setitem__(self, arg0: typing.Any, arg1: typing.Any) -> None:
        ...
    def get(self, key, default = None):
        """
        D.get(k[,d]) -> D[k] if k in D, else d.  d defaults to None.
        """
    def items(self):
        """
        D.items() -> a set-like object providing a view on D's items
        """
    def keys(self):
        """
        D.keys() -> a set-like object providing a view on D's keys
        """
    def setdefault(self, key, default = None):
        """
        D.setdefault(k[,d]) -> D.get(k,d), also set D[k]=d if k not in D
        """
    def update(self, other = tuple(), **kwds):
        """
         D.update([E, ]**F) -> None.  Update D from mapping/iterable E and F.
                    If E present and has a .keys() method, does:     for k in E: D[k] = E[k]
                    If E present and lacks .keys() method, does:     for (k, v) in E: D[k] = v
                    In either case, this is followed by: for k, v in F.items(): D[k] = v
                
        """
    def values(self):
        """
        D.values() -> an object providing a view on D's values
        """
class ParamGroup:
    """
    One param group of an optimizer, a dict as in torch.
    """
    def __contains__(self, key):
        ...
    def __delitem__(self, arg0: typing.Any) -> None:
        ...
    def __eq__(self, other):
        ...
    def __getitem__(self, arg0: typing.Any) -> typing.Any:
        ...
    def __iter__(self) -> collections.abc.Iterator:
        ...
    def __len__(self) -> builtins.int:
        ...
    def __ne__(self, value):
        """
        Return self!=value.
        """
    def __repr__(self) -> str:
        ...
    def __setitem__(self, arg0: typing.Any, arg1: typing.Any) -> None:
        ...
    def clear(self):
        """
        D.clear() -> None.  Remove all items from D.
        """
    def get(self, key, default = None):
        """
        D.get(k[,d]) -> D[k] if k in D, else d.  d defaults to None.
        """
    def items(self):
        """
        D.items() -> a set-like object providing a view on D's items
        """
    def keys(self):
        """
        D.keys() -> a set-like object providing a view on D's keys
        """
    def pop(self, key, default = ...):
        """
        D.pop(k[,d]) -> v, remove specified key and return the corresponding value.
                  If key is not found, d is returned if given, otherwise KeyError is raised.
                
        """
    def popitem(self):
        """
        D.popitem() -> (k, v), remove and return some (key, value) pair
                   as a 2-tuple; but raise KeyError if D is empty.
                
        """
    def setdefault(self, key, default = None):
        """
        D.setdefault(k[,d]) -> D.get(k,d), also set D[k]=d if k not in D
        """
    def update(self, other = tuple(), **kwds):
        """
         D.update([E, ]**F) -> None.  Update D from mapping/iterable E and F.
                    If E present and has a .keys() method, does:     for k in E: D[k] = E[k]
                    If E present and lacks .keys() method, does:     for (k, v) in E: D[k] = v
                    In either case, this is followed by: for k, v in F.items(): D[k] = v
                
        """
    def values(self):
        """
        D.values() -> an object providing a view on D's values
        """
class OptimizerStateView:
    """
    optimizer.state: parameter -> its state tensors.
    """
    def __contains__(self, arg0: typing.Any) -> builtins.bool:
        ...
    def __eq__(self, other):
        ...
    def __getitem__(self, arg0: typing.Any) -> dict:
        ...
    def __iter__(self) -> collections.abc.Iterator:
        ...
    def __len__(self) -> builtins.int:
        ...
    def __ne__(self, value):
        """
        Return self!=value.
        """
    def __repr__(self) -> str:
        ...
    def get(self, key, default = None):
        """
        D.get(k[,d]) -> D[k] if k in D, else d.  d defaults to None.
        """
    def items(self):
        """
        D.items() -> a set-like object providing a view on D's items
        """
    def keys(self):
        """
        D.keys() -> a set-like object providing a view on D's keys
        """
    def values(self):
        """
        D.values() -> an object providing a view on D's values
        """
class Optimizer:
    """
    The base of chainrule's optimizers (torch.optim.Optimizer's interface).
    """
    @typing.overload
    def __init__(self, name: str, params: typing.Any, defaults: dict, constraint: typing.Any = None) -> None:
        """
        name: the C++ optimizer ("SGD", "Adam", ...); params: tensors, (name, tensor) pairs or group dicts.
        """
    @typing.overload
    def __init__(self, params: typing.Any, defaults: dict) -> None:
        """
        torch's base class for your own optimizer: subclass it, call super().__init__(params, defaults) and write step() (self.param_groups, self.state[p] as in torch); schedulers work on it.
        """
    def __repr__(self) -> str:
        ...
    def add_param_group(self, param_group: typing.Any) -> None:
        """
        Adds a group (a dict with "params" and any hyperparameters to override), e.g. to train layers unfrozen later with their own lr.
        """
    def load_state_dict(self, state_dict: typing.Any) -> None:
        """
        Loads a state_dict() (same optimizer, same group sizes): state tensors are copied in and each group's hyperparameters replaced.
        """
    def state_dict(self) -> dict:
        """
        torch's layout, parameters numbered across the groups; the tensors are copies. Constraints are code, not state: they are not saved and a load keeps the optimizer's own.
        """
    def step(self, closure: typing.Any = None) -> typing.Any:
        """
        One update of every parameter that has a gradient, then the groups' constraints. closure, if given, re-evaluates the loss with grad mode on; its result is returned.
        """
    def zero_grad(self, set_to_none: builtins.bool = True) -> None:
        """
        Every gradient to None (as torch), or to zeros.
        """
    @property
    def defaults(self) -> OptimizerDefaults:
        ...
    @property
    def param_groups(self) -> list:
        ...
    @param_groups.setter
    def param_groups(self, arg1: typing.Any) -> None:
        ...
    @property
    def state(self) -> typing.Any:
        ...
class LRScheduler:
    """
    The base of the epoch-based schedulers: step() once per epoch, after optimizer.step(); base_lrs are the groups' "initial_lr".
    """
    def __repr__(self) -> str:
        ...
    def get_last_lr(self) -> list[builtins.float]:
        """
        The lrs the last step set, one per param group.
        """
    def load_state_dict(self, state_dict: dict) -> None:
        """
        Restores a state_dict() (the settings stay the constructor's).
        """
    def state_dict(self) -> dict:
        """
        torch's keys: the constructor's settings, base_lrs, last_epoch, _step_count, _last_lr.
        """
    def step(self, epoch: typing.Any = None) -> None:
        """
        Moves to the next epoch and sets each group's lr; epoch (deprecated in torch) jumps there by the closed form.
        """
    @property
    def base_lrs(self) -> list[builtins.float]:
        ...
    @base_lrs.setter
    def base_lrs(self, arg1: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> None:
        ...
    @property
    def last_epoch(self) -> builtins.int:
        ...
    @last_epoch.setter
    def last_epoch(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class StepLR(LRScheduler):
    """
    Multiplies each group's lr by gamma every step_size epochs.
    """
    _config: typing.ClassVar[tuple] = ('step_size', 'gamma')
    def __init__(self, optimizer: typing.Any, step_size: typing.SupportsInt | typing.SupportsIndex, gamma: typing.SupportsFloat | typing.SupportsIndex = 0.1, last_epoch: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def gamma(self) -> builtins.float:
        ...
    @property
    def optimizer(self) -> typing.Any:
        ...
    @property
    def step_size(self) -> builtins.int:
        ...
class MultiStepLR(LRScheduler):
    """
    Multiplies each group's lr by gamma at each milestone epoch (gamma**k for a milestone listed k times).
    """
    _config: typing.ClassVar[tuple] = ('milestones', 'gamma')
    def __init__(self, optimizer: typing.Any, milestones: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], gamma: typing.SupportsFloat | typing.SupportsIndex = 0.1, last_epoch: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def gamma(self) -> builtins.float:
        ...
    @property
    def milestones(self) -> list[builtins.int]:
        ...
    @property
    def optimizer(self) -> typing.Any:
        ...
class ExponentialLR(LRScheduler):
    """
    Multiplies each group's lr by gamma every epoch.
    """
    _config: typing.ClassVar[tuple] = ('gamma')
    def __init__(self, optimizer: typing.Any, gamma: typing.SupportsFloat | typing.SupportsIndex, last_epoch: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def gamma(self) -> builtins.float:
        ...
    @property
    def optimizer(self) -> typing.Any:
        ...
class CosineAnnealingLR(LRScheduler):
    """
    Anneals each lr along a half cosine from its initial value to eta_min at T_max: lr_t = eta_min + (base_lr - eta_min)(1 + cos(pi t / T_max)) / 2 (in PyTorch's recursive form, so a manual change of lr carries on; after T_max the cosine goes back up).
    """
    _config: typing.ClassVar[tuple] = ('T_max', 'eta_min')
    def __init__(self, optimizer: typing.Any, T_max: typing.SupportsInt | typing.SupportsIndex, eta_min: typing.SupportsFloat | typing.SupportsIndex = 0.0, last_epoch: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def T_max(self) -> builtins.int:
        ...
    @property
    def eta_min(self) -> builtins.float:
        ...
    @property
    def optimizer(self) -> typing.Any:
        ...
class LambdaLR(LRScheduler):
    """
    lr_t = base_lr * lr_lambda(t), one function per group.
    """
    _config: typing.ClassVar[tuple] = tuple()
    def __init__(self, optimizer: typing.Any, lr_lambdas: collections.abc.Sequence[collections.abc.Callable[[builtins.int], typing.SupportsFloat | typing.SupportsIndex]], last_epoch: typing.SupportsInt | typing.SupportsIndex = -1) -> None:
        ...
    @property
    def optimizer(self) -> typing.Any:
        ...
class ReduceLROnPlateau:
    """
    Multiplies each group's lr by factor when a metric stops improving. Call step(metric) once per epoch. The metric improved if it is below best * (1 - threshold) (mode "min", threshold_mode "rel"), below best - threshold ("abs"), or above best * (1 + threshold) / best + threshold in mode "max". After more than patience epochs without improvement the lrs are cut (not below min_lr, a number or one per group; cuts smaller than eps are skipped) and cooldown epochs are ignored.
    """
    def __init__(self, optimizer: typing.Any, mode: str = 'min', factor: typing.SupportsFloat | typing.SupportsIndex = 0.1, patience: typing.SupportsInt | typing.SupportsIndex = 10, threshold: typing.SupportsFloat | typing.SupportsIndex = 0.0001, threshold_mode: str = 'rel', cooldown: typing.SupportsInt | typing.SupportsIndex = 0, min_lr: typing.Any = 0.0, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-08) -> None:
        ...
    def get_last_lr(self) -> list[builtins.float]:
        ...
    def load_state_dict(self, state_dict: dict) -> None:
        ...
    def state_dict(self) -> dict:
        """
        torch's keys: the settings, best, num_bad_epochs, cooldown_counter, last_epoch, min_lrs, _last_lr.
        """
    def step(self, metrics: typing.Any, epoch: typing.Any = None) -> None:
        """
        Records this epoch's metric and cuts the lrs if it has stopped improving.
        """
    @property
    def best(self) -> builtins.float:
        ...
    @best.setter
    def best(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def cooldown(self) -> builtins.int:
        ...
    @property
    def cooldown_counter(self) -> builtins.int:
        ...
    @cooldown_counter.setter
    def cooldown_counter(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def eps(self) -> builtins.float:
        ...
    @property
    def factor(self) -> builtins.float:
        ...
    @property
    def in_cooldown(self) -> builtins.bool:
        ...
    @property
    def last_epoch(self) -> builtins.int:
        ...
    @last_epoch.setter
    def last_epoch(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def min_lrs(self) -> list[builtins.float]:
        ...
    @property
    def mode(self) -> str:
        ...
    @property
    def num_bad_epochs(self) -> builtins.int:
        ...
    @num_bad_epochs.setter
    def num_bad_epochs(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def optimizer(self) -> typing.Any:
        ...
    @property
    def patience(self) -> builtins.int:
        ...
    @property
    def threshold(self) -> builtins.float:
        ...
    @property
    def threshold_mode(self) -> str:
        ...
class LinAlgError(RuntimeError):
    """
    Raised when a matrix can't be factorised (singular for inv/solve, not positive-definite for cholesky). A RuntimeError subclass, as torch.linalg.LinAlgError.
    """
class Generator:
    """
    A random number generator, as torch.Generator: pass it as ``generator=`` to cr.rand, randn,
    randint, randperm, Tensor.uniform_/normal_, cr.nn.init functions and DataLoader/random_split so that
    one stream of numbers is independent of the global one (cr.manual_seed).
    
    ``g = cr.Generator().manual_seed(0)`` (manual_seed returns the generator). The same seed gives the
    same numbers as ``cr.manual_seed(seed)`` does for the global generator, on every platform. The
    numbers are not torch's: chainrule uses a 64-bit Mersenne Twister (mt19937_64) with its own
    uniform/normal transforms, so streams can't match torch's bit for bit.
    """
    def __init__(self, device: typing.Any = None) -> None:
        """
        A new generator, seeded with torch's default seed 67280421310721.
        """
    def _next_u64(self) -> builtins.int:
        """
        Internal: 64 random bits (for seeding other generators).
        """
    def get_state(self) -> Tensor:
        """
        The generator's state as an int64 tensor (for set_state).
        """
    def initial_seed(self) -> builtins.int:
        """
        The seed the generator was last seeded with.
        """
    def manual_seed(self, seed: typing.Any) -> Generator:
        """
        Seeds the generator and returns it: g = cr.Generator().manual_seed(0).
        """
    def seed(self) -> builtins.int:
        """
        Seeds the generator from the operating system's entropy and returns the seed.
        """
    def set_state(self, new_state: Tensor) -> Generator:
        """
        Restores a state from get_state(); returns the generator.
        """
    @property
    def device(self) -> typing.Any:
        """
        cr.device('cpu').
        """
class _ProbeCall:
    """
    One module call measured by a _Probe.
    """
    def drop_values(self) -> None:
        ...
    @property
    def dead(self) -> typing.Any:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def out(self) -> typing.Any:
        ...
    @property
    def out_grad(self) -> typing.Any:
        ...
    @property
    def output(self) -> typing.Any:
        ...
    @property
    def pre(self) -> typing.Any:
        ...
    @property
    def saturated(self) -> typing.Any:
        ...
    @property
    def shape(self) -> tuple:
        ...
    @property
    def values(self) -> typing.Any:
        ...
class _Probe:
    """
    Forward hooks (C++) measuring each call of the given modules until remove(): _Probe([(name, module, kind), ...], keep_values, keep_output, saturation_level, params); kind 0 plain, 1 activation, 2 ReLU-like, 3 Tanh, 4 Sigmoid.
    """
    def __init__(self, targets: collections.abc.Sequence[tuple[str, Module, typing.SupportsInt | typing.SupportsIndex]], keep_values: builtins.bool = False, keep_output: builtins.bool = False, saturation_level: typing.SupportsFloat | typing.SupportsIndex = 0.97, params: collections.abc.Sequence[Tensor] = []) -> None:
        ...
    def calls(self) -> list[_ProbeCall]:
        ...
    def held(self) -> dict:
        ...
    def remove(self) -> None:
        ...
class _StepRecord:
    """
    What a _StepSampler measured on one optimizer step (stats as _tensor_stats tuples).
    """
    def calls(self) -> list[_ProbeCall]:
        ...
    def held(self) -> dict:
        ...
    @property
    def grad_copies(self) -> dict:
        ...
    @property
    def grads(self) -> list:
        ...
    @property
    def latest(self) -> builtins.bool:
        ...
    @property
    def requires_grad(self) -> typing.Any:
        ...
    @property
    def update(self) -> list:
        ...
    @property
    def values(self) -> list:
        ...
class _StepSampler:
    """
    nn::StepSampler for cr.doctor.watch: _StepSampler([(name, module, kind), ...], params, saturation_level); arm() before a sampled step's forward, before() -> _StepRecord just before the optimizer step, after(record) after it.
    """
    def __init__(self, targets: collections.abc.Sequence[tuple[str, typing.Any, typing.SupportsInt | typing.SupportsIndex]], params: collections.abc.Sequence[Tensor], saturation_level: typing.SupportsFloat | typing.SupportsIndex = 0.97) -> None:
        ...
    def after(self, arg0: _StepRecord) -> None:
        ...
    def arm(self) -> None:
        ...
    def before(self) -> _StepRecord:
        ...
    def disarm(self) -> None:
        ...
def _arange(arg0: typing.SupportsFloat | typing.SupportsIndex, arg1: typing.SupportsFloat | typing.SupportsIndex, arg2: typing.SupportsFloat | typing.SupportsIndex, arg3: dtype) -> Tensor:
    ...
def _autograd_backward(arg0: collections.abc.Sequence[Tensor], arg1: collections.abc.Sequence[Tensor | None], arg2: builtins.bool | None, arg3: builtins.bool) -> None:
    ...
def _autograd_grad(arg0: collections.abc.Sequence[Tensor], arg1: collections.abc.Sequence[Tensor], arg2: collections.abc.Sequence[Tensor | None], arg3: builtins.bool | None, arg4: builtins.bool, arg5: builtins.bool) -> tuple:
    ...
def _build_config() -> list[tuple[str, str]]:
    ...
def _current_dual_level() -> builtins.int:
    ...
def _empty(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _enter_dual_level() -> builtins.int:
    ...
def _exit_dual_level(arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def _eye(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: dtype) -> Tensor:
    ...
def _full(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: typing.Any, arg2: dtype) -> Tensor:
    ...
def _func_grad_and_value(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: str) -> tuple[list[Tensor], Tensor]:
    ...
def _func_hvp(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: collections.abc.Sequence[Tensor]) -> list[Tensor]:
    ...
def _func_jacfwd(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: str) -> list[list[Tensor]]:
    ...
def _func_jacrev(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: str) -> list[list[Tensor]]:
    ...
def _func_jvp(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: collections.abc.Sequence[Tensor], arg3: str) -> tuple[list[Tensor], list[Tensor]]:
    ...
def _func_linearize(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor]) -> tuple[list[Tensor], collections.abc.Callable]:
    ...
def _func_vjp(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: str) -> tuple[list[Tensor], collections.abc.Callable]:
    ...
def _gemm_backend() -> str:
    ...
def _gradcheck(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: typing.SupportsFloat | typing.SupportsIndex, arg3: typing.SupportsFloat | typing.SupportsIndex, arg4: typing.SupportsFloat | typing.SupportsIndex) -> tuple[builtins.bool, str]:
    ...
def _gradgradcheck(arg0: collections.abc.Callable, arg1: collections.abc.Sequence[Tensor], arg2: typing.SupportsFloat | typing.SupportsIndex, arg3: typing.SupportsFloat | typing.SupportsIndex, arg4: typing.SupportsFloat | typing.SupportsIndex) -> tuple[builtins.bool, str]:
    ...
def _guard(arg0: typing.Any) -> typing.Any:
    """
    Wraps a bound function so a call matching none of its signatures raises a one-line TypeError.
    """
def _is_anomaly_check_forward_enabled() -> builtins.bool:
    ...
def _is_anomaly_check_nan_enabled() -> builtins.bool:
    ...
def _is_anomaly_enabled() -> builtins.bool:
    ...
def _is_warn_forgotten_zero_grad_enabled() -> builtins.bool:
    ...
def _linalg_cholesky(arg0: Tensor, arg1: builtins.bool) -> Tensor:
    ...
def _linalg_det(arg0: Tensor) -> Tensor:
    ...
def _linalg_eigh(arg0: Tensor, arg1: str) -> tuple[Tensor, Tensor]:
    ...
def _linalg_eigvalsh(arg0: Tensor, arg1: str) -> Tensor:
    ...
def _linalg_inv(arg0: Tensor) -> Tensor:
    ...
def _linalg_matrix_norm(arg0: Tensor, arg1: typing.Any, arg2: typing.Any, arg3: builtins.bool) -> Tensor:
    ...
def _linalg_slogdet(arg0: Tensor) -> tuple[Tensor, Tensor]:
    ...
def _linalg_solve(A: Tensor, B: Tensor, left: builtins.bool = True) -> Tensor:
    ...
def _linalg_svdvals(arg0: Tensor) -> Tensor:
    ...
def _linalg_vector_norm(arg0: Tensor, arg1: typing.Any, arg2: typing.Any, arg3: builtins.bool) -> Tensor:
    ...
def _linspace(arg0: typing.SupportsFloat | typing.SupportsIndex, arg1: typing.SupportsFloat | typing.SupportsIndex, arg2: typing.SupportsInt | typing.SupportsIndex, arg3: dtype) -> Tensor:
    ...
def _load_safetensors(path: str) -> tuple[typing.Any, dict]:
    """
    Reads a safetensors file, validated: ([(name, tensor), ...] in file order, metadata dict).
    """
def _make_dual(arg0: Tensor, arg1: Tensor) -> Tensor:
    ...
def _max_dim(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: builtins.bool) -> tuple[Tensor, Tensor]:
    ...
def _meshgrid(arg0: collections.abc.Sequence[Tensor], arg1: str) -> tuple:
    ...
def _min_dim(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: builtins.bool) -> tuple[Tensor, Tensor]:
    ...
def _next_node_seq() -> builtins.int:
    ...
def _observe_backward(arg0: collections.abc.Callable, arg1: collections.abc.Callable) -> typing.Any:
    ...
def _ones(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _rand(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _rand_g(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype, arg2: Generator) -> Tensor:
    ...
def _randint(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def _randint_g(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg3: Generator) -> Tensor:
    ...
def _randn(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def _randn_g(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype, arg2: Generator) -> Tensor:
    ...
def _randperm_g(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: Generator) -> Tensor:
    ...
def _record_function(arg0: str, arg1: Tensor, arg2: collections.abc.Sequence[Tensor], arg3: builtins.bool, arg4: collections.abc.Callable) -> Tensor:
    ...
def _return_types() -> dict:
    ...
def _save_safetensors(tensors: collections.abc.Sequence[tuple[str, Tensor]], metadata: dict, path: str) -> None:
    """
    Writes (name, tensor) pairs and a str -> str metadata dict to path as safetensors, atomically.
    """
def _set_anomaly_enabled(enabled: builtins.bool, check_nan: builtins.bool = True, check_forward: builtins.bool = True) -> None:
    ...
def _set_explain(arg0: typing.Any) -> None:
    ...
def _set_gemm_backend(arg0: str) -> builtins.bool:
    ...
def _set_grad_enabled(arg0: builtins.bool) -> None:
    ...
def _set_warn_forgotten_zero_grad(enabled: builtins.bool) -> None:
    ...
def _sizes(arg0: str, *args) -> list[builtins.int]:
    ...
def _tensor_stats(input: Tensor, minus: Tensor | None = None) -> typing.Any:
    """
    (numel, nan count, inf count, mean, std, sum of squares) of a floating tensor's elements (of input - minus, subtracted in float64, when given) in float64, no graph (cr.doctor's statistics).
    """
def _unpack_dual(arg0: Tensor) -> tuple[Tensor, typing.Any]:
    ...
def _zeros(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: dtype) -> Tensor:
    ...
def abs(input: Tensor) -> Tensor:
    """
    |x| elementwise. Its derivative is sign(x) (0 at 0).
    """
def acos(input: Tensor) -> Tensor:
    """
    arccos x (nan outside [-1, 1]). d/dx = -1/sqrt(1 - x^2). Example: cr.acos(cr.tensor([1.])) -> [0.].
    """
def acosh(input: Tensor) -> Tensor:
    """
    arcosh x (nan below 1). d/dx = 1/sqrt(x^2 - 1). Example: cr.acosh(cr.tensor([1.])) -> [0.].
    """
def add(input: Tensor, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
    """
    input + alpha * other, broadcasting. Example: cr.add(x, y, alpha=2).
    """
def all(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
    """
    True where every element (over dim, or all; axis= is an alias) is nonzero; a bool tensor (nan counts as nonzero, an empty tensor gives True). Example: cr.all(cr.tensor([1, 0])) -> False.
    """
def allclose(input: Tensor, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: builtins.bool = False) -> builtins.bool:
    """
    True if isclose holds everywhere (a Python bool). Example: cr.allclose(x, x + 1e-9) -> True.
    """
def amax(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
    """
    Max over dims (axis= is an alias); tied maxima share the gradient evenly. Example: cr.amax(x, dim=(0, 1)).
    """
def amin(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
    """
    Min over dims (axis= is an alias); tied minima share the gradient evenly.
    """
def any(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
    """
    True where some element (over dim, or all; axis= is an alias) is nonzero; a bool tensor (an empty tensor gives False). Example: cr.any(cr.tensor([0., 2.])) -> True.
    """
def arccos(input: Tensor) -> Tensor:
    """
    Alias of acos.
    """
def arccosh(input: Tensor) -> Tensor:
    """
    Alias of acosh.
    """
def arcsin(input: Tensor) -> Tensor:
    """
    Alias of asin.
    """
def arcsinh(input: Tensor) -> Tensor:
    """
    Alias of asinh.
    """
def arctan(input: Tensor) -> Tensor:
    """
    Alias of atan.
    """
def arctan2(input: Tensor, other: Tensor) -> Tensor:
    """
    Alias of atan2.
    """
def arctanh(input: Tensor) -> Tensor:
    """
    Alias of atanh.
    """
def argmax(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
    """
    Index of the max (int64): of the flattened tensor, or along dim (axis= is an alias). The first one wins ties; nan counts as the largest.
    """
def argmin(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
    """
    Index of the min (int64): of the flattened tensor, or along dim (axis= is an alias). The first one wins ties.
    """
def argsort(input: Tensor, dim: typing.Any = None, descending: builtins.bool = False, *, stable: builtins.bool = False, axis: typing.Any = None) -> Tensor:
    """
    The indices that sort input along dim (sort(...).indices; int64, not differentiable). Example: cr.argsort(cr.tensor([3., 1., 2.])) -> [1, 2, 0].
    """
def asin(input: Tensor) -> Tensor:
    """
    arcsin x (nan outside [-1, 1]). d/dx = 1/sqrt(1 - x^2) (inf at ±1). Example: cr.asin(cr.tensor([1.])) -> [1.5708].
    """
def asinh(input: Tensor) -> Tensor:
    """
    arsinh x. d/dx = 1/sqrt(x^2 + 1). Example: cr.asinh(cr.tensor([0.])) -> [0.].
    """
def atan(input: Tensor) -> Tensor:
    """
    arctan x. d/dx = 1/(1 + x^2). Example: cr.atan(cr.tensor([1.])) -> [0.7854].
    """
def atan2(input: Tensor, other: Tensor) -> Tensor:
    """
    The angle of the point (other, input) in (-pi, pi], broadcasting. d/dinput = other/(input^2 + other^2), d/dother = -input/(input^2 + other^2). Example: cr.atan2(cr.tensor([1.]), cr.tensor([-1.])) -> [2.3562].
    """
def atanh(input: Tensor) -> Tensor:
    """
    artanh x (±inf at ±1, nan outside). d/dx = 1/(1 - x^2). Example: cr.atanh(cr.tensor([0.5])) -> [0.5493].
    """
def bitwise_and(input: Tensor, other: Tensor) -> Tensor:
    """
    Bitwise and of int64 tensors, logical and of bool tensors (a & b).
    """
def bitwise_not(input: Tensor) -> Tensor:
    """
    Bitwise not of an int64 tensor (~a = -a - 1), logical not of a bool tensor.
    """
def bitwise_or(input: Tensor, other: Tensor) -> Tensor:
    """
    Bitwise or of int64 tensors, logical or of bool tensors (a | b).
    """
def bitwise_xor(input: Tensor, other: Tensor) -> Tensor:
    """
    Bitwise xor of int64 tensors, logical xor of bool tensors (a ^ b).
    """
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """
    Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m); 3-D only, no broadcasting (matmul broadcasts).
    dA = G @ B^T, dB = A^T @ G per batch. Example: cr.bmm(cr.ones(2, 3, 4), cr.ones(2, 4, 5)).shape -> (2, 3, 5)
    """
def broadcast_to(input: Tensor, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Broadcasts to shape (the gradient is summed back).
    """
def cat(tensors: collections.abc.Sequence[Tensor], dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Concatenates tensors along an existing dim.
    """
def ceil(input: Tensor) -> Tensor:
    """
    Smallest integer >= x (int64 stays int64). Its derivative is 0. Example: cr.ceil(cr.tensor([-1.5])) -> [-1.].
    """
def chunk(input: Tensor, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    Splits into `chunks` nearly equal pieces.
    """
def clamp(input: Tensor, min: typing.Any = None, max: typing.Any = None) -> Tensor:
    """
    Limits values to [min, max]; min and max may be numbers or tensors (broadcast), either may be None; where min > max the result is max. The gradient is 1 inside [min, max], 0 outside; a tensor bound gets the gradient where it is the result. Example: cr.clamp(x, min=0.0).
    """
def clip(input: Tensor, min: typing.Any = None, max: typing.Any = None) -> Tensor:
    """
    Alias of clamp.
    """
def copysign(input: Tensor, other: typing.Any) -> Tensor:
    """
    |input| with the sign of other (float result; -0.0 counts as negative). d/dinput = ±1 (0 at input = 0), d/dother = 0. Example: cr.copysign(cr.tensor([2.]), -1.) -> [-2.].
    """
def cos(input: Tensor) -> Tensor:
    """
    cos x elementwise. d/dx cos x = -sin x.
    """
def cosh(input: Tensor) -> Tensor:
    """
    cosh x elementwise. d/dx cosh x = sinh x. Example: cr.cosh(cr.tensor([0.])) -> [1.].
    """
def cumprod(input: Tensor, dim: typing.Any = None, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
    """
    Running products along dim (axis= is an alias): y_i = x_0 * ... * x_i. bool/int64 -> int64. d y_k / d x_i = prod_{j <= k, j != i} x_j (exact with zeros in x, also the second derivative). Example: cr.cumprod(cr.tensor([1., 2., 3.]), 0) -> [1., 2., 6.].
    """
def cumsum(input: Tensor, dim: typing.Any = None, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
    """
    Running sums along dim (axis= is an alias): y_i = x_0 + ... + x_i. bool/int64 -> int64. The gradient is the running sum of the output gradient from the other end. Example: cr.cumsum(cr.tensor([1, 2, 3]), 0) -> [1, 3, 6].
    """
def det(input: Tensor) -> Tensor:
    """
    Determinant of each (..., n, n) matrix (torch.det = torch.linalg.det). d det(A)/dA = det(A) A^-T.
    """
def diag(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    1-D v -> the square matrix with v on diagonal `diagonal` (> 0 above, < 0 below the main one);
    2-D A -> a copy of A's diagonal `diagonal`. Linear, so its gradient is diag again.
    Example: cr.diag(cr.tensor([1., 2.])) -> tensor([[1., 0.], [0., 2.]])
    """
def diag_embed(input: Tensor) -> Tensor:
    """
    (..., n) -> (..., n, n) with the last dim on the diagonal (torch.diag_embed with default arguments).
    Example: cr.diag_embed(cr.ones(2, 3)).shape -> (2, 3, 3)
    """
def diagonal(input: Tensor, offset: typing.SupportsInt | typing.SupportsIndex = 0, dim1: typing.SupportsInt | typing.SupportsIndex = 0, dim2: typing.SupportsInt | typing.SupportsIndex = 1) -> Tensor:
    """
    The diagonal of each (dim1, dim2) plane as a new last dim (offset > 0: above it). A view.
    """
def div(input: Tensor, other: typing.Any, *, rounding_mode: typing.Any = None) -> Tensor:
    """
    input / other, broadcasting: true division (int64 -> float32), or rounded with rounding_mode='trunc' (toward zero) or 'floor' (down; int64 stays int64, derivative 0). Example: cr.div(x, 2, rounding_mode='floor').
    """
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """
    Dot product of two 1-D tensors of the same size and dtype: sum(a * b).
    d/da = g * b, d/db = g * a. Example: cr.dot(cr.tensor([1., 2.]), cr.tensor([3., 4.])) -> tensor(11.)
    """
def einsum(equation: str, *args) -> Tensor:
    """
    Einstein summation, as torch.einsum(equation, *operands): each operand's dims are named by letters;
    letters shared between operands are multiplied, letters missing from the output are summed.
    'ij,jk->ik' (matmul), 'i,i->' (dot), 'ij->ji' (transpose), 'ii->i' (diagonal), 'ii->' (trace),
    'bij,bjk->bik' (bmm), 'i,j->ij' (outer), 'ij,j->i' (mv), '...ij,...jk->...ik' (batched).
    Without '->' the output is the letters used once, in alphabetical order ('ij,jk' = 'ij,jk->ik').
    Differentiable (built from diagonal, permute, reshape, matmul and sum).
    Example: cr.einsum('ij,jk->ik', A, B) equals A @ B.
    """
def eq(input: Tensor, other: typing.Any) -> Tensor:
    """
    input == other elementwise -> bool tensor.
    """
def erf(input: Tensor) -> Tensor:
    """
    The error function. d/dx erf(x) = 2/sqrt(pi) e^(-x^2).
    """
def exp(input: Tensor) -> Tensor:
    """
    e^x elementwise. d/dx e^x = e^x. Example: cr.exp(cr.tensor([0., 1.])) -> [1.0000, 2.7183].
    """
def exp2(input: Tensor) -> Tensor:
    """
    2^x elementwise. d/dx = 2^x ln 2. Example: cr.exp2(cr.tensor([3.])) -> [8.].
    """
def expand(input: Tensor, size: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Broadcasts to size (-1 keeps a dim, new dims may be prepended); the gradient is summed back.
    """
def expm1(input: Tensor) -> Tensor:
    """
    e^x - 1, accurate for small x. d/dx = e^x. Example: cr.expm1(cr.tensor([1e-10])) -> [1e-10].
    """
def fix(input: Tensor) -> Tensor:
    """
    Alias of trunc.
    """
def flatten(input: Tensor, start_dim: typing.SupportsInt | typing.SupportsIndex = 0, end_dim: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
    """
    Merges dims start_dim..end_dim into one.
    """
def flip(input: Tensor, dims: typing.Any) -> Tensor:
    """
    A copy with the order of elements reversed along dims (an int or a tuple): ``cr.flip(x, (0,))``.
    The gradient is flipped back. Example: cr.flip(cr.arange(3), (0,)) -> tensor([2, 1, 0]).
    """
def fliplr(input: Tensor) -> Tensor:
    """
    Reversed along dim 1 (left/right), for tensors with >= 2 dims. A copy.
    """
def flipud(input: Tensor) -> Tensor:
    """
    Reversed along dim 0 (up/down), for tensors with >= 1 dim. A copy.
    """
def floor(input: Tensor) -> Tensor:
    """
    Largest integer <= x (int64 stays int64). Its derivative is 0. Example: cr.floor(cr.tensor([-1.5])) -> [-2.].
    """
def floor_divide(input: typing.Any, other: typing.Any) -> Tensor:
    """
    floor(input / other) (Python's //); int64 stays int64, integer division by zero raises. Not differentiable (backward raises, as in torch; div(..., rounding_mode='floor') has derivative 0). Example: cr.tensor([-3]) // 2 -> [-2].
    """
def fmod(input: Tensor, other: typing.Any) -> Tensor:
    """
    Remainder of input / other with the sign of input (C's fmod): fmod(-3, 2) = -1. Integer division by zero raises. d/dinput = 1, d/dother = -trunc(input/other). Example: cr.fmod(cr.tensor([-3.]), 2) -> [-1.].
    """
def frac(input: Tensor) -> Tensor:
    """
    x - trunc(x) (sign of x). d/dx = 1. Example: cr.frac(cr.tensor([-1.25])) -> [-0.25].
    """
def from_dlpack(ext_tensor: typing.Any) -> Tensor:
    """
    A tensor sharing memory with any CPU object that supports DLPack (torch tensors, NumPy arrays).
    """
def from_numpy(array: numpy.ndarray) -> Tensor:
    """
    A tensor sharing memory (and strides) with a float32/float64/int64/bool NumPy array.
    """
def gather(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
    """
    out[i][j] = input[i][index[i][j]] (dim=1); e.g. the score of each sample's class.
    """
def ge(input: Tensor, other: typing.Any) -> Tensor:
    """
    input >= other elementwise -> bool tensor.
    """
def get_default_dtype() -> dtype:
    """
    The dtype factories give floating tensors (cr.float32 unless set).
    """
def get_num_threads() -> builtins.int:
    """
    Threads chainrule's kernels and matrix products use.
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
def initial_seed() -> builtins.int:
    """
    The seed the global generator was last seeded with.
    """
def inverse(input: Tensor) -> Tensor:
    """
    Inverse of each (..., n, n) matrix (torch.inverse = torch.linalg.inv); a singular matrix raises
    cr.linalg.LinAlgError. dA = -A^-T G A^-T.
    """
def is_grad_enabled() -> builtins.bool:
    """
    Whether ops record the graph (False inside no_grad).
    """
def isclose(input: Tensor, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: builtins.bool = False) -> Tensor:
    """
    |input - other| <= atol + rtol * |other| elementwise (bool tensor); equal infinities are close, nan only with equal_nan=True. Same dtypes required, as torch.
    """
def isfinite(input: Tensor) -> Tensor:
    """
    True where x is neither inf nor nan (bool tensor).
    """
def isinf(input: Tensor) -> Tensor:
    """
    True where x is +inf or -inf (bool tensor).
    """
def isnan(input: Tensor) -> Tensor:
    """
    True where x is nan (bool tensor; int64 and bool are never nan).
    """
def isneginf(input: Tensor) -> Tensor:
    """
    True where x is -inf (bool tensor).
    """
def isposinf(input: Tensor) -> Tensor:
    """
    True where x is +inf (bool tensor).
    """
def le(input: Tensor, other: typing.Any) -> Tensor:
    """
    input <= other elementwise -> bool tensor.
    """
def leaky_relu(input: Tensor, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01) -> Tensor:
    """
    x where x > 0, else negative_slope * x.
    """
def lerp(input: Tensor, end: Tensor, weight: typing.Any) -> Tensor:
    """
    input + weight * (end - input), weight a number or a tensor (broadcast). d/dinput = 1 - weight, d/dend = weight, d/dweight = end - input. Example: cr.lerp(cr.tensor([0.]), cr.tensor([10.]), 0.3) -> [3.].
    """
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """
    x @ weight.T + bias; x (..., in), weight (out, in), bias (out,).
    """
def log(input: Tensor) -> Tensor:
    """
    Natural log elementwise. d/dx ln x = 1/x.
    """
def log10(input: Tensor) -> Tensor:
    """
    Base-10 log. d/dx = 1/(x ln 10). Example: cr.log10(cr.tensor([100.])) -> [2.].
    """
def log1p(input: Tensor) -> Tensor:
    """
    ln(1 + x), accurate for small x (log1p(-1) = -inf). d/dx = 1/(1 + x). Example: cr.log1p(cr.tensor([1e-10])) -> [1e-10].
    """
def log2(input: Tensor) -> Tensor:
    """
    Base-2 log. d/dx = 1/(x ln 2). Example: cr.log2(cr.tensor([8.])) -> [3.].
    """
def log_softmax(input: Tensor, dim: typing.Any = None, dtype: dtype | None = None, *, axis: typing.Any = None) -> Tensor:
    """
    x - logsumexp(x) along dim (axis= is an alias), computed stably; with dtype the input is converted first. d/dx_j = δ_ij - softmax(x)_j.
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
def logsumexp(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> Tensor:
    """
    log(sum(exp(x))) over dim (axis= is an alias), computed stably (logits of 1e4 are fine). Its gradient is softmax(x).
    """
def lt(input: Tensor, other: typing.Any) -> Tensor:
    """
    input < other elementwise -> bool tensor.
    """
def manual_seed(seed: typing.Any) -> typing.Any:
    """
    Seeds the global generator and returns it (cr.default_generator): the same seed gives the same numbers
    on every machine, and the same as cr.Generator().manual_seed(seed) gives.
    """
def masked_fill(input: Tensor, mask: Tensor, value: typing.Any) -> Tensor:
    """
    A copy of input with ``value`` where ``mask`` is True (mask: a bool tensor broadcast with input).
    
    The result keeps input's dtype (an int64 input truncates a float value); ``value`` is a number or
    a 0-d tensor. Derivatives: d/dinput is 1 where the mask is False, 0 where it is True; a 0-d value
    tensor that requires grad gets the sum of the gradient over the masked positions.
    Example: ``scores.masked_fill(~causal, float('-inf'))`` before a softmax.
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
def mean(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
    """
    Mean over dim (int, tuple, or None for all; axis= is an alias). Floating tensors only (or give dtype=). d/dx = 1/N. Example: x.mean(0).
    """
def median(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, axis: typing.Any = None) -> typing.Any:
    """
    Median: of all elements, the lower median (the element of rank (N - 1) // 2) as a 0-d tensor, nan if
    any element is nan; with dim (axis= is an alias), a named tuple (values, indices) along it.
    The gradient goes to the selected element (tied medians of the whole tensor share it evenly).
    Example: cr.median(cr.tensor([3., 1., 2., 4.])) -> 2.
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
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """
    Matrix-vector product: (n, m) @ (m,) -> (n,). dA = outer(g, x), dx = A.T @ g.
    Example: cr.mv(cr.eye(2), cr.tensor([1., 2.])) -> tensor([1., 2.])
    """
def narrow(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, start: typing.SupportsInt | typing.SupportsIndex, length: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    x[start:start+length] along dim. A view.
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
def norm(input: Tensor, p: typing.Any = 'fro', dim: typing.Any = None, keepdim: builtins.bool = False) -> Tensor:
    """
    torch.norm: p='fro' (default) or a number gives the vector p-norm over dim (all elements when dim is
    None): (sum |x|^p)^(1/p); p=inf: max |x|; p=0: the count of nonzeros; p='nuc' the nuclear norm of a
    matrix (sum of singular values). Its gradient at x = 0 is 0 (not nan), as torch's.
    Example: cr.norm(cr.tensor([3., 4.])) -> tensor(5.)
    """
def one_hot(tensor: Tensor, num_classes: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
    """
    int64 labels (...) -> int64 (..., num_classes) with a 1 at each label.
    """
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """
    Outer product of 1-D tensors: out[i, j] = a[i] * b[j], shape (n, m).
    d/da = G @ b, d/db = G.T @ a. Example: cr.outer(cr.tensor([1., 2.]), cr.tensor([1., 0., -1.])).shape -> (2, 3)
    """
def permute(input: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Reorders the dims: permute(x, (2, 0, 1)).
    """
def pow(input: typing.Any, exponent: typing.Any) -> Tensor:
    """
    input ** exponent elementwise; either may be a number. d/dx x^p = p x^(p-1).
    """
def prod(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
    """
    Product of all elements, or along one dim (axis= is an alias). bool/int64 -> int64; an empty product is 1.
    d/dx_i = prod_{j != i} x_j, computed without division, so inputs with one or several zeros get
    exact first and second derivatives. Example: cr.prod(cr.tensor([2., 3., 4.])) -> 24.
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
def remainder(input: typing.Any, other: typing.Any) -> Tensor:
    """
    Remainder with the sign of other (Python's %): remainder(-3, 2) = 1. Integer division by zero raises. d/dinput = 1, d/dother = -floor(input/other). Example: cr.tensor([-3.]) % 2 -> [1.].
    """
def reshape(input: Tensor, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Same data with a new shape (one dim may be -1): a view when the strides allow, else a copy.
    """
def roll(input: Tensor, shifts: typing.Any, dims: typing.Any = None) -> Tensor:
    """
    A copy with the elements shifted by ``shifts`` along ``dims`` (ints or tuples of equal length),
    wrapping around: cr.roll(cr.arange(4), 1) -> tensor([3, 0, 1, 2]). Shifts may be negative or larger
    than the dim. With dims=None the tensor is rolled flattened, then given its shape back. The
    gradient is rolled back by -shifts.
    """
def round(input: Tensor, *, decimals: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Rounds half to even (2.5 -> 2, as torch and NumPy); decimals=d rounds to d digits after the point (negative: before it). Its derivative is 0. Example: cr.round(cr.tensor([1.2345]), decimals=2) -> [1.23].
    """
def rsqrt(input: Tensor) -> Tensor:
    """
    1 / sqrt(x) (inf at 0, nan below). d/dx = -x^(-3/2) / 2. Example: cr.rsqrt(cr.tensor([4.])) -> [0.5].
    """
def scatter_add(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> Tensor:
    """
    A copy of input with src added at the positions index gives along dim (the inverse of gather).
    """
def seed() -> builtins.int:
    """
    Seeds the global generator from the operating system's entropy and returns the seed.
    """
def select(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    x[index] along dim (removes dim). A view.
    """
def set_default_dtype(d: typing.Any) -> None:
    """
    Sets the dtype that factories give floating tensors when no dtype is passed (as
    torch.set_default_dtype): cr.tensor([1.5]), cr.zeros(2), cr.rand(2), cr.arange(0., 1., .5), layers'
    parameters, and int tensors promoted to float (cr.arange(3) / 2). Only cr.float32 (the default) and
    cr.float64; integers stay int64. Example: cr.set_default_dtype(cr.float64) for calculus notebooks.
    """
def set_num_threads(num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Threads for chainrule's kernels and matrix products (as torch.set_num_threads).
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
def sinh(input: Tensor) -> Tensor:
    """
    sinh x elementwise. d/dx sinh x = cosh x. Example: cr.sinh(cr.tensor([0.])) -> [0.].
    """
def softmax(input: Tensor, dim: typing.Any = None, dtype: dtype | None = None, *, axis: typing.Any = None) -> Tensor:
    """
    exp(x) / sum(exp(x)) along dim (axis= is an alias), computed stably; with dtype the input is converted first (cr.softmax(x, -1, dtype=cr.float64)). d s_i/dx_j = s_i (δ_ij - s_j). Example: cr.softmax(logits, dim=-1).
    """
def softplus(input: Tensor, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
    """
    log(1 + e^(beta x)) / beta (x itself where beta x > threshold). Its derivative is sigmoid(beta x).
    """
def sort(input: Tensor, dim: typing.Any = None, descending: builtins.bool = False, *, stable: builtins.bool = False, axis: typing.Any = None) -> typing.Any:
    """
    Sorts along dim (default -1; axis= is an alias): a named tuple (values, indices) with
    values == x.gather(dim, indices). nan sorts as the largest value. Ties keep their input order
    (always stable; torch's stable=False may order ties differently in lines longer than 16).
    The gradient goes back to each value's original position.
    Example: cr.sort(cr.tensor([3., 1., 2.])).indices -> [1, 2, 0].
    """
def split(input: Tensor, split_size_or_sections: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    """
    Splits into chunks of a given size (the last may be smaller) or of the given sizes.
    """
def sqrt(input: Tensor) -> Tensor:
    """
    Square root elementwise. d/dx sqrt(x) = 1/(2 sqrt(x)).
    """
def square(input: Tensor) -> Tensor:
    """
    x * x (int64 stays int64). d/dx = 2x. Example: cr.square(cr.tensor([3])) -> [9].
    """
def squeeze(input: Tensor, dim: typing.Any = None) -> Tensor:
    """
    Removes dims of size 1: all of them, or only dim (an int or a tuple of ints). Dims named that do
    not have size 1 are left alone (torch 2.x): cr.zeros(1, 2, 1).squeeze((0, 1)).shape == (2, 1).
    A view; the gradient is reshaped back.
    """
def stack(tensors: collections.abc.Sequence[Tensor], dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Stacks same-shaped tensors along a new dim.
    """
def std(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None, axis: typing.Any = None) -> Tensor:
    """
    Standard deviation sqrt(sum((x - mean)^2) / (N - correction)) over dim (axis= is an alias).
    correction=1 (the default; unbiased=True) or x.std(False) for the biased estimate.
    d/dx = (x - mean) / ((N - correction) std), and 0 where std = 0 (as PyTorch); nan when N <= correction.
    Example: cr.std(cr.tensor([1., 2., 3., 4.])) -> 1.2910.
    """
def std_mean(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None, axis: typing.Any = None) -> tuple[Tensor, Tensor]:
    """
    (std, mean) over dim as a tuple, with std's arguments. Example: s, m = cr.std_mean(x, dim=0).
    """
def sub(input: Tensor, other: typing.Any, *, alpha: typing.Any = 1) -> Tensor:
    """
    input - alpha * other, broadcasting.
    """
def sum(input: Tensor, dim: typing.Any = None, keepdim: builtins.bool = False, *, dtype: dtype | None = None, axis: typing.Any = None) -> Tensor:
    """
    Sum over dim (int, tuple, or None for all; axis= is an alias). bool/int64 sum to int64; dtype= converts first. d/dx = 1. Example: x.sum(dim=1, keepdim=True).
    """
def sum_to(input: Tensor, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    Sums a broadcast tensor back down to shape.
    """
def tan(input: Tensor) -> Tensor:
    """
    tan x elementwise. d/dx tan x = 1 + tan(x)^2. Example: cr.tan(cr.tensor([0.])) -> [0.].
    """
def tanh(input: Tensor) -> Tensor:
    """
    tanh x elementwise. d/dx tanh x = 1 - tanh(x)^2.
    """
def tile(input: Tensor, dims: typing.Any) -> Tensor:
    """
    Like repeat, but fewer dims than input.dim() are padded with leading 1s:
    ``cr.tile(x, (2,))`` repeats the last dim twice. A copy; the gradient sums the tiles.
    """
def topk(input: Tensor, k: typing.SupportsInt | typing.SupportsIndex, dim: typing.Any = None, largest: builtins.bool = True, sorted: builtins.bool = True, *, axis: typing.Any = None) -> typing.Any:
    """
    The k largest (largest=False: smallest) elements along dim (default -1; axis= is an alias), as a
    named tuple (values, indices); nan counts as the largest. k outside [0, size] raises RuntimeError.
    The gradient goes to the selected positions. Example: cr.topk(cr.tensor([1., 5., 3.]), 2) ->
    values [5., 3.], indices [1, 2].
    """
def trace(input: Tensor) -> Tensor:
    """
    Sum of the diagonal of a 2-D tensor. d/dA trace(A) = I.
    Example: cr.trace(cr.tensor([[1., 2.], [3., 4.]])) -> tensor(5.)
    """
def transpose(input: Tensor, dim0: typing.SupportsInt | typing.SupportsIndex, dim1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    Swaps two dims.
    """
def tril(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    The lower triangle of the last two dims (entries above diagonal `diagonal` set to 0); batched.
    Its gradient is the upstream gradient masked the same way. Example: cr.tril(cr.ones(3, 3))
    """
def triu(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    The upper triangle of the last two dims (entries below diagonal `diagonal` set to 0); batched.
    Its gradient is the upstream gradient masked the same way. Example: cr.triu(cr.ones(3, 3), 1)
    """
def trunc(input: Tensor) -> Tensor:
    """
    x rounded toward zero (int64 stays int64). Its derivative is 0. Example: cr.trunc(cr.tensor([-1.5])) -> [-1.].
    """
def unsqueeze(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    Inserts a dim of size 1 at dim.
    """
def var(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None, axis: typing.Any = None) -> Tensor:
    """
    Variance: sum((x - mean)^2) / (N - correction); correction=1 (default, or unbiased=True) is the unbiased estimate, x.var(False) the biased one. d/dx = 2 (x - mean) / (N - correction).
    """
def var_mean(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: builtins.bool = False, *, correction: typing.Any = None, axis: typing.Any = None) -> tuple[Tensor, Tensor]:
    """
    (var, mean) over dim as a tuple, with var's arguments. Example: v, m = cr.var_mean(x, 1, keepdim=True).
    """
def where(condition: Tensor, input: typing.Any, other: typing.Any) -> Tensor:
    """
    input where condition is true, else other (all broadcast). The gradient flows to the chosen side.
    """
EPOCH_DEPRECATION_WARNING: str = 'The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from None, the closed form is used instead of the new chainable form, where available.'
_STRUCTURE_KEY: str = 'chainrule.structure'
_STRUCTURE_VERSION: int = 1
bool: dtype
default_generator: Generator
double: dtype
float: dtype
float32: dtype
float64: dtype
int64: dtype
long: dtype
