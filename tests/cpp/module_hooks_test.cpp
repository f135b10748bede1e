// Module forward hooks: pre-hooks and hooks around forward, in torch's order through a Sequential
// (containers call their children with operator()), replacing inputs and outputs, and removal.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/ops.h"
#include "nn/layers.h"

namespace {
using namespace chainrule;
using namespace chainrule::nn;

std::shared_ptr<Sequential> mlp() {
  manual_seed(0);
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(3, 4), std::make_shared<ReLU>(), std::make_shared<Linear>(4, 2)});
}

TEST(ModuleHooks, RunAroundForwardInTorchsOrder) {
  auto net = mlp();
  std::vector<std::string> log;
  auto watch = [&log](Module& m, const std::string& name) {
    m.register_forward_pre_hook([&log, name](Module&, const Tensor&) {
      log.push_back("pre " + name);
      return Tensor();
    });
    m.register_forward_hook([&log, name](Module&, const Tensor&, const Tensor& y) {
      log.push_back("fwd " + name + " " + std::to_string(y.size(-1)));
      return Tensor();
    });
  };
  watch(*net, "seq");
  for (auto& [name, m] : net->named_children()) watch(*m, name);
  (*net)(ones({5, 3}));
  EXPECT_EQ(log, (std::vector<std::string>{"pre seq", "pre 0", "fwd 0 4", "pre 1", "fwd 1 4", "pre 2",
                                           "fwd 2 2", "fwd seq 2"}));
  log.clear();
  net->forward(ones({5, 3}));  // forward itself skips the container's own hooks, as torch
  EXPECT_EQ(log.front(), "pre 0");
}

TEST(ModuleHooks, ReplaceInputAndOutputAndRemove) {
  auto net = mlp();
  Module& act = *net->module("1");
  Tensor x = ones({5, 3});
  Tensor direct = net->forward(x);
  RemovableHandle h =
      act.register_forward_hook([](Module&, const Tensor&, const Tensor& y) { return zeros_like(y); });
  Tensor y = (*net)(x);  // ReLU gives zeros: the output is the last layer's bias
  Tensor bias = net->module("2")->parameter("bias");
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 2; ++j) EXPECT_FLOAT_EQ(y.at({i, j}), bias.at({j}));
  h.remove();
  h.remove();  // again: nothing
  EXPECT_TRUE(allclose((*net)(x), direct));
  RemovableHandle p =
      net->module("0")->register_forward_pre_hook([](Module&, const Tensor& in) { return mul(in, 0.0); });
  EXPECT_TRUE(
      allclose((*net)(x), (*net->module("2"))(act(net->module("0")->parameter("bias").expand({5, 4})))));
  p.remove();
  EXPECT_TRUE(allclose((*net)(x), direct));
  EXPECT_FALSE(net->has_hooks());
}

}  // namespace
