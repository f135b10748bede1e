// Python bindings for the Tensor API habits of PyTorch tutorials: masked_fill, repeat/tile,
// flip/fliplr/flipud, roll, squeeze over a tuple of dims, requires_grad_/.float()/... returning
// self as torch, the default dtype, and cr.Generator (generator= for the random functions).
#include <memory>
#include <optional>

#include "python/bind_util.h"

namespace chainrule::bind {
namespace {

// A Python int (not a bool) as an int64.
int64_t int_arg(py::handle h, const char* op, const char* what) {
  if (py::isinstance<py::bool_>(h) || !(py::isinstance<py::int_>(h) || py::hasattr(h, "__index__")))
    throw py::type_error(std::string(op) + ": expected " + what + " as ints, got " + type_name(h));
  return py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>();
}

// An int or a tuple/list of ints.
std::vector<int64_t> ints_arg(py::handle h, const char* op, const char* what) {
  if (py::isinstance<py::tuple>(h) || py::isinstance<py::list>(h)) {
    std::vector<int64_t> v;
    for (auto e : h) v.push_back(int_arg(e, op, what));
    return v;
  }
  return {int_arg(h, op, what)};
}

// x.f(2, 3), x.f((2, 3)), x.f([2, 3]) (torch's varargs methods); a function takes one sequence.
std::vector<int64_t> varargs_ints(const py::args& args, const char* op, const char* what) {
  if (args.size() == 1 && (py::isinstance<py::tuple>(args[0]) || py::isinstance<py::list>(args[0])))
    return ints_arg(args[0], op, what);
  std::vector<int64_t> v;
  for (auto a : args) v.push_back(int_arg(a, op, what));
  return v;
}

Generator& gen_or_default(const std::shared_ptr<Generator>& g) { return g ? *g : default_generator(); }

// An optional generator argument: None or a cr.Generator.
std::shared_ptr<Generator> gen_arg(const py::object& g, const char* op) {
  if (g.is_none()) return nullptr;
  return arg<std::shared_ptr<Generator>>(g, op,
                                         "generator to be a chainrule Generator (cr.Generator()) or None");
}

}  // namespace

void bind_tensor_api(py::module_& m, py::class_<Tensor>& T) {
  // ---------------------------------------------------------------- masked_fill
  auto masked_fill_f = [](const Tensor& x, const Tensor& mask, py::handle value) {
    Operand v = operand(value, "masked_fill");
    return v.is_tensor ? masked_fill(x, mask, v.t) : masked_fill(x, mask, v.s);
  };
  def_both(m, T, "masked_fill", masked_fill_f, py::arg("mask"), py::arg("value"), R"doc(
A copy of input with ``value`` where ``mask`` is True (mask: a bool tensor broadcast with input).

The result keeps input's dtype (an int64 input truncates a float value); ``value`` is a number or
a 0-d tensor. Derivatives: d/dinput is 1 where the mask is False, 0 where it is True; a 0-d value
tensor that requires grad gets the sum of the gradient over the masked positions.
Example: ``scores.masked_fill(~causal, float('-inf'))`` before a softmax.)doc");
  T.def(
      "masked_fill_",
      [](Tensor& x, const Tensor& mask, py::handle value) -> Tensor& {
        Operand v = operand(value, "masked_fill_");
        return v.is_tensor ? masked_fill_(x, mask, v.t) : masked_fill_(x, mask, v.s);
      },
      py::arg("mask"), py::arg("value"), py::return_value_policy::reference_internal,
      "Sets the elements where mask (bool, broadcastable to self) is True to value, in place.");

  // ---------------------------------------------------------------- repeat, tile
  T.def(
      "repeat",
      [](const Tensor& x, py::args sizes) {
        if (sizes.size() == 0) throw py::type_error("repeat: missing the repeats (e.g. x.repeat(2, 1))");
        return repeat(x, varargs_ints(sizes, "repeat", "repeats"));
      },
      R"doc(
A copy of the tensor tiled ``repeats[i]`` times along dim i: ``x.repeat(2, 1)`` stacks x twice
along dim 0. Give at least x.dim() repeats; extra ones add leading dims; 0 gives an empty dim.
Always a copy (unlike expand). The gradient sums the gradient of every tile.)doc");
  m.def(
      "tile", [](const Tensor& x, py::handle dims) { return tile(x, ints_arg(dims, "tile", "dims")); },
      py::arg("input"), py::arg("dims"), R"doc(
Like repeat, but fewer dims than input.dim() are padded with leading 1s:
``cr.tile(x, (2,))`` repeats the last dim twice. A copy; the gradient sums the tiles.)doc");
  T.def(
      "tile", [](const Tensor& x, py::args dims) { return tile(x, varargs_ints(dims, "tile", "dims")); },
      "x.tile(2, 1) or x.tile((2, 1)): repeat, padding missing leading dims with 1.");

  // ---------------------------------------------------------------- flip, roll
  m.def(
      "flip", [](const Tensor& x, py::handle dims) { return flip(x, ints_arg(dims, "flip", "dims")); },
      py::arg("input"), py::arg("dims"), R"doc(
A copy with the order of elements reversed along dims (an int or a tuple): ``cr.flip(x, (0,))``.
The gradient is flipped back. Example: cr.flip(cr.arange(3), (0,)) -> tensor([2, 1, 0]).)doc");
  T.def(
      "flip", [](const Tensor& x, py::args dims) { return flip(x, varargs_ints(dims, "flip", "dims")); },
      "x.flip(0), x.flip(0, 1) or x.flip((0, 1)): reversed along those dims (a copy).");
  def_both(m, T, "fliplr", &fliplr, "Reversed along dim 1 (left/right), for tensors with >= 2 dims. A copy.");
  def_both(m, T, "flipud", &flipud, "Reversed along dim 0 (up/down), for tensors with >= 1 dim. A copy.");
  def_both(
      m, T, "roll",
      [](const Tensor& x, py::handle shifts, py::object dims) {
        return roll(x, ints_arg(shifts, "roll", "shifts"),
                    dims.is_none() ? std::vector<int64_t>{} : ints_arg(dims, "roll", "dims"));
      },
      py::arg("shifts"), py::arg("dims") = py::none(), R"doc(
A copy with the elements shifted by ``shifts`` along ``dims`` (ints or tuples of equal length),
wrapping around: cr.roll(cr.arange(4), 1) -> tensor([3, 0, 1, 2]). Shifts may be negative or larger
than the dim. With dims=None the tensor is rolled flattened, then given its shape back. The
gradient is rolled back by -shifts.)doc");

  // ---------------------------------------------------------------- squeeze (replaces the int-only one)
  auto squeeze_f = [](const Tensor& x, py::object dim) {
    if (dim.is_none()) return squeeze(x);
    if (py::isinstance<py::tuple>(dim) || py::isinstance<py::list>(dim))
      return squeeze(x, ints_arg(dim, "squeeze", "dims"));
    return squeeze(x, int_arg(dim, "squeeze", "dim"));
  };
  const char* squeeze_doc = R"doc(
Removes dims of size 1: all of them, or only dim (an int or a tuple of ints). Dims named that do
not have size 1 are left alone (torch 2.x): cr.zeros(1, 2, 1).squeeze((0, 1)).shape == (2, 1).
A view; the gradient is reshaped back.)doc";
  def_both(m, T, "squeeze", squeeze_f, py::arg("dim") = py::none(), py::doc(squeeze_doc));

