// The non-template kernels declared in kernels.h: dtype conversion and dense copies of views.
#include "core/kernels.h"

namespace chainrule::kernels {

// A dense copy of t (any view) in dtype d.
Tensor convert(const Tensor& t, Dtype d) {
  Tensor out = empty(t.shape(), d);
  dispatch(t.dtype(), [&](auto tag) {
    using S = decltype(tag);
    dispatch(d, [&](auto otag) {
      using D = decltype(otag);
      elementwise([](S v) { return convert_value<D>(v); }, strided<D>(out), strided<const S>(t));
    });
  });
  return out;
}

Tensor contig(const Tensor& t) { return t.is_contiguous() ? t : convert(t, t.dtype()); }

}  // namespace chainrule::kernels
