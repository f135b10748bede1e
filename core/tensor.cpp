// Tensor handle, storage, factories, seeded random numbers, PyTorch-style printing and the
// in-place ops used by optimizers and init.
#include "core/tensor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <unordered_map>

#include "core/autograd.h"
#include "core/blas.h"
#include "core/kernels.h"
#include "core/ops.h"
#include "core/sizes.h"

namespace chainrule {

// ---------------------------------------------------------------- dtypes, shapes
const char* dtype_name(Dtype d) {
  switch (d) {
    case kBool: return "bool";
    case kInt64: return "int64";
    case kFloat32: return "float32";
    default: return "float64";
  }
}

size_t dtype_size(Dtype d) {
  switch (d) {
    case kBool: return 1;
    case kFloat32: return 4;
    default: return 8;
  }
}

Dtype promote_types(Dtype a, Dtype b) { return static_cast<Dtype>(std::max(int(a), int(b))); }

namespace {
std::function<void(const std::string&)> warning_handler;
}
void warn(const std::string& message) {
  if (warning_handler) warning_handler(message);
  else std::cerr << "chainrule warning: " << message << std::endl;
}
void set_warning_handler(std::function<void(const std::string&)> handler) {
  warning_handler = std::move(handler);
}

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

// A backstop: ops check the shapes users give them (naming themselves) before they get here.
int64_t shape_numel(const Shape& s) {
  if (std::find(s.begin(), s.end(), 0) != s.end()) return 0;  // (2**40, 2**40, 0) has no elements
  int64_t n = 1;
  for (int64_t d : s)
    CR_CHECK(!__builtin_mul_overflow(n, d, &n), std::invalid_argument, "shape ", s,
             " has more elements than an int64 can count");
  return n;
}

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  CR_CHECK(dim >= lo && dim <= hi, std::out_of_range, op, ": dim ", dim,
           " is out of range for a tensor with ", ndim, " dims (expected ", lo, " to ", hi, ")");
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

// ---------------------------------------------------------------- storage
namespace {
// A training step frees buffers that the next step asks for again, at the same sizes. glibc hands
// big ones back to the kernel and maps them again (page faults and zeroing on every touch: 17% of a
// CNN step's profile), and its 64-byte aligned allocation of small ones costs ~8% of a digits-MLP
// step; so freed buffers of 512 bytes to 16 MiB wait here, per size, up to 64 MiB in all.
// Sanitizer builds skip the cache, so that a use after free is still caught.
#if defined(__SANITIZE_ADDRESS__)
#define CR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CR_ASAN 1
#endif
#endif
#ifdef CR_ASAN
constexpr size_t kCacheMin = SIZE_MAX, kCacheMax = 0, kCacheCap = 0;
#else
constexpr size_t kCacheMin = 512, kCacheMax = size_t(16) << 20, kCacheCap = size_t(64) << 20;
#endif
struct BlockCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free;  // by size (a multiple of 64 bytes)
  size_t bytes = 0;
};
BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache;  // never destroyed: tensors in statics outlive it otherwise
  return *cache;
}

void* take_block(size_t rounded) {
  if (rounded >= kCacheMin && rounded <= kCacheMax) {
    BlockCache& c = block_cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free.find(rounded);
    if (it != c.free.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.bytes -= rounded;
      return p;
    }
  }
  return std::aligned_alloc(64, rounded);
}

void give_block(void* p, size_t rounded) {
  if (rounded >= kCacheMin && rounded <= kCacheMax) {
    BlockCache& c = block_cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.bytes + rounded <= kCacheCap) {
      c.free[rounded].push_back(p);
      c.bytes += rounded;
      return;
    }
  }
  std::free(p);
}
}  // namespace

Storage::Storage(size_t n) : nbytes(n) {
  // Big buffers are cache-line aligned for the vector kernels; small ones (most of a lab's
  // tensors) take plain malloc's 16 bytes, which costs less per op than an aligned allocation.
  const size_t rounded = (n + 63) / 64 * 64;
  if (n <= 512) {
    data = n == 0 ? nullptr : std::malloc(n);
    deleter = [](void* p) { std::free(p); };
  } else {
    data = take_block(rounded);
    deleter = [rounded](void* p) { give_block(p, rounded); };
  }
  if (n && !data) throw std::bad_alloc();
}

Storage::Storage(void* d, size_t n, std::function<void(void*)> del)
    : data(d), nbytes(n), deleter(std::move(del)) {}

Storage::~Storage() {
  if (deleter) deleter(data);
}

TensorImpl::~TensorImpl() {
  if (grad_fn) release_node(std::move(grad_fn));
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    st[d] = s;
    if (d > 0) s *= std::max<int64_t>(shape[d], 1);  // (checked_numel vetted user shapes' strides)
  }
  return st;
}

// PyTorch's rule: dims of size 1 may have any stride; an empty tensor is contiguous.
void TensorImpl::set_geometry(Shape sh, Shape st, int64_t off) {
  numel = shape_numel(sh);
  contiguous = true;
  int64_t expect = 1;
  for (int64_t d = static_cast<int64_t>(sh.size()) - 1; d >= 0 && numel; --d) {
    if (sh[d] == 1) continue;
    contiguous = contiguous && st[d] == expect;
    expect *= sh[d];
  }
  shape = std::move(sh);
  strides = std::move(st);
  offset = off;
}

// ---------------------------------------------------------------- accessors
static const TensorImpl& checked(const std::shared_ptr<TensorImpl>& p) {
  CR_CHECK(p != nullptr, std::runtime_error, "tensor: this tensor is undefined (it holds no data)");
  return *p;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }
