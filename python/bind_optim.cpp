// Bindings for chainrule's optim part (see python/bind_util.h).
#include "python/bind_util.h"

namespace chainrule::bind {

void bind_optim(py::module_& m) { (void)m; }

}  // namespace chainrule::bind
