"""Keeps benchmarks/bench_vs_torch.py (a --quick run exits 0 and prints every row) and
benchmarks/bench_doctor_watch.py (a tiny run prints every model) working.

This is not a performance test: no time is asserted. It only checks that the harness runs, that
both libraries computed the same numbers in every row, and that the thread count is applied.
"""
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

import chainrule
import torch  # noqa: F401  (the benchmark needs torch; a missing torch must fail here, not skip)

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "bench_vs_torch.py"
# Listed here as well as in the script, so that dropping a row from the script fails a test.
ROW_KEYS = ("add_8x8", "mul_sum_backward_8x8", "add_large", "matmul", "matmul_eigen", "matmul_backward_weight",
            "relu_backward", "pow_backward", "mlp_small_step", "mlp_digits_step", "mlp_mnist_step",
            "cnn8_step", "cnn28_step", "mlp_large_forward", "mlp_large_step", "mlp_large_rss",
            "func_forward", "func_jvp", "func_forward_batch", "func_jvp_batch", "func_hessian")


def load_script():
    """The benchmark as a module (it imports chainrule and torch only inside main())."""
    spec = importlib.util.spec_from_file_location("bench_vs_torch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_env():
    """This process's environment, with PYTHONPATH importing the same chainrule as we do."""
    env = dict(os.environ)
    pkg_parent = str(pathlib.Path(chainrule.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return env


def run_bench(*args):
    """Runs the benchmark with this process's environment, importing the same chainrule as we do."""
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", *args], env=bench_env(), cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"exit code {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def plain_rows(out):
    """{row key: its cells}; cells are separated by at least two spaces (no cell holds two in a row)."""
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0] in ROW_KEYS:
            rows[cells[0]] = cells
    return rows


def markdown_rows(out):
    return {cells[0].strip("`"): cells
            for cells in ([c.strip() for c in line.strip().strip("|").split("|")]
                          for line in out.splitlines() if line.startswith("| `"))}


def test_row_keys_match_the_script():
    assert load_script().ROW_KEYS == ROW_KEYS


def test_threads_takes_one_count_or_a_comma_list():
    parse = load_script().parse_args
    assert parse(["--threads", "2"]).threads == [2]
    assert parse(["--threads", "1,2"]).threads == [1, 2]
    assert parse(["--threads", "2,1,2"]).threads == [2, 1]
    assert parse([]).threads is None                      # main() then uses os.cpu_count()
    for bad in ("0", "1,0", "a", "1,,2", ""):
        with pytest.raises(SystemExit):
            parse(["--threads", bad])


def test_a_disagreement_shows_as_mismatch_in_the_check_column():
    bench = load_script()
    result = {"key": "matmul", "label": "a @ b", "what": "", "flops": 2e6,
              "per": {1: {"cr": 1e-3, "torch": 2e-3, "same": True}, 2: {"cr": 1e-3, "torch": 1e-3, "same": False}}}
    row = bench.table_rows([result], [1, 2])[0]
    assert row[4] == "0.50" and row[-2] == "≤ 1.0" and row[-1] == "MISMATCH (2 thr)"
    assert bench.same_result([1.0, 2.0], [1.0, 2.0]) and not bench.same_result([1.0, 2.0], [1.0, 2.1])
    assert not bench.same_result([1.0, 2.0], [1.0, 2.0, 3.0])


def test_quick_run_prints_every_row_with_two_times_a_ratio_and_ok():
    out = run_bench("--threads", "2")
    assert "threads:        2 (OMP_NUM_THREADS=2, torch.get_num_threads()=2, chainrule.get_num_threads()=2" in out
    assert "torch " + torch.__version__ in out
    assert re.search(r"^CPU: .*\(SIMD: [^)]+\)", out, re.M)
    assert re.search(r"^GEMM / BLAS: +chainrule \S+.*; torch \S+", out, re.M)
    rows = plain_rows(out)
    for key in ROW_KEYS:
        assert key in rows, f"row {key} missing from:\n{out}"
        cells = rows[key]
        assert cells[-1] == "ok", f"chainrule and torch disagree on {key}: {cells}"
        assert float(cells[4]) > 0, cells                   # key, what, chainrule, torch, ratio, ...
    assert re.fullmatch(r"\d+ MB \(net -?\d+\)", rows["mlp_large_rss"][2]), rows["mlp_large_rss"]
    assert "MISMATCH" not in out


def test_quick_markdown_run_at_1_and_2_threads_prints_both_for_every_row():
    out = run_bench("--markdown", "--threads", "1,2")
    head = ("| row | what | chainrule (1 thr) | torch (1 thr) | ratio cr/torch (1 thr) | GFLOP/s cr / torch (1 thr) "
            "| chainrule (2 thr) | torch (2 thr) | ratio cr/torch (2 thr) | GFLOP/s cr / torch (2 thr) "
            "| goal (1 thr) | check |")
    assert head in out
    assert "- **threads**: 1, 2: every row at each count (OMP_NUM_THREADS=2, the largest" in out
    assert "they reported 1: 1/1, 2: 2/2 (chainrule/torch)" in out
    rows = markdown_rows(out)
    for key in ROW_KEYS:
        assert key in rows, f"row {key} missing from:\n{out}"
        cells = rows[key]
        assert len(cells) == 12, cells
        assert float(cells[4]) > 0 and float(cells[8]) > 0, cells
        assert cells[-1] == "ok", f"chainrule and torch disagree on {key}: {cells}"
    assert rows["matmul"][10] == "≤ 1.0" and rows["add_8x8"][10] == ""
    assert "GEMM: chainrule " in rows["matmul"][1]
    for col in (5, 9):
        gflops = rows["matmul"][col]
        assert "/" in gflops and all(float(v) > 0 for v in gflops.split("/"))
    for col in (2, 3, 6, 7):
        assert re.fullmatch(r"\d+ MB \(net -?\d+\)", rows["mlp_large_rss"][col]), rows["mlp_large_rss"]
    assert "MISMATCH" not in out


def test_the_watch_overhead_benchmark_runs_every_model():
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_doctor_watch.py"), "--steps", "12",
                           "--repeats", "1", "--threads", "1"], env=bench_env(), cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for model in ("MLP 64-128-128-10", "spiral 2-100-3", "digits 64-128-10", "MNIST-shaped 784-128-10"):
        assert model in out
    assert out.count("watch(every=10)") == 4 and out.count("report()") == 8


def test_rows_option_runs_only_the_named_rows_and_rejects_unknown_ones():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "1", "--rows", "add_8x8,matmul_eigen"],
                         capture_output=True, text=True, env=bench_env(), timeout=600)
    assert out.returncode == 0, out.stderr
    printed = {k for k in ROW_KEYS if re.search(rf"^{k}\s", out.stdout, re.M)}
    assert printed == {"add_8x8", "matmul_eigen"}, out.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), "--rows", "matmull"], capture_output=True, text=True,
                         env=bench_env(), timeout=600)
    assert bad.returncode == 2 and "--rows: unknown row(s) matmull" in bad.stderr


def test_contend_runs_busy_processes_only_while_the_benchmark_runs():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "2", "--rows", "add_8x8",
                          "--contend", "2"], capture_output=True, text=True, env=bench_env(), timeout=600)
    assert out.returncode == 0, out.stderr
    assert "2 busy process(es) competing for the cores all along" in out.stdout
    assert re.search(r"^add_8x8\s.*\bok$", out.stdout, re.M), out.stdout
    spinning = []
    for cmdline in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes() == sys.executable.encode() + b"\0-c\0while True: pass\0":
                spinning.append(cmdline.parent.name)
        except OSError:  # the process ended meanwhile
            pass
    assert spinning == [], "a busy process outlived the benchmark"