int64_t Tensor::numel() const { return checked(impl_).numel; }
Dtype Tensor::dtype() const { return checked(impl_).dtype; }
void* Tensor::raw_data() const {
  const TensorImpl& t = checked(impl_);
  if (!t.storage->data) return nullptr;  // an empty storage: no element to point at
  return static_cast<char*>(t.storage->data) + t.offset * static_cast<int64_t>(dtype_size(t.dtype));
}
const Shape& Tensor::strides() const { return checked(impl_).strides; }

int64_t Tensor::storage_offset() const { return checked(impl_).offset; }
bool Tensor::is_contiguous() const { return checked(impl_).contiguous; }

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

namespace {
// Storage offset (from element 0) of the element at logical row-major position i.
int64_t strided_index(const Tensor& t, int64_t i) {
  if (t.is_contiguous()) return i;
  int64_t off = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    int64_t n = t.shape()[d];
    off += (i % n) * t.strides()[d];
    i /= n;
  }
  return off;
}
}  // namespace
uint64_t Tensor::version() const { return checked(impl_).storage->version; }
void Tensor::bump_version() const { checked(impl_).storage->version++; }

// (normalize_dim lets reductions take dim 0 / -1 of a 0-d tensor; a size or stride has none to give)
static int64_t checked_dim(const Tensor& t, int64_t d, const char* op) {
  CR_CHECK(t.dim() > 0, std::out_of_range, op, ": dim ", d,
           " is out of range for a 0-d tensor (it has no dims)");
  return normalize_dim(d, t.dim(), op);
}

