// The autograd engine: graph shapes (a + a, diamonds), accumulation, retain_graph, the freed-graph
// and in-place errors, retain_grad/detach, autograd::grad and higher derivatives (Hessians, HVPs),
// the 1,000,000-node chain, no leaks, and thread-local grad mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops.h"
#include "test_util.h"

namespace cr = chainrule;
using cr::Tensor;
using cr::test_util::expect_values;

namespace {

Tensor leaf(std::initializer_list<double> v) { return cr::tensor(v, cr::kFloat64, true); }

bool contains(const std::string& haystack, const std::string& needle) {
  std::string h = haystack, n = needle;
  auto low = [](std::string& s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  };
  low(h);
  low(n);
  return h.find(n) != std::string::npos;
}

}  // namespace

// ---- graph shapes ----

TEST(AutogradGraph, SameTensorTwiceGetsGradTwo) {
  Tensor a = leaf({1, 2, 3});
  (a + a).sum().backward();
  expect_values(a.grad(), {2, 2, 2});
}

TEST(AutogradGraph, DiamondSumsBothPaths) {
  // b = 2a, c = 3a, d = b*c = 6a^2  =>  dd/da = 12a
  Tensor a = leaf({1, -2});
  Tensor b = a * 2;
  Tensor c = a * 3;
  Tensor d = b * c;
  d.sum().backward();
  expect_values(a.grad(), {12, -24});
}

TEST(AutogradGraph, GradAccumulatesAcrossBackwardCalls) {
  Tensor x = leaf({1, 2});
  (x * 3).sum().backward();
  expect_values(x.grad(), {3, 3});
  (x * 3).sum().backward();
  expect_values(x.grad(), {6, 6});
}

TEST(AutogradGraph, SetGradUndefinedResetsAccumulation) {
  Tensor x = leaf({1, 2});
  (x * 3).sum().backward();
  (x * 3).sum().backward();
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
  (x * 5).sum().backward();
  expect_values(x.grad(), {5, 5});
}

TEST(AutogradGraph, NoGradBuildsNothing) {
  Tensor x = leaf({1, 2});
  Tensor y;
  {
    cr::NoGradGuard guard;
    y = cr::exp(x * 2 + 1).sum();
  }
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
}

TEST(AutogradGraph, InputsWithoutGradBuildNothing) {
  Tensor a = cr::tensor({1, 2}, cr::kFloat64);
  Tensor b = cr::tensor({3, 4}, cr::kFloat64);
  Tensor y = a * b;
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_FALSE(y.requires_grad());
}

TEST(AutogradGraph, GradFlowsOnlyToInputsThatRequireIt) {
  Tensor a = leaf({1, 2});
  Tensor b = cr::tensor({3, 4}, cr::kFloat64);
  (a * b).sum().backward();
  expect_values(a.grad(), {3, 4});
  EXPECT_FALSE(b.grad().defined());
}

// ---- backward: retain_graph, roots and explicit gradients ----

TEST(AutogradBackward, RetainGraphAllowsSecondBackward) {
  Tensor a = leaf({1, 2});
  Tensor b = leaf({3, 4});
  Tensor y = (a * b).sum();
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  expect_values(a.grad(), {6, 8});
  expect_values(b.grad(), {2, 4});
}

TEST(AutogradBackward, SecondBackwardThroughFreedGraphThrows) {
  Tensor a = leaf({1, 2});
  Tensor b = leaf({3, 4});
  Tensor y = (a * b).sum();
  y.backward();
  try {
    y.backward();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "retain_graph")) << e.what();
  }
}

TEST(AutogradBackward, NonScalarRootWithoutGradientThrows) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2;
  try {
    y.backward();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "scalar")) << e.what();
  }
}

TEST(AutogradBackward, NonScalarRootWithExplicitGradient) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2;
  y.backward(cr::tensor({1, 10, 100}, cr::kFloat64));
  expect_values(x.grad(), {2, 20, 200});
}

