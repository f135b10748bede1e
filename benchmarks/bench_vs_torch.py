#!/usr/bin/env python3
"""chainrule vs PyTorch, side by side in one process, with the same number of threads.

    python benchmarks/bench_vs_torch.py                 # full run, threads = os.cpu_count()
    python benchmarks/bench_vs_torch.py --threads 2     # pin both libraries to 2 threads
    python benchmarks/bench_vs_torch.py --markdown      # a Markdown table for the README
    python benchmarks/bench_vs_torch.py --quick         # tiny sizes and repeat counts (CI smoke run)

Every row runs the *same Python code* with ``T = chainrule`` and with ``T = torch`` (the APIs match),
on the same input numbers (made once with NumPy). The table shows the median time per call of each
library and the ratio chainrule / torch: below 1 chainrule is faster, above 1 it is slower.

Threads: chainrule's kernels (and Eigen's GEMM) use OpenMP, which reads ``OMP_NUM_THREADS`` when the
runtime starts, so this script sets ``os.environ["OMP_NUM_THREADS"]`` *before* importing chainrule
(and torch), then calls ``torch.set_num_threads(n)``. Both libraries resolve the same ``libgomp.so.1``
in one process, so they share one OpenMP runtime and one thread pool (the header prints which file).

This is a benchmark, not a test: nothing here asserts a time. The only check is that both libraries
computed the same numbers (the "check" column), so that the two columns time the same work.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import sys
import timeit

# The rows, in order; tests/python/test_benchmark_runs.py checks that every key is printed.
ROW_KEYS = (
    "add_8x8",
    "mul_sum_backward_8x8",
    "add_large",
    "matmul",
    "matmul_backward_weight",
    "relu_backward",
    "mlp_small_step",
    "mlp_large_forward",
    "mlp_large_step",
    "func_forward",
    "func_jvp",
    "func_forward_batch",
    "func_jvp_batch",
    "func_hessian",
)
SLOW_RATIO = 3.0  # rows slower than this (chainrule / torch) are flagged as likely perf bugs


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="tiny repeat counts and smaller matmul/elementwise/MLP sizes (for CI)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for both libraries (default: os.cpu_count())")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per library (default 7, or 2 with --quick); the median is shown")
    args = p.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    return args


# ---------------------------------------------------------------------------------------------
# Timing: timeit.Timer (gc off during a batch), calibrated batch size, warmup, interleaved repeats
# ---------------------------------------------------------------------------------------------

def calibrate(fn, target):
    """Warms fn up and returns how many calls make one timed batch last at least ``target`` s."""
    timer = timeit.Timer(fn)
    number = 1
    while True:
        t = timer.timeit(number)
        if t >= target or number >= 1_000_000:
            return number
        # aim a bit past the target from the measured rate, at most 10x per step
        number = max(number + 1, min(number * 10, int(number * 1.2 * target / max(t, 1e-9))))


def measure(fns, repeats, target):
    """fns: {lib name: zero-argument callable}. Returns {lib name: median seconds per call}.

    Each library gets its own batch size; the repeats are interleaved (A B, B A, A B, ...) so slow
    drifts of the machine (frequency, other processes) hit both libraries alike.
    """
    names = list(fns)
    numbers = {n: calibrate(fns[n], target) for n in names}
    samples = {n: [] for n in names}
    for r in range(repeats):
        for n in (names if r % 2 == 0 else names[::-1]):
            samples[n].append(timeit.Timer(fns[n]).timeit(numbers[n]) / numbers[n])
    return {n: statistics.median(s) for n, s in samples.items()}


# ---------------------------------------------------------------------------------------------
# The cases. Each ``make_*`` takes the library module T (chainrule or torch) and the NumPy inputs,
# and returns (fn to time, fn giving a NumPy result for the cross-library check).
# The code is written once and runs unchanged for both libraries.
# ---------------------------------------------------------------------------------------------

def to_numpy(t):
    import numpy as np
    return np.array(t.detach().numpy())   # .numpy() shares memory in both libraries; copy it


def make_add(T, data):
    a, b = T.tensor(data["a"]), T.tensor(data["b"])

    def run():
        return a + b
    return run, lambda: to_numpy(run())


def make_mul_sum_backward(T, data):
    x = T.tensor(data["a"], requires_grad=True)
    c = T.tensor(data["b"])

    def run():
        loss = (x * c).sum()
        loss.backward()
        x.grad = None

    def check():
        loss = (x * c).sum()
        loss.backward()
        g = to_numpy(x.grad)
        x.grad = None
        return g
    return run, check


def make_matmul(T, data):
    a, b = T.tensor(data["a"]), T.tensor(data["b"])

    def run():
        return a @ b
    return run, lambda: to_numpy(run())


def make_backward(op):
    """(op(x, w)).backward(g) where only w requires grad: the backward cost of op."""
    def make(T, data):
        x = T.tensor(data["x"]) if "x" in data else None
        w = T.tensor(data["w"], requires_grad=True)
        g = T.tensor(data["g"])

        def run():
            op(x, w).backward(g)
            w.grad = None

        def check():
            op(x, w).backward(g)
            grad = to_numpy(w.grad)
            w.grad = None
            return grad
        return run, check
    return make


def mlp_params(T, data):
    return [T.tensor(w, requires_grad=True) for w in data["params"]]


def mlp_forward(T, params, x, y):
    """Logits of a ReLU MLP and the mean cross-entropy, with raw ops only.

    x: (B, d_in) float32, y: (B,) int64 class labels; params = [W1, b1, W2, b2, ...], W: (in, out).
    cross_entropy(z, y) = mean_i( logsumexp_j z[i, j] - z[i, y[i]] ).
    """
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = h.relu()
    picked = h.gather(1, y.unsqueeze(1)).squeeze(1)        # z[i, y[i]], shape (B,)
    return (h.logsumexp(dim=1) - picked).mean()


def make_mlp_step(T, data, lr=0.01):
    params = mlp_params(T, data)
    x, y = T.tensor(data["x"]), T.tensor(data["y"])

    def step():
        loss = mlp_forward(T, params, x, y)
        loss.backward()
        with T.no_grad():                                  # hand-written SGD
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss
    return step, lambda: [step().item() for _ in range(3)]


def make_mlp_forward(T, data):
    params = mlp_params(T, data)
    x, y = T.tensor(data["x"]), T.tensor(data["y"])

    def run():
        with T.no_grad():
            return mlp_forward(T, params, x, y)
    return run, lambda: run().item()


def mlp_data(rng, sizes, batch):
    import numpy as np
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):       # He init, zero bias
        params.append((rng.standard_normal((fan_in, fan_out)) * (2.0 / fan_in) ** 0.5).astype(np.float32))
        params.append(np.zeros(fan_out, np.float32))
    return {"params": params,
            "x": rng.standard_normal((batch, sizes[0])).astype(np.float32),
            "y": rng.integers(0, sizes[-1], batch).astype(np.int64)}


def mlp_flops(sizes, batch, backward):
    """Matmul FLOPs only: forward 2*B*in*out per layer; backward adds dW (2*B*in*out) for every
    layer and dX (2*B*in*out) for every layer but the first (x needs no gradient)."""
    per_layer = [2 * batch * i * o for i, o in zip(sizes[:-1], sizes[1:])]
    total = sum(per_layer)
    if backward:
        total += sum(per_layer) + sum(per_layer[1:])
    return total


def func_mlp(T, data):
    """f(x) = tanh(x W1) W2, the function the cr.func rows differentiate."""
    w1, w2 = T.tensor(data["w1"]), T.tensor(data["w2"])
    return lambda x: T.tanh(x @ w1) @ w2


def make_func_forward(T, data):
    f, x = func_mlp(T, data), T.tensor(data["x"])

    def run():
        with T.no_grad():
            return f(x)
    return run, lambda: to_numpy(run())


def make_func_jvp(T, data):
    f, x, v = func_mlp(T, data), T.tensor(data["x"]), T.tensor(data["v"])

    def run():
        return T.func.jvp(f, (x,), (v,))[1]
    return run, lambda: to_numpy(run())


def make_func_hessian(T, data):
    A, x = T.tensor(data["a"]), T.tensor(data["x"])

    def run():  # a scalar function of n variables: log-sum-exp of A x, plus a quartic
        return T.func.hessian(lambda z: T.logsumexp(A @ z, 0) + (z ** 4).sum() / 4)(x)
    return run, lambda: to_numpy(run())


def build_cases(quick, rng):
    """The rows: (key, label, what it measures, make fn, NumPy inputs, FLOPs per call or None)."""
    import numpy as np

    def mat(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    n_mm = 128 if quick else 512
    n_el = 256 if quick else 1024
    small = (2, 16, 16, 3), 64
    large = ((784, 64, 64, 10), 32) if quick else ((784, 1024, 1024, 10), 256)
    b_lin, i_lin, o_lin = (32, 784, 64) if quick else (256, 784, 1024)   # first layer of the large MLP
    sz = lambda s: "-".join(map(str, s))  # noqa: E731
    n_f, h_f, n_h = (16, 32, 4) if quick else (64, 256, 16)
    func_data = {"x": mat(n_f), "v": mat(n_f), "w1": mat(n_f, h_f), "w2": mat(h_f, 8)}
    b_b, n_b, h_b = (16, 32, 64) if quick else (64, 256, 512)  # a batch: compute, not overhead
    batch_data = {"x": mat(b_b, n_b), "v": mat(b_b, n_b), "w1": mat(n_b, h_b) / np.float32(np.sqrt(n_b)), "w2": mat(h_b, 8)}
    return [
        ("add_8x8", "a + b, 8x8", "per-op overhead", make_add, {"a": mat(8, 8), "b": mat(8, 8)}, None),
        ("mul_sum_backward_8x8", "(x*c).sum().backward(), 8x8", "forward+backward fixed cost",
         make_mul_sum_backward, {"a": mat(8, 8), "b": mat(8, 8)}, None),
        ("add_large", f"a + b, {n_el}x{n_el}", "elementwise throughput", make_add,
         {"a": mat(n_el, n_el), "b": mat(n_el, n_el)}, None),
        ("matmul", f"a @ b, {n_mm}x{n_mm}", "GEMM", make_matmul,
         {"a": mat(n_mm, n_mm), "b": mat(n_mm, n_mm)}, 2 * n_mm ** 3),
        ("matmul_backward_weight", f"(x @ W).backward(g), x {b_lin}x{i_lin} (no grad), W {i_lin}x{o_lin}",
         "a linear layer's forward+backward", make_backward(lambda x, w: x @ w),
         {"x": mat(b_lin, i_lin), "w": mat(i_lin, o_lin), "g": mat(b_lin, o_lin)},
         4 * b_lin * i_lin * o_lin),
        ("relu_backward", f"h.relu().backward(g), {b_lin}x{o_lin}", "an elementwise backward",
         make_backward(lambda x, h: h.relu()), {"w": mat(b_lin, o_lin), "g": mat(b_lin, o_lin)}, None),
        ("mlp_small_step", f"MLP {sz(small[0])}, batch {small[1]}: train step", "overhead-bound training",
         make_mlp_step, mlp_data(rng, *small), mlp_flops(*small, backward=True)),
        ("mlp_large_forward", f"MLP {sz(large[0])}, batch {large[1]}: forward (no_grad)", "inference",
         make_mlp_forward, mlp_data(rng, *large), mlp_flops(*large, backward=False)),
        ("mlp_large_step", f"MLP {sz(large[0])}, batch {large[1]}: train step", "compute-bound training",
         make_mlp_step, mlp_data(rng, *large), mlp_flops(*large, backward=True)),
        ("func_forward", f"f(x) = tanh(x W1) W2, x {n_f}, W1 {n_f}x{h_f}: forward (no_grad)",
         "the function of the two rows below", make_func_forward, func_data, None),
        ("func_jvp", "func.jvp(f, (x,), (v,)): J v of that f", "a directional derivative",
         make_func_jvp, func_data, None),
        ("func_forward_batch", f"the same f, x {b_b}x{n_b}, W1 {n_b}x{h_b}: forward (no_grad)",
         "the function of the row below", make_func_forward, batch_data, None),
        ("func_jvp_batch", "func.jvp of that f (forward mode: J v costs about 2 forwards)",
         "a directional derivative at scale", make_func_jvp, batch_data, None),
        ("func_hessian", f"func.hessian of logsumexp(A z) + sum z^4/4, z of {n_h}", "a Hessian",
         make_func_hessian, {"a": mat(2 * n_h, n_h).astype(np.float64), "x": mat(n_h).astype(np.float64)}, None),
    ]


def same_result(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-3, atol=1e-4))


# ---------------------------------------------------------------------------------------------
# Machine info and output
# ---------------------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def simd_flags():
    """The vector extensions the CPU reports (GEMM speed depends on them and on -march)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return " ".join(x for x in ("sse4_2", "avx", "avx2", "fma", "avx512f") if x in flags)
    except OSError:
        pass
    return "unknown"


