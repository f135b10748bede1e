"""
nn::functional: losses and layer ops (cr.nn.functional).
"""
from __future__ import annotations
import chainrule._core
import collections.abc
import typing
__all__: list[str] = ['avg_pool2d', 'batch_norm', 'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'conv2d', 'cosine_similarity', 'cross_entropy', 'dropout', 'elu', 'embedding', 'fold', 'gelu', 'hardtanh', 'huber_loss', 'l1_loss', 'l1_penalty', 'l2_penalty', 'layer_norm', 'logsigmoid', 'max_pool2d_with_indices', 'mse_loss', 'nll_loss', 'normalize', 'pad', 'relu6', 'silu', 'smooth_l1_loss', 'softsign', 'unfold']
def avg_pool2d(input: chainrule._core.Tensor, kernel_size: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], stride: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], padding: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"] = [0, 0], ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: typing.SupportsInt | typing.SupportsIndex | None = None) -> chainrule._core.Tensor:
    ...
def batch_norm(input: chainrule._core.Tensor, running_mean: chainrule._core.Tensor | None, running_var: chainrule._core.Tensor | None, weight: chainrule._core.Tensor | None = None, bias: chainrule._core.Tensor | None = None, training: bool = False, momentum: typing.SupportsFloat | typing.SupportsIndex = 0.1, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-05) -> chainrule._core.Tensor:
    """
    Batch normalisation of (N, C) or (N, C, *) over every dim but 1, then * weight + bias (C,).
    
    training=True: the batch's mean and biased variance normalise, and the running stats (if
    given) are updated in place: r = (1 - momentum) r + momentum * stat (unbiased variance).
    training=False: the running stats normalise.
    """
def binary_cross_entropy(input: chainrule._core.Tensor, target: chainrule._core.Tensor, weight: chainrule._core.Tensor | None = None, reduction: str = 'mean') -> chainrule._core.Tensor:
    ...
def binary_cross_entropy_with_logits(input: chainrule._core.Tensor, target: chainrule._core.Tensor, weight: chainrule._core.Tensor | None = None, reduction: str = 'mean', pos_weight: chainrule._core.Tensor | None = None) -> chainrule._core.Tensor:
    ...
def conv2d(input: chainrule._core.Tensor, weight: chainrule._core.Tensor, bias: chainrule._core.Tensor | None = None, stride: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"] = [1, 1], padding: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"] | str = [0, 0], dilation: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"] = [1, 1], groups: typing.SupportsInt | typing.SupportsIndex = 1) -> chainrule._core.Tensor:
    ...
def cosine_similarity(x1: chainrule._core.Tensor, x2: chainrule._core.Tensor, dim: typing.SupportsInt | typing.SupportsIndex = 1, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-08) -> chainrule._core.Tensor:
    ...
def cross_entropy(input: chainrule._core.Tensor, target: chainrule._core.Tensor, weight: chainrule._core.Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean', label_smoothing: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> chainrule._core.Tensor:
    ...
def dropout(input: chainrule._core.Tensor, p: typing.SupportsFloat | typing.SupportsIndex = 0.5, training: bool = True) -> chainrule._core.Tensor:
    ...
def elu(input: chainrule._core.Tensor, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> chainrule._core.Tensor:
    ...
def embedding(input: chainrule._core.Tensor, weight: chainrule._core.Tensor, padding_idx: typing.SupportsInt | typing.SupportsIndex | None = None) -> chainrule._core.Tensor:
    ...
def fold(input: chainrule._core.Tensor, output_size: typing.Any, kernel_size: typing.Any, dilation: typing.Any = 1, padding: typing.Any = 0, stride: typing.Any = 1) -> chainrule._core.Tensor:
    """
    Sums columns (N, C*kh*kw, L) back into (N, C, H, W) (col2im, the adjoint of unfold).
    """
def gelu(input: chainrule._core.Tensor, approximate: str = 'none') -> chainrule._core.Tensor:
    """
    x * Phi(x), Phi the standard normal CDF (or its tanh approximation).
    """
def hardtanh(input: chainrule._core.Tensor, min_val: typing.SupportsFloat | typing.SupportsIndex = -1.0, max_val: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> chainrule._core.Tensor:
    ...
def huber_loss(input: chainrule._core.Tensor, target: chainrule._core.Tensor, reduction: str = 'mean', delta: typing.SupportsFloat | typing.SupportsIndex = 1.0, weight: chainrule._core.Tensor | None = None) -> chainrule._core.Tensor:
    ...
def l1_loss(input: chainrule._core.Tensor, target: chainrule._core.Tensor, reduction: str = 'mean', weight: chainrule._core.Tensor | None = None) -> chainrule._core.Tensor:
    ...
def l1_penalty(params: collections.abc.Sequence[chainrule._core.Tensor]) -> chainrule._core.Tensor:
    ...
def l2_penalty(params: collections.abc.Sequence[chainrule._core.Tensor]) -> chainrule._core.Tensor:
    ...
def layer_norm(input: chainrule._core.Tensor, normalized_shape: typing.Any, weight: chainrule._core.Tensor | None = None, bias: chainrule._core.Tensor | None = None, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-05) -> chainrule._core.Tensor:
    """
    Normalises over the trailing dims normalized_shape (an int or a tuple; mean 0, biased variance 1),
    then * weight + bias (each of normalized_shape).
    """
def logsigmoid(input: chainrule._core.Tensor) -> chainrule._core.Tensor:
    """
    log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|), finite for any logit. d/dx = sigmoid(-x).
    """
def max_pool2d_with_indices(input: chainrule._core.Tensor, kernel_size: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], stride: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], padding: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"] = [0, 0], dilation: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"] = [1, 1], ceil_mode: bool = False) -> tuple[chainrule._core.Tensor, chainrule._core.Tensor]:
    ...
def mse_loss(input: chainrule._core.Tensor, target: chainrule._core.Tensor, reduction: str = 'mean', weight: chainrule._core.Tensor | None = None) -> chainrule._core.Tensor:
    ...
def nll_loss(input: chainrule._core.Tensor, target: chainrule._core.Tensor, weight: chainrule._core.Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean') -> chainrule._core.Tensor:
    ...
def normalize(input: chainrule._core.Tensor, p: typing.SupportsFloat | typing.SupportsIndex = 2.0, dim: typing.SupportsInt | typing.SupportsIndex = 1, eps: typing.SupportsFloat | typing.SupportsIndex = 1e-12) -> chainrule._core.Tensor:
    ...
def pad(input: chainrule._core.Tensor, pad: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], mode: str = 'constant', value: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> chainrule._core.Tensor:
    ...
def relu6(input: chainrule._core.Tensor) -> chainrule._core.Tensor:
    ...
def silu(input: chainrule._core.Tensor) -> chainrule._core.Tensor:
    ...
def smooth_l1_loss(input: chainrule._core.Tensor, target: chainrule._core.Tensor, reduction: str = 'mean', beta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> chainrule._core.Tensor:
    ...
def softsign(input: chainrule._core.Tensor) -> chainrule._core.Tensor:
    ...
def unfold(input: chainrule._core.Tensor, kernel_size: typing.Any, dilation: typing.Any = 1, padding: typing.Any = 0, stride: typing.Any = 1) -> chainrule._core.Tensor:
    """
    Sliding blocks of (N, C, H, W) as columns (N, C*kh*kw, L) (im2col).
    """
