#!/usr/bin/env python3
"""chainrule vs PyTorch, side by side in one process, with the same number of threads.

    python benchmarks/bench_vs_torch.py                       # full run, threads = os.cpu_count()
    python benchmarks/bench_vs_torch.py --threads 2           # pin both libraries to 2 threads
    python benchmarks/bench_vs_torch.py --threads 1,2         # every row at 1 and at 2 threads, one run
    python benchmarks/bench_vs_torch.py --threads 1,2 --markdown   # the top-level README's table
    python benchmarks/bench_vs_torch.py --quick               # tiny sizes and repeat counts (CI smoke run)

Every row runs the *same Python code* with ``T = chainrule`` and with ``T = torch`` (the APIs match),
on the same input numbers and initial weights (made once with NumPy). The table shows the median time
per call of each library and the ratio chainrule / torch: below 1 chainrule is faster, above 1 it is
slower. One row (``mlp_large_rss``) shows peak memory instead, measured in fresh subprocesses.

Threads: chainrule's kernels (and Eigen's GEMM) use OpenMP, which reads ``OMP_NUM_THREADS`` when the
runtime starts, so this script sets ``os.environ["OMP_NUM_THREADS"]`` (to the largest count asked for)
*before* importing chainrule (and torch), then switches both libraries to each count with
``chainrule.set_num_threads(n)`` and ``torch.set_num_threads(n)``. Both libraries resolve the same
``libgomp.so.1`` in one process, so they share one OpenMP runtime and one thread pool (the header
prints which file).

This is a benchmark, not a test: nothing here asserts a time. The only check is that both libraries
computed the same numbers (the "check" column), so that the two columns time the same work.
"""
from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import timeit

# The rows, in order; tests/python/test_benchmark_runs.py checks that every key is printed.
ROW_KEYS = (
    "add_8x8",
    "mul_sum_backward_8x8",
    "add_large",
    "matmul",
    "matmul_eigen",
    "matmul_backward_weight",
    "relu_backward",
    "pow_backward",
    "mlp_small_step",
    "mlp_digits_step",
    "mlp_mnist_step",
    "cnn8_step",
    "cnn28_step",
    "mlp_large_forward",
    "mlp_large_step",
    "mlp_large_rss",
    "func_forward",
    "func_jvp",
    "func_forward_batch",
    "func_jvp_batch",
    "func_hessian",
)
RSS_KEY = "mlp_large_rss"   # the one row that shows peak memory (MB), not time
SLOW_RATIO = 3.0  # rows slower than this (chainrule / torch) are flagged as likely perf bugs
# Issue 15's goals: the largest ratio chainrule / torch accepted, at 1 thread and the full sizes.
GOALS = {
    "matmul": 1.0,
    "pow_backward": 0.8,
    "mlp_digits_step": 0.2,
    "mlp_mnist_step": 0.5,
    "cnn8_step": 0.5,
    "cnn28_step": 0.8,
    "mlp_large_step": 1.0,
    "mlp_large_rss": 1.0,
}


