// Tensor hooks: register_hook on leaves and non-leaves (sums over uses, replacement, registration
// order, retain_grad, create_graph), register_post_accumulate_grad_hook, RemovableHandle, the
// errors, the engine's node order on a diamond (torch's), and a 1,000,000-node chain.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

Tensor Scalar64(double v) { return full({}, v, kFloat64).set_requires_grad(); }

TEST(Hooks, LeafUsedTwiceSeesTheSumOfItsGradientsOnce) {
  // y = x·x·w at x = 3, w = 2: dy/dx = 2xw = 12 (6 from each use of x), dy/dw = x² = 9
  Tensor x = Scalar64(3.0), w = Scalar64(2.0);
  std::vector<double> seen;
  x.register_hook([&seen](const Tensor& g) {
    seen.push_back(g.item());
    return Tensor();
  });
  mul(mul(x, x), w).backward();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_DOUBLE_EQ(seen[0], 12.0);
  EXPECT_DOUBLE_EQ(x.grad().item(), 12.0);
  EXPECT_DOUBLE_EQ(w.grad().item(), 9.0);
}

TEST(Hooks, NonLeafUsedTwiceSeesTheSumOfItsGradientsOnce) {
  // h = 2x, y = h·h + h at x = 1.5 (h = 3): dy/dh = 2h + 1 = 7, dy/dx = 14
  Tensor x = Scalar64(1.5);
  Tensor h = mul(x, 2.0);
  std::vector<double> seen;
  h.register_hook([&seen](const Tensor& g) {
    seen.push_back(g.item());
    return Tensor();
  });
  add(mul(h, h), h).backward();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_DOUBLE_EQ(seen[0], 7.0);
  EXPECT_DOUBLE_EQ(x.grad().item(), 14.0);
}

TEST(Hooks, ALeafThatIsTheRootSeesTheGivenGradient) {
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  std::vector<std::vector<double>> seen;
  x.register_hook([&seen](const Tensor& g) {
    seen.push_back(g.to_vector());
    return Tensor();
  });
  x.backward(T({5, 6}, {2}));
  EXPECT_EQ(seen, (std::vector<std::vector<double>>{{5, 6}}));
  EXPECT_TRUE(Near(x.grad(), {2}, {5, 6}));
}

TEST(Hooks, ReplacingALeafGradientChangesGrad) {
  // y = Σ x² at x = [1, 2, 3]: the gradient 2x = [2, 4, 6], times 10 by the hook
  Tensor x = T({1, 2, 3}, {3}, kFloat64, true);
  x.register_hook([](const Tensor& g) { return mul(g, 10.0); });
  sum(mul(x, x)).backward();
  EXPECT_TRUE(Near(x.grad(), {3}, {20, 40, 60}));
}

TEST(Hooks, AnUndefinedResultOnlyObserves) {
  Tensor x = T({1, 2, 3}, {3}, kFloat64, true);
  std::vector<double> seen;
  x.register_hook([&seen](const Tensor& g) {
    seen = g.to_vector();
    return Tensor();
  });
  sum(mul(x, x)).backward();
  EXPECT_EQ(seen, (std::vector<double>{2, 4, 6}));
  EXPECT_TRUE(Near(x.grad(), {3}, {2, 4, 6}));
}

TEST(Hooks, HooksChainInRegistrationOrder) {
  // y = 3x: the gradient 3; first: 3 -> 3 + 1 = 4; second: 4 -> 2·4 = 8; third only looks
  Tensor x = Scalar64(2.0);
  std::vector<std::string> log;
  x.register_hook([&log](const Tensor& g) {
    log.push_back("first " + std::to_string(static_cast<int>(g.item())));
    return add(g, 1.0);
  });
  x.register_hook([&log](const Tensor& g) {
    log.push_back("second " + std::to_string(static_cast<int>(g.item())));
    return mul(g, 2.0);
  });
  x.register_hook([&log](const Tensor& g) {
    log.push_back("third " + std::to_string(static_cast<int>(g.item())));
    return Tensor();
  });
  mul(x, 3.0).backward();
  EXPECT_EQ(log, (std::vector<std::string>{"first 3", "second 4", "third 8"}));
  EXPECT_DOUBLE_EQ(x.grad().item(), 8.0);
}