int64_t Tensor::size(int64_t d) const { return shape()[checked_dim(*this, d, "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[checked_dim(*this, d, "stride")]; }

// Flat loops over data<T>() are what callers write, so a strided view is refused here rather than
// read in the wrong order; raw_data() and strides() serve those who walk strides.
template <class T> T* Tensor::data() {
  CR_CHECK(kernels::DtypeOf<T>::value == dtype(), std::invalid_argument, "data: expected a ",
           dtype_name(kernels::DtypeOf<T>::value), " tensor, got ", dtype_name(dtype()));
  CR_CHECK(is_contiguous(), std::invalid_argument, "data: the tensor is a non-contiguous view (shape ",
           shape(), ", strides ", strides(), "); call contiguous() first, or walk raw_data() with strides()");
  return static_cast<T*>(raw_data());
}
template <class T> const T* Tensor::data() const { return const_cast<Tensor*>(this)->data<T>(); }
template bool* Tensor::data<bool>();
template int64_t* Tensor::data<int64_t>();
template float* Tensor::data<float>();
template double* Tensor::data<double>();
template const bool* Tensor::data<bool>() const;
template const int64_t* Tensor::data<int64_t>() const;
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;

double Tensor::at(int64_t i) const {
  CR_CHECK(i >= 0 && i < numel(), std::out_of_range, "at: index ", i, " is out of range for a tensor of ",
           numel(), " elements");
  return kernels::dispatch(dtype(), [&](auto tag) {
    using T = decltype(tag);
    return static_cast<double>(kernels::sptr<T>(*this)[strided_index(*this, i)]);
  });
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  CR_CHECK(static_cast<int64_t>(index.size()) == dim(), std::invalid_argument, "at: expected ", dim(),
           " indices, got ", index.size());
  int64_t flat = 0, d = 0;
  for (int64_t i : index) {
    int64_t n = shape()[d];
    CR_CHECK(i >= -n && i < n, std::out_of_range, "at: index ", i, " is out of range for dim ", d,
             " of size ", n);
    flat = flat * n + (i < 0 ? i + n : i);
    ++d;
  }
  return at(flat);  // (a view's strides are applied there)
}

double Tensor::item() const {
  CR_CHECK(numel() == 1, std::invalid_argument, "item: expected a tensor with one element, got shape ",
           shape());
  return at(0);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(numel());
  kernels::dispatch(dtype(), [&](auto tag) {
    using T = decltype(tag);
    const Tensor dense = kernels::contig(*this);
    const T* p = kernels::ptr<T>(dense);
    for (int64_t i = 0; i < numel(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

// ---------------------------------------------------------------- autograd accessors
bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

Tensor& Tensor::set_requires_grad(bool r) {
  checked(impl_);
  CR_CHECK(!r || is_floating(dtype()), std::invalid_argument,
           "requires_grad: only floating-point tensors (float32, float64) can require grad, got ",
           dtype_name(dtype()));
  if (!is_leaf() && r) return *this;  // tapi: a non-leaf already requires grad (torch allows this no-op)
  CR_CHECK(is_leaf(), std::runtime_error,
           "requires_grad: can only change requires_grad of leaf tensors; use detach() to get a leaf");
  impl_->requires_grad = r;
  return *this;
}

bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }

Tensor Tensor::grad() const {
  const TensorImpl& t = checked(impl_);
  return t.grad ? Tensor(t.grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  checked(impl_);
  if (g.defined()) {
    CR_CHECK(g.impl() != impl(), std::runtime_error, "grad: can't assign a tensor as its own gradient");
    CR_CHECK(g.shape() == shape(), std::invalid_argument, "grad: expected a gradient of shape ", shape(),
             ", got ", g.shape());
    CR_CHECK(g.dtype() == dtype(), std::invalid_argument, "grad: expected a gradient of dtype ",
             dtype_name(dtype()), ", got ", dtype_name(g.dtype()));
  }
  impl_->grad = g.impl_ptr();
  impl_->grad_stepped = false;
}

std::shared_ptr<Node> Tensor::grad_fn() const { return checked(impl_).grad_fn; }

void Tensor::retain_grad() {
  checked(impl_);
  CR_CHECK(requires_grad(), std::runtime_error,
           "retain_grad: can't retain_grad on a tensor that doesn't require grad");
  if (is_leaf()) return;  // leaves keep their gradient anyway
  impl_->retains_grad = true;
  impl_->grad_fn->output = impl_;  // the one whose .grad receives it
}

Tensor Tensor::detach() const {
  auto t = std::make_shared<TensorImpl>();
  t->storage = checked(impl_).storage;
  t->dtype = impl_->dtype;
  t->set_geometry(impl_->shape, impl_->strides, impl_->offset);
  if (impl_->requires_grad) t->untracked_by = "detach";
  return Tensor(std::move(t));
}

void Tensor::set_data(const Tensor& src) {
  checked(impl_);
  TensorImpl& t = *impl_;
  CR_CHECK(src.defined(), std::invalid_argument, "data: expected a defined tensor");
  CR_CHECK(!t.requires_grad || is_floating(src.dtype()), std::invalid_argument,
           "data: a tensor that requires grad can only hold floating-point data, got ",
           dtype_name(src.dtype()));
  t.storage = src.impl()->storage;
  t.dtype = src.dtype();
  t.set_geometry(src.shape(), src.strides(), src.storage_offset());
  t.fw_grad.reset();  // new data, outside every graph: a tangent of the old data would be wrong
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph);
}

// ---------------------------------------------------------------- factories
// The bytes of a shape, or -1 when they don't fit int64 (past any address space anyway).
static int64_t bytes_of(const Shape& shape, Dtype dtype) {
  int64_t n = 1, bytes = 0;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  return __builtin_mul_overflow(n, static_cast<int64_t>(dtype_size(dtype)), &bytes) ? -1 : bytes;
}

void throw_out_of_memory(const char* op, const Shape& shape, Dtype dtype) {
  const int64_t bytes = bytes_of(shape, dtype);
  throw OutOfMemory(detail::concat(op, ": can't allocate shape ", shape, " (", dtype_name(dtype),
                                   "): ", bytes < 0 ? std::string("more than 2**63") : std::to_string(bytes),
                                   " bytes, more than the memory available"));
}

// A negative or overflowing shape is a ValueError, a buffer the machine can't give a MemoryError
// (OutOfMemory) with the bytes; both name `op`, the op the user called.
Tensor empty(Shape shape, Dtype dtype, const char* op) {
  checked_numel(shape, op);
  const int64_t bytes = bytes_of(shape, dtype);
  auto t = std::make_shared<TensorImpl>();
  try {
    if (bytes < 0 || bytes >= (int64_t{1} << 56)) throw std::bad_alloc();  // past any address space
    t->storage = std::make_shared<Storage>(static_cast<size_t>(bytes));
  } catch (const std::bad_alloc&) {
    throw_out_of_memory(op, shape, dtype);
  }
  t->dtype = dtype;
  Shape st = contiguous_strides(shape);
  t->set_geometry(std::move(shape), std::move(st), 0);
  return Tensor(std::move(t));
}

Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype()); }

namespace {
Tensor filled(Shape shape, const Scalar& value, Dtype dtype, const char* op) {
  Tensor t = empty(std::move(shape), dtype, op);
  kernels::dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = kernels::scalar_value<T>(value, "full");
    T* p = kernels::ptr<T>(t);
    std::fill(p, p + t.numel(), v);
  });
  return t;
}
}  // namespace

Tensor full(Shape shape, const Scalar& value, Dtype dtype) {
  return filled(std::move(shape), value, dtype, "full");
}
Tensor zeros(Shape shape, Dtype dtype) {
  Tensor t = empty(std::move(shape), dtype, "zeros");
  if (t.numel()) std::memset(t.raw_data(), 0, t.numel() * dtype_size(dtype));
  return t;
}
Tensor ones(Shape shape, Dtype dtype) { return filled(std::move(shape), 1, dtype, "ones"); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor full_like(const Tensor& t, const Scalar& v) { return full(t.shape(), v, t.dtype()); }

Tensor tensor(const std::vector<double>& values, Shape shape, Dtype dtype, bool requires_grad) {
  CR_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), std::invalid_argument,
           "tensor: expected ", shape_numel(shape), " values for shape ", shape, ", got ", values.size());
  Tensor t = empty(std::move(shape), dtype);
  kernels::dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = kernels::ptr<T>(t);
    for (size_t i = 0; i < values.size(); ++i) p[i] = kernels::scalar_value<T>(values[i], "tensor");
  });
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor tensor(std::initializer_list<double> values, Dtype dtype, bool requires_grad) {
  return tensor(std::vector<double>(values), {static_cast<int64_t>(values.size())}, dtype, requires_grad);
}

Tensor scalar_tensor(double value, Dtype dtype) { return full({}, value, dtype); }

Tensor arange(double start, double end, double step, Dtype dtype) {
  CR_CHECK(step != 0, std::invalid_argument, "arange: expected a non-zero step, got 0");
  CR_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), std::invalid_argument,
           "arange: expected finite start, end and step, got ", start, ", ", end, " and ", step);
  const double span = std::ceil((end - start) / step);
  CR_CHECK(span >= 0, std::invalid_argument,
           "arange: expected a step with the sign of end - start, got start=", start, ", end=", end,
           ", step=", step);
  // 2**63 itself is the first double past int64; a length that large is refused before the cast.
  CR_CHECK(span < 0x1p63, std::invalid_argument,
           "arange: expected at most 2**63 - 1 values, got start=", start, ", end=", end, ", step=", step,
           " (", span, " values)");
  const int64_t n = static_cast<int64_t>(span);
  Tensor t = empty({n}, dtype, "arange");
  kernels::dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = kernels::ptr<T>(t);
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + i * step);
  });
  return t;
}

Tensor arange(int64_t end, Dtype dtype) { return arange(0.0, static_cast<double>(end), 1.0, dtype); }

