// NumPy and DLPack interop: the buffer protocol (np.asarray(t) is a view), cr.from_numpy, and
// DLPack both ways (t.__dlpack__ / cr.from_dlpack), strides included, memory shared, never copied.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>

#include "python/bind_util.h"

namespace chainrule::bind {

// ---------------------------------------------------------------- NumPy interop
namespace {
const char* numpy_format(Dtype d) {
  switch (d) {
    case kBool: return "?";
    case kInt64: return "q";
    case kFloat32: return "f";
    default: return "d";
  }
}

}  // namespace

// The tensor's view as NumPy sees it (strides in bytes). Read-only when the tensor requires grad:
// plotting it is fine, but a write through NumPy would bypass autograd's version check.
py::buffer_info buffer(const Tensor& t) {
  Shape strides = t.strides();
  for (int64_t& s : strides) s *= static_cast<int64_t>(dtype_size(t.dtype()));
  return py::buffer_info(t.raw_data(), dtype_size(t.dtype()), numpy_format(t.dtype()), t.dim(), t.shape(),
                         strides, t.requires_grad());
}

namespace {

// The storage a strided view of `data` needs: bytes from element (0, ..., 0) to the last element.
// Negative strides are refused, as PyTorch does.
size_t span_bytes(const Shape& shape, const Shape& strides, size_t itemsize, const char* op) {
  int64_t last = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    CR_CHECK(strides[d] >= 0 || shape[d] <= 1, std::invalid_argument, op,
             ": at least one stride is negative (strides ", strides,
             "); tensors with negative strides "
             "are not supported; pass a copy (array.copy())");
    if (shape[d] == 0) return 0;
  }
  int64_t span = 0, bytes = 0;  // a DLPack producer's sizes are not to be trusted to fit
  for (size_t d = 0; d < shape.size(); ++d)
    CR_CHECK(!__builtin_mul_overflow(shape[d] - 1, std::max<int64_t>(strides[d], 0), &span) &&
                 !__builtin_add_overflow(last, span, &last),
             std::invalid_argument, op, ": shape ", shape, " with strides ", strides,
             " spans more memory than exists");
  CR_CHECK(!__builtin_add_overflow(last, int64_t{1}, &last) &&
               !__builtin_mul_overflow(last, static_cast<int64_t>(itemsize), &bytes),
           std::invalid_argument, op, ": shape ", shape, " with strides ", strides,
           " spans more memory than exists");
  return static_cast<size_t>(bytes);
}

Dtype dtype_of_array(const py::array& a, const char* op) {
  char k = a.dtype().kind();
  size_t n = a.itemsize();
  // Shared memory in the other byte order would be read as garbage (torch raises too).
  CR_CHECK(!(a.dtype().attr("byteorder").cast<std::string>() == (PY_BIG_ENDIAN ? "<" : ">")),
           std::invalid_argument, op, ": expected an array in the machine's byte order, got dtype ",
           std::string(py::str(a.dtype().attr("str"))),
           "; convert it with a.astype(a.dtype.newbyteorder('=')) (cr.tensor(a) converts it for you)");
  if (k == 'f' && n == 4) return kFloat32;
  if (k == 'f' && n == 8) return kFloat64;
  if (k == 'i' && n == 8) return kInt64;
  if (k == 'b' && n == 1) return kBool;
  throw std::invalid_argument(std::string(op) +
                              ": expected an array of float32, float64, int64 or "
                              "bool, got " +
                              std::string(py::str(a.dtype())));
}

// A bool view whose bytes are all 0 or 1 is t itself; otherwise a copy with every nonzero byte
// as true. NumPy and DLPack producers can hand over other bytes (a uint8 array viewed as bool);
// loading such a byte as a C++ bool is undefined behaviour, and the kernels would compute with it
// (t.long() gave 2, and a sum counted 255 for one true).
Tensor canonical_bools(const Tensor& t) {
  if (t.dtype() != kBool) return t;
  const auto* base = static_cast<const uint8_t*>(t.raw_data());
  const Shape &shape = t.shape(), &strides = t.strides();
  const int64_t nd = t.dim();
  auto each_byte = [&](auto f) {  // f(i, byte) over the view's elements in row-major order
    Shape idx(nd, 0);
    for (int64_t i = 0, n = t.numel(); i < n; ++i) {
      int64_t off = 0;
      for (int64_t d = 0; d < nd; ++d) off += idx[d] * strides[d];
      if (!f(i, base[off])) return;
      for (int64_t d = nd - 1; d >= 0 && ++idx[d] == shape[d]; --d) idx[d] = 0;
    }
  };
  bool canonical = true;
  each_byte([&](int64_t, uint8_t b) { return canonical = b <= 1; });
  if (canonical) return t;
  Tensor out = empty(shape, kBool);
  auto* o = static_cast<uint8_t*>(out.raw_data());
  each_byte([&](int64_t i, uint8_t b) {
    o[i] = b != 0;
    return true;
  });
  return out;
}

}  // namespace