TEST(Hooks, NonLeafHookSeesTheUpstreamGradientAndItsReplacementReachesTheInputs) {
  // h = x², y = Σ 3h at x = [1, 2]: dy/dh = [3, 3], replaced by [3, 30]; dy/dx = 2x·[3, 30] = [6, 120]
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  Tensor h = mul(x, x);
  std::vector<double> seen;
  h.register_hook([&seen](const Tensor& g) {
    seen = g.to_vector();
    return mul(g, T({1, 10}, {2}));
  });
  sum(mul(h, 3.0)).backward();
  EXPECT_EQ(seen, (std::vector<double>{3, 3}));
  EXPECT_TRUE(Near(x.grad(), {2}, {6, 120}));
  EXPECT_FALSE(h.grad().defined());  // no retain_grad: a non-leaf keeps nothing
}

TEST(Hooks, RetainGradKeepsTheHookedValue) {
  // as above with a hook that doubles, retain_grad called before the hook is registered:
  // h.grad = 2·[3, 3] = [6, 6]; x.grad = 2x·[6, 6] = [12, 24]
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  Tensor h = mul(x, x);
  h.retain_grad();
  h.register_hook([](const Tensor& g) { return mul(g, 2.0); });
  sum(mul(h, 3.0)).backward();
  EXPECT_TRUE(Near(h.grad(), {2}, {6, 6}));
  EXPECT_TRUE(Near(x.grad(), {2}, {12, 24}));
}

TEST(Hooks, RemoveStopsAHookAndTwiceIsHarmless) {
  // y = 3x: with both hooks (×2, then +1) the gradient is 7; without the first, 4
  Tensor x = Scalar64(2.0);
  int doubled = 0, added = 0;
  RemovableHandle twice = x.register_hook([&doubled](const Tensor& g) {
    ++doubled;
    return mul(g, 2.0);
  });
  x.register_hook([&added](const Tensor& g) {
    ++added;
    return add(g, 1.0);
  });
  mul(x, 3.0).backward();
  EXPECT_EQ(doubled, 1);
  EXPECT_EQ(added, 1);
  EXPECT_DOUBLE_EQ(x.grad().item(), 7.0);

  twice.remove();
  twice.remove();  // idempotent
  x.set_grad(Tensor());
  mul(x, 3.0).backward();
  EXPECT_EQ(doubled, 1);
  EXPECT_EQ(added, 2);  // the other hook stays
  EXPECT_DOUBLE_EQ(x.grad().item(), 4.0);
}

TEST(Hooks, RemoveAfterTheTensorDiedIsHarmless) {
  RemovableHandle leaf_hook, non_leaf_hook, post_hook, never_registered;
  {
    Tensor x = Scalar64(1.0);
    Tensor h = mul(x, 2.0);
    leaf_hook = x.register_hook([](const Tensor& g) { return g; });
    non_leaf_hook = h.register_hook([](const Tensor& g) { return g; });
    post_hook = x.register_post_accumulate_grad_hook([](const Tensor&) {});
  }
  for (int i = 0; i < 2; ++i) {
    leaf_hook.remove();
    non_leaf_hook.remove();
    post_hook.remove();
    never_registered.remove();
  }
  SUCCEED();
}

TEST(Hooks, PostAccumulateHookSeesTheAccumulatedGrad) {
  // backward of Σ 3x: .grad = [3, 3]; then of Σ x² at x = [1, 2]: .grad = [3, 3] + [2, 4] = [5, 7]
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  std::vector<std::vector<double>> seen;
  bool same_tensor = true;
  const TensorImpl* impl = x.impl();
  x.register_post_accumulate_grad_hook([&](const Tensor& leaf) {
    same_tensor = same_tensor && leaf.impl() == impl;
    seen.push_back(leaf.grad().to_vector());
  });
  sum(mul(x, 3.0)).backward();
  sum(mul(x, x)).backward();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<double>{3, 3}));
  EXPECT_EQ(seen[1], (std::vector<double>{5, 7}));
  EXPECT_TRUE(same_tensor);
}

