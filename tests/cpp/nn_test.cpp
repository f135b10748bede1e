// nn::Module and the layers from C++: registration and lookup errors, names and order of
// parameters, shared submodules, train/eval, zero_grad, state dicts (strict errors, failed loads
// leave the module unchanged, parameters keep their identity), printing, each layer's forward
// against the op it wraps or a hand computation, and a small training loop with optim::SGD.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/ops_nn.h"
#include "nn/functional.h"
#include "nn/layers.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;
using nn::Module;

std::vector<std::string> names(const nn::StateDict& sd) {
  std::vector<std::string> out;
  for (const auto& [k, v] : sd) out.push_back(k);
  return out;
}

// A model written as a C++ class: its own parameter and buffer, a Sequential and a Linear.
struct Net : Module {
  Net() : Module("Net") {
    scale = register_parameter("scale", ones({3}));
    register_buffer("steps", zeros({}, kInt64));
    body = register_module("body", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<Module>>{
                                       std::make_shared<nn::Linear>(4, 6), std::make_shared<nn::ReLU>(),
                                       std::make_shared<nn::BatchNorm1d>(6)}));
    head = register_module("head", std::make_shared<nn::Linear>(6, 3));
  }
  Tensor forward(const Tensor& x) override { return head->forward(body->forward(x)) * scale; }
  Tensor scale;
  std::shared_ptr<nn::Sequential> body;
  std::shared_ptr<nn::Linear> head;
};

// ---------------------------------------------------------------- registration and lookup
TEST(NnModule, RegistrationAndLookup) {
  Module m("Box");
  Tensor w = m.register_parameter("w", zeros({2, 3}));
  EXPECT_TRUE(w.requires_grad());  // a parameter always requires grad
  EXPECT_TRUE(m.has_parameter("w"));
  EXPECT_EQ(m.parameter("w").impl(), w.impl());
  m.register_buffer("b", ones({2}));
  EXPECT_TRUE(m.has_buffer("b"));
  EXPECT_FALSE(m.buffer("b").requires_grad());
  auto child = std::make_shared<nn::Linear>(2, 2);
  EXPECT_EQ(m.register_module("fc", child), child);
  EXPECT_EQ(m.module("fc"), child);
  EXPECT_FALSE(m.has_module("w"));
  EXPECT_FALSE(m.has_parameter("fc"));

  EXPECT_TRUE(Contains(Thrown<std::out_of_range>([&] { m.parameter("v"); }), "Box has no parameter \"v\""));
  EXPECT_TRUE(Contains(Thrown<std::out_of_range>([&] { m.buffer("v"); }), "Box has no buffer \"v\""));
  EXPECT_TRUE(Contains(Thrown<std::out_of_range>([&] { m.module("v"); }), "Box has no submodule \"v\""));
  EXPECT_TRUE(
      Contains(Thrown<std::out_of_range>([&] { child->parameter("w"); }), "Linear has no parameter \"w\""));
  EXPECT_TRUE(
      Contains(Thrown<std::invalid_argument>([&] { m.register_parameter("a.b", zeros({1})); }), "a.b"));
  EXPECT_TRUE(
      Contains(Thrown<std::invalid_argument>([&] { m.register_buffer("", zeros({1})); }), "non-empty"));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { m.register_module("x.y", child); }), "x.y"));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { m.register_parameter("i", zeros({1}, kInt64)); }),
                       "float32 or float64"));
  auto self = std::make_shared<Module>("Self");
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { self->register_module("me", self); }), "itself"));
}

