"""cr.linalg: torch.linalg's functions for the Hessian/Newton weeks (``from chainrule import linalg``).

Same names, arguments, shapes (batched ``(..., n, n)`` inputs), dtypes and errors as torch.linalg:
a singular matrix in ``inv``/``solve`` or a matrix that is not positive-definite in ``cholesky``
raises :class:`LinAlgError` (a ``RuntimeError``), never a matrix of infs. Every function is
differentiable twice (backward rules are written with differentiable ops), so Newton's method
``x - solve(hessian, grad)`` and Hessians of ``logdet`` work.

Example::

    A = cr.tensor([[4., 1.], [1., 3.]], requires_grad=True)
    cr.linalg.det(A).backward()
    A.grad                     # det(A) * inv(A).T = [[3., -1.], [-1., 4.]]
"""
from __future__ import annotations

import collections as _collections
import warnings as _warnings

from . import _core

LinAlgError = _core.LinAlgError
LinAlgError.__doc__ = ("Raised when a matrix can't be factorised (singular for inv/solve, not positive-definite "
                       "for cholesky). A RuntimeError subclass, as torch.linalg.LinAlgError.")

_slogdet_result = _collections.namedtuple("slogdet", ["sign", "logabsdet"])  # type: ignore[name-match]
_eigh_result = _collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])  # type: ignore[name-match]

__all__ = ["LinAlgError", "solve", "inv", "det", "slogdet", "eigh", "eigvalsh", "cholesky", "vector_norm",
           "matrix_norm", "norm", "svdvals"]


def solve(A, B, *, left=True):
    """The solution X of ``A X = B`` (A ``(..., n, n)``; B ``(..., n, k)`` or a vector ``(..., n)``);
    with ``left=False`` the solution of ``X A = B`` (B ``(..., k, n)``).

    Batch dims broadcast. A singular A raises LinAlgError. Gradients: dB = A^-T G, dA = -dB X^T.
    Use it instead of ``inv(A) @ B`` (faster and more accurate). Example: the Newton step
    ``x - cr.linalg.solve(H, g)``.
    """
    return _core._linalg_solve(A, B, left)


def inv(A):
    """The inverse of each ``(..., n, n)`` matrix; a singular matrix raises LinAlgError.

    d inv(A) = -inv(A) dA inv(A), so the gradient is -A^-T G A^-T.
    Example: ``cr.linalg.inv(cr.tensor([[2., 0.], [0., 4.]]))`` -> ``[[0.5, 0.], [0., 0.25]]``.
    """
    return _core._linalg_inv(A)


def det(A):
    """The determinant of each ``(..., n, n)`` matrix (``()`` for one matrix; 1 for a 0x0 one).

    d det(A)/dA = det(A) A^-T, the cofactor matrix, which stays finite when A is singular (the
    second derivative at an exactly singular matrix raises). Example: ``det(cr.eye(3)) -> 1.``
    """
    return _core._linalg_det(A)


def slogdet(A):
    """``(sign, logabsdet)`` with ``det(A) = sign * exp(logabsdet)``, stable where det over/underflows.

    sign is 0 and logabsdet -inf for a singular matrix. d logabsdet / dA = A^-T.
    Example: ``cr.linalg.slogdet(2 * cr.eye(3)).logabsdet`` -> ``3 log 2``.
    """
    return _slogdet_result(*_core._linalg_slogdet(A))


