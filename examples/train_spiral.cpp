// The CS231n spiral case study in C++: a softmax linear classifier (~49-53% training accuracy) and
// a 2-layer ReLU network (~98%), trained by full-batch gradient descent with the course's settings.
// Usage: train_spiral [steps for the network, default 10000]. Exits 1 if the network misses 95%.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "nn/functional.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "optim/optimizer.h"

using namespace chainrule;
namespace F = chainrule::nn::functional;

// Class j: radius evenly over [0, 1], angle evenly over [4j, 4(j+1)] plus N(0, 0.2^2) noise.
static std::pair<Tensor, Tensor> make_spiral(int64_t n, int64_t classes) {
  std::vector<Tensor> xs, ys;
  for (int64_t j = 0; j < classes; ++j) {
    Tensor r = linspace(0.0, 1.0, n);
    Tensor t = linspace(4.0 * j, 4.0 * (j + 1), n) + randn({n}) * 0.2;
    xs.push_back(stack({r * sin(t), r * cos(t)}, 1));
    ys.push_back(full({n}, j, kInt64));
  }
  return {cat(xs), cat(ys)};
}

// Weights ~ 0.01 N(0, 1), biases 0, as in the course notes.
static void course_init(nn::Module& model) {
  for (auto& [name, p] : model.named_parameters())
    name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0 ? nn::init::normal_(p, 0.0, 0.01)
                                                                        : nn::init::zeros_(p);
}

static double train(nn::Module& model, const Tensor& X, const Tensor& y, int steps, const char* label) {
  std::vector<Tensor> weights;
  for (auto& [name, p] : model.named_parameters())
    if (name.find("weight") != std::string::npos) weights.push_back(p);
  optim::SGD opt(model.parameters(), optim::SGDOptions(1.0));
  const double reg = 1e-3;
  Tensor loss;
  for (int step = 0; step < steps; ++step) {
    loss = F::cross_entropy(model(X), y) + F::l2_penalty(weights) * (0.5 * reg);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step % (steps / 5) == 0) std::printf("  %s step %5d  loss %.4f\n", label, step, loss.item());
  }
  NoGradGuard no_grad;
  double accuracy = mean(eq(argmax(model(X), 1), y).to(kFloat32)).item();
  std::printf("%s: loss %.4f, training accuracy %.2f%%\n", label, loss.item(), 100 * accuracy);
  return accuracy;
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 10000;
  manual_seed(0);
  auto [X, y] = make_spiral(100, 3);

  nn::Linear linear(2, 3);
  course_init(linear);
  train(linear, X, y, 200, "softmax linear classifier");

  auto net = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(2, 100), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(100, 3)});
  course_init(*net);
  double accuracy = train(*net, X, y, steps, "2-layer network (100 ReLU units)");
  return accuracy >= 0.95 ? 0 : 1;
}
