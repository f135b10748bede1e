// The learning-rate schedulers. Arithmetic follows PyTorch's Python expressions term by term (same
// order of operations, libm's pow and cos), so the lr sequences are equal, not just close.
#include "optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace chainrule::optim {

namespace {
constexpr double kPi = 3.141592653589793;  // math.pi

int64_t py_mod(int64_t a, int64_t b) {  // Python's %: the sign of the divisor
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
int64_t py_floordiv(int64_t a, int64_t b) { return (a - py_mod(a, b)) / b; }
}  // namespace

// ---------------------------------------------------------------- LRScheduler
LRScheduler::LRScheduler(Optimizer& optimizer, int64_t last_epoch, std::string name)
    : optimizer_(optimizer), name_(std::move(name)), last_epoch_(last_epoch) {
  auto& groups = optimizer.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    Options& o = groups[i].options;
    if (last_epoch == -1) {
      if (!o.has("initial_lr")) o.set("initial_lr", o.number("lr"));
    } else {
      CR_CHECK(o.has("initial_lr"), std::invalid_argument, name_,
               ": expected 'initial_lr' in param "
               "group ",
               i,
               " when resuming with last_epoch >= 0 (load the optimizer's state dict "
               "first), got none");
    }
    base_lrs_.push_back(o.number("initial_lr"));
  }
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  is_initial_ = true;
  try {
    step();
  } catch (...) {
    is_initial_ = false;
    throw;
  }
  is_initial_ = false;
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> out;
  for (const auto& g : optimizer_.param_groups()) out.push_back(g.lr());
  return out;
}

void LRScheduler::apply(const std::vector<double>& lrs) {
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].set_lr(lrs[i]);
  last_lr_ = group_lrs();
}

void LRScheduler::check_groups() const {
  CR_CHECK(optimizer_.param_groups().size() == base_lrs_.size(), std::runtime_error, name_, ": expected ",
           base_lrs_.size(), " param groups (one per base lr, as when the scheduler was made), got ",
           optimizer_.param_groups().size(), "; make a new scheduler after add_param_group");
}

void LRScheduler::step() {
  check_groups();
  ++step_count_;
  ++last_epoch_;
  apply(get_lr());
}

void LRScheduler::step(int64_t epoch) {
  check_groups();
  ++step_count_;
  last_epoch_ = epoch;
  std::vector<double> lrs;
  if (!closed_form_lr(lrs)) lrs = get_lr();
  apply(lrs);
}

// ---------------------------------------------------------------- StepLR
StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "StepLR"), step_size_(step_size), gamma_(gamma) {
  CR_CHECK(step_size >= 1, std::invalid_argument, "StepLR: expected step_size >= 1, got ", step_size);
  initial_step();
}

std::vector<double> StepLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch() == 0 || py_mod(last_epoch(), step_size_) != 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

bool StepLR::closed_form_lr(std::vector<double>& out) const {
  out.clear();
  for (double b : base_lrs())
    out.push_back(b * std::pow(gamma_, static_cast<double>(py_floordiv(last_epoch(), step_size_))));
  return true;
}

// ---------------------------------------------------------------- MultiStepLR
MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma,
                         int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "MultiStepLR"), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step();
}

std::vector<double> MultiStepLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  auto n = std::count(milestones_.begin(), milestones_.end(), last_epoch());
  if (n == 0) return lrs;
  for (double& lr : lrs) lr = lr * std::pow(gamma_, static_cast<double>(n));
  return lrs;
}

bool MultiStepLR::closed_form_lr(std::vector<double>& out) const {
  auto k = std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch()) - milestones_.begin();
  out.clear();
  for (double b : base_lrs()) out.push_back(b * std::pow(gamma_, static_cast<double>(k)));
  return true;
}

// ---------------------------------------------------------------- ExponentialLR
ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "ExponentialLR"), gamma_(gamma) {
  initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial()) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

bool ExponentialLR::closed_form_lr(std::vector<double>& out) const {
  out.clear();
  for (double b : base_lrs()) out.push_back(b * std::pow(gamma_, static_cast<double>(last_epoch())));
  return true;
}

// ---------------------------------------------------------------- CosineAnnealingLR
CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "CosineAnnealingLR"), T_max_(T_max), eta_min_(eta_min) {
  CR_CHECK(T_max >= 1, std::invalid_argument, "CosineAnnealingLR: expected T_max >= 1, got ", T_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial()) return lrs;
  const double t = static_cast<double>(last_epoch()), T = static_cast<double>(T_max_);
  const auto& base = base_lrs();
  if (step_count() == 1 && last_epoch() > 0) {  // resumed: jump straight to the closed form
    closed_form_lr(lrs);
  } else if (py_mod(last_epoch() - 1 - T_max_, 2 * T_max_) == 0) {
    // At the bottom the recursion would divide 0 by 0: add the first step of the way back up.
    for (size_t i = 0; i < lrs.size(); ++i)
      lrs[i] = lrs[i] + (base[i] - eta_min_) * (1 - std::cos(kPi / T)) / 2;
  } else {
    for (double& lr : lrs)
      lr = (1 + std::cos(kPi * t / T)) / (1 + std::cos(kPi * (t - 1) / T)) * (lr - eta_min_) + eta_min_;
  }
  return lrs;
}

