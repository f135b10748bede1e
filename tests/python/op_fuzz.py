"""The op fuzzer's engine: random programs over every op of the catalog, run in chainrule and torch
side by side, compared step by step (values), then on gradients and Hessian-vector products.

A program is built once with torch: every choice (structure from ``choose``, numbers from a NumPy
RandomState, and what torch did: which calls raised, which values needed squashing) is recorded as a
list of decisions; chainrule (and torch again, in float64 or at perturbed inputs for finite
differences) then replays exactly those decisions. test_op_fuzz.py drives it with hypothesis; run this
file directly for long campaigns that log every disagreement instead of stopping at the first:

    PYTHONPATH=python python tests/python/op_fuzz.py --start 0 --count 20000 [--one SEED]
"""
from __future__ import annotations

import math
import os
import re
import signal
import sys
import warnings

import numpy as np
import torch

import chainrule as cr
import chainrule.autograd.forward_ad as fwAD
from op_catalog import CATALOG, DTYPES, B, F, I, V, is_float, outputs, to_numpy

# campaigns only: catalog entries to leave out (a regex), e.g. ops with known bugs, so that a long
# run finds the others
EXCLUDE = os.environ.get("FUZZ_EXCLUDE", "")
MAX_NUMEL = 256  # bigger results are cut to their first 64 elements (outer of outers grows fast)


RAISED, SKIPPED = object(), object()  # what Run.call returns when the op raised / was left out


class Mismatch(AssertionError):
    """chainrule and torch disagree (values, shapes, dtypes, an exception on one side only)."""


class Diverged(Exception):
    """A replay took another path than the recorded one (values moved across a decision)."""


