// chainrule::Tensor: a cheap value-semantics handle to a strided view (shape, strides, offset) of a
// shared storage, with autograd metadata, as in PyTorch: copying a Tensor aliases it, and the ops that
// return views in PyTorch (select, slice, transpose, expand, view, ...) share memory here too, so an
// in-place write through a view lands in its base. Factories, accessors, printing and dtype rules
// live here; ops live in ops.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace chainrule {

// Bool is what comparisons return (masks for where/indexing); Int64 is for labels and indices.
// Neither ever requires grad. Float32 is the default, as in PyTorch.
enum class Dtype : uint8_t { Bool, Int64, Float32, Float64 };
constexpr Dtype kBool = Dtype::Bool;
constexpr Dtype kInt64 = Dtype::Int64;
constexpr Dtype kFloat32 = Dtype::Float32;
constexpr Dtype kFloat64 = Dtype::Float64;

const char* dtype_name(Dtype d);  // "float32", ...
size_t dtype_size(Dtype d);
inline bool is_floating(Dtype d) { return d == kFloat32 || d == kFloat64; }
// PyTorch's promotion among these dtypes: bool < int64 < float32 < float64.
Dtype promote_types(Dtype a, Dtype b);

// A number passed to an op (x * 2, x + 0.5). Remembers whether it was integral so that
// int64 tensor + 1 stays int64 while int64 tensor * 0.5 becomes float32, as in PyTorch.
struct Scalar {
  double value;
  bool integral;
  bool boolean = false;   // bool tensor + True stays bool
  int64_t int_value = 0;  // the exact value when integral: a double holds integers only up to 2^53
  Scalar(double v) : value(v), integral(false) {}
  Scalar(float v) : value(v), integral(false) {}
  Scalar(int v) : value(v), integral(true), int_value(v) {}
  Scalar(long v) : value(static_cast<double>(v)), integral(true), int_value(v) {}
  Scalar(long long v) : value(static_cast<double>(v)), integral(true), int_value(v) {}
  Scalar(bool v) : value(v ? 1.0 : 0.0), integral(true), boolean(true), int_value(v) {}
};

