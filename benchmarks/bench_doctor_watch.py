"""Overhead of cr.doctor.watch on training loops the course runs: each model is trained for a few
hundred SGD steps without watch, with watch(every=10) and with watch(every=1), interleaved repeats.

    PYTHONPATH=python .venv/bin/python benchmarks/bench_doctor_watch.py [--steps 300] [--repeats 7] [--threads 1]

Each repeat runs the three modes back to back; the ratio is the median over repeats of each repeat's
ratio to its own "no watch" run (a shared machine drifts slower and faster over seconds). The rules run
when the report is asked for: "report()" is that one-off cost after the loop, not counted in the ratio.
"""
import argparse
import statistics
import time

import chainrule as cr

F = cr.nn.functional
nn = cr.nn

# name: (layer widths, batch, activation); each a ReLU/Tanh MLP trained with SGD on random data
MODELS = {
    "MLP 64-128-128-10, batch 64": ([64, 128, 128, 10], 64, nn.ReLU),
    "spiral 2-100-3, batch 300 (CS231n)": ([2, 100, 3], 300, nn.ReLU),
    "digits 64-128-10 tanh, batch 32": ([64, 128, 10], 32, nn.Tanh),
    "MNIST-shaped 784-128-10, batch 64": ([784, 128, 10], 64, nn.ReLU),
}


def make(widths, act, seed=0):
    cr.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(act())
    model = nn.Sequential(*layers)
    return model, cr.optim.SGD(model.parameters(), lr=0.05)


def run(mode, steps, spec, data):
    widths, _, act = spec
    model, opt = make(widths, act)
    x, y = data

    def loop():
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
    print(f"cr.doctor.watch overhead: {args.steps} SGD steps, median of {args.repeats} interleaved repeats, "
          f"{cr.get_num_threads()} thread(s)")
    for name, spec in MODELS.items():
        widths, batch, _ = spec
        cr.manual_seed(1)
        data = (cr.randn(batch, widths[0]), cr.randint(0, widths[-1], (batch,)))
        modes = ["none", 10, 1]
        times = {m: [] for m in modes}
        reports = {m: [] for m in modes}
        run("none", 20, spec, data)  # warm-up
        for _ in range(args.repeats):
            for m in modes:  # interleaved: drifts of a shared machine hit every mode alike
                loop_time, report_time = run(m, args.steps, spec, data)
                times[m].append(loop_time)
                reports[m].append(report_time)
        ratio = {m: statistics.median(t / b for t, b in zip(times[m], times["none"])) for m in modes}
        print(f"{name}")
        for m in modes:
            med = statistics.median(times[m])
            label = "no watch" if m == "none" else f"watch(every={m})"
            print(f"  {label:18s} {1e6 * med / args.steps:7.1f} us/step  ratio {ratio[m]:.3f}"
                  + (f"  report() {1e3 * statistics.median(reports[m]):.1f} ms" if m != "none" else ""))


if __name__ == "__main__":
    main()