TEST(Hooks, PostAccumulateHookRunsAfterTheGradHooks) {
  // y = x³ at x = 2: 3x² = 12, doubled by the hook: .grad = 24 when the post hook looks
  Tensor x = Scalar64(2.0);
  std::vector<std::string> log;
  x.register_post_accumulate_grad_hook([&log](const Tensor& leaf) {
    log.push_back("post " + std::to_string(static_cast<int>(leaf.grad().item())));
  });
  x.register_hook([&log](const Tensor& g) {
    log.push_back("hook " + std::to_string(static_cast<int>(g.item())));
    return mul(g, 2.0);
  });
  mul(mul(x, x), x).backward();
  EXPECT_EQ(log, (std::vector<std::string>{"hook 12", "post 24"}));
}

TEST(Hooks, AutogradGradRunsTensorHooksButNotPostAccumulateHooks) {
  // y = x³ at x = 2: 3x² = 12, doubled by the hook: grad returns 24, .grad stays undefined
  Tensor x = Scalar64(2.0);
  std::vector<std::string> log;
  x.register_hook([&log](const Tensor& g) {
    log.push_back("hook " + std::to_string(static_cast<int>(g.item())));
    return mul(g, 2.0);
  });
  x.register_post_accumulate_grad_hook([&log](const Tensor&) { log.push_back("post"); });
  std::vector<Tensor> g = autograd::grad({mul(mul(x, x), x)}, {x});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_DOUBLE_EQ(g[0].item(), 24.0);
  EXPECT_EQ(log, (std::vector<std::string>{"hook 12"}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Hooks, OptimizerInBackwardLeavesGradUndefined) {
  // loss = Σ p², lr = 0.25: p = [1, 2] -> p - 0.25·2p = [0.5, 1] -> [0.25, 0.5]
  Tensor p = T({1, 2}, {2}, kFloat64, true);
  int steps = 0;
  p.register_post_accumulate_grad_hook([&steps](const Tensor& leaf) {
    Tensor param = leaf;  // the same tensor (in-place methods are non-const)
    {
      NoGradGuard no_grad;
      param.sub_(mul(param.grad(), 0.25));
    }
    param.set_grad(Tensor());
    ++steps;
  });
  sum(mul(p, p)).backward();
  EXPECT_EQ(steps, 1);
  EXPECT_FALSE(p.grad().defined());
  EXPECT_TRUE(Near(p, {2}, {0.5, 1}));
  sum(mul(p, p)).backward();
  EXPECT_EQ(steps, 2);
  EXPECT_FALSE(p.grad().defined());
  EXPECT_TRUE(Near(p, {2}, {0.25, 0.5}));
}

TEST(Hooks, RegisterHookOnATensorWithoutGradRaises) {
  Tensor plain = T({1, 2}, {2});
  EXPECT_TRUE(
      Contains(Thrown<std::runtime_error>([&] { plain.register_hook([](const Tensor& g) { return g; }); }),
               "register_hook: cannot register a hook"));
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  Tensor detached = x.detach();
  EXPECT_TRUE(
      Contains(Thrown<std::runtime_error>([&] { detached.register_hook([](const Tensor& g) { return g; }); }),
               "register_hook: cannot register a hook"));
}

TEST(Hooks, PostAccumulateHookOnANonLeafRaises) {
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  Tensor h = mul(x, 2.0);
  EXPECT_TRUE(Contains(
      Thrown<std::runtime_error>([&] { h.register_post_accumulate_grad_hook([](const Tensor&) {}); }),
      "non-leaf"));
}

TEST(Hooks, AHookReturningAnotherShapeRaises) {
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  x.register_hook([](const Tensor&) { return zeros({3}, kFloat64); });
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { sum(mul(x, x)).backward(); }),
                       "hook: a hook returned a gradient of shape"));

  Tensor z = T({1, 2}, {2}, kFloat64, true);
  Tensor h = mul(z, z);
  h.register_hook([](const Tensor&) { return zeros({}, kFloat64); });  // broadcastable is still refused
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { sum(h).backward(); }),
                       "hook: a hook returned a gradient of shape"));
}

