"""cr.nn.functional: losses, activations, dropout and normalisation as functions, with PyTorch's
names, signatures and semantics (``import chainrule.nn.functional as F``).

    loss = F.cross_entropy(model(x), y)                      # logits (N, C), int64 labels (N,)
    loss = loss + 1e-4 * F.l2_penalty(model.parameters())    # a differentiable regulariser

Every function is built from differentiable ops, so ``loss.backward()`` works through all of them,
and so do second derivatives (``create_graph=True``).
"""
from __future__ import annotations

import warnings as _warnings

from .. import _core
from .._errors import user_stacklevel as _user_stacklevel
from .._core import Tensor  # noqa: F401  (for annotations)
from .._core import linear, one_hot  # noqa: F401
from .._core.nn import functional as _C
from .._core.nn.functional import batch_norm, fold, gelu, layer_norm, logsigmoid, unfold  # noqa: F401

__all__ = [
    "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softplus", "logsigmoid", "softmax", "log_softmax",
    "linear", "one_hot", "conv2d", "max_pool2d", "avg_pool2d", "unfold", "fold",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "l1_penalty", "l2_penalty",
    "dropout", "batch_norm", "layer_norm",
    # nnmod
    "silu", "elu", "relu6", "hardtanh", "softsign", "softmin", "normalize", "cosine_similarity", "embedding",
    "pad", "dropout2d", "max_pool2d_with_indices",
]


# ------------------------------------------------------------------ helpers
def _legacy_reduction(size_average, reduce, reduction):
    """torch's deprecated size_average/reduce flags, mapped to a reduction as torch maps them."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    _warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' "
                   "instead.", stacklevel=_user_stacklevel())
    return ret


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        _warnings.warn(
            f"Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", stacklevel=_user_stacklevel())


def _no_inplace(inplace, op):
    if inplace:
        raise NotImplementedError(f"{op}: inplace=True is not supported (an in-place change would "
                                  f"break autograd); write x = F.{op}(x) instead")


def _implicit_dim(ndim, op):
    _warnings.warn(f"Implicit dimension choice for {op} has been deprecated. "
                   "Change the call to include dim=X as an argument.", stacklevel=_user_stacklevel())
    return 0 if ndim in (0, 1, 3) else 1


def _params(params, op):
    if isinstance(params, _core.Tensor):
        return [params]
    params = list(params)
    for p in params:
        if not isinstance(p, _core.Tensor):
            raise TypeError(f"{op}: expected tensors (e.g. model.parameters()), got {type(p).__name__}")
    return params


# ------------------------------------------------------------------ activations
def relu(input, inplace=False):
    """max(x, 0) elementwise. Its derivative is 1 where x > 0, else 0."""
    _no_inplace(inplace, "relu")
    return _core.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x."""
    _no_inplace(inplace, "leaky_relu")
    return _core.leaky_relu(input, negative_slope)


def sigmoid(input):
    """1 / (1 + e^-x). d/dx = s(x) (1 - s(x))."""
    return _core.sigmoid(input)


