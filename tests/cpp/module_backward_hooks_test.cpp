// Module full backward hooks (register_full_backward_pre_hook / register_full_backward_hook): torch's
// call order through a Sequential, the gradients they see, replacements and their shape check,
// removal, no_grad, and modules owned by a shared_ptr that dies before backward or by the stack.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "nn/layers.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::nn;
using namespace chainrule::test_util;

std::shared_ptr<Sequential> mlp() {
  manual_seed(0);
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(3, 4), std::make_shared<ReLU>(), std::make_shared<Linear>(4, 2)});
}

// An input with both signs, so some ReLU units are off and some on.
Tensor Input(bool requires_grad) {
  manual_seed(1);
  Tensor x = randn({5, 3});
  return requires_grad ? x.set_requires_grad() : x;
}

// Logs "pre <name>" and "bwd <name>" (with "-" when grad_input is undefined) on m.
void Watch(Module& m, const std::string& name, std::vector<std::string>& log) {
  m.register_full_backward_pre_hook([&log, name](Module&, const Tensor&) {
    log.push_back("pre " + name);
    return Tensor();
  });
  m.register_full_backward_hook([&log, name](Module&, const Tensor& gi, const Tensor&) {
    log.push_back("bwd " + name + (gi.defined() ? "" : " -"));
    return Tensor();
  });
}

void WatchAll(Sequential& net, std::vector<std::string>& log) {
  Watch(net, "", log);
  for (auto& [name, m] : net.named_children()) Watch(*m, name, log);
}

TEST(ModuleBackwardHooks, TorchsOrderWhenTheInputNeedsNoGrad) {
  auto net = mlp();
  std::vector<std::string> log;
  WatchAll(*net, log);
  EXPECT_TRUE(net->has_hooks());
  Tensor y = (*net)(Input(false));
  EXPECT_TRUE(log.empty());  // nothing in forward
  sum(y).backward();
  // Without an input gradient, a module's hook runs right after its pre-hook (torch: grad_input (None,)).
  EXPECT_EQ(log, (std::vector<std::string>{"pre ", "bwd  -", "pre 2", "bwd 2", "pre 1", "bwd 1", "pre 0",
                                           "bwd 0 -"}));
}

TEST(ModuleBackwardHooks, TorchsOrderWhenTheInputRequiresGrad) {
  auto net = mlp();
  std::vector<std::string> log;
  WatchAll(*net, log);
  Tensor x = Input(true);
  sum((*net)(x)).backward();
  // The container's grad_input (with respect to x) is known only after every child ran.
  EXPECT_EQ(log,
            (std::vector<std::string>{"pre ", "pre 2", "bwd 2", "pre 1", "bwd 1", "pre 0", "bwd 0", "bwd "}));
  ASSERT_TRUE(x.grad().defined());
}

TEST(ModuleBackwardHooks, HooksSeeTheGradientsAtTheModulesBoundary) {
  auto net = mlp();
  Tensor x = Input(true);
  Tensor relu_in, go2, gi2, go1, gi1, gi_seq;
  net->module("1")->register_forward_hook([&](Module&, const Tensor& in, const Tensor&) {
    relu_in = in.detach();
    return Tensor();
  });
  net->module("2")->register_full_backward_pre_hook([&](Module&, const Tensor& go) {
    go2 = go;
    return Tensor();
  });
  net->module("2")->register_full_backward_hook([&](Module&, const Tensor& gi, const Tensor& go) {
    gi2 = gi;
    EXPECT_EQ(go.impl(), go2.impl());  // the same grad_output as the pre-hook saw
    return Tensor();
  });
  net->module("1")->register_full_backward_hook([&](Module&, const Tensor& gi, const Tensor& go) {
    gi1 = gi;
    go1 = go;
    return Tensor();
  });
  net->register_full_backward_hook([&](Module&, const Tensor& gi, const Tensor&) {
    gi_seq = gi;
    return Tensor();
  });
  sum((*net)(x)).backward();
  // d sum / d output = ones
  ASSERT_TRUE(go2.defined());
  EXPECT_TRUE(Near(go2, {5, 2}, std::vector<double>(10, 1.0)));
  // Linear 2's grad_input = ones · W2 (each row the column sums of W2)
  Tensor w2 = net->module("2")->parameter("weight");
  ASSERT_TRUE(gi2.defined());
  EXPECT_TRUE(allclose(gi2, matmul(ones({5, 2}), w2)));
  // ReLU: grad_output is Linear 2's grad_input; grad_input masks it where the ReLU's input is <= 0
  EXPECT_EQ(go1.to_vector(), gi2.to_vector());
  ASSERT_TRUE(gi1.defined() && relu_in.defined());
  std::vector<double> in = relu_in.to_vector(), g = go1.to_vector(), want(g.size());
  int off = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    want[i] = in[i] > 0 ? g[i] : 0.0;
    off += in[i] <= 0;
  }
  EXPECT_GT(off, 0);  // the mask does something
  EXPECT_LT(off, 20);
  EXPECT_EQ(gi1.shape(), (Shape{5, 4}));
  EXPECT_EQ(gi1.to_vector(), want);
  // the container's grad_input is x.grad
  ASSERT_TRUE(gi_seq.defined());
  EXPECT_EQ(gi_seq.to_vector(), x.grad().to_vector());
}

