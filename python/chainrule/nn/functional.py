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
from .._core import Tensor  # noqa: F401  (for annotations)
from .._core import avg_pool2d, conv2d, fold, gelu, linear, max_pool2d, one_hot, unfold  # noqa: F401

__all__ = [
    "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softplus", "logsigmoid", "softmax", "log_softmax",
    "linear", "one_hot", "conv2d", "max_pool2d", "avg_pool2d", "unfold", "fold",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "l1_penalty", "l2_penalty",
    "dropout", "batch_norm", "layer_norm",
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
                   "instead.", stacklevel=3)
    return ret


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        _warnings.warn(
            f"Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _no_inplace(inplace, op):
    if inplace:
        raise NotImplementedError(f"{op}: inplace=True is not supported (an in-place change would "
                                  f"break autograd); write x = F.{op}(x) instead")


def _implicit_dim(ndim, op):
    _warnings.warn(f"Implicit dimension choice for {op} has been deprecated. "
                   "Change the call to include dim=X as an argument.", stacklevel=3)
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


def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|), finite for any logit. d/dx = sigmoid(-x)."""
    return _core._F_logsigmoid(input)


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
    return _core._F_mse_loss(input, target, _legacy_reduction(size_average, reduce, reduction), weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - y|; its gradient is sign(x - y) (0 where x = y)."""
    _warn_size(input, target)
    return _core._F_l1_loss(input, target, _legacy_reduction(size_average, reduce, reduction), weight)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), d = x - y: quadratic near the target,
    linear (robust to outliers) far from it."""
    _warn_size(input, target)
    return _core._F_huber_loss(input, target, reduction, float(delta), weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (huber_loss / beta)."""
    _warn_size(input, target)
    return _core._F_smooth_l1_loss(input, target, _legacy_reduction(size_average, reduce, reduction),
                                   float(beta))


# ------------------------------------------------------------------ classification losses
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood: -weight[t] * input[i, t] for log-probabilities input (N, C) and
    int64 class indices target (N,). Targets equal to ``ignore_index`` count for nothing; 'mean'
    divides by the sum of the targets' weights."""
    return _core._F_nll_loss(input, target, weight, int(ignore_index),
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
    return _core._F_cross_entropy(input, target, weight, int(ignore_index),
                                  _legacy_reduction(size_average, reduce, reduction),
                                  float(label_smoothing))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1]. The logs are clamped at
    -100 as in torch; prefer binary_cross_entropy_with_logits on logits (it is stable)."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({tuple(target.shape)}) that is different to the input "
                         f"size ({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")
    return _core._F_binary_cross_entropy(input, target, weight,
                                         _legacy_reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy of sigmoid(input), computed stably from the logits:
    (1 - y) x - (1 + (pos_weight - 1) y) log sigmoid(x), times weight."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({tuple(target.shape)}) must be the same as input size "
                         f"({tuple(input.shape)})")
    return _core._F_binary_cross_entropy_with_logits(
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
                   stacklevel=2)
    return pointwise.mean()


# ------------------------------------------------------------------ regularisers
def l1_penalty(params):
    """sum over the tensors of sum |w| — add ``lam * F.l1_penalty(model.parameters())`` to a loss
    for L1 regularisation (it pushes weights to exactly 0). Accepts any iterable of tensors."""
    return _core._F_l1_penalty(_params(params, "l1_penalty"))


def l2_penalty(params):
    """sum over the tensors of sum w^2 (no 1/2) — ``lam * F.l2_penalty(model.parameters())`` adds
    2 lam w to each gradient, which is SGD's weight_decay=2 lam."""
    return _core._F_l2_penalty(_params(params, "l2_penalty"))


# ------------------------------------------------------------------ dropout and normalisation
def dropout(input, p=0.5, training=True, inplace=False):
    """During training, zeroes each element with probability p and scales the rest by 1/(1 - p),
    so the expected value is unchanged; when not training, returns input unchanged.
    The mask comes from the generator that ``cr.manual_seed`` seeds."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _no_inplace(inplace, "dropout")
    return _core._F_dropout(input, float(p), bool(training))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation of (N, C) or (N, C, *) over every dim but 1, then * weight + bias (C,).

    training=True: the batch's mean and biased variance normalise, and the running stats (if
    given) are updated in place: r = (1 - momentum) r + momentum * stat (unbiased variance).
    training=False: the running stats normalise.
    """
    return _core._F_batch_norm(input, running_mean, running_var, weight, bias, bool(training),
                               float(momentum), float(eps))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the trailing dims ``normalized_shape`` (mean 0, biased variance 1), then
    * weight + bias (each of normalized_shape)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return _core._F_layer_norm(input, [int(s) for s in normalized_shape], weight, bias, float(eps))