def thread_list(text):
    """'1,2' -> [1, 2] (argparse type for --threads)."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a thread count or a comma list like 1,2, got {text!r}")
    if any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1, got {text!r}")
    return sorted(set(counts), key=counts.index)    # drop repeats, keep the order given


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="tiny repeat counts and smaller matmul/elementwise/MLP/CNN sizes (for CI)")
    p.add_argument("--threads", type=thread_list, default=None,
                   help="threads for both libraries, or a comma list (1,2) to run every row at each "
                        "count in one run (default: os.cpu_count())")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per library (default 7, or 2 with --quick); the median is shown")
    p.add_argument("--rows", type=lambda v: [r for r in v.split(",") if r], default=None,
                   help="only these rows (comma list of the keys in the table), e.g. matmul,cnn28_step")
    p.add_argument("--contend", type=int, default=0, metavar="N",
                   help="run N CPU-bound busy processes during the whole run (a shared machine: how much "
                        "each library degrades when another process wants a core)")
    # internal: the fresh subprocess of the mlp_large_rss row (imports only this library)
    p.add_argument("--rss-child", choices=("chainrule", "torch"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = sorted(set(args.rows or ()) - set(ROW_KEYS))
    if unknown:
        p.error(f"--rows: unknown row(s) {', '.join(unknown)}; the rows are {', '.join(ROW_KEYS)}")
    if args.rss_child and (not args.threads or len(args.threads) != 1):
        p.error("--rss-child needs exactly one --threads count")
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


def make_matmul_eigen(T, data):
    """make_matmul with chainrule's products on Eigen's GEMM (OpenBLAS, if built in, switched off
    for the call): both backends measured in one run."""
    run, check = make_matmul(T, data)
    core = getattr(T, "_core", None)
    if core is None or not hasattr(core, "_set_gemm_backend"):
        return run, check

    def on_eigen(fn):
        def call():
            before = core._gemm_backend()
            core._set_gemm_backend("Eigen")
            try:
                return fn()
            finally:
                core._set_gemm_backend(before)
        return call
    return on_eigen(run), on_eigen(check)


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


def make_pow_backward(T, data):
    x = T.tensor(data["x"], requires_grad=True)    # x > 0, so x ** 0.5 and its derivative are finite

    def run():  # d/dx (x^3 - 2 x^0.5) = 3 x^2 - x^-0.5
        (x ** 3 - 2 * x ** 0.5).sum().backward()
        x.grad = None

    def check():
        (x ** 3 - 2 * x ** 0.5).sum().backward()
        g = to_numpy(x.grad)
        x.grad = None
        return g
    return run, check


# Models built from nn modules: the same constructor calls in both libraries (nn.Sequential, nn.Linear,
# nn.Conv2d, ... match torch's signatures and parameter order), then every parameter is overwritten
# from one NumPy stream so both start from identical weights.

def mlp_module(T, sizes, act):
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [T.nn.Linear(fan_in, fan_out), act(T)]
    return T.nn.Sequential(*layers[:-1])            # no activation after the last layer


def cnn_module(T, side):
    """conv(1->8, 3x3, pad 1)-relu-maxpool2-conv(8->16, 3x3, pad 1)-relu-maxpool2-flatten-linear(->10)."""
    nn = T.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * (side // 4) ** 2, 10))


def init_from_numpy(T, model, seed):
    """Sets every parameter to U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch's default bounds) drawn from
    one NumPy generator, in parameters() order; a bias takes the fan-in of the weight before it."""
    import numpy as np
    rng = np.random.default_rng(seed)
    fan_in = 1
    with T.no_grad():
        for p in model.parameters():
            shape = tuple(p.shape)
            if len(shape) > 1:
                fan_in = int(np.prod(shape[1:]))
            bound = fan_in ** -0.5
            p.copy_(T.tensor(rng.uniform(-bound, bound, shape).astype(np.float32)))
    return model


def make_module_step(build, lr=0.01):
    """One training step of build(T): forward, F.cross_entropy, zero_grad, backward, optim.SGD step."""
    def make(T, data):
        model = init_from_numpy(T, build(T), data["seed"])
        opt = T.optim.SGD(model.parameters(), lr=lr)
        x, y = T.tensor(data["x"]), T.tensor(data["y"])

        def step():
            loss = T.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [step().item() for _ in range(3)]   # losses before steps 1, 2, 3
    return make


def classification_data(rng, x_shape, classes=10, seed=1):
    """Inputs in [0, 1) like pixel intensities, int64 labels, and the weight seed."""
    import numpy as np
    return {"x": rng.random(x_shape).astype(np.float32),
            "y": rng.integers(0, classes, x_shape[0]).astype(np.int64), "seed": seed}


# ---------------------------------------------------------------------------------------------
# Peak memory (the mlp_large_rss row): each library in a fresh interpreter that imports only it,
# so neither library's allocations or caches count against the other.
# ---------------------------------------------------------------------------------------------

def rss_config(quick):
    """(layer sizes, batch, steps) of the training loop whose peak RSS is measured."""
    return ((784, 64, 64, 10), 32, 3) if quick else ((784, 1024, 1024, 10), 256, 20)


def proc_status_mb(field):
    """VmRSS (resident now) or VmHWM (peak resident) of this process from /proc/self/status, in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2 ** 10          # the kernel reports kB
    raise OSError(f"no {field} in /proc/self/status")


def current_rss_mb():
    try:
        return proc_status_mb("VmRSS")
    except OSError:
        return peak_rss_mb()