  T.def(
      "squeeze_",
      [](Tensor& x, py::object dim) -> Tensor& {
        if (dim.is_none()) return squeeze_(x);
        if (py::isinstance<py::tuple>(dim) || py::isinstance<py::list>(dim))
          return squeeze_(x, ints_arg(dim, "squeeze_", "dims"));
        return squeeze_(x, std::vector<int64_t>{int_arg(dim, "squeeze_", "dim")});
      },
      py::arg("dim") = py::none(), py::return_value_policy::reference_internal,
      "squeeze in place: this tensor loses its size-1 dims (all, or those among dim) and is returned.");
  T.def(
      "unsqueeze_", [](Tensor& x, int64_t dim) -> Tensor& { return unsqueeze_(x, dim); }, py::arg("dim"),
      py::return_value_policy::reference_internal, "unsqueeze in place: a size-1 dim is inserted at dim.");

  // ---------------------------------------------------------------- requires_grad_ returns self
  T.def(
      "requires_grad_", [](Tensor& t, bool r) -> Tensor& { return t.set_requires_grad(r); },
      py::arg("requires_grad") = true, py::return_value_policy::reference_internal,
      py::doc("Sets requires_grad in place and returns this tensor (x = cr.zeros(3).requires_grad_()). "
              "Leaves only (a non-leaf already requires grad: requires_grad_(True) is a no-op); "
              "floating dtypes only."));

