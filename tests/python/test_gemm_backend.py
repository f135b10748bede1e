"""The GEMM backend behind matmul/linear (OpenBLAS, or Eigen without a BLAS) against torch, and
cr.show_config(), which names it."""
import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.fixture(params=["Eigen", "OpenBLAS"])
def backend(request):
    """Each test once per backend, both in this process (a build without OpenBLAS runs Eigen twice)."""
    before = cr._core._gemm_backend()
    if not cr._core._set_gemm_backend(request.param):
        assert request.param == "OpenBLAS" and cr._core._gemm_backend() == "Eigen"
    yield cr._core._gemm_backend()
    cr._core._set_gemm_backend(before)


def _pair(shape, dtype, seed):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return cr.tensor(a), torch.tensor(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,k,m", [(1, 1, 1), (2, 3, 33), (31, 17, 9), (64, 784, 128), (5, 0, 4)])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_products_and_gradients_match_torch(backend, dtype, n, k, m, layout):
    a, ta = _pair((n, k), dtype, n + k)
    b, tb = _pair((k, m), dtype, m)
    if layout == "transposed":  # column-major operands, read in place
        a, ta = a.t().contiguous().t(), ta.t().contiguous().t()
        b, tb = b.t().contiguous().t(), tb.t().contiguous().t()
    elif layout == "sliced":  # row-major with a leading dim wider than the matrix
        pad = np.zeros((k, 3), dtype)
        b = cr.tensor(np.concatenate([b.numpy(), pad], 1))[:, :m]
        tb = torch.tensor(np.concatenate([tb.numpy(), pad], 1))[:, :m]
    a.requires_grad_(True)
    ta.requires_grad_(True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    y, ty = a @ b, ta @ tb
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol * max(k, 1))
    g = np.random.default_rng(1).standard_normal((n, m)).astype(dtype)
    y.backward(cr.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=tol, atol=tol * max(m, 1))
    w, tw = _pair((m, k), dtype, 7)
    np.testing.assert_allclose(cr.nn.functional.linear(a, w).detach().numpy(),
                               torch.nn.functional.linear(ta, tw).detach().numpy(),
                               rtol=tol, atol=tol * max(k, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_propagate_as_torch(backend, dtype):
    a = np.zeros((3, 9), dtype)
    a[0, 0], a[1, 8] = np.nan, np.inf
    b = np.zeros((9, 2), dtype)
    b[8, 1] = 1
    y = (cr.tensor(a) @ cr.tensor(b)).numpy()
    np.testing.assert_array_equal(y, (torch.tensor(a) @ torch.tensor(b)).numpy())
    np.testing.assert_array_equal(np.isnan(y), [[True, True], [True, False], [False, False]])


def test_show_config_names_the_backend(capsys):
    config = cr.show_config(mode="dicts")
    assert config["chainrule"] == cr.__version__
    assert config["gemm"].startswith(cr._core._gemm_backend()), config["gemm"]
    assert int(config["threads"].split()[0]) == cr.get_num_threads()
    assert set(config) >= {"gemm", "simd", "openmp", "threads", "eigen", "compiler"}
    assert cr.show_config() is None
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("gemm") and config["gemm"] in out
    with pytest.raises(ValueError, match="show_config: expected mode 'stdout' or 'dicts', got 'json'"):
        cr.show_config(mode="json")


def test_thread_counts_give_the_same_product(backend):
    a, _ = _pair((96, 300), np.float32, 3)
    b, _ = _pair((300, 80), np.float32, 4)
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        one = (a @ b).numpy()
        cr.set_num_threads(2)
        two = (a @ b).numpy()
    finally:
        cr.set_num_threads(before)
    # Eigen sizes its k-blocks by the thread count, so the sums may round differently: both products
    # are held to float32's error bound for a sum of 300 terms, which a wrong split would miss by far
    an, bn = a.numpy().astype(np.float64), b.numpy().astype(np.float64)
    bound = 300 * np.finfo(np.float32).eps * (np.abs(an) @ np.abs(bn))
    for got in (one, two):
        assert np.all(np.abs(got - an @ bn) <= bound)


def test_backend_switch_checks_its_argument():
    with pytest.raises(ValueError, match="_set_gemm_backend: expected 'Eigen' or 'OpenBLAS', got 'MKL'"):
        cr._core._set_gemm_backend("MKL")
