// chainrule::save / chainrule::load for state dicts, modules and optimizers (see io/checkpoint.h);
// an optimizer's state goes to and from the nested "chainrule.structure" that Python's cr.save writes.
#include "io/checkpoint.h"

#include <unordered_map>

#include "io/json.h"

namespace chainrule {

using io::Json;
const char* const kStructureKey = "chainrule.structure";

// ---------------------------------------------------------------- flat state dicts and modules
void save(const TensorDict& tensors, const std::string& path) { save_file(tensors, path); }

void load(TensorDict& tensors, const std::string& path) { tensors = load_file(path).tensors; }

void save(const nn::Module& module, const std::string& path) { save(module.state_dict(), path); }

void load(nn::Module& module, const std::string& path, bool strict) {
  TensorDict tensors;
  load(tensors, path);
  module.load_state_dict(tensors, strict);
}

// ---------------------------------------------------------------- optimizer state -> structure
namespace {

Json dict_node(Json::Array pairs) { return Json::Object{{"dict", std::move(pairs)}}; }
Json pair(Json key, Json value) { return Json::Array{std::move(key), std::move(value)}; }

Json hyper_json(const optim::Hyper& h) {
  if (h.kind == optim::Hyper::Flag) return h.a != 0;
  if (h.kind == optim::Hyper::Pair) return Json::Object{{"tuple", Json::Array{h.a, h.b}}};
  return h.a;
}

// {"dict": [["lr", 0.1], ..., ["params", [0, 1]]]}: PyTorch's param group, as Python's cr.save writes it.
Json group_json(const optim::OptimizerState::Group& g) {
  Json::Array pairs;
  for (const auto& [name, h] : g.options.entries()) pairs.push_back(pair(name, hyper_json(h)));
  pairs.push_back(pair("params", Json::Array(g.params.begin(), g.params.end())));
  return dict_node(std::move(pairs));
}

// The state's tensors under "state.<i>.<name>", and the root node that refers to them.
Json state_json(const optim::OptimizerState& s, TensorDict& tensors) {
  Json::Array params;
  for (const auto& [index, st] : s.state) {
    Json::Array entries;
    for (const auto& [name, t] : st.entries()) {
      std::string stored = "state." + std::to_string(index) + "." + name;
      tensors.emplace_back(stored, t);
      entries.push_back(pair(name, Json::Object{{"tensor", stored}}));
    }
    params.push_back(pair(index, dict_node(std::move(entries))));
  }
  Json::Array groups;
  for (const auto& g : s.param_groups) groups.push_back(group_json(g));
  return dict_node({pair("state", dict_node(std::move(params))), pair("param_groups", std::move(groups))});
}

// ---------------------------------------------------------------- structure -> optimizer state
struct StructureReader {
  const std::string& path;
  std::unordered_map<std::string, Tensor> tensors;

  [[noreturn]] void fail(const std::string& what) const {
    throw_bad_file(path, std::string("expected an optimizer's state dict in __metadata__['") + kStructureKey +
                             "'], got " + what);
  }
  // The [key, value] pairs of a {"dict": [...]} node.
  const Json::Array& dict_pairs(const Json& node, const std::string& where) const {
    const Json* pairs = node.is_object() && node.as_object().size() == 1 ? node.find("dict") : nullptr;
    if (!pairs || !pairs->is_array()) fail("a malformed node at " + where);
    for (const Json& p : pairs->as_array())
      if (!p.is_array() || p.as_array().size() != 2) fail("a malformed dict entry at " + where);
    return pairs->as_array();
  }
  const Json& member(const Json& node, const std::string& key) const {
    for (const Json& p : dict_pairs(node, "the root"))
      if (p.as_array()[0].is_string() && p.as_array()[0].as_string() == key) return p.as_array()[1];
    fail("no '" + key + "'");
  }
  Tensor tensor(const Json& node, const std::string& where) const {
    const Json* name = node.is_object() ? node.find("tensor") : nullptr;
    if (!name || !name->is_string()) fail("a non-tensor at " + where);
    auto it = tensors.find(name->as_string());
    if (it == tensors.end())
      throw_bad_file(
          path, "the structure refers to a tensor '" + name->as_string() + "' that the file does not hold");
    return it->second;
  }
  // An int key, or a string holding one (a state dict that went through JSON elsewhere).
  int64_t index(const Json& key) const {
    if (key.is_int()) return key.as_int();
    try {
      size_t used = 0;
      if (key.is_string()) {
        int64_t i = std::stoll(key.as_string(), &used);
        if (used == key.as_string().size()) return i;
      }
    } catch (const std::exception&) {
    }
    fail("the state key " + io::python_repr(key, 200));
  }
  // A number, a flag, or a pair of numbers (a tuple or a two-element list); anything else is not a
  // hyperparameter chainrule holds (torch's "foreach": None, a group's "name").
  static bool hyper(const Json& v, optim::Hyper& out) {
    const Json* tuple = v.is_object() && v.as_object().size() == 1 ? v.find("tuple") : nullptr;
    const Json& seq = tuple ? *tuple : v;
    if (v.is_bool()) out = optim::Hyper::flag(v.as_bool());
    else if (v.is_number()) out = optim::Hyper::number(v.as_number());
    else if (seq.is_array() && seq.as_array().size() == 2 && seq.as_array()[0].is_number() &&
             seq.as_array()[1].is_number())
      out = optim::Hyper::pair(seq.as_array()[0].as_number(), seq.as_array()[1].as_number());
    else return false;
    return true;
  }