TEST(Hooks, HooksWorkUnderCreateGraph) {
  // y = x³ at x = 3 with a hook that doubles x's gradient: g = 2·3x² = 54 (differentiable);
  // dg/dx = 12x = 36 through the hook, and 72 if the hook doubles the second pass too (as torch)
  Tensor x = Scalar64(3.0);
  int calls = 0;
  RemovableHandle doubling = x.register_hook([&calls](const Tensor& g) {
    ++calls;
    return mul(g, 2.0);
  });
  mul(mul(x, x), x).backward(Tensor(), std::nullopt, /*create_graph=*/true);
  Tensor g = x.grad();
  x.set_grad(Tensor());  // breaks the x -> grad -> graph -> x cycle
  EXPECT_EQ(calls, 1);
  EXPECT_DOUBLE_EQ(g.item(), 54.0);
  ASSERT_TRUE(g.requires_grad());
  EXPECT_DOUBLE_EQ(autograd::grad({g}, {x}, {}, /*retain_graph=*/true)[0].item(), 72.0);
  EXPECT_EQ(calls, 2);
  doubling.remove();
  EXPECT_DOUBLE_EQ(autograd::grad({g}, {x})[0].item(), 36.0);
  EXPECT_EQ(calls, 2);
}

TEST(Hooks, NodeOrderOnADiamondIsTorchs) {
  // Created in the order a(exp) b(sin) c(mul) d(add) tanh e(add). e runs; then tanh, then d
  // (a still waits for c, b for c). d frees c; c frees a and b, both ready: b was created later,
  // so b runs before a; x's gradient last. torch 2.13 logs the same: e, d, c, b, a, x.
  const double xv = 0.5;
  Tensor x = Scalar64(xv);
  Tensor a = exp(x), b = sin(x), c = mul(a, b), d = add(c, a), e = add(tanh(d), b);
  std::vector<std::string> log;
  auto named = [&log](const std::string& name) {
    return [&log, name](const Tensor&) {
      log.push_back(name);
      return Tensor();
    };
  };
  a.register_hook(named("a"));
  b.register_hook(named("b"));
  c.register_hook(named("c"));
  d.register_hook(named("d"));
  e.register_hook(named("e"));
  x.register_hook(named("x"));
  e.backward();
  EXPECT_EQ(log, (std::vector<std::string>{"e", "d", "c", "b", "a", "x"}));
  // de/dx = (1 - tanh²(d))·(eˣ(sin x + cos x) + eˣ) + cos x
  const double dv = std::exp(xv) * std::sin(xv) + std::exp(xv), t = std::tanh(dv);
  const double want =
      (1 - t * t) * (std::exp(xv) * (std::sin(xv) + std::cos(xv)) + std::exp(xv)) + std::cos(xv);
  EXPECT_NEAR(x.grad().item(), want, 1e-14);
}

TEST(Hooks, AMillionNodeChainWithAHookOnTheLeaf) {
  // y = x + 1 + 1 + ... (1,000,000 adds): dy/dx = 1 exactly, tripled by the hook
  Tensor x = Scalar64(0.0);
  int calls = 0;
  double seen = 0;
  x.register_hook([&](const Tensor& g) {
    ++calls;
    seen = g.item();
    return mul(g, 3.0);
  });
  Tensor y = x;
  for (int i = 0; i < 1000000; ++i) y = add(y, 1.0);
  EXPECT_DOUBLE_EQ(y.item(), 1000000.0);
  y.backward();
  EXPECT_EQ(calls, 1);
  EXPECT_DOUBLE_EQ(seen, 1.0);
  EXPECT_DOUBLE_EQ(x.grad().item(), 3.0);
}

}  // namespace