def peak_rss_mb():
    """Peak RSS of this process. On Linux VmHWM, not getrusage's ru_maxrss: ru_maxrss survives fork
    and exec, so a child of this script would report the parent's peak (both libraries loaded)."""
    try:
        return proc_status_mb("VmHWM")
    except OSError:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2 ** 20 if sys.platform == "darwin" else peak / 2 ** 10   # bytes on macOS, else KiB


def rss_child(lib, quick, n_threads):
    """Body of the subprocess: import one library, train the MLP, print peak and after-import RSS."""
    import numpy as np
    T = importlib.import_module(lib)
    T.set_num_threads(n_threads)
    after_import = current_rss_mb()
    sizes, batch, steps = rss_config(quick)
    step, _ = make_mlp_step(T, mlp_data(np.random.default_rng(1), sizes, batch))
    losses = [step().item() for _ in range(steps)]
    print(json.dumps({"after_import_mb": after_import, "peak_mb": peak_rss_mb(), "losses": losses}))


def measure_rss(quick, n_threads):
    """Runs rss_child for each library (this script, same interpreter and environment, so the same
    OMP_NUM_THREADS); returns ({lib: total peak MB}, {lib: peak minus after-import MB}, same losses?)."""
    total, net, losses = {}, {}, {}
    for name, lib in (("cr", "chainrule"), ("torch", "torch")):
        cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", lib, "--threads", str(n_threads)]
        proc = subprocess.run(cmd + (["--quick"] if quick else []), env=dict(os.environ),
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"{RSS_KEY}: the {lib} subprocess failed (exit {proc.returncode}):\n{proc.stderr}")
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        total[name], net[name], losses[name] = out["peak_mb"], out["peak_mb"] - out["after_import_mb"], out["losses"]
    return total, net, same_result(losses["cr"], losses["torch"])


