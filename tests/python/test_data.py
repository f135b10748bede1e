"""cr.data: TensorDataset, DataLoader (batching, seeded shuffling shared with C++, collation, compared
with torch's DataLoader), the toy datasets, load_digits, and the IDX (MNIST) reader."""
import gzip
import struct
import sys

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
import chainrule.data as crd
from chainrule.data import DataLoader, TensorDataset, datasets


def numbered(n):
    """X row i = (2i, 2i+1), y[i] = i: every batch says which samples it holds."""
    return cr.arange(0, 2 * n, 1, dtype=cr.float32).reshape(n, 2), cr.arange(n)


def labels_of(loader):
    out = []
    for xb, yb in loader:
        x, y = np.asarray(xb), np.asarray(yb)
        np.testing.assert_array_equal(x[:, 0], 2 * y)  # rows of X travel with their labels
        out.append(y.tolist())
    return out


# ---------------------------------------------------------------- TensorDataset
def test_tensor_dataset_len_and_items():
    X, y = numbered(5)
    ds = TensorDataset(X, y)
    assert len(ds) == 5
    x3, y3 = ds[3]
    assert isinstance(ds[3], tuple)
    assert x3.tolist() == [6.0, 7.0] and y3.item() == 3 and y3.dtype == cr.int64
    assert ds[-1][1].item() == 4
    assert ds[1:3][1].tolist() == [1, 2]


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="same first dimension.*\\(4, 2\\).*\\(3,\\)"):
        TensorDataset(cr.zeros(4, 2), cr.zeros(3))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(cr.tensor(1.0))
    with pytest.raises(TypeError, match="expected tensors, got ndarray"):
        TensorDataset(np.zeros(3))
    with pytest.raises(IndexError, match="index 5 is out of range for a dataset of size 5"):
        TensorDataset(*numbered(5))[5]
    with pytest.raises(IndexError, match="index -6 is out of range for a dataset of size 5"):
        TensorDataset(*numbered(5))[-6]


# ---------------------------------------------------------------- DataLoader: batching
@pytest.mark.parametrize("n,batch_size,drop_last", [(7, 3, False), (7, 3, True), (6, 3, True), (2, 3, True),
                                                    (5, 1, False), (5, 10, False)])