  // ---------------------------------------------------------------- .float() / .double() / .long() / .bool()
  // As torch: the tensor itself when it already has that dtype, else a converted copy
  // (differentiable between float dtypes; an int64/bool result never requires grad).
  auto convert_method = [](Dtype d) {
    return [d](py::object self) -> py::object {
      const Tensor& t = self.cast<const Tensor&>();
      return t.dtype() == d ? self : py::cast(t.to(d));
    };
  };
  T.def("float", convert_method(kFloat32), py::doc("Converts to float32 (self if it already is)."));
  T.def("double", convert_method(kFloat64), py::doc("Converts to float64 (self if it already is)."));
  T.def("long", convert_method(kInt64),
        py::doc("Converts to int64, truncating toward zero (self if it already is)."));
  T.def("bool", convert_method(kBool), py::doc("Converts to bool: nonzero -> True (self if it already is)."));

  // ---------------------------------------------------------------- default dtype
  m.def(
      "set_default_dtype",
      [](py::object d) {
        if (!py::isinstance<Dtype>(d))
          throw py::type_error(
              "set_default_dtype: expected a chainrule dtype (cr.float32 or cr.float64), got " +
              type_name(d));
        Dtype dt = d.cast<Dtype>();
        if (!is_floating(dt))
          throw py::type_error(std::string("set_default_dtype: only floating-point types are supported as "
                                           "the default type (cr.float32, cr.float64), got chainrule.") +
                               dtype_name(dt));
        set_default_dtype(dt);
      },
      py::arg("d"), R"doc(
Sets the dtype that factories give floating tensors when no dtype is passed (as
torch.set_default_dtype): cr.tensor([1.5]), cr.zeros(2), cr.rand(2), cr.arange(0., 1., .5), layers'
parameters, and int tensors promoted to float (cr.arange(3) / 2). Only cr.float32 (the default) and
cr.float64; integers stay int64. Example: cr.set_default_dtype(cr.float64) for calculus notebooks.)doc");
  m.def("get_default_dtype", &get_default_dtype,
        "The dtype factories give floating tensors (cr.float32 unless set).");