TEST(AutogradBackward, GradientShapeMismatchThrows) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2;
  EXPECT_ANY_THROW(y.backward(cr::ones({2}, cr::kFloat64)));
}

TEST(AutogradBackward, BackwardOnTensorWithoutGradThrows) {
  Tensor y = cr::tensor({1.0}, cr::kFloat64) * 2;
  EXPECT_THROW(y.sum().backward(), std::runtime_error);
}

TEST(AutogradBackward, InplaceModificationOfSavedInputThrows) {
  Tensor x = leaf({1, 2});
  Tensor w = leaf({3, 4});
  Tensor y = x * w;  // mul saves both inputs
  {
    cr::NoGradGuard guard;
    w.mul_(2);
  }
  try {
    y.sum().backward();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_TRUE(contains(msg, "in-place") || contains(msg, "inplace") || contains(msg, "modified")) << msg;
  }
}

TEST(AutogradBackward, InplaceModificationOfSavedOutputThrows) {
  Tensor x = leaf({0.5, 1});
  Tensor y = cr::exp(x);  // exp saves its output
  {
    cr::NoGradGuard guard;
    y.mul_(2);
  }
  EXPECT_THROW(y.sum().backward(), std::runtime_error);
}

// ---- leaves, non-leaves, retain_grad, detach, grad_fn ----

TEST(AutogradTensor, RetainGradGivesNonLeafGrad) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 3;
  h.retain_grad();
  (h * h).sum().backward();
  expect_values(h.grad(), {6, 12});   // 2h
  expect_values(x.grad(), {18, 36});  // 18x
}

TEST(AutogradTensor, NonLeafWithoutRetainGradHasNoGrad) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 3;
  (h * h).sum().backward();
  EXPECT_FALSE(h.grad().defined());
}

TEST(AutogradTensor, DetachHasNoHistoryAndSharesStorage) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 3;
  Tensor d = y.detach();
  EXPECT_EQ(d.grad_fn(), nullptr);
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.raw_data(), y.raw_data());
  d.data<double>()[0] = 42;
  EXPECT_EQ(y.at(0), 42.0);
}

TEST(AutogradTensor, GradFnNames) {
  Tensor x = leaf({1, 2});
  ASSERT_NE((x * x).grad_fn(), nullptr);
  EXPECT_EQ((x * x).grad_fn()->name(), "MulBackward0");
  EXPECT_EQ((x + x).grad_fn()->name(), "AddBackward0");
}

TEST(AutogradTensor, IsLeaf) {
  Tensor x = leaf({1, 2});
  Tensor plain = cr::tensor({1, 2});
  EXPECT_TRUE(x.is_leaf());
  EXPECT_TRUE(plain.is_leaf());
  EXPECT_FALSE((x * 2).is_leaf());
  EXPECT_TRUE((plain * 2).is_leaf());
}

TEST(AutogradTensor, NonLeafRequiresGradIfAnInputDoes) {
  Tensor x = leaf({1, 2});
  EXPECT_TRUE((x * cr::tensor({1, 1}, cr::kFloat64)).requires_grad());
}

TEST(AutogradTensor, SetRequiresGradOnNonLeafThrows) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2;
  EXPECT_ANY_THROW(y.set_requires_grad(false));
}

// ---- autograd::grad ----

TEST(AutogradGrad, ReturnsGradsWithoutTouchingDotGrad) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = (x * x).sum();
  std::vector<Tensor> g = cr::autograd::grad({y}, {x});
  ASSERT_EQ(g.size(), 1u);
  expect_values(g[0], {2, 4, 6});
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(g[0].requires_grad());
}

TEST(AutogradGrad, SeveralInputs) {
  Tensor a = leaf({1, 2});
  Tensor b = leaf({3, 5});
  std::vector<Tensor> g = cr::autograd::grad({(a * b).sum()}, {b, a});
  ASSERT_EQ(g.size(), 2u);
  expect_values(g[0], {1, 2});
  expect_values(g[1], {3, 5});
}