bool CosineAnnealingLR::closed_form_lr(std::vector<double>& out) const {
  const double t = static_cast<double>(last_epoch()), T = static_cast<double>(T_max_);
  out.clear();
  for (double b : base_lrs()) out.push_back(eta_min_ + (b - eta_min_) * (1 + std::cos(kPi * t / T)) / 2);
  return true;
}

// ---------------------------------------------------------------- LambdaLR
LambdaLR::LambdaLR(Optimizer& optimizer, Lambda lr_lambda, int64_t last_epoch)
    : LambdaLR(optimizer, std::vector<Lambda>(optimizer.param_groups().size(), lr_lambda), last_epoch) {}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<Lambda> lr_lambdas, int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch, "LambdaLR"), lambdas_(std::move(lr_lambdas)) {
  CR_CHECK(lambdas_.size() == optimizer.param_groups().size(), std::invalid_argument, "LambdaLR: expected ",
           optimizer.param_groups().size(), " lr_lambdas (one per param group), got ", lambdas_.size());
  for (size_t i = 0; i < lambdas_.size(); ++i)
    CR_CHECK(static_cast<bool>(lambdas_[i]), std::invalid_argument,
             "LambdaLR: expected a function for "
             "group ",
             i, ", got an empty one");
  initial_step();
}

std::vector<double> LambdaLR::get_lr() {
  std::vector<double> lrs;
  const auto& base = base_lrs();
  for (size_t i = 0; i < lambdas_.size(); ++i) lrs.push_back(base[i] * lambdas_[i](last_epoch()));
  return lrs;
}

// ---------------------------------------------------------------- ReduceLROnPlateau
ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options)
    : optimizer_(optimizer), o_(std::move(options)) {
  CR_CHECK(o_.factor < 1.0, std::invalid_argument, "ReduceLROnPlateau: expected factor < 1.0, got ",
           o_.factor);
  CR_CHECK(o_.mode == "min" || o_.mode == "max", std::invalid_argument,
           "ReduceLROnPlateau: expected mode 'min' or 'max', got '", o_.mode, "'");
  CR_CHECK(o_.threshold_mode == "rel" || o_.threshold_mode == "abs", std::invalid_argument,
           "ReduceLROnPlateau: expected threshold_mode 'rel' or 'abs', got '", o_.threshold_mode, "'");
  const size_t n = optimizer.param_groups().size();
  if (o_.min_lrs.empty()) {
    min_lrs_.assign(n, o_.min_lr);
  } else {
    CR_CHECK(o_.min_lrs.size() == n, std::invalid_argument, "ReduceLROnPlateau: expected ", n,
             " min_lrs (one per param group), got ", o_.min_lrs.size());
    min_lrs_ = o_.min_lrs;
  }
  best =
      o_.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  record_lrs();
}

void ReduceLROnPlateau::record_lrs() {
  last_lr_.clear();
  for (const auto& g : optimizer_.param_groups()) last_lr_.push_back(g.lr());
}

bool ReduceLROnPlateau::is_better(double a, double b) const {
  if (o_.mode == "min" && o_.threshold_mode == "rel") return a < b * (1.0 - o_.threshold);
  if (o_.mode == "min") return a < b - o_.threshold;
  if (o_.threshold_mode == "rel") return a > b * (o_.threshold + 1.0);
  return a > b + o_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  last_epoch += 1;
  if (is_better(metric, best)) {
    best = metric;
    num_bad_epochs = 0;
  } else {
    num_bad_epochs += 1;
  }
  if (in_cooldown()) {
    cooldown_counter -= 1;
    num_bad_epochs = 0;  // bad epochs during the cooldown don't count
  }
  if (num_bad_epochs > o_.patience) {
    reduce_lr();
    cooldown_counter = o_.cooldown;
    num_bad_epochs = 0;
  }
  record_lrs();
}

void ReduceLROnPlateau::reduce_lr() {
  auto& groups = optimizer_.param_groups();
  if (groups.size() != min_lrs_.size()) {
    CR_CHECK(o_.min_lrs.empty(), std::runtime_error, "ReduceLROnPlateau: expected ", min_lrs_.size(),
             " param groups (one per min_lr), got ", groups.size(), "; set min_lrs for the new groups");
    min_lrs_.assign(groups.size(), o_.min_lr);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const double old_lr = groups[i].lr();
    const double scaled = old_lr * o_.factor;
    const double new_lr = min_lrs_[i] > scaled ? min_lrs_[i] : scaled;  // Python's max(scaled, min)
    if (old_lr - new_lr > o_.eps) groups[i].set_lr(new_lr);
  }
}

}  // namespace chainrule::optim
