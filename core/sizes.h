// Sizes computed from user numbers (shapes, padding, dilation, repeats, steps): every product and sum
// is checked before anything is allocated, so a wrap can't make a small buffer a kernel then overruns.
#pragma once
#include <cstdint>
#include <new>
#include <string>

#include "core/error.h"

namespace chainrule {

// a * b; a ValueError naming the op and the quantity when it doesn't fit int64.
inline int64_t checked_mul(int64_t a, int64_t b, const char* op, const char* what) {
  int64_t r = 0;
  CR_CHECK(!__builtin_mul_overflow(a, b, &r), std::invalid_argument, op, ": ", what, " ", a, " * ", b,
           " is too large (more than 2**63 - 1)");
  return r;
}

// a + b; as checked_mul.
inline int64_t checked_add(int64_t a, int64_t b, const char* op, const char* what) {
  int64_t r = 0;
  CR_CHECK(!__builtin_add_overflow(a, b, &r), std::invalid_argument, op, ": ", what, " ", a, " + ", b,
           " is too large (more than 2**63 - 1)");
  return r;
}

// The number of elements of a shape given by the user: sizes >= 0 and a product that fits int64.
inline int64_t checked_numel(const Shape& shape, const char* op) {
  int64_t n = 1;
  for (int64_t d : shape)
    CR_CHECK(d >= 0, std::invalid_argument, op, ": expected non-negative sizes, got ", shape);
  for (int64_t d : shape)
    CR_CHECK(!__builtin_mul_overflow(n, d, &n), std::invalid_argument, op, ": shape ", shape,
             " has more elements than an int64 can count");
  int64_t stride = 1;  // an empty shape still has strides (as torch: "Stride calculation overflowed")
  for (size_t i = shape.size(); i-- > 1;)
    CR_CHECK(!__builtin_mul_overflow(stride, shape[i] > 1 ? shape[i] : 1, &stride), std::invalid_argument, op,
             ": shape ", shape, " has strides too large for an int64");
  return n;
}

// A failed allocation: std::bad_alloc (Python: MemoryError) whose message names the op, shape and bytes.
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string msg) : msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};

}  // namespace chainrule
