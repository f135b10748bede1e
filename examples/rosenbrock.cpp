// Minimises the Rosenbrock function f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 with plain gradient
// descent, letting autograd compute (df/dx, df/dy). The minimum is f(1, 1) = 0.
#include <cmath>
#include <cstdio>

#include "core/autograd.h"
#include "core/ops.h"

using namespace chainrule;

int main() {
  // float64 leaves: the valley is long and flat, and float32 would stall before reaching (1, 1).
  Tensor x = scalar_tensor(-1.5, kFloat64).set_requires_grad();
  Tensor y = scalar_tensor(2.0, kFloat64).set_requires_grad();
  const double lr = 1e-3;  // larger steps overshoot across the steep walls of the valley
  const int steps = 30000;

  for (int step = 0; step <= steps; ++step) {
    Tensor f = pow(1.0 - x, 2) + 100.0 * pow(y - x * x, 2);
    if (step % 5000 == 0)
      std::printf("step %6d   f = %.3e   (x, y) = (%.6f, %.6f)\n", step, f.item(), x.item(), y.item());
    if (step == steps) break;

    f.backward();  // fills x.grad() and y.grad()
    {
      NoGradGuard no_grad;  // the update itself must not become part of any graph
      x.sub_(x.grad(), lr);
      y.sub_(y.grad(), lr);
      x.grad().zero_();  // .grad accumulates across backward calls, so reset it every step
      y.grad().zero_();
    }
  }

  const double dist = std::hypot(x.item() - 1.0, y.item() - 1.0);
  std::printf("final point (%.6f, %.6f), distance to (1, 1): %.2e\n", x.item(), y.item(), dist);
  if (dist > 1e-2) {
    std::printf("did not converge\n");
    return 1;
  }
  return 0;
}