  // ---------------------------------------------------------------- Generator
  py::class_<Generator, std::shared_ptr<Generator>>(m, "Generator", R"doc(
A random number generator, as torch.Generator: pass it as ``generator=`` to cr.rand, randn,
randint, randperm, Tensor.uniform_/normal_, cr.nn.init functions and DataLoader/random_split so that
one stream of numbers is independent of the global one (cr.manual_seed).

``g = cr.Generator().manual_seed(0)`` (manual_seed returns the generator). The same seed gives the
same numbers as ``cr.manual_seed(seed)`` does for the global generator, on every platform. The
numbers are not torch's: chainrule uses a 64-bit Mersenne Twister (mt19937_64) with its own
uniform/normal transforms, so streams can't match torch's bit for bit.)doc")
      .def(py::init([](py::object device) {
             if (!device.is_none()) {
               std::string s = py::str(device);
               if (s != "cpu" && s != "cpu:0")
                 throw py::value_error("Generator: chainrule runs on the CPU only; got device '" + s + "'");
             }
             return std::make_shared<Generator>();
           }),
           py::arg("device") = py::none(),
           "A new generator, seeded with torch's default seed 67280421310721.")
      .def(
          "manual_seed",
          [](const std::shared_ptr<Generator>& g, py::handle seed) {
            g->manual_seed(static_cast<uint64_t>(int_arg(seed, "manual_seed", "seed")));
            return g;
          },
          py::arg("seed"), "Seeds the generator and returns it: g = cr.Generator().manual_seed(0).")
      .def("seed", &Generator::seed,
           "Seeds the generator from the operating system's entropy and returns the seed.")
      .def("initial_seed", &Generator::initial_seed, "The seed the generator was last seeded with.")
      .def(
          "get_state",
          [](const Generator& g) {
            std::vector<int64_t> s = g.get_state();
            Tensor t = empty({static_cast<int64_t>(s.size())}, kInt64);
            std::copy(s.begin(), s.end(), t.data<int64_t>());
            return t;
          },
          "The generator's state as an int64 tensor (for set_state).")
      .def(
          "set_state",
          [](const std::shared_ptr<Generator>& g, const Tensor& state) {
            CR_CHECK(state.dtype() == kInt64 && state.dim() == 1, std::invalid_argument,
                     "set_state: expected the int64 tensor get_state() returned, got ",
                     dtype_name(state.dtype()), " of shape ", state.shape());
            Tensor c = state.contiguous();
            g->set_state(std::vector<int64_t>(c.data<int64_t>(), c.data<int64_t>() + c.numel()));
            return g;
          },
          py::arg("new_state"), "Restores a state from get_state(); returns the generator.")
      .def_property_readonly(
          "device", [](const Generator&) { return py::module_::import("chainrule").attr("device")("cpu"); },
          "cr.device('cpu').")
      .def("_next_u64", &Generator::next_u64, "Internal: 64 random bits (for seeding other generators).");
  m.attr("default_generator") = py::cast(std::shared_ptr<Generator>(&default_generator(), [](Generator*) {}));
  m.def(
      "manual_seed",
      [](py::handle seed) {
        default_generator().manual_seed(static_cast<uint64_t>(int_arg(seed, "manual_seed", "seed")));
        return py::object(py::module_::import("chainrule._core").attr("default_generator"));
      },
      py::arg("seed"), py::doc(R"doc(
Seeds the global generator and returns it (cr.default_generator): the same seed gives the same numbers
on every machine, and the same as cr.Generator().manual_seed(seed) gives.)doc"));
  m.def(
      "initial_seed", [] { return default_generator().initial_seed(); },
      "The seed the global generator was last seeded with.");
  m.def(
      "seed", [] { return default_generator().seed(); },
      "Seeds the global generator from the operating system's entropy and returns the seed.");

  // factories with a generator (wrapped by chainrule/__init__.py)
  m.def("_rand_g", [](Shape s, Dtype d, std::shared_ptr<Generator> g) {
    return rand(std::move(s), d, gen_or_default(g));
  });
  m.def("_randn_g", [](Shape s, Dtype d, std::shared_ptr<Generator> g) {
    return randn(std::move(s), d, gen_or_default(g));
  });
  m.def("_randint_g", [](int64_t lo, int64_t hi, Shape s, std::shared_ptr<Generator> g) {
    return randint(lo, hi, std::move(s), gen_or_default(g));
  });
  m.def("_randperm_g",
        [](int64_t n, std::shared_ptr<Generator> g) { return randperm(n, gen_or_default(g)); });

  T.def(
      "uniform_",
      [](Tensor& t, double a, double b, py::object generator) -> Tensor& {
        auto g = gen_arg(generator, "uniform_");
        return uniform_(t, a, b, gen_or_default(g));
      },
      py::arg("a") = 0.0, py::arg("b") = 1.0, py::kw_only(), py::arg("generator") = py::none(),
      py::return_value_policy::reference_internal,
      py::doc("Fills with samples of U[a, b), in place (from generator, else the global generator)."));
  T.def(
      "normal_",
      [](Tensor& t, double mean, double std, py::object generator) -> Tensor& {
        auto g = gen_arg(generator, "normal_");
        return normal_(t, mean, std, gen_or_default(g));
      },
      py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none(),
      py::return_value_policy::reference_internal,
      py::doc("Fills with samples of N(mean, std^2), in place (from generator, else the global generator)."));
}

}  // namespace chainrule::bind
