"""Overhead of cr.doctor.watch on a training loop: an MLP 64-128-128-10 (batch 64, SGD) trained for a
few hundred steps without watch, with watch(every=10) and with watch(every=1), interleaved repeats.

    PYTHONPATH=python .venv/bin/python benchmarks/bench_doctor_watch.py [--steps 300] [--repeats 7] [--threads 1]

The ratio to compare is of the medians; on a shared machine look at the mins too. The rules run when
the report is asked for: "report()" is that one-off cost after the loop, not counted in the ratio.
"""
import argparse
import statistics
import time

import chainrule as cr

F = cr.nn.functional


def make(seed=0):
    cr.manual_seed(seed)
    model = cr.nn.Sequential(cr.nn.Linear(64, 128), cr.nn.ReLU(), cr.nn.Linear(128, 128), cr.nn.ReLU(),
                             cr.nn.Linear(128, 10))
    return model, cr.optim.SGD(model.parameters(), lr=0.05)


def run(mode, steps, data):
    model, opt = make()
    x, y = data

    def loop(doc=None):
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

    t = time.perf_counter()
    if mode == "none":
        loop()
        return time.perf_counter() - t, 0.0
    with cr.doctor.watch(model, opt, every=mode) as doc:
        loop()
    t_loop = time.perf_counter()
    doc.report()
    return t_loop - t, time.perf_counter() - t_loop


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None,
                    help="cr.set_num_threads (1 on a shared machine: a thread pool on busy cores is noise)")
    args = ap.parse_args()
    if args.threads:
        cr.set_num_threads(args.threads)
    cr.manual_seed(1)
    data = (cr.randn(64, 64), cr.randint(0, 10, (64,)))
    modes = ["none", 10, 1]
    times = {m: [] for m in modes}
    reports = {m: [] for m in modes}
    run("none", 20, data)  # warm-up
    for _ in range(args.repeats):
        for m in modes:  # interleaved: drifts of a shared machine hit every mode alike
            loop_time, report_time = run(m, args.steps, data)
            times[m].append(loop_time)
            reports[m].append(report_time)
    base = statistics.median(times["none"])
    print(f"MLP 64-128-128-10, batch 64, SGD, {args.steps} steps, median of {args.repeats} interleaved repeats, "
          f"{cr.get_num_threads()} thread(s)")
    for m in modes:
        med = statistics.median(times[m])
        label = "no watch" if m == "none" else f"watch(every={m})"
        print(f"  {label:18s} {1e3 * med:8.1f} ms  {1e6 * med / args.steps:7.1f} us/step  "
              f"ratio {med / base:.3f}  (min {1e3 * min(times[m]):.1f} ms)"
              + (f"  report() {1e3 * statistics.median(reports[m]):.1f} ms" if m != "none" else ""))


if __name__ == "__main__":
    main()