TEST(AutogradGrad, UnusedInputIsAnErrorByDefault) {
  Tensor x = leaf({1, 2});
  Tensor z = leaf({3, 4});
  Tensor y = (x * 2).sum();
  EXPECT_ANY_THROW(cr::autograd::grad({y}, {x, z}));
}

TEST(AutogradGrad, UnusedInputGivesUndefinedWithAllowUnused) {
  Tensor x = leaf({1, 2});
  Tensor z = leaf({3, 4});
  Tensor y = (x * 2).sum();
  std::vector<Tensor> g = cr::autograd::grad({y}, {x, z}, {}, false, false, /*allow_unused=*/true);
  ASSERT_EQ(g.size(), 2u);
  expect_values(g[0], {2, 2});
  EXPECT_FALSE(g[1].defined());
}

TEST(AutogradGrad, ExplicitGradOutputs) {
  Tensor x = leaf({1, 2});
  Tensor y = x * x;
  std::vector<Tensor> g = cr::autograd::grad({y}, {x}, {cr::tensor({1, -1}, cr::kFloat64)});
  expect_values(g[0], {2, -4});
}

TEST(AutogradGrad, CreateGraphRetainsGraphByDefault) {
  // As in PyTorch, retain_graph defaults to create_graph.
  Tensor x = leaf({1, 2});
  Tensor w = leaf({3, 4});
  Tensor y = (x * w).sum();
  std::vector<Tensor> g = cr::autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
  EXPECT_TRUE(g[0].requires_grad());
  EXPECT_NO_THROW(y.backward());
  expect_values(x.grad(), {3, 4});
}

// ---- higher derivatives ----

TEST(AutogradHigherOrder, DerivativesOfCubeAtTwo) {
  // y = x^3: y' = 3x^2 = 12, y'' = 6x = 12, y''' = 6 at x = 2
  Tensor x = cr::scalar_tensor(2.0, cr::kFloat64);
  x.set_requires_grad(true);
  Tensor y = x.pow(3);
  Tensor d1 = cr::autograd::grad({y}, {x}, {}, false, true)[0];
  EXPECT_NEAR(d1.item(), 12.0, 1e-12);
  Tensor d2 = cr::autograd::grad({d1}, {x}, {}, false, true)[0];
  EXPECT_NEAR(d2.item(), 12.0, 1e-12);
  Tensor d3 = cr::autograd::grad({d2}, {x})[0];
  EXPECT_NEAR(d3.item(), 6.0, 1e-12);
}

TEST(AutogradHigherOrder, SecondBackwardIntoDotGrad) {
  // backward(create_graph=true) leaves a differentiable .grad; y = x^3 -> x.grad = 3x^2.
  Tensor x = cr::scalar_tensor(2.0, cr::kFloat64);
  x.set_requires_grad(true);
  x.pow(3).backward(Tensor(), false, /*create_graph=*/true);
  Tensor g = x.grad();
  EXPECT_NEAR(g.item(), 12.0, 1e-12);
  ASSERT_TRUE(g.requires_grad());
  Tensor d2 = cr::autograd::grad({g}, {x})[0];
  EXPECT_NEAR(d2.item(), 12.0, 1e-12);
  x.set_grad(Tensor());  // breaks the x -> grad -> graph -> x cycle
}

TEST(AutogradHigherOrder, HessianVectorProduct) {
  // f(x) = sum(x^3) + x0*x1;  grad = (3x0^2 + x1, 3x1^2 + x0, 3x2^2)
  // H = [[6x0, 1, 0], [1, 6x1, 0], [0, 0, 6x2]]; at x = (1, 2, 3), v = (1, -1, 2):
  // Hv = (6 - 1, 1 - 12, 36) = (5, -11, 36)
  Tensor x = leaf({1, 2, 3});
  Tensor f = x.pow(3).sum() + x[0] * x[1];
  Tensor g = cr::autograd::grad({f}, {x}, {}, false, true)[0];
  expect_values(g, {5, 13, 27});
  Tensor v = cr::tensor({1, -1, 2}, cr::kFloat64);
  Tensor hv = cr::autograd::grad({(g * v).sum()}, {x})[0];
  expect_values(hv, {5, -11, 36});
}

