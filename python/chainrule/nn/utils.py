"""cr.nn.utils: gradient clipping, as torch.nn.utils, and parameters as one flat vector.

    loss.backward()
    total = cr.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # before optimizer.step()
"""
from __future__ import annotations

from .. import _core
from .._core.nn import utils as _C

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters):
    return [parameters] if isinstance(parameters, _core.Tensor) else list(parameters)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all the tensors taken together (as if concatenated), as a 0-d tensor.
    norm_type is p > 0 or inf (the largest absolute value)."""
    return _C.get_total_norm(_tensors(tensors), float(norm_type), bool(error_if_nonfinite))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales every gradient in place by min(1, max_norm / (total_norm + 1e-6))."""
    _C.clip_grads_with_norm_(_tensors(parameters), float(max_norm), total_norm)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescales the gradients so that their total norm is at most max_norm, in place.

    The total norm is taken over all gradients together (parameters without a gradient are
    skipped); each gradient is multiplied by min(1, max_norm / (total + 1e-6)). Returns the total
    norm before clipping, a 0-d tensor — useful to watch for exploding gradients.
    """
    params = _tensors(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = _C.get_total_norm(grads, float(norm_type), bool(error_if_nonfinite))
    _C.clip_grads_with_norm_(params, float(max_norm), total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient in place to [-clip_value, clip_value]."""
    _C.clip_grad_value_(_tensors(parameters), float(clip_value))


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return _C.parameters_to_vector(_tensors(parameters))


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D vec into the parameters, in place (no gradient)."""
    if not isinstance(vec, _core.Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got: {type(vec).__name__}")
    _C.vector_to_parameters(vec, _tensors(parameters))
