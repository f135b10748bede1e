// Checkpoints in C++: train a small regression network with Adam, save the model and the optimizer,
// load them into fresh objects and go on training, exactly as if never interrupted. The files are
// the ones Python's cr.save / cr.load read and write (and torch reads the model's).
// Usage:
//   checkpoint                          train 5 steps, save, resume 3 steps; exit 1 unless that equals
//                                       8 uninterrupted steps
//   checkpoint train DIR [STEPS]        train from a seeded init, save DIR/model.safetensors and
//                                       DIR/optimizer.safetensors
//   checkpoint resume DIR OUT [STEPS]   load DIR's checkpoint, train STEPS more (default 3), save to OUT
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "io/checkpoint.h"
#include "nn/functional.h"
#include "nn/layers.h"
#include "optim/optimizer.h"

using namespace chainrule;
namespace F = chainrule::nn::functional;

// The network and its optimizer: 3 -> 8 -> 2 with tanh, Adam with its betas changed (so that a
// checkpoint must carry them), seeded so every run starts from the same weights.
struct Run {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> opt;
  Run() {
    manual_seed(0);
    model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(3, 8), std::make_shared<nn::Tanh>(),
        std::make_shared<nn::Linear>(8, 2)});
    opt = std::make_unique<optim::Adam>(model->parameters(),
                                        optim::AdamOptions(0.01).betas({0.8, 0.99}).amsgrad(true));
  }

  // Full-batch steps on fixed data (no randomness, so Python can repeat them exactly).
  void train(int steps) {
    Tensor X = linspace(-1.0, 1.0, 30).reshape({10, 3});
    Tensor Y = linspace(0.0, 1.0, 20).reshape({10, 2});
    for (int i = 0; i < steps; ++i) {
      Tensor loss = F::mse_loss((*model)(X), Y);
      opt->zero_grad();
      loss.backward();
      opt->step();
      std::printf("  step %d  loss %.6f\n", i, loss.item());
    }
  }

  void save_to(const std::filesystem::path& dir) const {
    std::filesystem::create_directories(dir);
    chainrule::save(*model, (dir / "model.safetensors").string());
    chainrule::save(*opt, (dir / "optimizer.safetensors").string());
  }
  void load_from(const std::filesystem::path& dir) {
    chainrule::load(*model, (dir / "model.safetensors").string());
    chainrule::load(*opt, (dir / "optimizer.safetensors").string());
  }
};

// 5 steps, save, 3 more steps in fresh objects loaded from the files == 8 steps in one go.
static int self_check() {
  auto dir = std::filesystem::temp_directory_path() / ("chainrule_checkpoint_" + std::to_string(::getpid()));
  Run straight;
  std::printf("8 steps without interruption:\n");
  straight.train(8);
  Run first, second;
  std::printf("5 steps, save, load into a fresh model and optimizer, 3 steps:\n");
  first.train(5);
  first.save_to(dir);
  second.load_from(dir);
  second.train(3);
  std::filesystem::remove_all(dir);
  auto a = straight.model->state_dict(), b = second.model->state_dict();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].second.to_vector() != b[i].second.to_vector()) {
      std::printf("FAILED: %s differs after resuming\n", a[i].first.c_str());
      return 1;
    }
  }
  std::printf("resumed training matches uninterrupted training exactly\n");
  return 0;
}

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode.empty()) return self_check();
    if (mode == "train" && argc >= 3) {
      Run run;
      run.train(argc > 3 ? std::atoi(argv[3]) : 5);
      run.save_to(argv[2]);
      return 0;
    }
    if (mode == "resume" && argc >= 4) {
      Run run;
      run.load_from(argv[2]);
      std::printf("loaded %s (Adam at step %.0f)\n", argv[2],
                  run.opt->state_dict().state.at(0).get("step").item());
      run.train(argc > 4 ? std::atoi(argv[4]) : 3);
      run.save_to(argv[3]);
      return 0;
    }
    std::fprintf(stderr, "usage: %s [train DIR [STEPS] | resume DIR OUT [STEPS]]\n", argv[0]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint: %s\n", e.what());
  }
  return 1;
}