  optim::OptimizerState read(const Json& root) const {
    optim::OptimizerState s;
    for (const Json& p : dict_pairs(member(root, "state"), "'state'")) {
      optim::ParamState st;
      const int64_t i = index(p.as_array()[0]);
      for (const Json& e : dict_pairs(p.as_array()[1], "'state." + std::to_string(i) + "'")) {
        if (!e.as_array()[0].is_string())
          fail("a non-string state name in 'state." + std::to_string(i) + "'");
        const std::string& name = e.as_array()[0].as_string();
        st.set(name, tensor(e.as_array()[1], "'state." + std::to_string(i) + "." + name + "'"));
      }
      s.state[i] = std::move(st);
    }
    const Json& groups = member(root, "param_groups");
    if (!groups.is_array()) fail("'param_groups' that is not a list");
    for (const Json& g : groups.as_array()) s.param_groups.push_back(group(g));
    return s;
  }

  optim::OptimizerState::Group group(const Json& node) const {
    optim::OptimizerState::Group g;
    bool has_params = false;
    for (const Json& p : dict_pairs(node, "'param_groups'")) {
      const Json &key = p.as_array()[0], &value = p.as_array()[1];
      if (!key.is_string()) continue;
      optim::Hyper h;
      if (key.as_string() == "params") {
        has_params = value.is_array();
        for (const Json& i : has_params ? value.as_array() : Json::Array{}) g.params.push_back(index(i));
      } else if (hyper(value, h)) {
        g.options.set(key.as_string(), h);
      }
    }
    if (!has_params) fail("a param group without a list 'params'");
    return g;
  }
};

}  // namespace

void save(const optim::OptimizerState& state, const std::string& path) {
  TensorDict tensors;
  Json root = state_json(state, tensors);
  // ASCII, as Python's json.dumps writes the structure; the header around it is UTF-8.
  std::string structure =
      io::dump_json(Json::Object{{"version", kStructureVersion}, {"root", std::move(root)}}, true);
  save_file(tensors, path, {{kStructureKey, structure}});
}

optim::OptimizerState optimizer_state_from(const SafetensorsFile& f, const std::string& path) {
  const std::string key = std::string("__metadata__['") + kStructureKey + "']";
  auto it = std::find_if(f.metadata.begin(), f.metadata.end(),
                         [](const auto& m) { return m.first == kStructureKey; });
  if (it == f.metadata.end())
    throw_bad_file(path,
                   "expected an optimizer's state dict (a file with " + key + "), got a flat state dict");
  Json structure;
  try {
    structure = io::parse_json(it->second, /*allow_constants=*/true);
  } catch (const io::JsonError& e) {
    throw_bad_file(path, key + " is not valid JSON (" + io::shorten(e.detail, 200) + ")");
  }
  const Json* version = structure.find("version");
  const Json* root = structure.find("root");
  if (!version || !version->is_int() || version->as_int() != kStructureVersion || !root)
    throw_bad_file(path,
                   key + " is not a version-" + std::to_string(kStructureVersion) + " chainrule structure");
  StructureReader reader{path, {}};
  for (const auto& [name, t] : f.tensors) reader.tensors.emplace(name, t);
  return reader.read(*root);
}

void load(optim::OptimizerState& state, const std::string& path) {
  state = optimizer_state_from(load_file(path), path);
}

void save(const optim::Optimizer& optimizer, const std::string& path) { save(optimizer.state_dict(), path); }

void load(optim::Optimizer& optimizer, const std::string& path) {
  optim::OptimizerState state;
  load(state, path);
  optimizer.load_state_dict(state);
}

}  // namespace chainrule