Tensor linspace(double start, double end, int64_t steps, Dtype dtype) {
  CR_CHECK(steps >= 0, std::invalid_argument, "linspace: expected steps >= 0, got ", steps);
  CR_CHECK(dtype != kBool, std::invalid_argument,
           "linspace: not implemented for bool; use float32, float64 or int64");
  // int64 values lie between start and end: both must be int64 numbers (a NaN cast is undefined)
  for (double v : {start, end})
    CR_CHECK(dtype != kInt64 || (v >= -0x1p63 && v < 0x1p63), std::invalid_argument, "linspace: start ",
             start, " and end ", end,
             " can't give int64 values (expected finite numbers within int64's range)");
  Tensor t = empty({steps}, dtype, "linspace");
  double h = steps > 1 ? (end - start) / (steps - 1) : 0.0;
  kernels::dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = kernels::ptr<T>(t);
    // Fill from both ends (as PyTorch does) so the last value is exactly `end`; one step is `start`.
    for (int64_t i = 0; i < steps; ++i)
      p[i] = static_cast<T>(steps == 1 ? start : i < steps / 2 ? start + i * h : end - (steps - 1 - i) * h);
  });
  return t;
}

Tensor eye(int64_t n, int64_t m, Dtype dtype) {
  if (m == -1) m = n;  // the default
  CR_CHECK(n >= 0 && m >= 0, std::invalid_argument, "eye: expected n >= 0 and m >= 0, got n=", n, ", m=", m);
  Tensor t = filled({n, m}, 0, dtype, "eye");
  kernels::dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = kernels::ptr<T>(t);
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = T(1);
  });
  return t;
}

// ---------------------------------------------------------------- random numbers
namespace {
std::atomic<Dtype> g_default_dtype{kFloat32};

// Each fill locks its generator once and draws from the engine directly.
// 53 random bits -> [0, 1): identical on every platform, unlike std::uniform_real_distribution.
double next_uniform(std::mt19937_64& g) { return (g() >> 11) * 0x1.0p-53; }

template <class Fill> Tensor random_fill(Shape shape, Dtype dtype, const char* op, Fill fill) {
  CR_CHECK(is_floating(dtype), std::invalid_argument, op,
           ": expected a floating dtype (float32 or float64), got ", dtype_name(dtype));
  Tensor t = empty(std::move(shape), dtype, op);
  fill(t);
  return t;
}

template <class T> void fill_uniform(T* p, int64_t n, double a, double b, Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (int64_t i = 0; i < n; ++i) {
    T v = static_cast<T>(a + (b - a) * next_uniform(gen.engine()));
    p[i] = v < static_cast<T>(b) ? v : static_cast<T>(a);  // float rounding must not reach b
  }
}

// Box–Muller, two normals per pair of uniforms.
template <class T> void fill_normal(T* p, int64_t n, double mean, double stdev, Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (int64_t i = 0; i < n; i += 2) {
    double u1 = 1.0 - next_uniform(gen.engine()), u2 = next_uniform(gen.engine());
    double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * M_PI * u2;
    p[i] = static_cast<T>(mean + stdev * r * std::cos(th));
    if (i + 1 < n) p[i + 1] = static_cast<T>(mean + stdev * r * std::sin(th));
  }
}
}  // namespace

// ---- tapi: default dtype and generators ----
Dtype get_default_dtype() { return g_default_dtype.load(std::memory_order_relaxed); }
void set_default_dtype(Dtype d) {
  CR_CHECK(is_floating(d), std::invalid_argument,
           "set_default_dtype: only floating-point types are supported as the default type "
           "(float32, float64), got ",
           dtype_name(d));
  g_default_dtype.store(d, std::memory_order_relaxed);
}

Generator::Generator(uint64_t seed) : engine_(seed), initial_seed_(seed) {}
Generator& Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  engine_.seed(seed);
  initial_seed_ = seed;
  return *this;
}
uint64_t Generator::seed() {
  std::random_device rd;
  uint64_t s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  s &= (1ULL << 63) - 1;  // fits a Python int / int64 as torch's seeds do
  manual_seed(s);
  return s;
}
uint64_t Generator::initial_seed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return initial_seed_;
}
// The state: the engine's text form (312 words and a position), then the initial seed.
std::vector<int64_t> Generator::get_state() const {
  std::ostringstream os;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    os << engine_;
  }
  std::istringstream is(os.str());
  std::vector<int64_t> out;
  uint64_t w;
  while (is >> w) out.push_back(static_cast<int64_t>(w));
  out.push_back(static_cast<int64_t>(initial_seed()));
  return out;
}
void Generator::set_state(const std::vector<int64_t>& state) {
  CR_CHECK(state.size() == 314, std::invalid_argument,
           "set_state: expected a state from Generator.get_state() (314 int64 values), got ", state.size(),
           " values");
  std::ostringstream os;
  for (size_t i = 0; i + 1 < state.size(); ++i) os << static_cast<uint64_t>(state[i]) << ' ';
  std::mt19937_64 e;
  std::istringstream is(os.str());
  is >> e;
  CR_CHECK(!is.fail() && state[312] >= 0 && state[312] <= 312, std::invalid_argument,
           "set_state: the state is not one Generator.get_state() returned");
  std::lock_guard<std::mutex> lock(mutex_);
  engine_ = e;
  initial_seed_ = static_cast<uint64_t>(state[313]);
}
uint64_t Generator::next_u64() {
  std::lock_guard<std::mutex> lock(mutex_);
  return engine_();
}
double Generator::next_uniform() {
  std::lock_guard<std::mutex> lock(mutex_);
  return chainrule::next_uniform(engine_);
}
Generator& default_generator() {
  static Generator g(0x5eed);
  return g;
}