def tanh(input):
    """tanh x. d/dx = 1 - tanh(x)^2."""
    return _core.tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta (x itself where beta x > threshold). d/dx = sigmoid(beta x)."""
    return _core.softplus(input, beta, threshold)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^x / sum(e^x) along dim, computed stably (logits of 1e4 are fine)."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmax")
    return _core.softmax(input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim, computed stably."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _implicit_dim(input.ndim, "log_softmax")
    return _core.log_softmax(input, dim)


# ------------------------------------------------------------------ regression losses
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (x - y)^2, reduced by ``reduction`` ('mean', 'sum' or 'none').

    With ``weight`` (the input's shape) 'mean' is sum(w (x - y)^2) / sum(w), as torch.
    """
    _warn_size(input, target)
    return _C.mse_loss(input, target, _legacy_reduction(size_average, reduce, reduction), weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - y|; its gradient is sign(x - y) (0 where x = y)."""
    _warn_size(input, target)
    return _C.l1_loss(input, target, _legacy_reduction(size_average, reduce, reduction), weight)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), d = x - y: quadratic near the target,
    linear (robust to outliers) far from it."""
    _warn_size(input, target)
    return _C.huber_loss(input, target, reduction, float(delta), weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (huber_loss / beta)."""
    _warn_size(input, target)
    return _C.smooth_l1_loss(input, target, _legacy_reduction(size_average, reduce, reduction),
                             float(beta))


# ------------------------------------------------------------------ classification losses
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood: -weight[t] * input[i, t] for log-probabilities input (N, C) and
    int64 class indices target (N,). Targets equal to ``ignore_index`` count for nothing; 'mean'
    divides by the sum of the targets' weights."""
    return _C.nll_loss(input, target, weight, int(ignore_index),
                       _legacy_reduction(size_average, reduce, reduction))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy of logits ``input`` (N, C) (or (C,), or (N, C, d1, ...)) against ``target``:
    int64 class indices (N,), or class probabilities of the input's shape.

    = nll_loss(log_softmax(input, 1), target), computed stably (logits of 1e4 are fine).
    ``weight`` (C,) weighs each class ('mean' then divides by the sum of the targets' weights);
    ``label_smoothing`` e mixes the target with the uniform distribution: (1 - e) y + e / C.
    Example: ``F.cross_entropy(cr.tensor([[2., 0.]]), cr.tensor([0]))`` -> 0.1269.
    """
    return _C.cross_entropy(input, target, weight, int(ignore_index),
                            _legacy_reduction(size_average, reduce, reduction),
                            float(label_smoothing))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1]. The logs are clamped at
    -100 as in torch; prefer binary_cross_entropy_with_logits on logits (it is stable)."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy: expected a target of the input's shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)} (a target size different to the input size is not "
                         "supported, as in torch)")
    return _C.binary_cross_entropy(input, target, weight,
                                   _legacy_reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy of sigmoid(input), computed stably from the logits:
    (1 - y) x - (1 + (pos_weight - 1) y) log sigmoid(x), times weight."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({tuple(target.shape)}) must be the same as input size "
                         f"({tuple(input.shape)})")
    return _C.binary_cross_entropy_with_logits(
        input, target, weight, _legacy_reduction(size_average, reduce, reduction), pos_weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(target || exp(input)) for log-probabilities ``input``:
    pointwise target * (log target - input) (0 where target = 0), or, with ``log_target=True``,
    exp(target) * (target - input). ``reduction='batchmean'`` (sum / batch size) is the
    mathematical KL divergence; 'mean' (the default, as torch) divides by the number of elements."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"kl_div: expected reduction 'none', 'mean', 'sum' or 'batchmean', got {reduction!r}")
    if log_target:
        pointwise = _core.exp(target) * (target - input)
    else:  # xlogy(t, t) - t * input: t log t is 0 at t = 0 (log of 1 there keeps gradients finite)
        safe = _core.where(target > 0, target, 1.0)
        pointwise = target * _core.log(safe) - target * input
    if reduction == "none":
        return pointwise
    if reduction == "sum":
        return pointwise.sum()
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.ndim else 1)
    _warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                   "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                   "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                   stacklevel=_user_stacklevel())
    return pointwise.mean()


# ------------------------------------------------------------------ regularisers
def l1_penalty(params):
    """sum over the tensors of sum |w| — add ``lam * F.l1_penalty(model.parameters())`` to a loss
    for L1 regularisation: its minimiser has weights exactly 0 (sparsity); gradient descent on it
    only gets them near 0, jittering around it (a proximal step, soft-thresholding, reaches 0).
    Accepts any iterable of tensors."""
    return _C.l1_penalty(_params(params, "l1_penalty"))


def l2_penalty(params):
    """sum over the tensors of sum w^2 (no 1/2) — ``lam * F.l2_penalty(model.parameters())`` adds
    2 lam w to each gradient, which is SGD's weight_decay=2 lam."""
    return _C.l2_penalty(_params(params, "l2_penalty"))


# ------------------------------------------------------------------ dropout (batch_norm, layer_norm: bound as they are)
def dropout(input, p=0.5, training=True, inplace=False):
    """During training, zeroes each element with probability p and scales the rest by 1/(1 - p),
    so the expected value is unchanged; when not training, returns input unchanged.
    The mask comes from the generator that ``cr.manual_seed`` seeds."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _no_inplace(inplace, "dropout")
    return _C.dropout(input, float(p), bool(training))


# ------------------------------------------------------------------ nnmod: layer ops with torch's signatures
# Arguments are checked here, so a wrong type is one line naming the argument (not pybind11's
# overload dump) and an unknown keyword is Python's own "got an unexpected keyword argument".
import operator as _operator


def _type_name(v):
    return type(v).__name__


def _tensor_arg(v, name, op, optional=False):
    if v is None and optional:
        return None
    if not isinstance(v, _core.Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor{' or None' if optional else ''}, "
                        f"got {_type_name(v)}")
    return v


def _int_arg(v, name, op):
    if isinstance(v, _core.Tensor) or isinstance(v, float):
        raise TypeError(f"{op}: expected {name} to be an int, got {_type_name(v)}")
    try:
        return _operator.index(v)
    except TypeError:
        raise TypeError(f"{op}: expected {name} to be an int, got {_type_name(v)}") from None


def _float_arg(v, name, op):
    if isinstance(v, (int, float)) or hasattr(v, "__float__") and not isinstance(v, (str, bytes)):
        try:
            return float(v)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{op}: expected {name} to be a number, got {_type_name(v)}")


def _pair(v, name, op):
    """An int or a 1- or 2-sequence of ints as an (h, w) pair."""
    if isinstance(v, (tuple, list)) and len(v) in (1, 2):
        p = [_int_arg(e, name, op) for e in v]
        return (p[0], p[-1])
    if isinstance(v, (tuple, list)):
        raise ValueError(f"{op}: expected {name} as an int or a pair of ints, got {len(v)} values {tuple(v)}")
    try:
        i = _int_arg(v, name, op)
    except TypeError:
        raise TypeError(f"{op}: expected {name} to be an int or a pair of ints, got {_type_name(v)}") from None
    return (i, i)


def _bool_arg(v, name, op):
    if not isinstance(v, (bool, int)) or isinstance(v, _core.Tensor):
        raise TypeError(f"{op}: expected {name} to be a bool, got {_type_name(v)}")
    return bool(v)


def silu(input, inplace=False):
    """x * sigmoid(x) (the "swish" activation). d/dx = s (1 + x (1 - s)), s = sigmoid(x).

    Example: ``F.silu(cr.tensor([0., 1.]))`` -> tensor([0.0000, 0.7311]).
    """
    _no_inplace(inplace, "silu")
    return _C.silu(_tensor_arg(input, "input", "silu"))


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (e^x - 1). d/dx = 1 for x > 0, alpha e^x for x <= 0.

    Example: ``F.elu(cr.tensor([-1., 2.]))`` -> tensor([-0.6321, 2.0000]).
    """
    _no_inplace(inplace, "elu")
    return _C.elu(_tensor_arg(input, "input", "elu"), _float_arg(alpha, "alpha", "elu"))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]. d/dx = 1 strictly between the bounds, 0 at and outside them.

    Example: ``F.hardtanh(cr.tensor([-2., 0.5, 3.]))`` -> tensor([-1.0000, 0.5000, 1.0000]).
    """
    lo, hi = _float_arg(min_val, "min_val", "hardtanh"), _float_arg(max_val, "max_val", "hardtanh")
    if lo > hi:
        raise ValueError("min_val cannot be greater than max_val")
    _no_inplace(inplace, "hardtanh")
    return _C.hardtanh(_tensor_arg(input, "input", "hardtanh"), lo, hi)


def relu6(input, inplace=False):
    """min(max(x, 0), 6) = hardtanh(x, 0, 6). d/dx = 1 for 0 < x < 6, else 0.

    Example: ``F.relu6(cr.tensor([-1., 3., 7.]))`` -> tensor([0., 3., 6.]).
    """
    _no_inplace(inplace, "relu6")
    return _C.relu6(_tensor_arg(input, "input", "relu6"))


def softsign(input):
    """x / (1 + |x|). d/dx = 1 / (1 + |x|)^2.

    Example: ``F.softsign(cr.tensor([1., -3.]))`` -> tensor([ 0.5000, -0.7500]).
    """
    return _C.softsign(_tensor_arg(input, "input", "softsign"))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim: small entries get large weights.

    Example: ``F.softmin(cr.tensor([1., 2.]), dim=0)`` -> tensor([0.7311, 0.2689]).
    """
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmin")
    return _core.softmax(-_tensor_arg(input, "input", "softmin"), dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along dim: unit-length vectors (p=2 by default, along dim 1).

    Its gradient is that of x / ||x||_p (the norm's gradient is 0 for a zero vector, as torch).
    Example: ``F.normalize(cr.tensor([[3., 4.]]))`` -> tensor([[0.6000, 0.8000]]).
    """
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; write y = F.normalize(x) instead")
    return _C.normalize(_tensor_arg(input, "input", "normalize"), _float_arg(p, "p", "normalize"),
                        _int_arg(dim, "dim", "normalize"), _float_arg(eps, "eps", "normalize"))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum along dim of (x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)), x1 and x2 broadcast:
    the cosine of the angle between the vectors, computed as torch 2.13 does (each vector is
    divided by its own clamped norm; the clamp leaves the norms' gradients alone).

    Example: ``F.cosine_similarity(cr.tensor([[1., 0.]]), cr.tensor([[1., 1.]]))`` -> tensor([0.7071]).
    """
    return _C.cosine_similarity(_tensor_arg(x1, "x1", "cosine_similarity"),
                                _tensor_arg(x2, "x2", "cosine_similarity"),
                                _int_arg(dim, "dim", "cosine_similarity"),
                                _float_arg(eps, "eps", "cosine_similarity"))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """weight[input]: looks up a row of weight (num_embeddings, embedding_dim) for every int64 index,
    giving input.shape + (embedding_dim,). Row i's gradient is the sum of the gradients of the
    positions holding i; the ``padding_idx`` row gets no gradient.

    Example: ``F.embedding(cr.tensor([[0, 2]]), cr.eye(3))`` -> shape (1, 2, 3).
    """
    op = "embedding"
    _tensor_arg(input, "input", op)
    _tensor_arg(weight, "weight", op)
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported (it renormalises weight in place)")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    if padding_idx is not None:
        padding_idx = _int_arg(padding_idx, "padding_idx", op)
    return _C.embedding(input, weight, padding_idx)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pads ``input``; ``pad`` lists (left, right) widths starting from the LAST dim:
    ``F.pad(x, (1, 2))`` pads the last dim by 1 before and 2 after, ``(1, 1, 2, 2)`` also the dim
    before it. mode 'constant' fills with ``value`` (default 0) and accepts negative widths (which
    crop); 'reflect' mirrors without repeating the edge, 'replicate' repeats the edge, 'circular'
    wraps around. The gradient crops (constant) or sums the copies back (the other modes).

    Example: ``F.pad(cr.tensor([1., 2.]), (1, 0))`` -> tensor([0., 1., 2.]).
    """
    op = "pad"
    _tensor_arg(input, "input", op)
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: expected pad to be a tuple of ints, got {_type_name(pad)}")
    widths = [_int_arg(w, "pad", op) for w in pad]
    if not isinstance(mode, str):
        raise TypeError(f"pad: expected mode to be a str, got {_type_name(mode)}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: mode '{mode}' is not supported; expected one of {', '.join(_PAD_MODES)}")
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f'pad: padding mode "{mode}" doesn\'t take in value argument')
        n = len(widths)
        if n % 2 == 0 and n // 2 <= input.ndim and not (n in (2, 4, 6) and input.ndim in (n // 2 + 1, n // 2 + 2)):
            raise NotImplementedError(
                f"pad: padding size {n} is not supported for {input.ndim}D input with mode '{mode}'; supported: "
                "2D or 3D input with 2 widths (last dim), 3D or 4D with 4 (last 2 dims), 4D or 5D with 6 (last 3)")
    return _C.pad(input, widths, mode, 0.0 if value is None else _float_arg(value, "value", op))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``input`` (N, C, H, W) (or (C, H, W)) with ``weight``
    (O, C/groups, kh, kw), plus ``bias`` (O,): output (N, O, Ho, Wo) with
    Ho = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1.

    ``padding`` is an int, a pair, 'valid' (0) or 'same' (output size = input size; stride must be
    1; an odd total padding puts the extra row/column at the bottom/right, as torch). ``groups``
    splits channels into independent groups. Gradients flow to input, weight and bias.
    Example: ``F.conv2d(x, w, padding='same')`` with x (1, 3, 8, 8), w (4, 3, 3, 3) -> (1, 4, 8, 8).
    """
    op = "conv2d"
    _tensor_arg(input, "input", op)
    _tensor_arg(weight, "weight", op)
    _tensor_arg(bias, "bias", op, optional=True)
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    groups = _int_arg(groups, "groups", op)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"conv2d: expected padding 'valid', 'same', an int or a pair of ints, got '{padding}'")
    else:
        try:
            padding = _pair(padding, "padding", op)
        except TypeError:
            raise TypeError(f"conv2d: expected padding to be an int, a pair of ints, 'same' or 'valid', "
                            f"got {_type_name(padding)}") from None
    return _C.conv2d(input, weight, bias, stride, padding, dilation, groups)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each kernel_size window of (N, C, H, W) (or (C, H, W)); stride defaults to
    kernel_size, padding counts as -inf. ceil_mode rounds the output size up (the last window
    must start inside the input or its left padding), as torch. The gradient goes to each window's
    max (the first on ties). return_indices=True also returns the argmax positions (int64, flat
    indices into each H*W plane).

    Example: ``F.max_pool2d(cr.arange(16.).reshape(1, 1, 4, 4), 2)`` -> [[[[5., 7.], [13., 15.]]]].
    """
    op = "max_pool2d"
    _tensor_arg(input, "input", op)
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _pair(stride, "stride", op)
    y, idx = _C.max_pool2d_with_indices(input, k, s, _pair(padding, "padding", op),
                                        _pair(dilation, "dilation", op), _bool_arg(ceil_mode, "ceil_mode", op))
    return (y, idx) if _bool_arg(return_indices, "return_indices", op) else y


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """max_pool2d returning (output, indices), as torch.nn.functional.max_pool2d_with_indices."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each kernel_size window of (N, C, H, W) (or (C, H, W)); stride defaults to
    kernel_size. count_include_pad: padded zeros count in the divisor (else only real pixels);
    divisor_override replaces the divisor; ceil_mode rounds the output size up, as torch.
    The gradient spreads g / divisor over each window.

    Example: ``F.avg_pool2d(cr.ones(1, 1, 4, 4), 2)`` -> ones (1, 1, 2, 2).
    """
    op = "avg_pool2d"
    _tensor_arg(input, "input", op)
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _pair(stride, "stride", op)
    if divisor_override is not None:
        divisor_override = _int_arg(divisor_override, "divisor_override", op)
    return _C.avg_pool2d(input, k, s, _pair(padding, "padding", op), _bool_arg(ceil_mode, "ceil_mode", op),
                         _bool_arg(count_include_pad, "count_include_pad", op), divisor_override)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout for (N, C, H, W) (a 3-D input is read as (N, C, L), with torch's warning): in
    training each whole channel is zeroed
    with probability p and the rest scaled by 1/(1 - p); otherwise the input unchanged. The mask
    comes from the generator that ``cr.manual_seed`` seeds.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _no_inplace(inplace, "dropout2d")
    _tensor_arg(input, "input", "dropout2d")
    if input.ndim not in (3, 4):
        _warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                       "result in an error in a future release. To retain the behavior and silence this warning, "
                       "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                       "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                       "(i.e. 3D or 4D inputs).", stacklevel=_user_stacklevel())
    if input.ndim == 3:
        _warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                       "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                       "This behavior will change in a future release to interpret the input as one without a "
                       "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                       "please switch to using dropout1d instead.", stacklevel=_user_stacklevel())
    if input.ndim < 2:
        raise ValueError(f"dropout2d: expected input (N, C, H, W) or (N, C, L), got {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    from .. import rand, zeros
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)  # one draw per (sample, channel), as torch
    mask = zeros(*mask_shape, dtype=input.dtype) if p == 1.0 else \
        (rand(*mask_shape, dtype=input.dtype) < 1.0 - p).to(input.dtype) / (1.0 - p)
    return input * mask