TEST(NnModule, ReRegisteringReplacesInPlace) {
  Module m("M");
  m.register_parameter("a", zeros({1}));
  m.register_parameter("b", zeros({2}));
  Tensor a2 = m.register_parameter("a", zeros({5}));
  EXPECT_EQ(names(m.named_parameters()), (std::vector<std::string>{"a", "b"}));  // keeps its place
  EXPECT_EQ(m.parameter("a").impl(), a2.impl());
  EXPECT_EQ(m.parameter("a").shape(), (Shape{5}));
  m.register_module("c", std::make_shared<nn::Linear>(1, 1));
  m.register_module("c", std::make_shared<nn::ReLU>());
  EXPECT_EQ(m.children().size(), 1u);
  EXPECT_EQ(m.module("c")->type_name(), "ReLU");
  m.register_parameter("b", Tensor());  // "no parameter" (like bias=False)
  EXPECT_EQ(names(m.named_parameters()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(names(m.state_dict()), (std::vector<std::string>{"a"}));
}

TEST(NnModule, NonLeafParameterIsDetached) {
  Module m;
  Tensor x = tensor({1.0, 2.0}, kFloat32, true);
  Tensor y = x * 2.0;
  Tensor p = m.register_parameter("p", y);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(p.grad_fn(), nullptr);
  expect_values(p, {2.0, 4.0});
}

TEST(NnModule, ForwardNotImplementedNamesTheModule) {
  Module m("MyModel");
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { m.forward(ones({1})); }),
                       "MyModel: forward is not implemented"));
  nn::ModuleList list;
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { list(ones({1})); }), "ModuleList"));
}