def physical_cores():
    """Distinct (physical id, core id) pairs in /proc/cpuinfo, or None if unknown."""
    try:
        cores, phys = set(), "0"
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    phys = val.strip()
                elif key == "core id":
                    cores.add((phys, val.strip()))
        return len(cores) or None
    except OSError:
        return None


def openmp_runtime():
    """(path of the loaded OpenMP runtime, its omp_get_max_threads()) — shared by both libraries."""
    path = None
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                name = line.split()[-1] if len(line.split()) >= 6 else ""
                if any(k in os.path.basename(name) for k in ("libgomp", "libiomp", "libomp")):
                    path = name
                    break
    except OSError:
        pass
    max_threads = None
    if path:
        try:
            max_threads = ctypes.CDLL(path).omp_get_max_threads()
        except (OSError, AttributeError):
            pass
    return path, max_threads


def fmt_time(s):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale or unit == "ns":
            v = s / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"


def load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except (OSError, AttributeError):
        return "unknown"


def machine_info(cr, torch, n_threads, args, load_before):
    omp_path, omp_threads = openmp_runtime()
    pc = physical_cores()
    return [
        ("CPU", f"{cpu_model()} (SIMD: {simd_flags()})"),
        ("cores", f"{os.cpu_count()} logical" + (f", {pc} physical" if pc else "")),
        ("threads", f"{n_threads} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
                    f"torch.get_num_threads()={torch.get_num_threads()}, "
                    f"omp_get_max_threads()={omp_threads})"),
        ("OpenMP runtime", omp_path or "not found"),
        ("versions", f"chainrule {getattr(cr, '__version__', '?')}, torch {torch.__version__}, "
                     f"Python {platform.python_version()}"),
        ("mode", ("quick" if args.quick else "full") + f", median of {args.repeats} interleaved repeats"),
        ("load average", f"{load_before} before, {load_average()} after (1, 5, 15 min, including this run; "
                         f"other busy processes make multi-threaded timings noisy)"),
    ]