class Run:
    """One execution of a program in one framework and dtype.

    Building (``decisions is None``, torch only) draws the structure with ``choose(n)`` and the
    numbers from ``rs``, recording every decision; replaying reads them back in the same order.
    ``ref`` is the building run a replay compares itself with, step by step.
    """

    def __init__(self, lib, dtype, decisions=None, choose=None, rs=None, ref=None, inputs=None, frozen=None,
                 tangents=None):
        self.L, self.dtype = lib, dtype
        self.dt = DTYPES[dtype][1 if lib is torch else 0]
        self.building = decisions is None
        self.decisions = [] if self.building else decisions
        self.pos = 0
        self.choose, self.rs, self.ref, self.input_override = choose, rs, ref, inputs
        self.nodes, self.raw, self.trace = [], [], []
        self.narrowed = False  # some op's result was float32 (a float64 program then rounds as float32)
        # detached values (constants to autograd) in order; a finite-difference replay gets the base
        # point's, so that the function it differentiates is the one autograd sees
        self.frozen, self.frozen_in = [], frozen
        self.convention = False  # an op whose gradient is a convention, not the derivative, was used
        self.tangents = tangents  # forward mode: the inputs become duals carrying these (chainrule)

    # -------------------------------------------------------------------------- decisions
    def decide(self, make):
        if self.building:
            v = make()
            self.decisions.append(v)
            return v
        v = self.decisions[self.pos]
        self.pos += 1
        return v

    def pick(self, n):
        return self.decide(lambda: self.choose(n))

    def note(self, text):
        if self.building:
            self.trace.append(text)

    # -------------------------------------------------------------------------- tensors
    def freeze(self, t):
        k = len(self.frozen)
        self.frozen.append(to_numpy(t))
        if self.frozen_in is not None:
            return self.L.tensor(self.frozen_in[k], dtype=t.dtype)
        return t.detach()

    def const(self, a):
        a = np.asarray(a)
        if a.dtype == bool:
            return self.L.tensor(a)
        if a.dtype.kind in "iu":
            return self.L.tensor(a.astype(np.int64), dtype=self.L.int64)
        return self.L.tensor(a.astype(DTYPES[self.dtype][2]), dtype=self.dt)

    def values(self, t):
        return to_numpy(t).astype(np.float64)

    # -------------------------------------------------------------------------- the program
    def run(self):
        """Inputs, 10-40 steps, then the scalar loss: the sum of every node times a fixed weight."""
        shapes = self.decide(lambda: input_shapes(self.choose))
        arrays = self.decide(lambda: [self.rs.uniform(-2, 2, size=s) for s in shapes])
        if self.input_override is not None:
            arrays = self.input_override
        self.inputs = [self.L.tensor(a.astype(DTYPES[self.dtype][2]), dtype=self.dt, requires_grad=True)
                       for a in arrays]
        if self.tangents is not None:
            self.inputs = [fwAD.make_dual(x, self.L.tensor(u, dtype=self.dt)) for x, u in zip(self.inputs, self.tangents)]
        self.nodes = list(self.inputs)
        self.anchor = sum(x.sum() for x in self.inputs)  # stands in for an empty tensor when fitting
        self.note(f"inputs {[tuple(s) for s in shapes]} ({self.dtype})")
        for _ in range(self.pick(31) + 10):
            kind = self.pick(10)
            if kind < 7:
                self.step_op()
            elif kind < 9:
                self.step_view()
            else:
                self.step_inplace()
        weights = self.decide(lambda: [self.rs.uniform(-1, 1, size=tuple(n.shape)) for n in self.nodes])
        self.loss = None
        for n, w in zip(self.nodes, weights):
            term = (n * self.const(w)).sum()
            self.loss = term if self.loss is None else self.loss + term
        return self

    def emit(self, outs, detach, what, theirs=None, args=()):
        """Compares raw results with the reference, then makes them nodes in the program dtype.
        When they differ, torch's ``theirs`` is run on chainrule's own arguments: if it then agrees,
        the arguments differed by rounding only and moved across a tie or a rounding boundary
        (argmax of values equal up to 1e-16, floor of 1e-31 vs 0): not this op's fault, and the
        program can't be compared further (Diverged)."""
        k = len(self.raw)
        self.raw.append(outs)
        if self.ref is not None:
            try:
                self.check_step(k, what)
            except Mismatch:
                if "conv2d" in what and any(a.numel() == 0 for a in args):
                    # torch: conv2d of an unbatched (0, 1, 1) input with a (1, 0, 1, 1) weight is
                    # (0, 1, 1); the sum over no channels is (1, 1, 1) of zeros, chainrule's answer
                    TOLERATED.setdefault("torch's conv2d shapes with zero channels", what)
                    raise Diverged(f"step {k} ({what}): torch's conv2d of zero channels") from None
                if theirs is None or not self.torch_agrees_on_our_args(theirs, args, outs, k):
                    raise
                raise Diverged(f"step {k} ({what}): rounding of the arguments crossed a decision") from None
        for out in outs:
            self.narrowed = self.narrowed or out.dtype == self.L.float32  # rounds as float32 from here
            node = out.to(self.dt)
            if detach or not is_float(out):
                node = self.freeze(node)
            flags = self.decide(lambda: post_flags(node))
            if flags["cut"]:
                node = node.reshape(-1)[:64]
            if flags["nonfinite"]:
                node = self.freeze(self.L.where(self.L.isfinite(node), node, 0.0))
            elif flags["scale"] != 1.0:
                node = node * flags["scale"]
            self.nodes.append(node)
        self.note(f"  n{len(self.nodes) - 1} <- {what} -> {[tuple(o.shape) for o in outs]}")

    def torch_agrees_on_our_args(self, theirs, args, outs, k):
        th_dt = DTYPES[self.dtype][1]
        targs = []
        for a in args:
            v = to_numpy(a)
            targs.append(torch.tensor(v, dtype=th_dt) if is_float(a) else torch.tensor(v))
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                again = outputs(theirs(*targs))
                for j, (a, b) in enumerate(zip(outs, again)):
                    compare(a, b, self.dtype, "forward", "", k)
            except Exception:  # noqa: BLE001
                return False
        return len(again) == len(outs)

    def check_step(self, k, what):
        ref = self.ref.raw[k]
        ours = self.raw[k]
        where_ = f"step {k} ({what})"
        if len(ours) != len(ref):
            raise Mismatch(f"{where_}: {len(ours)} outputs, torch gives {len(ref)}")
        for j, (a, b) in enumerate(zip(ours, ref)):
            compare(a, b, self.dtype, "forward", f"{where_} output {j}", k)

    # -------------------------------------------------------------------------- calls
    def call(self, fn, args, what, probe=True, name=""):
        """Calls fn(*args); the outcome (raised or not) must be the one the building run recorded,
        unless torch's result was found unfit for comparison (``skip``: see ``unfit``)."""
        err = None
        if self.L is cr:
            for crash, shapes in CRASHES:
                if what.startswith(crash) and [tuple(a.shape) for a in args] == shapes:
                    raise Mismatch(f"{what}: chainrule would crash the process (test_op_fuzz_regressions.py)")
        if probe and self.decide(lambda: deprecated(fn, args, what)):
            return SKIPPED  # torch warns that this use is deprecated: chainrule may refuse it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = fn(*args)
            except (Mismatch, Diverged):
                raise
            except Exception as e:  # noqa: BLE001 (torch raises AssertionError too, e.g. embedding)
                err, result = e, None
        outcome = self.decide(lambda: None if err is None else type(err).__name__)
        skip = probe and self.decide(lambda: err is None and unfit(name, fn, args, result))
        if skip:
            return SKIPPED
        if self.building or self.L is torch:
            if (outcome is None) != (err is None):
                raise Diverged(f"{what}: torch {'raised ' + repr(err) if err else 'succeeded'} on replay")
            return RAISED if err else result
        if (outcome is None) != (err is None):
            tolerated = tolerated_outcome(name or what, args, outcome, err)
            if tolerated:
                TOLERATED.setdefault(tolerated, f"{what}: torch {outcome or 'succeeded'}, chainrule "
                                                f"{type(err).__name__ + ': ' + str(err) if err else 'succeeded'}")
                raise Diverged(tolerated)
        if outcome is None and err is not None:
            raise Mismatch(f"{what}: chainrule raised {type(err).__name__}: {err}; torch succeeded")
        if outcome is not None and err is None:
            raise Mismatch(f"{what}: chainrule succeeded; torch raised {outcome}")
        if outcome is not None and not same_family(outcome, err):
            CLASS_MISMATCHES[(outcome, type(err).__name__)] = f"{what}: {err}"
        return RAISED if err else result

    # -------------------------------------------------------------------------- steps
    def step_op(self):
        """A catalog entry applied to nodes as they are (if torch accepts them), else fitted to the
        shapes of one of its samples."""
        o = CATALOG[self.pick(len(CATALOG))]
        if EXCLUDE and re.search(EXCLUDE, o.name):
            return
        s = o.samples[self.pick(len(o.samples))]
        detach = not o.differentiable or s.check == "forward"
        picks = [self.pick(len(self.nodes)) if isinstance(spec, F) else None for spec in s.args]
        fn = o.ours if self.L is cr else o.theirs
        what = f"{o.name}[{s.id}]"
        if self.pick(4):
            args = self.args(o, s, picks, False, detach)
            result = self.call(fn, args, f"{what} on {[tuple(a.shape) for a in args]}", name=o.name)
            if result is SKIPPED:
                return
            if result is not RAISED:
                self.convention |= any(k in o.name for k in CONVENTIONS)
                return self.emit(outputs(result), detach, f"{what}({self.argtext(s, picks)})", o.theirs, args)
        args = self.args(o, s, picks, True, detach)
        result = self.call(fn, args, f"{what} on {[tuple(a.shape) for a in args]}", name=o.name)
        if result is not RAISED and result is not SKIPPED:
            self.convention |= any(k in o.name for k in CONVENTIONS)
            self.emit(outputs(result), detach, f"{what}(fit {self.argtext(s, picks)})", o.theirs, args)

    def argtext(self, s, picks):
        return ", ".join(f"n{p}" if p is not None else type(spec).__name__ for spec, p in zip(s.args, picks))

    def args(self, o, s, picks, fit, detach):
        out = []
        for spec, p in zip(s.args, picks):
            if isinstance(spec, F):
                x = self.nodes[p]
                if fit:
                    x = self.fit(x, spec.shape)
                x = self.domain(x, spec.domain or o.domain)
                out.append(self.freeze(x) if detach else x)
            elif isinstance(spec, V):
                out.append(self.const(np.asarray(spec.values, dtype=np.float64)))
            elif isinstance(spec, I):
                out.append(self.const(np.asarray(spec.values, dtype=np.int64)))
            elif isinstance(spec, B):
                vals = self.decide(lambda: np.asarray(spec.values, dtype=bool) if spec.values is not None
                                   else self.rs.rand(*spec.shape) < 0.5)
                out.append(self.const(vals))
        return out

    def fit(self, x, shape):
        """x's values as a tensor of ``shape`` through views: (transpose,) flatten, (stride,) cut or
        expand-repeat, reshape. An empty x is replaced by the anchor (the sum of the inputs)."""
        n, m = math.prod(shape), x.numel()
        mode = self.pick(3)
        if m == 0:
            flat, m = self.anchor.reshape(1), 1
        else:
            if mode == 1 and x.ndim >= 2:
                x = x.transpose(0, -1)
            flat = x.reshape(-1)
            if mode == 2 and m >= 2 * n:
                flat = flat[1::2]
                m = flat.numel()
        if m >= n:
            flat = flat[:n]
        else:
            flat = flat.unsqueeze(0).expand(-(-n // m), m).reshape(-1)[:n]
        return flat.reshape(shape)

    def domain(self, x, domain):
        """x mapped smoothly into the op's domain (see op_catalog.draw)."""
        if domain == "any":
            big = self.decide(lambda: bool(x.numel()) and float(np.max(np.abs(self.values(x)))) > 2.0)
            return 2.0 * self.L.tanh(x / 2.0) if big else x
        if domain == "positive":
            return 0.5 + 1.5 * self.L.sigmoid(x)
        if domain in ("nonzero", "away_from_zero"):
            lo = 0.5 if domain == "nonzero" else 0.25
            sign = self.decide(lambda: self.rs.choice([-1.0, 1.0], size=tuple(x.shape)))
            return (lo + (2.0 - lo) * self.L.sigmoid(x)) * self.const(sign)
        if domain == "int_valued":
            return self.L.round(self.L.clamp(x, -2.0, 2.0))
        raise ValueError(domain)

    VIEWS = ("transpose", "permute", "slice", "select", "unsqueeze", "squeeze", "expand", "diagonal",
             "narrow", "unfold", "mT", "flatten", "view", "index_none", "T")

    def step_view(self):
        """A random view of a node (grad flows through it), with random dims and bounds."""
        p = self.pick(len(self.nodes))
        x = self.nodes[p]
        kind = self.VIEWS[self.pick(len(self.VIEWS))]
        shape = tuple(x.shape)
        # the parameters are drawn from the shape alone, so they are the same in every replay
        params = self.decide(lambda: view_params(kind, shape, self.choose))
        if params is None:
            return
        fn = VIEW_FNS[kind]
        result = self.call(lambda t: fn(t, *params), [x], f"view {kind}{params} of {shape}", name="view " + kind)
        if result is not RAISED and result is not SKIPPED:
            self.emit((result,), False, f"n{p}.{kind}{params}", lambda t: fn(t, *params), [x])

    def step_inplace(self):
        """In-place ops under no_grad: on a detached copy (any op, through views too), or on a clone
        that keeps its graph (constant shifts only, so the derivative stays the identity)."""
        p = self.pick(len(self.nodes))
        x = self.nodes[p]
        tracked = self.pick(2) == 1
        y = x.clone() if tracked else self.freeze(x).clone()
        shape = tuple(y.shape)
        n_ops = self.pick(3) + 1
        done = []
        with self.L.no_grad():
            for _ in range(n_ops):
                kind = self.pick(len(INPLACE_SHIFT if tracked else INPLACE_ANY))
                name = (INPLACE_SHIFT if tracked else INPLACE_ANY)[kind]
                params = self.decide(lambda: inplace_params(name, shape, self.choose, self.rs))
                if params is None:
                    continue
                if name == "masked_fill_":
                    params = (self.const(params[0]), params[1])
                self.call(lambda t: INPLACE_FNS[name](t, *params), [y], f"in-place {name} on {shape}", probe=False)
                done.append(name)
        self.emit((y,), False, f"{'clone' if tracked else 'copy'}(n{p}) then {done} under no_grad")


# ------------------------------------------------------------------------------ views and in-place ops
def view_params(kind, shape, choose):
    nd = len(shape)

    def dim():
        return choose(nd) - (nd if choose(2) else 0)
    if kind in ("transpose",) and nd >= 1:
        return (dim(), dim())
    if kind == "permute" and nd >= 1:
        perm = list(range(nd))
        for i in range(nd - 1, 0, -1):
            j = choose(i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        return (tuple(perm),)
    if kind == "slice" and nd >= 1:
        d = choose(nd)
        n = shape[d]
        start, stop, step = choose(n + 2) - 1, choose(n + 2), choose(3) + 1
        return (d, start, stop, step)
    if kind == "select" and nd >= 1:
        d = choose(nd)
        if shape[d] == 0:
            return None
        return (d, choose(shape[d]) - (shape[d] if choose(2) else 0))
    if kind == "unsqueeze":
        return (choose(nd + 1),)
    if kind == "squeeze":
        return (dim(),) if nd and choose(2) else ()
    if kind == "expand":
        new = [choose(3) if s == 1 else s for s in shape]
        lead = [choose(3) + 1 for _ in range(choose(2))]
        return (tuple(lead + new),)
    if kind == "diagonal" and nd >= 2:
        d1 = choose(nd)
        d2 = (d1 + 1 + choose(nd - 1)) % nd
        return (choose(5) - 2, d1, d2)
    if kind == "narrow" and nd >= 1:
        d = choose(nd)
        n = shape[d]
        start = choose(n + 1)
        return (d, start, choose(n - start + 1))
    if kind == "unfold" and nd >= 1:
        d = choose(nd)
        if shape[d] == 0:
            return None
        return (d, choose(shape[d]) + 1, choose(2) + 1)
    if kind == "mT" and nd >= 2:
        return ()
    if kind == "T" and nd == 2:
        return ()
    if kind in ("flatten", "index_none"):
        return ()
    if kind == "view":
        n = math.prod(shape)
        divisors = [k for k in range(1, n + 1) if n % k == 0] or [0]
        k = divisors[choose(len(divisors))]
        return ((k, -1),) if n else ((0, choose(3) + 1),)
    return None


VIEW_FNS = {
    "transpose": lambda t, a, b: t.transpose(a, b),
    "permute": lambda t, p: t.permute(*p),
    "slice": lambda t, d, a, b, s: t[(slice(None),) * d + (slice(a, b, s),)],
    "select": lambda t, d, i: t.select(d, i),
    "unsqueeze": lambda t, d: t.unsqueeze(d),
    "squeeze": lambda t, *d: t.squeeze(*d),
    "expand": lambda t, s: t.expand(s),
    "diagonal": lambda t, o, a, b: t.diagonal(o, a, b),
    "narrow": lambda t, d, a, n: t.narrow(d, a, n),
    "unfold": lambda t, d, size, step: t.unfold(d, size, step),
    "mT": lambda t: t.mT,
    "T": lambda t: t.T,
    "flatten": lambda t: t.flatten(),
    "view": lambda t, s: t.view(*s),
    "index_none": lambda t: t[None, ..., None],
}

INPLACE_SHIFT = ("add_", "sub_", "view_add_", "slice_iadd")
INPLACE_ANY = INPLACE_SHIFT + ("mul_", "clamp_", "tanh_", "sigmoid_", "fill_slice", "masked_fill_", "zero_",
                               "transposed_mul_", "setitem", "abs_", "square_", "neg_")


def _slice_of(shape, d, a, b, s):
    return (slice(None),) * d + (slice(a, b, s),)


def _setitem(t, d, a, b, s, v):
    t[_slice_of(t.shape, d, a, b, s)] = v


def _iadd(t, d, a, b, s, v):
    v_ = t[_slice_of(t.shape, d, a, b, s)]
    v_ += v


INPLACE_FNS = {
    "add_": lambda t, v: t.add_(v),
    "sub_": lambda t, v: t.sub_(v),
    "view_add_": lambda t, v: t.unsqueeze(0).add_(v),
    "slice_iadd": _iadd,
    "mul_": lambda t, v: t.mul_(v),
    "clamp_": lambda t, lo, hi: t.clamp_(lo, hi),
    "tanh_": lambda t: t.tanh_(),
    "sigmoid_": lambda t: t.sigmoid_(),
    "fill_slice": lambda t, d, a, b, s, v: t[_slice_of(t.shape, d, a, b, s)].fill_(v),
    "masked_fill_": lambda t, m, v: t.masked_fill_(m, v),
    "zero_": lambda t: t.zero_(),
    "transposed_mul_": lambda t, a, b, v: t.transpose(a, b).mul_(v),
    "setitem": _setitem,
    "abs_": lambda t: t.abs_(),
    "square_": lambda t: t.square_(),
    "neg_": lambda t: t.neg_(),
}


def inplace_params(name, shape, choose, rs):
    nd = len(shape)
    v = float(np.round(rs.uniform(-1.5, 1.5), 3))
    if name in ("add_", "sub_", "view_add_", "mul_"):
        return (v,)
    if name in ("slice_iadd", "fill_slice", "setitem"):
        if nd == 0:
            return None
        d = choose(nd)
        n = shape[d]
        return (d, choose(n + 1), choose(n + 2), choose(2) + 1, v)
    if name == "clamp_":
        return (-abs(v), abs(v) + 0.1)
    if name == "masked_fill_":
        return (rs.rand(*shape) < 0.5, v)
    if name == "transposed_mul_":
        if nd < 2:
            return None
        return (choose(nd), choose(nd), v)
    return ()


# ------------------------------------------------------------------------------ shapes and post-processing
def input_shapes(choose):
    """1-3 mutually broadcastable shapes (suffixes of one shape, some sizes 1), with 0-d and empty."""
    full = [choose(5) for _ in range(choose(4))]  # sizes 0..4: 0 gives empty tensors
    if choose(3):
        full = [s or 1 + choose(4) for s in full]  # most programs have no empty dim
    out = []
    for _ in range(choose(3) + 1):
        n = choose(len(full) + 1)
        out.append(tuple(1 if choose(4) == 0 else s for s in full[len(full) - n:]))
    return out


SPECTRAL = ("eigh", "eigvalsh", "svdvals", "matrix_norm_nuc", "matrix_norm_2", "matrix_norm_-2", "norm_nuc")
INVERSES = ("solve", "inv", "inverse", "slogdet")


def _gaps_small(v, tol=1e-4):
    v = np.sort(v, axis=-1)
    return v.size > 0 and v.shape[-1] > 1 and bool(np.any(np.diff(v, axis=-1) < tol * max(1.0, float(np.max(np.abs(v))))))


def unstable(name, args, result):
    """Whether a spectral or inverse op met a point where its derivative does not exist or its
    result is not unique: repeated or zero singular values / eigenvalues (the matrix functions in
    the catalog build F F^T + nI, F + F^T, ... from the argument F), near-singular matrices, an
    eigenvector whose sign-fixing first entry is about 0. Such steps are left out of the program."""
    if not any(k in name for k in SPECTRAL + INVERSES) or not args or args[0].ndim < 2 or not args[0].numel():
        return False
    a = to_numpy(args[0]).astype(np.float64)
    if name.endswith("_dims") and a.ndim >= 3:
        a = np.moveaxis(a, (2, 0), (-2, -1))  # the catalog's matrix norms over dim=(2, 0)
    if not np.all(np.isfinite(a)):
        return True
    n = a.shape[-1]
    if a.shape[-2] == n:
        sym = a + np.swapaxes(a, -1, -2)
        upper = np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)
        if any(k in name for k in SPECTRAL):
            sv = np.linalg.svd(a, compute_uv=False)
            if _gaps_small(sv) or _gaps_small(np.linalg.eigvalsh(sym)) or _gaps_small(np.linalg.eigvalsh(upper)) \
                    or _gaps_small(np.concatenate([sv, np.zeros(sv.shape[:-1] + (1,))], -1)):
                return True
        if any(k in name for k in INVERSES):
            gen = a + n * np.eye(n)
            if np.max(np.linalg.cond(gen)) > 1e6 or np.max(np.linalg.cond(a)) > 1e6:
                return True
    else:
        sv = np.linalg.svd(a, compute_uv=False)
        if _gaps_small(np.concatenate([sv, np.zeros(sv.shape[:-1] + (1,))], -1)):
            return True
    first = outputs(result)[0]
    if ("eig" in name or "svdvals" in name) and first.ndim >= 1 and is_float(first) \
            and _gaps_small(to_numpy(first).astype(np.float64)):
        return True
    for out in outputs(result):
        if out.ndim >= 2 and is_float(out) and "eigh" in name and "reconstruct" not in name:
            if np.min(np.abs(to_numpy(out)[..., :1, :]), initial=1.0) < 1e-3:
                return True
    return False


def deprecated(fn, args, what):
    """Whether torch warns that this call is deprecated (mT of a 0-d tensor, .T of a 3-d one; torch
    warns once per process, so these two are also recognised by name)."""
    if what.split("[")[0].split("(")[0] in ("mT", "view mT", "T", "view T") and args[0].ndim != 2:
        return True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.no_grad():
                fn(*args)
        except Exception:  # noqa: BLE001
            return False
    return any("deprecated" in str(w.message) for w in caught)


def unfit(name, fn, args, result):
    """Whether torch's successful result is no reference: it depends on the argument's strides, or
    the point is degenerate for a spectral / inverse op (see ``unstable``), or an unstable sort met
    ties (the order of equal elements, and so where their gradients go, is unspecified)."""
    if not self_consistent(fn, args, result):
        return True
    if unstable(name, args, result):
        return True
    if any(k in name for k in ("sort", "topk")) and "stable" not in name:
        for a in args:
            v = to_numpy(a).reshape(-1)
            if is_float(a) and np.unique(v).size < v.size:
                return True
    if "cholesky" in name:
        for out in outputs(result):
            d = np.abs(np.diagonal(to_numpy(out), axis1=-2, axis2=-1))
            if d.size and d.min() < 1e-3 * max(1.0, d.max()):
                return True  # (nearly) singular: LAPACK's verdict depends on rounding
    return False


TOLERATED = {}  # why -> an example: outcome differences that are not chainrule bugs


def tolerated_outcome(name, args, outcome, err):
    """Differences in whether a call raises that are not chainrule bugs: torch skips its checks
    on empty tensors (out-of-range dims and indices pass, legacy (0,) tensors in cat), view
    compatibility depends on each library's memory layout, cholesky of a singular positive
    semi-definite matrix may or may not fail, and chainrule refuses max-pooling windows
    that lie in the padding only (torch returns -inf there)."""
    empty = any(a.numel() == 0 for a in args)
    if empty and (isinstance(err, IndexError) or name.startswith("cat")):
        return "torch skips dim/index checks on empty tensors"
    if empty and outcome is not None:
        return "torch rejects an empty input chainrule accepts"
    if name in ("view", "view view") or name.startswith("view_"):
        return "view compatibility depends on memory layout"
    if "cholesky" in name:
        return "cholesky of a (nearly) singular matrix: LAPACK's verdict depends on rounding"
    if err is not None and outcome is None and "x must have one value per sample" in str(err):
        # torch skips the check of x when y is empty along dim or x has size 1 there (returning
        # zeros); chainrule refuses a mismatched x (test_integrate.py)
        return "trapezoid: torch accepts an x that does not match y where the result is empty or 0"
    if err is None and outcome is not None and re.search(r"inv|solve", name) and _invertible_here(args[0]):
        # torch's input was exactly singular, chainrule's (its own rounding, a few ulps away) is not,
        # and LAPACK agrees on chainrule's matrix: the inverse is right for it, only huge
        return "a matrix singular in torch's rounding only: chainrule's own input is invertible"
    if err is not None and outcome is None and "singular" in str(err) and re.search(r"inv|solve", name):
        # an exactly singular matrix (f + n I with sum(f) = -n): torch's LU may round the zero
        # pivot to noise and return 1e6-sized garbage; chainrule raises (test_linalg.py checks it)
        return "an exactly singular matrix: chainrule raises, torch may return garbage"
    if name.startswith("linear") and len(args) == 3:
        x, w, b = (tuple(a.shape) for a in args)
        documented = b == () or (len(w) == 2 and b == w[:1])
        if not documented or (len(w) == 1 and len(x) == 2):
            # torch's docs: bias (out_features,) or () (for a 1-D weight); other shapes, and a 0-d
            # bias with a 1-D weight and a 2-D input, pass or fail by input rank and layout (its
            # addmm / flattened / matmul paths). chainrule: documented shapes plus broadcasting.
            return "linear: torch's bias checks depend on the input's rank and layout beyond its docs"
    if err is not None and "window in the padding only" in str(err):
        return "max_pool2d windows in the padding only (chainrule raises, torch gives -inf)"
    return None


def _invertible_here(f):
    """Whether the catalog's matrix f + n I (op_catalog._gen) made from chainrule's f is invertible
    to LAPACK (NumPy) too."""
    from op_catalog import _gen
    a = to_numpy(f).astype(np.float64)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        return False
    try:
        np.linalg.inv(_gen(a, np))
        return True
    except np.linalg.LinAlgError:
        return False


TORCH_ODDITIES = {}  # op -> an example where torch's result depended on strides


def self_consistent(fn, args, result):
    """torch's result equals its result on contiguous copies of the arguments. (It does not for
    median of a stride-0 tensor: torch.median(torch.tensor(0.7).expand(3, 4), 1) reads garbage.)"""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            again = outputs(fn(*[a.detach().contiguous().clone() for a in args]))
        except Exception:  # noqa: BLE001
            return False
    for x, y in zip(outputs(result), again):
        a, b = to_numpy(x), to_numpy(y)
        if a.shape != b.shape or not np.allclose(a.astype(np.float64), b.astype(np.float64), equal_nan=True):
            TORCH_ODDITIES[getattr(fn, "__name__", str(fn))] = [tuple(t.shape) for t in args]
            return False
    return True


def post_flags(node):
    """How a new node is kept in a sane range: cut when big, constant 0 where not finite, scaled
    down when large (decided from torch's values)."""
    a = to_numpy(node).astype(np.float64).reshape(-1)
    cut = a.size > MAX_NUMEL
    if cut:
        a = a[:64]
    nonfinite = not np.all(np.isfinite(a))
    big = float(np.max(np.abs(a))) if a.size and not nonfinite else 0.0
    return {"cut": cut, "nonfinite": nonfinite, "scale": 1.0 / big if big > 1e3 else 1.0}


def same_family(torch_cls, err):
    """Whether chainrule's exception is of torch's class. Not a failure when it is not (torch's
    classes for bad arguments are not a contract: RuntimeError where chainrule's contract says
    ValueError, IndexError from internals): collected in CLASS_MISMATCHES for the report."""
    if torch_cls in ("RuntimeError", "ValueError"):
        return isinstance(err, (RuntimeError, ValueError))
    return type(err).__name__ == torch_cls or torch_cls in [c.__name__ for c in type(err).__mro__]


# calls that segfault chainrule today (reproducers in test_op_fuzz_regressions.py): reported as
# failures without being made, so that one crash does not take the whole test session with it
# (op, argument shapes) that crashed the process: the fuzzer reports them instead of running them.
# None today (split/chunk of a 0-d tensor raise since they were fixed).
CRASHES = []

CLASS_MISMATCHES = {}  # (torch's class, chainrule's class) -> an example


# ------------------------------------------------------------------------------ comparison
# (rtol, atol) per dtype and kind, scaled by (1 + step / 10); atol also by the reference's magnitude.
FUZZ_TOL = {"float32": {"forward": (1e-4, 1e-5), "grad": (1e-3, 1e-4), "grad2": (3e-3, 3e-4)},
            "float64": {"forward": (1e-9, 1e-10), "grad": (1e-8, 1e-9), "grad2": (1e-7, 1e-8)}}


def compare(a, b, dtype, kind, what, step=40):
    if a is None or b is None:
        other = a if b is None else b
        if other is not None and np.any(to_numpy(other)):
            raise Mismatch(f"{what}: {'chainrule' if b is None else 'torch'} gives None, the other nonzero")
        return
    if tuple(a.shape) != tuple(b.shape):
        raise Mismatch(f"{what}: shape {tuple(a.shape)} != torch's {tuple(b.shape)}")
    da, db = str(a.dtype).split(".")[-1], str(b.dtype).split(".")[-1]
    if da != db:
        raise Mismatch(f"{what}: dtype {da} != torch's {db}")
    x, y = to_numpy(a), to_numpy(b)
    if not is_float(b):
        if not np.array_equal(x, y):
            raise Mismatch(f"{what}: values differ\n ours {x}\n torch {y}")
        return
    x, y = x.astype(np.float64), y.astype(np.float64)
    rtol, atol = FUZZ_TOL[dtype][kind]
    f = 1 + step / 10
    fin = np.isfinite(y)
    scale = max(1.0, float(np.max(np.abs(y[fin]))) if fin.any() else 1.0)
    if not np.allclose(x, y, rtol=rtol * f, atol=atol * f * scale, equal_nan=True):
        bad = ~np.isclose(x, y, rtol=rtol * f, atol=atol * f * scale, equal_nan=True)
        raise Mismatch(f"{what}: values differ at {np.argwhere(bad)[:3].tolist()}: ours {x[bad][:3]} "
                       f"torch {y[bad][:3]} (max |diff| {np.max(np.abs(x - y)[bad]):.3g})")


# ------------------------------------------------------------------------------ derivatives
def derivatives(run):
    """(grads, hvp) of run.loss wrt run.inputs; the HVP is along fixed directions u."""
    L = run.L
    us = run.decide(lambda: [run.rs.uniform(-1, 1, size=tuple(x.shape)) for x in run.inputs])
    run.us = us
    if run.loss is None or not run.loss.requires_grad:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grads = L.autograd.grad(run.loss, run.inputs, create_graph=True, allow_unused=True)
        terms = [(g * run.const(u)).sum() for g, u in zip(grads, us) if g is not None and g.requires_grad]
        if not terms:
            return grads, None
        hv = sum(terms[1:], terms[0])
        hvp = L.autograd.grad(hv, run.inputs, allow_unused=True)
    return grads, hvp


def compare_derivatives(ours, theirs, dtype, n_steps):
    g_o, h_o = ours
    g_t, h_t = theirs
    if (g_o is None) != (g_t is None):
        raise Mismatch(f"loss requires grad: chainrule {g_o is not None}, torch {g_t is not None}")
    if g_t is None:
        return
    for k, (a, b) in enumerate(zip(g_o, g_t)):
        compare(a, b, dtype, "grad", f"grad of input {k}", n_steps)
    if h_t is None:
        if h_o is not None:
            for k, a in enumerate(h_o):
                compare(a, None, dtype, "grad2", f"HVP of input {k} (torch: none)")
        return
    if h_o is None:
        for k, b in enumerate(h_t):
            compare(None, b, dtype, "grad2", f"HVP of input {k} (chainrule: none)")
        return
    for k, (a, b) in enumerate(zip(h_o, h_t)):
        compare(a, b, dtype, "grad2", f"HVP of input {k}", n_steps)


# ------------------------------------------------------------------------------ one program
def build(choose, seed, dtype):
    """The torch run that records the program."""
    return Run(torch, dtype, choose=choose, rs=np.random.RandomState(seed)).run()


def replay(lib, dtype, decisions, ref=None, inputs=None, frozen=None):
    return Run(lib, dtype, decisions=decisions, ref=ref, inputs=inputs, frozen=frozen).run()


def check_program(choose, seed, dtype):
    """Builds a program with torch and checks chainrule against it. Raises Mismatch (with the
    program's trace) when they disagree and, for derivatives, finite differences side with torch."""
    t = build(choose, seed, dtype)
    decisions = t.decisions
    try:
        t_d = derivatives(t)
    except RuntimeError as e:  # torch's backward fails (e.g. clamp with bounds broadcasting x)
        TORCH_ODDITIES["backward: " + str(e)[:80]] = "\n".join(t.trace)
        return check_against_finite_differences(t)
    n = len(t.raw)
    o_d = None
    try:
        o = replay(cr, dtype, decisions, ref=t)
        o_d = derivatives(o)
        compare_derivatives(o_d, t_d, dtype, n)
    except Diverged:
        return t  # a tolerated difference (see tolerated_outcome): the program ends there
    except Mismatch as e:
        first = e
    else:
        check_forward_mode(o, o_d, dtype, decisions, t)  # reverse mode agrees with torch: now forward mode
        return t
    if dtype == "float32":  # rounding may move values across a decision: float64 decides
        try:
            t64 = replay(torch, "float64", decisions)
            t64_d = derivatives(t64)
            o64 = replay(cr, "float64", decisions, ref=t64)
            o64_d = derivatives(o64)
        except Diverged:
            return t
        except Mismatch as e:
            raise Mismatch(f"{e}\n(float32 first: {first})\n" + "\n".join(t.trace)) from None
        try:
            compare_derivatives(o64_d, t64_d, "float64", n)
            return t
        except Mismatch as e:
            t64.trace = t.trace  # (a replay records no trace: keep the program's for the verdict and report)
            first, t, t_d, o_d = e, t64, t64_d, o64_d
    elif o_d is None:
        raise Mismatch(f"{first}\n" + "\n".join(t.trace)) from None
    verdict = finite_differences(t, t_d, o_d, "grad2" if "HVP" in str(first) else "grad")
    if verdict is None:
        return t  # finite differences side with chainrule (torch is not always the accurate side)
    raise Mismatch(f"{first}\nfinite differences: {verdict}\n" + "\n".join(t.trace))


FORWARD_CHECKED = [0]  # programs whose forward-mode tangent was compared (others wrote a dual in place)


def check_forward_mode(o, o_d, dtype, decisions, ref):
    """chainrule's forward mode on the same program: the loss's tangent along the directions u is
    ∇loss·u, with the gradient from reverse mode (just compared with torch's)."""
    grads = o_d[0]
    if grads is None:
        return
    terms = [to_numpy(g).astype(np.float64) * u for g, u in zip(grads, o.us) if g is not None]
    expected, scale = sum(float(np.sum(t)) for t in terms), sum(float(np.sum(np.abs(t))) for t in terms)
    try:
        with fwAD.dual_level():
            f = Run(cr, dtype, decisions=decisions, ref=ref, tangents=o.us).run()
            tangent = fwAD.unpack_dual(f.loss).tangent
            got = 0.0 if tangent is None else float(tangent)
    except NotImplementedError:  # an in-place write of a dual (setitem, +=): forward mode refuses it
        return
    except Mismatch as e:  # the same refusal, met inside a step (which compares outcomes with torch)
        if "NotImplementedError" in str(e) and "dual tensor" in str(e):
            return
        raise
    except Diverged:
        return
    # the two modes round along different paths (a tangent rule is not its backward transposed): a
    # wrong rule is off by O(1), rounding by eps times the condition of the sum
    FORWARD_CHECKED[0] += 1
    # a float64 program that went through float32 on the way rounds as float32 (seed 61005212)
    tol = (1e-7 if dtype == "float64" and not f.narrowed else 1e-3) * max(scale, 1.0)
    if not (got == expected or abs(got - expected) <= tol or (math.isnan(got) and math.isnan(expected))):
        raise Mismatch(f"forward-mode tangent of the loss {got!r} vs reverse mode's ∇loss·u {expected!r} "
                       f"(tolerance {tol:.3g})\n" + "\n".join(ref.trace))


def check_against_finite_differences(t):
    """When torch cannot differentiate the program: values against torch, gradients against
    finite differences, in float64."""
    try:
        t64 = replay(torch, "float64", t.decisions)
        o64 = replay(cr, "float64", t.decisions, ref=t64)
        t64.decisions = t.decisions
        g_o, _ = derivatives(o64)
    except Diverged:
        return t
    except Mismatch as e:
        raise Mismatch(f"{e}\n" + "\n".join(t.trace)) from None
    verdict = finite_differences(t64, (None, None), (g_o, None))
    if verdict is not None:
        raise Mismatch(f"torch cannot differentiate this program\nfinite differences: {verdict}\n"
                       + "\n".join(t.trace))
    return t


def _flat(ts, like):
    return np.concatenate([np.zeros(int(np.prod(x.shape))) if t is None else to_numpy(t).astype(np.float64).reshape(-1)
                           for t, x in zip(ts, like)]) if like else np.zeros(0)


# ops whose gradient is by convention not the derivative of what they compute, so that finite
# differences can't judge programs using them: embedding with padding_idx (no gradient to the
# padding row), cholesky / eigvalsh of non-symmetric inputs (one triangle read, symmetric gradient)
CONVENTIONS = ("embedding_padding", "cholesky_lower_only", "eigvalsh_upper")
CANT_JUDGE = "the program uses an op whose gradient is a convention (CONVENTIONS): finite differences " \
    "can't judge, torch decides"
# torch 2.13's double backward of det at a singular matrix drops the term of its cotangent
# (test_parity.py::test_det_double_backward_at_singular_matrix shows chainrule is right): it
# surfaces only where finite differences can't judge (a convention makes the matrix singular)
TORCH_HVP_BUGS = ("det_method", "linalg_det")

NON_SMOOTH = {}  # how often chainrule and torch differed where finite differences show no derivative


def finite_differences(t, t_d, o_d, kind="grad"):
    """Who is right about the derivatives, by central differences of the float64 torch replay along
    a random direction d (checking grad.d and d.Hu). None when chainrule is right (or the point is
    not smooth and torch gives NaN: no answer to mirror); else the reason chainrule is wrong."""
    decisions = t.decisions
    arrays = decisions[1]
    rs = np.random.RandomState(0)
    dirs = [rs.uniform(-1, 1, size=a.shape) for a in arrays]
    d = np.concatenate([x.reshape(-1) for x in dirs]) if dirs else np.zeros(0)

    def at(h, along, what, lib=torch):
        xs = [a + h * u for a, u in zip(arrays, along)]
        r = replay(lib, "float64", decisions, inputs=xs, frozen=t.frozen)
        if what == "loss":
            return float(r.loss.detach()) if r.loss is not None else 0.0
        g, _ = derivatives(r)
        return float(_flat(g, r.inputs) @ d) if g is not None else 0.0

    def noisy(lib, what):
        """Whether lib's grad.d (or d.Hu) at x is rounding noise: it jumps when x moves by 1e-9 to
        1e-7 of itself. A derivative's rule is continuous where the derivative exists, so a library
        whose answer jumps is at a point its rounding made degenerate (the std of values equal in
        exact arithmetic: exact 0 in one library, 1e-17 in the other, with 1/std in the rule)."""
        vals = []
        for k in range(7):  # (rounding noise may hold still for a few nearby points: ask several)
            w = np.random.RandomState(100 + k)
            eps = (0.0, 1e-9, 1e-8, 1e-7)[(k + 1) // 2]
            xs = [a * (1 + eps * w.uniform(-1, 1, size=a.shape)) for a in arrays]
            try:
                r = replay(lib, "float64", decisions, inputs=xs, frozen=t.frozen)
                g, hv = derivatives(r)
            except (Diverged, Mismatch, RuntimeError):
                return False
            v = g if what == "grad.d" else hv
            if v is None:
                return False
            vals.append(float(_flat(v, r.inputs) @ d))
        return max(vals) - min(vals) > 1e-4 * max(1.0, abs(vals[0]))

    if t.convention and kind == "grad":  # (the HVP is the derivative of autograd's gradient: judgeable)
        torch_nan = any(np.isnan(_flat(g, t.inputs)).any() for g in t_d if g is not None)
        if t_d == (None, None) or torch_nan:
            return None
        try:  # finite differences can't show a convention wrong, but when they match chainrule exactly
            # (torch's gradient is rounding noise, e.g. the std of values equal in exact arithmetic)
            fd1 = (at(1e-5, dirs, "loss") - at(-1e-5, dirs, "loss")) / 2e-5
            fd2 = (at(1e-6, dirs, "loss") - at(-1e-6, dirs, "loss")) / 2e-6
            if o_d[0] is not None and abs(_flat(o_d[0], t.inputs) @ d - fd1) <= 1e-6 * max(1.0, abs(fd1)) \
                    and abs(fd1 - fd2) <= 1e-6 * max(1.0, abs(fd1)):
                return None
        except Diverged:
            pass
        if noisy(torch, "grad.d"):
            NON_SMOOTH["grad.d (torch's is rounding noise)"] = NON_SMOOTH.get("grad.d (torch's is rounding noise)", 0) + 1
            return None
        return CANT_JUDGE

    def judge(what, fn, a_o, a_t):
        if np.isnan(a_t):  # torch has no answer either (0 * inf in a double backward, ...)
            NON_SMOOTH[what + " (torch NaN)"] = NON_SMOOTH.get(what + " (torch NaN)", 0) + 1
            return None
        if np.isnan(a_o) and what == "d.Hu":
            # a second derivative through a kink met exactly (the norm of a variance that is 0 in
            # chainrule and 3e-33 in torch): NaN there is both libraries' convention
            NON_SMOOTH[what + " (chainrule NaN)"] = NON_SMOOTH.get(what + " (chainrule NaN)", 0) + 1
            return None
        fd1, fd2 = (fn(1e-5) - fn(-1e-5)) / 2e-5, (fn(1e-6) - fn(-1e-6)) / 2e-6
        tol = 1e-5 * max(1.0, abs(fd1))
        # at a kink met exactly (a tie of max(a, b)) central differences agree with each other (on
        # the mean of both sides), one-sided ones do not
        f0 = fn(0.0)
        kink = abs((fn(1e-7) - f0) / 1e-7 - (f0 - fn(-1e-7)) / 1e-7) > 10 * tol
        smooth = np.isfinite(fd1) and abs(fd1 - fd2) <= 10 * tol and not kink
        text = f"{what}: chainrule {a_o:.10g}, torch {a_t:.10g}, finite differences {fd1:.10g} / {fd2:.10g}"
        if smooth:
            err_o, err_t = abs(a_o - fd1), abs(a_t - fd1)
            if err_o <= tol + 10 * abs(fd1 - fd2):
                return None
            if err_o <= 10 * err_t:  # both about as far off (ill-conditioned here): rounding
                NON_SMOOTH[what + " (both off)"] = NON_SMOOTH.get(what + " (both off)", 0) + 1
                return None
            if noisy(cr, what):
                NON_SMOOTH[what + " (rounding noise)"] = NON_SMOOTH.get(what + " (rounding noise)", 0) + 1
                return None
            return text
        NON_SMOOTH[what] = NON_SMOOTH.get(what, 0) + 1
        return None  # not smooth here (a kink, a near-singular point): no derivative to judge

    def judged():
        g_t, h_t = t_d
        g_o, h_o = o_d
        try:
            if g_o is not None and kind == "grad":
                a_t = _flat(g_t, t.inputs) @ d if g_t is not None else float("nan")
                return judge("grad.d", lambda h: at(h, dirs, "loss"), _flat(g_o, t.inputs) @ d, a_t)
            if (h_t is not None or h_o is not None) and g_t is not None and kind == "grad2":
                us = decisions[-1]  # (no HVP on one side: its gradient does not depend on the inputs)
                a_o = _flat(h_o, t.inputs) @ d if h_o is not None else 0.0
                a_t = _flat(h_t, t.inputs) @ d if h_t is not None else 0.0
                return judge("d.Hu", lambda h: at(h, us, "grad"), a_o, a_t)
        except Diverged as e:
            return f"finite differences cross a decision ({e}); torch decides"
        return None

    if t.convention and kind == "grad2":
        # autograd's HVP differentiates the conventional gradient by the convention again, finite
        # differences of that gradient see the values move: they judge only when they agree
        if judged() is None:
            return None
        if noisy(torch, "d.Hu"):
            NON_SMOOTH["d.Hu (torch's is rounding noise)"] = NON_SMOOTH.get("d.Hu (torch's is rounding noise)", 0) + 1
            return None
        if any(k in " ".join(t.trace) for k in TORCH_HVP_BUGS):
            TORCH_ODDITIES["HVP through " + "/".join(TORCH_HVP_BUGS)] = "\n".join(t.trace)
            return None
        return CANT_JUDGE
    return judged()


# ------------------------------------------------------------------------------ campaigns
def localize(seed):
    """Triage: the first node of a program whose gradient (float64) differs between chainrule and
    torch, with the program's trace up to it."""
    t = build(rs_chooser(seed), seed, "float32" if seed % 2 else "float64")
    t64 = replay(torch, "float64", t.decisions)
    o64 = replay(cr, "float64", t.decisions, ref=t64)
    for k, (a, b) in enumerate(zip(o64.nodes, t64.nodes)):
        if not b.requires_grad or not a.requires_grad:
            continue
        w = np.random.RandomState(k).uniform(-1, 1, size=tuple(b.shape))
        try:
            gb = torch.autograd.grad((b * torch.tensor(w)).sum(), t64.inputs, allow_unused=True, retain_graph=True)
        except RuntimeError:
            continue
        ga = cr.autograd.grad((a * cr.tensor(w)).sum(), o64.inputs, allow_unused=True, retain_graph=True)
        try:
            for x, y in zip(ga, gb):
                compare(x, y, "float64", "grad", f"node {k}", 0)
        except Mismatch as e:
            lines = [ln for ln in t.trace if ln.strip().startswith(f"n{k} ")]
            return f"{e}\n{lines}\n" + "\n".join(t.trace)
    return "no single node differs"


def rs_chooser(seed):
    rs = np.random.RandomState(seed ^ 0x5EED)
    return lambda n: int(rs.randint(n)) if n > 0 else 0


def one(seed):
    dtype = "float32" if seed % 2 else "float64"
    return check_program(rs_chooser(seed), seed, dtype)


def main(argv):
    import argparse
    import time
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--one", type=int, default=None, help="run one seed and print its program")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if a.one is not None:
        t = one(a.one)
        print("\n".join(t.trace))
        print("ok")
        return
    t0, fails, done = time.time(), 0, 0

    def summary(*_):
        print(f"{done} programs, {fails} failing, {time.time() - t0:.0f} s; forward mode compared on "
              f"{FORWARD_CHECKED[0]}", flush=True)
        for name, d in (("exception classes differing", CLASS_MISMATCHES), ("tolerated", TOLERATED),
                        ("torch oddities", TORCH_ODDITIES), ("not smooth", NON_SMOOTH)):
            for k, v in d.items():
                print(f"{name}: {k}: {str(v)[:300]}", flush=True)
        if _:
            sys.exit(1)
    signal.signal(signal.SIGTERM, summary)  # a campaign stopped early still reports
    for seed in range(a.start, a.start + a.count):
        print(f"seed {seed}", file=sys.stderr, flush=True)
        try:
            one(seed)
        except Mismatch as e:
            fails += 1
            print(f"=== seed {seed}: {e}\n", flush=True)
        except KeyboardInterrupt:
            break
        except Exception as e:  # noqa: BLE001 (an unexpected error in the fuzzer itself is reported too)
            fails += 1
            print(f"=== seed {seed}: FUZZER ERROR {type(e).__name__}: {e}\n", flush=True)
        done += 1
    summary()


if __name__ == "__main__":
    main(sys.argv[1:])