TEST(ModuleBackwardHooks, ReturnedGradInputReplacesTheGradient) {
  auto net = mlp();
  Tensor x = Input(true);
  sum((*net)(x)).backward();
  std::vector<double> plain = x.grad().to_vector();
  std::vector<double> plain_w0 = net->module("0")->parameter("weight").grad().to_vector();
  std::vector<double> plain_w2 = net->module("2")->parameter("weight").grad().to_vector();
  net->zero_grad();
  x.set_grad(Tensor());
  RemovableHandle h = net->module("1")->register_full_backward_hook(
      [](Module&, const Tensor& gi, const Tensor&) { return gi * 3.0; });
  sum((*net)(x)).backward();
  std::vector<double> got = x.grad().to_vector(),
                      got_w0 = net->module("0")->parameter("weight").grad().to_vector();
  ASSERT_EQ(got.size(), plain.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], 3 * plain[i], 1e-5) << i;
  for (size_t i = 0; i < got_w0.size(); ++i) EXPECT_NEAR(got_w0[i], 3 * plain_w0[i], 1e-5) << i;
  EXPECT_EQ(net->module("2")->parameter("weight").grad().to_vector(), plain_w2);  // after the ReLU: untouched
  // removed: back to the plain gradient
  h.remove();
  EXPECT_FALSE(net->module("1")->has_hooks());
  x.set_grad(Tensor());
  sum((*net)(x)).backward();
  EXPECT_EQ(x.grad().to_vector(), plain);
}

TEST(ModuleBackwardHooks, ReturnedGradOutputReplacesTheGradientAndHooksChain) {
  auto net = mlp();
  Tensor x = Input(true);
  sum((*net)(x)).backward();
  std::vector<double> plain = x.grad().to_vector();
  x.set_grad(Tensor());
  Module& last = *net->module("2");
  Tensor seen_by_hook;
  last.register_full_backward_pre_hook([](Module&, const Tensor& go) { return go * 2.0; });
  last.register_full_backward_pre_hook([](Module&, const Tensor& go) { return go * 5.0; });  // sees 2·go
  last.register_full_backward_hook([&](Module&, const Tensor&, const Tensor& go) {
    seen_by_hook = go;
    return Tensor();
  });
  sum((*net)(x)).backward();
  EXPECT_TRUE(Near(seen_by_hook, {5, 2}, std::vector<double>(10, 10.0)));
  std::vector<double> got = x.grad().to_vector();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], 10 * plain[i], 1e-4) << i;
}

TEST(ModuleBackwardHooks, AWrongShapeReplacementNamesTheModuleAndBothShapes) {
  auto net = mlp();
  Tensor x = Input(true);
  RemovableHandle h = net->module("1")->register_full_backward_hook(
      [](Module&, const Tensor&, const Tensor&) { return ones({3}); });
  std::string msg = Thrown<std::runtime_error>([&] { sum((*net)(x)).backward(); });
  EXPECT_EQ(msg,
            "ReLU: a full backward hook returned a grad_input of shape (3,) for an input of shape (5, 4)");
  h.remove();
  net->module("2")->register_full_backward_pre_hook([](Module&, const Tensor&) { return ones({2, 5}); });
  msg = Thrown<std::runtime_error>([&] { sum((*net)(x)).backward(); });
  EXPECT_EQ(msg,
            "Linear: a full backward pre-hook returned a grad_output of shape (2, 5) for an output of shape "
            "(5, 2)");
}

TEST(ModuleBackwardHooks, ARemovedHookDoesNotRunAndHasHooksFollows) {
  auto net = mlp();
  Module& relu = *net->module("1");
  EXPECT_FALSE(relu.has_hooks());
  int pre = 0, bwd = 0;
  RemovableHandle hp = relu.register_full_backward_pre_hook([&](Module&, const Tensor&) {
    ++pre;
    return Tensor();
  });
  RemovableHandle hb = relu.register_full_backward_hook([&](Module&, const Tensor&, const Tensor&) {
    ++bwd;
    return Tensor();
  });
  EXPECT_TRUE(relu.has_hooks());
  sum((*net)(Input(false))).backward();
  EXPECT_EQ(pre, 1);
  EXPECT_EQ(bwd, 1);
  hp.remove();
  EXPECT_TRUE(relu.has_hooks());
  sum((*net)(Input(false))).backward();
  EXPECT_EQ(pre, 1);
  EXPECT_EQ(bwd, 2);
  hb.remove();
  EXPECT_FALSE(relu.has_hooks());
  // no hooks left: the call records no identity nodes (as many nodes as a plain forward)
  uint64_t before = autograd::next_node_seq();
  Tensor y = (*net)(Input(false));
  uint64_t with_call = autograd::next_node_seq() - before;
  before = autograd::next_node_seq();
  net->forward(Input(false));
  EXPECT_EQ(with_call, autograd::next_node_seq() - before);
  sum(y).backward();
  EXPECT_EQ(bwd, 2);
}

