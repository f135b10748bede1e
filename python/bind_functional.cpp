// Bindings for chainrule's functional part (see python/bind_util.h).
#include "python/bind_util.h"

namespace chainrule::bind {

void bind_functional(py::module_& m) { (void)m; }

}  // namespace chainrule::bind
