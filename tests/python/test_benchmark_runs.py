"""Keeps benchmarks/bench_vs_torch.py (a --quick run exits 0 and prints every row) and
benchmarks/bench_doctor_watch.py (a tiny run prints every model) working.

This is not a performance test: no time is asserted. It only checks that the harness runs, that
both libraries computed the same numbers in every row, and that the thread count is applied.
"""
import os
import pathlib
import subprocess
import sys

import chainrule
import torch  # noqa: F401  (the benchmark needs torch; a missing torch must fail here, not skip)

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "bench_vs_torch.py"
ROW_KEYS = ("add_8x8", "mul_sum_backward_8x8", "add_large", "matmul", "matmul_backward_weight",
            "relu_backward", "mlp_small_step", "mlp_large_forward", "mlp_large_step")


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


def table_lines(out, prefix=""):
    return {line.split()[0].strip("|`") if not prefix else line.split("|")[1].strip(" `"): line
            for line in out.splitlines() if line.startswith(prefix) and line.strip()}


def test_row_keys_match_the_script():
    text = SCRIPT.read_text()
    for key in ROW_KEYS:
        assert f'"{key}"' in text, key


def test_quick_run_prints_every_row_with_two_times_and_a_ratio():
    out = run_bench("--threads", "2")
    assert "threads:        2 (OMP_NUM_THREADS=2, torch.get_num_threads()=2" in out
    assert "torch " + torch.__version__ in out
    rows = table_lines(out)
    for key in ROW_KEYS:
        assert key in rows, f"row {key} missing from:\n{out}"
        cells = rows[key].split()
        assert cells[-1] == "ok", f"chainrule and torch disagree on {key}: {rows[key]}"
        assert float(_ratio_plain(rows[key])) > 0
    assert "MISMATCH" not in out


def _ratio_plain(line):
    # "<key> <what...> <t> <unit> <t> <unit> <ratio> ...": the ratio follows the second time unit
    tokens = line.split()
    units = {"ns", "µs", "ms", "s"}
    after_times = [i for i, t in enumerate(tokens) if t in units]
    return tokens[after_times[1] + 1]


def test_quick_markdown_run_prints_a_markdown_table_with_every_row():
    out = run_bench("--markdown", "--threads", "1")
    assert "| row | what | chainrule | torch | ratio cr/torch |" in out
    assert "- **threads**: 1 (OMP_NUM_THREADS=1" in out
    rows = table_lines(out, prefix="| `")
    for key in ROW_KEYS:
        assert key in rows, f"row {key} missing from:\n{out}"
        cells = [c.strip() for c in rows[key].strip().strip("|").split("|")]
        assert len(cells) == 7, cells
        assert float(cells[4]) > 0
        assert cells[6] == "ok"
    gflops = [c.strip() for c in rows["matmul"].strip().strip("|").split("|")][5]
    assert "/" in gflops and all(float(v) > 0 for v in gflops.split("/"))


def test_the_watch_overhead_benchmark_runs_every_model():
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_doctor_watch.py"), "--steps", "12",
                           "--repeats", "1", "--threads", "1"], env=bench_env(), cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for model in ("MLP 64-128-128-10", "spiral 2-100-3", "digits 64-128-10", "MNIST-shaped 784-128-10"):
        assert model in out
    assert out.count("watch(every=10)") == 4 and out.count("report()") == 8