def fmt_ratio(r):
    """Two decimals, but never rounds a tiny ratio down to 0.00."""
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


def table_rows(results):
    rows = []
    for r in results:
        ratio = r["cr"] / r["torch"]
        gf = ""
        if r["flops"]:
            gf = f"{r['flops'] / r['cr'] / 1e9:.1f} / {r['flops'] / r['torch'] / 1e9:.1f}"
        rows.append([r["key"], r["label"], fmt_time(r["cr"]), fmt_time(r["torch"]),
                     fmt_ratio(ratio), gf, "ok" if r["same"] else "MISMATCH"])
    return rows


HEADER = ["row", "what", "chainrule", "torch", "ratio cr/torch", "GFLOP/s cr / torch", "check"]


def print_table(results, info, markdown):
    rows = table_rows(results)
    if markdown:
        for k, v in info:
            print(f"- **{k}**: {v}")
        print()
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "|".join(["---", "---", "---:", "---:", "---:", "---:", "---"]) + "|")
        for row in rows:
            row = row[:]
            row[0] = f"`{row[0]}`"
            print("| " + " | ".join(row) + " |")
    else:
        for k, v in info:
            print(f"{k + ':':16}{v}")
        print()
        widths = [max(len(HEADER[i]), *(len(r[i]) for r in rows)) for i in range(len(HEADER))]
        right = {2, 3, 4, 5}
        def line(cells):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        print(line(HEADER))
        print(line(["-" * w for w in widths]))
        for row in rows:
            print(line(row))
    print()
    print("ratio = chainrule time / torch time (median per call): < 1 means chainrule is faster.")
    slow = [r["key"] for r in results if r["cr"] / r["torch"] > SLOW_RATIO]
    if slow:
        print(f"chainrule is more than {SLOW_RATIO:g}x slower than torch on: {', '.join(slow)}")
    bad = [r["key"] for r in results if not r["same"]]
    if bad:
        print(f"MISMATCH: chainrule and torch computed different results on: {', '.join(bad)}")