// Shares the array's memory, with its strides (a transposed or sliced array stays a view); the
// tensor keeps the array alive.
Tensor from_numpy(py::array a) {
  Dtype d = dtype_of_array(a, "from_numpy");
  CR_CHECK(a.writeable(), std::invalid_argument,
           "from_numpy: the array is read-only and chainrule would share its memory; pass a.copy()");
  const int64_t item = static_cast<int64_t>(a.itemsize());
  Shape shape(a.shape(), a.shape() + a.ndim()), strides(a.ndim());
  for (int64_t i = 0; i < a.ndim(); ++i) {
    CR_CHECK(a.strides()[i] % item == 0, std::invalid_argument,
             "from_numpy: expected strides that "
             "are multiples of the element size ",
             item, ", got ", Shape(a.strides(), a.strides() + a.ndim()), "; pass np.ascontiguousarray(a)");
    strides[i] = a.strides()[i] / item;
  }
  size_t nbytes = span_bytes(shape, strides, item, "from_numpy");
  auto* owner = new py::object(a);
  auto storage = std::make_shared<Storage>(a.mutable_data(), nbytes, [owner](void*) {
    py::gil_scoped_acquire gil;  // the last reference may go away in a thread without the GIL
    delete owner;
  });
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->dtype = d;
  impl->set_geometry(std::move(shape), std::move(strides), 0);
  return canonical_bools(Tensor(std::move(impl)));
}

// ---------------------------------------------------------------- DLPack (CPU only)
namespace {

// The ABI structs, as in dlpack.h: the unversioned form (v0.8) that every consumer knows, and the
// versioned one (v1.x, with flags such as read-only) that NumPy 2 and torch ask for.
struct DLDevice {
  int32_t device_type, device_id;
};
struct DLDataType {
  uint8_t code, bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
struct DLPackVersion {
  uint32_t major, minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned*);
  uint64_t flags;
  DLTensor dl_tensor;
};
constexpr uint64_t kDLReadOnly = 1;

struct DLContext {
  Tensor tensor;         // keeps the storage alive while the consumer uses it
  Shape shape, strides;  // in elements, as DLPack wants
  DLManagedTensor managed;
  DLManagedTensorVersioned versioned;
};

DLTensor describe(DLContext* ctx) {
  const Tensor& t = ctx->tensor;
  DLDataType dt{2, 32, 1};
  if (t.dtype() == kFloat64) dt = {2, 64, 1};
  if (t.dtype() == kInt64) dt = {0, 64, 1};
  if (t.dtype() == kBool) dt = {6, 8, 1};
  return {t.raw_data(),
          {kDLCPU, 0},
          static_cast<int32_t>(t.dim()),
          dt,
          ctx->shape.data(),
          ctx->strides.data(),
          0};
}

}  // namespace

py::capsule to_dlpack(const Tensor& t, bool versioned) {
  auto* ctx = new DLContext{t, t.shape(), t.strides(), {}, {}};
  DLTensor d = describe(ctx);
  if (versioned) {
    ctx->versioned = {{1, 0},
                      ctx,
                      [](DLManagedTensorVersioned* m) { delete static_cast<DLContext*>(m->manager_ctx); },
                      0,
                      d};
    return py::capsule(&ctx->versioned, "dltensor_versioned", [](PyObject* cap) {
      // Only an unconsumed capsule still owns the tensor (consumers rename it "used_...").
      if (PyCapsule_IsValid(cap, "dltensor_versioned")) {
        auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap, "dltensor_versioned"));
        m->deleter(m);
      }
    });
  }
  ctx->managed = {d, ctx, [](DLManagedTensor* m) { delete static_cast<DLContext*>(m->manager_ctx); }};
  return py::capsule(&ctx->managed, "dltensor", [](PyObject* cap) {
    if (PyCapsule_IsValid(cap, "dltensor")) {
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
      m->deleter(m);
    }
  });
}

