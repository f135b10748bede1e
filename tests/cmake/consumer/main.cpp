// d/dx x^3 at x = 2 is 12: exits 0 when chainrule, as a consumer builds it, says so.
#include <cstdio>

#include "core/autograd.h"
#include "core/ops.h"

int main() {
  chainrule::Tensor x = chainrule::tensor({2.0}, chainrule::kFloat64, /*requires_grad=*/true);
  chainrule::Tensor y = chainrule::sum(chainrule::pow(x, 3.0));
  chainrule::Tensor dx = chainrule::autograd::grad({y}, {x})[0];
  std::printf("d/dx x^3 at 2 = %g\n", dx.item());
  return dx.item() == 12.0 ? 0 : 1;
}