void set_num_threads(int n) {
  CR_CHECK(n >= 1, std::invalid_argument, "set_num_threads: expected a number of threads >= 1, got ", n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

int get_num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Eigen's own string names AVX2 and FMA only in an AVX-512 build: an AVX2+FMA build would read "AVX".
static std::string simd_in_use() {
  std::string s = Eigen::SimdInstructionSetsInUse();
#if !defined(EIGEN_VECTORIZE_AVX512) && defined(EIGEN_VECTORIZE_AVX2)
  s = "AVX2, " + s;
#endif
#if !defined(EIGEN_VECTORIZE_AVX512) && defined(EIGEN_VECTORIZE_FMA)
  s = "FMA, " + s;
#endif
  return s;
}

std::vector<std::pair<std::string, std::string>> build_config() {
#ifdef _OPENMP
  const std::string openmp = "yes (OpenMP " + std::to_string(_OPENMP) + ")";
#else
  const std::string openmp = "no: single-threaded";
#endif
  return {{"gemm", blas::backend()},
          {"simd", simd_in_use()},
          {"openmp", openmp},
          {"threads", std::to_string(get_num_threads())},
          {"eigen", std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                        std::to_string(EIGEN_MINOR_VERSION)},
#if defined(__clang__)
          {"compiler", "clang " __clang_version__},
#elif defined(__GNUC__)
          {"compiler", "gcc " __VERSION__},
#else
          {"compiler", "unknown"},
#endif
          {"cplusplus", std::to_string(__cplusplus)}};
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

Tensor rand(Shape shape, Dtype dtype, Generator& gen) {
  return random_fill(std::move(shape), dtype, "rand", [&](Tensor& t) { uniform_(t, 0, 1, gen); });
}
Tensor randn(Shape shape, Dtype dtype, Generator& gen) {
  return random_fill(std::move(shape), dtype, "randn", [&](Tensor& t) { normal_(t, 0, 1, gen); });
}
Tensor rand(Shape shape, Dtype dtype) { return rand(std::move(shape), dtype, default_generator()); }
Tensor randn(Shape shape, Dtype dtype) { return randn(std::move(shape), dtype, default_generator()); }
Tensor rand_like(const Tensor& t) { return rand(t.shape(), t.dtype()); }
Tensor randn_like(const Tensor& t) { return randn(t.shape(), t.dtype()); }

Tensor randint(int64_t low, int64_t high, Shape shape, Generator& gen) {
  CR_CHECK(low < high, std::invalid_argument, "randint: expected low < high, got low=", low, ", high=", high);
  Tensor t = empty(std::move(shape), kInt64, "randint");
  int64_t* p = t.data<int64_t>();
  std::lock_guard<std::mutex> lock(gen.mutex());
  uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  for (int64_t i = 0; i < t.numel(); ++i) {
    // rejection sampling: no modulo bias
    uint64_t limit = UINT64_MAX - UINT64_MAX % range, x;
    do x = gen.engine()();
    while (x >= limit);
    p[i] = static_cast<int64_t>(static_cast<uint64_t>(low) + x % range);
  }
  return t;
}
Tensor randint(int64_t low, int64_t high, Shape shape) {
  return randint(low, high, std::move(shape), default_generator());
}

Tensor randperm(int64_t n, Generator& gen) {
  CR_CHECK(n >= 0, std::invalid_argument, "randperm: expected n >= 0, got ", n);
  Tensor t = empty({n}, kInt64, "randperm");
  int64_t* p = t.data<int64_t>();
  std::iota(p, p + n, int64_t{0});
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher–Yates with our own platform-independent draws
    int64_t j = static_cast<int64_t>(next_uniform(gen.engine()) * (i + 1));
    std::swap(p[i], p[std::min(j, i)]);
  }
  return t;
}
// A seed gives its own generator (the same order as Generator().manual_seed(seed)).
Tensor randperm(int64_t n, int64_t seed) {
  if (seed < 0) return randperm(n, default_generator());
  Generator local(static_cast<uint64_t>(seed));
  return randperm(n, local);
}

// ---------------------------------------------------------------- in-place ops
// In-place ops write through views: element by element at the tensor's own strides, into the
// storage it shares with its base (and bump the storage's version, which every view shares).
void check_inplace(const Tensor& t, const char* op) {
  CR_CHECK(!forward_ad::tangent_of(t).defined(), NotImplemented, op,
           ": in-place ops on a dual tensor (one carrying a tangent) are not supported in forward mode; "
           "use the out-of-place op");
  CR_CHECK(!(is_grad_enabled() && t.requires_grad()), std::runtime_error, op,
           ": a tensor that requires grad (or a view of one) can't be modified in place while grad "
           "mode is on; do the update under NoGradGuard (Python: with cr.no_grad():)");
  CR_CHECK(!(is_grad_enabled() && t.impl()->no_grad_view), std::runtime_error, op,
           ": this tensor is a view of a tensor that requires grad, made while grad mode was off, "
           "and can't be modified in place with grad mode on (the graph would not see the write); "
           "modify it under NoGradGuard (Python: with cr.no_grad():) or clone() it");
}

namespace {
// An expanded tensor (stride 0) shows one memory location as several elements: a write that
// depends on the old value or differs per element would be order-dependent, so PyTorch refuses
// it, and so do we (fill_ and zero_ write one value everywhere and stay allowed, as in PyTorch).
void check_no_overlap(const Tensor& t, const char* op) {
  for (int64_t d = 0; d < t.dim() && t.numel() > 0; ++d)
    CR_CHECK(t.strides()[d] != 0 || t.shape()[d] <= 1, std::runtime_error, op,
             ": unsupported operation: more than one element of the written-to tensor refers to a "
             "single memory location (shape ",
             t.shape(), ", strides ", t.strides(), "); clone() it before writing");
}
// `other` as an operand for an in-place op on self: converted to self's dtype, and copied when it
// shares self's storage (x[1:] += x[:-1] reads what it had before, never what it just wrote).
Tensor inplace_operand(const Tensor& self, const Tensor& other) {
  CR_CHECK(!forward_ad::tangent_of(other).defined(), NotImplemented,
           "in-place ops with a dual tensor (one carrying a tangent) as operand are not supported in "
           "forward mode (its tangent would be lost); use the out-of-place op");
  NoGradGuard g;
  Tensor o = other.dtype() == self.dtype() ? other : other.to(self.dtype());
  if (o.impl()->storage == self.impl()->storage) o = kernels::convert(o, o.dtype());
  return o;
}

// self = f(self, other) with other broadcast to self's shape, computed in self's dtype.
template <class F> Tensor& inplace_binary(Tensor& self, const Tensor& other, const char* op, F f) {
  check_inplace(self, op);
  check_no_overlap(self, op);
  Shape out = broadcast_shapes(self.shape(), other.shape(), op);
  CR_CHECK(out == self.shape(), std::invalid_argument, op, ": expected an operand broadcastable to ",
           self.shape(), ", got ", other.shape());
  Dtype rt = promote_types(self.dtype(), other.dtype());
  CR_CHECK(rt == self.dtype() || (is_floating(self.dtype()) && is_floating(rt)), std::invalid_argument, op,
           ": result type ", dtype_name(rt), " can't be cast to the tensor's dtype ",
           dtype_name(self.dtype()));
  CR_CHECK(self.dtype() != kBool, std::invalid_argument, op, ": not supported for bool tensors");
  Tensor o = inplace_operand(self, other);
  kernels::dispatch(self.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      kernels::elementwise([&](T a, T b) { return static_cast<T>(f(a, b)); }, kernels::strided<T>(self),
                           kernels::strided<const T>(self), kernels::strided<const T>(o));
    }
  });
  self.bump_version();
  return self;
}

// f(p, n) fills n dense elements; a strided self is filled through a dense scratch copy.
template <class F> Tensor& inplace_unary(Tensor& self, const char* op, F f, bool overlap_ok = false) {
  check_inplace(self, op);
  if (!overlap_ok) check_no_overlap(self, op);
  Tensor dense = self.is_contiguous() ? self : empty(self.shape(), self.dtype());
  kernels::dispatch(self.dtype(), [&](auto tag) {
    using T = decltype(tag);
    f(kernels::ptr<T>(dense), dense.numel());
    if (!self.is_contiguous()) {
      kernels::elementwise([](T v) { return v; }, kernels::strided<T>(self),
                           kernels::strided<const T>(dense));
    }
  });
  self.bump_version();
  return self;
}

Tensor scalar_like(const Tensor& self, const Scalar& s, const char* op) {
  CR_CHECK(s.integral || is_floating(self.dtype()), std::invalid_argument, op,
           ": result type float32 can't be cast to the tensor's dtype ", dtype_name(self.dtype()));
  return full({}, s, self.dtype());
}

// alpha * y in y's dtype, alpha converted to it first as mul(b, alpha) and PyTorch do (the compiler
// may fuse x + alpha * y, as PyTorch's vectorised loop does); an int64 y stays exact (a double
// would lose bits above 2^53).
template <class T> T scaled(const Scalar& alpha, T y) {
  if constexpr (kernels::kWraps<T>)
    return kernels::wrap_mul(y, alpha.integral ? alpha.int_value : kernels::convert_value<T>(alpha.value));
  else return static_cast<T>(alpha.value) * y;
}
}  // namespace