namespace {

// A 2-3-1 tanh MLP with mean squared error, as a function of its first weight matrix.
Tensor mlp_loss(const Tensor& W1) {
  const cr::Dtype f64 = cr::kFloat64;
  Tensor x = cr::tensor({0.5, -1.0, 1.5, 0.3, -0.7, 0.8, 0.1, -0.2}, {4, 2}, f64);
  Tensor target = cr::tensor({0.3, -0.5, 0.9, 0.1}, {4, 1}, f64);
  Tensor b1 = cr::tensor({0.1, -0.2, 0.05}, f64, true);
  Tensor W2 = cr::tensor({0.7, -1.1, 0.4}, {1, 3}, f64, true);
  Tensor b2 = cr::tensor({0.2}, f64, true);
  Tensor h = cr::tanh(cr::linear(x, W1, b1));
  Tensor d = cr::linear(h, W2, b2) - target;
  return cr::mean(d * d);
}

std::vector<double> mlp_grad(const std::vector<double>& w1) {
  Tensor W1 = cr::tensor(w1, {3, 2}, cr::kFloat64, true);
  return cr::autograd::grad({mlp_loss(W1)}, {W1})[0].to_vector();
}

}  // namespace

TEST(AutogradHigherOrder, MlpHessianMatchesFiniteDifferences) {
  const std::vector<double> w0 = {0.3, -0.8, 1.2, 0.5, -0.4, 0.9};
  const size_t n = w0.size();
  const double eps = 1e-6;

  Tensor W1 = cr::tensor(w0, {3, 2}, cr::kFloat64, true);
  Tensor loss = mlp_loss(W1);
  Tensor g = cr::autograd::grad({loss}, {W1}, {}, true, /*create_graph=*/true)[0];
  ASSERT_TRUE(g.requires_grad());
  ASSERT_EQ(g.shape(), (cr::Shape{3, 2}));

  // Column j of the Hessian by central differences of the gradient.
  std::vector<std::vector<double>> fd(n);
  for (size_t j = 0; j < n; ++j) {
    std::vector<double> wp = w0, wm = w0;
    wp[j] += eps;
    wm[j] -= eps;
    std::vector<double> gp = mlp_grad(wp), gm = mlp_grad(wm);
    fd[j].resize(n);
    for (size_t i = 0; i < n; ++i) fd[j][i] = (gp[i] - gm[i]) / (2 * eps);
  }

  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    Tensor e = cr::zeros({3, 2}, cr::kFloat64);
    e.data<double>()[i] = 1.0;
    std::vector<double> row = cr::autograd::grad({g}, {W1}, {e}, /*retain_graph=*/true)[0].to_vector();
    ASSERT_EQ(row.size(), n);
    for (size_t j = 0; j < n; ++j) {
      EXPECT_NEAR(row[j], fd[j][i], 1e-6) << "H[" << i << "][" << j << "]";
      total += std::abs(row[j]);
    }
  }
  EXPECT_GT(total, 1e-2);  // not a vacuous all-zero Hessian
  EXPECT_FALSE(W1.grad().defined());
}

// ---- long chains ----

TEST(AutogradChain, MillionNodeChainBackward) {
  const int n = 1000000;
  const double k = 1.0000001;
  Tensor x = cr::tensor({1.0}, cr::kFloat64, true);
  {
    Tensor y = x;
    for (int i = 0; i < n; ++i) y = y * k;
    y.sum().backward();
    EXPECT_NEAR(y.item(), std::pow(k, n), 1e-6 * std::pow(k, n));
  }  // the chain is destroyed here: must not recurse once per node
  ASSERT_TRUE(x.grad().defined());
  const double expected = std::pow(k, n);
  EXPECT_NEAR(x.grad().item(), expected, 1e-6 * expected);
}

