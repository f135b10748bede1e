"""A five-minute tour of chainrule from Python: derivatives, gradients, a Hessian, and gradient
descent written by hand — the way the course builds them up. Run: python examples/quickstart.py"""
import math

import chainrule as cr

# 1. The derivative of f(x) = x^3 at x = 2 is 3x^2 = 12.
x = cr.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward()
print(f"f(x) = x^3 at x = 2:      f'(2)  = {x.grad.item():g}")

# 2. The second derivative: differentiate the derivative (create_graph records the backward pass).
(dy,) = cr.autograd.grad(x ** 3, x, create_graph=True)
(d2y,) = cr.autograd.grad(dy, x)
print(f"                          f''(2) = {d2y.item():g}")

# 3. A gradient and a directional derivative of f(x, y) = x^2 y + sin(y) at (1, 2).
p = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
f = p[0] ** 2 * p[1] + cr.sin(p[1])
(g,) = cr.autograd.grad(f, p, create_graph=True)
u = cr.tensor([0.6, 0.8], dtype=cr.float64)
print(f"grad f(1, 2)            = {g.tolist()}   (exact: [2xy, x^2 + cos y] = [4, {1 + math.cos(2):.6f}])")
print(f"D_u f(1, 2), u=(.6, .8) = {(g * u).sum().item():.6f}")

# 4. The Hessian, one row per component of the gradient.
rows = [cr.autograd.grad(g[i], p, retain_graph=True)[0] for i in range(2)]
print(f"Hessian                 = {cr.stack(rows).tolist()}")

# 5. Gradient descent on a convex bowl, written by hand as students do.
cr.manual_seed(0)
w = cr.randn(2, dtype=cr.float64, requires_grad=True)
target = cr.tensor([3.0, -1.0], dtype=cr.float64)
lr = 0.1
for step in range(50):
    loss = ((w - target) ** 2).sum()
    loss.backward()
    with cr.no_grad():
        w -= lr * w.grad
    w.grad = None
print(f"gradient descent on |w - (3, -1)|^2: w = {[round(v, 6) for v in w.tolist()]}, loss = {loss.item():.2e}")