def main(argv=None):
    args = parse_args(argv)
    n_threads = args.threads or os.cpu_count() or 1
    if args.repeats is None:
        args.repeats = 2 if args.quick else 7
    # OpenMP reads OMP_NUM_THREADS once, when the runtime is initialised: set it before the imports.
    if "chainrule" in sys.modules or "torch" in sys.modules:
        print("warning: chainrule/torch imported before OMP_NUM_THREADS was set; "
              "the thread count may not apply", file=sys.stderr)
    os.environ["OMP_NUM_THREADS"] = str(n_threads)
    import numpy as np
    import chainrule as cr
    import torch
    torch.set_num_threads(n_threads)

    load_before = load_average()
    target = 0.002 if args.quick else 0.1       # seconds per timed batch
    rng = np.random.default_rng(0)
    libs = {"cr": cr, "torch": torch}
    results = []
    for key, label, what, make, data, flops in build_cases(args.quick, rng):
        fns, outs = {}, {}
        for name, T in libs.items():
            _, check = make(T, data)           # fresh state for the check...
            outs[name] = check()
            fns[name], _ = make(T, data)       # ...and for the timing
        times = measure(fns, args.repeats, target)
        results.append({"key": key, "label": label, "what": what, "flops": flops,
                        "cr": times["cr"], "torch": times["torch"],
                        "same": same_result(outs["cr"], outs["torch"])})
        if not args.markdown:
            print(f"  measured {key}", file=sys.stderr, flush=True)
    print_table(results, machine_info(cr, torch, n_threads, args, load_before), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