TEST(AutogradChain, MillionNodeChainWithSavedTensorsIsDestroyedWithoutBackward) {
  const int n = 1000000;
  Tensor x = cr::tensor({1.0}, cr::kFloat64, true);
  Tensor c = cr::tensor({1.0000001}, cr::kFloat64);
  std::weak_ptr<cr::Node> last;
  {
    Tensor y = x;
    for (int i = 0; i < n; ++i) y = y * c;  // every node saves the previous y (and c)
    last = y.grad_fn();
    EXPECT_FALSE(last.expired());
  }
  EXPECT_TRUE(last.expired());
}

// ---- no leaks: dropped graphs free their nodes (LeakSanitizer checks the rest) ----

TEST(AutogradMemory, DroppedGraphFreesNodesAndLeaves) {
  std::weak_ptr<cr::Node> node;
  std::weak_ptr<cr::TensorImpl> leaf_impl;
  {
    Tensor x = leaf({1, 2});
    Tensor y = (x * x + x).sum();
    node = y.grad_fn();
    leaf_impl = x.impl_ptr();
    ASSERT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired());
  EXPECT_TRUE(leaf_impl.expired());
}

TEST(AutogradMemory, SavedOutputDoesNotKeepItsNodeAlive) {
  // tanh, exp and sigmoid save their output; the saved alias must not own the node.
  const std::vector<std::function<Tensor(const Tensor&)>> ops = {
      [](const Tensor& t) { return cr::tanh(t); }, [](const Tensor& t) { return cr::exp(t); },
      [](const Tensor& t) { return cr::sigmoid(t); }};
  for (size_t k = 0; k < ops.size(); ++k) {
    std::weak_ptr<cr::Node> node;
    std::weak_ptr<cr::TensorImpl> out;
    {
      Tensor x = leaf({0.5, -1});
      Tensor y = ops[k](x);
      node = y.grad_fn();
      out = y.impl_ptr();
      ASSERT_FALSE(node.expired());
    }
    EXPECT_TRUE(node.expired()) << "op " << k;
    EXPECT_TRUE(out.expired()) << "op " << k;
  }
}

TEST(AutogradMemory, SavedOutputGraphFreedAfterRetainedBackward) {
  std::weak_ptr<cr::Node> node;
  {
    Tensor x = leaf({0.5, -1});
    Tensor y = cr::sigmoid(cr::exp(cr::tanh(x)));
    node = y.grad_fn();
    y.sum().backward(Tensor(), /*retain_graph=*/true);
  }
  EXPECT_TRUE(node.expired());
}

TEST(AutogradMemory, CreateGraphBackwardFreedAfterGradReset) {
  std::weak_ptr<cr::Node> forward_node, grad_node;
  std::weak_ptr<cr::TensorImpl> leaf_impl;
  {
    Tensor x = leaf({0.5, -1});
    Tensor y = cr::tanh(x).sum();
    y.backward(Tensor(), false, /*create_graph=*/true);
    ASSERT_NE(x.grad().grad_fn(), nullptr);
    forward_node = y.grad_fn();
    grad_node = x.grad().grad_fn();
    leaf_impl = x.impl_ptr();
    x.set_grad(Tensor());
  }
  EXPECT_TRUE(forward_node.expired());
  EXPECT_TRUE(grad_node.expired());
  EXPECT_TRUE(leaf_impl.expired());
}