namespace {

Dtype dlpack_dtype(const DLDataType& t) {
  if (t.lanes == 1 && t.code == 2 && t.bits == 32) return kFloat32;
  if (t.lanes == 1 && t.code == 2 && t.bits == 64) return kFloat64;
  if (t.lanes == 1 && t.code == 0 && t.bits == 64) return kInt64;
  if (t.lanes == 1 && t.code == 6 && t.bits == 8) return kBool;
  throw std::invalid_argument("from_dlpack: unsupported dtype (code " + std::to_string(t.code) + ", bits " +
                              std::to_string(t.bits) +
                              "); chainrule has float32, "
                              "float64, int64 and bool");
}

}  // namespace

Tensor from_dlpack(py::object obj) {
  py::object cap_obj = obj;
  if (py::hasattr(obj, "__dlpack__")) {
    try {
      cap_obj = obj.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(1, 0));
    } catch (const py::error_already_set& e) {
      if (!e.matches(PyExc_TypeError)) throw;
      cap_obj = obj.attr("__dlpack__")();  // a producer from before DLPack 1.0
    }
  }
  PyObject* cap = cap_obj.ptr();
  if (!PyCapsule_CheckExact(cap))
    throw py::type_error(
        "from_dlpack: expected an object with __dlpack__ (torch tensor, NumPy array) or a "
        "DLPack capsule, got " +
        type_name(cap_obj));
  bool versioned = PyCapsule_IsValid(cap, "dltensor_versioned");
  CR_CHECK(versioned || PyCapsule_IsValid(cap, "dltensor"), std::invalid_argument,
           "from_dlpack: expected an object with __dlpack__ (torch tensor, NumPy array) or an "
           "unused DLPack capsule");
  void* raw = PyCapsule_GetPointer(cap, versioned ? "dltensor_versioned" : "dltensor");
  const DLTensor& d = versioned ? static_cast<DLManagedTensorVersioned*>(raw)->dl_tensor
                                : static_cast<DLManagedTensor*>(raw)->dl_tensor;
  bool read_only = versioned && (static_cast<DLManagedTensorVersioned*>(raw)->flags & kDLReadOnly);
  CR_CHECK(d.device.device_type == kDLCPU, std::invalid_argument,
           "from_dlpack: expected a CPU tensor, got device type ", d.device.device_type);
  Dtype dt = dlpack_dtype(d.dtype);
  CR_CHECK(d.ndim >= 0 && (d.ndim == 0 || d.shape), std::invalid_argument,
           "from_dlpack: the producer gave ndim ", d.ndim, (d.shape ? "" : " without a shape"));
  Shape shape(d.shape, d.shape + d.ndim);
  for (int64_t n : shape)
    CR_CHECK(n >= 0, std::invalid_argument, "from_dlpack: expected non-negative sizes, got ", shape);
  Shape strides = d.strides ? Shape(d.strides, d.strides + d.ndim) : contiguous_strides(shape);
  size_t nbytes = span_bytes(shape, strides, dtype_size(dt), "from_dlpack");
  PyCapsule_SetName(cap, versioned ? "used_dltensor_versioned" : "used_dltensor");
  std::function<void(void*)> release = [raw, versioned](void*) {
    if (versioned) {
      auto* m = static_cast<DLManagedTensorVersioned*>(raw);
      if (m->deleter) m->deleter(m);
    } else {
      auto* m = static_cast<DLManagedTensor*>(raw);
      if (m->deleter) m->deleter(m);
    }
  };
  auto impl = std::make_shared<TensorImpl>();
  void* data = static_cast<char*>(d.data) + d.byte_offset;
  if (read_only) {  // chainrule tensors are writable: take a copy rather than alias read-only memory
    impl->storage = std::make_shared<Storage>(nbytes);
    if (nbytes) std::memcpy(impl->storage->data, data, nbytes);
    release(nullptr);
  } else {
    impl->storage = std::make_shared<Storage>(data, nbytes, release);
  }
  impl->dtype = dt;
  impl->set_geometry(std::move(shape), std::move(strides), 0);
  return canonical_bools(Tensor(std::move(impl)));
}

}  // namespace chainrule::bind
