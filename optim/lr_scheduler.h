// Learning-rate schedulers (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR,
// ReduceLROnPlateau): PyTorch 2.13's rules, computed in the same order so the values are equal.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace chainrule::optim {

// Call step() once per epoch, after the optimizer's step(). Like PyTorch's, the schedulers are
// "chainable": each step computes the new lr from the group's current lr (so schedulers compose and
// a manual change of a group's lr carries on), except LambdaLR, which scales base_lrs.
// Constructing one records each group's "initial_lr" (base_lrs) and performs step 0.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  void step();               // epoch last_epoch + 1, by the chainable rule
  void step(int64_t epoch);  // jump to `epoch`: the closed form where there is one (PyTorch: deprecated)

  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  int64_t step_count() const { return step_count_; }
  // For load_state_dict (PyTorch restores these attributes).
  void set_last_epoch(int64_t e) { last_epoch_ = e; }
  void set_base_lrs(std::vector<double> b) { base_lrs_ = std::move(b); }
  void set_last_lr(std::vector<double> l) { last_lr_ = std::move(l); }
  void set_step_count(int64_t c) { step_count_ = c; }

 protected:
  // name: for messages. last_epoch = -1 starts fresh; >= 0 resumes and needs each group's
  // "initial_lr" (restored with the optimizer's state).
  LRScheduler(Optimizer& optimizer, int64_t last_epoch, std::string name);
  void initial_step();  // derived constructors end with it (a base constructor can't call get_lr)
  virtual std::vector<double> get_lr() = 0;
  // The lr at last_epoch from base_lrs alone; false when there is none.
  virtual bool closed_form_lr(std::vector<double>&) const { return false; }
  std::vector<double> group_lrs() const;
  bool is_initial() const { return is_initial_; }
  const std::string& name() const { return name_; }

 private:
  void check_groups() const;  // the optimizer still has one group per base lr
  void apply(const std::vector<double>& lrs);
  Optimizer& optimizer_;
  std::string name_;
  int64_t last_epoch_;
  int64_t step_count_ = 0;
  bool is_initial_ = false;
  std::vector<double> base_lrs_, last_lr_;
};

// lr <- lr * gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1, int64_t last_epoch = -1);
  int64_t step_size() const { return step_size_; }
  double gamma() const { return gamma_; }

 protected:
  std::vector<double> get_lr() override;
  bool closed_form_lr(std::vector<double>& out) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr <- lr * gamma at each milestone epoch (gamma^k when a milestone is listed k times).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1,
              int64_t last_epoch = -1);
  const std::vector<int64_t>& milestones() const { return milestones_; }  // sorted
  double gamma() const { return gamma_; }

 protected:
  std::vector<double> get_lr() override;
  bool closed_form_lr(std::vector<double>& out) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr <- lr * gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma, int64_t last_epoch = -1);
  double gamma() const { return gamma_; }

 protected:
  std::vector<double> get_lr() override;
  bool closed_form_lr(std::vector<double>& out) const override;

 private:
  double gamma_;
};

// Closed form: lr_t = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2, a half cosine
// from base_lr down to eta_min at t = T_max (and back up after it: the cosine continues). step()
// uses PyTorch's recursive form, lr_t = eta_min + (lr_{t-1} - eta_min) (1 + cos(pi t/T)) /
// (1 + cos(pi (t-1)/T)), which equals it unless the lr was changed by hand, with PyTorch's special
// case at the turning points t = T_max + 1 (mod 2 T_max).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0.0, int64_t last_epoch = -1);
  int64_t T_max() const { return T_max_; }
  double eta_min() const { return eta_min_; }

 protected:
  std::vector<double> get_lr() override;
  bool closed_form_lr(std::vector<double>& out) const override;

 private:
  int64_t T_max_;
  double eta_min_;
};

// lr_t = base_lr * lambda(t), one function per group (or one for all).
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t)>;
  LambdaLR(Optimizer& optimizer, Lambda lr_lambda, int64_t last_epoch = -1);
  LambdaLR(Optimizer& optimizer, std::vector<Lambda> lr_lambdas, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  std::vector<Lambda> lambdas_;
};

// Watches a metric instead of the epoch count (step(metric) once per epoch) and multiplies every
// group's lr by factor when the metric hasn't improved for more than `patience` epochs, then waits
// `cooldown` epochs. "Improved" means below best * (1 - threshold) (mode "min", threshold_mode
// "rel"), below best - threshold ("abs"), or above best * (1 + threshold) / best + threshold in
// mode "max". Lrs never go below min_lr, and changes smaller than eps are skipped.
struct PlateauOptions {
  std::string mode = "min";
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  std::string threshold_mode = "rel";
  int64_t cooldown = 0;
  double min_lr = 0;            // for every group...
  std::vector<double> min_lrs;  // ...or one per group (overrides min_lr when not empty)
  double eps = 1e-8;
};

class ReduceLROnPlateau {
 public:
  explicit ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options = {});
  void step(double metric);
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  bool in_cooldown() const { return cooldown_counter > 0; }
  const PlateauOptions& options() const { return o_; }
  const std::vector<double>& min_lrs() const { return min_lrs_; }

  // The state, as PyTorch's attributes (public for state dicts).
  double best;  // best metric so far (+inf in mode "min" before the first step)
  int64_t num_bad_epochs = 0;
  int64_t cooldown_counter = 0;
  int64_t last_epoch = 0;
  std::vector<double> last_lr_;

 private:
  bool is_better(double a, double best) const;
  void reduce_lr();
  void record_lrs();  // last_lr_ <- the groups' lrs
  Optimizer& optimizer_;
  PlateauOptions o_;
  std::vector<double> min_lrs_;
};

}  // namespace chainrule::optim