// alpha = 1 (x += y, p -= lr * g) skips the multiply: the loop is then a plain vectorised add.
Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) {
  if (alpha.value == 1)
    return inplace_binary(*this, o, "add_", [](auto x, auto y) { return kernels::wrap_add(x, y); });
  return inplace_binary(*this, o, "add_",
                        [&](auto x, auto y) { return kernels::wrap_add(x, scaled(alpha, y)); });
}
Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) {
  if (alpha.value == 1)
    return inplace_binary(*this, o, "sub_", [](auto x, auto y) { return kernels::wrap_sub(x, y); });
  return inplace_binary(*this, o, "sub_",
                        [&](auto x, auto y) { return kernels::wrap_sub(x, scaled(alpha, y)); });
}
Tensor& Tensor::mul_(const Tensor& o) {
  return inplace_binary(*this, o, "mul_", [](auto x, auto y) { return kernels::wrap_mul(x, y); });
}
Tensor& Tensor::div_(const Tensor& o) {
  CR_CHECK(is_floating(dtype()), std::invalid_argument,
           "div_: true division of an integer tensor in place can't keep its dtype ", dtype_name(dtype()));
  return inplace_binary(*this, o, "div_", [](auto x, auto y) { return x / y; });
}
Tensor& Tensor::add_(const Scalar& s) { return add_(scalar_like(*this, s, "add_")); }
Tensor& Tensor::sub_(const Scalar& s) { return sub_(scalar_like(*this, s, "sub_")); }
Tensor& Tensor::mul_(const Scalar& s) { return mul_(scalar_like(*this, s, "mul_")); }
Tensor& Tensor::div_(const Scalar& s) { return div_(scalar_like(*this, s, "div_")); }

Tensor& Tensor::zero_() {
  return inplace_unary(
      *this, "zero_",
      [this](auto* p, int64_t n) {
        if (n) std::memset(p, 0, n * dtype_size(dtype()));
      },
      true);
}

Tensor& Tensor::fill_(const Scalar& v) {
  return inplace_unary(
      *this, "fill_",
      [&](auto* p, int64_t n) {
        using T = std::remove_pointer_t<decltype(p)>;
        std::fill(p, p + n, kernels::scalar_value<T>(v, "fill_"));
      },
      true);
}