TEST(ModuleBackwardHooks, NoHookRunsAndNoNodeIsRecordedUnderNoGrad) {
  auto net = mlp();
  std::vector<std::string> log;
  WatchAll(*net, log);
  Tensor x = Input(true);
  uint64_t before = autograd::next_node_seq();
  Tensor y;
  {
    NoGradGuard no_grad;
    y = (*net)(x);
  }
  EXPECT_EQ(autograd::next_node_seq(), before);
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(sum(y).backward(), std::runtime_error);
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(allclose(y, net->forward(x)));  // same values as without hooks
}

// As torch's BackwardHook: the graph keeps a hooked module alive, so its hooks still run after the
// last other owner is gone, and the module goes when the graph does.
TEST(ModuleBackwardHooks, AModuleReleasedBeforeBackwardStillRunsItsHooks) {
  auto net = mlp();
  Tensor x = Input(true);
  sum((*net)(x)).backward();
  std::vector<double> plain = x.grad().to_vector();
  x.set_grad(Tensor());
  std::vector<std::string> log;
  WatchAll(*net, log);
  net->module("1")->register_full_backward_hook(
      [](Module&, const Tensor& gi, const Tensor&) { return gi * 3.0; });
  Tensor y = (*net)(x);
  std::weak_ptr<Module> relu = net->module("1");
  net.reset();
  ASSERT_FALSE(relu.expired());  // held by the graph
  sum(y).backward();
  EXPECT_EQ(log.size(), 8u);  // pre and hook of '', '2', '1', '0'
  std::vector<double> got = x.grad().to_vector();
  ASSERT_EQ(got.size(), plain.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], 3 * plain[i], 1e-6 * (1 + std::abs(plain[i])));  // float32
  y = Tensor();
  EXPECT_TRUE(relu.expired());  // the graph was the last owner
}

// With create_graph the gradient a hook saw has a graph that reaches back to the module's output;
// the call state lets go of it after the hooks ran, so nothing keeps the model (or the graph) alive.
TEST(ModuleBackwardHooks, CreateGraphLeavesNoCycle) {
  auto net = mlp();
  std::weak_ptr<Module> watch = net;
  net->register_full_backward_pre_hook([](Module&, const Tensor&) { return Tensor(); });
  net->register_full_backward_hook([](Module&, const Tensor&, const Tensor&) { return Tensor(); });
  {
    Tensor x = Input(true);
    Tensor y = (*net)(x);
    auto g = autograd::grad({sum(y * y)}, {x}, {}, std::nullopt, /*create_graph=*/true);
    EXPECT_TRUE(g[0].requires_grad());
  }
  net.reset();
  EXPECT_TRUE(watch.expired());
}

TEST(ModuleBackwardHooks, AStackOwnedModuleWorks) {
  manual_seed(0);
  Linear lin(3, 2);
  ReLU relu;
  std::vector<std::string> log;
  Watch(lin, "lin", log);
  Watch(relu, "relu", log);
  relu.register_full_backward_hook([](Module&, const Tensor& gi, const Tensor&) { return gi * 2.0; });
  Tensor x = Input(true);
  Tensor h = lin(x);
  Tensor y = relu(h);
  sum(y).backward();
  EXPECT_EQ(log, (std::vector<std::string>{"pre relu", "bwd relu", "pre lin", "bwd lin"}));
  // x.grad = 2 · (h > 0) W
  std::vector<double> hv = h.to_vector();
  std::vector<double> mask(hv.size());
  for (size_t i = 0; i < hv.size(); ++i) mask[i] = hv[i] > 0 ? 2.0 : 0.0;
  Tensor want = matmul(tensor(mask, {5, 2}), lin.weight().detach());
  EXPECT_TRUE(allclose(x.grad(), want)) << x.grad() << want;
}

TEST(ModuleBackwardHooks, TheHookedOutputIsAnIdentityNodeOverTheForwardsResult) {
  auto net = mlp();
  Module& relu = *net->module("1");
  relu.register_full_backward_hook([](Module&, const Tensor&, const Tensor&) { return Tensor(); });
  Tensor x = Input(false);
  Tensor y = relu((*net->module("0"))(x));
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->name(), "BackwardHookFunctionBackward0");
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.to_vector(), relu.forward((*net->module("0"))(x)).to_vector());
}

// Core bug (reported, not fixed here): the identity nodes are recorded over x.detach(), whose
// untracked_by ("detach") stays on the tracked result, so why_no_grad's suspects list would say the
// module's output "came from .detach()".
TEST(ModuleBackwardHooks, TheHookedOutputIsTrackedSoUntrackedByIsNull) {
  auto net = mlp();
  net->register_full_backward_hook([](Module&, const Tensor&, const Tensor&) { return Tensor(); });
  Tensor y = (*net)(Input(true));
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.impl()->untracked_by, nullptr) << "untracked_by = " << y.impl()->untracked_by;
}

}  // namespace
