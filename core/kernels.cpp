// The non-template kernels declared in kernels.h: dtype conversion / dense copies of views, and
// the strides of a broadcast operand.
#include "core/kernels.h"

namespace chainrule::kernels {

// A dense copy of t (any view) in dtype d.
Tensor convert(const Tensor& t, Dtype d) {
  Tensor out = empty(t.shape(), d);
  dispatch(t.dtype(), [&](auto tag) {
    using S = decltype(tag);
    dispatch(d, [&](auto otag) {
      using D = decltype(otag);
      elementwise([](S v) { return static_cast<D>(v); }, strided<D>(out), strided<const S>(t));
    });
  });
  return out;
}

Tensor contig(const Tensor& t) { return t.is_contiguous() ? t : convert(t, t.dtype()); }

Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape st(out.size(), 0);
  int64_t s = 1, lead = static_cast<int64_t>(out.size() - in.size());
  for (int64_t i = static_cast<int64_t>(in.size()) - 1; i >= 0; --i) {
    st[i + lead] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  return st;
}

Shape broadcast_strides(const Tensor& in, const Shape& out) {
  Shape st(out.size(), 0);
  int64_t lead = static_cast<int64_t>(out.size()) - in.dim();
  for (int64_t i = 0; i < in.dim(); ++i) st[i + lead] = in.shape()[i] == 1 ? 0 : in.strides()[i];
  return st;
}

}  // namespace chainrule::kernels