TEST(AutogradMemory, TenThousandSmallGraphsAreAllFreed) {
  cr::manual_seed(0);
  std::vector<std::weak_ptr<cr::Node>> nodes;
  std::vector<std::weak_ptr<cr::TensorImpl>> impls;
  for (int i = 0; i < 10000; ++i) {
    Tensor x = cr::rand({4}, cr::kFloat64).set_requires_grad(true);
    Tensor w = cr::rand({4}, cr::kFloat64).set_requires_grad(true);
    Tensor y = (cr::tanh(x * w) + cr::exp(x) * cr::sigmoid(w)).sum();
    nodes.push_back(y.grad_fn());
    impls.push_back(x.impl_ptr());
    switch (i % 4) {
      case 0:  // dropped without backward
        break;
      case 1: y.backward(); break;
      case 2: {  // create_graph through autograd::grad, then a second derivative
        std::vector<Tensor> g = cr::autograd::grad({y}, {x, w}, {}, false, true);
        EXPECT_TRUE(cr::autograd::grad({g[0].sum()}, {x})[0].defined());
        impls.push_back(g[0].impl_ptr());
        break;
      }
      case 3:  // create_graph into .grad; resetting .grad breaks the leaf -> grad -> leaf cycle
        y.backward(Tensor(), false, true);
        nodes.push_back(x.grad().grad_fn());
        x.set_grad(Tensor());
        w.set_grad(Tensor());
        break;
    }
  }
  size_t alive = 0;
  for (const auto& n : nodes) alive += !n.expired();
  for (const auto& t : impls) alive += !t.expired();
  EXPECT_EQ(alive, 0u);
}

// ---- grad mode ----

TEST(AutogradGradMode, IsThreadLocal) {
  Tensor x = leaf({1, 2});
  cr::NoGradGuard guard;
  bool enabled_in_thread = false;
  bool graph_in_thread = false;
  std::thread t([&] {
    enabled_in_thread = cr::is_grad_enabled();
    graph_in_thread = (x * 2).grad_fn() != nullptr;
  });
  t.join();
  EXPECT_TRUE(enabled_in_thread);
  EXPECT_TRUE(graph_in_thread);
  EXPECT_FALSE(cr::is_grad_enabled());
  EXPECT_EQ((x * 2).grad_fn(), nullptr);
}

TEST(AutogradGradMode, DisablingInAThreadDoesNotAffectOthers) {
  std::thread t([] { cr::set_grad_enabled(false); });
  t.join();
  EXPECT_TRUE(cr::is_grad_enabled());
}

TEST(AutogradGradMode, NestedNoGradGuardsRestorePreviousState) {
  ASSERT_TRUE(cr::is_grad_enabled());
  {
    cr::NoGradGuard outer;
    EXPECT_FALSE(cr::is_grad_enabled());
    {
      cr::NoGradGuard inner;
      EXPECT_FALSE(cr::is_grad_enabled());
    }
    EXPECT_FALSE(cr::is_grad_enabled());
  }
  EXPECT_TRUE(cr::is_grad_enabled());
}

TEST(AutogradGradMode, AutoGradModeInsideNoGrad) {
  Tensor x = leaf({1, 2});
  cr::NoGradGuard outer;
  {
    cr::AutoGradMode enable(true);
    EXPECT_TRUE(cr::is_grad_enabled());
    EXPECT_NE((x * 2).grad_fn(), nullptr);
  }
  EXPECT_FALSE(cr::is_grad_enabled());
  EXPECT_EQ((x * 2).grad_fn(), nullptr);
}

// ---- gradcheck on a composed graph (the engine's sums, broadcasting and sum_to) ----

TEST(AutogradGradcheck, ComposedGraphWithBroadcasting) {
  cr::manual_seed(1);
  Tensor a = cr::randn({3, 1}, cr::kFloat64).set_requires_grad(true);
  Tensor b = cr::randn({1, 4}, cr::kFloat64).set_requires_grad(true);
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor p = in[0] * in[1];
    return cr::tanh(p + in[0]) * cr::sigmoid(p);
  };
  cr::GradcheckResult r = cr::gradcheck(fn, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
  cr::GradcheckResult rr = cr::gradgradcheck(fn, {a, b});
  EXPECT_TRUE(rr.ok) << rr.message;
}