// Raw memory shared by the tensors that view it. `version` counts in-place writes (through any
// view) so that backward can refuse to use a saved tensor that was modified after it was saved.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  uint64_t version = 0;
  std::function<void(void*)> deleter;  // frees data; external owners (NumPy, DLPack) set their own
  Storage(size_t nbytes);              // 64-byte aligned, uninitialised
  Storage(void* data, size_t nbytes, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl;
class Tensor;
struct HookList;  // autograd.h

// What register_hook (and a module's register_forward_hook) returns: remove() takes the hook off,
// also when its owner is gone, and again does nothing, as torch.utils.hooks.RemovableHandle.
class RemovableHandle {
 public:
  RemovableHandle() = default;
  RemovableHandle(uint64_t id, std::function<void()> remove) : id_(id), remove_(std::move(remove)) {}
  void remove() {
    if (remove_) remove_();
  }
  uint64_t id() const { return id_; }

 private:
  uint64_t id_ = 0;
  std::function<void()> remove_;  // holds its list weakly
};

// Drops the entry with this id from a list of (id, hook) pairs.
template <class List> void drop_hook(List& list, uint64_t id) {
  for (auto it = list.begin(); it != list.end(); ++it)
    if (it->first == id) {
      list.erase(it);
      return;
    }
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements, one per dim (0 where expanded)
  int64_t offset = 0;  // storage offset of element (0, ..., 0), in elements
  int64_t numel = 0;
  bool contiguous = true;  // row-major and dense: kernels may use a flat pointer
  // A view made with grad mode off of a tensor that requires grad: the graph doesn't know it
  // aliases its base, so writing through it with grad mode on is refused (as in PyTorch).
  bool no_grad_view = false;
  Dtype dtype = kFloat32;
  bool requires_grad = false;  // on a leaf: the user's flag; on a non-leaf: some input requires it
  bool retains_grad = false;
  // The op that made this tensor from one that requires grad without recording it ("detach", or
  // an op under no_grad): why_no_grad's evidence. Null otherwise.
  const char* untracked_by = nullptr;
  const std::string* untracked_at = nullptr;  // where, when known (autograd.h: intern_site)
  std::shared_ptr<TensorImpl> grad;           // accumulated gradient (leaves, or retain_grad non-leaves)
  // An optimizer step used .grad and nothing has cleared it since: a backward adding to it now
  // is the classic forgotten zero_grad() (autograd::set_warn_forgotten_zero_grad).
  bool grad_stepped = false;
  uint64_t grad_step_version = 0;   // .grad's storage version right after that step
  std::shared_ptr<Node> grad_fn;    // the node that produced this tensor (null for leaves)
  std::shared_ptr<HookList> hooks;  // a leaf's (a non-leaf's live on its grad_fn)
  // Forward mode: the tangent at dual level fw_level (forward_ad in autograd.h); stale at any other level.
  std::shared_ptr<TensorImpl> fw_grad;
  uint64_t fw_level = 0;
  ~TensorImpl();  // hands grad_fn to the iterative graph teardown
  // Sets shape, strides and offset together (and numel, contiguous).
  void set_geometry(Shape shape, Shape strides, int64_t offset);
};

Shape contiguous_strides(const Shape& shape);  // row-major strides of a dense tensor

class Tensor {
 public:
  Tensor() = default;  // undefined: no data (a missing gradient, an unused input)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t numel() const;
  Dtype dtype() const;
  const Shape& strides() const;
  int64_t stride(int64_t dim) const;  // negative dims count from the end
  int64_t storage_offset() const;
  bool is_contiguous() const;
  double item() const;  // a one-element tensor's value

  // Element access for tests and printing: flat (logical row-major order) or by full index.
  double at(int64_t flat_index) const;
  double at(std::initializer_list<int64_t> index) const;
  std::vector<double> to_vector() const;  // all elements, row-major, as double

  // data<T>(): a typed pointer for flat loops over numel() elements, so only for contiguous tensors
  // (it throws for a strided view, and if T doesn't match dtype). raw_data(): element (0, ..., 0)
  // of any tensor, to be walked with strides().
  template <class T> T* data();
  template <class T> const T* data() const;
  void* raw_data() const;

  // autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool r = true);  // leaves only; floating dtypes only
  bool is_leaf() const;
  Tensor grad() const;             // undefined until a backward reaches this tensor
  void set_grad(const Tensor& g);  // undefined g resets (Python: x.grad = None)
  std::shared_ptr<Node> grad_fn() const;
  void retain_grad();
  // hook(grad) runs when this tensor's gradient is computed (the sum over its uses), before it is
  // accumulated into .grad or passed on; a defined result replaces the gradient. Hooks run in
  // registration order, each on the previous one's result (torch's Tensor.register_hook).
  RemovableHandle register_hook(std::function<Tensor(const Tensor& grad)> hook) const;
  // hook(tensor) runs after .grad of this leaf was accumulated by backward.
  RemovableHandle register_post_accumulate_grad_hook(std::function<void(const Tensor& leaf)> hook) const;
  Tensor detach() const;  // shares storage, no history
  // Makes this tensor show src's data (storage, shape, strides, dtype) while keeping its identity,
  // requires_grad and grad (Python: x.data = src; Module::to(dtype) casts parameters with it).
  void set_data(const Tensor& src);
  void backward(const Tensor& gradient = Tensor(), std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  uint64_t version() const;
  // Records an in-place write to the storage: graphs that saved it before now refuse backward.
  void bump_version() const;

  Tensor to(Dtype d) const;   // differentiable between floating dtypes
  Tensor clone() const;       // differentiable copy with its own storage
  Tensor contiguous() const;  // self if contiguous, else a differentiable dense copy

  // ops as methods (definitions in ops.cpp files; see ops.h for semantics)
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor neg() const;
  Tensor pow(const Scalar& p) const;
  Tensor pow(const Tensor& p) const;
  Tensor sum() const;
  Tensor sum(std::vector<int64_t> dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(std::vector<int64_t> dims, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;
  Tensor reshape(Shape shape) const;
  Tensor view(Shape shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;
  Tensor mT() const;  // the last two dims swapped
  Tensor permute(std::vector<int64_t> dims) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(Shape shape) const;
  Tensor slice(int64_t dim, int64_t start, int64_t stop, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1) const;
  Tensor unfold(int64_t dim, int64_t size, int64_t step) const;
  Tensor operator[](int64_t index) const { return select(0, index); }

  // in-place (for optimizers and init; refused on tensors that require grad while grad mode is on)
  Tensor& add_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& add_(const Scalar& other);
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& sub_(const Scalar& other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(const Scalar& other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(const Scalar& other);
  Tensor& zero_();
  Tensor& fill_(const Scalar& value);
  Tensor& copy_(const Tensor& src);
  Tensor& clamp_(const Scalar& min, const Scalar& max);  // ±inf for no bound
  Tensor& uniform_(double from = 0.0, double to = 1.0);
  Tensor& normal_(double mean = 0.0, double std = 1.0);

  // elementwise math in place (as torch; the result must keep the dtype: exp_ of int64 raises)
  Tensor& abs_();
  Tensor& neg_();
  Tensor& exp_();
  Tensor& log_();
  Tensor& sqrt_();
  Tensor& sin_();
  Tensor& cos_();
  Tensor& tanh_();
  Tensor& sigmoid_();
  Tensor& relu_();
  Tensor& floor_();
  Tensor& ceil_();
  Tensor& round_(int64_t decimals = 0);
  Tensor& trunc_();
  Tensor& square_();
  Tensor& clamp_min_(const Scalar& min);
  Tensor& clamp_max_(const Scalar& max);

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- Tensor API (tapi): the default floating dtype and random generators ----
// The one home of the default floating dtype (float32 unless set_default_dtype(kFloat64)), as
// torch.get_default_dtype: the factories below take it when no dtype is given, and so do the
// Python factories and the int -> float promotions. Only float32 and float64 may be set.
Dtype get_default_dtype();
void set_default_dtype(Dtype d);  // throws std::invalid_argument for int64/bool

// A random number generator, as torch.Generator: an mt19937_64 engine plus chainrule's own
// uniform/normal transforms, so the same seed gives the same numbers on every platform. The global
// generator (manual_seed) is one of these: manual_seed(s) and Generator().manual_seed(s) give the
// same stream. (The numbers differ from torch's: its engine is a 32-bit Mersenne Twister with
// other transforms.) Draws are serialised by a mutex, so a generator may be shared across threads.
class Generator {
 public:
  static constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // torch.Generator()'s initial seed
  explicit Generator(uint64_t seed = kDefaultSeed);
  Generator& manual_seed(uint64_t seed);
  uint64_t seed();  // reseeds from std::random_device and returns the new seed
  uint64_t initial_seed() const;
  std::vector<int64_t> get_state() const;  // the engine's words (bit-cast to int64)
  void set_state(const std::vector<int64_t>& state);
  // Draws (each takes the lock): 64 random bits; a uniform double in [0, 1) from 53 bits.
  uint64_t next_u64();
  double next_uniform();
  // For bulk draws: lock() once, then the unlocked engine.
  std::mutex& mutex() const { return mutex_; }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
  uint64_t initial_seed_;
  mutable std::mutex mutex_;
};
Generator& default_generator();  // the one manual_seed seeds

// ---- factories (shape first, dtype last, the default dtype (float32) unless given) ----
// Uninitialised. `op` names the op the user called in the messages for a bad shape or too little memory.
Tensor empty(Shape shape, Dtype dtype = get_default_dtype(), const char* op = "empty");
// Throws OutOfMemory (Python: MemoryError): "<op>: can't allocate shape (...) (float32): <n> bytes, ...".
[[noreturn]] void throw_out_of_memory(const char* op, const Shape& shape, Dtype dtype);
Tensor tensor(const std::vector<double>& values, Shape shape, Dtype dtype = get_default_dtype(),
              bool requires_grad = false);
Tensor tensor(std::initializer_list<double> values, Dtype dtype = get_default_dtype(),
              bool requires_grad = false);                              // 1-d
Tensor scalar_tensor(double value, Dtype dtype = get_default_dtype());  // 0-d
Tensor zeros(Shape shape, Dtype dtype = get_default_dtype());
Tensor ones(Shape shape, Dtype dtype = get_default_dtype());
Tensor full(Shape shape, const Scalar& value, Dtype dtype = get_default_dtype());
Tensor arange(double start, double end, double step = 1.0, Dtype dtype = get_default_dtype());
Tensor arange(int64_t end, Dtype dtype = kInt64);
Tensor linspace(double start, double end, int64_t steps, Dtype dtype = get_default_dtype());
Tensor eye(int64_t n, int64_t m = -1, Dtype dtype = get_default_dtype());
Tensor rand(Shape shape, Dtype dtype = get_default_dtype());   // U[0, 1)
Tensor randn(Shape shape, Dtype dtype = get_default_dtype());  // N(0, 1)
Tensor randint(int64_t low, int64_t high, Shape shape);        // int64 in [low, high)
// A random permutation of 0..n-1 (int64). With a seed it uses its own generator, so the same seed
// gives the same order in C++ and Python (DataLoader shuffling) without touching manual_seed's.
Tensor randperm(int64_t n, int64_t seed = -1);
// tapi: the same draws from a given generator (torch's generator= argument).
Tensor rand(Shape shape, Dtype dtype, Generator& gen);
Tensor randn(Shape shape, Dtype dtype, Generator& gen);
Tensor randint(int64_t low, int64_t high, Shape shape, Generator& gen);
Tensor randperm(int64_t n, Generator& gen);
Tensor& uniform_(Tensor& t, double from, double to, Generator& gen);
Tensor& normal_(Tensor& t, double mean, double std, Generator& gen);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, const Scalar& value);
Tensor empty_like(const Tensor& t);
Tensor rand_like(const Tensor& t);
Tensor randn_like(const Tensor& t);

// Threads for the parallel kernels and GEMM (OpenMP), as torch.set_num_threads: on a shared
// machine a student can leave cores to others. 1 without OpenMP.
void set_num_threads(int n);
int get_num_threads();

// How this build was made, as (name, value) rows for show_config(): the GEMM backend, the SIMD
// instruction sets the kernels were compiled for, OpenMP, threads, Eigen and the compiler.
std::vector<std::pair<std::string, std::string>> build_config();

// Seeds the global generator. Same seed, same numbers on every platform (mt19937_64 plus our own
// uniform/normal transforms; std:: distributions differ between standard libraries).
void manual_seed(uint64_t seed);

// PyTorch-style printing: tensor([[1., 2.]], requires_grad=True)
std::string repr(const Tensor& t);
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Internal helpers shared by the op files.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);  // throws std::out_of_range
int64_t shape_numel(const Shape& s);

}  // namespace chainrule
