// Checkpoints, named as libtorch's: chainrule::save(model, path) / chainrule::load(model, path) and the
// same for optimizers, in safetensors files that Python's cr.save / cr.load (and torch) read too.
//
// A module's state dict is stored flat, one entry per tensor, so torch's
// model.load_state_dict(safetensors.torch.load_file(path)) works. An optimizer's state dict is
// stored as Python's cr.save stores any nested dict: its tensors under dotted names
// ("state.0.exp_avg") and the rest in __metadata__["chainrule.structure"], the JSON
//   {"version": 1, "root": {"dict": [["state", {"dict": [[0, {"dict": [["step", {"tensor": "state.0.step"}],
//    ...]}]]}], ["param_groups", [{"dict": [["lr", 0.1], ["betas", {"tuple": [0.9, 0.999]}], ...,
//    ["params", [0, 1]]]}]]]}}
// (python/chainrule/serialization.py documents every node type).
#pragma once
#include <string>

#include "io/safetensors.h"
#include "nn/module.h"
#include "optim/optimizer.h"

namespace chainrule {

// The metadata key and version of the nested structure (Python's cr.save writes the same).
extern const char* const kStructureKey;  // "chainrule.structure"
constexpr int kStructureVersion = 1;

// A flat state dict (name -> tensor), e.g. module.state_dict().
void save(const TensorDict& tensors, const std::string& path);
void load(TensorDict& tensors, const std::string& path);  // replaces `tensors` with the file's

// A module, through state_dict() / load_state_dict(strict).
void save(const nn::Module& module, const std::string& path);
void load(nn::Module& module, const std::string& path, bool strict = true);

// An optimizer's state dict. Loading keeps every hyperparameter that is a number, a flag or a pair
// of numbers (Optimizer::load_state_dict then ignores those it doesn't know, such as torch's
// "differentiable"); other group entries (None, strings, lists) are skipped.
void save(const optim::OptimizerState& state, const std::string& path);
void load(optim::OptimizerState& state, const std::string& path);

// The optimizer state a loaded file holds (what load(OptimizerState&, path) does after reading it);
// a file without a valid structure is std::invalid_argument("load: <path>: ...").
optim::OptimizerState optimizer_state_from(const SafetensorsFile& file, const std::string& path);

// An optimizer, through state_dict() / load_state_dict().
void save(const optim::Optimizer& optimizer, const std::string& path);
void load(optim::Optimizer& optimizer, const std::string& path);

}  // namespace chainrule
