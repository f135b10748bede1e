"""cr.data.datasets: small toy datasets made on the spot (seeded, no network), scikit-learn's
bundled 8x8 digits, and a reader for MNIST's IDX files.

Every generator returns ``(X, y)``: X float32 of shape (n, features); y int64 class labels
(float32 targets for make_regression). The points come ordered by class; shuffle with
``DataLoader(..., shuffle=True)``.
"""
from __future__ import annotations

import gzip
import os

import numpy as np

from .. import _core

__all__ = ["make_spiral", "make_moons", "make_circles", "make_xor", "make_regression", "load_digits",
           "read_idx", "load_mnist"]


def _to_tensors(X, y, y_dtype=np.int64):
    return (_core.from_numpy(np.ascontiguousarray(X, dtype=np.float32)),
            _core.from_numpy(np.ascontiguousarray(y, dtype=y_dtype)))


def _check_count(name, n, minimum=1):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {n!r}")


def make_spiral(n_per_class=100, n_classes=3, noise=0.2, seed=0):
    """The CS231n spiral: ``n_classes`` arms of ``n_per_class`` points each, not linearly separable.

    For class j the radius runs evenly over [0, 1] and the angle over [4j, 4(j+1)] plus Gaussian noise
    of std ``noise`` (0.2 in the course notes): x = (r sin t, r cos t).
    Returns X (n_per_class*n_classes, 2) float32 and y (n_per_class*n_classes,) int64.
    """
    _check_count("make_spiral: n_per_class", n_per_class)
    _check_count("make_spiral: n_classes", n_classes)
    rng = np.random.default_rng(seed)
    N, K = n_per_class, n_classes
    X = np.zeros((N * K, 2))
    y = np.zeros(N * K, dtype=np.int64)
    for j in range(K):
        ix = slice(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)                                         # radius
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.standard_normal(N) * noise  # theta
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return _to_tensors(X, y)


def make_moons(n_samples=100, noise=0.0, seed=0):
    """Two interleaving half circles (scikit-learn's make_moons without shuffling).

    The first ``n_samples // 2`` points are the upper moon (class 0), the rest the lower one
    (class 1); ``noise`` is the std of Gaussian noise added to every coordinate.
    """
    _check_count("make_moons: n_samples", n_samples, 2)
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)],
                   np.c_[1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]])
    y = np.r_[np.zeros(n_out), np.ones(n_in)]
    X += rng.standard_normal(X.shape) * noise
    return _to_tensors(X, y)


def make_circles(n_samples=100, noise=0.0, factor=0.8, seed=0):
    """A circle of radius ``factor`` (class 1) inside the unit circle (class 0), as scikit-learn's
    make_circles without shuffling; ``noise`` is the std of Gaussian noise on every coordinate."""
    _check_count("make_circles: n_samples", n_samples, 2)
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: expected 0 <= factor < 1, got {factor}")
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)],
                   np.c_[np.cos(t_in) * factor, np.sin(t_in) * factor]])
    y = np.r_[np.zeros(n_out), np.ones(n_in)]
    X += rng.standard_normal(X.shape) * noise
    return _to_tensors(X, y)


def make_xor(n_samples=200, noise=0.0, seed=0):
    """Points uniform in [-1, 1]^2 labelled 1 when exactly one coordinate is positive (XOR of the
    signs): the classic problem a linear model can't solve. ``noise`` (Gaussian std) is added to
    the points after labelling, so with noise some labels sit on the wrong side."""
    _check_count("make_xor: n_samples", n_samples)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    X += rng.standard_normal(X.shape) * noise
    return _to_tensors(X, y)


def make_regression(n_samples=100, degree=1, noise=0.1, seed=0, return_coefficients=False):
    """Noisy samples of a polynomial: x uniform in [-1, 1], y = c0 + c1 x + ... + cd x^d + noise.

    ``degree`` is the polynomial's degree (coefficients then drawn from N(0, 1)), or the
    coefficients themselves, lowest power first: ``degree=[1.0, -2.0, 0.5]`` is 1 - 2x + 0.5x^2.
    Returns X (n, 1) and y (n, 1), both float32 -- y is 2-D so that ``mse_loss(model(X), y)`` with a
    ``Linear(..., 1)`` model compares (n, 1) with (n, 1) instead of broadcasting to (n, n). With
    ``return_coefficients`` also returns the coefficients as a float64 NumPy array.
    """
    _check_count("make_regression: n_samples", n_samples)
    rng = np.random.default_rng(seed)
    if isinstance(degree, (int, np.integer)) and not isinstance(degree, bool):
        if degree < 0:
            raise ValueError(f"make_regression: expected degree >= 0, got {degree}")
        coefficients = rng.standard_normal(int(degree) + 1)
    else:
        coefficients = np.asarray(degree, dtype=np.float64)
        if coefficients.ndim != 1 or coefficients.size == 0:
            raise ValueError("make_regression: expected degree to be an int or a non-empty 1-D sequence "
                             f"of coefficients, got {degree!r}")
    x = rng.uniform(-1.0, 1.0, size=n_samples)
    y = np.polynomial.polynomial.polyval(x, coefficients) + rng.standard_normal(n_samples) * noise
    X_t, y_t = _to_tensors(x[:, None], y[:, None], y_dtype=np.float32)
    return (X_t, y_t, coefficients) if return_coefficients else (X_t, y_t)


