"""A fresh install's smoke test (scripts/test_wheel.sh): run from outside the
source tree by the installed package's Python. Exits non-zero on the first wrong answer."""
import chainrule as cr

x = cr.tensor(2.0, requires_grad=True)
(x ** 3).backward()
assert x.grad.item() == 12.0, x.grad
cfg = cr.show_config(mode="dicts")
assert cfg["eigen"].startswith("3.4"), cfg
assert cfg["gemm"].startswith("OpenBLAS"), cfg  # the scipy-openblas32 wheel, found at run time
assert "site-packages" in cr.__file__, cr.__file__  # the installed package, not a source tree's

# a few train steps of a small MLP: its loss must fall
cr.manual_seed(0)
X = cr.randn(64, 4)
y = (X[:, 0] > 0).long()
model = cr.nn.Sequential(cr.nn.Linear(4, 16), cr.nn.ReLU(), cr.nn.Linear(16, 2))
opt = cr.optim.SGD(model.parameters(), lr=0.5)
losses = []
for _ in range(20):
    opt.zero_grad()
    loss = cr.nn.functional.cross_entropy(model(X), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
assert losses[-1] < 0.5 * losses[0], losses
print(f"smoke test: d/dx x^3 at 2 = {x.grad.item()} | Eigen {cfg['eigen']} | gemm {cfg['gemm']} | "
      f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
