"""The CS231n case study, "Putting it together: Minimal Neural Network Case Study", in chainrule:
a softmax linear classifier and a 2-layer ReLU network on the spiral data, with the course's
hyperparameters (step size 1, L2 strength 1e-3, weights ~ 0.01 N(0, 1), full-batch gradient descent).
The linear model reaches about 49% training accuracy, the network about 98%.

    python examples/train_spiral.py                  # both models, saves spiral_boundary.png
    python examples/train_spiral.py --steps 2000     # shorter (CI)
"""
import argparse
import os

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


def make_model(hidden):
    """Linear (hidden=0) or Linear-ReLU-Linear, initialised as in the course notes."""
    model = nn.Linear(2, 3) if hidden == 0 else nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 3))
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            nn.init.normal_(p, 0.0, 0.01)
        else:
            nn.init.zeros_(p)
    return model


def train(model, X, y, steps, lr=1.0, reg=1e-3, label=""):
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    opt = cr.optim.SGD(model.parameters(), lr=lr)
    progress = _progress(range(steps), label)
    for step in progress:
        scores = model(X)
        loss = F.cross_entropy(scores, y) + 0.5 * reg * F.l2_penalty(weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 and hasattr(progress, "set_postfix"):
            progress.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    with cr.no_grad():
        accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
    return loss.item(), accuracy


def _progress(it, label):
    try:
        from tqdm import tqdm
        return tqdm(it, desc=label, leave=False, mininterval=0.5)
    except ImportError:  # tqdm is optional: plain loop, no bar
        return it


def plot_boundaries(models, X, y, path):
    import matplotlib
    matplotlib.use("Agg")  # no screen needed
    import matplotlib.pyplot as plt
    import numpy as np

    xs = np.asarray(X)
    h = 0.02
    x_min, x_max = xs[:, 0].min() - 1, xs[:, 0].max() + 1
    y_min, y_max = xs[:, 1].min() - 1, xs[:, 1].max() + 1
    xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
    grid = cr.tensor(np.c_[xx.ravel(), yy.ravel()].astype(np.float32))
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.5))
    for ax, (title, model) in zip(np.atleast_1d(axes), models):
        with cr.no_grad():
            Z = model(grid).argmax(dim=1).numpy().reshape(xx.shape)
        ax.contourf(xx, yy, Z, cmap=plt.cm.Spectral, alpha=0.8)
        ax.scatter(xs[:, 0], xs[:, 1], c=np.asarray(y), s=20, cmap=plt.cm.Spectral, edgecolors="k")
        ax.set_xlim(xx.min(), xx.max())
        ax.set_ylim(yy.min(), yy.max())
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000, help="gradient steps for the network (the linear model takes 200)")
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--plot", default="spiral_boundary.png", help="where to save the decision boundaries ('' for none)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    cr.manual_seed(args.seed)
    X, y = cr.data.datasets.make_spiral(n_per_class=100, n_classes=3, noise=0.2, seed=args.seed)

    linear = make_model(0)
    loss, acc = train(linear, X, y, steps=200, label="softmax classifier")
    print(f"softmax linear classifier: loss {loss:.4f}, training accuracy {acc:.2%}  (CS231n: ~49%)")

    net = make_model(args.hidden)
    loss, acc2 = train(net, X, y, steps=args.steps, label="2-layer network")
    print(f"2-layer network ({args.hidden} ReLU units): loss {loss:.4f}, training accuracy {acc2:.2%}  (CS231n: ~98%)")

    if args.plot:
        plot_boundaries([("softmax classifier", linear), ("2-layer network", net)], X, y, args.plot)
        print(f"decision boundaries saved to {os.path.abspath(args.plot)}")
    return acc, acc2


if __name__ == "__main__":
    main()
