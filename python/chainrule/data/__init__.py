"""cr.data: datasets and mini-batch loading, as torch.utils.data.

    X, y = cr.data.datasets.make_spiral()
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for epoch in range(10):
        for xb, yb in loader:
            ...

A TensorDataset is batched by cutting rows out of its tensors (one ``index_select`` per tensor per
batch), any other dataset with ``__len__``/``__getitem__`` by collating its samples with ``cr.stack``.
With ``seed`` the loader's epoch ``e`` visits the samples in the order ``cr.randperm(n, seed=seed + e)``,
the same order C++'s ``randperm(n, seed + e)`` gives (this is the one DataLoader: nn/README.md shows
the four lines that batch tensors in C++).
"""
from __future__ import annotations

import collections.abc as _abc
import numbers as _numbers

import numpy as _np

from .. import _core
from . import datasets  # noqa: F401  (cr.data.datasets)

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate", "datasets", "Subset", "random_split"]


class Dataset:
    """Base class for map-style datasets: subclasses define ``__len__`` and ``__getitem__``."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Sample ``i`` is ``(tensors[0][i], tensors[1][i], ...)``; all tensors share their first dim.

    ``TensorDataset(X, y)`` with X of shape (N, features) and y of shape (N,).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        for i, t in enumerate(tensors):
            if not isinstance(t, _core.Tensor):
                raise TypeError(f"TensorDataset: expected tensors, got {type(t).__name__} at position {i}")
            if t.ndim == 0:
                raise ValueError("TensorDataset: expected tensors with a first dimension (one row per "
                                 f"sample), got shape () at position {i}")
            if t.shape[0] != tensors[0].shape[0]:
                raise ValueError("TensorDataset: expected tensors with the same first dimension, got "
                                 f"{tuple(tensors[0].shape)} at position 0 and {tuple(t.shape)} at position {i}")
        self.tensors = tuple(tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, (int, _np.integer)) and not isinstance(index, bool):
            if not -n <= index < n:
                raise IndexError(f"TensorDataset: index {index} is out of range for a dataset of size {n}")
            index = int(index)
        return tuple(t[index] for t in self.tensors)

    def _batch(self, indices):
        """Rows ``indices`` (an int64 tensor) or ``start:stop`` (a slice) of every tensor."""
        if isinstance(indices, slice):
            return tuple(_core.narrow_slice(t, 0, indices.start, indices.stop, 1) for t in self.tensors)
        return tuple(_core.index_select(t, 0, indices) for t in self.tensors)


def default_collate(samples):
    """Stacks a list of samples into a batch, as torch's default_collate.

    Tensors are stacked along a new first dim; tuples/lists of fields give a tuple (or list) of
    batched fields; dicts a dict; Python ints give int64, floats float64 and bools bool tensors (as
    torch); NumPy arrays and scalars become tensors first.
    """
    first = samples[0]
    if isinstance(first, _core.Tensor):
        return _core.stack(list(samples), 0)
    if isinstance(first, (_np.ndarray, _np.generic)):
        from .. import tensor
        return _core.stack([tensor(_np.asarray(s)) for s in samples], 0)
    if isinstance(first, bool):
        from .. import tensor
        return tensor(list(samples))
    if isinstance(first, _numbers.Integral):
        from .. import tensor, int64
        return tensor(list(samples), dtype=int64)
    if isinstance(first, _numbers.Real):
        from .. import tensor, float64
        return tensor(list(samples), dtype=float64)
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, _abc.Mapping):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: expected every sample to have the same number of fields, "
                             f"got {sorted({len(s) for s in samples})}")
        fields = [default_collate([s[i] for s in samples]) for i in range(len(first))]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: can't batch samples of type {type(first).__name__}; "
                    "expected tensors, numbers, NumPy arrays, or tuples/lists/dicts of them "
                    "(or pass collate_fn=)")


class DataLoader:
    """Iterates over a dataset in mini-batches.

    Args:
        dataset: a TensorDataset, or any object with ``__len__`` and ``__getitem__``.
        batch_size: samples per batch (the last one may be smaller unless ``drop_last``).
        shuffle: visit the samples in a new random order every epoch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        seed: with ``shuffle``, epoch ``e`` (the e-th ``iter(loader)``, from 0) uses the order
            ``cr.randperm(n, seed=seed + e)``, reproducible and the same as C++'s ``randperm(n, seed + e)``;
            without a seed the order comes from the global generator (``cr.manual_seed``).
        generator: with ``shuffle``, a ``cr.Generator`` each epoch's order is drawn from (as torch's
            ``generator=``), instead of the global generator.
        collate_fn: turns a list of samples into a batch (default: ``default_collate``); not used
            by the TensorDataset fast path unless given.
        num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers, ...:
            torch's keyword arguments, accepted (and checked as torch checks them) so tutorial code
            runs; chainrule always loads in the main process, so num_workers > 0 gives the same
            batches as 0 (with a one-line warning) and worker_init_fn is never called.
            ``generator``: an int seed, or an object with ``initial_seed()``; it seeds like ``seed``.

    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, collate_fn=None, *,
                 sampler=None, batch_sampler=None, num_workers=0, pin_memory=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        _check_worker_args(num_workers, timeout, prefetch_factor, persistent_workers, sampler, batch_sampler)
        self.num_workers, self.pin_memory, self.timeout = int(num_workers), bool(pin_memory), timeout
        self.worker_init_fn, self.prefetch_factor, self.persistent_workers = worker_init_fn, prefetch_factor, \
            bool(persistent_workers)
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError("DataLoader: expected a map-style dataset with __len__ and __getitem__, "
                            f"got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, _np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: expected batch_size >= 1, got {batch_size!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, _np.integer)) or seed < 0):
            raise ValueError(f"DataLoader: expected seed to be None or an int >= 0, got {seed!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = None if seed is None else int(seed)
        self.collate_fn = collate_fn
        # generator=: each shuffled epoch draws its order from a cr.Generator, as in torch
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either seed= or generator=, not both")
        if generator is not None and not isinstance(generator, _core.Generator):
            self.seed, generator = _seed_of(generator, "DataLoader"), None
        self.generator = generator
        self.epoch = 0  # the epoch the next iter() will be

    def set_epoch(self, epoch):
        """Makes the next pass epoch ``epoch`` (to resume a seeded run where it stopped)."""
        if epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: expected epoch >= 0, got {epoch}")
        self.epoch = int(epoch)

    def __len__(self):
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else (n + b - 1) // b

    def _order(self):
        n = len(self.dataset)
        e, self.epoch = self.epoch, self.epoch + 1
        if not self.shuffle:
            return None
        if self.generator is not None:
            return _core._randperm_g(n, self.generator)
        return _core.randperm(n, seed=None if self.seed is None else self.seed + e)

    def __iter__(self):
        order = self._order()  # drawn now, so the epoch starts when iteration starts
        return self._batches(order)

    def _batches(self, order):
        n, b = len(self.dataset), self.batch_size
        fast = (isinstance(self.dataset, TensorDataset) and self.collate_fn is None
                and type(self.dataset).__getitem__ is TensorDataset.__getitem__)
        collate = self.collate_fn or default_collate
        subset = _tensor_subset(self.dataset) if self.collate_fn is None else None
        for i in range(len(self)):
            start, stop = i * b, min((i + 1) * b, n)
            if subset is not None:  # a Subset of a TensorDataset: one index_select per tensor
                idx = range(start, stop) if order is None else order[start:stop].tolist()
                yield subset[0]._batch(_index_tensor([subset[1][j] for j in idx]))
            elif fast:
                yield self.dataset._batch(slice(start, stop) if order is None
                                          else _core.narrow_slice(order, 0, start, stop, 1))
            else:
                idx = range(start, stop) if order is None else order[start:stop].tolist()
                yield collate([self.dataset[j] for j in idx])

    def __repr__(self):
        return (f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, "
                f"seed={self.seed})")


# ---------------------------------------------------------------------- nnmod: workers, Subset, random_split
def _check_worker_args(num_workers, timeout, prefetch_factor, persistent_workers, sampler, batch_sampler):
    """torch's checks of the multiprocessing arguments; num_workers > 0 warns (main-process loading)."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, _np.integer)):
        raise TypeError(f"DataLoader: expected num_workers to be an int, got {type(num_workers).__name__}")
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if sampler is not None or batch_sampler is not None:
        raise NotImplementedError("DataLoader: sampler= and batch_sampler= are not supported; use shuffle= and "
                                  "seed=, or a Subset of the dataset")
    if num_workers > 0:
        import warnings
        warnings.warn(f"DataLoader: chainrule loads batches in the main process; num_workers={num_workers} is "
                      "accepted and gives the same batches as num_workers=0.", stacklevel=3)


def _tensor_subset(ds):
    """(TensorDataset, indices as ints) when ds is a Subset of a plain TensorDataset, else None."""
    if type(ds) is Subset and type(ds.dataset) is TensorDataset:
        n = len(ds.dataset)
        idx = [int(i) for i in ds.indices]
        if all(-n <= i < n for i in idx):
            return ds.dataset, [i + n if i < 0 else i for i in idx]
    return None


def _index_tensor(values):
    from .. import tensor, int64
    return tensor(values, dtype=int64)


def _seed_of(generator, op):
    """A seed from a generator that isn't a cr.Generator: an int, or an object with initial_seed()
    (e.g. a torch.Generator)."""
    if isinstance(generator, (int, _np.integer)) and not isinstance(generator, bool):
        return int(generator)
    if hasattr(generator, "initial_seed"):
        return int(generator.initial_seed()) % (2 ** 63)
    raise TypeError(f"{op}: expected generator to be None, an int seed or an object with initial_seed(), "
                    f"got {type(generator).__name__}")


class Subset(Dataset):
    """The samples ``indices`` of ``dataset``, as torch.utils.data.Subset: ``subset[i]`` is
    ``dataset[indices[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Splits ``dataset`` into non-overlapping random Subsets of the given ``lengths``, as torch.

    ``lengths`` are sizes summing to len(dataset), or fractions summing to 1: each split gets
    floor(n * fraction) samples and the remainder is dealt one by one from the first split on
    (torch's rule, so the sizes equal torch's). ``generator``: None (the global generator that
    ``cr.manual_seed`` seeds), an int seed, or an object with ``initial_seed()``.
    Example: ``train, val = cr.data.random_split(ds, [0.8, 0.2], generator=0)``.
    """
    import itertools
    import math
    import warnings
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
    if any(isinstance(x, bool) or not isinstance(x, (int, _np.integer)) for x in lengths):
        raise ValueError(f"random_split: expected int lengths or fractions summing to 1, got {lengths}")
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: expected non-negative lengths, got {lengths}")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    if isinstance(generator, _core.Generator):
        indices = _core._randperm_g(sum(lengths), generator).tolist()
    else:
        seed = None if generator is None else _seed_of(generator, "random_split")
        indices = _core.randperm(sum(lengths), seed=seed).tolist()
    return [Subset(dataset, indices[offset - length:offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]