def build_cases(quick, rng, gemm=("?", "?")):
    """The rows: (key, label, what it measures, make fn, NumPy inputs, FLOPs per call or None).

    gemm: the GEMM backends of (chainrule, torch), shown in the matmul row's label. The RSS row has
    no make fn: main runs it in subprocesses."""
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
    n_pow = 10_000 if quick else 1_000_000
    b_cnn8, b_cnn28 = (16, 4) if quick else (64, 64)
    rss_sizes, rss_batch, rss_steps = rss_config(quick)
    relu = lambda T: T.nn.ReLU()  # noqa: E731
    tanh = lambda T: T.nn.Tanh()  # noqa: E731
    batch_data = {"x": mat(b_b, n_b), "v": mat(b_b, n_b), "w1": mat(n_b, h_b) / np.float32(np.sqrt(n_b)), "w2": mat(h_b, 8)}
    return [
        ("add_8x8", "a + b, 8x8", "per-op overhead", make_add, {"a": mat(8, 8), "b": mat(8, 8)}, None),
        ("mul_sum_backward_8x8", "(x*c).sum().backward(), 8x8", "forward+backward fixed cost",
         make_mul_sum_backward, {"a": mat(8, 8), "b": mat(8, 8)}, None),
        ("add_large", f"a + b, {n_el}x{n_el}", "elementwise throughput", make_add,
         {"a": mat(n_el, n_el), "b": mat(n_el, n_el)}, None),
        ("matmul", f"a @ b, {n_mm}x{n_mm} (GEMM: chainrule {gemm[0].split()[0]}, torch {gemm[1]})", "GEMM",
         make_matmul, {"a": mat(n_mm, n_mm), "b": mat(n_mm, n_mm)}, 2 * n_mm ** 3),
        ("matmul_eigen", "the same with chainrule on Eigen's GEMM", "GEMM backends in one run",
         make_matmul_eigen, {"a": mat(n_mm, n_mm), "b": mat(n_mm, n_mm)}, 2 * n_mm ** 3),
        ("matmul_backward_weight", f"(x @ W).backward(g), x {b_lin}x{i_lin} (no grad), W {i_lin}x{o_lin}",
         "a linear layer's forward+backward", make_backward(lambda x, w: x @ w),
         {"x": mat(b_lin, i_lin), "w": mat(i_lin, o_lin), "g": mat(b_lin, o_lin)},
         4 * b_lin * i_lin * o_lin),
        ("relu_backward", f"h.relu().backward(g), {b_lin}x{o_lin}", "an elementwise backward",
         make_backward(lambda x, h: h.relu()), {"w": mat(b_lin, o_lin), "g": mat(b_lin, o_lin)}, None),
        ("pow_backward", f"(x**3 - 2*x**0.5).sum().backward(), {n_pow:.0e} floats".replace("e+0", "e"),
         "elementwise forward+backward chain (pow with scalar exponents)", make_pow_backward,
         {"x": (rng.random(n_pow) + 0.5).astype(np.float32)}, None),
        ("mlp_small_step", f"MLP {sz(small[0])}, batch {small[1]}: train step", "overhead-bound training",
         make_mlp_step, mlp_data(rng, *small), mlp_flops(*small, backward=True)),
        ("mlp_digits_step", "digits MLP 64-128-10 (tanh), batch 32: nn + SGD train step",
         "a digits lab's training step", make_module_step(lambda T: mlp_module(T, (64, 128, 10), tanh)),
         classification_data(rng, (32, 64)), mlp_flops((64, 128, 10), 32, backward=True)),
        ("mlp_mnist_step", "MNIST-shaped MLP 784-128-10 (ReLU), batch 64: nn + SGD train step",
         "an MNIST lab's training step", make_module_step(lambda T: mlp_module(T, (784, 128, 10), relu)),
         classification_data(rng, (64, 784)), mlp_flops((784, 128, 10), 64, backward=True)),
        ("cnn8_step", f"CNN conv8-pool-conv16-pool-linear, 8x8, batch {b_cnn8}: train step",
         "a small CNN (digits)", make_module_step(lambda T: cnn_module(T, 8)),
         classification_data(rng, (b_cnn8, 1, 8, 8)), None),
        ("cnn28_step", f"the same CNN on 28x28, batch {b_cnn28}: train step", "a CNN (MNIST-shaped)",
         make_module_step(lambda T: cnn_module(T, 28)), classification_data(rng, (b_cnn28, 1, 28, 28)), None),
        ("mlp_large_forward", f"MLP {sz(large[0])}, batch {large[1]}: forward (no_grad)", "inference",
         make_mlp_forward, mlp_data(rng, *large), mlp_flops(*large, backward=False)),
        ("mlp_large_step", f"MLP {sz(large[0])}, batch {large[1]}: train step", "compute-bound training",
         make_mlp_step, mlp_data(rng, *large), mlp_flops(*large, backward=True)),
        (RSS_KEY, f"peak RSS of {rss_steps} steps of MLP {sz(rss_sizes)}, batch {rss_batch} "
                  "(fresh process per library)", "training memory", None, None, None),
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
    wanted = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
              "avx512_bf16", "amx_tile", "asimd", "sve", "sve2")          # x86-64, then ARM
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = set(line.split(":", 1)[1].split())
                    return " ".join(x for x in wanted if x in flags) or "none of " + " ".join(wanted)
    except OSError:
        pass
    return "unknown"


def chainrule_config(cr):
    """chainrule.show_config(mode="dicts") where this version has it (gemm backend, simd, ...), else {}."""
    show = getattr(cr, "show_config", None)
    try:
        return dict(show(mode="dicts")) if callable(show) else {}
    except Exception:  # noqa: BLE001 (the header must not stop the benchmark)
        return {}


def chainrule_blas(cr):
    """The GEMM backend chainrule runs (e.g. OpenBLAS): show_config()'s "gemm" (builds older than
    show_config() used Eigen's own GEMM)."""
    return str(chainrule_config(cr).get("gemm") or "Eigen")


def torch_blas(torch):
    """BLAS_INFO from torch.__config__.show() (mkl, openblas, ...), plus oneDNN (conv) and the CPU
    capability torch dispatches its own kernels for."""
    show = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", show)
    extra = ["oneDNN"] if "USE_MKLDNN=ON" in show else []
    try:
        extra.append("CPU capability " + torch.backends.cpu.get_cpu_capability())
    except AttributeError:
        pass
    return (m.group(1) if m else "unknown") + (f" ({', '.join(extra)})" if extra else "")


def numpy_blas():
    """NumPy's BLAS (a reference: usually OpenBLAS from the scipy-openblas wheel)."""
    try:
        import numpy as np
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 (older NumPy: no mode="dicts"; only a reference, never fatal)
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