// x = min(max(x, lo), hi), NaN kept (as clamp)
Tensor& Tensor::clamp_(const Scalar& min, const Scalar& max) {
  CR_CHECK(dtype() != kBool, std::invalid_argument, "clamp_: not supported for bool tensors");
  for (const Scalar* b : {&min, &max})
    CR_CHECK(is_floating(dtype()) || b->integral || std::isinf(b->value), std::invalid_argument,
             "clamp_: result type float32 can't be cast to the tensor's dtype ", dtype_name(dtype()),
             "; pass integer bounds or convert with .to(float32)");
  const double lo = min.value, hi = max.value;
  return inplace_binary(*this, scalar_tensor(0, dtype()), "clamp_", [lo, hi](auto v, auto) {
    using T = decltype(v);
    T r = lo > -INFINITY && v < kernels::convert_value<T>(lo) ? kernels::convert_value<T>(lo) : v;
    return hi < INFINITY && r > kernels::convert_value<T>(hi) ? kernels::convert_value<T>(hi) : r;
  });
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  check_no_overlap(*this, "copy_");
  Shape out = broadcast_shapes(shape(), src.shape(), "copy_");
  CR_CHECK(out == shape(), std::invalid_argument, "copy_: expected a source broadcastable to ", shape(),
           ", got ", src.shape());
  Tensor s = inplace_operand(*this, src);
  kernels::dispatch(dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::elementwise([](T v) { return v; }, kernels::strided<T>(*this), kernels::strided<const T>(s));
  });
  bump_version();
  return *this;
}

Tensor& uniform_(Tensor& t, double from, double to, Generator& gen) {
  CR_CHECK(is_floating(t.dtype()), std::invalid_argument, "uniform_: expected a floating tensor, got ",
           dtype_name(t.dtype()));
  return inplace_unary(t, "uniform_", [&](auto* p, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    if constexpr (std::is_floating_point_v<T>) fill_uniform(p, n, from, to, gen);
  });
}
Tensor& Tensor::uniform_(double from, double to) {
  return chainrule::uniform_(*this, from, to, default_generator());
}

Tensor& normal_(Tensor& t, double mean, double stdev, Generator& gen) {
  CR_CHECK(is_floating(t.dtype()), std::invalid_argument, "normal_: expected a floating tensor, got ",
           dtype_name(t.dtype()));
  CR_CHECK(stdev >= 0, std::invalid_argument, "normal_: expected std >= 0, got ", stdev);
  return inplace_unary(t, "normal_", [&](auto* p, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    if constexpr (std::is_floating_point_v<T>) fill_normal(p, n, mean, stdev, gen);
  });
}
Tensor& Tensor::normal_(double mean, double stdev) {
  return chainrule::normal_(*this, mean, stdev, default_generator());
}

// ---------------------------------------------------------------- printing (PyTorch's format)
namespace {
struct Formatter {
  bool floating = false, int_mode = true, sci = false;
  size_t width = 1;

  static std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
  }
  Formatter(const std::vector<double>& vals, Dtype dt) : floating(is_floating(dt)) {
    if (!floating) {
      for (double v : vals) width = std::max(width, str(v, dt).size());
      return;
    }
    double mn = INFINITY, mx = 0;
    bool any = false;
    for (double v : vals) {
      if (!std::isfinite(v) || v == 0) continue;
      any = true;
      mn = std::min(mn, std::fabs(v));
      mx = std::max(mx, std::fabs(v));
      if (v != std::ceil(v)) int_mode = false;
    }
    if (!any) return;
    sci = mx / mn > 1000.0 || mx > 1e8 || (!int_mode && mn < 1e-4);
    for (double v : vals) {
      if (!std::isfinite(v) || v == 0) continue;
      std::string s = sci ? fmt("%.4e", v) : int_mode ? fmt("%.0f", v) + "." : fmt("%.4f", v);
      width = std::max(width, s.size());
    }
  }
  std::string str(double v, Dtype dt = kInt64) const {
    if (dt == kBool) return v != 0 ? "True" : "False";
    return fmt("%.0f", v);
  }
  std::string operator()(double v, Dtype dt) const {
    std::string s;
    if (!floating) s = str(v, dt);
    else if (std::isnan(v)) s = "nan";
    else if (std::isinf(v)) s = v > 0 ? "inf" : "-inf";
    else if (sci) s = fmt("%.4e", v);
    else if (int_mode) s = fmt("%.0f", v) + ".";
    else s = fmt("%.4f", v);
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
  }
};

constexpr int64_t kEdge = 3, kSummarizeOver = 1000, kLineWidth = 80;