def load_digits(as_images=False):
    """scikit-learn's bundled handwritten digits: 1797 8x8 images of 0-9 (no download).

    Returns X float32 with pixel values scaled to [0, 1] -- shape (1797, 64), or (1797, 1, 8, 8) with
    ``as_images`` for a CNN -- and y int64 of shape (1797,). Needs scikit-learn (an optional
    dependency of chainrule): ``pip install scikit-learn``.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as e:
        raise ImportError("load_digits needs scikit-learn, which is not installed; "
                          "install it with: pip install scikit-learn") from e
    digits = _sk_load_digits()
    X = digits.data / 16.0  # pixels are counts 0..16
    if as_images:
        X = X.reshape(-1, 1, 8, 8)
    return _to_tensors(X, digits.target)


# IDX (the format of the MNIST files): two zero bytes, a type code, the number of dims, each dim as a
# big-endian uint32, then the values, big-endian, row-major.
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path, dtype=None):
    """Reads an IDX file (MNIST's format), raw or gzip-compressed (detected from its content).

    Integer data becomes int64 and floating data float32/float64, unless ``dtype`` (a chainrule
    dtype) says otherwise -- ``read_idx(images, dtype=cr.float32)`` skips the int64 copy.
    A file that is not valid IDX raises ValueError saying what is wrong.
    """
    with open(path, "rb") as f:
        raw = f.read()
    name = os.fspath(path)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise ValueError(f"read_idx: {name} is a corrupt gzip file ({e})") from None
    if len(raw) < 4:
        raise ValueError(f"read_idx: {name} is too short for an IDX header ({len(raw)} bytes, expected at least 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"read_idx: {name} is not an IDX file: expected the magic number to start "
                         f"with two zero bytes, got {raw[:4].hex()}")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"read_idx: {name} has an unknown IDX type code 0x{code:02X} "
                         "(expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)")
    if ndim == 0:
        raise ValueError(f"read_idx: {name} declares 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {name} is truncated in its header: {ndim} dims need {header} bytes, "
                         f"got {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    itype = _IDX_TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * itype.itemsize
    if len(raw) != expected:
        raise ValueError(f"read_idx: {name} has {len(raw) - header} data bytes, but shape {shape} of "
                         f"{itype.name} needs {expected - header}"
                         + (" (the file is truncated)" if len(raw) < expected else " (trailing bytes)"))
    data = np.frombuffer(raw, dtype=itype, offset=header).reshape(shape)
    if dtype is None:
        target = np.int64 if itype.kind in "iu" else itype.newbyteorder("=")
    else:
        from .. import _NUMPY_DTYPES
        if dtype not in _NUMPY_DTYPES:
            raise TypeError(f"read_idx: dtype must be a chainrule dtype (cr.float32, ...), got {dtype!r}")
        target = _NUMPY_DTYPES[dtype]
    return _core.from_numpy(np.array(data, dtype=target, order="C", copy=True))


_MNIST_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def load_mnist(directory, train=True):
    """MNIST (or Fashion-MNIST) from the four standard IDX files in ``directory`` (each raw or .gz;
    chainrule never downloads them). Returns X float32 (n, 1, 28, 28) scaled to [0, 1] and y int64 (n,).
    """
    found = []
    for stem in _MNIST_FILES[bool(train)]:
        for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
            p = os.path.join(directory, candidate)
            if os.path.exists(p):
                found.append(p)
                break
        else:
            raise FileNotFoundError(f"load_mnist: no {stem} (or {stem}.gz) in {directory}")
    from .. import float32
    images = read_idx(found[0], dtype=float32)
    labels = read_idx(found[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"load_mnist: expected images (n, rows, cols) and labels (n,), got "
                         f"{tuple(images.shape)} and {tuple(labels.shape)}")
    X = np.asarray(images) / np.float32(255)
    return _core.from_numpy(np.ascontiguousarray(X[:, None], dtype=np.float32)), labels