def set_threads(cr, torch, n):
    """Switches both libraries to n threads; returns what each reports back."""
    cr.set_num_threads(n)
    torch.set_num_threads(n)
    get = getattr(cr, "get_num_threads", None)
    return (get() if get else None), torch.get_num_threads()


def machine_info(cr, torch, threads, seen, args, load_before):
    """seen: {n: (chainrule.get_num_threads(), torch.get_num_threads()) after switching to n}."""
    omp_path, omp_threads = openmp_runtime()
    pc = physical_cores()
    cr_simd = chainrule_config(cr).get("simd")
    if len(threads) == 1:
        n = threads[0]
        thr = (f"{n} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
               f"torch.get_num_threads()={seen[n][1]}, chainrule.get_num_threads()={seen[n][0]}, "
               f"omp_get_max_threads()={omp_threads})")
    else:
        thr = (", ".join(map(str, threads)) + ": every row at each count "
               f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, the largest, set before the imports; "
               "then chainrule.set_num_threads(n) and torch.set_num_threads(n); they reported "
               + ", ".join(f"{n}: {c}/{t}" for n, (c, t) in seen.items()) + " (chainrule/torch))")
    return [
        ("CPU", f"{cpu_model()} (SIMD: {simd_flags()})"),
        ("cores", f"{os.cpu_count()} logical" + (f", {pc} physical" if pc else "")),
        ("threads", thr),
        ("GEMM / BLAS", f"chainrule {chainrule_blas(cr)}" + (f" (chainrule's own kernels: {cr_simd})" if cr_simd else "")
                        + f"; torch {torch_blas(torch)}; NumPy {numpy_blas()} (for reference)"),
        ("OpenMP runtime", omp_path or "not found"),
        ("versions", f"chainrule {getattr(cr, '__version__', '?')}, torch {torch.__version__}, "
                     f"Python {platform.python_version()}"),
        ("mode", ("quick" if args.quick else "full") + f", median of {args.repeats} interleaved repeats"
                 + (f"; {args.contend} busy process(es) competing for the cores all along" if args.contend else "")),
        ("load average", f"{load_before} before, {load_average()} after (1, 5, 15 min, including this run; "
                         f"other busy processes make multi-threaded timings noisy)"),
    ]


def fmt_ratio(r):
    """Two decimals, but never rounds a tiny ratio down to 0.00."""
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


def fmt_value(r, lib, n):
    """A time, or for the RSS row the total peak with the net (beyond the imports) beside it."""
    m = r["per"][n]
    if r["key"] == RSS_KEY:
        return f"{m[lib]:.0f} MB (net {m[lib + '_net']:.0f})"
    return fmt_time(m[lib])


def header(threads):
    cells = ["row", "what"]
    for n in threads:
        sfx = f" ({n} thr)" if len(threads) > 1 else ""
        cells += [f"chainrule{sfx}", f"torch{sfx}", f"ratio cr/torch{sfx}", f"GFLOP/s cr / torch{sfx}"]
    return cells + ["goal (1 thr)", "check"]


def table_rows(results, threads):
    rows = []
    for r in results:
        row = [r["key"], r["label"]]
        for n in threads:
            m = r["per"][n]
            gf = ""
            if r["flops"]:
                gf = f"{r['flops'] / m['cr'] / 1e9:.1f} / {r['flops'] / m['torch'] / 1e9:.1f}"
            row += [fmt_value(r, "cr", n), fmt_value(r, "torch", n), fmt_ratio(m["cr"] / m["torch"]), gf]
        bad = [n for n in threads if not r["per"][n]["same"]]
        check = "ok" if not bad else "MISMATCH" + (f" ({', '.join(map(str, bad))} thr)" if len(threads) > 1 else "")
        goal = f"≤ {GOALS[r['key']]:.1f}" if r["key"] in GOALS else ""
        rows.append(row + [goal, check])
    return rows


def goal_summary(results, threads, quick):
    """One line naming the goal rows met and not met at 1 thread (None when it would mean nothing)."""
    if quick or 1 not in threads:
        return None
    met, missed = [], []
    for r in results:
        if r["key"] in GOALS:
            ratio = r["per"][1]["cr"] / r["per"][1]["torch"]
            (met if ratio <= GOALS[r["key"]] else missed).append(f"{r['key']} {fmt_ratio(ratio)}")
    return (f"goals at 1 thread: met {len(met)} of {len(met) + len(missed)}"
            + (f" ({', '.join(met)})" if met else "")
            + (f"; not met: {', '.join(missed)}" if missed else ""))