// Mirrors torch/_tensor_str.py: nested brackets, rows separated by ",\n" plus blank lines for
// higher dims, long vectors wrapped, big tensors summarised with "...".
// v holds the printed values only, row-major in the shape `held` (s with each cut dim reduced to its
// 2 * kEdge ends), so the k-th printed index of a dim is index k of v's dim.
void format_rec(std::ostringstream& os, const std::vector<double>& v, const Shape& s, const Shape& held,
                size_t d, int64_t offset, int64_t indent, bool summarize, const Formatter& f, Dtype dt) {
  int64_t n = s[d], stride = 1;
  for (size_t k = d + 1; k < held.size(); ++k) stride *= held[k];
  std::vector<int64_t> idx;
  bool cut = summarize && n > 2 * kEdge;
  for (int64_t i = 0; i < (cut ? 2 * kEdge : n); ++i)
    idx.push_back(cut && i >= kEdge ? n - 2 * kEdge + i : i);
  if (d + 1 == s.size()) {
    std::vector<std::string> items;
    for (size_t k = 0; k < idx.size(); ++k) {
      if (cut && k == kEdge) items.push_back(" ...");
      items.push_back(f(v[offset + static_cast<int64_t>(k)], dt));
    }
    int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / static_cast<int64_t>(f.width + 2));
    os << "[";
    for (size_t k = 0; k < items.size(); ++k) {
      if (k) os << (k % per_line == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ");
      os << items[k];
    }
    os << "]";
    return;
  }
  std::string sep = "," + std::string(s.size() - d - 1, '\n') + std::string(indent + 1, ' ');
  os << "[";
  for (size_t k = 0; k < idx.size(); ++k) {
    if (k) os << sep;
    if (cut && k == kEdge) os << "..." << sep;
    format_rec(os, v, s, held, d + 1, offset + static_cast<int64_t>(k) * stride, indent + 1, summarize, f,
               dt);
  }
  os << "]";
}
// torch's get_summarized_data: the first and last kEdge entries of every long dim, the values printed
// (never all of them: an expanded tensor may have 2**62 elements).
Tensor summarized(const Tensor& t) {
  NoGradGuard no_grad;
  Tensor x = t.detach();
  for (int64_t d = 0; d < x.dim(); ++d)
    if (x.size(d) > 2 * kEdge) x = cat({narrow(x, d, 0, kEdge), narrow(x, d, x.size(d) - kEdge, kEdge)}, d);
  return x;
}
}  // namespace

std::string repr(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  bool summarize = t.numel() > kSummarizeOver;
  Tensor shown = summarize ? summarized(t) : t;
  std::vector<double> v = shown.to_vector();
  Formatter f(v, t.dtype());  // as torch: columns sized from the printed values only
  std::ostringstream os;
  os << "tensor(";
  if (t.dim() == 0) os << f(v[0], t.dtype());
  else if (t.numel() == 0) os << "[]";
  else format_rec(os, v, t.shape(), shown.shape(), 0, 0, 7, summarize, f, t.dtype());
  if (t.numel() == 0 && t.dim() != 1) os << ", size=" << shape_str(t.shape());
  if (t.dtype() == kFloat64) os << ", dtype=chainrule.float64";
  if (t.grad_fn()) os << ", grad_fn=<" << t.grad_fn()->name() << ">";
  else if (t.requires_grad()) os << ", requires_grad=True";
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << repr(t); }

// ---------------------------------------------------------------- methods that forward to ops
Tensor Tensor::exp() const { return chainrule::exp(*this); }
Tensor Tensor::log() const { return chainrule::log(*this); }
Tensor Tensor::sqrt() const { return chainrule::sqrt(*this); }
Tensor Tensor::abs() const { return chainrule::abs(*this); }
Tensor Tensor::sin() const { return chainrule::sin(*this); }
Tensor Tensor::cos() const { return chainrule::cos(*this); }
Tensor Tensor::tanh() const { return chainrule::tanh(*this); }
Tensor Tensor::sigmoid() const { return chainrule::sigmoid(*this); }
Tensor Tensor::relu() const { return chainrule::relu(*this); }
Tensor Tensor::neg() const { return chainrule::neg(*this); }
Tensor Tensor::pow(const Scalar& p) const { return chainrule::pow(*this, p); }
Tensor Tensor::pow(const Tensor& p) const { return chainrule::pow(*this, p); }
Tensor Tensor::sum() const { return chainrule::sum(*this); }
Tensor Tensor::sum(std::vector<int64_t> d, bool k) const { return chainrule::sum(*this, std::move(d), k); }
Tensor Tensor::mean() const { return chainrule::mean(*this); }
Tensor Tensor::mean(std::vector<int64_t> d, bool k) const { return chainrule::mean(*this, std::move(d), k); }
Tensor Tensor::matmul(const Tensor& o) const { return chainrule::matmul(*this, o); }
Tensor Tensor::reshape(Shape s) const { return chainrule::reshape(*this, std::move(s)); }
Tensor Tensor::view(Shape s) const { return chainrule::view(*this, std::move(s)); }
Tensor Tensor::flatten(int64_t a, int64_t b) const { return chainrule::flatten(*this, a, b); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return chainrule::transpose(*this, a, b); }
Tensor Tensor::t() const {
  CR_CHECK(dim() <= 2, std::invalid_argument, "t: expected a tensor with <= 2 dims, got shape ", shape());
  return dim() < 2 ? *this : chainrule::transpose(*this, 0, 1);
}
Tensor Tensor::permute(std::vector<int64_t> d) const { return chainrule::permute(*this, std::move(d)); }
Tensor Tensor::squeeze() const { return chainrule::squeeze(*this); }
Tensor Tensor::squeeze(int64_t d) const { return chainrule::squeeze(*this, d); }
Tensor Tensor::unsqueeze(int64_t d) const { return chainrule::unsqueeze(*this, d); }
Tensor Tensor::expand(Shape s) const { return chainrule::expand(*this, std::move(s)); }
Tensor Tensor::slice(int64_t d, int64_t a, int64_t b, int64_t s) const {
  return chainrule::slice(*this, d, a, b, s);
}
Tensor Tensor::select(int64_t d, int64_t i) const { return chainrule::select(*this, d, i); }
Tensor Tensor::mT() const {
  CR_CHECK(dim() >= 2, std::invalid_argument, "mT: expected a tensor with >= 2 dims, got shape ", shape());
  return chainrule::transpose(*this, -2, -1);
}
Tensor Tensor::narrow(int64_t d, int64_t a, int64_t n) const { return chainrule::narrow(*this, d, a, n); }
Tensor Tensor::diagonal(int64_t o, int64_t a, int64_t b) const { return chainrule::diagonal(*this, o, a, b); }
Tensor Tensor::unfold(int64_t d, int64_t n, int64_t s) const { return chainrule::unfold(*this, d, n, s); }

}  // namespace chainrule