// ---------------------------------------------------------------- traversal
TEST(NnModule, NamedParametersOrderAndDottedNames) {
  auto owned = std::make_shared<Net>();
  Net& net = *owned;
  // own parameters first, then each child's in registration order (as PyTorch)
  EXPECT_EQ(names(net.named_parameters()),
            (std::vector<std::string>{"scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                                      "head.weight", "head.bias"}));
  EXPECT_EQ(names(net.named_parameters(false)), (std::vector<std::string>{"scale"}));
  EXPECT_EQ(net.parameters().size(), 7u);
  EXPECT_EQ(net.parameters()[1].impl(), net.body->operator[](0)->parameter("weight").impl());
  EXPECT_EQ(names(net.named_buffers()),
            (std::vector<std::string>{"steps", "body.2.running_mean", "body.2.running_var",
                                      "body.2.num_batches_tracked"}));
  EXPECT_EQ(names(net.state_dict()),
            (std::vector<std::string>{"scale", "steps", "body.0.weight", "body.0.bias", "body.2.weight",
                                      "body.2.bias", "body.2.running_mean", "body.2.running_var",
                                      "body.2.num_batches_tracked", "head.weight", "head.bias"}));
  auto nm = net.named_modules();
  std::vector<std::string> mod_names;
  for (auto& [n, m] : nm) mod_names.push_back(n + ":" + m->type_name());
  EXPECT_EQ(mod_names, (std::vector<std::string>{":Net", "body:Sequential", "body.0:Linear", "body.1:ReLU",
                                                 "body.2:BatchNorm1d", "head:Linear"}));
  ASSERT_EQ(net.children().size(), 2u);
  EXPECT_EQ(net.children()[0], net.body);
  EXPECT_EQ(net.named_children()[1].first, "head");
}

TEST(NnModule, SharedSubmoduleAndParameterCountedOnce) {
  auto shared = std::make_shared<nn::Linear>(2, 2);
  auto owned = std::make_shared<nn::Sequential>(
      std::vector<std::shared_ptr<Module>>{shared, std::make_shared<nn::Tanh>(), shared});
  nn::Sequential& seq = *owned;
  EXPECT_EQ(names(seq.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(seq.parameters().size(), 2u);
  EXPECT_EQ(seq.named_modules().size(), 3u);  // "", "0", "1"
  // the same tensor registered in two modules
  Module a("A");
  auto b = std::make_shared<Module>("B");
  Tensor w = a.register_parameter("w", zeros({3}));
  b->register_parameter("w_again", w);
  a.register_module("b", b);
  EXPECT_EQ(names(a.named_parameters()), (std::vector<std::string>{"w"}));
  // the shared Linear is called twice: its gradient accumulates both uses
  Tensor x = ones({1, 2});
  seq(x).sum().backward();
  EXPECT_TRUE(shared->weight().grad().defined());
}

// named_modules() of a module that no shared_ptr owns (a plain local, or the root of a Python model)
TEST(NnModule, NamedModulesOfModuleNotOwnedBySharedPtr) {
  nn::Sequential seq(std::vector<std::shared_ptr<Module>>{std::make_shared<nn::ReLU>()});
  std::vector<std::string> got;
  for (auto& [n, m] : seq.named_modules()) got.push_back(n);
  EXPECT_EQ(got, (std::vector<std::string>{"", "0"}));
}

TEST(NnModule, TrainEvalPropagates) {
  auto owned = std::make_shared<Net>();
  Net& net = *owned;
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (auto& [n, m] : net.named_modules()) EXPECT_FALSE(m->is_training()) << n;
  net.train();
  for (auto& [n, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << n;
  net.body->train(false);
  EXPECT_TRUE(net.is_training());
  EXPECT_FALSE(net.body->operator[](2)->is_training());
}

TEST(NnModule, ZeroGradSetsGradsUndefined) {
  Net net;
  net.forward(randn({5, 4})).sum().backward();
  for (auto& [n, p] : net.named_parameters()) EXPECT_TRUE(p.grad().defined()) << n;
  net.zero_grad();
  for (auto& [n, p] : net.named_parameters()) EXPECT_FALSE(p.grad().defined()) << n;
}

// ---------------------------------------------------------------- state dicts
TEST(NnModule, StateDictIsDetachedAndShared) {
  nn::Linear lin(2, 3);
  nn::StateDict sd = lin.state_dict();
  ASSERT_EQ(names(sd), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_FALSE(sd[0].second.requires_grad());
  EXPECT_EQ(sd[0].second.raw_data(), lin.weight().raw_data());  // same memory, as torch
}

TEST(NnModule, LoadStateDictStrictErrors) {
  nn::Sequential src(std::vector<std::shared_ptr<Module>>{std::make_shared<nn::Linear>(2, 3),
                                                          std::make_shared<nn::BatchNorm1d>(3)});
  nn::Sequential dst(std::vector<std::shared_ptr<Module>>{std::make_shared<nn::Linear>(2, 3),
                                                          std::make_shared<nn::BatchNorm1d>(3)});
  nn::StateDict sd = src.state_dict();
  nn::StateDict bad;
  for (auto& [k, v] : sd)
    if (k != "0.bias") bad.emplace_back(k, v);
  bad.emplace_back("2.weight", zeros({1}));
  std::vector<double> before = dst.state_dict()[0].second.to_vector();
  std::string msg = Thrown<std::invalid_argument>([&] { dst.load_state_dict(bad); });
  EXPECT_TRUE(StartsWith(msg, "load_state_dict: keys don't match Sequential"));
  EXPECT_TRUE(Contains(msg, "missing: \"0.bias\""));
  EXPECT_TRUE(Contains(msg, "unexpected: \"2.weight\""));
  EXPECT_EQ(dst.state_dict()[0].second.to_vector(), before);  // nothing copied
  // strict=false: the matching keys are loaded, the others ignored / left alone
  std::vector<double> bias_before = dst.state_dict()[1].second.to_vector();
  dst.load_state_dict(bad, false);
  EXPECT_EQ(dst.state_dict()[0].second.to_vector(), sd[0].second.to_vector());
  EXPECT_EQ(dst.state_dict()[1].second.to_vector(), bias_before);
}

TEST(NnModule, LoadStateDictShapeMismatchLeavesModuleUnchanged) {
  nn::Sequential m(std::vector<std::shared_ptr<Module>>{std::make_shared<nn::Linear>(2, 3),
                                                        std::make_shared<nn::Linear>(3, 1)});
  nn::StateDict before;
  for (auto& [k, v] : m.state_dict()) before.emplace_back(k, v.clone());
  // the first keys are fine, the last one has the wrong shape: nothing may be copied
  nn::StateDict sd = {{"0.weight", full({3, 2}, 7.0)},
                      {"0.bias", full({3}, 7.0)},
                      {"1.weight", full({1, 3}, 7.0)},
                      {"1.bias", full({2}, 7.0)}};
  for (bool strict : {true, false}) {
    std::string msg = Thrown<std::invalid_argument>([&] { m.load_state_dict(sd, strict); });
    EXPECT_TRUE(Contains(msg, "\"1.bias\" has shape (2,) in the checkpoint but (1,) in the model")) << msg;
    nn::StateDict after = m.state_dict();
    for (size_t i = 0; i < after.size(); ++i)
      EXPECT_EQ(after[i].second.to_vector(), before[i].second.to_vector()) << after[i].first;
  }
}

TEST(NnModule, LoadStateDictKeepsIdentityAndCastsDtype) {
  auto lin = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential m(std::vector<std::shared_ptr<Module>>{lin});
  TensorImpl* w_impl = lin->weight().impl();
  void* w_data = lin->weight().raw_data();
  optim::SGD opt(m.parameters(), optim::SGDOptions(1.0));
  m.load_state_dict(
      {{"0.weight", tensor({1, 2, 3, 4}, {2, 2}, kFloat64)}, {"0.bias", tensor({0.5, -0.5}, kFloat64)}});
  EXPECT_EQ(m.parameters()[0].impl(), w_impl);
  EXPECT_EQ(lin->weight().raw_data(), w_data);
  EXPECT_EQ(lin->weight().dtype(), kFloat32);
  EXPECT_TRUE(lin->weight().requires_grad());
  expect_values(lin->weight(), {1, 2, 3, 4});
  // the optimizer made before the load still updates the model's weight: d/dW sum(x W^T) = 1
  m.forward(ones({1, 2})).sum().backward();
  opt.step();
  expect_values(lin->weight(), {0, 1, 2, 3});
  expect_values(lin->bias(), {-0.5, -1.5});
  // buffers load too (int64 counter included)
  nn::BatchNorm1d bn(2);
  bn.load_state_dict({{"weight", ones({2})},
                      {"bias", zeros({2})},
                      {"running_mean", full({2}, 3.0)},
                      {"running_var", full({2}, 4.0)},
                      {"num_batches_tracked", scalar_tensor(5, kInt64)}});
  expect_values(bn.running_mean(), {3, 3});
  EXPECT_EQ(bn.num_batches_tracked().item(), 5);
  EXPECT_EQ(bn.num_batches_tracked().dtype(), kInt64);
}

// ---------------------------------------------------------------- printing
TEST(NnModule, ReprOfNestedSequentialAsTorch) {
  auto seq = nn::Sequential(std::vector<std::shared_ptr<Module>>{
      std::make_shared<nn::Linear>(2, 16), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<Module>>{
          std::make_shared<nn::Linear>(16, 16, false), std::make_shared<nn::Tanh>()}),
      std::make_shared<nn::Dropout>(0.25),
      std::make_shared<nn::Conv2d>(3, 8, std::make_pair(3, 3), std::make_pair(2, 2), std::make_pair(1, 1))});
  // exactly what print(torch.nn.Sequential(...)) shows for the same layers
  EXPECT_EQ(seq.repr(),
            "Sequential(\n"
            "  (0): Linear(in_features=2, out_features=16, bias=True)\n"
            "  (1): ReLU()\n"
            "  (2): Sequential(\n"
            "    (0): Linear(in_features=16, out_features=16, bias=False)\n"
            "    (1): Tanh()\n"
            "  )\n"
            "  (3): Dropout(p=0.25, inplace=False)\n"
            "  (4): Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))\n"
            ")");
  EXPECT_EQ(nn::Sequential().repr(), "Sequential()");
  EXPECT_EQ(Net().repr().substr(0, 22), "Net(\n  (body): Sequent");
  EXPECT_EQ(nn::LeakyReLU(0.2).repr(), "LeakyReLU(negative_slope=0.2)");
  EXPECT_EQ(nn::Flatten().repr(), "Flatten(start_dim=1, end_dim=-1)");
  EXPECT_EQ(nn::LayerNorm({4}).repr(), "LayerNorm((4,), eps=1e-05, elementwise_affine=True)");
}

// ---------------------------------------------------------------- layers
TEST(NnLayers, LinearMatchesLinearOpAndInit) {
  manual_seed(3);
  nn::Linear lin(3, 2);
  EXPECT_EQ(lin.weight().shape(), (Shape{2, 3}));
  EXPECT_EQ(lin.bias().shape(), (Shape{2}));
  double bound = 1 / std::sqrt(3.0);
  for (double v : lin.weight().to_vector()) EXPECT_LE(std::abs(v), bound);
  for (double v : lin.bias().to_vector()) EXPECT_LE(std::abs(v), bound);
  Tensor x = randn({4, 3});
  EXPECT_EQ(lin(x).to_vector(), linear(x, lin.weight(), lin.bias()).to_vector());
  Tensor x3 = randn({2, 5, 3});
  EXPECT_EQ(lin(x3).shape(), (Shape{2, 5, 2}));
  nn::Linear nobias(3, 2, false);
  EXPECT_FALSE(nobias.bias().defined());
  EXPECT_EQ(nobias.parameters().size(), 1u);
  EXPECT_TRUE(Near(nobias(x), {4, 2}, matmul(x, nobias.weight().t()).to_vector(), 1e-6));
  nn::Linear dbl(3, 2, true, kFloat64);
  EXPECT_EQ(dbl.weight().dtype(), kFloat64);
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { lin(randn({4, 5})); }),
                       "Linear: expected input (..., 3), got (4, 5)"));
  EXPECT_THROW(nn::Linear(2, 2, true, kInt64), std::invalid_argument);
}

TEST(NnLayers, SequentialForwardComposes) {
  auto l1 = std::make_shared<nn::Linear>(3, 4);
  auto l2 = std::make_shared<nn::Linear>(4, 2);
  nn::Sequential seq(std::vector<std::shared_ptr<Module>>{l1, std::make_shared<nn::Tanh>(), l2});
  Tensor x = randn({5, 3});
  EXPECT_TRUE(Near(seq(x), {5, 2}, l2->forward(tanh(l1->forward(x))).to_vector(), 0));
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[-1], l2);
  EXPECT_TRUE(Contains(Thrown<std::out_of_range>([&] { seq[3]; }), "index 3 is out of range for 3 modules"));
  EXPECT_THROW(seq.push_back(nullptr), std::invalid_argument);
  nn::Sequential empty_seq;
  EXPECT_EQ(empty_seq(x).impl(), x.impl());  // no modules: the input itself
}

TEST(NnLayers, DropoutTrainAndEval) {
  manual_seed(11);
  nn::Dropout d(0.25);
  Tensor x = ones({100000});
  std::vector<double> y = d(x).to_vector();
  int64_t zeros_n = 0;
  for (double v : y) {
    if (v == 0) ++zeros_n;
    else EXPECT_NEAR(v, 1 / 0.75, 1e-6);
  }
  EXPECT_NEAR(zeros_n / 100000.0, 0.25, 0.01);
  d.eval();
  Tensor r = randn({3, 4});
  EXPECT_EQ(d(r).to_vector(), r.to_vector());
  EXPECT_EQ(nn::Dropout(0.0)(r).to_vector(), r.to_vector());
  for (double v : nn::Dropout(1.0)(r).to_vector()) EXPECT_EQ(v, 0.0);
  EXPECT_THROW(nn::Dropout(1.5), std::invalid_argument);
}

TEST(NnLayers, BatchNorm1dOneTrainingStepByHand) {
  nn::BatchNorm1d bn(2, 1e-5, 0.1);
  // x (4, 2): feature 0 = 1, 2, 3, 4; feature 1 = 2, 2, 6, 6
  Tensor x = tensor({1, 2, 2, 2, 3, 6, 4, 6}, {4, 2}, kFloat64);
  bn.load_state_dict({{"weight", tensor({2.0, 1.0})},
                      {"bias", tensor({0.0, 1.0})},
                      {"running_mean", zeros({2})},
                      {"running_var", ones({2})},
                      {"num_batches_tracked", scalar_tensor(0, kInt64)}});
  nn::BatchNorm1d bn64(2, 1e-5, 0.1, true, true, kFloat64);
  bn64.load_state_dict(bn.state_dict());
  Tensor y = bn64(x);
  // means 2.5 and 4; biased variances 1.25 and 4; unbiased 5/3 and 16/3
  double s0 = std::sqrt(1.25 + 1e-5), s1 = std::sqrt(4 + 1e-5);
  EXPECT_TRUE(Near(y, {4, 2},
                   {2 * -1.5 / s0, 1 - 2 / s1, 2 * -0.5 / s0, 1 - 2 / s1, 2 * 0.5 / s0, 1 + 2 / s1,
                    2 * 1.5 / s0, 1 + 2 / s1},
                   1e-12));
  EXPECT_TRUE(Near(bn64.running_mean(), {2}, {0.1 * 2.5, 0.1 * 4}, 1e-12));
  EXPECT_TRUE(Near(bn64.running_var(), {2}, {0.9 + 0.1 * 5.0 / 3, 0.9 + 0.1 * 16.0 / 3}, 1e-12));
  EXPECT_EQ(bn64.num_batches_tracked().item(), 1);
  // eval uses the running stats and leaves them alone
  bn64.eval();
  Tensor ye = bn64(x);
  double rv0 = 0.9 + 0.1 * 5.0 / 3;
  EXPECT_NEAR(ye.at({0, 0}), 2 * (1 - 0.25) / std::sqrt(rv0 + 1e-5), 1e-12);
  EXPECT_EQ(bn64.num_batches_tracked().item(), 1);
  EXPECT_TRUE(Near(bn64.running_mean(), {2}, {0.25, 0.4}, 1e-12));
  // (N, C, L) input: statistics over N and L
  nn::BatchNorm1d bn3(2, 1e-5, 0.5, true, true, kFloat64);
  Tensor x3 = tensor({1, 3, 10, 10, 5, 7, 20, 30}, {2, 2, 2}, kFloat64);
  bn3(x3);
  EXPECT_TRUE(Near(bn3.running_mean(), {2}, {0.5 * 4, 0.5 * 17.5}, 1e-12));
  EXPECT_THROW(bn(randn({3, 5})), std::invalid_argument);
}

TEST(NnLayers, BatchNorm1dOptions) {
  nn::BatchNorm1d noaffine(3, 1e-5, 0.1, false);
  EXPECT_TRUE(noaffine.parameters().empty());
  EXPECT_EQ(names(noaffine.state_dict()),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  nn::BatchNorm1d notrack(3, 1e-5, 0.1, true, false);
  EXPECT_EQ(names(notrack.state_dict()), (std::vector<std::string>{"weight", "bias"}));
  notrack.eval();
  Tensor y = notrack(randn({16, 3}) * 3.0 + 5.0);  // batch statistics even in eval
  for (double m : mean(y, {0}).to_vector()) EXPECT_NEAR(m, 0, 1e-5);
}

TEST(NnLayers, LayerNormMatchesFunctional) {
  nn::LayerNorm ln({3, 4});
  EXPECT_EQ(ln.weight().shape(), (Shape{3, 4}));
  Tensor x = randn({2, 3, 4});
  EXPECT_EQ(ln(x).to_vector(), nn::functional::layer_norm(x, {3, 4}, ln.weight(), ln.bias()).to_vector());
  Tensor y = ln(x);
  for (double m : mean(y, {1, 2}).to_vector()) EXPECT_NEAR(m, 0, 1e-6);
}

TEST(NnLayers, Conv2dShapesAndValues) {
  manual_seed(5);
  nn::Conv2d conv(3, 4, {3, 3}, {2, 2}, {1, 1});
  EXPECT_EQ(conv.weight().shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(conv.bias().shape(), (Shape{4}));
  double bound = 1 / std::sqrt(27.0);
  for (double v : conv.weight().to_vector()) EXPECT_LE(std::abs(v), bound);
  Tensor x = randn({2, 3, 7, 6});
  Tensor y = conv(x);
  EXPECT_EQ(y.shape(), (Shape{2, 4, 4, 3}));  // (7 + 2 - 3) / 2 + 1, (6 + 2 - 3) / 2 + 1
  EXPECT_EQ(y.to_vector(), conv2d(x, conv.weight(), conv.bias(), {2, 2}, {1, 1}).to_vector());
  nn::Conv2d rect(2, 1, {2, 3}, {1, 1}, {0, 0}, false);
  EXPECT_FALSE(rect.bias().defined());
  EXPECT_EQ(rect(randn({1, 2, 5, 5})).shape(), (Shape{1, 1, 4, 3}));
  // one output element by hand: a 1x1 kernel is a weighted sum over channels plus the bias
  nn::Conv2d one(2, 1, {1, 1}, {1, 1}, {0, 0}, true, kFloat64);
  one.load_state_dict({{"weight", tensor({2.0, -1.0}, {1, 2, 1, 1})}, {"bias", tensor({0.5})}});
  Tensor xi = tensor({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2}, kFloat64);
  EXPECT_TRUE(Near(one(xi), {1, 1, 2, 2}, {2 - 5 + 0.5, 4 - 6 + 0.5, 6 - 7 + 0.5, 8 - 8 + 0.5}));
  EXPECT_THROW(nn::Conv2d(0, 1, {1, 1}), std::invalid_argument);
}

TEST(NnLayers, PoolsFlattenActivations) {
  nn::MaxPool2d mp({2, 2});
  EXPECT_EQ(mp.stride, (std::pair<int64_t, int64_t>{2, 2}));  // stride defaults to the kernel size
  Tensor x = arange(0, 16, 1, kFloat64).reshape({1, 1, 4, 4});
  EXPECT_TRUE(Near(mp(x), {1, 1, 2, 2}, {5, 7, 13, 15}));
  EXPECT_TRUE(Near(nn::AvgPool2d({2, 2})(x), {1, 1, 2, 2}, {2.5, 4.5, 10.5, 12.5}));
  EXPECT_EQ(nn::Flatten()(randn({2, 3, 4})).shape(), (Shape{2, 12}));
  EXPECT_EQ(nn::Flatten(0, 1)(randn({2, 3, 4})).shape(), (Shape{6, 4}));
  Tensor v = tensor({-2.0, 0.5}, kFloat64);
  EXPECT_TRUE(Near(nn::ReLU()(v), {2}, {0, 0.5}));
  EXPECT_TRUE(Near(nn::LeakyReLU(0.1)(v), {2}, {-0.2, 0.5}));
  EXPECT_TRUE(Near(nn::Sigmoid()(v), {2}, {1 / (1 + std::exp(2.0)), 1 / (1 + std::exp(-0.5))}));
  EXPECT_TRUE(Near(nn::Tanh()(v), {2}, {std::tanh(-2.0), std::tanh(0.5)}));
  EXPECT_TRUE(Near(nn::Softplus()(v), {2}, {std::log1p(std::exp(-2.0)), std::log1p(std::exp(0.5))}));
  // x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2
  EXPECT_TRUE(Near(nn::GELU()(v), {2},
                   {-2 * 0.5 * std::erfc(2 / std::sqrt(2.0)), 0.5 * 0.5 * std::erfc(-0.5 / std::sqrt(2.0))}));
  EXPECT_TRUE(Near(nn::Softmax(0)(v), {2}, {1 / (1 + std::exp(2.5)), 1 / (1 + std::exp(-2.5))}));
  EXPECT_TRUE(Near(nn::LogSoftmax(-1)(v), {2}, {-std::log1p(std::exp(2.5)), -std::log1p(std::exp(-2.5))}));
  EXPECT_EQ(nn::Identity()(v).impl(), v.impl());
  EXPECT_THROW(nn::GELU("fast"), std::invalid_argument);
}

// ---------------------------------------------------------------- training
TEST(NnTraining, TwoLayerNetLearnsWithSgd) {
  manual_seed(0);
  // two classes on a circle: inside r < 1 vs outside, 64 points
  Tensor x = randn({64, 2}, kFloat32) * 1.2;
  std::vector<double> xv = x.to_vector(), labels;
  for (int i = 0; i < 64; ++i)
    labels.push_back(xv[2 * i] * xv[2 * i] + xv[2 * i + 1] * xv[2 * i + 1] < 1.0 ? 0 : 1);
  Tensor y = tensor(labels, {64}, kInt64);
  nn::Sequential model(std::vector<std::shared_ptr<Module>>{std::make_shared<nn::Linear>(2, 16),
                                                            std::make_shared<nn::Tanh>(),
                                                            std::make_shared<nn::Linear>(16, 2)});
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.1).momentum(0.9));
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    Tensor loss = nn::functional::cross_entropy(model(x), y);
    loss.backward();
    opt.step();
    if (step == 0) first = loss.item();
    last = loss.item();
  }
  EXPECT_GT(first, 0.5);
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
  // training accuracy
  NoGradGuard no_grad;
  std::vector<double> logits = model(x).to_vector();
  int correct = 0;
  for (int i = 0; i < 64; ++i) correct += ((logits[2 * i + 1] > logits[2 * i]) ? 1 : 0) == labels[i];
  EXPECT_GE(correct, 56);
}

}  // namespace

TEST(NnModule, ToDtypeCastsInPlaceKeepingIdentity) {
  auto net = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::BatchNorm1d>(3)});
  std::vector<Tensor> before = net->parameters();
  Tensor x = randn({4, 2});
  Tensor y32 = (*net)(x);
  net->to(kFloat64);
  std::vector<Tensor> after = net->parameters();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].impl(), after[i].impl());
    EXPECT_EQ(after[i].dtype(), kFloat64);
  }
  EXPECT_EQ(net->state_dict().back().second.dtype(), kInt64);  // num_batches_tracked stays
  Tensor y64 = (*net)(x.to(kFloat64));
  EXPECT_NEAR(y64.at(0), y32.at(0), 1e-6);
  EXPECT_THROW(net->to(kInt64), std::invalid_argument);
}

TEST(NnModule, CloneIsDeepAndKeepsSharing) {
  auto lin = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential seq(std::vector<std::shared_ptr<Module>>{lin, std::make_shared<nn::ReLU>(), lin});
  seq.eval();
  auto copy = seq.clone();
  EXPECT_FALSE(copy->is_training());
  EXPECT_EQ(copy->module("0"), copy->module("2"));  // a child shared under two names stays shared
  EXPECT_NE(copy->module("0"), seq.module("0"));
  Tensor w = copy->named_parameters()[0].second, w0 = lin->weight();
  EXPECT_NE(w.impl(), w0.impl());
  EXPECT_EQ(w.to_vector(), w0.to_vector());
  EXPECT_TRUE(w.requires_grad());
  w.detach().fill_(0.0);
  EXPECT_NE(w0.to_vector(), w.to_vector());
  EXPECT_EQ(copy->repr(), seq.repr());
}