def print_table(results, info, threads, markdown, quick):
    head, rows = header(threads), table_rows(results, threads)
    numeric = {i for i, h in enumerate(head) if h.startswith(("chainrule", "torch", "ratio", "GFLOP"))}
    if markdown:
        for k, v in info:
            print(f"- **{k}**: {v}")
        print()
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---:" if i in numeric else "---" for i in range(len(head))) + "|")
        for row in rows:
            row = row[:]
            row[0] = f"`{row[0]}`"
            print("| " + " | ".join(row) + " |")
    else:
        for k, v in info:
            print(f"{k + ':':16}{v}")
        print()
        widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]

        def line(cells):
            return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        print(line(head))
        print(line(["-" * w for w in widths]))
        for row in rows:
            print(line(row))
    print()
    print("ratio = chainrule time / torch time (median per call): < 1 means chainrule is faster. "
          f"{RSS_KEY}: peak RSS in MB of a fresh process per library (net = beyond the RSS right after "
          "import); its ratio is of the totals.")
    goals = goal_summary(results, threads, quick)
    if goals:
        print(goals)
    for n in threads:
        slow = [r["key"] for r in results if r["per"][n]["cr"] / r["per"][n]["torch"] > SLOW_RATIO]
        if slow:
            print(f"chainrule is more than {SLOW_RATIO:g}x slower than torch at {n} thread(s) on: {', '.join(slow)}")
    bad = [r["key"] for r in results if not all(m["same"] for m in r["per"].values())]
    if bad:
        print(f"MISMATCH: chainrule and torch computed different results on: {', '.join(bad)}")


def start_contenders(n):
    """n processes that spin on a core until killed (a competing CPU-bound job)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main(argv=None):
    args = parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child, args.quick, args.threads[0])
        return 0
    contenders = start_contenders(args.contend)
    try:
        return run(args)
    finally:
        for c in contenders:
            c.kill()
            c.wait()


def run(args):
    threads = args.threads or [os.cpu_count() or 1]
    if args.repeats is None:
        args.repeats = 2 if args.quick else 7
    # OpenMP reads OMP_NUM_THREADS once, when the runtime is initialised: set it before the imports,
    # to the largest count (set_num_threads can lower it later, and raise it back up to it).
    if "chainrule" in sys.modules or "torch" in sys.modules:
        print("warning: chainrule/torch imported before OMP_NUM_THREADS was set; "
              "the thread count may not apply", file=sys.stderr)
    os.environ["OMP_NUM_THREADS"] = str(max(threads))
    import numpy as np
    import chainrule as cr
    import torch

    load_before = load_average()
    target = 0.002 if args.quick else 0.1       # seconds per timed batch
    rng = np.random.default_rng(0)
    libs = {"cr": cr, "torch": torch}
    seen, results = {}, []
    gemm = (chainrule_blas(cr), torch_blas(torch).split()[0])
    for key, label, what, make, data, flops in build_cases(args.quick, rng, gemm):
        if args.rows and key not in args.rows:
            continue
        per = {}
        for n in threads:                      # each row at every count, back to back
            seen[n] = set_threads(cr, torch, n)
            if key == RSS_KEY:
                total, net, same = measure_rss(args.quick, n)
                per[n] = {"cr": total["cr"], "torch": total["torch"], "cr_net": net["cr"],
                          "torch_net": net["torch"], "same": same}
            else:
                outs = {}
                for name, T in libs.items():
                    _, check = make(T, data)       # fresh state for the check...
                    outs[name] = check()
                fns = {name: make(T, data)[0] for name, T in libs.items()}   # ...and for the timing
                times = measure(fns, args.repeats, target)
                per[n] = {"cr": times["cr"], "torch": times["torch"],
                          "same": same_result(outs["cr"], outs["torch"])}
            if not args.markdown:
                print(f"  measured {key} at {n} thread(s)", file=sys.stderr, flush=True)
        results.append({"key": key, "label": label, "what": what, "flops": flops, "per": per})
    print_table(results, machine_info(cr, torch, threads, seen, args, load_before), threads,
                args.markdown, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
