"""Handwritten digits (scikit-learn's bundled 8x8 images) from scratch: an MLP (>= 96% test
accuracy) and a small CNN (>= 97%), trained with Adam on mini-batches from cr.data.DataLoader.

    python examples/train_digits.py                 # both models
    python examples/train_digits.py --epochs 10     # shorter
"""
import argparse

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.data import DataLoader, TensorDataset


def split(X, y, test_fraction=0.25, seed=0):
    """A seeded shuffle, then the last quarter is the test set."""
    order = cr.randperm(len(X), seed=seed)
    n_test = int(len(X) * test_fraction)
    train, test = order[:-n_test], order[-n_test:]
    return (X[train], y[train]), (X[test], y[test])


def mlp():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (N, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 32, 2, 2)
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def accuracy(model, X, y):
    model.eval()
    with cr.no_grad():
        acc = (model(X).argmax(dim=1) == y).float().mean().item()
    model.train()
    return acc


def fit(model, train, test, epochs, lr=1e-3, batch_size=64, seed=0, label=""):
    loader = DataLoader(TensorDataset(*train), batch_size=batch_size, shuffle=True, seed=seed)
    opt = cr.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        if epoch % max(1, epochs // 5) == 0 or epoch == epochs - 1:
            print(f"  {label} epoch {epoch:3d}  train loss {total / len(train[0]):.4f}  "
                  f"test accuracy {accuracy(model, *test):.2%}")
    return accuracy(model, *test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    cr.manual_seed(args.seed)
    X, y = cr.data.datasets.load_digits()  # (1797, 64) in [0, 1], labels 0..9
    (Xtr, ytr), (Xte, yte) = split(X, y, seed=args.seed)
    print(f"digits: {len(Xtr)} training and {len(Xte)} test images")

    acc_mlp = fit(mlp(), (Xtr, ytr), (Xte, yte), args.epochs, seed=args.seed, label="MLP")
    print(f"MLP 64-128-64-10: test accuracy {acc_mlp:.2%}")

    images = lambda t: t.reshape(-1, 1, 8, 8)  # noqa: E731
    acc_cnn = fit(cnn(), (images(Xtr), ytr), (images(Xte), yte), args.epochs, lr=3e-3, seed=args.seed, label="CNN")
    print(f"CNN (2 conv + 2 max-pool + linear): test accuracy {acc_cnn:.2%}")
    return acc_mlp, acc_cnn


if __name__ == "__main__":
    main()
