// Bindings for chainrule's nn part (see python/bind_util.h).
#include "python/bind_util.h"

namespace chainrule::bind {

void bind_nn(py::module_& m) { (void)m; }

}  // namespace chainrule::bind