def eigh(A, UPLO="L"):
    """Eigen-decomposition of symmetric matrices: ``(eigenvalues, eigenvectors)`` with eigenvalues in
    ascending order and ``A = V diag(L) V^T`` (eigenvectors are the columns of V).

    Only the lower (``UPLO='L'``) or upper (``'U'``) triangle of A is read. Each eigenvector is only
    defined up to sign (torch's signs may differ from ours); sign-invariant quantities (L, V V^T,
    V diag(L) V^T) agree. Gradient: dA = V (diag(gL) + skew(V^T gV) / (L_j - L_i)) V^T. As in torch,
    the gradient through the eigenvectors is infinite/nan when eigenvalues repeat (the eigenvectors
    are then not unique); the gradient of the eigenvalues alone is always finite.
    Example: ``cr.linalg.eigh(cr.tensor([[2., 1.], [1., 2.]])).eigenvalues`` -> ``[1., 3.]``.
    """
    return _eigh_result(*_core._linalg_eigh(A, UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of symmetric matrices, ascending (the first output of eigh).

    d lambda_i / dA = v_i v_i^T. Example: the Hessian's eigenvalues tell a minimum (all > 0) from a
    saddle (mixed signs): ``cr.linalg.eigvalsh(H)``.
    """
    return _core._linalg_eigvalsh(A, UPLO)


def cholesky(A, *, upper=False):
    """L lower triangular with ``A = L L^T`` for symmetric positive-definite A (only its lower
    triangle is read); ``upper=True`` returns ``L^T``. A matrix that is not positive-definite raises
    LinAlgError naming the first leading minor that is not. Gradient: the standard Phi rule,
    dA = L^-T Phi(L^T G) L^-1, symmetrised. Example: ``cholesky(cr.tensor([[4., 2.], [2., 2.]]))``
    -> ``[[2., 0.], [1., 1.]]``.
    """
    return _core._linalg_cholesky(A, upper)


def vector_norm(x, ord=2, dim=None, keepdim=False):
    """The vector ord-norm of x over dim (all elements when dim is None): ``(sum |x|^ord)^(1/ord)``;
    ord=inf: max |x|, -inf: min |x|, 0: the number of nonzeros.

    The gradient at x = 0 is 0 (not nan), as torch's. Example:
    ``cr.linalg.vector_norm(cr.tensor([3., 4.]))`` -> 5; ``ord=1`` -> 7; ``ord=float('inf')`` -> 4.
    """
    return _core._linalg_vector_norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    """The matrix norm over the two dims ``dim``: 'fro' (sqrt of the sum of squares), 'nuc' (sum of
    the singular values), 1 / -1 (max / min column abs-sum), 2 / -2 (largest / smallest singular
    value), inf / -inf (max / min row abs-sum). Example: ``cr.linalg.matrix_norm(cr.eye(3))`` ->
    ``sqrt(3)``; ``matrix_norm(A, 2)`` is the spectral norm (A's Lipschitz constant).
    """
    return _core._linalg_matrix_norm(A, ord, dim, keepdim)


def svdvals(A):
    """The singular values of each ``(..., m, n)`` matrix, in descending order (torch.linalg.svdvals).

    d s_i / dA = u_i v_i^T. Computed as the largest eigenvalues of the symmetric ``[[0, A], [A^T, 0]]``
    (eigenvalues +-s_i), so first and second derivatives come from eigh's; as with torch, the second
    derivative is not finite where singular values repeat.
    Example: ``cr.linalg.svdvals(cr.tensor([[3., 0.], [0., -4.]]))`` -> ``[4., 3.]``.
    """
    return _core._linalg_svdvals(A)


def norm(A, ord=None, dim=None, keepdim=False):
    """torch.linalg.norm: a vector norm (dim an int, or A 1-D) or a matrix norm (dim a 2-tuple, or A
    2-D with ord given). ord=None with dim=None is the 2-norm of all elements, flattened.
    """
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim)
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2):
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim)
    if dim is None and A.dim() != 1:
        raise ValueError(f"linalg.norm: a numeric ord needs a 1-D or 2-D input or dim, got shape {tuple(A.shape)}")
    return vector_norm(A, ord, dim, keepdim)


# ------------------------------------------------------------------------------ top-level cr.* (re-exported)
def meshgrid(*tensors, indexing=None):
    """Grids from 1-D tensors, as torch.meshgrid: output i varies along dim i (``indexing='ij'``, the
    default) or, with ``indexing='xy'`` (Cartesian, for plotting), the first two dims are swapped.
    Without ``indexing`` it warns, as torch does, and uses 'ij'. Outputs are expanded views.
    Example: ``X, Y = cr.meshgrid(cr.linspace(-1, 1, 5), cr.linspace(-1, 1, 3), indexing='xy')``.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        _warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                       "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if not isinstance(indexing, str):
        raise TypeError(f"meshgrid: expected indexing to be 'ij' or 'xy', got {type(indexing).__name__}")
    return _core._meshgrid(list(tensors), indexing)