def test_sequential_batches_match_torch(n, batch_size, drop_last):
    X, y = numbered(n)
    ours = DataLoader(TensorDataset(X, y), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(tud.TensorDataset(torch.from_numpy(X.numpy().copy()), torch.from_numpy(y.numpy().copy())),
                            batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got = list(ours)
    want = list(theirs)
    assert len(got) == len(want)
    for (xb, yb), (xt, yt) in zip(got, want):
        np.testing.assert_array_equal(np.asarray(xb), xt.numpy())
        np.testing.assert_array_equal(np.asarray(yb), yt.numpy())
        assert xb.dtype == cr.float32 and yb.dtype == cr.int64


def test_tensor_dataset_fast_path_never_touches_single_samples(monkeypatch):
    X, y = numbered(10)
    ds = TensorDataset(X, y)
    calls = []
    real_index_select = cr._core.index_select

    def boom(*a, **k):
        raise AssertionError("per-sample access in the TensorDataset fast path")

    def counting_index_select(*a):
        calls.append(a[0].shape)
        return real_index_select(*a)

    monkeypatch.setattr(TensorDataset, "__getitem__", boom)
    monkeypatch.setattr(cr._core, "stack", boom)
    monkeypatch.setattr(cr._core, "index_select", counting_index_select)
    batches = labels_of(DataLoader(ds, batch_size=4, shuffle=True, seed=0))
    assert sorted(sum(batches, [])) == list(range(10))
    assert len(calls) == 2 * 3  # one index_select per tensor per batch


# ---------------------------------------------------------------- DataLoader: shuffling
def test_seeded_shuffle_uses_randperm_of_seed_plus_epoch():
    n, seed = 23, 5
    loader = DataLoader(TensorDataset(*numbered(n)), batch_size=4, shuffle=True, seed=seed)
    for epoch in range(3):
        assert loader.epoch == epoch
        batches = labels_of(loader)
        assert [len(b) for b in batches] == [4] * 5 + [3]
        assert sum(batches, []) == cr.randperm(n, seed=seed + epoch).tolist()


def test_seeded_order_is_pinned_across_languages():
    # the same numbers are pinned in tests/cpp/data_test.cpp (Data.SeededOrderIsPinnedAcrossLanguages)
    loader = DataLoader(TensorDataset(*numbered(10)), batch_size=10, shuffle=True, seed=3)
    assert labels_of(loader) == [[0, 9, 7, 6, 8, 3, 2, 4, 1, 5]]


def test_shuffle_visits_each_sample_once_and_epochs_differ():
    loader = DataLoader(TensorDataset(*numbered(50)), batch_size=8, shuffle=True, seed=0)
    first, second = sum(labels_of(loader), []), sum(labels_of(loader), [])
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != second
    again = DataLoader(TensorDataset(*numbered(50)), batch_size=8, shuffle=True, seed=0)
    assert sum(labels_of(again), []) == first  # same seed, same order


def test_unseeded_shuffle_follows_manual_seed():
    def order():
        return sum(labels_of(DataLoader(TensorDataset(*numbered(30)), batch_size=7, shuffle=True)), [])
    cr.manual_seed(123)
    a = order()
    cr.manual_seed(123)
    b = order()
    cr.manual_seed(123)
    assert a == b == cr.randperm(30).tolist()
    assert a != list(range(30))


def test_set_epoch_and_drop_last_with_shuffle():
    loader = DataLoader(TensorDataset(*numbered(10)), batch_size=4, shuffle=True, drop_last=True, seed=2)
    loader.set_epoch(7)
    batches = labels_of(loader)
    assert len(batches) == len(loader) == 2
    assert sum(batches, []) == cr.randperm(10, seed=9).tolist()[:8]
    assert loader.epoch == 8


def test_epoch_starts_when_iteration_starts():
    loader = DataLoader(TensorDataset(*numbered(6)), batch_size=3, shuffle=True, seed=1)
    it1 = iter(loader)
    it2 = iter(loader)  # a second pass started before the first is consumed keeps its own order
    assert sum((b[1].tolist() for b in it2), []) == cr.randperm(6, seed=2).tolist()
    assert sum((b[1].tolist() for b in it1), []) == cr.randperm(6, seed=1).tolist()


def test_nested_loops_keep_their_own_order():
    loader = DataLoader(TensorDataset(*numbered(6)), batch_size=3, shuffle=True, seed=1)
    outer = []
    for _, yb in loader:
        outer += yb.tolist()
        for _ in loader:  # starts another epoch; must not disturb the outer one
            pass
    assert outer == cr.randperm(6, seed=1).tolist()


def test_empty_dataset_gives_no_batches():
    loader = DataLoader(TensorDataset(cr.zeros(0, 3), cr.zeros(0, dtype=cr.int64)), batch_size=4, shuffle=True,
                        seed=0)
    assert len(loader) == 0 and list(loader) == []


def test_loader_argument_errors():
    ds = TensorDataset(*numbered(3))
    with pytest.raises(ValueError, match="batch_size >= 1, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match=r"set_epoch: expected epoch >= 0, got -1"):
        DataLoader(ds).set_epoch(-1)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(ds, seed=-1)
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(iter(range(3)))


# ---------------------------------------------------------------- DataLoader: other datasets
class Squares(crd.Dataset):
    """Sample i = (tensor [i, i^2] float32, label i % 3 as int, weight 0.5 i as float)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return cr.tensor([float(i), float(i * i)]), i % 3, 0.5 * i


def test_map_style_dataset_collates_like_torch():
    class TorchSquares(tud.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return torch.tensor([float(i), float(i * i)]), i % 3, 0.5 * i

    ours = list(DataLoader(Squares(7), batch_size=3))
    theirs = list(tud.DataLoader(TorchSquares(), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for ob, tb in zip(ours, theirs):
        assert isinstance(ob, tuple) and len(ob) == 3
        for o, t in zip(ob, tb):
            np.testing.assert_array_equal(np.asarray(o), t.numpy())
            assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]  # float32 / int64 / float64


def test_map_style_dataset_shuffles_with_the_same_order():
    loader = DataLoader(Squares(9), batch_size=4, shuffle=True, seed=4)
    order = sum((b[0][:, 0].tolist() for b in loader), [])
    assert [int(v) for v in order] == cr.randperm(9, seed=4).tolist()


def test_collate_dicts_numpy_and_custom_collate_fn():
    class Dicts:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"x": np.full(3, i, dtype=np.float32), "flag": i % 2 == 0, "name": f"s{i}"}

    (batch, *_) = list(DataLoader(Dicts(), batch_size=4))
    assert batch["x"].shape == (4, 3) and batch["x"].dtype == cr.float32
    assert batch["x"][:, 0].tolist() == [0, 1, 2, 3]
    assert batch["flag"].dtype == cr.bool and batch["flag"].tolist() == [True, False, True, False]
    assert batch["name"] == ["s0", "s1", "s2", "s3"]
    sizes = [b for b in DataLoader(Squares(5), batch_size=2, collate_fn=len)]
    assert sizes == [2, 2, 1]
    # a collate_fn also replaces the TensorDataset fast path
    assert list(DataLoader(TensorDataset(*numbered(3)), batch_size=2, collate_fn=len)) == [2, 1]


def test_collate_errors():
    class Objects:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return object()

    with pytest.raises(TypeError, match="can't batch samples of type object"):
        list(DataLoader(Objects(), batch_size=2))
    with pytest.raises(ValueError, match="same number of fields"):
        crd.default_collate([(1, 2), (3,)])


# ---------------------------------------------------------------- toy datasets
def test_make_spiral_is_the_cs231n_spiral():
    N, K = 100, 3
    X, y = datasets.make_spiral(N, K, noise=0.2, seed=7)
    assert X.shape == (N * K, 2) and y.shape == (N * K,)
    assert X.dtype == cr.float32 and y.dtype == cr.int64
    # the course's code, with its np.random.randn drawn from the same seeded generator
    rng = np.random.default_rng(7)
    Xr = np.zeros((N * K, 2))
    yr = np.zeros(N * K, dtype="uint8")
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.standard_normal(N) * 0.2
        Xr[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        yr[ix] = j
    np.testing.assert_allclose(np.asarray(X), Xr, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(y), yr)
    # and its geometry: radius exactly linspace(0, 1, N) per class, angle = 4j..4j+4 plus N(0, 0.2) noise
    Xn = np.asarray(X).astype(np.float64)
    for j in range(K):
        pts = Xn[N * j:N * (j + 1)]
        np.testing.assert_allclose(np.hypot(pts[:, 0], pts[:, 1]), np.linspace(0, 1, N), atol=1e-6)
        angle = np.arctan2(pts[1:, 0], pts[1:, 1])  # t with x = r sin t, y = r cos t (r > 0)
        resid = np.angle(np.exp(1j * (angle - np.linspace(j * 4, (j + 1) * 4, N)[1:])))
        assert 0.12 < resid.std() < 0.28 and abs(resid.mean()) < 0.08


def test_make_spiral_seeding_and_noise():
    a, _ = datasets.make_spiral(seed=1)
    b, _ = datasets.make_spiral(seed=1)
    c, _ = datasets.make_spiral(seed=2)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    X, y = datasets.make_spiral(n_per_class=5, n_classes=4, noise=0.0)
    assert X.shape == (20, 2) and y.tolist() == sum([[j] * 5 for j in range(4)], [])
    np.testing.assert_allclose(np.asarray(X)[5:10, 0], np.linspace(0, 1, 5) * np.sin(np.linspace(4, 8, 5)), atol=1e-6)
    with pytest.raises(ValueError, match="n_per_class"):
        datasets.make_spiral(n_per_class=0)


def test_make_moons_and_circles_match_scikit_learn_without_noise():
    import sklearn.datasets as skd
    for n in (10, 11):
        X, y = datasets.make_moons(n)
        Xs, ys = skd.make_moons(n, shuffle=False, noise=None)
        np.testing.assert_allclose(np.asarray(X), Xs, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(y), ys)
        X, y = datasets.make_circles(n, factor=0.5)
        Xs, ys = skd.make_circles(n, shuffle=False, noise=None, factor=0.5)
        np.testing.assert_allclose(np.asarray(X), Xs, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(y), ys)
        assert y.dtype == cr.int64 and X.dtype == cr.float32


def test_noise_is_seeded_and_has_the_requested_scale():
    clean, _ = datasets.make_moons(4000)
    noisy, _ = datasets.make_moons(4000, noise=0.1, seed=3)
    again, _ = datasets.make_moons(4000, noise=0.1, seed=3)
    np.testing.assert_array_equal(np.asarray(noisy), np.asarray(again))
    assert abs((np.asarray(noisy) - np.asarray(clean)).std() - 0.1) < 0.005
    c0, _ = datasets.make_circles(4000)
    c1, _ = datasets.make_circles(4000, noise=0.05, seed=0)
    assert abs((np.asarray(c1) - np.asarray(c0)).std() - 0.05) < 0.003
    with pytest.raises(ValueError, match="factor"):
        datasets.make_circles(10, factor=1.5)


def test_make_xor_labels_are_the_xor_of_the_signs():
    X, y = datasets.make_xor(500, seed=0)
    x = np.asarray(X)
    assert X.shape == (500, 2) and np.all(np.abs(x) <= 1)
    np.testing.assert_array_equal(np.asarray(y), ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64))
    assert 0.4 < np.asarray(y).mean() < 0.6
    Xn, yn = datasets.make_xor(500, noise=0.3, seed=0)
    np.testing.assert_array_equal(np.asarray(yn), np.asarray(y))  # same points, same labels, moved
    assert not np.array_equal(np.asarray(Xn), x)


def test_make_regression_polynomial():
    X, y = datasets.make_regression(50, degree=[1.0, -2.0, 0.5], noise=0.0, seed=0)
    assert X.shape == (50, 1) and y.shape == (50, 1) and X.dtype == y.dtype == cr.float32
    x = np.asarray(X)[:, 0].astype(np.float64)
    np.testing.assert_allclose(np.asarray(y)[:, 0], 1 - 2 * x + 0.5 * x ** 2, rtol=1e-5, atol=1e-6)
    X, y, coef = datasets.make_regression(2000, degree=2, noise=0.1, seed=1, return_coefficients=True)
    assert coef.shape == (3,)
    x = np.asarray(X)[:, 0].astype(np.float64)
    resid = np.asarray(y)[:, 0] - np.polynomial.polynomial.polyval(x, coef)
    assert abs(resid.std() - 0.1) < 0.01
    # least squares on the noisy data recovers the coefficients
    fit = np.polynomial.polynomial.polyfit(x, np.asarray(y)[:, 0], 2)
    np.testing.assert_allclose(fit, coef, atol=0.03)
    X1, y1 = datasets.make_regression(10, seed=5)
    X2, y2 = datasets.make_regression(10, seed=5)
    np.testing.assert_array_equal(np.asarray(y1), np.asarray(y2))
    with pytest.raises(ValueError, match="degree"):
        datasets.make_regression(10, degree=[])


def test_load_digits():
    import sklearn.datasets as skd
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == cr.float32
    assert y.shape == (1797,) and y.dtype == cr.int64
    x = np.asarray(X)
    assert x.min() == 0.0 and x.max() == 1.0
    ref = skd.load_digits()
    np.testing.assert_allclose(x, ref.data / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(y), ref.target)
    images, _ = datasets.load_digits(as_images=True)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(np.asarray(images)[5, 0], x[5].reshape(8, 8))


def test_load_digits_without_scikit_learn_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # what Python does for a module that can't import
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.load_digits()


# ---------------------------------------------------------------- IDX files
def idx_bytes(array, code=0x08, dims=None):
    array = np.asarray(array)
    dims = array.shape if dims is None else dims
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + array.astype(big).tobytes()


@pytest.fixture
def mnist_like():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8), rng.integers(0, 10, size=5).astype(np.uint8)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_images_and_labels(tmp_path, mnist_like, compress):
    images, labels = mnist_like
    for name, arr in (("images", images), ("labels", labels)):
        data = idx_bytes(arr)
        (tmp_path / name).write_bytes(gzip.compress(data) if compress else data)
    X = datasets.read_idx(tmp_path / "images")
    y = datasets.read_idx(str(tmp_path / "labels"))
    assert X.shape == (5, 28, 28) and X.dtype == cr.int64
    np.testing.assert_array_equal(np.asarray(X), images)
    assert y.shape == (5,) and y.tolist() == labels.tolist()
    Xf = datasets.read_idx(tmp_path / "images", dtype=cr.float32)
    assert Xf.dtype == cr.float32 and np.asarray(Xf).max() == images.max()


@pytest.mark.parametrize("code,dtype,cr_dtype", [(0x09, np.int8, cr.int64), (0x0B, np.int16, cr.int64),
                                                 (0x0C, np.int32, cr.int64), (0x0D, np.float32, cr.float32),
                                                 (0x0E, np.float64, cr.float64)])
def test_read_idx_other_types_are_big_endian(tmp_path, code, dtype, cr_dtype):
    values = np.array([[-3, 2, 70], [1000 if code != 0x09 else 100, -1, 0]], dtype=dtype)
    (tmp_path / "f").write_bytes(idx_bytes(values, code))
    t = datasets.read_idx(tmp_path / "f")
    assert t.dtype == cr_dtype
    np.testing.assert_array_equal(np.asarray(t), values)


@pytest.mark.parametrize("data,message", [
    (b"\x00\x00", "too short for an IDX header"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "not an IDX file"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "truncated in its header"),
    (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + b"\x00" * 5, "the file is truncated"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x00" * 3, "trailing bytes"),
    (b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + b"\x00" * 4, "shape \\(2,\\) of int32 needs 8"),
    (b"\x1f\x8b\x08\x00garbage", "corrupt gzip"),
    # mtime=0: the header's timestamp would make the test id differ between pytest-xdist workers
    (gzip.compress(idx_bytes(np.zeros(10)), mtime=0)[:-12], "corrupt gzip"),
])
def test_read_idx_rejects_corrupt_files(tmp_path, data, message):
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(ValueError, match=message):
        datasets.read_idx(tmp_path / "bad")


def test_load_mnist_from_a_directory(tmp_path, mnist_like):
    images, labels = mnist_like
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    X, y = datasets.load_mnist(tmp_path, train=False)
    assert X.shape == (5, 1, 28, 28) and X.dtype == cr.float32
    np.testing.assert_allclose(np.asarray(X)[:, 0], images / 255.0, rtol=1e-6)
    assert y.dtype == cr.int64 and y.tolist() == labels.tolist()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path, train=True)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:3]))
    with pytest.raises(ValueError, match="expected images"):
        datasets.load_mnist(tmp_path, train=False)
