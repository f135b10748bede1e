"""
nn::utils: gradient clipping, parameter vectors (cr.nn.utils).
"""
from __future__ import annotations
import chainrule._core
import collections.abc
import typing
__all__: list[str] = ['clip_grad_value_', 'clip_grads_with_norm_', 'get_total_norm', 'parameters_to_vector', 'vector_to_parameters']
def clip_grad_value_(parameters: collections.abc.Sequence[chainrule._core.Tensor], clip_value: typing.SupportsFloat | typing.SupportsIndex) -> None:
    ...
def clip_grads_with_norm_(parameters: collections.abc.Sequence[chainrule._core.Tensor], max_norm: typing.SupportsFloat | typing.SupportsIndex, total_norm: chainrule._core.Tensor) -> None:
    ...
def get_total_norm(tensors: collections.abc.Sequence[chainrule._core.Tensor], norm_type: typing.SupportsFloat | typing.SupportsIndex = 2.0, error_if_nonfinite: bool = False) -> chainrule._core.Tensor:
    ...
def parameters_to_vector(parameters: collections.abc.Sequence[chainrule._core.Tensor]) -> chainrule._core.Tensor:
    ...
def vector_to_parameters(vec: chainrule._core.Tensor, parameters: collections.abc.Sequence[chainrule._core.Tensor]) -> None:
    ...
