"""A model that won't learn, diagnosed and fixed with cr.doctor: a 4-layer sigmoid MLP with small
weights sits at chance on the spiral data; cr.doctor.check finds vanishing gradients and says what to
change; the fixed model (ReLU, Kaiming init) checks clean and learns, watched by cr.doctor.watch.
Run: python examples/fix_a_model.py [--steps N] [--docs [DIR]]
     (--docs writes doctor_report.txt, doctor_layers.png and doctor_watch.png to docs/, or to DIR)"""
import argparse
import os
import time

import chainrule as cr

nn, F = cr.nn, cr.nn.functional
DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")
LR = 0.1  # plain SGD, full batch, the same for both models


def mlp(activation, init):
    """2 -> 64 -> 64 -> 64 -> 3 with ``activation`` between the Linear layers; biases 0. init "small":
    weights ~ 0.01 N(0, 1) (CS231n's init, fine for its 2-layer net, too small four deep); "kaiming": He."""
    widths = [2, 64, 64, 64, 3]
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        lin = nn.Linear(a, b)
        if init == "small":
            nn.init.normal_(lin.weight, 0.0, 0.01)
        else:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        layers += [lin, activation()] if i < len(widths) - 2 else [lin]
    return nn.Sequential(*layers)


def accuracy(model, X, y):
    with cr.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def train(model, X, y, steps):
    opt = cr.optim.SGD(model.parameters(), lr=LR)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    return accuracy(model, X, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="full-batch SGD steps for each model")
    parser.add_argument("--docs", nargs="?", const=DOCS, default=None, metavar="DIR",
                        help="write the README's report and figures (to docs/ by default)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    X, y = cr.data.datasets.make_spiral(n_per_class=100, n_classes=3, noise=0.2, seed=0)

    # 1. The broken model: one batch, one backward, one dry step, nothing trained.
    cr.manual_seed(0)
    broken = mlp(nn.Sigmoid, "small")
    report = cr.doctor.check(broken, F.cross_entropy, (X, y), optimizer=cr.optim.SGD(broken.parameters(), lr=LR))
    print(report)

    # 2. What the VANISHING finding's fix says: ReLU with Kaiming (He) init. Same seed, same lr.
    cr.manual_seed(0)
    fixed = mlp(nn.ReLU, "kaiming")
    fixed_report = cr.doctor.check(fixed, F.cross_entropy, (X, y), optimizer=cr.optim.SGD(fixed.parameters(), lr=LR))
    print("\nafter the fix (ReLU, kaiming_normal_):")
    print(fixed_report)

    # 3. Train both; the fixed one under watch, which measures every 10th real step.
    broken_acc = train(broken, X, y, args.steps)
    opt = cr.optim.SGD(fixed.parameters(), lr=LR)
    with cr.doctor.watch(fixed, opt, every=10) as doc:
        for _ in range(args.steps):
            opt.zero_grad()
            loss = F.cross_entropy(fixed(X), y)
            loss.backward()
            doc.log_loss(loss)
            opt.step()
    fixed_acc = accuracy(fixed, X, y)
    print("\nwatching the fixed model train:")
    print(doc.report())
    print(f"\ntraining accuracy after {args.steps} steps: broken {broken_acc:.1%}, fixed {fixed_acc:.1%}")

    if args.docs:
        os.makedirs(args.docs, exist_ok=True)
        with open(os.path.join(args.docs, "doctor_report.txt"), "w") as f:
            f.write(f"{report}\n")
        report.plot().savefig(os.path.join(args.docs, "doctor_layers.png"), dpi=100)
        doc.plot().savefig(os.path.join(args.docs, "doctor_watch.png"), dpi=100)
        print(f"wrote doctor_report.txt, doctor_layers.png, doctor_watch.png to {os.path.normpath(args.docs)}")
    print(f"({time.perf_counter() - start:.1f} s)")
    return {"report": report, "fixed_report": fixed_report, "watch": doc,
            "broken_acc": broken_acc, "fixed_acc": fixed_acc}


if __name__ == "__main__":
    main()
